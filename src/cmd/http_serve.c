#include "nettool/core/cmd.h"
#include "nettool/http/dav_lock.h"
#include "nettool/http/serve.h"
#include "nettool/core/loop.h"
#include "nettool/core/net.h"
#include "nettool/core/server.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "http-serve"
#define MAX_THREADS 256
#define STEER_WINDOW 256 /* connections over which steer_check looks */

/*
 * Steering by CPU keeps a connection on the CPU that took it in, which on
 * loopback is its client's; but where one CPU takes in every connection
 * (a network card with one queue), it would leave the other workers idle.
 * A worker that took more than half-way between its share and all of the
 * last STEER_WINDOW connections turns steering off for good.
 */
static void steer_check(struct server *srv, struct server_conn *c)
{
	struct hs_worker *w = srv->data;
	struct hs_cfg *g = w->cfg;
	unsigned long all = atomic_fetch_add(&g->accepts, 1) + 1 - w->accepts_base;
	unsigned long mine = ++w->taken - w->taken_base;

	(void)c;
	if (all < STEER_WINDOW || !atomic_load(&g->steered))
		return;
	/* mine / all > (1 / threads + 1) / 2 */
	if (2 * mine * g->threads > all * (g->threads + 1) && atomic_exchange(&g->steered, 0) &&
	    net_reuseport_by_cpu(srv->lio.fd, 0) == 0)
		nt_warn(CMD, "connections arrive unevenly across CPUs: spreading them by address");
	w->accepts_base += all;
	w->taken_base = w->taken;
}

/* Change notification: events are read before any request of the same
 * wait looks at the cache. */
static void fwatch_cb(struct loop *lp, struct loop_io *io, int ev)
{
	struct hs_worker *w = io->data;

	(void)lp;
	(void)ev;
	fwatch_drain(w->cfg->root.fw);
}

/* Tell every worker to stop (once, from any thread). */
static void stop_all(struct hs_cfg *g)
{
	int fd = atomic_exchange(&g->stop_wr, -1);

	if (fd >= 0)
		close(fd); /* stop_rd turns readable in every worker's loop */
}

/* SIGINT/SIGTERM, seen by the first worker. */
static void signal_cb(struct loop *lp, struct loop_io *io, int ev)
{
	struct hs_worker *w = io->data;

	(void)ev;
	loop_io_del(lp, io);
	stop_all(w->cfg);
}

static int worker_init(struct hs_worker *w, struct hs_cfg *g, int lfd, int own, int cpu,
		       char *err)
{
	struct loop *lp = loop_new(err);

	w->cfg = g;
	w->cpu = cpu;
	w->date_at = -1;
	w->cache.root = &g->root;
	w->srv.data = w;
	w->srv.acl = &g->acl;
	w->srv.max_clients = g->max_clients;
	w->srv.max_by_limit = g->max_by_limit;
	w->srv.idle_ms = g->keepalive_ms;
	w->srv.head_ms = g->header_ms;
	w->srv.send_ms = g->send_ms;
	w->srv.on_accept = steer_check;
	w->srv.reserve_fd = -1;
	w->srv.lio.fd = -1;
	if (!lp)
		return -1;
	if (server_init(&w->srv, CMD, &hs_class, lp, lfd, own, &g->nclients, err) < 0 ||
	    server_stop_on(&w->srv, g->stop_rd, err) < 0)
		return -1;
	if (g->root.fw) {
		w->fwio.fd = fwatch_fd(g->root.fw);
		w->fwio.events = LOOP_READ;
		w->fwio.cb = fwatch_cb;
		w->fwio.data = w;
		if (loop_io_add(lp, &w->fwio, err) < 0)
			return -1;
		loop_io_first(lp, &w->fwio);
	}
	return 0;
}

static void worker_free(struct hs_worker *w)
{
	server_free(&w->srv);
	hs_worker_free_pools(w);
	loop_free(w->srv.lp);
	w->srv.lp = NULL;
}

static void *worker_run(void *arg)
{
	struct hs_worker *w = arg;

	if (w->cpu >= 0)
		util_pin_cpu(w->cpu);
	atomic_fetch_add(&w->cfg->ready, 1);
	if (loop_run(w->srv.lp, w->err) < 0) {
		w->rc = NT_EXIT_FAIL;
		stop_all(w->cfg);
	}
	return NULL;
}

/* A byte count: N, or N with K, M, G or T (powers of 1024). */
static int opt_size(void *field, const char *arg, char *err)
{
	static const char units[] = "KMGT";
	char *end;
	unsigned long long v;
	const char *u;
	int shift = 0;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*end && (u = strchr(units, *end)) && (!end[1] || (end[1] == 'i' && end[2] == 'B') ||
						 (end[1] == 'B' && !end[2]))) {
		shift = 10 * (int)(u - units + 1);
		end += strlen(end);
	}
	if (end == arg || *end || errno || arg[0] == '-' || !(arg[0] >= '0' && arg[0] <= '9') ||
	    (shift && v > (~0ULL >> shift))) {
		nt_seterr(err, "bad size '%s' (expected a number of bytes, or with K, M, G or T)", arg);
		return -1;
	}
	*(uint64_t *)field = (uint64_t)v << shift;
	return 0;
}

#define O(field) offsetof(struct hs_cfg, field)
static const struct opt hs_opts[] = {
	{ 'd', "dir", OPT_STRING, O(dir), 0, "DIR", "directory to serve (default .)", 0, 0, NULL },
	SERVER_ADDR_OPTS(struct hs_cfg, addr, "port to listen on (default 8000; 0 picks a free one)"),
	SERVER_UNIX_OPT(struct hs_cfg, addr),
	SERVER_ACL_OPTS(struct hs_cfg, acl),
	{ 't', "threads", OPT_COUNT, O(threads), 0, "N", "worker threads (default: one per CPU)",
	  1, MAX_THREADS, NULL },
	{ 0, "no-affinity", OPT_FLAG, O(no_affinity), 0, NULL, "let threads move between CPUs",
	  0, 0, NULL },
	{ 0, "no-list", OPT_FLAG, O(no_list), 0, NULL, "403 for a directory without index.html",
	  0, 0, NULL },
	{ 0, "follow-symlinks", OPT_FLAG, O(follow), 0, NULL, "serve symlinks that point outside DIR",
	  0, 0, NULL },
	{ 0, "upload", OPT_FLAG, O(upload), 0, NULL,
	  "take files: PUT /PATH, and forms POSTed to a\ndirectory (fields named file)", 0, 0, NULL },
	{ 0, "overwrite", OPT_FLAG, O(hu.overwrite), 0, NULL,
	  "with --upload: replace existing files (else 409)", 0, 0, NULL },
	{ 0, "allow-delete", OPT_FLAG, O(allow_delete), 0, NULL, "with --upload: DELETE removes a file",
	  0, 0, NULL },
	{ 0, "webdav", OPT_FLAG, O(webdav), 0, NULL,
	  "WebDAV's PROPFIND and MKCOL (with the write rules\nof --upload and --allow-delete)", 0, 0, NULL },
	{ 0, "auth", OPT_FUNC, O(auth), 0, "USER:SECRET[@PATH][:ro|:rw]",
	  "an account (repeatable): SECRET a password or\nsha256:HEX; @PATH its subtree; :ro reads only",
	  0, 0, hs_opt_auth },
	{ 0, "auth-file", OPT_STRING, O(auth_file), 0, "FILE",
	  "accounts from FILE, one a line (secrets out of ps)", 0, 0, NULL },
	{ 0, "public-read", OPT_FLAG, O(auth.public_read), 0, NULL,
	  "with accounts: reading needs none", 0, 0, NULL },
	{ 0, "public-write", OPT_FLAG, O(public_write), 0, NULL,
	  "let --upload or --allow-delete run without accounts\non an address other than loopback",
	  0, 0, NULL },
	{ 0, "dotfiles", OPT_FLAG, O(hu.dotfiles), 0, NULL,
	  "with --upload: allow names starting with '.'", 0, 0, NULL },
	{ 0, "max-body", OPT_FUNC, O(max_body), 0, "SIZE",
	  "largest request body, e.g. 10M (default 1G with\n--upload, else 1M); 413 beyond", 0, 0,
	  opt_size },
	{ 0, "404", OPT_STRING, O(page404), 0, "FILE", "page to send with 404 responses", 0, 0, NULL },
	{ 0, "log", OPT_STRING, O(log_path), 0, "FILE", "access log to FILE (default stderr)",
	  0, 0, NULL },
	{ 'q', "quiet", OPT_FLAG, O(quiet), 0, NULL, "no access log", 0, 0, NULL },
	{ 0, "header-timeout", OPT_SECS, O(header_ms), 0, "SECS",
	  "whole request head within SECS (default 10)", 1, 0, NULL },
	{ 0, "keepalive-timeout", OPT_SECS, O(keepalive_ms), 0, "SECS",
	  "close idle connections (default 5)", 1, 0, NULL },
	{ 0, "send-timeout", OPT_SECS, O(send_ms), 0, "SECS",
	  "close a client that takes no byte of its\nresponse for SECS (default 10)", 1, 0, NULL },
	{ 0, "max-clients", OPT_COUNT, O(max_clients), 0, "N",
	  "connections at once, all threads (default:\nwhat the descriptor limit allows); when full,\n"
	  "the connection quiet longest makes room", 1, 1000000, NULL },
	OPT_END
};
#undef O

/* Whether only this machine can reach the address: loopback, or a Unix
 * socket. */
static int local_only(const struct server_addr *a)
{
	const char *h = a->host;

	return a->unix_path || (h && (!strncmp(h, "127.", 4) || !strcmp(h, "::1") ||
				      !strcmp(h, "[::1]") || !strcmp(h, "localhost")));
}

static int check_args(void *opts, char **args, int nargs, char *err)
{
	struct hs_cfg *g = opts;
	mode_t mask;

	(void)args;
	(void)nargs;
	if (!g->upload && (g->hu.overwrite || g->allow_delete || g->hu.dotfiles)) {
		nt_seterr(err, "--overwrite, --allow-delete and --dotfiles need --upload");
		return -1;
	}
	if (g->webdav) {
		g->upload = g->allow_delete = g->hu.overwrite = 1; /* as RFC 4918 has PUT */
		if (!(g->locks = malloc(sizeof *g->locks))) {
			nt_seterr(err, "out of memory");
			return -1;
		}
		hs_locks_init(g->locks);
	}
	if (g->auth_file && hs_auth_load(&g->auth, g->auth_file, err) < 0)
		return -1;
	if ((g->upload || g->allow_delete) && !g->auth.n && !g->public_write &&
	    !local_only(&g->addr)) {
		nt_seterr(err, "anyone who can reach %s:%u could write to %s: give an account "
			  "(--auth USER:PASS), listen on loopback (-b 127.0.0.1), or say "
			  "--public-write", g->addr.host ? g->addr.host : "every address",
			  g->addr.port, g->dir);
		return -1;
	}
	if (g->max_body == UINT64_MAX) /* not given */
		g->max_body = g->upload ? (uint64_t)1 << 30 : (uint64_t)1 << 20;
	mask = umask(022);
	umask(mask);
	g->hu.mode = 0666 & ~mask;
	return server_addr_check(&g->addr, err);
}

/* The root, the log, the first listener and the stop pipe. */
static int cfg_setup(struct hs_cfg *g, int *lfd, char *err)
{
	int flags = g->threads > 1 ? NET_REUSEPORT : 0, p[2], status;
	unsigned long nofile = server_raise_nofile();

	if (fcache_root_open(&g->root, g->dir, g->follow, err) < 0)
		return NT_EXIT_FAIL;
	g->log = stderr;
	if (g->log_path && !(g->log = fopen(g->log_path, "a"))) {
		nt_seterr(err, "%s: %s", g->log_path, strerror(errno));
		return NT_EXIT_FAIL;
	}
	if (!g->max_clients) { /* a socket and, for a large body, a file each */
		g->max_clients = server_default_max(nofile, 2);
		g->max_by_limit = 1;
	}
	*lfd = server_listen(&g->addr, SOCK_STREAM, flags, &status, err);
	if (*lfd < 0 && flags && errno == ENOPROTOOPT) /* no SO_REUSEPORT: share one */
		*lfd = server_listen(&g->addr, SOCK_STREAM, 0, &status, err);
	if (*lfd < 0)
		return status;
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
static unsigned long workers_start(struct hs_worker *w, struct hs_cfg *g, int lfd, char *err)
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
		int fd = net_listen_again(lfd, (int)g->addr.backlog, err), own = fd >= 0;

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
	/* "listening on" once the started workers are on their CPUs */
	while (atomic_load(&g->ready) + 1 < i)
		sched_yield();
	if (w[0].cpu >= 0)
		util_pin_cpu(w[0].cpu);
	/* a listener shared by workers is closed only at exit */
	w[0].srv.own_listener = !atomic_load(&g->shared);
	return i;
}

/* Worker 0 also takes SIGINT and SIGTERM. */
static int watch_signals(struct hs_worker *w, char *err)
{
	w->sio.fd = util_signal_pipe(err);
	if (w->sio.fd < 0)
		return -1;
	w->sio.events = LOOP_READ;
	w->sio.cb = signal_cb;
	w->sio.data = w;
	return loop_io_add(w->srv.lp, &w->sio, err);
}

/* Run the workers until they stop; their status. */
static int serve(struct hs_worker *w, struct hs_cfg *g, char *err)
{
	unsigned long i, running = workers_start(w, g, w[0].srv.lio.fd, err);
	int lfd = w[0].srv.lio.fd, rc = 0;

	server_announce(CMD, lfd);
	worker_run(&w[0]);
	for (i = 1; i < running; i++)
		pthread_join(w[i].tid, NULL);
	for (i = 0; i < running; i++)
		if (w[i].rc) {
			rc = w[i].rc;
			snprintf(err, NT_ERR_LEN, "%s", w[i].err);
		}
	for (i = running; i-- > 1;)
		worker_free(&w[i]);
	if (!w[0].srv.own_listener) /* shared: the others are done with it */
		close(lfd);
	return rc;
}

static int run(int argc, char **argv)
{
	struct hs_cfg g;
	struct hs_worker *w = NULL;
	char err[NT_ERR_LEN];
	int rc, lfd = -1;

	memset(&g, 0, sizeof g);
	g.dir = ".";
	g.addr.port = 8000;
	g.addr.family = AF_UNSPEC;
	g.addr.backlog = 1024;
	g.header_ms = 10000;
	g.keepalive_ms = 5000;
	g.send_ms = 10000;
	g.threads = default_threads();
	g.max_body = UINT64_MAX;
	g.stop_rd = g.root.fd = -1;
	atomic_init(&g.nclients, 0);
	atomic_init(&g.stop_wr, -1);
	atomic_init(&g.shared, 0);
	atomic_init(&g.ready, 0);
	hs_auth_init(&g.auth);
	rc = cmd_parse(&cmd_http_serve, argc, argv, &g);
	if (rc) {
		hs_auth_free(&g.auth);
		return rc < 0 ? 0 : rc;
	}
	rc = cfg_setup(&g, &lfd, err);
	if (rc == 0 && !(w = calloc(g.threads, sizeof *w))) {
		nt_seterr(err, "out of memory");
		rc = NT_EXIT_FAIL;
	}
	if (rc == 0) {
		w[0].sio.fd = -1;
		w[0].srv.unix_path = g.addr.unix_path; /* created: removed at exit */
		if (worker_init(&w[0], &g, lfd, 1, -1, err) < 0 || watch_signals(&w[0], err) < 0)
			rc = NT_EXIT_FAIL;
		lfd = -1; /* worker 0 owns it now */
	}
	if (rc == 0)
		rc = serve(w, &g, err);
	if (rc)
		nt_warn(CMD, "%s", err);
	if (w) {
		worker_free(&w[0]);
		util_signal_pipe_close(w[0].sio.fd);
		free(w);
	}
	if (lfd >= 0)
		close(lfd);
	stop_all(&g);
	if (g.stop_rd >= 0)
		close(g.stop_rd);
	fcache_root_close(&g.root);
	if (g.log && g.log != stderr)
		fclose(g.log);
	hs_auth_free(&g.auth);
	if (g.locks) {
		hs_locks_free(g.locks);
		free(g.locks);
	}
	return rc;
}

const struct cmd cmd_http_serve = {
	CMD, run, "serve a directory over HTTP/1.1 (and take uploads)", "[OPTIONS]",
	"Serve the files of a directory over HTTP/1.1 (GET and HEAD).", hs_opts, NULL, 0, 0, 0, check_args
};
