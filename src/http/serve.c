#ifdef __linux__
#define _GNU_SOURCE /* sendfile */
#include <sys/sendfile.h>
#endif
#include "nettool/http/serve_conn.h"
#include "nettool/proto/url.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_BUF (16 * 1024)
/* Per sendfile call, with NOTSENT_LOWAT (respond.c): curl, 1 GiB, server
 * in a session of its own, five turns each: 32 KiB 4.13 GB/s, 64 KiB 4.57,
 * 128 KiB 4.68, 256 KiB 5.76 (wrk -c4: 4.31 against 3.99). At most
 * SENDFILE_BUDGET per readiness event, so that one fast download cannot
 * hold up the other connections of its worker. */
#define SENDFILE_CHUNK (256u << 10)
#define SENDFILE_BUDGET (1024u << 10)
#define OUT_POOLED (16 * 1024)    /* larger output buffers are not kept */
#define UPLOAD_BUDGET (1u << 20) /* of a body taken in per readiness event */
#define BODY_READ (256u << 10)

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
	hs_bulk_set(c, 0);
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

static void stream_end(struct conn *c)
{
	if (c->stream.free)
		c->stream.free(c->stream.s);
	memset(&c->stream, 0, sizeof c->stream);
	c->body_done = NULL;
}

static int writing(const struct conn *c)
{
	return c->out_off < c->out.len || c->file_left || (c->stream.next && !c->stream.done);
}

/* A streamed body's next piece, once the last is sent: 0, or -1. */
static int stream_more(struct conn *c)
{
	uint64_t size;
	int fd, r;

	if (c->file >= 0)
		close(c->file);
	c->file = -1;
	if ((r = c->stream.next(c->stream.s, &c->out, &fd, &size)) < 0)
		return -1;
	c->stream.done = r == 0;
	c->out_off = 0;
	c->file = fd;
	c->file_off = 0;
	c->file_left = size;
	return 0;
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
	int fd = c->base.io.fd, rounds = 0;
	size_t budget;

more:
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
	/* a streamed body goes on while the socket takes it, a few pieces a turn */
	if (!c->file_left && c->stream.next && !c->stream.done && rounds++ < 4) {
		if (stream_more(c) < 0)
			return -1;
		goto more;
	}
	return 0;
}

static int parse_input(struct conn *c);

/* A response is complete: log it, then close or wait for the next. */
static int response_done(struct conn *c)
{
	access_log(c);
	drop_file(c);
	stream_end(c);
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
	hs_send_error(c, st, 0);
}

/* The whole body is stored: put it in place and answer. */
static void upload_done(struct conn *c)
{
	struct buf page = { NULL, 0, 0 };
	char dir_url[URL_MAX + 2];
	size_t n = strcspn(c->hp->target, "?");
	int st;

	if (c->body_done) { /* kept in memory for an answer of its own */
		void (*done)(struct conn *, const struct buf *) = c->body_done;

		c->body_done = NULL;
		done(c, hu_memory_body(c->up));
		hu_free(c->up);
		c->up = NULL;
		return;
	}
	snprintf(dir_url, sizeof dir_url, "%.*s", (int)n, c->hp->target);
	st = hu_finish(c->up, dir_url, &page);
	hu_free(c->up);
	c->up = NULL;
	if (st == 201 && page.len) {
		hs_send_html(c, 201, &page, 0);
	} else if (st == 201 || st == 204) {
		buf_free(&page);
		hs_head_start(c, st);
		if (st == 201)
			buf_str(&c->out, "Content-Length: 0\r\n");
		hs_head_end(c);
	} else {
		buf_free(&page);
		c->keep = 0;
		hs_send_error(c, st, 0);
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
	if (expect && !http_has_token(expect, "100-continue")) {
		c->keep = 0; /* RFC 9110 10.1.1: an expectation not met */
		hs_send_error(c, 417, 0);
		return 1;
	}
	if (hp->body == HTTP_BODY_LENGTH && hp->length > c->w->cfg->max_body) {
		c->keep = 0;
		hs_send_error(c, 413, 0);
		return 1;
	}
	hs_respond(c);
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
		hs_bulk_set(c, 1);
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
		hs_send_error(c, status_for(hp), 0);
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
	char *big = util_scratch(0, BODY_READ);
	uint64_t left = c->hp->remaining;
	size_t off = 0;
	ssize_t n;

	if (!big)
		return -1;
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
		hs_send_error(c, 408, 0);
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
	stream_end(c);
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
