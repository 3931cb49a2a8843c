#include "nettool/http/auth.h"
#include "nettool/base/util.h"
#include "nettool/proto/sha256.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void hs_auth_init(struct hs_auth *a)
{
	memset(a, 0, sizeof *a);
	pthread_mutex_init(&a->lock, NULL);
	atomic_init(&a->locked_until, 0);
}

void hs_auth_free(struct hs_auth *a)
{
	pthread_mutex_destroy(&a->lock);
	memset(a->v, 0, sizeof a->v); /* no secret left behind */
}

static void hash_of(const char *s, size_t n, unsigned char out[32])
{
	struct sha256 c;

	sha256_init(&c);
	sha256_update(&c, s, n);
	sha256_final(&c, out);
}

/* The secret: a password, or sha256: and 64 hex digits. */
static int secret(struct hs_account *ac, const char *s, size_t n)
{
	size_t i;

	if (n == 71 && !strncasecmp(s, "sha256:", 7)) {
		for (i = 0; i < 32; i++) {
			int hi = util_hexval(s[7 + 2 * i]), lo = util_hexval(s[8 + 2 * i]);

			if (hi < 0 || lo < 0)
				return -1;
			ac->hash[i] = (unsigned char)(hi << 4 | lo);
		}
		return 0;
	}
	if (n >= 7 && !strncasecmp(s, "sha256:", 7))
		return -1; /* a hash of the wrong length */
	hash_of(s, n, ac->hash);
	return 0;
}

int hs_auth_add(struct hs_auth *a, const char *spec, char *err)
{
	struct hs_account ac;
	size_t n = strlen(spec), un = strcspn(spec, ":");
	const char *at, *end = spec + n;

	memset(&ac, 0, sizeof ac);
	ac.rw = 1;
	if (n > 3 && (!strcmp(end - 3, ":ro") || !strcmp(end - 3, ":rw"))) {
		ac.rw = end[-1] == 'w';
		end -= 3;
	}
	/* @PATH: the last '@' followed by '/' */
	for (at = end; at > spec && !(at[-1] == '@' && at[0] == '/'); at--)
		;
	if (at > spec) {
		size_t pl = (size_t)(end - at);

		if (pl >= sizeof ac.path || strstr(at, "/../") || memchr(at, '\0', pl)) {
			nt_seterr(err, "bad --auth path in '%s'", spec);
			return -1;
		}
		memcpy(ac.path, at, pl);
		while (pl > 1 && ac.path[pl - 1] == '/')
			ac.path[--pl] = '\0';
		end = at - 1;
	} else {
		strcpy(ac.path, "/");
	}
	if (un == 0 || un >= sizeof ac.user || spec + un >= end || !util_printable(spec, un)) {
		nt_seterr(err, "bad --auth '%s' (expected USER:SECRET[@PATH][:ro|:rw])", spec);
		return -1;
	}
	memcpy(ac.user, spec, un);
	if (secret(&ac, spec + un + 1, (size_t)(end - spec - un - 1)) < 0) {
		nt_seterr(err, "bad --auth secret for '%s' (sha256: needs 64 hex digits)", ac.user);
		return -1;
	}
	if (a->n == AUTH_MAX_ACCOUNTS) {
		nt_seterr(err, "at most %d accounts", AUTH_MAX_ACCOUNTS);
		return -1;
	}
	a->v[a->n++] = ac;
	return 0;
}

int hs_opt_auth(void *field, const char *arg, char *err)
{
	return hs_auth_add(field, arg, err);
}

int hs_auth_load(struct hs_auth *a, const char *path, char *err)
{
	FILE *f = fopen(path, "r");
	char line[2048], e2[NT_ERR_LEN];
	int no = 0, rc = 0;

	if (!f) {
		nt_seterr(err, "--auth-file %s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof line, f)) {
		char *p = line + strspn(line, " \t");

		no++;
		p[strcspn(p, "\r\n")] = '\0';
		if (*p && *p != '#' && hs_auth_add(a, p, e2) < 0) {
			/* the message names the entry: say the line, not the secret */
			nt_seterr(err, "--auth-file %s, line %d: not USER:SECRET[@PATH][:ro|:rw]", path, no);
			rc = -1;
		}
	}
	fclose(f);
	memset(line, 0, sizeof line);
	return rc;
}

/* Base64 (RFC 4648) of s into out; its length, or -1. */
static long unbase64(const char *s, unsigned char *out, size_t cap)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned long acc = 0;
	size_t n = 0;
	int bits = 0;

	for (; *s && *s != '='; s++) {
		const char *p = strchr(al, *s);

		if (!p || !*s)
			return -1;
		acc = (acc << 6 | (unsigned long)(p - al)) & 0xffffff;
		if ((bits += 6) >= 8) {
			if (n == cap)
				return -1;
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	while (*s == '=')
		s++;
	return *s ? -1 : (long)n;
}

/* Equal in time that does not depend on where they differ. */
static int same32(const unsigned char *x, const unsigned char *y)
{
	unsigned char d = 0;
	int i;

	for (i = 0; i < 32; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

/* Whether account path covers urlpath: itself or below it. */
static int covers(const char *path, const char *urlpath)
{
	size_t n = strlen(path);

	if (n == 1)
		return 1;
	return !strncmp(urlpath, path, n) && (urlpath[n] == '\0' || urlpath[n] == '/');
}

/* The slot of addr in the failure table, made (the oldest given up) when
 * make is set; NULL when it has none. Called with the lock held. */
static struct hs_fails *fails_of(struct hs_auth *a, const char *addr, int make, time_t now)
{
	struct hs_fails *old = &a->fails[0];
	int i;

	for (i = 0; i < AUTH_SLOTS; i++) {
		struct hs_fails *f = &a->fails[i];

		if (f->addr[0] && !strcmp(f->addr, addr))
			return f;
		if (!f->addr[0] || (old->addr[0] && f->first < old->first))
			old = f;
	}
	if (!make)
		return NULL;
	memset(old, 0, sizeof *old);
	snprintf(old->addr, sizeof old->addr, "%s", addr);
	old->first = now;
	return old;
}

/* Whether addr is refused now. */
static int locked(struct hs_auth *a, const char *addr, time_t now)
{
	struct hs_fails *f;
	int r;

	if ((long long)now >= atomic_load(&a->locked_until))
		return 0; /* no address refused: the common case, without the lock */
	pthread_mutex_lock(&a->lock);
	f = fails_of(a, addr, 0, now);
	r = f && f->until > now;
	pthread_mutex_unlock(&a->lock);
	return r;
}

/* One more failure from addr; refused for a while at the limit. */
static void count_failure(struct hs_auth *a, const char *addr, time_t now)
{
	struct hs_fails *f;

	pthread_mutex_lock(&a->lock);
	f = fails_of(a, addr, 1, now);
	if (now - f->first >= AUTH_WINDOW) {
		f->first = now;
		f->count = 0;
	}
	if (++f->count >= AUTH_MAX_FAILS) {
		f->until = now + AUTH_WINDOW;
		if ((long long)f->until > atomic_load(&a->locked_until))
			atomic_store(&a->locked_until, (long long)f->until);
		f->count = 0;
		f->first = now;
	}
	pthread_mutex_unlock(&a->lock);
}

/* The accounts that the credentials in authz open: the one that may do
 * the most for urlpath (-1: the credentials are wrong or absent; -2:
 * right, but for no path here). */
static int matching(const struct hs_auth *a, const char *authz, const char *urlpath, int write,
		    char *user, size_t ulen)
{
	unsigned char raw[768], h[32];
	long n;
	char *colon;
	int i, known = 0, best = -2;

	if (!authz || strncasecmp(authz, "Basic ", 6))
		return -1;
	authz += 6 + strspn(authz + 6, " ");
	if ((n = unbase64(authz, raw, sizeof raw - 1)) < 0)
		return -1;
	raw[n] = '\0';
	if (!(colon = memchr(raw, ':', (size_t)n)))
		return -1;
	*colon = '\0';
	snprintf(user, ulen, "%s", (char *)raw);
	hash_of(colon + 1, (size_t)(n - (long)(colon + 1 - (char *)raw)), h);
	memset(raw, 0, sizeof raw);
	for (i = 0; i < a->n; i++) {
		const struct hs_account *ac = &a->v[i];

		if (strcmp(ac->user, user) || !same32(ac->hash, h))
			continue;
		known = 1;
		if (covers(ac->path, urlpath) && (!write || ac->rw))
			best = i;
	}
	return known ? best : -1;
}

enum hs_auth_verdict hs_auth_check(struct hs_auth *a, const char *authz, const char *urlpath,
				   int write, const char *addr, time_t now, char *user,
				   size_t ulen, int *failed)
{
	int m;

	*failed = 0;
	user[0] = '\0';
	if (!a->n)
		return AUTH_OK;
	if (!authz && !write && a->public_read)
		return AUTH_OK;
	if (locked(a, addr, now))
		return AUTH_LOCKED;
	m = matching(a, authz, urlpath, write, user, ulen);
	if (m >= 0)
		return AUTH_OK;
	if (m == -2)
		return AUTH_FORBIDDEN;
	if (!authz)
		return !write && a->public_read ? AUTH_OK : AUTH_NEEDED;
	*failed = 1;
	count_failure(a, addr, now);
	return AUTH_NEEDED;
}
