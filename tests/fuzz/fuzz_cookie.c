/* Fuzz the cookie jar: each input line is a Set-Cookie value, a line of
 * a cookie file or a date; the jar stays within its bounds, and what it
 * saves loads back to the same text. */
#include "nettool/proto/cookie.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define NOW 1700000000LL

static void check_jar(const struct cookie_jar *j)
{
	struct buf a = { NULL, 0, 0 }, b = { NULL, 0, 0 }, h = { NULL, 0, 0 };
	struct cookie_jar k;
	char *line, *save;

	if (j->n > COOKIE_MAX_ALL)
		abort();
	if (cookie_header(j, &h, "www.example.com", "/a/b", 0, NOW) < 0 ||
	    cookie_save(j, &a, NOW) < 0 || buf_putc(&a, '\0') < 0)
		abort();
	if (h.len && (memchr(h.data, '\r', h.len) || memchr(h.data, '\n', h.len)))
		abort(); /* nothing that could end a header */
	cookie_jar_init(&k);
	b.len = 0;
	if (cookie_save(j, &b, NOW) < 0 || buf_putc(&b, '\0') < 0)
		abort();
	for (line = strtok_r(a.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (cookie_load_line(&k, line, 0, NOW) < 0)
			abort(); /* what it wrote, it reads */
	a.len = 0;
	if (cookie_save(&k, &a, NOW) < 0 || buf_putc(&a, '\0') < 0 || strcmp(a.data, b.data))
		abort(); /* saved, loaded, saved: the same text */
	cookie_jar_free(&k);
	free(a.data);
	free(b.data);
	free(h.data);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct cookie_jar j;
	char *text = malloc(size + 1), *line, *save;
	int64_t t;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	cookie_jar_init(&j);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		switch (line[0] & 3) {
		case 0:
			cookie_date_parse(line + 1, &t);
			break;
		case 1:
			cookie_load_line(&j, line + 1, 0, NOW);
			break;
		default:
			cookie_set(&j, line + 1, "www.example.com", "/a/b", line[0] & 4, NOW);
		}
	}
	check_jar(&j);
	cookie_jar_free(&j);
	free(text);
	return 0;
}
