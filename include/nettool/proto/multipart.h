#ifndef NETTOOL_MULTIPART_H
#define NETTOOL_MULTIPART_H

#include "nettool/base/buf.h"

#include <stddef.h>
#include <stdint.h>

/*
 * multipart/form-data (RFC 7578, RFC 2046 section 5.1): building a body
 * from parts, and a streaming parser for one. Pure: no I/O.
 */
#define MP_MAX_PARTS 64
#define MP_BOUNDARY_LEN 40      /* ours: "nettool-" and 32 hex digits */
#define MP_MAX_BOUNDARY 70      /* RFC 2046 */
#define MP_MAX_PART_HEAD 8192

/* One part of a body to send. */
struct mp_part {
	const char *name;
	const char *path;     /* content from this file ("@FILE"), or NULL */
	char *data;           /* else the content in memory (owned) */
	size_t len;
	const char *type;     /* Content-Type, or NULL */
	const char *filename; /* filename parameter, or NULL */
	uint64_t size;        /* content bytes: len, or the file's size */
	struct buf head;      /* delimiter and part head, made by mp_build */
};

/*
 * Split a curl -F argument, modified in place: "NAME=TEXT", "NAME=@FILE"
 * and "NAME=<FILE", the file forms taking ";type=MIME" and
 * ";filename=NAME". With '@' the filename defaults to FILE's last
 * component; with '<' there is none. *from_file gets 1 for '@', 2 for
 * '<', 0 for text (then data/len hold it, not owned). Returns 0, or -1.
 */
int mp_parse_arg(char *arg, struct mp_part *p, int *from_file, char *err);

/* A boundary from 16 random bytes: "nettool-" and 32 hex digits. */
void mp_boundary(const unsigned char rnd[16], char out[MP_BOUNDARY_LEN + 1]);

/* Whether the boundary occurs in n bytes of content (then draw another). */
int mp_collides(const char *boundary, const char *p, size_t n);

/*
 * Make each part's head (its delimiter line, Content-Disposition and
 * Content-Type) and the body's total length: heads, contents, a CRLF
 * after each and the close delimiter. A quote, CR or LF in a name or
 * filename is sent as %22, %0D, %0A, as browsers do. Returns 0, or -1.
 */
int mp_build(struct mp_part *parts, int n, const char *boundary, uint64_t *total);
/* The close delimiter: "\r\n" ends the last part's content first. */
int mp_close(struct buf *b, const char *boundary);

/* ---- parsing ---- */

enum mp_event {
	MP_NEED,     /* all input used */
	MP_PART,     /* a part's head: name, filename (has_filename) */
	MP_DATA,     /* content bytes of the current part at ev_data, ev_len */
	MP_PART_END, /* the current part is complete */
	MP_DONE,     /* the close delimiter: whatever follows is ignored */
	MP_ERROR     /* err says why */
};

struct mp_parser {
	char delim[MP_MAX_BOUNDARY + 5]; /* CRLF "--" boundary */
	size_t dlen;
	int state;
	int in_part;
	char hold[MP_MAX_BOUNDARY + 5]; /* bytes that may begin a delimiter */
	size_t hold_len;
	char emit[MP_MAX_BOUNDARY + 5]; /* held bytes that turned out to be data */
	char head[MP_MAX_PART_HEAD];
	size_t head_len;
	/* the current part */
	char name[256], filename[256];
	int has_filename;
	const char *ev_data;
	size_t ev_len;
	char err[128];
};

/*
 * The boundary parameter of a multipart/form-data Content-Type value, into
 * out. Returns 0, or -1 when the type is another or the boundary is
 * missing or invalid.
 */
int mp_content_boundary(const char *content_type, char *out, size_t len);
void mp_parser_init(struct mp_parser *p, const char *boundary);
/* Whether the close delimiter has been seen. */
int mp_finished(const struct mp_parser *p);
/* As http_parse: call again with the rest after each event but MP_NEED. */
enum mp_event mp_parse(struct mp_parser *p, const char *d, size_t len, size_t *used);

#endif
