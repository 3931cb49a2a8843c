#ifndef NETTOOL_RSEND_H
#define NETTOOL_RSEND_H

#include "nettool/base/rate.h"
#include "nettool/core/dgram.h"
#include "nettool/proto/rdgram.h"

#include <stddef.h>
#include <stdint.h>

/*
 * The sending side of acknowledged datagrams on a connected socket: each
 * record's datagram kept until acknowledged, the state of rd_send, and
 * the datagrams to go gathered and sent in batches (with segmentation
 * offload where the kernel has it).
 */
#define RSEND_QUEUE 256 /* datagrams gathered before a send */

struct rsend_slot {
	unsigned char *dgram; /* header and record; kept for the slot's next */
	size_t len, cap;
	unsigned long long line; /* the caller's: where the record came from */
};

struct rsend {
	int fd, gso;             /* gso: runs of datagrams go in one send */
	uint32_t session;
	struct rd_send rs;
	struct rate *rate;       /* a ceiling, or NULL */
	struct rsend_slot *slot; /* RD_WINDOW of them, by seq */
	struct iovec q[RSEND_QUEUE];
	unsigned nq;
};

/* 0, or -1 with errno set (ENOMEM). offload: use UDP_SEGMENT if fd can. */
int rsend_init(struct rsend *r, int fd, uint32_t window, uint32_t session, struct rate *rate,
	       int offload);
void rsend_free(struct rsend *r);
struct rsend_slot *rsend_slot(struct rsend *r, uint32_t seq);
/* A new record of type (RD_DATA, RD_FDATA, RD_FEND) goes out (when the
 * queue fills, or at rsend_flush). 0, or -1 with errno set (ENOMEM, or
 * the peer refused). */
int rsend_queue(struct rsend *r, unsigned type, const unsigned char *p, size_t n,
		unsigned long long line, uint64_t now);
/* What is lost, sent again as the windows and the ceiling allow. 0, or
 * -1 with errno set. */
int rsend_retransmit(struct rsend *r, uint64_t now);
/* Send what is queued: 0, or -1 with errno set when the peer refused
 * (any other loss is for the retransmission to repair). */
int rsend_flush(struct rsend *r);

#endif
