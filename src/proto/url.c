#include "nettool/proto/url.h"
#include "nettool/base/buf.h"
#include "nettool/base/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int bad_char(unsigned char c)
{
	return c <= ' ' || c == 0x7f;
}

int url_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%') {
			int a = util_hexval((unsigned char)s[1]), b = a >= 0 ? util_hexval((unsigned char)s[2]) : -1;

			if (b < 0)
				return -1;
			*o++ = (char)(a * 16 + b);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return 0;
}

/* Split "host[:port]" or "[v6][:port]" (authority without userinfo). */
static int parse_hostport(const char *a, size_t n, struct url *u, char *err)
{
	const char *end = a + n, *colon = NULL;
	size_t hl;

	if (n && a[0] == '[') {
		const char *rb = memchr(a, ']', n);

		if (!rb) {
			nt_seterr(err, "unterminated [ in the host");
			return -1;
		}
		hl = (size_t)(rb - a - 1);
		if (hl == 0 || hl >= sizeof u->host) {
			nt_seterr(err, "bad IPv6 literal");
			return -1;
		}
		memcpy(u->host, a + 1, hl);
		u->ipv6 = 1;
		if (rb + 1 < end && rb[1] != ':') {
			nt_seterr(err, "junk after the IPv6 literal");
			return -1;
		}
		colon = rb + 1 < end ? rb + 1 : NULL;
	} else {
		colon = memchr(a, ':', n);
		hl = colon ? (size_t)(colon - a) : n;
		if (hl == 0 || hl >= sizeof u->host) {
			nt_seterr(err, "%s host", hl ? "too long a" : "no");
			return -1;
		}
		memcpy(u->host, a, hl);
	}
	u->host[hl] = '\0';
	if (colon && colon + 1 < end) {
		char port[8];
		size_t pl = (size_t)(end - colon - 1);

		if (pl >= sizeof port) {
			nt_seterr(err, "bad port");
			return -1;
		}
		memcpy(port, colon + 1, pl);
		port[pl] = '\0';
		if (util_parse_port(port, 0, &u->port, err) < 0)
			return -1;
		u->has_port = 1;
	}
	return 0;
}

int url_parse(const char *s, struct url *u, char *err)
{
	const char *p, *auth, *auth_end, *at;
	size_t i, n = strlen(s);

	memset(u, 0, sizeof *u);
	if (n >= URL_MAX) {
		nt_seterr(err, "URL longer than %d bytes", URL_MAX);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (bad_char((unsigned char)s[i])) {
			nt_seterr(err, "control character or space at byte %zu of the URL", i);
			return -1;
		}
	p = strstr(s, "://");
	if (!p || p == s || (size_t)(p - s) >= sizeof u->scheme) {
		nt_seterr(err, "not an absolute URL (expected http://host/path)");
		return -1;
	}
	for (i = 0; s + i < p; i++)
		u->scheme[i] = (char)lower((unsigned char)s[i]);
	auth = p + 3;
	auth_end = auth + strcspn(auth, "/?#");
	at = memchr(auth, '@', (size_t)(auth_end - auth));
	if (at) {
		size_t ul = (size_t)(at - auth);

		if (ul >= sizeof u->userinfo) {
			nt_seterr(err, "user information too long");
			return -1;
		}
		memcpy(u->userinfo, auth, ul);
		u->has_userinfo = 1;
		auth = at + 1;
	}
	if (parse_hostport(auth, (size_t)(auth_end - auth), u, err) < 0)
		return -1;
	if (!u->has_port)
		u->port = !strcmp(u->scheme, "https") ? 443 : 80;
	n = strcspn(auth_end, "#");
	if (n == 0 || auth_end[0] == '?') {
		u->target[0] = '/';
		memcpy(u->target + 1, auth_end, n);
		u->target[n + 1] = '\0';
	} else {
		memcpy(u->target, auth_end, n);
		u->target[n] = '\0';
	}
	return 0;
}

void url_host_header(const struct url *u, char *out, size_t len)
{
	int dflt = u->port == (!strcmp(u->scheme, "https") ? 443u : 80u);

	snprintf(out, len, "%s%s%s", u->ipv6 ? "[" : "", u->host, u->ipv6 ? "]" : "");
	if (!dflt)
		snprintf(out + strlen(out), len - strlen(out), ":%u", u->port);
}

/* ---- RFC 3986 section 5.2 ---- */

struct parts {
	const char *scheme, *auth, *path, *query, *frag;
	size_t ls, la, lp, lq, lf;
	int has_auth, has_query, has_frag;
};

static void split(const char *r, struct parts *x)
{
	const char *p = r, *c = r + strcspn(r, ":/?#");

	memset(x, 0, sizeof *x);
	if (*c == ':' && c > r) {
		x->scheme = r;
		x->ls = (size_t)(c - r);
		p = c + 1;
	}
	if (p[0] == '/' && p[1] == '/') {
		x->has_auth = 1;
		x->auth = p + 2;
		x->la = strcspn(x->auth, "/?#");
		p = x->auth + x->la;
	}
	x->path = p;
	x->lp = strcspn(p, "?#");
	p += x->lp;
	if (*p == '?') {
		x->has_query = 1;
		x->query = p + 1;
		x->lq = strcspn(x->query, "#");
		p = x->query + x->lq;
	}
	if (*p == '#') {
		x->has_frag = 1;
		x->frag = p + 1;
		x->lf = strlen(x->frag);
	}
}

/* Remove dot segments (5.2.4) from in[0..n) into out. */
static size_t remove_dots(const char *in, size_t n, char *out)
{
	size_t o = 0;

	while (n) {
		if (n >= 3 && !strncmp(in, "../", 3)) {
			in += 3; n -= 3;
		} else if (n >= 2 && !strncmp(in, "./", 2)) {
			in += 2; n -= 2;
		} else if (n >= 3 && !strncmp(in, "/./", 3)) {
			in += 2; n -= 2;
		} else if (n == 2 && !strncmp(in, "/.", 2)) {
			in += 1; n -= 1;
			out[o++] = '/';
			in++; n--;
		} else if ((n >= 4 && !strncmp(in, "/../", 4)) || (n == 3 && !strncmp(in, "/..", 3))) {
			int last = n == 3;

			in += 3; n -= 3;
			while (o && out[o - 1] != '/')
				o--;
			if (o)
				o--;
			if (last)
				out[o++] = '/';
		} else if ((n == 1 && in[0] == '.') || (n == 2 && !strncmp(in, "..", 2))) {
			n = 0;
		} else {
			size_t k = 1;

			while (k < n && in[k] != '/')
				k++;
			memcpy(out + o, in, k);
			o += k;
			in += k;
			n -= k;
		}
	}
	return o;
}

int url_resolve(const char *base, const char *ref, char *out, size_t len, char *err)
{
	struct parts b, r;
	char merged[2 * URL_MAX], path[2 * URL_MAX];
	size_t pl, need;

	if (strlen(base) >= URL_MAX || strlen(ref) >= URL_MAX) {
		nt_seterr(err, "URL too long");
		return -1;
	}
	split(base, &b);
	split(ref, &r);
	if (r.scheme) {
		b = r;
		pl = remove_dots(r.path, r.lp, path);
	} else if (r.has_auth) {
		b.auth = r.auth, b.la = r.la, b.has_auth = 1;
		pl = remove_dots(r.path, r.lp, path);
		b.query = r.query, b.lq = r.lq, b.has_query = r.has_query;
	} else if (r.lp == 0) {
		memcpy(path, b.path, b.lp);
		pl = b.lp;
		if (r.has_query)
			b.query = r.query, b.lq = r.lq, b.has_query = 1;
	} else {
		if (r.path[0] == '/') {
			pl = remove_dots(r.path, r.lp, path);
		} else {
			size_t keep = 0, m;

			if (b.has_auth && b.lp == 0) {
				merged[0] = '/';
				keep = 1;
			} else {
				const char *slash = NULL, *q;

				for (q = b.path; q < b.path + b.lp; q++)
					if (*q == '/')
						slash = q;
				if (slash) {
					keep = (size_t)(slash - b.path) + 1;
					memcpy(merged, b.path, keep);
				}
			}
			memcpy(merged + keep, r.path, r.lp);
			m = keep + r.lp;
			pl = remove_dots(merged, m, path);
		}
		b.query = r.query, b.lq = r.lq, b.has_query = r.has_query;
	}
	need = b.ls + 3 + b.la + pl + 1 + b.lq + 1;
	if (need > len) {
		nt_seterr(err, "resolved URL too long");
		return -1;
	}
	snprintf(out, len, "%.*s:%s%.*s%.*s%s%.*s", (int)b.ls, b.scheme,
		 b.has_auth ? "//" : "", (int)b.la, b.has_auth ? b.auth : "", (int)pl, path,
		 b.has_query ? "?" : "", (int)b.lq, b.has_query ? b.query : "");
	return 0;
}

static int escape(struct buf *b, const char *s, size_t n, int form)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *end = s + n;
	int rc = 0;

	for (; s < end && rc == 0; s++) {
		unsigned char c = (unsigned char)*s;

		if (form && c == ' ') {
			rc = buf_putc(b, '+');
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
			rc = buf_putc(b, (char)c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			rc = buf_append(b, e, 3);
		}
	}
	return rc;
}

int url_escape(struct buf *b, const char *s)
{
	return url_escape_n(b, s, strlen(s));
}

int url_escape_n(struct buf *b, const char *s, size_t n)
{
	return escape(b, s, n, 0);
}

int url_escape_form(struct buf *b, const char *s, size_t n)
{
	return escape(b, s, n, 1);
}

int url_escape_path(struct buf *b, const char *path)
{
	char seg[256];

	while (*path) {
		size_t n = strcspn(path, "/");

		while (n) { /* a segment in pieces, when longer than seg */
			size_t k = n < sizeof seg - 1 ? n : sizeof seg - 1;

			memcpy(seg, path, k);
			seg[k] = '\0';
			if (url_escape(b, seg) < 0)
				return -1;
			path += k;
			n -= k;
		}
		if (*path == '/') {
			if (buf_putc(b, '/') < 0)
				return -1;
			path++;
		}
	}
	return 0;
}

#define MAP_MAX_SEGS 128

/* Append len bytes of s after a '/' at out[*o]; -1 when flen is short. */
static int put_seg(char *out, size_t *o, size_t cap, const char *s, size_t len)
{
	if (*o + len + 2 > cap)
		return -1;
	out[(*o)++] = '/';
	memcpy(out + *o, s, len);
	*o += len;
	return 0;
}

/* Split raw (a decoded copy of the path is made segment by segment) into
 * segs: "." dropped, ".." resolved. Returns the count, or -status. */
static int map_segments(char *raw, char **segs)
{
	char *p, *save = NULL;
	int n = 0;

	for (p = strtok_r(raw, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (strstr(p, "%00") || url_unescape(p) < 0)
			return -400;
		if (strchr(p, '/'))
			return -404; /* an encoded slash names no file */
		if (!*p || !strcmp(p, "."))
			continue;
		if (!strcmp(p, "..")) {
			if (!n)
				return -400; /* above the root */
			n--;
			continue;
		}
		if (n == MAP_MAX_SEGS)
			return -414;
		segs[n++] = p;
	}
	return n;
}

int url_map_path(const char *root, const char *target, char *urlpath, size_t ulen,
		 char *fs, size_t flen, int *slash_end)
{
	char raw[URL_MAX], *segs[MAP_MAX_SEGS];
	size_t n = strcspn(target, "?#"), o = strlen(root), u = 0;
	int i, nseg;

	if (!strncasecmp(target, "http://", 7)) {
		target = strchr(target + 7, '/');
		if (!target)
			target = "/";
		n = strcspn(target, "?#");
	}
	if (target[0] != '/' || n >= sizeof raw)
		return 400;
	memcpy(raw, target, n);
	raw[n] = '\0';
	*slash_end = raw[n - 1] == '/';
	nseg = map_segments(raw, segs);
	if (nseg < 0)
		return -nseg;
	if (o >= flen || ulen < 2)
		return 414;
	memcpy(fs, root, o);
	for (i = 0; i < nseg; i++) {
		size_t len = strlen(segs[i]);

		if (put_seg(fs, &o, flen, segs[i], len) < 0 ||
		    put_seg(urlpath, &u, ulen - 1, segs[i], len) < 0)
			return 414;
	}
	fs[o] = '\0';
	if (!nseg || *slash_end)
		urlpath[u++] = '/';
	urlpath[u] = '\0';
	return 0;
}

void url_file_name(const struct url *u, char *out, size_t len)
{
	size_t n = strcspn(u->target, "?");
	const char *end = u->target + n, *s = end;
	char seg[256];

	while (s > u->target && s[-1] != '/')
		s--;
	n = (size_t)(end - s);
	if (n == 0 || n >= sizeof seg) {
		snprintf(out, len, "index.html");
		return;
	}
	memcpy(seg, s, n);
	seg[n] = '\0';
	if (url_unescape(seg) < 0 || !seg[0] || strchr(seg, '/') || !strcmp(seg, ".") ||
	    !strcmp(seg, ".."))
		snprintf(out, len, "index.html");
	else
		snprintf(out, len, "%s", seg);
}
