#include "nettool/http/dav.h"
#include "nettool/http/dav_lock.h"
#include "nettool/http/dav_props.h"
#include "nettool/http/serve.h"
#include "nettool/proto/url.h"
#include "nettool/proto/xml.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define DAV_WANT 64
#define DAV_BATCH (64 * 1024)

enum pf_mode { PF_ALL, PF_NAMES, PF_PROP };


struct propfind {
	const struct hs_cfg *g;
	enum pf_mode mode;
	struct { char ns[256], name[128]; } want[DAV_WANT];
	int nwant;
	int depth, chunked, self_done;
	DIR *d;
	char fs[PATH_MAX];
	size_t fs_len;
	struct buf href;         /* the target's, escaped; children's follow it */
	size_t href_len;
	struct buf raw;
};

static const char *const live[] = { "creationdate", "displayname", "getcontentlength",
				    "getcontenttype", "getetag", "getlastmodified",
				    "resourcetype", "supportedlock", "lockdiscovery" };
#define NLIVE (sizeof live / sizeof live[0])

static void xml_text(struct buf *b, const char *s)
{
	http_html_escape(b, s);
}

/* The value of live property k of the resource at path, named name; 0
 * when a file has none of it (a folder's length or type). */
static int live_value(struct buf *b, size_t k, const struct stat *st, const char *name,
		      const struct propfind *pf)
{
	const char *path = pf->fs;
	char etag[64], lm[40], when[32];
	struct tm tm;
	int dir = S_ISDIR(st->st_mode);

	switch (k) {
	case 0:
		gmtime_r(&st->st_ctime, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		buf_printf(b, "<D:creationdate>%s</D:creationdate>", when);
		return 1;
	case 1:
		buf_printf(b, "<D:displayname>");
		xml_text(b, name);
		buf_printf(b, "</D:displayname>");
		return 1;
	case 2:
		if (dir)
			return 0;
		buf_printf(b, "<D:getcontentlength>%lld</D:getcontentlength>", (long long)st->st_size);
		return 1;
	case 3:
		if (dir)
			return 0;
		buf_printf(b, "<D:getcontenttype>");
		xml_text(b, fcache_mime(path));
		buf_printf(b, "</D:getcontenttype>");
		return 1;
	case 4:
	case 5:
		fcache_validators(st, etag, sizeof etag, lm, sizeof lm);
		buf_printf(b, k == 4 ? "<D:getetag>" : "<D:getlastmodified>");
		xml_text(b, k == 4 ? etag : lm);
		buf_printf(b, k == 4 ? "</D:getetag>" : "</D:getlastmodified>");
		return 1;
	case 6:
		buf_printf(b, dir ? "<D:resourcetype><D:collection/></D:resourcetype>"
			       : "<D:resourcetype/>");
		return 1;
	case 7:
		buf_printf(b, "<D:supportedlock><D:lockentry><D:lockscope><D:exclusive/></D:lockscope>"
			   "<D:locktype><D:write/></D:locktype></D:lockentry><D:lockentry><D:lockscope>"
			   "<D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>"
			   "</D:supportedlock>");
		return 1;
	default: {
		char url[URL_MAX];

		snprintf(url, sizeof url, "%s", pf->href.data);
		buf_printf(b, "<D:lockdiscovery>");
		if (url_unescape(url) == 0)
			hs_lock_discovery(pf->g->locks, url, pf->href.data, b, time(NULL));
		buf_printf(b, "</D:lockdiscovery>");
		return 1;
	}
	}
}

/* An element named ns:name, empty, its namespace declared on it. */
static void empty_elem(struct buf *b, const char *ns, const char *name)
{
	if (!strcmp(ns, "DAV:")) {
		buf_printf(b, "<D:%s/>", name);
		return;
	}
	buf_printf(b, "<R:%s xmlns:R=\"", name);
	xml_text(b, ns);
	buf_printf(b, "\"/>");
}

static int live_index(const char *ns, const char *name)
{
	size_t k;

	if (strcmp(ns, "DAV:"))
		return -1;
	for (k = 0; k < NLIVE; k++)
		if (!strcmp(live[k], name))
			return (int)k;
	return -1;
}

/* One <D:response>: href, then the properties asked for. */
/* davp_each's hooks: a dead property whole, or its name alone. */
static void dead_value(void *b, const char *ns, const char *name, const char *elem)
{
	(void)ns;
	(void)name;
	buf_printf(b, "%s", elem);
}

static void dead_name(void *b, const char *ns, const char *name, const char *elem)
{
	(void)elem;
	empty_elem(b, ns, name);
}

static void response(struct propfind *pf, const struct stat *st, const char *name)
{
	struct buf *b = &pf->raw;
	int dir = S_ISDIR(st->st_mode), i, missing = 0;
	char gone[DAV_WANT] = { 0 };
	size_t k;

	buf_printf(b, "<D:response><D:href>");
	xml_text(b, pf->href.data);
	buf_printf(b, "</D:href><D:propstat><D:prop>");
	if (pf->mode == PF_NAMES) {
		for (k = 0; k < NLIVE; k++)
			if (!(dir && (k == 2 || k == 3)))
				buf_printf(b, "<D:%s/>", live[k]);
		davp_each(pf->fs, dead_name, b);
	} else if (pf->mode == PF_ALL) {
		for (k = 0; k < NLIVE; k++)
			live_value(b, k, st, name, pf);
		davp_each(pf->fs, dead_value, b);
	} else {
		for (i = 0; i < pf->nwant; i++) {
			int li = live_index(pf->want[i].ns, pf->want[i].name);

			if (li >= 0 ? !live_value(b, (size_t)li, st, name, pf)
				    : !davp_get(pf->fs, pf->want[i].ns, pf->want[i].name, b))
				missing += gone[i] = 1;
		}
	}
	buf_printf(b, "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>");
	if (missing) {
		buf_printf(b, "<D:propstat><D:prop>");
		for (i = 0; i < pf->nwant; i++)
			if (gone[i])
				empty_elem(b, pf->want[i].ns, pf->want[i].name);
		buf_printf(b, "</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>");
	}
	buf_printf(b, "</D:response>\n");
}

/* The folder's next entries, as the listing shows them. */
static void children(struct propfind *pf)
{
	struct dirent *e = NULL;
	int end = 0;

	while (pf->raw.len < DAV_BATCH && !(end = !(e = readdir(pf->d)))) {
		struct stat st;
		size_t nl = strlen(e->d_name);

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strncmp(e->d_name, HU_TMP_PREFIX, strlen(HU_TMP_PREFIX)) ||
		    pf->fs_len + nl + 2 >= sizeof pf->fs)
			continue;
		pf->fs[pf->fs_len] = '/';
		memcpy(pf->fs + pf->fs_len + 1, e->d_name, nl + 1);
		if (lstat(pf->fs, &st) < 0 ||
		    (S_ISLNK(st.st_mode) && (stat(pf->fs, &st) < 0 ||
					     (!pf->g->follow && fcache_inside(&pf->g->root, pf->fs) != 1))) ||
		    !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
			continue;
		pf->href.len = pf->href_len;
		url_escape(&pf->href, e->d_name);
		if (S_ISDIR(st.st_mode))
			buf_putc(&pf->href, '/');
		buf_putc(&pf->href, '\0');
		response(pf, &st, e->d_name);
	}
	if (end) {
		closedir(pf->d);
		pf->d = NULL;
	}
	pf->fs[pf->fs_len] = '\0';
}

static int pf_next(void *v, struct buf *out, int *fd, uint64_t *size)
{
	struct propfind *pf = v;
	int last;

	*fd = -1;
	*size = 0;
	out->len = 0;
	pf->raw.len = 0;
	if (!pf->self_done) {
		struct stat st;
		const char *slash = strrchr(pf->fs, '/');
		int ok = stat(pf->fs, &st) == 0;

		buf_printf(&pf->raw, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
			   "<D:multistatus xmlns:D=\"DAV:\">\n");
		if (ok)
			response(pf, &st, slash ? slash + 1 : pf->fs);
		pf->self_done = 1;
		if (ok && pf->depth == 1 && S_ISDIR(st.st_mode))
			pf->d = opendir(pf->fs);
		pf->href.len = pf->href_len; /* children: the folder's href and a name */
	}
	if (pf->d)
		children(pf);
	last = !pf->d;
	if (last)
		buf_printf(&pf->raw, "</D:multistatus>\n");
	http_body_piece(out, pf->raw.data, pf->raw.len, pf->chunked, last);
	return last ? 0 : 1;
}

static void pf_free(void *v)
{
	struct propfind *pf = v;

	if (!pf)
		return;
	if (pf->d)
		closedir(pf->d);
	buf_free(&pf->href);
	buf_free(&pf->raw);
	free(pf);
}

/* What the body asks: allprop (or no body), propname, or prop's list.
 * 0, or 400. */
static int asked(struct propfind *pf, const struct buf *body)
{
	struct xml_doc doc;
	char err[NT_ERR_LEN];
	int prop, c;

	pf->mode = PF_ALL;
	if (!body || !body->len)
		return 0;
	if (xml_parse(body->data, body->len, &doc, err) < 0)
		return 400;
	if (strcmp(doc.nodes[0].ns, "DAV:") || strcmp(doc.nodes[0].name, "propfind")) {
		xml_free(&doc);
		return 400;
	}
	if (xml_child(&doc, 0, "DAV:", "propname") >= 0) {
		pf->mode = PF_NAMES;
	} else if ((prop = xml_child(&doc, 0, "DAV:", "prop")) >= 0) {
		pf->mode = PF_PROP;
		for (c = doc.nodes[prop].child; c >= 0 && pf->nwant < DAV_WANT; c = doc.nodes[c].next) {
			snprintf(pf->want[pf->nwant].ns, sizeof pf->want[0].ns, "%s", doc.nodes[c].ns);
			snprintf(pf->want[pf->nwant].name, sizeof pf->want[0].name, "%s",
				 doc.nodes[c].name);
			pf->nwant++;
		}
	} else if (xml_child(&doc, 0, "DAV:", "allprop") < 0) {
		xml_free(&doc);
		return 400;
	}
	xml_free(&doc);
	return 0;
}

/* The body is in (or there was none): the 207 and its stream. */
static void propfind_answer(struct conn *c, const struct buf *body)
{
	struct propfind *pf = c->stream.s;
	int st = asked(pf, body);

	if (st) {
		hs_send_error(c, st, 0);
		return;
	}
	pf->chunked = c->hp->minor >= 1;
	if (!pf->chunked)
		c->keep = 0;
	c->stream.next = pf_next;
	hs_head_start(c, 207);
	buf_str(&c->out, "Content-Type: application/xml; charset=utf-8\r\n");
	if (pf->chunked)
		buf_str(&c->out, "Transfer-Encoding: chunked\r\n");
	hs_head_end(c);
}

static void proppatch_answer(struct conn *c, const struct buf *body);

/* The resource a PROPFIND or PROPPATCH is for, inside the root, as the
 * state of its answer (c->stream.s); NULL when the answer was sent. */
static struct propfind *dav_target(struct conn *c, const char *fs, const char *urlpath)
{
	struct propfind *pf;
	struct stat st;
	int in;

	if (stat(fs, &st) < 0) {
		hs_send_error(c, errno == ENOENT || errno == ENOTDIR ? 404 : 403, 0);
		return NULL;
	}
	in = fcache_inside(&c->w->cfg->root, fs);
	if (in != 1) {
		hs_send_error(c, in == 0 ? 403 : 404, 0);
		return NULL;
	}
	if (!(pf = calloc(1, sizeof *pf))) {
		hs_send_error(c, 500, 0);
		return NULL;
	}
	pf->g = c->w->cfg;
	snprintf(pf->fs, sizeof pf->fs, "%s", fs);
	pf->fs_len = strlen(pf->fs);
	while (pf->fs_len > 1 && pf->fs[pf->fs_len - 1] == '/')
		pf->fs[--pf->fs_len] = '\0';
	url_escape_path(&pf->href, urlpath);
	if (S_ISDIR(st.st_mode) && (!pf->href.len || pf->href.data[pf->href.len - 1] != '/'))
		buf_putc(&pf->href, '/');
	pf->href_len = pf->href.len;
	buf_putc(&pf->href, '\0');
	c->stream.s = pf;
	c->stream.free = pf_free;
	return pf;
}

/* The request's body into memory, then done(c, body). 0, or -1 (sent). */
static int take_body(struct conn *c, void (*done)(struct conn *c, const struct buf *body))
{
	int rc = hu_memory(&c->w->cfg->hu, DAV_BODY_MAX, &c->up);

	if (rc) {
		hs_send_error(c, rc, 0);
		return -1;
	}
	c->body_done = done;
	return 0;
}

static int has_body(const struct http_parser *hp)
{
	return hp->body == HTTP_BODY_CHUNKED || (hp->body == HTTP_BODY_LENGTH && hp->length);
}

void hs_dav_proppatch(struct conn *c, const char *fs, const char *urlpath)
{
	if (!has_body(c->hp)) {
		hs_send_error(c, 400, 0);
		return;
	}
	if (dav_target(c, fs, urlpath))
		take_body(c, proppatch_answer);
}

void hs_dav_propfind(struct conn *c, const char *fs, const char *urlpath)
{
	const struct http_parser *hp = c->hp;
	const char *depth = http_field(hp, "Depth");
	struct propfind *pf;

	if (depth && strcmp(depth, "0") && strcmp(depth, "1") && strcasecmp(depth, "infinity")) {
		hs_send_error(c, 400, 0); /* no Depth of RFC 4918 10.2 */
		return;
	}
	if (!depth || !strcasecmp(depth, "infinity")) { /* RFC 4918 9.1: may be refused */
		struct buf b = { NULL, 0, 0 };

		buf_printf(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\">"
			   "<D:propfind-finite-depth/></D:error>\n");
		c->keep = 0;
		hs_head_start(c, 403);
		buf_printf(&c->out, "Content-Type: application/xml; charset=utf-8\r\n"
			   "Content-Length: %zu\r\n", b.len);
		hs_head_end(c);
		buf_append(&c->out, b.data, b.len);
		buf_free(&b);
		return;
	}
	if (!(pf = dav_target(c, fs, urlpath)))
		return;
	pf->depth = strcmp(depth, "0") ? 1 : 0;
	if (!has_body(hp))
		propfind_answer(c, NULL);
	else
		take_body(c, propfind_answer);
}

#define DAV_PATCH_MAX 64

struct patch_op {
	char ns[256], name[128];
	int set, status;
	struct buf value;            /* set: the element; the old one, to undo */
	int had;
	struct buf old;
};

/* The operations of a propertyupdate, in order. -1: not one. */
static int patch_ops(const struct xml_doc *doc, struct patch_op *ops, int *n)
{
	int c, p, q;

	*n = 0;
	if (strcmp(doc->nodes[0].ns, "DAV:") || strcmp(doc->nodes[0].name, "propertyupdate"))
		return -1;
	for (c = doc->nodes[0].child; c >= 0; c = doc->nodes[c].next) {
		int set = !strcmp(doc->nodes[c].name, "set");

		if (strcmp(doc->nodes[c].ns, "DAV:") || (!set && strcmp(doc->nodes[c].name, "remove")))
			continue;
		if ((p = xml_child(doc, c, "DAV:", "prop")) < 0)
			return -1;
		for (q = doc->nodes[p].child; q >= 0; q = doc->nodes[q].next) {
			struct patch_op *op = &ops[*n];

			if (*n == DAV_PATCH_MAX)
				return -1;
			memset(op, 0, sizeof *op);
			snprintf(op->ns, sizeof op->ns, "%s", doc->nodes[q].ns);
			snprintf(op->name, sizeof op->name, "%s", doc->nodes[q].name);
			op->set = set;
			if (set)
				davp_serialize(doc, q, &op->value);
			(*n)++;
		}
	}
	return *n ? 0 : -1;
}

/* Apply them all or none (RFC 4918 9.2): a live property is protected
 * (403) and fails the rest (424); a store that fails undoes the rest. */
static void patch_apply(const char *fs, struct patch_op *ops, int n)
{
	int i, bad = -1, err;

	for (i = 0; i < n; i++)
		if (live_index(ops[i].ns, ops[i].name) >= 0)
			ops[bad = i].status = 403;
	for (i = 0; bad < 0 && i < n; i++) {
		ops[i].had = davp_get(fs, ops[i].ns, ops[i].name, &ops[i].old);
		if ((err = davp_put(fs, ops[i].ns, ops[i].name, ops[i].set ? &ops[i].value : NULL))) {
			ops[bad = i].status = err == ENOTSUP || err == ENOSPC || err == E2BIG ? 507 : 403;
			while (i-- > 0) /* undo what went before */
				davp_put(fs, ops[i].ns, ops[i].name, ops[i].had ? &ops[i].old : NULL);
		}
	}
	for (i = 0; i < n; i++)
		if (!ops[i].status)
			ops[i].status = bad < 0 ? 200 : 424;
}

static void proppatch_answer(struct conn *c, const struct buf *body)
{
	struct propfind *pf = c->stream.s; /* its fs and href */
	struct patch_op *ops = calloc(DAV_PATCH_MAX, sizeof *ops);
	struct buf b = { NULL, 0, 0 };
	struct xml_doc doc;
	char err[NT_ERR_LEN];
	int n = 0, i;

	if (!ops || !body->len || xml_parse(body->data, body->len, &doc, err) < 0) {
		free(ops);
		hs_send_error(c, ops ? 400 : 500, 0);
		return;
	}
	i = patch_ops(&doc, ops, &n);
	xml_free(&doc);
	if (i < 0) {
		hs_send_error(c, 400, 0);
	} else {
		patch_apply(pf->fs, ops, n);
		buf_printf(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus "
			   "xmlns:D=\"DAV:\"><D:response><D:href>");
		xml_text(&b, pf->href.data);
		buf_printf(&b, "</D:href>");
		for (i = 0; i < n; i++) {
			buf_printf(&b, "<D:propstat><D:prop>");
			empty_elem(&b, ops[i].ns, ops[i].name);
			buf_printf(&b, "</D:prop><D:status>HTTP/1.1 %d %s</D:status></D:propstat>",
				   ops[i].status, http_reason(ops[i].status));
		}
		buf_printf(&b, "</D:response></D:multistatus>\n");
		hs_head_start(c, 207);
		buf_printf(&c->out, "Content-Type: application/xml; charset=utf-8\r\n"
			   "Content-Length: %zu\r\n", b.len);
		hs_head_end(c);
		buf_append(&c->out, b.data, b.len);
	}
	for (i = 0; i < DAV_PATCH_MAX; i++) {
		buf_free(&ops[i].value);
		buf_free(&ops[i].old);
	}
	buf_free(&b);
	free(ops);
}

int hs_dav_may_write(struct conn *c, const char *fs, const char *urlpath, int deep)
{
	const char *ifh = http_field(c->hp, "If");
	char etag[64], lm[40];
	struct stat st;
	int have = 0, rc;

	if (!c->w->cfg->locks)
		return 0; /* no --webdav: nothing to look up, not even a stat */
	if (ifh && (have = stat(fs, &st) == 0)) /* an ETag only an If header asks for */
		fcache_validators(&st, etag, sizeof etag, lm, sizeof lm);
	rc = hs_lock_may_write(c->w->cfg->locks, urlpath, deep, ifh, have ? etag : NULL,
			       time(NULL));
	if (rc)
		hs_send_error(c, rc, 0);
	return rc ? -1 : 0;
}

/* The answer to a LOCK: the lock's discovery, and its token. */
static void lock_reply(struct conn *c, struct propfind *pf, int status, const char *tok)
{
	struct buf b = { NULL, 0, 0 };
	char url[URL_MAX];

	snprintf(url, sizeof url, "%s", pf->href.data);
	buf_printf(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:prop xmlns:D=\"DAV:\">"
		   "<D:lockdiscovery>");
	if (url_unescape(url) == 0)
		hs_lock_discovery(c->w->cfg->locks, url, pf->href.data, &b, time(NULL));
	buf_printf(&b, "</D:lockdiscovery></D:prop>\n");
	hs_head_start(c, status);
	buf_printf(&c->out, "Lock-Token: <%s>\r\nContent-Type: application/xml; charset=utf-8\r\n"
		   "Content-Length: %zu\r\n", tok, b.len);
	hs_head_end(c);
	buf_append(&c->out, b.data, b.len);
	buf_free(&b);
}

/* A new lock from the lockinfo body: made, and the resource too (empty)
 * when it did not exist. */
static void lock_answer(struct conn *c, const struct buf *body)
{
	struct propfind *pf = c->stream.s;
	const char *depth = http_field(c->hp, "Depth");
	struct buf owner = { NULL, 0, 0 };
	struct xml_doc doc;
	char err[NT_ERR_LEN], tok[64], url[URL_MAX];
	int scope, o, shared, st = 200, fd;

	if (xml_parse(body->data, body->len, &doc, err) < 0) {
		hs_send_error(c, 400, 0);
		return;
	}
	scope = xml_child(&doc, 0, "DAV:", "lockscope");
	shared = scope >= 0 && xml_child(&doc, scope, "DAV:", "shared") >= 0;
	if (strcmp(doc.nodes[0].name, "lockinfo") || scope < 0 ||
	    (!shared && xml_child(&doc, scope, "DAV:", "exclusive") < 0)) {
		xml_free(&doc);
		hs_send_error(c, 400, 0);
		return;
	}
	if ((o = xml_child(&doc, 0, "DAV:", "owner")) >= 0)
		davp_serialize(&doc, o, &owner);
	xml_free(&doc);
	if (buf_putc(&owner, '\0') < 0)
		buf_free(&owner);
	else if (owner.len > 1000) /* an owner too long to keep is left out */
		owner.data[0] = '\0';
	snprintf(url, sizeof url, "%s", pf->href.data);
	if (url_unescape(url) < 0 ||
	    (st = hs_lock_new(c->w->cfg->locks, url, !depth || strcmp(depth, "0"), shared,
			      owner.data, hs_lock_timeout(http_field(c->hp, "Timeout")),
			      time(NULL), tok))) {
		buf_free(&owner);
		hs_send_error(c, st ? st : 400, 0);
		return;
	}
	buf_free(&owner);
	st = 200;
	if ((fd = open(pf->fs, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)) >= 0) {
		close(fd); /* a lock on an unmapped URL makes an empty resource */
		st = 201;
	} else if (errno != EEXIST) {
		char held[70];
		int code = errno == ENOENT || errno == ENOTDIR ? 409 : 403;

		snprintf(held, sizeof held, "<%s>", tok);
		hs_lock_remove(c->w->cfg->locks, url, held);
		hs_send_error(c, code, 0);
		return;
	}
	lock_reply(c, pf, st, tok);
}

void hs_dav_lock(struct conn *c, const char *fs, const char *urlpath)
{
	const char *depth = http_field(c->hp, "Depth");
	struct propfind *pf;
	char tok[64], url[URL_MAX];
	int rc;

	if (depth && strcmp(depth, "0") && strcasecmp(depth, "infinity")) {
		hs_send_error(c, 400, 0); /* a lock is of Depth 0 or infinity */
		return;
	}
	if (!(pf = calloc(1, sizeof *pf))) {
		hs_send_error(c, 500, 0);
		return;
	}
	pf->g = c->w->cfg;
	snprintf(pf->fs, sizeof pf->fs, "%s", fs);
	url_escape_path(&pf->href, urlpath);
	buf_putc(&pf->href, '\0');
	c->stream.s = pf;
	c->stream.free = pf_free;
	if (has_body(c->hp)) {
		take_body(c, lock_answer);
		return;
	}
	snprintf(url, sizeof url, "%s", urlpath); /* no body: a refresh */
	rc = hs_lock_refresh(c->w->cfg->locks, url, http_field(c->hp, "If"),
			     hs_lock_timeout(http_field(c->hp, "Timeout")), time(NULL), tok);
	if (rc)
		hs_send_error(c, rc, 0);
	else
		lock_reply(c, pf, 200, tok);
}

void hs_dav_unlock(struct conn *c, const char *urlpath)
{
	int rc = hs_lock_remove(c->w->cfg->locks, urlpath, http_field(c->hp, "Lock-Token"));

	if (rc) {
		hs_send_error(c, rc, 0);
		return;
	}
	hs_head_start(c, 204);
	hs_head_end(c);
}
