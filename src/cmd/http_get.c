#define _XOPEN_SOURCE 700 /* realpath */
#include "nettool/base/buf.h"
#include "nettool/core/cmd.h"
#include "nettool/proto/http.h"
#include "nettool/proto/multipart.h"
#include "nettool/core/net.h"
#include "nettool/core/proxy.h"
#include "nettool/proto/url.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/sendfile.h>
#endif

#define CMD "http-get"
#define GET_BUF (64 * 1024)
#define MAX_EXTRA 64
#define UP_BUF (GET_BUF - 128) /* read into buf, with room around it */
#define UP_SENDFILE (1u << 20)
#define EXPECT_OVER (1u << 20) /* larger bodies wait for 100 Continue, as curl's */
#define EXPECT_WAIT_MS 1000

/* The request body from -d, --data-binary, --data-urlencode and --json. */
struct body {
	struct buf data;
	int fields; /* -d style parts, joined with '&' */
	int json;   /* --json parts, joined as they are */
};

/* -F parts; args holds their modified copies */
struct form {
	struct mp_part p[MP_MAX_PARTS];
	char *args[MP_MAX_PARTS];
	int n;
};

enum body_kind { BK_NONE, BK_MEM, BK_FILE, BK_STREAM, BK_FORM };

struct get_opts {
	const char *url, *out_path, *method, *user, *upload;
	const char *proxy_url, *noproxy, *unix_path;
	struct proxy proxy;     /* from -x or http_proxy; type PROXY_NONE: none */
	struct headers {
		const char *v[MAX_EXTRA];
		int n;
	} extra;
	struct body body;
	struct form form;
	unsigned long max_redirs;
	int head, include, verbose, fail, follow, timeout_ms;
	int family, silent, progress, resume, remote_name, get_query;
};

/* How this request goes: straight, or through the proxy (an HTTP proxy
 * gets the absolute URL). */
struct route {
	int via;          /* the proxy is used */
	int absolute;     /* an HTTP proxy: absolute-form target, Proxy-Authorization */
};

/* What one request sends: redirects may change the method and drop the
 * body or the credentials. */
struct req_state {
	char method[64];
	int send_body;
	int send_auth;        /* -u and -H Authorization, to the first host only */
	char first_host[300]; /* host:port of the first request */
};

struct fetch {
	const struct get_opts *o;
	const char *url; /* with -G, the URL with the data as its query */
	/* what is sent */
	enum body_kind kind;
	uint64_t body_len;      /* but for BK_STREAM */
	off_t up_start;         /* BK_FILE: where stdin's file starts */
	int pipe_used;          /* BK_STREAM: bytes were read, none can be again */
	int expect;             /* wait for 100 Continue */
	char boundary[MP_BOUNDARY_LEN + 1];
	char pre[4096];         /* response bytes read while waiting for 100 */
	size_t pre_len;
	int uploading;
	struct http_parser *hp;
	struct route route;
	int fd, out_fd;
	char final_path[4096], tmp_path[4200];
	unsigned long long got, total;
	uint64_t started, drawn;
	int bar;
};

/* ---- the request ---- */

/* The -H header replacing name, or NULL. */
static const char *extra_for(const struct get_opts *o, const char *name)
{
	int i;

	for (i = 0; i < o->extra.n; i++) {
		const char *c = strchr(o->extra.v[i], ':');

		if (c && (size_t)(c - o->extra.v[i]) == strlen(name) &&
		    !strncasecmp(o->extra.v[i], name, strlen(name)))
			return o->extra.v[i];
	}
	return NULL;
}

static void add_header(struct buf *b, const struct get_opts *o, const char *name,
		       const char *value)
{
	const char *x = extra_for(o, name);

	if (x && x[strlen(name) + 1 + strspn(x + strlen(name) + 1, " \t")])
		buf_printf(b, "%s\r\n", x);
	else if (!x && value)
		buf_printf(b, "%s: %s\r\n", name, value);
}

/* name: Basic credentials (RFC 7617) for "USER:PASS", or the -H given. */
static int add_basic(struct buf *b, const struct get_opts *o, const char *name, const char *cred)
{
	char *v = malloc(6 + 4 * (strlen(cred) / 3 + 1) + 1);

	if (!v)
		return -1;
	memcpy(v, "Basic ", 6);
	util_base64((const unsigned char *)cred, strlen(cred), v + 6);
	add_header(b, o, name, v);
	free(v);
	return 0;
}

/* Whether to wait for 100 Continue before the body: as -H Expect says,
 * else for a large body or one of unknown length. */
static int wants_continue(const struct fetch *f)
{
	const char *x = extra_for(f->o, "Expect");

	if (x)
		return http_has_token(x + 7, "100-continue");
	return f->kind == BK_STREAM || f->body_len > EXPECT_OVER;
}

/* Content-Type, Content-Length or Transfer-Encoding, and Expect. */
static void body_headers(struct fetch *f, struct buf *b)
{
	const struct get_opts *o = f->o;
	char len[32], ctype[80];
	const char *type = NULL;

	if (f->kind == BK_MEM)
		type = o->body.json ? "application/json" : "application/x-www-form-urlencoded";
	if (f->kind == BK_FORM) {
		snprintf(ctype, sizeof ctype, "multipart/form-data; boundary=%s", f->boundary);
		type = ctype;
	}
	add_header(b, o, "Content-Type", type);
	if (f->kind == BK_STREAM) {
		add_header(b, o, "Transfer-Encoding", "chunked");
	} else {
		snprintf(len, sizeof len, "%llu", (unsigned long long)f->body_len);
		add_header(b, o, "Content-Length", len);
	}
	f->expect = wants_continue(f);
	add_header(b, o, "Expect", f->expect ? "100-continue" : NULL);
}

static int build_request(struct fetch *f, const struct req_state *rs,
			 const struct url *u, long long from, struct buf *b)
{
	/* the last four are ours only with a body */
	static const char *std[] = { "Host", "User-Agent", "Accept", "Connection",
				     "Authorization", "Range", "Expect", "Transfer-Encoding",
				     "Content-Type", "Content-Length" };
	const struct get_opts *o = f->o;
	char host[300], range[48];
	int i;
	size_t k;

	url_host_header(u, host, sizeof host);
	if (f->route.absolute)
		buf_printf(b, "%s http://%s%s HTTP/1.1\r\n", rs->method, host, u->target);
	else
		buf_printf(b, "%s %s HTTP/1.1\r\n", rs->method, u->target);
	add_header(b, o, "Host", host);
	add_header(b, o, "User-Agent", "nettool/" NT_VERSION);
	add_header(b, o, "Accept", o->body.json && rs->send_body ? "application/json" : "*/*");
	add_header(b, o, "Connection", "close");
	if (f->route.absolute && o->proxy.auth) {
		char cred[520];

		snprintf(cred, sizeof cred, "%s:%s", o->proxy.user, o->proxy.pass);
		if (add_basic(b, o, "Proxy-Authorization", cred) < 0)
			return -1;
	}
	if (o->user && rs->send_auth) {
		if (add_basic(b, o, "Authorization", o->user) < 0)
			return -1;
	} else if (u->has_userinfo) {
		char ui[256];

		memcpy(ui, u->userinfo, sizeof ui);
		if (url_unescape(ui) < 0 || add_basic(b, o, "Authorization", ui) < 0)
			return -1;
	} else if (rs->send_auth) {
		add_header(b, o, "Authorization", NULL);
	}
	f->expect = 0;
	if (rs->send_body)
		body_headers(f, b);
	if (from > 0) {
		snprintf(range, sizeof range, "bytes=%lld-", from);
		add_header(b, o, "Range", range);
	} else {
		add_header(b, o, "Range", NULL);
	}
	for (i = 0; i < o->extra.n; i++) {
		const char *c = strchr(o->extra.v[i], ':');
		int known = 0;

		/* Content-Type and Content-Length are ours only with a body */
		for (k = 0; k < sizeof std / sizeof std[0] - (rs->send_body ? 0 : 4); k++)
			known |= (size_t)(c - o->extra.v[i]) == strlen(std[k]) &&
				 !strncasecmp(o->extra.v[i], std[k], strlen(std[k]));
		if (!known && c[1] != '\0')
			buf_printf(b, "%s\r\n", o->extra.v[i]);
	}
	buf_printf(b, "\r\n");
	return 0;
}

static void show_lines(const char *prefix, const char *p, size_t n)
{
	while (n) {
		const char *lf = memchr(p, '\n', n);
		size_t l = lf ? (size_t)(lf - p) + 1 : n;
		size_t w = l;

		while (w && (p[w - 1] == '\n' || p[w - 1] == '\r'))
			w--;
		fprintf(stderr, "%s%.*s\n", prefix, (int)w, p);
		p += l;
		n -= l;
	}
}

/* ---- output ---- */

static void progress(struct fetch *f, int done)
{
	uint64_t now = util_now_ms();
	double secs, rate;

	if (!f->bar || (!done && now - f->drawn < 100 && f->got != f->total))
		return; /* at most ten a second, and the last state always */
	f->drawn = now;
	if (done) {
		fprintf(stderr, "\r\033[K");
		return;
	}
	secs = (double)(now - f->started) / 1000.0;
	rate = secs > 0 ? (double)f->got / secs : 0;
	fprintf(stderr, "\r\033[K%s", f->uploading ? "sent " : "");
	if (f->total && rate > 0)
		fprintf(stderr, "%llu/%llu bytes %3d%% %.1f MB/s ETA %.0fs", f->got,
			f->total, (int)(100.0 * (double)f->got / (double)f->total), rate / 1e6,
			(double)(f->total - f->got) / rate);
	else if (f->total)
		fprintf(stderr, "%llu/%llu bytes %3d%%", f->got, f->total,
			(int)(100.0 * (double)f->got / (double)f->total));
	else
		fprintf(stderr, "%llu bytes %.1f MB/s", f->got, rate / 1e6);
}

/* Open where the body goes: stdout, a temporary beside FILE, or FILE
 * itself when continuing with a 206. */
/*
 * Whether FILE is written to a temporary and renamed into place: when it
 * is absent or a regular file. A symbolic link is followed, so the file
 * it names is replaced, not the link.
 */
static int replaceable(struct fetch *f)
{
	struct stat st;
	char *real;

	if (lstat(f->final_path, &st) < 0)
		return 1;
	if (S_ISLNK(st.st_mode) && (real = realpath(f->final_path, NULL))) {
		snprintf(f->final_path, sizeof f->final_path, "%s", real);
		free(real);
	}
	if (stat(f->final_path, &st) < 0)
		return 1;
	return S_ISREG(st.st_mode);
}

/* The mode open(path, O_CREAT, 0666) would give: an existing file's own,
 * else 0666 less the umask. */
static mode_t output_mode(const char *path)
{
	struct stat st;
	mode_t mask;

	if (stat(path, &st) == 0)
		return st.st_mode & 07777;
	mask = umask(022);
	umask(mask);
	return 0666 & ~mask;
}

static int open_output(struct fetch *f, int append)
{
	if (!f->final_path[0]) {
		f->out_fd = STDOUT_FILENO;
		return 0;
	}
	if (append || !replaceable(f)) {
		/* a device or FIFO (-o /dev/null) is written in place, never replaced */
		f->out_fd = open(f->final_path, O_WRONLY | O_CLOEXEC | (append ? O_APPEND : 0));
	} else {
		snprintf(f->tmp_path, sizeof f->tmp_path, "%s.nettool-XXXXXX", f->final_path);
		f->out_fd = mkstemp(f->tmp_path);
		if (f->out_fd < 0)
			f->tmp_path[0] = '\0';
		else
			fchmod(f->out_fd, output_mode(f->final_path));
	}
	if (f->out_fd < 0) {
		nt_warn(CMD, "%s: %s", append ? f->final_path : "cannot create a file beside it",
			strerror(errno));
		return NT_EXIT_FAIL;
	}
	return 0;
}

static void discard_output(struct fetch *f)
{
	if (f->out_fd >= 0 && f->out_fd != STDOUT_FILENO)
		close(f->out_fd);
	f->out_fd = -1;
	if (f->tmp_path[0])
		unlink(f->tmp_path);
	f->tmp_path[0] = '\0';
}

static int finish_output(struct fetch *f)
{
	if (f->out_fd == STDOUT_FILENO || f->out_fd < 0)
		return 0;
	if (close(f->out_fd) < 0) {
		f->out_fd = -1;
		nt_warn(CMD, "write %s: %s", f->final_path, strerror(errno));
		discard_output(f);
		return NT_EXIT_FAIL;
	}
	f->out_fd = -1;
	if (f->tmp_path[0] && rename(f->tmp_path, f->final_path) < 0) {
		nt_warn(CMD, "rename to %s: %s", f->final_path, strerror(errno));
		discard_output(f);
		return NT_EXIT_FAIL;
	}
	f->tmp_path[0] = '\0';
	return 0;
}

static int write_out(struct fetch *f, const char *p, size_t n)
{
	if (net_write_full(f->out_fd, p, n) < 0) {
		if (errno == EPIPE && f->out_fd == STDOUT_FILENO)
			return -1;
		nt_warn(CMD, "write %s: %s", f->final_path[0] ? f->final_path : "stdout",
			strerror(errno));
		return NT_EXIT_FAIL;
	}
	f->got += n;
	progress(f, 0);
	return 0;
}

/* ---- the response ---- */

enum { GOT_BODY, GOT_REDIRECT, GOT_DONE };

static void head_text(const struct http_parser *hp, struct buf *b)
{
	size_t i;

	buf_printf(b, "HTTP/1.%d %d %s\r\n", hp->minor, hp->status, hp->reason);
	for (i = 0; i < hp->nfields; i++)
		buf_printf(b, "%s: %s\r\n", hp->fields[i].name, hp->fields[i].value);
	buf_printf(b, "\r\n");
}

static int is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The head arrived: print it as asked and decide what to do with the body. */
static int on_head(struct fetch *f, int *what)
{
	const struct get_opts *o = f->o;
	struct http_parser *hp = f->hp;
	struct buf b = { NULL, 0, 0 };
	int rc = 0;

	head_text(hp, &b);
	if (o->verbose)
		show_lines("< ", b.data, b.len);
	if (o->follow && is_redirect(hp->status) && http_field(hp, "Location")) {
		*what = GOT_REDIRECT;
		buf_free(&b);
		return 0;
	}
	*what = GOT_BODY;
	if (o->fail && hp->status >= 400) {
		nt_warn(CMD, "HTTP error %d %s", hp->status, hp->reason);
		buf_free(&b);
		return NT_EXIT_HTTP;
	}
	if (o->resume && hp->status == 416) {
		*what = GOT_DONE; /* nothing left to fetch */
		buf_free(&b);
		return 0;
	}
	rc = open_output(f, o->resume && hp->status == 206);
	if (rc == 0 && (o->include || o->head) && net_write_full(f->out_fd, b.data, b.len) < 0)
		rc = NT_EXIT_FAIL;
	if (hp->body == HTTP_BODY_LENGTH)
		f->total = hp->length;
	buf_free(&b);
	return rc;
}

static int read_fail(struct fetch *f)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		nt_warn(CMD, "timed out waiting for %s", f->hp->state ? "the body" : "the response");
		return NT_EXIT_TIMEOUT;
	}
	nt_warn(CMD, "receive: %s", strerror(errno));
	return errno == ECONNRESET ? NT_EXIT_PROTO : NT_EXIT_FAIL;
}

/* Read and handle the response on f->fd. */
static int transfer(struct fetch *f, char *buf, int *what)
{
	int rc = 0, head_seen = 0;

	*what = GOT_DONE;
	for (;;) {
		ssize_t n;
		size_t off = 0;

		if (f->pre_len) { /* read while waiting for 100 Continue */
			memcpy(buf, f->pre, f->pre_len);
			n = (ssize_t)f->pre_len;
			f->pre_len = 0;
		} else {
			do
				n = read(f->fd, buf, GET_BUF);
			while (n < 0 && errno == EINTR);
		}
		if (n < 0)
			return read_fail(f);
		while (n == 0 || off < (size_t)n) {
			size_t used = 0;
			enum http_event ev = n ? http_parse(f->hp, buf + off, (size_t)n - off, &used)
					       : http_parse_eof(f->hp);

			off += used;
			if (ev == HTTP_EV_ERROR) {
				nt_warn(CMD, "%s", f->hp->err);
				return NT_EXIT_PROTO;
			}
			if (ev == HTTP_EV_HEAD) {
				head_seen = 1;
				if ((rc = on_head(f, what)) != 0 || *what != GOT_BODY)
					return rc;
			} else if (ev == HTTP_EV_BODY && !f->o->head) {
				if ((rc = write_out(f, f->hp->ev_data, f->hp->ev_len)) != 0)
					return rc;
			} else if (ev == HTTP_EV_DONE) {
				*what = head_seen ? GOT_BODY : GOT_DONE;
				return 0;
			} else if (ev == HTTP_EV_NEED) {
				break;
			}
		}
	}
}

/* ---- one request ---- */

/* Whether no_proxy (or --noproxy) says host goes straight: "*", or an
 * entry that is the host, or a domain it ends in (".example.com" and
 * "example.com" both match "a.example.com"). */
static int no_proxy_for(const char *list, const char *host)
{
	size_t hl = strlen(host);

	while (list && *list) {
		size_t n = strcspn(list, ", ");
		const char *e = list;

		if (n == 1 && *e == '*')
			return 1;
		if (n && *e == '.') {
			e++;
			n--;
		}
		if (n && (hl == n || (hl > n && host[hl - n - 1] == '.')) &&
		    !strncasecmp(host + hl - n, e, n))
			return 1;
		list += n ? (size_t)(e - list) + n : 0;
		list += strspn(list, ", ");
	}
	return 0;
}

static int connect_url(struct fetch *f, const struct url *u, char *err)
{
	const struct get_opts *o = f->o;
	const char *np = o->noproxy ? o->noproxy
			 : getenv("no_proxy") ? getenv("no_proxy") : getenv("NO_PROXY");
	char port[8];
	int fd, status, one = 1;

	snprintf(port, sizeof port, "%u", u->port);
	memset(&f->route, 0, sizeof f->route);
	if (o->unix_path) {
		fd = net_dial_unix(o->unix_path, &status, err);
	} else if (o->proxy.type != PROXY_NONE && !no_proxy_for(np, u->host)) {
		f->route.via = 1;
		f->route.absolute = o->proxy.type == PROXY_HTTP;
		fd = f->route.absolute
		     ? net_dial(o->proxy.host, o->proxy.port, o->family, SOCK_STREAM, 0, NULL,
				o->timeout_ms > 0 ? o->timeout_ms : -1, &status, err)
		     : proxy_dial(&o->proxy, u->host, port, o->family,
				  o->timeout_ms > 0 ? o->timeout_ms : -1, &status, err);
		if (fd < 0 && f->route.absolute) {
			char e2[NT_ERR_LEN];

			memcpy(e2, err, NT_ERR_LEN);
			nt_seterr(err, "proxy port %s: %.200s", o->proxy.port, e2);
		}
	} else {
		fd = net_dial(u->host, port, o->family, SOCK_STREAM, u->ipv6 ? NET_NUMERIC : 0, NULL,
			      o->timeout_ms > 0 ? o->timeout_ms : -1, &status, err);
	}
	if (fd < 0)
		return -status;
	/* a head and then its body, or a request on a kept connection: none
	 * waits for an acknowledgement (Nagle), as in curl */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (o->timeout_ms > 0) {
		struct timeval tv = { o->timeout_ms / 1000, (o->timeout_ms % 1000) * 1000 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	}
	return fd;
}

static int check_url(const char *s, struct url *u, int redirect)
{
	char err[NT_ERR_LEN];

	if (url_parse(s, u, err) < 0) {
		if (redirect) {
			nt_warn(CMD, "bad redirect Location '%s': %s", s, err);
			return NT_EXIT_PROTO;
		}
		return cmd_usage_error(CMD, "bad URL '%s': %s", s, err);
	}
	if (!strcmp(u->scheme, "https")) {
		nt_warn(CMD, "%s%s: https is not supported (no TLS in nettool)",
			redirect ? "redirect to " : "", s);
		return NT_EXIT_USAGE;
	}
	if (strcmp(u->scheme, "http")) {
		nt_warn(CMD, "%s: unsupported scheme '%s'", s, u->scheme);
		return NT_EXIT_USAGE;
	}
	return 0;
}

/* ---- the request body ---- */

/* Write n bytes of the body, counting them for the progress bar. */
static int up_write(struct fetch *f, const void *p, size_t n)
{
	if (net_write_full(f->fd, p, n) < 0)
		return -1;
	f->got += n;
	progress(f, 0);
	return 0;
}

static int up_open(const char *path)
{
	int fd;

	if (!strcmp(path, "-"))
		return dup(STDIN_FILENO);
	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	return fd;
}

/*
 * n bytes of a regular file from off: by sendfile, except to a peer on
 * this host. There sendfile saves no copy, it moves it: the receiver
 * copies the bytes out of our page cache, from memory, while this side
 * idles. With read and write the two sides share the work, and the bytes
 * reach the receiver still in the cache. 1 GiB from tmpfs over loopback,
 * medians of 7: into nginx 1,724 MB/s against 1,189 by sendfile; into
 * http-serve 2,398 against 1,743.
 */
static int up_file_range(struct fetch *f, int fd, off_t off, uint64_t n, char *buf)
{
#ifdef __linux__
	int by_sendfile = !net_peer_is_local(f->fd);
#endif

	while (n) {
		size_t want = n > UP_SENDFILE ? UP_SENDFILE : (size_t)n;
		ssize_t got = -1;
#ifdef __linux__
		if (by_sendfile) {
			got = sendfile(f->fd, fd, &off, want);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0 && (errno == EINVAL || errno == ENOSYS)) /* none here */
				by_sendfile = 0;
		}
		if (!by_sendfile)
#endif
		{
			do
				got = pread(fd, buf, want < UP_BUF ? want : UP_BUF, off);
			while (got < 0 && errno == EINTR);
			if (got > 0 && net_write_full(f->fd, buf, (size_t)got) < 0)
				return -1;
			if (got > 0)
				off += got;
		}
		if (got < 0)
			return -1;
		if (got == 0) {
			errno = ESPIPE; /* shorter than when it was measured */
			return -1;
		}
		n -= (uint64_t)got;
		f->got += (uint64_t)got;
		progress(f, 0);
	}
	return 0;
}

/* A pipe or terminal, in chunks as it comes (RFC 9112 7.1). */
static int up_chunked(struct fetch *f, char *buf)
{
	int fd = up_open(f->o->upload);
	ssize_t n;

	if (fd < 0)
		return -1;
	/* each chunk is read to buf + 16, its size line put before it */
	while ((n = net_read_some(fd, buf + 16, UP_BUF)) > 0) {
		char size[17];
		int sl = snprintf(size, sizeof size, "%zx\r\n", (size_t)n);

		f->pipe_used = 1;
		memcpy(buf + 16 - sl, size, (size_t)sl);
		memcpy(buf + 16 + n, "\r\n", 2);
		if (net_write_full(f->fd, buf + 16 - sl, (size_t)sl + (size_t)n + 2) < 0) {
			close(fd);
			return -1;
		}
		f->got += (uint64_t)n;
		progress(f, 0);
	}
	close(fd);
	return n < 0 ? -1 : up_write(f, "0\r\n\r\n", 5);
}

/* A -F file's content, read to check that the boundary is not in it. */
static int up_form_file(struct fetch *f, const struct mp_part *p, char *buf)
{
	size_t bl = strlen(f->boundary), keep = 0;
	uint64_t left = p->size;
	int fd = up_open(p->path);

	if (fd < 0)
		return -1;
	while (left) {
		ssize_t n = net_read_some(fd, buf + keep, left < UP_BUF ? (size_t)left : UP_BUF);

		if (n <= 0) {
			close(fd);
			if (n == 0)
				errno = ESPIPE;
			return -1;
		}
		if (mp_collides(f->boundary, buf, keep + (size_t)n)) {
			close(fd);
			errno = EILSEQ;
			return -1;
		}
		left -= (uint64_t)n;
		if (up_write(f, buf + keep, (size_t)n) < 0) {
			close(fd);
			return -1;
		}
		/* the last bytes, in case the boundary straddles two reads */
		keep += (size_t)n;
		if (keep >= bl) {
			memmove(buf, buf + keep - (bl - 1), bl - 1);
			keep = bl - 1;
		}
	}
	close(fd);
	return 0;
}

static int up_form(struct fetch *f, char *buf)
{
	const struct form *fm = &f->o->form;
	struct buf close_line = { NULL, 0, 0 };
	int i, rc = 0;

	for (i = 0; i < fm->n && rc == 0; i++) {
		const struct mp_part *p = &fm->p[i];

		rc = up_write(f, p->head.data, p->head.len);
		if (rc == 0)
			rc = p->path ? up_form_file(f, p, buf) : up_write(f, p->data, p->len);
		if (rc == 0)
			rc = up_write(f, "\r\n", 2);
	}
	if (rc == 0 && (rc = mp_close(&close_line, f->boundary)) == 0)
		rc = up_write(f, close_line.data, close_line.len);
	buf_free(&close_line);
	return rc;
}

static int up_body(struct fetch *f, char *buf)
{
	int fd, rc;

	switch (f->kind) {
	case BK_MEM:
		return up_write(f, f->o->body.data.data, f->o->body.data.len);
	case BK_FILE:
		if ((fd = up_open(f->o->upload)) < 0)
			return -1;
		rc = up_file_range(f, fd, f->up_start, f->body_len, buf);
		close(fd);
		return rc;
	case BK_STREAM:
		return up_chunked(f, buf);
	case BK_FORM:
		return up_form(f, buf);
	default:
		return 0;
	}
}

/* After a head with Expect: 100-continue. 1: send the body (100 came, or
 * nothing within a second); 0: a final answer came first and waits in
 * f->pre, or the server closed. */
static int await_continue(struct fetch *f)
{
	uint64_t until = util_now_ms() + EXPECT_WAIT_MS;

	for (;;) {
		struct pollfd pf = { f->fd, POLLIN, 0 };
		uint64_t now = util_now_ms();
		char *end;
		ssize_t n;
		int r;

		if (f->pre_len >= 12 && (strncmp(f->pre, "HTTP/1.", 7) || f->pre[9] != '1'))
			return 0; /* not informational: the answer */
		f->pre[f->pre_len] = '\0';
		if (f->pre_len >= 12 && (end = strstr(f->pre, "\r\n\r\n"))) {
			size_t hl = (size_t)(end + 4 - f->pre);
			int cont = !strncmp(f->pre + 9, "100", 3);

			memmove(f->pre, f->pre + hl, f->pre_len - hl);
			f->pre_len -= hl;
			if (cont)
				return 1;
			continue; /* another 1xx: wait on */
		}
		if (f->pre_len + 1 >= sizeof f->pre)
			return 0; /* the parser will say what is wrong */
		r = now >= until ? 0 : poll(&pf, 1, (int)(until - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 1;
		n = recv(f->fd, f->pre + f->pre_len, sizeof f->pre - 1 - f->pre_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		f->pre_len += (size_t)n;
	}
}

static int send_fail(const struct fetch *f)
{
	if (errno == ESPIPE) {
		nt_warn(CMD, "%s: the file changed size while it was sent", f->o->upload ? f->o->upload
										 : "-F");
		return NT_EXIT_FAIL;
	}
	if (errno == EILSEQ) {
		nt_warn(CMD, "-F: a file contains the multipart boundary; try again");
		return NT_EXIT_FAIL;
	}
	nt_warn(CMD, "send: %s", strerror(errno));
	return errno == EAGAIN || errno == EWOULDBLOCK ? NT_EXIT_TIMEOUT : NT_EXIT_FAIL;
}

/* Send the head, then the body. A server may answer and close before
 * taking the whole body (413, say): its answer is still read. */
static int send_request(struct fetch *f, const struct req_state *rs, struct buf *req, char *buf)
{
	int rc = 0;

	f->pre_len = 0;
	if (net_write_full(f->fd, req->data, req->len) < 0)
		rc = -1;
	else if (rs->send_body && (!f->expect || await_continue(f))) {
		f->uploading = 1;
		f->got = 0;
		f->total = f->kind == BK_STREAM ? 0 : f->body_len;
		rc = up_body(f, buf);
		progress(f, 1);
		f->uploading = 0;
		f->got = f->total = 0;
		f->started = util_now_ms();
	}
	if (rc < 0 && errno != EPIPE && errno != ECONNRESET)
		return send_fail(f);
	return 0;
}

static int request_once(struct fetch *f, const struct req_state *rs, const struct url *u,
			long long from, char *buf, int *what)
{
	char err[NT_ERR_LEN];
	struct buf req = { NULL, 0, 0 };
	int rc;

	f->fd = connect_url(f, u, err);
	if (f->fd < 0) {
		nt_warn(CMD, "%s", err);
		return -f->fd;
	}
	if (build_request(f, rs, u, from, &req) < 0) {
		nt_warn(CMD, "bad escape in the user information of the URL");
		rc = NT_EXIT_USAGE;
	} else {
		if (f->o->verbose)
			show_lines("> ", req.data, req.len);
		rc = send_request(f, rs, &req, buf);
		if (rc == 0) {
			http_parser_init(f->hp, 0);
			f->hp->head_request = !strcmp(rs->method, "HEAD");
			rc = transfer(f, buf, what);
		}
	}
	buf_free(&req);
	close(f->fd);
	f->fd = -1;
	return rc;
}

/* How a redirect changes the request (RFC 9110 15.4): 303 makes it a GET
 * without a body (HEAD stays HEAD); 301 and 302 turn a POST into a GET,
 * as curl and browsers do; 307 and 308 repeat method and body. */
static void redirect_method(struct req_state *rs, int status)
{
	if ((status == 303 && strcmp(rs->method, "HEAD")) ||
	    ((status == 301 || status == 302) && !strcmp(rs->method, "POST"))) {
		snprintf(rs->method, sizeof rs->method, "GET");
		rs->send_body = 0;
	}
}

/* -O: the last path segment, or index.html. */
static void remote_name(const struct url *u, char *out, size_t len)
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

static int fetch_all(struct fetch *f, char *buf)
{
	const struct get_opts *o = f->o;
	char cur[URL_MAX], next[URL_MAX], err[NT_ERR_LEN];
	struct url *u = malloc(sizeof *u);
	unsigned long redirs = 0;
	int rc, what;
	long long from = 0;

	struct req_state rs;

	if (!u)
		return NT_EXIT_FAIL;
	memset(&rs, 0, sizeof rs);
	snprintf(rs.method, sizeof rs.method, "%s", o->method ? o->method : o->head ? "HEAD"
		 : f->kind == BK_FILE || f->kind == BK_STREAM ? "PUT" : f->kind ? "POST" : "GET");
	rs.send_body = f->kind != BK_NONE;
	snprintf(cur, sizeof cur, "%s", f->url);
	for (;;) {
		char here[300];

		if ((rc = check_url(cur, u, redirs > 0)) != 0)
			break;
		snprintf(here, sizeof here, "%s:%u", u->host, u->port);
		if (!redirs)
			memcpy(rs.first_host, here, sizeof here);
		/* credentials go to the first host only */
		rs.send_auth = !strcasecmp(here, rs.first_host);
		if (o->remote_name && !f->final_path[0])
			remote_name(u, f->final_path, sizeof f->final_path);
		if (o->resume && f->final_path[0]) {
			struct stat st;

			from = stat(f->final_path, &st) == 0 ? (long long)st.st_size : 0;
		}
		rc = request_once(f, &rs, u, from, buf, &what);
		if (rc || what != GOT_REDIRECT)
			break;
		redirect_method(&rs, f->hp->status);
		if (rs.send_body && f->pipe_used) {
			nt_warn(CMD, "a %d redirect asks for the body again, but it was read from a pipe",
				f->hp->status);
			rc = NT_EXIT_PROTO;
			break;
		}
		if (++redirs > o->max_redirs) {
			nt_warn(CMD, "more than %lu redirects", o->max_redirs);
			rc = NT_EXIT_PROTO;
			break;
		}
		if (url_resolve(cur, http_field(f->hp, "Location"), next, sizeof next, err) < 0) {
			nt_warn(CMD, "bad redirect Location: %s", err);
			rc = NT_EXIT_PROTO;
			break;
		}
		if (o->verbose)
			nt_warn(CMD, "following redirect to %s", next);
		memcpy(cur, next, sizeof cur);
	}
	free(u);
	return rc;
}

/* -H: a header to add, checked here. */
static int opt_header(void *field, const char *arg, char *err)
{
	struct headers *h = field;
	const char *c = strchr(arg, ':');

	if (!c || !http_name_ok(arg, (size_t)(c - arg)) || !http_value_ok(arg)) {
		nt_seterr(err, "bad header '%s' (expected 'Name: value', no control characters)", arg);
		return -1;
	}
	if (h->n == MAX_EXTRA) {
		nt_seterr(err, "at most %d headers", MAX_EXTRA);
		return -1;
	}
	h->v[h->n++] = arg;
	return 0;
}

/* -X: any method token. */
static int opt_method(void *field, const char *arg, char *err)
{
	if (!http_name_ok(arg, strlen(arg)) || strlen(arg) >= 64) {
		nt_seterr(err, "bad method '%s' (expected a token such as PUT)", arg);
		return -1;
	}
	*(const char **)field = arg;
	return 0;
}

/* The whole of a file, or of stdin for "-", appended to b. */
static int read_whole(struct buf *b, const char *path, char *err)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY) : STDIN_FILENO;
	char tmp[65536];
	ssize_t n;

	if (fd < 0) {
		nt_seterr(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, tmp, sizeof tmp)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf_append(b, tmp, (size_t)n) < 0) {
			nt_seterr(err, "%s: %s", path, n < 0 ? strerror(errno) : "out of memory");
			if (fd != STDIN_FILENO)
				close(fd);
			return -1;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	return 0;
}

/* Start a -d style part: '&' after the first. */
static int field_sep(struct body *bd, char *err)
{
	if (bd->fields++ && buf_putc(&bd->data, '&') < 0) {
		nt_seterr(err, "out of memory");
		return -1;
	}
	return 0;
}

/* A part as given, or read from @FILE; strip: drop CR and LF from a file. */
static int add_data(struct body *bd, const char *arg, int at, int strip, char *err)
{
	size_t start = bd->data.len, i, j;

	if (!at || arg[0] != '@')
		return buf_append(&bd->data, arg, strlen(arg)) < 0 ? (nt_seterr(err, "out of memory"), -1)
								  : 0;
	if (read_whole(&bd->data, arg + 1, err) < 0)
		return -1;
	for (i = j = start; strip && i < bd->data.len; i++)
		if (bd->data.data[i] != '\r' && bd->data.data[i] != '\n')
			bd->data.data[j++] = bd->data.data[i];
	if (strip)
		bd->data.len = j;
	return 0;
}

/* -d: curl's --data (CR and LF stripped from what @FILE reads). */
static int opt_data(void *field, const char *arg, char *err)
{
	return field_sep(field, err) < 0 ? -1 : add_data(field, arg, 1, 1, err);
}

static int opt_data_binary(void *field, const char *arg, char *err)
{
	return field_sep(field, err) < 0 ? -1 : add_data(field, arg, 1, 0, err);
}

/* --data-urlencode: content, =content, name=content, @file, name@file. */
static int opt_data_urlencode(void *field, const char *arg, char *err)
{
	struct body *bd = field;
	struct buf raw = { NULL, 0, 0 };
	const char *eq = strchr(arg, '='), *at = strchr(arg, '@'), *val = arg;
	int rc;

	if (field_sep(bd, err) < 0)
		return -1;
	if (eq && (!at || eq < at)) { /* [name]=content */
		if (eq > arg && buf_append(&bd->data, arg, (size_t)(eq - arg + 1)) < 0)
			return -1;
		val = eq + 1;
		rc = buf_append(&raw, val, strlen(val));
	} else if (at) { /* [name]@file */
		if (at > arg && (buf_append(&bd->data, arg, (size_t)(at - arg)) < 0 ||
				 buf_putc(&bd->data, '=') < 0))
			return -1;
		rc = read_whole(&raw, at + 1, err);
		if (rc < 0) {
			buf_free(&raw);
			return -1;
		}
	} else {
		rc = buf_append(&raw, val, strlen(val));
	}
	if (rc < 0 || url_escape_form(&bd->data, raw.data ? raw.data : "", raw.len) < 0) {
		buf_free(&raw);
		nt_seterr(err, "out of memory");
		return -1;
	}
	buf_free(&raw);
	return 0;
}

/* --json: parts joined as they are, @FILE read unchanged. */
static int opt_json(void *field, const char *arg, char *err)
{
	struct body *bd = field;

	bd->json = 1;
	return add_data(bd, arg, 1, 0, err);
}

/* -F: a part, its file checked now. */
static int opt_form(void *field, const char *arg, char *err)
{
	struct form *fm = field;
	struct mp_part *p = &fm->p[fm->n];
	struct stat st;
	char *copy;
	int from_file;

	if (fm->n == MP_MAX_PARTS) {
		nt_seterr(err, "at most %d -F parts", MP_MAX_PARTS);
		return -1;
	}
	if (!(copy = strdup(arg))) {
		nt_seterr(err, "out of memory");
		return -1;
	}
	fm->args[fm->n++] = copy;
	if (mp_parse_arg(copy, p, &from_file, err) < 0)
		return -1;
	if (!from_file) { /* every part's data is its own, to be freed */
		if (!(p->data = strdup(p->data))) {
			nt_seterr(err, "out of memory");
			return -1;
		}
		return 0;
	}
	if (from_file == 1 && strcmp(p->path, "-") && stat(p->path, &st) == 0 &&
	    S_ISREG(st.st_mode)) {
		p->size = (uint64_t)st.st_size;
		return 0;
	}
	if (from_file == 1 && strcmp(p->path, "-") && stat(p->path, &st) < 0) {
		nt_seterr(err, "%s: %s", p->path, strerror(errno));
		return -1;
	}
	/* stdin, a pipe or '<': read now */
	{
		struct buf b = { NULL, 0, 0 };

		if (read_whole(&b, p->path, err) < 0) {
			buf_free(&b);
			return -1;
		}
		p->data = b.data;
		p->len = p->size = b.len;
		p->path = NULL;
	}
	return 0;
}

/* -T: checked now, sent later. */
static int opt_upload(void *field, const char *arg, char *err)
{
	struct stat st;

	if (strcmp(arg, "-") && stat(arg, &st) < 0) {
		nt_seterr(err, "%s: %s", arg, strerror(errno));
		return -1;
	}
	if (strcmp(arg, "-") && S_ISDIR(st.st_mode)) {
		nt_seterr(err, "%s: is a directory", arg);
		return -1;
	}
	*(const char **)field = arg;
	return 0;
}

#define O(field) offsetof(struct get_opts, field)
static const struct opt get_opts_table[] = {
	{ 'o', NULL, OPT_STRING, O(out_path), 0, "FILE",
	  "write the body to FILE (renamed into place when complete)", 0, 0, NULL },
	{ 'O', NULL, OPT_FLAG, O(remote_name), 0, NULL,
	  "write to the URL's last path segment (index.html for /)", 0, 0, NULL },
	{ 'C', "continue", OPT_FLAG, O(resume), 0, NULL, "with -o: fetch only the rest of a partial FILE",
	  0, 0, NULL },
	{ 'H', NULL, OPT_FUNC, O(extra), 0, "'Name: value'", "add or replace a request header",
	  0, 0, opt_header },
	{ 'I', NULL, OPT_FLAG, O(head), 0, NULL, "send HEAD and print the response head", 0, 0, NULL },
	{ 'X', "request", OPT_FUNC, O(method), 0, "METHOD", "send METHOD (a token) instead of GET or POST",
	  0, 0, opt_method },
	{ 'd', "data", OPT_FUNC, O(body), 0, "DATA",
	  "POST DATA (@FILE, @- for stdin: CR and LF dropped); several joined with &", 0, 0, opt_data },
	{ 0, "data-binary", OPT_FUNC, O(body), 0, "DATA", "as -d, but @FILE is sent unchanged",
	  0, 0, opt_data_binary },
	{ 0, "data-urlencode", OPT_FUNC, O(body), 0, "[NAME]=TEXT|[NAME]@FILE",
	  "as -d, percent-encoding TEXT or FILE's content", 0, 0, opt_data_urlencode },
	{ 0, "json", OPT_FUNC, O(body), 0, "DATA",
	  "POST DATA (or @FILE) as application/json; several are joined", 0, 0, opt_json },
	{ 'F', "form", OPT_FUNC, O(form), 0, "NAME=TEXT|NAME=@FILE|NAME=<FILE",
	  "POST multipart/form-data; @FILE as a file (;type=MIME ;filename=NAME)", 0, 0, opt_form },
	{ 'T', "upload-file", OPT_FUNC, O(upload), 0, "FILE",
	  "PUT FILE (- for stdin, chunked when a pipe); a URL ending in / gets its name", 0, 0,
	  opt_upload },
	{ 'x', "proxy", OPT_STRING, O(proxy_url), 0, "URL",
	  "through a proxy: http://, socks5://, socks5h://,\nsocks4://, socks4a:// [USER:PASS@]HOST[:PORT]", 0, 0,
	  NULL },
	{ 0, "noproxy", OPT_STRING, O(noproxy), 0, "LIST",
	  "hosts (or domains, or *) reached without the proxy", 0, 0, NULL },
	{ 0, "unix-socket", OPT_STRING, O(unix_path), 0, "PATH",
	  "send the request over the Unix socket at PATH", 0, 0, NULL },
	{ 'G', "get", OPT_FLAG, O(get_query), 0, NULL, "send the data as the URL's query in a GET",
	  0, 0, NULL },
	{ 'u', "user", OPT_STRING, O(user), 0, "USER:PASS", "Basic authentication (to the first host only)",
	  0, 0, NULL },
	{ 'i', NULL, OPT_FLAG, O(include), 0, NULL, "print the response head before the body", 0, 0, NULL },
	{ 'v', NULL, OPT_FLAG, O(verbose), 0, NULL, "show the request and response heads on stderr",
	  0, 0, NULL },
	{ 'f', "fail", OPT_FLAG, O(fail), 0, NULL, "exit 7 without a body on a status of 400 or more",
	  0, 0, NULL },
	{ 'L', NULL, OPT_FLAG, O(follow), 0, NULL, "follow redirects (301 302 303 307 308)", 0, 0, NULL },
	{ 0, "max-redirs", OPT_COUNT, O(max_redirs), 0, "N", "at most N redirects (default 10)",
	  0, 1000, NULL },
	{ 'w', NULL, OPT_SECS, O(timeout_ms), 0, "SECS",
	  "timeout for connecting and for each read (exit 5)", 0, 0, NULL },
	{ '4', NULL, OPT_FLAG, O(family), 0, NULL, "IPv4 only", 0, AF_INET, NULL },
	{ '6', NULL, OPT_FLAG, O(family), 0, NULL, "IPv6 only", 0, AF_INET6, NULL },
	{ 's', NULL, OPT_FLAG, O(silent), 0, NULL, "silent: no progress bar, no message but errors",
	  0, 0, NULL },
	{ 0, "progress", OPT_FLAG, O(progress), 0, NULL,
	  "show the progress bar even when stderr is no terminal", 0, 0, NULL },
	OPT_END
};
#undef O

static int check_args(void *opts, char **args, int nargs, char *err)
{
	struct get_opts *o = opts;

	(void)nargs;
	o->url = args[0];
	if (o->resume && !o->out_path && !o->remote_name)
		nt_seterr(err, "--continue needs -o FILE or -O");
	else if (o->out_path && o->remote_name)
		nt_seterr(err, "-o and -O exclude each other");
	else if (o->user && !strchr(o->user, ':'))
		nt_seterr(err, "-u needs USER:PASS");
	else if (o->head && (o->body.fields || o->body.json) && !o->get_query)
		nt_seterr(err, "-I sends no body: use -X HEAD or -G with data");
	else if (o->proxy_url && *o->proxy_url &&
		 proxy_parse_url(o->proxy_url, &o->proxy, err) < 0)
		return -1;
	else if (!o->proxy_url && getenv("http_proxy") && *getenv("http_proxy") &&
		 proxy_parse_url(getenv("http_proxy"), &o->proxy, err) < 0)
		return -1;
	else if (o->upload && (o->body.fields || o->body.json || o->form.n))
		nt_seterr(err, "-T sends a file: it excludes -d, --json and -F");
	else if (o->form.n && (o->body.fields || o->body.json))
		nt_seterr(err, "-F excludes -d and --json (the body is one or the other)");
	else if ((o->upload || o->form.n) && (o->head || o->get_query))
		nt_seterr(err, "%s sends a body: it excludes -I and -G", o->upload ? "-T" : "-F");
	else
		return 0;
	return -1;
}

static void free_opts(struct get_opts *o)
{
	int i;

	buf_free(&o->body.data);
	for (i = 0; i < o->form.n; i++) {
		free(o->form.p[i].data);
		buf_free(&o->form.p[i].head);
		free(o->form.args[i]);
	}
}

/* A boundary that no in-memory part contains (files are checked as they
 * are sent), and the parts' heads. */
static int form_setup(struct fetch *f, struct form *fm)
{
	unsigned char rnd[16];
	int tries, i, clash = 1;

	for (tries = 0; clash && tries < 8; tries++) {
		util_random(rnd, sizeof rnd);
		mp_boundary(rnd, f->boundary);
		for (clash = 0, i = 0; i < fm->n && !clash; i++)
			clash = fm->p[i].data && mp_collides(f->boundary, fm->p[i].data, fm->p[i].len);
	}
	return clash || mp_build(fm->p, fm->n, f->boundary, &f->body_len) < 0 ? -1 : 0;
}

/* -T: a regular file (or stdin on one) goes with its length, anything
 * else chunked. */
static void upload_setup(struct fetch *f)
{
	const char *path = f->o->upload;
	struct stat st;
	int is_stdin = !strcmp(path, "-");

	if ((is_stdin ? fstat(STDIN_FILENO, &st) : stat(path, &st)) == 0 && S_ISREG(st.st_mode)) {
		off_t at = is_stdin ? lseek(STDIN_FILENO, 0, SEEK_CUR) : 0;

		f->kind = BK_FILE;
		f->up_start = at > 0 && at < st.st_size ? at : 0;
		f->body_len = (uint64_t)(st.st_size - f->up_start);
	} else {
		f->kind = BK_STREAM;
	}
}

/* The URL to start from: -G's query added, or -T's file name after a
 * final '/'. NULL when it is the URL as given; *rc set on failure. */
static char *start_url(const struct get_opts *o, int *rc)
{
	struct buf q = { NULL, 0, 0 };
	size_t ul = strlen(o->url);

	*rc = 0;
	if ((o->body.fields || o->body.json) && o->get_query) {
		buf_printf(&q, "%s%c", o->url, strchr(o->url, '?') ? '&' : '?');
		buf_append(&q, o->body.data.data ? o->body.data.data : "", o->body.data.len);
	} else if (o->upload && strcmp(o->upload, "-") && ul && o->url[ul - 1] == '/' &&
		   !strpbrk(o->url, "?#")) {
		const char *slash = strrchr(o->upload, '/');

		buf_append(&q, o->url, ul);
		url_escape(&q, slash ? slash + 1 : o->upload);
	} else {
		return NULL;
	}
	if (buf_putc(&q, '\0') < 0) {
		buf_free(&q);
		*rc = NT_EXIT_FAIL;
	}
	return q.data;
}

static int run(int argc, char **argv)
{
	struct get_opts o;
	struct fetch f;
	char *buf, *url2;
	int rc;

	memset(&o, 0, sizeof o);
	o.max_redirs = 10;
	o.family = AF_UNSPEC;
	rc = cmd_parse(&cmd_http_get, argc, argv, &o);
	if (rc) {
		free_opts(&o);
		return rc < 0 ? 0 : rc;
	}
	memset(&f, 0, sizeof f);
	f.o = &o;
	url2 = start_url(&o, &rc);
	f.url = url2 ? url2 : o.url;
	if (o.form.n) {
		f.kind = BK_FORM;
		if (form_setup(&f, &o.form) < 0)
			rc = NT_EXIT_FAIL;
	} else if (o.upload) {
		upload_setup(&f);
	} else if ((o.body.fields || o.body.json) && !o.get_query) {
		f.kind = BK_MEM;
		f.body_len = o.body.data.len;
	}
	f.fd = f.out_fd = -1;
	if (o.out_path)
		snprintf(f.final_path, sizeof f.final_path, "%s", o.out_path);
	f.started = util_now_ms();
	f.bar = !o.silent && !o.head && (o.progress || (isatty(STDERR_FILENO) &&
			(o.out_path || o.remote_name || !isatty(STDOUT_FILENO))));
	buf = malloc(GET_BUF);
	f.hp = malloc(sizeof *f.hp);
	if (!rc && (!buf || !f.hp)) {
		nt_warn(CMD, "out of memory");
		rc = NT_EXIT_FAIL;
	} else if (!rc) {
		rc = fetch_all(&f, buf);
	}
	progress(&f, 1);
	if (rc == 0)
		rc = finish_output(&f);
	else
		discard_output(&f);
	free(buf);
	free(f.hp);
	free(url2);
	free_opts(&o);
	return rc < 0 ? 0 : rc;
}

const struct cmd cmd_http_get = {
	CMD, run, "fetch an http:// URL (a small curl)", "[OPTIONS] URL",
	"Fetch an http:// URL (no TLS) and write the body to stdout.", get_opts_table, NULL, 0, 1, 1, check_args
};
