/* Cookies by RFC 6265: dates, storage rules, the Cookie header, files. */
#include "check.h"
#include "nettool/proto/cookie.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1700000000LL

static struct buf hb;

static const char *header(const struct cookie_jar *j, const char *host, const char *path,
			  int secure)
{
	hb.len = 0;
	CHECK(cookie_header(j, &hb, host, path, secure, NOW) >= 0);
	buf_putc(&hb, '\0');
	return hb.data;
}

static void test_dates(void)
{
	int64_t t;

	CHECK(cookie_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t) == 0 && t == 784111777);
	CHECK(cookie_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t) == 0 && t == 784111777);
	CHECK(cookie_date_parse("Sun Nov  6 08:49:37 1994", &t) == 0 && t == 784111777);
	CHECK(cookie_date_parse("6 nov 1994 8:49:37", &t) == 0 && t == 784111777);
	CHECK(cookie_date_parse("Thu, 01 Jan 1970 00:00:00 GMT", &t) == 0 && t == 0);
	CHECK(cookie_date_parse("Tue, 29 Feb 2000 12:00:00 GMT", &t) == 0 && t == 951825600);
	CHECK(cookie_date_parse("Wed, 31 Feb 2024 00:00:00 GMT", &t) < 0);
	CHECK(cookie_date_parse("Wed, 01 Feb 1600 00:00:00 GMT", &t) < 0);
	CHECK(cookie_date_parse("Wed, 01 Feb 2024 24:00:00 GMT", &t) < 0);
	CHECK(cookie_date_parse("Wed, 01 Feb 2024", &t) < 0);
	CHECK(cookie_date_parse("", &t) < 0);
	CHECK(cookie_date_parse("garbage", &t) < 0);
	CHECK(cookie_date_parse("Wed, 123 Feb 2024 00:00:00 GMT", &t) < 0);
}

static void test_domains_and_paths(void)
{
	struct cookie_jar j;

	cookie_jar_init(&j);
	CHECK(cookie_set(&j, "a=1", "www.Example.com", "/docs/x.html", 0, NOW) == 1);
	CHECK(cookie_set(&j, "b=2; Domain=.example.com; Path=/", "www.example.com", "/", 0, NOW) == 1);
	CHECK(cookie_set(&j, "c=3; Domain=other.com", "www.example.com", "/", 0, NOW) == 0);
	CHECK(cookie_set(&j, "d=4; Domain=com", "www.example.com", "/", 0, NOW) == 0);
	CHECK(cookie_set(&j, "e=5; Domain=ample.com", "www.example.com", "/", 0, NOW) == 0);
	CHECK(cookie_set(&j, "f=6; Secure", "www.example.com", "/", 0, NOW) == 0);
	CHECK(cookie_set(&j, "novalue", "www.example.com", "/", 0, NOW) == 0);
	CHECK(cookie_set(&j, "=empty", "www.example.com", "/", 0, NOW) == 0);
	CHECK(cookie_set(&j, "g=7\x01", "www.example.com", "/", 0, NOW) == 0);
	/* a host-only cookie, with the default path /docs */
	CHECK(!strcmp(header(&j, "www.example.com", "/docs/y", 0), "a=1; b=2"));
	CHECK(!strcmp(header(&j, "www.example.com", "/docs", 0), "a=1; b=2"));
	CHECK(!strcmp(header(&j, "www.example.com", "/docsx", 0), "b=2"));
	CHECK(!strcmp(header(&j, "WWW.EXAMPLE.COM", "/", 0), "b=2"));
	CHECK(!strcmp(header(&j, "sub.example.com", "/docs/", 0), "b=2"));
	CHECK(!strcmp(header(&j, "example.com", "/docs/", 0), "b=2"));
	CHECK(!strcmp(header(&j, "notexample.com", "/docs/", 0), ""));
	/* an address matches itself only */
	CHECK(cookie_set(&j, "h=8; Domain=127.0.0.1", "127.0.0.1", "/", 0, NOW) == 1);
	CHECK(cookie_set(&j, "i=9; Domain=0.0.1", "127.0.0.1", "/", 0, NOW) == 0);
	CHECK(!strcmp(header(&j, "127.0.0.1", "/", 0), "h=8"));
	CHECK(j.v[j.n - 1].host_only);
	/* longer paths first, then older */
	CHECK(cookie_set(&j, "z=late; Path=/docs/x", "www.example.com", "/", 0, NOW) == 1);
	CHECK(!strcmp(header(&j, "www.example.com", "/docs/x", 0), "z=late; a=1; b=2"));
	/* replaced in place: same name, domain and path keeps its age */
	CHECK(cookie_set(&j, "a=one", "www.example.com", "/docs/", 0, NOW) == 1);
	CHECK(!strcmp(header(&j, "www.example.com", "/docs/x", 0), "z=late; a=one; b=2"));
	cookie_jar_free(&j);
	free(hb.data);
	hb.data = NULL;
	hb.cap = 0;
}

static void test_expiry_and_secure(void)
{
	struct cookie_jar j;

	cookie_jar_init(&j);
	CHECK(cookie_set(&j, "a=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "h.test", "/", 0, NOW) == 1);
	CHECK(j.n == 1 && j.v[0].expires == NOW + 60); /* Max-Age over Expires */
	CHECK(cookie_set(&j, "b=2; Expires=Sun, 06 Nov 1994 08:49:37 GMT", "h.test", "/", 0, NOW) == 1);
	CHECK(j.n == 1); /* expired on arrival: not kept */
	CHECK(cookie_set(&j, "c=3; Expires=Sun, 06 Nov 2044 08:49:37 GMT", "h.test", "/", 0, NOW) == 1);
	CHECK(cookie_set(&j, "d=4", "h.test", "/", 0, NOW) == 1 && j.v[2].expires == 0);
	CHECK(cookie_set(&j, "e=5; Max-Age=x", "h.test", "/", 0, NOW) == 1 && j.v[3].expires == 0);
	CHECK(!strcmp(header(&j, "h.test", "/", 0), "a=1; c=3; d=4; e=5"));
	CHECK(cookie_set(&j, "a=gone; Max-Age=0", "h.test", "/", 0, NOW) == 1);
	CHECK(!strcmp(header(&j, "h.test", "/", 0), "c=3; d=4; e=5"));
	/* Secure: set over a secure channel only, sent over one only */
	CHECK(cookie_set(&j, "s=1; Secure", "h.test", "/", 1, NOW) == 1);
	CHECK(!strcmp(header(&j, "h.test", "/", 0), "c=3; d=4; e=5"));
	CHECK(!strcmp(header(&j, "h.test", "/", 1), "c=3; d=4; e=5; s=1"));
	cookie_jar_free(&j);
}

static void test_files(void)
{
	struct cookie_jar j, k;
	struct buf a = { NULL, 0, 0 }, b = { NULL, 0, 0 };
	char *line, *save;

	cookie_jar_init(&j);
	cookie_jar_init(&k);
	CHECK(cookie_set(&j, "a=1; HttpOnly", "www.example.com", "/", 0, NOW) == 1);
	CHECK(cookie_set(&j, "b=2; Domain=example.com; Path=/p; Max-Age=100", "www.example.com", "/", 0, NOW) == 1);
	CHECK(cookie_save(&j, &a, NOW) == 0 && buf_putc(&a, '\0') == 0);
	CHECK(strstr(a.data, "#HttpOnly_www.example.com\tFALSE\t/\tFALSE\t0\ta\t1\n") != NULL);
	CHECK(strstr(a.data, "\n.example.com\tTRUE\t/p\tFALSE\t1700000100\tb\t2\n") != NULL);
	for (line = strtok_r(a.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		CHECK(cookie_load_line(&k, line, 0, NOW) >= 0);
	CHECK(k.n == 2);
	CHECK(cookie_save(&k, &b, NOW) == 0 && buf_putc(&b, '\0') == 0);
	a.len = 0; /* strtok_r cut it: written again, the same text */
	CHECK(cookie_save(&j, &a, NOW) == 0 && buf_putc(&a, '\0') == 0);
	CHECK(!strcmp(a.data, b.data));
	cookie_jar_free(&k);
	/* curl's lines: a value-less cookie of six fields, CRLF; bad ones */
	CHECK(cookie_load_line(&k, "h.test\tFALSE\t/\tFALSE\t0\tempty", 0, NOW) == 1);
	CHECK(cookie_load_line(&k, "h.test\tFALSE\t/\tFALSE\t0\tx\ty\r\n", 0, NOW) == 1);
	CHECK(cookie_load_line(&k, "h.test\tFALSE\t/\tFALSE\t0\tx\ty", 1, NOW) == 0); /* -j */
	CHECK(cookie_load_line(&k, "h.test\tFALSE\t/\tFALSE\t5\told\ty", 0, NOW) == 0);
	CHECK(cookie_load_line(&k, "h.test\tFALSE\t/\tFALSE\tsoon\tn\ty", 0, NOW) == -2);
	CHECK(cookie_load_line(&k, "h.test\tFALSE\tnoslash\tFALSE\t0\tn\ty", 0, NOW) == -2);
	CHECK(cookie_load_line(&k, "# a comment", 0, NOW) == 0);
	CHECK(cookie_load_line(&k, "", 0, NOW) == 0);
	CHECK(cookie_load_line(&k, " \r\n", 0, NOW) == 0);
	CHECK(cookie_load_line(&k, "h.test\tFALSE\t/", 0, NOW) == -2);
	CHECK(!strcmp(header(&k, "h.test", "/", 0), "empty=; x=y"));
	cookie_jar_free(&j);
	cookie_jar_free(&k);
	free(a.data);
	free(b.data);
}

static void test_bounds(void)
{
	struct cookie_jar j;
	char big[COOKIE_MAX_LEN + 16], name[64];
	int i;

	cookie_jar_init(&j);
	for (i = 0; i < COOKIE_MAX_DOMAIN + 50; i++) {
		snprintf(name, sizeof name, "n%d=v", i);
		CHECK(cookie_set(&j, name, "h.test", "/", 0, NOW) == 1);
	}
	CHECK(j.n == COOKIE_MAX_DOMAIN);
	CHECK(strstr(header(&j, "h.test", "/", 0), "n0=v;") == NULL); /* the oldest went */
	memset(big, 'x', sizeof big - 1);
	big[0] = 'b';
	big[1] = '=';
	big[sizeof big - 1] = '\0';
	CHECK(cookie_set(&j, big, "other.test", "/", 0, NOW) == 0);
	cookie_jar_free(&j);
	free(hb.data);
	hb.data = NULL;
	hb.cap = 0;
}

int main(void)
{
	RUN(test_dates);
	RUN(test_domains_and_paths);
	RUN(test_expiry_and_secure);
	RUN(test_files);
	RUN(test_bounds);
	return CHECK_DONE();
}
