#define _XOPEN_SOURCE 700 /* realpath */
#include "nettool/http/client_out.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Whether the file is written to a temporary and renamed into place: when
 * it is absent or a regular file. A symbolic link is followed, so the
 * file it names is replaced, not the link.
 */
static int replaceable(struct hc_out *o)
{
	struct stat st;
	char *real;

	if (lstat(o->path, &st) < 0)
		return 1;
	if (S_ISLNK(st.st_mode) && (real = realpath(o->path, NULL))) {
		snprintf(o->path, sizeof o->path, "%s", real);
		free(real);
	}
	if (stat(o->path, &st) < 0)
		return 1;
	return S_ISREG(st.st_mode);
}

/* The mode open(path, O_CREAT, 0666) would give: an existing file's own,
 * else 0666 less the umask. */
static mode_t output_mode(const char *path)
{
	struct stat st;
	mode_t mask;

	if (stat(path, &st) == 0)
		return st.st_mode & 07777;
	mask = umask(022);
	umask(mask);
	return 0666 & ~mask;
}

/* --create-dirs: each missing folder on the way to path, as mkdir -p. */
static int make_dirs(const char *path, char *err)
{
	char dir[4096];
	char *p;

	snprintf(dir, sizeof dir, "%s", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p && *p != '/')
			continue;
		int last = !*p;

		*p = '\0';
		if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
			nt_seterr(err, "%s: %s", dir, strerror(errno));
			return -1;
		}
		if (last)
			return 0;
		*p = '/';
	}
}

int hc_out_open(struct hc_out *o, int append, char *err)
{
	if (!o->path[0]) {
		o->fd = STDOUT_FILENO;
		return 0;
	}
	if (o->create_dirs && make_dirs(o->path, err) < 0)
		return -1;
	if (append || !replaceable(o)) {
		o->fd = open(o->path, O_WRONLY | O_CLOEXEC | (append ? O_APPEND : 0));
		if (o->fd < 0)
			nt_seterr(err, "%s: %s", o->path, strerror(errno));
	} else {
		snprintf(o->tmp, sizeof o->tmp, "%s.nettool-XXXXXX", o->path);
		o->fd = mkstemp(o->tmp);
		if (o->fd < 0) {
			o->tmp[0] = '\0';
			nt_seterr(err, "%s: cannot create a file beside it: %s", o->path,
				  strerror(errno));
		} else {
			fchmod(o->fd, output_mode(o->path));
		}
	}
	return o->fd < 0 ? -1 : 0;
}

void hc_out_discard(struct hc_out *o)
{
	if (o->fd > STDERR_FILENO)
		close(o->fd);
	o->fd = -1;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = '\0';
}

int hc_out_finish(struct hc_out *o, char *err)
{
	if (o->fd == STDOUT_FILENO || o->fd < 0) {
		o->fd = -1;
		return 0;
	}
	if (close(o->fd) < 0) {
		o->fd = -1;
		nt_seterr(err, "write %s: %s", o->path, strerror(errno));
		hc_out_discard(o);
		return -1;
	}
	o->fd = -1;
	if (o->tmp[0] && rename(o->tmp, o->path) < 0) {
		nt_seterr(err, "rename to %s: %s", o->path, strerror(errno));
		hc_out_discard(o);
		return -1;
	}
	o->tmp[0] = '\0';
	return 0;
}

long long hc_out_size(const struct hc_out *o)
{
	struct stat st;

	return o->path[0] && stat(o->path, &st) == 0 ? (long long)st.st_size : 0;
}
