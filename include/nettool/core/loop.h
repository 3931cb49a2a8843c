#ifndef NETTOOL_LOOP_H
#define NETTOOL_LOOP_H

#include <stddef.h>
#include <stdint.h>

/*
 * A single-threaded event loop: readiness of file descriptors (epoll on
 * Linux, poll elsewhere) and one-shot timers. Watchers and timers are
 * owned by the caller and registered by pointer; a callback may add,
 * change or delete any watcher or timer, itself included.
 */
enum {
	LOOP_READ = 1,
	LOOP_WRITE = 2,
	LOOP_HUP = 4 /* error or hang-up; reported whatever was asked */
};

struct loop;
struct loop_io;
struct loop_timer;

typedef void (*loop_io_cb)(struct loop *lp, struct loop_io *io, int events);
typedef void (*loop_timer_cb)(struct loop *lp, struct loop_timer *t);

struct loop_io {
	int fd;
	int events;      /* what is asked: LOOP_READ | LOOP_WRITE, or 0 */
	loop_io_cb cb;
	void *data;      /* the owner's */
	size_t slot;     /* the loop's */
};

struct loop_timer {
	uint64_t when;   /* monotonic ms */
	loop_timer_cb cb;
	void *data;      /* the owner's */
	size_t idx;      /* heap index + 1; 0 when not armed */
};

/* Returns a new loop, or NULL with err filled. */
struct loop *loop_new(char *err);
void loop_free(struct loop *lp);

/* Watch io->fd for io->events. Returns 0, or -1 with err filled. */
int loop_io_add(struct loop *lp, struct loop_io *io, char *err);
/* Change what io waits for; returns 0 or -1 with errno set. */
int loop_io_set(struct loop *lp, struct loop_io *io, int events);
/* Stop watching io (before its fd is closed). */
void loop_io_del(struct loop *lp, struct loop_io *io);

/* Dispatch io, when ready, before the other watchers ready in the same
 * wait (one per loop; NULL for none): for a descriptor that says what
 * the others' data may depend on. */
void loop_io_first(struct loop *lp, struct loop_io *io);

/* Arm (or re-arm) t to fire after ms milliseconds. Returns 0 or -1. */
int loop_timer_set(struct loop *lp, struct loop_timer *t, uint64_t ms);
void loop_timer_stop(struct loop *lp, struct loop_timer *t);

/* Dispatch until loop_stop. Returns 0, or -1 with err filled. */
int loop_run(struct loop *lp, char *err);
void loop_stop(struct loop *lp);

/* The loop's idea of now (ms), refreshed once per iteration. */
uint64_t loop_now(const struct loop *lp);

#endif
