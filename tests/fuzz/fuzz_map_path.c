/*
 * Fuzz the mapping of a request target to a file path. The invariant a
 * static server stands on: whatever the target, an accepted path is the
 * root followed by segments that are neither empty, ".", nor "..", so it
 * never names anything above the root; the URL path is its image.
 */
#include "nettool/base/buf.h"
#include "nettool/proto/url.h"

#include <stdlib.h>
#include <string.h>

#define ROOT "/srv/www"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Abort unless fs is ROOT then "/SEGMENT" parts, none empty, "." or "..". */
static void check_confined(const char *fs, const char *urlpath)
{
	const char *p = fs + strlen(ROOT), *u = urlpath;

	if (strncmp(fs, ROOT, strlen(ROOT)) || urlpath[0] != '/')
		abort();
	while (*p) {
		size_t n;

		if (*p != '/')
			abort();
		n = strcspn(++p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)))
			abort();
		p += n;
	}
	/* the URL path names the same segments */
	if (strncmp(u, fs + strlen(ROOT), strlen(fs + strlen(ROOT))))
		abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *target = malloc(size + 1), fs[4096], up[URL_MAX + 2];
	struct buf b = { NULL, 0, 0 };
	int slash;

	if (!target)
		return 0;
	memcpy(target, data, size);
	target[size] = '\0';
	if (url_map_path(ROOT, target, up, sizeof up, fs, sizeof fs, &slash) == 0) {
		check_confined(fs, up);
		/* escaped back into URL form, it maps to the same path */
		if (url_escape_path(&b, up) == 0 && buf_putc(&b, '\0') == 0 &&
		    b.len < URL_MAX) {
			char fs2[4096], up2[URL_MAX + 2];
			int slash2;

			if (url_map_path(ROOT, b.data, up2, sizeof up2, fs2, sizeof fs2, &slash2) != 0 ||
			    strcmp(fs, fs2))
				abort();
		}
	}
	buf_free(&b);
	free(target);
	return 0;
}
