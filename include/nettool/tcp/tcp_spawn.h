#ifndef NETTOOL_TCP_SPAWN_H
#define NETTOOL_TCP_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/*
 * A program run on a connected socket, as tcpserver and tcpclient run
 * one (tcp-server --exec, tcp-client --exec): /bin/sh -c CMD, or CMD's
 * words straight when it needs no shell; the socket as its stdin and
 * stdout, stderr ours; no other descriptor; default signals; the
 * environment ours with ucspi-tcp's names (PROTO, TCPLOCALIP,
 * TCPLOCALPORT, TCPREMOTEIP, TCPREMOTEPORT) for the connection.
 */
#define TCP_ENV_HOST 1025 /* NI_MAXHOST */
#define TCP_ENV_SERV 32

struct tcp_env {
	char **envp; /* ours but the ucspi names, then those, then NULL */
	size_t base; /* how many of ours */
	char proto[16], lip[16 + TCP_ENV_HOST], lport[16 + TCP_ENV_SERV];
	char rip[16 + TCP_ENV_HOST], rport[16 + TCP_ENV_SERV];
};

struct tcp_spawn {
	const char *cmd;      /* for messages */
	const char *cmdline;
	char **argv;          /* its words when it needs no shell, else NULL */
	struct tcp_env env;
};

/* 0, or -1 when out of memory. */
int tcp_spawn_init(struct tcp_spawn *x, const char *cmd, const char *cmdline);
void tcp_spawn_free(struct tcp_spawn *x);
/* The ucspi names for connection fd, before tcp_spawn_start. */
void tcp_spawn_env(struct tcp_spawn *x, int fd);
/* Start the program on fd (a blocking socket; fd stays open here), in a
 * process group of its own when own_group. Returns the pid, or -1 with
 * errno set (a program that cannot run, with posix_spawn). */
pid_t tcp_spawn_start(struct tcp_spawn *x, int fd, int own_group);

#endif
