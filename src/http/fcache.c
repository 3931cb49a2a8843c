#define _XOPEN_SOURCE 700 /* realpath */
#include "nettool/http/fcache.h"
#include "nettool/proto/http.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

const char *fcache_mime(const char *path)
{
	static const char *const table[][2] = {
		{ ".html", "text/html; charset=utf-8" }, { ".htm", "text/html; charset=utf-8" },
		{ ".txt", "text/plain; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" }, { ".json", "application/json" },
		{ ".xml", "application/xml" }, { ".svg", "image/svg+xml" },
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" },
		{ ".gif", "image/gif" }, { ".webp", "image/webp" }, { ".ico", "image/x-icon" },
		{ ".pdf", "application/pdf" }, { ".zip", "application/zip" },
		{ ".gz", "application/gzip" }, { ".tar", "application/x-tar" },
		{ ".wasm", "application/wasm" }, { ".mp4", "video/mp4" },
		{ ".mp3", "audio/mpeg" }, { ".woff2", "font/woff2" }, { ".md", "text/markdown; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	size_t i;

	if (dot && (!slash || dot > slash))
		for (i = 0; i < sizeof table / sizeof table[0]; i++)
			if (!strcasecmp(dot, table[i][0]))
				return table[i][1];
	return "application/octet-stream";
}

void fcache_validators(const struct stat *st, char *etag, size_t elen, char *lm, size_t llen)
{
	/* the inode and the time to the nanosecond too: a file replaced by
	 * one of the same size within the same second gets a new tag */
	snprintf(etag, elen, "\"%llx-%llx-%llx\"", (unsigned long long)st->st_ino,
		 (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
		 (unsigned long long)st->st_mtim.tv_nsec, (unsigned long long)st->st_size);
	http_date_format(st->st_mtime, lm, llen);
}

int fcache_root_open(struct fcache_root *r, const char *dir, int follow, char *err)
{
	struct stat st;

	memset(r, 0, sizeof *r);
	r->fd = -1;
	r->follow = follow;
	errno = 0;
	if (!realpath(dir, r->path) || stat(r->path, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    (r->fd = open(r->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		nt_seterr(err, "%s: %s", dir, errno ? strerror(errno) : "not a directory");
		return -1;
	}
	r->len = strlen(r->path); /* paths below it are ROOT/... ("//..." for "/") */
	r->fw = fwatch_new(r->path, err); /* without it, a stat per use */
	return 0;
}

void fcache_root_close(struct fcache_root *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	fwatch_free(r->fw);
	r->fw = NULL;
}

/* Whether fs, after symlinks, is inside the root; -1 with errno set when
 * that cannot be told (it does not exist, or out of descriptors). */
int fcache_inside(const struct fcache_root *r, const char *fs)
{
	char *real = realpath(fs, NULL);
	int ok;

	if (!real)
		return -1;
	ok = !strncmp(real, r->path, r->len) &&
	     (real[r->len] == '\0' || real[r->len] == '/' || (r->len == 1 && r->path[0] == '/'));
	free(real);
	return ok;
}

static void fent_drop(struct fent *e)
{
	if (e->path) {
		if (e->fd >= 0)
			close(e->fd);
		free(e->path);
		free(e->data);
	}
	memset(e, 0, sizeof *e);
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The path below the root, "." for the root itself. */
static const char *below_root(const struct fcache_root *r, const char *fs)
{
	return fs[r->len] ? fs + r->len + 1 : ".";
}

/* Whether entry e still names the file it holds, unchanged. */
static int fent_current(const struct fcache_root *r, struct fent *e, uint64_t now,
			const char *fs, struct stat *st)
{
	if (!e->path || now >= e->expires || strcmp(e->path, fs))
		return 0;
	if (e->watched) {
		if (!fwatch_unchanged(r->fw, &e->tok))
			return 0;
		*st = e->st;
		return 1;
	}
	return fstatat(r->fd, below_root(r, fs), st, 0) == 0 && same_file(st, &e->st);
}

/* Fill e for fs, whose descriptor (a file) is nfd or -1 (a directory). */
static int fent_fill(struct fent *e, const char *fs, int nfd, struct stat *st, uint64_t now)
{
	if ((nfd >= 0 && fstat(nfd, st) < 0) || !(e->path = strdup(fs)))
		return -1;
	e->fd = nfd;
	e->st = *st;
	if (nfd >= 0 && st->st_size > 0 && st->st_size <= FCACHE_INLINE_MAX &&
	    (e->data = malloc((size_t)st->st_size)) &&
	    pread(nfd, e->data, (size_t)st->st_size, 0) != (ssize_t)st->st_size) {
		free(e->data);
		e->data = NULL;
	}
	e->expires = now + FCACHE_MS;
	if (nfd >= 0) { /* what serving a file needs; a directory, only its checks */
		fcache_validators(st, e->etag, sizeof e->etag, e->lm, sizeof e->lm);
		e->mime = fcache_mime(fs);
	}
	return 0;
}

int fcache_lookup(struct fcache *c, uint64_t now, const char *fs, struct stat *st,
		  int *inside, const struct fent **out)
{
	const struct fcache_root *r = c->root;
	uint32_t h = 2166136261u;
	const char *p;
	struct fent *e;
	struct fwatch_tok tok;
	int nfd, watched;

	for (p = fs; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	e = &c->slot[h % FCACHE_SLOTS];
	if (fent_current(r, e, now, fs, st)) {
		*inside = e->inside;
		*out = e;
		return 0;
	}
	*inside = r->follow ? 1 : fcache_inside(r, fs);
	*out = NULL;
	if (*inside < 0 || stat(fs, st) < 0)
		return -1;
	if (!*inside || !(S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)))
		return 0;
	/* watched before it is opened, so no change can fall in between */
	watched = r->fw && fwatch_track(r->fw, fs + r->len + !!fs[r->len], &tok) == 0;
	if (!S_ISDIR(st->st_mode))
		nfd = open(fs, O_RDONLY | O_CLOEXEC);
	else if ((nfd = -1, stat(fs, st) < 0))
		return -1;
	if (S_ISREG(st->st_mode) ? nfd < 0 : !S_ISDIR(st->st_mode)) {
		if (nfd >= 0)
			close(nfd);
		return 0; /* not to be cached, or changed under us */
	}
	fent_drop(e);
	if (fent_fill(e, fs, nfd, st, now) < 0) {
		if (nfd >= 0)
			close(nfd);
		fent_drop(e);
		return 0;
	}
	e->inside = *inside;
	e->watched = watched;
	if (watched)
		e->tok = tok;
	*out = e;
	return 0;
}

void fcache_free(struct fcache *c)
{
	size_t i;

	for (i = 0; i < FCACHE_SLOTS; i++)
		fent_drop(&c->slot[i]);
}

