#ifndef NETTOOL_RDGRAM_H
#define NETTOOL_RDGRAM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Acknowledged datagrams (--reliable). Pure: no I/O.
 *
 * Every datagram starts with a 16-byte header, integers big-endian:
 *   0  'N' 'T'   magic
 *   2  version   3 (2 and 1 are still understood: 2 as 3 with at most
 *                RD_V2_RANGES ranges an ack; 1 with types 1-3 and acks
 *                without ranges)
 *   3  type      1 data, 2 ack, 3 reject, 4 file data, 5 file end
 *   4  session   random per client run
 *   8  seq       data: the record's sequence number, from 0; ack: the
 *                seq of the datagram that caused it (for RTT samples)
 *   12 base      data: every seq below it is acknowledged (the client's
 *                lowest unacknowledged); ack/reject: every seq below it
 *                is written (the server's next expected)
 * After the header: data and file data carry the record; a version 3 ack
 * carries up to RD_MAX_RANGES ranges of seqs received beyond base, each
 * start and end (exclusive), ascending; file end carries the stream's
 * size (8 bytes) and SHA-256 (32 bytes; zeros: the sender computed
 * none, and only the size is checked); reject carries nothing.
 */
#define RD_HDR 16
#define RD_MAX_PAYLOAD (65507 - RD_HDR)
#define RD_VERSION 3
#define RD_MAX_RANGES 128 /* an ack of them all fits a 1,500-byte packet */
#define RD_V2_RANGES 16
#define RD_FEND_LEN 40

enum rd_type { RD_DATA = 1, RD_ACK = 2, RD_REJECT = 3, RD_FDATA = 4, RD_FEND = 5 };

struct rd_range {
	uint32_t start, end;
};

struct rd_hdr {
	unsigned type;
	uint32_t session, seq, base;
	unsigned version;      /* 3, 2 or 1 */
	unsigned nranges;      /* ack: ranges beyond base */
	struct rd_range ranges[RD_MAX_RANGES];
};

/* Encode h (and an ack's ranges) at out; returns the bytes written. */
size_t rd_encode(unsigned char *out, const struct rd_hdr *h);
/* Returns 0, or -1 with err filled (short, magic, version, type, a
 * payload where none belongs, bad ranges). */
int rd_decode(const unsigned char *p, size_t n, struct rd_hdr *h, char *err);

/* a - b as a signed distance in sequence space */
int32_t rd_seq_diff(uint32_t a, uint32_t b);

/*
 * The receiving side of one session: records are released in sequence
 * order, each once. Out-of-order records within the window are held;
 * others are dropped for the sender to resend. The slots are made when a
 * first record is held, and each keeps its buffer for the records after
 * it; they and the buffers (held_bytes) stay within max_bytes.
 */
#define RD_WINDOW 4096

struct rd_slots {
	unsigned char *buf[RD_WINDOW];   /* a slot's buffer, or NULL */
	uint32_t cap[RD_WINDOW], len[RD_WINDOW];
	unsigned char full[RD_WINDOW];   /* whether the slot holds a record */
};

struct rd_recv {
	uint32_t expected;       /* next seq to release */
	uint32_t top;            /* one past the highest seq held */
	struct rd_slots *s;      /* NULL until a record is held */
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
 * record if it is now in order: 1 with *p (valid until the next offer)
 * and *n, else 0. */
int rd_recv_next(struct rd_recv *r, const unsigned char **p, size_t *n);
/* The held seqs as ranges, at most max of them, ascending: those that
 * hold a seq of also (what came lately; the server passes what came
 * since the ack before the last), then the highest (the latest news).
 * Returns how many. */
unsigned rd_recv_ranges(const struct rd_recv *r, const uint32_t *also, unsigned nalso,
			struct rd_range *out, unsigned max);

/*
 * The sending side: which records are in flight, acknowledged or lost;
 * RTT estimation (RFC 6298), loss detection by acknowledgements of later
 * records (a packet threshold of 3, as QUIC's) and by a retransmission
 * timeout, a congestion window and pacing. Times in microseconds.
 *
 * The window grows as TCP's (slow start, then one record a round) and is
 * cut (by RD_BETA, once a round) for losses that come with a queue: the
 * smoothed RTT above the path's least by a quarter of it and RD_QUEUE_US.
 * Losses with no queue are taken for a lossy link, not congestion, and
 * only sent again (as TCP Veno and BBR tell them apart); a record lost
 * again is sent twice. With a queue the window does not grow, and a queue
 * that stands a round without loss cuts it to what the path holds at its
 * own delay (as Vegas and BBR drain theirs). Timeouts in a row always cut
 * it to RD_MIN_CWND.
 */
#define RD_PKT_THRESHOLD 3
#define RD_MIN_RTO_US 1000       /* loopback and LANs */
#define RD_MAX_RTO_US 1000000
#define RD_INIT_CWND 32
#define RD_MIN_CWND 16
#define RD_BETA 0.8              /* the window after a round with losses */
#define RD_FAST_GROWTH 0.125     /* the window's growth an ack past slow
                                  * start while there is no queue at all */
#define RD_BURST 16              /* records sent back to back at most */
#define RD_QUEUE_US 1000         /* delay that counts as a queue, beyond a
                                  * quarter of the least RTT */
#define RD_MIN_RTT_US 10000000   /* the least RTT is of the last 10-20 s */

enum rd_state { RD_S_FREE, RD_S_FLIGHT, RD_S_SACKED, RD_S_LOST, RD_S_ACKED };

struct rd_send {
	uint32_t base, next;     /* [base, next): sent and not cumulatively acked */
	uint32_t window;         /* most records in flight: the congestion window's
	                          * ceiling; [base, next) spans up to RD_WINDOW,
	                          * so records held beyond a gap do not count */
	struct rd_slot {
		uint64_t sent_us;
		uint64_t order;  /* of transmissions, retransmissions included */
		unsigned char state, retx; /* retx: times sent again */
	} slot[RD_WINDOW];
	uint64_t order;          /* transmissions so far */
	uint64_t acked_order;    /* the latest transmission acknowledged, plus 1 */
	uint64_t recovery;       /* a loss of a transmission below this is of a
	                          * round already cut */
	uint32_t lost_from;      /* no lost record below this */
	uint32_t inflight;       /* RD_S_FLIGHT records */
	double cwnd, ssthresh;
	uint64_t srtt, rttvar, rto; /* us */
	int have_rtt;
	uint64_t min_rtt, min_next, min_at; /* the least RTT; the next period's */
	uint64_t rto_at;         /* when the timer fires, 0: not armed */
	unsigned timeouts;       /* RTO expiries in a row, without progress */
	uint64_t probed;         /* transmissions from this on followed the
	                          * first expiry of a row */
	double tokens;           /* pacing */
	uint64_t paced_at;
	/* counts, for -v */
	uint64_t sent, retransmitted, fast, expired, acked;
	uint64_t loss_rounds, cuts; /* rounds with losses; those with a queue */
	uint64_t drains;         /* rounds cut for a queue alone */
	uint64_t doubled;        /* retransmissions sent twice */
	uint64_t burst_lost;     /* records a probe's ack showed lost with it */
	uint64_t drained;        /* no drain until a transmission from this on is acked */
};

void rd_send_init(struct rd_send *s, uint32_t window);
/* Whether a new record may go now (window, congestion window, pacing). */
int rd_send_room(struct rd_send *s, uint64_t now);
/* How many new records the window and the congestion window have room
 * for (pacing aside). */
uint32_t rd_send_space(const struct rd_send *s);
/* The next seq went out for the first time. */
void rd_send_new(struct rd_send *s, uint64_t now);
/* A lost record to send again, lowest first, when the congestion window
 * and pacing allow: *seq (marked as sent) and how many copies to send, 1,
 * or 2 for a record sent again before; else 0. */
int rd_send_retransmit(struct rd_send *s, uint64_t now, uint32_t *seq);
/* An acknowledgement (h of type RD_ACK). Returns the number of records
 * newly acknowledged in whole (below the new base). */
uint32_t rd_send_ack(struct rd_send *s, const struct rd_hdr *h, uint64_t now);
/* When the timer (the RTO, or pacing) next needs a call to rd_send_timer,
 * or 0 for none. */
uint64_t rd_send_deadline(const struct rd_send *s);
/* Let time pass: when the timer expires, the oldest records not
 * acknowledged are marked lost (all of them, and the window cut, from the
 * second expiry in a row: a server may have forgotten what it held), and
 * it backs off. Returns the expiries in a row without progress, or 0. */
unsigned rd_send_timer(struct rd_send *s, uint64_t now);
/* Whether seq (in [base, next)) still needs its datagram kept. */
int rd_send_pending(const struct rd_send *s, uint32_t seq);

#endif
