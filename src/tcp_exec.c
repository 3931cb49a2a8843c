/* tcp-server --exec: a program for each connection, as inetd and
 * tcpserver run them. */
#ifdef __linux__
#define _GNU_SOURCE /* syscall, for close_range */
#include <sys/syscall.h>
#endif
#include "nettool/net.h"
#include "nettool/tcp_server.h"
#include "nettool/util.h"

#include <errno.h>
#include <netdb.h>
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
};

/* Every descriptor but 0, 1 and 2 closed (in the child). */
static void close_from_3(void)
{
	long max;
	int fd;

#if defined(__linux__) && defined(SYS_close_range)
	if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	for (fd = 3; fd < (max > 0 && max < (1L << 20) ? max : 1 << 20); fd++)
		close(fd);
}

/* IP and port of sa as text (an IPv4 client of a dual-stack socket as
 * IPv4); 0, or -1 for a Unix socket or an error. */
static int ip_port(const struct sockaddr *sa, socklen_t len, char *ip, size_t iplen,
		   char *port, size_t plen)
{
	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    getnameinfo(sa, len, ip, (socklen_t)iplen, port, (socklen_t)plen,
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return -1;
	if (!strncmp(ip, "::ffff:", 7) && strchr(ip + 7, '.'))
		memmove(ip, ip + 7, strlen(ip + 7) + 1);
	return 0;
}

/* ucspi-tcp's names: PROTO, TCPREMOTEIP/PORT, TCPLOCALIP/PORT. */
static void set_env(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char ip[NI_MAXHOST], port[NI_MAXSERV];

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_UNIX) {
		setenv("PROTO", "UNIX", 1);
		return;
	}
	setenv("PROTO", "TCP", 1);
	if (ip_port((struct sockaddr *)&ss, len, ip, sizeof ip, port, sizeof port) == 0) {
		setenv("TCPLOCALIP", ip, 1);
		setenv("TCPLOCALPORT", port, 1);
	}
	len = sizeof ss;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    ip_port((struct sockaddr *)&ss, len, ip, sizeof ip, port, sizeof port) == 0) {
		setenv("TCPREMOTEIP", ip, 1);
		setenv("TCPREMOTEPORT", port, 1);
	}
}

/* In the child: the socket as stdin and stdout, stderr the server's, no
 * other descriptor, signals as a new program expects them. */
static void child(const char *cmd, int fd)
{
	sigset_t none;

	/* a group of its own, so that the stop reaches what it starts too */
	if (setpgid(0, 0) < 0 || dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
		_exit(126);
	close_from_3();
	net_set_nonblock(STDIN_FILENO, 0);
	set_env(STDIN_FILENO);
	signal(SIGPIPE, SIG_DFL); /* ignored here, and ignoring survives exec */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

/* Start the program for connection fd (closed here). */
static void spawn(struct exec_state *x, int fd, const char *peer)
{
	unsigned long i;
	pid_t pid;

	for (i = 0; i < x->t->max_clients && x->kids[i].pid; i++)
		;
	pid = i < x->t->max_clients ? fork() : -1;
	if (pid == 0)
		child(x->t->exec, fd);
	if (pid < 0) {
		nt_warn(CMD, "%s: cannot start the program: %s", peer,
			i < x->t->max_clients ? strerror(errno) : "no slot");
	} else {
		setpgid(pid, pid); /* as the child does: whichever runs first */
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
	struct exec_state x = { t, calloc(t->max_clients, sizeof *x.kids), 0 };
	int sfd = util_signal_pipe(err), stop = 0;

	if (!x.kids || sfd < 0 || util_signal_pipe_also(SIGCHLD) < 0) {
		if (sfd >= 0)
			util_signal_pipe_close(sfd);
		free(x.kids);
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
	nt_warn(CMD, "stopped: %llu connections (%llu refused)", t->conns, t->refused);
	return 0;
}
