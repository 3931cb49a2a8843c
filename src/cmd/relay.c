#ifdef __linux__
#define _GNU_SOURCE /* splice */
#include <fcntl.h>
#endif
#include "nettool/core/cmd.h"
#include "nettool/core/loop.h"
#include "nettool/core/net.h"
#include "nettool/core/proxy.h"
#include "nettool/core/server.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CMD "relay"
#define RELAY_BUF (64 * 1024) /* per direction, only while bytes wait in it */
#define RELAY_READS 4         /* reads per wake-up and direction, for fairness */
#define SPLICE_AFTER (256 * 1024) /* a direction that moved this much goes by splice */
#define SPLICE_CHUNK (256 * 1024)

#define MAX_THREADS 256

/* The stop, for every worker: closing stop_wr wakes them all. */
struct relay_shared {
	atomic_ulong nclients;
	int stop_rd;
	atomic_int stop_wr;
};

/* The options, and a worker: each thread has a copy, with its own loop,
 * listener (SO_REUSEPORT) and connections. */
struct relay {
	struct server srv;
	struct server_addr addr;
	struct acl acl;
	const char *host, *port, *to_unix, *proxy_addr, *proxy_auth;
	enum proxy_type proxy_type;
	struct proxy proxy;
	unsigned long max_clients, threads;
	int connect_ms, idle_ms, verbose;
	struct addrinfo *targets; /* resolved once, shared */
	unsigned long long conns, failed, bytes_up, bytes_down;
	struct relay_shared *sh;
	struct loop_io sio;       /* worker 0: SIGINT and SIGTERM */
	pthread_t tid;
	int rc;
	char err[NT_ERR_LEN];
};

/* One direction: bytes read from src wait in buf until dst takes them. */
struct dir {
	char *buf;
	int pipe[2];   /* with splice: the bytes wait in it; -1 until needed */
	size_t off, len;
	int eof;       /* src ended: dst is shut for writing once buf is empty */
	int shut;      /* and it was */
	unsigned long long bytes;
};

struct rconn {
	struct server_conn base; /* the client's side */
	struct relay *r;
	struct loop_io tio;      /* the target's side */
	const struct addrinfo *ai; /* the address being tried */
	int connecting;          /* 2: a thread dials through the proxy */
	struct dir up, down;     /* client to target, target to client */
};

/* ---- the target ---- */

static void connected(struct rconn *c);

static int try_connect(struct rconn *c);

static int target_fd(const struct rconn *c)
{
	return c->tio.fd;
}

/* A connection to the next address, or the Unix socket; the loop says
 * when it is made. 0, or -1 when no address is left. */
static int try_connect(struct rconn *c)
{
	struct relay *r = c->r;
	struct sockaddr_un un;
	const struct sockaddr *sa;
	socklen_t len;
	int fd, family;

	if (r->to_unix) {
		memset(&un, 0, sizeof un);
		un.sun_family = AF_UNIX;
		snprintf(un.sun_path, sizeof un.sun_path, "%s", r->to_unix);
		sa = (const struct sockaddr *)&un;
		len = sizeof un;
		family = AF_UNIX;
	} else {
		if (!c->ai)
			return -1;
		sa = c->ai->ai_addr;
		len = c->ai->ai_addrlen;
		family = c->ai->ai_family;
	}
	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	net_set_cloexec(fd);
	net_set_nonblock(fd, 1);
	if (family != AF_UNIX) {
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	if (connect(fd, sa, len) < 0 && errno != EINPROGRESS && errno != EAGAIN) {
		int e = errno;

		close(fd);
		errno = e;
		if (!r->to_unix && (c->ai = c->ai->ai_next))
			return try_connect(c);
		return -1;
	}
	c->tio.fd = fd;
	c->tio.events = LOOP_WRITE;
	c->connecting = 1;
	if (loop_io_add(r->srv.lp, &c->tio, NULL) < 0) {
		close(fd);
		c->tio.fd = -1;
		return -1;
	}
	return 0;
}

/* A dial through the proxy, in a thread of its own (the handshake
 * blocks); the result goes back through a pipe: the connected fd, or
 * minus the exit status. */
struct dialer {
	const struct relay *r;
	int wr;
};

static void *dial_thread(void *arg)
{
	struct dialer *d = arg;
	char err[NT_ERR_LEN];
	int status, fd = proxy_dial(&d->r->proxy, d->r->host, d->r->port, AF_UNSPEC,
				    d->r->connect_ms, &status, err);
	int msg = fd >= 0 ? fd : -status;

	if (fd < 0)
		nt_warn(CMD, "%s", err);
	if (write(d->wr, &msg, sizeof msg) != (ssize_t)sizeof msg && fd >= 0)
		close(fd); /* the client is gone */
	close(d->wr);
	free(d);
	return NULL;
}

static int dial_via_proxy(struct rconn *c)
{
	struct dialer *d = malloc(sizeof *d);
	pthread_attr_t at;
	pthread_t tid;
	int p[2], rc;

	if (!d || pipe(p) < 0) {
		free(d);
		return -1;
	}
	net_set_cloexec(p[0]);
	net_set_cloexec(p[1]);
	d->r = c->r;
	d->wr = p[1];
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &at, dial_thread, d);
	pthread_attr_destroy(&at);
	if (rc != 0) {
		close(p[0]);
		close(p[1]);
		free(d);
		errno = rc;
		return -1;
	}
	c->tio.fd = p[0];
	c->tio.events = LOOP_READ;
	c->connecting = 2;
	return loop_io_add(c->r->srv.lp, &c->tio, NULL);
}

/* The dialer's answer. */
static void proxy_answer(struct rconn *c)
{
	int msg = -NT_EXIT_FAIL;
	ssize_t n = read(c->tio.fd, &msg, sizeof msg);

	loop_io_del(c->r->srv.lp, &c->tio);
	close(c->tio.fd);
	c->tio.fd = -1;
	if (n != (ssize_t)sizeof msg || msg < 0) {
		c->r->failed++;
		c->connecting = 0;
		server_close(&c->base, "target unreachable through the proxy");
		return;
	}
	net_set_nonblock(msg, 1);
	c->tio.fd = msg;
	c->tio.events = 0;
	if (loop_io_add(c->r->srv.lp, &c->tio, NULL) < 0) {
		close(msg);
		c->tio.fd = -1;
		server_close(&c->base, "out of resources");
		return;
	}
	connected(c);
}

/* ---- moving bytes ---- */

#ifdef __linux__
static atomic_int no_splice; /* the system refused it once: read and write */

/* A bulk direction: a pipe, so bytes go from socket to socket in the
 * kernel (splice), never through user space. */
static void want_pipe(struct dir *d)
{
	if (d->pipe[0] >= 0 || atomic_load(&no_splice) || d->bytes < SPLICE_AFTER || d->len)
		return;
	util_splice_pipe(d->pipe, O_NONBLOCK, SPLICE_CHUNK);
}

static ssize_t splice_some(int from, int to, size_t n)
{
	ssize_t got;

	do
		got = splice(from, NULL, to, NULL, n, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (got < 0 && errno == EINTR);
	return got;
}
#endif


/* Send what dir holds to dst. -1 on an error (errno set). */
static int flush(struct rconn *c, struct dir *d, int dst)
{
	ssize_t n;

	if (d->len == d->off)
		return 0;
#ifdef __linux__
	if (d->pipe[0] >= 0) {
		n = splice_some(d->pipe[0], dst, d->len - d->off);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -1;
		d->off += (size_t)n;
		server_progress(&c->base);
		if (d->off == d->len)
			d->off = d->len = 0;
		return 0;
	}
#endif
	n = net_send_some(dst, d->buf + d->off, d->len - d->off);
	if (n < 0)
		return -1;
	d->off += (size_t)n;
	if (n)
		server_progress(&c->base);
	if (d->off == d->len) { /* an idle connection holds no buffer */
		free(d->buf);
		d->buf = NULL;
		d->off = d->len = 0;
	}
	return 0;
}

/* Read from src and pass it on while dst takes it. -1 on an error. */
static int pump(struct rconn *c, struct dir *d, int src, int dst)
{
	char *scratch = util_scratch(2, RELAY_BUF);
	int i;

	if (!scratch)
		return -1;
	for (i = 0; i < RELAY_READS && !d->eof && d->len == 0; i++) {
		ssize_t n, sent;

#ifdef __linux__
		want_pipe(d);
		if (d->pipe[0] >= 0) {
			n = util_splice_in(src, d->pipe[1], SPLICE_CHUNK);
			if (n < 0 && errno == EINVAL && !d->len) { /* not for this kind of socket */
				atomic_store(&no_splice, 1);
				util_close_pipe(d->pipe);
				i--;
				continue;
			}
			if (n < 0)
				return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
			if (n == 0) {
				d->eof = 1;
				break;
			}
			d->len = (size_t)n;
			d->bytes += (unsigned long long)n;
			server_progress(&c->base);
			if (flush(c, d, dst) < 0)
				return -1;
			continue;
		}
#endif
		/* read into the thread's scratch buffer and pass it on; only what
		 * dst does not take now is kept, in a buffer of the direction's
		 * own (so an idle connection holds none) */
		do
			n = read(src, scratch, RELAY_BUF);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		if (n == 0) {
			d->eof = 1;
			break;
		}
		d->bytes += (unsigned long long)n;
		server_progress(&c->base);
		if ((sent = net_send_some(dst, scratch, (size_t)n)) < 0)
			return -1;
		if (sent < n) {
			if (!d->buf && !(d->buf = malloc(RELAY_BUF)))
				return -1;
			memcpy(d->buf, scratch + sent, (size_t)(n - sent));
			d->off = 0;
			d->len = (size_t)(n - sent);
		}
	}
	if (d->eof && d->len == 0 && !d->shut) { /* a half-close, passed on */
		shutdown(dst, SHUT_WR);
		d->shut = 1;
	}
	return 0;
}

static void rearm(struct rconn *c)
{
	struct loop *lp = c->r->srv.lp;
	int cl = 0, tg = 0;

	if (c->up.len == 0 && !c->up.eof)
		cl |= LOOP_READ;
	if (c->down.len)
		cl |= LOOP_WRITE;
	if (c->down.len == 0 && !c->down.eof)
		tg |= LOOP_READ;
	if (c->up.len)
		tg |= LOOP_WRITE;
	loop_io_set(lp, &c->base.io, cl);
	loop_io_set(lp, &c->tio, tg);
}

/* A reset on one side is passed on as a reset on the other. */
static void reset_both(struct rconn *c, const char *why)
{
	struct linger lg = { 1, 0 };

	setsockopt(c->base.io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	if (target_fd(c) >= 0)
		setsockopt(target_fd(c), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	c->base.linger = 0;
	server_close(&c->base, why);
}

/* Both directions moved one step: close when both have ended. */
static void step(struct rconn *c, int cl_ev, int tg_ev)
{
	int cfd = c->base.io.fd, tfd = target_fd(c);

	if ((cl_ev & LOOP_WRITE) && flush(c, &c->down, cfd) < 0)
		goto fail;
	if ((tg_ev & LOOP_WRITE) && flush(c, &c->up, tfd) < 0)
		goto fail;
	if ((cl_ev & (LOOP_READ | LOOP_HUP)) && pump(c, &c->up, cfd, tfd) < 0)
		goto fail;
	if ((tg_ev & (LOOP_READ | LOOP_HUP)) && pump(c, &c->down, tfd, cfd) < 0)
		goto fail;
	if (c->up.eof && c->down.eof && !c->up.len && !c->down.len) {
		c->base.linger = 1;
		server_close(&c->base, NULL);
		return;
	}
	rearm(c);
	return;
fail:
	if (errno == ECONNRESET || errno == EPIPE)
		reset_both(c, "reset");
	else
		server_close(&c->base, strerror(errno));
}

static void client_cb(struct loop *lp, struct loop_io *io, int ev)
{
	(void)lp;
	step(io->data, ev, 0);
}

static void connected(struct rconn *c)
{
	struct relay *r = c->r;

	c->connecting = 0;
	server_deadline(&c->base, r->idle_ms ? SERVER_IDLE : SERVER_NONE);
	if (r->verbose)
		nt_warn(CMD, "%s: connected to %s", c->base.peer, r->to_unix ? r->to_unix : r->host);
	step(c, LOOP_READ, LOOP_READ);
}

static void target_cb(struct loop *lp, struct loop_io *io, int ev)
{
	struct rconn *c = io->data;
	int err = 0;
	socklen_t len = sizeof err;

	if (!c->connecting) {
		step(c, 0, ev);
		return;
	}
	if (c->connecting == 2) {
		proxy_answer(c);
		return;
	}
	getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err == 0 && !(ev & LOOP_HUP)) {
		connected(c);
		return;
	}
	loop_io_del(lp, io);
	close(io->fd);
	io->fd = -1;
	c->connecting = 0;
	if (!c->r->to_unix && c->ai && (c->ai = c->ai->ai_next) && try_connect(c) == 0)
		return;
	c->r->failed++;
	nt_warn(CMD, "%s: cannot reach %s%s%s: %s", c->base.peer,
			c->r->to_unix ? c->r->to_unix : c->r->host, c->r->to_unix ? "" : " port ",
			c->r->to_unix ? "" : c->r->port, strerror(err ? err : ECONNREFUSED));
	server_close(&c->base, "target unreachable");
}

/* ---- the server's connections ---- */

static int conn_open(struct server_conn *sc)
{
	struct rconn *c = (struct rconn *)sc;
	int one = 1;

	c->r = sc->srv->data;
	c->r->conns++;
	sc->io.cb = client_cb;
	sc->io.events = 0; /* nothing is read until the target answers */
	c->tio.fd = -1;
	c->up.pipe[0] = c->up.pipe[1] = c->down.pipe[0] = c->down.pipe[1] = -1;
	c->tio.cb = target_cb;
	c->tio.data = c;
	c->ai = c->r->targets;
	setsockopt(sc->io.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (c->r->proxy_addr ? dial_via_proxy(c) < 0 : try_connect(c) < 0) {
		c->r->failed++;
		nt_warn(CMD, "%s: cannot reach %s: %s", sc->peer, c->r->to_unix ? c->r->to_unix
			: c->r->host, strerror(errno));
		return -1;
	}
	/* the connect timeout runs from the accept, as a head deadline */
	sc->start = loop_now(sc->srv->lp);
	server_deadline(sc, SERVER_HEAD);
	return 0;
}

static void conn_close(struct server_conn *sc, const char *why)
{
	struct rconn *c = (struct rconn *)sc;
	struct relay *r = c->r;

	r->bytes_up += c->up.bytes;
	r->bytes_down += c->down.bytes;
	if (r->verbose)
		nt_warn(CMD, "%s: closed, %llu bytes to the target, %llu back%s%s", sc->peer,
			c->up.bytes, c->down.bytes, why ? "; " : "", why ? why : "");
	if (c->tio.fd >= 0) {
		loop_io_del(r->srv.lp, &c->tio);
		close(c->tio.fd);
		c->tio.fd = -1;
	}
	free(c->up.buf);
	free(c->down.buf);
	util_close_pipe(c->up.pipe);
	util_close_pipe(c->down.pipe);
}

static void conn_timeout(struct server_conn *sc, enum server_deadline kind)
{
	struct rconn *c = (struct rconn *)sc;

	if (c->connecting) {
		c->r->failed++;
		nt_warn(CMD, "%s: %s did not answer within %d ms", sc->peer,
			c->r->to_unix ? c->r->to_unix : c->r->host, c->r->connect_ms);
		server_close(sc, "connect timeout");
		return;
	}
	server_close(sc, kind == SERVER_IDLE ? "idle timeout" : "timeout");
}

/* Stopping: what is relayed already goes on; nothing new is read. */
static int conn_drain(struct server_conn *sc)
{
	(void)sc;
	return 0;
}

static const struct server_class relay_class = {
	sizeof(struct rconn), conn_open, conn_close, conn_timeout, conn_drain
};

/* ---- the command ---- */

static int check_args(void *opts, char **args, int nargs, char *err)
{
	struct relay *r = opts;
	unsigned port;

	if (r->to_unix && nargs) {
		nt_seterr(err, "--to-unix PATH takes the place of HOST PORT");
		return -1;
	}
	if (!r->to_unix && nargs != 2) {
		nt_seterr(err, "expected HOST PORT (or --to-unix PATH)");
		return -1;
	}
	if (r->proxy_addr && r->to_unix) {
		nt_seterr(err, "--proxy and --to-unix exclude each other");
		return -1;
	}
	if (proxy_from_opts(&r->proxy, r->proxy_addr, r->proxy_type, r->proxy_auth, err) < 0)
		return -1;
	if (r->to_unix && strlen(r->to_unix) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		nt_seterr(err, "--to-unix: path too long");
		return -1;
	}
	if (!r->to_unix) {
		r->host = args[0];
		r->port = args[1];
		if (!*r->host || util_parse_port(r->port, 0, &port, err) < 0 || port == 0) {
			if (!*r->host || port == 0)
				nt_seterr(err, "bad target '%s' port '%s'", r->host, r->port);
			return -1;
		}
	}
	return server_addr_check(&r->addr, err);
}

#define O(field) offsetof(struct relay, field)
static const struct opt relay_opts[] = {
	SERVER_ADDR_OPTS(struct relay, addr, "port to listen on (0 picks a free one)"),
	SERVER_UNIX_OPT(struct relay, addr),
	SERVER_ACL_OPTS(struct relay, acl),
	{ 0, "to-unix", OPT_STRING, O(to_unix), 0, "PATH",
	  "connect each client to the Unix socket at PATH", 0, 0, NULL },
	{ 0, "connect-timeout", OPT_SECS, O(connect_ms), 0, "SECS",
	  "give up on a target that does not answer (default 10)", 1, 0, NULL },
	{ 0, "idle-timeout", OPT_SECS, O(idle_ms), 0, "SECS",
	  "close a connection idle that long both ways", 1, 0, NULL },
	{ 0, "max-clients", OPT_COUNT, O(max_clients), 0, "N",
	  "connections at once (default: what the descriptor\nlimit allows)", 1, 10000000, NULL },
	{ 0, "proxy", OPT_STRING, O(proxy_addr), 0, "HOST:PORT",
	  "reach the target through this proxy", 0, 0, NULL },
	{ 0, "proxy-type", OPT_FUNC, O(proxy_type), 0, "TYPE",
	  "socks5 (default), socks4 (4a) or http (CONNECT)", 0, 0, proxy_opt_type },
	{ 0, "proxy-auth", OPT_STRING, O(proxy_auth), 0, "USER:PASS",
	  "credentials for the proxy", 0, 0, NULL },
	{ 't', "threads", OPT_COUNT, O(threads), 0, "N",
	  "event-loop threads, each with its own listener\n(default 1)", 1, MAX_THREADS, NULL },
	{ 'v', "verbose", OPT_FLAG, O(verbose), 0, NULL,
	  "log each connection, with the bytes each way", 0, 0, NULL },
	OPT_END
};
#undef O

/* Tell every worker to stop (once, from any thread). */
static void stop_all(struct relay_shared *sh)
{
	int fd = atomic_exchange(&sh->stop_wr, -1);

	if (fd >= 0)
		close(fd);
}

static void signal_cb(struct loop *lp, struct loop_io *io, int ev)
{
	struct relay *r = io->data;

	(void)ev;
	loop_io_del(lp, io);
	stop_all(r->sh);
}

static void *worker_run(void *arg)
{
	struct relay *r = arg;

	if (loop_run(r->srv.lp, r->err) < 0) {
		r->rc = NT_EXIT_FAIL;
		stop_all(r->sh);
	}
	return NULL;
}

/* A worker on listener lfd (own: it closes it). 0, or -1 with err. */
static int worker_init(struct relay *r, int lfd, int own, char *err)
{
	struct loop *lp = loop_new(err);

	r->srv.head_ms = r->connect_ms;
	r->srv.idle_ms = r->idle_ms;
	r->srv.data = r;
	r->srv.acl = &r->acl;
	r->srv.reserve_fd = -1;
	r->srv.lio.fd = -1;
	r->sio.fd = -1;
	if (!lp)
		return -1;
	if (server_init(&r->srv, CMD, &relay_class, lp, lfd, own, &r->sh->nclients, err) < 0 ||
	    server_stop_on(&r->srv, r->sh->stop_rd, err) < 0)
		return -1;
	return 0;
}

static void worker_free(struct relay *r)
{
	struct loop *lp = r->srv.lp;

	server_free(&r->srv);
	if (r->sio.fd >= 0)
		util_signal_pipe_close(r->sio.fd);
	loop_free(lp);
	r->srv.lp = NULL;
}

/* Workers 1..n-1 on threads of their own, each on a listener of its own
 * on the port where SO_REUSEPORT allows. Returns how many run. */
static unsigned long workers_start(struct relay *w, unsigned long n, int lfd, char *err)
{
	sigset_t block, old;
	unsigned long i;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old); /* signals go to worker 0 */
	for (i = 1; i < n; i++) {
		int fd = net_listen_again(lfd, (int)w[0].addr.backlog, err);

		if (fd < 0 || worker_init(&w[i], fd, 1, err) < 0 ||
		    pthread_create(&w[i].tid, NULL, worker_run, &w[i]) != 0) {
			nt_warn(CMD, "running %lu of %lu threads: %s", i, n, err);
			if (fd >= 0 && !w[i].srv.lp)
				close(fd);
			worker_free(&w[i]);
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return i;
}

static int serve(struct relay *w, char *err)
{
	struct relay *r = &w[0];
	struct relay_shared *sh = r->sh;
	unsigned long i, running = 1;
	unsigned long long conns = 0, failed = 0, up = 0, down = 0;
	int status = NT_EXIT_FAIL, lfd, p[2];

	/* through a proxy, the proxy resolves the target */
	if (!r->to_unix && !r->proxy_addr &&
	    net_resolve(r->host, r->port, AF_UNSPEC, SOCK_STREAM, 0, &r->targets, err) < 0)
		return NT_EXIT_RESOLVE;
	lfd = server_listen(&r->addr, SOCK_STREAM, r->threads > 1 ? NET_REUSEPORT : 0, &status,
			    err);
	if (lfd < 0 || pipe(p) < 0) {
		if (lfd >= 0)
			close(lfd);
		return lfd < 0 ? status : NT_EXIT_FAIL;
	}
	net_set_cloexec(p[0]);
	net_set_cloexec(p[1]);
	sh->stop_rd = p[0];
	atomic_store(&sh->stop_wr, p[1]);
	if (!r->max_clients) {
		r->max_clients = server_default_max(server_raise_nofile(), 2);
		r->srv.max_by_limit = 1;
	}
	for (i = 0; i < r->threads; i++) {
		if (i)
			w[i] = *r;
		w[i].srv.max_clients = r->max_clients;
	}
	r->srv.unix_path = r->addr.unix_path;
	status = NT_EXIT_FAIL;
	if (worker_init(r, lfd, 1, err) == 0 && (r->sio.fd = util_signal_pipe(err)) >= 0) {
		r->sio.events = LOOP_READ;
		r->sio.cb = signal_cb;
		r->sio.data = r;
		if (loop_io_add(r->srv.lp, &r->sio, err) == 0) {
			running = workers_start(w, r->threads, lfd, err);
			server_announce(CMD, lfd);
			if (r->verbose)
				cmd_report_sockopts(CMD, lfd, &r->addr.so);
			worker_run(r);
			status = r->rc;
		}
	}
	for (i = 1; i < running; i++)
		pthread_join(w[i].tid, NULL);
	for (i = 0; i < running; i++) {
		conns += w[i].conns;
		failed += w[i].failed;
		up += w[i].bytes_up;
		down += w[i].bytes_down;
		if (w[i].rc && !status)
			status = w[i].rc;
	}
	if (status == 0)
		nt_warn(CMD, "stopped: %llu connections, %llu could not reach the target, "
			"%llu bytes to it, %llu back", conns, failed, up, down);
	for (i = running; i-- > 0;)
		worker_free(&w[i]);
	if (atomic_load(&sh->stop_wr) >= 0)
		close(atomic_load(&sh->stop_wr));
	close(sh->stop_rd);
	if (r->targets)
		freeaddrinfo(r->targets);
	return status;
}

static int run(int argc, char **argv)
{
	struct relay *w = calloc(MAX_THREADS, sizeof *w);
	struct relay_shared sh;
	char err[NT_ERR_LEN];
	int rc;

	if (!w) {
		nt_warn(CMD, "out of memory");
		return NT_EXIT_FAIL;
	}
	memset(&sh, 0, sizeof sh);
	atomic_store(&sh.stop_wr, -1);
	w->addr.port = 8080;
	w->addr.family = AF_UNSPEC;
	w->addr.backlog = 511;
	w->connect_ms = 10000;
	w->threads = 1;
	w->sh = &sh;
	rc = cmd_parse(&cmd_relay, argc, argv, w);
	if (rc == 0 && (rc = serve(w, err)) != 0)
		nt_warn(CMD, "%s", err);
	free(w);
	return rc < 0 ? 0 : rc;
}

const struct cmd cmd_relay = {
	CMD, run, "forward each connection to HOST PORT (a TCP port forwarder)",
	"[OPTIONS] HOST PORT\n       nettool relay [OPTIONS] --to-unix PATH",
	"Accept connections and connect each to HOST PORT (or a Unix socket);\n"
	"bytes flow both ways, a half-close and a reset are passed on.",
	relay_opts, NULL, 0, 0, 2, check_args
};
