#include "nettool/core/loop.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__linux__) && !defined(NT_USE_POLL)
#define LOOP_EPOLL 1
#include <sys/epoll.h>
#define LOOP_BATCH 256
#else
#include <poll.h>
#endif

struct loop {
	int stop;
	struct loop_io *first;
	uint64_t now;
	struct loop_timer **heap;
	size_t nheap, capheap;
#ifdef LOOP_EPOLL
	int epfd;
	struct epoll_event evs[LOOP_BATCH];
	int nevs, cur;
#else
	struct loop_io **ios;
	size_t nios, capios;
	struct pollfd *pfds;
	size_t cappfds;
	int holes;
#endif
};

struct loop *loop_new(char *err)
{
	struct loop *lp = calloc(1, sizeof *lp);

	if (!lp) {
		nt_seterr(err, "out of memory");
		return NULL;
	}
#ifdef LOOP_EPOLL
	lp->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (lp->epfd < 0) {
		nt_seterr(err, "epoll_create1: %s", strerror(errno));
		free(lp);
		return NULL;
	}
#endif
	lp->now = util_now_ms();
	return lp;
}

void loop_free(struct loop *lp)
{
	if (!lp)
		return;
#ifdef LOOP_EPOLL
	close(lp->epfd);
#else
	free(lp->ios);
	free(lp->pfds);
#endif
	free(lp->heap);
	free(lp);
}

uint64_t loop_now(const struct loop *lp)
{
	return lp->now;
}

void loop_io_first(struct loop *lp, struct loop_io *io)
{
	lp->first = io;
}

void loop_stop(struct loop *lp)
{
	lp->stop = 1;
}

/* ---- timers: a binary min-heap on 'when' ---- */

static void heap_swap(struct loop *lp, size_t a, size_t b)
{
	struct loop_timer *t = lp->heap[a];

	lp->heap[a] = lp->heap[b];
	lp->heap[b] = t;
	lp->heap[a]->idx = a + 1;
	lp->heap[b]->idx = b + 1;
}

static void heap_up(struct loop *lp, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (lp->heap[parent]->when <= lp->heap[i]->when)
			break;
		heap_swap(lp, parent, i);
		i = parent;
	}
}

static void heap_down(struct loop *lp, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, min = i;

		if (l < lp->nheap && lp->heap[l]->when < lp->heap[min]->when)
			min = l;
		if (r < lp->nheap && lp->heap[r]->when < lp->heap[min]->when)
			min = r;
		if (min == i)
			break;
		heap_swap(lp, i, min);
		i = min;
	}
}

void loop_timer_stop(struct loop *lp, struct loop_timer *t)
{
	size_t i;

	if (!t->idx)
		return;
	i = t->idx - 1;
	t->idx = 0;
	lp->nheap--;
	if (i == lp->nheap)
		return;
	lp->heap[i] = lp->heap[lp->nheap];
	lp->heap[i]->idx = i + 1;
	heap_up(lp, i);
	heap_down(lp, i);
}

int loop_timer_set(struct loop *lp, struct loop_timer *t, uint64_t ms)
{
	loop_timer_stop(lp, t);
	if (lp->nheap == lp->capheap) {
		size_t cap = lp->capheap ? lp->capheap * 2 : 64;
		struct loop_timer **h = realloc(lp->heap, cap * sizeof *h);

		if (!h)
			return -1;
		lp->heap = h;
		lp->capheap = cap;
	}
	t->when = lp->now + ms;
	lp->heap[lp->nheap] = t;
	t->idx = ++lp->nheap;
	heap_up(lp, lp->nheap - 1);
	return 0;
}

static void run_timers(struct loop *lp)
{
	while (lp->nheap && lp->heap[0]->when <= lp->now && !lp->stop) {
		struct loop_timer *t = lp->heap[0];

		loop_timer_stop(lp, t);
		t->cb(lp, t);
	}
}

static int next_timeout(const struct loop *lp)
{
	uint64_t d;

	if (!lp->nheap)
		return -1;
	if (lp->heap[0]->when <= lp->now)
		return 0;
	d = lp->heap[0]->when - lp->now;
	return d > INT_MAX ? INT_MAX : (int)d;
}

/* ---- readiness ---- */

#ifdef LOOP_EPOLL
static int ep_ctl(struct loop *lp, int op, struct loop_io *io)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	if (io->events & LOOP_READ)
		ev.events |= EPOLLIN | EPOLLRDHUP;
	if (io->events & LOOP_WRITE)
		ev.events |= EPOLLOUT;
	ev.data.ptr = io;
	return epoll_ctl(lp->epfd, op, io->fd, &ev);
}

int loop_io_add(struct loop *lp, struct loop_io *io, char *err)
{
	if (ep_ctl(lp, EPOLL_CTL_ADD, io) < 0) {
		nt_seterr(err, "epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int loop_io_set(struct loop *lp, struct loop_io *io, int events)
{
	if (io->events == events)
		return 0;
	io->events = events;
	return ep_ctl(lp, EPOLL_CTL_MOD, io);
}

void loop_io_del(struct loop *lp, struct loop_io *io)
{
	int i;

	if (lp->first == io)
		lp->first = NULL;
	epoll_ctl(lp->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	for (i = lp->cur + 1; i < lp->nevs; i++)
		if (lp->evs[i].data.ptr == io)
			lp->evs[i].data.ptr = NULL;
}

static int wait_and_dispatch(struct loop *lp, int timeout, char *err)
{
	int n = epoll_wait(lp->epfd, lp->evs, LOOP_BATCH, timeout);

	if (n < 0) {
		if (errno == EINTR)
			return 0;
		nt_seterr(err, "epoll_wait: %s", strerror(errno));
		return -1;
	}
	lp->now = util_now_ms();
	lp->nevs = n;
	if (lp->first)
		for (lp->cur = 0; lp->cur < n; lp->cur++)
			if (lp->evs[lp->cur].data.ptr == lp->first) {
				struct epoll_event e = lp->evs[lp->cur];

				/* swap it to the front, where dispatch starts */
				lp->evs[lp->cur] = lp->evs[0];
				lp->evs[0] = e;
				break;
			}
	for (lp->cur = 0; lp->cur < n && !lp->stop; lp->cur++) {
		struct loop_io *io = lp->evs[lp->cur].data.ptr;
		uint32_t e = lp->evs[lp->cur].events;
		int ev = 0;

		if (!io)
			continue;
		if (e & (EPOLLIN | EPOLLRDHUP))
			ev |= LOOP_READ;
		if (e & EPOLLOUT)
			ev |= LOOP_WRITE;
		if (e & (EPOLLERR | EPOLLHUP))
			ev |= LOOP_HUP;
		io->cb(lp, io, ev);
	}
	lp->nevs = 0;
	lp->cur = 0;
	return 0;
}
#else
int loop_io_add(struct loop *lp, struct loop_io *io, char *err)
{
	if (lp->nios == lp->capios) {
		size_t cap = lp->capios ? lp->capios * 2 : 64;
		struct loop_io **v = realloc(lp->ios, cap * sizeof *v);

		if (!v) {
			nt_seterr(err, "out of memory");
			return -1;
		}
		lp->ios = v;
		lp->capios = cap;
	}
	io->slot = lp->nios;
	lp->ios[lp->nios++] = io;
	return 0;
}

int loop_io_set(struct loop *lp, struct loop_io *io, int events)
{
	(void)lp;
	io->events = events;
	return 0;
}

void loop_io_del(struct loop *lp, struct loop_io *io)
{
	if (lp->first == io)
		lp->first = NULL;
	lp->ios[io->slot] = NULL;
	lp->holes = 1;
}

static void compact(struct loop *lp)
{
	size_t i, j = 0;

	for (i = 0; i < lp->nios; i++)
		if (lp->ios[i]) {
			lp->ios[j] = lp->ios[i];
			lp->ios[j]->slot = j;
			j++;
		}
	lp->nios = j;
	lp->holes = 0;
}

static int wait_and_dispatch(struct loop *lp, int timeout, char *err)
{
	size_t i, n;
	int rc;

	if (lp->holes)
		compact(lp);
	if (lp->cappfds < lp->nios) {
		struct pollfd *p = realloc(lp->pfds, lp->nios * sizeof *p);

		if (!p) {
			nt_seterr(err, "out of memory");
			return -1;
		}
		lp->pfds = p;
		lp->cappfds = lp->nios;
	}
	if (lp->first && lp->first->slot) {
		/* to the front, where dispatch starts */
		struct loop_io *t = lp->ios[0];

		lp->ios[0] = lp->first;
		lp->ios[lp->first->slot] = t;
		t->slot = lp->first->slot;
		lp->first->slot = 0;
	}
	n = lp->nios;
	for (i = 0; i < n; i++) {
		lp->pfds[i].fd = lp->ios[i]->fd;
		lp->pfds[i].events = (short)(((lp->ios[i]->events & LOOP_READ) ? POLLIN : 0) |
				     ((lp->ios[i]->events & LOOP_WRITE) ? POLLOUT : 0));
		lp->pfds[i].revents = 0;
	}
	rc = poll(lp->pfds, (nfds_t)n, timeout);
	if (rc < 0) {
		if (errno == EINTR)
			return 0;
		nt_seterr(err, "poll: %s", strerror(errno));
		return -1;
	}
	lp->now = util_now_ms();
	for (i = 0; i < n && rc > 0 && !lp->stop; i++) {
		short re = lp->pfds[i].revents;
		struct loop_io *io = lp->ios[i];
		int ev = 0;

		if (!re)
			continue;
		rc--;
		if (!io)
			continue;
		if (re & POLLIN)
			ev |= LOOP_READ;
		if (re & POLLOUT)
			ev |= LOOP_WRITE;
		if (re & (POLLERR | POLLHUP | POLLNVAL))
			ev |= LOOP_HUP;
		io->cb(lp, io, ev);
	}
	return 0;
}
#endif

int loop_run(struct loop *lp, char *err)
{
	lp->stop = 0;
	while (!lp->stop) {
		lp->now = util_now_ms();
		run_timers(lp);
		if (lp->stop)
			break;
		if (wait_and_dispatch(lp, next_timeout(lp), err) < 0)
			return -1;
	}
	return 0;
}
