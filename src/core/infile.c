#include "nettool/core/infile.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether path may be replaced by a rename: absent, or a regular file. */
static int replaceable(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? errno == ENOENT : S_ISREG(st.st_mode);
}

int infile_open(struct infile *f, const char *path, int digest, char *err)
{
	memset(f, 0, sizeof *f);
	f->digest = digest;
	sha256_init(&f->sha);
	f->fd = STDOUT_FILENO;
	if (path && !replaceable(path)) {
		if ((f->fd = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
			nt_seterr(err, "%s: %s", path, strerror(errno));
			return -1;
		}
	} else if (path) {
		snprintf(f->tmp, sizeof f->tmp, "%s.nettool-XXXXXX", path);
		if ((f->fd = mkstemp(f->tmp)) < 0) {
			nt_seterr(err, "cannot create a file beside %s: %s", path, strerror(errno));
			f->tmp[0] = '\0';
			return -1;
		}
		fchmod(f->fd, 0644);
	}
	return 0;
}

int infile_finish(struct infile *f, const char *path, uint64_t size,
		  const unsigned char *sha, int sync, char hex[65], char *err)
{
	static const unsigned char none[32];
	unsigned char d[32];

	hex[0] = '\0';
	if (f->digest) {
		sha256_final(&f->sha, d);
		sha256_hex(d, hex);
	}
	f->checked = f->digest && memcmp(sha, none, 32) != 0;
	if (size != f->bytes || (f->checked && memcmp(d, sha, 32)))
		return 1;
	if (f->fd != STDOUT_FILENO && !f->tmp[0] && close(f->fd) < 0) {
		f->fd = -1;
		nt_seterr(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (f->tmp[0] && ((sync && fsync(f->fd) < 0) || close(f->fd) < 0 ||
			  rename(f->tmp, path) < 0)) {
		f->fd = -1;
		nt_seterr(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	f->fd = -1;
	f->tmp[0] = '\0';
	f->done = 1;
	return 0;
}

void infile_abort(struct infile *f)
{
	if (f->fd >= 0 && f->fd != STDOUT_FILENO)
		close(f->fd);
	f->fd = -1;
	if (f->tmp[0])
		unlink(f->tmp);
	f->tmp[0] = '\0';
}
