#include "nettool/proto/tar.h"

#include <stdio.h>
#include <string.h>

#define USTAR_SIZE_MAX 077777777777ULL /* 11 octal digits */

/* An octal field of width w: w - 1 digits (the most they hold, at
 * most), then NUL. */
static void octal(char *f, size_t w, uint64_t v)
{
	size_t i = w - 1;

	if (v >> (3 * (w - 1)))
		v = (1ULL << (3 * (w - 1))) - 1;
	f[i] = '\0';
	while (i--) {
		f[i] = (char)('0' + (v & 7));
		v >>= 3;
	}
}

/* One pax record "LEN key=value\n", LEN counting itself. */
static int pax_record(struct buf *b, const char *key, const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3, len = body, digits;

	for (;;) { /* the length's own digits are part of it */
		char tmp[24];

		digits = (size_t)snprintf(tmp, sizeof tmp, "%zu", len);
		if (body + digits == len)
			break;
		len = body + digits;
	}
	return buf_printf(b, "%zu %s=%s\n", len, key, value);
}

static int plain(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* One ustar header block. */
static int ustar(struct buf *b, const char *name, char type, uint64_t size, int64_t mtime,
		 unsigned mode)
{
	char h[TAR_BLOCK];
	unsigned sum = 0;
	size_t i, n = strlen(name);

	memset(h, 0, sizeof h);
	/* the name's last 100 bytes (the pax path says it whole when it is longer) */
	memcpy(h, n > 100 ? name + n - 100 : name, n > 100 ? 100 : n);
	octal(h + 100, 8, mode & 07777);
	octal(h + 108, 8, 0);
	octal(h + 116, 8, 0);
	octal(h + 124, 12, size > USTAR_SIZE_MAX ? 0 : size);
	octal(h + 136, 12, mtime > 0 ? (uint64_t)mtime : 0);
	memset(h + 148, ' ', 8);
	h[156] = type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (i = 0; i < sizeof h; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	h[155] = ' ';
	return buf_append(b, h, sizeof h);
}

int tar_header(struct buf *b, const char *name, char type, uint64_t size, int64_t mtime,
	       unsigned mode)
{
	struct buf pax = { NULL, 0, 0 };
	char num[32];
	int rc = 0;

	if (strlen(name) > 100 || !plain(name))
		rc |= pax_record(&pax, "path", name);
	if (size > USTAR_SIZE_MAX) {
		snprintf(num, sizeof num, "%llu", (unsigned long long)size);
		rc |= pax_record(&pax, "size", num);
	}
	if (rc == 0 && pax.len) {
		rc |= ustar(b, "PaxHeader", 'x', pax.len, mtime, 0644);
		rc |= buf_append(b, pax.data, pax.len);
		rc |= buf_reserve(b, tar_pad(pax.len));
		if (rc == 0) {
			memset(b->data + b->len, 0, tar_pad(pax.len));
			b->len += tar_pad(pax.len);
		}
	}
	buf_free(&pax);
	return rc ? -1 : ustar(b, name, type, size, mtime, mode);
}
