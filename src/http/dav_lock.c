#include "nettool/http/dav_lock.h"
#include "nettool/base/util.h"
#include "nettool/proto/http.h"
#include "nettool/proto/url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void hs_locks_init(struct hs_locks *L)
{
	memset(L, 0, sizeof *L);
	pthread_mutex_init(&L->mu, NULL);
}

void hs_locks_free(struct hs_locks *L)
{
	pthread_mutex_destroy(&L->mu);
}

/* A path without its trailing '/', but "/" itself (in may be out). */
static void norm(const char *in, char *out, size_t len)
{
	size_t n;

	if (in != out)
		snprintf(out, len, "%s", in);
	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
}

/* Whether the lock reaches path: its own, or below it with infinity. */
static int covers(const struct dav_lock *k, const char *path)
{
	size_t n = strlen(k->path);

	if (!strcmp(k->path, path))
		return 1;
	if (!k->infinite)
		return 0;
	if (n == 1)
		return 1;
	return !strncmp(path, k->path, n) && path[n] == '/';
}

/* Whether the lock is on something below path. */
static int below(const struct dav_lock *k, const char *path)
{
	size_t n = strlen(path);

	return n == 1 ? strcmp(k->path, "/") != 0
		      : !strncmp(k->path, path, n) && k->path[n] == '/';
}

static void purge(struct hs_locks *L, time_t now)
{
	int i;

	for (i = L->n - 1; i >= 0; i--)
		if (L->v[i].expires <= now)
			L->v[i] = L->v[--L->n];
}

/* The path of an If header's tag (a URL or an absolute path), decoded. */
static void tag_path(const char *tag, size_t n, char *out, size_t len)
{
	char tmp[1024];
	const char *p = tag;

	if (n >= sizeof tmp)
		n = sizeof tmp - 1;
	memcpy(tmp, tag, n);
	tmp[n] = '\0';
	if (!strncasecmp(tmp, "http://", 7) && (p = strchr(tmp + 7, '/')) == NULL)
		p = "/";
	else if (strncasecmp(tmp, "http://", 7))
		p = tmp;
	snprintf(out, len, "%s", p);
	if (url_unescape(out) < 0)
		out[0] = '\0';
	norm(out, out, len);
}

static int token_holds(const struct hs_locks *L, const char *tok, size_t tl, const char *path)
{
	int i;

	for (i = 0; i < L->n; i++)
		if (strlen(L->v[i].token) == tl && !memcmp(L->v[i].token, tok, tl) &&
		    covers(&L->v[i], path))
			return 1;
	return 0;
}

/* The If header (RFC 4918 10.4): lists ORed, conditions ANDed. 1 true,
 * 0 false, -1 malformed. */
static int if_true(const struct hs_locks *L, const char *h, const char *path, const char *etag)
{
	char res[1024];
	int any = 0;

	snprintf(res, sizeof res, "%s", path);
	while (*h) {
		const char *e;
		int ok = 1, conds = 0;

		h += strspn(h, " \t,");
		if (!*h)
			break;
		if (*h == '<') { /* a tagged list: the resource it is about */
			if (!(e = strchr(h, '>')))
				return -1;
			tag_path(h + 1, (size_t)(e - h - 1), res, sizeof res);
			h = e + 1;
			continue;
		}
		if (*h++ != '(')
			return -1;
		for (;;) {
			int neg = 0, c;

			h += strspn(h, " \t");
			if (*h == ')') {
				h++;
				break;
			}
			if (!strncasecmp(h, "Not", 3)) {
				neg = 1;
				h += 3 + strspn(h + 3, " \t");
			}
			if (*h == '<') {
				if (!(e = strchr(h, '>')))
					return -1;
				c = token_holds(L, h + 1, (size_t)(e - h - 1), res);
			} else if (*h == '[') {
				if (!(e = strchr(h, ']')))
					return -1;
				c = etag && !strcmp(res, path) && strlen(etag) == (size_t)(e - h - 1) &&
				    !memcmp(etag, h + 1, (size_t)(e - h - 1));
			} else {
				return -1;
			}
			ok &= neg ? !c : c;
			conds++;
			h = e + 1;
		}
		if (!conds)
			return -1;
		any |= ok;
	}
	return any;
}

/* Whether the If header names the lock's token anywhere. */
static int submitted(const struct dav_lock *k, const char *h)
{
	size_t tl = strlen(k->token);
	const char *p;

	for (p = h ? strchr(h, '<') : NULL; p; p = strchr(p + 1, '<'))
		if (!strncmp(p + 1, k->token, tl) && p[1 + tl] == '>')
			return 1;
	return 0;
}

int hs_lock_may_write(struct hs_locks *L, const char *urlpath, int deep, const char *ifh,
		      const char *etag, time_t now)
{
	char path[1024];
	int i, covered = 0, held = 0, rc = 0;

	norm(urlpath, path, sizeof path);
	pthread_mutex_lock(&L->mu);
	purge(L, now);
	if (ifh && if_true(L, ifh, path, etag) != 1)
		rc = 412;
	for (i = 0; !rc && i < L->n; i++) {
		const struct dav_lock *k = &L->v[i];

		if (covers(k, path)) {
			covered = 1;
			held |= submitted(k, ifh);
		} else if (deep && below(k, path) && !submitted(k, ifh)) {
			rc = 423;
		}
	}
	if (!rc && covered && !held)
		rc = 423;
	pthread_mutex_unlock(&L->mu);
	return rc;
}

static void activelock(const struct dav_lock *k, const char *href, struct buf *b, time_t now)
{
	buf_printf(b, "<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope>"
		   "<D:%s/></D:lockscope><D:depth>%s</D:depth>%s<D:timeout>Second-%ld</D:timeout>"
		   "<D:locktoken><D:href>%s</D:href></D:locktoken><D:lockroot><D:href>",
		   k->shared ? "shared" : "exclusive", k->infinite ? "infinity" : "0", k->owner,
		   (long)(k->expires - now), k->token);
	http_html_escape(b, href);
	buf_printf(b, "</D:href></D:lockroot></D:activelock>");
}

void hs_lock_discovery(struct hs_locks *L, const char *urlpath, const char *href,
		       struct buf *b, time_t now)
{
	char path[1024];
	int i;

	norm(urlpath, path, sizeof path);
	pthread_mutex_lock(&L->mu);
	purge(L, now);
	for (i = 0; i < L->n; i++)
		if (covers(&L->v[i], path))
			activelock(&L->v[i], href, b, now);
	pthread_mutex_unlock(&L->mu);
}

void hs_lock_drop(struct hs_locks *L, const char *urlpath)
{
	char path[1024];
	int i;

	norm(urlpath, path, sizeof path);
	pthread_mutex_lock(&L->mu);
	for (i = L->n - 1; i >= 0; i--)
		if (!strcmp(L->v[i].path, path) || below(&L->v[i], path))
			L->v[i] = L->v[--L->n];
	pthread_mutex_unlock(&L->mu);
}

int hs_lock_new(struct hs_locks *L, const char *urlpath, int infinite, int shared,
		const char *owner, long timeout, time_t now, char tok[64])
{
	unsigned char r[16];
	struct dav_lock *k;
	char path[1024];
	int i, rc = 0;

	norm(urlpath, path, sizeof path);
	pthread_mutex_lock(&L->mu);
	purge(L, now);
	for (i = 0; !rc && i < L->n; i++) {
		const struct dav_lock *o = &L->v[i];

		if ((covers(o, path) || (infinite && below(o, path))) && (!shared || !o->shared))
			rc = 423; /* an exclusive lock conflicts with any other */
	}
	if (!rc && L->n == DAV_LOCKS)
		rc = 503;
	if (!rc) {
		k = &L->v[L->n++];
		memset(k, 0, sizeof *k);
		util_random(r, sizeof r);
		snprintf(k->token, sizeof k->token, "opaquelocktoken:");
		for (i = 0; i < 16; i++)
			snprintf(k->token + 16 + 2 * i, 3, "%02x", r[i]);
		snprintf(k->path, sizeof k->path, "%s", path);
		snprintf(k->owner, sizeof k->owner, "%s", owner ? owner : "");
		k->infinite = infinite;
		k->shared = shared;
		k->expires = now + timeout;
		memcpy(tok, k->token, sizeof k->token);
	}
	pthread_mutex_unlock(&L->mu);
	return rc;
}

int hs_lock_refresh(struct hs_locks *L, const char *urlpath, const char *ifh, long timeout,
		    time_t now, char tok[64])
{
	char path[1024];
	int i, rc = 412;

	norm(urlpath, path, sizeof path);
	pthread_mutex_lock(&L->mu);
	purge(L, now);
	for (i = 0; rc && i < L->n; i++)
		if (covers(&L->v[i], path) && submitted(&L->v[i], ifh)) {
			L->v[i].expires = now + timeout;
			memcpy(tok, L->v[i].token, sizeof L->v[i].token);
			rc = 0;
		}
	pthread_mutex_unlock(&L->mu);
	return rc;
}

int hs_lock_remove(struct hs_locks *L, const char *urlpath, const char *token)
{
	char path[1024];
	size_t tl = token ? strlen(token) : 0;
	int i, rc = 409;

	if (tl < 2 || token[0] != '<' || token[tl - 1] != '>')
		return 400;
	norm(urlpath, path, sizeof path);
	pthread_mutex_lock(&L->mu);
	for (i = 0; rc && i < L->n; i++)
		if (strlen(L->v[i].token) == tl - 2 && !memcmp(L->v[i].token, token + 1, tl - 2) &&
		    covers(&L->v[i], path)) {
			L->v[i] = L->v[--L->n];
			rc = 0;
		}
	pthread_mutex_unlock(&L->mu);
	return rc;
}

long hs_lock_timeout(const char *h)
{
	while (h && *h) {
		h += strspn(h, " \t,");
		if (!strncasecmp(h, "Infinite", 8))
			return DAV_LOCK_TIMEOUT_MAX;
		if (!strncasecmp(h, "Second-", 7) && isdigit((unsigned char)h[7])) {
			long v = strtol(h + 7, NULL, 10);

			return v < 1 ? 1 : v > DAV_LOCK_TIMEOUT_MAX ? DAV_LOCK_TIMEOUT_MAX : v;
		}
		h += strcspn(h, ",");
	}
	return DAV_LOCK_TIMEOUT;
}
