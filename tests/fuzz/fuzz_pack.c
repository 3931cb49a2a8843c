/* Fuzz the format compiler and the printf template compiler: input is
 * FORMAT NUL TEMPLATE. A compiled format must unpack a zeroed record and
 * pack the values back without error. */
#include "nettool/proto/pack.h"
#include "nettool/base/util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *in = malloc(size + 1), *tmpl, err[NT_ERR_LEN];
	struct pack_format f;
	struct pack_printf *pf;

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	tmpl = in + strlen(in);
	if (tmpl < in + size)
		tmpl++;
	if (pack_compile(in, &f, err) == 0) {
		if (f.size <= 1 << 16 && f.nvalues <= 1 << 12) {
			unsigned char *rec = calloc(1, f.size + 1), *again = malloc(f.size + 1);
			struct pack_value *v = calloc(f.nvalues + 1, sizeof *v);
			struct buf out = { NULL, 0, 0 };

			if (rec && again && v) {
				unpack_values(&f, rec, v);
				pack_format_repr(&out, v, f.nvalues);
				if (pack_values(&f, v, f.nvalues, again, err) != 0)
					abort();
				pf = pack_printf_compile(tmpl, &f, err);
				if (pf && pack_printf_record(&out, pf, v) != 0)
					abort();
				pack_printf_free(pf);
			}
			buf_free(&out);
			free(rec);
			free(again);
			free(v);
		}
		pack_free(&f);
	}
	free(in);
	return 0;
}
