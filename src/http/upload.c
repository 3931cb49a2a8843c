#ifdef __linux__
#define _GNU_SOURCE /* splice */
#endif
#include "nettool/http/upload.h"
#include "nettool/proto/http.h"
#include "nettool/proto/multipart.h"
#include "nettool/core/net.h"
#include "nettool/proto/url.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* A file being received: its temporary and where it goes. */
struct hu_file {
	char tmp[PATH_MAX], final[PATH_MAX];
	char name[256]; /* as given, for the form's answer */
	int replaced;
};

struct hs_upload {
	struct hu_opts o;
	int form;
	int fd;                /* the file being written, or -1 */
	struct hu_file *files; /* PUT: one; form: one per file part */
	int nfiles;
	char dir[PATH_MAX];    /* form: where the files go */
	int in_file;           /* form: the current part is a file */
	struct mp_parser mp;
	int pipe[2];           /* PUT: for splice(), -1 until needed */
	int pipe_size;
	int no_splice;         /* the system refused it: read and write */
	int mkdir_form;        /* a form of a new folder's name (urlencoded) */
	size_t mem_max;        /* a body kept in memory (fields), at most this */
	struct buf fields;     /* its body */
};

#define MKDIR_FORM_MAX 4096

int hu_name_ok(const char *name, int dotfiles)
{
	const unsigned char *p;

	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..") ||
	    (name[0] == '.' && !dotfiles) || !strncmp(name, HU_TMP_PREFIX, strlen(HU_TMP_PREFIX)))
		return 0;
	for (p = (const unsigned char *)name; *p; p++)
		if (*p < 32 || *p == 127)
			return 0;
	return 1;
}

static int disk_status(int err)
{
	return err == ENOSPC || err == EDQUOT ? 507 : err == EACCES || err == EPERM ? 403 : 500;
}

/* A new temporary beside final; 0, or a status. */
static int open_tmp(struct hs_upload *up, struct hu_file *f, const char *dir)
{
	snprintf(f->tmp, sizeof f->tmp, "%s/" HU_TMP_PREFIX "XXXXXX", dir);
	up->fd = mkstemp(f->tmp);
	if (up->fd < 0) {
		f->tmp[0] = '\0';
		return disk_status(errno);
	}
	fchmod(up->fd, up->o.mode);
	return 0;
}

static struct hu_file *add_file(struct hs_upload *up)
{
	struct hu_file *f;

	if (up->nfiles == MP_MAX_PARTS)
		return NULL;
	f = realloc(up->files, sizeof *f * (size_t)(up->nfiles + 1));
	if (!f)
		return NULL;
	up->files = f;
	f += up->nfiles++;
	memset(f, 0, sizeof *f);
	return f;
}

static struct hs_upload *upload_new(const struct hu_opts *o)
{
	struct hs_upload *up = calloc(1, sizeof *up);

	if (up) {
		up->o = *o;
		up->fd = -1;
		up->pipe[0] = up->pipe[1] = -1;
	}
	return up;
}

/* Whether final may be written: absent, or a regular file with
 * overwrite. 0, or a status. */
static int target_status(const struct hu_opts *o, const char *final, int *replaced)
{
	struct stat st;

	*replaced = 0;
	if (lstat(final, &st) < 0)
		return errno == ENOENT ? 0 : disk_status(errno);
	if (S_ISDIR(st.st_mode))
		return 409;
	if (!S_ISREG(st.st_mode)) /* a symlink or device: never written through */
		return 403;
	*replaced = 1;
	return o->overwrite ? 0 : 409;
}

int hu_put(const struct hu_opts *o, const char *fs, struct hs_upload **out)
{
	struct hs_upload *up = upload_new(o);
	struct hu_file *f = up ? add_file(up) : NULL;
	const char *slash = strrchr(fs, '/');
	char dir[PATH_MAX];
	int st;

	if (!f || !slash || (size_t)(slash - fs) >= sizeof dir) {
		hu_free(up);
		return 500;
	}
	snprintf(f->final, sizeof f->final, "%s", fs);
	snprintf(f->name, sizeof f->name, "%s", slash + 1);
	memcpy(dir, fs, (size_t)(slash - fs));
	dir[slash - fs] = '\0';
	if ((st = target_status(o, fs, &f->replaced)) || (st = open_tmp(up, f, dir))) {
		hu_free(up);
		return st;
	}
	*out = up;
	return 0;
}

int hu_form(const struct hu_opts *o, const char *dir, const char *content_type,
	    struct hs_upload **out)
{
	char boundary[MP_MAX_BOUNDARY + 1];
	struct hs_upload *up;

	if (content_type && !strncasecmp(content_type, "application/x-www-form-urlencoded", 33)) {
		if (!(up = upload_new(o)))
			return 500;
		up->mkdir_form = up->form = 1;
		up->mem_max = MKDIR_FORM_MAX;
		snprintf(up->dir, sizeof up->dir, "%s", dir);
		*out = up;
		return 0;
	}
	if (!content_type || strncasecmp(content_type, "multipart/form-data", 19))
		return 415; /* neither files nor a folder's name */
	if (mp_content_boundary(content_type, boundary, sizeof boundary) < 0)
		return 400;
	if (!(up = upload_new(o)))
		return 500;
	up->form = 1;
	snprintf(up->dir, sizeof up->dir, "%s", dir);
	mp_parser_init(&up->mp, boundary);
	*out = up;
	return 0;
}

static int write_all(struct hs_upload *up, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(up->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return disk_status(errno);
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int close_file(struct hs_upload *up)
{
	int rc = 0;

	if (up->fd >= 0 && close(up->fd) < 0)
		rc = disk_status(errno);
	up->fd = -1;
	return rc;
}

/* A form part's head: a file part named "file" starts a file; the rest
 * is read and dropped. */
static int form_part(struct hs_upload *up)
{
	const char *name = up->mp.filename, *s;
	struct hu_file *f;
	int st, i;

	up->in_file = 0;
	if (strcmp(up->mp.name, "file") || !up->mp.has_filename || !up->mp.filename[0])
		return 0; /* not a file (a browser sends "" when none was chosen) */
	/* a browser's name may carry a path from another system */
	for (s = name; *s; s++)
		if (*s == '/' || *s == '\\')
			name = s + 1;
	if (!hu_name_ok(name, up->o.dotfiles))
		return 403;
	for (i = 0; i < up->nfiles; i++)
		if (!strcmp(up->files[i].name, name))
			return 409; /* twice in one form */
	if (!(f = add_file(up)))
		return 500;
	snprintf(f->name, sizeof f->name, "%s", name);
	if (strlen(up->dir) + strlen(name) + 2 > sizeof f->final)
		return 403; /* a name too long */
	memcpy(f->final, up->dir, strlen(up->dir));
	f->final[strlen(up->dir)] = '/';
	memcpy(f->final + strlen(up->dir) + 1, name, strlen(name) + 1);
	if ((st = target_status(&up->o, f->final, &f->replaced)) || (st = open_tmp(up, f, up->dir)))
		return st;
	up->in_file = 1;
	return 0;
}

static int form_data(struct hs_upload *up, const char *p, size_t n)
{
	while (n) {
		size_t used = 0;
		enum mp_event ev = mp_parse(&up->mp, p, n, &used);
		int st = 0;

		p += used;
		n -= used;
		if (ev == MP_ERROR)
			return 400;
		if (ev == MP_PART)
			st = form_part(up);
		else if (ev == MP_DATA && up->in_file)
			st = write_all(up, up->mp.ev_data, up->mp.ev_len);
		else if (ev == MP_PART_END && up->in_file)
			st = close_file(up);
		if (st)
			return st;
		if (ev == MP_PART_END)
			up->in_file = 0;
		if (ev == MP_NEED)
			break;
	}
	return 0;
}

int hu_data(struct hs_upload *up, const char *p, size_t n)
{
	if (up->mem_max) /* a name, or a request's XML: small, in memory */
		return up->fields.len + n > up->mem_max ? 413
		       : buf_append(&up->fields, p, n) < 0 ? 500 : 0;
	return up->form ? form_data(up, p, n) : write_all(up, p, n);
}

/* The new folder's name from "mkdir=NAME" (form-encoded), into out. */
static int mkdir_name(const struct buf *fields, char *out, size_t len)
{
	const char *p = fields->data, *end = p + fields->len;

	while (p && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p)), *e = amp ? amp : end;
		size_t i, k = 0;

		if (e - p > 6 && !memcmp(p, "mkdir=", 6) && (size_t)(e - p - 6) < len) {
			for (i = 6; p + i < e; i++)
				out[k++] = p[i] == '+' ? ' ' : p[i];
			out[k] = '\0';
			return url_unescape(out);
		}
		p = amp ? amp + 1 : NULL;
	}
	return -1;
}

/* A folder made by the form: 201 and a page, or a status. */
static int make_folder(struct hs_upload *up, const char *dir_url, struct buf *page)
{
	char name[1024], path[PATH_MAX + 1100];

	if (mkdir_name(&up->fields, name, sizeof name) < 0 || !name[0])
		return 400;
	if (!hu_name_ok(name, up->o.dotfiles))
		return 403;
	snprintf(path, sizeof path, "%s/%s", up->dir, name);
	if (mkdir(path, 0777) < 0)
		return errno == EEXIST ? 409 : disk_status(errno);
	buf_printf(page, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Folder made"
		   "</title></head><body><h1>Folder made</h1><p><a href=\"");
	url_escape(page, name);
	buf_printf(page, "/\">");
	http_html_escape(page, name);
	buf_printf(page, "/</a></p><p><a href=\"");
	http_html_escape(page, dir_url);
	buf_printf(page, "\">Back to the listing</a></p></body></html>\n");
	return 201;
}

int hu_direct(const struct hs_upload *up)
{
	return !up->form && !up->mem_max;
}

int hu_memory(const struct hu_opts *o, size_t max, struct hs_upload **out)
{
	struct hs_upload *up = upload_new(o);

	if (!up)
		return 500;
	up->mem_max = max;
	*out = up;
	return 0;
}

const struct buf *hu_memory_body(const struct hs_upload *up)
{
	return &up->fields;
}

#define COPY_BUF (256 * 1024)
#define SPLICE_MIN (64 * 1024) /* less left to read goes through the buffer */
#define PIPE_SIZE (1024 * 1024)

#ifdef __linux__
/*
 * splice() moves a PUT's body from socket to file through a pipe: the
 * socket's pages go into the pipe without a copy, so the server copies
 * each byte once instead of twice. Loopback into tmpfs, 1 GiB, sendfile
 * on the other end: 1.8-2.5 GB/s and 0.4-0.6 CPU s/GiB against 0.8-1.3
 * GB/s and 0.8-1.3 s/GiB through a buffer; from a sender that copies,
 * 2.0-2.6 against 1.0-2.3 GB/s. The pipe holds up to 1 MiB (64 KiB
 * measured slower).
 */
static int want_pipe(struct hs_upload *up, uint64_t max)
{
	if (up->pipe[0] >= 0)
		return 0;
	if (up->no_splice || max < SPLICE_MIN)
		return -1;
	if ((up->pipe_size = util_splice_pipe(up->pipe, 0, PIPE_SIZE)) < 0) {
		up->no_splice = 1;
		return -1;
	}
	return 0;
}

/* n bytes in the pipe that splice() may not put in the file: through
 * the buffer, and no pipe from now on. */
static int unpipe(struct hs_upload *up, char *buf, size_t n)
{
	int st = 0;

	while (n && !st) {
		ssize_t got = net_read_some(up->pipe[0], buf, n < COPY_BUF ? n : COPY_BUF);

		if (got <= 0)
			st = 500;
		else
			st = write_all(up, buf, (size_t)got);
		n -= got > 0 ? (size_t)got : 0;
	}
	util_close_pipe(up->pipe);
	up->no_splice = 1;
	return st;
}

/* Empty the pipe's n bytes into the file; 0, or a status (the pipe is
 * then dropped with what it held: the upload has failed). */
static int drain(struct hs_upload *up, char *buf, size_t n)
{
	while (n) {
		ssize_t w = splice(up->pipe[0], NULL, up->fd, NULL, n, SPLICE_F_MOVE);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EINVAL)
			return unpipe(up, buf, n);
		if (w <= 0) {
			int st = w < 0 ? disk_status(errno) : 500;

			util_close_pipe(up->pipe);
			return st;
		}
		n -= (size_t)w;
	}
	return 0;
}
#endif

ssize_t hu_from_socket(struct hs_upload *up, int sock, uint64_t max, int *st)
{
	char *buf = util_scratch(1, COPY_BUF);
	ssize_t n;

	*st = 0;
	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
#ifdef __linux__
	if (want_pipe(up, max) == 0) {
		n = util_splice_in(sock, up->pipe[1],
				   max < (uint64_t)up->pipe_size ? (size_t)max : (size_t)up->pipe_size);
		if (n < 0 && errno == EINVAL) { /* not for this socket or pipe */
			util_close_pipe(up->pipe);
			up->no_splice = 1;
			return hu_from_socket(up, sock, max, st);
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		return (*st = drain(up, buf, (size_t)n)) != 0 ? -1 : n;
	}
#endif
	n = net_read_some(sock, buf, max < COPY_BUF ? (size_t)max : COPY_BUF);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0)
		return -1;
	if ((*st = write_all(up, buf, (size_t)n)) != 0)
		return -1;
	return n;
}

#define RELEASE_LATER_MIN (16 << 20) /* a replaced file this large */

#ifdef O_PATH
static void *close_fd(void *arg)
{
	close((int)(intptr_t)arg);
	return NULL;
}
#endif

/* The file a rename is about to replace, held so that its blocks are not
 * freed by the rename; -1 when that is not worth it or not possible. */
static int hold_replaced(const struct hu_file *f)
{
#ifdef O_PATH
	struct stat st;
	int fd;

	if (!f->replaced || (fd = open(f->final, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= RELEASE_LATER_MIN)
		return fd;
	close(fd);
#else
	(void)f;
#endif
	return -1;
}

/*
 * Let go of a replaced file on a thread of its own: freeing a large
 * file's blocks (60 ms for 1 GiB on tmpfs) then runs beside the answer,
 * not between the body's end and it.
 */
static void release_later(int fd)
{
#ifdef O_PATH
	pthread_attr_t at;
	pthread_t tid;
	int ok;

	if (fd < 0)
		return;
	if (pthread_attr_init(&at) == 0) {
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		ok = pthread_create(&tid, &at, close_fd, (void *)(intptr_t)fd) == 0;
		pthread_attr_destroy(&at);
		if (ok)
			return;
	}
	close(fd);
#else
	(void)fd;
#endif
}

/* Put one file in place: link() so that a file that appeared meanwhile
 * is not replaced without overwrite. */
static int place(struct hs_upload *up, struct hu_file *f)
{
	if (up->o.overwrite) {
		int old = hold_replaced(f);

		if (rename(f->tmp, f->final) < 0) {
			if (old >= 0)
				close(old);
			return disk_status(errno);
		}
		release_later(old);
	} else {
		if (link(f->tmp, f->final) < 0)
			return errno == EEXIST ? 409 : disk_status(errno);
		unlink(f->tmp);
	}
	f->tmp[0] = '\0';
	return 0;
}

static void form_page(const struct hs_upload *up, const char *dir_url, struct buf *page)
{
	int i;

	buf_printf(page, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Uploaded"
		   "</title></head><body><h1>Uploaded</h1><ul>\n");
	for (i = 0; i < up->nfiles; i++) {
		buf_printf(page, "<li><a href=\"");
		url_escape(page, up->files[i].name);
		buf_printf(page, "\">");
		http_html_escape(page, up->files[i].name);
		buf_printf(page, "</a>%s</li>\n", up->files[i].replaced ? " (replaced)" : "");
	}
	buf_printf(page, "</ul><p><a href=\"");
	http_html_escape(page, dir_url);
	buf_printf(page, "\">Back to the listing</a></p></body></html>\n");
}

int hu_finish(struct hs_upload *up, const char *dir_url, struct buf *page)
{
	int i, st = close_file(up);

	if (st)
		return st;
	if (up->mkdir_form)
		return make_folder(up, dir_url, page);
	if (up->mem_max)
		return 0; /* the caller takes hu_memory_body */
	if (up->form && (!mp_finished(&up->mp) || !up->nfiles))
		return 400; /* cut short, or no file in it */
	for (i = 0; i < up->nfiles; i++)
		if ((st = place(up, &up->files[i])))
			return st;
	if (!up->form)
		return up->files[0].replaced ? 204 : 201;
	form_page(up, dir_url, page);
	return 201;
}

void hu_free(struct hs_upload *up)
{
	int i;

	if (!up)
		return;
	buf_free(&up->fields);
	close_file(up);
	util_close_pipe(up->pipe);
	for (i = 0; i < up->nfiles; i++)
		if (up->files[i].tmp[0])
			unlink(up->files[i].tmp);
	free(up->files);
	free(up);
}
