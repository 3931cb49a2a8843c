#include "nettool/base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int buf_reserve(struct buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->cap - b->len > more)
		return 0;
	if (more > (size_t)-1 / 2 - b->len)
		return -1;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len <= more)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int buf_putc(struct buf *b, char c)
{
	if (b->cap - b->len <= 1 && buf_reserve(b, 1) < 0)
		return -1;
	b->data[b->len++] = c;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->data ? b->data + b->len : NULL,
		      b->data ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= b->cap - b->len) {
		if (buf_reserve(b, (size_t)n + 1) < 0)
			return -1;
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
	return 0;
}

int buf_hex(struct buf *b, const void *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *s = p;
	size_t i;

	if (buf_reserve(b, n * 2) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		b->data[b->len++] = digits[s[i] >> 4];
		b->data[b->len++] = digits[s[i] & 15];
	}
	return 0;
}

int buf_json_string(struct buf *b, const char *s, size_t n)
{
	size_t i;
	int rc = buf_putc(b, '"');

	for (i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			rc = buf_printf(b, "\\%c", c);
		else if (c == '\n')
			rc = buf_printf(b, "\\n");
		else if (c == '\r')
			rc = buf_printf(b, "\\r");
		else if (c == '\t')
			rc = buf_printf(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			rc = buf_printf(b, "\\u%04x", c);
		else
			rc = buf_putc(b, (char)c);
	}
	return rc == 0 ? buf_putc(b, '"') : -1;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
