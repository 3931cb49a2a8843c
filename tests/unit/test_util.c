#include "check.h"
#include "nettool/proto/sha256.h"
#include "nettool/base/util.h"

#include <stdlib.h>
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

static void plain_argv(void)
{
	char **a = util_plain_argv("  cat ");

	CHECK(a && !strcmp(a[0], "cat") && !a[1]);
	free(a);
	a = util_plain_argv("/usr/bin/tr a-z A-Z\tx=1");
	CHECK(a && !strcmp(a[0], "/usr/bin/tr") && !strcmp(a[1], "a-z") &&
	      !strcmp(a[2], "A-Z") && !strcmp(a[3], "x=1") && !a[4]);
	free(a);
	a = util_plain_argv("catalog");
	CHECK(a && !strcmp(a[0], "catalog"));
	free(a);
	a = util_plain_argv("trueish -v");
	CHECK(a && !strcmp(a[0], "trueish"));
	free(a);
	/* shell syntax, builtins, keywords and assignments keep the shell */
	CHECK(!util_plain_argv("cat; ls"));
	CHECK(!util_plain_argv("cat > f"));
	CHECK(!util_plain_argv("echo $HOME"));
	CHECK(!util_plain_argv("cat 'a b'"));
	CHECK(!util_plain_argv("ls *.c"));
	CHECK(!util_plain_argv("ls ~"));
	CHECK(!util_plain_argv("cat # comment"));
	CHECK(!util_plain_argv("a\\b"));
	CHECK(!util_plain_argv("cat\nls"));
	CHECK(!util_plain_argv("echo hi"));
	CHECK(!util_plain_argv("exec cat"));
	CHECK(!util_plain_argv("read x"));
	CHECK(!util_plain_argv("true"));
	CHECK(!util_plain_argv("while"));
	CHECK(!util_plain_argv("X=1 cat"));
	CHECK(!util_plain_argv(""));
	CHECK(!util_plain_argv("   "));
}

static void utf8_lengths(void)
{
	CHECK(util_utf8_len("", 0) == 0);
	CHECK(util_utf8_len("abc", 3) == 3);
	CHECK(util_utf8_len("\xe5\xad\xa6\xe7\x94\x9f", 6) == 2); /* two CJK */
	CHECK(util_utf8_len("Zo\xc3\xab", 4) == 3);
	CHECK(util_utf8_len("\xf0\x9f\x98\x80", 4) == 1);       /* U+1F600 */
	CHECK(util_utf8_len("\xc3", 1) == -1);                     /* cut short */
	CHECK(util_utf8_len("\xc0\x80", 2) == -1);                 /* overlong */
	CHECK(util_utf8_len("\xed\xa0\x80", 3) == -1);            /* a surrogate */
	CHECK(util_utf8_len("\xf4\x90\x80\x80", 4) == -1);       /* past U+10FFFF */
	CHECK(util_utf8_len("\xff", 1) == -1);
}

/* FIPS 180-4 examples, and one fed in uneven pieces. */
static void sha256_vectors_once(void)
{
	static const char *const in[] = { "", "abc",
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" };
	static const char *const want[] = {
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" };
	unsigned char d[32];
	char hex[65];
	struct sha256 c;
	size_t i, j;

	for (i = 0; i < 3; i++) {
		sha256_init(&c);
		for (j = 0; j < strlen(in[i]); j += i + 1)
			sha256_update(&c, in[i] + j, strlen(in[i]) - j < i + 1 ? strlen(in[i]) - j : i + 1);
		sha256_final(&c, d);
		sha256_hex(d, hex);
		CHECK(!strcmp(hex, want[i]));
	}
	sha256_init(&c);
	for (i = 0; i < 1000000; i += 1000) {
		char a[1000];

		memset(a, 'a', sizeof a);
		sha256_update(&c, a, sizeof a);
	}
	sha256_final(&c, d);
	sha256_hex(d, hex);
	CHECK(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
}

/* The same by the portable code and by the CPU's instructions, where it
 * has them; and both agree on every length up to a few blocks. */
static void sha256_vectors(void)
{
	unsigned char buf[300], d0[32], d1[32];
	struct sha256 c;
	size_t n, i;
	int have;

	sha256_accel(0);
	sha256_vectors_once();
	have = sha256_accel(1);
	sha256_vectors_once();
	if (!have) {
		printf("note: no SHA instructions on this CPU; the portable code only\n");
		return;
	}
	for (i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	for (n = 0; n <= sizeof buf; n++) {
		sha256_accel(0);
		sha256_init(&c);
		sha256_update(&c, buf, n);
		sha256_final(&c, d0);
		sha256_accel(1);
		sha256_init(&c);
		sha256_update(&c, buf, n);
		sha256_final(&c, d1);
		CHECK(!memcmp(d0, d1, 32));
	}
}

int main(void)
{
	RUN(sha256_vectors);
	RUN(utf8_lengths);
	RUN(parse_ulong_strict);
	RUN(parse_port_range);
	RUN(parse_secs);
	RUN(clock_moves_forward);
	RUN(plain_argv);
	return CHECK_DONE();
}
