/* Fuzz the reliable-datagram parser, the receive window and the sender:
 * the input is a run of datagrams, each a length byte then its bytes.
 * Each seq must come out of the window at most once, in increasing order;
 * the window's ranges must encode to an ack that decodes the same; acks
 * fed to a sender must keep its counts consistent. */
#include "nettool/proto/rdgram.h"
#include "nettool/base/util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static struct rd_recv r;
	static struct rd_send snd;
	unsigned char ack[RD_HDR + 8 * RD_MAX_RANGES];
	uint64_t now = 1000;
	char err[NT_ERR_LEN];
	size_t i = 0;
	uint32_t last = 0, recent[8];
	unsigned nrecent = 0;
	int any = 0;

	rd_recv_init(&r, 0, 4096);
	rd_send_init(&snd, 64);
	while (i < size) {
		size_t n = data[i++];
		struct rd_hdr h;
		const unsigned char *p;
		size_t pn;

		if (n > size - i)
			n = size - i;
		if (rd_decode(data + i, n, &h, err) == 0 && h.type == RD_ACK) {
			/* the sender keeps records going, then takes the ack */
			while (rd_send_room(&snd, now))
				rd_send_new(&snd, now);
			rd_send_ack(&snd, &h, now += 100);
			rd_send_timer(&snd, now += (h.seq & 0xffff));
			while (rd_send_retransmit(&snd, now, &h.seq))
				;
			/* in flight: at most the window; the span (records held
			 * beyond a gap included): at most RD_WINDOW */
			if (snd.inflight > snd.next - snd.base || snd.inflight > snd.window ||
			    snd.next - snd.base > RD_WINDOW)
				abort();
		}
		if (rd_decode(data + i, n, &h, err) == 0 && (h.type == RD_DATA || h.type == RD_FDATA)) {
			h.seq %= 2 * RD_WINDOW; /* keep the sequence numbers close */
			h.base %= 2 * RD_WINDOW;
			rd_recv_base(&r, h.base);
			if (rd_recv_offer(&r, h.seq, data + i + RD_HDR, n - RD_HDR) == RD_RELEASE) {
				uint32_t s = h.seq;

				for (;;) {
					if (any && rd_seq_diff(s, last) <= 0)
						abort();
					any = 1;
					last = s;
					if (!rd_recv_next(&r, &p, &pn))
						break;
					s++;
				}
			}
			{ /* the ranges make an ack that reads back the same */
				struct rd_hdr a, b;
				unsigned k;

				memset(&a, 0, sizeof a);
				a.type = RD_ACK;
				a.base = r.expected;
				/* what came lately, as a server keeps it: the ranges
				 * of several, in any order, some in one range */
				recent[nrecent++ % 8] = h.seq;
				a.nranges = rd_recv_ranges(&r, recent, nrecent < 8 ? nrecent : 8, a.ranges,
							   RD_MAX_RANGES);
				if (rd_decode(ack, rd_encode(ack, &a), &b, err) < 0 || b.nranges != a.nranges)
					abort();
				for (k = 0; k < a.nranges; k++)
					if (b.ranges[k].start != a.ranges[k].start || b.ranges[k].end != a.ranges[k].end)
						abort();
			}
		}
		i += n;
	}
	rd_recv_free(&r);
	return 0;
}
