#include "nettool/core/rsend.h"
#include "nettool/base/util.h"
#include "nettool/core/net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int rsend_init(struct rsend *r, int fd, uint32_t window, uint32_t session, struct rate *rate,
	       int offload)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->session = session;
	r->rate = rate;
	r->gso = offload && dgram_gso_probe(fd);
	rd_send_init(&r->rs, window);
	r->slot = calloc(RD_WINDOW, sizeof *r->slot);
	return r->slot ? 0 : -1;
}

void rsend_free(struct rsend *r)
{
	size_t i;

	if (!r->slot)
		return;
	for (i = 0; i < RD_WINDOW; i++)
		free(r->slot[i].dgram);
	free(r->slot);
	r->slot = NULL;
}

struct rsend_slot *rsend_slot(struct rsend *r, uint32_t seq)
{
	return &r->slot[seq % RD_WINDOW];
}

int rsend_flush(struct rsend *r)
{
	unsigned n = r->nq;
	int rc;

	r->nq = 0;
	if (!n)
		return 0;
	rc = r->gso ? dgram_send_gso(r->fd, r->q, n, &r->gso) : dgram_send_many(r->fd, r->q, n);
	return rc < 0 && net_connect_status(errno) == NT_EXIT_REFUSED ? -1 : 0;
}

/* Put the current base in a datagram's header and queue it. */
static int queue_seq(struct rsend *r, uint32_t seq)
{
	struct rsend_slot *f = rsend_slot(r, seq);
	struct rd_hdr h;

	memset(&h, 0, sizeof h);
	h.type = f->dgram[3];
	h.session = r->session;
	h.seq = seq;
	h.base = r->rs.base;
	h.version = RD_VERSION;
	rd_encode(f->dgram, &h);
	if (r->rate)
		rate_spend(r->rate, f->len);
	r->q[r->nq].iov_base = f->dgram;
	r->q[r->nq++].iov_len = f->len;
	return r->nq == RSEND_QUEUE ? rsend_flush(r) : 0;
}

int rsend_queue(struct rsend *r, unsigned type, const unsigned char *p, size_t n,
		unsigned long long line, uint64_t now)
{
	uint32_t seq = r->rs.next;
	struct rsend_slot *f = rsend_slot(r, seq);

	if (f->cap < RD_HDR + n) { /* at most the window's records, each once */
		unsigned char *b = realloc(f->dgram, RD_HDR + n);

		if (!b)
			return -1;
		f->dgram = b;
		f->cap = RD_HDR + n;
	}
	memcpy(f->dgram + RD_HDR, p, n);
	f->dgram[3] = (unsigned char)type;
	f->len = RD_HDR + n;
	f->line = line;
	rd_send_new(&r->rs, now);
	return queue_seq(r, seq);
}

int rsend_retransmit(struct rsend *r, uint64_t now)
{
	uint32_t seq;
	int copies;

	while ((!r->rate || rate_room(r->rate, now)) &&
	       (copies = rd_send_retransmit(&r->rs, now, &seq)) > 0)
		while (copies-- > 0)
			if (queue_seq(r, seq) < 0)
				return -1;
	return rsend_flush(r);
}
