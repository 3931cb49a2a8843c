/* Load for echo servers.
 *   echo_load stream HOST PORT CLIENTS SECONDS
 *     CLIENTS connections each keep up to 256 KiB in flight and read the
 *     echo back; prints the echoed bytes per second over SECONDS.
 *   echo_load frames HOST PORT CLIENTS SECONDS
 *     each client keeps 16 len32 frames of 1 KiB in flight and checks every
 *     frame echoed; prints whole frames echoed per second.
 *   echo_load idle HOST PORT CLIENTS
 *     opens CLIENTS connections, checks each with a one-byte echo, prints
 *     "held N", then holds them until stdin reaches EOF. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WINDOW (256 * 1024)
#define CHUNK (64 * 1024)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(const char *host, int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

static int stream(const char *host, int port, int n, double secs)
{
	static char buf[CHUNK];
	struct pollfd *p = calloc((size_t)n, sizeof *p);
	long long *inflight = calloc((size_t)n, sizeof *inflight), total = 0;
	double start, end;
	int i;

	memset(buf, 'e', sizeof buf);
	for (i = 0; i < n; i++) {
		p[i].fd = dial(host, port);
		p[i].events = POLLIN | POLLOUT;
	}
	start = now();
	end = start + secs;
	while (now() < end) {
		if (poll(p, (nfds_t)n, 100) < 0)
			return 1;
		for (i = 0; i < n; i++) {
			ssize_t k;

			if (p[i].revents & POLLIN) {
				k = read(p[i].fd, buf, sizeof buf);
				if (k <= 0) {
					fprintf(stderr, "server closed a client\n");
					return 1;
				}
				inflight[i] -= k;
				total += k;
			}
			if ((p[i].revents & POLLOUT) && inflight[i] < WINDOW) {
				k = write(p[i].fd, buf, sizeof buf);
				if (k > 0)
					inflight[i] += k;
			}
			p[i].events = POLLIN | (inflight[i] < WINDOW ? POLLOUT : 0);
		}
	}
	printf("%.0f\n", (double)total / (now() - start));
	return 0;
}

#define FRAME_PAYLOAD 1024
#define FRAME_BYTES (4 + FRAME_PAYLOAD)
#define FRAME_WINDOW 16

struct fclient {
	long long sent, got;  /* bytes */
	char in[FRAME_BYTES];
	size_t have;
};

static int frames(const char *host, int port, int n, double secs)
{
	static char frame[FRAME_BYTES];
	struct pollfd *p = calloc((size_t)n, sizeof *p);
	struct fclient *c = calloc((size_t)n, sizeof *c);
	long long done = 0;
	double start, end;
	int i;

	frame[2] = FRAME_PAYLOAD >> 8;
	memset(frame + 4, 'f', FRAME_PAYLOAD);
	for (i = 0; i < n; i++) {
		p[i].fd = dial(host, port);
		p[i].events = POLLIN | POLLOUT;
	}
	start = now();
	end = start + secs;
	while (now() < end) {
		if (poll(p, (nfds_t)n, 100) < 0)
			return 1;
		for (i = 0; i < n; i++) {
			ssize_t k;

			if (p[i].revents & POLLIN) {
				k = read(p[i].fd, c[i].in + c[i].have, FRAME_BYTES - c[i].have);
				if (k <= 0) {
					fprintf(stderr, "server closed a client\n");
					return 1;
				}
				c[i].have += (size_t)k;
				c[i].got += k;
				if (c[i].have == FRAME_BYTES) {
					if (memcmp(c[i].in, frame, FRAME_BYTES)) {
						fprintf(stderr, "frame corrupted\n");
						return 1;
					}
					c[i].have = 0;
					done++;
				}
			}
			if ((p[i].revents & POLLOUT) &&
			    c[i].sent - c[i].got < FRAME_WINDOW * FRAME_BYTES) {
				size_t off = (size_t)(c[i].sent % FRAME_BYTES);

				k = write(p[i].fd, frame + off, FRAME_BYTES - off);
				if (k > 0)
					c[i].sent += k;
			}
			p[i].events = POLLIN | (c[i].sent - c[i].got < FRAME_WINDOW * FRAME_BYTES
						? POLLOUT : 0);
		}
	}
	printf("%.0f\n", (double)done / (now() - start));
	return 0;
}

static int idle(const char *host, int port, int n)
{
	char c;
	int i;

	for (i = 0; i < n; i++) {
		int fd = dial(host, port);

		if (write(fd, "x", 1) != 1 || read(fd, &c, 1) != 1) {
			fprintf(stderr, "client %d not echoed\n", i);
			return 1;
		}
	}
	printf("held %d\n", n);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "stream"))
		return stream(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]));
	if (argc >= 6 && !strcmp(argv[1], "frames"))
		return frames(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]));
	if (argc >= 5 && !strcmp(argv[1], "idle"))
		return idle(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: echo_load stream|frames HOST PORT CLIENTS SECONDS | "
			"idle HOST PORT CLIENTS\n");
	return 2;
}
