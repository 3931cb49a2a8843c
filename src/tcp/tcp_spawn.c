/* A program on a connected socket, as tcpserver and tcpclient run one:
 * the socket as its stdin and stdout, ucspi-tcp's environment. */
#ifdef __linux__
#define _GNU_SOURCE /* syscall (close_range), posix_spawn's closefrom */
#include <sys/syscall.h>
#endif
#include <spawn.h>
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define SPAWN_CLOSEFROM 1 /* posix_spawn can close the rest: spawn, not fork */
#endif
#include "nettool/tcp/tcp_spawn.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

static int env_init(struct tcp_env *ce)
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

void tcp_spawn_env(struct tcp_spawn *x, int fd)
{
	struct tcp_env *ce = &x->env;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char ip[TCP_ENV_HOST], port[TCP_ENV_SERV];
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
pid_t tcp_spawn_start(struct tcp_spawn *x, int fd, int own_group)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	char *sh[] = { "sh", "-c", (char *)x->cmdline, NULL };
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
	posix_spawnattr_setflags(&at, (own_group ? POSIX_SPAWN_SETPGROUP : 0) |
				      POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
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
static void child(struct tcp_spawn *x, int fd, int own_group)
{
	sigset_t none;

	/* a group of its own, so that the stop reaches what it starts too */
	if ((own_group && setpgid(0, 0) < 0) || dup2(fd, STDIN_FILENO) < 0 ||
	    dup2(fd, STDOUT_FILENO) < 0)
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
		nt_warn(x->cmd, "%s: %s", x->argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	execl("/bin/sh", "sh", "-c", x->cmdline, (char *)NULL);
	_exit(127);
}

pid_t tcp_spawn_start(struct tcp_spawn *x, int fd, int own_group)
{
	pid_t pid = fork();

	if (pid == 0)
		child(x, fd, own_group);
	if (pid > 0 && own_group)
		setpgid(pid, pid); /* as the child does: whichever runs first */
	return pid;
}
#endif

int tcp_spawn_init(struct tcp_spawn *x, const char *cmd, const char *cmdline)
{
	memset(x, 0, sizeof *x);
	x->cmd = cmd;
	x->cmdline = cmdline;
	x->argv = util_plain_argv(cmdline);
	return env_init(&x->env);
}

void tcp_spawn_free(struct tcp_spawn *x)
{
	free(x->argv);
	free(x->env.envp);
	x->argv = NULL;
	x->env.envp = NULL;
}
