#include "nettool/core/server.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPT_BATCH 64
#define ACCEPT_PAUSE_MS 100
#define LINGER_READS 16

int server_listen(const struct server_addr *sa, int socktype, int flags,
		  int *status, char *err)
{
	struct addrinfo *ai = NULL;
	unsigned i;
	int fd;

	char port[8];

	*status = NT_EXIT_FAIL;
	if (sa->unix_path) {
		if (socktype == SOCK_STREAM)
			return net_listen_unix(sa->unix_path, (int)sa->backlog, err);
		nt_seterr(err, "-U: Unix sockets are for stream servers");
		return -1;
	}
	net_use_sockopts(&sa->so);
	snprintf(port, sizeof port, "%u", sa->port);
	if (sa->host && net_resolve(sa->host, port, sa->family, socktype,
				    NET_PASSIVE, &ai, err) < 0) {
		*status = NT_EXIT_RESOLVE;
		return -1;
	}
	fd = net_listen(ai, sa->port, sa->family, socktype, (int)sa->backlog, flags,
			 err);
	if (ai)
		freeaddrinfo(ai);
	for (i = 0; fd >= 0 && i < sa->joins.n; i++)
		if (sockopt_join(fd, sa->joins.spec[i], err) < 0) {
			close(fd);
			return -1;
		}
	return fd;
}

int server_opt_join(void *field, const char *arg, char *err)
{
	struct server_addr *sa = field;

	if (sockopt_opt_join(&sa->joins, arg, err) < 0)
		return -1;
	/* receivers of one group share its port */
	return sockopt_given(&sa->so, "so_reuseaddr") ? 0 : sockopt_opt(&sa->so, "so_reuseaddr", err);
}

int server_addr_check(const struct server_addr *sa, char *err)
{
	if (!sa->unix_path || (!sa->port_str && !sa->host))
		return 0;
	nt_seterr(err, "-U listens on a Unix socket: it goes with neither -p nor -b");
	return -1;
}

void server_announce(const char *cmd, int fd)
{
	char addr[NET_ADDR_LEN];

	nt_warn(cmd, "listening on %s", net_fd_addr(fd, 0, addr));
}

/* Descriptors are what a server with many clients runs out of first: use
 * all the hard limit allows (poll and epoll have no FD_SETSIZE bound). */
unsigned long server_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max == RLIM_INFINITY ? (rlim_t)1 << 20 : rl.rlim_max;

		if (setrlimit(RLIMIT_NOFILE, &(struct rlimit){ want, rl.rlim_max }) == 0)
			rl.rlim_cur = want;
	}
	return rl.rlim_cur == RLIM_INFINITY ? 1ul << 20 : (unsigned long)rl.rlim_cur;
}

/* Descriptors kept for what is not a connection: listeners, pipes, logs,
 * the files a server opens. */
static unsigned long fd_reserve(unsigned long nofile)
{
	return nofile / 8 < 8 ? 8 : nofile / 8 > 256 ? 256 : nofile / 8;
}

unsigned long server_default_max(unsigned long nofile, unsigned per_conn)
{
	unsigned long reserve = fd_reserve(nofile);

	if (nofile <= reserve + per_conn)
		return 1;
	return (nofile - reserve) / (per_conn ? per_conn : 1);
}

static void list_unlink(struct server *s, struct server_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->tail = c->prev;
	c->prev = c->next = NULL;
}

static void list_append(struct server *s, struct server_conn *c)
{
	c->prev = s->tail;
	c->next = NULL;
	if (s->tail)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
}

void server_progress(struct server_conn *c)
{
	struct server *s = c->srv;

	c->progress = loop_now(s->lp);
	if (s->tail != c) {
		list_unlink(s, c);
		list_append(s, c);
	}
}

static void conn_free(struct server_conn *c);

static uint64_t deadline_due(const struct server_conn *c)
{
	const struct server *s = c->srv;

	switch (c->kind) {
	case SERVER_IDLE: return c->progress + (uint64_t)s->idle_ms;
	case SERVER_HEAD: return c->start + (uint64_t)s->head_ms;
	case SERVER_SEND: return c->progress + (uint64_t)s->send_ms;
	case SERVER_LINGER: return c->start + SERVER_LINGER_MS;
	default: return 0;
	}
}

static int deadline_ms(const struct server_conn *c)
{
	const struct server *s = c->srv;

	return c->kind == SERVER_IDLE ? s->idle_ms : c->kind == SERVER_HEAD ? s->head_ms :
	       c->kind == SERVER_SEND ? s->send_ms : c->kind == SERVER_LINGER ? SERVER_LINGER_MS : 0;
}

void server_deadline(struct server_conn *c, enum server_deadline kind)
{
	struct loop *lp = c->srv->lp;
	uint64_t due, now = loop_now(lp);

	c->kind = kind;
	if (deadline_ms(c) <= 0) {
		loop_timer_stop(lp, &c->timer);
		return;
	}
	due = deadline_due(c);
	loop_timer_set(lp, &c->timer, due > now ? due - now : 0);
}

/* Deadlines are checked lazily: progress since the timer was armed only
 * moves it on, so bytes flowing cost no timer operation. */
static void timer_cb(struct loop *lp, struct loop_timer *t)
{
	struct server_conn *c = t->data;
	uint64_t due = deadline_due(c), now = loop_now(lp);

	if (due > now) {
		loop_timer_set(lp, t, due - now);
		return;
	}
	if (c->kind == SERVER_LINGER)
		conn_free(c);
	else if (c->srv->cls->timeout)
		c->srv->cls->timeout(c, c->kind);
	else
		server_close(c, "idle timeout");
}

static void conn_free(struct server_conn *c)
{
	struct server *s = c->srv;

	loop_io_del(s->lp, &c->io);
	loop_timer_stop(s->lp, &c->timer);
	close(c->io.fd);
	list_unlink(s, c);
	atomic_fetch_sub(s->nclients, 1);
	free(c);
	if (s->stopping && !s->head)
		loop_stop(s->lp);
}

/* Read away what the client sends; 1 at its end (or an error), 0 when
 * it would block or after a bound. */
static int discard_input(int fd)
{
	char tmp[16384];
	int i;

	for (i = 0; i < LINGER_READS; i++) {
		ssize_t n = read(fd, tmp, sizeof tmp);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return 1;
	}
	return 0;
}

static void linger_cb(struct loop *lp, struct loop_io *io, int ev)
{
	(void)lp;
	(void)ev;
	if (discard_input(io->fd))
		conn_free(io->data);
}

void server_close(struct server_conn *c, const char *why)
{
	struct server *s = c->srv;

	if (c->kind == SERVER_LINGER) {
		conn_free(c);
		return;
	}
	s->cls->close(c, why);
	/* Lingering close: FIN after what was sent, then the client's input
	 * is read away until it closes too (or SERVER_LINGER_MS), so that
	 * closing is not a reset that destroys what is still in flight. */
	if (!c->linger || s->freeing || shutdown(c->io.fd, SHUT_WR) < 0 ||
	    discard_input(c->io.fd)) {
		conn_free(c);
		return;
	}
	c->io.cb = linger_cb;
	c->kind = SERVER_LINGER;
	c->start = loop_now(s->lp);
	if (loop_io_set(s->lp, &c->io, LOOP_READ) < 0 ||
	    loop_timer_set(s->lp, &c->timer, SERVER_LINGER_MS) < 0)
		conn_free(c);
}

/* Full: close the connection quiet the longest. 0 when there is none. */
static int make_room(struct server *s)
{
	struct server_conn *c = s->head;

	if (!c)
		return 0;
	s->evicted++;
	if (s->verbose)
		nt_warn(s->cmd, "%s: closed to make room (quiet %llu ms)", c->peer,
			(unsigned long long)(loop_now(s->lp) - c->progress));
	server_close(c, "closed to make room");
	return 1;
}

static void conn_new(struct server *s, int fd, const struct sockaddr_storage *ss,
		     socklen_t len)
{
	struct server_conn *c = calloc(1, s->cls->conn_size);

	if (!c)
		goto fail;
	c->srv = s;
	c->io.fd = fd;
	c->io.events = LOOP_READ;
	c->io.data = c;
	c->timer.cb = timer_cb;
	c->timer.data = c;
	c->progress = c->start = loop_now(s->lp);
	net_format_addr((const struct sockaddr *)ss, len, c->peer);
	list_append(s, c);
	s->accepted++;
	if (s->cls->open(c) < 0 || loop_io_add(s->lp, &c->io, NULL) < 0) {
		loop_timer_stop(s->lp, &c->timer);
		list_unlink(s, c);
		s->cls->close(c, "cannot watch it");
		goto fail;
	}
	if (s->on_accept)
		s->on_accept(s, c);
	return;
fail:
	free(c);
	close(fd);
	atomic_fetch_sub(s->nclients, 1);
	s->refused++;
}

static void pause_cb(struct loop *lp, struct loop_timer *t)
{
	struct server *s = t->data;

	if (!s->stopping)
		loop_io_set(lp, &s->lio, LOOP_READ);
}

int server_admit(const char *cmd, const struct acl *acl, int verbose, int fd,
		 const struct sockaddr_storage *ss, socklen_t len)
{
	char a[NET_ADDR_LEN];

	if (acl_admits(acl, (const struct sockaddr *)ss))
		return 1;
	if (verbose)
		nt_warn(cmd, "%s: refused (--allow/--deny)",
			net_format_addr((const struct sockaddr *)ss, len, a));
	close(fd);
	return 0;
}

int server_accept_admitted(const char *cmd, int lfd, const struct acl *acl, int verbose,
			   char *peer)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = net_accept(lfd, &ss, &len);

	if (fd < 0) {
		if (net_accept_next(errno) == NET_ACCEPT_PAUSE) {
			poll(NULL, 0, 100); /* out of descriptors: no busy loop */
			errno = EAGAIN;
		}
		return -1;
	}
	net_format_addr((struct sockaddr *)&ss, len, peer);
	if (server_admit(cmd, acl, verbose, fd, &ss, len))
		return fd;
	errno = ECONNREFUSED;
	return -1;
}

static int admitted(struct server *s, int fd, const struct sockaddr_storage *ss, socklen_t len)
{
	if (server_admit(s->cmd, s->acl, s->verbose, fd, ss, len))
		return 1;
	s->refused++;
	return 0;
}

/* Out of descriptors: spend the reserve one on a pending connection and
 * make room for it. Returns its fd, -2 when it was refused, or -1. With
 * nothing of this worker's own to close (another worker's clients hold
 * the descriptors), the connection stays queued until they are freed. */
static int accept_reserved(struct server *s, struct sockaddr_storage *ss, socklen_t *len)
{
	int fd;

	if (s->reserve_fd < 0 || !s->head)
		return -1;
	close(s->reserve_fd);
	fd = net_accept(s->lio.fd, ss, len);
	if (fd >= 0 && !admitted(s, fd, ss, *len)) {
		fd = -2;
	} else if (fd >= 0 && !make_room(s)) {
		close(fd);
		s->refused++;
		fd = -2;
	}
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd;
}

static void accept_cb(struct loop *lp, struct loop_io *io, int ev)
{
	struct server *s = io->data;
	int i;

	(void)ev;
	for (i = 0; i < ACCEPT_BATCH && !s->stopping; i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		int fd = net_accept(io->fd, &ss, &len), room = 0, full;
		unsigned long n;

		if (fd < 0) {
			enum net_accept_next next = net_accept_next(errno);

			if (next == NET_ACCEPT_DONE)
				return;
			if (next == NET_ACCEPT_SKIP)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				fd = accept_reserved(s, &ss, &len);
			if (fd == -2)
				continue;
			if (fd < 0) { /* no busy loop while nothing can be done */
				loop_io_set(lp, io, 0);
				loop_timer_set(lp, &s->pause, ACCEPT_PAUSE_MS);
				return;
			}
			room = 1;
		} else if (!admitted(s, fd, &ss, len)) {
			continue;
		}
		n = atomic_fetch_add(s->nclients, 1);
		/* close to the last descriptors (they are handed out lowest
		 * first, so a high one says so): no more connections than now */
		if ((unsigned long)fd >= s->fd_high && n < s->fd_cap)
			s->fd_cap = n;
		/* at a cap the descriptor limit set, with none of this
		 * worker's own to close (another worker's clients hold the
		 * rest): one over it a worker, closed by the next, rather than
		 * a refusal; a --max-clients of the user's holds always */
		full = (n >= s->max_clients && (!s->max_by_limit || s->head)) ||
		       (n >= s->fd_cap && s->head);
		if (full && !room && !make_room(s)) {
			atomic_fetch_sub(s->nclients, 1);
			close(fd);
			s->refused++;
			continue;
		}
		conn_new(s, fd, &ss, len);
	}
}

static void drain_cb(struct loop *lp, struct loop_timer *t)
{
	struct server *s = t->data;

	while (s->head)
		server_close(s->head, "server stopping");
	loop_stop(lp);
}

void server_stop(struct server *s)
{
	struct server_conn *c, *next;

	if (s->stopping)
		return;
	s->stopping = 1;
	if (s->stop_io.cb) {
		loop_io_del(s->lp, &s->stop_io);
		s->stop_io.cb = NULL;
	}
	loop_timer_stop(s->lp, &s->pause);
	if (s->lio.fd >= 0) {
		loop_io_del(s->lp, &s->lio);
		if (s->own_listener) {
			close(s->lio.fd); /* new clients are refused, not left waiting */
			s->lio.fd = -1;
		}
	}
	for (c = s->head; c; c = next) {
		next = c->next;
		if (c->kind == SERVER_LINGER)
			continue; /* it ends by itself, within the drain */
		if (s->cls->drain && s->cls->drain(c))
			c->draining = 1;
		else
			server_close(c, "server stopping");
	}
	if (!s->head)
		loop_stop(s->lp);
	else
		loop_timer_set(s->lp, &s->drain, SERVER_DRAIN_MS);
}

static void stop_cb(struct loop *lp, struct loop_io *io, int ev)
{
	(void)lp;
	(void)ev;
	server_stop(io->data);
}

int server_stop_on(struct server *s, int fd, char *err)
{
	s->stop_io.fd = fd;
	s->stop_io.events = LOOP_READ;
	s->stop_io.cb = stop_cb;
	s->stop_io.data = s;
	return loop_io_add(s->lp, &s->stop_io, err);
}

int server_init(struct server *s, const char *cmd, const struct server_class *cls,
		struct loop *lp, int lfd, int own, atomic_ulong *shared, char *err)
{
	unsigned long nofile;

	s->cmd = cmd;
	s->cls = cls;
	s->lp = lp;
	s->own_listener = own;
	atomic_init(&s->own_count, 0);
	s->nclients = shared ? shared : &s->own_count;
	nofile = server_raise_nofile();
	s->fd_high = nofile - fd_reserve(nofile) / 2;
	s->fd_cap = (unsigned long)-1;
	if (!s->max_clients) {
		s->max_clients = server_default_max(nofile, 1);
		s->max_by_limit = 1;
	}
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	s->lio.fd = lfd;
	s->lio.events = LOOP_READ;
	s->lio.cb = accept_cb;
	s->lio.data = s->pause.data = s->drain.data = s;
	s->pause.cb = pause_cb;
	s->drain.cb = drain_cb;
	return loop_io_add(lp, &s->lio, err);
}

void server_free(struct server *s)
{
	s->stopping = s->freeing = 1;
	while (s->head)
		server_close(s->head, "server stopping");
	if (s->lp) {
		loop_timer_stop(s->lp, &s->pause);
		loop_timer_stop(s->lp, &s->drain);
	}
	if (s->own_listener && s->lio.fd >= 0)
		close(s->lio.fd);
	s->lio.fd = -1;
	if (s->reserve_fd >= 0)
		close(s->reserve_fd);
	s->reserve_fd = -1;
	if (s->unix_path)
		unlink(s->unix_path);
	s->unix_path = NULL;
}
