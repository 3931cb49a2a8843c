#ifndef NETTOOL_FCACHE_H
#define NETTOOL_FCACHE_H

#include "nettool/core/fwatch.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/*
 * The files a static server serves: the root and confinement to it, a
 * per-thread cache of open files with their validators and (when small)
 * their bytes, kept true by change notification (fwatch) where the
 * system has it and the path allows, else by a stat per use; MIME types.
 */

#define FCACHE_SLOTS 512
#define FCACHE_INLINE_MAX (64 * 1024) /* files up to this are kept in memory */
#define FCACHE_MS 1000                /* longest an entry is trusted */

/* The served directory, shared read-only by every thread. */
struct fcache_root {
	char path[PATH_MAX];   /* absolute, without symlinks */
	size_t len;
	int fd;                /* so a stat walks only the path below it */
	int follow;            /* symlinks may lead out of the root */
	struct fwatch *fw;     /* or NULL: then a stat per use */
};

/* A file or directory recently looked up. */
struct fent {
	char *path;
	char *data;             /* the whole file when small */
	int fd, inside;
	int watched;            /* tok tells whether it changed, else a stat */
	struct fwatch_tok tok;
	struct stat st;
	uint64_t expires;
	char etag[64], lm[40];  /* files only, formatted once */
	const char *mime;
};

/* One thread's cache. */
struct fcache {
	const struct fcache_root *root;
	struct fent slot[FCACHE_SLOTS];
};

/* Open dir as the root. Returns 0, or -1 with err filled. */
int fcache_root_open(struct fcache_root *r, const char *dir, int follow, char *err);
void fcache_root_close(struct fcache_root *r);
/* Whether fs, after symlinks, is inside the root (whatever follow says);
 * -1 with errno set when that cannot be told (it does not exist...). */
int fcache_inside(const struct fcache_root *r, const char *fs);

/*
 * Look up fs (a path that url_map_path made under the root) at time now
 * (ms): 0 with its metadata, *inside (whether it lies inside the root
 * after symlinks) and, for a regular file or directory inside it, *e:
 * the cache's entry (a file's descriptor and validators), valid until
 * the next lookup; -1 with errno set when it cannot be looked up (ENOENT,
 * ENOTDIR: it does not exist; EACCES; EMFILE...). A file changed or replaced
 * is seen by the next lookup that starts after the change.
 */
int fcache_lookup(struct fcache *c, uint64_t now, const char *fs, struct stat *st,
		  int *inside, const struct fent **e);

void fcache_free(struct fcache *c);


/* The Content-Type for path's extension. */
const char *fcache_mime(const char *path);

/* A strong ETag (inode, mtime to the nanosecond, size) and a
 * Last-Modified for st. */
void fcache_validators(const struct stat *st, char *etag, size_t elen, char *lm, size_t llen);

#endif
