#include "check.h"
#include "nettool/rdgram.h"
#include "nettool/util.h"

#include <stdlib.h>
#include <string.h>

static void header_roundtrip(void)
{
	unsigned char b[RD_HDR + 3];
	struct rd_hdr h = { RD_DATA, 0xdeadbeef, 0xfffffffe, 7 }, g;
	char err[NT_ERR_LEN];

	rd_encode(b, &h);
	CHECK(!memcmp(b, "NT\1\1\xde\xad\xbe\xef\xff\xff\xff\xfe\0\0\0\7", RD_HDR));
	CHECK(rd_decode(b, RD_HDR + 3, &g, err) == 0);
	CHECK(g.type == RD_DATA && g.session == h.session && g.seq == h.seq && g.base == 7);
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
		{ "NT\2\1\0\0\0\0\0\0\0\0\0\0\0\0", 16, "unknown version 2" },
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
	unsigned char *p;
	size_t n;
	uint32_t order[8], k = 0;

	rd_recv_init(r, 10, 1 << 20);
	CHECK(rd_recv_offer(r, 12, (const unsigned char *)"c", 1) == RD_HELD);
	CHECK(rd_recv_offer(r, 12, (const unsigned char *)"c", 1) == RD_HELD);
	CHECK(rd_recv_offer(r, 11, (const unsigned char *)"b", 1) == RD_HELD);
	CHECK(rd_recv_offer(r, 9, (const unsigned char *)"z", 1) == RD_DUP);
	CHECK(rd_recv_offer(r, 10 + RD_WINDOW, (const unsigned char *)"y", 1) == RD_DROPPED);
	CHECK(rd_recv_offer(r, 10, (const unsigned char *)"a", 1) == RD_RELEASE);
	order[k++] = 10;
	while (rd_recv_next(r, &p, &n)) {
		order[k++] = r->expected;
		free(p);
	}
	CHECK(k == 3 && order[1] == 11 && order[2] == 12 && r->expected == 13);
	CHECK(r->held_bytes == 0);
	CHECK(rd_recv_offer(r, 12, (const unsigned char *)"c", 1) == RD_DUP);
	/* the sender says all below 20 is acknowledged */
	CHECK(rd_recv_offer(r, 15, (const unsigned char *)"e", 1) == RD_HELD);
	rd_recv_base(r, 20);
	CHECK(r->expected == 20 && r->held_bytes == 0);
	/* a byte budget bounds what is held */
	r->max_bytes = 2;
	CHECK(rd_recv_offer(r, 22, (const unsigned char *)"xyz", 3) == RD_DROPPED);
	rd_recv_free(r);
	free(r);
}

int main(void)
{
	RUN(header_roundtrip);
	RUN(header_garbage);
	RUN(seq_wraps);
	RUN(window_releases_in_order);
	return CHECK_DONE();
}
