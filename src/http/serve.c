#ifdef __linux__
#define _GNU_SOURCE /* sendfile */
#include <sys/sendfile.h>
#endif
#include "nettool/http/serve.h"
#include "nettool/proto/url.h"
#include "nettool/base/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define IN_BUF (16 * 1024)
/* Per sendfile call, with NOTSENT_LOWAT below: curl, 1 GiB, server in a
 * session of its own, five turns each: 32 KiB 4.13 GB/s, 64 KiB 4.57,
 * 128 KiB 4.68, 256 KiB 5.76 (wrk -c4: 4.31 against 3.99). At most
 * SENDFILE_BUDGET per readiness event, so that one fast download cannot
 * hold up the other connections of its worker. */
#define SENDFILE_CHUNK (256u << 10)
#define SENDFILE_BUDGET (1024u << 10)
#define NOTSENT_LOWAT (32u << 10)
#define OUT_START 2048            /* a head and a small body */
#define OUT_POOLED (16 * 1024)    /* larger output buffers are not kept */
#define BULK_MIN (1u << 20) /* a body larger is sent from any CPU */
#define UPLOAD_BUDGET (1u << 20) /* of a body taken in per readiness event */
#define BODY_READ (256u << 10)

struct conn {
	struct server_conn base;
	struct hs_worker *w;
	/* held only while a request is under way, so that an idle keep-alive
	 * connection costs little more than this struct */
	struct http_parser *hp;
	char *in;                 /* IN_BUF bytes */
	size_t in_len;
	struct buf out;           /* response head, or a whole small response */
	size_t out_off;
	int file;                 /* body from a file, or -1 */
	off_t file_off;
	uint64_t file_left;
	int keep;                 /* keep the connection after this response */
	int reading_body;         /* reading a request body: stored or dropped */
	uint64_t body_in;         /* its bytes so far */
	struct hs_upload *up;     /* where it is stored, or NULL */
	int head_started;         /* a byte of the next request has come */
	/* for the access log */
	char line[512];
	int status;
	uint64_t sent;
	uint64_t head_sent;     /* of sent, the heads' bytes */
	uint64_t interim;       /* of those, 100 Continue's */
	int bulk;               /* a large body under way: see bulk_set */
	int lowat;              /* TCP_NOTSENT_LOWAT is set */
};

/* The Date of every response, formatted once a second. */
static const char *date_now(struct hs_worker *w)
{
	time_t now = time(NULL);

	if (now != w->date_at) {
		http_date_format(now, w->date, sizeof w->date);
		w->date_at = now;
	}
	return w->date;
}

/* Text safe for the access log: controls and quotes escaped. */
static void log_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in && o + 5 < len; in++) {
		unsigned char c = (unsigned char)*in;

		if (c < 32 || c >= 127 || c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

/* ---- responses ---- */

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

static void buf_str(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

static void head_start(struct conn *c, int status)
{
	char code[4] = { (char)('0' + status / 100), (char)('0' + status / 10 % 10),
			 (char)('0' + status % 10), ' ' };

	c->status = status;
	c->head_sent = c->interim;
	if (!c->out.data && c->w->nspare_out)
		c->out = c->w->spare_out[--c->w->nspare_out];
	c->out.len = c->out_off = 0;
	buf_reserve(&c->out, OUT_START);
	buf_str(&c->out, "HTTP/1.1 ");
	buf_append(&c->out, code, 4);
	buf_str(&c->out, http_reason(status));
	buf_str(&c->out, "\r\nDate: ");
	buf_str(&c->out, date_now(c->w));
	buf_str(&c->out, "\r\nServer: nettool/" NT_VERSION "\r\n");
}

static void head_end(struct conn *c)
{
	buf_str(&c->out, c->keep ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
	c->head_sent += c->out.len; /* the head is all of out so far */
}

/* The methods this server answers for a path. */
static void allow_header(struct conn *c)
{
	const struct hs_cfg *g = c->w->cfg;

	buf_printf(&c->out, "Allow: GET, HEAD, OPTIONS%s%s\r\n", g->upload ? ", PUT, POST" : "",
		   g->upload && g->allow_delete ? ", DELETE" : "");
}

/* Respond with an HTML body (freed here). */
static void send_html(struct conn *c, int status, struct buf *body, int head_only)
{
	head_start(c, status);
	if (status == 405)
		allow_header(c);
	buf_printf(&c->out, "Content-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n",
		   body->len);
	head_end(c);
	if (!head_only)
		buf_append(&c->out, body->data, body->len);
	buf_free(body);
}

/* A small HTML page (or the --404 page) for an error status. */
static void send_error(struct conn *c, int status, int head_only)
{
	const struct hs_cfg *g = c->w->cfg;
	struct buf body = { NULL, 0, 0 };

	if (status >= 400 && status != 404 && status != 405 && status != 416)
		c->keep = 0;
	if (status == 404 && g->page404) {
		int fd = open(g->page404, O_RDONLY | O_CLOEXEC);
		char tmp[4096];
		ssize_t n;

		while (fd >= 0 && (n = read(fd, tmp, sizeof tmp)) > 0 && body.len < 1 << 20)
			buf_append(&body, tmp, (size_t)n);
		if (fd >= 0)
			close(fd);
	}
	if (!body.len)
		buf_printf(&body, "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
			   "<body><h1>%d %s</h1></body></html>\n", status, http_reason(status),
			   status, http_reason(status));
	send_html(c, status, &body, head_only);
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
static void bulk_set(struct conn *c, int on)
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
			bulk_set(c, 1);
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
		head_start(c, 304);
		buf_printf(&c->out, "ETag: %s\r\nLast-Modified: %s\r\n", etag, lm);
		head_end(c);
		return 1;
	}
	if (r >= 0)
		return 0;
	head_start(c, 416);
	buf_printf(&c->out, "Content-Range: bytes */%llu\r\nContent-Length: 0\r\n",
		   (unsigned long long)st->st_size);
	head_end(c);
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
		send_error(c, lookup_status(errno), head_only);
		return;
	}
	head_start(c, r > 0 ? 206 : 200);
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
	head_end(c);
	c->file_off = (off_t)from;
	c->file_left = head_only || !size ? 0 : to - from + 1;
	file_body(c, fd, cfd, data);
}

static void serve_listing(struct conn *c, const char *fs, const char *urlpath, int head_only)
{
	struct buf body = { NULL, 0, 0 };

	if (fcache_listing(&body, fs, urlpath, c->w->cfg->upload) < 0) {
		buf_free(&body);
		send_error(c, 403, head_only);
		return;
	}
	send_html(c, 200, &body, head_only);
}

static int is_known_method(const char *m)
{
	static const char *const known[] = { "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
					     "TRACE", "CONNECT" };
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

/* A directory: the slash form of its URL, its index.html, or a listing. */
static void serve_dir(struct conn *c, const char *fs, const char *urlpath, int slash_end,
		      int head_only)
{
	char index[PATH_MAX + URL_MAX + 16];
	const struct fent *e;
	struct stat ist;
	int in;

	if (!slash_end && strcmp(urlpath, "/")) {
		head_start(c, 301);
		buf_printf(&c->out, "Location: ");
		url_escape_path(&c->out, urlpath);
		buf_printf(&c->out, "/\r\nContent-Length: 0\r\n");
		head_end(c);
		return;
	}
	snprintf(index, sizeof index, "%s/index.html", fs);
	if (lookup(c, index, &ist, &in, &e) == 0 && S_ISREG(ist.st_mode) && in == 1)
		serve_file(c, index, &ist, head_only, e);
	else if (c->w->cfg->no_list)
		send_error(c, 403, head_only);
	else
		serve_listing(c, fs, urlpath, head_only);
}

/* RFC 9110 7.2: one Host, a valid host[:port] (empty is allowed). */
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
	if (n > 1)
		return 0;
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
		send_error(c, lookup_status(errno), head_only);
		return;
	}
	if (!in) {
		send_error(c, 403, head_only);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		serve_dir(c, fs, urlpath, slash_end, head_only);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		send_error(c, 403, head_only);
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
		send_error(c, 409, 0); /* a directory */
		return;
	}
	*slash = '\0';
	st = writable_dir(c, fs, urlpath);
	*slash = '/';
	if (st == 0)
		st = hu_put(&c->w->cfg->hu, fs, &c->up);
	if (st)
		send_error(c, st, 0);
}

static void start_form(struct conn *c, const char *fs, const char *urlpath)
{
	int st = writable_dir(c, fs, urlpath);

	if (st == 0)
		st = hu_form(&c->w->cfg->hu, fs, http_field(c->hp, "Content-Type"), &c->up);
	if (st == 409) /* a POST names a directory, not a file */
		st = 404;
	if (st)
		send_error(c, st, 0);
}

static void do_delete(struct conn *c, const char *fs, const char *urlpath)
{
	char *dir = strdup(fs), *slash = dir ? strrchr(dir, '/') : NULL;
	struct stat st;
	int code = 0;

	if (!slash) {
		code = 500;
	} else {
		*slash = '\0';
		code = writable_dir(c, dir, urlpath);
	}
	free(dir);
	if (!code && lstat(fs, &st) < 0)
		code = lookup_status(errno);
	if (!code && !S_ISREG(st.st_mode))
		code = S_ISDIR(st.st_mode) ? 409 : 403;
	if (!code && unlink(fs) < 0)
		code = lookup_status(errno);
	if (code) {
		send_error(c, code, 0);
		return;
	}
	head_start(c, 204);
	head_end(c);
}

static void send_options(struct conn *c)
{
	head_start(c, 200);
	allow_header(c);
	buf_str(&c->out, "Content-Length: 0\r\n");
	head_end(c);
}

/* Build the response to the request whose head hp holds, or start
 * taking its body in (c->up). */
static void respond(struct conn *c)
{
	struct http_parser *hp = c->hp;
	const struct hs_cfg *g = c->w->cfg;
	const char *conn = http_field(hp, "Connection"), *m = hp->method;
	char urlpath[URL_MAX + 2], fs[PATH_MAX + URL_MAX];
	int head_only = !strcmp(m, "HEAD"), get = head_only || !strcmp(m, "GET");
	int slash_end, st_code;

	c->keep = hp->minor >= 1 ? !http_has_token(conn, "close") : http_has_token(conn, "keep-alive");
	if (!host_ok(hp)) {
		send_error(c, 400, head_only);
		return;
	}
	if (!get && !(g->upload && (!strcmp(m, "PUT") || !strcmp(m, "POST") ||
				     (g->allow_delete && !strcmp(m, "DELETE")))) &&
	    strcmp(m, "OPTIONS")) {
		send_error(c, is_known_method(m) ? 405 : 501, 0);
		return;
	}
	if (!strcmp(m, "OPTIONS") && !strcmp(hp->target, "*")) {
		send_options(c);
		return;
	}
	st_code = url_map_path(g->root.path, hp->target, urlpath, sizeof urlpath, fs,
			       sizeof fs, &slash_end);
	if (st_code)
		send_error(c, st_code, head_only);
	else if (!strcmp(m, "OPTIONS"))
		send_options(c);
	else if (get)
		serve_get(c, fs, urlpath, slash_end, head_only);
	else if (!strcmp(m, "PUT"))
		start_put(c, fs, urlpath, slash_end);
	else if (!strcmp(m, "POST"))
		start_form(c, fs, urlpath);
	else
		do_delete(c, fs, urlpath);
}

/* ---- connections ---- */

/* Request buffers come from a small pool, so that busy keep-alive
 * connections do not allocate per request and idle ones hold none. */
static int take_buffers(struct conn *c)
{
	struct hs_worker *s = c->w;

	if (!c->in)
		c->in = s->nspare_in ? s->spare_in[--s->nspare_in] : malloc(IN_BUF);
	if (!c->hp) {
		c->hp = s->nspare_hp ? s->spare_hp[--s->nspare_hp] : malloc(sizeof *c->hp);
		if (c->hp)
			http_parser_init(c->hp, 1);
	}
	return c->in && c->hp ? 0 : -1;
}

static void release_buffers(struct conn *c)
{
	struct hs_worker *s = c->w;

	if (c->in && s->nspare_in < HS_POOL_MAX)
		s->spare_in[s->nspare_in++] = c->in;
	else
		free(c->in);
	if (c->hp && s->nspare_hp < HS_POOL_MAX)
		s->spare_hp[s->nspare_hp++] = c->hp;
	else
		free(c->hp);
	c->in = NULL;
	c->hp = NULL;
	if (c->out.data && c->out.cap <= OUT_POOLED && s->nspare_out < HS_POOL_MAX) {
		c->out.len = 0;
		s->spare_out[s->nspare_out++] = c->out;
		memset(&c->out, 0, sizeof c->out);
	}
	buf_free(&c->out);
}

/* The body's file is done with (sent, or the connection is gone). */
static void drop_file(struct conn *c)
{
	if (c->file >= 0)
		close(c->file);
	c->file = -1;
	bulk_set(c, 0);
}

static void access_log(struct conn *c)
{
	const struct hs_cfg *g = c->w->cfg;
	char date[64], line[sizeof c->line * 4 + 1];
	const char *peer = c->base.peer;
	time_t now = time(NULL);
	struct tm tm;

	if (g->quiet || !c->status)
		return;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%d/%b/%Y:%H:%M:%S +0000", &tm);
	log_escape(c->line, line, sizeof line);
	/* the Common Log Format (the size is the body's), then the request
	 * body's size, as Apache's %I */
	fprintf(g->log, "%.*s - - [%s] \"%s\" %d %llu %llu\n", (int)strcspn(peer, "]:") +
		(peer[0] == '[' ? 1 : 0), peer, date, line, c->status,
		(unsigned long long)(c->sent > c->head_sent ? c->sent - c->head_sent : 0),
		(unsigned long long)c->body_in);
	fflush(g->log);
	c->status = 0;
}

static int writing(const struct conn *c)
{
	return c->out_off < c->out.len || c->file_left;
}

/* Count n bytes sent. */
static void sent(struct conn *c, size_t n)
{
	c->sent += n;
	if (n)
		server_progress(&c->base);
}

/* Send what the response has left. Returns -1 on a fatal error. */
static int conn_write(struct conn *c)
{
	int fd = c->base.io.fd;
	size_t budget;

	if (c->out_off < c->out.len) {
		ssize_t n = net_send_some(fd, c->out.data + c->out_off, c->out.len - c->out_off);

		if (n < 0)
			return -1;
		c->out_off += (size_t)n;
		sent(c, (size_t)n);
		if (c->out_off < c->out.len)
			return 0;
	}
	for (budget = SENDFILE_BUDGET; c->file_left && budget; ) {
		size_t want = c->file_left > SENDFILE_CHUNK ? SENDFILE_CHUNK : (size_t)c->file_left;
		ssize_t n;
#ifdef __linux__
		n = sendfile(fd, c->file, &c->file_off, want);
#else
		char tmp[65536];

		n = pread(c->file, tmp, want < sizeof tmp ? want : sizeof tmp, c->file_off);
		if (n > 0)
			n = write(fd, tmp, (size_t)n);
		if (n > 0)
			c->file_off += n;
#endif
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		if (n == 0)
			return -1; /* the file shrank under us */
		c->file_left -= (uint64_t)n;
		sent(c, (size_t)n);
		budget = (size_t)n < budget ? budget - (size_t)n : 0;
	}
	/* the socket takes more, but the budget is spent: let a client that
	 * waits for this CPU read before sending on (1 GiB, wrk -t2 -c4, client
	 * and server in one session, three turns each: 2.6-2.8 GB/s without
	 * this, 3.6-4.4 with it) */
	if (c->file_left && !budget)
		sched_yield();
	return 0;
}

static int parse_input(struct conn *c);

/* A response is complete: log it, then close or wait for the next. */
static int response_done(struct conn *c)
{
	access_log(c);
	drop_file(c);
	c->out.len = c->out_off = 0;
	if (!c->keep || c->base.draining)
		return -1; /* c->sent stays: the close lingers */
	c->sent = c->head_sent = c->interim = 0;
	c->head_started = 0;
	c->body_in = 0;
	server_deadline(&c->base, SERVER_IDLE);
	if (!c->in_len) { /* idle: give back what only a request needs */
		release_buffers(c);
		return 0;
	}
	http_parser_init(c->hp, 1);
	return parse_input(c); /* a pipelined request is waiting */
}

static int status_for(const struct http_parser *hp)
{
	switch (hp->error) {
	case HTTP_E_LINE:
		if (hp->body == HTTP_BODY_CHUNKED)
			return 400; /* a chunk line: a bad body, not a long URI */
		if (hp->nlines == 0) /* the method alone is too long: none we know */
			return memchr(hp->head, ' ', hp->head_len) ? 414 : 501;
		return 431;
	case HTTP_E_HEAD:
	case HTTP_E_COUNT: return 431;
	case HTTP_E_VERSION: return 505;
	default: return 400;
	}
}

/* An upload cannot go on: answer st and close. */
static void upload_fail(struct conn *c, int st)
{
	hu_free(c->up);
	c->up = NULL;
	c->keep = 0;
	c->reading_body = 0;
	send_error(c, st, 0);
}

/* The whole body is stored: put it in place and answer. */
static void upload_done(struct conn *c)
{
	struct buf page = { NULL, 0, 0 };
	char dir_url[URL_MAX + 2];
	size_t n = strcspn(c->hp->target, "?");
	int st;

	snprintf(dir_url, sizeof dir_url, "%.*s", (int)n, c->hp->target);
	st = hu_finish(c->up, dir_url, &page);
	hu_free(c->up);
	c->up = NULL;
	if (st == 201 && page.len) {
		send_html(c, 201, &page, 0);
	} else if (st == 201 || st == 204) {
		buf_free(&page);
		head_start(c, st);
		if (st == 201)
			buf_str(&c->out, "Content-Length: 0\r\n");
		head_end(c);
	} else {
		buf_free(&page);
		c->keep = 0;
		send_error(c, st, 0);
	}
}

/* "100 Continue" before an accepted body, in one write to a socket that
 * has nothing else queued (responses are whole before the next request
 * is parsed). Returns -1 when it could not go whole. */
static int send_continue(struct conn *c)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	ssize_t n = send(c->base.io.fd, cont, sizeof cont - 1, 0);

	if (n != (ssize_t)sizeof cont - 1)
		return -1;
	sent(c, (size_t)n);
	c->interim += (size_t)n;
	return 0;
}

static int on_head(struct conn *c)
{
	struct http_parser *hp = c->hp;
	int has_body = hp->body == HTTP_BODY_CHUNKED || (hp->body == HTTP_BODY_LENGTH && hp->length);
	const char *expect = http_field(hp, "Expect");

	if (!c->w->cfg->quiet)
		snprintf(c->line, sizeof c->line, "%s %s HTTP/1.%d", hp->method, hp->target,
			 hp->minor);
	c->body_in = 0;
	if (hp->body == HTTP_BODY_LENGTH && hp->length > c->w->cfg->max_body) {
		c->keep = 0;
		send_error(c, 413, 0);
		return 1;
	}
	respond(c);
	if (has_body && expect && hp->minor >= 1 && http_has_token(expect, "100-continue")) {
		/* 100 only for a body that will be taken; else the answer now,
		 * the body unread and the connection closed after it */
		if (!c->up || send_continue(c) < 0) {
			if (c->up)
				upload_fail(c, 500);
			c->keep = 0;
			return 1;
		}
	}
	/* an error that closes the connection is sent without reading on */
	c->reading_body = has_body && !(writing(c) && !c->keep);
	/* a large upload, like a large download, may run beside its client */
	if (c->up && (hp->body == HTTP_BODY_CHUNKED || hp->length > BULK_MIN))
		bulk_set(c, 1);
	if (c->up && !has_body)
		upload_done(c); /* an empty file */
	return !c->reading_body && writing(c);
}

/* One parser event; 1 when parsing stops here (a response to send). */
static int on_event(struct conn *c, enum http_event ev)
{
	struct http_parser *hp = c->hp;
	int st;

	if (ev == HTTP_EV_ERROR) {
		snprintf(c->line, sizeof c->line, "(bad request: %s)", hp->err);
		hu_free(c->up);
		c->up = NULL;
		c->keep = 0;
		c->reading_body = 0;
		send_error(c, status_for(hp), 0);
		return 1;
	}
	if (ev == HTTP_EV_BODY) {
		c->body_in += hp->ev_len;
		if (c->body_in > c->w->cfg->max_body) {
			upload_fail(c, 413);
			return 1;
		}
		if (c->up && (st = hu_data(c->up, hp->ev_data, hp->ev_len)) != 0) {
			upload_fail(c, st);
			return 1;
		}
		return 0;
	}
	if (ev == HTTP_EV_HEAD)
		return on_head(c);
	if (ev == HTTP_EV_DONE) {
		c->reading_body = 0;
		if (c->up)
			upload_done(c);
		return 1;
	}
	return 0;
}

/* Feed buffered input to the parser; respond when a request is whole. A
 * request body (on GET or HEAD) is read and discarded, up to a limit. */
static int parse_input(struct conn *c)
{
	size_t off = 0;

	while (off < c->in_len && (!writing(c) || c->reading_body)) {
		size_t used = 0;
		enum http_event ev = http_parse(c->hp, c->in + off, c->in_len - off, &used);

		off += used;
		if (!c->head_started) { /* the head's deadline runs from its first byte */
			c->head_started = 1;
			c->base.start = loop_now(c->base.srv->lp);
		}
		if (on_event(c, ev))
			break;
	}
	if (c->reading_body) {
		size_t none;

		/* the body may have ended exactly with the buffer */
		if (http_parse(c->hp, c->in + off, 0, &none) == HTTP_EV_DONE)
			on_event(c, HTTP_EV_DONE);
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	if (writing(c) && !c->reading_body) {
		if (conn_write(c) < 0)
			return -1;
		if (!writing(c))
			return response_done(c);
		server_deadline(&c->base, SERVER_SEND);
	} else if (c->reading_body) {
		/* a body may take long, but not stall: send_ms without a byte */
		if (c->base.kind != SERVER_SEND)
			server_deadline(&c->base, SERVER_SEND);
	} else if (c->head_started && c->base.kind != SERVER_HEAD) {
		server_deadline(&c->base, SERVER_HEAD);
	}
	return 0;
}

/* A form's body, known to be Content-Length long: read in large pieces
 * (never past its end, so no next request lands here) and parsed. */
static int read_body_large(struct conn *c)
{
	static _Thread_local char big[BODY_READ];
	uint64_t left = c->hp->remaining;
	size_t off = 0;
	ssize_t n;

	do
		n = read(c->base.io.fd, big, left < BODY_READ ? (size_t)left : BODY_READ);
	while (n < 0 && errno == EINTR);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
		return -1;
	if (n < 0)
		return 0;
	server_progress(&c->base);
	while (off < (size_t)n) {
		size_t used = 0;
		enum http_event ev = http_parse(c->hp, big + off, (size_t)n - off, &used);

		off += used;
		if (on_event(c, ev))
			break;
	}
	return parse_input(c);
}

/* A PUT's body, once the buffered part is parsed: socket to file with no
 * parsing, in large pieces, UPLOAD_BUDGET per readiness so the worker's
 * other connections get their turn. */
static int read_body_direct(struct conn *c)
{
	int st = 0;
	uint64_t left = c->hp->remaining;
	ssize_t n;

	if (!hu_direct(c->up))
		return read_body_large(c);
	n = hu_from_socket(c->up, c->base.io.fd, left < UPLOAD_BUDGET ? left : UPLOAD_BUDGET, &st);

	if (n < 0 && !st)
		return -1; /* gone: conn_close removes the temporary */
	if (n < 0) {
		upload_fail(c, st);
	} else if (n > 0) {
		server_progress(&c->base);
		c->body_in += (uint64_t)n;
		http_body_skip(c->hp, (uint64_t)n);
	}
	return parse_input(c); /* the end of the body, or the answer to send */
}

/* Read what the client sent. Returns -1 to close. */
static int conn_read(struct conn *c)
{
	ssize_t n;

	if (take_buffers(c) < 0)
		return -1;
	if (c->up && c->reading_body && !c->in_len && c->hp->body == HTTP_BODY_LENGTH &&
	    hu_direct(c->up))
		return read_body_direct(c);
	if (c->in_len == IN_BUF) {
		/* a full buffer without a whole head: the parser's limits
		 * decide, so give it the bytes it has */
		if (parse_input(c) < 0 || c->in_len == IN_BUF)
			return -1;
	}
	do
		n = read(c->base.io.fd, c->in + c->in_len, IN_BUF - c->in_len);
	while (n < 0 && errno == EINTR);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
		return -1;
	if (n < 0)
		return 0;
	c->in_len += (size_t)n;
	server_progress(&c->base);
	return parse_input(c);
}

static void conn_cb(struct loop *lp, struct loop_io *io, int ev)
{
	struct conn *c = io->data;

	if (writing(c) && !c->reading_body) {
		if (conn_write(c) < 0 || (!writing(c) && response_done(c) < 0))
			goto close;
	} else if ((ev & (LOOP_READ | LOOP_HUP)) && conn_read(c) < 0) {
		goto close;
	}
	if (loop_io_set(lp, io, writing(c) && !c->reading_body ? LOOP_WRITE : LOOP_READ) < 0)
		goto close;
	return;
close:
	server_close(&c->base, NULL);
}

static void conn_timeout(struct server_conn *sc, enum server_deadline kind)
{
	struct conn *c = (struct conn *)sc;

	if (kind == SERVER_HEAD && !writing(c)) {
		/* the whole head did not arrive in time: 408, then close */
		snprintf(c->line, sizeof c->line, "(request head timed out)");
		c->keep = 0;
		send_error(c, 408, 0);
		conn_write(c);
	}
	server_close(sc, kind == SERVER_SEND ? "send timeout" : "timeout");
}

/* A new connection; its client slot is taken already. */
static int conn_open(struct server_conn *sc)
{
	struct conn *c = (struct conn *)sc;
	int one = 1; /* responses are written whole: no Nagle delay */

	c->w = sc->srv->data;
	c->file = -1;
	setsockopt(sc->io.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	sc->io.cb = conn_cb;
	server_deadline(sc, SERVER_IDLE);
	return 0;
}

static void conn_close(struct server_conn *sc, const char *why)
{
	struct conn *c = (struct conn *)sc;

	(void)why;
	access_log(c); /* a response cut short */
	sc->linger = c->sent != 0;
	hu_free(c->up); /* an upload cut short leaves nothing */
	c->up = NULL;
	drop_file(c);
	release_buffers(c);
	buf_free(&c->out);
}

/* Stopping: a response under way may finish; an idle connection closes. */
static int conn_drain(struct server_conn *sc)
{
	struct conn *c = (struct conn *)sc;

	return writing(c) && !c->reading_body;
}

const struct server_class hs_class = {
	sizeof(struct conn), conn_open, conn_close, conn_timeout, conn_drain
};

void hs_worker_free_pools(struct hs_worker *w)
{
	fcache_free(&w->cache);
	while (w->nspare_in)
		free(w->spare_in[--w->nspare_in]);
	while (w->nspare_hp)
		free(w->spare_hp[--w->nspare_hp]);
	while (w->nspare_out)
		buf_free(&w->spare_out[--w->nspare_out]);
}
