#ifndef NETTOOL_PROTO_TAR_H
#define NETTOOL_PROTO_TAR_H
/*
 * POSIX tar (pax interchange format, POSIX.1-2001): the header blocks of
 * one member, a pax extended header first when the name does not fit
 * ustar's fields or is not ASCII, or the size is 8 GiB or more. Pure.
 */
#include "nettool/base/buf.h"
#include <stdint.h>

#define TAR_BLOCK 512

/* Append the header blocks of a member: type '0' (a file of size bytes)
 * or '5' (a folder, name ending in '/'). -1: out of memory. */
int tar_header(struct buf *b, const char *name, char type, uint64_t size, int64_t mtime,
	       unsigned mode);
/* Zero bytes that bring n up to a whole block. */
static inline uint64_t tar_pad(uint64_t n)
{
	return (TAR_BLOCK - n % TAR_BLOCK) % TAR_BLOCK;
}

#endif
