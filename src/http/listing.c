#include "nettool/http/listing.h"
#include "nettool/base/util.h"
#include "nettool/proto/http.h"
#include "nettool/proto/url.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct entry {
	char *name;
	int dir;
	long long size;
	time_t mtime;
};

void listing_order_parse(const char *q, struct listing_order *o)
{
	o->by = 'n';
	o->desc = 0;
	while (q && *q) {
		if (!strncmp(q, "sort=size", 9))
			o->by = 's';
		else if (!strncmp(q, "sort=date", 9))
			o->by = 'd';
		else if (!strncmp(q, "order=desc", 10))
			o->desc = 1;
		q = strchr(q, '&');
		q += q != NULL;
	}
}

int listing_name_cmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	while (*x && *y) {
		if (isdigit(*x) && isdigit(*y)) { /* numbers by their value */
			const unsigned char *xs, *ys;
			size_t xl, yl;

			while (*x == '0' && isdigit(x[1]))
				x++;
			while (*y == '0' && isdigit(y[1]))
				y++;
			for (xs = x; isdigit(*x); x++)
				;
			for (ys = y; isdigit(*y); y++)
				;
			xl = (size_t)(x - xs);
			yl = (size_t)(y - ys);
			if (xl != yl)
				return xl < yl ? -1 : 1;
			if (memcmp(xs, ys, xl))
				return memcmp(xs, ys, xl);
			continue;
		}
		if (tolower(*x) != tolower(*y))
			return tolower(*x) - tolower(*y);
		x++;
		y++;
	}
	if (*x || *y)
		return *x ? 1 : -1;
	return strcmp(a, b); /* the same to a person: still one order */
}

static _Thread_local struct listing_order sort_by; /* for qsort, which has no context */

static int entry_cmp(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	int r;

	if (a->dir != b->dir)
		return b->dir - a->dir; /* folders first, either way */
	if (sort_by.by == 's' && a->size != b->size)
		r = a->size < b->size ? -1 : 1;
	else if (sort_by.by == 'd' && a->mtime != b->mtime)
		r = a->mtime < b->mtime ? -1 : 1;
	else
		r = listing_name_cmp(a->name, b->name);
	return sort_by.desc ? -r : r;
}

/* The entries of fs, each stat()ed, but . and .. and those starting with
 * hide; -1 when it cannot be read. */
static int read_entries(const char *fs, const char *hide, struct entry **out, size_t *n)
{
	struct entry *v = NULL;
	size_t cap = 0;
	struct dirent *d;
	DIR *dir = opendir(fs);

	*n = 0;
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		char full[PATH_MAX + 300];
		struct stat st;

		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..") ||
		    (hide && !strncmp(d->d_name, hide, strlen(hide))))
			continue;
		snprintf(full, sizeof full, "%s/%s", fs, d->d_name);
		if (stat(full, &st) < 0)
			continue;
		if (util_grow(&v, &cap, *n, sizeof *v) < 0 || !(v[*n].name = strdup(d->d_name)))
			break;
		v[*n].dir = S_ISDIR(st.st_mode);
		v[*n].size = (long long)st.st_size;
		v[*n].mtime = st.st_mtime;
		(*n)++;
	}
	closedir(dir);
	*out = v;
	return 0;
}

/* A size a person reads: 999, 1.2K, 34M, 5.0G (powers of 1024). */
static void human_size(long long n, char *out, size_t len)
{
	static const char units[] = "KMGTPE";
	double v = (double)n;
	int u = -1;

	if (n < 1000) {
		snprintf(out, len, "%lld", n);
		return;
	}
	while (v >= 1000 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(out, len, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

static void row(struct buf *b, const struct entry *e)
{
	char mt[64], hs[24];
	struct tm tm;

	gmtime_r(&e->mtime, &tm);
	strftime(mt, sizeof mt, "%Y-%m-%d %H:%M", &tm);
	buf_printf(b, "<tr><td><a href=\"");
	url_escape(b, e->name);
	buf_printf(b, "%s\">", e->dir ? "/" : "");
	http_html_escape(b, e->name);
	if (e->dir) {
		buf_printf(b, "/</a></td><td class=\"n\">-</td><td>%s</td></tr>\n", mt);
		return;
	}
	human_size(e->size, hs, sizeof hs);
	buf_printf(b, "</a></td><td class=\"n\" title=\"%lld bytes\">%s</td><td>%s</td></tr>\n",
		   e->size, hs, mt);
}

/* A column's heading: a link that sorts by it, the other way when it
 * already does. */
static void heading(struct buf *b, const struct listing_order *o, char by, const char *label,
		    const char *cls)
{
	int desc = o->by == by ? !o->desc : by != 'n';

	buf_printf(b, "<th%s><a href=\"?sort=%s&amp;order=%s\">%s%s</a></th>", cls,
		   by == 'n' ? "name" : by == 's' ? "size" : "date", desc ? "desc" : "asc", label,
		   o->by != by ? "" : o->desc ? " &#9660;" : " &#9650;");
}

static const char style[] =
	"<style>body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}"
	"table{border-collapse:collapse;min-width:40em}th,td{padding:.25em .8em;text-align:left}"
	"th{border-bottom:1px solid #999}td.n,th.n{text-align:right;"
	"font-variant-numeric:tabular-nums}tr:nth-child(even) td{background:#f3f3f3}"
	"a{text-decoration:none}a:hover{text-decoration:underline}form{margin:.6em 0}</style>";

int listing_page(struct buf *body, const char *fs, const char *urlpath,
		 const struct listing_order *o, int upload, const char *hide)
{
	struct entry *v;
	size_t n, i;

	if (read_entries(fs, hide, &v, &n) < 0)
		return -1;
	sort_by = *o;
	if (n)
		qsort(v, n, sizeof *v, entry_cmp);
	buf_printf(body, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
		   "<meta name=\"viewport\" content=\"width=device-width\"><title>Index of ");
	http_html_escape(body, urlpath);
	buf_printf(body, "</title>%s</head><body><h1>Index of ", style);
	http_html_escape(body, urlpath);
	buf_printf(body, "</h1>\n<p><a href=\"?tar\" download>Download this folder</a> (tar)</p>\n");
	if (upload)
		buf_printf(body, "<form method=\"post\" enctype=\"multipart/form-data\">"
			   "<input type=\"file\" name=\"file\" multiple> "
			   "<input type=\"submit\" value=\"Upload\"></form>\n"
			   "<form method=\"post\"><input type=\"text\" name=\"mkdir\" "
			   "placeholder=\"new folder\" required> "
			   "<input type=\"submit\" value=\"Make folder\"></form>\n");
	buf_printf(body, "<table>\n<tr>");
	heading(body, o, 'n', "Name", "");
	heading(body, o, 's', "Size", " class=\"n\"");
	heading(body, o, 'd', "Modified (UTC)", "");
	buf_printf(body, "</tr>\n");
	if (strcmp(urlpath, "/"))
		buf_printf(body, "<tr><td><a href=\"../\">../</a></td><td class=\"n\">-</td>"
			   "<td></td></tr>\n");
	for (i = 0; i < n; i++) {
		row(body, &v[i]);
		free(v[i].name);
	}
	free(v);
	return buf_printf(body, "</table></body></html>\n");
}
