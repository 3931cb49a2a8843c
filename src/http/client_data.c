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
