#ifndef NETTOOL_BUF_H
#define NETTOOL_BUF_H

#include <stddef.h>

/* A growable byte buffer. Functions return 0, or -1 when out of memory. */
struct buf {
	char *data;
	size_t len, cap;
};

int buf_reserve(struct buf *b, size_t more);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
/* Append n bytes as lowercase hex digits. */
int buf_hex(struct buf *b, const void *p, size_t n);
/* s[0..n) as a JSON string, quoted and escaped (bytes from 0x80 as they
 * are: UTF-8 passes). 0, or -1 out of memory. */
int buf_json_string(struct buf *b, const char *s, size_t n);
void buf_free(struct buf *b);

#endif
