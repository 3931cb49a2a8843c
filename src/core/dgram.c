#ifdef __linux__
#define _GNU_SOURCE /* sendmmsg, recvmmsg */
#endif
#include "nettool/core/dgram.h"

#include <errno.h>
#include <string.h>

/* Whether errno after a send means this datagram is lost, not the socket. */
static int skippable(int e)
{
	return e == EMSGSIZE || e == EHOSTUNREACH || e == ENETUNREACH || e == EPERM ||
	       e == EACCES;
}

#ifdef MSG_WAITFORONE
int dgram_send_many(int fd, const struct iovec *v, unsigned n)
{
	struct mmsghdr m[DGRAM_BATCH];
	unsigned done = 0, i, k;

	while (done < n) {
		int rc;

		k = n - done < DGRAM_BATCH ? n - done : DGRAM_BATCH;
		memset(m, 0, k * sizeof *m);
		for (i = 0; i < k; i++) {
			m[i].msg_hdr.msg_iov = (struct iovec *)&v[done + i];
			m[i].msg_hdr.msg_iovlen = 1;
		}
		rc = sendmmsg(fd, m, k, 0);
		if (rc > 0) {
			done += (unsigned)rc;
		} else if (rc < 0 && (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)) {
			continue;
		} else if (rc < 0 && skippable(errno)) {
			done++;
		} else {
			return -1;
		}
	}
	return 0;
}

int dgram_recv_many(int fd, struct dgram_in *d, unsigned n)
{
	struct mmsghdr m[DGRAM_BATCH];
	struct iovec iov[DGRAM_BATCH];
	unsigned i;
	int rc;

	if (n > DGRAM_BATCH)
		n = DGRAM_BATCH;
	memset(m, 0, n * sizeof *m);
	for (i = 0; i < n; i++) {
		iov[i].iov_base = d[i].buf;
		iov[i].iov_len = d[i].cap;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
		m[i].msg_hdr.msg_name = &d[i].addr;
		m[i].msg_hdr.msg_namelen = sizeof d[i].addr;
	}
	do
		rc = recvmmsg(fd, m, n, MSG_DONTWAIT, NULL);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	for (i = 0; i < (unsigned)rc; i++) {
		d[i].len = m[i].msg_len;
		d[i].alen = m[i].msg_hdr.msg_namelen;
		d[i].truncated = (m[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
	}
	return rc;
}
#else
int dgram_send_many(int fd, const struct iovec *v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		ssize_t rc;

		do
			rc = send(fd, v[i].iov_base, v[i].iov_len, 0);
		while (rc < 0 && (errno == EINTR || errno == ENOBUFS || errno == EAGAIN));
		if (rc < 0 && !skippable(errno))
			return -1;
	}
	return 0;
}

int dgram_recv_many(int fd, struct dgram_in *d, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct iovec iov = { d[i].buf, d[i].cap };
		struct msghdr m;
		ssize_t rc;

		memset(&m, 0, sizeof m);
		m.msg_name = &d[i].addr;
		m.msg_namelen = sizeof d[i].addr;
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		do
			rc = recvmsg(fd, &m, MSG_DONTWAIT);
		while (rc < 0 && errno == EINTR);
		if (rc < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return i ? (int)i : -1;
		}
		d[i].len = (size_t)rc;
		d[i].alen = m.msg_namelen;
		d[i].truncated = (m.msg_flags & MSG_TRUNC) != 0;
	}
	return (int)i;
}
#endif
