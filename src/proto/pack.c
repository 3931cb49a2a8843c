#include "nettool/proto/pack.h"
#include "nettool/base/util.h"

#include <float.h>
#include <math.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

struct code_info {
	char code;
	unsigned char type;
	unsigned char std_size; /* 0: native mode only */
	unsigned char nat_size;
	unsigned char nat_align;
};

static const struct code_info codes[] = {
	{ 'x', PACK_PAD, 1, 1, 1 },
	{ 'c', PACK_BYTES, 1, 1, 1 },
	{ 'b', PACK_INT, 1, sizeof(signed char), alignof(signed char) },
	{ 'B', PACK_UINT, 1, sizeof(unsigned char), alignof(unsigned char) },
	{ '?', PACK_BOOL, 1, sizeof(_Bool), alignof(_Bool) },
	{ 'h', PACK_INT, 2, sizeof(short), alignof(short) },
	{ 'H', PACK_UINT, 2, sizeof(unsigned short), alignof(unsigned short) },
	{ 'i', PACK_INT, 4, sizeof(int), alignof(int) },
	{ 'I', PACK_UINT, 4, sizeof(unsigned), alignof(unsigned) },
	{ 'l', PACK_INT, 4, sizeof(long), alignof(long) },
	{ 'L', PACK_UINT, 4, sizeof(unsigned long), alignof(unsigned long) },
	{ 'q', PACK_INT, 8, sizeof(long long), alignof(long long) },
	{ 'Q', PACK_UINT, 8, sizeof(unsigned long long), alignof(unsigned long long) },
	{ 'n', PACK_INT, 0, sizeof(ssize_t), alignof(ssize_t) },
	{ 'N', PACK_UINT, 0, sizeof(size_t), alignof(size_t) },
	{ 'P', PACK_UINT, 0, sizeof(void *), alignof(void *) },
	{ 'e', PACK_FLOAT, 2, 2, 2 },
	{ 'f', PACK_FLOAT, 4, sizeof(float), alignof(float) },
	{ 'd', PACK_FLOAT, 8, sizeof(double), alignof(double) },
	{ 's', PACK_BYTES, 1, 1, 1 },
	{ 'p', PACK_BYTES, 1, 1, 1 },
};

static const struct code_info *lookup(char c)
{
	size_t i;

	for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (codes[i].code == c)
			return &codes[i];
	return NULL;
}

static int host_little(void)
{
	const uint16_t one = 1;

	return *(const unsigned char *)&one == 1;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static int add_op(struct pack_format *f, size_t *cap, const struct pack_op *op)
{
	if (util_grow(&f->ops, cap, f->nops, sizeof *op) < 0)
		return -1;
	f->ops[f->nops++] = *op;
	return 0;
}

/* Read a repeat count; returns -1 on overflow past PACK_MAX_SIZE. */
static int read_count(const char **pp, size_t *out)
{
	const char *p = *pp;
	size_t n = 0;

	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (size_t)(*p++ - '0');
		if (n > PACK_MAX_SIZE)
			return -1;
	}
	*pp = p;
	*out = n;
	return 0;
}

int pack_compile(const char *fmt, struct pack_format *f, char *err)
{
	const char *p = fmt;
	int native = 1, little = host_little();
	size_t cap = 0;

	memset(f, 0, sizeof *f);
	switch (*p) {
	case '@': p++; break;
	case '=': native = 0; p++; break;
	case '<': native = 0; little = 1; p++; break;
	case '>': case '!': native = 0; little = 0; p++; break;
	}
	while (*p) {
		const struct code_info *ci;
		struct pack_op op;
		size_t count = 1, size, align;

		if (is_space(*p)) {
			p++;
			continue;
		}
		if (*p >= '0' && *p <= '9') {
			if (read_count(&p, &count) < 0)
				goto too_long;
			if (!*p) {
				nt_seterr(err, "repeat count given without format specifier");
				goto fail;
			}
		}
		ci = lookup(*p);
		if (!ci || (!native && !ci->std_size)) {
			nt_seterr(err, "bad char in struct format: '%c'", *p);
			goto fail;
		}
		p++;
		size = native ? ci->nat_size : ci->std_size;
		align = native ? ci->nat_align : 1;
		f->size = (f->size + align - 1) / align * align;
		memset(&op, 0, sizeof op);
		op.code = ci->code;
		op.type = ci->type;
		op.size = (unsigned char)size;
		op.little = (unsigned char)little;
		op.native = (unsigned char)native;
		op.count = count;
		op.offset = f->size;
		if (count > (PACK_MAX_SIZE - f->size) / size)
			goto too_long;
		f->size += count * size;
		if (ci->code == 's' || ci->code == 'p')
			f->nvalues++;
		else if (ci->type != PACK_PAD)
			f->nvalues += count;
		if ((count || ci->code == 's' || ci->code == 'p') && add_op(f, &cap, &op) < 0) {
			nt_seterr(err, "out of memory");
			goto fail;
		}
	}
	return 0;
too_long:
	nt_seterr(err, "total struct size too long");
fail:
	pack_free(f);
	return -1;
}

void pack_free(struct pack_format *f)
{
	free(f->ops);
	memset(f, 0, sizeof *f);
}

/* Items of op that take a value: 1 for s and p. */
static size_t op_values(const struct pack_op *op)
{
	if (op->type == PACK_PAD)
		return 0;
	return (op->code == 's' || op->code == 'p') ? 1 : op->count;
}

void pack_value_codes(const struct pack_format *f, char *out)
{
	size_t i, j, k = 0;

	for (i = 0; i < f->nops; i++)
		for (j = 0; j < op_values(&f->ops[i]); j++)
			out[k++] = f->ops[i].code;
}

/* ---- byte order ---- */

static void put_uint(unsigned char *p, uint64_t v, unsigned size, int little)
{
	unsigned i;

	for (i = 0; i < size; i++) {
		p[little ? i : size - 1 - i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t get_uint(const unsigned char *p, unsigned size, int little)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		v = (v << 8) | p[little ? size - 1 - i : i];
	return v;
}

/* ---- floats ---- */

/* IEEE 754 binary16 from a double, rounding half to even once. */
static int half_bits(double x, uint16_t *out)
{
	unsigned sign = signbit(x) ? 1 : 0;
	unsigned bits;
	double fr;
	int e;

	if (isnan(x)) {
		*out = (uint16_t)((sign << 15) | 0x7e00);
		return 0;
	}
	if (isinf(x)) {
		*out = (uint16_t)((sign << 15) | 0x7c00);
		return 0;
	}
	x = fabs(x);
	if (x == 0.0) {
		*out = (uint16_t)(sign << 15);
		return 0;
	}
	fr = frexp(x, &e) * 2.0; /* x = fr * 2^(e-1), 1 <= fr < 2 */
	e--;
	if (e >= 16)
		return -1;
	if (e < -25) {           /* below half the smallest subnormal */
		fr = 0.0;
		e = 0;
	} else if (e < -14) {    /* subnormal */
		fr = ldexp(fr, 14 + e);
		e = 0;
	} else {
		e += 15;
		fr -= 1.0;
	}
	fr *= 1024.0;
	bits = (unsigned)fr;
	if (fr - bits > 0.5 || (fr - bits == 0.5 && (bits & 1))) {
		if (++bits == 1024) {
			bits = 0;
			if (++e == 31)
				return -1;
		}
	}
	*out = (uint16_t)((sign << 15) | ((unsigned)e << 10) | bits);
	return 0;
}

static double half_value(uint16_t h)
{
	unsigned e = (h >> 10) & 0x1f, m = h & 0x3ff;
	double v;

	if (e == 0)
		v = ldexp((double)m, -24);
	else if (e == 31)
		v = m ? NAN : INFINITY;
	else
		v = ldexp((double)(m | 0x400), (int)e - 25);
	return (h & 0x8000) ? -v : v;
}

/*
 * Double to float, rounding to nearest. Out of range is an error in the
 * standard modes and infinity in native mode (what a C cast gives there),
 * computed without the undefined out-of-range conversion.
 */
static int float_of(double x, int native, float *out)
{
	/* halfway between FLT_MAX and the next binade: from here on, inf */
	const double limit = 0x1.ffffffp127;

	if (isnan(x) || fabs(x) <= FLT_MAX) {
		*out = (float)x;
		return 0;
	}
	if (!isinf(x) && fabs(x) < limit) {
		*out = x < 0 ? -FLT_MAX : FLT_MAX;
		return 0;
	}
	if (!isinf(x) && !native)
		return -1;
	*out = x < 0 ? -INFINITY : INFINITY;
	return 0;
}

static int pack_float(const struct pack_op *op, double x, unsigned char *p,
		      char *err)
{
	uint64_t bits = 0;

	if (op->code == 'e') {
		uint16_t h;

		if (half_bits(x, &h) < 0) {
			nt_seterr(err, "float too large to pack with e format");
			return -1;
		}
		bits = h;
	} else if (op->code == 'f') {
		float f;
		uint32_t u;

		if (float_of(x, op->native, &f) < 0) {
			nt_seterr(err, "float too large to pack with f format");
			return -1;
		}
		memcpy(&u, &f, sizeof u);
		bits = u;
	} else {
		memcpy(&bits, &x, sizeof bits);
	}
	put_uint(p, bits, op->size, op->little);
	return 0;
}

static double unpack_float(const struct pack_op *op, const unsigned char *p)
{
	uint64_t bits = get_uint(p, op->size, op->little);

	if (op->code == 'e')
		return half_value((uint16_t)bits);
	if (op->code == 'f') {
		uint32_t u = (uint32_t)bits;
		float f;

		memcpy(&f, &u, sizeof f);
		return (double)f;
	}
	{
		double d;

		memcpy(&d, &bits, sizeof d);
		return d;
	}
}

/* ---- integers ---- */

static int pack_int(const struct pack_op *op, const struct pack_value *v,
		    unsigned char *p, char *err)
{
	unsigned bits = op->size * 8u;
	uint64_t u;

	if (v->type != PACK_INT && v->type != PACK_UINT && v->type != PACK_BOOL) {
		nt_seterr(err, "required argument is not an integer");
		return -1;
	}
	if (op->type == PACK_INT) {
		int64_t max = bits == 64 ? INT64_MAX : (int64_t)((UINT64_C(1) << (bits - 1)) - 1);
		int64_t min = -max - 1;

		if (v->type == PACK_UINT ? v->v.u > (uint64_t)max
					 : (v->v.i < min || v->v.i > max))
			goto range;
		u = v->type == PACK_UINT ? v->v.u : (uint64_t)v->v.i;
	} else {
		uint64_t max = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;

		if (v->type != PACK_UINT && v->v.i < 0)
			goto range;
		u = v->type == PACK_UINT ? v->v.u : (uint64_t)v->v.i;
		if (u > max)
			goto range;
	}
	put_uint(p, u, op->size, op->little);
	return 0;
range:
	nt_seterr(err, "argument out of range for '%c'", op->code);
	return -1;
}

static int pack_bytes(const struct pack_op *op, const struct pack_value *v,
		      unsigned char *p, const unsigned char *end, char *err)
{
	size_t n = v->len;

	if (v->type != PACK_BYTES) {
		nt_seterr(err, "argument for '%c' must be a bytes object", op->code);
		return -1;
	}
	if (op->code == 'c') {
		if (v->len != 1) {
			nt_seterr(err, "char format requires a bytes object of length 1");
			return -1;
		}
		p[0] = v->bytes[0];
		return 0;
	}
	/* the record is zeroed already; like Python, copy only the bytes */
	if (op->code == 's') {
		if (n > op->count)
			n = op->count;
		if (n)
			memcpy(p, v->bytes, n);
		return 0;
	}
	if (op->count == 0) {
		/*
		 * Python stores a length byte of 0xff for "0p" where the next
		 * field (or padding) begins; a later field overwrites it.
		 */
		if (p < end)
			p[0] = 0xff;
		return 0;
	}
	if (n > op->count - 1)
		n = op->count - 1;
	if (n)
		memcpy(p + 1, v->bytes, n);
	/* as Python does: all that fits is copied, the length byte caps at 255 */
	p[0] = (unsigned char)(n > 255 ? 255 : n);
	return 0;
}

static int pack_one(const struct pack_op *op, const struct pack_value *v,
		    unsigned char *p, const unsigned char *end, char *err)
{
	switch (op->type) {
	case PACK_INT:
	case PACK_UINT:
		return pack_int(op, v, p, err);
	case PACK_BOOL:
		*p = v->type == PACK_FLOAT ? v->v.f != 0 :
		     v->type == PACK_BYTES ? v->len != 0 : v->v.u != 0;
		return 0;
	case PACK_FLOAT:
		if (v->type == PACK_BYTES) {
			nt_seterr(err, "required argument is not a float");
			return -1;
		}
		return pack_float(op, v->type == PACK_FLOAT ? v->v.f :
				  v->type == PACK_UINT ? (double)v->v.u : (double)v->v.i,
				  p, err);
	default:
		return pack_bytes(op, v, p, end, err);
	}
}

int pack_values(const struct pack_format *f, const struct pack_value *vals,
		size_t n, unsigned char *out, char *err)
{
	size_t i, j, k = 0;

	if (n != f->nvalues) {
		nt_seterr(err, "pack expected %zu items for packing (got %zu)",
			  f->nvalues, n);
		return -1;
	}
	memset(out, 0, f->size);
	for (i = 0; i < f->nops; i++) {
		const struct pack_op *op = &f->ops[i];
		size_t items = op_values(op);

		if (op->code == 's' || op->code == 'p') {
			if (pack_one(op, &vals[k++], out + op->offset, out + f->size,
				     err) < 0)
				return -1;
			continue;
		}
		for (j = 0; j < items; j++)
			if (pack_one(op, &vals[k++], out + op->offset + j * op->size,
				     out + f->size, err) < 0)
				return -1;
	}
	return 0;
}

static void unpack_one(const struct pack_op *op, const unsigned char *p,
		       struct pack_value *v)
{
	v->code = op->code;
	v->type = op->type;
	switch (op->type) {
	case PACK_INT: {
		uint64_t u = get_uint(p, op->size, op->little);
		unsigned bits = op->size * 8u;

		if (bits < 64 && (u >> (bits - 1)) & 1)
			u |= ~UINT64_C(0) << bits; /* sign-extend */
		v->v.i = (int64_t)u;
		break;
	}
	case PACK_UINT:
		v->v.u = get_uint(p, op->size, op->little);
		break;
	case PACK_BOOL:
		v->v.u = *p != 0;
		break;
	case PACK_FLOAT:
		v->v.f = unpack_float(op, p);
		break;
	default:
		if (op->code == 'p') {
			size_t n = op->count ? p[0] : 0;

			if (op->count && n > op->count - 1)
				n = op->count - 1;
			v->bytes = p + 1;
			v->len = n;
		} else {
			v->bytes = p;
			v->len = op->code == 'c' ? 1 : op->count;
		}
	}
}

void unpack_values(const struct pack_format *f, const unsigned char *rec,
		   struct pack_value *vals)
{
	size_t i, j, k = 0;

	for (i = 0; i < f->nops; i++) {
		const struct pack_op *op = &f->ops[i];

		if (op->code == 's' || op->code == 'p') {
			unpack_one(op, rec + op->offset, &vals[k++]);
			continue;
		}
		for (j = 0; j < op_values(op); j++)
			unpack_one(op, rec + op->offset + j * op->size, &vals[k++]);
	}
}
