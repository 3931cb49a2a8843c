#ifndef NETTOOL_FRAME_H
#define NETTOOL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "nettool/base/buf.h"

/*
 * Message framing over a byte stream. Pure: no I/O.
 *   line       payload LF (a CR before the LF is dropped when decoding)
 *   len16      2-byte big-endian length, payload (as DNS over TCP)
 *   len32      4-byte big-endian length, payload
 *   netstring  decimal length ':' payload ','  (no leading zeros)
 */
enum frame_mode {
	FRAME_NONE = 0,
	FRAME_LINE,
	FRAME_LEN16,
	FRAME_LEN32,
	FRAME_NETSTRING
};

#define FRAME_DEFAULT_MAX ((size_t)16 << 20)
#define FRAME_MAX_MAX ((size_t)0xffffffff)
#define FRAME_OVERHEAD 12 /* the most a header and trailer take */

/* Distinct decode errors, returned as negative values. */
enum frame_error {
	FRAME_E_SIZE = -1,   /* length over the maximum */
	FRAME_E_SYNTAX = -2, /* malformed prefix or trailer */
	FRAME_E_EOF = -3     /* the stream ended inside a frame */
};

struct frame_decoder {
	enum frame_mode mode;
	size_t max;
	uint64_t offset; /* stream offset of the next byte to decode */
};

/* "line", "len16", "len32", "netstring"; returns 0 or -1. */
int frame_mode_parse(const char *name, enum frame_mode *m);

/*
 * Append payload as one frame to out. Returns 0, or -1 with err filled:
 * longer than max (or 65535 for len16), a LF inside a line frame.
 */
int frame_encode(enum frame_mode m, const void *payload, size_t len,
		 size_t max, struct buf *out, char *err);

void frame_decoder_init(struct frame_decoder *d, enum frame_mode m, size_t max);

/*
 * Decode one frame from the start of data[0..len). Returns 1 with the
 * payload (pointing into data) and *used, the bytes the frame took; 0 when
 * more bytes are needed; or a frame_error with err naming the offset.
 * Never reports a partial frame.
 */
int frame_decode(struct frame_decoder *d, const unsigned char *data,
		 size_t len, const unsigned char **payload, size_t *plen,
		 size_t *used, char *err);

/* End of stream with len bytes undecoded: 0 when len is 0, else FRAME_E_EOF. */
int frame_finish(const struct frame_decoder *d, size_t len, char *err);

#endif
