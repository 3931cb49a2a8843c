#ifndef NETTOOL_PROTO_URLGLOB_H
#define NETTOOL_PROTO_URLGLOB_H
/*
 * curl's URL globbing: {one,two} sets and [1-100], [001-100], [a-z],
 * [0-90:10] ranges in a URL stand for every URL they make, the rightmost
 * varying fastest; "#N" in an output name is the N-th pattern's text for
 * that URL. '\' before one of []{} makes it plain; a [...] holding an
 * IPv6 address (hex digits, ':' and '.') stays plain. Pure, bounded: at
 * most UG_MAX_PATTERNS patterns, UG_MAX_ITEMS items in one set, and
 * UG_MAX_URLS URLs from one glob.
 */
#include <stddef.h>
#include <stdint.h>

#define UG_MAX_PATTERNS 9
#define UG_MAX_ITEMS 1000
#define UG_MAX_URLS 100000000ULL

enum ug_kind { UG_TEXT, UG_SET, UG_NUM, UG_ALPHA };

struct ug_part {
	enum ug_kind kind;
	const char **items;       /* TEXT: items[0]; SET: each one */
	uint64_t n;               /* how many it makes (TEXT: 1) */
	long long from, step;     /* NUM and ALPHA */
	int width;                /* NUM: zero-padded to this */
};

struct urlglob {
	struct ug_part parts[2 * UG_MAX_PATTERNS + 1];
	int nparts, npatterns;
	uint64_t total;           /* URLs it makes */
	char *text;               /* the parts' strings */
	const char **items;       /* every items array, one allocation */
};

/* Parse s. 0, or -1 with err filled (an unclosed or empty pattern, a
 * range that runs backwards, too many). */
int ug_parse(struct urlglob *g, const char *s, char *err);
void ug_free(struct urlglob *g);
/* The n-th URL (0 <= n < total) into out. 0, or -1 when it does not fit. */
int ug_url(const struct urlglob *g, uint64_t n, char *out, size_t len);
/* tmpl with each #N (1 <= N <= patterns) as the n-th URL's N-th pattern
 * text, into out; other '#'s stay. 0, or -1 when it does not fit. */
int ug_name(const struct urlglob *g, uint64_t n, const char *tmpl, char *out, size_t len);

#endif
