/* curl's URL globbing: sets, ranges, order, #N names, bounds. */
#include "check.h"
#include "nettool/proto/urlglob.h"

#include <string.h>

static char all[4096];

/* Every URL of s, joined by spaces; -1 when it does not parse. */
static int expand(const char *s)
{
	struct urlglob g;
	char err[256], u[512];
	uint64_t i;

	all[0] = '\0';
	if (ug_parse(&g, s, err) < 0)
		return -1;
	for (i = 0; i < g.total; i++) {
		CHECK(ug_url(&g, i, u, sizeof u) == 0);
		strcat(all, i ? " " : "");
		strcat(all, u);
	}
	ug_free(&g);
	return 0;
}

static void test_patterns(void)
{
	CHECK(expand("http://h/plain") == 0 && !strcmp(all, "http://h/plain"));
	CHECK(expand("http://h/{a,b}/[1-3]") == 0 &&
	      !strcmp(all, "http://h/a/1 http://h/a/2 http://h/a/3 http://h/b/1 http://h/b/2 http://h/b/3"));
	CHECK(expand("x[08-11]") == 0 && !strcmp(all, "x08 x09 x10 x11"));
	CHECK(expand("x[0-20:10]y") == 0 && !strcmp(all, "x0y x10y x20y"));
	CHECK(expand("[a-c]") == 0 && !strcmp(all, "a b c"));
	CHECK(expand("[A-E:2]") == 0 && !strcmp(all, "A C E"));
	CHECK(expand("{,x,}") == 0 && !strcmp(all, " x "));
	CHECK(expand("a\\[1-2\\]\\{b\\}") == 0 && !strcmp(all, "a[1-2]{b}"));
	CHECK(expand("{a\\,b,c}") == 0 && !strcmp(all, "a,b c"));
	CHECK(expand("http://[::1]:8080/[1-2]") == 0 &&
	      !strcmp(all, "http://[::1]:8080/1 http://[::1]:8080/2"));
	CHECK(expand("http://[fe80::1%25lo]/") == 0 && !strcmp(all, "http://[fe80::1%25lo]/"));
}

static void test_bad(void)
{
	CHECK(expand("x{a,b") < 0);
	CHECK(expand("x[1-2") < 0);
	CHECK(expand("x[2-1]") < 0);
	CHECK(expand("x[1-]") < 0);
	CHECK(expand("x[a-5]") < 0);
	CHECK(expand("x[a-Z]") < 0);
	CHECK(expand("x[1-5:0]") < 0);
	CHECK(expand("x[1-5:x]") < 0);
	CHECK(expand("x[]") < 0);
	CHECK(expand("x{a,{b}}") < 0);
	CHECK(expand("[1-2][1-2][1-2][1-2][1-2][1-2][1-2][1-2][1-2][1-2]") < 0); /* ten */
	CHECK(expand("[0-99999][0-99999][0-99999]") < 0); /* past the URL bound */
}

static void test_names(void)
{
	struct urlglob g;
	char err[256], out[256];

	CHECK(ug_parse(&g, "http://h/{a,b}/[01-12]", err) == 0);
	CHECK(g.total == 24 && g.npatterns == 2);
	CHECK(ug_name(&g, 13, "f_#1_#2.txt", out, sizeof out) == 0 && !strcmp(out, "f_b_02.txt"));
	CHECK(ug_name(&g, 0, "#3#x##1#", out, sizeof out) == 0 && !strcmp(out, "#3#x#a#"));
	CHECK(ug_name(&g, 0, "long", out, 4) < 0);
	CHECK(ug_url(&g, 23, out, sizeof out) == 0 && !strcmp(out, "http://h/b/12"));
	CHECK(ug_url(&g, 23, out, 10) < 0);
	ug_free(&g);
}

int main(void)
{
	RUN(test_patterns);
	RUN(test_bad);
	RUN(test_names);
	return CHECK_DONE();
}
