/* http-serve's replies: the head every response starts with, HTML
 * bodies, and the error pages (a reason in a sentence, a way back). */
#include "nettool/http/serve_conn.h"
#include "nettool/http/serve.h"
#include "nettool/proto/http.h"
#include "nettool/proto/url.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define OUT_START 2048            /* a head and a small body */

/* The Date of every response, formatted once a second. */
static const char *date_now(struct hs_worker *w)
{
	time_t now = time(NULL);

	if (now != w->date_at) {
		http_date_format(now, w->date, sizeof w->date);
		w->date_at = now;
	}
	return w->date;
}

void hs_head_start(struct conn *c, int status)
{
	char code[4] = { (char)('0' + status / 100), (char)('0' + status / 10 % 10),
			 (char)('0' + status % 10), ' ' };

	c->status = status;
	c->head_sent = c->interim;
	if (!c->out.data && c->w->nspare_out)
		c->out = c->w->spare_out[--c->w->nspare_out];
	c->out.len = c->out_off = 0;
	buf_reserve(&c->out, OUT_START);
	buf_str(&c->out, "HTTP/1.1 ");
	buf_append(&c->out, code, 4);
	buf_str(&c->out, http_reason(status));
	buf_str(&c->out, "\r\nDate: ");
	buf_str(&c->out, date_now(c->w));
	buf_str(&c->out, "\r\nServer: nettool/" NT_VERSION "\r\n");
}

void hs_head_end(struct conn *c)
{
	buf_str(&c->out, c->keep ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
	c->head_sent += c->out.len; /* the head is all of out so far */
}

/* The methods this server answers for a path. */
void hs_allow_header(struct conn *c)
{
	const struct hs_cfg *g = c->w->cfg;

	buf_printf(&c->out, "Allow: GET, HEAD, OPTIONS%s%s%s\r\n", g->upload ? ", PUT, POST, MKCOL" : "",
		   g->upload && g->allow_delete ? ", DELETE" : "",
		   g->webdav ? ", PROPFIND, PROPPATCH, COPY, MOVE, LOCK, UNLOCK" : "");
	if (g->webdav)
		buf_str(&c->out, "DAV: 1, 2\r\n");
}

/* Respond with an HTML body (freed here). */
void hs_send_html(struct conn *c, int status, struct buf *body, int head_only)
{
	hs_head_start(c, status);
	if (status == 405)
		hs_allow_header(c);
	if (status == 401)
		buf_str(&c->out, "WWW-Authenticate: Basic realm=\"nettool\", charset=\"UTF-8\"\r\n");
	if (status == 429)
		buf_str(&c->out, "Retry-After: " AUTH_WINDOW_TEXT "\r\n");
	buf_printf(&c->out, "Content-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n",
		   body->len);
	hs_head_end(c);
	if (!head_only)
		buf_append(&c->out, body->data, body->len);
	buf_free(body);
}

/* What went wrong, in a sentence a person reads. */
static const char *error_reason(int status)
{
	switch (status) {
	case 400: return "The request was not one this server understands, or a form came "
			 "without a file or a name.";
	case 401: return "This folder is shared with accounts: sign in with yours.";
	case 403: return "You may not reach or change this (a name or path not allowed, or "
			 "beyond what your account may do).";
	case 404: return "Nothing here has that name.";
	case 405: return "That cannot be done here.";
	case 409: return "It conflicts with what is here: a file of that name exists, or the "
			 "folder it goes in does not.";
	case 413: return "The upload is larger than this server takes.";
	case 415: return "Only a form with files (multipart/form-data) or with a new folder's "
			 "name is taken here.";
	case 417: return "The Expect field asks for something other than 100-continue.";
	case 429: return "Too many failed sign-ins from your address: try again in a minute.";
	case 507: return "The disk is full.";
	default: return NULL;
	}
}

/* The error page: the status, its reason, and a link to the folder the
 * request was in. */
static void error_page(struct conn *c, int status, struct buf *body)
{
	const char *why = error_reason(status), *t = c->hp ? c->hp->target : NULL;
	size_t n = t && *t == '/' ? strcspn(t, "?#") : 0;

	while (n > 1 && t[n - 1] != '/')
		n--;
	buf_printf(body, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%d %s</title>"
		   "<style>body{font-family:sans-serif;margin:2em}</style></head><body><h1>%d %s</h1>\n",
		   status, http_reason(status), status, http_reason(status));
	if (why)
		buf_printf(body, "<p>%s</p>\n", why);
	if (n) {
		char dir[URL_MAX];

		snprintf(dir, sizeof dir, "%.*s", (int)n, t);
		buf_str(body, "<p><a href=\"");
		http_html_escape(body, dir);
		buf_str(body, "\">Back to the folder</a></p>\n");
	}
	buf_str(body, "</body></html>\n");
}

/* A small HTML page (or the --404 page) for an error status. */
void hs_send_error(struct conn *c, int status, int head_only)
{
	const struct hs_cfg *g = c->w->cfg;
	struct buf body = { NULL, 0, 0 };

	if (status >= 400 && status != 404 && status != 405 && status != 416)
		c->keep = 0;
	if (status == 404 && g->page404) {
		int fd = open(g->page404, O_RDONLY | O_CLOEXEC);
		char tmp[4096];
		ssize_t n;

		while (fd >= 0 && (n = read(fd, tmp, sizeof tmp)) > 0 && body.len < 1 << 20)
			buf_append(&body, tmp, (size_t)n);
		if (fd >= 0)
			close(fd);
	}
	if (!body.len)
		error_page(c, status, &body);
	hs_send_html(c, status, &body, head_only);
}

