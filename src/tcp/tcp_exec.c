/* tcp-server --exec: a program for each connection, as inetd and
 * tcpserver run them. */
#include "nettool/core/net.h"
#include "nettool/tcp/tcp_server.h"
#include "nettool/tcp/tcp_spawn.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define CMD TSERVER_CMD
#define KILL_WAIT_MS 1000

struct child {
	pid_t pid;
	char peer[NET_ADDR_LEN];
};

struct exec_state {
	struct tserver *t;
	struct child *kids;       /* max_clients slots; pid 0 when free */
	unsigned long running;
	struct tcp_spawn sp;      /* the program, and its environment */
};

/* Start the program for connection fd (closed here). */
static void spawn(struct exec_state *x, int fd, const char *peer)
{
	unsigned long i;
	pid_t pid;

	for (i = 0; i < x->t->max_clients && x->kids[i].pid; i++)
		;
	if (i < x->t->max_clients) {
		tcp_spawn_env(&x->sp, fd);
		net_set_nonblock(fd, 0); /* the program gets a blocking socket */
	}
	pid = i < x->t->max_clients ? tcp_spawn_start(&x->sp, fd, 1) : -1;
	if (pid < 0) {
		nt_warn(CMD, "%s: cannot start the program: %s", peer,
			i < x->t->max_clients ? strerror(errno) : "no slot");
	} else {
		x->kids[i].pid = pid;
		snprintf(x->kids[i].peer, sizeof x->kids[i].peer, "%s", peer);
		x->running++;
		if (x->t->verbose)
			nt_warn(CMD, "%s: started process %ld", peer, (long)pid);
	}
	close(fd);
}

/* Reap every child that has ended. */
static void reap(struct exec_state *x)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		unsigned long i;

		for (i = 0; i < x->t->max_clients && x->kids[i].pid != pid; i++)
			;
		if (i == x->t->max_clients)
			continue;
		if (x->t->verbose)
			nt_warn(CMD, "%s: process %ld %s %d", x->kids[i].peer, (long)pid,
				WIFEXITED(st) ? "exited" : "killed by signal",
				WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		x->kids[i].pid = 0;
		x->running--;
	}
}

/* Accept what waits and start a program for each admitted one. */
static void take(struct exec_state *x)
{
	struct tserver *t = x->t;

	while (x->running < t->max_clients) {
		char a[NET_ADDR_LEN];
		int fd = tserver_accept(t, a);

		if (fd >= 0)
			spawn(x, fd, a);
		else if (errno != ECONNABORTED && errno != EPROTO && errno != EINTR)
			return; /* none waits (or only refused ones): poll again */
	}
}

/* 1 when SIGINT or SIGTERM came; reaps on SIGCHLD. */
static int signals(struct exec_state *x, int sfd)
{
	unsigned char b[64];
	ssize_t n;
	int stop = 0;

	while ((n = read(sfd, b, sizeof b)) > 0) {
		ssize_t i;

		for (i = 0; i < n; i++)
			stop |= b[i] == SIGINT || b[i] == SIGTERM;
	}
	reap(x);
	return stop;
}

/* The stop: children have SERVER_DRAIN_MS to finish, then SIGTERM, then
 * SIGKILL, each to its whole process group; every one is reaped. */
static void stop_children(struct exec_state *x, int sfd)
{
	uint64_t end = util_now_ms() + SERVER_DRAIN_MS;
	int sent = 0;
	unsigned long i;

	while (x->running) {
		struct pollfd pfd = { sfd, POLLIN, 0 };
		uint64_t now = util_now_ms();

		if (now >= end) {
			for (i = 0; i < x->t->max_clients; i++)
				if (x->kids[i].pid)
					kill(-x->kids[i].pid, sent ? SIGKILL : SIGTERM);
			end = now + KILL_WAIT_MS;
			sent = 1;
		}
		poll(&pfd, 1, (int)(end - now > 100 ? 100 : end - now));
		signals(x, sfd);
	}
}

int tcp_exec_serve(struct tserver *t, char *err)
{
	struct exec_state x;
	int sfd, stop = 0;

	memset(&x, 0, sizeof x);
	x.t = t;
	x.kids = calloc(t->max_clients, sizeof *x.kids);
	sfd = util_signal_pipe(err);
	if (!x.kids || tcp_spawn_init(&x.sp, CMD, t->exec) < 0 || sfd < 0 ||
	    util_signal_pipe_also(SIGCHLD) < 0) {
		if (sfd >= 0)
			util_signal_pipe_close(sfd);
		free(x.kids);
		tcp_spawn_free(&x.sp);
		if (!err[0])
			nt_seterr(err, "out of memory");
		return NT_EXIT_FAIL;
	}
	while (!stop) {
		/* at the limit, connections wait in the listen queue */
		struct pollfd pfd[2] = { { sfd, POLLIN, 0 },
					 { t->lfd, x.running < t->max_clients ? POLLIN : 0, 0 } };

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		stop = signals(&x, sfd);
		if (!stop && pfd[1].revents)
			take(&x);
	}
	close(t->lfd); /* new clients are refused */
	t->lfd = -1;
	stop_children(&x, sfd);
	util_signal_pipe_close(sfd);
	free(x.kids);
	tcp_spawn_free(&x.sp);
	nt_warn(CMD, "stopped: %llu connections (%llu refused)", t->conns, t->refused);
	return 0;
}
