#ifndef NETTOOL_INFILE_H
#define NETTOOL_INFILE_H

#include "nettool/proto/sha256.h"

#include <limits.h>
#include <stdint.h>

/*
 * A file coming in: written to a temporary beside its path and renamed
 * into place only once its end checks out, so that a transfer cut short
 * leaves nothing under the path. A device or FIFO (-o /dev/null) is
 * written in place; no path: standard output. The caller writes to fd,
 * counts bytes and, when digest is set, keeps sha up to date.
 */
struct infile {
	int fd;
	char tmp[PATH_MAX];      /* the temporary, or "" */
	struct sha256 sha;
	uint64_t bytes;
	int digest, done;
	int checked;             /* done: its SHA-256 matched the sender's */
};

/* 0, or -1 with err filled. */
int infile_open(struct infile *f, const char *path, int digest, char *err);
/* The end: the sender's size and SHA-256 (32 bytes; all zero: it has
 * none) are checked, then the file is synced (sync), closed and renamed
 * to path. hex gets the SHA-256 computed ("" without digest); checked
 * says whether the sender's was there to match it. 0 done, 1
 * the size or SHA-256 differs, -1 with err filled; after either, call
 * infile_abort. */
int infile_finish(struct infile *f, const char *path, uint64_t size,
		  const unsigned char *sha, int sync, char hex[65], char *err);
/* Closes the file and removes the temporary, if any. */
void infile_abort(struct infile *f);

#endif
