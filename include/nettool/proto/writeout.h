#ifndef NETTOOL_WRITEOUT_H
#define NETTOOL_WRITEOUT_H

#include "nettool/base/buf.h"
#include "nettool/proto/http.h"

#include <stddef.h>
#include <stdint.h>

/*
 * curl's --write-out: %{variable}, %header{name}, %output{file} (and
 * %output{>>file}), %{stdout}, %{stderr}, %{json}, %{header_json}, %%,
 * and \n \r \t \\. Pure: the values come in a struct wo_data, the text
 * goes out through a sink, a stream at a time.
 */
struct wo_data {
	long http_code;            /* 0: no response */
	int http_minor;            /* HTTP/1.minor, -1: no response */
	uint64_t size_download, size_upload, size_header, size_request;
	double time_namelookup, time_connect, time_pretransfer, time_starttransfer;
	double time_redirect, time_total;  /* seconds */
	long num_redirects, num_connects, remote_port, local_port, exitcode;
	const char *redirect_url, *url, *url_effective, *content_type, *remote_ip;
	const char *local_ip, *errormsg, *filename_effective, *method, *scheme;
	const struct http_field *fields; /* the last response's head */
	size_t nfields;
};

enum wo_stream { WO_STDOUT, WO_STDERR, WO_FILE, WO_FILE_APPEND };

struct wo_sink {
	void *ctx;
	/* text for a stream (file: its name for WO_FILE, WO_FILE_APPEND) */
	void (*emit)(void *ctx, enum wo_stream s, const char *file, const char *p, size_t n);
	/* a variable that does not exist (left out, as curl does) */
	void (*unknown)(void *ctx, const char *name, size_t n);
};

void wo_render(const char *fmt, const struct wo_data *d, const struct wo_sink *s);

/* The JSON of every variable ({"content_type":...}) or of the head's
 * fields ({"name":["value"],...}), appended to b. */
void wo_json(struct buf *b, const struct wo_data *d);
void wo_header_json(struct buf *b, const struct wo_data *d);

#endif
