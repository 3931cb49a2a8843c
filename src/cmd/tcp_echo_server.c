#include "nettool/base/buf.h"
#include "nettool/core/cmd.h"
#include "nettool/proto/frame.h"
#include "nettool/core/loop.h"
#include "nettool/core/net.h"
#include "nettool/core/server.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "tcp-echo-server"
#define ECHO_CHUNK (64 * 1024)  /* one read; also a client's pending cap */
#define ECHO_READS 4            /* reads per wake-up, for fairness */

struct echo {
	struct server srv;
	struct server_addr addr;
	struct acl acl;
	unsigned long max_clients, max_frame;
	int idle_ms, verbose;
	enum frame_mode frame;
	unsigned long long bytes_in, bytes_out, frames, bad_frames;
	char scratch[ECHO_CHUNK];
};

struct client {
	struct server_conn base;
	struct echo *e;
	char *pend;              /* unsent echo, at most ECHO_CHUNK bytes */
	size_t off, len;
	int rd_eof;
	unsigned long long in, out;
	/* --frame: input kept until whole frames; ib[sent..framed) to echo */
	struct buf ib;
	size_t framed, sent;
	struct frame_decoder dec;
};

static void client_close(struct server_conn *sc, const char *why)
{
	struct client *c = (struct client *)sc;

	if (c->e->verbose)
		nt_warn(CMD, "disconnect %s (%llu bytes in, %llu out%s%s)",
			sc->peer, c->in, c->out, why ? ", " : "", why ? why : "");
	free(c->pend);
	buf_free(&c->ib);
}

/* Count n bytes sent. */
static void sent(struct client *c, size_t n)
{
	c->out += n;
	c->e->bytes_out += n;
	if (n)
		server_progress(&c->base);
}

/* Send what is pending; returns -1 on a fatal socket error. */
static int client_flush(struct client *c)
{
	ssize_t n = net_send_some(c->base.io.fd, c->pend + c->off, c->len - c->off);

	if (n < 0)
		return -1;
	c->off += (size_t)n;
	sent(c, (size_t)n);
	if (c->off == c->len)
		c->off = c->len = 0;
	return 0;
}

/* Echo data straight from the shared scratch buffer; keep the unsent tail. */
static int client_echo(struct client *c, const char *data, size_t len)
{
	ssize_t n = net_send_some(c->base.io.fd, data, len);

	if (n < 0)
		return -1;
	sent(c, (size_t)n);
	if ((size_t)n < len) {
		if (!c->pend && !(c->pend = malloc(ECHO_CHUNK)))
			return -1;
		memcpy(c->pend, data + n, len - (size_t)n);
		c->off = 0;
		c->len = len - (size_t)n;
	}
	return 0;
}

/* Count n bytes received. */
static void received(struct client *c, size_t n)
{
	c->in += n;
	c->e->bytes_in += n;
	server_progress(&c->base);
}

/* Read and echo while nothing is pending; returns -1 on a fatal error. */
static int client_read(struct client *c)
{
	struct echo *e = c->e;
	int i;

	for (i = 0; i < ECHO_READS && !c->len && !c->rd_eof; i++) {
		ssize_t n = read(c->base.io.fd, e->scratch, sizeof e->scratch);

		if (n < 0 && errno == EINTR) {
			i--;
			continue;
		}
		if (n < 0)
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
		if (n == 0) {
			c->rd_eof = 1;
			break;
		}
		received(c, (size_t)n);
		if (client_echo(c, e->scratch, (size_t)n) < 0)
			return -1;
		if ((size_t)n < sizeof e->scratch)
			break;
	}
	return 0;
}

/* --frame: echo the whole frames received so far. */
static int framed_flush(struct client *c)
{
	ssize_t n = net_send_some(c->base.io.fd, c->ib.data + c->sent, c->framed - c->sent);

	if (n < 0)
		return -1;
	c->sent += (size_t)n;
	sent(c, (size_t)n);
	if (c->sent < c->framed)
		return 0;
	/* all echoed: keep only the partial frame, at the front */
	memmove(c->ib.data, c->ib.data + c->framed, c->ib.len - c->framed);
	c->ib.len -= c->framed;
	c->framed = c->sent = 0;
	return 0;
}

/* Mark the whole frames in ib; returns -1 (err filled) on a bad frame. */
static int framed_scan(struct client *c, char *err)
{
	for (;;) {
		const unsigned char *p;
		size_t plen, used;
		int rc = frame_decode(&c->dec, (unsigned char *)c->ib.data + c->framed,
				      c->ib.len - c->framed, &p, &plen, &used, err);

		if (rc < 0)
			return -1;
		if (rc == 0)
			return 0;
		c->framed += used;
		c->e->frames++;
	}
}

/* --frame: read while nothing waits to be echoed. -1: error, -2: bad frame. */
static int framed_read(struct client *c, char *err)
{
	size_t limit = c->e->max_frame + FRAME_OVERHEAD, room;
	ssize_t n;

	room = limit - c->ib.len < ECHO_CHUNK ? limit - c->ib.len : ECHO_CHUNK;
	if (room == 0) { /* cannot happen: the decoder refuses first */
		nt_seterr(err, "frame buffer full");
		return -2;
	}
	if (buf_reserve(&c->ib, room) < 0)
		return -1;
	do
		n = read(c->base.io.fd, c->ib.data + c->ib.len, room);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
	if (n == 0) {
		c->rd_eof = 1;
		if (c->ib.len > c->framed)
			return frame_finish(&c->dec, c->ib.len - c->framed, err) < 0 ? -2 : 0;
		return 0;
	}
	received(c, (size_t)n);
	c->ib.len += (size_t)n;
	return framed_scan(c, err) < 0 ? -2 : 0;
}

/* Whether an echo waits to be sent. */
static int pending(const struct client *c)
{
	return c->e->frame ? c->sent < c->framed : c->len > 0;
}

/* Read when nothing is pending (and the server is not stopping); send
 * what is. -1: error, -2: bad frame (err filled). */
static int client_step(struct client *c, int ev, char *err)
{
	int reading = (ev & (LOOP_READ | LOOP_HUP)) && !c->rd_eof && !c->base.draining;

	if (!c->e->frame) {
		if ((ev & LOOP_WRITE) && c->len && client_flush(c) < 0)
			return -1;
		if (reading && !c->len && client_read(c) < 0)
			return -1;
		if ((ev & LOOP_HUP) && !(ev & LOOP_READ) && c->len) {
			errno = EPIPE; /* the peer is gone and cannot take its echo */
			return -1;
		}
		return 0;
	}
	if ((ev & LOOP_WRITE) && pending(c) && framed_flush(c) < 0)
		return -1;
	if (reading && !pending(c)) {
		int rc = framed_read(c, err);

		if (rc < 0)
			return rc;
	}
	return pending(c) ? framed_flush(c) : 0;
}

static void client_cb(struct loop *lp, struct loop_io *io, int ev)
{
	struct client *c = io->data;
	char err[NT_ERR_LEN];
	int rc = client_step(c, ev, err);

	if (rc == -2) {
		/* what came before the bad frame is echoed, then the close */
		c->e->bad_frames++;
		framed_flush(c);
		nt_warn(CMD, "%s: %s; closing", c->base.peer, err);
		c->base.linger = 1;
		server_close(&c->base, "bad frame");
		return;
	}
	if (rc < 0) {
		server_close(&c->base, strerror(errno));
		return;
	}
	if ((c->rd_eof || c->base.draining) && !pending(c)) {
		/* drained: a FIN after the echo, not a reset that loses it */
		c->base.linger = c->base.draining;
		server_close(&c->base, c->base.draining ? "server stopping" : NULL);
		return;
	}
	if (loop_io_set(lp, io, pending(c) ? LOOP_WRITE : LOOP_READ) < 0)
		server_close(&c->base, strerror(errno));
}

static int client_open(struct server_conn *sc)
{
	struct client *c = (struct client *)sc;

	c->e = sc->srv->data;
	sc->io.cb = client_cb;
	frame_decoder_init(&c->dec, c->e->frame, c->e->max_frame);
	server_deadline(sc, SERVER_IDLE);
	if (c->e->verbose)
		nt_warn(CMD, "connect %s", sc->peer);
	return 0;
}

/* Stopping: an echo still owed is sent, then the client is closed. */
static int client_drain(struct server_conn *sc)
{
	struct client *c = (struct client *)sc;

	if (!pending(c))
		return 0;
	loop_io_set(sc->srv->lp, &sc->io, LOOP_WRITE);
	return 1;
}

static const struct server_class echo_class = {
	sizeof(struct client), client_open, client_close, NULL, client_drain
};

static int check_args(void *opts, char **args, int nargs, char *err)
{
	(void)args;
	(void)nargs;
	return server_addr_check(&((struct echo *)opts)->addr, err);
}

#define O(field) offsetof(struct echo, field)
static const struct opt echo_opts[] = {
	SERVER_ADDR_OPTS(struct echo, addr, "port to listen on (default 8888; 0 picks a free one)"),
	SERVER_UNIX_OPT(struct echo, addr),
	SERVER_ACL_OPTS(struct echo, acl),
	{ 0, "backlog", OPT_COUNT, O(addr.backlog), 0, "N", "listen backlog (default 511)",
	  1, 65535, NULL },
	{ 0, "max-clients", OPT_COUNT, O(max_clients), 0, "N",
	  "clients at once (default: what the descriptor limit allows);\n"
	  "when full, the client quiet longest makes room", 1, 10000000, NULL },
	{ 0, "idle-timeout", OPT_SECS, O(idle_ms), 0, "SECS", "close a client idle that long",
	  1, 0, NULL },
	{ 0, "frame", OPT_FUNC, O(frame), 0, "MODE",
	  "echo whole frames only (line, len16, len32,\n"
	  "netstring); a bad frame closes that client", 0, 0, cmd_opt_frame },
	{ 0, "max-frame", OPT_COUNT, O(max_frame), 0, "BYTES",
	  "largest frame accepted (default 16777216)", 1, FRAME_MAX_MAX, NULL },
	{ 'v', "verbose", OPT_FLAG, O(verbose), 0, NULL, "log connects and disconnects", 0, 0, NULL },
	OPT_END
};
#undef O

static void summary(const struct echo *e)
{
	const struct server *s = &e->srv;

	nt_warn(CMD, "stopped: %llu connections (%llu refused), %llu bytes in, %llu bytes out",
		s->accepted, s->refused, e->bytes_in, e->bytes_out);
	if (s->evicted)
		nt_warn(CMD, "%llu connections closed to make room", s->evicted);
	if (e->frame)
		nt_warn(CMD, "frames: %llu echoed, %llu bad", e->frames, e->bad_frames);
}

/* Listen, then serve until SIGINT or SIGTERM. */
static int serve(struct echo *e, char *err)
{
	struct loop *lp = loop_new(err);
	int status = NT_EXIT_FAIL, lfd, sfd = -1;

	if (!lp)
		return NT_EXIT_FAIL;
	lfd = server_listen(&e->addr, SOCK_STREAM, 0, &status, err);
	e->srv.max_clients = e->max_clients;
	e->srv.idle_ms = e->idle_ms;
	e->srv.verbose = e->verbose;
	e->srv.data = e;
	e->srv.acl = &e->acl;
	if (lfd >= 0)
		e->srv.unix_path = e->addr.unix_path; /* created: removed at exit */
	e->srv.reserve_fd = -1;
	if (lfd >= 0 && server_init(&e->srv, CMD, &echo_class, lp, lfd, 1, NULL, err) == 0 &&
	    (sfd = util_signal_pipe(err)) >= 0 && server_stop_on(&e->srv, sfd, err) == 0) {
		server_announce(CMD, lfd);
		if (e->verbose)
			cmd_report_sockopts(CMD, lfd, &e->addr.so);
		status = loop_run(lp, err) < 0 ? NT_EXIT_FAIL : 0;
		if (status == 0)
			summary(e);
	}
	server_free(&e->srv);
	util_signal_pipe_close(sfd);
	loop_free(lp);
	return status;
}

static int run(int argc, char **argv)
{
	struct echo *e = calloc(1, sizeof *e);
	char err[NT_ERR_LEN];
	int rc;

	if (!e) {
		nt_warn(CMD, "out of memory");
		return NT_EXIT_FAIL;
	}
	e->addr.port = 8888;
	e->addr.family = AF_UNSPEC;
	e->addr.backlog = 511;
	e->max_frame = FRAME_DEFAULT_MAX;
	rc = cmd_parse(&cmd_tcp_echo_server, argc, argv, e);
	if (rc == 0 && (rc = serve(e, err)) != 0)
		nt_warn(CMD, "%s", err);
	free(e);
	return rc < 0 ? 0 : rc;
}

const struct cmd cmd_tcp_echo_server = {
	CMD, run, "echo every byte back to each client (RFC 862)", "[OPTIONS]",
	"Echo every byte each client sends back to it (RFC 862).", echo_opts, NULL, 0, 0, 0, check_args
};
