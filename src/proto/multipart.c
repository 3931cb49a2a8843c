#include "nettool/proto/multipart.h"
#include "nettool/base/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- building ---- */

int mp_parse_arg(char *arg, struct mp_part *p, int *from_file, char *err)
{
	char *eq = strchr(arg, '='), *v, *semi;

	memset(p, 0, sizeof *p);
	*from_file = 0;
	if (!eq || eq == arg) {
		nt_seterr(err, "bad part '%s' (expected NAME=TEXT, NAME=@FILE or NAME=<FILE)", arg);
		return -1;
	}
	*eq = '\0';
	p->name = arg;
	v = eq + 1;
	if (*v != '@' && *v != '<') {
		p->data = v;
		p->len = p->size = strlen(v);
		return 0;
	}
	*from_file = *v == '@' ? 1 : 2;
	p->path = ++v;
	for (semi = strchr(v, ';'); semi; semi = strchr(semi + 1, ';')) {
		*semi = '\0';
		if (!strncmp(semi + 1, "type=", 5) && semi[6]) {
			p->type = semi + 6;
		} else if (!strncmp(semi + 1, "filename=", 9)) {
			p->filename = semi + 10;
		} else {
			nt_seterr(err, "bad parameter '%s' (expected ;type=MIME or ;filename=NAME)",
				  semi + 1);
			return -1;
		}
	}
	if (!*p->path) {
		nt_seterr(err, "%s: a file name is missing after %c", p->name,
			  *from_file == 1 ? '@' : '<');
		return -1;
	}
	if (*from_file == 1 && !p->filename && strcmp(p->path, "-")) {
		const char *slash = strrchr(p->path, '/');

		p->filename = slash ? slash + 1 : p->path;
	}
	return 0;
}

void mp_boundary(const unsigned char rnd[16], char out[MP_BOUNDARY_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	memcpy(out, "nettool-", 8);
	for (i = 0; i < 16; i++) {
		out[8 + 2 * i] = hex[rnd[i] >> 4];
		out[9 + 2 * i] = hex[rnd[i] & 15];
	}
	out[MP_BOUNDARY_LEN] = '\0';
}

int mp_collides(const char *boundary, const char *p, size_t n)
{
	size_t bl = strlen(boundary), i;

	for (i = 0; i + bl <= n; i++) {
		const char *h = memchr(p + i, boundary[0], n - i - bl + 1);

		if (!h)
			return 0;
		i = (size_t)(h - p);
		if (!memcmp(h, boundary, bl))
			return 1;
	}
	return 0;
}

/* A name or filename as a quoted-string: '"', CR and LF percent-encoded. */
static int quoted(struct buf *b, const char *s)
{
	int rc = buf_putc(b, '"');

	for (; *s && rc == 0; s++)
		rc = *s == '"' ? buf_append(b, "%22", 3) : *s == '\r' ? buf_append(b, "%0D", 3)
		     : *s == '\n' ? buf_append(b, "%0A", 3) : buf_putc(b, *s);
	return rc < 0 ? -1 : buf_putc(b, '"');
}

int mp_build(struct mp_part *parts, int n, const char *boundary, uint64_t *total)
{
	int i;

	*total = 0;
	for (i = 0; i < n; i++) {
		struct mp_part *p = &parts[i];
		struct buf *h = &p->head;

		h->len = 0;
		if (buf_printf(h, "--%s\r\nContent-Disposition: form-data; name=", boundary) < 0 ||
		    quoted(h, p->name) < 0)
			return -1;
		if (p->filename && (buf_printf(h, "; filename=") < 0 || quoted(h, p->filename) < 0))
			return -1;
		if (p->type && buf_printf(h, "\r\nContent-Type: %s", p->type) < 0)
			return -1;
		if (buf_printf(h, "\r\n\r\n") < 0)
			return -1;
		*total += h->len + p->size + 2;
	}
	*total += strlen(boundary) + 6;
	return 0;
}

int mp_close(struct buf *b, const char *boundary)
{
	return buf_printf(b, "--%s--\r\n", boundary) < 0 ? -1 : 0;
}

/* ---- parsing ---- */

enum { ST_PREAMBLE, ST_DATA, ST_AFTER, ST_AFTER_DASH, ST_AFTER_CR, ST_HEAD, ST_DONE };
#define NO_EVENT (-1)

static int bchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       strchr("'()+_,-./:=? ", c);
}

int mp_content_boundary(const char *ct, char *out, size_t len)
{
	const char *p;
	size_t n = 0;

	if (!ct || strncasecmp(ct, "multipart/form-data", 19) || (ct[19] && ct[19] != ';' &&
								   ct[19] != ' '))
		return -1;
	for (p = ct + 19; (p = strchr(p, ';')); ) {
		p++;
		p += strspn(p, " \t");
		if (strncasecmp(p, "boundary=", 9))
			continue;
		p += 9;
		if (*p == '"') {
			for (p++; p[n] && p[n] != '"'; n++)
				;
			if (p[n] != '"')
				return -1;
		} else {
			n = strcspn(p, " \t;");
		}
		if (n == 0 || n > MP_MAX_BOUNDARY || n >= len || p[n - 1] == ' ')
			return -1;
		memcpy(out, p, n);
		out[n] = '\0';
		for (p = out; *p; p++)
			if (!bchar(*p))
				return -1;
		return 0;
	}
	return -1;
}

void mp_parser_init(struct mp_parser *p, const char *boundary)
{
	memset(p, 0, offsetof(struct mp_parser, head));
	p->dlen = (size_t)snprintf(p->delim, sizeof p->delim, "\r\n--%s", boundary);
	/* the first delimiter may open the body: as if a CRLF came first */
	memcpy(p->hold, "\r\n", 2);
	p->hold_len = 2;
	p->state = ST_PREAMBLE;
	p->name[0] = p->filename[0] = '\0';
}

static enum mp_event fail(struct mp_parser *p, const char *msg)
{
	snprintf(p->err, sizeof p->err, "multipart body: %s", msg);
	return MP_ERROR;
}

static int content(struct mp_parser *p, const char *d, size_t n)
{
	if (p->state == ST_PREAMBLE || n == 0)
		return NO_EVENT;
	p->ev_data = d;
	p->ev_len = n;
	return MP_DATA;
}

static int delimiter(struct mp_parser *p)
{
	int was_data = p->state == ST_DATA;

	p->state = ST_AFTER;
	return was_data ? MP_PART_END : NO_EVENT;
}

/* Where in d[0..n) a delimiter starts, whole or cut off by the end (then
 * it is held for more input); d + n when nowhere. Content runs in large
 * pieces: a CR that begins no delimiter does not end one. */
static const char *find_delim(const struct mp_parser *p, const char *d, size_t n)
{
	const char *s = d, *end = d + n;

	while ((s = memchr(s, '\r', (size_t)(end - s)))) {
		size_t avail = (size_t)(end - s), k = avail < p->dlen ? avail : p->dlen;

		if (!memcmp(s, p->delim, k))
			return s;
		s++;
	}
	return end;
}

/* Content up to the next delimiter. */
static int scan(struct mp_parser *p, const char *d, size_t len, size_t *i)
{
	const char *rest = d + *i, *cr;
	size_t n = len - *i, k;

	if (p->hold_len) {
		while (p->hold_len < p->dlen && *i < len && d[*i] == p->delim[p->hold_len])
			p->hold[p->hold_len++] = d[(*i)++];
		if (p->hold_len == p->dlen) {
			p->hold_len = 0;
			return delimiter(p);
		}
		if (*i == len)
			return NO_EVENT;
		/* not a delimiter after all: only delim[0] is a CR, so none of
		 * the held bytes can begin one */
		memcpy(p->emit, p->hold, p->hold_len);
		k = p->hold_len;
		p->hold_len = 0;
		return content(p, p->emit, k);
	}
	cr = find_delim(p, rest, n);
	if (cr > rest) { /* content up to a delimiter, or one's beginning */
		*i += (size_t)(cr - rest);
		return content(p, rest, (size_t)(cr - rest));
	}
	for (k = 0; k < p->dlen && k < n && rest[k] == p->delim[k]; k++)
		;
	if (k == p->dlen) {
		*i += k;
		return delimiter(p);
	}
	if (k == n) {
		memcpy(p->hold, rest, k);
		p->hold_len = k;
		*i = len;
		return NO_EVENT;
	}
	*i += k;
	return content(p, rest, k);
}

/* A parameter of Content-Disposition: a token or a quoted-string. */
static int param(const char *v, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key), n = 0;
	const char *s;

	for (s = v; (s = strchr(s, ';')); ) {
		s++;
		s += strspn(s, " \t");
		if (strncasecmp(s, key, kl) || s[kl] != '=')
			continue;
		s += kl + 1;
		if (*s == '"') {
			/* no backslash escapes: browsers send a '"' as %22 (HTML's
			 * form encoding) and a Windows path as it is */
			for (s++; *s && *s != '"'; s++)
				if (n + 1 < len)
					out[n++] = *s;
			if (*s != '"')
				return -1;
		} else {
			for (; *s && *s != ';' && *s != ' ' && *s != '\t'; s++)
				if (n + 1 < len)
					out[n++] = *s;
		}
		out[n] = '\0';
		return 1;
	}
	return 0;
}

/* The part head is whole in p->head: its name and filename. */
static int part_head(struct mp_parser *p)
{
	char *line = p->head, *end;
	int found = 0;

	p->head[p->head_len - 2] = '\0';
	p->name[0] = p->filename[0] = '\0';
	p->has_filename = 0;
	for (; *line; line = end + 2) {
		end = strstr(line, "\r\n");
		if (!end)
			break;
		*end = '\0';
		if (!strncasecmp(line, "Content-Disposition:", 20)) {
			const char *v = line + 20;

			v += strspn(v, " \t");
			if (strncasecmp(v, "form-data", 9))
				return fail(p, "a part is not form-data");
			if (param(v, "name", p->name, sizeof p->name) != 1 ||
			    (p->has_filename = param(v, "filename", p->filename,
						     sizeof p->filename)) < 0)
				return fail(p, "a part has no name");
			found = 1;
		}
	}
	if (!found)
		return fail(p, "a part has no Content-Disposition");
	p->state = ST_DATA;
	p->in_part = 1;
	return MP_PART;
}

static int step(struct mp_parser *p, const char *d, size_t len, size_t *i)
{
	char c;

	if (p->state == ST_PREAMBLE || p->state == ST_DATA)
		return scan(p, d, len, i);
	if (p->state == ST_DONE) {
		*i = len;
		return NO_EVENT;
	}
	c = d[(*i)++];
	switch (p->state) {
	case ST_AFTER:
		if (c == '-')
			p->state = ST_AFTER_DASH;
		else if (c == '\r')
			p->state = ST_AFTER_CR;
		else if (c != ' ' && c != '\t')
			return fail(p, "bad delimiter line");
		return NO_EVENT;
	case ST_AFTER_DASH:
		if (c != '-')
			return fail(p, "bad close delimiter");
		p->state = ST_DONE;
		return MP_DONE;
	case ST_AFTER_CR:
		if (c != '\n')
			return fail(p, "bad delimiter line");
		p->state = ST_HEAD;
		p->head_len = 0;
		return NO_EVENT;
	default: /* ST_HEAD */
		if (p->head_len + 1 >= sizeof p->head)
			return fail(p, "a part head is too long");
		p->head[p->head_len++] = c;
		if (p->head_len == 2 && !memcmp(p->head, "\r\n", 2))
			return part_head(p);
		if (p->head_len >= 4 && !memcmp(p->head + p->head_len - 4, "\r\n\r\n", 4))
			return part_head(p);
		return NO_EVENT;
	}
}

int mp_finished(const struct mp_parser *p)
{
	return p->state == ST_DONE;
}

enum mp_event mp_parse(struct mp_parser *p, const char *d, size_t len, size_t *used)
{
	size_t i = 0;

	while (i < len) {
		int ev = step(p, d, len, &i);

		if (ev == MP_ERROR)
			p->state = ST_DONE;
		if (ev != NO_EVENT) {
			*used = i;
			return (enum mp_event)ev;
		}
	}
	*used = i;
	return MP_NEED;
}
