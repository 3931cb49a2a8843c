#include "nettool/base/buf.h"
#include "nettool/base/util.h"
#include "nettool/core/cmd.h"
#include "nettool/core/sockopt.h"
#include "nettool/core/net.h"
#include "nettool/http/client.h"
#include "nettool/http/client_cookie.h"
#include "nettool/http/client_out.h"
#include "nettool/http/client_retry.h"
#include "nettool/proto/writeout.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CMD "http-get"

struct get_opts {
	const char *url, *out_path, *method, *user, *upload;
	const char *proxy_url, *noproxy, *unix_path;
	struct proxy proxy;     /* from -x or http_proxy; type PROXY_NONE: none */
	struct hc_headers extra;
	struct hc_data body;   /* -d, --data-binary, --data-urlencode, --json */
	struct hc_form form;
	unsigned long max_redirs;
	int head, include, verbose, fail, follow, connect_ms, max_ms;
	const char *write_out;  /* -w FORMAT, or @FILE */
	struct hc_retry retry;
	struct hc_cookies cookies;
	int family, silent, progress, resume, remote_name, get_query;
	struct sockopts so;
};

/* One run: the connection, and where the body goes. */
struct fetch {
	const struct get_opts *o;
	const char *url;        /* with -G, the URL with the data as its query */
	struct hc_body body;
	struct hc_route route;
	struct hc_conn conn;
	struct hc_out out;
	struct hc_cookies *cookies;
	const struct url *u;    /* the URL being fetched */
	unsigned long long got, total;
	uint64_t started, drawn;
	int bar, uploading;
	int redirect;           /* the response is a redirect to follow */
	/* for --write-out */
	uint64_t t0, t_last;    /* the start; the last request's (us) */
	unsigned long redirs;
	uint64_t body_in, head_in;
	char method[HC_METHOD_MAX];
	char url_eff[URL_MAX], redirect_url[URL_MAX];
	char errmsg[NT_ERR_LEN];
	int wout_trunc;         /* %output{FILE} truncated once */
	int got_head;           /* the last request's response head came */
	/* --retry */
	struct hc_retry retry;
	int retry_status;       /* the response is dropped to be tried again */
	long long retry_wait;   /* ms before that */
	uint64_t wrote;         /* bytes this attempt put into the output */
};

/* An attempt's error, kept for %{errormsg}; said once it is known
 * whether the attempt is tried again. */
static void keep_err(struct fetch *f, const char *err)
{
	snprintf(f->errmsg, sizeof f->errmsg, "%s", err);
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

/* Where the body goes; a failure said here. */
static int open_output(struct fetch *f, int append)
{
	char err[NT_ERR_LEN];

	if (hc_out_open(&f->out, append, err) < 0) {
		keep_err(f, err);
		return NT_EXIT_FAIL;
	}
	return 0;
}

static int finish_output(struct fetch *f)
{
	char err[NT_ERR_LEN];

	if (hc_out_finish(&f->out, err) < 0) {
		keep_err(f, err);
		nt_warn(CMD, "%s", err);
		return NT_EXIT_FAIL;
	}
	return 0;
}

static int write_out(struct fetch *f, const char *p, size_t n)
{
	if (net_write_full(f->out.fd, p, n) < 0) {
		if (errno == EPIPE && f->out.fd == STDOUT_FILENO)
			return -1;
		nt_warn(CMD, "write %s: %s", f->out.path[0] ? f->out.path : "stdout",
			strerror(errno));
		return NT_EXIT_FAIL;
	}
	f->got += n;
	f->wrote += n;
	progress(f, 0);
	return 0;
}

/* ---- the response ---- */

/* Whether what this attempt did can be done again: a body read from a
 * pipe cannot be sent twice, nor can standard output take back what it
 * was given (a file's temporary is dropped; a continued one resumed). */
static int replayable(const struct fetch *f)
{
	return !f->body.pipe_used && (!f->wrote || f->out.tmp[0] || f->o->resume);
}

/* A retry is due but cannot be made: say why. */
static void not_again(const struct fetch *f)
{
	if (!f->o->silent)
		nt_warn(CMD, "not tried again: %s", f->wrote ?
			"part of the body went to standard output" : "the body was read from a pipe");
}

/* A status --retry tries again, with a retry left: the response is
 * dropped, unread. */
static int retry_for_status(struct fetch *f, const struct http_parser *hp)
{
	long long after = hc_retry_after(hp, time(NULL));

	if (!hc_retry_wanted(&f->retry, 0, hp->status, after, util_now_ms(), &f->retry_wait))
		return 0;
	if (!replayable(f)) {
		not_again(f);
		return 0;
	}
	f->retry_status = hp->status;
	return 1;
}

/* The head arrived: print it as asked and decide what to do with the body. */
static int on_head(void *ctx, const struct http_parser *hp, int *more)
{
	struct fetch *f = ctx;
	const struct get_opts *o = f->o;
	struct buf b = { NULL, 0, 0 };
	int rc;

	*more = 0;
	f->got_head = 1;
	hc_cookies_take(f->cookies, hp, f->u);
	f->head_in += hp->offset; /* every head's bytes, 1xx and redirects too */
	if (o->follow && hc_is_redirect(hp->status) && http_field(hp, "Location")) {
		f->redirect = 1;
		return 0;
	}
	if (retry_for_status(f, hp))
		return 0;
	if (o->fail && hp->status >= 400) {
		nt_warn(CMD, "HTTP error %d %s", hp->status, hp->reason);
		snprintf(f->errmsg, sizeof f->errmsg, "The requested URL returned error: %d",
			 hp->status);
		return NT_EXIT_HTTP;
	}
	if (o->resume && hp->status == 416)
		return 0; /* nothing left to fetch */
	*more = 1;
	rc = open_output(f, o->resume && hp->status == 206);
	if (rc == 0 && (o->include || o->head)) {
		hc_head_text(hp, &b);
		if (net_write_full(f->out.fd, b.data, b.len) < 0)
			rc = NT_EXIT_FAIL;
		f->wrote += b.len;
		buf_free(&b);
	}
	if (hp->body == HTTP_BODY_LENGTH)
		f->total = hp->length;
	return rc;
}

static int on_body(void *ctx, const char *p, size_t n)
{
	struct fetch *f = ctx;

	f->body_in += n;
	return f->o->head ? 0 : write_out(f, p, n);
}

/* -v: the heads on stderr. */
static void trace(void *ctx, const char *prefix, const char *p, size_t n)
{
	(void)ctx;
	show_lines(prefix, p, n);
}

/* The progress bar follows the upload, then starts again for the answer. */
static void uploaded(void *ctx, uint64_t done, uint64_t total)
{
	struct fetch *f = ctx;

	f->uploading = 1;
	f->got = done;
	f->total = total;
	progress(f, 0);
}

/* ---- the requests ---- */

static int request_once(struct fetch *f, struct hc_request *rq, const struct url *u)
{
	const struct hc_sink sink = { f, on_head, on_body };
	char err[NT_ERR_LEN];
	int rc;

	f->redirect = 0;
	f->t_last = util_now_us();
	f->body_in = 0;
	f->got_head = 0;
	memcpy(f->method, rq->method, sizeof f->method);
	rc = hc_open(&f->conn, u, err);
	if (rc == 0) {
		rc = hc_send(&f->conn, rq, u, err);
		if (f->uploading) {
			progress(f, 1);
			f->uploading = 0;
			f->got = f->total = 0;
			f->started = util_now_ms();
		}
	}
	if (rc == 0)
		rc = hc_receive(&f->conn, rq, &sink, err);
	if (rc > 0 && err[0])
		keep_err(f, err);
	hc_close(&f->conn);
	return rc;
}

/* The request as the options make it, for the first URL. */
static void first_request(struct fetch *f, struct hc_request *rq)
{
	const struct get_opts *o = f->o;
	enum hc_body_kind k = f->body.kind;

	memset(rq, 0, sizeof *rq);
	snprintf(rq->method, sizeof rq->method, "%s", o->method ? o->method : o->head ? "HEAD"
		 : k == HC_BODY_FILE || k == HC_BODY_STREAM ? "PUT" : k ? "POST" : "GET");
	rq->headers = o->extra.v;
	rq->nheaders = o->extra.n;
	rq->user = o->user;
	rq->send_body = k != HC_BODY_NONE;
	rq->accept_json = o->body.json;
	rq->body = &f->body;
}

static int fetch_all(struct fetch *f)
{
	const struct get_opts *o = f->o;
	char cur[URL_MAX], next[URL_MAX], err[NT_ERR_LEN], first_host[300] = "";
	struct url *u = malloc(sizeof *u);
	unsigned long redirs = 0;
	struct hc_request rq;
	int rc;

	if (!u)
		return NT_EXIT_FAIL;
	first_request(f, &rq);
	snprintf(cur, sizeof cur, "%s", f->url);
	for (;;) {
		char here[300];

		if ((rc = hc_check_url(cur, u, redirs > 0, err)) != 0) {
			keep_err(f, err);
			break;
		}
		snprintf(here, sizeof here, "%s:%u", u->host, u->port);
		if (!redirs)
			memcpy(first_host, here, sizeof here);
		/* credentials go to the first host only */
		rq.send_auth = !strcasecmp(here, first_host);
		if (o->remote_name && !f->out.path[0])
			url_file_name(u, f->out.path, sizeof f->out.path);
		if (o->resume)
			rq.from = hc_out_size(&f->out);
		memcpy(f->url_eff, cur, sizeof cur);
		f->u = u;
		rq.cookie = hc_cookies_for(f->cookies, u);
		f->redirs = redirs;
		rc = request_once(f, &rq, u);
		if (rc || !f->redirect) {
			const char *loc = f->got_head ? http_field(f->conn.hp, "Location") : NULL;

			if (!rc && loc && hc_is_redirect(f->conn.hp->status) &&
			    url_resolve(cur, loc, f->redirect_url, URL_MAX, err) < 0)
				f->redirect_url[0] = '\0';
			break;
		}
		if ((rc = hc_redirect(&rq, f->conn.hp, cur, next, err)) != 0) {
			keep_err(f, err);
			break;
		}
		if (++redirs > o->max_redirs) {
			nt_warn(CMD, "more than %lu redirects", o->max_redirs);
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

/* The transfer, tried again as --retry says; an attempt's error is said
 * here, with the retry that follows it. */
static int fetch_retrying(struct fetch *f)
{
	const struct get_opts *o = f->o;
	int rc;

	f->retry = o->retry;
	hc_retry_start(&f->retry, util_now_ms());
	for (;;) {
		long long wait = 0;
		int status;

		f->retry_status = 0;
		f->wrote = f->got = 0;
		f->errmsg[0] = '\0';
		f->route.deadline_ms = o->max_ms > 0 ? util_now_ms() + (uint64_t)o->max_ms : 0;
		rc = fetch_all(f);
		status = f->retry_status ? f->retry_status : f->got_head ? f->conn.hp->status : 0;
		if (f->retry_status) {
			wait = f->retry_wait;
		} else if (!rc || !hc_retry_wanted(&f->retry, rc, status, -1, util_now_ms(), &wait)) {
			break;
		} else if (!replayable(f)) {
			not_again(f);
			break;
		}
		if (!o->silent) {
			char why[NT_ERR_LEN + 32];

			if (f->retry_status)
				snprintf(why, sizeof why, "HTTP %d %s", status, f->conn.hp->reason);
			else
				snprintf(why, sizeof why, "%s", f->errmsg[0] ? f->errmsg : "failed");
			nt_warn(CMD, "%s: retrying in %g s, %lu %s left", why, (double)wait / 1000.0,
				f->retry.max - f->retry.done,
				f->retry.max - f->retry.done == 1 ? "retry" : "retries");
		}
		hc_out_discard(&f->out);
		progress(f, 1);
		util_sleep_ms(wait);
		hc_retry_take(&f->retry);
	}
	progress(f, 1);
	if (rc > 0 && f->errmsg[0])
		nt_warn(CMD, "%s", f->errmsg);
	return rc;
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
	  0, 0, hc_opt_header },
	{ 'I', NULL, OPT_FLAG, O(head), 0, NULL, "send HEAD and print the response head", 0, 0, NULL },
	{ 'X', "request", OPT_FUNC, O(method), 0, "METHOD", "send METHOD (a token) instead of GET or POST",
	  0, 0, hc_opt_method },
	{ 'd', "data", OPT_FUNC, O(body), 0, "DATA",
	  "POST DATA (@FILE, @- for stdin: CR and LF dropped); several joined with &", 0, 0, hc_opt_data },
	{ 0, "data-binary", OPT_FUNC, O(body), 0, "DATA", "as -d, but @FILE is sent unchanged",
	  0, 0, hc_opt_data_binary },
	{ 0, "data-urlencode", OPT_FUNC, O(body), 0, "[NAME]=TEXT|[NAME]@FILE",
	  "as -d, percent-encoding TEXT or FILE's content", 0, 0, hc_opt_data_urlencode },
	{ 0, "json", OPT_FUNC, O(body), 0, "DATA",
	  "POST DATA (or @FILE) as application/json; several are joined", 0, 0, hc_opt_json },
	{ 'F', "form", OPT_FUNC, O(form), 0, "NAME=TEXT|NAME=@FILE|NAME=<FILE",
	  "POST multipart/form-data; @FILE as a file (;type=MIME ;filename=NAME)", 0, 0, hc_opt_form },
	{ 'T', "upload-file", OPT_FUNC, O(upload), 0, "FILE",
	  "PUT FILE (- for stdin, chunked when a pipe); a URL ending in / gets its name", 0, 0,
	  hc_opt_upload },
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
	{ 'b', "cookie", OPT_FUNC, O(cookies), 0, "'N=V; N2=V2'|FILE",
	  "send these cookies, or those of a cookie FILE", 0, 0, hc_opt_cookie },
	{ 'c', "cookie-jar", OPT_STRING, O(cookies.save_path), 0, "FILE",
	  "keep cookies, then write them all to FILE (- stdout)", 0, 0, NULL },
	{ 'j', "junk-session-cookies", OPT_FLAG, O(cookies.junk_session), 0, NULL,
	  "leave out a -b file's cookies for one session", 0, 0, NULL },
	{ 'i', NULL, OPT_FLAG, O(include), 0, NULL, "print the response head before the body", 0, 0, NULL },
	SOCKOPT_OPTS_LONG(struct get_opts, so),
	{ 'v', NULL, OPT_FLAG, O(verbose), 0, NULL, "show the request and response heads on stderr",
	  0, 0, NULL },
	{ 'f', "fail", OPT_FLAG, O(fail), 0, NULL, "exit 7 without a body on a status of 400 or more",
	  0, 0, NULL },
	{ 'L', NULL, OPT_FLAG, O(follow), 0, NULL, "follow redirects (301 302 303 307 308)", 0, 0, NULL },
	{ 0, "max-redirs", OPT_COUNT, O(max_redirs), 0, "N", "at most N redirects (default 10)",
	  0, 1000, NULL },
	{ 'w', "write-out", OPT_STRING, O(write_out), 0, "FORMAT",
	  "after the transfer write FORMAT with %{http_code}\nand curl's other variables (@FILE: read it)",
	  0, 0, NULL },
	{ 0, "connect-timeout", OPT_SECS, O(connect_ms), 0, "SECS", "at most SECS to connect (exit 5)",
	  0, 0, NULL },
	{ 'm', "max-time", OPT_SECS, O(max_ms), 0, "SECS",
	  "at most SECS for the whole transfer, each try\nof --retry alike (exit 5)", 0, 0, NULL },
	{ 0, "retry", OPT_COUNT, O(retry.max), 0, "N",
	  "try again up to N times after a timeout or a status\n408 429 500 502 503 504 (Retry-After honoured)",
	  0, 1000000, NULL },
	{ 0, "retry-delay", OPT_SECS, O(retry.delay_ms), 0, "SECS",
	  "wait SECS between tries (default, or 0: 1 s doubling\nto 10 min)", 0, 0, NULL },
	{ 0, "retry-max-time", OPT_SECS, O(retry.max_time_ms), 0, "SECS",
	  "start no retry that would end past SECS from the first try", 0, 0, NULL },
	{ 0, "retry-all-errors", OPT_FLAG, O(retry.all_errors), 0, NULL,
	  "with --retry: try again after any error", 0, 0, NULL },
	{ 0, "retry-connrefused", OPT_FLAG, O(retry.connrefused), 0, NULL,
	  "with --retry: try again when the connection is refused", 0, 0, NULL },
	{ '4', NULL, OPT_FLAG, O(family), 0, NULL, "IPv4 only", 0, AF_INET, NULL },
	{ '6', NULL, OPT_FLAG, O(family), 0, NULL, "IPv6 only", 0, AF_INET6, NULL },
	{ 's', NULL, OPT_FLAG, O(silent), 0, NULL, "silent: no progress bar, no message but errors",
	  0, 0, NULL },
	{ 0, "progress", OPT_FLAG, O(progress), 0, NULL,
	  "show the progress bar even when stderr is no terminal", 0, 0, NULL },
	OPT_END
};
#undef O

/* The URL given: one http-get can fetch, or a usage error. */
static int url_usable(const char *s, char *err)
{
	struct url *u = malloc(sizeof *u);
	int rc;

	if (!u) {
		nt_seterr(err, "out of memory");
		return -1;
	}
	rc = hc_check_url(s, u, 0, err);
	free(u);
	return rc ? -1 : 0;
}

static int check_args(void *opts, char **args, int nargs, char *err)
{
	struct get_opts *o = opts;

	(void)nargs;
	o->url = args[0];
	if (url_usable(o->url, err) < 0)
		return -1;
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
	hc_cookies_free(&o->cookies);
	for (i = 0; i < o->form.n; i++) {
		free(o->form.p[i].data);
		buf_free(&o->form.p[i].head);
		free(o->form.args[i]);
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

/* The body the options describe. 0, or an exit status. */
static int body_setup(struct fetch *f, struct get_opts *o)
{
	struct hc_body *b = &f->body;

	if (o->form.n)
		return hc_body_form(b, o->form.p, o->form.n) < 0 ? NT_EXIT_FAIL : 0;
	if (o->upload) {
		hc_body_upload(b, o->upload);
	} else if ((o->body.fields || o->body.json) && !o->get_query) {
		b->kind = HC_BODY_MEM;
		b->type = o->body.json ? "application/json" : "application/x-www-form-urlencoded";
		b->data = o->body.data.data;
		b->len = o->body.data.len;
	}
	return 0;
}

/* ---- --write-out ---- */

static void wout_emit(void *ctx, enum wo_stream st, const char *file, const char *p, size_t n)
{
	struct fetch *f = ctx;
	int fd = st == WO_STDOUT ? STDOUT_FILENO : st == WO_STDERR ? STDERR_FILENO : -1;

	if (fd < 0) { /* %output{FILE}: truncated once, then added to */
		fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC |
			  (st == WO_FILE && !f->wout_trunc ? O_TRUNC : O_APPEND), 0666);
		f->wout_trunc |= st == WO_FILE;
		if (fd < 0) {
			nt_warn(CMD, "--write-out: %s: %s", file, strerror(errno));
			return;
		}
	}
	if (net_write_full(fd, p, n) < 0 && errno != EPIPE)
		nt_warn(CMD, "--write-out: %s", strerror(errno));
	if (fd > STDERR_FILENO)
		close(fd);
}

static void wout_unknown(void *ctx, const char *name, size_t n)
{
	(void)ctx;
	nt_warn(CMD, "unknown --write-out variable: '%.*s'", (int)n, name);
}

static double since(const struct fetch *f, uint64_t t)
{
	return t > f->t0 ? (double)(t - f->t0) / 1e6 : 0.0;
}

/* After the transfer, as curl: its figures in the -w format. */
static void write_out_format(struct fetch *f, int rc)
{
	const struct hc_stats *st = &f->conn.st;
	const struct http_parser *hp = f->got_head ? f->conn.hp : NULL;
	struct wo_sink sink = { f, wout_emit, wout_unknown };
	struct buf fmt = { NULL, 0, 0 };
	struct wo_data d;
	char err[NT_ERR_LEN];

	if (f->o->write_out[0] == '@') {
		if (hc_read_whole(&fmt, f->o->write_out + 1, err) < 0 || buf_putc(&fmt, '\0') < 0) {
			nt_warn(CMD, "--write-out: %s", err);
			buf_free(&fmt);
			return;
		}
	}
	memset(&d, 0, sizeof d);
	d.http_code = hp ? hp->status : 0;
	d.http_minor = hp ? hp->minor : -1;
	d.size_download = f->body_in;
	d.size_upload = f->conn.up_done;
	d.size_header = hp ? f->head_in : 0;
	d.size_request = st->head_out + f->conn.up_done;
	d.time_namelookup = since(f, st->resolved);
	d.time_connect = since(f, st->connected);
	d.time_pretransfer = since(f, st->sent_head);
	d.time_starttransfer = since(f, st->first_byte);
	d.time_redirect = f->redirs ? since(f, f->t_last) : 0.0;
	d.time_total = since(f, util_now_us());
	d.num_redirects = (long)f->redirs;
	d.num_connects = (long)st->connects;
	d.remote_port = st->remote_port;
	d.local_port = st->local_port;
	d.exitcode = rc;
	d.redirect_url = f->redirect_url;
	d.url = f->url;
	d.url_effective = f->url_eff[0] ? f->url_eff : f->url;
	d.content_type = hp ? http_field(hp, "Content-Type") : NULL;
	d.remote_ip = st->remote_ip;
	d.local_ip = st->local_ip;
	d.errormsg = rc ? f->errmsg : NULL;
	d.filename_effective = f->out.path;
	d.method = f->method;
	d.scheme = "HTTP";
	d.fields = hp ? hp->fields : NULL;
	d.nfields = hp ? hp->nfields : 0;
	wo_render(fmt.data ? fmt.data : f->o->write_out, &d, &sink);
	buf_free(&fmt);
}

static int run(int argc, char **argv)
{
	struct get_opts o;
	struct fetch f;
	char *url2, err[NT_ERR_LEN];
	int rc;

	memset(&o, 0, sizeof o);
	o.max_redirs = 10;
	o.family = AF_UNSPEC;
	rc = cmd_parse(&cmd_http_get, argc, argv, &o);
	if (rc) {
		free_opts(&o);
		return rc < 0 ? 0 : rc;
	}
	net_use_sockopts(&o.so);
	memset(&f, 0, sizeof f);
	f.o = &o;
	url2 = start_url(&o, &rc);
	f.url = url2 ? url2 : o.url;
	if (!rc)
		rc = body_setup(&f, &o);
	f.cookies = &o.cookies;
	if (!rc && hc_cookies_load(&o.cookies, err) < 0) {
		nt_warn(CMD, "%s", err);
		o.cookies.save_path = NULL; /* a jar not read whole is not written back */
		rc = NT_EXIT_FAIL;
	}
	f.route.proxy = &o.proxy;
	f.route.noproxy = o.noproxy;
	f.route.unix_path = o.unix_path;
	f.route.family = o.family;
	f.route.connect_ms = o.connect_ms;
	f.t0 = util_now_us();
	f.out.fd = -1;
	if (o.out_path)
		snprintf(f.out.path, sizeof f.out.path, "%s", o.out_path);
	f.started = util_now_ms();
	f.bar = !o.silent && !o.head && (o.progress || (isatty(STDERR_FILENO) &&
			(o.out_path || o.remote_name || !isatty(STDOUT_FILENO))));
	if (hc_init(&f.conn, &f.route) < 0) {
		nt_warn(CMD, "out of memory");
		rc = NT_EXIT_FAIL;
	}
	f.conn.ctx = &f;
	f.conn.trace = o.verbose ? trace : NULL;
	f.conn.uploaded = uploaded;
	if (!rc)
		rc = fetch_retrying(&f);
	progress(&f, 1);
	if (rc == 0)
		rc = finish_output(&f);
	else
		hc_out_discard(&f.out);
	if (o.write_out)
		write_out_format(&f, rc < 0 ? 0 : rc);
	if (hc_cookies_save(&o.cookies, err) < 0) {
		nt_warn(CMD, "cookie jar: %s", err);
		rc = rc > 0 ? rc : NT_EXIT_FAIL;
	}
	hc_free(&f.conn);
	free(url2);
	free_opts(&o);
	return rc < 0 ? 0 : rc;
}

const struct cmd cmd_http_get = {
	CMD, run, "fetch an http:// URL (a small curl)", "[OPTIONS] URL",
	"Fetch an http:// URL (no TLS) and write the body to stdout.", get_opts_table, NULL, 0, 1, 1, check_args
};
