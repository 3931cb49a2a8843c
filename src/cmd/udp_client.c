#include "nettool/base/buf.h"
#include "nettool/base/rate.h"
#include "nettool/core/cmd.h"
#include "nettool/core/dgram.h"
#include "nettool/core/net.h"
#include "nettool/core/rsend.h"
#include "nettool/core/sockopt.h"
#include "nettool/proto/pack.h"
#include "nettool/proto/rdgram.h"
#include "nettool/proto/sha256.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CMD "udp-client"
#define MAX_DGRAM 65507
#define SEND_BATCH_MIN 8
#define ACK_BATCH 16            /* acknowledgements received in one call */
#define ACK_MAX (RD_HDR + 8 * RD_MAX_RANGES)
#define FILE_WINDOW_BYTES (16UL << 20) /* --file's default window, at most RD_WINDOW */

struct uopts {
	const char *host, *port, *pack_fmt, *unpack_fmt, *file, *src, *src_port;
	int family, flags, wait_ms, no_wait, hex, raw, broadcast, reliable, verbose, no_offload;
	int no_digest;
	unsigned long size, retries, window, mtu;
	uint64_t rate;
	unsigned src_port_n;
	struct sockopts so;
};

struct uclient {
	const struct uopts *o;
	int fd, in_open;
	struct buf in;              /* stdin read; sent up to in_off */
	size_t in_off;
	struct rate rate;           /* --rate */
	unsigned long long lineno, sent, replies;
	struct pack_format pfmt, ufmt;
	struct pack_value *uvals;
	unsigned char *rec;
	struct buf out;
	uint64_t last_activity;
	struct rsend r;             /* --reliable */
	/* --file */
	int in_fd;
	struct sha256 sha;
	uint64_t file_bytes, file_total; /* read so far; the size when known */
	int fend_queued, bar;
	uint64_t started, drawn;
	struct dgram_in ack_in[ACK_BATCH];
	unsigned char acks[ACK_BATCH][ACK_MAX + 1];
	unsigned char reply[MAX_DGRAM + 1];
};

/* Report a socket error; returns the exit status. */
static int sock_fail(const struct uclient *c, const char *what)
{
	int e = errno;

	nt_warn(CMD, "%s %s port %s: %s", what, c->o->host, c->o->port,
		e == ECONNREFUSED ? "connection refused" : strerror(e));
	return net_connect_status(e);
}

static ssize_t send_dgram(int fd, const void *p, size_t n)
{
	ssize_t rc;

	do
		rc = send(fd, p, n, 0);
	while (rc < 0 && (errno == EINTR || errno == ENOBUFS || errno == EAGAIN));
	return rc;
}

/* Turn one line (or --raw chunk) into the payload to send. */
static int make_payload(struct uclient *c, char *line, size_t len,
			const unsigned char **p, size_t *n)
{
	char err[NT_ERR_LEN];

	if (c->o->pack_fmt) {
		line[len] = '\0';
		if (pack_text_line(&c->pfmt, line, c->rec, err) < 0) {
			nt_warn(CMD, "stdin line %llu: %s", c->lineno, err);
			return NT_EXIT_FAIL;
		}
		*p = c->rec;
		*n = c->pfmt.size;
	} else {
		*p = (unsigned char *)line;
		*n = len;
	}
	if (*n > (c->o->reliable ? (size_t)RD_MAX_PAYLOAD : (size_t)MAX_DGRAM)) {
		nt_warn(CMD, "stdin line %llu: %zu bytes do not fit in a datagram",
			c->lineno, *n);
		return NT_EXIT_FAIL;
	}
	return 0;
}

/* ---- replies ---- */

static int print_reply(struct uclient *c, const unsigned char *p, size_t n)
{
	size_t i;

	if (c->o->unpack_fmt) {
		if (n != c->ufmt.size) {
			nt_warn(CMD, "reply of %zu bytes, expected %zu for --unpack; skipped",
				n, c->ufmt.size);
			return 0;
		}
		unpack_values(&c->ufmt, p, c->uvals);
		for (i = 0; i < c->ufmt.nvalues; i++) {
			if (i)
				buf_putc(&c->out, '\t');
			pack_format_value(&c->out, &c->uvals[i]);
		}
	} else if (c->o->hex) {
		buf_hex(&c->out, p, n);
	} else {
		buf_append(&c->out, p, n);
		if (n && p[n - 1] == '\n')
			goto write;
	}
	buf_putc(&c->out, '\n');
write:
	if (net_write_full(STDOUT_FILENO, c->out.data, c->out.len) < 0) {
		c->out.len = 0;
		return errno == EPIPE ? -1 : -2;
	}
	c->out.len = 0;
	return 0;
}

/* ---- --reliable ---- */

static void file_progress(struct uclient *c, int done);

static int reliable_queue(struct uclient *c, unsigned type, const unsigned char *p, size_t n)
{
	if (rsend_queue(&c->r, type, p, n, c->lineno, util_now_us()) < 0) {
		if (errno != ENOMEM)
			return sock_fail(c, "send to");
		nt_warn(CMD, "out of memory");
		return NT_EXIT_FAIL;
	}
	c->sent++;
	return 0;
}

static int reliable_reply(struct uclient *c, const struct dgram_in *d)
{
	char err[NT_ERR_LEN];
	struct rd_hdr h;

	if (d->truncated || rd_decode(d->buf, d->len, &h, err) < 0 || (h.type != RD_ACK && h.type != RD_REJECT) ||
	    h.session != c->r.session) {
		if (c->o->verbose)
			nt_warn(CMD, "ignored a datagram that is no acknowledgement of ours");
		return 0;
	}
	if (h.type == RD_REJECT && rd_send_pending(&c->r.rs, h.seq)) {
		if (rsend_slot(&c->r, h.seq)->dgram[3] == RD_FEND)
			nt_warn(CMD, "the server found the file's size or SHA-256 wrong");
		else
			nt_warn(CMD, "record %u (stdin line %llu) rejected by the server",
				h.seq, rsend_slot(&c->r, h.seq)->line);
		return NT_EXIT_PROTO;
	}
	c->replies++;
	if (h.type != RD_ACK)
		return 0;
	rd_send_ack(&c->r.rs, &h, util_now_us());
	return 0;
}

static int read_acks(struct uclient *c);

/* The timer, then what is lost, sent again; an exit status when the
 * path looks dead. */
static int reliable_timers(struct uclient *c)
{
	uint64_t now = util_now_us(), at = rd_send_deadline(&c->r.rs);
	int status;

	/* acks that came while we were busy sending count first: the
	 * timer is for what the server has not answered */
	if (at && now >= at && (status = read_acks(c)) != 0)
		return status;
	if (rd_send_timer(&c->r.rs, now) >= c->o->retries) {
		struct rsend_slot *f = rsend_slot(&c->r, c->r.rs.base);

		file_progress(c, 1);
		if (c->o->file)
			nt_warn(CMD, "transfer stopped at byte %llu: nothing acknowledged after %lu "
				"timeouts in a row", (unsigned long long)c->r.rs.base * c->o->size,
				c->o->retries);
		else
			nt_warn(CMD, "record %u (stdin line %llu) not acknowledged after %lu timeouts "
				"in a row", c->r.rs.base, f->line, c->o->retries);
		return NT_EXIT_TIMEOUT;
	}
	return rsend_retransmit(&c->r, now) < 0 ? sock_fail(c, "send to") : 0;
}

static size_t pending(const struct uclient *c)
{
	return c->in.len - c->in_off;
}

/* The sooner of two waits in milliseconds (-1: none). */
static int sooner(int a, int b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

/* Milliseconds until --rate lets the next datagram go (-1: no wait). */
static int rate_wait(const struct uclient *c)
{
	uint64_t us = rate_wait_us(&c->rate);

	return us ? (int)((us + 999) / 1000) : -1;
}

/* Milliseconds until the timer or pacing needs a look (-1: none). */
static int reliable_wait(const struct uclient *c)
{
	const struct rd_send *rs = &c->r.rs;
	uint64_t now = util_now_us(), at = rd_send_deadline(rs);
	int ms = at ? (at > now ? (int)((at - now + 999) / 1000) : 0) : -1;

	if (!pending(c) && !c->in_open && rs->lost_from == rs->next)
		return ms; /* nothing more to send */
	if (rs->tokens < 1 && rs->have_rtt)
		ms = sooner(ms, 1); /* pacing: a token is on its way */
	return sooner(ms, rate_wait(c));
}

/* --file: the bytes the server has acknowledged, on a terminal. */
static void file_progress(struct uclient *c, int done)
{
	uint64_t now = util_now_ms(), acked = (uint64_t)c->r.rs.base * c->o->size;
	double secs = (double)(now - c->started) / 1000.0;

	if (!c->bar || (!done && now - c->drawn < 100))
		return;
	c->drawn = now;
	if (done) {
		fprintf(stderr, "\r\033[K");
		return;
	}
	if (acked > c->file_bytes)
		acked = c->file_bytes;
	fprintf(stderr, "\r\033[Ksent %llu", (unsigned long long)acked);
	if (c->file_total)
		fprintf(stderr, "/%llu bytes %3d%%", (unsigned long long)c->file_total,
			(int)(100.0 * (double)acked / (double)c->file_total));
	else
		fprintf(stderr, " bytes");
	fprintf(stderr, " %.1f MB/s", secs > 0 ? (double)acked / secs / 1e6 : 0.0);
}

static void reliable_summary(const struct uclient *c)
{
	const struct rd_send *rs = &c->r.rs;
	uint64_t all = rs->sent + rs->retransmitted;

	nt_warn(CMD, "%llu records sent, %llu acknowledged; %llu retransmitted (%llu found lost "
		"by later acknowledgements, %llu by a timeout's probe, %llu timeouts, %llu sent twice); RTT %.3f ms +- %.3f; loss seen %.1f%%; "
		"%llu rounds with losses, %llu of them with a queue (window cut); %llu rounds cut "
		"for a queue alone; segmentation offload %s",
		(unsigned long long)rs->sent, (unsigned long long)rs->acked,
		(unsigned long long)rs->retransmitted, (unsigned long long)rs->fast,
		(unsigned long long)rs->burst_lost, (unsigned long long)rs->expired, (unsigned long long)rs->doubled,
		(double)rs->srtt / 1000, (double)rs->rttvar / 1000,
		all ? 100.0 * (double)rs->retransmitted / (double)all : 0.0,
		(unsigned long long)rs->loss_rounds, (unsigned long long)rs->cuts,
		(unsigned long long)rs->drains,
		c->r.gso ? "on" : "off");
}

/* ---- the loop ---- */

static int window_room(struct uclient *c)
{
	uint64_t now = util_now_us();

	return rate_room(&c->rate, now) && (!c->o->reliable || rd_send_room(&c->r.rs, now));
}

/* Whether stdin must be read before more can go: what is buffered holds
 * no whole datagram (or line). Read-ahead is so bounded by one read. */
static int need_input(const struct uclient *c)
{
	size_t have = pending(c);

	if (!c->in_open)
		return 0;
	if (c->o->raw || c->o->file)
		return have < c->o->size;
	return !have || !memchr(c->in.data + c->in_off, '\n', have);
}

/* After the last byte: the size and SHA-256, for the server to check
 * (zeros with --no-digest: the server checks the size only). */
static int queue_file_end(struct uclient *c)
{
	unsigned char end[RD_FEND_LEN], d[32];
	struct sha256 copy = c->sha;
	int i;

	for (i = 0; i < 8; i++)
		end[i] = (unsigned char)(c->file_bytes >> (56 - 8 * i));
	/* no digest: 32 zero bytes (no input is known to hash to them) */
	if (c->o->no_digest)
		memset(d, 0, sizeof d);
	else
		sha256_final(&copy, d);
	memcpy(end + 8, d, 32);
	c->fend_queued = 1;
	return reliable_queue(c, RD_FEND, end, sizeof end);
}

/* Send the complete lines (or --raw chunks) of c->in while there is room. */
static int send_pending(struct uclient *c)
{
	/* a file's datagrams go in batches: while some are in flight, wait
	 * for room for several (fewer calls and wake-ups on both sides) */
	uint32_t batch = c->o->window / 2 < SEND_BATCH_MIN ? (uint32_t)c->o->window / 2
							    : SEND_BATCH_MIN;
	int rc = 0;

	if (c->o->file && c->r.rs.next != c->r.rs.base && rd_send_space(&c->r.rs) < batch &&
	    pending(c) >= batch * c->o->size)
		return 0;

	while (pending(c) && window_room(c)) {
		char *at = c->in.data + c->in_off;
		const unsigned char *p;
		size_t len, n;
		char *nl = NULL;

		if (c->o->raw || c->o->file) {
			len = pending(c) < c->o->size ? pending(c) : c->o->size;
			if (len < c->o->size && c->in_open)
				break; /* wait for a full datagram until stdin ends */
		} else {
			nl = memchr(at, '\n', pending(c));
			if (!nl && c->in_open)
				break;
			len = nl ? (size_t)(nl - at) : pending(c);
		}
		c->lineno++;
		if ((rc = make_payload(c, at, len, &p, &n)) != 0)
			break;
		c->in_off += len + (nl ? 1 : 0);
		if (c->o->file) {
			if (!c->o->no_digest)
				sha256_update(&c->sha, p, n);
			c->file_bytes += n;
			if ((rc = reliable_queue(c, RD_FDATA, p, n)) != 0)
				break;
		} else if (c->o->reliable) {
			if ((rc = reliable_queue(c, RD_DATA, p, n)) != 0)
				break;
		} else {
			rate_spend(&c->rate, n);
			if (send_dgram(c->fd, p, n) < 0) {
				rc = sock_fail(c, "send to");
				break;
			}
			c->sent++;
		}
		c->last_activity = util_now_ms();
	}
	if (rc == 0 && c->o->file && !c->in_open && !pending(c) && !c->fend_queued &&
	    window_room(c))
		rc = queue_file_end(c);
	if (rsend_flush(&c->r) < 0 && rc == 0)
		rc = sock_fail(c, "send to");
	return rc;
}

static int read_stdin(struct uclient *c)
{
	ssize_t n;

	/* what is left is less than a datagram (or a line): keep it */
	if (c->in_off) {
		memmove(c->in.data, c->in.data + c->in_off, pending(c));
		c->in.len -= c->in_off;
		c->in_off = 0;
	}
	if (buf_reserve(&c->in, 64 * 1024) < 0) {
		nt_warn(CMD, "out of memory");
		return NT_EXIT_FAIL;
	}
	do
		n = read(c->in_fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		nt_warn(CMD, "read %s: %s", c->o->file && strcmp(c->o->file, "-") ? c->o->file : "stdin",
			strerror(errno));
		return NT_EXIT_FAIL;
	}
	if (n == 0)
		c->in_open = 0;
	c->in.len += (size_t)n;
	if (c->in.len > MAX_DGRAM * 2 && !c->o->raw && !c->o->file &&
	    !memchr(c->in.data, '\n', c->in.len)) {
		nt_warn(CMD, "stdin line %llu: too long for a datagram", c->lineno + 1);
		return NT_EXIT_FAIL;
	}
	return send_pending(c);
}

/* --reliable: the acknowledgements waiting, a batch a call. */
static int read_acks(struct uclient *c)
{
	int i, n;

	do {
		for (i = 0; i < ACK_BATCH; i++)
			c->ack_in[i] = (struct dgram_in){ c->acks[i], sizeof c->acks[i], 0, { 0 }, 0, 0, 0 };
		if ((n = dgram_recv_many(c->fd, c->ack_in, ACK_BATCH)) < 0)
			return sock_fail(c, "receive from");
		if (n)
			c->last_activity = util_now_ms();
		for (i = 0; i < n; i++) {
			int rc = reliable_reply(c, &c->ack_in[i]);

			if (rc)
				return rc;
		}
	} while (n == ACK_BATCH);
	return 0;
}

static int read_replies(struct uclient *c)
{
	if (c->o->reliable)
		return read_acks(c);
	for (;;) {
		ssize_t n = recv(c->fd, c->reply, sizeof c->reply, MSG_DONTWAIT);
		int rc;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return sock_fail(c, "receive from");
		c->last_activity = util_now_ms();
		c->replies++;
		rc = print_reply(c, c->reply, (size_t)n);
		if (rc == -1)
			return -1; /* stdout has gone: end quietly */
		if (rc < 0) {
			nt_warn(CMD, "write stdout: %s", strerror(errno));
			return NT_EXIT_FAIL;
		}
	}
}

/* Whether everything is done; *timeout gets how long to wait otherwise. */
static int finished(struct uclient *c, uint64_t now, int *timeout)
{
	*timeout = -1;
	if (c->o->reliable) {
		*timeout = reliable_wait(c);
		file_progress(c, 0);
		return !c->in_open && !pending(c) && (!c->o->file || c->fend_queued) &&
		       c->r.rs.base == c->r.rs.next;
	}
	if (c->in_open || pending(c)) {
		*timeout = rate_wait(c);
		return 0;
	}
	if (c->o->no_wait || c->replies >= c->sent)
		return 1;
	if (now >= c->last_activity + (uint64_t)c->o->wait_ms)
		return 1;
	*timeout = (int)(c->last_activity + (uint64_t)c->o->wait_ms - now);
	return 0;
}

static int client_run(struct uclient *c)
{
	for (;;) {
		struct pollfd pfd[2];
		int timeout, status = 0, rc;

		/* a timeout too: a retransmission, or a pacing token come due */
		if (c->o->reliable && (status = reliable_timers(c)) != 0)
			return status;
		if ((status = send_pending(c)) != 0)
			return status;
		if (finished(c, util_now_ms(), &timeout))
			return status;
		/* read stdin only when what it gave is all sent */
		pfd[0].fd = need_input(c) && window_room(c) ? c->in_fd : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = c->o->no_wait && !c->o->reliable ? -1 : c->fd;
		pfd[1].events = POLLIN;
		rc = poll(pfd, 2, timeout);
		if (rc < 0 && errno != EINTR) {
			nt_warn(CMD, "poll: %s", strerror(errno));
			return NT_EXIT_FAIL;
		}
		if (rc < 0)
			continue;
		if (pfd[1].revents && (status = read_replies(c)) != 0)
			return status < 0 ? 0 : status;
		if (pfd[0].revents && (status = read_stdin(c)) != 0)
			return status;
	}
}

/* ---- setup ---- */

#define O(field) offsetof(struct uopts, field)
static const struct opt uopts_table[] = {
	{ '4', NULL, OPT_FLAG, O(family), 0, NULL, "IPv4 only", 0, AF_INET, NULL },
	{ '6', NULL, OPT_FLAG, O(family), 0, NULL, "IPv6 only", 0, AF_INET6, NULL },
	{ 'n', NULL, OPT_FLAG, O(flags), 0, NULL, "numeric HOST only, no DNS", 0, NET_NUMERIC, NULL },
	CMD_SOURCE_OPTS(struct uopts, src, src_port_n, src_port),
	SOCKOPT_OPTS(struct uopts, so),
	SOCKOPT_MCAST_OPTS(struct uopts, so),
	{ 'w', NULL, OPT_SECS, O(wait_ms), 0, "SECS",
	  "wait for replies this long after the last (default 2)", 0, 0, NULL },
	{ 'N', NULL, OPT_FLAG, O(no_wait), 0, NULL, "send without waiting for replies", 0, 0, NULL },
	{ 'x', "hex", OPT_FLAG, O(hex), 0, NULL, "print replies as hex", 0, 0, NULL },
	{ 0, "unpack", OPT_STRING, O(unpack_fmt), 0, "FMT", "decode each reply as one record of FMT",
	  0, 0, NULL },
	{ 0, "pack", OPT_STRING, O(pack_fmt), 0, "FMT",
	  "each line holds values: send them packed as a record", 0, 0, NULL },
	{ 0, "raw", OPT_FLAG, O(raw), 0, NULL, "send stdin's bytes in datagrams of up to --size bytes",
	  0, 0, NULL },
	{ 0, "size", OPT_COUNT, O(size), 0, "N", "datagram size for --raw (default 1024, at most 65507)",
	  1, MAX_DGRAM, NULL },
	{ 0, "broadcast", OPT_FLAG, O(broadcast), 0, NULL, "allow a broadcast destination", 0, 0, NULL },
	{ 0, "reliable", OPT_FLAG, O(reliable), 0, NULL,
	  "acknowledged delivery, each record exactly once", 0, 0, NULL },
	{ 0, "retries", OPT_COUNT, O(retries), 0, "N",
	  "--reliable: resends before giving up (default 8)", 0, 100, NULL },
	{ 0, "file", OPT_STRING, O(file), 0, "PATH",
	  "--reliable: send a file (- for stdin) as bytes,\nchecked by SHA-256", 0, 0, NULL },
	{ 0, "no-digest", OPT_FLAG, O(no_digest), 0, NULL,
	  "--file: no SHA-256 (the server checks the size only)", 0, 0, NULL },
	{ 0, "mtu", OPT_COUNT, O(mtu), 0, "N",
	  "--file: datagrams sized for a path of N bytes\n(default 1500)", 200, 65535, NULL },
	{ 0, "window", OPT_COUNT, O(window), 0, "N",
	  "--reliable: records in flight, not held beyond a gap\n(default 512; --file: 4096 at most, 16 MiB)", 1,
	  RD_WINDOW, NULL },
	{ 0, "no-offload", OPT_FLAG, O(no_offload), 0, NULL,
	  "--reliable: one datagram per buffer handed to the\nkernel (no UDP segmentation offload)", 0, 0, NULL },
	{ 0, "rate", OPT_FUNC, O(rate), 0, "RATE",
	  "send at most RATE bytes a second (k, M, G: 1024s),\nheaders of our datagrams counted",
	  0, 0, cmd_opt_size },
	{ 'v', "verbose", OPT_FLAG, O(verbose), 0, NULL, "report the destination and a summary",
	  0, 0, NULL },
	OPT_END
};
#undef O

static int check_args(void *opts, char **args, int nargs, char *err)
{
	struct uopts *o = opts;

	(void)nargs;
	o->host = args[0];
	o->port = args[1];
	if (util_parse_port(o->port, 0, &(unsigned){ 0 }, err) < 0)
		return -1;
	if (o->raw && o->pack_fmt)
		nt_seterr(err, "--raw and --pack exclude each other");
	else if (o->file && !o->reliable)
		nt_seterr(err, "--file needs --reliable");
	else if (o->no_digest && !o->file)
		nt_seterr(err, "--no-digest needs --file");
	else if (o->file && (o->raw || o->pack_fmt))
		nt_seterr(err, "--file sends bytes: it excludes --raw and --pack");
	else if (o->reliable && o->raw && o->size > RD_MAX_PAYLOAD)
		nt_seterr(err, "--size: at most %d with --reliable", RD_MAX_PAYLOAD);
	else
		return 0;
	return -1;
}

static int client_open(struct uclient *c)
{
	const struct uopts *o = c->o;
	char err[NT_ERR_LEN], addr[NET_ADDR_LEN];
	int buf = 4 << 20, status;
	struct addrinfo *src = NULL;

	net_use_sockopts(&o->so);
	if (net_resolve_source(o->src, o->src_port, o->family, SOCK_DGRAM, o->flags, &src, err) < 0) {
		nt_warn(CMD, "source address: %s", err);
		return NT_EXIT_RESOLVE;
	}
	c->fd = net_dial(o->host, o->port, o->family, SOCK_DGRAM,
			 o->flags | (o->broadcast ? NET_BROADCAST : 0), src, -1, &status, err);
	if (src)
		freeaddrinfo(src);
	if (c->fd < 0) {
		nt_warn(CMD, "%s", err);
		return status;
	}
	if (!sockopt_given(&o->so, "so_rcvbuf"))
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	if (o->verbose) {
		nt_warn(CMD, "sending to %s from %s", net_fd_addr(c->fd, 1, addr),
			net_fd_addr(c->fd, 0, err));
		cmd_report_sockopts(CMD, c->fd, &o->so);
	}
	return 0;
}

static int client_setup(struct uclient *c)
{
	const struct uopts *o = c->o;
	char err[NT_ERR_LEN];
	uint32_t session;
	int rc;

	if (o->pack_fmt) {
		if (pack_compile(o->pack_fmt, &c->pfmt, err) < 0) {
			nt_warn(CMD, "--pack: bad format '%s': %s", o->pack_fmt, err);
			return NT_EXIT_FAIL;
		}
		if (!(c->rec = malloc(c->pfmt.size + 1)))
			return NT_EXIT_FAIL;
	}
	if (o->unpack_fmt) {
		if (pack_compile(o->unpack_fmt, &c->ufmt, err) < 0) {
			nt_warn(CMD, "--unpack: bad format '%s': %s", o->unpack_fmt, err);
			return NT_EXIT_FAIL;
		}
		if (!(c->uvals = calloc(c->ufmt.nvalues + 1, sizeof *c->uvals)))
			return NT_EXIT_FAIL;
	}
	if ((rc = client_open(c)) != 0 || !o->reliable)
		return rc;
	util_random(&session, sizeof session);
	return rsend_init(&c->r, c->fd, (uint32_t)o->window, session, &c->rate, !o->no_offload) < 0
		       ? NT_EXIT_FAIL : 0;
}

/* --file: open it, and learn its size when it has one. */
static int file_setup(struct uclient *c, const struct uopts *o)
{
	struct stat st;

	if (strcmp(o->file, "-")) {
		c->in_fd = open(o->file, O_RDONLY | O_CLOEXEC);
		if (c->in_fd < 0) {
			nt_warn(CMD, "%s: %s", o->file, strerror(errno));
			c->in_fd = STDIN_FILENO;
			return NT_EXIT_FAIL;
		}
		c->in_open = 1;
	}
	if (fstat(c->in_fd, &st) == 0 && S_ISREG(st.st_mode))
		c->file_total = (uint64_t)st.st_size;
	sha256_init(&c->sha);
	c->bar = isatty(STDERR_FILENO);
	c->started = util_now_ms();
	return 0;
}

/* Bytes of the file per datagram: what an MTU-sized IP packet holds
 * after the IP (20 or 40 bytes), UDP (8) and our (16) headers. */
static unsigned long file_chunk(const struct uclient *c)
{
	struct sockaddr_storage a;
	socklen_t len = sizeof a;
	unsigned long over = 20 + 8 + RD_HDR;

	if (getsockname(c->fd, (struct sockaddr *)&a, &len) == 0 && a.ss_family == AF_INET6)
		over += 20;
	return c->o->mtu - over;
}

static int run(int argc, char **argv)
{
	struct uopts o;
	struct uclient c;
	int rc;

	memset(&o, 0, sizeof o);
	o.family = AF_UNSPEC;
	o.wait_ms = 2000;
	o.size = 1024;
	o.retries = 8;
	o.mtu = 1500;
	rc = cmd_parse(&cmd_udp_client, argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (!o.window) /* a file's by the bytes it holds; records of unknown size fewer */
		o.window = o.file ? FILE_WINDOW_BYTES / o.mtu : 512;
	if (o.window > RD_WINDOW)
		o.window = RD_WINDOW;
	memset(&c, 0, sizeof c);
	c.o = &o;
	c.fd = -1;
	c.in_fd = STDIN_FILENO;
	c.in_open = fcntl(STDIN_FILENO, F_GETFL) >= 0;
	c.last_activity = util_now_ms();
	rc = o.file ? file_setup(&c, &o) : 0;
	rate_init(&c.rate, o.rate, util_now_us());
	if (rc == 0)
		rc = client_setup(&c);
	if (rc == 0 && o.file)
		o.size = file_chunk(&c);
	if (rc == 0)
		rc = client_run(&c);
	file_progress(&c, 1);
	if (rc == 0 && o.file) {
		unsigned char d[32];
		char hex[65] = "";

		if (!o.no_digest) {
			sha256_final(&c.sha, d);
			sha256_hex(d, hex);
		}
		nt_warn(CMD, "sent %llu bytes%s%s", (unsigned long long)c.file_bytes,
			*hex ? ", sha256 " : "", hex);
	}
	if (c.in_fd != STDIN_FILENO)
		close(c.in_fd);
	if (o.verbose && o.reliable)
		reliable_summary(&c);
	else if (o.verbose)
		nt_warn(CMD, "%llu sent, %llu replies", c.sent, c.replies);
	if (c.fd >= 0)
		close(c.fd);
	rsend_free(&c.r);
	free(c.rec);
	free(c.uvals);
	pack_free(&c.pfmt);
	pack_free(&c.ufmt);
	buf_free(&c.in);
	buf_free(&c.out);
	return rc;
}

const struct cmd cmd_udp_client = {
	CMD, run, "send stdin lines as datagrams and print the replies", "[OPTIONS] HOST PORT",
	"Send each line of stdin (newline stripped) as one datagram; write each\n"
	"reply as a line. After stdin ends, wait until every datagram has had a\n"
	"reply or SECS pass without one.", uopts_table, NULL, 0, 2, 2, check_args
};
