#ifndef NETTOOL_HTTP_FETCH_H
#define NETTOOL_HTTP_FETCH_H
/*
 * A transfer as http-get makes it, over the client of client.h: the
 * request the options describe, redirects followed, the response's head
 * and body written where they go (client_out.h), cookies kept
 * (client_cookie.h), failed tries made again (client_retry.h). What a
 * person should read goes to the say hook; the progress bar, when bar
 * is set, is drawn on standard error.
 */
#include "nettool/base/rate.h"
#include "nettool/base/util.h"
#include "nettool/core/sockopt.h"
#include "nettool/http/client.h"
#include "nettool/http/client_cookie.h"
#include "nettool/http/client_out.h"
#include "nettool/http/client_retry.h"
#include <pthread.h>
#include <time.h>

#define HC_MAX_OUTS 4096
#define HC_MAX_OPERANDS 100000

struct hc_get_opts {
	char **urls;            /* the operands */
	int nurls;
	struct hc_outs {        /* -o FILE, or NULL for -O: one a URL, in order */
		const char *v[HC_MAX_OUTS];
		int n;
	} outs;
	int remote_all, globoff, parallel;
	unsigned long parallel_max;
	const char *method, *user, *upload;
	const char *proxy_url, *noproxy, *unix_path;
	struct proxy proxy;     /* from -x or http_proxy; type PROXY_NONE: none */
	struct hc_headers extra;
	struct hc_data body;   /* -d, --data-binary, --data-urlencode, --json */
	struct hc_form form;
	unsigned long max_redirs;
	int head, include, verbose, fail, follow, connect_ms, max_ms;
	const char *write_out;  /* -w FORMAT, or @FILE */
	struct hc_retry retry;
	struct hc_cookies cookies;
	int family, silent, progress, resume, get_query;
	int show_error, fail_body, remote_time, create_dirs;
	const char *dump_path;  /* -D: the heads to FILE, - stdout */
	const char *config;     /* -K: read before the others */
	const char *agent, *referer, *range;
	int referer_auto;       /* -e ';auto': on a redirect, the URL left */
	uint64_t limit_rate;    /* bytes a second each way; 0: none */
	struct hc_aliases aliases;
	struct sockopts so;
};

/* One transfer: its URL, route and state, and where the body goes. */
struct hc_fetch {
	const struct hc_get_opts *o;
	const char *url;        /* with -G, the URL with the data as its query */
	struct hc_body body;
	struct hc_route route;
	struct hc_conn *conn;   /* shared by the transfers of one run, in turn */
	struct hc_out out;
	struct hc_cookies *cookies;
	const struct url *u;    /* the URL being fetched */
	unsigned long long got, total;
	uint64_t started, drawn;
	int bar, uploading;
	int redirect;           /* the response is a redirect to follow */
	/* for --write-out */
	uint64_t t0, t_last;    /* the start; the last request's (us) */
	unsigned long redirs;
	uint64_t body_in, head_in;
	char method[HC_METHOD_MAX];
	char url_eff[URL_MAX], redirect_url[URL_MAX];
	char errmsg[NT_ERR_LEN];
	int wout_trunc;         /* %output{FILE} truncated once */
	int got_head;           /* the last request's response head came */
	/* --retry */
	struct hc_retry retry;
	int retry_status;       /* the response is dropped to be tried again */
	long long retry_wait;   /* ms before that */
	uint64_t wrote;         /* bytes this attempt put into the output */
	int dump_fd;            /* -D, or -1 */
	int http_fail;          /* --fail-with-body: the status to end with */
	time_t last_modified;   /* -R: of the response written, or -1 */
	struct rate rate;       /* --limit-rate */
	uint64_t up_seen;       /* of the upload, counted by the rate */
	char referer[URL_MAX];  /* -e, or the URL a redirect left */
	int remote;             /* -O: named after the URL */
	unsigned long connects0; /* the connection's count when this began */
	pthread_mutex_t *lock;  /* shared cookies, in a parallel run */
	struct buf cookie;      /* this request's Cookie value */
	void (*say)(const char *msg); /* a diagnostic for standard error */
};


/* The transfer, redirects followed and tried again as --retry says: 0,
 * or an exit status (its reason said); -1: standard output was closed. */
int hc_fetch_run(struct hc_fetch *f);
/* After a run that succeeded: the output file renamed into place. 0, or
 * an exit status (said). */
int hc_fetch_finish(struct hc_fetch *f);
/* Draw the progress bar (at most ten times a second), or clear it when
 * done is set. */
void hc_fetch_progress(struct hc_fetch *f, int done);

/* Every URL of a run (globs opened, -o and -O matched to them in order),
 * one after the other on a kept connection, or with -Z up to
 * parallel_max at a time, each on a connection of its own thread. */
struct hc_many {
	const struct hc_get_opts *o;
	const struct hc_body *body;   /* what each request sends */
	/* a transfer's common fields (route, say, bar, dump_fd, cookies) */
	void (*setup)(struct hc_fetch *f, void *ctx);
	/* a transfer ended with rc, its output finished or dropped */
	void (*done)(struct hc_fetch *f, int rc, void *ctx);
	void *ctx;
	/* for each connection made: -v's hook */
	void (*trace)(void *ctx, const char *prefix, const char *p, size_t n);
};
/* The run: 0, or the exit status of the first URL (in their order) that
 * failed; err filled when none could start. */
int hc_fetch_many(struct hc_many *m, char *err);

#endif
