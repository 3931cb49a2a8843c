#ifndef NETTOOL_SERVER_H
#define NETTOOL_SERVER_H

#include "nettool/core/acl.h"
#include "nettool/core/loop.h"
#include "nettool/core/sockopt.h"
#include "nettool/core/net.h"

#include <stdatomic.h>
#include <stdint.h>

/*
 * The listening layer every server shares: the listening socket and its
 * "listening on" line, an accept watcher with one policy for a full
 * server, the connection list, per-connection deadlines, lingering close
 * and one shutdown rule.
 *
 * Full: at --max-clients connections (by default what the descriptor
 * limit allows), or close to running out of descriptors (some are kept
 * for the files a server opens), a new connection is still
 * accepted and the connection that has gone longest without a byte in or
 * out is closed to make room; a worker with no connection of its own to
 * close closes the new one instead. Nothing waits in the listen queue
 * because the server is full.
 *
 * Stop (SIGINT, SIGTERM): the listener is closed at once, so new clients
 * are refused; a connection with nothing to send is closed; one that has
 * stops reading and has SERVER_DRAIN_MS to send it, then is closed.
 */

#define SERVER_DRAIN_MS 2000
#define SERVER_LINGER_MS 2000

/* Where to listen: -p, -b, -4/-6, --backlog, or -U. */
struct server_addr {
	const char *host;      /* NULL: every address, IPv4 and IPv6 */
	const char *port_str;  /* as -p gave it; NULL: port is the default */
	const char *unix_path; /* -U: a Unix stream socket instead */
	unsigned port;
	int family;
	unsigned long backlog;
	struct sockopts so;    /* --sockopt, -I: on the listener, and on every
	                        * socket the command opens after it */
	struct sockopt_joins joins; /* --join: multicast groups (datagrams) */
};

/* The rows of an option table for a struct server_addr at field of
 * type: -p, -b, -4, -6, --sockopt, -I (port_help names the default
 * port). */
#define SERVER_ADDR_OPTS(type, field, port_help)                                      \
	{ 'p', "port", OPT_PORT, offsetof(type, field.port), offsetof(type, field.port_str), \
	  "PORT", port_help, 0, 0, NULL },                                              \
	{ 'b', "bind", OPT_STRING, offsetof(type, field.host), 0, "ADDR",                \
	  "address to listen on (default: all, IPv4 and IPv6)", 0, 0, NULL },          \
	{ '4', NULL, OPT_FLAG, offsetof(type, field.family), 0, NULL, "IPv4 only", 0,    \
	  AF_INET, NULL },                                                              \
	{ '6', NULL, OPT_FLAG, offsetof(type, field.family), 0, NULL, "IPv6 only", 0,    \
	  AF_INET6, NULL },                                                             \
	SOCKOPT_OPTS(type, field.so)

/* The row for -U, --unix PATH (stream servers), into a server_addr. */
#define SERVER_UNIX_OPT(type, field)                                                  \
	{ 'U', "unix", OPT_STRING, offsetof(type, field.unix_path), 0, "PATH",           \
	  "listen on a Unix stream socket at PATH instead\n(removed at exit)", 0, 0, NULL }

/* The row for --join GROUP[%IFACE] (datagram servers), into a
 * server_addr: the group is joined once bound, and the port may be
 * shared (SO_REUSEADDR) by other receivers of the group. */
#define SERVER_JOIN_OPT(type, field)                                                  \
	{ 0, "join", OPT_FUNC, offsetof(type, field), 0, "GROUP[%IFACE]",                \
	  "join the multicast group (IPv4 or IPv6; repeatable),\n"                      \
	  "on IFACE or the interface routed to it", 0, 0, server_opt_join }
int server_opt_join(void *field, const char *arg, char *err);

/* -U goes with neither -p nor -b: 0, or -1 with err filled. */
int server_addr_check(const struct server_addr *sa, char *err);

/* The rows for --allow and --deny, into a struct acl at field of type. */
#define SERVER_ACL_OPTS(type, field)                                                  \
	{ 0, "allow", OPT_FUNC, offsetof(type, field), 0, "CIDR",                       \
	  "admit only peers in CIDR (repeatable; ADDR is\none address)", 0, 0,         \
	  acl_opt_allow },                                                              \
	{ 0, "deny", OPT_FUNC, offsetof(type, field), 0, "CIDR",                        \
	  "refuse peers in CIDR (repeatable; wins over\n--allow)", 0, 0, acl_opt_deny }

/*
 * Resolve sa's host and listen (SOCK_STREAM) or bind (SOCK_DGRAM), with
 * flags as net_listen's. Returns the fd, or -1 with err filled and
 * *status set: 3 when the address does not resolve, else 1.
 */
int server_listen(const struct server_addr *sa, int socktype, int flags,
		  int *status, char *err);

/* Whether acl admits the peer ss of a new connection fd; if not, fd is
 * closed before a byte is read or written (and verbose logs it). */
int server_admit(const char *cmd, const struct acl *acl, int verbose, int fd,
		 const struct sockaddr_storage *ss, socklen_t len);

/*
 * For a server without an event loop: accept one connection on lfd that
 * acl admits, its peer into peer (NET_ADDR_LEN). Returns the fd, or -1
 * with errno set: EAGAIN when none waited (after running out of
 * descriptors it has paused a moment), ECONNREFUSED when the one that
 * waited was refused (and closed).
 */
int server_accept_admitted(const char *cmd, int lfd, const struct acl *acl, int verbose,
			   char *peer);

/* Print "nettool: CMD: listening on ADDR:PORT". */
void server_announce(const char *cmd, int fd);

/* Raise the soft descriptor limit to the hard one; returns the limit. */
unsigned long server_raise_nofile(void);

/* The default --max-clients for a server using per_conn descriptors per
 * connection under a limit of nofile descriptors. */
unsigned long server_default_max(unsigned long nofile, unsigned per_conn);

/* What a connection's one timer measures. */
enum server_deadline {
	SERVER_NONE,
	SERVER_IDLE, /* idle_ms after the last byte in or out */
	SERVER_HEAD, /* head_ms after the first byte of a request (start) */
	SERVER_SEND, /* send_ms without a byte leaving */
	SERVER_LINGER /* closing: input read away for SERVER_LINGER_MS */
};

struct server;

/* A connection; each server's own connection struct starts with one. */
struct server_conn {
	struct loop_io io;         /* io.data is the connection */
	struct loop_timer timer;
	struct server *srv;
	struct server_conn *prev, *next; /* least recent progress first */
	uint64_t progress;         /* ms: the last byte in or out */
	uint64_t start;            /* ms: for SERVER_HEAD */
	enum server_deadline kind;
	int linger;                /* close with FIN, reading input away */
	int draining;              /* the server is stopping; send, then close */
	char peer[NET_ADDR_LEN];
};

/* What a server does with its connections. */
struct server_class {
	size_t conn_size;          /* its struct, a server_conn first */
	/* set up c (io.cb, io.events, a deadline): 0, or -1 to close it */
	int (*open)(struct server_conn *c);
	/* c is closing, its descriptor still open: release what it holds */
	void (*close)(struct server_conn *c, const char *why);
	/* c's deadline passed (NULL: close it) */
	void (*timeout)(struct server_conn *c, enum server_deadline kind);
	/* stopping: 1 when c has something left to send (it stops
	 * reading and then may send), 0 to close it now */
	int (*drain)(struct server_conn *c);
};

struct server {
	const char *cmd;
	const struct server_class *cls;
	struct loop *lp;
	void *data;                /* the command's */
	const char *unix_path;     /* a socket file to remove at server_free */
	const struct acl *acl;     /* who is admitted (NULL: everyone) */
	struct loop_io lio, stop_io;
	struct loop_timer pause, drain;
	int own_listener;          /* close the listener at stop */
	int verbose, stopping, freeing;
	int idle_ms, head_ms, send_ms;
	unsigned long max_clients;
	int max_by_limit;          /* it is the descriptor limit's, not the user's */
	atomic_ulong *nclients;    /* open connections, shared by workers */
	atomic_ulong own_count;
	int reserve_fd;            /* spent to accept when out of descriptors */
	unsigned long fd_high;     /* an accepted descriptor this high: full */
	unsigned long fd_cap;      /* connections at which that happened */
	unsigned long long accepted, refused, evicted;
	struct server_conn *head, *tail;
	/* called after each accepted connection, when set */
	void (*on_accept)(struct server *s, struct server_conn *c);
};

/*
 * Serve lfd on lp. own: close lfd at stop and at server_free. Counts
 * connections in *shared when not NULL (several workers, one limit).
 * Returns 0, or -1 with err filled.
 */
int server_init(struct server *s, const char *cmd, const struct server_class *cls,
		struct loop *lp, int lfd, int own, atomic_ulong *shared, char *err);

/* Stop the server (server_stop) once fd turns readable. */
int server_stop_on(struct server *s, int fd, char *err);

/* Stop as the shutdown rule says; the loop stops once every connection
 * is gone. */
void server_stop(struct server *s);

/* Close every connection and the listener; free the layer's state. */
void server_free(struct server *s);

/* Bytes moved on c: it is the least likely to be closed to make room,
 * and its idle and send deadlines start again. */
void server_progress(struct server_conn *c);

/* Arm c's timer for kind (SERVER_NONE: disarm). */
void server_deadline(struct server_conn *c, enum server_deadline kind);

/* Close c (its class's close first). */
void server_close(struct server_conn *c, const char *why);

#endif
