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
	size_t seg;      /* coalesced (UDP_GRO): datagrams of seg bytes, the
	                  * last maybe shorter; 0: one datagram */
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

/*
 * Segmentation offload (Linux 4.18 and later: UDP_SEGMENT), chosen at run
 * time: one send carries a run of datagrams of one size (the last may be
 * shorter), cut by the kernel or the device.
 */
#define DGRAM_GSO_SEGS 64        /* datagrams a send, at most */
#define DGRAM_GSO_BYTES 65000    /* bytes a send, at most */

/* How many datagrams from v[0] go in one segmented send: those of v[0]'s
 * length, then at most one shorter, within max_bytes and max_segs (at
 * least 1 when n is). Pure. */
unsigned dgram_gso_run(const struct iovec *v, unsigned n, size_t max_bytes, unsigned max_segs);

/* Whether fd can send with UDP_SEGMENT. */
int dgram_gso_probe(int fd);

/* As dgram_send_many, each run of datagrams of one size in one send
 * while *gso; a segmented send the kernel refuses turns *gso off, and
 * that run and the rest go one datagram each. */
int dgram_send_gso(int fd, const struct iovec *v, unsigned n, int *gso);

/* Ask the kernel to coalesce the datagrams received (UDP_GRO; see
 * dgram_in.seg): 1 when on, 0 where it cannot. Buffers of dgram_recv_many
 * should then hold 65535 bytes. */
int dgram_gro_enable(int fd);

#endif
