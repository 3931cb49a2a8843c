#include "nettool/proto/cookie.h"
#include "nettool/base/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void cookie_jar_init(struct cookie_jar *j)
{
	memset(j, 0, sizeof *j);
}

void cookie_jar_free(struct cookie_jar *j)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		free(j->v[i].name);
	free(j->v);
	cookie_jar_init(j);
}

/* ---- dates (RFC 6265 section 5.1.1) ---- */

static int date_delim(unsigned char c)
{
	return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) ||
	       (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

/* 1 to max digits at s, then no digit: their value, and *n their count;
 * -1 when there are none or too many. */
static int digits(const char *s, size_t len, int min, int max, size_t *n)
{
	int v = 0;
	size_t i = 0;

	while (i < len && isdigit((unsigned char)s[i]) && (int)i < max)
		v = v * 10 + (s[i++] - '0');
	if ((int)i < min || (i < len && isdigit((unsigned char)s[i])))
		return -1;
	*n = i;
	return v;
}

/* hh:mm:ss, each of one or two digits. */
static int time_token(const char *s, size_t len, int *hms)
{
	size_t i = 0, n;
	int k;

	for (k = 0; k < 3; k++) {
		if ((hms[k] = digits(s + i, len - i, 1, 2, &n)) < 0)
			return 0;
		i += n;
		if (k < 2 && (i >= len || s[i++] != ':'))
			return 0;
	}
	return 1;
}

static int month_days(int y, int m)
{
	static const int len[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return len[m - 1];
}

int cookie_date_parse(const char *s, int64_t *t)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	int hms[3] = { -1, -1, -1 }, day = -1, month = -1, year = -1, have_time = 0;

	while (*s) {
		size_t len = 0, n;
		int v;

		while (*s && date_delim((unsigned char)*s))
			s++;
		while (s[len] && !date_delim((unsigned char)s[len]))
			len++;
		if (!len)
			break;
		if (!have_time && time_token(s, len, hms)) {
			have_time = 1;
		} else if (day < 0 && (v = digits(s, len, 1, 2, &n)) >= 0) {
			day = v;
		} else if (month < 0 && len >= 3) {
			const char *m;
			char lc[4];

			for (n = 0; n < 3; n++)
				lc[n] = (char)tolower((unsigned char)s[n]);
			lc[3] = '\0';
			m = strstr(months, lc);
			if (m && (m - months) % 3 == 0)
				month = (int)(m - months) / 3 + 1;
			else if (year < 0 && (v = digits(s, len, 2, 4, &n)) >= 0)
				year = v;
		} else if (year < 0 && (v = digits(s, len, 2, 4, &n)) >= 0) {
			year = v;
		}
		s += len;
	}
	if (year >= 70 && year <= 99)
		year += 1900;
	else if (year >= 0 && year <= 69)
		year += 2000;
	if (!have_time || day < 1 || month < 0 || year < 1601 || hms[0] > 23 || hms[1] > 59 ||
	    hms[2] > 59 || day > month_days(year, month))
		return -1;
	*t = util_days_from_civil(year, month, day) * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2];
	return 0;
}

/* ---- matching (RFC 6265 section 5.1.3, 5.1.4) ---- */

/* A literal address: no domain-matching for it. */
static int is_ip(const char *h)
{
	return strchr(h, ':') || strspn(h, "0123456789.") == strlen(h);
}

static int domain_match(const char *host, const char *domain)
{
	size_t hl = strlen(host), dl = strlen(domain);

	if (!strcasecmp(host, domain))
		return 1;
	return hl > dl && host[hl - dl - 1] == '.' && !strcasecmp(host + hl - dl, domain) &&
	       !is_ip(host);
}

static int path_match(const char *req, const char *path)
{
	size_t pl = strlen(path);

	if (strncmp(req, path, pl))
		return 0;
	return req[pl] == '\0' || path[pl - 1] == '/' || req[pl] == '/';
}

/* The default path: the request path up to its last '/', or "/". */
static void default_path(const char *req, char *out, size_t len)
{
	const char *last = strrchr(req, '/');

	if (req[0] != '/' || last == req) {
		snprintf(out, len, "/");
		return;
	}
	snprintf(out, len, "%.*s", (int)(last - req), req);
}

/* ---- the jar ---- */

static int find(const struct cookie_jar *j, const struct cookie *c)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		if (!strcmp(j->v[i].name, c->name) && !strcasecmp(j->v[i].domain, c->domain) &&
		    !strcmp(j->v[i].path, c->path))
			return (int)i;
	return -1;
}

static void drop(struct cookie_jar *j, size_t i)
{
	free(j->v[i].name);
	memmove(j->v + i, j->v + i + 1, (j->n - i - 1) * sizeof *j->v);
	j->n--;
}

/* Make room as RFC 6265 section 5.3 says: the expired first, then the
 * oldest of a domain over its share, then the oldest of all. */
static void evict(struct cookie_jar *j, const char *domain, int64_t now)
{
	size_t i, n_dom = 0, oldest = 0, oldest_dom = (size_t)-1;

	for (i = j->n; i-- > 0;)
		if (j->v[i].expires && j->v[i].expires <= now)
			drop(j, i);
	for (i = 0; i < j->n; i++) {
		if (!strcasecmp(j->v[i].domain, domain)) {
			n_dom++;
			if (oldest_dom == (size_t)-1 || j->v[i].seq < j->v[oldest_dom].seq)
				oldest_dom = i;
		}
		if (j->v[i].seq < j->v[oldest].seq)
			oldest = i;
	}
	if (n_dom >= COOKIE_MAX_DOMAIN)
		drop(j, oldest_dom);
	else if (j->n >= COOKIE_MAX_ALL)
		drop(j, oldest);
}

/* Keep c (its strings copied), replacing one of the same name, domain
 * and path and keeping that one's age. */
static int store(struct cookie_jar *j, const struct cookie *c, int64_t now)
{
	size_t ln = strlen(c->name) + 1, lv = strlen(c->value) + 1, ld = strlen(c->domain) + 1;
	int at = find(j, c);
	struct cookie k = *c;
	uint64_t seq = at >= 0 ? j->v[at].seq : ++j->seq;

	if (at >= 0)
		drop(j, (size_t)at);
	if (c->expires && c->expires <= now)
		return 1; /* an expiry in the past deletes it */
	if (at < 0)
		evict(j, c->domain, now);
	if (j->n == j->cap) {
		size_t cap = j->cap ? 2 * j->cap : 16;
		struct cookie *v = realloc(j->v, cap * sizeof *v);

		if (!v)
			return -1;
		j->v = v;
		j->cap = cap;
	}
	if (!(k.name = malloc(ln + lv + ld + strlen(c->path) + 1)))
		return -1;
	k.value = k.name + ln;
	k.domain = k.value + lv;
	k.path = k.domain + ld;
	memcpy(k.name, c->name, ln);
	memcpy(k.value, c->value, lv);
	memcpy(k.domain, c->domain, ld);
	strcpy(k.path, c->path);
	k.seq = seq;
	j->v[j->n++] = k;
	return 1;
}


/* s[0..n) without leading and trailing blanks, into out. */
static void trimmed(const char *s, size_t n, char *out, size_t len)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), s);
}

struct attrs {
	int64_t expires, max_age;
	int has_expires, has_max_age, secure, http_only;
	char domain[256], path[1024];
};

/* The attributes after the first ';' (RFC 6265 section 5.2): the last of
 * each wins, a bad one is ignored. */
static void parse_attrs(const char *p, struct attrs *a)
{
	while (*p == ';') {
		const char *end = p + 1 + strcspn(p + 1, ";");
		const char *eq = memchr(p + 1, '=', (size_t)(end - p - 1));
		char name[32], value[1024];

		trimmed(p + 1, (size_t)((eq ? eq : end) - p - 1), name, sizeof name);
		trimmed(eq ? eq + 1 : end, eq ? (size_t)(end - eq - 1) : 0, value, sizeof value);
		p = end;
		if (!strcasecmp(name, "expires")) {
			a->has_expires |= cookie_date_parse(value, &a->expires) == 0;
		} else if (!strcasecmp(name, "max-age")) {
			char *e;
			long long v = strtoll(value, &e, 10);

			if ((isdigit((unsigned char)value[0]) || value[0] == '-') && !*e) {
				a->has_max_age = 1;
				a->max_age = v;
			}
		} else if (!strcasecmp(name, "domain") && value[0]) {
			size_t i;

			snprintf(a->domain, sizeof a->domain, "%s", value + (value[0] == '.'));
			for (i = 0; a->domain[i]; i++)
				a->domain[i] = (char)tolower((unsigned char)a->domain[i]);
		} else if (!strcasecmp(name, "path")) {
			snprintf(a->path, sizeof a->path, "%s", value);
		} else if (!strcasecmp(name, "secure")) {
			a->secure = 1;
		} else if (!strcasecmp(name, "httponly")) {
			a->http_only = 1;
		}
	}
}

int cookie_set(struct cookie_jar *j, const char *field, const char *host, const char *path,
	       int secure, int64_t now)
{
	size_t pair = strcspn(field, ";");
	const char *eq = memchr(field, '=', pair);
	char name[COOKIE_MAX_LEN], value[COOKIE_MAX_LEN], lhost[256];
	struct attrs a;
	struct cookie c;
	size_t i;

	/* a control character anywhere: nothing a head or a file line can carry */
	if (!eq || pair >= COOKIE_MAX_LEN || !util_printable(field, strlen(field)) ||
	    strlen(host) >= sizeof lhost)
		return 0;
	trimmed(field, (size_t)(eq - field), name, sizeof name);
	trimmed(eq + 1, (size_t)(field + pair - eq - 1), value, sizeof value);
	if (!name[0])
		return 0;
	memset(&a, 0, sizeof a);
	parse_attrs(field + pair, &a);
	for (i = 0; host[i]; i++)
		lhost[i] = (char)tolower((unsigned char)host[i]);
	lhost[i] = '\0';
	memset(&c, 0, sizeof c);
	c.name = name;
	c.value = value;
	c.secure = a.secure;
	c.http_only = a.http_only;
	if (a.secure && !secure)
		return 0; /* only a secure channel sets a Secure cookie */
	if (a.has_max_age)
		c.expires = a.max_age <= 0 ? 1 : now + (a.max_age > 400LL * 86400 ? 400LL * 86400
							: a.max_age);
	else if (a.has_expires)
		c.expires = a.expires > 0 ? a.expires : 1;
	c.host_only = !a.domain[0];
	c.domain = a.domain[0] ? a.domain : lhost;
	/* a Domain must hold this host, and be no bare top-level name */
	if (a.domain[0] && (!domain_match(lhost, a.domain) ||
			    (!strchr(a.domain, '.') && strcmp(a.domain, lhost))))
		return 0;
	/* an address, or a name without a dot, is the host's alone */
	if (a.domain[0] && (is_ip(lhost) || !strchr(a.domain, '.')))
		c.host_only = 1;
	if (a.path[0] != '/')
		default_path(path, a.path, sizeof a.path);
	c.path = a.path;
	return store(j, &c, now);
}

static int matches(const struct cookie *c, const char *host, const char *path, int secure,
		   int64_t now)
{
	if (c->expires && c->expires <= now)
		return 0;
	if (c->secure && !secure)
		return 0;
	if (c->host_only ? strcasecmp(host, c->domain) != 0 : !domain_match(host, c->domain))
		return 0;
	return path_match(path, c->path);
}

int cookie_header(const struct cookie_jar *j, struct buf *b, const char *host, const char *path,
		  int secure, int64_t now)
{
	size_t *pick, n = 0, i, k;
	int rc = 0;

	if (!j->n)
		return 0;
	if (!(pick = malloc(j->n * sizeof *pick)))
		return -1;
	for (i = 0; i < j->n; i++) {
		const struct cookie *c = &j->v[i];

		if (!matches(c, host, path, secure, now))
			continue;
		/* insertion by path length (longer first), then age */
		for (k = n; k > 0; k--) {
			const struct cookie *o = &j->v[pick[k - 1]];
			size_t lo = strlen(o->path), lc = strlen(c->path);

			if (lo > lc || (lo == lc && o->seq < c->seq))
				break;
			pick[k] = pick[k - 1];
		}
		pick[k] = i;
		n++;
	}
	for (i = 0; i < n && rc == 0; i++)
		rc = buf_printf(b, "%s%s=%s", i ? "; " : "", j->v[pick[i]].name,
				j->v[pick[i]].value);
	free(pick);
	return rc < 0 ? -1 : (int)n;
}

/* ---- the Netscape file format ---- */

int cookie_load_line(struct cookie_jar *j, const char *line, int junk_session, int64_t now)
{
	char copy[COOKIE_MAX_LEN + 2048], *f[7], *p, *e;
	struct cookie c;
	int n = 0;

	memset(&c, 0, sizeof c);
	if (!strncmp(line, "#HttpOnly_", 10)) {
		c.http_only = 1;
		line += 10;
	}
	if (line[0] == '#')
		return 0;
	if (strlen(line) >= sizeof copy)
		return -2;
	strcpy(copy, line);
	copy[strcspn(copy, "\r\n")] = '\0';
	if (!copy[strspn(copy, " \t")])
		return 0; /* a blank line */
	for (p = copy; n < 7; n++) {
		f[n] = p;
		if (!(p = strchr(p, '\t')))
			break;
		*p++ = '\0';
	}
	if (n == 5) /* curl writes a cookie with no value as six fields */
		f[++n] = "";
	if (n != 6 || !f[0][0] || !f[5][0] || f[2][0] != '/' || !util_printable(f[6], strlen(f[6])))
		return -2;
	c.host_only = strcasecmp(f[1], "TRUE") != 0;
	if (f[0][0] == '.') {
		f[0]++;
		c.host_only = 0;
	}
	c.secure = !strcasecmp(f[3], "TRUE");
	c.expires = strtoll(f[4], &e, 10);
	if (!f[4][0] || *e || c.expires < 0)
		return -2;
	if ((c.expires && c.expires <= now) || (junk_session && !c.expires))
		return 0;
	for (p = f[0]; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	c.domain = f[0];
	c.path = f[2];
	c.name = f[5];
	c.value = f[6];
	if (strlen(c.name) + strlen(c.value) >= COOKIE_MAX_LEN)
		return -2;
	return store(j, &c, now);
}

int cookie_save(const struct cookie_jar *j, struct buf *b, int64_t now)
{
	size_t i;
	int rc = buf_printf(b, "# Netscape HTTP Cookie File\n"
			    "# domain, subdomains too, path, secure only, expiry (0: a session's),"
			    " name, value\n\n");

	for (i = 0; i < j->n && rc == 0; i++) {
		const struct cookie *c = &j->v[i];

		if (c->expires && c->expires <= now)
			continue;
		rc = buf_printf(b, "%s%s%s\t%s\t%s\t%s\t%lld\t%s\t%s\n",
				c->http_only ? "#HttpOnly_" : "", c->host_only ? "" : ".", c->domain,
				c->host_only ? "FALSE" : "TRUE", c->path, c->secure ? "TRUE" : "FALSE",
				(long long)c->expires, c->name, c->value);
	}
	return rc;
}
