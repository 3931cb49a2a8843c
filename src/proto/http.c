#include "nettool/proto/http.h"
#include "nettool/base/util.h"
#include "nettool/base/buf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum {
	S_HEAD, S_BODY_LEN, S_BODY_CLOSE, S_CHUNK_SIZE, S_CHUNK_DATA, S_CHUNK_CRLF,
	S_TRAILERS, S_DONE, S_ERROR
};

void http_parser_init(struct http_parser *p, int request)
{
	memset(p, 0, offsetof(struct http_parser, head));
	p->request = request;
	p->state = S_HEAD;
}

static enum http_event fail(struct http_parser *p, enum http_error e, const char *msg)
{
	p->error = e;
	p->state = S_ERROR;
	snprintf(p->err, sizeof p->err, "%s at byte %llu", msg, (unsigned long long)p->line_off);
	return HTTP_EV_ERROR;
}

int http_name_ok(const char *s, size_t n)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	size_t i;

	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || (c && strchr(extra, c))))
			return 0;
	}
	return 1;
}

int http_value_ok(const char *v)
{
	for (; *v; v++)
		if (((unsigned char)*v < 32 && *v != '\t') || *v == 0x7f)
			return 0;
	return 1;
}

const char *http_field(const struct http_parser *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nfields; i++)
		if (!strcasecmp(p->fields[i].name, name))
			return p->fields[i].value;
	return NULL;
}

/* Split head into NUL-terminated lines; returns the count or -1. */
static int split_lines(struct http_parser *p, char **lines, int max)
{
	char *s = p->head, *end = p->head + p->head_len;
	int n = 0;

	while (s < end) {
		char *lf = memchr(s, '\n', (size_t)(end - s));

		if (!lf)
			break;
		*lf = '\0';
		if (lf > s && lf[-1] == '\r')
			lf[-1] = '\0';
		if (*s || n) { /* empty lines before the start line are ignored */
			if (!*s)
				break;
			if (n == max)
				return -1;
			lines[n++] = s;
		}
		s = lf + 1;
	}
	return n;
}

static int parse_version(const char *v, int *minor)
{
	if (strncmp(v, "HTTP/", 5) || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
	    v[7] < '0' || v[7] > '9' || v[8])
		return -2;
	if (v[5] != '1')
		return -1;
	*minor = v[7] - '0';
	return 0;
}

static enum http_event parse_start(struct http_parser *p, char *line)
{
	char *sp1 = strchr(line, ' '), *sp2;
	int rc;

	if (!sp1)
		return fail(p, HTTP_E_SYNTAX, "malformed start line");
	*sp1 = '\0';
	sp2 = strchr(sp1 + 1, ' ');
	if (p->request) {
		if (!sp2 || strchr(sp2 + 1, ' ') || sp2 == sp1 + 1 || !http_name_ok(line, strlen(line)))
			return fail(p, HTTP_E_SYNTAX, "malformed request line");
		*sp2 = '\0';
		p->method = line;
		p->target = sp1 + 1;
		rc = parse_version(sp2 + 1, &p->minor);
	} else {
		char *code = sp1 + 1;

		if (sp2)
			*sp2 = '\0';
		p->reason = sp2 ? sp2 + 1 : "";
		rc = parse_version(line, &p->minor);
		if (rc == 0 && (strlen(code) != 3 || code[0] < '1' || code[0] > '5' ||
				code[1] < '0' || code[1] > '9' || code[2] < '0' || code[2] > '9'))
			return fail(p, HTTP_E_SYNTAX, "malformed status code");
		p->status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
	}
	if (rc == -1)
		return fail(p, HTTP_E_VERSION, "unsupported HTTP version");
	if (rc < 0)
		return fail(p, HTTP_E_SYNTAX, "malformed HTTP version");
	return HTTP_EV_NEED;
}

static enum http_event parse_field(struct http_parser *p, char *line)
{
	char *colon = strchr(line, ':'), *v, *e;

	if (*line == ' ' || *line == '\t')
		return fail(p, HTTP_E_FOLD, "obsolete line folding");
	if (!colon || !http_name_ok(line, (size_t)(colon - line)))
		return fail(p, HTTP_E_SYNTAX, "malformed header field");
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	*e = '\0';
	if (!http_value_ok(v))
		return fail(p, HTTP_E_SYNTAX, "control character in a header field");
	p->fields[p->nfields].name = line;
	p->fields[p->nfields].value = v;
	p->nfields++;
	return HTTP_EV_NEED;
}

/* Content-Length: every value (and list item) the same decimal number. */
static int content_length(struct http_parser *p, uint64_t *out)
{
	size_t i;
	int seen = 0;

	for (i = 0; i < p->nfields; i++) {
		const char *v = p->fields[i].value;

		if (strcasecmp(p->fields[i].name, "Content-Length"))
			continue;
		if (!*v)
			return -1; /* empty */
		while (*v) {
			uint64_t n = 0;
			int digits = 0;

			while (*v >= '0' && *v <= '9') {
				if (++digits > 19)
					return -1;
				n = n * 10 + (uint64_t)(*v++ - '0');
			}
			while (*v == ' ' || *v == '\t')
				v++;
			if (!digits || (*v && *v != ','))
				return -1;
			if (*v == ',')
				for (v++; *v == ' ' || *v == '\t'; v++)
					;
			if (seen && n != *out)
				return -1;
			*out = n;
			seen = 1;
		}
	}
	return seen;
}

/* Transfer-Encoding: 1 when chunked is the final coding, 0 other, -1 none. */
static int te_chunked(struct http_parser *p)
{
	const char *last = NULL;
	size_t i;

	for (i = 0; i < p->nfields; i++)
		if (!strcasecmp(p->fields[i].name, "Transfer-Encoding"))
			last = p->fields[i].value;
	if (!last)
		return -1;
	{
		const char *c = strrchr(last, ',');

		c = c ? c + 1 : last;
		while (*c == ' ' || *c == '\t')
			c++;
		return !strncasecmp(c, "chunked", 7) && (!c[7] || c[7] == ' ' || c[7] == ';');
	}
}

static enum http_event set_body(struct http_parser *p)
{
	int te = te_chunked(p), cl = content_length(p, &p->length);

	if (!p->request && (p->head_request || p->status / 100 == 1 || p->status == 204 ||
			    p->status == 304)) {
		p->body = HTTP_BODY_NONE;
		return HTTP_EV_HEAD;
	}
	if (te >= 0 && cl != 0)
		return fail(p, HTTP_E_LENGTH, "both Transfer-Encoding and Content-Length");
	if (cl < 0)
		return fail(p, HTTP_E_LENGTH, "bad or conflicting Content-Length");
	if (te == 1)
		p->body = HTTP_BODY_CHUNKED;
	else if (te == 0 && p->request)
		return fail(p, HTTP_E_LENGTH, "unsupported Transfer-Encoding");
	else if (te == 0 || (cl == 0 && !p->request))
		p->body = HTTP_BODY_CLOSE;
	else if (cl == 1)
		p->body = HTTP_BODY_LENGTH;
	else
		p->body = HTTP_BODY_NONE;
	return HTTP_EV_HEAD;
}

static enum http_event finish_head(struct http_parser *p)
{
	char *lines[HTTP_MAX_HEADERS + 1];
	int n = split_lines(p, lines, HTTP_MAX_HEADERS + 1), i;
	enum http_event ev;

	if (n < 0)
		return fail(p, HTTP_E_COUNT, "too many header fields");
	p->nfields = 0;
	if ((ev = parse_start(p, lines[0])) != HTTP_EV_NEED)
		return ev;
	for (i = 1; i < n; i++)
		if ((ev = parse_field(p, lines[i])) != HTTP_EV_NEED)
			return ev;
	ev = set_body(p);
	if (ev != HTTP_EV_HEAD)
		return ev;
	p->head_len = 0;
	switch (p->body) {
	case HTTP_BODY_LENGTH:
		p->state = p->length ? S_BODY_LEN : S_DONE;
		p->remaining = p->length;
		break;
	case HTTP_BODY_CHUNKED: p->state = S_CHUNK_SIZE; break;
	case HTTP_BODY_CLOSE: p->state = S_BODY_CLOSE; break;
	default: p->state = S_DONE;
	}
	return HTTP_EV_HEAD;
}

/*
 * Gather bytes into head until a LF. Returns 1 with the line complete,
 * 0 when more is needed, -1 on a limit.
 */
static int gather_line(struct http_parser *p, const char *d, size_t len, size_t *i)
{
	const char *s = d + *i, *lf, *nul;
	size_t n = len - *i, used = p->head_len - p->line_start, take, stop, kept;
	enum http_error e = HTTP_E_SYNTAX;
	size_t head_room = HTTP_MAX_HEAD > p->head_len ? HTTP_MAX_HEAD - p->head_len : 0;
	size_t line_room = HTTP_MAX_LINE > used ? HTTP_MAX_LINE - used : 0;

	if (p->line_start == p->head_len)
		p->line_off = p->offset + *i; /* where this line starts */
	/*
	 * Byte by byte, the checks would run in this order: a NUL fails, a
	 * full head fails (the byte is not kept), the byte is kept, a LF ends
	 * the line, a line over HTTP_MAX_LINE fails. Find the first byte
	 * that stops it, then copy once.
	 */
	lf = memchr(s, '\n', n);
	take = lf ? (size_t)(lf - s) + 1 : n;
	nul = memchr(s, '\0', take);
	stop = take; /* the index of the failing byte, else take */
	if (nul) {
		stop = (size_t)(nul - s);
		e = HTTP_E_SYNTAX;
	}
	if (head_room < stop) {
		stop = head_room;
		e = HTTP_E_HEAD;
	}
	if (line_room < stop && !(lf && line_room == take - 1)) {
		stop = line_room;
		e = HTTP_E_LINE;
	}
	if (stop == take) {
		memcpy(p->head + p->head_len, s, take);
		p->head_len += take;
		*i += take;
		return lf != NULL;
	}
	kept = e == HTTP_E_LINE ? stop + 1 : stop; /* only that check keeps its byte */
	memcpy(p->head + p->head_len, s, kept);
	p->head_len += kept;
	*i += stop + 1;
	fail(p, e, e == HTTP_E_SYNTAX ? "NUL byte in the head" :
		   e == HTTP_E_HEAD ? "header section too large" : "line too long");
	return -1;
}

/* The line just gathered: [line_start, head_len), without CR LF. */
static size_t line_len(const struct http_parser *p, const char **s)
{
	size_t n = p->head_len - p->line_start - 1;

	*s = p->head + p->line_start;
	if (n && (*s)[n - 1] == '\r')
		n--;
	return n;
}

static enum http_event head_bytes(struct http_parser *p, const char *d, size_t len, size_t *i)
{
	for (;;) {
		size_t start = p->line_start, n;
		const char *s;
		int rc = gather_line(p, d, len, i);

		if (rc <= 0)
			return rc < 0 ? HTTP_EV_ERROR : HTTP_EV_NEED;
		n = line_len(p, &s);
		p->line_start = p->head_len;
		if (n == 0 && start == 0) {
			p->head_len = p->line_start = 0; /* empty lines before the head */
			continue;
		}
		if (n == 0) {
			enum http_event ev = finish_head(p);

			p->line_start = p->nlines = 0;
			if (ev == HTTP_EV_HEAD && !p->request && p->status / 100 == 1 && p->status != 101) {
				p->head_len = 0; /* an interim response: the real one follows */
				p->state = S_HEAD;
				continue;
			}
			return ev;
		}
		if (++p->nlines > HTTP_MAX_HEADERS + 1)
			return fail(p, HTTP_E_COUNT, "too many header fields");
	}
}

static int tchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static size_t bws(const char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* What follows a chunk size (RFC 9112 7.1.1): nothing, or extensions
 * *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ). */
static int chunk_ext_ok(const char *s, size_t n)
{
	size_t i = 0, start;

	while (i < n) {
		i = bws(s, i, n);
		if (i == n || s[i++] != ';')
			return 0;
		i = bws(s, i, n);
		for (start = i; i < n && tchar(s[i]); i++)
			;
		if (i == start)
			return 0; /* an empty name */
		i = bws(s, i, n);
		if (i == n || s[i] != '=')
			continue;
		i = bws(s, i + 1, n);
		if (i < n && s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\' && ++i == n)
					return 0;
				else if ((unsigned char)s[i] < 32 && s[i] != '\t')
					return 0;
			if (i++ == n)
				return 0;
		} else {
			for (start = i; i < n && tchar(s[i]); i++)
				;
			if (i == start)
				return 0;
		}
		i = bws(s, i, n);
	}
	return 1;
}

static enum http_event chunk_size(struct http_parser *p)
{
	const char *s;
	size_t n = line_len(p, &s), i;
	uint64_t v = 0;

	for (i = 0; i < n; i++) {
		int c = s[i], d = c >= '0' && c <= '9' ? c - '0' :
				c >= 'a' && c <= 'f' ? c - 'a' + 10 :
				c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			break;
		if (i >= HTTP_MAX_CHUNK_DIGITS)
			return fail(p, HTTP_E_CHUNK, "bad chunk size");
		v = v * 16 + (uint64_t)d;
	}
	if (!i || !chunk_ext_ok(s + i, n - i))
		return fail(p, HTTP_E_CHUNK, "bad chunk size");
	p->head_len = p->line_start = 0;
	p->remaining = v;
	p->state = v ? S_CHUNK_DATA : S_TRAILERS;
	return HTTP_EV_NEED;
}

static enum http_event body_bytes(struct http_parser *p, const char *d, size_t len, size_t *i)
{
	uint64_t avail = len - *i, n = p->state == S_BODY_CLOSE ? avail :
		(avail < p->remaining ? avail : p->remaining);

	if (!n)
		return HTTP_EV_NEED;
	p->ev_data = d + *i;
	p->ev_len = (size_t)n;
	*i += (size_t)n;
	p->line_off = p->offset + *i;
	if (p->state != S_BODY_CLOSE) {
		p->remaining -= n;
		if (!p->remaining)
			p->state = p->state == S_BODY_LEN ? S_DONE : S_CHUNK_CRLF;
	}
	return HTTP_EV_BODY;
}

static enum http_event step(struct http_parser *p, const char *d, size_t len, size_t *i)
{
	const char *s;
	int rc;

	switch (p->state) {
	case S_HEAD:
		return head_bytes(p, d, len, i);
	case S_BODY_LEN:
	case S_BODY_CLOSE:
	case S_CHUNK_DATA:
		return body_bytes(p, d, len, i);
	case S_CHUNK_SIZE:
		if ((rc = gather_line(p, d, len, i)) <= 0)
			return rc < 0 ? HTTP_EV_ERROR : HTTP_EV_NEED;
		return chunk_size(p);
	case S_CHUNK_CRLF:
		/* exactly CR LF (or a bare LF) after the data, checked as it comes */
		while (*i < len) {
			char c = d[*i];

			if (p->head_len == 0)
				p->line_off = p->offset + *i;
			if (c != '\n' && (c != '\r' || p->head_len))
				return fail(p, HTTP_E_CHUNK, "missing CRLF after chunk data");
			(*i)++;
			if (c == '\n') {
				p->head_len = p->line_start = 0;
				p->state = S_CHUNK_SIZE;
				return HTTP_EV_NEED;
			}
			p->head_len = 1;
		}
		return HTTP_EV_NEED;
	case S_TRAILERS:
		if ((rc = gather_line(p, d, len, i)) <= 0)
			return rc < 0 ? HTTP_EV_ERROR : HTTP_EV_NEED;
		if (line_len(p, &s) == 0) {
			p->state = S_DONE;
			return HTTP_EV_DONE;
		}
		p->line_start = p->head_len; /* trailer fields are read and ignored */
		return HTTP_EV_NEED;
	case S_DONE:
		return HTTP_EV_DONE;
	default:
		return HTTP_EV_ERROR;
	}
}

enum http_event http_parse(struct http_parser *p, const char *data, size_t len,
			   size_t *used)
{
	size_t i = 0;
	enum http_event ev;

	for (;;) {
		if (p->state == S_DONE) {
			ev = HTTP_EV_DONE;
			break;
		}
		ev = step(p, data, len, &i);
		if (ev == HTTP_EV_NEED && i < len)
			continue;
		break;
	}
	p->offset += i;
	*used = i;
	return ev;
}

int http_body_skip(struct http_parser *p, uint64_t n)
{
	if (p->state != S_BODY_LEN || n > p->remaining)
		return -1;
	p->remaining -= n;
	p->offset += n;
	p->line_off = p->offset;
	if (!p->remaining)
		p->state = S_DONE;
	return 0;
}

enum http_event http_parse_eof(struct http_parser *p)
{
	char msg[96];

	switch (p->state) {
	case S_BODY_CLOSE:
	case S_DONE:
		p->state = S_DONE;
		return HTTP_EV_DONE;
	case S_BODY_LEN:
		snprintf(msg, sizeof msg, "transfer closed with %llu bytes remaining",
			 (unsigned long long)p->remaining);
		return fail(p, HTTP_E_EOF, msg);
	case S_HEAD:
		return fail(p, HTTP_E_EOF, p->head_len ? "connection closed inside the head"
						       : "connection closed before a response");
	case S_ERROR:
		return HTTP_EV_ERROR;
	default:
		return fail(p, HTTP_E_EOF, "transfer closed inside the chunked body");
	}
}

/* ---- helpers for composing and checking messages ---- */

const char *http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 207: return "Multi-Status";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 423: return "Locked";
	case 424: return "Failed Dependency";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	default: return "Unknown";
	}
}

void http_date_format(time_t t, char *out, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

time_t http_date_parse(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4];
	int d, y, h, m, sec, n = 0;
	const char *p;

	if (sscanf(s, "%*3s, %2d %3s %4d %2d:%2d:%2d GMT%n", &d, mon, &y, &h, &m, &sec, &n) != 6 ||
	    !n)
		return -1;
	p = strstr(months, mon);
	if (!p || (p - months) % 3 || strlen(mon) != 3)
		return -1;
	return (time_t)(util_days_from_civil(y, (int)(p - months) / 3 + 1, d) * 86400 + h * 3600 +
			m * 60 + sec);
}

/* Whether v, from p on, holds s followed by the end, a comma or a space. */
static int list_item_is(const char *p, const char *s, size_t n, int nocase)
{
	int same = nocase ? !strncasecmp(p, s, n) : !strncmp(p, s, n);

	return same && (p[n] == '\0' || p[n] == ',' || p[n] == ' ');
}

int http_has_token(const char *v, const char *token)
{
	size_t n = strlen(token);

	while (v && *v) {
		while (*v == ' ' || *v == ',')
			v++;
		if (list_item_is(v, token, n, 1))
			return 1;
		v += strcspn(v, ",");
	}
	return 0;
}

int http_etag_match(const char *inm, const char *etag)
{
	const char *p = inm;
	size_t n = strlen(etag);

	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (!strncmp(p, "W/", 2))
			p += 2;
		if (list_item_is(p, etag, n, 0))
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

/* Decimal digits at *p into *v (saturating at UINT64_MAX); the count. */
static int digits(const char **p, uint64_t *v)
{
	int n = 0;

	for (*v = 0; **p >= '0' && **p <= '9'; (*p)++, n++)
		*v = *v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : *v * 10 + (uint64_t)(**p - '0');
	return n;
}

int http_parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
	const char *p;
	uint64_t a, b;
	int da, db;

	if (strncasecmp(h, "bytes=", 6))
		return 0;
	p = h + 6;
	if (strchr(p, ','))
		return 0; /* several ranges: the whole file, as RFC 9110 allows */
	da = digits(&p, &a);
	if (*p++ != '-')
		return 0;
	db = digits(&p, &b);
	if (*p || (!da && !db))
		return 0;
	if (!da) { /* the last b bytes */
		if (!b || !size)
			return -1;
		*from = b > size ? 0 : size - b;
		*to = size - 1;
		return 1;
	}
	if (a >= size || (db && b < a))
		return -1;
	*from = a;
	*to = !db || b >= size ? size - 1 : b;
	return 1;
}

int http_html_escape(struct buf *b, const char *s)
{
	int rc = 0;

	for (; *s && rc == 0; s++)
		switch (*s) {
		case '<': rc = buf_append(b, "&lt;", 4); break;
		case '>': rc = buf_append(b, "&gt;", 4); break;
		case '&': rc = buf_append(b, "&amp;", 5); break;
		case '"': rc = buf_append(b, "&quot;", 6); break;
		case '\'': rc = buf_append(b, "&#39;", 5); break;
		default: rc = buf_putc(b, *s);
		}
	return rc;
}

void http_body_piece(struct buf *out, const char *p, size_t n, int chunked, int last)
{
	if (chunked && n)
		buf_printf(out, "%zx\r\n", n);
	buf_append(out, p, n);
	if (chunked && n)
		buf_append(out, "\r\n", 2);
	if (chunked && last)
		buf_append(out, "0\r\n\r\n", 5);
}
