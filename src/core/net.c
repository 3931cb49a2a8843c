#ifdef __linux__
#define _GNU_SOURCE /* accept4 */
#endif
#include "nettool/core/net.h"
#include "nettool/core/sockopt.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/filter.h>
#endif

int net_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

int net_set_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

static void close_keep_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

int net_resolve(const char *host, const char *port, int family, int socktype,
		int flags, struct addrinfo **res, char *err)
{
	struct addrinfo hints;
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = family;
	hints.ai_socktype = socktype;
	hints.ai_flags = AI_NUMERICSERV;
	if (flags & NET_NUMERIC)
		hints.ai_flags |= AI_NUMERICHOST;
	if (flags & NET_PASSIVE)
		hints.ai_flags |= AI_PASSIVE;
	else
		hints.ai_flags |= AI_ADDRCONFIG;
	rc = getaddrinfo(host, port, &hints, res);
	if (rc != 0 && rc != EAI_AGAIN && rc != EAI_MEMORY && (hints.ai_flags & AI_ADDRCONFIG)) {
		/* AI_ADDRCONFIG hides loopback-only families (EAI_NONAME, or
		 * glibc's EAI_ADDRFAMILY for a literal): ask once without it */
		hints.ai_flags &= ~AI_ADDRCONFIG;
		rc = getaddrinfo(host, port, &hints, res);
	}
	if (rc != 0) {
		nt_seterr(err, "cannot resolve %s: %s%s", host ? host : "*",
			  rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc),
			  (flags & NET_NUMERIC) && rc == EAI_NONAME ?
			  " (numeric address required by -n)" : "");
		return -1;
	}
	return 0;
}

#define NET_REUSEPORT_JOIN 0x100 /* net_listen_again: join the group */

/* The command's --sockopt and -I, for every IP socket it opens. */
static const struct sockopts *net_so;

void net_use_sockopts(const struct sockopts *so)
{
	net_so = so;
}

static int reuseport(int fd, char *err)
{
#ifdef SO_REUSEPORT
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0)
		return 0;
	nt_seterr(err, "SO_REUSEPORT: %s", strerror(errno));
#else
	(void)fd;
	errno = ENOPROTOOPT;
	nt_seterr(err, "SO_REUSEPORT: not available here");
#endif
	return -1;
}

static int bind_listen(const struct sockaddr *sa, socklen_t len, int socktype,
		       int backlog, int v6only, int flags, char *err)
{
	char a[NET_ADDR_LEN];
	int one = 1, fd;

	fd = socket(sa->sa_family, socktype, 0);
	if (fd < 0) {
		nt_seterr(err, "socket: %s", strerror(errno));
		return -1;
	}
	net_set_cloexec(fd);
	/* SO_REUSEADDR only lets a TCP server restart over its old
	 * connections in TIME_WAIT; on UDP it would share a bound port */
	if (net_set_nonblock(fd, 1) < 0 || (socktype == SOCK_STREAM &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)) {
		nt_seterr(err, "socket options: %s", strerror(errno));
		goto fail;
	}
	if ((flags & NET_REUSEPORT_JOIN) && reuseport(fd, err) < 0)
		goto fail;
	if (sa->sa_family == AF_INET6 && v6only >= 0 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) < 0) {
		nt_seterr(err, "IPV6_V6ONLY: %s", strerror(errno));
		goto fail;
	}
	if (sockopt_apply(fd, sa->sa_family, socktype, net_so, err) < 0)
		goto fail;
	if (bind(fd, sa, len) < 0) {
		nt_seterr(err, "bind %s: %s", net_format_addr(sa, len, a),
			  strerror(errno));
		goto fail;
	}
	/* The first socket of a group is bound without SO_REUSEPORT, so a
	 * port that any other socket holds is "in use"; set afterwards, the
	 * option lets this process's own later sockets (NET_REUSEPORT_JOIN)
	 * share the port. */
	if ((flags & NET_REUSEPORT) && reuseport(fd, err) < 0)
		goto fail;
	if (socktype == SOCK_STREAM && listen(fd, backlog) < 0) {
		nt_seterr(err, "listen: %s", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close_keep_errno(fd);
	return -1;
}

static int listen_wildcard(unsigned port, int family, int socktype,
			   int backlog, int flags, char *err)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	int fd;

	if (family != AF_INET) {
		memset(&s6, 0, sizeof s6);
		s6.sin6_family = AF_INET6;
		s6.sin6_addr = in6addr_any;
		s6.sin6_port = htons((unsigned short)port);
		fd = bind_listen((struct sockaddr *)&s6, sizeof s6, socktype,
				 backlog, family == AF_INET6, flags, err);
		if (fd >= 0 || family == AF_INET6 ||
		    (errno != EAFNOSUPPORT && errno != EADDRNOTAVAIL &&
		     errno != EPROTONOSUPPORT))
			return fd;
	}
	memset(&s4, 0, sizeof s4);
	s4.sin_family = AF_INET;
	s4.sin_addr.s_addr = htonl(INADDR_ANY);
	s4.sin_port = htons((unsigned short)port);
	return bind_listen((struct sockaddr *)&s4, sizeof s4, socktype, backlog,
			   -1, flags, err);
}

int net_listen(const struct addrinfo *ai, unsigned port, int family,
	       int socktype, int backlog, int flags, char *err)
{
	int fd = -1;

	if (!ai)
		return listen_wildcard(port, family, socktype, backlog, flags, err);
	for (; ai && fd < 0; ai = ai->ai_next)
		fd = bind_listen(ai->ai_addr, ai->ai_addrlen, socktype, backlog,
				 ai->ai_family == AF_INET6 ? 1 : -1, flags, err);
	return fd;
}

int net_listen_again(int fd, int backlog, char *err)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss, olen = sizeof(int);
	int v6only = -1, type;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) < 0) {
		nt_seterr(err, "listening socket: %s", strerror(errno));
		return -1;
	}
	olen = sizeof v6only;
	if (ss.ss_family == AF_INET6 &&
	    getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &olen) < 0)
		v6only = -1;
	return bind_listen((struct sockaddr *)&ss, len, type, backlog, v6only,
			   NET_REUSEPORT_JOIN, err);
}

int net_reuseport_by_cpu(int fd, int on)
{
#if defined(__linux__) && defined(SO_ATTACH_REUSEPORT_CBPF) && defined(SO_DETACH_REUSEPORT_BPF)
	/* the group's socket whose index is the CPU that took the SYN */
	struct sock_filter code[] = {
		{ BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_AD_OFF + SKF_AD_CPU },
		{ BPF_RET | BPF_A, 0, 0, 0 },
	};
	struct sock_fprog prog = { 2, code };
	int zero = 0;

	if (!on)
		return setsockopt(fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &zero, sizeof zero);
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog);
#else
	(void)fd;
	(void)on;
	errno = ENOPROTOOPT;
	return -1;
#endif
}

/* Wait for a non-blocking connect; returns 0, or -1 with errno set. */
static int connect_wait(int fd, int timeout_ms)
{
	uint64_t end = util_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int rc, soerr = 0;

	for (;;) {
		int wait = -1;

		if (timeout_ms >= 0) {
			uint64_t now = util_now_ms();

			wait = now >= end ? 0 : (int)(end - now);
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		rc = poll(&pfd, 1, wait);
		if (rc > 0)
			break;
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -1;
	if (soerr) {
		errno = soerr;
		return -1;
	}
	return 0;
}

static int connect_one(const struct addrinfo *ai, const struct addrinfo *src,
		       int timeout_ms, int flags, char *err)
{
	char a[NET_ADDR_LEN];
	int fd, one = 1;

	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd < 0)
		goto fail_noclose;
	net_set_cloexec(fd);
	if ((flags & NET_BROADCAST) &&
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0)
		goto fail;
	if (sockopt_apply(fd, ai->ai_family, ai->ai_socktype, net_so, err) < 0) {
		close_keep_errno(fd);
		return -1;
	}
	for (; src; src = src->ai_next)
		if (src->ai_family == ai->ai_family)
			break;
	if (src && bind(fd, src->ai_addr, src->ai_addrlen) < 0)
		goto fail;
	if (net_set_nonblock(fd, 1) < 0)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS && errno != EINTR)
			goto fail;
		if (connect_wait(fd, timeout_ms) < 0)
			goto fail;
	}
	if (net_set_nonblock(fd, 0) < 0)
		goto fail;
	return fd;
fail:
	close_keep_errno(fd);
fail_noclose:
	nt_seterr(err, "connect to %s: %s",
		  net_format_addr(ai->ai_addr, ai->ai_addrlen, a),
		  errno == ETIMEDOUT ? "timed out" : strerror(errno));
	return -1;
}

static int connect_all(const struct addrinfo *ai, const struct addrinfo *src,
		       int timeout_ms, int flags, char *err)
{
	int fd = -1, last = ECONNREFUSED;

	for (; ai; ai = ai->ai_next) {
		fd = connect_one(ai, src, timeout_ms, flags, err);
		if (fd >= 0)
			return fd;
		last = errno;
	}
	errno = last;
	return -1;
}

int net_connect(const struct addrinfo *ai, const struct addrinfo *src,
		int timeout_ms, char *err)
{
	return connect_all(ai, src, timeout_ms, 0, err);
}

int net_resolve_source(const char *addr, const char *port, int family, int socktype,
		       int flags, struct addrinfo **res, char *err)
{
	*res = NULL;
	if (!addr && !port)
		return 0;
	return net_resolve(addr, port ? port : "0", family, socktype, flags | NET_PASSIVE, res, err);
}

int net_dial(const char *host, const char *port, int family, int socktype, int flags,
	     const struct addrinfo *src, int timeout_ms, int *status, char *err)
{
	struct addrinfo *ai;
	int fd;

	if (net_resolve(host, port, family, socktype, flags & NET_NUMERIC, &ai, err) < 0) {
		*status = NT_EXIT_RESOLVE;
		return -1;
	}
	fd = connect_all(ai, src, timeout_ms, flags, err);
	*status = fd < 0 ? net_connect_status(errno) : 0;
	freeaddrinfo(ai);
	return fd;
}

/* A Unix socket address for path; -1 with err filled when too long. */
static int unix_addr(const char *path, struct sockaddr_un *su, char *err)
{
	memset(su, 0, sizeof *su);
	su->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof su->sun_path) {
		errno = ENAMETOOLONG;
		nt_seterr(err, "%s: path too long for a Unix socket", path);
		return -1;
	}
	memcpy(su->sun_path, path, strlen(path));
	return 0;
}

int net_dial_unix(const char *path, int *status, char *err)
{
	struct sockaddr_un su;
	int fd;

	*status = NT_EXIT_FAIL;
	if (unix_addr(path, &su, err) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0) {
		nt_seterr(err, "socket: %s", strerror(errno));
		return -1;
	}
	net_set_cloexec(fd);
	while (connect(fd, (struct sockaddr *)&su, sizeof su) < 0) {
		if (errno == EINTR)
			continue;
		nt_seterr(err, "connect to %s: %s", path, strerror(errno));
		*status = errno == ENOENT || errno == ECONNREFUSED ? NT_EXIT_REFUSED : NT_EXIT_FAIL;
		close_keep_errno(fd);
		return -1;
	}
	*status = 0;
	return fd;
}

/* Whether a listener answers at the socket file path. */
static int unix_live(const struct sockaddr_un *su)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), live;

	if (fd < 0)
		return 1; /* cannot tell: leave it alone */
	live = connect(fd, (const struct sockaddr *)su, sizeof *su) == 0 || errno != ECONNREFUSED;
	close(fd);
	return live;
}

int net_listen_unix(const char *path, int backlog, char *err)
{
	struct sockaddr_un su;
	struct stat st;
	int fd;

	if (unix_addr(path, &su, err) < 0)
		return -1;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;
			nt_seterr(err, "%s exists and is not a socket; left as it is", path);
			return -1;
		}
		if (unix_live(&su)) {
			errno = EADDRINUSE;
			nt_seterr(err, "%s: Address already in use", path);
			return -1;
		}
		unlink(path); /* a stale socket file: nothing listens there */
	}
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0) {
		nt_seterr(err, "socket: %s", strerror(errno));
		return -1;
	}
	net_set_cloexec(fd);
	if (net_set_nonblock(fd, 1) < 0 || bind(fd, (struct sockaddr *)&su, sizeof su) < 0 ||
	    listen(fd, backlog) < 0) {
		nt_seterr(err, "listen on %s: %s", path, strerror(errno));
		close_keep_errno(fd);
		return -1;
	}
	return fd;
}

int net_connect_status(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ECONNRESET:
		return NT_EXIT_REFUSED;
	case ETIMEDOUT:
		return NT_EXIT_TIMEOUT;
	default:
		return NT_EXIT_FAIL;
	}
}

int net_accept(int lfd, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_storage tmp;
	socklen_t tmplen = sizeof tmp;
	int fd;

	if (!ss) {
		ss = &tmp;
		len = &tmplen;
	}
	*len = sizeof *ss;
	do {
#ifdef __linux__
		fd = accept4(lfd, (struct sockaddr *)ss, len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
		fd = accept(lfd, (struct sockaddr *)ss, len);
		if (fd >= 0 && (net_set_nonblock(fd, 1) < 0 ||
				net_set_cloexec(fd) < 0)) {
			close_keep_errno(fd);
			fd = -1;
		}
#endif
	} while (fd < 0 && errno == EINTR);
	return fd;
}

enum net_accept_next net_accept_next(int err)
{
	if (err == EAGAIN || err == EWOULDBLOCK)
		return NET_ACCEPT_DONE;
	if (err == ECONNABORTED || err == EPROTO || err == EINTR)
		return NET_ACCEPT_SKIP;
	return NET_ACCEPT_PAUSE;
}

ssize_t net_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n > 0) {
			done += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { fd, POLLOUT, 0 };

			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return -1;
		} else {
			if (n == 0)
				errno = EIO;
			return -1;
		}
	}
	return (ssize_t)done;
}

ssize_t net_send_some(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n > 0)
			done += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		else {
			if (n == 0)
				errno = EIO;
			return -1;
		}
	}
	return (ssize_t)done;
}

ssize_t net_read_some(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

ssize_t net_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);

		if (n > 0) {
			done += (size_t)n;
		} else if (n == 0) {
			break;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct pollfd pfd = { fd, POLLIN, 0 };

			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return -1;
		} else {
			return -1;
		}
	}
	return (ssize_t)done;
}

char *net_format_addr(const struct sockaddr *sa, socklen_t len, char *buf)
{
	char host[64], port[8];

	if (sa->sa_family == AF_UNIX) { /* its path, or "unix" for an unnamed peer */
		const struct sockaddr_un *su = (const struct sockaddr_un *)sa;
		size_t n = len > offsetof(struct sockaddr_un, sun_path) ?
			   strnlen(su->sun_path, len - offsetof(struct sockaddr_un, sun_path)) : 0;

		snprintf(buf, NET_ADDR_LEN, "%.*s", n ? (int)n : 4, n ? su->sun_path : "unix");
		return buf;
	}

	if (getnameinfo(sa, len, host, sizeof host, port, sizeof port,
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, NET_ADDR_LEN, "?");
		return buf;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		const unsigned char *b = s6->sin6_addr.s6_addr;
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0,
							  0, 0, 0, 0, 0xff, 0xff };

		/* a v4 client of a dual-stack socket reads better as v4 */
		if (memcmp(b, mapped, 12) == 0)
			snprintf(buf, NET_ADDR_LEN, "%u.%u.%u.%u:%s", b[12],
				 b[13], b[14], b[15], port);
		else
			snprintf(buf, NET_ADDR_LEN, "[%s]:%s", host, port);
	} else {
		snprintf(buf, NET_ADDR_LEN, "%s:%s", host, port);
	}
	return buf;
}

char *net_fd_addr(int fd, int peer, char *buf)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
		      : getsockname(fd, (struct sockaddr *)&ss, &len);

	if (rc < 0) {
		snprintf(buf, NET_ADDR_LEN, "?");
		return buf;
	}
	return net_format_addr((struct sockaddr *)&ss, len, buf);
}

/* The host part of an address as bytes (v4-mapped IPv6 as IPv4): 4, 16,
 * or 0 for another family. */
static size_t host_bytes(const struct sockaddr_storage *ss, const unsigned char **p)
{
	if (ss->ss_family == AF_INET) {
		*p = (const unsigned char *)&((const struct sockaddr_in *)ss)->sin_addr;
		return 4;
	}
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		*p = IN6_IS_ADDR_V4MAPPED(a) ? a->s6_addr + 12 : a->s6_addr;
		return IN6_IS_ADDR_V4MAPPED(a) ? 4 : 16;
	}
	return 0;
}

int net_peer_is_local(int fd)
{
	static const unsigned char lo6[16] = { [15] = 1 };
	struct sockaddr_storage peer, self;
	socklen_t pl = sizeof peer, sl = sizeof self;
	const unsigned char *pa = NULL, *sa = NULL;
	size_t pn, sn;

	if (getpeername(fd, (struct sockaddr *)&peer, &pl) < 0 ||
	    getsockname(fd, (struct sockaddr *)&self, &sl) < 0)
		return 0;
	if (peer.ss_family == AF_UNIX)
		return 1;
	pn = host_bytes(&peer, &pa);
	sn = host_bytes(&self, &sa);
	if ((pn == 4 && pa[0] == 127) || (pn == 16 && !memcmp(pa, lo6, 16)))
		return 1;
	return pn && pn == sn && !memcmp(pa, sa, pn); /* one of this host's addresses */
}

int net_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}
