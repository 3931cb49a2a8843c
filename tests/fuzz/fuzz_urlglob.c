/* Fuzz URL globbing: any pattern parses or is refused; every URL and
 * name it makes fits and is made the same way twice. */
#include "nettool/proto/urlglob.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct urlglob g;
	char err[256], a[4096], b[4096], *s = malloc(size + 1);
	uint64_t i, step;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ug_parse(&g, s, err) == 0) {
		if (g.total < 1 || g.total > UG_MAX_URLS)
			abort();
		step = g.total / 64 + 1; /* a sample of at most 64 */
		for (i = 0; i < g.total; i += step) {
			int r1 = ug_url(&g, i, a, sizeof a), r2 = ug_url(&g, i, b, sizeof b);

			if (r1 != r2 || (r1 == 0 && (strlen(a) >= sizeof a || strcmp(a, b))))
				abort();
			if (ug_name(&g, i, s, a, sizeof a) == 0 && strlen(a) >= sizeof a)
				abort();
		}
		ug_free(&g);
	}
	free(s);
	return 0;
}
