#ifndef NETTOOL_HTTP_TAR_STREAM_H
#define NETTOOL_HTTP_TAR_STREAM_H
/*
 * A folder as a tar stream, made while it is sent: the folder is walked
 * one entry at a time (a stack of open folders, at most TAR_DEPTH deep),
 * small files are read into the stream, large ones handed to the caller
 * to send by sendfile. No temporary file; memory bounded by the batch
 * (TAR_BATCH) and the depth. Inside the served root only: a symbolic
 * link is followed when it leads to a file inside the root (or anywhere,
 * with follow), a link to a folder is left out (no loop), as are other
 * kinds of files and names starting with hide.
 */
#include "nettool/base/buf.h"
#include "nettool/http/fcache.h"
#include <stdint.h>

#define TAR_DEPTH 64
#define TAR_BATCH (256 * 1024)
#define TAR_INLINE (64 * 1024)  /* a file this small goes into the batch */

struct hs_tar;

/* The tar of folder fs, its members under top/. chunked: framed as
 * HTTP/1.1 chunks. NULL when the folder cannot be opened. */
struct hs_tar *hs_tar_new(const struct fcache_root *root, const char *fs, const char *top,
			  int follow, int chunked, const char *hide);
/* The next piece into out (emptied first), and a file for the caller to
 * send after it (*fd, *size; -1 for none; the caller closes it). 1: more
 * follows; 0: this was the end; -1: an error (errno set). */
int hs_tar_next(struct hs_tar *t, struct buf *out, int *fd, uint64_t *size);
void hs_tar_free(struct hs_tar *t);
/* The two as a struct hs_stream takes them. */
int hs_tar_next_fn(void *t, struct buf *out, int *fd, uint64_t *size);
void hs_tar_free_fn(void *t);

#endif
