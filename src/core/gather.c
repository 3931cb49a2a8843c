#include "nettool/core/gather.h"
#include "nettool/core/net.h"

#include <string.h>

void gather_init(struct gather *g)
{
	g->fd = -1;
	g->len = 0;
}

int gather_flush(struct gather *g)
{
	int fd = g->fd;
	size_t n = g->len;

	g->fd = -1;
	g->len = 0;
	if (fd < 0)
		return -1;
	return net_write_full(fd, g->buf, n) < 0 ? -2 : fd;
}

int gather_write(struct gather *g, int fd, const void *p, size_t n)
{
	if ((g->fd >= 0 && g->fd != fd) || g->len + n > GATHER_MAX)
		if (gather_flush(g) == -2)
			return -1;
	if (n > GATHER_MAX)
		return net_write_full(fd, p, n) < 0 ? -1 : 0;
	memcpy(g->buf + g->len, p, n);
	g->len += n;
	g->fd = fd;
	return 0;
}

void gather_drop(struct gather *g, int fd)
{
	if (g->fd == fd)
		gather_init(g);
}
