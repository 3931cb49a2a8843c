/* Fuzz URL parsing and reference resolution: input is URL NUL REFERENCE. */
#include "nettool/proto/url.h"
#include "nettool/base/util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static struct url u, v;
	static char out[URL_MAX];
	char *in = malloc(size + 1), *ref, err[NT_ERR_LEN], host[300];

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	ref = in + strlen(in);
	if (ref < in + size)
		ref++;
	if (url_parse(in, &u, err) == 0) {
		url_host_header(&u, host, sizeof host);
		if (u.target[0] != '/')
			abort();
		if (url_resolve(in, ref, out, sizeof out, err) == 0 && strlen(out) >= sizeof out)
			abort();
	}
	(void)v;
	free(in);
	return 0;
}
