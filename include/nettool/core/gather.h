#ifndef NETTOOL_GATHER_H
#define NETTOOL_GATHER_H

#include "nettool/proto/sha256.h"

#include <pthread.h>
#include <stddef.h>

/*
 * Writes gathered for one descriptor at a time and written at once (a
 * batch's output): fewer system calls. A write for another descriptor,
 * or one that does not fit, hands over what is gathered first.
 *
 * Bytes that come with a SHA-256 to update are hashed as they are
 * gathered. A handed-over buffer is written at once; with a writer thread
 * (gather_init's threaded), from the first write that takes
 * GATHER_SLOW_US or more (a disk, or a slow reader), it is written by
 * that thread while the caller fills the other of two buffers: the
 * caller's work no longer waits on the disk, and memory stays two
 * buffers. (Not from the start: where writes go to the page cache, a
 * second busy thread costs more than it saves.) An error of the thread's
 * write is returned by the next call.
 */
#define GATHER_MAX (256 * 1024)
#define GATHER_SLOW_US 5000

struct gather {
	int fd;                   /* whose bytes buf holds; -1: none */
	int last;                 /* handed over since the last flush; -1: none */
	size_t len;
	unsigned char *buf, *mem[2]; /* buf and job take turns with mem's two */
	/* the writer thread's job */
	int threaded, async, busy, quit, err, job_fd;
	size_t job_len;
	unsigned char *job;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* 0, or -1 with errno set (ENOMEM). */
int gather_init(struct gather *g, int threaded);
void gather_free(struct gather *g);
/* Gather n bytes for fd (sha: updated with them, or NULL). 0, or -1
 * with errno set. */
int gather_write(struct gather *g, int fd, struct sha256 *sha, const void *p, size_t n);
/* Hand over what is gathered (with a thread, it is written behind the
 * caller's back). 0, or -1 with errno set. */
int gather_handoff(struct gather *g);
/* Everything handed over written, whole. Returns the last descriptor
 * written since the last flush (-1: none), or -2 with errno set. */
int gather_flush(struct gather *g);
/* What is gathered for fd is dropped unwritten; what was handed over is
 * written first, so that the caller may close the descriptor. */
void gather_drop(struct gather *g, int fd);

#endif
