#include "nettool/http/client_retry.h"
#include "nettool/base/util.h"

#include <stdlib.h>

#define RETRY_FIRST_MS 1000LL
#define RETRY_MAX_MS (10LL * 60 * 1000)

void hc_retry_start(struct hc_retry *r, uint64_t now_ms)
{
	r->done = 0;
	r->backoff_ms = RETRY_FIRST_MS;
	r->start_ms = now_ms;
}

int hc_retry_status(int status)
{
	switch (status) {
	case 408: case 429: case 500: case 502: case 503: case 504:
		return 1;
	default:
		return 0;
	}
}

long long hc_retry_after(const struct http_parser *hp, time_t now)
{
	const char *v = http_field(hp, "Retry-After");
	char *end;
	unsigned long long secs;
	time_t when;

	if (!v)
		return -1;
	if (*v >= '0' && *v <= '9') {
		secs = strtoull(v, &end, 10);
		if (*end)
			return -1;
		return secs > 365ULL * 86400 ? 365LL * 86400 * 1000 : (long long)secs * 1000;
	}
	when = http_date_parse(v);
	if (when == (time_t)-1)
		return -1;
	return when > now ? (long long)(when - now) * 1000 : 0;
}

int hc_retry_wanted(const struct hc_retry *r, int rc, int status, long long after_ms,
		    uint64_t now_ms, long long *wait_ms)
{
	int transient = rc == NT_EXIT_TIMEOUT || hc_retry_status(status) ||
			(r->connrefused && rc == NT_EXIT_REFUSED) ||
			(r->all_errors && rc > 0 && rc != NT_EXIT_USAGE);
	long long wait = r->delay_ms > 0 ? r->delay_ms : r->backoff_ms;

	if (!transient || r->done >= r->max)
		return 0;
	if (after_ms > 0)
		wait = after_ms;
	if (r->max_time_ms > 0 &&
	    (long long)(now_ms - r->start_ms) + wait >= (long long)r->max_time_ms)
		return 0;
	*wait_ms = wait;
	return 1;
}

void hc_retry_take(struct hc_retry *r)
{
	r->done++;
	if (r->delay_ms <= 0 && (r->backoff_ms *= 2) > RETRY_MAX_MS)
		r->backoff_ms = RETRY_MAX_MS;
}
