#include "nettool/http/client_cookie.h"
#include "nettool/base/util.h"
#include "nettool/core/net.h"
#include "nettool/http/client_out.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int hc_opt_cookie(void *field, const char *arg, char *err)
{
	struct hc_cookies *c = field;

	if (!strchr(arg, '=')) {
		if (c->nfiles == HC_COOKIE_FILES) {
			nt_seterr(err, "at most %d cookie files", HC_COOKIE_FILES);
			return -1;
		}
		c->files[c->nfiles++] = arg;
		return 0;
	}
	if (!http_value_ok(arg)) {
		nt_seterr(err, "bad cookie string '%s' (control characters)", arg);
		return -1;
	}
	if ((c->given.len && buf_printf(&c->given, "; ") < 0) || buf_printf(&c->given, "%s", arg) < 0) {
		nt_seterr(err, "out of memory");
		return -1;
	}
	return 0;
}

/* Cookies are kept, and Set-Cookie taken, with a file to read or write. */
static int keeping(const struct hc_cookies *c)
{
	return c->nfiles || c->save_path;
}

/* A file's lines, each bounded; a longer one is skipped whole. */
static int load_file(struct hc_cookies *c, const char *path, char *err)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char line[COOKIE_MAX_LEN + 2048];
	int64_t now = (int64_t)time(NULL);
	int skip = 0, no = 0, bad = 0, first = 0;

	if (!f) {
		if (errno == ENOENT)
			return 0; /* no jar yet: -b FILE -c FILE on a first run */
		nt_seterr(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		int whole = strchr(line, '\n') || feof(f), rc = whole ? 0 : -2;

		no += !skip;
		if (!skip && whole)
			rc = cookie_load_line(&c->jar, line, c->junk_session, now);
		if (rc == -1) {
			nt_seterr(err, "out of memory");
			break;
		}
		if (rc == -2 && !skip && !bad++)
			first = no;
		skip = !whole;
	}
	if (bad)
		snprintf(c->warn, sizeof c->warn, "%.200s: line %d%s is no cookie line: skipped", path,
			 first, bad > 1 ? " and others" : "");
	if (ferror(f) && !err[0])
		nt_seterr(err, "%s: %s", path, strerror(errno));
	if (f != stdin)
		fclose(f);
	return err[0] ? -1 : 0;
}

int hc_cookies_load(struct hc_cookies *c, char *err)
{
	int i;

	err[0] = '\0';
	for (i = 0; i < c->nfiles; i++)
		if (load_file(c, c->files[i], err) < 0)
			return -1;
	return 0;
}

/* u's path: its target without the query. */
static void url_path(const struct url *u, char *out, size_t len)
{
	snprintf(out, len, "%.*s", (int)strcspn(u->target, "?#"), u->target);
}

const char *hc_cookies_for(struct hc_cookies *c, const struct url *u)
{
	char path[URL_MAX];
	int n = 0;

	c->header.len = 0;
	if (c->given.len)
		buf_append(&c->header, c->given.data, c->given.len);
	url_path(u, path, sizeof path);
	if (keeping(c)) {
		struct buf jar = { NULL, 0, 0 };

		n = cookie_header(&c->jar, &jar, u->host, path, 0, (int64_t)time(NULL));
		if (n > 0 && ((c->header.len && buf_printf(&c->header, "; ") < 0) ||
			      buf_append(&c->header, jar.data, jar.len) < 0))
			n = -1;
		buf_free(&jar);
	}
	if (!c->header.len || n < 0 || buf_putc(&c->header, '\0') < 0)
		return NULL;
	return c->header.data;
}

void hc_cookies_take(struct hc_cookies *c, const struct http_parser *hp, const struct url *u)
{
	char path[URL_MAX];
	size_t i;

	if (!keeping(c))
		return;
	url_path(u, path, sizeof path);
	for (i = 0; i < hp->nfields; i++)
		if (!strcasecmp(hp->fields[i].name, "Set-Cookie"))
			cookie_set(&c->jar, hp->fields[i].value, u->host, path, 0,
				   (int64_t)time(NULL));
}

int hc_cookies_save(struct hc_cookies *c, char *err)
{
	struct hc_out out;
	struct buf b = { NULL, 0, 0 };
	int rc = 0;

	if (!c->save_path)
		return 0;
	memset(&out, 0, sizeof out);
	out.fd = -1;
	if (strcmp(c->save_path, "-"))
		snprintf(out.path, sizeof out.path, "%s", c->save_path);
	if (cookie_save(&c->jar, &b, (int64_t)time(NULL)) < 0) {
		nt_seterr(err, "out of memory");
		rc = -1;
	} else if (hc_out_open(&out, 0, err) < 0) {
		rc = -1;
	} else if (net_write_full(out.fd, b.data, b.len) < 0) {
		nt_seterr(err, "write %s: %s", out.path[0] ? out.path : "stdout", strerror(errno));
		hc_out_discard(&out);
		rc = -1;
	} else {
		rc = hc_out_finish(&out, err);
	}
	buf_free(&b);
	return rc;
}

void hc_cookies_free(struct hc_cookies *c)
{
	cookie_jar_free(&c->jar);
	buf_free(&c->given);
	buf_free(&c->header);
}
