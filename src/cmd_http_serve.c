#define _XOPEN_SOURCE 700 /* realpath */
#ifdef __linux__
#define _GNU_SOURCE /* sendfile */
#include <sys/sendfile.h>
#endif
#include "nettool/buf.h"
#include "nettool/cmd.h"
#include "nettool/fwatch.h"
#include "nettool/http.h"
#include "nettool/loop.h"
#include "nettool/net.h"
#include "nettool/url.h"
#include "nettool/util.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CMD "http-serve"
#define IN_BUF (16 * 1024)
#define BODY_DISCARD_MAX ((uint64_t)1 << 20)
#define ACCEPT_PAUSE_MS 100
#define DRAIN_MS 2000
#define INLINE_MAX (64 * 1024) /* bodies up to this go out with the head */
/* Per sendfile call, with NOTSENT_LOWAT below: curl, 1 GiB, server in a
 * session of its own, five turns each: 32 KiB 4.13 GB/s, 64 KiB 4.57,
 * 128 KiB 4.68, 256 KiB 5.76 (wrk -c4: 4.31 against 3.99). At most
 * SENDFILE_BUDGET per readiness event, so that one fast download cannot
 * hold up the other connections of its worker. */
#define SENDFILE_CHUNK (256u << 10)
#define SENDFILE_BUDGET (1024u << 10)
#define NOTSENT_LOWAT (32u << 10)
#define FCACHE_SLOTS 512
#define POOL_MAX 128
#define OUT_START 2048            /* a head and a small body */
#define OUT_POOLED (16 * 1024)    /* larger output buffers are not kept */
#define FCACHE_MS 1000 /* how long an open file and its checks are reused */
#define MAX_THREADS 256
#define BULK_MIN (1u << 20) /* a body larger is sent from any CPU */
#define STEER_WINDOW 256 /* connections over which steer_check looks */

const char cmd_http_serve_usage[] =
	"usage: nettool http-serve [OPTIONS]\n"
	"Serve the files of a directory over HTTP/1.1 (GET and HEAD).\n\n"
	"  -d, --dir DIR             directory to serve (default .)\n"
	"  -p, --port PORT           port (default 8000; 0 picks a free one)\n"
	"  -b, --bind ADDR           address (default: all, IPv4 and IPv6)\n"
	"  -4, -6                    IPv4 or IPv6 only\n"
	"  -t, --threads N           worker threads (default: one per CPU)\n"
	"      --no-affinity         let threads move between CPUs\n"
	"      --no-list             403 for a directory without index.html\n"
	"      --follow-symlinks     serve symlinks that point outside DIR\n"
	"      --404 FILE            page to send with 404 responses\n"
	"      --log FILE            access log to FILE (default stderr)\n"
	"  -q, --quiet               no access log\n"
	"      --header-timeout SECS whole request head within SECS (default 10)\n"
	"      --keepalive-timeout SECS  close idle connections (default 5)\n"
	"      --max-clients N       connections at once, all threads (default 1024)\n"
	"  -h, --help                this help\n";

struct srv;

struct conn {
	struct loop_io io;
	struct loop_timer timer;
	struct srv *s;
	struct conn *prev, *next;
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
	int reading_body;         /* discarding a request body */
	uint64_t discarded;
	uint64_t head_started;    /* ms of the first byte of this request, 0 none */
	/* for the access log */
	char peer[NET_ADDR_LEN];
	char line[512];
	int status;
	uint64_t sent;
	int bulk;               /* a large body under way: see bulk_set */
	int lowat;              /* TCP_NOTSENT_LOWAT is set */
};

/* A file recently served: its descriptor, metadata and root check. */
struct fent {
	char *path;
	char *data;  /* the whole file when small */
	int fd, inside;
	int watched;            /* tok tells whether it changed, else a stat */
	struct fwatch_tok tok;
	struct stat st;
	uint64_t expires;
	char etag[64], lm[40];  /* formatted once */
	const char *mime;
};

/* What every worker shares: the options, read-only once they run. */
struct cfg {
	const char *dir, *host, *port_str, *page404, *log_path;
	char root[PATH_MAX];
	size_t root_len;
	int root_fd;            /* the root, so a stat walks only the path below it */
	struct fwatch *fw;      /* change notification, or NULL: then a stat per use */
	unsigned port;
	int family, no_list, follow, quiet, header_ms, keepalive_ms, no_affinity;
	unsigned long max_clients, threads;
	atomic_ulong nclients;  /* connections open, over all workers */
	FILE *log;
	int stop_rd;
	atomic_int stop_wr;     /* closing it tells every worker to stop */
	atomic_int shared;      /* some worker watches the first worker's listener */
	atomic_int steered;     /* connections go to the worker of their CPU */
	atomic_ulong accepts;   /* connections accepted, all workers */
};

/* A worker: one thread with its own loop, listener and connections. */
struct srv {
	struct cfg *cfg;
	pthread_t tid;
	struct loop *lp;
	struct loop_io lio, stop_io, sio, fwio;
	struct loop_timer pause, drain;
	int stopping, paused, own_listener, rc;
	int cpu;                /* the CPU it keeps to, or -1 */
	int nbulk;              /* its connections sending a large body */
	unsigned long taken, taken_base, accepts_base; /* for steer_check */
	struct conn *conns;
	char err[NT_ERR_LEN];
	time_t date_at;
	char date[40];          /* Date of every response, formatted once a second */
	struct fent fcache[FCACHE_SLOTS];
	/* request buffers of connections gone idle, for the next request */
	char *spare_in[POOL_MAX];
	struct http_parser *spare_hp[POOL_MAX];
	struct buf spare_out[POOL_MAX];
	size_t nspare_in, nspare_hp, nspare_out;
};

/* ---- small helpers ---- */

static const char *mime_type(const char *path)
{
	static const char *const table[][2] = {
		{ ".html", "text/html; charset=utf-8" }, { ".htm", "text/html; charset=utf-8" },
		{ ".txt", "text/plain; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" }, { ".json", "application/json" },
		{ ".xml", "application/xml" }, { ".svg", "image/svg+xml" },
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" },
		{ ".gif", "image/gif" }, { ".webp", "image/webp" }, { ".ico", "image/x-icon" },
		{ ".pdf", "application/pdf" }, { ".zip", "application/zip" },
		{ ".gz", "application/gzip" }, { ".tar", "application/x-tar" },
		{ ".wasm", "application/wasm" }, { ".mp4", "video/mp4" },
		{ ".mp3", "audio/mpeg" }, { ".woff2", "font/woff2" }, { ".md", "text/markdown; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	size_t i;

	if (dot && (!slash || dot > slash))
		for (i = 0; i < sizeof table / sizeof table[0]; i++)
			if (!strcasecmp(dot, table[i][0]))
				return table[i][1];
	return "application/octet-stream";
}

static void http_date(time_t t, char *out, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* The Date of every response, formatted once a second. */
static const char *date_now(struct srv *s)
{
	time_t now = time(NULL);

	if (now != s->date_at) {
		http_date(now, s->date, sizeof s->date);
		s->date_at = now;
	}
	return s->date;
}

static void validators(const struct stat *st, char *etag, size_t elen, char *lm, size_t llen)
{
	/* the inode and the time to the nanosecond too: a file replaced by
	 * one of the same size within the same second gets a new tag */
	snprintf(etag, elen, "\"%llx-%llx-%llx\"", (unsigned long long)st->st_ino,
		 (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
		 (unsigned long long)st->st_mtim.tv_nsec, (unsigned long long)st->st_size);
	http_date(st->st_mtime, lm, llen);
}

/* IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") to time_t, or -1. */
static time_t parse_http_date(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4];
	int d, y, h, m, sec, n = 0;
	struct tm tm;
	const char *p;
	long long days;

	if (sscanf(s, "%*3s, %2d %3s %4d %2d:%2d:%2d GMT%n", &d, mon, &y, &h, &m, &sec, &n) != 6 || !n)
		return -1;
	p = strstr(months, mon);
	if (!p || (p - months) % 3)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_mon = (int)(p - months) / 3;
	/* days from civil (proleptic Gregorian), no timezone involved */
	{
		int yy = y - (tm.tm_mon < 2), era = yy / 400, yoe = yy - era * 400;
		int mp = (tm.tm_mon + 10) % 12, doy = (153 * mp + 2) / 5 + d - 1;
		int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

		days = (long long)era * 146097 + doe - 719468;
	}
	return (time_t)(days * 86400 + h * 3600 + m * 60 + sec);
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

/* ---- from a request target to a file ---- */

#define MAX_SEGS 128

/*
 * Decode the path of target one segment at a time (so an encoded slash is
 * never a separator), drop "." and resolve ".." without climbing above
 * the root. Fills urlpath (decoded, normalized) and fs (under root).
 * Returns 0, or an HTTP status.
 */
static int map_path(const struct srv *s, const char *target, char *urlpath, size_t ulen,
		    char *fs, size_t flen, int *slash_end)
{
	char raw[URL_MAX], *segs[MAX_SEGS], *p, *save = NULL;
	size_t n, i, o, u;

	if (!strncasecmp(target, "http://", 7)) {
		target = strchr(target + 7, '/');
		if (!target)
			target = "/";
	}
	n = strcspn(target, "?#");
	if (target[0] != '/' || n >= sizeof raw)
		return 400;
	memcpy(raw, target, n);
	raw[n] = '\0';
	*slash_end = raw[n - 1] == '/';
	n = 0;
	for (p = strtok_r(raw, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (strstr(p, "%00") || url_unescape(p) < 0)
			return 400;
		if (strchr(p, '/'))
			return 404; /* an encoded slash names no file */
		if (!*p || !strcmp(p, "."))
			continue;
		if (!strcmp(p, "..")) {
			if (!n)
				return 400; /* above the root */
			n--;
			continue;
		}
		if (n == MAX_SEGS)
			return 414;
		segs[n++] = p;
	}
	o = strlen(s->cfg->root);
	if (o >= flen)
		return 414;
	memcpy(fs, s->cfg->root, o);
	for (i = 0, u = 0; i < n; i++) {
		size_t len = strlen(segs[i]);

		if (o + len + 2 > flen || u + len + 3 > ulen)
			return 414;
		fs[o++] = '/';
		memcpy(fs + o, segs[i], len);
		o += len;
		urlpath[u++] = '/';
		memcpy(urlpath + u, segs[i], len);
		u += len;
	}
	fs[o] = '\0';
	if (!n || *slash_end)
		urlpath[u++] = '/';
	urlpath[u] = '\0';
	return 0;
}

/* Whether fs, after symlinks, is inside the root. */
static int inside_root(const struct srv *s, const char *fs)
{
	char *real = realpath(fs, NULL);
	size_t rl = strlen(s->cfg->root);
	int ok;

	if (!real)
		return errno == ENOENT || errno == ENOTDIR ? -1 : 0;
	ok = !strncmp(real, s->cfg->root, rl) && (real[rl] == '\0' || real[rl] == '/' ||
					     (rl == 1 && s->cfg->root[0] == '/'));
	free(real);
	return ok;
}

/* ---- responses ---- */

static const char *reason_of(int status)
{
	switch (status) {
	case 200: return "OK";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

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
	if (!c->out.data && c->s->nspare_out)
		c->out = c->s->spare_out[--c->s->nspare_out];
	c->out.len = c->out_off = 0;
	buf_reserve(&c->out, OUT_START);
	buf_str(&c->out, "HTTP/1.1 ");
	buf_append(&c->out, code, 4);
	buf_str(&c->out, reason_of(status));
	buf_str(&c->out, "\r\nDate: ");
	buf_str(&c->out, date_now(c->s));
	buf_str(&c->out, "\r\nServer: nettool/" NT_VERSION "\r\n");
}

static void head_end(struct conn *c)
{
	buf_str(&c->out, c->keep ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
}

/* Respond with an HTML body (freed here). */
static void send_html(struct conn *c, int status, struct buf *body, int head_only)
{
	head_start(c, status);
	if (status == 405)
		buf_printf(&c->out, "Allow: GET, HEAD\r\n");
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
	const struct cfg *g = c->s->cfg;
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
			   "<body><h1>%d %s</h1></body></html>\n", status, reason_of(status),
			   status, reason_of(status));
	send_html(c, status, &body, head_only);
}

/* "bytes=a-b", "a-", "-n": 1 with [*from, *to], 0 to ignore, -1 unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
	const char *p;
	uint64_t a = 0, b = 0;
	int da = 0, db = 0;

	if (strncasecmp(h, "bytes=", 6))
		return 0;
	p = h + 6;
	if (strchr(p, ','))
		return 0; /* several ranges: the whole file, as RFC 9110 allows */
	for (; *p >= '0' && *p <= '9'; p++, da++) {
		if (a > (UINT64_MAX - 9) / 10)
			return -1;
		a = a * 10 + (uint64_t)(*p - '0');
	}
	if (*p++ != '-')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++, db++) {
		if (b > (UINT64_MAX - 9) / 10)
			b = UINT64_MAX; /* an end past any file is the end */
		else
			b = b * 10 + (uint64_t)(*p - '0');
	}
	if (*p || (!da && !db))
		return 0;
	if (!da) { /* the last b bytes */
		if (!b || !size)
			return -1;
		*from = b > size ? 0 : size - b;
		*to = size - 1;
		return 1;
	}
	if (a >= size || (db && b < a))
		return -1;
	*from = a;
	*to = !db || b >= size ? size - 1 : b;
	return 1;
}

static int etag_matches(const char *inm, const char *etag)
{
	const char *p = inm;
	size_t n = strlen(etag);

	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (!strncmp(p, "W/", 2))
			p += 2;
		if (!strncmp(p, etag, n) && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
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
 * what makes them fast; for a large body, sender and receiver on one CPU
 * take turns where they could run side by side (curl, 1 GiB: 3.2-3.8 GB/s
 * against 4.2-5.1 when free). So while it sends one, a worker may run
 * anywhere.
 */
static void bulk_set(struct conn *c, int on)
{
	struct srv *s = c->s;

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
		c->lowat = setsockopt(c->io.fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof v) == 0;
#else
	(void)c;
#endif
}

/* e: the file's cache entry (its descriptor, validators and, when small,
 * its bytes), or NULL */
static void serve_file(struct conn *c, const char *fs, const struct stat *st, int head_only,
		       const struct fent *e)
{
	struct http_parser *hp = c->hp;
	const char *inm = http_field(hp, "If-None-Match"), *ims = http_field(hp, "If-Modified-Since");
	const char *range = http_field(hp, "Range"), *data = e ? e->data : NULL;
	char etag_buf[64], lm_buf[40], num[24];
	const char *etag = etag_buf, *lm = lm_buf;
	uint64_t size = (uint64_t)st->st_size, from = 0, to = size ? size - 1 : 0;
	int r = 0, fd, cfd = e ? e->fd : -1;

	if (e) {
		etag = e->etag;
		lm = e->lm;
	} else {
		validators(st, etag_buf, sizeof etag_buf, lm_buf, sizeof lm_buf);
	}
	if ((inm && etag_matches(inm, etag)) ||
	    (!inm && ims && parse_http_date(ims) >= st->st_mtime)) {
		head_start(c, 304);
		buf_printf(&c->out, "ETag: %s\r\nLast-Modified: %s\r\n", etag, lm);
		head_end(c);
		return;
	}
	if (range)
		r = parse_range(range, size, &from, &to);
	if (r < 0) {
		head_start(c, 416);
		buf_printf(&c->out, "Content-Range: bytes */%llu\r\nContent-Length: 0\r\n",
			   (unsigned long long)size);
		head_end(c);
		return;
	}
	fd = head_only ? -1 : cfd >= 0 ? cfd : open(fs, O_RDONLY | O_CLOEXEC);
	if (!head_only && fd < 0) {
		send_error(c, errno == EACCES ? 403 : 404, head_only);
		return;
	}
	head_start(c, r > 0 ? 206 : 200);
	u64_str(size ? to - from + 1 : 0, num);
	buf_str(&c->out, "Content-Type: ");
	buf_str(&c->out, e ? e->mime : mime_type(fs));
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
	if (c->file_left && data) {
		buf_append(&c->out, data + from, (size_t)c->file_left);
		c->file_left = 0;
	} else if (c->file_left && c->file_left <= INLINE_MAX) {
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

static void fcache_drop(struct fent *e)
{
	if (e->path) {
		if (e->fd >= 0)
			close(e->fd);
		free(e->path);
		free(e->data);
	}
	memset(e, 0, sizeof *e);
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Whether cache entry e still names the file it holds, unchanged. */
static int fent_current(struct srv *s, struct fent *e, const char *fs, struct stat *st)
{
	const struct cfg *g = s->cfg;

	if (!e->path || loop_now(s->lp) >= e->expires || strcmp(e->path, fs))
		return 0;
	if (e->watched) {
		if (!fwatch_unchanged(g->fw, &e->tok))
			return 0;
		*st = e->st;
		return 1;
	}
	return fstatat(g->root_fd, fs[g->root_len] ? fs + g->root_len + 1 : ".", st, 0) == 0 &&
	       same_file(st, &e->st);
}

/*
 * Look fs up: 0 with its metadata, whether it lies inside the root, and
 * (for a regular file inside it) a descriptor owned by the cache, or -1
 * when it does not exist. The descriptor, the root check, the validators
 * and a small file's bytes are reused for up to FCACHE_MS while the path
 * names the same file, unchanged: known from change notification where
 * the system has it and the path allows, else from a stat per use. Either
 * way a file changed or replaced is served new on the next request.
 */
static int fs_lookup(struct srv *s, const char *fs, struct stat *st, int *inside,
		     const struct fent **out)
{
	uint32_t h = 2166136261u;
	const char *p;
	struct fent *e;
	struct fwatch_tok tok;
	int nfd, watched;

	for (p = fs; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	e = &s->fcache[h % FCACHE_SLOTS];
	if (fent_current(s, e, fs, st)) {
		*inside = e->inside;
		*out = e;
		return 0;
	}
	*inside = s->cfg->follow ? 1 : inside_root(s, fs);
	*out = NULL;
	if (*inside < 0 || stat(fs, st) < 0)
		return -1;
	if (!*inside || !(S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)))
		return 0;
	/* watched before it is opened, so no change can fall in between */
	watched = s->cfg->fw &&
		  fwatch_track(s->cfg->fw, fs + s->cfg->root_len + !!fs[s->cfg->root_len], &tok) == 0;
	if (!S_ISDIR(st->st_mode))
		nfd = open(fs, O_RDONLY | O_CLOEXEC);
	else if ((nfd = -1, stat(fs, st) < 0))
		return -1;
	if (S_ISREG(st->st_mode) ? nfd < 0 : !S_ISDIR(st->st_mode)) {
		if (nfd >= 0)
			close(nfd);
		return 0; /* not to be cached, or changed under us */
	}
	fcache_drop(e);
	if ((nfd >= 0 && fstat(nfd, st) < 0) || !(e->path = strdup(fs))) {
		if (nfd >= 0)
			close(nfd);
		return 0;
	}
	e->fd = nfd;
	e->inside = *inside;
	e->watched = watched;
	if (watched)
		e->tok = tok;
	e->st = *st;
	if (nfd >= 0 && st->st_size > 0 && st->st_size <= INLINE_MAX &&
	    (e->data = malloc((size_t)st->st_size)) &&
	    pread(nfd, e->data, (size_t)st->st_size, 0) != (ssize_t)st->st_size) {
		free(e->data);
		e->data = NULL;
	}
	e->expires = loop_now(s->lp) + FCACHE_MS;
	if (nfd >= 0) { /* what serving a file needs; a directory, only its checks */
		validators(st, e->etag, sizeof e->etag, e->lm, sizeof e->lm);
		e->mime = mime_type(fs);
	}
	*out = e;
	return 0;
}

static void html_escape(struct buf *b, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '<': buf_append(b, "&lt;", 4); break;
		case '>': buf_append(b, "&gt;", 4); break;
		case '&': buf_append(b, "&amp;", 5); break;
		case '"': buf_append(b, "&quot;", 6); break;
		case '\'': buf_append(b, "&#39;", 5); break;
		default: buf_putc(b, *s);
		}
}

static void url_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c))
			buf_putc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

/* A decoded path back to URL form: each segment escaped, slashes kept. */
static void url_escape_path(struct buf *b, const char *path)
{
	char seg[NAME_MAX + 1];

	while (*path) {
		size_t n = strcspn(path, "/");

		if (n) {
			snprintf(seg, sizeof seg, "%.*s", (int)n, path);
			url_escape(b, seg);
			path += n;
		}
		if (*path == '/') {
			buf_putc(b, '/');
			path++;
		}
	}
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void serve_listing(struct conn *c, const char *fs, const char *urlpath, int head_only)
{
	struct buf body = { NULL, 0, 0 };
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *e;
	DIR *d = opendir(fs);

	if (!d) {
		send_error(c, 403, head_only);
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		if (n == cap) {
			char **v = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *v);

			if (!v)
				break;
			names = v;
		}
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	closedir(d);
	if (n) /* names is NULL for an empty directory */
		qsort(names, n, sizeof *names, name_cmp);
	buf_printf(&body, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
	html_escape(&body, urlpath);
	buf_printf(&body, "</title></head><body><h1>Index of ");
	html_escape(&body, urlpath);
	buf_printf(&body, "</h1><table>\n");
	for (i = 0; i < n; i++) {
		char full[PATH_MAX + URL_MAX + 300], mt[64];
		struct stat st;
		int dir;

		snprintf(full, sizeof full, "%s/%s", fs, names[i]);
		if (stat(full, &st) < 0) {
			free(names[i]);
			continue;
		}
		dir = S_ISDIR(st.st_mode);
		http_date(st.st_mtime, mt, sizeof mt);
		buf_printf(&body, "<tr><td><a href=\"");
		url_escape(&body, names[i]);
		buf_printf(&body, "%s\">", dir ? "/" : "");
		html_escape(&body, names[i]);
		buf_printf(&body, "%s</a></td><td>%lld</td><td>%s</td></tr>\n", dir ? "/" : "",
			   dir ? -1LL : (long long)st.st_size, mt);
		free(names[i]);
	}
	free(names);
	buf_printf(&body, "</table></body></html>\n");
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

/* Whether a comma-separated field holds token (case-insensitive). */
static int has_token(const char *v, const char *token)
{
	size_t n = strlen(token);

	while (v && *v) {
		while (*v == ' ' || *v == ',')
			v++;
		if (!strncasecmp(v, token, n) && (v[n] == '\0' || v[n] == ',' || v[n] == ' '))
			return 1;
		v += strcspn(v, ",");
	}
	return 0;
}

/* Build the response to the request whose head hp holds. */
static void respond(struct conn *c)
{
	struct http_parser *hp = c->hp;
	const char *conn = http_field(hp, "Connection");
	char urlpath[URL_MAX + 2], fs[PATH_MAX + URL_MAX];
	int head_only = !strcmp(hp->method, "HEAD"), slash_end, st_code, in;
	const struct fent *e;
	struct stat st;

	c->keep = hp->minor >= 1 ? !has_token(conn, "close") : has_token(conn, "keep-alive");
	if (strcmp(hp->method, "GET") && !head_only) {
		send_error(c, is_known_method(hp->method) ? 405 : 501, 0);
		return;
	}
	if (hp->minor >= 1 && !http_field(hp, "Host")) {
		send_error(c, 400, head_only);
		return;
	}
	st_code = map_path(c->s, hp->target, urlpath, sizeof urlpath, fs, sizeof fs, &slash_end);
	if (st_code) {
		send_error(c, st_code, head_only);
		return;
	}
	if (fs_lookup(c->s, fs, &st, &in, &e) < 0) {
		send_error(c, 404, head_only);
		return;
	}
	if (!in) {
		send_error(c, 403, head_only);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		char index[sizeof fs + 16];
		struct stat ist;

		if (!slash_end && strcmp(urlpath, "/")) {
			head_start(c, 301);
			buf_printf(&c->out, "Location: ");
			url_escape_path(&c->out, urlpath);
			buf_printf(&c->out, "/\r\nContent-Length: 0\r\n");
			head_end(c);
			return;
		}
		snprintf(index, sizeof index, "%s/index.html", fs);
		if (fs_lookup(c->s, index, &ist, &in, &e) == 0 && S_ISREG(ist.st_mode) &&
		    in == 1) {
			serve_file(c, index, &ist, head_only, e);
			return;
		}
		if (c->s->cfg->no_list)
			send_error(c, 403, head_only);
		else
			serve_listing(c, fs, urlpath, head_only);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		send_error(c, 403, head_only);
		return;
	}
	serve_file(c, fs, &st, head_only, e);
}

/* ---- connections ---- */

/* Request buffers come from a small pool, so that busy keep-alive
 * connections do not allocate per request and idle ones hold none. */
static int take_buffers(struct conn *c)
{
	struct srv *s = c->s;

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
	struct srv *s = c->s;

	if (c->in && s->nspare_in < POOL_MAX)
		s->spare_in[s->nspare_in++] = c->in;
	else
		free(c->in);
	if (c->hp && s->nspare_hp < POOL_MAX)
		s->spare_hp[s->nspare_hp++] = c->hp;
	else
		free(c->hp);
	c->in = NULL;
	c->hp = NULL;
	if (c->out.data && c->out.cap <= OUT_POOLED && s->nspare_out < POOL_MAX) {
		c->out.len = 0;
		s->spare_out[s->nspare_out++] = c->out;
		memset(&c->out, 0, sizeof c->out);
	}
	buf_free(&c->out);
}

/*
 * Before closing: send FIN and read away what the client already sent
 * (up to a bound), so the close is not a reset that destroys the response
 * still in flight to it.
 */
static void linger(struct conn *c)
{
	char tmp[4096];
	int i;

	shutdown(c->io.fd, SHUT_WR);
	for (i = 0; i < 64; i++)
		if (read(c->io.fd, tmp, sizeof tmp) <= 0)
			break;
}

static void accept_resume(struct srv *s);

/* The body's file is done with (sent, or the connection is gone). */
static void drop_file(struct conn *c)
{
	if (c->file >= 0)
		close(c->file);
	c->file = -1;
	bulk_set(c, 0);
}

static void conn_close(struct conn *c)
{
	struct srv *s = c->s;

	if (c->sent)
		linger(c);
	loop_io_del(s->lp, &c->io);
	loop_timer_stop(s->lp, &c->timer);
	close(c->io.fd);
	drop_file(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	release_buffers(c);
	buf_free(&c->out);
	free(c);
	atomic_fetch_sub(&s->cfg->nclients, 1);
	if (s->paused && !s->stopping)
		accept_resume(s); /* a descriptor and a client slot are free */
	if (s->stopping && !s->conns)
		loop_stop(s->lp);
}

static void access_log(struct conn *c)
{
	struct srv *s = c->s;
	char date[64], line[sizeof c->line * 4 + 1];
	time_t now = time(NULL);
	struct tm tm;

	if (s->cfg->quiet || !c->status)
		return;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%d/%b/%Y:%H:%M:%S +0000", &tm);
	log_escape(c->line, line, sizeof line);
	fprintf(s->cfg->log, "%.*s - - [%s] \"%s\" %d %llu\n", (int)strcspn(c->peer, "]:") +
		(c->peer[0] == '[' ? 1 : 0), c->peer, date, line, c->status,
		(unsigned long long)c->sent);
	fflush(s->cfg->log);
}

static int writing(const struct conn *c)
{
	return c->out_off < c->out.len || c->file_left;
}

/* Send what the response has left. Returns -1 on a fatal error. */
static int conn_write(struct conn *c)
{
	size_t budget;

	while (c->out_off < c->out.len) {
		ssize_t n = write(c->io.fd, c->out.data + c->out_off, c->out.len - c->out_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		c->out_off += (size_t)n;
		c->sent += (uint64_t)n;
	}
	for (budget = SENDFILE_BUDGET; c->file_left && budget; ) {
		size_t want = c->file_left > SENDFILE_CHUNK ? SENDFILE_CHUNK : (size_t)c->file_left;
		ssize_t n;
#ifdef __linux__
		n = sendfile(c->io.fd, c->file, &c->file_off, want);
#else
		char tmp[65536];

		n = pread(c->file, tmp, want < sizeof tmp ? want : sizeof tmp, c->file_off);
		if (n > 0)
			n = write(c->io.fd, tmp, (size_t)n);
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
		c->sent += (uint64_t)n;
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

static void arm_idle(struct conn *c)
{
	loop_timer_set(c->s->lp, &c->timer, (uint64_t)c->s->cfg->keepalive_ms);
}

static int parse_input(struct conn *c);


/* A response is complete: log it, then close or wait for the next. */
static int response_done(struct conn *c)
{
	access_log(c);
	drop_file(c);
	c->out.len = c->out_off = 0;
	c->status = 0;
	if (!c->keep || c->s->stopping)
		return -1; /* c->sent stays: conn_close lingers */
	c->sent = 0;
	c->head_started = 0;
	c->discarded = 0;
	arm_idle(c);
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
	case HTTP_E_LINE: return hp->nlines == 0 ? 414 : 431;
	case HTTP_E_HEAD:
	case HTTP_E_COUNT: return 431;
	case HTTP_E_VERSION: return 505;
	default: return 400;
	}
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
		if (!c->head_started)
			c->head_started = loop_now(c->s->lp);
		if (ev == HTTP_EV_ERROR) {
			snprintf(c->line, sizeof c->line, "(bad request: %s)", c->hp->err);
			c->keep = 0;
			c->reading_body = 0;
			send_error(c, status_for(c->hp), 0);
			break;
		}
		if (ev == HTTP_EV_BODY) {
			c->discarded += c->hp->ev_len;
			if (c->discarded > BODY_DISCARD_MAX) {
				c->keep = 0;
				c->reading_body = 0;
				send_error(c, 413, 0);
				break;
			}
		} else if (ev == HTTP_EV_HEAD) {
			if (!c->s->cfg->quiet)
				snprintf(c->line, sizeof c->line, "%s %s HTTP/1.%d", c->hp->method,
				 c->hp->target, c->hp->minor);
			if (c->hp->body == HTTP_BODY_LENGTH && c->hp->length > BODY_DISCARD_MAX) {
				c->keep = 0;
				send_error(c, 413, 0);
				break;
			}
			respond(c);
			c->reading_body = c->hp->body == HTTP_BODY_CHUNKED ||
					  (c->hp->body == HTTP_BODY_LENGTH && c->hp->length);
		} else if (ev == HTTP_EV_DONE) {
			c->reading_body = 0;
			break;
		}
	}
	if (c->reading_body) {
		size_t none;

		/* the body may have ended exactly with the buffer */
		if (http_parse(c->hp, c->in + off, 0, &none) == HTTP_EV_DONE)
			c->reading_body = 0;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	if (writing(c) && !c->reading_body) {
		loop_timer_set(c->s->lp, &c->timer, (uint64_t)(c->s->cfg->header_ms > 10000 ? c->s->cfg->header_ms : 10000));
		if (conn_write(c) < 0)
			return -1;
		if (!writing(c))
			return response_done(c);
	} else if (c->head_started) {
		uint64_t end = c->head_started + (uint64_t)c->s->cfg->header_ms, now = loop_now(c->s->lp);

		loop_timer_set(c->s->lp, &c->timer, end > now ? end - now : 0);
	}
	return 0;
}

static void conn_cb(struct loop *lp, struct loop_io *io, int ev)
{
	struct conn *c = io->data;

	(void)lp;
	if (writing(c) && !c->reading_body) {
		if (conn_write(c) < 0 || (!writing(c) && response_done(c) < 0))
			goto close;
	} else if (ev & (LOOP_READ | LOOP_HUP)) {
		ssize_t n;

		if (take_buffers(c) < 0)
			goto close;
		if (c->in_len == IN_BUF) {
			/* a full buffer without a whole head: the parser's limits
			 * decide, so give it the bytes it has */
			if (parse_input(c) < 0)
				goto close;
			if (c->in_len == IN_BUF)
				goto close;
		}
		do
			n = read(io->fd, c->in + c->in_len, IN_BUF - c->in_len);
		while (n < 0 && errno == EINTR);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			goto close;
		if (n > 0) {
			c->in_len += (size_t)n;
			if (parse_input(c) < 0)
				goto close;
		}
	}
	if (loop_io_set(c->s->lp, io, writing(c) && !c->reading_body ? LOOP_WRITE : LOOP_READ) < 0)
		goto close;
	return;
close:
	access_log(c);
	conn_close(c);
}

static void timer_cb(struct loop *lp, struct loop_timer *t)
{
	struct conn *c = t->data;

	(void)lp;
	if (c->head_started && !writing(c)) {
		/* the whole head did not arrive in time: 408, then close */
		snprintf(c->line, sizeof c->line, "(request head timed out)");
		c->keep = 0;
		send_error(c, 408, 0);
		conn_write(c);
	}
	access_log(c);
	conn_close(c);
}

/* A new connection; its client slot (in cfg->nclients) is taken already. */
static void conn_new(struct srv *s, int fd, const struct sockaddr_storage *ss, socklen_t len)
{
	struct conn *c = calloc(1, sizeof *c);
	int one = 1; /* responses are written whole: no Nagle delay */

	if (!c)
		goto fail;
	c->s = s;
	c->file = -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->io.fd = fd;
	c->io.events = LOOP_READ;
	c->io.cb = conn_cb;
	c->io.data = c;
	c->timer.cb = timer_cb;
	c->timer.data = c;
	net_format_addr((const struct sockaddr *)ss, len, c->peer);
	if (loop_io_add(s->lp, &c->io, NULL) < 0)
		goto fail;
	c->next = s->conns;
	if (c->next)
		c->next->prev = c;
	s->conns = c;
	arm_idle(c);
	return;
fail:
	free(c);
	close(fd);
	atomic_fetch_sub(&s->cfg->nclients, 1);
}

/* Stop watching the listener for a while: out of descriptors, or at
 * --max-clients (then a connection of this worker closing, or the timer
 * for those of the others, resumes). Pending clients wait in the queue. */
static void accept_pause(struct srv *s)
{
	loop_io_set(s->lp, &s->lio, 0);
	loop_timer_set(s->lp, &s->pause, ACCEPT_PAUSE_MS);
	s->paused = 1;
}

static void accept_resume(struct srv *s)
{
	s->paused = 0;
	loop_timer_stop(s->lp, &s->pause);
	loop_io_set(s->lp, &s->lio, LOOP_READ);
}

static void pause_cb(struct loop *lp, struct loop_timer *t)
{
	struct srv *s = t->data;

	(void)lp;
	if (!s->stopping)
		accept_resume(s);
}

/* A client slot under --max-clients, counted over all workers. */
static int slot_take(struct cfg *g)
{
	if (atomic_fetch_add(&g->nclients, 1) < g->max_clients)
		return 1;
	atomic_fetch_sub(&g->nclients, 1);
	return 0;
}

/*
 * Steering by CPU keeps a connection on the CPU that took it in, which on
 * loopback is its client's; but where one CPU takes in every connection
 * (a network card with one queue), it would leave the other workers idle.
 * A worker that took more than half-way between its share and all of the
 * last STEER_WINDOW connections turns steering off for good.
 */
static void steer_check(struct srv *s)
{
	struct cfg *g = s->cfg;
	unsigned long all = atomic_fetch_add(&g->accepts, 1) + 1 - s->accepts_base;
	unsigned long mine = ++s->taken - s->taken_base;

	if (all < STEER_WINDOW || !atomic_load(&g->steered))
		return;
	/* mine / all > (1 / threads + 1) / 2 */
	if (2 * mine * g->threads > all * (g->threads + 1) && atomic_exchange(&g->steered, 0) &&
	    net_reuseport_by_cpu(s->lio.fd, 0) == 0)
		nt_warn(CMD, "connections arrive unevenly across CPUs: spreading them by address");
	s->accepts_base += all;
	s->taken_base = s->taken;
}

static void accept_cb(struct loop *lp, struct loop_io *io, int ev)
{
	struct srv *s = io->data;
	int i;

	(void)lp;
	(void)ev;
	for (i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		int fd;

		if (!slot_take(s->cfg)) {
			accept_pause(s);
			return;
		}
		fd = net_accept(io->fd, &ss, &len);
		if (fd < 0) {
			enum net_accept_next next = net_accept_next(errno);

			atomic_fetch_sub(&s->cfg->nclients, 1);
			if (next == NET_ACCEPT_DONE)
				return;
			if (next == NET_ACCEPT_SKIP)
				continue;
			accept_pause(s); /* out of descriptors or memory: no busy loop */
			return;
		}
		conn_new(s, fd, &ss, len);
		steer_check(s);
	}
}

static void drain_cb(struct loop *lp, struct loop_timer *t)
{
	(void)t;
	loop_stop(lp);
}

/* Change notification: events are read before any request of the same
 * wait looks at the cache. */
static void fwatch_cb(struct loop *lp, struct loop_io *io, int ev)
{
	struct srv *s = io->data;

	(void)lp;
	(void)ev;
	fwatch_drain(s->cfg->fw);
}

/* Tell every worker to stop (once, from any thread). */
static void stop_all(struct cfg *g)
{
	int fd = atomic_exchange(&g->stop_wr, -1);

	if (fd >= 0)
		close(fd); /* stop_rd turns readable in every worker's loop */
}

/* Stop accepting; responses in flight get DRAIN_MS to finish. */
static void stop_cb(struct loop *lp, struct loop_io *io, int ev)
{
	struct srv *s = io->data;
	struct conn *c, *next;

	(void)ev;
	s->stopping = 1;
	loop_io_del(lp, io);
	loop_io_del(lp, &s->lio);
	loop_timer_stop(lp, &s->pause);
	if (s->own_listener && !atomic_load(&s->cfg->shared)) {
		close(s->lio.fd); /* new clients are refused, not left waiting */
		s->lio.fd = -1;
	}
	for (c = s->conns; c; c = next) {
		next = c->next;
		if (!writing(c))
			conn_close(c);
	}
	if (!s->conns)
		loop_stop(lp);
	else
		loop_timer_set(lp, &s->drain, DRAIN_MS);
}

/* SIGINT/SIGTERM, seen by the first worker. */
static void signal_cb(struct loop *lp, struct loop_io *io, int ev)
{
	struct srv *s = io->data;

	(void)ev;
	loop_io_del(lp, io);
	stop_all(s->cfg);
}

static int worker_init(struct srv *s, struct cfg *g, int lfd, int own, int cpu, char *err)
{
	s->cfg = g;
	s->cpu = cpu;
	s->date_at = -1;
	s->lio.fd = lfd;
	s->own_listener = own;
	s->lio.events = s->stop_io.events = LOOP_READ;
	s->lio.cb = accept_cb;
	s->stop_io.fd = g->stop_rd;
	s->stop_io.cb = stop_cb;
	s->lio.data = s->stop_io.data = s->pause.data = s->drain.data = s;
	s->pause.cb = pause_cb;
	s->drain.cb = drain_cb;
	if (!(s->lp = loop_new(err)) || loop_io_add(s->lp, &s->lio, err) < 0 ||
	    loop_io_add(s->lp, &s->stop_io, err) < 0)
		return -1;
	if (g->fw) {
		s->fwio.fd = fwatch_fd(g->fw);
		s->fwio.events = LOOP_READ;
		s->fwio.cb = fwatch_cb;
		s->fwio.data = s;
		if (loop_io_add(s->lp, &s->fwio, err) < 0)
			return -1;
		loop_io_first(s->lp, &s->fwio);
	}
	return 0;
}

static void worker_free(struct srv *s)
{
	size_t i;

	s->stopping = 1;
	while (s->conns)
		conn_close(s->conns);
	for (i = 0; i < FCACHE_SLOTS; i++)
		fcache_drop(&s->fcache[i]);
	while (s->nspare_in)
		free(s->spare_in[--s->nspare_in]);
	while (s->nspare_hp)
		free(s->spare_hp[--s->nspare_hp]);
	while (s->nspare_out)
		buf_free(&s->spare_out[--s->nspare_out]);
	if (s->own_listener && s->lio.fd >= 0)
		close(s->lio.fd);
	loop_free(s->lp);
}

static void *worker_run(void *arg)
{
	struct srv *s = arg;

	if (s->cpu >= 0)
		util_pin_cpu(s->cpu);
	if (loop_run(s->lp, s->err) < 0) {
		s->rc = NT_EXIT_FAIL;
		stop_all(s->cfg);
	}
	return NULL;
}

static int parse_args(int argc, char **argv, struct cfg *g)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "threads", required_argument, NULL, 't' },
		{ "no-affinity", no_argument, NULL, 'A' },
		{ "no-list", no_argument, NULL, 'N' },
		{ "follow-symlinks", no_argument, NULL, 'F' },
		{ "404", required_argument, NULL, 'E' },
		{ "log", required_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "header-timeout", required_argument, NULL, 'T' },
		{ "keepalive-timeout", required_argument, NULL, 'K' },
		{ "max-clients", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char err[NT_ERR_LEN];
	unsigned long v;
	int ch;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":d:p:b:t:46qh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': g->dir = optarg; break;
		case 'p':
			if (util_parse_port(optarg, 1, &g->port, err) < 0)
				return cmd_usage_error(CMD, "%s", err);
			g->port_str = optarg;
			break;
		case 'b': g->host = optarg; break;
		case 't':
			if (util_parse_ulong(optarg, 1, MAX_THREADS, &g->threads, err) < 0)
				return cmd_usage_error(CMD, "--threads: %s", err);
			break;
		case '4': g->family = AF_INET; break;
		case '6': g->family = AF_INET6; break;
		case 'N': g->no_list = 1; break;
		case 'A': g->no_affinity = 1; break;
		case 'F': g->follow = 1; break;
		case 'E': g->page404 = optarg; break;
		case 'l': g->log_path = optarg; break;
		case 'q': g->quiet = 1; break;
		case 'T':
			if (util_parse_secs(optarg, &g->header_ms, err) < 0 || !g->header_ms)
				return cmd_usage_error(CMD, "--header-timeout: invalid '%s'", optarg);
			break;
		case 'K':
			if (util_parse_secs(optarg, &g->keepalive_ms, err) < 0 || !g->keepalive_ms)
				return cmd_usage_error(CMD, "--keepalive-timeout: invalid '%s'", optarg);
			break;
		case 'M':
			if (util_parse_ulong(optarg, 1, 1000000, &v, err) < 0)
				return cmd_usage_error(CMD, "--max-clients: %s", err);
			g->max_clients = v;
			break;
		case 'h': fputs(cmd_http_serve_usage, stdout); return -1;
		default: return cmd_bad_option(CMD, ch, argv);
		}
	}
	if (optind < argc)
		return cmd_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* Descriptors are what a server with many clients runs out of first: use
 * all the hard limit allows (poll and epoll have no FD_SETSIZE bound). */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? (rlim_t)1 << 20 : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* The root, the log, the first listener and the stop pipe. */
static int cfg_setup(struct cfg *g, int *lfd, char *err)
{
	struct addrinfo *ai = NULL;
	struct stat st;
	int flags = g->threads > 1 ? NET_REUSEPORT : 0, p[2];

	if (!realpath(g->dir, g->root) || stat(g->root, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    (g->root_fd = open(g->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		nt_seterr(err, "%s: %s", g->dir, errno ? strerror(errno) : "not a directory");
		return NT_EXIT_FAIL;
	}
	g->root_len = strlen(g->root); /* paths below it are ROOT/... ("//..." for "/") */
	g->fw = fwatch_new(g->root, err); /* without it, a stat per request */
	g->log = stderr;
	if (g->log_path && !(g->log = fopen(g->log_path, "a"))) {
		nt_seterr(err, "%s: %s", g->log_path, strerror(errno));
		return NT_EXIT_FAIL;
	}
	if (g->host && net_resolve(g->host, g->port_str, g->family, SOCK_STREAM, NET_PASSIVE,
				   &ai, err) < 0)
		return NT_EXIT_RESOLVE;
	raise_nofile();
	*lfd = net_listen(ai, g->port, g->family, SOCK_STREAM, 1024, flags, err);
	if (*lfd < 0 && flags && errno == ENOPROTOOPT) /* no SO_REUSEPORT: share one */
		*lfd = net_listen(ai, g->port, g->family, SOCK_STREAM, 1024, 0, err);
	if (ai)
		freeaddrinfo(ai);
	if (*lfd < 0)
		return NT_EXIT_FAIL;
	if (pipe(p) < 0) {
		nt_seterr(err, "pipe: %s", strerror(errno));
		return NT_EXIT_FAIL;
	}
	net_set_cloexec(p[0]);
	net_set_cloexec(p[1]);
	g->stop_rd = p[0];
	atomic_store(&g->stop_wr, p[1]);
	return 0;
}

static unsigned long default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : (unsigned long)n;
}

/* Start workers 1..n-1 on threads of their own (worker 0 is the caller);
 * each takes a listener of its own on the same port where SO_REUSEPORT
 * allows, else shares the first. Returns how many run, the caller's too. */
static unsigned long workers_start(struct srv *w, struct cfg *g, int lfd, char *err)
{
	sigset_t block, old;
	unsigned long i;
	/* one worker per CPU, each with its own listener: each takes the
	 * connections that arrive on its CPU, and stays there */
	int pin = !g->no_affinity && g->threads > 1 &&
		  (long)g->threads == util_cpus_from_zero() && net_reuseport_by_cpu(lfd, 1) == 0;

	atomic_store(&g->steered, pin);
	if (pin)
		w[0].cpu = 0; /* it runs once the others have started */

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old); /* signals go to worker 0 */
	for (i = 1; i < g->threads; i++) {
		int fd = net_listen_again(lfd, 1024, err), own = fd >= 0;

		if (!own)
			atomic_store(&g->shared, 1);
		if (worker_init(&w[i], g, own ? fd : lfd, own, pin ? (int)i : -1, err) < 0 ||
		    pthread_create(&w[i].tid, NULL, worker_run, &w[i]) != 0) {
			nt_warn(CMD, "running %lu of %lu threads", i, g->threads);
			worker_free(&w[i]);
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return i;
}

int cmd_http_serve(int argc, char **argv)
{
	struct cfg g;
	struct srv *w = NULL;
	char err[NT_ERR_LEN], addr[NET_ADDR_LEN];
	unsigned long i, running = 0;
	int rc, lfd = -1;

	memset(&g, 0, sizeof g);
	g.dir = ".";
	g.port = 8000;
	g.port_str = "8000";
	g.family = AF_UNSPEC;
	g.header_ms = 10000;
	g.keepalive_ms = 5000;
	g.max_clients = 1024;
	g.threads = default_threads();
	g.stop_rd = g.root_fd = -1;
	atomic_init(&g.nclients, 0);
	atomic_init(&g.stop_wr, -1);
	atomic_init(&g.shared, 0);
	rc = parse_args(argc, argv, &g);
	if (rc)
		return rc < 0 ? 0 : rc;
	errno = 0;
	rc = cfg_setup(&g, &lfd, err);
	if (rc == 0 && !(w = calloc(g.threads, sizeof *w))) {
		nt_seterr(err, "out of memory");
		rc = NT_EXIT_FAIL;
	}
	if (rc == 0) {
		w[0].sio.fd = -1;
		rc = worker_init(&w[0], &g, lfd, 1, -1, err) < 0 ? NT_EXIT_FAIL : 0;
		lfd = -1; /* worker 0 owns it now */
	}
	if (rc == 0 && (w[0].sio.fd = util_signal_pipe(err)) < 0)
		rc = NT_EXIT_FAIL;
	if (rc == 0) {
		w[0].sio.events = LOOP_READ;
		w[0].sio.cb = signal_cb;
		w[0].sio.data = &w[0];
		if (loop_io_add(w[0].lp, &w[0].sio, err) < 0)
			rc = NT_EXIT_FAIL;
	}
	if (rc == 0) {
		running = workers_start(w, &g, w[0].lio.fd, err);
		nt_warn(CMD, "listening on %s", net_fd_addr(w[0].lio.fd, 0, addr));
		worker_run(&w[0]);
		for (i = 1; i < running; i++)
			pthread_join(w[i].tid, NULL);
		for (i = 0; i < running; i++)
			if (w[i].rc) {
				rc = w[i].rc;
				snprintf(err, sizeof err, "%s", w[i].err);
			}
	}
	if (rc)
		nt_warn(CMD, "%s", err);
	if (w) {
		/* a shared listener belongs to worker 0: free it last */
		for (i = running; i-- > 0;)
			worker_free(&w[i]);
		if (!running)
			worker_free(&w[0]);
		util_signal_pipe_close(w[0].sio.fd);
		free(w);
	}
	if (lfd >= 0)
		close(lfd);
	stop_all(&g);
	if (g.stop_rd >= 0)
		close(g.stop_rd);
	if (g.root_fd >= 0)
		close(g.root_fd);
	fwatch_free(g.fw);
	if (g.log && g.log != stderr)
		fclose(g.log);
	return rc;
}
