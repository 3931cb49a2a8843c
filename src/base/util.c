#ifdef __linux__
#define _GNU_SOURCE /* sched_setaffinity, pipe2, F_SETPIPE_SZ */
#include <sched.h>
#endif
#include "nettool/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

void nt_vwarn(const char *cmd, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (cmd)
		fprintf(stderr, "nettool: %s: %s\n", cmd, msg);
	else
		fprintf(stderr, "nettool: %s\n", msg);
}

void nt_warn(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nt_vwarn(cmd, fmt, ap);
	va_end(ap);
}

void nt_seterr(char *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err, NT_ERR_LEN, fmt, ap);
	va_end(ap);
}

int util_parse_ulong(const char *s, unsigned long min, unsigned long max,
		     unsigned long *out, char *err)
{
	unsigned long v = 0;
	const char *p;

	if (!s || !*s) {
		nt_seterr(err, "empty number");
		return -1;
	}
	for (p = s; *p; p++) {
		unsigned d;

		if (*p < '0' || *p > '9') {
			nt_seterr(err, "'%s' is not a number", s);
			return -1;
		}
		d = (unsigned)(*p - '0');
		if (v > (ULONG_MAX - d) / 10) {
			nt_seterr(err, "'%s' is out of range %lu-%lu", s, min, max);
			return -1;
		}
		v = v * 10 + d;
	}
	if (v < min || v > max) {
		nt_seterr(err, "'%s' is out of range %lu-%lu", s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int util_parse_port(const char *s, int allow_zero, unsigned *out, char *err)
{
	unsigned long v;

	if (util_parse_ulong(s, allow_zero ? 0 : 1, 65535, &v, NULL) < 0) {
		nt_seterr(err, "invalid port '%s' (expected %d-65535)", s,
			  allow_zero ? 0 : 1);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int util_parse_size(const char *s, uint64_t *out, char *err)
{
	double v = 0, scale = 1;
	const char *p = s;
	int digits = 0;

	for (; p && *p >= '0' && *p <= '9'; p++, digits++)
		v = v * 10 + (*p - '0');
	if (p && *p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			v += (*p - '0') * (scale /= 10);
	scale = 1;
	if (p && *p && strchr("kKmMgG", *p) && p[1] == '\0') {
		scale = *p == 'k' || *p == 'K' ? 1024.0 : *p == 'm' || *p == 'M' ? 1048576.0
										       : 1073741824.0;
		p++;
	}
	if (!p || *p || !digits) {
		nt_seterr(err, "'%s' is not a size (a number, with k, M or G after it)", s ? s : "");
		return -1;
	}
	v *= scale;
	if (v < 1 || v > 1125899906842624.0) {
		nt_seterr(err, "'%s' is out of range 1-1P", s);
		return -1;
	}
	*out = (uint64_t)v;
	return 0;
}

int util_parse_secs(const char *s, int *ms_out, char *err)
{
	unsigned long whole = 0, frac = 0, scale = 1000;
	const char *p = s;

	if (!s || !*s || *s == '.')
		goto bad;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (unsigned long)(*p - '0');
		if (whole > 1000000)
			goto bad;
	}
	if (*p == '.') {
		p++;
		if (!*p)
			goto bad;
		for (; *p >= '0' && *p <= '9'; p++) {
			scale /= 10;
			frac += (unsigned long)(*p - '0') * scale;
		}
	}
	if (*p)
		goto bad;
	*ms_out = (int)(whole * 1000 + frac);
	return 0;
bad:
	nt_seterr(err, "invalid duration '%s' (expected seconds, e.g. 5 or 0.5)",
		  s ? s : "");
	return -1;
}

uint64_t util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void util_sleep_ms(long long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

uint64_t util_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int signal_wfd = -1;

static void signal_to_pipe(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	ssize_t r = write(signal_wfd, &b, 1);

	(void)r; /* a full pipe already holds a wake-up */
	errno = saved;
}

static int set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int util_signal_pipe(char *err)
{
	int p[2];
	struct sigaction sa;

	if (pipe(p) < 0 || set_flags(p[0]) < 0 || set_flags(p[1]) < 0) {
		nt_seterr(err, "pipe: %s", strerror(errno));
		return -1;
	}
	signal_wfd = p[1];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = signal_to_pipe;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return p[0];
}

int util_signal_pipe_also(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = signal_to_pipe;
	sa.sa_flags = sig == SIGCHLD ? SA_NOCLDSTOP : 0;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

void util_signal_pipe_close(int fd)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	if (signal_wfd >= 0)
		close(signal_wfd);
	signal_wfd = -1;
	if (fd >= 0)
		close(fd);
}

int util_cpus_from_zero(void)
{
#ifdef __linux__
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof set, &set) < 0)
		return -1;
	for (n = 0; n < CPU_SETSIZE && CPU_ISSET(n, &set); n++)
		;
	return CPU_COUNT(&set) == n ? n : -1;
#else
	return -1;
#endif
}

int util_pin_cpu(int cpu)
{
#ifdef __linux__
	cpu_set_t set;
	long i, n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&set);
	if (cpu >= 0)
		CPU_SET(cpu, &set);
	for (i = 0; cpu < 0 && i < n && i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	return sched_setaffinity(0, sizeof set, &set);
#else
	(void)cpu;
	errno = ENOSYS;
	return -1;
#endif
}

int util_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int util_grow(void *arrp, size_t *cap, size_t n, size_t elem)
{
	void *arr, *v;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	/* the pointer is copied, not read through a void ** */
	memcpy(&arr, arrp, sizeof arr);
	if (ncap > ((size_t)-1) / elem || !(v = realloc(arr, ncap * elem)))
		return -1;
	memcpy(arrp, &v, sizeof v);
	*cap = ncap;
	return 0;
}

/* Names a POSIX shell (and dash) treats itself: these keep /bin/sh. */
static const char *const shell_words[] = {
	"!", ".", ":", "[", "alias", "bg", "break", "case", "cd", "command",
	"continue", "do", "done", "echo", "elif", "else", "esac", "eval", "exec",
	"exit", "export", "false", "fc", "fg", "fi", "for", "getopts", "hash",
	"if", "in", "jobs", "kill", "local", "printf", "pwd", "read", "readonly",
	"return", "set", "shift", "test", "then", "times", "trap", "true", "type",
	"ulimit", "umask", "unalias", "unset", "until", "wait", "while", NULL
};

static int plain_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-_./,:+%@=", c));
}

char **util_plain_argv(const char *cmd)
{
	size_t i, n = 0, len = strlen(cmd), first;
	char **argv, *q;
	const char *p;

	for (p = cmd; *p; p++) {
		if (*p == ' ' || *p == '\t')
			continue;
		if (!plain_char((unsigned char)*p))
			return NULL;
		if (p == cmd || p[-1] == ' ' || p[-1] == '\t')
			n++;
	}
	if (!n)
		return NULL;
	first = strspn(cmd, " \t");
	if (memchr(cmd + first, '=', strcspn(cmd + first, " \t")))
		return NULL; /* an assignment */
	for (i = 0; shell_words[i]; i++) {
		size_t w = strlen(shell_words[i]);

		if (!strncmp(cmd + first, shell_words[i], w) &&
		    (!cmd[first + w] || cmd[first + w] == ' ' || cmd[first + w] == '\t'))
			return NULL;
	}
	argv = malloc((n + 1) * sizeof *argv + len + 1);
	if (!argv)
		return NULL;
	q = memcpy((char *)(argv + n + 1), cmd, len + 1);
	for (i = 0; i < n; i++) {
		q += strspn(q, " \t");
		argv[i] = q;
		q += strcspn(q, " \t");
		if (*q)
			*q++ = '\0';
	}
	argv[n] = NULL;
	return argv;
}

void util_random(void *out, size_t n)
{
	static uint64_t counter;
	unsigned char *p = out;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t got = fd < 0 ? -1 : read(fd, out, n);
	size_t i;

	if (fd >= 0)
		close(fd);
	if (got == (ssize_t)n)
		return;
	for (i = 0; i < n; i++) { /* a weak fallback: unique, not secret */
		uint64_t x = util_now_ms() ^ ((uint64_t)getpid() << 32) ^ (++counter * 0x9e3779b97f4a7c15u);

		x ^= x >> 29;
		p[i] = (unsigned char)(x * 0xbf58476d1ce4e5b9u >> 56);
	}
}

long util_utf8_len(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	long chars = 0;

	while (i < n) {
		unsigned c = s[i], need, cp, min, k;

		if (c < 0x80) {
			i++;
			chars++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07, min = 0x10000;
		else
			return -1;
		if (n - i <= need)
			return -1;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		i += need + 1;
		chars++;
	}
	return chars;
}

void util_base64(const unsigned char *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		*out++ = t[in[i] >> 2];
		*out++ = t[(in[i] & 3) << 4 | in[i + 1] >> 4];
		*out++ = t[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
		*out++ = t[in[i + 2] & 63];
	}
	if (n - i == 1) {
		*out++ = t[in[i] >> 2];
		*out++ = t[(in[i] & 3) << 4];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		*out++ = t[in[i] >> 2];
		*out++ = t[(in[i] & 3) << 4 | in[i + 1] >> 4];
		*out++ = t[(in[i + 1] & 15) << 2];
		*out++ = '=';
	}
	*out = '\0';
}

#ifdef __linux__
ssize_t util_splice_in(int sock, int pipe_wr, size_t n)
{
	char tmp[4096];
	ssize_t got, put;

	do
		got = splice(sock, NULL, pipe_wr, NULL, n, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (got < 0 && errno == EINTR);
	if (got > 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
	    sockatmark(sock) != 1)
		return got;
	do
		got = recv(sock, tmp, n < sizeof tmp ? n : sizeof tmp, MSG_DONTWAIT);
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return got;
	do
		put = write(pipe_wr, tmp, (size_t)got); /* it has room for them all */
	while (put < 0 && errno == EINTR);
	return put < got ? -1 : got;
}

int util_splice_pipe(int p[2], int flags, int size)
{
	int cap;

	if (pipe2(p, flags | O_CLOEXEC) < 0) {
		p[0] = p[1] = -1;
		return -1;
	}
	fcntl(p[1], F_SETPIPE_SZ, size); /* beyond the user's share: as it is */
	cap = fcntl(p[1], F_GETPIPE_SZ);
	return cap > 0 ? cap : 4096;
}
#endif

void util_close_pipe(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

struct scratch {
	void *p[UTIL_SCRATCH_SLOTS];
	size_t n[UTIL_SCRATCH_SLOTS];
};

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *v)
{
	struct scratch *s = v;
	int i;

	for (i = 0; i < UTIL_SCRATCH_SLOTS; i++)
		free(s->p[i]);
	free(s);
}

static void scratch_init(void)
{
	pthread_key_create(&scratch_key, scratch_free);
}

void *util_scratch(int slot, size_t n)
{
	struct scratch *s;

	pthread_once(&scratch_once, scratch_init);
	s = pthread_getspecific(scratch_key);
	if (!s) {
		if (!(s = calloc(1, sizeof *s)))
			return NULL;
		if (pthread_setspecific(scratch_key, s) != 0) {
			free(s);
			return NULL;
		}
	}
	if (s->n[slot] < n) {
		void *p = realloc(s->p[slot], n);

		if (!p)
			return NULL;
		s->p[slot] = p;
		s->n[slot] = n;
	}
	return s->p[slot];
}

int64_t util_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

int util_printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}
