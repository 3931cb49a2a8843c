#include "check.h"
#include "nettool/util.h"

#include <string.h>

static void parse_ulong_strict(void)
{
	char err[NT_ERR_LEN];
	unsigned long v = 7;

	CHECK(util_parse_ulong("42", 0, 100, &v, err) == 0 && v == 42);
	CHECK(util_parse_ulong("0", 0, 100, &v, err) == 0 && v == 0);
	CHECK(util_parse_ulong("12x", 0, 100, &v, err) < 0);
	CHECK(strstr(err, "not a number") != NULL);
	CHECK(util_parse_ulong("", 0, 100, &v, err) < 0);
	CHECK(util_parse_ulong("-1", 0, 100, &v, err) < 0);
	CHECK(util_parse_ulong("+1", 0, 100, &v, err) < 0);
	CHECK(util_parse_ulong(" 1", 0, 100, &v, err) < 0);
	CHECK(util_parse_ulong("101", 0, 100, &v, err) < 0);
	CHECK(util_parse_ulong("99999999999999999999999", 0, ~0UL, &v, err) < 0);
	CHECK(util_parse_ulong("5", 10, 100, &v, err) < 0);
}

static void parse_port_range(void)
{
	char err[NT_ERR_LEN];
	unsigned p;

	CHECK(util_parse_port("80", 0, &p, err) == 0 && p == 80);
	CHECK(util_parse_port("65535", 0, &p, err) == 0 && p == 65535);
	CHECK(util_parse_port("65536", 0, &p, err) < 0);
	CHECK(util_parse_port("0", 0, &p, err) < 0);
	CHECK(util_parse_port("0", 1, &p, err) == 0 && p == 0);
	CHECK(util_parse_port("8o", 1, &p, err) < 0);
	CHECK(strstr(err, "invalid port '8o'") != NULL);
}

static void parse_secs(void)
{
	char err[NT_ERR_LEN];
	int ms = -1;

	CHECK(util_parse_secs("3", &ms, err) == 0 && ms == 3000);
	CHECK(util_parse_secs("0.25", &ms, err) == 0 && ms == 250);
	CHECK(util_parse_secs("0", &ms, err) == 0 && ms == 0);
	CHECK(util_parse_secs("1.5", &ms, err) == 0 && ms == 1500);
	CHECK(util_parse_secs("0.0001", &ms, err) == 0 && ms == 0);
	CHECK(util_parse_secs("1.", &ms, err) < 0);
	CHECK(util_parse_secs(".5", &ms, err) < 0);
	CHECK(util_parse_secs("-1", &ms, err) < 0);
	CHECK(util_parse_secs("5s", &ms, err) < 0);
	CHECK(util_parse_secs("", &ms, err) < 0);
	CHECK(util_parse_secs("99999999", &ms, err) < 0);
}

static void clock_moves_forward(void)
{
	uint64_t a = util_now_ms(), b = util_now_ms();

	CHECK(b >= a);
}

int main(void)
{
	RUN(parse_ulong_strict);
	RUN(parse_port_range);
	RUN(parse_secs);
	RUN(clock_moves_forward);
	return CHECK_DONE();
}
