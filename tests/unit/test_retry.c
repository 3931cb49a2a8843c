/* --retry's decisions: what is tried again, the waits, Retry-After. */
#include "check.h"
#include "nettool/base/util.h"
#include "nettool/http/client_retry.h"

#include <stdlib.h>
#include <string.h>

static struct http_parser *response(const char *m)
{
	static struct http_parser p;
	size_t used;

	http_parser_init(&p, 0);
	CHECK(http_parse(&p, m, strlen(m), &used) == HTTP_EV_HEAD);
	return &p;
}

static void test_what_is_transient(void)
{
	struct hc_retry r;
	long long w;

	memset(&r, 0, sizeof r);
	r.max = 3;
	hc_retry_start(&r, 0);
	CHECK(hc_retry_wanted(&r, NT_EXIT_TIMEOUT, 0, -1, 0, &w) && w == 1000);
	CHECK(hc_retry_wanted(&r, 0, 503, -1, 0, &w));
	CHECK(hc_retry_wanted(&r, NT_EXIT_HTTP, 429, -1, 0, &w));
	CHECK(!hc_retry_wanted(&r, 0, 404, -1, 0, &w));
	CHECK(!hc_retry_wanted(&r, NT_EXIT_HTTP, 404, -1, 0, &w));
	CHECK(!hc_retry_wanted(&r, NT_EXIT_REFUSED, 0, -1, 0, &w));
	CHECK(!hc_retry_wanted(&r, NT_EXIT_PROTO, 200, -1, 0, &w));
	CHECK(!hc_retry_wanted(&r, 0, 200, -1, 0, &w));
	r.connrefused = 1;
	CHECK(hc_retry_wanted(&r, NT_EXIT_REFUSED, 0, -1, 0, &w));
	r.all_errors = 1;
	CHECK(hc_retry_wanted(&r, NT_EXIT_HTTP, 404, -1, 0, &w));
	CHECK(hc_retry_wanted(&r, NT_EXIT_PROTO, 200, -1, 0, &w));
	CHECK(!hc_retry_wanted(&r, NT_EXIT_USAGE, 0, -1, 0, &w));
	CHECK(!hc_retry_wanted(&r, 0, 200, -1, 0, &w));
}

static void test_backoff_count_and_window(void)
{
	struct hc_retry r;
	long long w = 0, seen[12];
	int i;

	memset(&r, 0, sizeof r);
	r.max = 12;
	hc_retry_start(&r, 5000);
	for (i = 0; i < 12; i++) {
		CHECK(hc_retry_wanted(&r, NT_EXIT_TIMEOUT, 0, -1, 5000, &w));
		seen[i] = w;
		hc_retry_take(&r);
	}
	CHECK(!hc_retry_wanted(&r, NT_EXIT_TIMEOUT, 0, -1, 5000, &w)); /* none left */
	CHECK(seen[0] == 1000 && seen[1] == 2000 && seen[2] == 4000 && seen[9] == 512000);
	CHECK(seen[10] == 600000 && seen[11] == 600000); /* at most ten minutes */
	/* a fixed delay, and Retry-After over it */
	memset(&r, 0, sizeof r);
	r.max = 5;
	r.delay_ms = 250;
	hc_retry_start(&r, 0);
	hc_retry_take(&r);
	CHECK(hc_retry_wanted(&r, 0, 503, -1, 0, &w) && w == 250);
	CHECK(hc_retry_wanted(&r, 0, 503, 3000, 0, &w) && w == 3000);
	CHECK(hc_retry_wanted(&r, 0, 503, 0, 0, &w) && w == 250);
	/* --retry-max-time: no retry that would end past it */
	r.max_time_ms = 1000;
	CHECK(hc_retry_wanted(&r, 0, 503, -1, 700, &w));
	CHECK(!hc_retry_wanted(&r, 0, 503, -1, 750, &w));
	CHECK(!hc_retry_wanted(&r, 0, 503, 2000, 0, &w));
}

static void test_retry_after(void)
{
	time_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */

	CHECK(hc_retry_after(response("HTTP/1.1 503 x\r\nRetry-After: 120\r\n\r\n"), now) ==
	      120000);
	CHECK(hc_retry_after(response("HTTP/1.1 503 x\r\nRetry-After: 0\r\n\r\n"), now) == 0);
	CHECK(hc_retry_after(response("HTTP/1.1 503 x\r\n\r\n"), now) == -1);
	CHECK(hc_retry_after(response("HTTP/1.1 503 x\r\nRetry-After: 12s\r\n\r\n"), now) == -1);
	CHECK(hc_retry_after(response("HTTP/1.1 503 x\r\nRetry-After: soon\r\n\r\n"), now) == -1);
	CHECK(hc_retry_after(response("HTTP/1.1 503 x\r\nRetry-After: "
				      "Sun, 06 Nov 1994 08:50:07 GMT\r\n\r\n"), now) == 30000);
	CHECK(hc_retry_after(response("HTTP/1.1 503 x\r\nRetry-After: "
				      "Sun, 06 Nov 1994 08:00:00 GMT\r\n\r\n"), now) == 0);
	/* absurd: bounded to a year, never an overflow */
	CHECK(hc_retry_after(response("HTTP/1.1 503 x\r\nRetry-After: "
				      "99999999999999999999999\r\n\r\n"), now) == 365LL * 86400 * 1000);
}

int main(void)
{
	RUN(test_what_is_transient);
	RUN(test_backoff_count_and_window);
	RUN(test_retry_after);
	return CHECK_DONE();
}
