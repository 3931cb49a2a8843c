#ifndef NETTOOL_PACK_H
#define NETTOOL_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "nettool/base/buf.h"

/*
 * Struct-style packing with the semantics of Python's struct module:
 * prefixes @ = < > !, codes x c b B ? h H i I l L q Q n N e f d s p P,
 * repeat counts, native size and alignment for '@'. Pure: no I/O.
 */

#define PACK_MAX_SIZE ((size_t)0x7fffffff) /* largest record */

enum pack_type {
	PACK_PAD,   /* x: no value */
	PACK_INT,   /* b h i l q n */
	PACK_UINT,  /* B H I L Q N P */
	PACK_BOOL,  /* ? */
	PACK_FLOAT, /* e f d */
	PACK_BYTES  /* c s p */
};

struct pack_op {
	char code;
	unsigned char type;   /* enum pack_type */
	unsigned char size;   /* bytes per item; 1 for c, s, p, x */
	unsigned char little; /* byte order */
	unsigned char native; /* '@' or no prefix: native float casts */
	size_t count;         /* items; for s and p the field's byte length */
	size_t offset;        /* of the first item in the record */
};

struct pack_format {
	struct pack_op *ops;
	size_t nops;
	size_t size;    /* calcsize */
	size_t nvalues; /* values one record holds */
};

struct pack_value {
	char code;
	unsigned char type; /* enum pack_type */
	union {
		int64_t i;
		uint64_t u;
		double f;
	} v;
	const unsigned char *bytes; /* PACK_BYTES: not owned */
	size_t len;
};

/* Compile fmt. Returns 0, or -1 with err filled (Python: struct.error). */
int pack_compile(const char *fmt, struct pack_format *f, char *err);
void pack_free(struct pack_format *f);

/* The code of each value in order, into codes[f->nvalues]. */
void pack_value_codes(const struct pack_format *f, char *codes);

/*
 * Pack n values into out (f->size bytes). Values must be f->nvalues, each
 * of its field's type (PACK_BOOL takes v.i as truth; PACK_FLOAT also takes
 * nothing else). Returns 0, or -1 with err filled: a count mismatch, an
 * integer out of range, a float too large for e or standard f, c not one
 * byte.
 */
int pack_values(const struct pack_format *f, const struct pack_value *vals,
		size_t n, unsigned char *out, char *err);

/* Unpack one record of f->size bytes into vals[f->nvalues]. */
void unpack_values(const struct pack_format *f, const unsigned char *rec,
		   struct pack_value *vals);

/* ---- text: the command-line value syntax and the output styles ---- */

/*
 * Parse one command-line value for a field with code: integers (decimal,
 * 0x, 0o, 0b, optional sign), floats (also inf, -inf, nan), true/false,
 * bytes with escapes \\ \n \r \t \0 \xHH decoded into scratch (at least
 * strlen(text) bytes). Returns 0, or -1 with err filled.
 */
int pack_parse_value(char code, const char *text, unsigned char *scratch,
		     struct pack_value *v, char *err);

/* Parse args[0..n) for f and pack them into out (f->size bytes). */
int pack_text_record(const struct pack_format *f, char *const *args, size_t n,
		     unsigned char *out, char *err);

/* Split a line into whitespace-separated values ("..." quotes a value with
 * spaces) and pack it. Returns 0, or -1 with err filled. */
int pack_text_line(const struct pack_format *f, const char *line,
		   unsigned char *out, char *err);

/* Append v as the input syntax reads it (s fields: trailing NULs dropped). */
int pack_format_value(struct buf *out, const struct pack_value *v);
/* Append the record as Python's repr(struct.unpack(...)) prints it. */
int pack_format_repr(struct buf *out, const struct pack_value *vals, size_t n);
/* Shortest text that reads back to x, as Python's repr(float). */
int pack_format_double(struct buf *out, double x);

struct pack_printf;
/* Compile a printf template against f's fields. NULL with err filled. */
struct pack_printf *pack_printf_compile(const char *tmpl,
					const struct pack_format *f, char *err);
int pack_printf_record(struct buf *out, const struct pack_printf *pf,
		       const struct pack_value *vals);
void pack_printf_free(struct pack_printf *pf);
/* Append s with the template's printf(1) escapes decoded (\\ \n \t \NNN
 * \xHH...; an unknown one stays as it is). Returns 0, or -1. */
int pack_unescape(struct buf *out, const char *s);

#endif
