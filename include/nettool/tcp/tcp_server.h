#ifndef NETTOOL_TCP_SERVER_H
#define NETTOOL_TCP_SERVER_H

#include "nettool/core/acl.h"
#include "nettool/core/pump.h"
#include "nettool/core/server.h"

#include <errno.h>

#define TSERVER_CMD "tcp-server"

/* tcp-server's options, shared by its modes (src/cmd/tcp_server.c: one
 * connection at a time; tcp_exec.c: a program per connection). */
struct tserver {
	struct server_addr addr;
	struct acl acl;
	int keep, verbose, chat;
	int quiet_notices;         /* --chat: joins and leaves not sent to clients */
	const char *exec;          /* --exec CMD */
	unsigned long max_clients; /* --exec: children at once */
	int lfd;                   /* the listener, -1 once closed */
	struct pump_opts p;        /* the connection's options, as tcp-client's */
	unsigned long long conns, refused;
};

/*
 * Accept one connection that --allow/--deny admit (one refused is closed
 * and counted, -v logs it), its peer into a (NET_ADDR_LEN). Returns the
 * fd, or -1 with errno set: EAGAIN when none (or only refused ones)
 * waited; after running out of descriptors it has paused a moment.
 */
static inline int tserver_accept(struct tserver *t, char *a)
{
	int fd = server_accept_admitted(TSERVER_CMD, t->lfd, &t->acl, t->verbose, a);

	if (fd >= 0) {
		t->conns++;
	} else if (errno == ECONNREFUSED) {
		t->refused++;
		errno = EAGAIN;
	}
	return fd;
}

/* --exec: run CMD for each connection until SIGINT or SIGTERM. Returns
 * the exit status, err filled on a failure. */
int tcp_exec_serve(struct tserver *t, char *err);

/* --chat: many clients, lines relayed, until SIGINT or SIGTERM. */
int tcp_chat_serve(struct tserver *t, char *err);

#endif
