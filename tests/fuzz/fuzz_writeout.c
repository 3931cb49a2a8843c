/* Fuzz the --write-out format: any text renders, every stream's output
 * is bounded by the format's size and what the variables hold. */
#include "nettool/proto/writeout.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static size_t total;

static void emit(void *ctx, enum wo_stream s, const char *file, const char *p, size_t n)
{
	(void)ctx;
	if (s > WO_FILE_APPEND || (s >= WO_FILE && !file) || (n && !p))
		abort();
	total += n;
}

static void unknown(void *ctx, const char *name, size_t n)
{
	(void)ctx;
	if (!name && n)
		abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const struct http_field f[2] = { { "Content-Type", "text/plain" },
						{ "X-A", "\"quoted\"\n" } };
	struct wo_sink s = { NULL, emit, unknown };
	struct wo_data d;
	char *fmt = malloc(size + 1);

	if (!fmt)
		return 0;
	memcpy(fmt, data, size);
	fmt[size] = '\0';
	memset(&d, 0, sizeof d);
	d.http_code = 200;
	d.http_minor = 1;
	d.url = "http://h/";
	d.errormsg = "bad \x01 thing";
	d.fields = f;
	d.nfields = 2;
	total = 0;
	wo_render(fmt, &d, &s);
	/* each byte of the format yields at most a %{json}'s worth */
	if (total > (size + 1) * 4096)
		abort();
	free(fmt);
	return 0;
}
