/* WebDAV's operations on trees: DELETE of a folder, COPY and MOVE. */
#include "nettool/http/dav.h"
#include "nettool/http/dav_lock.h"
#include "nettool/http/dav_props.h"
#include "nettool/http/serve.h"
#include "nettool/proto/url.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static int status_of_errno(int err)
{
	return err == ENOENT || err == ENOTDIR ? 409 : err == EACCES || err == EPERM ? 403
	       : err == ENOSPC || err == EDQUOT ? 507 : 500;
}

/* A member that could not be done: its href (url, then name) and the
 * status, when there is room to say it. */
static void failed(struct dav_fails *f, const struct buf *url, const char *name, int err)
{
	if (!f || f->n == DAV_FAILS)
		return;
	f->status[f->n++] = status_of_errno(err);
	buf_append(&f->hrefs, url->data, url->len);
	if (!url->len || url->data[url->len - 1] != '/')
		buf_putc(&f->hrefs, '/');
	url_escape(&f->hrefs, name);
	buf_putc(&f->hrefs, '\0');
}

/* Everything in the folder open as dfd, whose URL is url: links are
 * removed, never followed; what cannot be removed is listed in f and the
 * rest goes on. 0: emptied; -1: not all of it. */
static int empty_tree(int dfd, int depth, struct buf *url, struct dav_fails *f)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		close(dfd);
		return -1;
	}
	while ((e = readdir(d))) {
		size_t at = url->len;
		int sub;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			continue;
		if ((errno != EISDIR && errno != EPERM) || depth >= DAV_DEPTH_MAX ||
		    (sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				  O_CLOEXEC)) < 0) {
			/* EPERM and no folder: a file that may not go (immutable) */
			failed(f, url, e->d_name, errno == ENOTDIR ? EPERM : errno);
			rc = -1;
			continue;
		}
		if (!url->len || url->data[url->len - 1] != '/')
			buf_putc(url, '/');
		url_escape(url, e->d_name);
		if (empty_tree(sub, depth + 1, url, f) < 0) {
			rc = -1; /* its members say why; the folder fails with them */
		} else if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0) {
			url->len = at;
			failed(f, url, e->d_name, errno);
			rc = -1;
		}
		url->len = at;
	}
	closedir(d);
	return rc;
}

int hs_dav_rmtree(const char *path, const char *urlpath, struct dav_fails *f)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct buf url = { NULL, 0, 0 };
	int rc;

	if (fd < 0)
		return errno;
	url_escape_path(&url, urlpath ? urlpath : "/");
	rc = empty_tree(fd, 0, &url, f);
	buf_free(&url);
	if (rc < 0)
		return f && f->n ? -1 : EPERM;
	return rmdir(path) < 0 ? errno : 0;
}

void hs_dav_fails_reply(struct conn *c, struct dav_fails *f)
{
	struct buf b = { NULL, 0, 0 };
	const char *h = f->hrefs.data;
	int i;

	buf_printf(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"DAV:\">\n");
	for (i = 0; i < f->n; i++, h += strlen(h) + 1) {
		buf_printf(&b, "<D:response><D:href>");
		http_html_escape(&b, h);
		buf_printf(&b, "</D:href><D:status>HTTP/1.1 %d %s</D:status></D:response>\n",
			   f->status[i], http_reason(f->status[i]));
	}
	buf_printf(&b, "</D:multistatus>\n");
	hs_head_start(c, 207);
	buf_printf(&c->out, "Content-Type: application/xml; charset=utf-8\r\nContent-Length: %zu\r\n",
		   b.len);
	hs_head_end(c);
	buf_append(&c->out, b.data, b.len);
	buf_free(&b);
	buf_free(&f->hrefs);
}

int hs_dav_destination(struct conn *c, char *dfs, size_t dlen, char *durl, size_t ulen)
{
	const char *d = http_field(c->hp, "Destination"), *host = http_field(c->hp, "Host"), *path;
	int slash_end;

	if (!d || !*d)
		return 400;
	path = d;
	if (!strncasecmp(d, "http://", 7)) { /* on this server: its authority is the Host */
		size_t al = strcspn(d + 7, "/?#");

		if (!host || strlen(host) != al || strncasecmp(d + 7, host, al))
			return 502;
		path = d + 7 + al;
		if (!*path)
			path = "/";
	} else if (*d != '/') {
		return strstr(d, "://") ? 502 : 400;
	}
	return url_map_path(c->w->cfg->root.path, path, durl, ulen, dfs, dlen, &slash_end);
}

/* A file's bytes into a new file beside dst, renamed onto it. 0, or an
 * errno. */
static int copy_file(const char *src, const char *dst, mode_t mode)
{
	char tmp[PATH_MAX + 32], buf[65536];
	const char *slash = strrchr(dst, '/');
	int in, out, err = 0;
	ssize_t n;

	if (!slash || (size_t)(slash - dst) + sizeof HU_TMP_PREFIX + 8 > sizeof tmp)
		return ENAMETOOLONG;
	snprintf(tmp, sizeof tmp, "%.*s/" HU_TMP_PREFIX "XXXXXX", (int)(slash - dst), dst);
	if ((in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno;
	if ((out = mkstemp(tmp)) < 0) {
		err = errno;
		close(in);
		return err;
	}
	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(out, buf, (size_t)n) != n) {
			err = n < 0 ? errno : errno ? errno : ENOSPC;
			break;
		}
	}
	close(in);
	fchmod(out, mode & 0777);
	if (close(out) < 0 && !err)
		err = errno;
	if (!err)
		davp_copy(src, tmp); /* its dead properties go with it */
	if (!err && rename(tmp, dst) < 0)
		err = errno;
	if (err)
		unlink(tmp);
	return err;
}

/* A folder and, to depth levels more, what it holds: folders and regular
 * files (links and special files left out). 0, or an errno. */
static int copy_tree(const char *src, const char *dst, int depth, int level)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	int err = 0;

	if (lstat(src, &st) < 0)
		return errno;
	if (S_ISREG(st.st_mode))
		return copy_file(src, dst, st.st_mode);
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (mkdir(dst, st.st_mode & 0777) < 0)
		return errno;
	davp_copy(src, dst);
	if (!depth)
		return 0;
	if (level >= DAV_DEPTH_MAX)
		return ELOOP;
	if (!(d = opendir(src)))
		return errno;
	while (!err && (e = readdir(d))) {
		char s2[PATH_MAX], d2[PATH_MAX];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strncmp(e->d_name, HU_TMP_PREFIX, strlen(HU_TMP_PREFIX)))
			continue;
		if (snprintf(s2, sizeof s2, "%s/%s", src, e->d_name) >= (int)sizeof s2 ||
		    snprintf(d2, sizeof d2, "%s/%s", dst, e->d_name) >= (int)sizeof d2)
			err = ENAMETOOLONG;
		else
			err = copy_tree(s2, d2, depth, level + 1);
	}
	closedir(d);
	return err;
}

/* A folder copied beside dst under a hidden name, then renamed onto it:
 * no half-copied folder is ever seen under dst. 0, or an errno. */
static int copy_folder(const char *src, const char *dst, int depth)
{
	const char *slash = strrchr(dst, '/');
	char tmp[PATH_MAX + 32];
	int err;

	if (!slash || (size_t)(slash - dst) + sizeof HU_TMP_PREFIX + 8 > sizeof tmp)
		return ENAMETOOLONG;
	snprintf(tmp, sizeof tmp, "%.*s/" HU_TMP_PREFIX "XXXXXX", (int)(slash - dst), dst);
	if (!mkdtemp(tmp))
		return errno;
	rmdir(tmp); /* the name is ours; copy_tree makes the folder with its mode */
	err = copy_tree(src, tmp, depth, 0);
	if (!err && rename(tmp, dst) < 0)
		err = errno;
	if (err)
		hs_dav_rmtree(tmp, NULL, NULL);
	return err;
}

void hs_dav_copy_move(struct conn *c, char *fs, const char *urlpath, char *dfs,
		      const char *durl, int move)
{
	const char *ow = http_field(c->hp, "Overwrite"), *depth = http_field(c->hp, "Depth");
	struct stat st, dst;
	size_t n = strlen(fs), un = strlen(urlpath);
	int exists, err, code;

	while (n > 1 && fs[n - 1] == '/')
		fs[--n] = '\0';
	n = strlen(dfs);
	while (n > 1 && dfs[n - 1] == '/')
		dfs[--n] = '\0';
	if (depth && strcmp(depth, "0") && strcasecmp(depth, "infinity")) {
		hs_send_error(c, 400, 0); /* COPY and MOVE: Depth 0 or infinity */
		return;
	}
	if (lstat(fs, &st) < 0 || fcache_inside(&c->w->cfg->root, fs) != 1) {
		hs_send_error(c, 404, 0);
		return;
	}
	while (un > 1 && urlpath[un - 1] == '/')
		un--;
	if (!strcmp(fs, dfs) || !strcmp(durl, "/") || (move && !strcmp(urlpath, "/")) ||
	    (S_ISDIR(st.st_mode) && !strncmp(durl, urlpath, un) && durl[un] == '/')) {
		hs_send_error(c, 403, 0); /* onto itself, into itself, or the root */
		return;
	}
	if (!hu_name_ok(strrchr(dfs, '/') + 1, c->w->cfg->hu.dotfiles)) {
		hs_send_error(c, 403, 0);
		return;
	}
	exists = lstat(dfs, &dst) == 0;
	if (exists && ow && (ow[0] == 'F' || ow[0] == 'f')) {
		hs_send_error(c, 412, 0); /* RFC 4918 10.6 */
		return;
	}
	if (exists) { /* Overwrite: T, what is there goes first (RFC 4918 9.8.4) */
		struct dav_fails fails = { { NULL, 0, 0 }, { 0 }, 0 };

		err = S_ISDIR(dst.st_mode) ? hs_dav_rmtree(dfs, durl, &fails)
		      : unlink(dfs) < 0 ? errno : 0;
		if (err < 0) {
			hs_dav_fails_reply(c, &fails);
			return;
		}
		buf_free(&fails.hrefs);
		if (err) {
			hs_send_error(c, status_of_errno(err), 0);
			return;
		}
	}
	if (move) {
		err = rename(fs, dfs) < 0 ? errno : 0;
		if (err == EXDEV && !(err = copy_tree(fs, dfs, 1, 0)))
			err = S_ISDIR(st.st_mode) ? hs_dav_rmtree(fs, NULL, NULL) : unlink(fs) < 0 ? errno : 0;
	} else if (S_ISDIR(st.st_mode)) {
		err = copy_folder(fs, dfs, !(depth && !strcmp(depth, "0")));
	} else {
		err = copy_tree(fs, dfs, 0, 0);
	}
	code = err ? status_of_errno(err) : exists ? 204 : 201;
	if (!err && move && c->w->cfg->locks)
		hs_lock_drop(c->w->cfg->locks, urlpath); /* a lock does not move with it */
	if (err) {
		hs_send_error(c, code, 0);
		return;
	}
	hs_head_start(c, code);
	if (code == 201)
		buf_str(&c->out, "Content-Length: 0\r\n");
	hs_head_end(c);
}

