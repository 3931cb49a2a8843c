/* Fuzz unpacking arbitrary bytes: the first byte picks a format, the rest
 * is records. Every record must format as text and, where the format has
 * no float, bool or p field, that text must pack back to the same bytes. */
#include "nettool/proto/pack.h"
#include "nettool/base/util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const struct {
	const char *fmt;
	int exact;
} formats[] = {
	/* exact: no padding, float, bool or p, so the text says every byte */
	{ "<i16sif", 0 }, { "@bhilqnNP", 0 }, { ">3s2cHIQ", 1 }, { "!q5x1ch16Hp", 0 },
	{ "=?e0dfd", 0 }, { "@ci0q3s", 0 }, { "<4p", 0 }, { ">BbHhIiLlQq", 1 },
};

/* Split the tab-separated line in place and pack it. */
static void pack_back(const struct pack_format *f, char *line, const unsigned char *want)
{
	char *args[64], err[NT_ERR_LEN];
	unsigned char out[256];
	size_t n = 0;
	char *p = line;

	for (;;) {
		char *tab = strchr(p, '\t');

		args[n++] = p;
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	if (pack_text_record(f, args, n, out, err) != 0 || memcmp(out, want, f->size) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct pack_format f;
	struct pack_value v[64];
	char err[NT_ERR_LEN];
	size_t i, k;

	if (size < 1)
		return 0;
	k = data[0] % (sizeof formats / sizeof formats[0]);
	if (pack_compile(formats[k].fmt, &f, err) != 0)
		abort();
	for (i = 1; i + f.size <= size; i += f.size) {
		struct buf out = { NULL, 0, 0 };
		size_t j;

		unpack_values(&f, data + i, v);
		pack_format_repr(&out, v, f.nvalues);
		out.len = 0;
		for (j = 0; j < f.nvalues; j++) {
			if (j)
				buf_putc(&out, '\t');
			pack_format_value(&out, &v[j]);
		}
		buf_putc(&out, '\0');
		if (formats[k].exact)
			pack_back(&f, out.data, data + i);
		buf_free(&out);
	}
	pack_free(&f);
	return 0;
}
