#include "check.h"
#include "nettool/proto/rdgram.h"
#include "nettool/base/util.h"

#include <stdlib.h>
#include <string.h>

static void header_roundtrip(void)
{
	unsigned char b[RD_HDR + 3];
	unsigned char a[RD_HDR + 8 * RD_MAX_RANGES];
	struct rd_hdr h, g;
	char err[NT_ERR_LEN];
	unsigned i;

	memset(&h, 0, sizeof h);
	h.type = RD_DATA;
	h.session = 0xdeadbeef;
	h.seq = 0xfffffffe;
	h.base = 7;
	CHECK(rd_encode(b, &h) == RD_HDR);
	CHECK(!memcmp(b, "NT\3\1\xde\xad\xbe\xef\xff\xff\xff\xfe\0\0\0\7", RD_HDR));
	CHECK(rd_decode(b, RD_HDR + 3, &g, err) == 0);
	CHECK(g.type == RD_DATA && g.session == h.session && g.seq == h.seq && g.base == 7 &&
	      g.version == 3);
	/* a version 1 header is still read */
	b[2] = 1;
	CHECK(rd_decode(b, RD_HDR + 3, &g, err) == 0 && g.version == 1);
	/* an ack with ranges, across the wrap of sequence numbers */
	h.type = RD_ACK;
	h.base = 0xfffffffe;
	h.nranges = 2;
	h.ranges[0].start = 0xffffffff;
	h.ranges[0].end = 1;
	h.ranges[1].start = 3;
	h.ranges[1].end = 9;
	CHECK(rd_encode(a, &h) == RD_HDR + 16);
	CHECK(rd_decode(a, RD_HDR + 16, &g, err) == 0 && g.nranges == 2 &&
	      g.ranges[0].start == 0xffffffff && g.ranges[0].end == 1 && g.ranges[1].end == 9);
	h.version = 1; /* a version 1 ack carries none */
	CHECK(rd_encode(a, &h) == RD_HDR);
	/* version 3 carries up to RD_MAX_RANGES, version 2 RD_V2_RANGES */
	h.version = 0;
	h.base = 0;
	h.nranges = RD_MAX_RANGES;
	for (i = 0; i < RD_MAX_RANGES; i++) {
		h.ranges[i].start = 2 * i + 1;
		h.ranges[i].end = 2 * i + 2;
	}
	CHECK(rd_encode(a, &h) == RD_HDR + 8 * RD_MAX_RANGES);
	CHECK(rd_decode(a, RD_HDR + 8 * RD_MAX_RANGES, &g, err) == 0 &&
	      g.nranges == RD_MAX_RANGES && g.ranges[RD_MAX_RANGES - 1].end == 2 * RD_MAX_RANGES);
	a[2] = 2;
	CHECK(rd_decode(a, RD_HDR + 8 * RD_MAX_RANGES, &g, err) < 0);
	h.version = 2;
	CHECK(rd_encode(a, &h) == RD_HDR + 8 * RD_V2_RANGES);
	CHECK(rd_decode(a, RD_HDR + 8 * RD_V2_RANGES, &g, err) == 0 && g.nranges == RD_V2_RANGES);
}

/* Garbage of every kind is refused, each with its own reason. */
static void header_garbage(void)
{
	static const struct {
		const char *data;
		size_t len;
		const char *why;
	} cases[] = {
		{ "", 0, "shorter" },
		{ "NT\1\1\0\0\0\0\0\0\0\0\0\0\0", 15, "shorter" },
		{ "XT\1\1\0\0\0\0\0\0\0\0\0\0\0\0", 16, "bad magic" },
		{ "NT\4\1\0\0\0\0\0\0\0\0\0\0\0\0", 16, "unknown version 4" },
		{ "NT\2\6\0\0\0\0\0\0\0\0\0\0\0\0", 16, "unknown type 6" },
		{ "NT\2\2\0\0\0\0\0\0\0\0\0\0\0\0xxxx", 20, "acknowledgement with 4" },
		/* a range not beyond base, empty, or out of order */
		{ "NT\2\2\0\0\0\0\0\0\0\0\0\0\0\5\0\0\0\5\0\0\0\7", 24, "bad range" },
		{ "NT\2\2\0\0\0\0\0\0\0\0\0\0\0\5\0\0\0\7\0\0\0\7", 24, "bad range" },
		{ "NT\2\2\0\0\0\0\0\0\0\0\0\0\0\5\0\0\0\7\0\0\0\11"
		  "\0\0\0\10\0\0\0\12", 32, "bad range" },
		{ "NT\2\3\0\0\0\0\0\0\0\0\0\0\0\0x", 17, "acknowledgement with 1" },
		{ "NT\2\5\0\0\0\0\0\0\0\0\0\0\0\0x", 17, "file end with 1" },
		{ "NT\1\0\0\0\0\0\0\0\0\0\0\0\0\0", 16, "unknown type 0" },
		{ "NT\1\4\0\0\0\0\0\0\0\0\0\0\0\0", 16, "unknown type 4" },
		{ "NT\1\2\0\0\0\0\0\0\0\0\0\0\0\0x", 17, "acknowledgement with 1" },
	};
	char err[NT_ERR_LEN];
	struct rd_hdr h;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err[0] = '\0';
		CHECK(rd_decode((const unsigned char *)cases[i].data, cases[i].len, &h, err) < 0);
		CHECK(strstr(err, cases[i].why) != NULL);
	}
}

static void seq_wraps(void)
{
	CHECK(rd_seq_diff(1, 0xffffffffu) == 2);
	CHECK(rd_seq_diff(0xffffffffu, 1) == -2);
	CHECK(rd_seq_diff(5, 5) == 0);
}

/* Out-of-order, duplicate and base-moved records come out once, in order. */
static void window_releases_in_order(void)
{
	struct rd_recv *r = malloc(sizeof *r);
	const unsigned char *p;
	size_t n;
	uint32_t order[8], k = 0;

	/* records in order: no slots are made */
	rd_recv_init(r, 0, 100);
	CHECK(rd_recv_offer(r, 0, (const unsigned char *)"a", 1) == RD_RELEASE);
	CHECK(!rd_recv_next(r, &p, &n) && !r->s && r->held_bytes == 0);
	/* nor past a budget smaller than they are */
	CHECK(rd_recv_offer(r, 2, (const unsigned char *)"c", 1) == RD_DROPPED && !r->s);
	rd_recv_init(r, 10, 1 << 20);
	CHECK(rd_recv_offer(r, 12, (const unsigned char *)"c", 1) == RD_HELD);
	CHECK(rd_recv_offer(r, 12, (const unsigned char *)"c", 1) == RD_HELD);
	CHECK(rd_recv_offer(r, 11, (const unsigned char *)"b", 1) == RD_HELD);
	CHECK(rd_recv_offer(r, 9, (const unsigned char *)"z", 1) == RD_DUP);
	CHECK(rd_recv_offer(r, 10 + RD_WINDOW, (const unsigned char *)"y", 1) == RD_DROPPED);
	CHECK(rd_recv_offer(r, 10, (const unsigned char *)"a", 1) == RD_RELEASE);
	order[k++] = 10;
	while (rd_recv_next(r, &p, &n)) {
		CHECK(n == 1 && *p == "abc"[r->expected - 10]);
		order[k++] = r->expected;
	}
	CHECK(k == 3 && order[1] == 11 && order[2] == 12 && r->expected == 13);
	/* the slots keep their buffers: none is allocated again */
	CHECK(r->held_bytes == sizeof *r->s + 2 && r->s->buf[11] && !r->s->full[11]);
	CHECK(rd_recv_offer(r, 12, (const unsigned char *)"c", 1) == RD_DUP);
	/* the sender says all below 20 is acknowledged */
	CHECK(rd_recv_offer(r, 15, (const unsigned char *)"e", 1) == RD_HELD);
	rd_recv_base(r, 20);
	CHECK(r->expected == 20 && r->held_bytes == sizeof *r->s + 3 && !r->s->full[15]);
	/* a byte budget bounds the buffers: empty ones go to make room */
	r->max_bytes = sizeof *r->s + 3;
	CHECK(rd_recv_offer(r, 22, (const unsigned char *)"xyz", 3) == RD_HELD);
	CHECK(r->held_bytes == sizeof *r->s + 3 && !r->s->buf[11] && !r->s->buf[15]);
	CHECK(rd_recv_offer(r, 23, (const unsigned char *)"w", 1) == RD_DROPPED);
	CHECK(rd_recv_offer(r, 20, (const unsigned char *)"u", 1) == RD_RELEASE);
	CHECK(!rd_recv_next(r, &p, &n) && r->expected == 21);
	rd_recv_free(r);
	free(r);
}

/* The receiver's ranges: what is held beyond expected, lowest first. */
static void ranges_of_held(void)
{
	struct rd_recv *r = malloc(sizeof *r);
	struct rd_range g[RD_MAX_RANGES];
	uint32_t s;
	unsigned k;

	rd_recv_init(r, 100, 1 << 20);
	CHECK(rd_recv_ranges(r, NULL, 0, g, RD_MAX_RANGES) == 0);
	rd_recv_offer(r, 102, (const unsigned char *)"x", 1);
	rd_recv_offer(r, 103, (const unsigned char *)"x", 1);
	rd_recv_offer(r, 110, (const unsigned char *)"x", 1);
	CHECK(rd_recv_ranges(r, NULL, 0, g, RD_MAX_RANGES) == 2 && g[0].start == 102 && g[0].end == 104 &&
	      g[1].start == 110 && g[1].end == 111);
	/* more than fit: the highest, the latest news */
	CHECK(rd_recv_ranges(r, NULL, 0, g, 1) == 1 && g[0].start == 110 && g[0].end == 111);
	for (s = 120; s < 120 + 2 * RD_MAX_RANGES + 20; s += 2)
		rd_recv_offer(r, s, (const unsigned char *)"x", 1);
	CHECK(rd_recv_ranges(r, NULL, 0, g, RD_MAX_RANGES) == RD_MAX_RANGES);
	CHECK(g[RD_MAX_RANGES - 1].start == s - 2 && g[RD_MAX_RANGES - 1].end == s - 1 &&
	      g[0].start == s - 2 * RD_MAX_RANGES && g[1].start == g[0].start + 2);
	/* and the range of what came since the last ack, however low */
	{
		uint32_t also[2] = { 102, 5000 };

		CHECK(rd_recv_ranges(r, also, 2, g, RD_MAX_RANGES) == RD_MAX_RANGES);
		CHECK(g[0].start == 102 && g[0].end == 104 && g[1].start == s - 2 * RD_MAX_RANGES + 2 &&
		      g[RD_MAX_RANGES - 1].end == s - 1);
		/* one of them among the highest: not twice */
		also[0] = s - 2;
		CHECK(rd_recv_ranges(r, also, 1, g, RD_MAX_RANGES) == RD_MAX_RANGES);
		for (k = 1; k < RD_MAX_RANGES; k++)
			CHECK(rd_seq_diff(g[k].start, g[k - 1].end) > 0);
		CHECK(g[RD_MAX_RANGES - 1].start == s - 2 && g[0].start == s - 2 * RD_MAX_RANGES);
	}
	/* several of what came lately in one range, in any order: it once */
	{
		uint32_t also[4] = { 103, 110, 102, 103 };

		CHECK(rd_recv_ranges(r, also, 4, g, 3) == 3);
		CHECK(g[0].start == 102 && g[0].end == 104 && g[1].start == 110 && g[1].end == 111 &&
		      g[2].start == s - 2);
	}
	rd_recv_free(r);
	free(r);
}

/* A whole flight lost at once (a path that drops runs of datagrams): the
 * timer's probe is acknowledged alone, so all sent before it are lost
 * and go again at once; an ack of any first transmission instead says
 * the path delivers, and nothing more is taken for lost. */
static void sender_burst_after_probe(void)
{
	struct rd_send *s = malloc(sizeof *s);
	struct rd_hdr h;
	uint32_t q, seq;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		rd_send_init(s, 64);
		memset(&h, 0, sizeof h);
		h.type = RD_ACK;
		for (q = 0; q < 10; q++)
			rd_send_new(s, 1000);
		CHECK(rd_send_timer(s, 1000 + 50000) == 1 && s->inflight == 8);
		CHECK(rd_send_retransmit(s, 51000, &seq) == 1 && seq == 0);
		CHECK(rd_send_retransmit(s, 51000, &seq) == 1 && seq == 1);
		h.seq = 1;
		h.base = pass ? 5 : 2; /* the probes only; or first transmissions too */
		rd_send_ack(s, &h, 51500);
		if (!pass) {
			CHECK(s->burst_lost == 8 && s->inflight == 0 && s->lost_from == 2);
			for (q = 2; q < 10; q++)
				CHECK(rd_send_retransmit(s, 51500, &seq) == 1 && seq == q);
		} else {
			CHECK(s->burst_lost == 0 && s->inflight == 5);
			CHECK(rd_send_retransmit(s, 51500, &seq) == 0);
		}
		CHECK(s->timeouts == 0);
	}
	free(s);
}

/* Send n records at t; the server acks as ack() says. */
static void sender_basics(void)
{
	struct rd_send *s = malloc(sizeof *s);
	struct rd_hdr h;
	uint64_t t = 1000000;
	uint32_t q, seq;
	uint64_t rto;
	double before;

	rd_send_init(s, 64);
	memset(&h, 0, sizeof h);
	h.type = RD_ACK;
	for (q = 0; q < 10; q++) {
		CHECK(rd_send_room(s, t));
		rd_send_new(s, t);
	}
	CHECK(s->inflight == 10 && rd_send_deadline(s) == t + 50000);
	/* 0-3 arrive; 4 is lost; 5-9 arrive out of order: ranges */
	t += 8000; /* above the least timeout */
	h.seq = 0;
	h.base = 4;
	CHECK(rd_send_ack(s, &h, t) == 4);
	CHECK(s->have_rtt && s->srtt == 8000 && s->rttvar == 4000 && s->rto == 8000 + 4 * 4000);
	h.seq = 5;
	h.nranges = 1;
	h.ranges[0].start = 5;
	h.ranges[0].end = 10;
	CHECK(rd_send_ack(s, &h, t) == 0);
	CHECK(s->fast == 1 && s->inflight == 0);
	CHECK(rd_send_retransmit(s, t, &seq) == 1 && seq == 4 && s->retransmitted == 1);
	CHECK(rd_send_retransmit(s, t, &seq) == 0);
	/* the retransmission is no RTT sample (Karn) */
	h.seq = 4;
	h.base = 10;
	h.nranges = 0;
	t += 100000;
	CHECK(rd_send_ack(s, &h, t) == 6 && s->srtt == 8000);
	CHECK(rd_send_deadline(s) == 0 && s->base == 10 && s->next == 10);
	/* silence: a probe of the oldest two, the window kept; then, a second
	 * time, all sent again and the window at its least */
	for (q = 0; q < 4; q++)
		rd_send_new(s, t);
	before = s->cwnd;
	rto = s->rto;
	CHECK(rto == 8000 + 4 * 3000); /* the second sample moved RTTVAR */
	CHECK(rd_send_timer(s, t + rto - 1) == 0);
	CHECK(rd_send_timer(s, t + rto) == 1 && s->cwnd == before && s->inflight == 2);
	CHECK(rd_send_retransmit(s, t + rto, &seq) == 1 && seq == 10);
	CHECK(rd_send_retransmit(s, t + rto, &seq) == 1 && seq == 11);
	CHECK(rd_send_retransmit(s, t + rto, &seq) == 0);
	CHECK(rd_send_timer(s, t + 3 * rto) == 2 && s->cwnd == RD_MIN_CWND && s->inflight == 0);
	/* sent again before: two copies now; never sent again: one */
	CHECK(rd_send_retransmit(s, t + 3 * rto, &seq) == 2 && seq == 10);
	CHECK(rd_send_retransmit(s, t + 3 * rto, &seq) == 2 && seq == 11 && s->doubled == 2);
	CHECK(rd_send_retransmit(s, t + 3 * rto, &seq) == 1 && seq == 12);
	h.seq = 11;
	h.base = 14;
	rd_send_ack(s, &h, t + 10000);
	CHECK(s->timeouts == 0 && s->base == 14 && s->rto == rto);
	free(s);
}

/* Under steady loss the window halves once per round, not per loss. */
/* Send 32 records from seq at t; acknowledge all but the first and the
 * third at t + rtt. */
static void round_with_two_lost(struct rd_send *s, uint32_t seq, uint64_t t, uint64_t rtt)
{
	struct rd_hdr h;
	uint32_t q;

	memset(&h, 0, sizeof h);
	h.type = RD_ACK;
	for (q = 0; q < 32; q++)
		rd_send_new(s, t);
	h.seq = seq + 31;
	h.base = seq;
	h.nranges = 2;
	h.ranges[0].start = seq + 1;
	h.ranges[0].end = seq + 2;
	h.ranges[1].start = seq + 3;
	h.ranges[1].end = seq + 32;
	rd_send_ack(s, &h, t + rtt);
}

static void sender_cuts_once_per_round_with_a_queue(void)
{
	struct rd_send *s = malloc(sizeof *s);
	double before;

	rd_send_init(s, 256);
	/* losses at the path's own delay: a lossy link; sent again, the
	 * window kept */
	before = s->cwnd;
	round_with_two_lost(s, 0, 1, 1000);
	CHECK(s->fast == 2 && s->loss_rounds == 1 && s->cuts == 0);
	CHECK(s->cwnd > before + 30 - 0.01 && s->cwnd < before + 30 + 0.01);
	free(s);
	/* the same after the RTT rose from 1 ms to 9 ms: a queue; not grown
	 * into it by the 30 acknowledged, slow start over, and cut once (not
	 * twice) */
	s = malloc(sizeof *s);
	rd_send_init(s, 256);
	s->have_rtt = 1;
	s->min_rtt = 1000;
	s->min_at = 1;
	s->srtt = 9000;
	before = s->cwnd;
	round_with_two_lost(s, 0, 1, 9000);
	CHECK(s->fast == 2 && s->loss_rounds == 1 && s->cuts == 1);
	CHECK(s->cwnd > before * RD_BETA - 0.01 && s->cwnd < before * RD_BETA + 0.01);
	CHECK(s->ssthresh <= s->cwnd + 0.01);
	free(s);
}

/* Past slow start, with the RTT at the path's own: an eighth of a record
 * an ack (a cut window comes back in a few round trips); with some delay
 * over it, short of a queue: one record a round trip. */
static void sender_grows_fast_with_no_queue(void)
{
	struct rd_send *s = malloc(sizeof *s);
	struct rd_hdr h;
	uint32_t q;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		rd_send_init(s, 1024);
		s->have_rtt = 1;
		s->min_rtt = 8000;
		s->min_at = 1;
		s->srtt = pass ? 9500 : 8000; /* a queue only beyond 11000 */
		s->ssthresh = s->cwnd;
		for (q = 0; q < 16; q++)
			rd_send_new(s, 1000);
		memset(&h, 0, sizeof h);
		h.type = RD_ACK;
		h.seq = 100; /* no RTT sample */
		h.base = 16;
		CHECK(rd_send_ack(s, &h, 9000) == 16);
		if (!pass)
			CHECK(s->cwnd > 32 + 2 - 0.01 && s->cwnd < 32 + 2 + 0.01);
		else
			CHECK(s->cwnd > 32 + 0.4 && s->cwnd < 32 + 0.6);
	}
	free(s);
}

/* A queue with no loss: the window falls to what the path holds at its
 * own delay, at most halved, once a round. */
static void sender_drains_a_standing_queue(void)
{
	struct rd_send *s = malloc(sizeof *s);
	struct rd_hdr h;
	uint32_t q;

	rd_send_init(s, 1024);
	s->have_rtt = 1;
	s->min_rtt = 4000;
	s->min_at = 1;
	s->srtt = 8000; /* 4 ms of queue: beyond 1 ms and a quarter */
	s->cwnd = 200;
	memset(&h, 0, sizeof h);
	h.type = RD_ACK;
	for (q = 0; q < 100; q++)
		rd_send_new(s, 1);
	h.seq = 0;
	h.base = 10;
	rd_send_ack(s, &h, 8001);
	/* 200 (not grown into the queue) * (4000 + 1000 + 1000) / 8000 */
	CHECK(s->drains == 1 && s->cwnd > 150 - 0.01 && s->cwnd < 150 + 0.01);
	h.base = 20;
	rd_send_ack(s, &h, 8002); /* the same round: no second cut */
	CHECK(s->drains == 1 && s->cwnd > 150 - 0.01 && s->cwnd < 150 + 0.01);
	for (q = 0; q < 10; q++) /* sent after the cut, then acknowledged */
		rd_send_new(s, 9000);
	h.base = 101;
	rd_send_ack(s, &h, 17000);
	CHECK(s->drains == 2 && s->cwnd < 150);
	free(s);
}

int main(void)
{
	RUN(header_roundtrip);
	RUN(header_garbage);
	RUN(seq_wraps);
	RUN(window_releases_in_order);
	RUN(ranges_of_held);
	RUN(sender_basics);
	RUN(sender_burst_after_probe);
	RUN(sender_cuts_once_per_round_with_a_queue);
	RUN(sender_drains_a_standing_queue);
	RUN(sender_grows_fast_with_no_queue);
	return CHECK_DONE();
}
