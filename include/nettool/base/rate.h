#ifndef NETTOOL_RATE_H
#define NETTOOL_RATE_H

#include <stdint.h>

/*
 * A ceiling on bytes per second (a token bucket). The bucket holds up to
 * 20 ms of the rate and may go into debt by one send, so a datagram
 * larger than the bucket still goes, and the wait after it pays for it.
 * Times in microseconds.
 */
struct rate {
	double bps;     /* 0: no ceiling */
	double tokens;  /* bytes that may go now; negative: a debt */
	uint64_t at;    /* when tokens was last brought up to date */
};

void rate_init(struct rate *r, uint64_t bytes_per_sec, uint64_t now);
/* Whether a send may go now. */
int rate_room(struct rate *r, uint64_t now);
/* A send of n bytes went. */
void rate_spend(struct rate *r, uint64_t n);
/* Microseconds until rate_room is true again (0: now). */
uint64_t rate_wait_us(const struct rate *r);

#endif
