#ifndef NETTOOL_HTTP_UPLOAD_H
#define NETTOOL_HTTP_UPLOAD_H

#include "nettool/base/buf.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * http-serve's uploads: a PUT body or the files of a multipart form,
 * each written to a temporary file in its target's directory and renamed
 * into place only when the whole body has arrived. Anything cut short
 * leaves nothing behind. The caller has checked the paths; this is the
 * file side.
 */
#define HU_TMP_PREFIX ".nettool-up-" /* temporaries: hidden from listings */

struct hu_opts {
	int overwrite; /* replace existing files */
	int dotfiles;  /* allow names starting with '.' */
	mode_t mode;   /* of new files */
};

struct hs_upload;

/* A PUT of fs (absent, or a regular file to replace). Returns 0 with
 * *up set, or the HTTP status to answer (409, 500, 507...). */
int hu_put(const struct hu_opts *o, const char *fs, struct hs_upload **up);

/* A form POST into directory dir; content_type gives the boundary.
 * Returns 0 with *up set, or the status (400 without a boundary). */
int hu_form(const struct hu_opts *o, const char *dir, const char *content_type,
	    struct hs_upload **up);

/* A body kept in memory, at most max bytes (413 beyond): a request's
 * XML. 0 with *up set, or a status. */
int hu_memory(const struct hu_opts *o, size_t max, struct hs_upload **up);
/* Its bytes, once hu_data has had them all. */
const struct buf *hu_memory_body(const struct hs_upload *up);

/* Body bytes. Returns 0, or the status to answer: 400 (a bad form), 403
 * (a bad file name), 409 (a file exists), 507 (the disk is full), 500. */
int hu_data(struct hs_upload *up, const char *p, size_t n);

/*
 * The body ended: rename the files into place. Returns 201 (a new file),
 * 204 (a file replaced) or, for a form, 201 with page holding an HTML
 * list of what was stored (dir_url, HTML-escaped, is the way back); or
 * the error status.
 */
int hu_finish(struct hs_upload *up, const char *dir_url, struct buf *page);

/* Whether body bytes may go to the file straight from the socket (a
 * PUT: they need no parsing). */
int hu_direct(const struct hs_upload *up);

/*
 * Move up to max body bytes from the non-blocking socket sock into the
 * file, in pieces of up to 1 MiB (by splice() where the system has it).
 * Returns the bytes moved (0: none waiting), or
 * -1: *st is the status for a disk error, or 0 when the socket failed or
 * the peer closed.
 */
ssize_t hu_from_socket(struct hs_upload *up, int sock, uint64_t max, int *st);

/* Remove any temporary and free up (NULL is fine). */
void hu_free(struct hs_upload *up);

/* Whether a file name may be written: not empty, no '/', not "." or
 * "..", no control character, no leading '.' unless dotfiles. */
int hu_name_ok(const char *name, int dotfiles);

#endif
