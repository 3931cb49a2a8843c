#include "nettool/core/gather.h"
#include "nettool/base/util.h"
#include "nettool/core/net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Write one buffer: 0, or an errno. */
static int put(int fd, const unsigned char *p, size_t n)
{
	return net_write_full(fd, p, n) < 0 ? errno : 0;
}

static void *writer(void *arg)
{
	struct gather *g = arg;

	pthread_mutex_lock(&g->mu);
	for (;;) {
		int e;

		while (!g->busy && !g->quit)
			pthread_cond_wait(&g->cv, &g->mu);
		if (!g->busy)
			break;
		pthread_mutex_unlock(&g->mu);
		e = put(g->job_fd, g->job, g->job_len);
		pthread_mutex_lock(&g->mu);
		if (e && !g->err)
			g->err = e;
		g->busy = 0;
		pthread_cond_broadcast(&g->cv);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

int gather_init(struct gather *g, int threaded)
{
	memset(g, 0, sizeof *g);
	g->fd = g->job_fd = g->last = -1;
	g->buf = g->mem[0] = malloc(GATHER_MAX);
	g->mem[1] = threaded ? malloc(GATHER_MAX) : NULL;
	if (!g->mem[0] || (threaded && !g->mem[1])) {
		free(g->mem[0]);
		free(g->mem[1]);
		errno = ENOMEM;
		return -1;
	}
	if (threaded && pthread_mutex_init(&g->mu, NULL) == 0) {
		if (pthread_cond_init(&g->cv, NULL) == 0) {
			if (pthread_create(&g->thread, NULL, writer, g) == 0) {
				g->threaded = 1;
				return 0;
			}
			pthread_cond_destroy(&g->cv);
		}
		pthread_mutex_destroy(&g->mu);
	}
	return 0; /* without a thread: written at once */
}

/* Wait until the thread is idle; 0, or -1 with errno set by its error. */
static int idle(struct gather *g)
{
	int e;

	if (!g->threaded)
		return 0;
	pthread_mutex_lock(&g->mu);
	while (g->busy)
		pthread_cond_wait(&g->cv, &g->mu);
	e = g->err;
	g->err = 0;
	pthread_mutex_unlock(&g->mu);
	if (e) {
		errno = e;
		return -1;
	}
	return 0;
}

int gather_handoff(struct gather *g)
{
	unsigned char *b;
	int e;

	if (g->fd < 0)
		return idle(g) < 0 ? -1 : 0;
	g->last = g->fd;
	if (!g->async) {
		uint64_t t0 = util_now_us();

		e = put(g->fd, g->buf, g->len);
		/* a write that waited on the disk (or a slow reader): from
		 * now on the thread writes, while the caller goes on */
		if (g->threaded && util_now_us() - t0 >= GATHER_SLOW_US)
			g->async = 1;
		g->fd = -1;
		g->len = 0;
		errno = e;
		return e ? -1 : 0;
	}
	e = idle(g);
	pthread_mutex_lock(&g->mu);
	b = g->job;
	g->job = g->buf;
	g->buf = b ? b : g->mem[1];
	g->job_fd = g->fd;
	g->job_len = g->len;
	g->busy = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	g->fd = -1;
	g->len = 0;
	return e;
}

int gather_flush(struct gather *g)
{
	int fd = g->fd >= 0 ? g->fd : g->last;

	g->last = -1;
	if (gather_handoff(g) < 0 || idle(g) < 0)
		return -2;
	g->last = -1;
	return fd;
}

int gather_write(struct gather *g, int fd, struct sha256 *sha, const void *p, size_t n)
{
	if ((g->fd >= 0 && g->fd != fd) || g->len + n > GATHER_MAX)
		if (gather_handoff(g) < 0)
			return -1;
	if (sha) /* here: a second busy thread would take turns with this one */
		sha256_update(sha, p, n);
	if (n > GATHER_MAX) {
		if (idle(g) < 0)
			return -1;
		errno = put(fd, p, n);
		return errno ? -1 : 0;
	}
	memcpy(g->buf + g->len, p, n);
	g->len += n;
	g->fd = fd;
	return 0;
}

void gather_drop(struct gather *g, int fd)
{
	int e = errno;

	idle(g); /* its error, if any, is of what is dropped */
	if (g->fd == fd) {
		g->fd = -1;
		g->len = 0;
	}
	errno = e;
}

void gather_free(struct gather *g)
{
	if (g->threaded) {
		idle(g);
		pthread_mutex_lock(&g->mu);
		g->quit = 1;
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
		pthread_join(g->thread, NULL);
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		g->threaded = 0;
	}
	free(g->mem[0]);
	free(g->mem[1]);
	g->buf = g->job = g->mem[0] = g->mem[1] = NULL;
}
