/* --write-out's formatter: streams, escapes, variables, JSON. */
#include "check.h"
#include "nettool/proto/writeout.h"

#include <string.h>

static struct buf outs[4];
static char last_file[256];
static int unknowns;

static void emit(void *ctx, enum wo_stream s, const char *file, const char *p, size_t n)
{
	(void)ctx;
	buf_append(&outs[s], p, n);
	if (file && *file)
		snprintf(last_file, sizeof last_file, "%s", file);
}

static void unknown(void *ctx, const char *name, size_t n)
{
	(void)ctx;
	(void)name;
	(void)n;
	unknowns++;
}

static const char *render(const char *fmt, const struct wo_data *d)
{
	struct wo_sink s = { NULL, emit, unknown };
	int i;

	for (i = 0; i < 4; i++)
		outs[i].len = 0;
	wo_render(fmt, d, &s);
	buf_putc(&outs[WO_STDOUT], '\0');
	return outs[WO_STDOUT].data;
}

static void test_plain_variables(void)
{
	struct wo_data d;

	memset(&d, 0, sizeof d);
	d.http_minor = -1;
	CHECK(!strcmp(render("%{http_code} %{http_version}", &d), "000 0"));
	d.http_code = 204;
	d.http_minor = 1;
	d.time_total = 1.5;
	d.size_download = 3000;
	d.url = "http://h/";
	CHECK(!strcmp(render("%{response_code}|%{http_version}|%{time_total}|%{speed_download}|%{url}|"
			     "%{redirect_url}", &d), "204|1.1|1.500000|2000|http://h/|"));
	d.http_minor = 0;
	CHECK(!strcmp(render("%{http_version}", &d), "1"));
}

static void test_escapes_and_unknown(void)
{
	struct wo_data d;

	memset(&d, 0, sizeof d);
	unknowns = 0;
	CHECK(!strcmp(render("a\\tb\\nc\\\\d%%e%{nosuch}f%zz{x}g%", &d), "a\tb\nc\\d%efg%"));
	CHECK(unknowns == 2);
	CHECK(!strcmp(render("%{unterminated", &d), "%{unterminated"));
	CHECK(!strcmp(render("\\q", &d), "\\q"));
}

static void test_streams(void)
{
	struct wo_data d;

	memset(&d, 0, sizeof d);
	render("a%{stderr}b%output{>>f.txt}c%{stdout}d", &d);
	CHECK(outs[WO_STDOUT].len == 3 && !memcmp(outs[WO_STDOUT].data, "ad", 2));
	CHECK(outs[WO_STDERR].len == 1 && outs[WO_STDERR].data[0] == 'b');
	CHECK(outs[WO_FILE_APPEND].len == 1 && !strcmp(last_file, "f.txt"));
}

static void test_headers_and_json(void)
{
	struct http_field f[3] = { { "Content-Type", "text/plain" }, { "X-A", "1" },
				   { "x-a", "2\"q" } };
	struct wo_data d;

	memset(&d, 0, sizeof d);
	d.fields = f;
	d.nfields = 3;
	d.errormsg = "a\nb";
	CHECK(!strcmp(render("%header{content-type}|%header{x-a}|%header{none}", &d),
		      "text/plain|1|"));
	CHECK(!strcmp(render("%{header_json}", &d),
		      "{\"content-type\":[\"text/plain\"],\n\"x-a\":[\"1\",\"2\\\"q\"]\n}"));
	CHECK(strstr(render("%{json}", &d), "\"errormsg\":\"a\\nb\",\"exitcode\":0,"));
	CHECK(strstr(render("%{json}", &d), "\"redirect_url\":null"));
	d.nfields = 0;
	CHECK(!strcmp(render("%{header_json}", &d), "{}"));
}

int main(void)
{
	RUN(test_plain_variables);
	RUN(test_escapes_and_unknown);
	RUN(test_streams);
	RUN(test_headers_and_json);
	return CHECK_DONE();
}
