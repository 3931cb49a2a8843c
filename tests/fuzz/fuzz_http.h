/* Shared by the HTTP fuzz targets: parse data whole and in pieces of
 * step bytes; both must give the same body and outcome. */
#include "nettool/proto/http.h"

#include <stdlib.h>
#include <string.h>

struct outcome {
	unsigned long long body_sum, body_len;
	int error, status;
};

static void parse_in_steps(const unsigned char *data, size_t size, int request, size_t step,
			   struct outcome *o)
{
	static struct http_parser p;
	size_t off = 0;

	memset(o, 0, sizeof *o);
	o->error = -1;
	http_parser_init(&p, request);
	for (;;) {
		size_t avail = off + step > size ? size - off : step, pos = 0, used;
		enum http_event ev;

		do {
			ev = avail ? http_parse(&p, (const char *)data + off + pos, avail - pos, &used)
				   : http_parse_eof(&p);
			pos += used;
			if (ev == HTTP_EV_BODY) {
				size_t k;

				if (p.ev_data < (const char *)data || p.ev_data + p.ev_len > (const char *)data + size)
					abort();
				for (k = 0; k < p.ev_len; k++)
					o->body_sum = o->body_sum * 31 + (unsigned char)p.ev_data[k];
				o->body_len += p.ev_len;
			} else if (ev == HTTP_EV_DONE || ev == HTTP_EV_ERROR) {
				o->error = ev == HTTP_EV_DONE ? 0 : (int)p.error;
				o->status = p.status;
				return;
			}
		} while (avail && pos < avail);
		if (!avail)
			return;
		off += avail;
	}
}

static int fuzz_http(const unsigned char *data, size_t size, int request)
{
	struct outcome whole, split;
	size_t step;

	if (size < 1)
		return 0;
	step = 1 + data[0] % 13;
	parse_in_steps(data + 1, size - 1, request, size, &whole);
	parse_in_steps(data + 1, size - 1, request, step, &split);
	/* split feeding may stop at an error earlier than whole (a limit
	 * checked per line), but never disagree on a completed message */
	if (whole.error == 0 && (split.error != 0 || split.body_sum != whole.body_sum ||
				 split.body_len != whole.body_len || split.status != whole.status))
		abort();
	if (split.error == 0 && whole.error != 0)
		abort();
	return 0;
}
