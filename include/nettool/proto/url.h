#ifndef NETTOOL_URL_H
#define NETTOOL_URL_H

#include <stddef.h>

/* URLs of the form http://[user:pass@]host[:port]/path?query#fragment.
 * Pure: no I/O. */
#define URL_MAX 8192

struct url {
	char scheme[16];   /* lower case */
	char userinfo[256];/* as given (percent-encoded), "" when absent */
	int has_userinfo;
	char host[256];    /* without the brackets of an IPv6 literal */
	int ipv6;          /* host was [bracketed] */
	unsigned port;     /* the default for the scheme when absent */
	int has_port;
	char target[URL_MAX]; /* path and query as given; "/" when empty */
};

/*
 * Parse an absolute URL. Refuses control characters, spaces and anything
 * past the limits. Returns 0, or -1 with err filled.
 */
int url_parse(const char *s, struct url *u, char *err);

/* "host", "host:port" or "[v6]:port" for a Host header (port only when
 * not the scheme's default) into out (at least 300 bytes). */
void url_host_header(const struct url *u, char *out, size_t len);

/*
 * Resolve a reference (a Location) against an absolute base URL as
 * RFC 3986 section 5.2 says, into out. Returns 0, or -1 with err filled.
 */
int url_resolve(const char *base, const char *ref, char *out, size_t len, char *err);

/* Decode %XX in place; returns -1 on a bad escape. */
int url_unescape(char *s);
/* The name a download of u is saved under (curl's -O): its path's last
 * segment, decoded, or index.html when that is empty, too long, or no
 * plain name (a '/', "." or ".."). */
void url_file_name(const struct url *u, char *out, size_t len);

struct buf;
/* Append s percent-encoded but for RFC 3986 unreserved characters. */
int url_escape(struct buf *b, const char *s);
/* The same for n bytes, NUL included. */
int url_escape_n(struct buf *b, const char *s, size_t n);
/* The same as application/x-www-form-urlencoded: a space as '+'. */
int url_escape_form(struct buf *b, const char *s, size_t n);
/* Append a decoded path in URL form: each segment escaped, '/' kept. */
int url_escape_path(struct buf *b, const char *path);

/*
 * Map a request target (origin or absolute form) to a path under root.
 * Each segment is decoded on its own, so an encoded slash is never a
 * separator; "." is dropped and ".." resolved without climbing above the
 * root; %00 is refused. Fills urlpath (decoded, normalized, starting with
 * '/') and fs (root, then "/SEGMENT" for each segment: never a "." or ".."
 * segment, an empty one, or a NUL) and *slash_end. Returns 0, or the HTTP
 * status to answer: 400, 404 (an encoded slash) or 414.
 */
int url_map_path(const char *root, const char *target, char *urlpath, size_t ulen,
		 char *fs, size_t flen, int *slash_end);

#endif
