/* curl's data options, each a part of a request body: -d, --data-binary,
 * --data-urlencode, --json, and -F's parts. */
#include "nettool/http/client.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* The whole of a file, or of stdin for "-", appended to b. */
int hc_read_whole(struct buf *b, const char *path, char *err)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY) : STDIN_FILENO;
	char tmp[65536];
	ssize_t n;

	if (fd < 0) {
		nt_seterr(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, tmp, sizeof tmp)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf_append(b, tmp, (size_t)n) < 0) {
			nt_seterr(err, "%s: %s", path, n < 0 ? strerror(errno) : "out of memory");
			if (fd != STDIN_FILENO)
				close(fd);
			return -1;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	return 0;
}

/* Start a -d style part: '&' after the first. */
static int field_sep(struct hc_data *bd, char *err)
{
	if (bd->fields++ && buf_putc(&bd->data, '&') < 0) {
		nt_seterr(err, "out of memory");
		return -1;
	}
	return 0;
}

/* A part as given, or read from @FILE; strip: drop CR and LF from a file. */
static int add_data(struct hc_data *bd, const char *arg, int at, int strip, char *err)
{
	size_t start = bd->data.len, i, j;

	if (!at || arg[0] != '@')
		return buf_append(&bd->data, arg, strlen(arg)) < 0 ? (nt_seterr(err, "out of memory"), -1)
								  : 0;
	if (hc_read_whole(&bd->data, arg + 1, err) < 0)
		return -1;
	for (i = j = start; strip && i < bd->data.len; i++)
		if (bd->data.data[i] != '\r' && bd->data.data[i] != '\n')
			bd->data.data[j++] = bd->data.data[i];
	if (strip)
		bd->data.len = j;
	return 0;
}

/* --data-urlencode: content, =content, name=content, @file, name@file. */
static int add_urlencoded(struct hc_data *bd, const char *arg, char *err)
{
	struct buf raw = { NULL, 0, 0 };
	const char *eq = strchr(arg, '='), *at = strchr(arg, '@'), *val = arg;
	int rc;

	if (eq && (!at || eq < at)) { /* [name]=content */
		if (eq > arg && buf_append(&bd->data, arg, (size_t)(eq - arg + 1)) < 0)
			return -1;
		val = eq + 1;
		rc = buf_append(&raw, val, strlen(val));
	} else if (at) { /* [name]@file */
		if (at > arg && (buf_append(&bd->data, arg, (size_t)(at - arg)) < 0 ||
				 buf_putc(&bd->data, '=') < 0))
			return -1;
		rc = hc_read_whole(&raw, at + 1, err);
		if (rc < 0) {
			buf_free(&raw);
			return -1;
		}
	} else {
		rc = buf_append(&raw, val, strlen(val));
	}
	if (rc < 0 || url_escape_form(&bd->data, raw.data ? raw.data : "", raw.len) < 0) {
		buf_free(&raw);
		nt_seterr(err, "out of memory");
		return -1;
	}
	buf_free(&raw);
	return 0;
}

int hc_data_add(struct hc_data *bd, enum hc_data_how how, const char *arg, char *err)
{
	if (how == HC_DATA_JSON) { /* parts joined as they are, @FILE read unchanged */
		bd->json = 1;
		return add_data(bd, arg, 1, 0, err);
	}
	if (field_sep(bd, err) < 0)
		return -1;
	if (how == HC_DATA_URLENCODE)
		return add_urlencoded(bd, arg, err);
	return add_data(bd, arg, 1, how == HC_DATA, err);
}

/* ---- the option readers (cmd.h's OPT_FUNC) ---- */

/* -d: curl's --data (CR and LF stripped from what @FILE reads). */
int hc_opt_data(void *field, const char *arg, char *err)
{
	return hc_data_add(field, HC_DATA, arg, err);
}

int hc_opt_data_binary(void *field, const char *arg, char *err)
{
	return hc_data_add(field, HC_DATA_BINARY, arg, err);
}

int hc_opt_data_urlencode(void *field, const char *arg, char *err)
{
	return hc_data_add(field, HC_DATA_URLENCODE, arg, err);
}

int hc_opt_json(void *field, const char *arg, char *err)
{
	return hc_data_add(field, HC_DATA_JSON, arg, err);
}

/* -F: a part, its file checked now. */
int hc_opt_form(void *field, const char *arg, char *err)
{
	struct hc_form *fm = field;
	struct mp_part *p = &fm->p[fm->n];
	struct stat st;
	char *copy;
	int from_file;

	if (fm->n == MP_MAX_PARTS) {
		nt_seterr(err, "at most %d -F parts", MP_MAX_PARTS);
		return -1;
	}
	if (!(copy = strdup(arg))) {
		nt_seterr(err, "out of memory");
		return -1;
	}
	fm->args[fm->n++] = copy;
	if (mp_parse_arg(copy, p, &from_file, err) < 0)
		return -1;
	if (!from_file) { /* every part's data is its own, to be freed */
		if (!(p->data = strdup(p->data))) {
			nt_seterr(err, "out of memory");
			return -1;
		}
		return 0;
	}
	if (from_file == 1 && strcmp(p->path, "-") && stat(p->path, &st) == 0 &&
	    S_ISREG(st.st_mode)) {
		p->size = (uint64_t)st.st_size;
		return 0;
	}
	if (from_file == 1 && strcmp(p->path, "-") && stat(p->path, &st) < 0) {
		nt_seterr(err, "%s: %s", p->path, strerror(errno));
		return -1;
	}
	/* stdin, a pipe or '<': read now */
	{
		struct buf b = { NULL, 0, 0 };

		if (hc_read_whole(&b, p->path, err) < 0) {
			buf_free(&b);
			return -1;
		}
		p->data = b.data;
		p->len = p->size = b.len;
		p->path = NULL;
	}
	return 0;
}

int hc_opt_header(void *field, const char *arg, char *err)
{
	struct hc_headers *h = field;
	const char *c = strchr(arg, ':');

	if (!c || !http_name_ok(arg, (size_t)(c - arg)) || !http_value_ok(arg)) {
		nt_seterr(err, "bad header '%s' (expected 'Name: value', no control characters)", arg);
		return -1;
	}
	if (h->n == HC_MAX_HEADERS) {
		nt_seterr(err, "at most %d headers", HC_MAX_HEADERS);
		return -1;
	}
	h->v[h->n++] = arg;
	return 0;
}

int hc_opt_method(void *field, const char *arg, char *err)
{
	if (!http_name_ok(arg, strlen(arg)) || strlen(arg) >= HC_METHOD_MAX) {
		nt_seterr(err, "bad method '%s' (expected a token such as PUT)", arg);
		return -1;
	}
	*(const char **)field = arg;
	return 0;
}

int hc_opt_upload(void *field, const char *arg, char *err)
{
	struct stat st;

	if (strcmp(arg, "-") && stat(arg, &st) < 0) {
		nt_seterr(err, "%s: %s", arg, strerror(errno));
		return -1;
	}
	if (strcmp(arg, "-") && S_ISDIR(st.st_mode)) {
		nt_seterr(err, "%s: is a directory", arg);
		return -1;
	}
	*(const char **)field = arg;
	return 0;
}

/* The next ':'-separated field of *s into out (an IPv6 address in
 * brackets, which are dropped): 1 when a ':' ended it, 0 the string's
 * end, -1 when it does not fit. */
static int alias_field(const char **s, char *out, size_t len)
{
	const char *p = *s, *end;
	size_t n;

	if (*p == '[') {
		if (!(end = strchr(p, ']')) || (end[1] && end[1] != ':'))
			return -1;
		p++;
	} else {
		end = p + strcspn(p, ":");
	}
	n = (size_t)(end - p);
	if (n >= len)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	end += *end == ']';
	*s = end + (*end == ':');
	return *end == ':';
}

/* A port field: empty (0) when may_be_empty, else 1..65535. */
static int alias_port(const char **s, unsigned *port, int may_be_empty)
{
	char f[16], *e;
	unsigned long v;
	int sep = alias_field(s, f, sizeof f);

	if (sep < 0)
		return -1;
	if (!f[0] && may_be_empty) {
		*port = 0;
		return sep;
	}
	v = strtoul(f, &e, 10);
	if (!f[0] || *e || f[0] == '-' || f[0] == '+' || v < 1 || v > 65535)
		return -1;
	*port = (unsigned)v;
	return sep;
}

static struct hc_alias *alias_new(struct hc_aliases *al, char *err)
{
	if (al->n == HC_MAX_ALIASES) {
		nt_seterr(err, "at most %d of --resolve and --connect-to", HC_MAX_ALIASES);
		return NULL;
	}
	memset(&al->v[al->n], 0, sizeof al->v[0]);
	return &al->v[al->n];
}

int hc_opt_resolve(void *field, const char *arg, char *err)
{
	struct hc_aliases *al = field;
	struct hc_alias *a = alias_new(al, err);
	const char *s = arg + (*arg == '+');

	if (!a)
		return -1;
	a->resolve = 1;
	int bad = alias_field(&s, a->host, sizeof a->host) != 1 || !a->host[0] ||
		  alias_port(&s, &a->port, 0) != 1 || strlen(s) >= sizeof a->to;

	if (!bad && *s == '[') /* the address is the rest: brackets optional */
		bad = alias_field(&s, a->to, sizeof a->to) < 0 || *s;
	else if (!bad)
		strcpy(a->to, s);
	if (bad || !a->to[0]) {
		nt_seterr(err, "bad --resolve '%s' (expected HOST:PORT:ADDRESS)", arg);
		return -1;
	}
	a->to[strcspn(a->to, ",")] = '\0'; /* of several addresses, the first */
	al->n++;
	return 0;
}

int hc_opt_connect_to(void *field, const char *arg, char *err)
{
	struct hc_aliases *al = field;
	struct hc_alias *a = alias_new(al, err);
	const char *s = arg;

	if (!a)
		return -1;
	if (alias_field(&s, a->host, sizeof a->host) != 1 || alias_port(&s, &a->port, 1) != 1 ||
	    alias_field(&s, a->to, sizeof a->to) != 1 || alias_port(&s, &a->to_port, 1) != 0) {
		nt_seterr(err, "bad --connect-to '%s' (expected HOST:PORT:HOST2:PORT2, any empty)",
			  arg);
		return -1;
	}
	al->n++;
	return 0;
}
