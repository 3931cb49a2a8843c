#ifndef NETTOOL_NET_H
#define NETTOOL_NET_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>

#define NET_ADDR_LEN 80 /* "[ipv6%scope]:65535" fits */

struct sockopts;

/* Options (--sockopt, -I) set on every IP socket that net_listen,
 * net_dial and net_connect open from now on, before bind and connect;
 * a failure to set one fails the call, naming the option. NULL: none.
 * One set a process: a command calls this once, before any socket. */
void net_use_sockopts(const struct sockopts *so);

/* Resolution flags for net_resolve. */
enum {
	NET_NUMERIC = 1,  /* no DNS: host must be a literal address */
	NET_PASSIVE = 2,  /* for bind: a NULL host means the wildcard */
	NET_BROADCAST = 4 /* net_dial: a datagram socket may send to broadcast */
};

/*
 * Resolve host and port (a decimal string) for socktype (SOCK_STREAM or
 * SOCK_DGRAM) and family (AF_UNSPEC, AF_INET or AF_INET6). Returns 0 with
 * *res to be freed by freeaddrinfo, or -1 with err filled.
 */
int net_resolve(const char *host, const char *port, int family, int socktype,
		int flags, struct addrinfo **res, char *err);

/* Flags for net_listen. */
enum {
	NET_REUSEPORT = 1 /* later sockets of this process may share the port
			   * (net_listen_again); the port must be free */
};

/*
 * Create a socket bound to the first usable address of ai (resolved with
 * NET_PASSIVE) and, for SOCK_STREAM, listening with backlog. A NULL ai
 * binds the IPv6 wildcard on port as a dual-stack socket (IPv4 clients
 * too; IPv6 only when family is AF_INET6), falling back to 0.0.0.0 where
 * IPv6 is unavailable. A port that another socket holds, TCP or UDP,
 * is EADDRINUSE whatever the flags (SO_REUSEADDR is set for TCP only, and
 * SO_REUSEPORT only after the bind, with NET_REUSEPORT). The socket is
 * close-on-exec and non-blocking. Returns the fd, or -1 with err filled
 * and errno kept.
 */
int net_listen(const struct addrinfo *ai, unsigned port, int family,
	       int socktype, int backlog, int flags, char *err);

/*
 * A second socket listening on the address of fd (made with NET_REUSEPORT),
 * so that the kernel spreads new connections between the two. Returns the
 * fd, or -1 with err filled (ENOPROTOOPT where SO_REUSEPORT is missing).
 */
int net_listen_again(int fd, int backlog, char *err);
/* With on, hand each new connection of fd's SO_REUSEPORT group to the
 * socket whose place in the group (in the order they were bound) is the
 * number of the CPU that took it in (where there is no such socket, the
 * kernel's hash of the addresses decides); with 0, only that hash again.
 * Returns 0, or -1 with errno set (ENOPROTOOPT where there is no way). */
int net_reuseport_by_cpu(int fd, int on);

/*
 * Connect a stream socket to each address of ai in turn, giving each
 * timeout_ms (negative: no limit), bound first to src when not NULL.
 * Returns a connected fd in blocking mode, or -1 with err filled and errno
 * set to the last failure (ETIMEDOUT when the time ran out).
 */
int net_connect(const struct addrinfo *ai, const struct addrinfo *src,
		int timeout_ms, char *err);

/* A client's source (-s ADDR, -p PORT, either may be NULL) resolved for
 * binding: 0 with *res NULL when neither is given, -1 with err filled. */
int net_resolve_source(const char *addr, const char *port, int family, int socktype,
		       int flags, struct addrinfo **res, char *err);

/*
 * The one way a client dials: resolve host and port (flags NET_NUMERIC,
 * NET_BROADCAST) and connect a socket of socktype to the first address
 * that takes it: a stream socket within timeout_ms each (negative: no
 * limit), bound first to src when not NULL; a datagram socket with
 * connect(2). Returns a blocking fd, or -1 with err filled, errno set and
 * *status the exit status: 3 the name did not resolve, else as
 * net_connect_status says.
 */
int net_dial(const char *host, const char *port, int family, int socktype, int flags,
	     const struct addrinfo *src, int timeout_ms, int *status, char *err);

/* Connect a stream socket to the Unix socket at path. Returns a blocking
 * fd, or -1 with err filled and *status 4 (no such socket, or nothing
 * listens) or 1. */
int net_dial_unix(const char *path, int *status, char *err);

/*
 * Listen on a Unix stream socket at path (non-blocking, close-on-exec).
 * A stale socket file, with nothing listening, is replaced; a live one is
 * EADDRINUSE; a path that exists and is no socket is EEXIST and left as
 * it is. Returns the fd, or -1 with err filled and errno set.
 */
int net_listen_unix(const char *path, int backlog, char *err);

/*
 * Accept a connection as a non-blocking, close-on-exec socket. Returns the
 * fd, or -1 with errno set (EAGAIN when none is pending); ss may be NULL.
 */
int net_accept(int lfd, struct sockaddr_storage *ss, socklen_t *len);

/* What a server does after net_accept failed with err. */
enum net_accept_next {
	NET_ACCEPT_DONE,  /* nothing pending: wait for readiness */
	NET_ACCEPT_SKIP,  /* that connection died before accept: try the next */
	NET_ACCEPT_PAUSE  /* out of descriptors or memory: stop accepting a moment */
};
enum net_accept_next net_accept_next(int err);

/* Exit status for a failed connect's errno: refused 4, timeout 5, else 1. */
int net_connect_status(int err);

int net_set_nonblock(int fd, int on);
int net_set_cloexec(int fd);

/*
 * Write all len bytes, retrying EINTR and short writes (and waiting in
 * poll on EAGAIN). Returns len, or -1 with errno set.
 */
ssize_t net_write_full(int fd, const void *buf, size_t len);

/*
 * Write what a non-blocking fd takes of len bytes now, retrying EINTR and
 * short writes. Returns the count written (less than len when it would
 * block), or -1 with errno set on an error.
 */
ssize_t net_send_some(int fd, const void *buf, size_t len);

/*
 * Read until len bytes or end of file, retrying EINTR. Returns the count
 * (less than len only at end of file), or -1 with errno set.
 */
ssize_t net_read_full(int fd, void *buf, size_t len);

/* One read(), retried on EINTR: the count, 0 at end of file, or -1 with
 * errno set (EAGAIN included). */
ssize_t net_read_some(int fd, void *buf, size_t len);

/* Format as "1.2.3.4:80" or "[::1]:80" (a Unix socket: its path, or
 * "unix") into buf (NET_ADDR_LEN bytes). */
char *net_format_addr(const struct sockaddr *sa, socklen_t len, char *buf);

/* The local (peer == 0) or remote address of fd, formatted. */
char *net_fd_addr(int fd, int peer, char *buf);

/* Whether the connected socket's peer is on this host: a Unix socket,
 * a loopback address, or our own end's address. */
int net_peer_is_local(int fd);

/* Port of a bound socket, or -1. */
int net_local_port(int fd);

#endif
