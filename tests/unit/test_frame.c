#include "check.h"
#include "nettool/proto/frame.h"
#include "nettool/base/util.h"

#include <string.h>

/* Feed data one byte at a time; collect payloads joined by '|'. */
static int feed_split(enum frame_mode m, const char *data, size_t len,
		      size_t step, char *out, int *last)
{
	struct frame_decoder d;
	char err[NT_ERR_LEN];
	size_t have = 0, start = 0, fed, o = 0;
	int frames = 0;

	frame_decoder_init(&d, m, 100);
	out[0] = '\0';
	for (fed = 0; fed < len || have > start;) {
		const unsigned char *p;
		size_t plen, used;
		int rc;

		if (fed < len) {
			fed += step;
			if (fed > len)
				fed = len;
		}
		have = fed;
		for (;;) {
			rc = frame_decode(&d, (const unsigned char *)data + start,
					  have - start, &p, &plen, &used, err);
			if (rc != 1)
				break;
			memcpy(out + o, p, plen);
			o += plen;
			out[o++] = '|';
			out[o] = '\0';
			start += used;
			frames++;
		}
		if (rc < 0) {
			*last = rc;
			return frames;
		}
		if (fed == len) {
			*last = frame_finish(&d, have - start, err);
			return frames;
		}
	}
	*last = 0;
	return frames;
}

static void decode_any_split(void)
{
	static const struct {
		enum frame_mode m;
		const char *data;
		size_t len;
	} cases[] = {
#define CASE(m, s) { m, s, sizeof s - 1 }
		CASE(FRAME_LINE, "ab\ncd\r\n\nef\n"),
		CASE(FRAME_LEN16, "\0\2ab\0\2cd\0\0\0\2ef"),
		CASE(FRAME_LEN32, "\0\0\0\2ab\0\0\0\2cd\0\0\0\0\0\0\0\2ef"),
		CASE(FRAME_NETSTRING, "2:ab,2:cd,0:,2:ef,"),
#undef CASE
	};
	size_t i, step;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		for (step = 1; step <= cases[i].len; step++) {
			char out[256];
			int last = 99;
			int n = feed_split(cases[i].m, cases[i].data, cases[i].len, step,
					   out, &last);

			CHECK(n == 4 && last == 0 && !strcmp(out, "ab|cd||ef|"));
		}
}

static void decode_errors(void)
{
	char out[256];
	int last;

	CHECK(feed_split(FRAME_NETSTRING, "02:ab,", 6, 1, out, &last) == 0 &&
	      last == FRAME_E_SYNTAX);
	CHECK(feed_split(FRAME_NETSTRING, "2:abc", 5, 5, out, &last) == 0 &&
	      last == FRAME_E_SYNTAX);
	CHECK(feed_split(FRAME_NETSTRING, "x:", 2, 1, out, &last) == 0 &&
	      last == FRAME_E_SYNTAX);
	CHECK(feed_split(FRAME_NETSTRING, "2a", 2, 1, out, &last) == 0 &&
	      last == FRAME_E_SYNTAX);
	CHECK(feed_split(FRAME_NETSTRING, "101:", 4, 1, out, &last) == 0 &&
	      last == FRAME_E_SIZE);
	CHECK(feed_split(FRAME_LEN32, "\0\0\1\0", 4, 1, out, &last) == 0 &&
	      last == FRAME_E_SIZE);
	CHECK(feed_split(FRAME_LEN16, "\0\5ab", 4, 1, out, &last) == 0 &&
	      last == FRAME_E_EOF);
	CHECK(feed_split(FRAME_LINE, "ab\ncd", 5, 2, out, &last) == 1 &&
	      last == FRAME_E_EOF && !strcmp(out, "ab|"));
	{
		char longline[200];

		memset(longline, 'x', sizeof longline);
		CHECK(feed_split(FRAME_LINE, longline, sizeof longline, 7, out, &last) == 0 &&
		      last == FRAME_E_SIZE);
	}
}

static void error_names_offset(void)
{
	struct frame_decoder d;
	const unsigned char *p;
	size_t plen, used;
	char err[NT_ERR_LEN];
	const unsigned char data[] = "2:ab,3:abcX";

	frame_decoder_init(&d, FRAME_NETSTRING, 100);
	CHECK(frame_decode(&d, data, 11, &p, &plen, &used, err) == 1 && used == 5);
	CHECK(frame_decode(&d, data + 5, 6, &p, &plen, &used, err) == FRAME_E_SYNTAX);
	CHECK(strstr(err, "byte 10") != NULL);
}

static void encode_modes(void)
{
	struct buf b = { NULL, 0, 0 };
	char err[NT_ERR_LEN];
	char big[70000];

	CHECK(frame_encode(FRAME_NETSTRING, "hello", 5, 100, &b, err) == 0);
	CHECK(b.len == 8 && !memcmp(b.data, "5:hello,", 8));
	b.len = 0;
	CHECK(frame_encode(FRAME_LEN16, "hi", 2, 100, &b, err) == 0);
	CHECK(b.len == 4 && !memcmp(b.data, "\0\2hi", 4));
	b.len = 0;
	CHECK(frame_encode(FRAME_LEN32, "hi", 2, 100, &b, err) == 0);
	CHECK(b.len == 6 && !memcmp(b.data, "\0\0\0\2hi", 6));
	CHECK(frame_encode(FRAME_LINE, "a\nb", 3, 100, &b, err) < 0);
	CHECK(frame_encode(FRAME_LINE, "abc", 3, 2, &b, err) < 0);
	memset(big, 'x', sizeof big);
	CHECK(frame_encode(FRAME_LEN16, big, sizeof big, sizeof big, &b, err) < 0);
	buf_free(&b);
}

int main(void)
{
	RUN(decode_any_split);
	RUN(decode_errors);
	RUN(error_names_offset);
	RUN(encode_modes);
	return CHECK_DONE();
}
