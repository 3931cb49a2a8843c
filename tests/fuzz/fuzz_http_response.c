/* Fuzz HTTP response parsing: fed whole and in small pieces, same result. */
#include "fuzz_http.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	return fuzz_http(data, size, 0);
}
