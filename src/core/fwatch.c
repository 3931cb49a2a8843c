#ifdef __linux__
#define _GNU_SOURCE /* statfs */
#endif
#include "nettool/core/fwatch.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#ifdef __linux__
#include <pthread.h>
#include <stdatomic.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define FW_SLOTS 8192   /* a power of two */
#define FW_LIVE_MAX 4096 /* watches at once; beyond, paths are not watched */

/* A directory watch sees names come and go, and its own attributes. */
#define FW_DIR_MASK                                                                   \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MOVE_SELF | IN_DELETE_SELF | \
	 IN_ATTRIB | IN_ONLYDIR)
/* A file watch sees its bytes and attributes change, whatever its name. */
#define FW_FILE_MASK (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVE_SELF | IN_DELETE_SELF)

/*
 * wd is 0 for a slot never used, -1 for one whose watch is gone; a slot
 * is reused with its generation still counting up, so a token taken on
 * its previous watch stays invalid.
 */
struct fw_slot {
	int wd;
	atomic_uint gen;
};

struct fwatch {
	int fd;
	pthread_mutex_t mu; /* held to add watches and to read events */
	atomic_int busy;    /* threads reading events, or about to */
	atomic_uint epoch;  /* counts lost events: every token then invalid */
	size_t live;
	size_t root_len;
	char root[PATH_MAX];
	struct fw_slot slot[FW_SLOTS];
};

struct fwatch *fwatch_new(const char *root, char *err)
{
	struct fwatch *w;
	size_t len = strlen(root);

	if (len >= PATH_MAX || root[0] != '/') {
		nt_seterr(err, "root must be an absolute path");
		return NULL;
	}
	w = calloc(1, sizeof *w);
	if (!w) {
		nt_seterr(err, "out of memory");
		return NULL;
	}
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		nt_seterr(err, "inotify_init1: %s", strerror(errno));
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	/* "/" joins with "/rel" as "" would */
	w->root_len = len == 1 ? 0 : len;
	memcpy(w->root, root, w->root_len);
	return w;
}

void fwatch_free(struct fwatch *w)
{
	if (!w)
		return;
	close(w->fd);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

int fwatch_fd(const struct fwatch *w)
{
	return w->fd;
}

/* The slot of wd, or NULL; with insert, a new one (NULL when full). */
static struct fw_slot *slot_of(struct fwatch *w, int wd, int insert)
{
	size_t i = ((unsigned)wd * 2654435761u) & (FW_SLOTS - 1), n;
	struct fw_slot *dead = NULL;

	for (n = 0; n < FW_SLOTS; n++, i = (i + 1) & (FW_SLOTS - 1)) {
		struct fw_slot *s = &w->slot[i];

		if (s->wd == wd)
			return s;
		if (s->wd == -1 && !dead)
			dead = s;
		if (s->wd == 0) {
			if (!dead)
				dead = s;
			break;
		}
	}
	if (!insert || !dead || w->live >= FW_LIVE_MAX)
		return NULL;
	dead->wd = wd;
	atomic_fetch_add_explicit(&dead->gen, 1, memory_order_release);
	w->live++;
	return dead;
}

/* Watch path (mu held) and note its slot and generation in t. */
static int add(struct fwatch *w, const char *path, uint32_t mask, struct fwatch_tok *t)
{
	int wd;
	struct fw_slot *s;

	if (t->n == FWATCH_DEPTH)
		return -1;
	wd = inotify_add_watch(w->fd, path, mask | IN_DONT_FOLLOW | IN_MASK_ADD);
	if (wd < 0)
		return -1;
	s = slot_of(w, wd, 1);
	if (!s) {
		if (!slot_of(w, wd, 0))
			inotify_rm_watch(w->fd, wd);
		return -1;
	}
	t->slot[t->n] = (unsigned)(s - w->slot);
	t->gen[t->n] = atomic_load_explicit(&s->gen, memory_order_acquire);
	t->n++;
	return 0;
}

/* Watch the directory that path's first end bytes name. */
static int add_prefix(struct fwatch *w, char *path, size_t end, struct fwatch_tok *t)
{
	char c = path[end];
	int rc;

	path[end] = '\0';
	rc = add(w, path, FW_DIR_MASK, t);
	path[end] = c;
	return rc;
}

/* Whether changes on the file system of path reach inotify: those of a
 * local one do; those made by another host of a network one do not. */
static int local_fs(const char *path)
{
	static const unsigned long local[] = {
		0xEF53,     /* ext2, ext3, ext4 */
		0x58465342, /* xfs */
		0x9123683E, /* btrfs */
		0x01021994, /* tmpfs */
		0x858458F6, /* ramfs */
		0x794C7630, /* overlayfs */
		0xF2F52010, /* f2fs */
		0x2FC12FC1, /* zfs */
	};
	struct statfs sf;
	size_t i;

	if (statfs(path, &sf) < 0)
		return 0;
	for (i = 0; i < sizeof local / sizeof local[0]; i++)
		if (((unsigned long)sf.f_type & 0xFFFFFFFFUL) == local[i])
			return 1;
	return 0;
}

int fwatch_track(struct fwatch *w, const char *rel, struct fwatch_tok *t)
{
	char path[PATH_MAX];
	size_t len = strlen(rel), i;
	struct stat st;
	int rc, dir;

	if (w->root_len + 1 + len >= sizeof path)
		return -1;
	memcpy(path, w->root, w->root_len);
	path[w->root_len] = '/';
	memcpy(path + w->root_len + 1, rel, len + 1);
	if (lstat(path, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		return -1;
	dir = S_ISDIR(st.st_mode);
	t->n = 0;
	t->epoch = atomic_load(&w->epoch);
	pthread_mutex_lock(&w->mu);
	/* the root, each directory below it, then the file */
	rc = add_prefix(w, path, w->root_len ? w->root_len : 1, t);
	for (i = w->root_len + 1; rc == 0 && path[i]; i++)
		if (path[i] == '/')
			rc = add_prefix(w, path, i, t);
	if (rc == 0 && len)
		rc = add(w, path, dir ? FW_DIR_MASK : FW_FILE_MASK, t);
	pthread_mutex_unlock(&w->mu);
	/* watched from here on; now it must still be what the watch was
	 * made for, where inotify sees every change */
	if (rc < 0 || lstat(path, &st) < 0 || dir != !!S_ISDIR(st.st_mode) ||
	    !(S_ISREG(st.st_mode) || dir) || !local_fs(path))
		return -1;
	return 0;
}

int fwatch_unchanged(struct fwatch *w, const struct fwatch_tok *t)
{
	unsigned i;

	if (atomic_load(&w->busy)) {
		/* another thread has taken events it has not yet applied */
		pthread_mutex_lock(&w->mu);
		pthread_mutex_unlock(&w->mu);
	}
	if (atomic_load_explicit(&w->epoch, memory_order_acquire) != t->epoch)
		return 0;
	for (i = 0; i < t->n; i++)
		if (atomic_load_explicit(&w->slot[t->slot[i]].gen, memory_order_acquire) !=
		    t->gen[i])
			return 0;
	return 1;
}

static void apply(struct fwatch *w, const struct inotify_event *ev)
{
	struct fw_slot *s;

	if (ev->mask & IN_Q_OVERFLOW) {
		atomic_fetch_add_explicit(&w->epoch, 1, memory_order_release);
		return;
	}
	/* a directory watch also reports its files' attributes: those
	 * files' own watches see that, the names stay the same */
	if (ev->len && !(ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)))
		return;
	s = slot_of(w, ev->wd, 0);
	if (!s)
		return;
	atomic_fetch_add_explicit(&s->gen, 1, memory_order_release);
	if (ev->mask & IN_IGNORED) {
		s->wd = -1;
		w->live--;
	}
}

void fwatch_drain(struct fwatch *w)
{
	union {
		struct inotify_event ev;
		char b[8192];
	} u;
	struct inotify_event ev;
	ssize_t n;
	size_t off;

	atomic_fetch_add(&w->busy, 1);
	pthread_mutex_lock(&w->mu);
	for (;;) {
		n = read(w->fd, u.b, sizeof u.b);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (off = 0; off + sizeof ev <= (size_t)n; off += sizeof ev + ev.len) {
			memcpy(&ev, u.b + off, sizeof ev);
			apply(w, &ev);
		}
	}
	pthread_mutex_unlock(&w->mu);
	atomic_fetch_sub(&w->busy, 1);
}

#else /* no inotify: callers check with stat */

struct fwatch {
	int unused;
};

struct fwatch *fwatch_new(const char *root, char *err)
{
	(void)root;
	nt_seterr(err, "no file change notification on this system");
	return NULL;
}

void fwatch_free(struct fwatch *w)
{
	(void)w;
}

int fwatch_fd(const struct fwatch *w)
{
	(void)w;
	return -1;
}

int fwatch_track(struct fwatch *w, const char *rel, struct fwatch_tok *t)
{
	(void)w;
	(void)rel;
	t->n = 0;
	return -1;
}

int fwatch_unchanged(struct fwatch *w, const struct fwatch_tok *t)
{
	(void)w;
	(void)t;
	return 0;
}

void fwatch_drain(struct fwatch *w)
{
	(void)w;
}
#endif
