#include "nettool/http/tar_stream.h"
#include "nettool/proto/http.h"
#include "nettool/proto/tar.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct level {
	DIR *d;
	size_t fs_len, name_len; /* of fs and name, this folder's */
};

struct hs_tar {
	const struct fcache_root *root;
	int follow, chunked, done, in_chunk;
	const char *hide;
	uint64_t pad;            /* after the file the caller sent */
	struct level st[TAR_DEPTH];
	int depth;
	char fs[PATH_MAX];
	char name[PATH_MAX];
	struct buf raw;
};

static int push(struct hs_tar *t)
{
	DIR *d;

	if (t->depth == TAR_DEPTH || !(d = opendir(t->fs)))
		return -1;
	t->st[t->depth].d = d;
	t->st[t->depth].fs_len = strlen(t->fs);
	t->st[t->depth].name_len = strlen(t->name);
	t->depth++;
	return 0;
}

struct hs_tar *hs_tar_new(const struct fcache_root *root, const char *fs, const char *top,
			  int follow, int chunked, const char *hide)
{
	struct hs_tar *t = calloc(1, sizeof *t);
	struct stat st;

	if (!t)
		return NULL;
	t->root = root;
	t->follow = follow;
	t->chunked = chunked;
	t->hide = hide;
	snprintf(t->fs, sizeof t->fs, "%s", fs);
	snprintf(t->name, sizeof t->name, "%s/", top);
	if (stat(fs, &st) < 0 || push(t) < 0 ||
	    tar_header(&t->raw, t->name, '5', 0, (int64_t)st.st_mtime, st.st_mode & 0777) < 0) {
		hs_tar_free(t);
		return NULL;
	}
	return t;
}

/* Whether the entry at t->fs goes in, and its stat (a link followed). */
static int wanted(struct hs_tar *t, struct stat *st)
{
	if (lstat(t->fs, st) < 0)
		return 0;
	if (S_ISLNK(st->st_mode)) {
		if (stat(t->fs, st) < 0 || S_ISDIR(st->st_mode))
			return 0; /* dangling, or a folder: no loop */
		if (!t->follow && fcache_inside(t->root, t->fs) != 1)
			return 0;
	}
	return S_ISREG(st->st_mode) || S_ISDIR(st->st_mode);
}

/* A small file's bytes and padding into raw (zeros for what it lost
 * since it was measured). */
static void inline_file(struct hs_tar *t, int fd, uint64_t size)
{
	size_t at = t->raw.len, n = (size_t)size + (size_t)tar_pad(size);
	ssize_t got = 0;

	if (buf_reserve(&t->raw, n) < 0)
		return;
	memset(t->raw.data + at, 0, n);
	if (size)
		do
			got = pread(fd, t->raw.data + at, (size_t)size, 0);
		while (got < 0 && errno == EINTR);
	t->raw.len += n;
}

/* Walk on until the batch is full, a large file is to be sent (*fd), or
 * the walk is over. */
static void walk(struct hs_tar *t, int *fd, uint64_t *size)
{
	while (t->depth && t->raw.len < TAR_BATCH && *fd < 0) {
		struct level *lv = &t->st[t->depth - 1];
		struct dirent *e = readdir(lv->d);
		struct stat st;
		int f;

		if (!e) {
			closedir(lv->d);
			t->depth--;
			continue;
		}
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (t->hide && !strncmp(e->d_name, t->hide, strlen(t->hide))))
			continue;
		t->fs[lv->fs_len] = t->name[lv->name_len] = '\0';
		if (lv->fs_len + strlen(e->d_name) + 2 >= sizeof t->fs ||
		    lv->name_len + strlen(e->d_name) + 2 >= sizeof t->name)
			continue;
		strcat(strcat(t->fs, "/"), e->d_name);
		strcat(t->name, e->d_name);
		if (!wanted(t, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			strcat(t->name, "/");
			if (push(t) == 0)
				tar_header(&t->raw, t->name, '5', 0, (int64_t)st.st_mtime,
					   st.st_mode & 0777);
			continue;
		}
		if ((f = open(t->fs, O_RDONLY | O_CLOEXEC)) < 0 || fstat(f, &st) < 0) {
			if (f >= 0)
				close(f);
			continue;
		}
		tar_header(&t->raw, t->name, '0', (uint64_t)st.st_size, (int64_t)st.st_mtime,
			   st.st_mode & 0777);
		if ((uint64_t)st.st_size <= TAR_INLINE) {
			inline_file(t, f, (uint64_t)st.st_size);
			close(f);
		} else {
			*fd = f;
			*size = (uint64_t)st.st_size;
			t->pad = tar_pad(*size);
		}
	}
}

int hs_tar_next(struct hs_tar *t, struct buf *out, int *fd, uint64_t *size)
{
	*fd = -1;
	*size = 0;
	out->len = 0;
	if (t->pad) { /* the block's end of the file the caller sent */
		if (buf_reserve(&t->raw, (size_t)t->pad) < 0)
			return -1;
		memset(t->raw.data + t->raw.len, 0, (size_t)t->pad);
		t->raw.len += (size_t)t->pad;
		t->pad = 0;
	}
	walk(t, fd, size);
	if (!t->depth && *fd < 0) { /* the end: two zero blocks */
		if (buf_reserve(&t->raw, 2 * TAR_BLOCK) < 0)
			return -1;
		memset(t->raw.data + t->raw.len, 0, 2 * TAR_BLOCK);
		t->raw.len += 2 * TAR_BLOCK;
		t->done = 1;
	}
	if (t->chunked && t->in_chunk)
		buf_append(out, "\r\n", 2); /* after the file's own chunk */
	t->in_chunk = 0;
	http_body_piece(out, t->raw.data, t->raw.len, t->chunked, t->done);
	t->raw.len = 0;
	if (t->chunked && *fd >= 0 && *size) { /* the file's chunk: its bytes come by sendfile */
		buf_printf(out, "%llx\r\n", (unsigned long long)*size);
		t->in_chunk = 1;
	}
	return t->done ? 0 : 1;
}

int hs_tar_next_fn(void *t, struct buf *out, int *fd, uint64_t *size)
{
	return hs_tar_next(t, out, fd, size);
}

void hs_tar_free_fn(void *t)
{
	hs_tar_free(t);
}

void hs_tar_free(struct hs_tar *t)
{
	if (!t)
		return;
	while (t->depth--)
		closedir(t->st[t->depth].d);
	buf_free(&t->raw);
	free(t);
}
