#ifdef __linux__
#define _GNU_SOURCE /* sendmmsg, recvmmsg */
#endif
#include "nettool/core/dgram.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#ifdef __linux__
#include <netinet/in.h>
#include <netinet/udp.h>
#endif
#if defined(UDP_SEGMENT) && defined(MSG_WAITFORONE)
#define HAVE_GSO 1
#endif
#if defined(UDP_GRO) && defined(MSG_WAITFORONE)
#define HAVE_GRO 1
#endif

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
#ifdef HAVE_GRO
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		size_t align; /* as cmsghdr's */
	} ctl[DGRAM_BATCH];
#endif
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
#ifdef HAVE_GRO
		m[i].msg_hdr.msg_control = ctl[i].buf;
		m[i].msg_hdr.msg_controllen = sizeof ctl[i].buf;
#endif
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
		d[i].seg = 0;
#ifdef HAVE_GRO
		{
			struct cmsghdr *c;

			for (c = CMSG_FIRSTHDR(&m[i].msg_hdr); c; c = CMSG_NXTHDR(&m[i].msg_hdr, c))
				if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
					int seg;

					memcpy(&seg, CMSG_DATA(c), sizeof seg);
					if (seg > 0 && (size_t)seg < d[i].len)
						d[i].seg = (size_t)seg;
				}
		}
#endif
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
		d[i].seg = 0;
	}
	return (int)i;
}
#endif

unsigned dgram_gso_run(const struct iovec *v, unsigned n, size_t max_bytes, unsigned max_segs)
{
	size_t size, total;
	unsigned k;

	if (!n)
		return 0;
	size = v[0].iov_len;
	total = size;
	for (k = 1; k < n && k < max_segs && v[k].iov_len <= size && total + v[k].iov_len <= max_bytes;
	     k++) {
		total += v[k].iov_len;
		if (v[k].iov_len < size)
			return k + 1; /* a shorter one ends the run */
	}
	return k;
}

#ifdef HAVE_GSO
int dgram_gso_probe(int fd)
{
	int v = 0;
	socklen_t len = sizeof v;

	return getsockopt(fd, SOL_UDP, UDP_SEGMENT, &v, &len) == 0;
}

int dgram_send_gso(int fd, const struct iovec *v, unsigned n, int *gso)
{
	struct mmsghdr m[DGRAM_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		size_t align; /* as cmsghdr's */
	} ctl[DGRAM_BATCH];
	unsigned done = 0;

	while (*gso && done < n) {
		unsigned k = 0, at = done, i;
		int rc;

		memset(m, 0, sizeof m);
		while (k < DGRAM_BATCH && at < n) {
			unsigned run = dgram_gso_run(v + at, n - at, DGRAM_GSO_BYTES, DGRAM_GSO_SEGS);

			m[k].msg_hdr.msg_iov = (struct iovec *)&v[at];
			m[k].msg_hdr.msg_iovlen = run;
			if (run > 1) {
				uint16_t seg = (uint16_t)v[at].iov_len;
				struct cmsghdr *c;

				memset(&ctl[k], 0, sizeof ctl[k]);
				m[k].msg_hdr.msg_control = ctl[k].buf;
				m[k].msg_hdr.msg_controllen = sizeof ctl[k].buf;
				c = CMSG_FIRSTHDR(&m[k].msg_hdr);
				c->cmsg_level = SOL_UDP;
				c->cmsg_type = UDP_SEGMENT;
				c->cmsg_len = CMSG_LEN(sizeof seg);
				memcpy(CMSG_DATA(c), &seg, sizeof seg);
			}
			at += run;
			k++;
		}
		rc = sendmmsg(fd, m, k, 0);
		if (rc > 0) {
			for (i = 0; i < (unsigned)rc; i++)
				done += (unsigned)m[i].msg_hdr.msg_iovlen;
		} else if (rc < 0 && (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)) {
			continue;
		} else if (rc < 0 && m[0].msg_hdr.msg_iovlen > 1 &&
			   (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP || errno == EMSGSIZE)) {
			*gso = 0; /* the path or the kernel will not cut it */
		} else if (rc < 0 && skippable(errno)) {
			done += (unsigned)m[0].msg_hdr.msg_iovlen;
		} else {
			return -1;
		}
	}
	return done < n ? dgram_send_many(fd, v + done, n - done) : 0;
}
#else
int dgram_gso_probe(int fd)
{
	(void)fd;
	return 0;
}

int dgram_send_gso(int fd, const struct iovec *v, unsigned n, int *gso)
{
	*gso = 0;
	return dgram_send_many(fd, v, n);
}
#endif

int dgram_gro_enable(int fd)
{
#ifdef HAVE_GRO
	int on = 1;

	return setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
#else
	(void)fd;
	return 0;
#endif
}
