#include "nettool/http/fetch.h"
#include "nettool/base/util.h"
#include "nettool/core/net.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void say(const struct hc_fetch *f, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

static void say(const struct hc_fetch *f, const char *fmt, ...)
{
	char msg[NT_ERR_LEN + 64];
	va_list ap;

	if (!f->say)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	f->say(msg);
}

/* An attempt's error, kept for %{errormsg}; said once it is known
 * whether the attempt is tried again. */
static void keep_err(struct hc_fetch *f, const char *err)
{
	snprintf(f->errmsg, sizeof f->errmsg, "%s", err);
}

/* ---- output ---- */

void hc_fetch_progress(struct hc_fetch *f, int done)
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

/* --limit-rate: n more bytes went; wait as long as they cost. */
static void throttle(struct hc_fetch *f, uint64_t n)
{
	if (!f->o->limit_rate)
		return;
	if (!f->rate.bps)
		rate_init(&f->rate, f->o->limit_rate, util_now_us());
	rate_spend(&f->rate, n);
	if (!rate_room(&f->rate, util_now_us()))
		util_sleep_ms((long long)(rate_wait_us(&f->rate) + 999) / 1000);
}

/* Where the body goes; a failure said here. */
static int open_output(struct hc_fetch *f, int append)
{
	char err[NT_ERR_LEN];

	if (hc_out_open(&f->out, append, err) < 0) {
		keep_err(f, err);
		return NT_EXIT_FAIL;
	}
	return 0;
}

int hc_fetch_finish(struct hc_fetch *f)
{
	char err[NT_ERR_LEN];

	if (f->o->remote_time && f->last_modified != (time_t)-1 && f->out.fd > STDERR_FILENO) {
		struct timespec ts[2] = { { f->last_modified, 0 }, { f->last_modified, 0 } };

		futimens(f->out.fd, ts); /* before the rename: the file appears with it */
	}
	if (hc_out_finish(&f->out, err) < 0) {
		keep_err(f, err);
		say(f, "%s", err);
		return NT_EXIT_FAIL;
	}
	return 0;
}

static int write_out(struct hc_fetch *f, const char *p, size_t n)
{
	if (net_write_full(f->out.fd, p, n) < 0) {
		if (errno == EPIPE && f->out.fd == STDOUT_FILENO)
			return -1;
		say(f, "write %s: %s", f->out.path[0] ? f->out.path : "stdout",
			strerror(errno));
		return NT_EXIT_FAIL;
	}
	f->got += n;
	f->wrote += n;
	hc_fetch_progress(f, 0);
	throttle(f, n);
	return 0;
}

/* ---- the response ---- */

/* Whether what this attempt did can be done again: a body read from a
 * pipe cannot be sent twice, nor can standard output take back what it
 * was given (a file's temporary is dropped; a continued one resumed). */
static int replayable(const struct hc_fetch *f)
{
	return !f->body.pipe_used && (!f->wrote || f->out.tmp[0] || f->o->resume);
}

/* A retry is due but cannot be made: say why. */
static void not_again(const struct hc_fetch *f)
{
	if (!f->o->silent)
		say(f, "not tried again: %s", f->wrote ?
			"part of the body went to standard output" : "the body was read from a pipe");
}

/* A status --retry tries again, with a retry left: the response is
 * dropped, unread. */
static int retry_for_status(struct hc_fetch *f, const struct http_parser *hp)
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

/* -D: every head as it came, redirects' too. */
static int dump_head(struct hc_fetch *f, const struct http_parser *hp)
{
	const struct buf *raw = &f->conn->raw;
	struct buf b = { NULL, 0, 0 };
	int rc = 0;

	if (f->dump_fd < 0)
		return 0;
	if (!raw->len) /* too large to keep: as parsed */
		hc_head_text(hp, &b);
	if (net_write_full(f->dump_fd, raw->len ? raw->data : b.data, raw->len ? raw->len : b.len) < 0) {
		keep_err(f, "-D: cannot write the heads");
		rc = -1;
	}
	buf_free(&b);
	return rc;
}

/* -f: no body, and exit 7; --fail-with-body: the body, then exit 7. */
static int failed(struct hc_fetch *f, const struct http_parser *hp)
{
	if (hp->status < 400 || (!f->o->fail && !f->o->fail_body))
		return 0;
	say(f, "HTTP error %d %s", hp->status, hp->reason);
	snprintf(f->errmsg, sizeof f->errmsg, "The requested URL returned error: %d", hp->status);
	f->http_fail = hp->status;
	return !f->o->fail_body;
}

/* The head arrived: print it as asked and decide what to do with the body. */
static int on_head(void *ctx, const struct http_parser *hp, int *more)
{
	struct hc_fetch *f = ctx;
	const struct hc_get_opts *o = f->o;
	struct buf b = { NULL, 0, 0 };
	int rc;

	*more = 0;
	f->got_head = 1;
	if (f->lock)
		pthread_mutex_lock(f->lock);
	hc_cookies_take(f->cookies, hp, f->u);
	if (f->lock)
		pthread_mutex_unlock(f->lock);
	f->head_in += hp->offset; /* every head's bytes, 1xx and redirects too */
	if (dump_head(f, hp) < 0)
		return NT_EXIT_FAIL;
	if (o->follow && hc_is_redirect(hp->status) && http_field(hp, "Location")) {
		f->redirect = 1;
		return 0;
	}
	if (retry_for_status(f, hp))
		return 0;
	if (failed(f, hp))
		return NT_EXIT_HTTP;
	f->last_modified = http_field(hp, "Last-Modified") ?
			   http_date_parse(http_field(hp, "Last-Modified")) : (time_t)-1;
	if (o->resume && hp->status == 416)
		return 0; /* nothing left to fetch */
	*more = 1;
	rc = open_output(f, o->resume && hp->status == 206);
	if (rc == 0 && (o->include || o->head)) {
		const struct buf *raw = &f->conn->raw; /* as it came, 1xx too, as curl */

		if (!raw->len)
			hc_head_text(hp, &b);
		if (net_write_full(f->out.fd, raw->len ? raw->data : b.data,
				   raw->len ? raw->len : b.len) < 0)
			rc = NT_EXIT_FAIL;
		f->wrote += raw->len ? raw->len : b.len;
		buf_free(&b);
	}
	if (hp->body == HTTP_BODY_LENGTH)
		f->total = hp->length;
	return rc;
}

static int on_body(void *ctx, const char *p, size_t n)
{
	struct hc_fetch *f = ctx;

	f->body_in += n;
	return f->o->head ? 0 : write_out(f, p, n);
}

/* The progress bar follows the upload, then starts again for the answer. */
static void uploaded(void *ctx, uint64_t done, uint64_t total)
{
	struct hc_fetch *f = ctx;

	f->uploading = 1;
	f->got = done;
	f->total = total;
	hc_fetch_progress(f, 0);
	throttle(f, done > f->up_seen ? done - f->up_seen : 0);
	f->up_seen = done;
}

/* ---- the requests ---- */

static int request_once(struct hc_fetch *f, struct hc_request *rq, const struct url *u)
{
	const struct hc_sink sink = { f, on_head, on_body };
	char err[NT_ERR_LEN];
	int rc;

	f->redirect = 0;
	f->t_last = util_now_us();
	f->body_in = 0;
	f->got_head = 0;
	f->http_fail = 0;
	memcpy(f->method, rq->method, sizeof f->method);
	f->conn->route = &f->route;
	f->conn->ctx = f;
	f->conn->uploaded = uploaded;
again:
	rc = hc_open(f->conn, u, err);
	if (rc == 0) {
		rc = hc_send(f->conn, rq, u, err);
		if (f->uploading) {
			hc_fetch_progress(f, 1);
			f->uploading = 0;
			f->got = f->total = 0;
			f->started = util_now_ms();
		}
	}
	if (rc == 0)
		rc = hc_receive(f->conn, rq, &sink, err);
	if (rc > 0 && f->conn->reused && !f->conn->raw.len && !f->body.pipe_used) {
		hc_close(f->conn); /* the server had closed the kept one: once more, anew */
		goto again;
	}
	if (rc > 0 && err[0])
		keep_err(f, err);
	if (rc == 0 && f->http_fail)
		rc = NT_EXIT_HTTP; /* --fail-with-body, the body written */
	if (!f->conn->reusable)
		hc_close(f->conn);
	return rc;
}

/* The Cookie value for u, this transfer's own copy. */
static const char *cookies_for(struct hc_fetch *f, const struct url *u)
{
	const char *v;

	if (f->lock)
		pthread_mutex_lock(f->lock);
	v = hc_cookies_for(f->cookies, u);
	f->cookie.len = 0;
	if (v && buf_append(&f->cookie, v, strlen(v) + 1) < 0)
		v = NULL;
	if (f->lock)
		pthread_mutex_unlock(f->lock);
	return v ? f->cookie.data : NULL;
}

/* The request as the options make it, for the first URL. */
static void first_request(struct hc_fetch *f, struct hc_request *rq)
{
	const struct hc_get_opts *o = f->o;
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
	rq->agent = o->agent;
	rq->range = o->range;
	snprintf(f->referer, sizeof f->referer, "%s", o->referer ? o->referer : "");
}

static int fetch_all(struct hc_fetch *f)
{
	const struct hc_get_opts *o = f->o;
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
		if (f->remote && !f->out.path[0])
			url_file_name(u, f->out.path, sizeof f->out.path);
		if (o->resume)
			rq.from = hc_out_size(&f->out);
		memcpy(f->url_eff, cur, sizeof cur);
		f->u = u;
		rq.cookie = cookies_for(f, u);
		rq.referer = f->referer[0] ? f->referer : NULL;
		f->redirs = redirs;
		rc = request_once(f, &rq, u);
		if (rc || !f->redirect) {
			const char *loc = f->got_head ? http_field(f->conn->hp, "Location") : NULL;

			if (!rc && loc && hc_is_redirect(f->conn->hp->status) &&
			    url_resolve(cur, loc, f->redirect_url, URL_MAX, err) < 0)
				f->redirect_url[0] = '\0';
			break;
		}
		if ((rc = hc_redirect(&rq, f->conn->hp, cur, next, err)) != 0) {
			keep_err(f, err);
			break;
		}
		if (o->referer_auto) {
			char *hash;

			memcpy(f->referer, cur, sizeof f->referer); /* without its fragment */
			if ((hash = strchr(f->referer, '#')))
				*hash = '\0';
		}
		if (++redirs > o->max_redirs) {
			say(f, "more than %lu redirects", o->max_redirs);
			rc = NT_EXIT_PROTO;
			break;
		}
		if (o->verbose)
			say(f, "following redirect to %s", next);
		memcpy(cur, next, sizeof cur);
	}
	free(u);
	return rc;
}

/* The transfer, tried again as --retry says; an attempt's error is said
 * here, with the retry that follows it. */
int hc_fetch_run(struct hc_fetch *f)
{
	const struct hc_get_opts *o = f->o;
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
		status = f->retry_status ? f->retry_status : f->got_head ? f->conn->hp->status : 0;
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
				snprintf(why, sizeof why, "HTTP %d %s", status, f->conn->hp->reason);
			else
				snprintf(why, sizeof why, "%s", f->errmsg[0] ? f->errmsg : "failed");
			say(f, "%s: retrying in %g s, %lu %s left", why, (double)wait / 1000.0,
				f->retry.max - f->retry.done,
				f->retry.max - f->retry.done == 1 ? "retry" : "retries");
		}
		hc_out_discard(&f->out);
		hc_fetch_progress(f, 1);
		util_sleep_ms(wait);
		hc_retry_take(&f->retry);
	}
	hc_fetch_progress(f, 1);
	if (rc > 0 && rc != NT_EXIT_HTTP && f->errmsg[0]) /* an HTTP error is said as it comes */
		say(f, "%s", f->errmsg);
	return rc;
}

