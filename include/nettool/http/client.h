#ifndef NETTOOL_HTTP_CLIENT_H
#define NETTOOL_HTTP_CLIENT_H

/*
 * The HTTP/1.1 client: one connection object that opens a request to a
 * URL by the route it needs (straight, through a SOCKS or HTTP proxy, or
 * over a Unix socket), sends the head and a body from its source, and
 * reads the response into a sink; and the rules of following a redirect.
 * It prints nothing: every call returns 0 or an exit status with err
 * filled, and what a person may want to see (heads for -v, upload
 * progress) goes to hooks the caller sets.
 */

#include "nettool/base/buf.h"
#include "nettool/core/proxy.h"
#include "nettool/proto/http.h"
#include "nettool/proto/multipart.h"
#include "nettool/proto/url.h"

#include <stdint.h>
#include <sys/types.h>

#define HC_BUF (64 * 1024)       /* read and upload buffer */
#define HC_METHOD_MAX 64

/* Where a request body comes from. */
enum hc_body_kind { HC_BODY_NONE, HC_BODY_MEM, HC_BODY_FILE, HC_BODY_STREAM, HC_BODY_FORM };

struct hc_body {
	enum hc_body_kind kind;
	const char *type;             /* MEM: its Content-Type */
	const char *data;             /* MEM */
	const char *path;             /* FILE, STREAM: a file, or "-" for stdin */
	off_t start;                  /* FILE: where stdin's file starts */
	uint64_t len;                 /* all but STREAM: its length */
	struct mp_part *parts;        /* FORM */
	int nparts;
	char boundary[MP_BOUNDARY_LEN + 1];
	int pipe_used;                /* STREAM: bytes were read, none can be again */
};

/* -T: a regular file (or stdin on one) goes with its length, anything
 * else chunked. */
void hc_body_upload(struct hc_body *b, const char *path);

/* FORM: draw a boundary that no in-memory part contains (files are
 * checked as they are sent) and make the parts' heads. 0, or -1. */
int hc_body_form(struct hc_body *b, struct mp_part *parts, int n);

/* A body made of curl's data options, in memory. */
struct hc_data {
	struct buf data;
	int fields; /* -d style parts, joined with '&' */
	int json;   /* --json parts, joined as they are */
};

enum hc_data_how {
	HC_DATA,            /* -d: as given, or @FILE (@- stdin) with CR and LF dropped */
	HC_DATA_BINARY,     /* --data-binary: @FILE unchanged */
	HC_DATA_URLENCODE,  /* --data-urlencode: content, =content, name=content, @file, name@file */
	HC_DATA_JSON        /* --json: parts joined as they are, @FILE unchanged */
};

/* Add a part to bd. 0, or -1 with err filled. */
int hc_data_add(struct hc_data *bd, enum hc_data_how how, const char *arg, char *err);

/* -F parts; args holds their modified copies. */
struct hc_form {
	struct mp_part p[MP_MAX_PARTS];
	char *args[MP_MAX_PARTS];
	int n;
};

/* The option readers of curl's body options, for cmd.h's OPT_FUNC: -d,
 * --data-binary, --data-urlencode, --json into a struct hc_data; -F (a
 * part, its file checked now; stdin, a pipe or '<' read now) into a
 * struct hc_form. 0, or -1 with err filled. */
int hc_opt_data(void *field, const char *arg, char *err);
int hc_opt_data_binary(void *field, const char *arg, char *err);
int hc_opt_data_urlencode(void *field, const char *arg, char *err);
int hc_opt_json(void *field, const char *arg, char *err);
int hc_opt_form(void *field, const char *arg, char *err);

/* -H headers: "Name: value" each. */
#define HC_MAX_HEADERS 64
struct hc_headers {
	const char *v[HC_MAX_HEADERS];
	int n;
};
/* The option readers of -H (a header, checked, into a struct hc_headers),
 * -X (a method token) and -T (a file that exists, or "-"): 0, or -1 with
 * err filled. */
int hc_opt_header(void *field, const char *arg, char *err);
int hc_opt_method(void *field, const char *arg, char *err);
int hc_opt_upload(void *field, const char *arg, char *err);
/* The whole of a file, or of stdin for "-", appended to b. 0, or -1 with
 * err filled. */
int hc_read_whole(struct buf *b, const char *path, char *err);

/* --resolve HOST:PORT:ADDR (to is the address, to_port 0) and
 * --connect-to HOST:PORT:HOST2:PORT2 (an empty host or a port 0 matches
 * any, or keeps what it was). */
#define HC_MAX_ALIASES 16
struct hc_alias {
	char host[256], to[256];
	unsigned port, to_port;
	int resolve;
};
struct hc_aliases {
	struct hc_alias v[HC_MAX_ALIASES];
	int n;
};
/* The option readers of --resolve and --connect-to, into a struct
 * hc_aliases: 0, or -1 with err filled. */
int hc_opt_resolve(void *field, const char *arg, char *err);
int hc_opt_connect_to(void *field, const char *arg, char *err);
/* How connections are made. */
struct hc_route {
	const struct proxy *proxy;    /* type PROXY_NONE: none */
	const char *noproxy;          /* hosts reached straight; NULL: $no_proxy */
	const char *unix_path;        /* every request over this Unix socket */
	int family;
	int connect_ms;               /* to connect; 0: none */
	const struct hc_aliases *aliases; /* or NULL */
	uint64_t deadline_ms;         /* the whole operation ends by this (util_now_ms); 0: none */
};

/* What the last request on a connection took, for --write-out: times in
 * microseconds (util_now_us), 0 for a step not reached. */
struct hc_stats {
	uint64_t resolved, connected, sent_head, first_byte;
	uint64_t head_out, head_in;   /* bytes of the request's and the response's head */
	unsigned long connects;       /* connections opened on this object */
	char remote_ip[64], local_ip[64];
	unsigned remote_port, local_port;
};

/* One request: redirects may change the method and drop the body or the
 * credentials (hc_redirect). */
struct hc_request {
	char method[HC_METHOD_MAX];
	const char *const *headers;   /* -H: "Name: value" adds or replaces ours, "Name:" drops it */
	int nheaders;
	const char *user;             /* "USER:PASS" for Basic, or NULL */
	int send_auth;                /* credentials (and -H Authorization) go to this host */
	int send_body;
	int accept_json;              /* Accept: application/json with the body */
	long long from;               /* > 0: Range: bytes=FROM- */
	const char *cookie;           /* the Cookie header's value, or NULL */
	const char *agent;            /* User-Agent: NULL ours, "" none */
	const char *referer;          /* or NULL */
	const char *range;            /* -r: "0-99,200-" (when from is 0), or NULL */
	struct hc_body *body;
};

struct hc_conn {
	int fd;
	int absolute;                 /* through an HTTP proxy: absolute-form target */
	const struct hc_route *route;
	struct http_parser *hp;       /* the response */
	char *buf;                    /* HC_BUF bytes */
	char pre[4096];               /* response bytes read while waiting for 100 */
	size_t pre_len;
	int expect;                   /* this request waits for 100 Continue */
	uint64_t up_done, up_total;   /* the body so far, and its length (0: unknown) */
	struct hc_stats st;
	struct buf raw;               /* the response's heads as they came (1xx too) */
	int keepalive;                /* ask to keep the connection (else Connection: close) */
	int reusable;                 /* the last response ended cleanly on a kept connection */
	int reused;                   /* this request went on a kept connection */
	char key[300];                /* what the connection reaches: host:port */
	/* hooks, each may be NULL */
	void *ctx;
	void (*trace)(void *ctx, const char *prefix, const char *p, size_t n); /* heads */
	void (*uploaded)(void *ctx, uint64_t done, uint64_t total);
};

/* Where the response goes. head: the head arrived; return 0 with *more
 * set to take its body (else the rest is left unread), or an exit
 * status. body: a piece of it; 0, or an exit status (-1: end quietly).
 * A hook that fails says why itself. */
struct hc_sink {
	void *ctx;
	int (*head)(void *ctx, const struct http_parser *hp, int *more);
	int (*body)(void *ctx, const char *p, size_t n);
};

/* Buffers for a connection on route. 0, or -1 (out of memory). */
int hc_init(struct hc_conn *c, const struct hc_route *route);
void hc_free(struct hc_conn *c);

/* Parse s as an http:// URL (https and other schemes refused); redirect
 * says it came from a Location. 0, or an exit status with err filled. */
int hc_check_url(const char *s, struct url *u, int redirect, char *err);

/* Connect to u by the route, or go on with the kept connection when it
 * reaches the same host and port (c->reused then says so). 0, or an exit
 * status with err filled. */
int hc_open(struct hc_conn *c, const struct url *u, char *err);

/* Send the request for u: its head, then its body (after 100 Continue
 * when it waits for one). A server may answer and close before taking the
 * whole body (413, say): that is no error, its answer is still read. 0,
 * or an exit status with err filled. */
int hc_send(struct hc_conn *c, const struct hc_request *rq, const struct url *u, char *err);

/* Read the response into the sink, until its end or until the sink's head
 * hook stops it. 0, or an exit status: err filled unless a hook failed. */
int hc_receive(struct hc_conn *c, const struct hc_request *rq, const struct hc_sink *s,
	       char *err);

void hc_close(struct hc_conn *c);

/* The response head as it came (status line, fields, blank line), for -i
 * and -v. */
void hc_head_text(const struct http_parser *hp, struct buf *b);

/* Whether status is a redirect that -L follows. */
int hc_is_redirect(int status);

/*
 * Follow the response's redirect from cur into next (URL_MAX): the
 * method and body as RFC 9110 15.4 says (303 makes a GET without body;
 * 301 and 302 turn a POST into a GET; 307 and 308 repeat both). 0, or an
 * exit status with err filled: a body that must go again but came from a
 * pipe, a bad Location.
 */
int hc_redirect(struct hc_request *rq, const struct http_parser *hp, const char *cur,
		char *next, char *err);

#endif
