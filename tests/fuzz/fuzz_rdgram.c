/* Fuzz the reliable-datagram header parser and the receive window: the
 * input is a run of datagrams, each a length byte then its bytes. Each
 * seq must come out of the window at most once, in increasing order. */
#include "nettool/rdgram.h"
#include "nettool/util.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static struct rd_recv r;
	char err[NT_ERR_LEN];
	size_t i = 0;
	uint32_t last = 0;
	int any = 0;

	rd_recv_init(&r, 0, 4096);
	while (i < size) {
		size_t n = data[i++];
		struct rd_hdr h;
		unsigned char *p;
		size_t pn;

		if (n > size - i)
			n = size - i;
		if (rd_decode(data + i, n, &h, err) == 0 && h.type == RD_DATA) {
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
					free(p);
					s++;
				}
			}
		}
		i += n;
	}
	rd_recv_free(&r);
	return 0;
}
