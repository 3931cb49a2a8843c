/*
 * A path with a round trip and random loss between two network
 * namespaces, at the packet level, for TCP and UDP alike (this kernel has
 * no netem): a TUN device in each namespace, and this process between
 * them, holding each packet for half the round trip and dropping a share
 * at random, each way. Packets wait in order in a ring per direction; a
 * full ring drops at its tail, as a router's queue would.
 *
 * usage: tun_path NS_A NS_B [--rtt-ms N] [--drop PCT] [--seconds N]
 * Makes ntpath0 in NS_A and ntpath1 in NS_B, prints "ready", and forwards
 * until killed or --seconds pass. The caller gives them addresses.
 * Linux only; run as root. Not part of nettool: a bench tool.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define RING 32768
#define PKT 2048

struct ring {
	unsigned char (*data)[PKT];
	uint16_t *len;
	uint64_t *due;
	unsigned head, count;
	unsigned long long passed, dropped, overflow;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int tun_in(const char *ns, const char *name)
{
	char path[256];
	struct ifreq ifr;
	int nsfd, fd;

	snprintf(path, sizeof path, "/var/run/netns/%s", ns);
	if ((nsfd = open(path, O_RDONLY)) < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
		perror(path);
		exit(1);
	}
	close(nsfd);
	if ((fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK)) < 0) {
		perror("/dev/net/tun");
		exit(1);
	}
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		perror("TUNSETIFF");
		exit(1);
	}
	return fd;
}

/* Read what waits on fd into r, each packet due delay from now. */
static void take(int fd, struct ring *r, uint64_t delay, unsigned drop)
{
	unsigned char scratch[PKT];

	for (;;) {
		unsigned slot = (r->head + r->count) % RING;
		int full = r->count == RING;
		ssize_t n = read(fd, full ? scratch : r->data[slot], PKT);

		if (n <= 0)
			return;
		if (full) {
			r->overflow++;
			continue;
		}
		if (drop && (unsigned)(random() % 10000) < drop) {
			r->dropped++;
			continue;
		}
		r->len[slot] = (uint16_t)n;
		r->due[slot] = now_us() + delay;
		r->count++;
	}
}

/* Write what is due; returns microseconds until the next is, or -1. */
static long long give(int fd, struct ring *r)
{
	uint64_t t = now_us();

	while (r->count) {
		unsigned h = r->head;

		if (r->due[h] > t)
			return (long long)(r->due[h] - t);
		if (write(fd, r->data[h], r->len[h]) < 0 && errno == EAGAIN)
			return 50; /* the device is full: try again soon */
		r->passed++;
		r->head = (h + 1) % RING;
		r->count--;
	}
	return -1;
}

static void ring_init(struct ring *r)
{
	memset(r, 0, sizeof *r);
	r->data = malloc((size_t)RING * PKT);
	r->len = calloc(RING, sizeof *r->len);
	r->due = calloc(RING, sizeof *r->due);
	if (!r->data || !r->len || !r->due) {
		fprintf(stderr, "tun_path: out of memory\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	double rtt_ms = 0, drop_pct = 0, seconds = 600;
	struct ring ab, ba;
	int a, b, i;
	uint64_t delay, end;
	unsigned drop;

	if (argc < 3) {
		fprintf(stderr, "usage: tun_path NS_A NS_B [--rtt-ms N] [--drop PCT] [--seconds N]\n");
		return 2;
	}
	for (i = 3; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--rtt-ms"))
			rtt_ms = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--drop"))
			drop_pct = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = atof(argv[i + 1]);
	}
	delay = (uint64_t)(rtt_ms * 500.0); /* half the round trip each way */
	drop = (unsigned)(drop_pct * 100.0);
	srandom((unsigned)now_us());
	a = tun_in(argv[1], "ntpath0");
	b = tun_in(argv[2], "ntpath1");
	ring_init(&ab);
	ring_init(&ba);
	printf("ready\n");
	fflush(stdout);
	end = now_us() + (uint64_t)(seconds * 1e6);
	while (now_us() < end) {
		struct pollfd p[2] = { { a, POLLIN, 0 }, { b, POLLIN, 0 } };
		long long w1 = give(b, &ab), w2 = give(a, &ba), w;
		struct timespec ts;

		w = w1 < 0 ? w2 : w2 < 0 ? w1 : w1 < w2 ? w1 : w2;
		if (w < 0)
			w = 100000;
		ts.tv_sec = w / 1000000;
		ts.tv_nsec = (w % 1000000) * 1000;
		if (ppoll(p, 2, &ts, NULL) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			take(a, &ab, delay, drop);
		if (p[1].revents)
			take(b, &ba, delay, drop);
	}
	fprintf(stderr, "tun_path: a->b %llu passed, %llu dropped, %llu overflowed; b->a %llu passed, "
		"%llu dropped, %llu overflowed\n", ab.passed, ab.dropped, ab.overflow, ba.passed,
		ba.dropped, ba.overflow);
	return 0;
}
