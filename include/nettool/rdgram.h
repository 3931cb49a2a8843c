#ifndef NETTOOL_RDGRAM_H
#define NETTOOL_RDGRAM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Acknowledged datagrams (--reliable). Pure: no I/O.
 *
 * Every datagram starts with a 16-byte header, integers big-endian:
 *   0  'N' 'T'   magic
 *   2  1         version
 *   3  type      1 data, 2 ack, 3 reject
 *   4  session   random per client run
 *   8  seq       the record's sequence number, from 0
 *   12 base      data: every seq below it is acknowledged (the client's
 *                lowest unacknowledged); ack/reject: every seq below it
 *                is written (the server's next expected)
 * A data datagram carries the record after the header; acks carry nothing.
 */
#define RD_HDR 16
#define RD_MAX_PAYLOAD (65507 - RD_HDR)

enum rd_type { RD_DATA = 1, RD_ACK = 2, RD_REJECT = 3 };

struct rd_hdr {
	unsigned type;
	uint32_t session, seq, base;
};

void rd_encode(unsigned char *out, const struct rd_hdr *h);
/* Returns 0, or -1 with err filled (short, magic, version, type, ack with
 * a payload). */
int rd_decode(const unsigned char *p, size_t n, struct rd_hdr *h, char *err);

/* a - b as a signed distance in sequence space */
int32_t rd_seq_diff(uint32_t a, uint32_t b);

/*
 * The receiving side of one session: records are released in sequence
 * order, each once. Out-of-order records within the window are held (up
 * to max_bytes of them); others are dropped for the sender to resend.
 */
#define RD_WINDOW 1024

struct rd_recv {
	uint32_t expected;       /* next seq to release */
	unsigned char *held[RD_WINDOW];
	size_t held_len[RD_WINDOW];
	size_t held_bytes, max_bytes;
};

enum rd_verdict {
	RD_RELEASE, /* seq is the next: the caller writes it, then rd_recv_next */
	RD_DUP,     /* already released: acknowledge again */
	RD_HELD,    /* kept until the gap before it fills */
	RD_DROPPED  /* outside the window or no room: not acknowledged */
};

void rd_recv_init(struct rd_recv *r, uint32_t base, size_t max_bytes);
void rd_recv_free(struct rd_recv *r);
/* The sender's base moves expected forward (all below it were written). */
void rd_recv_base(struct rd_recv *r, uint32_t base);
enum rd_verdict rd_recv_offer(struct rd_recv *r, uint32_t seq,
			      const unsigned char *p, size_t n);
/* Mark expected released (after RD_RELEASE) and return the next held
 * record if it is now in order: 1 with *p (to free) and *n, else 0. */
int rd_recv_next(struct rd_recv *r, unsigned char **p, size_t *n);

#endif
