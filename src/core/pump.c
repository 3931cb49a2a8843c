#ifdef __linux__
#define _GNU_SOURCE /* sendfile, splice */
#include <sys/sendfile.h>
#endif
#include "nettool/base/buf.h"
#include "nettool/proto/frame.h"
#include "nettool/core/net.h"
#include "nettool/proto/pack.h"
#include "nettool/core/pump.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLIENT_BUF (256 * 1024)
#define SENDFILE_CHUNK (4 * 1024 * 1024)
#define DRAIN_GRACE_MS 100 /* after the peer closes: how long stdin may pause */
#define SPLICE_PIPE (1024 * 1024) /* the splice pipe's size, if granted */

/*
 * One direction of the relay: a buffer between two descriptors, read into
 * only while it holds less than CLIENT_BUF. Frames and records are
 * appended whole, so it may hold one frame more.
 */
struct pipe_buf {
	char *data;
	size_t off, len, cap;
	unsigned long long total; /* offset for the hex dump */
};

/* --frame and --pack: stdin lines in, frames out, and back. */
struct framing {
	struct pack_format fmt;
	int packing;
	unsigned char *rec;
	struct buf line, enc, fin;
	struct frame_decoder dec;
	unsigned long long lineno;
};

struct relay {
	const struct pump_opts *o;
	int net;
	int in_open;      /* stdin not yet at EOF */
	int in_file;      /* stdin is a regular file: sendfile straight from it */
	int net_rd;       /* the server has not closed its side */
	int net_wr;       /* we have not shut our side */
	int in_done;      /* the end of stdin is handled: half-closed or not */
	int last_cr;      /* -C: the last byte sent was CR */
	uint64_t active;  /* last time bytes moved, for -w */
	uint64_t quit_at; /* -q deadline, 0 when unset */
	struct pipe_buf up, down;
	struct buf lines; /* --eol none: stdin not yet sent, a line a write */
	/*
	 * Linux, stdout a file or pipe: received bytes go socket -> spl ->
	 * stdout by splice, never copied through user space; down.len
	 * counts what waits in the pipe, down.cap is the pipe's size.
	 */
	int spl[2];
	struct framing *fr; /* NULL for a plain byte relay */
	char err[NT_ERR_LEN];
};

static void hexdump(char dir, unsigned long long off, const char *p, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i += 16) {
		char line[100];
		int k = snprintf(line, sizeof line, "%c %08llx ", dir, off + i);

		for (j = 0; j < 16; j++)
			k += snprintf(line + k, sizeof line - (size_t)k,
				      i + j < n ? " %02x" : "   ",
				      i + j < n ? (unsigned char)p[i + j] : 0);
		k += snprintf(line + k, sizeof line - (size_t)k, "  |");
		for (j = 0; j < 16 && i + j < n; j++) {
			unsigned char c = (unsigned char)p[i + j];

			line[k++] = (c >= 32 && c < 127) ? (char)c : '.';
		}
		line[k++] = '|';
		line[k] = '\0';
		fprintf(stderr, "%s\n", line);
	}
}

static int would_block(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK;
}

/* Write the pending part of b to fd. Returns 0, or -1 on a fatal error. */
static int buf_drain(struct pipe_buf *b, int fd)
{
	ssize_t n = net_send_some(fd, b->data + b->off, b->len - b->off);

	if (n < 0)
		return -1;
	b->off += (size_t)n;
	if (b->off == b->len)
		b->off = b->len = 0;
	return 0;
}

/* Append n bytes read from stdin to the up buffer, applying -C. */
static void up_append(struct relay *r, const char *p, size_t n)
{
	struct pipe_buf *b = &r->up;
	size_t i, start = b->len;

	if (r->o->eol != PUMP_EOL_CRLF) {
		memmove(b->data + b->len, p, n);
		b->len += n;
	}
	for (i = 0; r->o->eol == PUMP_EOL_CRLF && i < n; i++) {
		char c = p[i];

		if (c == '\n' && !r->last_cr)
			b->data[b->len++] = '\r';
		b->data[b->len++] = c;
		r->last_cr = c == '\r';
	}
	if (r->o->hex)
		hexdump('>', b->total, b->data + start, b->len - start);
	b->total += b->len - start;
}

static int pipe_append(struct pipe_buf *b, const void *p, size_t n)
{
	if (b->cap - b->len < n) {
		size_t cap = b->len + n;
		char *d = realloc(b->data, cap);

		if (!d)
			return -1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->total += n;
	return 0;
}

/* One stdin line as a frame (or packed record) into the up buffer. */
static int send_line(struct relay *r, char *line, size_t len)
{
	struct framing *fr = r->fr;
	const void *payload = line;

	fr->lineno++;
	if (len && line[len - 1] == '\r')
		len--;
	if (fr->packing) {
		line[len] = '\0';
		if (pack_text_line(&fr->fmt, line, fr->rec, r->err) < 0)
			return -1;
		payload = fr->rec;
		len = fr->fmt.size;
	}
	fr->enc.len = 0;
	if (frame_encode(r->o->frame, payload, len, r->o->max_frame, &fr->enc, r->err) < 0)
		return -1;
	if (pipe_append(&r->up, fr->enc.data, fr->enc.len) < 0) {
		snprintf(r->err, sizeof r->err, "out of memory");
		return -1;
	}
	return 0;
}

/* --frame/--pack: split stdin into lines. Returns -1 with r->err. */
static int stdin_read_lines(struct relay *r)
{
	struct framing *fr = r->fr;
	size_t start = 0;
	ssize_t n;
	char *nl;

	if (buf_reserve(&fr->line, 64 * 1024) < 0)
		return -1;
	n = net_read_some(STDIN_FILENO, fr->line.data + fr->line.len,
			  fr->line.cap - fr->line.len - 1);
	if (n < 0) {
		snprintf(r->err, sizeof r->err, "read: %s", strerror(errno));
		return would_block() ? 0 : -1;
	}
	if (n == 0) {
		r->in_open = 0;
		return fr->line.len ? send_line(r, fr->line.data, fr->line.len) : 0;
	}
	fr->line.len += (size_t)n;
	while ((nl = memchr(fr->line.data + start, '\n', fr->line.len - start))) {
		if (send_line(r, fr->line.data + start, (size_t)(nl - fr->line.data) - start) < 0)
			return -1;
		start = (size_t)(nl - fr->line.data) + 1;
	}
	memmove(fr->line.data, fr->line.data + start, fr->line.len - start);
	fr->line.len -= start;
	if (fr->line.len > r->o->max_frame + 1) {
		fr->lineno++;
		snprintf(r->err, sizeof r->err, "longer than the maximum frame of %zu",
			 r->o->max_frame);
		return -1;
	}
	return 0;
}

/* --frame: decode what the server sent; -2 (r->err) on a bad frame. */
static int net_recv_frames(struct relay *r)
{
	struct framing *fr = r->fr;
	size_t limit = r->o->max_frame + FRAME_OVERHEAD, start = 0;
	ssize_t n;

	if (buf_reserve(&fr->fin, 64 * 1024) < 0)
		return -1;
	n = net_read_some(r->net, fr->fin.data + fr->fin.len, fr->fin.cap - fr->fin.len - 1);
	if (n < 0)
		return would_block() ? 0 : -1;
	if (n == 0) {
		r->net_rd = 0;
		return frame_finish(&fr->dec, fr->fin.len, r->err) < 0 ? -2 : 0;
	}
	fr->fin.len += (size_t)n;
	for (;;) {
		const unsigned char *p;
		size_t plen, used;
		int rc = frame_decode(&fr->dec, (unsigned char *)fr->fin.data + start,
				      fr->fin.len - start, &p, &plen, &used, r->err);

		if (rc < 0)
			return -2;
		if (rc == 0)
			break;
		start += used;
		if (!r->o->hex) {
			if (pipe_append(&r->down, p, plen) < 0)
				return -1;
		} else {
			fr->enc.len = 0;
			if (buf_hex(&fr->enc, p, plen) < 0 ||
			    pipe_append(&r->down, fr->enc.data, fr->enc.len) < 0)
				return -1;
		}
		if (pipe_append(&r->down, "\n", 1) < 0)
			return -1;
	}
	memmove(fr->fin.data, fr->fin.data + start, fr->fin.len - start);
	fr->fin.len -= start;
	if (fr->fin.len >= limit) {
		snprintf(r->err, sizeof r->err, "frame buffer full");
		return -2;
	}
	return 0;
}

/* --eol none: stdin is readable; its lines wait in r->lines. */
static int stdin_read_eol_none(struct relay *r)
{
	ssize_t n;

	if (buf_reserve(&r->lines, 64 * 1024) < 0)
		return -1;
	n = net_read_some(STDIN_FILENO, r->lines.data + r->lines.len,
			  r->lines.cap - r->lines.len - 1);
	if (n < 0)
		return would_block() ? 0 : -1;
	if (n == 0)
		r->in_open = 0;
	r->lines.len += (size_t)n;
	return 0;
}

/* --eol none: with the up buffer sent, the next line goes into it without
 * its ending (a line longer than the buffer goes in pieces; an empty
 * line sends nothing). */
static void eol_none_next(struct relay *r)
{
	struct buf *b = &r->lines;

	while (r->up.len == 0 && b->len) {
		char *nl = memchr(b->data, '\n', b->len);
		size_t take, len;

		if (nl) {
			take = (size_t)(nl - b->data) + 1;
			len = take - 1;
			if (len && b->data[len - 1] == '\r')
				len--;
		} else if (!r->in_open || b->len >= CLIENT_BUF) {
			take = len = b->len < CLIENT_BUF ? b->len : CLIENT_BUF;
		} else {
			return; /* wait for the rest of the line */
		}
		up_append(r, b->data, len);
		memmove(b->data, b->data + take, b->len - take);
		b->len -= take;
	}
}

/* Whether stdin may be read now: room for what it gives. */
static int stdin_wanted(const struct relay *r)
{
	size_t room = CLIENT_BUF - r->up.len;

	if (!r->in_open || r->in_file || !r->net_wr || r->o->recv_only)
		return 0;
	if (r->o->eol == PUMP_EOL_NONE)
		return r->lines.len < CLIENT_BUF &&
		       !(r->lines.len && memchr(r->lines.data, '\n', r->lines.len));
	if (r->o->eol == PUMP_EOL_CRLF)
		room /= 2;
	return room > 0;
}

/* stdin is readable: read what fits. Returns -1 on a read error. */
static int stdin_read(struct relay *r)
{
	size_t room = CLIENT_BUF - r->up.len;
	char *dst;
	ssize_t n;

	if (r->o->eol == PUMP_EOL_NONE)
		return stdin_read_eol_none(r);
	if (r->o->eol == PUMP_EOL_CRLF)
		room /= 2; /* every byte may become two */
	/* with -C read into the free tail's upper half, expand downwards */
	dst = r->up.data + CLIENT_BUF - room;
	n = net_read_some(STDIN_FILENO, dst, room);
	if (n < 0)
		return would_block() ? 0 : -1;
	if (n == 0) {
		r->in_open = 0;
		return 0;
	}
	up_append(r, dst, (size_t)n);
	return 0;
}

/* Send the up buffer (or the stdin file) to the socket. */
static int net_send(struct relay *r)
{
#ifdef __linux__
	if (r->in_file && r->in_open) {
		ssize_t n;

		do
			n = sendfile(r->net, STDIN_FILENO, NULL, SENDFILE_CHUNK);
		while (n < 0 && errno == EINTR);
		if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
			r->in_file = 0; /* not supported here: plain reads */
			return 0;
		}
		if (n < 0)
			return would_block() ? 0 : -1;
		if (n == 0)
			r->in_open = 0;
		r->up.total += (unsigned long long)n;
		return 0;
	}
#endif
	return buf_drain(&r->up, r->net);
}

/* The socket is readable: read what fits in the down buffer. */
static int net_recv(struct relay *r)
{
	struct pipe_buf *b = &r->down;
	ssize_t n;

	n = net_read_some(r->net, b->data + b->len, CLIENT_BUF - b->len);
	if (n < 0)
		return would_block() ? 0 : -1;
	if (n == 0) {
		r->net_rd = 0;
		return 0;
	}
	if (r->o->send_only)
		return 0; /* read only to be discarded */
	if (r->o->hex)
		hexdump('<', b->total, b->data + b->len, (size_t)n);
	b->total += (unsigned long long)n;
	b->len += (size_t)n;
	return 0;
}

#ifdef __linux__
/* The socket is readable: move what fits into the splice pipe. */
static int net_recv_splice(struct relay *r)
{
	ssize_t n;

	n = util_splice_in(r->net, r->spl[1], r->down.cap - r->down.len);
	if (n < 0)
		return would_block() ? 0 : -1;
	if (n == 0) {
		r->net_rd = 0;
		return 0;
	}
	r->down.len += (size_t)n;
	r->down.total += (unsigned long long)n;
	return 0;
}

/*
 * Move what waits in the splice pipe to stdout. If stdout will not take
 * a splice after all, copy it out and receive by read() from now on.
 */
static int spl_drain(struct relay *r, unsigned flags)
{
	ssize_t n;

	do
		n = splice(r->spl[0], NULL, STDOUT_FILENO, NULL, r->down.len,
			   SPLICE_F_MOVE | flags);
	while (n < 0 && errno == EINTR);
	if (n >= 0) {
		r->down.len -= (size_t)n;
		return 0;
	}
	if (errno != EINVAL)
		return would_block() ? 0 : -1;
	while (r->down.len) {
		char tmp[16384];
		ssize_t got = read(r->spl[0], tmp, sizeof tmp);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || net_write_full(STDOUT_FILENO, tmp, (size_t)got) < 0)
			return -1;
		r->down.len -= (size_t)got;
	}
	util_close_pipe(r->spl);
	r->down.cap = CLIENT_BUF;
	return 0;
}

/* Receive by splice when stdout is a file (not appending) or a pipe. */
static void spl_setup(struct relay *r)
{
	struct stat st;
	int fl = fcntl(STDOUT_FILENO, F_GETFL);

	if (r->fr || r->o->hex || r->o->send_only || fl < 0 || (fl & O_APPEND) ||
	    fstat(STDOUT_FILENO, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)))
		return;
	if ((fl = util_splice_pipe(r->spl, O_NONBLOCK, SPLICE_PIPE)) > 0)
		r->down.cap = (size_t)fl;
}
#endif

enum { SLOT_IN, SLOT_NET, SLOT_OUT, SLOT_STOP };

/* Pass on what was already received, waiting out a slow stdout. */
static void relay_flush(struct relay *r)
{
#ifdef __linux__
	while (r->spl[0] >= 0 && r->down.len) {
		struct pollfd p = { STDOUT_FILENO, POLLOUT, 0 };

		if (spl_drain(r, SPLICE_F_NONBLOCK) < 0)
			break;
		if (r->spl[0] >= 0 && r->down.len && poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
	}
	if (r->spl[0] >= 0) {
		r->down.len = 0;
		return;
	}
#endif
	if (r->down.len > r->down.off)
		net_write_full(STDOUT_FILENO, r->down.data + r->down.off,
			       r->down.len - r->down.off);
	r->down.off = r->down.len = 0;
}

/* A fatal error: flush what was received, then report. */
static int relay_fail(struct relay *r, int status, const char *what)
{
	int saved = errno;

	relay_flush(r);
	nt_warn(r->o->cmd, "%s: %s", what, strerror(saved));
	return status;
}

/* Whether stdin has ended and all it gave is sent. */
static int stdin_done(const struct relay *r)
{
	return !r->in_open && r->up.len == 0 && r->lines.len == 0;
}

/* Before each poll: once stdin is done and sent, half-close (unless
 * --no-shutdown) and start -q's clock. */
static void relay_step(struct relay *r, uint64_t now)
{
	if (r->o->eol == PUMP_EOL_NONE)
		eol_none_next(r);
	if (r->in_done || !stdin_done(r))
		return;
	r->in_done = 1;
	if (r->o->recv_only)
		return; /* stdin was never read: nothing ended */
	if (!r->o->no_shutdown && r->net_wr) {
		shutdown(r->net, SHUT_WR);
		r->net_wr = 0;
	}
	if (r->o->quit_ms >= 0)
		r->quit_at = now + (uint64_t)r->o->quit_ms;
}

static void relay_fds(const struct relay *r, struct pollfd *pfd)
{
	short ev = 0;

	pfd[SLOT_IN].fd = stdin_wanted(r) ? STDIN_FILENO : -1;
	pfd[SLOT_IN].events = POLLIN;
	if (r->net_rd && r->down.len < r->down.cap)
		ev |= POLLIN;
	if (r->up.len || (r->in_file && r->in_open))
		ev |= POLLOUT;
	pfd[SLOT_NET].fd = ev ? r->net : -1;
	pfd[SLOT_NET].events = ev;
	pfd[SLOT_OUT].fd = r->down.len ? STDOUT_FILENO : -1;
	pfd[SLOT_OUT].events = POLLOUT;
	pfd[SLOT_STOP].fd = r->o->stop_fd > 0 ? r->o->stop_fd : -1;
	pfd[SLOT_STOP].events = POLLIN;
}

/* Milliseconds until the nearest deadline, or -1. */
static int relay_timeout(const struct relay *r, uint64_t now)
{
	uint64_t end = 0;

	if (r->o->timeout_ms > 0)
		end = r->active + (uint64_t)r->o->timeout_ms;
	if (r->quit_at && (!end || r->quit_at < end))
		end = r->quit_at;
	if (!end)
		return -1;
	return end <= now ? 0 : (int)(end - now);
}

static int out_drain(struct relay *r)
{
#ifdef __linux__
	if (r->spl[0] >= 0)
		return spl_drain(r, SPLICE_F_NONBLOCK);
#endif
	return buf_drain(&r->down, STDOUT_FILENO);
}

static int net_recv_any(struct relay *r)
{
#ifdef __linux__
	if (r->spl[0] >= 0)
		return net_recv_splice(r);
#endif
	return net_recv(r);
}

/* Handle the events of one poll. Returns -1 to continue, else a status
 * or PUMP_STOPPED. */
static int relay_events(struct relay *r, const struct pollfd *pfd)
{
	short nev = pfd[SLOT_NET].revents;

	if (pfd[SLOT_STOP].revents)
		return PUMP_STOPPED;
	if (pfd[SLOT_OUT].revents && out_drain(r) < 0) {
		if (errno == EPIPE)
			return 0; /* the reader of stdout left: end quietly */
		return relay_fail(r, NT_EXIT_FAIL, "write to stdout");
	}
	if ((pfd[SLOT_NET].events & POLLIN) && (nev & (POLLIN | POLLHUP | POLLERR))) {
		int rc = r->fr ? net_recv_frames(r) : net_recv_any(r);

		if (rc == -2) {
			relay_flush(r);
			nt_warn(r->o->cmd, "%s", r->err);
			return NT_EXIT_PROTO;
		}
		if (rc < 0)
			return relay_fail(r, NT_EXIT_FAIL, "receive");
	}
	if ((pfd[SLOT_NET].events & POLLOUT) && (nev & (POLLOUT | POLLHUP | POLLERR)) &&
	    net_send(r) < 0)
		return relay_fail(r, NT_EXIT_FAIL, "send");
	if (pfd[SLOT_IN].revents && r->fr && stdin_read_lines(r) < 0) {
		relay_flush(r);
		nt_warn(r->o->cmd, "stdin line %llu: %s", r->fr->lineno, r->err);
		return NT_EXIT_FAIL;
	}
	if (pfd[SLOT_IN].revents && !r->fr && stdin_read(r) < 0)
		return relay_fail(r, NT_EXIT_FAIL, "read stdin");
	return -1;
}

static int relay_run(struct relay *r)
{
	struct pollfd pfd[4];

	for (;;) {
		uint64_t now = util_now_ms();
		int timeout, drain = 0, rc, i;

		relay_step(r, now);
		if (!r->net_rd && r->down.len == 0) {
			if (stdin_done(r))
				return 0;
			/*
			 * The server closed its side: keep forwarding stdin while
			 * it flows, end once it pauses (or at its end).
			 */
			drain = r->up.len == 0 && !r->in_file && !r->o->recv_only;
		}
		relay_fds(r, pfd);
		timeout = relay_timeout(r, now);
		if (drain && (timeout < 0 || timeout > DRAIN_GRACE_MS))
			timeout = DRAIN_GRACE_MS;
		rc = poll(pfd, 4, timeout);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return relay_fail(r, NT_EXIT_FAIL, "poll");
		now = util_now_ms();
		if (rc == 0) {
			if (drain) {
				relay_flush(r);
				return 0;
			}
			if (r->quit_at && now >= r->quit_at) {
				relay_flush(r);
				return 0;
			}
			if (r->o->timeout_ms > 0 &&
			    now >= r->active + (uint64_t)r->o->timeout_ms) {
				relay_flush(r);
				nt_warn(r->o->cmd, "timed out: idle for %d ms", r->o->timeout_ms);
				return NT_EXIT_TIMEOUT;
			}
			continue;
		}
		for (i = 0; i < 3; i++)
			if (pfd[i].revents)
				r->active = now;
		rc = relay_events(r, pfd);
		if (rc >= 0 || rc == PUMP_STOPPED)
			return rc;
	}
}

static void set_sockopts(const struct pump_opts *o, int fd)
{
	int one = 1;

	if (o->keepalive)
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	if (o->nodelay)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Set up --frame/--pack state; NULL with a message on failure. */
static struct framing *framing_new(const struct pump_opts *o)
{
	struct framing *fr = calloc(1, sizeof *fr);
	char err[NT_ERR_LEN];

	if (!fr) {
		nt_warn(o->cmd, "out of memory");
		return NULL;
	}
	frame_decoder_init(&fr->dec, o->frame, o->max_frame);
	if (o->pack_fmt) {
		if (pack_compile(o->pack_fmt, &fr->fmt, err) < 0) {
			nt_warn(o->cmd, "--pack: bad format '%s': %s", o->pack_fmt, err);
			free(fr);
			return NULL;
		}
		fr->packing = 1;
		fr->rec = malloc(fr->fmt.size ? fr->fmt.size : 1);
		if (!fr->rec) {
			nt_warn(o->cmd, "out of memory");
			pack_free(&fr->fmt);
			free(fr);
			return NULL;
		}
	}
	return fr;
}

static void framing_free(struct framing *fr)
{
	if (!fr)
		return;
	pack_free(&fr->fmt);
	free(fr->rec);
	buf_free(&fr->line);
	buf_free(&fr->enc);
	buf_free(&fr->fin);
	free(fr);
}

int pump_run(const struct pump_opts *o, int fd)
{
	struct relay r;
	struct stat st;
	int status = NT_EXIT_FAIL;

	set_sockopts(o, fd);
	memset(&r, 0, sizeof r);
	r.o = o;
	r.net = fd;
	r.in_open = !o->recv_only && fcntl(STDIN_FILENO, F_GETFL) >= 0;
	r.net_rd = r.net_wr = 1;
	r.active = util_now_ms();
	if ((o->frame || o->pack_fmt) && !(r.fr = framing_new(o)))
		return NT_EXIT_FAIL;
#ifdef __linux__
	/* not to a peer on this host: there sendfile only moves the copy to
	 * the receiver (see http-get's uploads) */
	r.in_file = r.in_open && o->eol == PUMP_EOL_LF && !o->hex && !r.fr &&
		    fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode) && !net_peer_is_local(fd);
#else
	(void)st;
#endif
	r.up.data = malloc(CLIENT_BUF);
	r.down.data = malloc(CLIENT_BUF);
	r.up.cap = r.down.cap = CLIENT_BUF;
	r.spl[0] = r.spl[1] = -1;
#ifdef __linux__
	spl_setup(&r);
#endif
	if (!r.up.data || !r.down.data || net_set_nonblock(fd, 1) < 0)
		nt_warn(o->cmd, "setup: %s", strerror(errno));
	else
		status = relay_run(&r);
	free(r.up.data);
	free(r.down.data);
	util_close_pipe(r.spl);
	framing_free(r.fr);
	buf_free(&r.lines);
	return status;
}

int pump_opt_eol(void *field, const char *arg, char *err)
{
	static const char *const names[] = { "lf", "crlf", "none" };
	int i;

	for (i = 0; i < 3; i++)
		if (strcmp(arg, names[i]) == 0) {
			*(int *)field = i;
			return 0;
		}
	nt_seterr(err, "unknown line ending '%s' (lf, crlf, none)", arg);
	return -1;
}

int pump_opts_check(const struct pump_opts *o, char *err)
{
	if (o->send_only && o->recv_only) {
		nt_seterr(err, "--send-only and --recv-only (-d) exclude each other");
		return -1;
	}
	if (o->eol != PUMP_EOL_LF && (o->frame || o->pack_fmt)) {
		nt_seterr(err, "-C and --eol do not go with --frame or --pack (frames carry lines)");
		return -1;
	}
	return 0;
}

