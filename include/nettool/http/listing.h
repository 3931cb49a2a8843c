#ifndef NETTOOL_HTTP_LISTING_H
#define NETTOOL_HTTP_LISTING_H
/*
 * http-serve's folder pages: folders first, then files, in the order a
 * person expects (case folded, digits by their value: file2 before
 * file10), or by size or date from the query (?sort=size&order=desc);
 * aligned columns and a small inline style, no script; with uploads, the
 * forms that send files and make a folder.
 */
#include "nettool/base/buf.h"

/* The order the query asks for: sort=name|size|date, order=asc|desc. */
struct listing_order {
	char by;        /* 'n', 's' or 'd' */
	int desc;
};
void listing_order_parse(const char *query, struct listing_order *o);
/* Whether a comes before b in a person's order (pure, for tests):
 * negative, 0 or positive. */
int listing_name_cmp(const char *a, const char *b);
/* The HTML page of directory fs (titled by urlpath) into body, but for
 * names starting with hide. 0, or -1 when it cannot be read. */
int listing_page(struct buf *body, const char *fs, const char *urlpath,
		 const struct listing_order *o, int upload, const char *hide);

#endif
