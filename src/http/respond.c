/* http-serve's responses: files (ranges, validators, sendfile set-up),
 * listings, errors, OPTIONS, and the start of uploads and deletions. */
#include "nettool/http/dav.h"
#include "nettool/http/dav_lock.h"
#include "nettool/http/listing.h"
#include "nettool/http/tar_stream.h"
#include "nettool/http/serve_conn.h"
#include "nettool/proto/url.h"
#include "nettool/base/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOTSENT_LOWAT (32u << 10)

/* Decimal digits of v into out (24 bytes). */
static void u64_str(uint64_t v, char *out)
{
	char tmp[24];
	size_t n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*out++ = tmp[--n];
	*out = '\0';
}

/* The status for a path that could not be looked up or opened. */
static int lookup_status(int err)
{
	if (err == ENOENT || err == ENOTDIR)
		return 404;
	if (err == EMFILE || err == ENFILE || err == ENOMEM)
		return 503; /* out of descriptors or memory: try again */
	return 403;
}

/* A small body goes out with the head in one write. */
static int inline_body(struct conn *c, int fd)
{
	size_t n = (size_t)c->file_left;
	ssize_t got;

	if (buf_reserve(&c->out, n) < 0)
		return -1;
	do
		got = pread(fd, c->out.data + c->out.len, n, c->file_off);
	while (got < 0 && errno == EINTR);
	if (got != (ssize_t)n)
		return -1;
	c->out.len += n;
	c->file_left = 0;
	return 0;
}

/*
 * A worker that keeps to one CPU shares it with the client of each of its
 * connections (steering put them together). For small responses that is
 * what makes them fast; for a large body (either way), sender and receiver on one CPU
 * take turns where they could run side by side (curl, 1 GiB: 3.2-3.8 GB/s
 * against 4.2-5.1 when free). So while it sends one, a worker may run
 * anywhere.
 */
void hs_bulk_set(struct conn *c, int on)
{
	struct hs_worker *s = c->w;

	if (c->bulk == on || s->cpu < 0)
		return;
	c->bulk = on;
	s->nbulk += on ? 1 : -1;
	if (on && s->nbulk == 1)
		util_pin_cpu(-1);
	else if (!on && s->nbulk == 0)
		util_pin_cpu(s->cpu);
}

/*
 * The socket counts as writable only while less than NOTSENT_LOWAT waits
 * unsent in it: the worker wakes once the client has taken most of what
 * was sent, not at each acknowledgement, and does not steal the CPU from a
 * reader in small turns. 1 GiB, wrk -t2 -c4, server in a session of its
 * own (as a service is), three turns each: 2.52 GB/s without it, 4.09 with
 * 32 KiB; 16 and 64 KiB close, 128 KiB and more as without.
 */
static void notsent_lowat(struct conn *c)
{
#ifdef TCP_NOTSENT_LOWAT
	int v = NOTSENT_LOWAT;

	if (!c->lowat)
		c->lowat = setsockopt(c->base.io.fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof v) == 0;
#else
	(void)c;
#endif
}

/* The body of a file response after its head: with the head when it is
 * in memory or small, else from a descriptor of its own. fd is the file
 * (cfd when the cache's), data its bytes when cached. */
static void file_body(struct conn *c, int fd, int cfd, const char *data)
{
	if (c->file_left && data) {
		buf_append(&c->out, data + c->file_off, (size_t)c->file_left);
		c->file_left = 0;
	} else if (c->file_left && c->file_left <= FCACHE_INLINE_MAX) {
		if (inline_body(c, fd) < 0) {
			c->keep = 0; /* could not read it: the response is cut short */
			c->file_left = 0;
		}
	} else if (c->file_left) {
		c->file = cfd >= 0 ? dup(fd) : fd; /* the cache keeps its own */
		if (c->file < 0) {
			c->keep = 0;
			c->file_left = 0;
		}
		if (cfd < 0 || c->file >= 0)
			fd = -1;
		if (c->file >= 0 && c->file_left > BULK_MIN)
			hs_bulk_set(c, 1);
		if (c->file >= 0)
			notsent_lowat(c);
	}
	if (fd >= 0 && fd != cfd)
		close(fd);
}

/* 304 when the validators match, 416 for a range (r < 0) that cannot be
 * satisfied: 1 when answered so. */
static int answered_early(struct conn *c, const char *etag, const char *lm,
			  const struct stat *st, int r)
{
	const char *inm = http_field(c->hp, "If-None-Match");
	const char *ims = http_field(c->hp, "If-Modified-Since");

	if ((inm && http_etag_match(inm, etag)) ||
	    (!inm && ims && http_date_parse(ims) >= st->st_mtime)) {
		hs_head_start(c, 304);
		buf_printf(&c->out, "ETag: %s\r\nLast-Modified: %s\r\n", etag, lm);
		hs_head_end(c);
		return 1;
	}
	if (r >= 0)
		return 0;
	hs_head_start(c, 416);
	buf_printf(&c->out, "Content-Range: bytes */%llu\r\nContent-Length: 0\r\n",
		   (unsigned long long)st->st_size);
	hs_head_end(c);
	return 1;
}

/* RFC 9110 13.1.5: a Range counts only when If-Range, if any, names the
 * current strong entity tag or Last-Modified exactly; else the whole
 * file goes, so a resumed download never joins two versions. */
static int if_range_ok(const char *ir, const char *etag, const char *lm)
{
	if (!ir)
		return 1;
	if (ir[0] == '"')
		return !strcmp(ir, etag);
	return strncmp(ir, "W/", 2) && !strcmp(ir, lm);
}

/* e: the file's cache entry (its descriptor, validators and, when small,
 * its bytes), or NULL */
static void serve_file(struct conn *c, const char *fs, const struct stat *st, int head_only,
		       const struct fent *e)
{
	const char *range = http_field(c->hp, "Range"), *data = e ? e->data : NULL;
	char etag_buf[64], lm_buf[40], num[24];
	const char *etag = etag_buf, *lm = lm_buf;
	uint64_t size = (uint64_t)st->st_size, from = 0, to = size ? size - 1 : 0;
	int r = 0, fd, cfd = e ? e->fd : -1;

	if (e) {
		etag = e->etag;
		lm = e->lm;
	} else {
		fcache_validators(st, etag_buf, sizeof etag_buf, lm_buf, sizeof lm_buf);
	}
	if (range && if_range_ok(http_field(c->hp, "If-Range"), etag, lm))
		r = http_parse_range(range, size, &from, &to);
	if (answered_early(c, etag, lm, st, r))
		return;
	fd = head_only ? -1 : cfd >= 0 ? cfd : open(fs, O_RDONLY | O_CLOEXEC);
	if (!head_only && fd < 0) {
		hs_send_error(c, lookup_status(errno), head_only);
		return;
	}
	hs_head_start(c, r > 0 ? 206 : 200);
	u64_str(size ? to - from + 1 : 0, num);
	buf_str(&c->out, "Content-Type: ");
	buf_str(&c->out, e ? e->mime : fcache_mime(fs));
	buf_str(&c->out, "\r\nContent-Length: ");
	buf_str(&c->out, num);
	buf_str(&c->out, "\r\nLast-Modified: ");
	buf_str(&c->out, lm);
	buf_str(&c->out, "\r\nETag: ");
	buf_str(&c->out, etag);
	buf_str(&c->out, "\r\nAccept-Ranges: bytes\r\n");
	if (r > 0)
		buf_printf(&c->out, "Content-Range: bytes %llu-%llu/%llu\r\n",
			   (unsigned long long)from, (unsigned long long)to, (unsigned long long)size);
	hs_head_end(c);
	c->file_off = (off_t)from;
	c->file_left = head_only || !size ? 0 : to - from + 1;
	file_body(c, fd, cfd, data);
}

static void serve_listing(struct conn *c, const char *fs, const char *urlpath, int head_only)
{
	struct buf body = { NULL, 0, 0 };
	const char *q = strchr(c->hp->target, '?');
	struct listing_order o;

	listing_order_parse(q ? q + 1 : NULL, &o);
	if (listing_page(&body, fs, urlpath, &o, c->w->cfg->upload, HU_TMP_PREFIX) < 0) {
		buf_free(&body);
		hs_send_error(c, 403, head_only);
		return;
	}
	hs_send_html(c, 200, &body, head_only);
}

static int is_known_method(const char *m)
{
	static const char *const known[] = { "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
					     "TRACE", "CONNECT", "MKCOL", "PROPFIND", "PROPPATCH",
					     "COPY", "MOVE", "LOCK", "UNLOCK" };
	size_t i;

	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		if (!strcmp(m, known[i]))
			return 1;
	return 0;
}

static int lookup(struct conn *c, const char *fs, struct stat *st, int *in,
		  const struct fent **e)
{
	return fcache_lookup(&c->w->cache, loop_now(c->base.srv->lp), fs, st, in, e);
}

/* GET /folder/?tar */
static int wants_tar(const char *target)
{
	const char *q = strchr(target, '?');

	return q && (!strcmp(q + 1, "tar") || !strncmp(q + 1, "tar&", 4));
}

/* The folder as one tar, streamed: chunked (HTTP/1.1), or until the
 * close. Its members are under the folder's own name. */
static void serve_tar(struct conn *c, const char *fs, const char *urlpath, int head_only)
{
	const struct hs_cfg *g = c->w->cfg;
	const char *end = urlpath + strlen(urlpath), *seg;
	char top[256];
	int chunked = c->hp->minor >= 1;

	while (end > urlpath + 1 && end[-1] == '/')
		end--;
	for (seg = end; seg > urlpath && seg[-1] != '/'; seg--)
		;
	snprintf(top, sizeof top, "%.*s", (int)(end - seg), seg);
	if (!top[0] || !strcmp(top, "/")) {
		const char *base = strrchr(g->root.path, '/');

		snprintf(top, sizeof top, "%s", base && base[1] ? base + 1 : "files");
	}
	if (!head_only) {
		struct hs_tar *t = hs_tar_new(&g->root, fs, top, g->follow, chunked, HU_TMP_PREFIX);

		if (!t) {
			hs_send_error(c, lookup_status(errno), 0);
			return;
		}
		c->stream.next = hs_tar_next_fn;
		c->stream.free = hs_tar_free_fn;
		c->stream.s = t;
	}
	if (!chunked)
		c->keep = 0;
	hs_head_start(c, 200);
	buf_str(&c->out, "Content-Type: application/x-tar\r\nContent-Disposition: attachment; "
		"filename*=UTF-8''");
	url_escape(&c->out, top);
	buf_str(&c->out, ".tar\r\n");
	if (chunked)
		buf_str(&c->out, "Transfer-Encoding: chunked\r\n");
	hs_head_end(c);
}

/* A directory: the slash form of its URL, its index.html, or a listing. */
static void serve_dir(struct conn *c, const char *fs, const char *urlpath, int slash_end,
		      int head_only)
{
	char index[PATH_MAX + URL_MAX + 16];
	const struct fent *e;
	struct stat ist;
	int in;

	if (!slash_end && strcmp(urlpath, "/")) {
		hs_head_start(c, 301);
		buf_printf(&c->out, "Location: ");
		url_escape_path(&c->out, urlpath);
		buf_printf(&c->out, "/\r\nContent-Length: 0\r\n");
		hs_head_end(c);
		return;
	}
	if (!c->w->cfg->no_list && wants_tar(c->hp->target)) {
		serve_tar(c, fs, urlpath, head_only);
		return;
	}
	snprintf(index, sizeof index, "%s/index.html", fs);
	if (lookup(c, index, &ist, &in, &e) == 0 && S_ISREG(ist.st_mode) && in == 1)
		serve_file(c, index, &ist, head_only, e);
	else if (c->w->cfg->no_list)
		hs_send_error(c, 403, head_only);
	else
		serve_listing(c, fs, urlpath, head_only);
}

/* RFC 9110 7.2: one Host, a valid host[:port]. */
static int host_ok(const struct http_parser *hp)
{
	const char *v = NULL, *p;
	size_t i;
	int n = 0;

	for (i = 0; i < hp->nfields; i++)
		if (!strcasecmp(hp->fields[i].name, "Host")) {
			v = hp->fields[i].value;
			n++;
		}
	if (n == 0)
		return hp->minor == 0;
	if (n > 1 || !*v)
		return 0; /* an empty Host names no host */
	p = v;
	if (*p == '[') { /* an IP literal */
		p += strspn(p + 1, "0123456789abcdefABCDEF:.") + 1;
		if (*p++ != ']' || p == v + 2)
			return 0;
	} else {
		for (; *p && *p != ':'; p++) {
			unsigned char ch = (unsigned char)*p;

			if (ch == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2]))
				p += 2;
			else if (!isalnum(ch) && !strchr("-._~!$&'()*+,;=", ch))
				return 0;
		}
	}
	if (*p == ':')
		p += 1 + strspn(p + 1, "0123456789");
	return *p == '\0';
}

/* A request target: no fragment (RFC 9112 3.2 has none) and no raw byte
 * past ASCII (non-ASCII is sent percent-encoded). */
static int target_ok(const char *t)
{
	for (; *t; t++)
		if (*t == '#' || (unsigned char)*t >= 0x80)
			return 0;
	return 1;
}

/* Whether some segment of a decoded path starts with '.'. */
static int has_dot_segment(const char *urlpath)
{
	return urlpath[0] == '.' || strstr(urlpath, "/.") != NULL;
}

/* A GET or HEAD. */
static void serve_get(struct conn *c, const char *fs, const char *urlpath, int slash_end,
		      int head_only)
{
	const struct fent *e;
	struct stat st;
	int in;

	if (lookup(c, fs, &st, &in, &e) < 0) {
		if (errno == ENOENT && !strcmp(urlpath, "/favicon.ico")) {
			hs_head_start(c, 204); /* every browser asks: no icon, no error */
			hs_head_end(c);
			return;
		}
		hs_send_error(c, lookup_status(errno), head_only);
		return;
	}
	if (!in) {
		hs_send_error(c, 403, head_only);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		serve_dir(c, fs, urlpath, slash_end, head_only);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		hs_send_error(c, 403, head_only);
		return;
	}
	serve_file(c, fs, &st, head_only, e);
}

/* Where an upload may write: a directory inside the root (symlinks or
 * not), by a path of no dotfile unless --dotfiles. 0, or a status. */
static int writable_dir(struct conn *c, const char *dir, const char *urlpath)
{
	const struct hs_cfg *g = c->w->cfg;
	struct stat st;
	int in;

	if (has_dot_segment(urlpath) && !g->hu.dotfiles)
		return 403;
	if (stat(dir, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 409 : lookup_status(errno);
	if (!S_ISDIR(st.st_mode))
		return 409;
	in = fcache_inside(&g->root, dir);
	return in == 1 ? 0 : in == 0 ? 403 : lookup_status(errno);
}

static void start_put(struct conn *c, char *fs, const char *urlpath, int slash_end)
{
	char *slash = strrchr(fs, '/');
	int st;

	if (slash_end || !strcmp(urlpath, "/") || !slash) {
		hs_send_error(c, 409, 0); /* a directory */
		return;
	}
	*slash = '\0';
	st = writable_dir(c, fs, urlpath);
	*slash = '/';
	if (st == 0)
		st = hu_put(&c->w->cfg->hu, fs, &c->up);
	if (st)
		hs_send_error(c, st, 0);
}

static void start_form(struct conn *c, const char *fs, const char *urlpath)
{
	int st = writable_dir(c, fs, urlpath);

	if (st == 0)
		st = hu_form(&c->w->cfg->hu, fs, http_field(c->hp, "Content-Type"), &c->up);
	if (st == 409) /* a POST names a directory, not a file */
		st = 404;
	if (st)
		hs_send_error(c, st, 0);
}

static void do_delete(struct conn *c, char *fs, const char *urlpath)
{
	char *dir, *slash;
	struct stat st;
	size_t n = strlen(fs);
	int code = 0;

	while (n > 1 && fs[n - 1] == '/')
		fs[--n] = '\0';
	dir = strdup(fs);
	slash = dir ? strrchr(dir, '/') : NULL;
	if (!strcmp(urlpath, "/")) {
		code = 403; /* never the root */
	} else if (!slash) {
		code = 500;
	} else {
		*slash = '\0';
		code = writable_dir(c, dir, urlpath);
	}
	free(dir);
	if (!code && lstat(fs, &st) < 0)
		code = lookup_status(errno);
	if (!code && S_ISDIR(st.st_mode) && c->w->cfg->webdav) {
		struct dav_fails fails = { { NULL, 0, 0 }, { 0 }, 0 };
		int err = hs_dav_rmtree(fs, urlpath, &fails); /* WebDAV deletes a folder whole */

		if (err < 0) { /* some members stay: which, and why */
			hs_dav_fails_reply(c, &fails);
			return;
		}
		buf_free(&fails.hrefs);
		code = !err ? 0 : err == ENOENT ? 404 : err == EACCES || err == EPERM ? 403 : 500;
	} else if (!code && !S_ISREG(st.st_mode)) {
		code = S_ISDIR(st.st_mode) ? 409 : 403;
	} else if (!code && unlink(fs) < 0) {
		code = lookup_status(errno);
	}
	if (code) {
		hs_send_error(c, code, 0);
		return;
	}
	if (c->w->cfg->locks)
		hs_lock_drop(c->w->cfg->locks, urlpath); /* what was locked is gone */
	hs_head_start(c, 204);
	hs_head_end(c);
}

/* MKCOL (RFC 4918 9.3): a folder, by the names uploads may take. */
static void do_mkcol(struct conn *c, char *fs, const char *urlpath)
{
	const struct http_parser *hp = c->hp;
	size_t n = strlen(fs);
	char *slash;
	int code;

	if (hp->body == HTTP_BODY_CHUNKED || (hp->body == HTTP_BODY_LENGTH && hp->length)) {
		hs_send_error(c, 415, 0); /* no body is defined for it */
		return;
	}
	while (n > 1 && fs[n - 1] == '/')
		fs[--n] = '\0';
	if (!(slash = strrchr(fs, '/')) || !strcmp(urlpath, "/")) {
		hs_send_error(c, 405, 0);
		return;
	}
	*slash = '\0';
	code = writable_dir(c, fs, urlpath);
	*slash = '/';
	if (!code && !hu_name_ok(slash + 1, c->w->cfg->hu.dotfiles))
		code = 403;
	if (!code && mkdir(fs, 0777) < 0)
		code = errno == EEXIST ? 405 : errno == ENOENT ? 409 : lookup_status(errno);
	if (code) {
		hs_send_error(c, code, 0);
		return;
	}
	hs_head_start(c, 201);
	buf_str(&c->out, "Content-Length: 0\r\n");
	hs_head_end(c);
}

static void send_options(struct conn *c)
{
	hs_head_start(c, 200);
	hs_allow_header(c);
	buf_str(&c->out, "Content-Length: 0\r\n");
	hs_head_end(c);
}

/* With accounts: may this request go on? Else its answer is sent (401,
 * 403 or 429) and a wrong password logged with the peer. */
static int authorized(struct conn *c, const char *urlpath, int write)
{
	struct hs_cfg *g = c->w->cfg;
	char user[128], addr[NET_ADDR_LEN], *colon;
	int failed;
	enum hs_auth_verdict v;

	if (!g->auth.n)
		return 1;
	snprintf(addr, sizeof addr, "%s", c->base.peer);
	if ((colon = strrchr(addr, ':'))) /* ADDR:PORT or [ADDR]:PORT: the address */
		*colon = '\0';
	v = hs_auth_check(&g->auth, http_field(c->hp, "Authorization"), urlpath, write, addr,
			  time(NULL), user, sizeof user, &failed);
	if (failed)
		fprintf(g->log, "%s: authentication failed for user '%.64s'\n", addr, user);
	if (v == AUTH_OK)
		return 1;
	hs_send_error(c, v == AUTH_NEEDED ? 401 : v == AUTH_FORBIDDEN ? 403 : 429,
		      !strcmp(c->hp->method, "HEAD"));
	return 0;
}

/* COPY and MOVE: the destination is written, so it is authorized too. */
static void copy_or_move(struct conn *c, char *fs, const char *urlpath, int move)
{
	char durl[URL_MAX + 2], dfs[PATH_MAX + URL_MAX];
	int st = hs_dav_destination(c, dfs, sizeof dfs, durl, sizeof durl);

	if (st)
		hs_send_error(c, st, 0);
	else if (authorized(c, durl, 1) && hs_dav_may_write(c, dfs, durl, 1) == 0)
		hs_dav_copy_move(c, fs, urlpath, dfs, durl, move);
}

/* Build the response to the request whose head hp holds, or start
 * taking its body in (c->up). */
void hs_respond(struct conn *c)
{
	struct http_parser *hp = c->hp;
	const struct hs_cfg *g = c->w->cfg;
	const char *conn = http_field(hp, "Connection"), *m = hp->method;
	char urlpath[URL_MAX + 2], fs[PATH_MAX + URL_MAX];
	int head_only = !strcmp(m, "HEAD"), get = head_only || !strcmp(m, "GET");
	int slash_end, st_code;

	c->keep = hp->minor >= 1 ? !http_has_token(conn, "close") : http_has_token(conn, "keep-alive");
	if (!host_ok(hp) || !target_ok(hp->target)) {
		hs_send_error(c, 400, head_only);
		return;
	}
	if (!get && !(g->webdav && (!strcmp(m, "PROPFIND") || !strcmp(m, "COPY") ||
				    !strcmp(m, "MOVE") || !strcmp(m, "PROPPATCH") ||
				    !strcmp(m, "LOCK") || !strcmp(m, "UNLOCK"))) &&
	    !(g->upload && (!strcmp(m, "PUT") || !strcmp(m, "POST") ||
				     !strcmp(m, "MKCOL") ||
				     (g->allow_delete && !strcmp(m, "DELETE")))) &&
	    strcmp(m, "OPTIONS")) {
		hs_send_error(c, is_known_method(m) ? 405 : 501, 0);
		return;
	}
	if (!strcmp(m, "OPTIONS") && !strcmp(hp->target, "*")) {
		send_options(c);
		return;
	}
	st_code = url_map_path(g->root.path, hp->target, urlpath, sizeof urlpath, fs,
			       sizeof fs, &slash_end);
	if (st_code)
		hs_send_error(c, st_code, head_only);
	else if (!authorized(c, urlpath, !get && strcmp(m, "OPTIONS") && strcmp(m, "PROPFIND") &&
				 strcmp(m, "COPY")))
		;
	else if (!strcmp(m, "PROPFIND"))
		hs_dav_propfind(c, fs, urlpath);
	else if (!strcmp(m, "LOCK"))
		hs_dav_lock(c, fs, urlpath);
	else if (!strcmp(m, "UNLOCK"))
		hs_dav_unlock(c, urlpath);
	else if (!get && strcmp(m, "OPTIONS") && strcmp(m, "COPY") &&
		 hs_dav_may_write(c, fs, urlpath, !strcmp(m, "DELETE") || !strcmp(m, "MOVE")) < 0)
		; /* locked (423), or the If header is false (412) */
	else if (!strcmp(m, "PROPPATCH"))
		hs_dav_proppatch(c, fs, urlpath);
	else if (!strcmp(m, "COPY") || !strcmp(m, "MOVE"))
		copy_or_move(c, fs, urlpath, !strcmp(m, "MOVE"));
	else if (!strcmp(m, "OPTIONS"))
		send_options(c);
	else if (get)
		serve_get(c, fs, urlpath, slash_end, head_only);
	else if (!strcmp(m, "PUT"))
		start_put(c, fs, urlpath, slash_end);
	else if (!strcmp(m, "POST"))
		start_form(c, fs, urlpath);
	else if (!strcmp(m, "MKCOL"))
		do_mkcol(c, fs, urlpath);
	else
		do_delete(c, fs, urlpath);
}

/* ---- connections ---- */
