#include "nettool/proto/urlglob.h"
#include "nettool/base/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ug_build {
	struct urlglob *g;
	char *t;              /* where the next string goes in g->text */
	const char **it;      /* the next free item slot */
	char *err;
};

static int add_part(struct ug_build *b, enum ug_kind kind, uint64_t n)
{
	struct urlglob *g = b->g;
	struct ug_part *p;

	if (kind != UG_TEXT && ++g->npatterns > UG_MAX_PATTERNS) {
		nt_seterr(b->err, "more than %d patterns in one URL", UG_MAX_PATTERNS);
		return -1;
	}
	if (n == 0 || g->total > UG_MAX_URLS / n) {
		nt_seterr(b->err, "the URL's patterns make more than %llu URLs",
			  (unsigned long long)UG_MAX_URLS);
		return -1;
	}
	g->total *= n;
	p = &g->parts[g->nparts++];
	memset(p, 0, sizeof *p);
	p->kind = kind;
	p->n = n;
	return 0;
}

/* A plain string (escapes undone) ending the current text part. */
static int text_part(struct ug_build *b, const char *s, size_t n)
{
	char *start = b->t;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && strchr("[]{}", s[i + 1]))
			i++;
		*b->t++ = s[i];
	}
	*b->t++ = '\0';
	if (add_part(b, UG_TEXT, 1) < 0)
		return -1;
	b->g->parts[b->g->nparts - 1].items = b->it;
	*b->it++ = start;
	return 0;
}

/* {a,b,c}: s after the '{', n up to the '}'. */
static int set_part(struct ug_build *b, const char *s, size_t n)
{
	const char **first = b->it;
	uint64_t k = 0;
	size_t i = 0;

	for (;;) {
		size_t e = i;

		while (e < n && s[e] != ',')
			e += s[e] == '\\' && e + 1 < n ? 2 : 1;
		if (++k > UG_MAX_ITEMS) {
			nt_seterr(b->err, "more than %d items in one {}", UG_MAX_ITEMS);
			return -1;
		}
		*b->it++ = b->t;
		for (; i < e; i++) {
			if (s[i] == '\\' && i + 1 < e)
				i++;
			*b->t++ = s[i];
		}
		*b->t++ = '\0';
		if (e >= n)
			break;
		i = e + 1;
	}
	if (add_part(b, UG_SET, k) < 0)
		return -1;
	b->g->parts[b->g->nparts - 1].items = first;
	return 0;
}

/* [A-B] or [A-B:STEP], of numbers or of single letters. */
static int range_part(struct ug_build *b, const char *s, size_t n)
{
	char r[64], *dash, *colon, *e1, *e2;
	long long from, to, step = 1;
	int alpha;
	struct ug_part *p;

	if (n >= sizeof r)
		goto bad;
	memcpy(r, s, n);
	r[n] = '\0';
	if ((colon = strchr(r, ':'))) {
		*colon = '\0';
		step = strtoll(colon + 1, &e1, 10);
		if (!isdigit((unsigned char)colon[1]) || *e1 || step < 1)
			goto bad;
	}
	if (!(dash = strchr(r + 1, '-')))
		goto bad;
	*dash = '\0';
	alpha = isalpha((unsigned char)r[0]) && !r[1];
	if (alpha) {
		if (!isalpha((unsigned char)dash[1]) || dash[2] ||
		    !!islower((unsigned char)r[0]) != !!islower((unsigned char)dash[1]))
			goto bad;
		from = r[0];
		to = dash[1];
	} else {
		from = strtoll(r, &e1, 10);
		to = strtoll(dash + 1, &e2, 10);
		if (!isdigit((unsigned char)r[0]) || !isdigit((unsigned char)dash[1]) || *e1 || *e2 ||
		    strlen(r) > 18 || strlen(dash + 1) > 18)
			goto bad;
	}
	if (to < from)
		goto bad;
	if (add_part(b, alpha ? UG_ALPHA : UG_NUM, (uint64_t)((to - from) / step) + 1) < 0)
		return -1;
	p = &b->g->parts[b->g->nparts - 1];
	p->from = from;
	p->step = step;
	p->width = !alpha && r[0] == '0' && r[1] ? (int)strlen(r) : 0;
	return 0;
bad:
	nt_seterr(b->err, "bad range '[%.*s]' (expected [1-9], [01-99], [a-z], with :STEP)",
		  (int)n, s);
	return -1;
}

/* A [...] that is an IPv6 address (a zone after '%' too), not a range. */
static int ipv6_literal(const char *s, size_t n)
{
	size_t a = strspn(s, "0123456789abcdefABCDEF:.");

	if (!memchr(s, ':', n))
		return 0;
	if (a < n && s[a] == '%')
		while (++a < n && (isalnum((unsigned char)s[a]) || strchr("%._-~", s[a])))
			;
	return a >= n;
}

/* The end of a pattern opened at s[0] ('{' or '['): its closer, or NULL. */
static const char *closer(const char *s)
{
	char c = *s == '{' ? '}' : ']';

	for (s++; *s && *s != c; s++) {
		if (*s == '\\' && s[1])
			s++;
		else if (*s == '{' || *s == '[')
			return NULL; /* none inside another */
	}
	return *s ? s : NULL;
}

int ug_parse(struct urlglob *g, const char *s, char *err)
{
	size_t len = strlen(s);
	struct ug_build b;
	const char *lit = s, *p = s;

	memset(g, 0, sizeof *g);
	g->total = 1;
	g->text = malloc(2 * len + 2 * UG_MAX_PATTERNS + 4);
	g->items = malloc((len + 2 * UG_MAX_PATTERNS + 4) * sizeof *g->items);
	if (!g->text || !g->items) {
		nt_seterr(err, "out of memory");
		ug_free(g);
		return -1;
	}
	b.g = g;
	b.t = g->text;
	b.it = g->items;
	b.err = err;
	while (*p) {
		const char *end;
		int rc;

		if (*p == '\\' && p[1]) {
			p += 2;
			continue;
		}
		if (*p != '{' && *p != '[') {
			p++;
			continue;
		}
		if (!(end = closer(p))) {
			nt_seterr(err, "an unclosed '%c' in the URL (-g takes it as it is)", *p);
			ug_free(g);
			return -1;
		}
		if (*p == '[' && ipv6_literal(p + 1, (size_t)(end - p - 1))) {
			p = end + 1;
			continue;
		}
		if (g->nparts + 2 > (int)(sizeof g->parts / sizeof g->parts[0]) ||
		    text_part(&b, lit, (size_t)(p - lit)) < 0) {
			if (!err[0])
				nt_seterr(err, "more than %d patterns in one URL", UG_MAX_PATTERNS);
			ug_free(g);
			return -1;
		}
		rc = *p == '{' ? set_part(&b, p + 1, (size_t)(end - p - 1))
			       : range_part(&b, p + 1, (size_t)(end - p - 1));
		if (rc < 0) {
			ug_free(g);
			return -1;
		}
		lit = p = end + 1;
	}
	if (text_part(&b, lit, (size_t)(p - lit)) < 0) {
		ug_free(g);
		return -1;
	}
	return 0;
}

void ug_free(struct urlglob *g)
{
	free(g->text);
	free(g->items);
	g->text = NULL;
	g->items = NULL;
}

/* The text of part p for its index i into out (at least 32 bytes). */
static const char *part_text(const struct ug_part *p, uint64_t i, char *out)
{
	long long v = p->from + (long long)i * p->step;

	if (p->kind == UG_TEXT || p->kind == UG_SET)
		return p->items[p->kind == UG_SET ? i : 0];
	if (p->kind == UG_ALPHA)
		snprintf(out, 32, "%c", (char)v);
	else
		snprintf(out, 32, "%0*lld", p->width, v);
	return out;
}

/* Each part's index for the n-th URL, the rightmost fastest. */
static void indexes(const struct urlglob *g, uint64_t n, uint64_t *idx)
{
	int i;

	for (i = g->nparts - 1; i >= 0; i--) {
		idx[i] = n % g->parts[i].n;
		n /= g->parts[i].n;
	}
}

int ug_url(const struct urlglob *g, uint64_t n, char *out, size_t len)
{
	uint64_t idx[sizeof g->parts / sizeof g->parts[0]];
	size_t at = 0;
	int i;

	indexes(g, n, idx);
	for (i = 0; i < g->nparts; i++) {
		char num[32];
		const char *t = part_text(&g->parts[i], idx[i], num);
		size_t tl = strlen(t);

		if (at + tl >= len)
			return -1;
		memcpy(out + at, t, tl);
		at += tl;
	}
	out[at] = '\0';
	return 0;
}

int ug_name(const struct urlglob *g, uint64_t n, const char *tmpl, char *out, size_t len)
{
	uint64_t idx[sizeof g->parts / sizeof g->parts[0]];
	size_t at = 0;

	indexes(g, n, idx);
	for (; *tmpl; tmpl++) {
		char num[32];
		const char *t = NULL;
		size_t tl;

		if (*tmpl == '#' && tmpl[1] >= '1' && tmpl[1] <= '9' && tmpl[1] - '0' <= g->npatterns) {
			int want = tmpl[1] - '0', k, i;

			for (i = 0, k = 0; i < g->nparts; i++)
				if (g->parts[i].kind != UG_TEXT && ++k == want)
					t = part_text(&g->parts[i], idx[i], num);
			tmpl++;
		}
		tl = t ? strlen(t) : 1;
		if (at + tl >= len)
			return -1;
		memcpy(out + at, t ? t : tmpl, tl);
		at += tl;
	}
	out[at] = '\0';
	return 0;
}
