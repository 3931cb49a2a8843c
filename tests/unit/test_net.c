#include "check.h"
#include "nettool/core/acl.h"
#include "nettool/core/dgram.h"
#include "nettool/core/gather.h"
#include "nettool/core/net.h"
#include "nettool/base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void format_v4_v6(void)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	char buf[NET_ADDR_LEN];

	memset(&s4, 0, sizeof s4);
	s4.sin_family = AF_INET;
	s4.sin_port = htons(80);
	inet_pton(AF_INET, "1.2.3.4", &s4.sin_addr);
	CHECK(strcmp(net_format_addr((struct sockaddr *)&s4, sizeof s4, buf),
		     "1.2.3.4:80") == 0);
	memset(&s6, 0, sizeof s6);
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(8080);
	inet_pton(AF_INET6, "::1", &s6.sin6_addr);
	CHECK(strcmp(net_format_addr((struct sockaddr *)&s6, sizeof s6, buf),
		     "[::1]:8080") == 0);
	inet_pton(AF_INET6, "::ffff:10.0.0.1", &s6.sin6_addr);
	CHECK(strcmp(net_format_addr((struct sockaddr *)&s6, sizeof s6, buf),
		     "10.0.0.1:8080") == 0);
}

static void resolve_numeric(void)
{
	struct addrinfo *ai = NULL;
	char err[NT_ERR_LEN];

	CHECK(net_resolve("127.0.0.1", "80", AF_UNSPEC, SOCK_STREAM, NET_NUMERIC,
			  &ai, err) == 0);
	CHECK(ai && ai->ai_family == AF_INET);
	if (ai)
		freeaddrinfo(ai);
	ai = NULL;
	CHECK(net_resolve("::1", "80", AF_UNSPEC, SOCK_STREAM, NET_NUMERIC, &ai,
			  err) == 0);
	CHECK(ai && ai->ai_family == AF_INET6);
	if (ai)
		freeaddrinfo(ai);
	CHECK(net_resolve("localhost", "80", AF_UNSPEC, SOCK_STREAM, NET_NUMERIC,
			  &ai, err) < 0);
	CHECK(strstr(err, "cannot resolve localhost") != NULL);
	CHECK(net_resolve("127.0.0.1", "80", AF_INET6, SOCK_STREAM, NET_NUMERIC,
			  &ai, err) < 0);
}

/* Listen on a free port, connect to it, move bytes both ways. */
static void listen_connect_roundtrip(void)
{
	struct addrinfo *ai = NULL;
	char err[NT_ERR_LEN], port[8], buf[6];
	int lfd, cfd, afd, p;

	lfd = net_listen(NULL, 0, AF_UNSPEC, SOCK_STREAM, 16, 0, err);
	CHECK(lfd >= 0);
	if (lfd < 0)
		return;
	p = net_local_port(lfd);
	CHECK(p > 0);
	snprintf(port, sizeof port, "%d", p);
	CHECK(net_resolve("127.0.0.1", port, AF_UNSPEC, SOCK_STREAM, NET_NUMERIC,
			  &ai, err) == 0);
	cfd = net_connect(ai, NULL, 2000, err);
	CHECK(cfd >= 0);
	freeaddrinfo(ai);
	{
		struct pollfd pfd = { lfd, POLLIN, 0 };

		CHECK(poll(&pfd, 1, 2000) == 1);
	}
	afd = net_accept(lfd, NULL, NULL);
	CHECK(afd >= 0);
	CHECK(net_peer_is_local(cfd) == 1 && net_peer_is_local(afd) == 1);
	CHECK(net_write_full(cfd, "hello!", 6) == 6);
	CHECK(net_read_full(afd, buf, 6) == 6 && memcmp(buf, "hello!", 6) == 0);
	close(cfd);
	CHECK(net_read_full(afd, buf, 6) == 0);
	close(afd);
	close(lfd);
}

/* A Unix socket's peer is on this host; what is not a connected socket
 * is not. (A peer elsewhere needs another host: not tested here.) */
static void peer_is_local(void)
{
	int sv[2], fd = socket(AF_INET, SOCK_STREAM, 0);

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(net_peer_is_local(sv[0]) == 1);
	CHECK(net_peer_is_local(fd) == 0); /* not connected */
	CHECK(net_peer_is_local(-1) == 0);
	close(sv[0]);
	close(sv[1]);
	close(fd);
}

/* Two listeners share a port through SO_REUSEPORT; together they accept
 * every connection, and a socket without the flag cannot take the port. */
static void listen_again_shares_the_port(void)
{
	struct addrinfo *ai = NULL;
	char err[NT_ERR_LEN], port[8];
	int lfd[2], cfd[16], got = 0, i, p;

	lfd[0] = net_listen(NULL, 0, AF_UNSPEC, SOCK_STREAM, 64, NET_REUSEPORT, err);
	CHECK(lfd[0] >= 0);
	if (lfd[0] < 0)
		return;
	lfd[1] = net_listen_again(lfd[0], 64, err);
	if (lfd[1] < 0 && errno == ENOPROTOOPT) {
		close(lfd[0]);
		return; /* no SO_REUSEPORT on this system */
	}
	CHECK(lfd[1] >= 0);
	p = net_local_port(lfd[0]);
	CHECK(p > 0 && p == net_local_port(lfd[1]));
	snprintf(port, sizeof port, "%d", p);
	CHECK(net_resolve("127.0.0.1", port, AF_UNSPEC, SOCK_STREAM, NET_NUMERIC,
			  &ai, err) == 0);
	CHECK(net_listen(ai, (unsigned)p, AF_UNSPEC, SOCK_STREAM, 16, 0, err) < 0);
	for (i = 0; i < 16; i++)
		CHECK((cfd[i] = net_connect(ai, NULL, 2000, err)) >= 0);
	freeaddrinfo(ai);
	while (got < 16) {
		struct pollfd pfd[2] = { { lfd[0], POLLIN, 0 }, { lfd[1], POLLIN, 0 } };
		int j;

		if (poll(pfd, 2, 2000) <= 0)
			break;
		for (j = 0; j < 2; j++) {
			int afd;

			while ((afd = net_accept(lfd[j], NULL, NULL)) >= 0) {
				close(afd);
				got++;
			}
		}
	}
	CHECK(got == 16);
	for (i = 0; i < 16; i++)
		close(cfd[i]);
	close(lfd[0]);
	close(lfd[1]);
}

/* Connections made on CPU k reach the k-th listener of the group while
 * steering is on. */
static void steering_by_cpu(void)
{
	struct addrinfo *ai = NULL;
	char err[NT_ERR_LEN], port[8];
	int lfd[2], cfd, k, p;

	if (util_cpus_from_zero() < 2)
		return; /* needs CPUs 0 and 1 */
	lfd[0] = net_listen(NULL, 0, AF_INET, SOCK_STREAM, 64, NET_REUSEPORT, err);
	CHECK(lfd[0] >= 0);
	if (lfd[0] < 0)
		return;
	lfd[1] = net_listen_again(lfd[0], 64, err);
	if (lfd[1] < 0 || net_reuseport_by_cpu(lfd[0], 1) < 0) {
		CHECK(errno == ENOPROTOOPT);
		close(lfd[0]);
		if (lfd[1] >= 0)
			close(lfd[1]);
		return;
	}
	p = net_local_port(lfd[0]);
	snprintf(port, sizeof port, "%d", p);
	CHECK(net_resolve("127.0.0.1", port, AF_INET, SOCK_STREAM, NET_NUMERIC, &ai, err) == 0);
	for (k = 0; k < 8; k++) {
		struct pollfd pfd = { lfd[k % 2], POLLIN, 0 };
		int afd;

		CHECK(util_pin_cpu(k % 2) == 0); /* the SYN is taken in here */
		cfd = net_connect(ai, NULL, 2000, err);
		CHECK(cfd >= 0);
		CHECK(poll(&pfd, 1, 2000) == 1);
		afd = net_accept(lfd[k % 2], NULL, NULL);
		CHECK(afd >= 0);
		if (afd >= 0)
			close(afd);
		if (cfd >= 0)
			close(cfd);
	}
	CHECK(net_reuseport_by_cpu(lfd[0], 0) == 0);
	freeaddrinfo(ai);
	close(lfd[0]);
	close(lfd[1]);
}

static void connect_refused_status(void)
{
	struct addrinfo *ai = NULL;
	char err[NT_ERR_LEN], port[8];
	int lfd, fd, p;

	/* nothing listens on TCP at a port a UDP socket holds */
	lfd = net_listen(NULL, 0, AF_INET, SOCK_DGRAM, 0, 0, err);
	CHECK(lfd >= 0);
	p = net_local_port(lfd);
	snprintf(port, sizeof port, "%d", p);
	CHECK(net_resolve("127.0.0.1", port, AF_INET, SOCK_STREAM, NET_NUMERIC,
			  &ai, err) == 0);
	fd = net_connect(ai, NULL, 2000, err);
	CHECK(fd < 0 && errno == ECONNREFUSED);
	CHECK(net_connect_status(ECONNREFUSED) == NT_EXIT_REFUSED);
	CHECK(net_connect_status(ETIMEDOUT) == NT_EXIT_TIMEOUT);
	CHECK(strstr(err, "Connection refused") != NULL);
	freeaddrinfo(ai);
	close(lfd);
}

/* Short writes: a socketpair with a tiny buffer and a non-blocking writer. */
static void write_full_waits_out_eagain(void)
{
	enum { N = 1 << 20 };
	char *src = malloc(N), *dst = malloc(N);
	int sv[2], small = 4096;
	pid_t pid;
	size_t i;
	int st = -1;

	CHECK(src && dst);
	if (!src || !dst)
		return;
	for (i = 0; i < N; i++)
		src[i] = (char)(i * 7);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	net_set_nonblock(sv[0], 1);
	pid = fork();
	if (pid == 0) {
		close(sv[1]);
		_exit(net_write_full(sv[0], src, N) == N ? 0 : 1);
	}
	close(sv[0]);
	CHECK(net_read_full(sv[1], dst, N) == N);
	CHECK(memcmp(src, dst, N) == 0);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(sv[1]);
	free(src);
	free(dst);
}

/* Whether acl admits the literal address host. */
static int admits(const struct acl *a, const char *host)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;

	memset(&s4, 0, sizeof s4);
	memset(&s6, 0, sizeof s6);
	if (inet_pton(AF_INET, host, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		return acl_admits(a, (struct sockaddr *)&s4);
	}
	s6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, host, &s6.sin6_addr);
	return acl_admits(a, (struct sockaddr *)&s6);
}

static void allow_and_deny(void)
{
	static struct acl a, none, six;
	char err[NT_ERR_LEN];

	CHECK(admits(&none, "10.1.2.3") && admits(&none, "::1") && acl_admits(NULL, NULL) == 1);
	CHECK(acl_add(&a, "127.0.0.0/8", 1, err) == 0);
	CHECK(acl_add(&a, "127.0.0.3", 0, err) == 0);
	CHECK(acl_add(&a, "2001:db8::/32", 1, err) == 0);
	CHECK(admits(&a, "127.0.0.2") && !admits(&a, "127.0.0.3") && !admits(&a, "10.0.0.1"));
	CHECK(admits(&a, "::ffff:127.0.0.2") && !admits(&a, "::ffff:127.0.0.3"));
	CHECK(admits(&a, "2001:db8:1::5") && !admits(&a, "2001:db9::1") && !admits(&a, "::1"));
	/* a deny list alone admits the rest; odd prefix lengths */
	CHECK(acl_add(&six, "10.0.0.0/9", 0, err) == 0 && acl_add(&six, "::ffff:192.168.0.0/112", 0, err) == 0);
	CHECK(!admits(&six, "10.127.255.255") && admits(&six, "10.128.0.0"));
	CHECK(!admits(&six, "192.168.4.4") && admits(&six, "192.169.0.1") && admits(&six, "::1"));
	CHECK(acl_add(&six, "0.0.0.0/0", 1, err) == 0 && !admits(&six, "::1") && admits(&six, "8.8.8.8"));
	CHECK(acl_add(&a, "127.0.0.1/33", 1, err) < 0);
	CHECK(acl_add(&a, "::1/129", 1, err) < 0);
	CHECK(acl_add(&a, "127.0.0.1/", 1, err) < 0);
	CHECK(acl_add(&a, "127.0.0.1/8x", 1, err) < 0);
	CHECK(acl_add(&a, "localhost", 1, err) < 0);
	CHECK(acl_add(&a, "", 1, err) < 0);
	CHECK(acl_add(&a, "1.2.3", 1, err) < 0);
}

/* Runs for one segmented send: one size, at most one shorter to end it,
 * within the bytes and the count. */
static void gso_runs(void)
{
	struct iovec v[8];
	size_t lens[8] = { 100, 100, 100, 40, 100, 100, 120, 100 };
	unsigned i;

	for (i = 0; i < 8; i++) {
		v[i].iov_base = NULL;
		v[i].iov_len = lens[i];
	}
	CHECK(dgram_gso_run(v, 0, 1000, 64) == 0);
	CHECK(dgram_gso_run(v, 8, 65000, 64) == 4);   /* the short one ends it */
	CHECK(dgram_gso_run(v, 2, 65000, 64) == 2);
	CHECK(dgram_gso_run(v, 8, 250, 64) == 2);     /* bytes */
	CHECK(dgram_gso_run(v, 8, 65000, 3) == 3);    /* count */
	CHECK(dgram_gso_run(v + 4, 4, 65000, 64) == 2); /* a longer one is not in it */
	CHECK(dgram_gso_run(v + 6, 2, 65000, 64) == 2); /* 120, then a shorter */
	CHECK(dgram_gso_run(v + 3, 1, 10, 64) == 1);  /* one always goes */
}

/* Datagrams sent in runs (segmented where the kernel can, else one by
 * one) arrive with their boundaries, received whole or coalesced. */
static void segmented_sends_keep_boundaries(void)
{
	static unsigned char data[100][1200], got[65536];
	struct iovec v[100];
	int pass;

	for (pass = 0; pass < 3; pass++) {
		struct sockaddr_in a;
		socklen_t alen = sizeof a;
		int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
		int gso = pass < 2 ? dgram_gso_probe(tx) : 0, big = 8 << 20, i, k = 0;

		memset(&a, 0, sizeof a);
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		CHECK(bind(rx, (struct sockaddr *)&a, sizeof a) == 0);
		CHECK(getsockname(rx, (struct sockaddr *)&a, &alen) == 0);
		CHECK(connect(tx, (struct sockaddr *)&a, sizeof a) == 0);
		setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
		if (pass == 1)
			dgram_gro_enable(rx);
		for (i = 0; i < 100; i++) {
			memset(data[i], i, sizeof data[i]);
			v[i].iov_base = data[i];
			v[i].iov_len = i == 49 ? 700 : sizeof data[i]; /* a short one mid-way */
		}
		CHECK(dgram_send_gso(tx, v, 100, &gso) == 0);
		while (k < 100) {
			struct dgram_in d = { got, sizeof got, 0, { 0 }, 0, 0, 0 };
			struct pollfd p = { rx, POLLIN, 0 };
			size_t off = 0, seg;

			CHECK(poll(&p, 1, 2000) == 1);
			if (dgram_recv_many(rx, &d, 1) != 1)
				break;
			seg = d.seg ? d.seg : d.len;
			for (off = 0; off < d.len && k < 100; off += seg, k++) {
				size_t n = d.len - off < seg ? d.len - off : seg;

				CHECK(n == v[k].iov_len && got[off] == (unsigned char)k &&
				      got[off + n - 1] == (unsigned char)k);
			}
		}
		CHECK(k == 100);
		close(rx);
		close(tx);
	}
}

/* The reader of a pipe that waits before it reads: the first write
 * blocks, as a slow disk would. */
struct slow_reader {
	int fd;
	size_t got;
	unsigned char sum;
	int in_order;
};

static void *read_slowly(void *arg)
{
	struct slow_reader *r = arg;
	struct timespec ts = { 0, 30 * 1000000 };
	unsigned char b[65536];
	ssize_t n, i;

	nanosleep(&ts, NULL);
	while ((n = read(r->fd, b, sizeof b)) > 0)
		for (i = 0; i < n; i++, r->got++)
			if (b[i] != (unsigned char)(r->got / 1000))
				r->in_order = 0;
	return NULL;
}

/* Gathered writes arrive whole and in order, written at once until one
 * is slow, then by the writer thread; the hash is of every byte; an
 * error of the thread's write comes back from the next call. */
static void gathered_writes(void)
{
	static struct gather g;
	static unsigned char chunk[1000];
	struct sha256 a, b;
	unsigned char da[32], db[32];
	struct slow_reader r = { -1, 0, 0, 1 };
	pthread_t t;
	int p[2], k;

	signal(SIGPIPE, SIG_IGN);
	CHECK(gather_init(&g, 1) == 0);
	CHECK(pipe(p) == 0);
	r.fd = p[0];
	CHECK(pthread_create(&t, NULL, read_slowly, &r) == 0);
	sha256_init(&a);
	sha256_init(&b);
	for (k = 0; k < 2000; k++) { /* 2 MB: past a pipe's buffer */
		memset(chunk, k, sizeof chunk);
		sha256_update(&b, chunk, sizeof chunk);
		CHECK(gather_write(&g, p[1], &a, chunk, sizeof chunk) == 0);
		if (k % 100 == 99)
			CHECK(gather_handoff(&g) == 0);
	}
	CHECK(g.async == 1); /* the reader waited: a write was slow */
	CHECK(gather_flush(&g) == p[1]);
	close(p[1]);
	pthread_join(t, NULL);
	close(p[0]);
	sha256_final(&a, da);
	sha256_final(&b, db);
	CHECK(r.got == 2000 * 1000 && r.in_order && !memcmp(da, db, 32));
	/* a reader gone: EPIPE, from the call after the write */
	CHECK(pipe(p) == 0);
	close(p[0]);
	CHECK(gather_write(&g, p[1], NULL, "x", 1) == 0);
	CHECK(gather_handoff(&g) == 0);
	CHECK(gather_flush(&g) == -2 && errno == EPIPE);
	close(p[1]);
	gather_free(&g);
	/* without a thread: at once */
	CHECK(gather_init(&g, 0) == 0 && pipe(p) == 0);
	CHECK(gather_write(&g, p[1], NULL, "ab", 2) == 0 && gather_handoff(&g) == 0);
	CHECK(read(p[0], chunk, sizeof chunk) == 2 && chunk[1] == 'b' && !g.async);
	CHECK(gather_flush(&g) == p[1] && gather_flush(&g) == -1); /* for an fsync: once */
	gather_drop(&g, p[1]);
	close(p[0]);
	close(p[1]);
	gather_free(&g);
}

int main(void)
{
	RUN(allow_and_deny);
	RUN(gso_runs);
	RUN(gathered_writes);
	RUN(segmented_sends_keep_boundaries);
	RUN(format_v4_v6);
	RUN(resolve_numeric);
	RUN(listen_connect_roundtrip);
	RUN(peer_is_local);
	RUN(listen_again_shares_the_port);
	RUN(connect_refused_status);
	RUN(write_full_waits_out_eagain);
	RUN(steering_by_cpu); /* last: it leaves this thread on one CPU */
	return CHECK_DONE();
}
