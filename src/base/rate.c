#include "nettool/base/rate.h"

void rate_init(struct rate *r, uint64_t bytes_per_sec, uint64_t now)
{
	r->bps = (double)bytes_per_sec;
	r->tokens = 0;
	r->at = now;
}

static void refill(struct rate *r, uint64_t now)
{
	double cap = r->bps / 50;

	if (now > r->at) {
		r->tokens += (double)(now - r->at) * r->bps / 1e6;
		if (r->tokens > cap)
			r->tokens = cap;
	}
	r->at = now;
}

int rate_room(struct rate *r, uint64_t now)
{
	if (r->bps <= 0)
		return 1;
	refill(r, now);
	return r->tokens >= 0;
}

void rate_spend(struct rate *r, uint64_t n)
{
	if (r->bps > 0)
		r->tokens -= (double)n;
}

uint64_t rate_wait_us(const struct rate *r)
{
	if (r->bps <= 0 || r->tokens >= 0)
		return 0;
	return (uint64_t)(-r->tokens * 1e6 / r->bps) + 1;
}
