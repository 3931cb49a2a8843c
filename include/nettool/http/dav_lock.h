#ifndef NETTOOL_HTTP_DAV_LOCK_H
#define NETTOOL_HTTP_DAV_LOCK_H
/*
 * WebDAV class 2 (RFC 4918 sections 6, 7, 9.10, 9.11, 10.4): write
 * locks, exclusive and shared, Depth 0 and infinity, with timeouts and
 * refresh; the If header's lists of state tokens and entity tags. Kept in
 * memory, shared by the workers under a lock, at most DAV_LOCKS at once
 * (expired ones go first); none outlives the process.
 */
#include "nettool/base/buf.h"
#include <pthread.h>
#include <time.h>

#define DAV_LOCKS 1024
#define DAV_LOCK_TIMEOUT 600      /* seconds, when the client asks none */
#define DAV_LOCK_TIMEOUT_MAX 86400

struct dav_lock {
	char token[64];           /* "opaquelocktoken:..." */
	char path[1024];          /* the locked URL path, decoded, no trailing '/' */
	int infinite, shared;
	time_t expires;
	char owner[1024];         /* the owner element, serialized, or "" */
};

struct hs_locks {
	pthread_mutex_t mu;
	struct dav_lock v[DAV_LOCKS];
	int n;
};

void hs_locks_init(struct hs_locks *L);
void hs_locks_free(struct hs_locks *L);

/* May a write to urlpath (and, for a folder with infinity, below it) go
 * on, given the If header (NULL when none) and the resource's current
 * ETag (NULL when it has none)? 0, 412 (the If header is false) or 423
 * (locked, and no token of it submitted). */
int hs_lock_may_write(struct hs_locks *L, const char *urlpath, int below, const char *ifh,
		      const char *etag, time_t now);
/* The locks on urlpath as an activelock list (lockdiscovery's content). */
void hs_lock_discovery(struct hs_locks *L, const char *urlpath, const char *href,
		       struct buf *b, time_t now);
/* Locks on urlpath and below it end (the resource was deleted or moved). */
void hs_lock_drop(struct hs_locks *L, const char *urlpath);

/* A new lock: 0 with its token in tok, or 423 when one conflicts. */
int hs_lock_new(struct hs_locks *L, const char *urlpath, int infinite, int shared,
		const char *owner, long timeout, time_t now, char tok[64]);
/* Refresh the lock whose token the If header submits, for urlpath: 0, or
 * 412 when none does. tok gets its token. */
int hs_lock_refresh(struct hs_locks *L, const char *urlpath, const char *ifh, long timeout,
		    time_t now, char tok[64]);
/* UNLOCK: 0, or 409 when the token holds no lock on urlpath. */
int hs_lock_remove(struct hs_locks *L, const char *urlpath, const char *token);
/* The Timeout header: seconds asked ("Second-N", "Infinite"), bounded. */
long hs_lock_timeout(const char *h);

#endif
