#include "nettool/rdgram.h"
#include "nettool/util.h"

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

void rd_encode(unsigned char *out, const struct rd_hdr *h)
{
	out[0] = 'N';
	out[1] = 'T';
	out[2] = 1;
	out[3] = (unsigned char)h->type;
	put32(out + 4, h->session);
	put32(out + 8, h->seq);
	put32(out + 12, h->base);
}

int rd_decode(const unsigned char *p, size_t n, struct rd_hdr *h, char *err)
{
	if (n < RD_HDR) {
		nt_seterr(err, "%zu bytes: shorter than the %d-byte header", n, RD_HDR);
		return -1;
	}
	if (p[0] != 'N' || p[1] != 'T') {
		nt_seterr(err, "bad magic 0x%02x%02x", p[0], p[1]);
		return -1;
	}
	if (p[2] != 1) {
		nt_seterr(err, "unknown version %u", p[2]);
		return -1;
	}
	if (p[3] < RD_DATA || p[3] > RD_REJECT) {
		nt_seterr(err, "unknown type %u", p[3]);
		return -1;
	}
	if (p[3] != RD_DATA && n != RD_HDR) {
		nt_seterr(err, "acknowledgement with %zu bytes of payload", n - RD_HDR);
		return -1;
	}
	h->type = p[3];
	h->session = get32(p + 4);
	h->seq = get32(p + 8);
	h->base = get32(p + 12);
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
	r->expected = base;
	r->max_bytes = max_bytes;
}

void rd_recv_free(struct rd_recv *r)
{
	size_t i;

	for (i = 0; i < RD_WINDOW; i++)
		free(r->held[i]);
	memset(r->held, 0, sizeof r->held);
	r->held_bytes = 0;
}

static void drop_slot(struct rd_recv *r, size_t i)
{
	if (!r->held[i])
		return;
	r->held_bytes -= r->held_len[i];
	free(r->held[i]);
	r->held[i] = NULL;
}

void rd_recv_base(struct rd_recv *r, uint32_t base)
{
	while (rd_seq_diff(base, r->expected) > 0) {
		drop_slot(r, r->expected % RD_WINDOW);
		r->expected++;
	}
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
	if (r->held[i])
		return RD_HELD; /* a duplicate of one already held */
	if (r->held_bytes + n > r->max_bytes)
		return RD_DROPPED;
	r->held[i] = malloc(n ? n : 1);
	if (!r->held[i])
		return RD_DROPPED;
	if (n)
		memcpy(r->held[i], p, n);
	r->held_len[i] = n;
	r->held_bytes += n;
	return RD_HELD;
}

int rd_recv_next(struct rd_recv *r, unsigned char **p, size_t *n)
{
	size_t i;

	drop_slot(r, r->expected % RD_WINDOW); /* a stale copy of the released one */
	r->expected++;
	i = r->expected % RD_WINDOW;
	if (!r->held[i])
		return 0;
	*p = r->held[i];
	*n = r->held_len[i];
	r->held_bytes -= *n;
	r->held[i] = NULL;
	return 1;
}
