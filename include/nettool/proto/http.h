#ifndef NETTOOL_HTTP_H
#define NETTOOL_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * An incremental HTTP/1.1 message parser (RFC 9112), for responses and
 * requests alike. Pure: bytes in, events out, explicit limits.
 */
#define HTTP_MAX_LINE 8192
#define HTTP_MAX_HEAD 65536
#define HTTP_MAX_HEADERS 100
#define HTTP_MAX_CHUNK_DIGITS 15 /* a larger chunk size is a protocol error */

enum http_error {
	HTTP_E_LINE = 1,  /* a line longer than HTTP_MAX_LINE */
	HTTP_E_HEAD,      /* head larger than HTTP_MAX_HEAD */
	HTTP_E_COUNT,     /* more than HTTP_MAX_HEADERS fields */
	HTTP_E_SYNTAX,    /* malformed start line or field */
	HTTP_E_FOLD,      /* obsolete line folding */
	HTTP_E_LENGTH,    /* bad or conflicting Content-Length / Transfer-Encoding */
	HTTP_E_CHUNK,     /* bad chunk size or framing */
	HTTP_E_VERSION,   /* not HTTP/1.x */
	HTTP_E_EOF        /* the stream ended before the message did */
};

enum http_event {
	HTTP_EV_NEED,  /* all input used; give more */
	HTTP_EV_HEAD,  /* the head is parsed: see the message */
	HTTP_EV_BODY,  /* body bytes at ev_data, ev_len */
	HTTP_EV_DONE,  /* the message is complete */
	HTTP_EV_ERROR  /* see error and err */
};

struct http_field {
	const char *name, *value; /* inside the parser's head buffer */
};

enum http_body { HTTP_BODY_NONE, HTTP_BODY_LENGTH, HTTP_BODY_CHUNKED, HTTP_BODY_CLOSE };

struct http_parser {
	int request;         /* parse a request instead of a response */
	int head_request;    /* a response to HEAD: no body */
	/* the message */
	int status, minor;   /* status code; HTTP/1.minor */
	const char *reason, *method, *target;
	struct http_field fields[HTTP_MAX_HEADERS];
	size_t nfields;
	enum http_body body;
	uint64_t length;     /* Content-Length */
	/* progress */
	int state;
	uint64_t remaining;  /* of the body or the chunk */
	uint64_t offset;     /* bytes consumed, for error messages */
	size_t head_len;
	size_t line_start;   /* chunk size/trailer lines are gathered in head */
	size_t nlines;
	uint64_t line_off;   /* stream offset of the line being read */
	/* the last event */
	const char *ev_data;
	size_t ev_len;
	enum http_error error;
	char err[256];
	char head[HTTP_MAX_HEAD + 1]; /* last: init leaves it as it is */
};

void http_parser_init(struct http_parser *p, int request);
/*
 * Parse from data[0..len); *used gets what was consumed. Call again with
 * the rest after each event but HTTP_EV_NEED. Responses 1xx (but 101) are
 * skipped. Returns the event.
 */
enum http_event http_parse(struct http_parser *p, const char *data, size_t len,
			   size_t *used);
/* n bytes of a Content-Length body were taken past the parser (spliced
 * to a file): count them as parsed. -1 when not in such a body or n is
 * more than it has left (p->remaining). */
int http_body_skip(struct http_parser *p, uint64_t n);
/* The stream ended: HTTP_EV_DONE for a body read until close, else an
 * error naming what was missing. */
enum http_event http_parse_eof(struct http_parser *p);

struct buf;
/* n bytes of a body into out: one chunk (RFC 9112 7.1) when chunked,
 * the bytes as they are otherwise; with last, a chunked body's end. */
void http_body_piece(struct buf *out, const char *p, size_t n, int chunked, int last);

/* The value of the first field named name (case-insensitive), or NULL. */
const char *http_field(const struct http_parser *p, const char *name);

/* A header value fit to send: no CR, LF, NUL or other control character. */
int http_value_ok(const char *v);
/* A field name: a token. */
int http_name_ok(const char *name, size_t n);

/* The reason phrase of a status ("Unknown" for one not used here). */
const char *http_reason(int status);

/* t as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), into out. */
void http_date_format(time_t t, char *out, size_t len);
/* An IMF-fixdate back to time_t, or -1 when it is not one. */
time_t http_date_parse(const char *s);

/* Whether the comma-separated list v holds token (case-insensitive). */
int http_has_token(const char *v, const char *token);
/* Whether an If-None-Match value matches etag ("*", or the tag, weak
 * or not). */
int http_etag_match(const char *inm, const char *etag);

/*
 * A Range value for a body of size bytes: 1 with [*from, *to] for one
 * satisfiable range ("bytes=a-b", "a-", "-n"), 0 to send the whole body
 * (no byte range, several ranges, a syntax it does not know), -1 when it
 * cannot be satisfied (416).
 */
int http_parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to);

struct buf;
/* Append s with < > & " ' escaped for HTML. Returns 0, or -1. */
int http_html_escape(struct buf *b, const char *s);

#endif
