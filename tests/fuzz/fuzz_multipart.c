/* Fuzz multipart parsing: the first byte picks a piece size; fed whole
 * and in pieces, the parts and their content must come out the same. */
#include "nettool/proto/multipart.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* A digest of the events: part names and content bytes, in order. */
static size_t run(const char *d, size_t n, size_t piece, char *out, size_t olen)
{
	static struct mp_parser p;
	size_t fed = 0, o = 0;

	mp_parser_init(&p, "b0und");
	while (fed < n) {
		size_t len = n - fed < piece ? n - fed : piece, off = 0;

		while (off < len) {
			size_t used = 0;
			enum mp_event ev = mp_parse(&p, d + fed + off, len - off, &used);

			if (used > len - off)
				abort();
			off += used;
			if (ev == MP_ERROR || ev == MP_DONE)
				return o + (ev == MP_DONE ? 1000000 : 2000000);
			if (ev == MP_PART && o + strlen(p.name) + 1 < olen) {
				memcpy(out + o, p.name, strlen(p.name) + 1);
				o += strlen(p.name) + 1;
			}
			if (ev == MP_DATA) {
				if (p.ev_len == 0)
					abort();
				if (o + p.ev_len < olen) {
					memcpy(out + o, p.ev_data, p.ev_len);
					o += p.ev_len;
				}
			}
			if (ev == MP_NEED)
				break;
		}
		fed += len;
	}
	return o;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static char a[1 << 16], b[1 << 16];
	size_t na, nb;

	if (size < 1)
		return 0;
	na = run((const char *)data + 1, size - 1, size, a, sizeof a);
	nb = run((const char *)data + 1, size - 1, (size_t)data[0] % 16 + 1, b, sizeof b);
	/* an error may be found at another place, the events before it not */
	if (na < 2000000 && nb < 2000000 && (na != nb || memcmp(a, b, na % 1000000)))
		abort();
	return 0;
}
