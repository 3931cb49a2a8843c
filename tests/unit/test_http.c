#include "check.h"
#include "nettool/base/buf.h"
#include "nettool/http/fcache.h"
#include "nettool/proto/http.h"
#include "nettool/proto/url.h"
#include "nettool/base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *name, size_t *n)
{
	char path[256];
	FILE *f;
	char *d = malloc(1 << 17);

	snprintf(path, sizeof path, "tests/data/http/%s", name);
	f = fopen(path, "rb");
	if (!f || !d) {
		printf("#   cannot read %s\n", path);
		free(d);
		if (f)
			fclose(f);
		return NULL;
	}
	*n = fread(d, 1, 1 << 17, f);
	fclose(f);
	return d;
}

/* Parse a canned message fed in pieces of step bytes; returns the body
 * joined, the error code in *error (0 when the message completed). */
static int run(const char *name, int request, size_t step, char *body, int *error,
	       struct http_parser *p)
{
	size_t n, off = 0, blen = 0;
	char *d = slurp(name, &n);
	int done = 0;

	*error = -1;
	if (!d)
		return -1;
	http_parser_init(p, request);
	while (!done) {
		size_t avail = off + step > n ? n - off : step, used = 0, pos = 0;
		enum http_event ev;

		do {
			ev = avail ? http_parse(p, d + off + pos, avail - pos, &used)
				   : http_parse_eof(p);
			pos += used;
			if (ev == HTTP_EV_BODY) {
				memcpy(body + blen, p->ev_data, p->ev_len);
				blen += p->ev_len;
			} else if (ev == HTTP_EV_DONE) {
				*error = 0;
				done = 1;
			} else if (ev == HTTP_EV_ERROR) {
				*error = (int)p->error;
				done = 1;
			}
		} while (!done && avail && pos < avail);
		if (!avail)
			break;
		off += avail;
	}
	body[blen] = '\0';
	free(d);
	return 0;
}

static void canned_responses(void)
{
	static const struct {
		const char *file;
		int error;
		const char *body;
	} cases[] = {
		{ "cl.resp", 0, "hello" },
		{ "chunked.resp", 0, "hello world" },
		{ "interim.resp", 0, "ok" },
		{ "lf-close.resp", 0, "body until close" },
		{ "204.resp", 0, "" },
		{ "cl-list-same.resp", 0, "hello" },
		{ "cl-te.resp", HTTP_E_LENGTH, "" },
		{ "cl-cl.resp", HTTP_E_LENGTH, "" },
		{ "fold.resp", HTTP_E_FOLD, "" },
		{ "chunk-huge.resp", HTTP_E_CHUNK, "" },
		{ "chunk-negative.resp", HTTP_E_CHUNK, "" },
		{ "chunk-nocrlf.resp", HTTP_E_CHUNK, "abc" },
		{ "chunk-ext.resp", 0, "abc" },
		{ "chunk-ext-empty.resp", HTTP_E_CHUNK, "" },
		{ "chunk-trailing-space.resp", HTTP_E_CHUNK, "" },
		{ "cl-empty.resp", HTTP_E_LENGTH, "" },
		{ "version.resp", HTTP_E_VERSION, "" },
		{ "status.resp", HTTP_E_SYNTAX, "" },
		{ "badname.resp", HTTP_E_SYNTAX, "" },
		{ "longline.resp", HTTP_E_LINE, "" },
		{ "many.resp", HTTP_E_COUNT, "" },
		{ "bighead.resp", HTTP_E_HEAD, "" },
	};
	static struct http_parser p;
	static char body[1 << 17];
	size_t i, step;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		for (step = 1; step <= 4096; step *= 8) {
			int error;

			CHECK(run(cases[i].file, 0, step, body, &error, &p) == 0);
			if (error != cases[i].error || strcmp(body, cases[i].body))
				printf("#   %s step %zu: error %d body '%s'\n", cases[i].file, step,
				       error, body);
			CHECK(error == cases[i].error && !strcmp(body, cases[i].body));
		}
	CHECK(run("cl.resp", 0, 3, body, &(int){ 0 }, &p) == 0);
	CHECK(p.status == 200 && !strcmp(http_field(&p, "x-a"), "b"));
}

static void canned_requests(void)
{
	static struct http_parser p;
	static char body[1 << 17];
	int error;

	CHECK(run("get.req", 1, 5, body, &error, &p) == 0 && error == 0);
	CHECK(!strcmp(p.method, "GET") && !strcmp(p.target, "/index.html?x=1") && p.minor == 1);
	CHECK(run("post.req", 1, 2, body, &error, &p) == 0 && error == 0 && !strcmp(body, "abc"));
	CHECK(run("leading-crlf.req", 1, 1, body, &error, &p) == 0 && error == 0);
	CHECK(run("noversion.req", 1, 64, body, &error, &p) == 0 && error == HTTP_E_SYNTAX);
	CHECK(run("v2.req", 1, 64, body, &error, &p) == 0 && error == HTTP_E_VERSION);
}

static void truncated_body_names_remaining(void)
{
	static struct http_parser p;
	const char *m = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
	size_t used;

	http_parser_init(&p, 0);
	CHECK(http_parse(&p, m, strlen(m), &used) == HTTP_EV_HEAD);
	CHECK(http_parse(&p, m + used, strlen(m) - used, &used) == HTTP_EV_BODY);
	CHECK(http_parse_eof(&p) == HTTP_EV_ERROR && p.error == HTTP_E_EOF);
	CHECK(strstr(p.err, "transfer closed with 7 bytes remaining") != NULL);
}

static void urls(void)
{
	struct url u;
	char err[NT_ERR_LEN], out[URL_MAX], host[300];

	CHECK(url_parse("http://user:pw@[::1]:8080/a%20b?q#frag", &u, err) == 0);
	CHECK(!strcmp(u.host, "::1") && u.ipv6 && u.port == 8080 && !strcmp(u.userinfo, "user:pw"));
	CHECK(!strcmp(u.target, "/a%20b?q"));
	url_host_header(&u, host, sizeof host);
	CHECK(!strcmp(host, "[::1]:8080"));
	CHECK(url_parse("HTTP://Example.com", &u, err) == 0 && !strcmp(u.target, "/") &&
	      u.port == 80 && !strcmp(u.scheme, "http"));
	url_host_header(&u, host, sizeof host);
	CHECK(!strcmp(host, "Example.com"));
	CHECK(url_parse("http://h?x=1", &u, err) == 0 && !strcmp(u.target, "/?x=1"));
	CHECK(url_parse("http://h/a b", &u, err) < 0);
	CHECK(url_parse("http://h/a\r\nX: y", &u, err) < 0);
	CHECK(url_parse("http://h:99999/", &u, err) < 0);
	CHECK(url_parse("http://[::1/", &u, err) < 0);
	CHECK(url_parse("h/path", &u, err) < 0);
	CHECK(url_parse("http:///x", &u, err) < 0);
	/* -O's file name */
	{
		static const char *names[][2] = {
			{ "http://h/a/b.txt?q=1", "b.txt" }, { "http://h/", "index.html" },
			{ "http://h/dir/", "index.html" }, { "http://h/a%20b", "a b" },
			{ "http://h/x/%2e%2e", "index.html" }, { "http://h/a%2Fb", "index.html" },
			{ "http://h/%zz", "index.html" },
		};
		size_t i;

		for (i = 0; i < sizeof names / sizeof names[0]; i++) {
			CHECK(url_parse(names[i][0], &u, err) == 0);
			url_file_name(&u, out, sizeof out);
			CHECK(!strcmp(out, names[i][1]));
		}
	}
	/* RFC 3986 section 5.4 examples, base http://a/b/c/d;p?q */
	{
		static const char *ex[][2] = {
			{ "g", "http://a/b/c/g" }, { "./g", "http://a/b/c/g" },
			{ "g/", "http://a/b/c/g/" }, { "/g", "http://a/g" },
			{ "//g", "http://g" }, { "?y", "http://a/b/c/d;p?y" },
			{ "g?y", "http://a/b/c/g?y" }, { "#s", "http://a/b/c/d;p?q" },
			{ ";x", "http://a/b/c/;x" }, { "", "http://a/b/c/d;p?q" },
			{ ".", "http://a/b/c/" }, { "./", "http://a/b/c/" },
			{ "..", "http://a/b/" }, { "../", "http://a/b/" },
			{ "../g", "http://a/b/g" }, { "../..", "http://a/" },
			{ "../../g", "http://a/g" }, { "../../../g", "http://a/g" },
			{ "/./g", "http://a/g" }, { "/../g", "http://a/g" },
			{ "g.", "http://a/b/c/g." }, { "..g", "http://a/b/c/..g" },
			{ "./../g", "http://a/b/g" }, { "g/./h", "http://a/b/c/g/h" },
			{ "g/../h", "http://a/b/c/h" }, { "g;x=1/../y", "http://a/b/c/y" },
			{ "http://x/y/../z", "http://x/z" },
		};
		size_t i;

		for (i = 0; i < sizeof ex / sizeof ex[0]; i++) {
			int ok = url_resolve("http://a/b/c/d;p?q", ex[i][0], out, sizeof out, err) == 0 &&
				 !strcmp(out, ex[i][1]);

			if (!ok)
				printf("#   resolve '%s': got '%s' want '%s'\n", ex[i][0], out, ex[i][1]);
			CHECK(ok);
		}
	}
}

static void reasons_and_dates(void)
{
	char d[40];

	CHECK(!strcmp(http_reason(200), "OK"));
	CHECK(!strcmp(http_reason(416), "Range Not Satisfiable"));
	CHECK(!strcmp(http_reason(503), "Service Unavailable"));
	CHECK(!strcmp(http_reason(299), "Unknown"));
	/* RFC 9110's example date, and both ways across leap years */
	CHECK(http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777);
	http_date_format(784111777, d, sizeof d);
	CHECK(!strcmp(d, "Sun, 06 Nov 1994 08:49:37 GMT"));
	http_date_format(951782400, d, sizeof d); /* 2000-02-29 */
	CHECK(!strcmp(d, "Tue, 29 Feb 2000 00:00:00 GMT"));
	CHECK(http_date_parse(d) == 951782400);
	CHECK(http_date_parse("Thu, 01 Jan 1970 00:00:00 GMT") == 0);
	CHECK(http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT") == -1);
	CHECK(http_date_parse("Sun, 06 Xyz 1994 08:49:37 GMT") == -1);
	CHECK(http_date_parse("Sun, 06 No 1994 08:49:37 GMT") == -1);
	CHECK(http_date_parse("") == -1);
}

static void tokens_and_etags(void)
{
	CHECK(http_has_token("keep-alive", "keep-alive"));
	CHECK(http_has_token("TE, Close", "close"));
	CHECK(http_has_token(" foo ,close", "close"));
	CHECK(!http_has_token("closed", "close"));
	CHECK(!http_has_token("", "close"));
	CHECK(!http_has_token(NULL, "close"));
	CHECK(http_etag_match("\"a\"", "\"a\""));
	CHECK(http_etag_match("W/\"a\"", "\"a\""));
	CHECK(http_etag_match("\"x\", \"a\"", "\"a\""));
	CHECK(http_etag_match("*", "\"a\""));
	CHECK(!http_etag_match("\"ab\"", "\"a\""));
	CHECK(!http_etag_match("\"a", "\"a\""));
}

static void ranges(void)
{
	uint64_t a = 7, b = 7;

	CHECK(http_parse_range("bytes=0-3", 10, &a, &b) == 1 && a == 0 && b == 3);
	CHECK(http_parse_range("bytes=4-", 10, &a, &b) == 1 && a == 4 && b == 9);
	CHECK(http_parse_range("bytes=-3", 10, &a, &b) == 1 && a == 7 && b == 9);
	CHECK(http_parse_range("bytes=-30", 10, &a, &b) == 1 && a == 0 && b == 9);
	CHECK(http_parse_range("bytes=2-99999999999999999999999", 10, &a, &b) == 1 && b == 9);
	CHECK(http_parse_range("bytes=10-", 10, &a, &b) == -1);
	CHECK(http_parse_range("bytes=99999999999999999999999-", 10, &a, &b) == -1);
	CHECK(http_parse_range("bytes=5-4", 10, &a, &b) == -1);
	CHECK(http_parse_range("bytes=-0", 10, &a, &b) == -1);
	CHECK(http_parse_range("bytes=-5", 0, &a, &b) == -1);
	CHECK(http_parse_range("bytes=0-1,3-4", 10, &a, &b) == 0);
	CHECK(http_parse_range("items=0-1", 10, &a, &b) == 0);
	CHECK(http_parse_range("bytes=-", 10, &a, &b) == 0);
	CHECK(http_parse_range("bytes=1-2x", 10, &a, &b) == 0);
}

static void escapes(void)
{
	struct buf b = { NULL, 0, 0 };
	char big[600];

	http_html_escape(&b, "<a href=\"x\">&'</a>");
	buf_putc(&b, '\0');
	CHECK(!strcmp(b.data, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"));
	b.len = 0;
	url_escape(&b, "a b/%~\xc3\xa9");
	buf_putc(&b, '\0');
	CHECK(!strcmp(b.data, "a%20b%2F%25~%C3%A9"));
	b.len = 0;
	url_escape_form(&b, "a b+\0c&", 7);
	buf_putc(&b, '\0');
	CHECK(!strcmp(b.data, "a+b%2B%00c%26"));
	b.len = 0;
	url_escape_path(&b, "/dir x/f?#");
	buf_putc(&b, '\0');
	CHECK(!strcmp(b.data, "/dir%20x/f%3F%23"));
	/* a segment longer than a file name still comes out whole */
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	b.len = 0;
	url_escape_path(&b, big);
	CHECK(b.len == sizeof big - 1);
	buf_free(&b);
}

/* url_map_path: fs is root, then "/SEG" for each segment, never above. */
static int mapped(const char *target, const char *want_fs, const char *want_url, int want_slash)
{
	char fs[512], up[512];
	int slash = -1, rc = url_map_path("/srv/www", target, up, sizeof up, fs, sizeof fs, &slash);

	if (rc)
		return rc;
	if (strcmp(fs, want_fs) || strcmp(up, want_url) || slash != want_slash) {
		printf("#   %s: fs '%s' url '%s' slash %d\n", target, fs, up, slash);
		return -1;
	}
	return 0;
}

static void map_paths(void)
{
	char fs[64], up[64];
	int slash;

	CHECK(mapped("/", "/srv/www", "/", 1) == 0);
	CHECK(mapped("/a/b.txt?x=1#f", "/srv/www/a/b.txt", "/a/b.txt", 0) == 0);
	CHECK(mapped("/a/", "/srv/www/a", "/a/", 1) == 0);
	CHECK(mapped("/a/./b/../c", "/srv/www/a/c", "/a/c", 0) == 0);
	CHECK(mapped("//a///b", "/srv/www/a/b", "/a/b", 0) == 0);
	CHECK(mapped("/%61%20b", "/srv/www/a b", "/a b", 0) == 0);
	CHECK(mapped("/a/%2e%2e/b", "/srv/www/b", "/b", 0) == 0);
	CHECK(mapped("http://host/x", "/srv/www/x", "/x", 0) == 0);
	CHECK(mapped("HTTP://host", "/srv/www", "/", 1) == 0);
	CHECK(mapped("/..", "", "", 0) == 400);
	CHECK(mapped("/a/../..", "", "", 0) == 400);
	CHECK(mapped("/%2e%2e/etc/passwd", "", "", 0) == 400);
	CHECK(mapped("/a%2f..%2f..%2fetc", "", "", 0) == 404);
	CHECK(mapped("/a%00.txt", "", "", 0) == 400);
	CHECK(mapped("/a%zz", "", "", 0) == 400);
	CHECK(mapped("a/b", "", "", 0) == 400);
	CHECK(mapped("*", "", "", 0) == 400);
	/* what does not fit is 414, never a cut path */
	CHECK(url_map_path("/srv/www", "/0123456789/0123456789/0123456789/0123456789/0123456789/x",
			   up, sizeof up, fs, sizeof fs, &slash) == 414);
	CHECK(url_map_path("/srv/www", "/", up, sizeof up, fs, 8, &slash) == 414);
}

static void types_and_validators(void)
{
	struct stat st;
	char etag[64], etag2[64], lm[40];

	CHECK(!strcmp(fcache_mime("/r/index.html"), "text/html; charset=utf-8"));
	CHECK(!strcmp(fcache_mime("/r/A.PNG"), "image/png"));
	CHECK(!strcmp(fcache_mime("/r/archive.tar.gz"), "application/gzip"));
	CHECK(!strcmp(fcache_mime("/r.d/README"), "application/octet-stream"));
	CHECK(!strcmp(fcache_mime("/r/.html/x"), "application/octet-stream"));
	memset(&st, 0, sizeof st);
	st.st_ino = 0x1f;
	st.st_size = 1024;
	st.st_mtim.tv_sec = 784111777;
	st.st_mtim.tv_nsec = 5;
	fcache_validators(&st, etag, sizeof etag, lm, sizeof lm);
	CHECK(!strcmp(lm, "Sun, 06 Nov 1994 08:49:37 GMT"));
	CHECK(!strcmp(etag, "\"1f-ae1b981bc490a05-400\""));
	st.st_mtim.tv_nsec = 6; /* the same second, another file: another tag */
	fcache_validators(&st, etag2, sizeof etag2, lm, sizeof lm);
	CHECK(strcmp(etag, etag2));
}

static void body_pieces(void)
{
	struct buf b = { NULL, 0, 0 };

	http_body_piece(&b, "hello", 5, 1, 0);
	http_body_piece(&b, "", 0, 1, 0);
	http_body_piece(&b, "0123456789abcdefX", 17, 1, 1);
	buf_putc(&b, '\0');
	CHECK(!strcmp(b.data, "5\r\nhello\r\n11\r\n0123456789abcdefX\r\n0\r\n\r\n"));
	b.len = 0;
	http_body_piece(&b, "as is", 5, 0, 1);
	CHECK(b.len == 5 && !memcmp(b.data, "as is", 5));
	buf_free(&b);
}

int main(void)
{
	RUN(body_pieces);
	RUN(types_and_validators);
	RUN(reasons_and_dates);
	RUN(tokens_and_etags);
	RUN(ranges);
	RUN(escapes);
	RUN(map_paths);
	RUN(canned_responses);
	RUN(canned_requests);
	RUN(truncated_body_names_remaining);
	RUN(urls);
	return CHECK_DONE();
}
