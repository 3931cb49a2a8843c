#include "nettool/http/dav_props.h"
#include "nettool/proto/http.h"
#include "nettool/proto/sha256.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/xattr.h>
#endif

static void ser(const struct xml_doc *doc, int i, struct buf *b, int level)
{
	const struct xml_node *nd = &doc->nodes[i];
	int c;

	if (nd->ns[0]) {
		buf_printf(b, "<N%d:%s xmlns:N%d=\"", level, nd->name, level);
		http_html_escape(b, nd->ns);
		buf_putc(b, '"');
	} else {
		buf_printf(b, "<%s", nd->name);
	}
	if (nd->lang && (!level || !doc->nodes[nd->parent].lang ||
			 strcmp(doc->nodes[nd->parent].lang, nd->lang))) {
		buf_printf(b, " xml:lang=\"");
		http_html_escape(b, nd->lang);
		buf_putc(b, '"');
	}
	buf_putc(b, '>');
	http_html_escape(b, nd->text);
	for (c = nd->child; c >= 0; c = doc->nodes[c].next)
		ser(doc, c, b, level + 1);
	if (nd->ns[0])
		buf_printf(b, "</N%d:%s>", level, nd->name);
	else
		buf_printf(b, "</%s>", nd->name);
}

void davp_serialize(const struct xml_doc *doc, int i, struct buf *b)
{
	ser(doc, i, b, 0);
}

/* The attribute's name for ns:name. */
static void key(const char *ns, const char *name, char out[64])
{
	struct sha256 c;
	unsigned char d[32];
	char hex[65];

	sha256_init(&c);
	sha256_update(&c, ns, strlen(ns));
	sha256_update(&c, "\n", 1);
	sha256_update(&c, name, strlen(name));
	sha256_final(&c, d);
	sha256_hex(d, hex);
	snprintf(out, 64, DAVP_PREFIX "%.32s", hex);
}

#ifdef __linux__
int davp_put(const char *path, const char *ns, const char *name, const struct buf *value)
{
	char k[64];
	struct buf v = { NULL, 0, 0 };
	int rc;

	key(ns, name, k);
	if (!value)
		return removexattr(path, k) < 0 && errno != ENODATA ? errno : 0;
	buf_append(&v, ns, strlen(ns) + 1);
	buf_append(&v, name, strlen(name) + 1);
	buf_append(&v, value->data, value->len);
	if (v.len > DAVP_MAX) {
		buf_free(&v);
		return E2BIG;
	}
	rc = setxattr(path, k, v.data, v.len, 0) < 0 ? errno : 0;
	buf_free(&v);
	return rc;
}

/* The attribute k of path into b; its three parts found. */
static int read_attr(const char *path, const char *k, struct buf *b, const char **ns,
		     const char **name, const char **elem, size_t *elen)
{
	ssize_t n;

	b->len = 0;
	if (buf_reserve(b, DAVP_MAX + 1) < 0 || (n = getxattr(path, k, b->data, DAVP_MAX)) <= 0)
		return 0;
	b->len = (size_t)n;
	*ns = b->data;
	if (!(*name = memchr(b->data, '\0', b->len)))
		return 0;
	(*name)++;
	if (!(*elem = memchr(*name, '\0', b->len - (size_t)(*name - b->data))))
		return 0;
	(*elem)++;
	*elen = b->len - (size_t)(*elem - b->data);
	return 1;
}

int davp_get(const char *path, const char *ns, const char *name, struct buf *b)
{
	struct buf raw = { NULL, 0, 0 };
	const char *n2, *nm, *el;
	size_t elen;
	char k[64];
	int found;

	key(ns, name, k);
	found = read_attr(path, k, &raw, &n2, &nm, &el, &elen) && !strcmp(n2, ns) &&
		!strcmp(nm, name);
	if (found)
		buf_append(b, el, elen);
	buf_free(&raw);
	return found;
}

void davp_each(const char *path, void (*fn)(void *ctx, const char *ns, const char *name,
					    const char *elem), void *ctx)
{
	char names[8192];
	ssize_t n = listxattr(path, names, sizeof names);
	struct buf raw = { NULL, 0, 0 };
	ssize_t i;

	for (i = 0; n > 0 && i < n; i += (ssize_t)strlen(names + i) + 1) {
		const char *ns, *nm, *el;
		size_t elen;

		if (strncmp(names + i, DAVP_PREFIX, strlen(DAVP_PREFIX)) ||
		    !read_attr(path, names + i, &raw, &ns, &nm, &el, &elen))
			continue;
		buf_putc(&raw, '\0');
		fn(ctx, ns, nm, el);
	}
	buf_free(&raw);
}

void davp_copy(const char *src, const char *dst)
{
	char names[8192], val[DAVP_MAX];
	ssize_t n = listxattr(src, names, sizeof names), i, vl;

	for (i = 0; n > 0 && i < n; i += (ssize_t)strlen(names + i) + 1)
		if (!strncmp(names + i, DAVP_PREFIX, strlen(DAVP_PREFIX)) &&
		    (vl = getxattr(src, names + i, val, sizeof val)) > 0)
			setxattr(dst, names + i, val, (size_t)vl, 0);
}
#else
int davp_put(const char *path, const char *ns, const char *name, const struct buf *value)
{
	(void)path, (void)ns, (void)name, (void)value;
	return ENOTSUP;
}

int davp_get(const char *path, const char *ns, const char *name, struct buf *b)
{
	(void)path, (void)ns, (void)name, (void)b;
	return 0;
}

void davp_each(const char *path, void (*fn)(void *ctx, const char *ns, const char *name,
					    const char *elem), void *ctx)
{
	(void)path, (void)fn, (void)ctx;
}

void davp_copy(const char *src, const char *dst)
{
	(void)src, (void)dst;
}
#endif
