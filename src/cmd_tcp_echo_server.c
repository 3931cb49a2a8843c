#include "nettool/buf.h"
#include "nettool/cmd.h"
#include "nettool/frame.h"
#include "nettool/loop.h"
#include "nettool/net.h"
#include "nettool/util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "tcp-echo-server"
#define ECHO_CHUNK (64 * 1024)  /* one read; also a client's pending cap */
#define ECHO_READS 4            /* reads per wake-up, for fairness */
#define ACCEPT_BATCH 64
#define ACCEPT_PAUSE_MS 100

const char cmd_tcp_echo_server_usage[] =
	"usage: nettool tcp-echo-server [OPTIONS]\n"
	"Echo every byte each client sends back to it (RFC 862).\n\n"
	"  -p, --port PORT         port to listen on (default 8888; 0 picks a free one)\n"
	"  -b, --bind ADDR         address to listen on (default: all, IPv4 and IPv6)\n"
	"  -4, -6                  IPv4 or IPv6 only\n"
	"      --backlog N         listen backlog (default 511)\n"
	"      --max-clients N     accept and close connections beyond N\n"
	"      --idle-timeout SECS close a client idle that long\n"
	"      --frame MODE        echo whole frames only (line, len16, len32,\n"
	"                          netstring); a bad frame closes that client\n"
	"      --max-frame BYTES   largest frame accepted (default 16777216)\n"
	"  -v, --verbose           log connects and disconnects\n"
	"  -h, --help              this help\n";

struct server;

struct client {
	struct loop_io io;
	struct loop_timer idle;
	struct server *srv;
	struct client *prev, *next;
	char *pend;              /* unsent echo, at most ECHO_CHUNK bytes */
	size_t off, len;
	int rd_eof;
	uint64_t last;
	unsigned long long in, out;
	char addr[NET_ADDR_LEN];
	/* --frame: input kept until whole frames; ib[sent..framed) to echo */
	struct buf ib;
	size_t framed, sent;
	struct frame_decoder dec;
};

struct server {
	struct loop *lp;
	struct loop_io lio, sio;
	struct loop_timer pause;
	int reserve_fd;
	unsigned long max_clients, nclients;
	int idle_ms, verbose;
	enum frame_mode frame;
	size_t max_frame;
	unsigned long long conns, refused, bytes_in, bytes_out, frames, bad_frames;
	struct client *clients;
	char scratch[ECHO_CHUNK];
};

static void client_close(struct client *c, const char *why)
{
	struct server *s = c->srv;

	if (s->verbose)
		nt_warn(CMD, "disconnect %s (%llu bytes in, %llu out%s%s)",
			c->addr, c->in, c->out, why ? ", " : "", why ? why : "");
	loop_io_del(s->lp, &c->io);
	loop_timer_stop(s->lp, &c->idle);
	close(c->io.fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nclients--;
	free(c->pend);
	buf_free(&c->ib);
	free(c);
}

/* Send what is pending; returns -1 on a fatal socket error. */
static int client_flush(struct client *c)
{
	while (c->off < c->len) {
		ssize_t n = write(c->io.fd, c->pend + c->off, c->len - c->off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
		c->off += (size_t)n;
		c->out += (unsigned long long)n;
		c->srv->bytes_out += (unsigned long long)n;
	}
	c->off = c->len = 0;
	return 0;
}

/* Echo data straight from the shared scratch buffer; keep the unsent tail. */
static int client_echo(struct client *c, const char *data, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(c->io.fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (n < 0)
			break;
		done += (size_t)n;
	}
	c->out += done;
	c->srv->bytes_out += done;
	if (done < len) {
		if (!c->pend && !(c->pend = malloc(ECHO_CHUNK)))
			return -1;
		memcpy(c->pend, data + done, len - done);
		c->off = 0;
		c->len = len - done;
	}
	return 0;
}

/* Read and echo while nothing is pending; returns -1 on a fatal error. */
static int client_read(struct client *c)
{
	struct server *s = c->srv;
	int i;

	for (i = 0; i < ECHO_READS && !c->len && !c->rd_eof; i++) {
		ssize_t n = read(c->io.fd, s->scratch, sizeof s->scratch);

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
		c->in += (unsigned long long)n;
		s->bytes_in += (unsigned long long)n;
		if (client_echo(c, s->scratch, (size_t)n) < 0)
			return -1;
		if ((size_t)n < sizeof s->scratch)
			break;
	}
	return 0;
}

/* --frame: echo the whole frames received so far. */
static int framed_flush(struct client *c)
{
	while (c->sent < c->framed) {
		ssize_t n = write(c->io.fd, c->ib.data + c->sent, c->framed - c->sent);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
		c->sent += (size_t)n;
		c->out += (unsigned long long)n;
		c->srv->bytes_out += (unsigned long long)n;
	}
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
		c->srv->frames++;
	}
}

/* --frame: read while nothing waits to be echoed. -1: error, -2: bad frame. */
static int framed_read(struct client *c, char *err)
{
	struct server *s = c->srv;
	size_t limit = s->max_frame + FRAME_OVERHEAD, room;
	ssize_t n;

	room = limit - c->ib.len < ECHO_CHUNK ? limit - c->ib.len : ECHO_CHUNK;
	if (room == 0) { /* cannot happen: the decoder refuses first */
		nt_seterr(err, "frame buffer full");
		return -2;
	}
	if (buf_reserve(&c->ib, room) < 0)
		return -1;
	do
		n = read(c->io.fd, c->ib.data + c->ib.len, room);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
	if (n == 0) {
		c->rd_eof = 1;
		if (c->ib.len > c->framed)
			return frame_finish(&c->dec, c->ib.len - c->framed, err) < 0 ? -2 : 0;
		return 0;
	}
	c->in += (unsigned long long)n;
	s->bytes_in += (unsigned long long)n;
	c->ib.len += (size_t)n;
	return framed_scan(c, err) < 0 ? -2 : 0;
}

/*
 * Before closing on a bad frame: send FIN, and read away what the client
 * already sent, so the close is not a reset that destroys the echo still
 * in flight to it.
 */
static void discard_input(struct client *c)
{
	int i;

	shutdown(c->io.fd, SHUT_WR);
	for (i = 0; i < 16; i++)
		if (read(c->io.fd, c->srv->scratch, sizeof c->srv->scratch) <= 0 &&
		    errno != EINTR)
			break;
}

static void framed_cb(struct loop *lp, struct client *c, int ev)
{
	char err[NT_ERR_LEN];
	int rc = 0;

	if ((ev & LOOP_WRITE) && c->sent < c->framed && framed_flush(c) < 0)
		goto fail;
	if ((ev & (LOOP_READ | LOOP_HUP)) && c->sent == c->framed && !c->rd_eof)
		rc = framed_read(c, err);
	if (rc == -1)
		goto fail;
	if (rc == -2) {
		/* what came before the bad frame is echoed, then the close */
		c->srv->bad_frames++;
		framed_flush(c);
		discard_input(c);
		nt_warn(CMD, "%s: %s; closing", c->addr, err);
		client_close(c, "bad frame");
		return;
	}
	if (c->sent < c->framed && framed_flush(c) < 0)
		goto fail;
	if (c->rd_eof && c->sent == c->framed) {
		client_close(c, NULL);
		return;
	}
	if (loop_io_set(lp, &c->io, c->sent < c->framed ? LOOP_WRITE : LOOP_READ) < 0)
		goto fail;
	return;
fail:
	client_close(c, strerror(errno));
}

static void client_cb(struct loop *lp, struct loop_io *io, int ev)
{
	struct client *c = io->data;

	c->last = loop_now(lp);
	if (c->srv->frame) {
		framed_cb(lp, c, ev);
		return;
	}
	if ((ev & LOOP_WRITE) && c->len && client_flush(c) < 0)
		goto fail;
	if ((ev & (LOOP_READ | LOOP_HUP)) && !c->len && client_read(c) < 0)
		goto fail;
	if ((ev & LOOP_HUP) && !(ev & LOOP_READ) && c->len) {
		/* the peer is gone and cannot take its pending echo */
		errno = EPIPE;
		goto fail;
	}
	if (c->rd_eof && !c->len) {
		client_close(c, NULL);
		return;
	}
	if (loop_io_set(lp, io, c->len ? LOOP_WRITE : LOOP_READ) < 0)
		goto fail;
	return;
fail:
	client_close(c, strerror(errno));
}

static void idle_cb(struct loop *lp, struct loop_timer *t)
{
	struct client *c = t->data;
	uint64_t quiet = loop_now(lp) - c->last;

	if (quiet >= (uint64_t)c->srv->idle_ms)
		client_close(c, "idle timeout");
	else
		loop_timer_set(lp, t, (uint64_t)c->srv->idle_ms - quiet);
}

static void client_new(struct server *s, int fd,
		       const struct sockaddr_storage *ss, socklen_t len)
{
	struct client *c = calloc(1, sizeof *c);

	if (!c) {
		close(fd);
		s->refused++;
		return;
	}
	c->srv = s;
	c->io.fd = fd;
	c->io.events = LOOP_READ;
	c->io.cb = client_cb;
	c->io.data = c;
	c->idle.cb = idle_cb;
	c->idle.data = c;
	c->last = loop_now(s->lp);
	frame_decoder_init(&c->dec, s->frame, s->max_frame);
	net_format_addr((const struct sockaddr *)ss, len, c->addr);
	if (loop_io_add(s->lp, &c->io, NULL) < 0 ||
	    (s->idle_ms > 0 && loop_timer_set(s->lp, &c->idle, (uint64_t)s->idle_ms) < 0)) {
		loop_io_del(s->lp, &c->io);
		close(fd);
		free(c);
		s->refused++;
		return;
	}
	c->next = s->clients;
	if (c->next)
		c->next->prev = c;
	s->clients = c;
	s->nclients++;
	s->conns++;
	if (s->verbose)
		nt_warn(CMD, "connect %s", c->addr);
}

static void pause_cb(struct loop *lp, struct loop_timer *t)
{
	struct server *s = t->data;

	loop_io_set(lp, &s->lio, LOOP_READ);
}

/* Out of descriptors: shed one pending connection with the reserve fd. */
static int shed_with_reserve(struct server *s)
{
	int fd;

	if (s->reserve_fd < 0)
		return -1;
	close(s->reserve_fd);
	fd = net_accept(s->lio.fd, NULL, NULL);
	if (fd >= 0) {
		close(fd);
		s->refused++;
	}
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd >= 0 ? 0 : -1;
}

static void accept_cb(struct loop *lp, struct loop_io *io, int ev)
{
	struct server *s = io->data;
	int i;

	(void)ev;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		int fd = net_accept(io->fd, &ss, &len);

		if (fd < 0) {
			enum net_accept_next next = net_accept_next(errno);

			if (next == NET_ACCEPT_DONE)
				return;
			if (next == NET_ACCEPT_SKIP)
				continue;
			if ((errno == EMFILE || errno == ENFILE) &&
			    shed_with_reserve(s) == 0)
				continue;
			if (s->verbose)
				nt_warn(CMD, "accept: %s; pausing", strerror(errno));
			loop_io_set(lp, io, 0);
			loop_timer_set(lp, &s->pause, ACCEPT_PAUSE_MS);
			return;
		}
		if (s->max_clients && s->nclients >= s->max_clients) {
			close(fd);
			s->refused++;
			continue;
		}
		client_new(s, fd, &ss, len);
	}
}

static void signal_cb(struct loop *lp, struct loop_io *io, int ev)
{
	(void)io;
	(void)ev;
	loop_stop(lp);
}

struct echo_opts {
	const char *host, *port;
	unsigned port_num;
	int family, backlog;
};

static int parse_args(int argc, char **argv, struct server *s,
		      struct echo_opts *o)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "backlog", required_argument, NULL, 'B' },
		{ "max-clients", required_argument, NULL, 'M' },
		{ "idle-timeout", required_argument, NULL, 'I' },
		{ "frame", required_argument, NULL, 'F' },
		{ "max-frame", required_argument, NULL, 'X' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char err[NT_ERR_LEN];
	unsigned long v;
	int ch;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":p:b:46vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (util_parse_port(optarg, 1, &o->port_num, err) < 0)
				return cmd_usage_error(CMD, "%s", err);
			o->port = optarg;
			break;
		case 'b': o->host = optarg; break;
		case '4': o->family = AF_INET; break;
		case '6': o->family = AF_INET6; break;
		case 'B':
			if (util_parse_ulong(optarg, 1, 65535, &v, err) < 0)
				return cmd_usage_error(CMD, "--backlog: %s", err);
			o->backlog = (int)v;
			break;
		case 'M':
			if (util_parse_ulong(optarg, 1, 10000000, &v, err) < 0)
				return cmd_usage_error(CMD, "--max-clients: %s", err);
			s->max_clients = v;
			break;
		case 'I':
			if (util_parse_secs(optarg, &s->idle_ms, err) < 0 || !s->idle_ms)
				return cmd_usage_error(CMD, "--idle-timeout: invalid '%s'", optarg);
			break;
		case 'F':
			if (frame_mode_parse(optarg, &s->frame) < 0)
				return cmd_usage_error(CMD, "--frame: unknown mode '%s' (line, len16, len32, netstring)", optarg);
			break;
		case 'X':
			if (util_parse_ulong(optarg, 1, FRAME_MAX_MAX, &v, err) < 0)
				return cmd_usage_error(CMD, "--max-frame: %s", err);
			s->max_frame = v;
			break;
		case 'v': s->verbose = 1; break;
		case 'h': fputs(cmd_tcp_echo_server_usage, stdout); return -1;
		default: return cmd_bad_option(CMD, ch, argv);
		}
	}
	if (optind < argc)
		return cmd_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
	return 0;
}

static void server_shutdown(struct server *s)
{
	while (s->clients)
		client_close(s->clients, "server stopping");
	nt_warn(CMD, "stopped: %llu connections (%llu refused), %llu bytes in, %llu bytes out",
		s->conns, s->refused, s->bytes_in, s->bytes_out);
	if (s->frame)
		nt_warn(CMD, "frames: %llu echoed, %llu bad", s->frames, s->bad_frames);
}

int cmd_tcp_echo_server(int argc, char **argv)
{
	struct echo_opts o = { NULL, "8888", 8888, AF_UNSPEC, 511 };
	struct addrinfo *bind_ai = NULL;
	char err[NT_ERR_LEN], addr[NET_ADDR_LEN];
	struct server *s = calloc(1, sizeof *s);
	int rc, status = NT_EXIT_FAIL;

	if (!s) {
		nt_warn(CMD, "out of memory");
		return NT_EXIT_FAIL;
	}
	s->max_frame = FRAME_DEFAULT_MAX;
	rc = parse_args(argc, argv, s, &o);
	if (rc) {
		free(s);
		return rc < 0 ? 0 : rc;
	}
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	s->lio.fd = s->sio.fd = -1;
	if (!(s->lp = loop_new(err)))
		goto out;
	if (o.host && net_resolve(o.host, o.port, o.family, SOCK_STREAM,
				  NET_PASSIVE, &bind_ai, err) < 0) {
		status = NT_EXIT_RESOLVE;
		goto out;
	}
	s->lio.fd = net_listen(bind_ai, o.port_num, o.family, SOCK_STREAM,
			       o.backlog, 0, err);
	if (s->lio.fd < 0)
		goto out;
	s->sio.fd = util_signal_pipe(err);
	if (s->sio.fd < 0)
		goto out;
	s->lio.events = s->sio.events = LOOP_READ;
	s->lio.cb = accept_cb;
	s->sio.cb = signal_cb;
	s->lio.data = s->sio.data = s->pause.data = s;
	s->pause.cb = pause_cb;
	if (loop_io_add(s->lp, &s->lio, err) < 0 || loop_io_add(s->lp, &s->sio, err) < 0)
		goto out;
	nt_warn(CMD, "listening on %s", net_fd_addr(s->lio.fd, 0, addr));
	if (loop_run(s->lp, err) < 0)
		goto out;
	server_shutdown(s);
	status = 0;
out:
	if (status)
		nt_warn(CMD, "%s", err);
	if (s->lio.fd >= 0)
		close(s->lio.fd);
	util_signal_pipe_close(s->sio.fd);
	if (s->reserve_fd >= 0)
		close(s->reserve_fd);
	if (bind_ai)
		freeaddrinfo(bind_ai);
	loop_free(s->lp);
	free(s);
	return status;
}
