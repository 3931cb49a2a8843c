/* tcp-server --chat: many clients on the server layer; each line a
 * client sends goes to stdout and to every other client, each line typed
 * on stdin to every client (or, as "@N text", to client N). */
#include "nettool/base/buf.h"
#include "nettool/core/loop.h"
#include "nettool/core/net.h"
#include "nettool/tcp/tcp_server.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD TSERVER_CMD
#define CHAT_LINE_MAX 4096          /* a longer line is split here */
#define CHAT_OUT_MAX (256 * 1024)   /* unsent to one client: past it, dropped */
#define CHAT_READ 16384
#define CHAT_PAUSE_MS 200           /* a message without a newline: sent
                                     * once its client pauses this long */

struct chat {
	struct server srv;
	struct tserver *t;
	struct loop_io in_io;       /* stdin */
	struct buf typed;           /* a partial line from stdin */
	unsigned long next_id;
};

struct member {
	struct server_conn base;
	struct chat *ch;
	unsigned long id;
	struct buf line;            /* a partial line from this client */
	struct buf out;             /* what it has still to be sent */
	size_t out_off;
	struct loop_timer pause;    /* CHAT_PAUSE_MS after a partial line */
	int dropped;                /* to be closed, for why */
	const char *why;            /* NULL: it left of its own accord */
};

static struct member *as_member(struct server_conn *c)
{
	return (struct member *)c;
}

/* Send what m has pending; -1 when the connection failed. */
static int flush_out(struct member *m)
{
	ssize_t n = net_send_some(m->base.io.fd, m->out.data + m->out_off, m->out.len - m->out_off);

	if (n < 0)
		return -1;
	m->out_off += (size_t)n;
	if (n > 0)
		server_progress(&m->base);
	if (m->out_off == m->out.len)
		m->out.len = m->out_off = 0;
	return loop_io_set(m->base.srv->lp, &m->base.io,
			   LOOP_READ | (m->out.len ? LOOP_WRITE : 0));
}

/* Mark m to be closed, for why (unless it is already). */
static void gone(struct member *m, const char *why)
{
	if (m->dropped)
		return;
	m->dropped = 1;
	m->why = why;
}

/* Queue text for m; a client that lets CHAT_OUT_MAX pile up is dropped. */
static void say_to(struct member *m, const char *text, size_t n)
{
	if (m->dropped)
		return;
	if (m->out.len - m->out_off + n > CHAT_OUT_MAX) {
		gone(m, "dropped");
		nt_warn(CMD, "[%lu %s] dropped: it does not read what it is sent", m->id, m->base.peer);
		return;
	}
	if (buf_append(&m->out, text, n) < 0 || flush_out(m) < 0)
		gone(m, "connection failed");
}

/* To every client but from (NULL: all). Sending moves a client in the
 * layer's list (its progress), so the list is copied first. */
static void say_all(struct chat *ch, const struct member *from, const char *text, size_t n)
{
	struct server_conn *c;
	struct member **to;
	size_t count = 0, i = 0;

	for (c = ch->srv.head; c; c = c->next)
		count++;
	if (!count || !(to = malloc(count * sizeof *to)))
		return;
	for (c = ch->srv.head; c; c = c->next)
		if (c->kind != SERVER_LINGER && as_member(c) != from)
			to[i++] = as_member(c);
	while (i)
		say_to(to[--i], text, n);
	free(to);
}

/* Close the clients marked as dropped (not from inside their own sends). */
static void close_dropped(struct chat *ch)
{
	struct server_conn *c, *next;

	for (c = ch->srv.head; c; c = next) {
		next = c->next;
		if (c->kind != SERVER_LINGER && as_member(c)->dropped)
			server_close(c, as_member(c)->why);
	}
}

/* One whole line from client m: to stdout and to the others. */
static void client_line(struct member *m, const char *p, size_t n)
{
	struct buf msg = { NULL, 0, 0 };

	if (n && p[n - 1] == '\r')
		n--;
	if (buf_printf(&msg, "[%lu %s] ", m->id, m->base.peer) == 0 &&
	    buf_append(&msg, p, n) == 0 && buf_putc(&msg, '\n') == 0) {
		if (net_write_full(STDOUT_FILENO, msg.data, msg.len) < 0 && errno != EPIPE)
			nt_warn(CMD, "write to stdout: %s", strerror(errno));
		say_all(m->ch, m, msg.data, msg.len);
	}
	buf_free(&msg);
}

/* Hand out the whole lines of b (split at CHAT_LINE_MAX); keep the rest. */
static void lines_of(struct buf *b, void (*fn)(void *, const char *, size_t), void *arg)
{
	size_t off = 0;

	for (;;) {
		const char *nl = memchr(b->data + off, '\n', b->len - off);
		size_t n = nl ? (size_t)(nl - (b->data + off)) : b->len - off;

		if (!nl && n < CHAT_LINE_MAX)
			break;
		if (n > CHAT_LINE_MAX)
			n = CHAT_LINE_MAX, nl = NULL;
		fn(arg, b->data + off, n);
		off += n + (nl ? 1 : 0);
	}
	memmove(b->data, b->data + off, b->len - off);
	b->len -= off;
}

static void member_line(void *arg, const char *p, size_t n)
{
	client_line(arg, p, n);
}

/* A partial line as a message of its own: its client paused, or left. */
static void member_partial(struct member *m)
{
	loop_timer_stop(m->base.srv->lp, &m->pause);
	if (m->line.len)
		client_line(m, m->line.data, m->line.len);
	m->line.len = 0;
}

static void pause_cb(struct loop *lp, struct loop_timer *t)
{
	struct member *m = t->data;

	(void)lp;
	member_partial(m);
	close_dropped(m->ch);
}

static void member_cb(struct loop *lp, struct loop_io *io, int ev)
{
	struct member *m = io->data;
	char tmp[CHAT_READ];
	ssize_t n;

	if ((ev & LOOP_WRITE) && m->out.len && flush_out(m) < 0)
		gone(m, "connection failed");
	if ((ev & (LOOP_READ | LOOP_HUP)) && !m->dropped && !m->base.draining) {
		do
			n = read(io->fd, tmp, sizeof tmp);
		while (n < 0 && errno == EINTR);
		if (n > 0 && buf_append(&m->line, tmp, (size_t)n) == 0) {
			server_progress(&m->base);
			lines_of(&m->line, member_line, m);
			if (m->line.len)
				loop_timer_set(lp, &m->pause, CHAT_PAUSE_MS);
			else
				loop_timer_stop(lp, &m->pause);
		} else if (n == 0) {
			member_partial(m);
			gone(m, NULL); /* it left */
		} else if (n > 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			gone(m, n > 0 ? "out of memory" : "connection failed");
		}
	}
	if (m->base.draining && !m->out.len)
		gone(m, "server stopping");
	close_dropped(m->ch);
}

static int member_open(struct server_conn *c)
{
	struct member *m = as_member(c);
	char msg[NET_ADDR_LEN + 64];
	int n;

	m->ch = c->srv->data;
	m->id = ++m->ch->next_id;
	m->pause.cb = pause_cb;
	m->pause.data = m;
	c->io.cb = member_cb;
	n = snprintf(msg, sizeof msg, "* %lu %s joined\n", m->id, c->peer);
	nt_warn(CMD, "[%lu %s] joined", m->id, c->peer);
	if (!m->ch->t->quiet_notices)
		say_all(m->ch, m, msg, (size_t)n);
	return 0;
}

static void member_close(struct server_conn *c, const char *why)
{
	struct member *m = as_member(c);
	char msg[NET_ADDR_LEN + 64];
	int n = snprintf(msg, sizeof msg, "* %lu %s left\n", m->id, c->peer);

	nt_warn(CMD, "[%lu %s] left%s%s", m->id, c->peer, why ? ": " : "", why ? why : "");
	loop_timer_stop(c->srv->lp, &m->pause);
	m->dropped = 1; /* it hears nothing more */
	if (!m->ch->t->quiet_notices)
		say_all(m->ch, m, msg, (size_t)n);
	buf_free(&m->line);
	buf_free(&m->out);
}

/* Stopping: what is owed is sent first. */
static int member_drain(struct server_conn *c)
{
	return as_member(c)->out.len > 0;
}

static const struct server_class chat_class = {
	sizeof(struct member), member_open, member_close, NULL, member_drain
};

/* A line typed: "@N text" to client N, anything else to all. */
static void typed_line(void *arg, const char *p, size_t n)
{
	struct chat *ch = arg;
	struct server_conn *c;
	char *end;
	unsigned long id;
	struct buf msg = { NULL, 0, 0 };

	if (n && p[n - 1] == '\r')
		n--;
	if (n > 1 && p[0] == '@' && (id = strtoul(p + 1, &end, 10)) > 0 && end < p + n &&
	    *end == ' ') {
		for (c = ch->srv.head; c; c = c->next)
			if (c->kind != SERVER_LINGER && as_member(c)->id == id)
				break;
		if (!c)
			nt_warn(CMD, "no client %lu", id);
		else if (buf_append(&msg, end + 1, (size_t)(p + n - end - 1)) == 0 &&
			 buf_putc(&msg, '\n') == 0)
			say_to(as_member(c), msg.data, msg.len);
	} else if (buf_append(&msg, p, n) == 0 && buf_putc(&msg, '\n') == 0) {
		say_all(ch, NULL, msg.data, msg.len);
	}
	buf_free(&msg);
	close_dropped(ch);
}

static void stdin_cb(struct loop *lp, struct loop_io *io, int ev)
{
	struct chat *ch = io->data;
	char tmp[CHAT_READ];
	ssize_t n;

	(void)ev;
	do
		n = read(io->fd, tmp, sizeof tmp);
	while (n < 0 && errno == EINTR);
	if (n > 0 && buf_append(&ch->typed, tmp, (size_t)n) == 0) {
		lines_of(&ch->typed, typed_line, ch);
	} else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		if (ch->typed.len) /* a last line without its newline */
			typed_line(ch, ch->typed.data, ch->typed.len);
		loop_io_del(lp, io); /* the end of stdin: the chat goes on */
	}
}

int tcp_chat_serve(struct tserver *t, char *err)
{
	struct chat *ch = calloc(1, sizeof *ch);
	struct loop *lp = loop_new(err);
	int sfd = -1, rc = NT_EXIT_FAIL, lfd;

	if (!ch || !lp)
		goto out;
	ch->t = t;
	ch->srv.data = ch;
	ch->srv.acl = &t->acl;
	ch->srv.verbose = t->verbose;
	ch->srv.max_clients = t->max_clients;
	ch->srv.reserve_fd = -1;
	ch->in_io.fd = STDIN_FILENO;
	ch->in_io.events = LOOP_READ;
	ch->in_io.cb = stdin_cb;
	ch->in_io.data = ch;
	lfd = t->lfd;
	t->lfd = -1; /* the layer owns it now, and closes it */
	if (server_init(&ch->srv, CMD, &chat_class, lp, lfd, 1, NULL, err) < 0)
		goto out;
	/* stdin that no poll can watch (a file, /dev/null) has nothing to type */
	loop_io_add(lp, &ch->in_io, NULL);
	if ((sfd = util_signal_pipe(err)) < 0 || server_stop_on(&ch->srv, sfd, err) < 0)
		goto out;
	rc = loop_run(lp, err) < 0 ? NT_EXIT_FAIL : 0;
	if (rc == 0)
		nt_warn(CMD, "stopped: %llu connections (%llu refused)", ch->srv.accepted,
			ch->srv.refused);
out:
	if (ch) {
		server_free(&ch->srv);
		buf_free(&ch->typed);
	}
	util_signal_pipe_close(sfd);
	loop_free(lp);
	free(ch);
	return rc;
}
