#ifndef NETTOOL_HTTP_SERVE_CONN_H
#define NETTOOL_HTTP_SERVE_CONN_H

/*
 * Inside http-serve: one connection, shared by its state machine
 * (serve.c: reading requests, writing responses, keep-alive, uploads) and
 * its response builders (respond.c: files, listings, errors, OPTIONS).
 */

#include "nettool/http/serve.h"

#include <string.h>
#include <sys/types.h>

#define BULK_MIN (1u << 20) /* a body larger is sent from any CPU */

/* A response body made while it is sent (a tar, a multistatus): next
 * empties out and fills it with the next piece, and may give a file to
 * send after it (*fd, *size; -1: none). 1: more follows; 0: that was the
 * last; -1: an error. */
struct hs_stream {
	int (*next)(void *s, struct buf *out, int *fd, uint64_t *size);
	void (*free)(void *s);
	void *s;
	int done;
};

struct conn {
	struct server_conn base;
	struct hs_worker *w;
	/* held only while a request is under way, so that an idle keep-alive
	 * connection costs little more than this struct */
	struct http_parser *hp;
	char *in;                 /* IN_BUF bytes (serve.c) */
	size_t in_len;
	struct buf out;           /* response head, or a whole small response */
	size_t out_off;
	int file;                 /* body from a file, or -1 */
	off_t file_off;
	uint64_t file_left;
	int keep;                 /* keep the connection after this response */
	int reading_body;         /* reading a request body: stored or dropped */
	uint64_t body_in;         /* its bytes so far */
	struct hs_upload *up;     /* where it is stored, or NULL */
	int head_started;         /* a byte of the next request has come */
	/* for the access log */
	char line[512];
	int status;
	uint64_t sent;
	uint64_t head_sent;     /* of sent, the heads' bytes */
	uint64_t interim;       /* of those, 100 Continue's */
	int bulk;               /* a large body under way: see bulk_set */
	int lowat;              /* TCP_NOTSENT_LOWAT is set */
	struct hs_stream stream; /* a body made while it is sent (next: NULL for none) */
	/* a request body kept in memory is done: answer it (WebDAV's XML) */
	void (*body_done)(struct conn *c, const struct buf *body);
};

static inline void buf_str(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

/* A response head with its status line, Date and Server; hs_head_end
 * adds Connection and the blank line. */
void hs_head_start(struct conn *c, int status);
void hs_head_end(struct conn *c);
/* The Allow field: the methods this server answers. */
void hs_allow_header(struct conn *c);

/* A whole HTML response of body (not sent with head_only). */
void hs_send_html(struct conn *c, int status, struct buf *body, int head_only);

/* An error page for status. */
void hs_send_error(struct conn *c, int status, int head_only);

/* Whether the connection is sending a large body, which lets it leave
 * its worker's CPU. */
void hs_bulk_set(struct conn *c, int on);

/* Answer the request whose head c->hp holds. */
void hs_respond(struct conn *c);

#endif
