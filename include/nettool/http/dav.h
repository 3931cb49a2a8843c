#ifndef NETTOOL_HTTP_DAV_H
#define NETTOOL_HTTP_DAV_H
/*
 * http-serve --webdav (RFC 4918): PROPFIND of the live properties, its
 * multistatus made while it is sent (a folder of any size in bounded
 * memory). Depth 0 and 1; infinity is refused with 403 and the
 * propfind-finite-depth precondition, as section 9.1 allows.
 */
#include "nettool/http/serve_conn.h"

#define DAV_BODY_MAX (64 * 1024) /* the largest request body's XML */

#define DAV_DEPTH_MAX 64 /* folders within folders that DELETE goes through */

/* What a DELETE could not remove, for its 207 (RFC 4918 9.6.1): the
 * members themselves, not the folders that fail with them. */
#define DAV_FAILS 64
struct dav_fails {
	struct buf hrefs;        /* escaped, each ended by a NUL */
	int status[DAV_FAILS];
	int n;
};

/* DELETE of a folder (urlpath): all it holds (links removed, never
 * followed), then itself; what cannot go is listed in f (may be NULL)
 * and the rest still goes. 0; -1: some members stay (in f); or the
 * errno of the folder itself. */
int hs_dav_rmtree(const char *path, const char *urlpath, struct dav_fails *f);
/* The 207 of f's members (its list freed). */
void hs_dav_fails_reply(struct conn *c, struct dav_fails *f);

/* COPY and MOVE's Destination (RFC 4918 10.3): on this server (its
 * authority the request's Host, else 502), mapped as a target is. 0, or
 * a status. */
int hs_dav_destination(struct conn *c, char *dfs, size_t dlen, char *durl, size_t ulen);
/* COPY (move 0) or MOVE of fs to dfs: Overwrite (T by default; F and an
 * existing target: 412), Depth 0 or infinity for a folder; a file goes
 * through a temporary renamed into place. 201, 204, or the status of the
 * first thing that failed. */
void hs_dav_copy_move(struct conn *c, char *fs, const char *urlpath, char *dfs,
		      const char *durl, int move);

/* With locks: may this write to urlpath (deep: and what is below it, a
 * DELETE or MOVE of a folder) go on, by the If header? 0, or -1 with 412
 * or 423 sent. */
int hs_dav_may_write(struct conn *c, const char *fs, const char *urlpath, int deep);
/* LOCK (a lockinfo body: a new lock, the resource made when absent; none:
 * a refresh by the If header's token) and UNLOCK (the Lock-Token). */
void hs_dav_lock(struct conn *c, const char *fs, const char *urlpath);
void hs_dav_unlock(struct conn *c, const char *urlpath);
/* Start a PROPPATCH of fs: its body taken in, then set and remove, all
 * or none, and a 207 of each property's status. */
void hs_dav_proppatch(struct conn *c, const char *fs, const char *urlpath);
/* Start a PROPFIND of fs (the decoded urlpath): its answer, or its body
 * taken in first (c->up and c->body_done). */
void hs_dav_propfind(struct conn *c, const char *fs, const char *urlpath);

#endif
