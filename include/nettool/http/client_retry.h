#ifndef NETTOOL_HTTP_CLIENT_RETRY_H
#define NETTOOL_HTTP_CLIENT_RETRY_H
/*
 * When a failed transfer is tried again, as curl's --retry decides it:
 * timeouts and the statuses 408, 429, 500, 502, 503 and 504 always;
 * refused connections with connrefused; every error with all_errors. The
 * wait is --retry-delay when given, else 1 s doubling to 10 minutes; a
 * Retry-After takes its place. No retry starts that would end past
 * --retry-max-time from the first attempt. Pure: the caller sleeps.
 */
#include "nettool/proto/http.h"
#include <stdint.h>
#include <time.h>

struct hc_retry {
	unsigned long max;            /* --retry N: at most N more attempts */
	int delay_ms;                 /* --retry-delay; 0: the doubling backoff */
	int max_time_ms;              /* --retry-max-time; 0: no bound */
	int all_errors, connrefused;
	/* state */
	unsigned long done;           /* retries made */
	long long backoff_ms;
	uint64_t start_ms;            /* the first attempt's start */
};

/* Ready for a first attempt at now_ms. */
void hc_retry_start(struct hc_retry *r, uint64_t now_ms);
/* Whether status is one a retry is made for. */
int hc_retry_status(int status);
/* A response's Retry-After (seconds, or an HTTP-date) as milliseconds
 * from now, or -1 when it has none or a bad one. */
long long hc_retry_after(const struct http_parser *hp, time_t now);
/* Whether an attempt that ended with exit status rc and, when a response
 * came, status (else 0) is tried again; *wait_ms is how long to wait
 * first. after_ms: its Retry-After, or -1. Changes nothing. */
int hc_retry_wanted(const struct hc_retry *r, int rc, int status, long long after_ms,
		    uint64_t now_ms, long long *wait_ms);
/* A retry is made: counted, and the backoff doubled. */
void hc_retry_take(struct hc_retry *r);

#endif
