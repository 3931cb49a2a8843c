#ifndef NETTOOL_FWATCH_H
#define NETTOOL_FWATCH_H

/*
 * Change notification for files below one directory (inotify on Linux),
 * so a cache of open files can tell, without a system call per use,
 * that what a path names is still the file it opened. One watcher is
 * shared by every thread. Where there is no inotify, fwatch_new fails
 * and the caller checks with stat instead.
 */

#define FWATCH_DEPTH 8 /* watches one token holds: the file and its directories */

struct fwatch;

/* What fwatch_track saw: the watches of a path and their generations. */
struct fwatch_tok {
	unsigned n;
	unsigned slot[FWATCH_DEPTH];
	unsigned gen[FWATCH_DEPTH];
	unsigned epoch;
};

/* A watcher for paths below root (an absolute path without symlinks),
 * or NULL with err filled when the system has none. */
struct fwatch *fwatch_new(const char *root, char *err);
void fwatch_free(struct fwatch *w);

/* The descriptor that turns readable when events wait: give it to a
 * loop, read before the other descriptors of the same wait, and call
 * fwatch_drain. */
int fwatch_fd(const struct fwatch *w);

/*
 * Start watching rel (below the root, "" for the root itself, no "."
 * or ".." segments), a regular file or a directory, and every directory
 * from the root down to it. Call it before reading the file's metadata:
 * any change from then on invalidates tok (for a directory: its names
 * and attributes). Returns 0, or -1 when the path cannot be watched (too
 * deep, a symlink on the way or at the end, another kind of file, a
 * network file system, out of watches); then the caller must check some
 * other way.
 */
int fwatch_track(struct fwatch *w, const char *rel, struct fwatch_tok *tok);

/* 1 if no event on tok's watches has been read since fwatch_track,
 * else 0. Waits for a drain under way in another thread. */
int fwatch_unchanged(struct fwatch *w, const struct fwatch_tok *tok);

/* Read the events that wait and invalidate the tokens they touch. */
void fwatch_drain(struct fwatch *w);

#endif
