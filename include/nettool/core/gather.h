#ifndef NETTOOL_GATHER_H
#define NETTOOL_GATHER_H

#include <stddef.h>

/*
 * Writes gathered for one descriptor at a time and written at once (a
 * batch's output): fewer system calls. A write for another descriptor,
 * or one that does not fit, writes what is gathered first.
 */
#define GATHER_MAX (256 * 1024)

struct gather {
	int fd;       /* whose bytes buf holds; -1: none */
	size_t len;
	unsigned char buf[GATHER_MAX];
};

void gather_init(struct gather *g);
/* 0, or -1 with errno set. */
int gather_write(struct gather *g, int fd, const void *p, size_t n);
/* Write what is gathered, whole; it is gone either way. Returns the
 * descriptor written (-1: none), or -2 with errno set. */
int gather_flush(struct gather *g);
/* What is gathered for fd is dropped unwritten. */
void gather_drop(struct gather *g, int fd);

#endif
