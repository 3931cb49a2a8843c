#ifndef NETTOOL_DGRAM_H
#define NETTOOL_DGRAM_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>

/*
 * Datagrams in batches: one system call for many where the kernel offers
 * sendmmsg and recvmmsg (Linux), a call each otherwise.
 */
#define DGRAM_BATCH 64

/* One datagram received: into buf (cap bytes), len of them, from addr. */
struct dgram_in {
	void *buf;
	size_t cap, len;
	struct sockaddr_storage addr;
	socklen_t alen;
	int truncated;   /* it was larger than cap */
};

/*
 * Send v[0..n) as n datagrams on a connected socket, retrying EINTR and
 * a full send buffer. A datagram the kernel refuses for its own reason
 * (too large, no route for now) is skipped, as a lost one would be.
 * Returns 0, or -1 with errno set when the peer refused (ECONNREFUSED)
 * or the socket failed.
 */
int dgram_send_many(int fd, const struct iovec *v, unsigned n);

/*
 * Receive what is waiting, up to n datagrams, without blocking. Returns
 * how many (0: none was waiting), or -1 with errno set.
 */
int dgram_recv_many(int fd, struct dgram_in *m, unsigned n);

#endif
