#include "nettool/proto/frame.h"
#include "nettool/base/util.h"

#include <string.h>

int frame_mode_parse(const char *name, enum frame_mode *m)
{
	static const struct {
		const char *name;
		enum frame_mode mode;
	} modes[] = {
		{ "line", FRAME_LINE },
		{ "len16", FRAME_LEN16 },
		{ "len32", FRAME_LEN32 },
		{ "netstring", FRAME_NETSTRING },
	};
	size_t i;

	for (i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (!strcmp(name, modes[i].name)) {
			*m = modes[i].mode;
			return 0;
		}
	return -1;
}

int frame_encode(enum frame_mode m, const void *payload, size_t len,
		 size_t max, struct buf *out, char *err)
{
	unsigned char hdr[4];

	if (len > max || (m == FRAME_LEN16 && len > 0xffff)) {
		nt_seterr(err, "frame of %zu bytes exceeds the maximum of %zu", len,
			  m == FRAME_LEN16 && max > 0xffff ? (size_t)0xffff : max);
		return -1;
	}
	switch (m) {
	case FRAME_LINE:
		if (memchr(payload, '\n', len)) {
			nt_seterr(err, "a line frame cannot hold a newline");
			return -1;
		}
		if (buf_append(out, payload, len) < 0 || buf_putc(out, '\n') < 0)
			goto oom;
		return 0;
	case FRAME_LEN16:
	case FRAME_LEN32: {
		size_t n = m == FRAME_LEN16 ? 2 : 4, i;

		for (i = 0; i < n; i++)
			hdr[i] = (unsigned char)(len >> (8 * (n - 1 - i)));
		if (buf_append(out, hdr, n) < 0 || buf_append(out, payload, len) < 0)
			goto oom;
		return 0;
	}
	case FRAME_NETSTRING:
		if (buf_printf(out, "%zu:", len) < 0 || buf_append(out, payload, len) < 0 ||
		    buf_putc(out, ',') < 0)
			goto oom;
		return 0;
	default:
		return buf_append(out, payload, len) < 0 ? -1 : 0;
	}
oom:
	nt_seterr(err, "out of memory");
	return -1;
}

void frame_decoder_init(struct frame_decoder *d, enum frame_mode m, size_t max)
{
	d->mode = m;
	d->max = max;
	d->offset = 0;
}

static int too_big(const struct frame_decoder *d, uint64_t n, char *err)
{
	nt_seterr(err, "frame at byte %llu: length %llu exceeds the maximum of %zu",
		  (unsigned long long)d->offset, (unsigned long long)n, d->max);
	return FRAME_E_SIZE;
}

static int decode_line(struct frame_decoder *d, const unsigned char *data,
		       size_t len, size_t *plen, size_t *used, char *err)
{
	size_t scan = len < d->max + 2 ? len : d->max + 2; /* payload, CR, LF */
	const unsigned char *nl = memchr(data, '\n', scan);
	size_t n;

	if (!nl) {
		if (len >= d->max + 2)
			return too_big(d, len, err);
		return 0;
	}
	n = (size_t)(nl - data);
	*used = n + 1;
	if (n && data[n - 1] == '\r')
		n--;
	if (n > d->max)
		return too_big(d, n, err);
	*plen = n;
	return 1;
}

static int decode_len(struct frame_decoder *d, const unsigned char *data,
		      size_t len, size_t hdr, size_t *plen, size_t *used, char *err)
{
	uint64_t n = 0;
	size_t i;

	if (len < hdr)
		return 0;
	for (i = 0; i < hdr; i++)
		n = (n << 8) | data[i];
	if (n > d->max)
		return too_big(d, n, err);
	if (len - hdr < n)
		return 0;
	*plen = (size_t)n;
	*used = hdr + (size_t)n;
	return 1;
}

static int decode_netstring(struct frame_decoder *d, const unsigned char *data,
			    size_t len, size_t *plen, size_t *used, char *err)
{
	unsigned long long off = (unsigned long long)d->offset;
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < len && data[i] != ':'; i++) {
		if (data[i] < '0' || data[i] > '9') {
			nt_seterr(err, "bad netstring at byte %llu: %s", off + i,
				  i ? "missing ':' after the length" : "expected a length digit");
			return FRAME_E_SYNTAX;
		}
		if (i == 1 && data[0] == '0') {
			nt_seterr(err, "bad netstring at byte %llu: leading zero in the length", off);
			return FRAME_E_SYNTAX;
		}
		n = n * 10 + (uint64_t)(data[i] - '0');
		if (n > d->max)
			return too_big(d, n, err);
	}
	if (i == len)
		return 0;
	if (i == 0) {
		nt_seterr(err, "bad netstring at byte %llu: expected a length digit", off);
		return FRAME_E_SYNTAX;
	}
	if (len - i - 1 < n + 1)
		return 0;
	if (data[i + 1 + n] != ',') {
		nt_seterr(err, "bad netstring at byte %llu: missing ',' after the payload",
			  off + i + 1 + n);
		return FRAME_E_SYNTAX;
	}
	*plen = (size_t)n;
	*used = i + 2 + (size_t)n;
	return 1;
}

int frame_decode(struct frame_decoder *d, const unsigned char *data,
		 size_t len, const unsigned char **payload, size_t *plen,
		 size_t *used, char *err)
{
	size_t hdr = 0;
	int rc;

	switch (d->mode) {
	case FRAME_LINE:
		rc = decode_line(d, data, len, plen, used, err);
		break;
	case FRAME_LEN16:
	case FRAME_LEN32:
		hdr = d->mode == FRAME_LEN16 ? 2 : 4;
		rc = decode_len(d, data, len, hdr, plen, used, err);
		break;
	case FRAME_NETSTRING:
		rc = decode_netstring(d, data, len, plen, used, err);
		if (rc == 1)
			hdr = *used - *plen - 1;
		break;
	default:
		if (!len)
			return 0;
		*plen = *used = len;
		rc = 1;
	}
	if (rc == 1) {
		*payload = data + hdr;
		d->offset += *used;
	}
	return rc;
}

int frame_finish(const struct frame_decoder *d, size_t len, char *err)
{
	if (!len)
		return 0;
	nt_seterr(err, "stream ended inside a frame at byte %llu (%zu bytes of it)",
		  (unsigned long long)d->offset, len);
	return FRAME_E_EOF;
}
