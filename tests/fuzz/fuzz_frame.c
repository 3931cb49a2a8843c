/* Fuzz the frame decoder: byte 0 picks the mode, byte 1 the maximum, the
 * rest is the stream. Decoding it whole and decoding it in pieces (sizes
 * taken from the data) must give the same frames and the same outcome. */
#include "nettool/proto/frame.h"
#include "nettool/base/util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

struct result {
	unsigned long long sum; /* of payload offsets and lengths */
	size_t frames;
	int end;                /* final status */
};

static void decode(const unsigned char *s, size_t n, enum frame_mode m, size_t max,
		   size_t step, struct result *r)
{
	struct frame_decoder d;
	char err[NT_ERR_LEN];
	size_t start = 0, avail = 0;

	memset(r, 0, sizeof *r);
	frame_decoder_init(&d, m, max);
	for (;;) {
		const unsigned char *p;
		size_t plen, used;
		int rc;

		avail = avail + step > n ? n : avail + step;
		while ((rc = frame_decode(&d, s + start, avail - start, &p, &plen, &used,
					  err)) == 1) {
			if (p < s + start || p + plen > s + start + used)
				abort();
			r->sum += (unsigned long long)(p - s) * 31 + plen;
			r->frames++;
			start += used;
		}
		if (rc < 0) {
			r->end = rc;
			return;
		}
		if (avail == n) {
			r->end = frame_finish(&d, n - start, err);
			return;
		}
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct result whole, split;
	enum frame_mode m;
	size_t max;

	if (size < 3)
		return 0;
	m = (enum frame_mode)(FRAME_LINE + data[0] % 4);
	max = data[1] ? data[1] : 100000;
	decode(data + 2, size - 2, m, max, size, &whole);
	decode(data + 2, size - 2, m, max, 1 + data[2] % 7, &split);
	if (whole.frames != split.frames || whole.sum != split.sum || whole.end != split.end)
		abort();
	return 0;
}
