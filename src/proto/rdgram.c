#include "nettool/proto/rdgram.h"
#include "nettool/base/util.h"

#include <stdlib.h>
#include <string.h>

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t rd_encode(unsigned char *out, const struct rd_hdr *h)
{
	size_t n = RD_HDR;
	unsigned i;

	out[0] = 'N';
	out[1] = 'T';
	unsigned most;

	out[2] = (unsigned char)(h->version ? h->version : RD_VERSION);
	most = out[2] == 2 ? RD_V2_RANGES : RD_MAX_RANGES;
	out[3] = (unsigned char)h->type;
	put32(out + 4, h->session);
	put32(out + 8, h->seq);
	put32(out + 12, h->base);
	if (h->type == RD_ACK && out[2] >= 2)
		for (i = 0; i < h->nranges && i < most; i++, n += 8) {
			put32(out + n, h->ranges[i].start);
			put32(out + n + 4, h->ranges[i].end);
		}
	return n;
}

/* An ack's ranges: each non-empty, beyond base, ascending, apart. */
static int decode_ranges(const unsigned char *p, size_t n, struct rd_hdr *h, char *err)
{
	uint32_t prev = h->base;
	unsigned i;

	if (n % 8 || n / 8 > (h->version == 2 ? RD_V2_RANGES : RD_MAX_RANGES)) {
		nt_seterr(err, "acknowledgement with %zu bytes of payload", n);
		return -1;
	}
	h->nranges = (unsigned)(n / 8);
	for (i = 0; i < h->nranges; i++) {
		struct rd_range *r = &h->ranges[i];

		r->start = get32(p + 8 * i);
		r->end = get32(p + 8 * i + 4);
		if (rd_seq_diff(r->start, prev) <= 0 || rd_seq_diff(r->end, r->start) <= 0 ||
		    rd_seq_diff(r->end, h->base) > (int32_t)RD_WINDOW) {
			nt_seterr(err, "acknowledgement with a bad range %u-%u", r->start, r->end);
			return -1;
		}
		prev = r->end;
	}
	return 0;
}

int rd_decode(const unsigned char *p, size_t n, struct rd_hdr *h, char *err)
{
	unsigned last;

	if (n < RD_HDR) {
		nt_seterr(err, "%zu bytes: shorter than the %d-byte header", n, RD_HDR);
		return -1;
	}
	if (p[0] != 'N' || p[1] != 'T') {
		nt_seterr(err, "bad magic 0x%02x%02x", p[0], p[1]);
		return -1;
	}
	if (p[2] < 1 || p[2] > RD_VERSION) {
		nt_seterr(err, "unknown version %u", p[2]);
		return -1;
	}
	last = p[2] == 1 ? RD_REJECT : RD_FEND;
	if (p[3] < RD_DATA || p[3] > last) {
		nt_seterr(err, "unknown type %u", p[3]);
		return -1;
	}
	h->version = p[2];
	h->type = p[3];
	h->session = get32(p + 4);
	h->seq = get32(p + 8);
	h->base = get32(p + 12);
	h->nranges = 0;
	if (h->type == RD_ACK && h->version >= 2)
		return decode_ranges(p + RD_HDR, n - RD_HDR, h, err);
	if ((h->type == RD_ACK || h->type == RD_REJECT) && n != RD_HDR) {
		nt_seterr(err, "acknowledgement with %zu bytes of payload", n - RD_HDR);
		return -1;
	}
	if (h->type == RD_FEND && n != RD_HDR + RD_FEND_LEN) {
		nt_seterr(err, "file end with %zu bytes, not %d", n - RD_HDR, RD_FEND_LEN);
		return -1;
	}
	return 0;
}

int32_t rd_seq_diff(uint32_t a, uint32_t b)
{
	uint32_t d = a - b;

	return d <= INT32_MAX ? (int32_t)d : -(int32_t)(~d) - 1;
}

void rd_recv_init(struct rd_recv *r, uint32_t base, size_t max_bytes)
{
	memset(r, 0, sizeof *r);
	r->expected = r->top = base;
	r->max_bytes = max_bytes;
}

void rd_recv_free(struct rd_recv *r)
{
	size_t i;

	if (r->s)
		for (i = 0; i < RD_WINDOW; i++)
			free(r->s->buf[i]);
	free(r->s);
	r->s = NULL;
	r->held_bytes = 0;
}

/* Buffers of slots that hold nothing go, until n more bytes fit the
 * budget: 0, or -1 when they still do not. */
static int reclaim(struct rd_recv *r, size_t n)
{
	struct rd_slots *s = r->s;
	size_t i;

	for (i = 0; i < RD_WINDOW && r->held_bytes + n > r->max_bytes; i++)
		if (s->buf[i] && !s->full[i]) {
			r->held_bytes -= s->cap[i];
			free(s->buf[i]);
			s->buf[i] = NULL;
			s->cap[i] = 0;
		}
	return r->held_bytes + n > r->max_bytes ? -1 : 0;
}

void rd_recv_base(struct rd_recv *r, uint32_t base)
{
	while (rd_seq_diff(base, r->expected) > 0) {
		if (r->s)
			r->s->full[r->expected % RD_WINDOW] = 0;
		r->expected++;
	}
	if (rd_seq_diff(r->expected, r->top) > 0)
		r->top = r->expected;
}

/* Room for n bytes in slot i: 0, or -1 (the budget, or memory). */
static int slot_room(struct rd_recv *r, size_t i, size_t n)
{
	struct rd_slots *s = r->s;
	size_t grow;
	unsigned char *b;

	if (!s) { /* the first record out of order: the slots, counted */
		if (r->held_bytes + sizeof *s > r->max_bytes || !(s = calloc(1, sizeof *s)))
			return -1;
		r->s = s;
		r->held_bytes += sizeof *s;
	}
	if (s->cap[i] >= n)
		return 0;
	/* a slot's buffer stays for the records after it: no allocation
	 * per record once the window has turned */
	grow = n - s->cap[i];
	if (r->held_bytes + grow > r->max_bytes && reclaim(r, grow) < 0)
		return -1;
	if (!(b = realloc(s->buf[i], n)))
		return -1;
	s->buf[i] = b;
	s->cap[i] = (uint32_t)n;
	r->held_bytes += grow;
	return 0;
}

enum rd_verdict rd_recv_offer(struct rd_recv *r, uint32_t seq,
			      const unsigned char *p, size_t n)
{
	int32_t d = rd_seq_diff(seq, r->expected);
	size_t i = seq % RD_WINDOW;

	if (d < 0)
		return RD_DUP;
	if (d == 0)
		return RD_RELEASE;
	if (d >= RD_WINDOW)
		return RD_DROPPED;
	if (r->s && r->s->full[i])
		return RD_HELD; /* a duplicate of one already held */
	if (slot_room(r, i, n) < 0)
		return RD_DROPPED;
	if (n)
		memcpy(r->s->buf[i], p, n);
	r->s->len[i] = (uint32_t)n;
	r->s->full[i] = 1;
	if (rd_seq_diff(seq + 1, r->top) > 0)
		r->top = seq + 1;
	return RD_HELD;
}

int rd_recv_next(struct rd_recv *r, const unsigned char **p, size_t *n)
{
	size_t i;

	if (r->s)
		r->s->full[r->expected % RD_WINDOW] = 0; /* a stale copy of the released one */
	r->expected++;
	if (rd_seq_diff(r->expected, r->top) > 0)
		r->top = r->expected;
	i = r->expected % RD_WINDOW;
	if (!r->s || !r->s->full[i])
		return 0;
	*p = r->s->buf[i];
	*n = r->s->len[i];
	r->s->full[i] = 0;
	return 1;
}

static int held_at(const struct rd_recv *r, uint32_t seq)
{
	return rd_seq_diff(seq, r->expected) > 0 && rd_seq_diff(r->top, seq) > 0 &&
	       r->s->full[seq % RD_WINDOW];
}

unsigned rd_recv_ranges(const struct rd_recv *r, const uint32_t *also, unsigned nalso,
			struct rd_range *out, unsigned max)
{
	struct rd_range mine[RD_MAX_RANGES], top[RD_MAX_RANGES];
	uint32_t s, e, lo = r->expected + 1;
	unsigned nm = 0, nt = 0, i, j, k;

	if (!r->s || !max)
		return 0;
	if (max > RD_MAX_RANGES)
		max = RD_MAX_RANGES;
	/* the ranges of what came lately, ascending: a record
	 * sent again lands low, where the ranges from the top may not reach */
	for (i = 0; i < nalso && nm < max; i++) {
		if (!held_at(r, also[i]))
			continue;
		for (j = 0; j < nm && rd_seq_diff(also[i], mine[j].end) >= 0; j++)
			;
		if (j < nm && rd_seq_diff(also[i], mine[j].start) >= 0)
			continue; /* in a range found already: not walked again */
		for (s = also[i]; held_at(r, s - 1); s--)
			;
		for (e = also[i] + 1; held_at(r, e); e++)
			;
		for (j = 0; j < nm && rd_seq_diff(mine[j].start, s) < 0; j++)
			;
		if (j < nm && mine[j].start == s)
			continue;
		memmove(&mine[j + 1], &mine[j], (nm - j) * sizeof *mine);
		mine[j].start = s;
		mine[j].end = e;
		nm++;
	}
	/* then from the top down: the latest news first, as QUIC's acks;
	 * lower ranges went in earlier acks, when they were the latest */
	for (s = r->top, k = nm; nt + nm < max && rd_seq_diff(s, lo) > 0;) {
		if (!r->s->full[(s - 1) % RD_WINDOW]) {
			s--;
			continue;
		}
		for (e = s; rd_seq_diff(s, lo) > 0 && r->s->full[(s - 1) % RD_WINDOW]; s--)
			;
		while (k > 0 && rd_seq_diff(mine[k - 1].start, s) > 0)
			k--; /* mine[k..] lie above this range */
		if (k > 0 && mine[k - 1].start == s)
			continue; /* one of mine */
		top[nt].start = s;
		top[nt++].end = e;
	}
	/* both ascending on the wire: mine, merged with top reversed */
	for (i = 0, j = nt, k = 0; i < nm || j > 0;)
		out[k++] = j == 0 || (i < nm && rd_seq_diff(mine[i].start, top[j - 1].start) < 0)
				   ? mine[i++] : top[--j];
	return k;
}

/* ---- sending ---- */

#define RD_INIT_RTO_US 50000

static struct rd_slot *slot_of(struct rd_send *s, uint32_t seq)
{
	return &s->slot[seq % RD_WINDOW];
}

void rd_send_init(struct rd_send *s, uint32_t window)
{
	memset(s, 0, sizeof *s);
	s->window = window > RD_WINDOW ? RD_WINDOW : window;
	s->cwnd = RD_INIT_CWND < s->window ? RD_INIT_CWND : s->window;
	s->ssthresh = 1e9;
	s->rto = RD_INIT_RTO_US;
	s->tokens = RD_BURST;
}

/* Tokens for pacing: cwnd per smoothed RTT, with 25 % to spare. */
static int paced(struct rd_send *s, uint64_t now)
{
	if (!s->have_rtt || s->srtt == 0) {
		s->tokens = RD_BURST;
	} else if (now > s->paced_at) {
		s->tokens += (double)(now - s->paced_at) * 1.25 * s->cwnd / (double)s->srtt;
		if (s->tokens > RD_BURST)
			s->tokens = RD_BURST;
	}
	s->paced_at = now;
	return s->tokens >= 1;
}

int rd_send_room(struct rd_send *s, uint64_t now)
{
	return s->next - s->base < RD_WINDOW && s->inflight < (uint32_t)s->cwnd && paced(s, now);
}

uint32_t rd_send_space(const struct rd_send *s)
{
	uint32_t w = RD_WINDOW - (s->next - s->base), c = (uint32_t)s->cwnd;

	c = c > s->inflight ? c - s->inflight : 0;
	return w < c ? w : c;
}

static void transmitted(struct rd_send *s, struct rd_slot *sl, uint64_t now)
{
	sl->state = RD_S_FLIGHT;
	sl->sent_us = now;
	sl->order = s->order++;
	s->inflight++;
	s->tokens -= 1;
	if (!s->rto_at)
		s->rto_at = now + s->rto;
}

void rd_send_new(struct rd_send *s, uint64_t now)
{
	struct rd_slot *sl = slot_of(s, s->next++);

	sl->retx = 0;
	transmitted(s, sl, now);
	s->sent++;
}

int rd_send_retransmit(struct rd_send *s, uint64_t now, uint32_t *seq)
{
	uint32_t q;

	if (s->inflight >= (uint32_t)s->cwnd || !paced(s, now))
		return 0;
	if (rd_seq_diff(s->lost_from, s->base) < 0)
		s->lost_from = s->base;
	for (q = s->lost_from; q != s->next; q++) {
		struct rd_slot *sl = slot_of(s, q);

		if (sl->state == RD_S_LOST) {
			if (sl->retx < 255)
				sl->retx++;
			transmitted(s, sl, now);
			s->retransmitted++;
			s->lost_from = q + 1;
			*seq = q;
			/* lost again: two copies, so that one more loss (the
			 * path's rate squared) does not hold the window's
			 * base for yet another round trip */
			if (sl->retx < 2)
				return 1;
			s->doubled++;
			return 2;
		}
	}
	s->lost_from = s->next;
	return 0;
}

/* RFC 6298 2.3, with a clock granularity of 1 ms. */
static void rto_set(struct rd_send *s)
{
	uint64_t var = 4 * s->rttvar;

	/* at least a quarter of the RTT beyond it: on a path whose delay
	 * hardly varies, an ack a little late is not a lost tail */
	if (var < s->srtt / 4)
		var = s->srtt / 4;
	s->rto = s->srtt + (var > 1000 ? var : 1000);
	if (s->rto < RD_MIN_RTO_US)
		s->rto = RD_MIN_RTO_US;
	if (s->rto > RD_MAX_RTO_US)
		s->rto = RD_MAX_RTO_US;
}

/* The least RTT of the last RD_MIN_RTT_US or two: the path's own delay. */
static void min_rtt_sample(struct rd_send *s, uint64_t r, uint64_t now)
{
	if (!s->min_at || r < s->min_rtt)
		s->min_rtt = r;
	if (!s->min_at || r < s->min_next)
		s->min_next = r;
	if (!s->min_at)
		s->min_at = now;
	if (now - s->min_at >= RD_MIN_RTT_US) {
		s->min_rtt = s->min_next;
		s->min_next = r;
		s->min_at = now;
	}
}

/* Whether the acknowledgements come later than the path's own delay by a
 * queue's worth. */
static int queueing(const struct rd_send *s)
{
	return s->have_rtt && s->srtt > s->min_rtt + s->min_rtt / 4 + RD_QUEUE_US;
}

static void rtt_sample(struct rd_send *s, uint64_t r)
{
	uint64_t d;

	if (!s->have_rtt) {
		s->srtt = r;
		s->rttvar = r / 2;
		s->have_rtt = 1;
	} else {
		d = s->srtt > r ? s->srtt - r : r - s->srtt;
		s->rttvar = (3 * s->rttvar + d) / 4;
		s->srtt = (7 * s->srtt + r) / 8;
	}
	rto_set(s);
}

/* One record acknowledged, in whole or selectively: the window grows. */
static void acked_one(struct rd_send *s, struct rd_slot *sl)
{
	if (sl->state == RD_S_FLIGHT)
		s->inflight--;
	/* as Karn's rule: which transmission of a record sent again is
	 * acknowledged is not known, so only a first one says how far the
	 * acknowledgements have come (else the original's would declare all
	 * sent before the copy lost) */
	if (!sl->retx && sl->order + 1 > s->acked_order)
		s->acked_order = sl->order + 1;
	/* no growth into a queue: what more is sent would only wait in it
	 * (as Vegas and BBR keep the path's buffers from filling), and slow
	 * start ends there */
	if (queueing(s)) {
		if (s->ssthresh > s->cwnd)
			s->ssthresh = s->cwnd;
		return;
	}
	/* past slow start, one record a round trip; but an eighth of the
	 * window a round trip while the round trip is within an eighth of
	 * the path's own (no queue at all): after a cut, a long path's
	 * window would otherwise take hundreds of round trips to come back */
	if (s->cwnd < s->ssthresh)
		s->cwnd += 1;
	else if (s->srtt <= s->min_rtt + s->min_rtt / 8 && 1 / s->cwnd < RD_FAST_GROWTH)
		s->cwnd += RD_FAST_GROWTH;
	else
		s->cwnd += 1 / s->cwnd;
	if (s->cwnd > s->window)
		s->cwnd = s->window;
}

/* Record q is lost: to be sent again; the first loss of a round cuts
 * the window if there is a queue. */
static void lost(struct rd_send *s, uint32_t q, struct rd_slot *sl)
{
	sl->state = RD_S_LOST;
	s->inflight--;
	if (rd_seq_diff(q, s->lost_from) < 0)
		s->lost_from = q;
	if (sl->order >= s->recovery) { /* the first loss of a round */
		s->loss_rounds++;
		s->recovery = s->order;
		if (queueing(s)) {
			s->cuts++;
			s->cwnd = s->cwnd * RD_BETA > RD_MIN_CWND ? s->cwnd * RD_BETA : RD_MIN_CWND;
			s->ssthresh = s->cwnd;
			s->drained = s->order; /* no drain on top of it */
		}
	}
}

/* Records sent RD_PKT_THRESHOLD transmissions before one acknowledged
 * are lost. */
static void detect_losses(struct rd_send *s)
{
	uint32_t q;

	for (q = s->base; q != s->next; q++) {
		struct rd_slot *sl = slot_of(s, q);

		if (sl->state != RD_S_FLIGHT)
			continue;
		/* a first transmission still in time: every record after it
		 * went later (a copy later than its original), none is lost */
		if (sl->order + RD_PKT_THRESHOLD >= s->acked_order && !sl->retx)
			break;
		if (sl->order + RD_PKT_THRESHOLD >= s->acked_order)
			continue;
		s->fast++;
		lost(s, q, sl);
	}
}

/*
 * After a timeout, an ack that only acknowledges records sent again (the
 * probes) while records sent before them are still out: those were lost
 * with the probes' originals, all at once (a burst; on a path that drops
 * whole runs of datagrams, the window's whole flight), as F-RTO (RFC
 * 5682) tells a real timeout from a spurious one. Without this, Karn's
 * rule would leave them to a timeout each, two records a time.
 */
static void burst_lost(struct rd_send *s)
{
	uint32_t q;

	for (q = s->base; q != s->next; q++) {
		struct rd_slot *sl = slot_of(s, q);

		if (sl->state == RD_S_FLIGHT && sl->order < s->probed) {
			lost(s, q, sl);
			s->burst_lost++;
		}
	}
}

/* A queue that stands a round without loss: the window falls to what
 * the path holds at its own delay (as Vegas and BBR drain theirs), at
 * most halved, once a round. */
static void drain(struct rd_send *s)
{
	double target, f;

	if (!queueing(s) || s->acked_order <= s->drained)
		return;
	target = (double)(s->min_rtt + s->min_rtt / 4 + RD_QUEUE_US);
	f = target / (double)s->srtt;
	s->cwnd = s->cwnd * (f < 0.5 ? 0.5 : f);
	if (s->cwnd < RD_MIN_CWND)
		s->cwnd = RD_MIN_CWND;
	s->ssthresh = s->cwnd;
	s->drained = s->order; /* the next, once what is sent now is acknowledged */
	s->drains++;
}

uint32_t rd_send_ack(struct rd_send *s, const struct rd_hdr *h, uint64_t now)
{
	uint32_t newly = 0, q;
	int progress = 0, original = 0; /* a first transmission acknowledged */
	unsigned i;

	if (rd_seq_diff(h->seq, s->base) >= 0 && rd_seq_diff(h->seq, s->next) < 0) {
		struct rd_slot *sl = slot_of(s, h->seq);

		if (sl->state == RD_S_FLIGHT && !sl->retx && now >= sl->sent_us) {
			rtt_sample(s, now - sl->sent_us);
			min_rtt_sample(s, now - sl->sent_us, now);
		}
	}
	if (rd_seq_diff(h->base, s->base) > 0 && rd_seq_diff(h->base, s->next) <= 0) {
		for (q = s->base; q != h->base; q++) {
			struct rd_slot *sl = slot_of(s, q);

			if (sl->state != RD_S_SACKED) {
				original |= !sl->retx;
				acked_one(s, sl);
			}
			sl->state = RD_S_FREE;
			newly++;
		}
		s->base = h->base;
		progress = 1;
	}
	for (i = 0; i < h->nranges; i++)
		/* only the part of a range that is in flight: [base, next) */
		for (q = rd_seq_diff(h->ranges[i].start, s->base) < 0 ? s->base : h->ranges[i].start;
		     rd_seq_diff(q, h->ranges[i].end) < 0 && rd_seq_diff(q, s->next) < 0; q++) {
			struct rd_slot *sl = slot_of(s, q);

			if (sl->state == RD_S_FLIGHT || sl->state == RD_S_LOST) {
				original |= !sl->retx;
				acked_one(s, sl);
				sl->state = RD_S_SACKED;
				progress = 1;
			}
		}
	if (progress) {
		if (s->timeouts && !original)
			burst_lost(s);
		detect_losses(s);
		drain(s);
		if (s->timeouts && s->have_rtt)
			rto_set(s); /* the backed-off timer returns to the estimate */
		s->timeouts = 0;
		s->rto_at = s->base != s->next ? now + s->rto : 0;
	}
	s->acked += newly;
	return newly;
}

uint64_t rd_send_deadline(const struct rd_send *s)
{
	return s->base != s->next ? s->rto_at : 0;
}

/*
 * The timer, as QUIC's probe timeout: with nothing acknowledged for a
 * while, the oldest records not acknowledged are sent again (a probe)
 * without cutting the window, since on a lossy path a lost tail is far
 * likelier than congestion. Only a second expiry in a row counts as
 * persistent congestion: the window falls to its minimum, and everything
 * not acknowledged in whole is sent again (a server may have forgotten
 * what it held).
 */
unsigned rd_send_timer(struct rd_send *s, uint64_t now)
{
	uint32_t q;
	unsigned probes = 0;

	if (s->base == s->next || !s->rto_at || now < s->rto_at)
		return 0;
	if (!s->timeouts++)
		s->probed = s->order;
	s->expired++;
	for (q = s->base; q != s->next; q++) {
		struct rd_slot *sl = slot_of(s, q);

		if (s->timeouts < 2 && (sl->state == RD_S_SACKED || sl->state == RD_S_LOST))
			continue;
		if (s->timeouts < 2 && probes == 2)
			break;
		if (sl->state == RD_S_FLIGHT)
			s->inflight--;
		sl->state = RD_S_LOST;
		probes++;
	}
	s->lost_from = s->base;
	if (s->timeouts >= 2) {
		s->ssthresh = s->cwnd / 2 > RD_MIN_CWND ? s->cwnd / 2 : RD_MIN_CWND;
		s->cwnd = RD_MIN_CWND;
		s->recovery = s->order;
	}
	s->rto = s->rto * 2 > RD_MAX_RTO_US ? RD_MAX_RTO_US : s->rto * 2;
	s->rto_at = now + s->rto;
	return s->timeouts;
}

int rd_send_pending(const struct rd_send *s, uint32_t seq)
{
	return rd_seq_diff(seq, s->base) >= 0 && rd_seq_diff(seq, s->next) < 0;
}
