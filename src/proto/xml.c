#include "nettool/proto/xml.h"
#include "nettool/base/util.h"

#include <stdlib.h>
#include <string.h>

#define XML_NS_DECLS 256
#define XML_NS_XML "http://www.w3.org/XML/1998/namespace"

struct ns_decl {
	const char *prefix, *uri; /* in the arena; prefix "" for the default */
	int depth;
};

struct xml_parser {
	const char *p;
	size_t n, pos;
	struct xml_doc *doc;
	size_t used, cap;          /* of the arena */
	char *scratch;             /* text of the open elements, a stack */
	size_t slen;
	struct ns_decl ns[XML_NS_DECLS];
	int nns;
	int open[XML_DEPTH];       /* the open elements, by index */
	size_t mark[XML_DEPTH];    /* where each one's text starts in scratch */
	int depth;
	char *err;
};

static int fail(struct xml_parser *x, const char *what)
{
	nt_seterr(x->err, "XML: %s at byte %zu", what, x->pos);
	return -1;
}

/* A copy of s[0..n) in the arena. */
static const char *keep(struct xml_parser *x, const char *s, size_t n)
{
	char *d;

	if (x->used + n + 1 > x->cap)
		return NULL;
	d = x->doc->arena + x->used;
	memcpy(d, s, n);
	d[n] = '\0';
	x->used += n + 1;
	return d;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_name(unsigned char c)
{
	return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == ':';
}

static void skip_space(struct xml_parser *x)
{
	while (x->pos < x->n && is_space(x->p[x->pos]))
		x->pos++;
}

static int starts(const struct xml_parser *x, const char *s)
{
	size_t l = strlen(s);

	return x->n - x->pos >= l && !memcmp(x->p + x->pos, s, l);
}

/* Past the next s; -1 when it never comes. */
static int skip_past(struct xml_parser *x, const char *s)
{
	size_t l = strlen(s);

	for (; x->pos + l <= x->n; x->pos++)
		if (!memcmp(x->p + x->pos, s, l)) {
			x->pos += l;
			return 0;
		}
	return fail(x, "an unclosed construct");
}

/* One code point as UTF-8 into out; its length. */
static size_t utf8(unsigned long c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* The entity at s (after '&', up to ';') into out: its length, or 0 when
 * it is none we know. *used: the bytes it took from s. */
static size_t entity(const char *s, size_t n, char *out, size_t *used)
{
	static const char *const names[] = { "lt", "gt", "amp", "quot", "apos" };
	static const char vals[] = "<>&\"'";
	const char *semi = memchr(s, ';', n < 12 ? n : 12);
	size_t len, i;

	if (!semi)
		return 0;
	len = (size_t)(semi - s);
	*used = len + 1;
	for (i = 0; i < 5; i++)
		if (len == strlen(names[i]) && !memcmp(s, names[i], len)) {
			out[0] = vals[i];
			return 1;
		}
	if (len >= 2 && s[0] == '#') {
		unsigned long c = 0;
		int hex = s[1] == 'x';

		for (i = 1 + (size_t)hex; i < len; i++) {
			int d = hex ? util_hexval(s[i]) : (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);

			if (d < 0 || c > 0x10ffff)
				return 0;
			c = c * (hex ? 16 : 10) + (unsigned long)d;
		}
		if (i == 1 + (size_t)hex || c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		return utf8(c, out);
	}
	return 0;
}

/* Character data s[0..n), entities undone, onto the scratch text. */
static int add_text(struct xml_parser *x, const char *s, size_t n, int raw)
{
	size_t i, used;

	for (i = 0; i < n; i++) {
		if (s[i] == '&' && !raw) {
			char e[4];
			size_t el = entity(s + i + 1, n - i - 1, e, &used);

			if (!el)
				return fail(x, "an entity that is not one of XML's five or a character");
			memcpy(x->scratch + x->slen, e, el);
			x->slen += el;
			i += used;
		} else if (s[i] == '<' && !raw) {
			return fail(x, "a stray '<'");
		} else {
			x->scratch[x->slen++] = s[i];
		}
	}
	return 0;
}

static const char *ns_of(struct xml_parser *x, const char *prefix, size_t pl)
{
	int i;

	if (pl == 3 && !memcmp(prefix, "xml", 3))
		return XML_NS_XML;
	for (i = x->nns - 1; i >= 0; i--)
		if (strlen(x->ns[i].prefix) == pl && !memcmp(x->ns[i].prefix, prefix, pl))
			return x->ns[i].uri;
	return pl ? NULL : "";
}

/* A quoted attribute value, entities undone, into the arena. */
static const char *attr_value(struct xml_parser *x)
{
	char q;
	size_t start, mark = x->slen;
	const char *v;

	if (x->pos >= x->n || (x->p[x->pos] != '"' && x->p[x->pos] != '\''))
		return fail(x, "an attribute without a quoted value"), NULL;
	q = x->p[x->pos++];
	start = x->pos;
	while (x->pos < x->n && x->p[x->pos] != q)
		x->pos++;
	if (x->pos >= x->n || add_text(x, x->p + start, x->pos - start, 0) < 0)
		return fail(x, "an unclosed attribute value"), NULL;
	x->pos++;
	v = keep(x, x->scratch + mark, x->slen - mark);
	x->slen = mark;
	return v;
}

/* A start tag, after its '<'. *empty: it was <x/>. */
static int start_tag(struct xml_parser *x, int *empty)
{
	struct xml_doc *d = x->doc;
	size_t name_at = x->pos, nl, colon, start = x->pos - 1;
	struct xml_node *nd;
	const char *lang = x->depth ? d->nodes[x->open[x->depth - 1]].lang : NULL;

	while (x->pos < x->n && is_name((unsigned char)x->p[x->pos]))
		x->pos++;
	if ((nl = x->pos - name_at) == 0)
		return fail(x, "a tag without a name");
	if (x->depth == XML_DEPTH || d->n == XML_NODES)
		return fail(x, "too deep, or too many elements");
	for (;;) { /* attributes: xmlns and xml:lang count, the rest are skipped */
		size_t an_at, anl;
		const char *v;

		skip_space(x);
		if (x->pos >= x->n)
			return fail(x, "an unclosed tag");
		if (x->p[x->pos] == '>' || starts(x, "/>"))
			break;
		for (an_at = x->pos; x->pos < x->n && is_name((unsigned char)x->p[x->pos]); x->pos++)
			;
		if (!(anl = x->pos - an_at))
			return fail(x, "a bad attribute");
		skip_space(x);
		if (x->pos >= x->n || x->p[x->pos++] != '=')
			return fail(x, "an attribute without '='");
		skip_space(x);
		if (!(v = attr_value(x)))
			return -1;
		if ((anl == 5 && !memcmp(x->p + an_at, "xmlns", 5)) ||
		    (anl > 6 && !memcmp(x->p + an_at, "xmlns:", 6))) {
			if (x->nns == XML_NS_DECLS)
				return fail(x, "too many namespace declarations");
			x->ns[x->nns].prefix = keep(x, x->p + an_at + (anl > 5 ? 6 : 5),
						    anl > 5 ? anl - 6 : 0);
			x->ns[x->nns].uri = v;
			x->ns[x->nns++].depth = x->depth;
			if (anl > 5 && !*v) /* Namespaces in XML 1.0: a prefix names one */
				return fail(x, "a prefix declared with no namespace");
			if (!x->ns[x->nns - 1].prefix)
				return fail(x, "out of room");
		} else if (anl == 8 && !memcmp(x->p + an_at, "xml:lang", 8)) {
			lang = v;
		}
	}
	*empty = x->p[x->pos] == '/';
	x->pos += *empty ? 2 : 1;
	nd = &d->nodes[d->n];
	memset(nd, 0, sizeof *nd);
	colon = 0;
	while (colon < nl && x->p[name_at + colon] != ':')
		colon++;
	nd->ns = ns_of(x, x->p + name_at, colon < nl ? colon : 0);
	if (!nd->ns)
		return fail(x, "a prefix no xmlns declared");
	nd->name = keep(x, x->p + name_at + (colon < nl ? colon + 1 : 0),
			colon < nl ? nl - colon - 1 : nl);
	nd->lang = lang;
	nd->start = start;
	nd->parent = x->depth ? x->open[x->depth - 1] : -1;
	nd->child = nd->next = -1;
	if (!nd->name)
		return fail(x, "out of room");
	if (nd->parent >= 0) { /* the last of its parent's children */
		int *link = &d->nodes[nd->parent].child;

		while (*link >= 0)
			link = &d->nodes[*link].next;
		*link = d->n;
	}
	x->mark[x->depth] = x->slen;
	x->open[x->depth++] = d->n++;
	return 0;
}

/* The element on top closes: its text kept, its declarations dropped. */
static int close_top(struct xml_parser *x)
{
	struct xml_node *nd = &x->doc->nodes[x->open[--x->depth]];

	nd->text = keep(x, x->scratch + x->mark[x->depth], x->slen - x->mark[x->depth]);
	x->slen = x->mark[x->depth];
	nd->end = x->pos;
	while (x->nns && x->ns[x->nns - 1].depth >= x->depth)
		x->nns--;
	return nd->text ? 0 : fail(x, "out of room");
}

static int end_tag(struct xml_parser *x)
{
	const struct xml_node *nd;
	size_t at = x->pos, nl, sl = 0;
	const char *sn;

	while (x->pos < x->n && is_name((unsigned char)x->p[x->pos]))
		x->pos++;
	nl = x->pos - at;
	skip_space(x);
	if (!x->depth || x->pos >= x->n || x->p[x->pos] != '>')
		return fail(x, "a bad end tag");
	x->pos++;
	nd = &x->doc->nodes[x->open[x->depth - 1]];
	sn = x->p + nd->start + 1; /* the same qualified name as its start tag */
	while (is_name((unsigned char)sn[sl]))
		sl++;
	if (sl != nl || memcmp(sn, x->p + at, nl))
		return fail(x, "an end tag that does not match");
	return close_top(x);
}

static int markup(struct xml_parser *x, int *root_done)
{
	int empty;

	if (starts(x, "<!--"))
		return skip_past(x, "-->");
	if (starts(x, "<?"))
		return skip_past(x, "?>");
	if (starts(x, "<![CDATA[")) {
		size_t at;

		if (!x->depth)
			return fail(x, "CDATA outside the root");
		x->pos += 9;
		at = x->pos;
		if (skip_past(x, "]]>") < 0)
			return -1;
		return add_text(x, x->p + at, x->pos - 3 - at, 1);
	}
	if (starts(x, "<!"))
		return fail(x, "a DOCTYPE or declaration (refused)");
	if (starts(x, "</")) {
		x->pos += 2;
		if (end_tag(x) < 0)
			return -1;
		*root_done = !x->depth;
		return 0;
	}
	if (*root_done)
		return fail(x, "a second root element");
	x->pos++;
	if (start_tag(x, &empty) < 0)
		return -1;
	if (empty) {
		if (close_top(x) < 0)
			return -1;
		*root_done = !x->depth;
	}
	return 0;
}

int xml_parse(const char *p, size_t n, struct xml_doc *doc, char *err)
{
	struct xml_parser *x = calloc(1, sizeof *x);
	int root_done = 0, rc = 0;

	memset(doc, 0, sizeof *doc);
	if (!x)
		return nt_seterr(err, "out of memory"), -1;
	x->p = p;
	x->n = n;
	x->doc = doc;
	x->err = err;
	x->cap = 2 * n + 64;
	doc->arena = malloc(x->cap);
	doc->nodes = malloc(XML_NODES * sizeof *doc->nodes);
	x->scratch = malloc(n + 1);
	if (!doc->arena || !doc->nodes || !x->scratch)
		rc = fail(x, "out of memory");
	if (n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		x->pos = 3; /* a byte order mark */
	while (rc == 0 && x->pos < x->n) {
		size_t at = x->pos;

		if (x->p[x->pos] == '<') {
			rc = markup(x, &root_done);
			continue;
		}
		while (x->pos < x->n && x->p[x->pos] != '<')
			x->pos++;
		if (!x->depth) { /* outside the root: blanks only */
			size_t i;

			for (i = at; i < x->pos; i++)
				if (!is_space(x->p[i]))
					rc = fail(x, "text outside the root element");
		} else {
			rc = add_text(x, x->p + at, x->pos - at, 0);
		}
	}
	if (rc == 0 && (!root_done || x->depth))
		rc = fail(x, doc->n ? "an element not closed" : "no element");
	free(x->scratch);
	free(x);
	if (rc < 0)
		xml_free(doc);
	return rc;
}

void xml_free(struct xml_doc *doc)
{
	free(doc->nodes);
	free(doc->arena);
	memset(doc, 0, sizeof *doc);
}

int xml_child(const struct xml_doc *doc, int i, const char *ns, const char *name)
{
	int c;

	for (c = doc->nodes[i].child; c >= 0; c = doc->nodes[c].next)
		if (!strcmp(doc->nodes[c].ns, ns) && !strcmp(doc->nodes[c].name, name))
			return c;
	return -1;
}
