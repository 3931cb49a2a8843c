#ifndef NETTOOL_SHA256_H
#define NETTOOL_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* SHA-256 (FIPS 180-4), incremental. Pure. */
struct sha256 {
	uint32_t h[8];
	uint64_t len;            /* bytes so far */
	unsigned char block[64];
	size_t used;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *p, size_t n);
void sha256_final(struct sha256 *c, unsigned char out[32]);
/* Blocks are hashed by the CPU's SHA instructions where it has them (x86
 * SHA extensions). For tests: 0 makes the portable code do it, 1 the
 * fastest; returns whether an accelerated way exists. */
int sha256_accel(int on);
/* 64 lowercase hex digits and a NUL. */
void sha256_hex(const unsigned char d[32], char out[65]);

#endif
