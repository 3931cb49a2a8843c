#include "nettool/base/buf.h"
#include "nettool/core/cmd.h"
#include "nettool/core/dgram.h"
#include "nettool/core/gather.h"
#include "nettool/core/infile.h"
#include "nettool/core/loop.h"
#include "nettool/core/net.h"
#include "nettool/core/server.h"
#include "nettool/proto/pack.h"
#include "nettool/proto/rdgram.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CMD "udp-server"
#define DGRAM_BUF 65536         /* larger than any UDP payload over IPv4 */
#define RECV_BATCH 32          /* datagrams a wake-up, each a buffer of its own */
#define ACK_EVERY 4             /* records acknowledged together at most */
#define ACK_EVERY_FILE 4        /* file datagrams: half the acks of QUIC's every
                                 * other packet, each with every range, at least */
#define ACK_EVERY_GAP 16        /* at most while a gap is open */
#define ACK_EVERY_IN_ORDER 32   /* at most while none is: the sender has no
                                 * loss to learn of */
#define ACKS_A_WINDOW 16        /* acks for what the sender has in flight, so
                                 * that a few lost cost nothing */
#define RECENT 16               /* held records an ack reports the ranges of,
                                 * beside those of the ack before */
#define PEER_BUCKETS 4096
#define PEER_MAX 16384
#define PEER_HELD_MAX ((size_t)8 << 20)  /* out-of-order bytes per peer */
#define HELD_TOTAL_MAX ((size_t)64 << 20) /* and for all peers */
#define SWEEP_MS 1000

struct peer {
	struct sockaddr_storage addr;
	socklen_t len;
	uint32_t session;
	unsigned version;       /* of its datagrams: acks answer in kind */
	uint64_t last;
	char from[NET_ADDR_LEN]; /* ADDR:PORT, for messages */
	struct rd_recv rx;
	struct infile *file;    /* a file coming in, or NULL */
	int ack_due;            /* in the batch's list of acks to send */
	unsigned unacked;       /* datagrams since the last ack */
	unsigned nrecent, nprev; /* of recent; of them, reported by the last ack */
	uint32_t ack_seq;       /* the latest seq that asked for one */
	uint32_t flight;        /* how far the sender's seq is ahead of its base */
	uint32_t recent[2 * RECENT]; /* seqs held since the ack before the last
	                          * (its loss would leave them unreported) */
	struct peer *next;
};

struct userver {
	struct server_addr addr;
	const char *out_path, *reply, *unpack_fmt, *tmpl;
	int hex, peer_prefix, sync, echo, reliable, verbose, forget_ms, no_offload, no_digest;
	unsigned long count;
	int fd, out_fd, stop_status;
	struct loop *lp;
	struct loop_io io, sio;
	struct loop_timer sweep;
	struct pack_format fmt;
	struct pack_printf *pf;
	struct pack_value *vals;
	struct buf line;
	struct buf reply_bytes; /* --reply, escapes decoded */
	unsigned long long received, accepted, rejected, replied;
	struct peer *peers[PEER_BUCKETS];
	size_t npeers, held_total;
	/* a batch: acknowledgements go after its output is written */
	struct peer *due[RECV_BATCH];
	unsigned ndue;
	struct gather out;      /* output over a batch, written once */
	unsigned char *dgram;   /* the datagram being handled */
	struct dgram_in in[RECV_BATCH];
	unsigned char bufs[RECV_BATCH][DGRAM_BUF];
};

/* Write what the batch gathered; 0, or -1 with errno set. With --sync,
 * records are on disk before they are acknowledged. */
static int out_flush(struct userver *s)
{
	int fd = gather_flush(&s->out);

	if (fd == -2)
		return -1;
	if (s->sync && fd >= 0 && fd == s->out_fd && fsync(fd) < 0 && errno != EINVAL)
		return -1;
	return 0;
}

/* Output failed: the server stops (unacknowledged records are resent to
 * the next one). */
static void out_failed(struct userver *s)
{
	if (errno != EPIPE)
		nt_warn(CMD, "write output: %s", strerror(errno));
	s->stop_status = errno == EPIPE ? 0 : NT_EXIT_FAIL;
	loop_stop(s->lp);
}

static void reject(struct userver *s, const char *from, const char *fmt, const char *why)
{
	s->rejected++;
	nt_warn(CMD, fmt, from, why);
}

/* Append the record's text line to s->line. Returns 0, or 1: rejected. */
static int format_line(struct userver *s, const char *from, const unsigned char *p,
		       size_t n)
{
	size_t i;

	s->line.len = 0;
	if (s->peer_prefix) {
		buf_append(&s->line, from, strlen(from));
		buf_putc(&s->line, '\t');
	}
	if (s->unpack_fmt) {
		char why[64];

		if (n != s->fmt.size) {
			snprintf(why, sizeof why, "record of %zu bytes, expected %zu", n,
				 s->fmt.size);
			reject(s, from, "%s: %s; rejected", why);
			return 1;
		}
		unpack_values(&s->fmt, p, s->vals);
		if (s->pf)
			return pack_printf_record(&s->line, s->pf, s->vals) < 0 ? 1 : 0;
		for (i = 0; i < s->fmt.nvalues; i++) {
			if (i)
				buf_putc(&s->line, '\t');
			pack_format_value(&s->line, &s->vals[i]);
		}
	} else if (s->hex) {
		buf_hex(&s->line, p, n);
	} else {
		buf_append(&s->line, p, n);
		if (n && p[n - 1] == '\n')
			return 0;
	}
	return buf_putc(&s->line, '\n') < 0 ? 1 : 0;
}

static int open_output(struct userver *s);

/* Whether --count is reached. */
static int counted_out(const struct userver *s)
{
	return s->count && s->accepted >= s->count;
}

/* Write one record's line whole. 0 written, 1 rejected, -1 output failed. */
static int write_record(struct userver *s, const char *from, const unsigned char *p,
			size_t n)
{
	if (format_line(s, from, p, n))
		return 1;
	if (s->out_fd == STDOUT_FILENO && s->out_path && open_output(s)) {
		s->stop_status = NT_EXIT_FAIL;
		loop_stop(s->lp);
		return -1;
	}
	if (gather_write(&s->out, s->out_fd, NULL, s->line.data, s->line.len) < 0) {
		out_failed(s);
		return -1;
	}
	s->accepted++;
	if (counted_out(s))
		loop_stop(s->lp);
	return 0;
}

static void send_to(struct userver *s, const void *p, size_t n,
		    const struct sockaddr_storage *to, socklen_t len)
{
	ssize_t rc;

	do
		rc = sendto(s->fd, p, n, 0, (const struct sockaddr *)to, len);
	while (rc < 0 && errno == EINTR);
	if (rc >= 0)
		s->replied++;
}

/* An ack in the peer's version: from v2 on, the ranges held beyond base. */
static void send_ack(struct userver *s, struct peer *pe, unsigned type, uint32_t seq)
{
	unsigned char h[RD_HDR + 8 * RD_MAX_RANGES];
	struct rd_hdr hdr;

	memset(&hdr, 0, sizeof hdr);
	hdr.type = type;
	hdr.session = pe->session;
	hdr.seq = seq;
	hdr.base = pe->rx.expected;
	hdr.version = pe->version;
	if (type == RD_ACK && pe->version >= 2)
		hdr.nranges = rd_recv_ranges(&pe->rx, pe->recent, pe->nrecent, hdr.ranges, RD_MAX_RANGES);
	/* the next ack reports this one's news again */
	memmove(pe->recent, pe->recent + pe->nprev, (pe->nrecent - pe->nprev) * sizeof *pe->recent);
	pe->nrecent -= pe->nprev;
	pe->nprev = pe->nrecent;
	send_to(s, h, rd_encode(h, &hdr), &pe->addr, pe->len);
}

/* Acknowledge what pe sent: records every ACK_EVERY datagrams; file data
 * once for every ACKS_A_WINDOW-th of the sender's flight, within
 * ACK_EVERY_FILE and ACK_EVERY_GAP or ACK_EVERY_IN_ORDER, and at once
 * when RECENT records were held since the last; and at the end of the
 * batch. An ack of records says they are written: what the batch
 * gathered is written first. File data is acknowledged once in the
 * file's buffer: only the file end's ack says the file is written. */
static void ack_later(struct userver *s, struct peer *pe, uint32_t seq)
{
	unsigned every = pe->flight / ACKS_A_WINDOW,
		 most = pe->nrecent > pe->nprev || rd_seq_diff(pe->rx.top, pe->rx.expected) > 0
			? ACK_EVERY_GAP : ACK_EVERY_IN_ORDER;

	if (!pe->file)
		every = ACK_EVERY;
	else if (pe->nrecent - pe->nprev >= RECENT)
		every = 1; /* no room to report more */
	else
		every = every < ACK_EVERY_FILE ? ACK_EVERY_FILE : every > most ? most : every;

	pe->ack_seq = seq;
	if (++pe->unacked >= every) {
		if (!pe->file && out_flush(s) < 0) {
			out_failed(s);
			return;
		}
		pe->unacked = 0;
		send_ack(s, pe, RD_ACK, seq);
		return;
	}
	if (!pe->ack_due && s->ndue < RECV_BATCH) {
		pe->ack_due = 1;
		s->due[s->ndue++] = pe;
	}
}

/* A rejection goes at once, after what was accepted before it. */
static void reject_now(struct userver *s, struct peer *pe, uint32_t seq)
{
	if (out_flush(s) < 0) {
		out_failed(s);
		return;
	}
	send_ack(s, pe, RD_REJECT, seq);
}

/* The end of a batch: its output handed to the writer, then its
 * acknowledgements: those of records once it is written (file data is
 * acknowledged in the buffer; only a file's end waits for the disk). */
static void batch_end(struct userver *s)
{
	unsigned i;
	int ok = gather_handoff(&s->out) == 0, written = 0;

	if (!ok)
		out_failed(s);
	for (i = 0; i < s->ndue; i++) {
		struct peer *pe = s->due[i];

		pe->ack_due = 0;
		if (ok && pe->unacked && !pe->file && !written++ && out_flush(s) < 0) {
			out_failed(s);
			ok = 0;
		}
		if (ok && pe->unacked)
			send_ack(s, pe, RD_ACK, pe->ack_seq);
		pe->unacked = 0;
	}
	s->ndue = 0;
}

/* ---- peers of --reliable, by address and session ---- */

static size_t peer_hash(const struct sockaddr_storage *a, socklen_t len, uint32_t session)
{
	const unsigned char *p = (const unsigned char *)a;
	uint32_t h = 2166136261u ^ session;
	socklen_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % PEER_BUCKETS;
}

static struct peer *peer_find(struct userver *s, const struct sockaddr_storage *a,
			      socklen_t len, const struct rd_hdr *h)
{
	size_t b = peer_hash(a, len, h->session);
	struct peer *pe;

	for (pe = s->peers[b]; pe; pe = pe->next)
		if (pe->session == h->session && pe->len == len && !memcmp(&pe->addr, a, len))
			return pe;
	if (s->npeers >= PEER_MAX || !(pe = calloc(1, sizeof *pe)))
		return NULL;
	memcpy(&pe->addr, a, len);
	pe->len = len;
	net_format_addr((const struct sockaddr *)a, len, pe->from);
	pe->session = h->session;
	/* a new (or forgotten) session: all below the sender's base is done */
	rd_recv_init(&pe->rx, h->base, PEER_HELD_MAX);
	pe->next = s->peers[b];
	s->peers[b] = pe;
	s->npeers++;
	return pe;
}

static void file_drop(struct userver *s, struct peer *pe)
{
	struct infile *f = pe->file;

	if (!f)
		return;
	if (f->fd != STDOUT_FILENO)
		gather_drop(&s->out, f->fd); /* what was gathered for it goes too */
	if (!f->done) { /* once it is true: nothing is left when it is read */
		nt_warn(CMD, "%s: file transfer cut short after %llu bytes; %s", pe->from,
			(unsigned long long)f->bytes, f->tmp[0] ? "nothing kept" : "output incomplete");
	}
	infile_abort(f);
	free(f);
	pe->file = NULL;
}

static void peer_free(struct userver *s, struct peer *pe)
{
	file_drop(s, pe);
	s->held_total -= pe->rx.held_bytes;
	rd_recv_free(&pe->rx);
	free(pe);
	s->npeers--;
}

static void sweep_cb(struct loop *lp, struct loop_timer *t)
{
	struct userver *s = t->data;
	size_t b;

	for (b = 0; b < PEER_BUCKETS; b++) {
		struct peer **pp = &s->peers[b];

		while (*pp) {
			struct peer *pe = *pp;

			if (loop_now(lp) - pe->last > (uint64_t)s->forget_ms) {
				*pp = pe->next;
				peer_free(s, pe);
			} else {
				pp = &pe->next;
			}
		}
	}
	loop_timer_set(lp, t, SWEEP_MS);
}

/* File data, in order: to the temporary (made on the first). 0, or -1:
 * output failed. */
static int file_data(struct userver *s, struct peer *pe, const unsigned char *p, size_t n)
{
	struct infile *f = pe->file;
	char err[NT_ERR_LEN];

	if (!f) {
		if (!(f = pe->file = malloc(sizeof *f)))
			return -1;
		if (infile_open(f, s->out_path, !s->no_digest, err) < 0) {
			nt_warn(CMD, "%s", err);
			return -1;
		}
	}
	if (f->done || gather_write(&s->out, f->fd, f->digest ? &f->sha : NULL, p, n) < 0) {
		if (!f->done)
			nt_warn(CMD, "write output: %s", strerror(errno));
		return -1;
	}
	f->bytes += n;
	return 0;
}

/* The file's end: its size and SHA-256 must match, then it is renamed
 * into place. 0 done, 1 rejected (nothing kept). */
static int file_end(struct userver *s, struct peer *pe, const char *from,
		    const unsigned char *p)
{
	char hex[65], err[NT_ERR_LEN];
	uint64_t size = 0;
	int i, rc;

	if (!pe->file && file_data(s, pe, p, 0) < 0) /* an empty file */
		return 1;
	for (i = 0; i < 8; i++)
		size = size << 8 | p[i];
	if (out_flush(s) < 0) { /* written, the writer's too */
		nt_warn(CMD, "%s: %s", s->out_path ? s->out_path : "stdout", strerror(errno));
		file_drop(s, pe);
		return 1;
	}
	if ((rc = infile_finish(pe->file, s->out_path, size, p + 8, s->sync, hex, err)) != 0) {
		if (rc > 0)
			nt_warn(CMD, "%s: file of %llu bytes%s%s: the sender's size or SHA-256 "
				"differs; nothing kept", from, (unsigned long long)pe->file->bytes,
				*hex ? ", sha256 " : "", hex);
		else
			nt_warn(CMD, "%s", err);
		file_drop(s, pe);
		return 1;
	}
	nt_warn(CMD, "%s: received %llu bytes%s%s%s%s%s", from, (unsigned long long)pe->file->bytes,
		s->out_path ? " into " : "", s->out_path ? s->out_path : "", *hex ? ", sha256 " : "",
		hex, *hex && !pe->file->checked ? " (not checked: the sender sent none)" : "");
	s->accepted++;
	return 0;
}

/* One released record, its type in p[0]: 0 written, 1 rejected, -1
 * output failed. */
static int deliver(struct userver *s, struct peer *pe, const char *from,
		   const unsigned char *p, size_t n)
{
	if (p[0] == RD_FDATA && file_data(s, pe, p + 1, n - 1) < 0) {
		s->stop_status = NT_EXIT_FAIL;
		loop_stop(s->lp);
		return -1;
	}
	if (p[0] == RD_FDATA)
		return 0;
	if (p[0] == RD_FEND)
		return file_end(s, pe, from, p + 1);
	return write_record(s, from, p + 1, n - 1);
}

/* Write a released record and those held behind it. One acknowledgement
 * counts for them all: the held ones counted when they came, and an ack
 * per few of them again would double the acks on a lossy path. */
static void release(struct userver *s, struct peer *pe, const char *from,
		    uint32_t seq, const unsigned char *p, size_t n)
{
	uint32_t came = seq;
	const unsigned char *next;
	size_t nn;
	int more;

	for (;;) {
		int rc = deliver(s, pe, from, p, n);

		if (rc < 0)
			return; /* output failed: unacknowledged; the server stops */
		/* released first, so that the ack's base counts it */
		more = rd_recv_next(&pe->rx, &next, &nn);
		if (rc)
			reject_now(s, pe, seq);
		else if (!more)
			ack_later(s, pe, came);
		if (!more)
			return;
		p = next;
		n = nn;
		seq++;
	}
}

static void handle_reliable(struct userver *s, const struct sockaddr_storage *a,
			    socklen_t alen, size_t n)
{
	char err[NT_ERR_LEN], from[NET_ADDR_LEN];
	struct rd_hdr h;
	struct peer *pe;
	size_t before;
	enum rd_verdict v;

	if (rd_decode(s->dgram, n, &h, err) < 0) {
		net_format_addr((const struct sockaddr *)a, alen, from);
		reject(s, from, "%s: bad reliable datagram: %s; dropped", err);
		return;
	}
	if (h.type == RD_ACK || h.type == RD_REJECT) {
		net_format_addr((const struct sockaddr *)a, alen, from);
		reject(s, from, "%s: %s; dropped", "acknowledgement sent to the server");
		return;
	}
	if (!(pe = peer_find(s, a, alen, &h)))
		return; /* no room for another peer: it will retry */
	pe->last = loop_now(s->lp);
	pe->version = h.version;
	pe->flight = rd_seq_diff(h.seq, h.base) > 0 ? (uint32_t)rd_seq_diff(h.seq, h.base) : 0;
	before = pe->rx.held_bytes;
	rd_recv_base(&pe->rx, h.base);
	/* out-of-order room: this peer's share, within the total */
	pe->rx.max_bytes = pe->rx.held_bytes + (HELD_TOTAL_MAX - s->held_total);
	if (pe->rx.max_bytes > PEER_HELD_MAX)
		pe->rx.max_bytes = PEER_HELD_MAX;
	/* the record is kept with its type before it (over the header's
	 * last byte, read already) */
	s->dgram[RD_HDR - 1] = (unsigned char)h.type;
	v = rd_recv_offer(&pe->rx, h.seq, s->dgram + RD_HDR - 1, n - RD_HDR + 1);
	s->held_total = s->held_total - before + pe->rx.held_bytes;
	if (v == RD_HELD && pe->nrecent < 2 * RECENT)
		pe->recent[pe->nrecent++] = h.seq;
	if (v == RD_DUP || (v == RD_HELD && h.version >= 2))
		ack_later(s, pe, h.seq); /* v2: its ranges tell what is held */
	else if (v == RD_RELEASE)
		release(s, pe, pe->from, h.seq, s->dgram + RD_HDR - 1, n - RD_HDR + 1);
}

static void handle(struct userver *s, const struct sockaddr_storage *a, socklen_t alen,
		   size_t n, int truncated)
{
	char from[NET_ADDR_LEN] = "";

	s->received++;
	if (s->reliable && !truncated) {
		handle_reliable(s, a, alen, n);
		return;
	}
	/* the sender's address, for messages and --peer: not made otherwise */
	if (truncated || s->peer_prefix || s->unpack_fmt)
		net_format_addr((const struct sockaddr *)a, alen, from);
	if (truncated) {
		reject(s, from, "%s: %s; rejected", "datagram larger than the buffer (truncated)");
		return;
	}
	if (write_record(s, from, s->dgram, n) != 0)
		return;
	if (s->echo)
		send_to(s, s->dgram, n, a, alen);
	if (s->reply)
		send_to(s, s->reply_bytes.data ? s->reply_bytes.data : "", s->reply_bytes.len, a, alen);
}

/* Up to two batches a wake-up, so that other work is not starved. */
static void recv_cb(struct loop *lp, struct loop_io *io, int ev)
{
	struct userver *s = io->data;
	int round, n, i;

	(void)ev;
	(void)lp;
	for (round = 0; round < 2 && !s->stop_status; round++) {
		/* an error (EAGAIN, a stray ICMP one): nothing to do now */
		if ((n = dgram_recv_many(io->fd, s->in, RECV_BATCH)) <= 0)
			break;
		for (i = 0; i < n && !s->stop_status && !counted_out(s); i++) {
			struct dgram_in *d = &s->in[i];
			size_t off = 0, seg = d->seg ? d->seg : d->len, len;

			do { /* coalesced by the kernel: datagrams of seg bytes */
				len = d->len - off < seg ? d->len - off : seg;
				s->dgram = (unsigned char *)d->buf + off;
				handle(s, &d->addr, d->alen, len, d->truncated);
				off += len;
			} while (off < d->len && !s->stop_status && !counted_out(s));
		}
		batch_end(s);
		if (n < RECV_BATCH || counted_out(s))
			break;
	}
}

static void signal_cb(struct loop *lp, struct loop_io *io, int ev)
{
	(void)io;
	(void)ev;
	loop_stop(lp);
}

#define O(field) offsetof(struct userver, field)
static const struct opt userver_opts[] = {
	SERVER_ADDR_OPTS(struct userver, addr, "port to listen on (default 8888; 0 picks a free one)"),
	SERVER_JOIN_OPT(struct userver, addr),
	{ 'x', "hex", OPT_FLAG, O(hex), 0, NULL, "print payloads as hex", 0, 0, NULL },
	{ 0, "peer", OPT_FLAG, O(peer_prefix), 0, NULL,
	  "prefix each line with the sender ADDR:PORT and a tab", 0, 0, NULL },
	{ 0, "unpack", OPT_STRING, O(unpack_fmt), 0, "FMT",
	  "decode each datagram as one record of FMT", 0, 0, NULL },
	{ 0, "printf", OPT_STRING, O(tmpl), 0, "TEMPLATE",
	  "with --unpack: format records with a template", 0, 0, NULL },
	{ 'o', "output", OPT_STRING, O(out_path), 0, "FILE", "append the lines to FILE", 0, 0, NULL },
	{ 0, "sync", OPT_FLAG, O(sync), 0, NULL, "fsync FILE after each write (a batch of lines),\nbefore they are acknowledged", 0, 0, NULL },
	{ 0, "echo", OPT_FLAG, O(echo), 0, NULL, "send each datagram back to its sender", 0, 0, NULL },
	{ 0, "reply", OPT_STRING, O(reply), 0, "TEXT", "send TEXT (escapes as in --printf) to each sender", 0, 0, NULL },
	{ 0, "count", OPT_COUNT, O(count), 0, "N", "exit after N accepted datagrams", 1, ~0UL, NULL },
	{ 0, "reliable", OPT_FLAG, O(reliable), 0, NULL, "acknowledged delivery (see nettool(1))",
	  0, 0, NULL },
	{ 0, "forget", OPT_SECS, O(forget_ms), 0, "SECS",
	  "--reliable: forget a peer quiet that long (default 60)", 1, 0, NULL },
	{ 0, "no-offload", OPT_FLAG, O(no_offload), 0, NULL,
	  "one datagram per receive (no UDP receive offload)", 0, 0, NULL },
	{ 0, "no-digest", OPT_FLAG, O(no_digest), 0, NULL,
	  "--reliable: no SHA-256 of files; check their size only", 0, 0, NULL },
	{ 'v', "verbose", OPT_FLAG, O(verbose), 0, NULL, "log rejected datagrams in full", 0, 0, NULL },
	OPT_END
};
#undef O

static int check_args(void *opts, char **args, int nargs, char *err)
{
	struct userver *s = opts;

	(void)args;
	(void)nargs;
	if (s->tmpl && !s->unpack_fmt)
		nt_seterr(err, "--printf needs --unpack FMT");
	else if (s->no_digest && !s->reliable)
		nt_seterr(err, "--no-digest needs --reliable");
	else if (s->reliable && (s->echo || s->reply))
		nt_seterr(err, "--reliable answers with acknowledgements only; "
			  "drop --echo and --reply");
	else
		return 0;
	return -1;
}

static int open_output(struct userver *s)
{
	s->out_fd = open(s->out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (s->out_fd < 0) {
		nt_warn(CMD, "%s: %s", s->out_path, strerror(errno));
		return NT_EXIT_FAIL;
	}
	return 0;
}

/* Compile --unpack/--printf and open -o. Returns 0 or an exit status. */
static int setup_output(struct userver *s)
{
	char err[NT_ERR_LEN];

	/* --reliable: a thread writes (and hashes) what a batch gathered */
	if (gather_init(&s->out, s->reliable) < 0) {
		nt_warn(CMD, "out of memory");
		return NT_EXIT_FAIL;
	}
	if (s->unpack_fmt) {
		if (pack_compile(s->unpack_fmt, &s->fmt, err) < 0) {
			nt_warn(CMD, "--unpack: bad format '%s': %s", s->unpack_fmt, err);
			return NT_EXIT_FAIL;
		}
		if (s->tmpl && !(s->pf = pack_printf_compile(s->tmpl, &s->fmt, err)))
			return cmd_usage_error(CMD, "--printf: %s", err);
		if (!(s->vals = calloc(s->fmt.nvalues + 1, sizeof *s->vals))) {
			nt_warn(CMD, "out of memory");
			return NT_EXIT_FAIL;
		}
	}
	if (s->reply && pack_unescape(&s->reply_bytes, s->reply) < 0) {
		nt_warn(CMD, "out of memory");
		return NT_EXIT_FAIL;
	}
	s->out_fd = STDOUT_FILENO;
	/* with --reliable a file may come instead: FILE is made by the first
	 * record, so a transfer that fails leaves none */
	return s->out_path && !s->reliable ? open_output(s) : 0;
}

static int userver_open(struct userver *s, char *err)
{
	int rcvbuf = 4 << 20, status;

	s->fd = server_listen(&s->addr, SOCK_DGRAM, 0, &status, err);
	if (s->fd < 0)
		return status;
	/* absorb bursts from many senders; the kernel caps it */
	if (!sockopt_given(&s->addr.so, "so_rcvbuf"))
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	if (!s->no_offload)
		dgram_gro_enable(s->fd);
	return 0;
}

static void userver_free(struct userver *s)
{
	size_t b;

	for (b = 0; b < PEER_BUCKETS; b++)
		while (s->peers[b]) {
			struct peer *pe = s->peers[b];

			s->peers[b] = pe->next;
			peer_free(s, pe);
		}
	gather_free(&s->out); /* what it still writes, written */
	if (s->fd >= 0)
		close(s->fd);
	if (s->out_path && s->out_fd > STDERR_FILENO)
		close(s->out_fd);
	util_signal_pipe_close(s->sio.fd);
	loop_free(s->lp);
	pack_printf_free(s->pf);
	pack_free(&s->fmt);
	free(s->vals);
	buf_free(&s->line);
	buf_free(&s->reply_bytes);
	free(s);
}

static int run(int argc, char **argv)
{
	struct userver *s = calloc(1, sizeof *s);
	char err[NT_ERR_LEN];
	int rc, i;

	if (!s) {
		nt_warn(CMD, "out of memory");
		return NT_EXIT_FAIL;
	}
	s->fd = s->out_fd = s->sio.fd = -1;
	for (i = 0; i < RECV_BATCH; i++) {
		s->in[i].buf = s->bufs[i];
		s->in[i].cap = sizeof s->bufs[i];
	}
	s->addr.port = 8888;
	s->addr.family = AF_UNSPEC;
	s->forget_ms = 60000;
	rc = cmd_parse(&cmd_udp_server, argc, argv, s);
	if (rc == 0)
		rc = setup_output(s);
	if (rc == 0 && (rc = userver_open(s, err)) != 0)
		nt_warn(CMD, "%s", err);
	if (rc == 0 && (!(s->lp = loop_new(err)) || (s->sio.fd = util_signal_pipe(err)) < 0)) {
		nt_warn(CMD, "%s", err);
		rc = NT_EXIT_FAIL;
	}
	if (rc) {
		userver_free(s);
		return rc < 0 ? 0 : rc;
	}
	s->io.fd = s->fd;
	s->io.events = s->sio.events = LOOP_READ;
	s->io.cb = recv_cb;
	s->sio.cb = signal_cb;
	s->io.data = s->sio.data = s->sweep.data = s;
	s->sweep.cb = sweep_cb;
	if (loop_io_add(s->lp, &s->io, err) < 0 || loop_io_add(s->lp, &s->sio, err) < 0 ||
	    (s->reliable && loop_timer_set(s->lp, &s->sweep, SWEEP_MS) < 0)) {
		nt_warn(CMD, "%s", err);
		userver_free(s);
		return NT_EXIT_FAIL;
	}
	server_announce(CMD, s->fd);
	if (s->verbose)
		cmd_report_sockopts(CMD, s->fd, &s->addr.so);
	if (loop_run(s->lp, err) < 0) {
		nt_warn(CMD, "%s", err);
		s->stop_status = NT_EXIT_FAIL;
	}
	nt_warn(CMD, "stopped: %llu received, %llu accepted, %llu rejected, %llu replied",
		s->received, s->accepted, s->rejected, s->replied);
	rc = s->stop_status;
	userver_free(s);
	return rc;
}

const struct cmd cmd_udp_server = {
	CMD, run, "receive datagrams from many peers; replies, records, acknowledgements",
	"[OPTIONS]", "Receive datagrams from any number of peers; print one line per datagram.",
	userver_opts, NULL, 0, 0, 0, check_args
};
