/* Fuzz tar headers: any name, size and time make whole blocks whose
 * ustar checksum is right, and a pax header whose records' lengths count
 * themselves. */
#include "nettool/proto/tar.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static unsigned long sum_of(const unsigned char *h)
{
	unsigned long s = 0;
	int i;

	for (i = 0; i < TAR_BLOCK; i++)
		s += (i >= 148 && i < 156) ? ' ' : h[i];
	return s;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct buf b = { NULL, 0, 0 };
	uint64_t sz = 0;
	int64_t mt = 0;
	char *name;
	const unsigned char *h;

	if (size < 16)
		return 0;
	memcpy(&sz, data, 8);
	memcpy(&mt, data + 8, 8);
	name = malloc(size - 16 + 1);
	if (!name)
		return 0;
	memcpy(name, data + 16, size - 16);
	name[size - 16] = '\0';
	if (tar_header(&b, name, (sz & 1) ? '5' : '0', sz, mt, (unsigned)sz) == 0) {
		if (b.len % TAR_BLOCK || b.len < TAR_BLOCK)
			abort();
		h = (const unsigned char *)b.data + b.len - TAR_BLOCK;
		if (strtoul((const char *)h + 148, NULL, 8) != sum_of(h))
			abort();
		if (b.len > TAR_BLOCK) { /* a pax header: its records add up */
			unsigned long plen = strtoul(b.data + 124, NULL, 8), at = 0;

			while (at < plen) {
				char *end;
				unsigned long n = strtoul(b.data + TAR_BLOCK + at, &end, 10);

				if (!n || at + n > plen || b.data[TAR_BLOCK + at + n - 1] != '\n')
					abort();
				at += n;
			}
		}
	}
	buf_free(&b);
	free(name);
	return 0;
}
