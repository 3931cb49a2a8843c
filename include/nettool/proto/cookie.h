#ifndef NETTOOL_PROTO_COOKIE_H
#define NETTOOL_PROTO_COOKIE_H
/*
 * HTTP cookies as RFC 6265 keeps them: Set-Cookie parsed and stored by
 * its rules for domain, path and expiry (Max-Age over Expires, host-only
 * cookies, Secure ones never sent on an insecure channel nor set from
 * one), the Cookie header for a request, and the Netscape cookie-file
 * format curl and wget read and write. Pure: the caller gives the time
 * and does the file I/O. Bounded: a cookie of at most COOKIE_MAX_LEN
 * bytes of name and value, at most COOKIE_MAX_ALL in a jar and
 * COOKIE_MAX_DOMAIN for one domain (the oldest give way).
 */
#include "nettool/base/buf.h"
#include <stddef.h>
#include <stdint.h>

#define COOKIE_MAX_LEN 4096
#define COOKIE_MAX_ALL 3000
#define COOKIE_MAX_DOMAIN 150

struct cookie {
	char *name, *value, *domain, *path; /* one allocation, from name */
	int64_t expires;                    /* Unix time; 0: for this run only */
	int host_only, secure, http_only;
	uint64_t seq;                       /* creation order */
};

struct cookie_jar {
	struct cookie *v;
	size_t n, cap;
	uint64_t seq;
};

void cookie_jar_init(struct cookie_jar *j);
void cookie_jar_free(struct cookie_jar *j);

/* A Set-Cookie field's value, received from host for the request path
 * (the target without its query), over a secure channel or not, at now.
 * 1: stored (or a stored one removed, for an expiry in the past); 0:
 * ignored, as RFC 6265 says; -1: out of memory. */
int cookie_set(struct cookie_jar *j, const char *field, const char *host, const char *path,
	       int secure, int64_t now);

/* The Cookie header's value for a request to host and path: the cookies
 * that match, longer paths first, then older ones, appended to b as
 * "n1=v1; n2=v2". Returns how many; -1: out of memory. */
int cookie_header(const struct cookie_jar *j, struct buf *b, const char *host, const char *path,
		  int secure, int64_t now);

/* One line of a Netscape cookie file: stored unless it is a comment, a
 * blank line, expired, or a cookie for this run only when junk_session
 * is set. 1 stored, 0 not, -1 out of memory, -2 no cookie line. */
int cookie_load_line(struct cookie_jar *j, const char *line, int junk_session, int64_t now);

/* The jar as a Netscape cookie file, expired cookies left out. -1: out
 * of memory. */
int cookie_save(const struct cookie_jar *j, struct buf *b, int64_t now);

/* A cookie date (RFC 6265 section 5.1.1, the lenient algorithm every
 * browser follows) as Unix time. 0, or -1 when it is none. */
int cookie_date_parse(const char *s, int64_t *t);

#endif
