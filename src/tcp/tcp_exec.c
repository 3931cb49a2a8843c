/* tcp-server --exec: a program for each connection, as inetd and
 * tcpserver run them. */
#ifdef __linux__
#define _GNU_SOURCE /* syscall (close_range), posix_spawn's closefrom */
#include <sys/syscall.h>
#endif
#include <spawn.h>
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define SPAWN_CLOSEFROM 1 /* posix_spawn can close the rest: spawn, not fork */
#endif
#include "nettool/core/net.h"
#include "nettool/tcp/tcp_server.h"
#include "nettool/base/util.h"

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

/* The child's environment: the server's, with ucspi-tcp's names (PROTO,
 * TCPREMOTEIP/PORT, TCPLOCALIP/PORT) set for this connection. */
struct child_env {
	char **envp; /* the server's entries but ours, then ours, then NULL */
	size_t base; /* how many of the server's */
	char proto[16], lip[16 + NI_MAXHOST], lport[16 + NI_MAXSERV];
	char rip[16 + NI_MAXHOST], rport[16 + NI_MAXSERV];
};

struct exec_state {
	struct tserver *t;
	struct child *kids;       /* max_clients slots; pid 0 when free */
	unsigned long running;
	char **argv;              /* the command's words when it needs no shell */
	struct child_env env;
};

extern char **environ;

#ifndef SPAWN_CLOSEFROM
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
#endif

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

static int ucspi_name(const char *e)
{
	static const char *const names[] = { "PROTO=", "TCPLOCALIP=", "TCPLOCALPORT=",
					     "TCPREMOTEIP=", "TCPREMOTEPORT=", NULL };
	int i;

	for (i = 0; names[i]; i++)
		if (!strncmp(e, names[i], strlen(names[i])))
			return 1;
	return 0;
}

static int env_init(struct child_env *ce)
{
	size_t n = 0, i;

	while (environ[n])
		n++;
	ce->envp = malloc((n + 6) * sizeof *ce->envp);
	if (!ce->envp)
		return -1;
	for (i = ce->base = 0; i < n; i++)
		if (!ucspi_name(environ[i]))
			ce->envp[ce->base++] = environ[i];
	return 0;
}

static void env_for(struct child_env *ce, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char ip[NI_MAXHOST], port[NI_MAXSERV];
	size_t n = ce->base;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_UNIX) {
		ce->envp[n++] = strcpy(ce->proto, "PROTO=UNIX");
		ce->envp[n] = NULL;
		return;
	}
	ce->envp[n++] = strcpy(ce->proto, "PROTO=TCP");
	if (ip_port((struct sockaddr *)&ss, len, ip, sizeof ip, port, sizeof port) == 0) {
		snprintf(ce->lip, sizeof ce->lip, "TCPLOCALIP=%s", ip);
		snprintf(ce->lport, sizeof ce->lport, "TCPLOCALPORT=%s", port);
		ce->envp[n++] = ce->lip;
		ce->envp[n++] = ce->lport;
	}
	len = sizeof ss;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    ip_port((struct sockaddr *)&ss, len, ip, sizeof ip, port, sizeof port) == 0) {
		snprintf(ce->rip, sizeof ce->rip, "TCPREMOTEIP=%s", ip);
		snprintf(ce->rport, sizeof ce->rport, "TCPREMOTEPORT=%s", port);
		ce->envp[n++] = ce->rip;
		ce->envp[n++] = ce->rport;
	}
	ce->envp[n] = NULL;
}

#ifdef SPAWN_CLOSEFROM
/*
 * posix_spawn (a vfork underneath): the socket as stdin and stdout, a
 * process group of its own, default signals, descriptors from 3 closed.
 * Returns the pid, or -1 with errno (a program that cannot run included).
 */
static pid_t start(struct exec_state *x, int fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	char *sh[] = { "sh", "-c", (char *)x->t->exec, NULL };
	pid_t pid = -1;
	int rc;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE); /* ignored here, and ignoring survives exec */
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGCHLD);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_adddup2(&fa, fd, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, fd, STDOUT_FILENO);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				      POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	if (x->argv)
		rc = posix_spawnp(&pid, x->argv[0], &fa, &at, x->argv, x->env.envp);
	else
		rc = posix_spawn(&pid, "/bin/sh", &fa, &at, sh, x->env.envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc) {
		errno = rc;
		return -1;
	}
	return pid;
}
#else
/* In the child: the socket as stdin and stdout, stderr the server's, no
 * other descriptor, signals as a new program expects them. */
static void child(struct exec_state *x, int fd)
{
	sigset_t none;

	/* a group of its own, so that the stop reaches what it starts too */
	if (setpgid(0, 0) < 0 || dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
		_exit(126);
	close_from_3();
	signal(SIGPIPE, SIG_DFL); /* ignored here, and ignoring survives exec */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	environ = x->env.envp;
	if (x->argv) {
		/* as sh would: a program not found is 127, one that cannot run 126 */
		execvp(x->argv[0], x->argv);
		nt_warn(CMD, "%s: %s", x->argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	execl("/bin/sh", "sh", "-c", x->t->exec, (char *)NULL);
	_exit(127);
}

static pid_t start(struct exec_state *x, int fd)
{
	pid_t pid = fork();

	if (pid == 0)
		child(x, fd);
	if (pid > 0)
		setpgid(pid, pid); /* as the child does: whichever runs first */
	return pid;
}
#endif

/* Start the program for connection fd (closed here). */
static void spawn(struct exec_state *x, int fd, const char *peer)
{
	unsigned long i;
	pid_t pid;

	for (i = 0; i < x->t->max_clients && x->kids[i].pid; i++)
		;
	if (i < x->t->max_clients) {
		env_for(&x->env, fd);
		net_set_nonblock(fd, 0); /* the program gets a blocking socket */
	}
	pid = i < x->t->max_clients ? start(x, fd) : -1;
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
	struct exec_state x = { t, calloc(t->max_clients, sizeof *x.kids), 0,
				util_plain_argv(t->exec), { NULL, 0, "", "", "", "", "" } };
	int sfd = util_signal_pipe(err), stop = 0;

	if (!x.kids || env_init(&x.env) < 0 || sfd < 0 || util_signal_pipe_also(SIGCHLD) < 0) {
		if (sfd >= 0)
			util_signal_pipe_close(sfd);
		free(x.kids);
		free(x.argv);
		free(x.env.envp);
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
	free(x.argv);
	free(x.env.envp);
	nt_warn(CMD, "stopped: %llu connections (%llu refused)", t->conns, t->refused);
	return 0;
}
