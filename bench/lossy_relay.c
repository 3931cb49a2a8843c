/*
 * A lossy UDP path on loopback, for the reliable-delivery benchmark:
 * forwards datagrams between clients and one server, dropping,
 * duplicating and reordering them at random (a held datagram goes after
 * the next one in its direction, or after 20 ms). Stops by itself after
 * --seconds. Prints "relay on PORT" once bound, and counts at the end.
 *
 * usage: lossy_relay SERVER_PORT [--drop P] [--dup P] [--reorder P]
 *                    [--seed N] [--seconds N]
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define HOLD_MS 20

struct held {
	unsigned char data[65536];
	ssize_t len; /* 0: none */
	uint64_t at;
};

struct client {
	struct sockaddr_in addr;
	int back;
	struct held up, down;
};

static uint64_t rng = 88172645463325252ull;
static double p_drop, p_dup, p_reorder;
static unsigned long n_fwd, n_drop, n_dup, n_reorder;
static volatile sig_atomic_t stop;

static double rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void out(int fd, const struct sockaddr_in *to, const unsigned char *p, size_t n)
{
	if (to)
		sendto(fd, p, n, 0, (const struct sockaddr *)to, sizeof *to);
	else
		send(fd, p, n, 0);
	n_fwd++;
}

/* One datagram through the lossy path: fd/to is where it goes. */
static void pass(struct held *h, int fd, const struct sockaddr_in *to,
		 const unsigned char *p, ssize_t n)
{
	double r = rnd();

	if (r < p_drop) {
		n_drop++;
		return;
	}
	if (r < p_drop + p_reorder && !h->len) {
		memcpy(h->data, p, (size_t)n);
		h->len = n;
		h->at = now_ms();
		n_reorder++;
		return;
	}
	out(fd, to, p, (size_t)n);
	if (rnd() < p_dup) {
		out(fd, to, p, (size_t)n);
		n_dup++;
	}
	if (h->len) { /* the held one goes after this one */
		out(fd, to, h->data, (size_t)h->len);
		h->len = 0;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	static struct client cl[MAX_CLIENTS];
	static unsigned char buf[65536];
	struct sockaddr_in srv, me;
	socklen_t ml = sizeof me;
	int front, nc = 0, i;
	double seconds = 60;
	uint64_t end;

	if (argc < 2) {
		fprintf(stderr, "usage: lossy_relay SERVER_PORT [--drop P] [--dup P] [--reorder P] "
			"[--seed N] [--seconds N]\n");
		return 2;
	}
	memset(&srv, 0, sizeof srv);
	srv.sin_family = AF_INET;
	srv.sin_port = htons((uint16_t)atoi(argv[1]));
	srv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 2; i + 1 < argc; i += 2) {
		double v = atof(argv[i + 1]);

		if (!strcmp(argv[i], "--drop"))
			p_drop = v;
		else if (!strcmp(argv[i], "--dup"))
			p_dup = v;
		else if (!strcmp(argv[i], "--reorder"))
			p_reorder = v;
		else if (!strcmp(argv[i], "--seed"))
			rng ^= (uint64_t)v * 0x9e3779b97f4a7c15ull;
		else if (!strcmp(argv[i], "--seconds"))
			seconds = v;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	front = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&me, 0, sizeof me);
	me.sin_family = AF_INET;
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	{
		int big = 8 << 20;

		setsockopt(front, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	}
	if (bind(front, (struct sockaddr *)&me, sizeof me) < 0 ||
	    getsockname(front, (struct sockaddr *)&me, &ml) < 0) {
		perror("bind");
		return 1;
	}
	fprintf(stderr, "relay on %u\n", ntohs(me.sin_port));
	end = now_ms() + (uint64_t)(seconds * 1000);
	while (!stop && now_ms() < end) {
		struct pollfd pf[MAX_CLIENTS + 1];
		uint64_t now;

		pf[0].fd = front;
		pf[0].events = POLLIN;
		for (i = 0; i < nc; i++) {
			pf[i + 1].fd = cl[i].back;
			pf[i + 1].events = POLLIN;
		}
		if (poll(pf, (nfds_t)nc + 1, 5) < 0 && errno != EINTR)
			break;
		for (int k = 0; k < 64 && (pf[0].revents & POLLIN); k++) {
			struct sockaddr_in from;
			socklen_t fl = sizeof from;
			ssize_t n = recvfrom(front, buf, sizeof buf, MSG_DONTWAIT,
					     (struct sockaddr *)&from, &fl);

			for (i = 0; n >= 0 && i < nc; i++)
				if (cl[i].addr.sin_port == from.sin_port &&
				    cl[i].addr.sin_addr.s_addr == from.sin_addr.s_addr)
					break;
			if (n >= 0 && i == nc && nc < MAX_CLIENTS) {
				int big = 8 << 20;

				cl[nc].addr = from;
				cl[nc].back = socket(AF_INET, SOCK_DGRAM, 0);
				setsockopt(cl[nc].back, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
				connect(cl[nc].back, (struct sockaddr *)&srv, sizeof srv);
				nc++;
			}
			if (n < 0)
				break;
			if (i < nc)
				pass(&cl[i].up, cl[i].back, NULL, buf, n);
		}
		for (i = 0; i < nc; i++)
			for (int k = 0; k < 64 && (pf[i + 1].revents & POLLIN); k++) {
				ssize_t n = recv(cl[i].back, buf, sizeof buf, MSG_DONTWAIT);

				if (n < 0)
					break;
				pass(&cl[i].down, front, &cl[i].addr, buf, n);
			}
		now = now_ms();
		for (i = 0; i < nc; i++) {
			if (cl[i].up.len && now - cl[i].up.at >= HOLD_MS) {
				out(cl[i].back, NULL, cl[i].up.data, (size_t)cl[i].up.len);
				cl[i].up.len = 0;
			}
			if (cl[i].down.len && now - cl[i].down.at >= HOLD_MS) {
				out(front, &cl[i].addr, cl[i].down.data, (size_t)cl[i].down.len);
				cl[i].down.len = 0;
			}
		}
	}
	fprintf(stderr, "relay: %lu forwarded, %lu dropped, %lu duplicated, %lu reordered\n", n_fwd,
		n_drop, n_dup, n_reorder);
	return 0;
}
