#ifndef NETTOOL_HTTP_CLIENT_COOKIE_H
#define NETTOOL_HTTP_CLIENT_COOKIE_H
/*
 * curl's cookie options for the client: -b NAME=VALUE strings sent as
 * given, -b FILE and -c FILE (Netscape cookie files, read and written
 * whole), -j; the jar between them kept by proto/cookie.c's rules for
 * every request of a run, redirects included.
 */
#include "nettool/base/buf.h"
#include "nettool/proto/cookie.h"
#include "nettool/proto/http.h"
#include "nettool/proto/url.h"

#define HC_COOKIE_FILES 16

struct hc_cookies {
	struct cookie_jar jar;
	struct buf given;             /* -b strings, joined with "; " */
	const char *files[HC_COOKIE_FILES];
	int nfiles;
	const char *save_path;        /* -c FILE, "-" for stdout */
	int junk_session;             /* -j */
	struct buf header;            /* the last Cookie header made */
	char warn[300];               /* lines of a -b file that were no cookies */
};

/* -b: a string with '=' is sent as it is, anything else is a file read by
 * hc_cookies_load. For cmd.h's OPT_FUNC: 0, or -1 with err filled. */
int hc_opt_cookie(void *field, const char *arg, char *err);
/* Read the -b files (one that does not exist is an empty jar); lines
 * that are no cookie lines are skipped, and warn says where. 0, or -1
 * with err filled. */
int hc_cookies_load(struct hc_cookies *c, char *err);
/* The Cookie header's value for a request to u, or NULL for none. Valid
 * until the next call. */
const char *hc_cookies_for(struct hc_cookies *c, const struct url *u);
/* Keep what the response to a request for u sets, when cookies are kept
 * (a -b file or -c). */
void hc_cookies_take(struct hc_cookies *c, const struct http_parser *hp, const struct url *u);
/* -c: write the jar (a temporary renamed into place). 0, or -1 with err
 * filled. */
int hc_cookies_save(struct hc_cookies *c, char *err);
void hc_cookies_free(struct hc_cookies *c);

#endif
