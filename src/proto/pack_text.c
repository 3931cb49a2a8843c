/* The text side of packing: command-line values in, lines out. */
#include "nettool/proto/pack.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decode \\ \n \r \t \0 \xHH; returns the length or -1. */
static long unescape(const char *s, unsigned char *out, char *err)
{
	size_t n = 0;

	while (*s) {
		int h1, h2;

		if (*s != '\\') {
			out[n++] = (unsigned char)*s++;
			continue;
		}
		switch (s[1]) {
		case '\\': out[n++] = '\\'; s += 2; break;
		case 'n': out[n++] = '\n'; s += 2; break;
		case 'r': out[n++] = '\r'; s += 2; break;
		case 't': out[n++] = '\t'; s += 2; break;
		case '0': out[n++] = '\0'; s += 2; break;
		case 'x':
			h1 = s[2] ? util_hexval(s[2]) : -1;
			h2 = h1 >= 0 && s[3] ? util_hexval(s[3]) : -1;
			if (h2 < 0) {
				nt_seterr(err, "bad escape '\\x' (expected two hex digits)");
				return -1;
			}
			out[n++] = (unsigned char)(h1 * 16 + h2);
			s += 4;
			break;
		default:
			nt_seterr(err, "bad escape '\\%c' (use \\\\ \\n \\r \\t \\0 or \\xHH)",
				  s[1] ? s[1] : ' ');
			return -1;
		}
	}
	return (long)n;
}

/* An integer: [+-] then decimal, 0x, 0o or 0b digits. */
static int parse_int(const char *s, struct pack_value *v, char *err)
{
	const char *p = s;
	int neg = 0, base = 10, d;
	uint64_t mag = 0;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16;
	else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
		base = 8;
	else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
		base = 2;
	if (base != 10)
		p += 2;
	if (!*p)
		return -1;
	for (; *p; p++) {
		d = util_hexval(*p);
		if (d < 0 || d >= base)
			return -1;
		if (mag > (UINT64_MAX - (unsigned)d) / (unsigned)base) {
			nt_seterr(err, "argument out of range: %s", s);
			return -2;
		}
		mag = mag * (unsigned)base + (unsigned)d;
	}
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1) {
			nt_seterr(err, "argument out of range: %s", s);
			return -2;
		}
		v->type = PACK_INT;
		v->v.i = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		v->type = PACK_UINT;
		v->v.u = mag;
	}
	return 0;
}

/*
 * Plain decimals of up to 15 digits ("-12.375") exactly: the digits and
 * the power of ten are exact doubles, so one division rounds correctly.
 */
static int parse_decimal_fast(const char *s, double *out)
{
	static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
				      1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
	const char *p = s;
	uint64_t m = 0;
	int digits = 0, frac = 0, neg = 0, dot = 0;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	for (; *p; p++) {
		if (*p == '.' && !dot) {
			dot = 1;
			continue;
		}
		if (*p < '0' || *p > '9' || ++digits > 15)
			return -1;
		m = m * 10 + (uint64_t)(*p - '0');
		frac += dot;
	}
	if (!digits || (dot && p[-1] == '.' && digits == 0))
		return -1;
	*out = (double)m / p10[frac];
	if (neg)
		*out = -*out;
	return 0;
}

static int parse_float(const char *s, double *out)
{
	char *end;

	if (parse_decimal_fast(s, out) == 0)
		return 0;
	if (!*s || *s == ' ' || *s == '\t' || strchr(s, 'x') || strchr(s, 'X'))
		return -1; /* no leading space, no C hex floats */
	errno = 0;
	*out = strtod(s, &end);
	return *end ? -1 : 0; /* ERANGE: Python rounds to inf or 0 too */
}

int pack_parse_value(char code, const char *text, unsigned char *scratch,
		     struct pack_value *v, char *err)
{
	int rc;

	memset(v, 0, sizeof *v);
	v->code = code;
	if (code == 'c' || code == 's' || code == 'p') {
		long n = unescape(text, scratch, err);

		if (n < 0)
			return -1;
		v->type = PACK_BYTES;
		v->bytes = scratch;
		v->len = (size_t)n;
		return 0;
	}
	if ((text[0] == 't' && !strcmp(text, "true")) ||
	    (text[0] == 'f' && !strcmp(text, "false"))) {
		v->type = PACK_BOOL;
		v->v.u = text[0] == 't';
		return 0;
	}
	if (code == 'e' || code == 'f' || code == 'd') {
		if (parse_float(text, &v->v.f) == 0) {
			v->type = PACK_FLOAT;
			return 0;
		}
	}
	rc = parse_int(text, v, err);
	if (rc == -2)
		return -1;
	if (rc == 0)
		return 0;
	if ((code == 'e' || code == 'f' || code == 'd' || code == '?') &&
	    parse_float(text, &v->v.f) == 0) {
		v->type = PACK_FLOAT;
		return 0;
	}
	if (code == 'e' || code == 'f' || code == 'd')
		nt_seterr(err, "'%s' is not a number", text);
	else if (code == '?')
		nt_seterr(err, "'%s' is not a boolean (true, false or a number)", text);
	else
		nt_seterr(err, "'%s' is not an integer (for '%c')", text, code);
	return -1;
}

#define SMALL_VALUES 64
#define SMALL_TEXT 4096

/* Parse and pack with caller-provided room for the values and bytes. */
static int parse_and_pack(const struct pack_format *f, char *const *args, size_t n,
			  unsigned char *out, struct pack_value *vals,
			  unsigned char *scratch, char *err)
{
	size_t i, j, k = 0, used = 0;

	for (i = 0; i < f->nops; i++) {
		const struct pack_op *op = &f->ops[i];
		size_t items = op->type == PACK_PAD ? 0 :
			       (op->code == 's' || op->code == 'p') ? 1 : op->count;

		for (j = 0; j < items; j++, k++) {
			if (pack_parse_value(op->code, args[k], scratch + used, &vals[k],
					     err) < 0)
				return -1;
			if (vals[k].type == PACK_BYTES)
				used += vals[k].len + 1;
		}
	}
	return pack_values(f, vals, n, out, err);
}

int pack_text_record(const struct pack_format *f, char *const *args, size_t n,
		     unsigned char *out, char *err)
{
	struct pack_value small_vals[SMALL_VALUES], *vals = small_vals;
	unsigned char small_text[SMALL_TEXT], *scratch = small_text;
	size_t i, total = 0;
	int rc = -1;

	if (n != f->nvalues) {
		nt_seterr(err, "pack expected %zu items for packing (got %zu)",
			  f->nvalues, n);
		return -1;
	}
	for (i = 0; i < n; i++)
		total += strlen(args[i]) + 1;
	if (n > SMALL_VALUES)
		vals = calloc(n, sizeof *vals);
	if (total > SMALL_TEXT)
		scratch = malloc(total);
	if (!vals || !scratch)
		nt_seterr(err, "out of memory");
	else
		rc = parse_and_pack(f, args, n, out, vals, scratch, err);
	if (vals != small_vals)
		free(vals);
	if (scratch != small_text)
		free(scratch);
	return rc;
}

/* Split line into words, "..." quoting spaces, and pack them. */
int pack_text_line(const struct pack_format *f, const char *line,
		   unsigned char *out, char *err)
{
	size_t len = strlen(line), n = 0, cap = SMALL_VALUES;
	char small_copy[SMALL_TEXT], *small_args[SMALL_VALUES];
	char *copy = len < SMALL_TEXT ? small_copy : malloc(len + 1), *w = copy;
	char **args = small_args;
	const char *p = line;
	int rc = -1;

	if (!copy) {
		nt_seterr(err, "out of memory");
		return -1;
	}
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p)
			break;
		if (n == cap) {
			char **na = malloc(cap * 2 * sizeof *na);

			if (!na) {
				nt_seterr(err, "out of memory");
				goto out;
			}
			memcpy(na, args, n * sizeof *na);
			if (args != small_args)
				free(args);
			args = na;
			cap *= 2;
		}
		args[n++] = w;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				*w++ = *p;
			if (*p != '"') {
				nt_seterr(err, "unterminated quote");
				goto out;
			}
			p++;
		} else {
			while (*p && *p != ' ' && *p != '\t' && *p != '\r')
				*w++ = *p++;
		}
		*w++ = '\0';
	}
	rc = pack_text_record(f, args, n, out, err);
out:
	if (copy != small_copy)
		free(copy);
	if (args != small_args)
		free(args);
	return rc;
}

/* ---- output ---- */

/* Digits of "d.ddde+X" without trailing zeros; decpt = X + 1. */
static void take_digits(const char *tmp, char *digits, int *decpt)
{
	const char *e = strchr(tmp, 'e'), *q;
	char *d = digits;

	*decpt = atoi(e + 1) + 1;
	for (q = tmp; q < e; q++)
		if (*q >= '0' && *q <= '9')
			*d++ = *q;
	while (d > digits + 1 && d[-1] == '0')
		d--;
	*d = '\0';
}

/*
 * The nearest 16-digit decimal may miss x while its neighbour in the last
 * digit hits (the rounding interval of a power of two is lopsided).
 */
static int neighbour16(const char *tmp, double x, char *digits, int *decpt)
{
	const char *e = strchr(tmp, 'e'), *q;
	unsigned long long d = 0;
	int exp10 = atoi(e + 1) - 15, k;

	for (q = tmp; q < e; q++)
		if (*q >= '0' && *q <= '9')
			d = d * 10 + (unsigned long long)(*q - '0');
	for (k = -1; k <= 1; k += 2) {
		char alt[48], *z;

		snprintf(alt, sizeof alt, "%llue%d", d + (unsigned long long)k, exp10);
		if (strtod(alt, NULL) != x)
			continue;
		snprintf(digits, 24, "%llu", d + (unsigned long long)k);
		*decpt = exp10 + (int)strlen(digits);
		for (z = digits + strlen(digits); z > digits + 1 && z[-1] == '0'; z--)
			z[-1] = '\0';
		return 1;
	}
	return 0;
}

/*
 * The common case quickly: x = y / 10^k for a small integer y and the
 * least such k. At that k the rounding interval of x is narrower than one
 * unit of y, so y, when it reads back, is the only and shortest candidate.
 */
static int short_fraction(double x, char *digits, int *decpt)
{
	static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
				      1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
	int k, n;

	if (x < 1e-4 || x >= 1e12)
		return 0;
	for (k = 0; k < 16; k++) {
		double p = x * p10[k], y;

		if (p >= 1099511627776.0) /* 2^40: keep y exact and unique */
			return 0;
		y = floor(p + 0.5);
		if (y / p10[k] != x)
			continue;
		{
			uint64_t u = (uint64_t)y;
			char tmp[24], *q = tmp + sizeof tmp;

			do
				*--q = (char)('0' + u % 10);
			while ((u /= 10) != 0);
			n = (int)(tmp + sizeof tmp - q);
			memcpy(digits, q, (size_t)n);
		}
		*decpt = n - k;
		while (n > 1 && digits[n - 1] == '0')
			n--;
		digits[n] = '\0';
		return 1;
	}
	return 0;
}

/*
 * The shortest digits that read back to x (x > 0 and finite). A normal
 * double that reads back from 15 digits has no shorter form but those
 * digits less their trailing zeros (15 is DBL_DIG); a subnormal has less
 * precision, so it is searched from one digit up.
 */
static void shortest_digits(double x, char *digits, int *decpt)
{
	char tmp[40];
	int prec;

	if (short_fraction(x, digits, decpt))
		return;
	for (prec = x < DBL_MIN ? 1 : 15; prec < 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*e", prec - 1, x);
		if (strtod(tmp, NULL) == x) {
			take_digits(tmp, digits, decpt);
			return;
		}
		if (prec == 16 && neighbour16(tmp, x, digits, decpt))
			return;
	}
	snprintf(tmp, sizeof tmp, "%.16e", x);
	take_digits(tmp, digits, decpt);
}

/* Python's repr(float): fixed for exponents -4..15, else with exponent. */
int pack_format_double(struct buf *out, double x)
{
	char digits[24];
	int decpt, nd, i;

	if (isnan(x))
		return buf_append(out, "nan", 3);
	if (isinf(x))
		return buf_append(out, x < 0 ? "-inf" : "inf", x < 0 ? 4 : 3);
	if (buf_reserve(out, 40) < 0)
		return -1;
	if (signbit(x))
		buf_putc(out, '-');
	x = fabs(x);
	if (x == 0.0)
		return buf_append(out, "0.0", 3);
	shortest_digits(x, digits, &decpt);
	nd = (int)strlen(digits);
	if (decpt > -4 && decpt <= 16) {
		if (decpt <= 0) {
			buf_append(out, "0.", 2);
			for (i = decpt; i < 0; i++)
				buf_putc(out, '0');
			return buf_append(out, digits, (size_t)nd);
		}
		for (i = 0; i < decpt; i++)
			buf_putc(out, i < nd ? digits[i] : '0');
		buf_putc(out, '.');
		if (nd > decpt)
			return buf_append(out, digits + decpt, (size_t)(nd - decpt));
		return buf_putc(out, '0');
	}
	buf_putc(out, digits[0]);
	if (nd > 1) {
		buf_putc(out, '.');
		buf_append(out, digits + 1, (size_t)(nd - 1));
	}
	return buf_printf(out, "e%c%02d", decpt - 1 < 0 ? '-' : '+',
			  abs(decpt - 1));
}

static int append_u64(struct buf *out, uint64_t u, int neg)
{
	char tmp[24], *p = tmp + sizeof tmp;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (neg)
		*--p = '-';
	return buf_append(out, p, (size_t)(tmp + sizeof tmp - p));
}

static int append_int(struct buf *out, const struct pack_value *v)
{
	if (v->type == PACK_UINT)
		return append_u64(out, v->v.u, 0);
	if (v->v.i < 0)
		return append_u64(out, (uint64_t)0 - (uint64_t)v->v.i, 1);
	return append_u64(out, (uint64_t)v->v.i, 0);
}

static const char hexdig[] = "0123456789abcdef";

/* Bytes in the input syntax: printable ASCII as is, the rest escaped. */
static int append_escaped(struct buf *out, const unsigned char *p, size_t n)
{
	size_t i;

	if (buf_reserve(out, n * 4) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = p[i];
		char *o = out->data + out->len;

		switch (c) {
		case '\\': memcpy(o, "\\\\", 2); out->len += 2; continue;
		case '\n': memcpy(o, "\\n", 2); out->len += 2; continue;
		case '\r': memcpy(o, "\\r", 2); out->len += 2; continue;
		case '\t': memcpy(o, "\\t", 2); out->len += 2; continue;
		case '\0': memcpy(o, "\\0", 2); out->len += 2; continue;
		}
		if (c >= 32 && c < 127) {
			*o = (char)c;
			out->len++;
		} else {
			o[0] = '\\';
			o[1] = 'x';
			o[2] = hexdig[c >> 4];
			o[3] = hexdig[c & 15];
			out->len += 4;
		}
	}
	return 0;
}

int pack_format_value(struct buf *out, const struct pack_value *v)
{
	size_t n;

	switch (v->type) {
	case PACK_INT:
	case PACK_UINT:
		return append_int(out, v);
	case PACK_BOOL:
		return v->v.u ? buf_append(out, "true", 4) : buf_append(out, "false", 5);
	case PACK_FLOAT:
		return pack_format_double(out, v->v.f);
	default:
		n = v->len;
		if (v->code == 's')
			while (n && v->bytes[n - 1] == '\0')
				n--;
		return append_escaped(out, v->bytes, n);
	}
}

/* Python's bytes repr: b'...' (b"..." when only ' occurs). */
static int append_bytes_repr(struct buf *out, const unsigned char *p, size_t n)
{
	char q = '\'';
	size_t i;

	if (memchr(p, '\'', n) && !memchr(p, '"', n))
		q = '"';
	if (buf_reserve(out, n * 4 + 3) < 0)
		return -1;
	out->data[out->len++] = 'b';
	out->data[out->len++] = q;
	for (i = 0; i < n; i++) {
		unsigned char c = p[i];
		char *o = out->data + out->len;

		if (c == (unsigned char)q || c == '\\') {
			o[0] = '\\';
			o[1] = (char)c;
			out->len += 2;
		} else if (c == '\t' || c == '\n' || c == '\r') {
			o[0] = '\\';
			o[1] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
			out->len += 2;
		} else if (c < 32 || c >= 127) {
			o[0] = '\\';
			o[1] = 'x';
			o[2] = hexdig[c >> 4];
			o[3] = hexdig[c & 15];
			out->len += 4;
		} else {
			*o = (char)c;
			out->len++;
		}
	}
	out->data[out->len++] = q;
	return 0;
}

int pack_format_repr(struct buf *out, const struct pack_value *vals, size_t n)
{
	size_t i;

	buf_putc(out, '(');
	for (i = 0; i < n; i++) {
		const struct pack_value *v = &vals[i];

		if (i)
			buf_append(out, ", ", 2);
		if (v->type == PACK_BOOL)
			buf_append(out, v->v.u ? "True" : "False", v->v.u ? 4 : 5);
		else if (v->type == PACK_BYTES)
			append_bytes_repr(out, v->bytes, v->len);
		else if (v->type == PACK_FLOAT)
			pack_format_double(out, v->v.f);
		else
			append_int(out, v);
	}
	if (n == 1)
		buf_putc(out, ',');
	return buf_putc(out, ')');
}
