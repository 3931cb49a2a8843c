#include "check.h"
#include "nettool/proto/multipart.h"
#include "nettool/base/util.h"

#include <string.h>

/* Parse body fed step bytes at a time; out gets "name[filename]=data|". */
static int parse_all(const char *boundary, const char *body, size_t len, size_t step,
		     char *out, size_t olen)
{
	struct mp_parser p;
	size_t fed = 0, o = 0;
	int done = 0;

	mp_parser_init(&p, boundary);
	out[0] = '\0';
	while (fed < len && !done) {
		size_t n = len - fed < step ? len - fed : step, off = 0;

		while (off < n) {
			size_t used = 0;
			enum mp_event ev = mp_parse(&p, body + fed + off, n - off, &used);

			off += used;
			if (ev == MP_ERROR)
				return -1;
			if (ev == MP_PART)
				o += (size_t)snprintf(out + o, olen - o, "%s%s%s%s=", p.name,
						      p.has_filename ? "[" : "", p.filename,
						      p.has_filename ? "]" : "");
			if (ev == MP_DATA && o + p.ev_len < olen) {
				memcpy(out + o, p.ev_data, p.ev_len);
				o += p.ev_len;
				out[o] = '\0';
			}
			if (ev == MP_PART_END)
				o += (size_t)snprintf(out + o, olen - o, "|");
			if (ev == MP_DONE) {
				done = 1;
				break;
			}
			if (ev == MP_NEED)
				break;
		}
		fed += n;
	}
	return done ? 0 : 1;
}

static void build_and_parse(void)
{
	char a1[] = "greeting=hello", a2[] = "up=@/tmp/x.bin;type=text/plain",
	     a3[] = "q\"x=<notes.txt", boundary[MP_BOUNDARY_LEN + 1], err[NT_ERR_LEN], out[512];
	const char *content[3] = { "hello", "\r\n--nettool-0\r\n--\r\r\n", "" };
	unsigned char rnd[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	struct mp_part parts[3];
	struct buf body = { NULL, 0, 0 };
	uint64_t total;
	int ff, i;
	size_t step;

	CHECK(mp_parse_arg(a1, &parts[0], &ff, err) == 0 && ff == 0);
	CHECK(!strcmp(parts[0].name, "greeting") && parts[0].len == 5);
	CHECK(mp_parse_arg(a2, &parts[1], &ff, err) == 0 && ff == 1);
	CHECK(!strcmp(parts[1].path, "/tmp/x.bin") && !strcmp(parts[1].filename, "x.bin") &&
	      !strcmp(parts[1].type, "text/plain"));
	CHECK(mp_parse_arg(a3, &parts[2], &ff, err) == 0 && ff == 2 && !parts[2].filename);
	mp_boundary(rnd, boundary);
	CHECK(!strcmp(boundary, "nettool-000102030405060708090a0b0c0d0e0f"));
	for (i = 0; i < 3; i++) {
		parts[i].data = (char *)content[i];
		parts[i].size = parts[i].len = strlen(content[i]);
	}
	CHECK(mp_build(parts, 3, boundary, &total) == 0);
	for (i = 0; i < 3; i++) {
		buf_append(&body, parts[i].head.data, parts[i].head.len);
		buf_append(&body, parts[i].data, parts[i].len);
		buf_append(&body, "\r\n", 2);
		buf_free(&parts[i].head);
	}
	CHECK(mp_close(&body, boundary) == 0);
	CHECK(total == body.len);
	CHECK(strstr(body.data, "name=\"q%22x\"") != NULL);
	for (step = 1; step <= body.len; step += step < 8 ? 1 : 97) {
		CHECK(parse_all(boundary, body.data, body.len, step, out, sizeof out) == 0);
		CHECK(!strcmp(out, "greeting=hello|up[x.bin]=\r\n--nettool-0\r\n--\r\r\n|q%22x=|"));
	}
	buf_free(&body);
}

static void arg_errors(void)
{
	char a[] = "novalue", b[] = "=x", c[] = "f=@", d[] = "f=@a;size=3", err[NT_ERR_LEN];
	struct mp_part p;
	int ff;

	CHECK(mp_parse_arg(a, &p, &ff, err) < 0);
	CHECK(mp_parse_arg(b, &p, &ff, err) < 0);
	CHECK(mp_parse_arg(c, &p, &ff, err) < 0);
	CHECK(mp_parse_arg(d, &p, &ff, err) < 0);
	CHECK(mp_collides("abc", "xxabxabcx", 9) && !mp_collides("abc", "xxabxab", 7));
}

static void browser_body(void)
{
	const char *b = "preamble\r\n------WebKitFormBoundaryAb\r\n"
			"Content-Disposition: form-data; name=\"file\"; filename=\"C:\\a %22b%22.txt\"\r\n"
			"Content-Type: text/plain\r\n\r\nline1\nline2\r\n"
			"------WebKitFormBoundaryAb  \r\n"
			"Content-Disposition: form-data; name=file; filename=\"\"\r\n\r\n\r\n"
			"------WebKitFormBoundaryAb--\r\nepilogue";
	char boundary[80], out[256];

	CHECK(mp_content_boundary("multipart/form-data; boundary=----WebKitFormBoundaryAb",
				  boundary, sizeof boundary) == 0);
	CHECK(!strcmp(boundary, "----WebKitFormBoundaryAb"));
	CHECK(mp_content_boundary("multipart/form-data; charset=x; boundary=\"a b\"", boundary,
				  sizeof boundary) == 0 && !strcmp(boundary, "a b"));
	CHECK(mp_content_boundary("multipart/mixed; boundary=x", boundary, sizeof boundary) < 0);
	CHECK(mp_content_boundary("multipart/form-data", boundary, sizeof boundary) < 0);
	CHECK(mp_content_boundary("multipart/form-data; boundary=a\r", boundary, sizeof boundary) < 0);
	CHECK(parse_all("----WebKitFormBoundaryAb", b, strlen(b), 3, out, sizeof out) == 0);
	CHECK(!strcmp(out, "file[C:\\a %22b%22.txt]=line1\nline2|file[]=|"));
	/* cut short: no close delimiter */
	CHECK(parse_all("----WebKitFormBoundaryAb", b, 120, 7, out, sizeof out) == 1);
	/* a part without a name */
	CHECK(parse_all("x", "--x\r\nContent-Disposition: form-data\r\n\r\nA\r\n--x--", 40, 5, out,
			sizeof out) == -1);
}

int main(void)
{
	RUN(build_and_parse);
	RUN(arg_errors);
	RUN(browser_body);
	return CHECK_DONE();
}
