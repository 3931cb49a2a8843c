#ifndef NETTOOL_TCP_SERVER_H
#define NETTOOL_TCP_SERVER_H

#include "nettool/acl.h"
#include "nettool/pump.h"
#include "nettool/server.h"

/* tcp-server's options, shared by its modes (cmd_tcp_server.c: one
 * connection at a time; tcp_exec.c: a program per connection). */
struct tserver {
	struct server_addr addr;
	struct acl acl;
	int keep, verbose, chat;
	const char *exec;          /* --exec CMD */
	unsigned long max_clients; /* --exec: children at once */
	int lfd;                   /* the listener, -1 once closed */
	struct pump_opts p;        /* the connection's options, as tcp-client's */
	unsigned long long conns, refused;
};

/* --exec: run CMD for each connection until SIGINT or SIGTERM. Returns
 * the exit status, err filled on a failure. */
int tcp_exec_serve(struct tserver *t, char *err);

/* --chat: many clients, lines relayed, until SIGINT or SIGTERM. */
int tcp_chat_serve(struct tserver *t, char *err);

#endif
