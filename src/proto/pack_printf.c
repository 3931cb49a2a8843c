/* printf-style templates for unpacked records (unpack --printf,
 * udp-server --printf). */
#include "nettool/proto/pack.h"
#include "nettool/base/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PF_MAX_WIDTH 4096

struct pf_piece {
	char *lit;       /* literal text, or NULL for a conversion */
	size_t litlen;
	char spec[40];   /* "%-10.3" + length + conversion */
	char conv;
	size_t field;
};

struct pack_printf {
	struct pf_piece *pieces;
	size_t n;
};

/* One printf(1) escape at *pp (after the backslash) into out. */
static void pf_escape(const char **pp, struct buf *out)
{
	const char *p = *pp;
	static const char from[] = "\\abfnrtv\"'", to[] = "\\\a\b\f\n\r\t\v\"'";
	const char *k = *p ? strchr(from, *p) : NULL;
	int v = 0, i;

	if (k) {
		buf_putc(out, to[k - from]);
		p++;
	} else if (*p >= '0' && *p <= '7') {
		for (i = 0; i < 3 && *p >= '0' && *p <= '7'; i++)
			v = v * 8 + (*p++ - '0');
		buf_putc(out, (char)v);
	} else if (*p == 'x' && util_hexval(p[1]) >= 0) {
		p++;
		for (i = 0; i < 2 && util_hexval(*p) >= 0; i++)
			v = v * 16 + util_hexval(*p++);
		buf_putc(out, (char)v);
	} else {
		buf_putc(out, '\\');
	}
	*pp = p;
}

int pack_unescape(struct buf *out, const char *s)
{
	while (*s) {
		const char *bs = strchr(s, '\\');
		size_t n = bs ? (size_t)(bs - s) : strlen(s);

		if (buf_append(out, s, n) < 0)
			return -1;
		s += n;
		if (bs) {
			s++;
			pf_escape(&s, out);
		}
	}
	return 0;
}

static int pf_fits(char conv, char code)
{
	int bytes = code == 'c' || code == 's' || code == 'p';
	int isfloat = code == 'e' || code == 'f' || code == 'd';

	if (conv == 's')
		return 1;
	if (conv == 'c')
		return !isfloat;
	if (strchr("diouxX", conv))
		return !bytes && !isfloat;
	return !bytes; /* f F e E g G a A */
}

/* Parse the conversion at p (after '%'); returns the end or NULL. */
static const char *pf_conv(const char *p, struct pf_piece *pc, char *err)
{
	char *s = pc->spec;
	unsigned long w;

	*s++ = '%';
	while (*p && strchr("-+ #0", *p) && s < pc->spec + 8)
		*s++ = *p++;
	for (w = 0; *p >= '0' && *p <= '9'; p++) {
		w = w * 10 + (unsigned long)(*p - '0');
		if (w > PF_MAX_WIDTH || s >= pc->spec + 14)
			goto bad;
		*s++ = *p;
	}
	if (*p == '.') {
		*s++ = *p++;
		for (w = 0; *p >= '0' && *p <= '9'; p++) {
			w = w * 10 + (unsigned long)(*p - '0');
			if (w > PF_MAX_WIDTH || s >= pc->spec + 24)
				goto bad;
			*s++ = *p;
		}
	}
	while (*p && strchr("hlLqjzt", *p))
		p++; /* length modifiers: the field decides */
	if (!*p || !strchr("diouxXcsfFeEgGaA", *p)) {
		nt_seterr(err, "bad conversion in template: '%%%c'", *p ? *p : ' ');
		return NULL;
	}
	pc->conv = *p;
	*s = '\0';
	return p + 1;
bad:
	nt_seterr(err, "width or precision in template too large (or '*')");
	return NULL;
}

static int pf_add(struct pack_printf *pf, size_t *cap, const struct pf_piece *pc)
{
	if (util_grow(&pf->pieces, cap, pf->n, sizeof *pc) < 0)
		return -1;
	pf->pieces[pf->n++] = *pc;
	return 0;
}

/* Move pending literal text into a piece. */
static int pf_flush_lit(struct pack_printf *pf, size_t *cap, struct buf *lit)
{
	struct pf_piece pc;

	if (!lit->len)
		return 0;
	memset(&pc, 0, sizeof pc);
	pc.lit = lit->data;
	pc.litlen = lit->len;
	memset(lit, 0, sizeof *lit);
	if (pf_add(pf, cap, &pc) < 0) {
		free(pc.lit);
		return -1;
	}
	return 0;
}

struct pack_printf *pack_printf_compile(const char *tmpl,
					const struct pack_format *f, char *err)
{
	struct pack_printf *pf = calloc(1, sizeof *pf);
	char *codes = malloc(f->nvalues ? f->nvalues : 1);
	struct buf lit = { NULL, 0, 0 };
	size_t cap = 0, field = 0;
	const char *p = tmpl;

	if (!pf || !codes)
		goto oom;
	pack_value_codes(f, codes);
	while (*p) {
		struct pf_piece pc;

		if (*p == '\\') {
			p++;
			pf_escape(&p, &lit);
		} else if (p[0] == '%' && p[1] == '%') {
			buf_putc(&lit, '%');
			p += 2;
		} else if (*p == '%') {
			memset(&pc, 0, sizeof pc);
			if (!(p = pf_conv(p + 1, &pc, err)))
				goto fail;
			if (field >= f->nvalues) {
				nt_seterr(err, "template has more conversions than the format's %zu fields",
					  f->nvalues);
				goto fail;
			}
			if (!pf_fits(pc.conv, codes[field])) {
				nt_seterr(err, "'%%%c' does not fit field %zu ('%c')", pc.conv,
					  field + 1, codes[field]);
				goto fail;
			}
			pc.field = field++;
			if (pf_flush_lit(pf, &cap, &lit) < 0 || pf_add(pf, &cap, &pc) < 0)
				goto oom;
		} else {
			buf_putc(&lit, *p++);
		}
	}
	if (field != f->nvalues) {
		nt_seterr(err, "template has %zu conversions but the format has %zu fields",
			  field, f->nvalues);
		goto fail;
	}
	if (pf_flush_lit(pf, &cap, &lit) < 0)
		goto oom;
	free(codes);
	return pf;
oom:
	nt_seterr(err, "out of memory");
fail:
	buf_free(&lit);
	free(codes);
	pack_printf_free(pf);
	return NULL;
}

void pack_printf_free(struct pack_printf *pf)
{
	size_t i;

	if (!pf)
		return;
	for (i = 0; i < pf->n; i++)
		free(pf->pieces[i].lit);
	free(pf->pieces);
	free(pf);
}

/* spec + suffix (e.g. "ll" "d") into fmt. */
static const char *pf_spec(char *fmt, const struct pf_piece *pc, const char *len,
			   char conv)
{
	snprintf(fmt, 48, "%s%s%c", pc->spec, len, conv);
	return fmt;
}

/* %s of valid UTF-8: width and precision count characters, as Python's
 * % formatting does for a str (invalid UTF-8 counts bytes, as C does). */
static int pf_chars(struct buf *out, const char *spec, const char *s, size_t n)
{
	long width = 0, prec = -1, chars;
	int left = 0;
	size_t cut = n;

	for (spec++; *spec && strchr("-+ #0", *spec); spec++)
		left |= *spec == '-';
	width = strtol(spec, (char **)&spec, 10);
	if (*spec == '.')
		prec = strtol(spec + 1, NULL, 10);
	chars = util_utf8_len(s, n);
	if (prec >= 0 && chars > prec) {
		long k = 0;

		for (cut = 0; cut < n; cut++) /* the byte where character prec starts */
			if (((unsigned char)s[cut] & 0xc0) != 0x80 && k++ == prec)
				break;
		chars = prec;
	}
	for (; !left && chars < width; width--)
		if (buf_putc(out, ' ') < 0)
			return -1;
	if (buf_append(out, s, cut) < 0)
		return -1;
	for (; left && chars < width; width--)
		if (buf_putc(out, ' ') < 0)
			return -1;
	return 0;
}

static int pf_one(struct buf *out, const struct pf_piece *pc,
		  const struct pack_value *v)
{
	char fmt[48];

	if (pc->conv == 's') {
		struct buf tmp = { NULL, 0, 0 };
		int rc;

		if (v->type == PACK_BYTES) {
			const unsigned char *z = memchr(v->bytes, '\0', v->len);

			buf_append(&tmp, v->bytes, z ? (size_t)(z - v->bytes) : v->len);
		} else {
			pack_format_value(&tmp, v);
		}
		buf_putc(&tmp, '\0');
		rc = !tmp.data ? -1 : util_utf8_len(tmp.data, tmp.len - 1) >= 0
			? pf_chars(out, pc->spec, tmp.data, tmp.len - 1)
			: buf_printf(out, pf_spec(fmt, pc, "", 's'), tmp.data);
		buf_free(&tmp);
		return rc;
	}
	if (pc->conv == 'c')
		return buf_printf(out, pf_spec(fmt, pc, "", 'c'),
				  v->type == PACK_BYTES ? (v->len ? (int)v->bytes[0] : 0) :
				  (int)(unsigned char)v->v.u);
	if (strchr("fFeEgGaA", pc->conv)) {
		double d = v->type == PACK_FLOAT ? v->v.f :
			   v->type == PACK_INT ? (double)v->v.i : (double)v->v.u;

		if (isnan(d))
			d = fabs(d); /* as Python: a NaN has no sign in print */
		return buf_printf(out, pf_spec(fmt, pc, "", pc->conv), d);
	}
	if ((pc->conv == 'd' || pc->conv == 'i') && v->type != PACK_UINT)
		return buf_printf(out, pf_spec(fmt, pc, "ll", pc->conv), (long long)v->v.i);
	if (pc->conv == 'd' || pc->conv == 'i')
		return buf_printf(out, pf_spec(fmt, pc, "ll", 'u'), (unsigned long long)v->v.u);
	return buf_printf(out, pf_spec(fmt, pc, "ll", pc->conv), (unsigned long long)v->v.u);
}

int pack_printf_record(struct buf *out, const struct pack_printf *pf,
		       const struct pack_value *vals)
{
	size_t i;

	for (i = 0; i < pf->n; i++) {
		const struct pf_piece *pc = &pf->pieces[i];
		int rc = pc->lit ? buf_append(out, pc->lit, pc->litlen)
				 : pf_one(out, pc, &vals[pc->field]);

		if (rc < 0)
			return -1;
	}
	return 0;
}
