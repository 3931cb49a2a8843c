#include "check.h"
#include "nettool/proto/pack.h"
#include "nettool/base/util.h"

#include <math.h>
#include <string.h>

static int hexeq(const unsigned char *p, size_t n, const char *hex)
{
	char buf[512];
	size_t i;

	for (i = 0; i < n && i * 2 + 2 < sizeof buf; i++)
		snprintf(buf + 2 * i, 3, "%02x", p[i]);
	buf[2 * n] = '\0';
	if (strcmp(buf, hex))
		printf("#   got %s want %s\n", buf, hex);
	return strcmp(buf, hex) == 0;
}

/* Pack text args; returns the status. */
static int pk(const char *fmt, char **args, size_t n, const char *hex)
{
	struct pack_format f;
	unsigned char out[256];
	char err[NT_ERR_LEN];
	int rc;

	if (pack_compile(fmt, &f, err) < 0)
		return -2;
	rc = pack_text_record(&f, args, n, out, err);
	if (rc == 0 && hex && !hexeq(out, f.size, hex))
		rc = -3;
	pack_free(&f);
	return rc;
}

static void compile_and_calcsize(void)
{
	struct pack_format f;
	char err[NT_ERR_LEN];

	CHECK(pack_compile("<i16sif", &f, err) == 0 && f.size == 28 && f.nvalues == 4);
	pack_free(&f);
	CHECK(pack_compile("@ci", &f, err) == 0 && f.size == 8);
	pack_free(&f);
	CHECK(pack_compile("ci0q", &f, err) == 0 && f.size == 8 && f.nvalues == 2);
	pack_free(&f);
	CHECK(pack_compile("@ic", &f, err) == 0 && f.size == 5); /* no trailing padding */
	pack_free(&f);
	CHECK(pack_compile("i i\t3x", &f, err) == 0 && f.size == 11 && f.nvalues == 2);
	pack_free(&f);
	CHECK(pack_compile("0s", &f, err) == 0 && f.nvalues == 1 && f.size == 0);
	pack_free(&f);
	CHECK(pack_compile("12", &f, err) < 0 && strstr(err, "repeat count"));
	CHECK(pack_compile("Z", &f, err) < 0 && strstr(err, "bad char"));
	CHECK(pack_compile("<n", &f, err) < 0);
	CHECK(pack_compile(" <i", &f, err) < 0);
	CHECK(pack_compile("<i<", &f, err) < 0);
	CHECK(pack_compile("99999999999999999999x", &f, err) < 0 && strstr(err, "too long"));
	CHECK(pack_compile("2147483647x2147483647x", &f, err) < 0);
}

static void pack_integers(void)
{
	char *a1[] = { "-128" }, *a2[] = { "128" }, *a3[] = { "0xffffffffffffffff" };
	char *a4[] = { "18446744073709551616" }, *a5[] = { "-9223372036854775809" };
	char *a6[] = { "1", "2", "3" };

	CHECK(pk("<b", a1, 1, "80") == 0);
	CHECK(pk("<b", a2, 1, NULL) == -1);
	CHECK(pk(">Q", a3, 1, "ffffffffffffffff") == 0);
	CHECK(pk(">Q", a4, 1, NULL) == -1);
	CHECK(pk("<q", a5, 1, NULL) == -1);
	CHECK(pk("@llh", a6, 3, "010000000000000002000000000000000300") == 0);
	CHECK(pk("<i", a6, 2, NULL) == -1); /* count mismatch */
}

static void pack_floats_and_halves(void)
{
	char *one[] = { "1.0" }, *big[] = { "65520.0" }, *max[] = { "65504" };
	char *tiny[] = { "5.960464477539063e-08" }, *half_tie[] = { "2.98023223876953125e-08" };
	char *fbig[] = { "1e39" }, *nan[] = { "nan" };

	CHECK(pk(">f", one, 1, "3f800000") == 0);
	CHECK(pk("<e", one, 1, "003c") == 0);
	CHECK(pk("<e", max, 1, "ff7b") == 0);
	CHECK(pk("<e", big, 1, NULL) == -1);
	CHECK(pk("<e", tiny, 1, "0100") == 0);
	CHECK(pk("<e", half_tie, 1, "0000") == 0); /* ties to even: zero */
	CHECK(pk("<f", fbig, 1, NULL) == -1);
	CHECK(pk("@f", fbig, 1, "0000807f") == 0); /* native: a C cast, inf */
	CHECK(pk("<d", nan, 1, "000000000000f87f") == 0);
}

static void pack_bytes_fields(void)
{
	char *s[] = { "ab\\x00c\\n" }, *c2[] = { "ab" }, *p[] = { "abcdef" };
	char *bad[] = { "\\q" };

	CHECK(pk("6s", s, 1, "616200630a00") == 0);
	CHECK(pk("c", c2, 1, NULL) == -1);
	CHECK(pk("3p", p, 1, "026162") == 0);
	CHECK(pk("3s", bad, 1, NULL) == -1);
}

static void unpack_and_format(void)
{
	struct pack_format f;
	struct pack_value v[4];
	struct buf out = { NULL, 0, 0 };
	char err[NT_ERR_LEN];
	static const unsigned char rec[] = { 1, 0, 0, 0, 'a', 'l', 'i', 'c', 'e', 0, 0, 0,
					     0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0xe0, 0x3f };

	CHECK(pack_compile("<i16sif", &f, err) == 0);
	unpack_values(&f, rec, v);
	CHECK(v[0].v.i == 1 && v[1].len == 16 && v[2].v.i == 20 && v[3].v.f == 1.75);
	pack_format_repr(&out, v, 4);
	buf_putc(&out, '\0');
	CHECK(!strcmp(out.data, "(1, b'alice\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00', 20, 1.75)"));
	out.len = 0;
	pack_format_value(&out, &v[1]);
	buf_putc(&out, '\0');
	CHECK(!strcmp(out.data, "alice"));
	buf_free(&out);
	pack_free(&f);
}

static const char *dbl(double x)
{
	static struct buf b;

	b.len = 0;
	pack_format_double(&b, x);
	buf_putc(&b, '\0');
	return b.data;
}

static void float_repr_like_python(void)
{
	CHECK(!strcmp(dbl(1.75), "1.75"));
	CHECK(!strcmp(dbl(0.1), "0.1"));
	CHECK(!strcmp(dbl(1e16), "1e+16"));
	CHECK(!strcmp(dbl(1e15), "1000000000000000.0"));
	CHECK(!strcmp(dbl(123456789012345678.0), "1.2345678901234568e+17"));
	CHECK(!strcmp(dbl(0.0001), "0.0001"));
	CHECK(!strcmp(dbl(0.00001), "1e-05"));
	CHECK(!strcmp(dbl(-0.0), "-0.0"));
	CHECK(!strcmp(dbl(5e-324), "5e-324"));
	CHECK(!strcmp(dbl(2.2250738585072014e-308), "2.2250738585072014e-308"));
	CHECK(!strcmp(dbl(0.6898001432418823), "0.6898001432418823"));
	CHECK(!strcmp(dbl(INFINITY), "inf") && !strcmp(dbl(-INFINITY), "-inf"));
	CHECK(!strcmp(dbl(NAN), "nan"));
	CHECK(!strcmp(dbl(9007199254740993.0), "9007199254740992.0"));
	CHECK(!strcmp(dbl(1.7976931348623157e308), "1.7976931348623157e+308"));
}

static void printf_templates(void)
{
	struct pack_format f;
	struct pack_printf *pf;
	char err[NT_ERR_LEN];

	CHECK(pack_compile("<i16sif", &f, err) == 0);
	pf = pack_printf_compile("%d %-10s %d %.2f\\n", &f, err);
	CHECK(pf != NULL);
	pack_printf_free(pf);
	CHECK(!pack_printf_compile("%d %s %d", &f, err) && strstr(err, "3 conversions"));
	CHECK(!pack_printf_compile("%d %d %d %f", &f, err) && strstr(err, "field 2"));
	CHECK(!pack_printf_compile("%*d %s %d %f", &f, err));
	CHECK(!pack_printf_compile("%d %s %d %f %d", &f, err));
	pack_free(&f);
	/* %c of an empty p field prints NUL (found by fuzzing: read past it) */
	{
		struct pack_value v[1];
		struct buf out = { NULL, 0, 0 };
		unsigned char rec[1] = { 0 };

		CHECK(pack_compile("@0p", &f, err) == 0);
		unpack_values(&f, rec, v);
		pf = pack_printf_compile("[%c]", &f, err);
		CHECK(pf && pack_printf_record(&out, pf, v) == 0 && out.len == 3 &&
		      !memcmp(out.data, "[\0]", 3));
		pack_printf_free(pf);
		buf_free(&out);
		pack_free(&f);
	}
}

int main(void)
{
	RUN(compile_and_calcsize);
	RUN(pack_integers);
	RUN(pack_floats_and_halves);
	RUN(pack_bytes_fields);
	RUN(unpack_and_format);
	RUN(float_repr_like_python);
	RUN(printf_templates);
	return CHECK_DONE();
}
