#include "nettool/proto/writeout.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum wo_kind { K_LONG, K_SIZE, K_TIME, K_STR, K_CODE, K_VERSION, K_SPEED_DOWN, K_SPEED_UP };

struct wo_var {
	const char *name;
	enum wo_kind kind;
	size_t off;
};

#define D(f) offsetof(struct wo_data, f)
/* in name order, as %{json} lists them */
static const struct wo_var vars[] = {
	{ "content_type", K_STR, D(content_type) },
	{ "errormsg", K_STR, D(errormsg) },
	{ "exitcode", K_LONG, D(exitcode) },
	{ "filename_effective", K_STR, D(filename_effective) },
	{ "http_code", K_CODE, D(http_code) },
	{ "http_version", K_VERSION, D(http_minor) },
	{ "local_ip", K_STR, D(local_ip) },
	{ "local_port", K_LONG, D(local_port) },
	{ "method", K_STR, D(method) },
	{ "num_connects", K_LONG, D(num_connects) },
	{ "num_redirects", K_LONG, D(num_redirects) },
	{ "redirect_url", K_STR, D(redirect_url) },
	{ "remote_ip", K_STR, D(remote_ip) },
	{ "remote_port", K_LONG, D(remote_port) },
	{ "response_code", K_CODE, D(http_code) },
	{ "scheme", K_STR, D(scheme) },
	{ "size_download", K_SIZE, D(size_download) },
	{ "size_header", K_SIZE, D(size_header) },
	{ "size_request", K_SIZE, D(size_request) },
	{ "size_upload", K_SIZE, D(size_upload) },
	{ "speed_download", K_SPEED_DOWN, 0 },
	{ "speed_upload", K_SPEED_UP, 0 },
	{ "time_connect", K_TIME, D(time_connect) },
	{ "time_namelookup", K_TIME, D(time_namelookup) },
	{ "time_pretransfer", K_TIME, D(time_pretransfer) },
	{ "time_redirect", K_TIME, D(time_redirect) },
	{ "time_starttransfer", K_TIME, D(time_starttransfer) },
	{ "time_total", K_TIME, D(time_total) },
	{ "url", K_STR, D(url) },
	{ "url_effective", K_STR, D(url_effective) },
};
#undef D
#define NVARS (sizeof vars / sizeof vars[0])

static const struct wo_var *var_named(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < NVARS; i++)
		if (strlen(vars[i].name) == n && !memcmp(vars[i].name, name, n))
			return &vars[i];
	return NULL;
}

static unsigned long long speed(uint64_t bytes, double secs)
{
	return secs > 0 ? (unsigned long long)((double)bytes / secs) : 0;
}

/* A variable's value as text; json: strings quoted (or null). */
static void var_value(struct buf *b, const struct wo_var *v, const struct wo_data *d, int json)
{
	const char *base = (const char *)d;
	const char *s;

	switch (v->kind) {
	case K_LONG:
		buf_printf(b, "%ld", *(const long *)(base + v->off));
		break;
	case K_SIZE:
		buf_printf(b, "%llu", (unsigned long long)*(const uint64_t *)(base + v->off));
		break;
	case K_TIME:
		buf_printf(b, "%.6f", *(const double *)(base + v->off));
		break;
	case K_CODE:
		buf_printf(b, json ? "%ld" : "%03ld", d->http_code);
		break;
	case K_VERSION: /* as curl: "1" for HTTP/1.0, "1.1"; "0" without a response */
		buf_printf(b, json ? "\"%s\"" : "%s",
			   d->http_minor < 0 ? "0" : d->http_minor == 0 ? "1" : "1.1");
		break;
	case K_SPEED_DOWN:
		buf_printf(b, "%llu", speed(d->size_download, d->time_total));
		break;
	case K_SPEED_UP:
		buf_printf(b, "%llu", speed(d->size_upload, d->time_total));
		break;
	case K_STR:
		s = *(const char *const *)(base + v->off);
		if (!json)
			buf_printf(b, "%s", s ? s : "");
		else if (!s || !*s)
			buf_printf(b, "null");
		else
			buf_json_string(b, s, strlen(s));
		break;
	}
}

void wo_json(struct buf *b, const struct wo_data *d)
{
	size_t i;

	buf_putc(b, '{');
	for (i = 0; i < NVARS; i++) {
		buf_printf(b, "%s\"%s\":", i ? "," : "", vars[i].name);
		var_value(b, &vars[i], d, 1);
	}
	buf_putc(b, '}');
}

/* Lower-case field names, each with the array of its values in order. */
void wo_header_json(struct buf *b, const struct wo_data *d)
{
	size_t i, j, k, first = 1;

	buf_putc(b, '{');
	for (i = 0; i < d->nfields; i++) {
		const char *name = d->fields[i].name;

		for (j = 0; j < i && strcasecmp(d->fields[j].name, name); j++)
			;
		if (j < i)
			continue; /* listed with its first */
		buf_printf(b, "%s\"", first ? "" : ",\n");
		first = 0;
		for (k = 0; name[k]; k++)
			buf_putc(b, (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]));
		buf_printf(b, "\":[");
		for (j = i, k = 0; j < d->nfields; j++)
			if (!strcasecmp(d->fields[j].name, name)) {
				buf_printf(b, "%s", k++ ? "," : "");
				buf_json_string(b, d->fields[j].value, strlen(d->fields[j].value));
			}
		buf_putc(b, ']');
	}
	buf_printf(b, "%s}", first ? "" : "\n");
}

static const char *header_named(const struct wo_data *d, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < d->nfields; i++)
		if (strlen(d->fields[i].name) == n && !strncasecmp(d->fields[i].name, name, n))
			return d->fields[i].value;
	return NULL;
}

/* The text so far to the stream, then the buffer is empty. */
static void flush(const struct wo_sink *s, struct buf *b, enum wo_stream st, const char *file)
{
	if (b->len)
		s->emit(s->ctx, st, file, b->data, b->len);
	b->len = 0;
}

/* %word{...} at p: the word's length, the name and its length; 0 when
 * p holds no such form. */
static size_t braces(const char *p, const char **word, size_t *wl, const char **name, size_t *nl)
{
	const char *open = p + 1, *close;

	while ((*open >= 'a' && *open <= 'z') || *open == '_')
		open++;
	if (*open != '{' || !(close = strchr(open, '}')))
		return 0;
	*word = p + 1;
	*wl = (size_t)(open - p - 1);
	*name = open + 1;
	*nl = (size_t)(close - open - 1);
	return (size_t)(close - p) + 1;
}

void wo_render(const char *fmt, const struct wo_data *d, const struct wo_sink *s)
{
	struct buf b = { NULL, 0, 0 };
	enum wo_stream st = WO_STDOUT;
	char file[1024] = "";
	const char *p = fmt;

	while (*p) {
		const char *word, *name;
		size_t wl, nl, used;

		if (*p == '\\' && p[1] && strchr("nrt\\", p[1])) {
			buf_putc(&b, p[1] == 'n' ? '\n' : p[1] == 'r' ? '\r' : p[1] == 't' ? '\t' : '\\');
			p += 2;
		} else if (*p == '%' && p[1] == '%') {
			buf_putc(&b, '%');
			p += 2;
		} else if (*p == '%' && (used = braces(p, &word, &wl, &name, &nl)) != 0) {
			const struct wo_var *v = wl ? NULL : var_named(name, nl);
			const char *h;

			p += used;
			if (wl == 6 && !memcmp(word, "header", 6)) {
				if ((h = header_named(d, name, nl)))
					buf_printf(&b, "%s", h);
			} else if (wl == 6 && !memcmp(word, "output", 6)) {
				int app = nl >= 2 && !memcmp(name, ">>", 2);

				flush(s, &b, st, file);
				st = app ? WO_FILE_APPEND : WO_FILE;
				snprintf(file, sizeof file, "%.*s", (int)(nl - (app ? 2 : 0)),
					 name + (app ? 2 : 0));
			} else if (wl) {
				s->unknown(s->ctx, word - 1, used);
			} else if (nl == 6 && !memcmp(name, "stdout", 6)) {
				flush(s, &b, st, file);
				st = WO_STDOUT;
			} else if (nl == 6 && !memcmp(name, "stderr", 6)) {
				flush(s, &b, st, file);
				st = WO_STDERR;
			} else if (nl == 4 && !memcmp(name, "json", 4)) {
				wo_json(&b, d);
			} else if (nl == 11 && !memcmp(name, "header_json", 11)) {
				wo_header_json(&b, d);
			} else if (v) {
				var_value(&b, v, d, 0);
			} else {
				s->unknown(s->ctx, name, nl);
			}
		} else {
			buf_putc(&b, *p++);
		}
	}
	flush(s, &b, st, file);
	buf_free(&b);
}
