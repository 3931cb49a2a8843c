#include "nettool/base/buf.h"
#include "nettool/base/util.h"
#include "nettool/core/cmd.h"
#include "nettool/core/cmd_config.h"
#include "nettool/core/sockopt.h"
#include "nettool/core/net.h"
#include "nettool/http/fetch.h"
#include "nettool/proto/urlglob.h"
#include "nettool/proto/writeout.h"

#include <errno.h>
#include <stdarg.h>
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

/* ---- what a person reads ---- */

/* -s without -S: no message at all, as curl. */
static int quiet;

static void say(const char *msg)
{
	if (!quiet)
		nt_warn(CMD, "%s", msg);
}

static void warn(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;

static void warn(const char *fmt, ...)
{
	char msg[NT_ERR_LEN + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	say(msg);
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

/* -v: the heads on stderr. */
static void trace(void *ctx, const char *prefix, const char *p, size_t n)
{
	(void)ctx;
	show_lines(prefix, p, n);
}

/* -o FILE and -O (NULL), one a URL in order. */
static int opt_output(void *field, const char *arg, char *err)
{
	struct hc_outs *outs = field;

	if (outs->n == HC_MAX_OUTS) {
		nt_seterr(err, "at most %d of -o and -O", HC_MAX_OUTS);
		return -1;
	}
	outs->v[outs->n++] = arg;
	return 0;
}

/* -r: byte ranges as curl takes them, "0-99", "-500", "9500-", joined by ','. */
static int opt_range(void *field, const char *arg, char *err)
{
	if (!*arg || strlen(arg) > 100 || strspn(arg, "0123456789-,") != strlen(arg) ||
	    !strchr(arg, '-')) {
		nt_seterr(err, "bad range '%s' (expected FROM-TO, FROM- or -LAST, joined by ',')", arg);
		return -1;
	}
	*(const char **)field = arg;
	return 0;
}

static int opt_compressed(void *field, const char *arg, char *err)
{
	(void)field;
	(void)arg;
	nt_seterr(err, "not supported: nettool has no decompressor (it depends on "
		  "libc alone); without it the server sends the body as it is");
	return -1;
}

#define O(field) offsetof(struct hc_get_opts, field)
static const struct opt get_opts_table[] = {
	{ 'o', "output", OPT_FUNC, O(outs), 0, "FILE",
	  "write the body to FILE (renamed into place when complete);\nthe next URL's, one -o or -O a URL; #1 a glob's text",
	  0, 0, opt_output },
	{ 'O', "remote-name", OPT_FUNC, O(outs), 0, NULL,
	  "the next URL's body to its last path segment (index.html for /)", 0, 0, opt_output },
	{ 0, "remote-name-all", OPT_FLAG, O(remote_all), 0, NULL, "-O for every URL without -o",
	  0, 0, NULL },
	{ 'g', "globoff", OPT_FLAG, O(globoff), 0, NULL, "take [] and {} in URLs as they are", 0, 0,
	  NULL },
	{ 'Z', "parallel", OPT_FLAG, O(parallel), 0, NULL,
	  "fetch the URLs at the same time, each on a connection\nof its own (see --parallel-max)",
	  0, 0, NULL },
	{ 0, "parallel-max", OPT_COUNT, O(parallel_max), 0, "N", "with -Z: at most N at once (default 50)",
	  1, 300, NULL },
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
	{ 'D', "dump-header", OPT_STRING, O(dump_path), 0, "FILE",
	  "write every response head to FILE (- stdout)", 0, 0, NULL },
	{ 'A', "user-agent", OPT_STRING, O(agent), 0, "NAME", "send User-Agent: NAME (\"\": none)",
	  0, 0, NULL },
	{ 'e', "referer", OPT_STRING, O(referer), 0, "URL[;auto]",
	  "send Referer: URL; ;auto: on a redirect, the URL left", 0, 0, NULL },
	{ 'r', "range", OPT_FUNC, O(range), 0, "RANGE", "ask for bytes RANGE only (0-99, -500, 9500-)",
	  0, 0, opt_range },
	{ 0, "resolve", OPT_FUNC, O(aliases), 0, "HOST:PORT:ADDR",
	  "connect to ADDR for HOST:PORT, without DNS", 0, 0, hc_opt_resolve },
	{ 0, "connect-to", OPT_FUNC, O(aliases), 0, "H1:P1:H2:P2",
	  "connect to H2:P2 for H1:P1 (an empty part: any, or the same)", 0, 0, hc_opt_connect_to },
	{ 0, "limit-rate", OPT_FUNC, O(limit_rate), 0, "RATE",
	  "at most RATE bytes a second each way (k, M, G: 1024s)", 0, 0, cmd_opt_size },
	{ 'R', "remote-time", OPT_FLAG, O(remote_time), 0, NULL,
	  "give the file the response's Last-Modified time", 0, 0, NULL },
	{ 0, "create-dirs", OPT_FLAG, O(create_dirs), 0, NULL, "make the missing folders of -o FILE",
	  0, 0, NULL },
	{ 'K', "config", OPT_STRING, O(config), 0, "FILE",
	  "read options from FILE, one a line, as curl (url = URL)", 0, 0, NULL },
	{ 0, "compressed", OPT_FUNC, O(config), 0, NULL, "refused: no decompressor without a library",
	  0, 0, opt_compressed },
	SOCKOPT_OPTS_LONG(struct hc_get_opts, so),
	{ 'v', NULL, OPT_FLAG, O(verbose), 0, NULL, "show the request and response heads on stderr",
	  0, 0, NULL },
	{ 'f', "fail", OPT_FLAG, O(fail), 0, NULL, "exit 7 without a body on a status of 400 or more",
	  0, 0, NULL },
	{ 0, "fail-with-body", OPT_FLAG, O(fail_body), 0, NULL,
	  "exit 7 on a status of 400 or more, the body written", 0, 0, NULL },
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
	{ 's', "silent", OPT_FLAG, O(silent), 0, NULL, "silent: no progress bar, no message", 0, 0, NULL },
	{ 'S', "show-error", OPT_FLAG, O(show_error), 0, NULL, "with -s: still say what failed",
	  0, 0, NULL },
	{ '#', "progress", OPT_FLAG, O(progress), 0, NULL,
	  "show the progress bar even when stderr is no terminal", 0, 0, NULL },
	{ 0, "progress-bar", OPT_FLAG, O(progress), 0, NULL, "the same as --progress", 0, 0, NULL },
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

/* Each operand a URL, or a glob of them whose first is one. */
static int urls_usable(struct hc_get_opts *o, char *err)
{
	char url[URL_MAX];
	int i;

	for (i = 0; i < o->nurls; i++) {
		struct urlglob g;
		const char *u = o->urls[i];

		if (!o->globoff) {
			if (ug_parse(&g, u, err) < 0)
				return -1;
			if (ug_url(&g, 0, url, sizeof url) < 0) {
				ug_free(&g);
				nt_seterr(err, "URL too long");
				return -1;
			}
			ug_free(&g);
			u = url;
		}
		if (url_usable(u, err) < 0)
			return -1;
	}
	return 0;
}

static int check_args(void *opts, char **args, int nargs, char *err)
{
	struct hc_get_opts *o = opts;

	o->urls = args;
	o->nurls = nargs;
	if (urls_usable(o, err) < 0)
		return -1;
	if (o->referer && !http_value_ok(o->referer))
		nt_seterr(err, "bad -e '%s' (control characters)", o->referer);
	else if (o->agent && !http_value_ok(o->agent))
		nt_seterr(err, "bad -A '%s' (control characters)", o->agent);
	else if (o->range && o->resume)
		nt_seterr(err, "-r and -C exclude each other");
	else if (o->resume && !o->outs.n && !o->remote_all)
		nt_seterr(err, "--continue needs -o FILE or -O");
	else if (o->outs.n > o->nurls)
		nt_seterr(err, "more -o and -O than URLs");
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

static void free_opts(struct hc_get_opts *o)
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

/* The body the options describe, for every request. 0, or an exit status. */
static int body_setup(struct hc_body *b, struct hc_get_opts *o)
{
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
	struct hc_fetch *f = ctx;
	int fd = st == WO_STDOUT ? STDOUT_FILENO : st == WO_STDERR ? STDERR_FILENO : -1;

	if (fd < 0) { /* %output{FILE}: truncated once, then added to */
		fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC |
			  (st == WO_FILE && !f->wout_trunc ? O_TRUNC : O_APPEND), 0666);
		f->wout_trunc |= st == WO_FILE;
		if (fd < 0) {
			warn("--write-out: %s: %s", file, strerror(errno));
			return;
		}
	}
	if (net_write_full(fd, p, n) < 0 && errno != EPIPE)
		warn("--write-out: %s", strerror(errno));
	if (fd > STDERR_FILENO)
		close(fd);
}

static void wout_unknown(void *ctx, const char *name, size_t n)
{
	(void)ctx;
	/* said under -s too, as curl does */
	nt_warn(CMD, "unknown --write-out variable: '%.*s'", (int)n, name);
}

static double since(const struct hc_fetch *f, uint64_t t)
{
	return t > f->t0 ? (double)(t - f->t0) / 1e6 : 0.0;
}

/* After the transfer, as curl: its figures in the -w format. */
static void write_out_format(struct hc_fetch *f, int rc)
{
	const struct hc_stats *st = &f->conn->st;
	const struct http_parser *hp = f->got_head ? f->conn->hp : NULL;
	struct wo_sink sink = { f, wout_emit, wout_unknown };
	struct buf fmt = { NULL, 0, 0 };
	struct wo_data d;
	char err[NT_ERR_LEN];

	if (f->o->write_out[0] == '@') {
		if (hc_read_whole(&fmt, f->o->write_out + 1, err) < 0 || buf_putc(&fmt, '\0') < 0) {
			warn("--write-out: %s", err);
			buf_free(&fmt);
			return;
		}
	}
	memset(&d, 0, sizeof d);
	d.http_code = hp ? hp->status : 0;
	d.http_minor = hp ? hp->minor : -1;
	d.size_download = f->body_in;
	d.size_upload = f->conn->up_done;
	d.size_header = hp ? f->head_in : 0;
	d.size_request = st->head_out + f->conn->up_done;
	d.time_namelookup = since(f, st->resolved);
	d.time_connect = since(f, st->connected);
	d.time_pretransfer = since(f, st->sent_head);
	d.time_starttransfer = since(f, st->first_byte);
	d.time_redirect = f->redirs ? since(f, f->t_last) : 0.0;
	d.time_total = since(f, util_now_us());
	d.num_redirects = (long)f->redirs;
	d.num_connects = (long)(st->connects - f->connects0);
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

/* -e URL;auto: the URL (none when empty), and the redirects' own. */
static void referer_setup(struct hc_get_opts *o, char *buf, size_t len)
{
	const char *a = o->referer ? strstr(o->referer, ";auto") : NULL;

	if (!a || a[5])
		return;
	snprintf(buf, len, "%.*s", (int)(a - o->referer), o->referer);
	o->referer = buf[0] ? buf : NULL;
	o->referer_auto = 1;
}

/* -D: where the heads go, or -1; NT_EXIT_FAIL in *rc when it cannot. */
static int open_dump(const char *path, int *rc)
{
	int fd;

	if (!path)
		return -1;
	if (!strcmp(path, "-"))
		return STDOUT_FILENO;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		warn("-D %s: %s", path, strerror(errno));
		*rc = NT_EXIT_FAIL;
	}
	return fd;
}

/* What every transfer of the run shares. */
struct get_run {
	struct hc_get_opts *o;
	int dump_fd, bar;
};

static void setup_fetch(struct hc_fetch *f, void *ctx)
{
	struct get_run *r = ctx;
	struct hc_get_opts *o = r->o;

	f->say = say;
	f->bar = r->bar;
	f->dump_fd = r->dump_fd;
	f->cookies = &o->cookies;
	f->route.proxy = &o->proxy;
	f->route.noproxy = o->noproxy;
	f->route.unix_path = o->unix_path;
	f->route.family = o->family;
	f->route.connect_ms = o->connect_ms;
	f->route.aliases = &o->aliases;
}

static void fetch_done(struct hc_fetch *f, int rc, void *ctx)
{
	struct get_run *r = ctx;

	if (r->o->write_out)
		write_out_format(f, rc < 0 ? 0 : rc);
}

/* Everything before the transfers: cookies read, -D opened. 0, or an
 * exit status. */
static int prepare(struct hc_get_opts *o, struct get_run *r)
{
	char err[NT_ERR_LEN];
	int rc = 0;

	r->o = o;
	if (hc_cookies_load(&o->cookies, err) < 0) {
		say(err);
		o->cookies.save_path = NULL; /* a jar not read whole is not written back */
		return NT_EXIT_FAIL;
	}
	if (o->cookies.warn[0])
		say(o->cookies.warn);
	r->dump_fd = open_dump(o->dump_path, &rc);
	r->bar = !o->silent && !o->head && !o->parallel &&
		 (o->progress || (isatty(STDERR_FILENO) &&
				  (o->outs.n || o->remote_all || !isatty(STDOUT_FILENO))));
	return rc;
}

static int run(int argc, char **argv)
{
	struct hc_get_opts *o = calloc(1, sizeof *o);
	struct hc_body body;
	struct get_run r;
	struct hc_many m;
	struct cmd_argv args;
	char err[NT_ERR_LEN], ref[URL_MAX];
	int rc;

	if (!o)
		return NT_EXIT_FAIL;
	o->max_redirs = 10;
	o->family = AF_UNSPEC;
	o->parallel_max = 50;
	if (cmd_config_expand(&cmd_http_get, argc, argv, &args, err) < 0) {
		free(o);
		return cmd_usage_error(CMD, "%s", err);
	}
	rc = cmd_parse(&cmd_http_get, args.argc, args.argv, o);
	quiet = o->silent && !o->show_error;
	referer_setup(o, ref, sizeof ref);
	net_use_sockopts(&o->so);
	memset(&body, 0, sizeof body);
	memset(&r, 0, sizeof r);
	r.dump_fd = -1;
	if (!rc)
		rc = body_setup(&body, o);
	if (!rc && (rc = prepare(o, &r)) == NT_EXIT_FAIL && !o->cookies.save_path)
		r.o = NULL; /* the jar was not read: not written either */
	if (!rc) {
		m.o = o;
		m.body = &body;
		m.setup = setup_fetch;
		m.done = fetch_done;
		m.ctx = &r;
		m.trace = o->verbose ? trace : NULL;
		rc = hc_fetch_many(&m, err);
		if (err[0])
			say(err);
	}
	if (r.dump_fd > STDERR_FILENO)
		close(r.dump_fd);
	if (r.o && hc_cookies_save(&o->cookies, err) < 0) {
		warn("cookie jar: %s", err);
		rc = rc > 0 ? rc : NT_EXIT_FAIL;
	}
	free_opts(o);
	free(o);
	cmd_argv_free(&args);
	return rc < 0 ? 0 : rc;
}

const struct cmd cmd_http_get = {
	CMD, run, "fetch http:// URLs (a small curl)", "[OPTIONS] URL...",
	"Fetch http:// URLs (no TLS) and write the bodies to stdout.", get_opts_table, NULL, 0, 1,
	HC_MAX_OPERANDS, check_args
};
