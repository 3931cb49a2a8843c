#ifndef NETTOOL_UTIL_H
#define NETTOOL_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

#define NT_VERSION "0.1.0"
#define NT_ERR_LEN 256

/* Exit statuses shared by every subcommand (see man/nettool.1). */
enum nt_exit {
	NT_EXIT_OK = 0,
	NT_EXIT_FAIL = 1,
	NT_EXIT_USAGE = 2,
	NT_EXIT_RESOLVE = 3,
	NT_EXIT_REFUSED = 4,
	NT_EXIT_TIMEOUT = 5,
	NT_EXIT_PROTO = 6,
	NT_EXIT_HTTP = 7
};

/* Print "nettool: CMD: message" on stderr. */
void nt_warn(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* nt_warn with a va_list. */
void nt_vwarn(const char *cmd, const char *fmt, va_list ap);

/* Fill err (NT_ERR_LEN bytes) when it is not NULL. */
void nt_seterr(char *err, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/*
 * Parse a decimal unsigned integer in [min, max]: no sign, no spaces,
 * no trailing characters. Returns 0, or -1 with err filled.
 */
int util_parse_ulong(const char *s, unsigned long min, unsigned long max,
		     unsigned long *out, char *err);

/* Parse a TCP/UDP port: 1..65535, or 0..65535 when allow_zero. */
int util_parse_port(const char *s, int allow_zero, unsigned *out, char *err);

/*
 * Parse a duration in seconds, "3" or "0.25", into milliseconds; at most
 * 1e6 seconds. Returns 0, or -1 with err filled.
 */
int util_parse_secs(const char *s, int *ms_out, char *err);

/*
 * Parse a byte count, "1500", "64k", "2.5M" or "1G" (suffixes k, M, G in
 * either case, powers of 1024, as curl's --limit-rate); at least 1, at
 * most 2^50. Returns 0, or -1 with err filled.
 */
int util_parse_size(const char *s, uint64_t *out, char *err);

/* Make room in the array at *(T **)arrp, of *cap elements of elem bytes,
 * for element n (doubling). Returns 0, or -1 when out of memory. */
int util_grow(void *arrp, size_t *cap, size_t n, size_t elem);

/* The value of a hex digit, or -1. */
int util_hexval(int c);

/*
 * A shell command that needs no shell: plain words (letters, digits and
 * -_./,:+%@=, no '=' in the first), the first not a builtin or keyword of
 * a POSIX shell. Returns its words as one malloc'd NULL-terminated argv
 * (free the array alone), or NULL when the command must go to /bin/sh.
 */
char **util_plain_argv(const char *cmd);

/* Monotonic clock in milliseconds. */
uint64_t util_now_ms(void);
/* The same clock in microseconds. */
uint64_t util_now_us(void);
/* A buffer of n bytes for this thread alone, one for each slot (0 to
 * UTIL_SCRATCH_SLOTS - 1, a slot per caller), made on first use and
 * freed when the thread ends: large scratch space without making every
 * thread's static storage larger. NULL when out of memory. */
#define UTIL_SCRATCH_SLOTS 4
void *util_scratch(int slot, size_t n);
/* Whether s[0..n) holds no control character (below 0x20, a tab
 * included, or 0x7f). */
int util_printable(const char *s, size_t n);
/* Days from 1970-01-01 to a proleptic Gregorian date (month 1..12). */
int64_t util_days_from_civil(int64_t y, int m, int d);
/* Sleep ms milliseconds, the whole of them (EINTR resumes). */
void util_sleep_ms(long long ms);
/* The characters of s[0..n) when it is valid UTF-8 (no overlong forms,
 * surrogates or code points past U+10FFFF), else -1. */
long util_utf8_len(const char *s, size_t n);
/* Base64 (RFC 4648) of n bytes into out (4 * ((n + 2) / 3) + 1 bytes). */
void util_base64(const unsigned char *in, size_t n, char *out);
/* n unpredictable bytes (from /dev/urandom; else from the clock and pid). */
void util_random(void *out, size_t n);

/*
 * Install handlers for SIGINT and SIGTERM that write the signal number to
 * a non-blocking, close-on-exec self-pipe. Returns the read end, or -1.
 */
int util_signal_pipe(char *err);

/* Also write sig (SIGCHLD, say) to the self-pipe. Returns 0 or -1. */
int util_signal_pipe_also(int sig);

/* Restore default SIGINT/SIGTERM (and SIGCHLD) handling and close the
 * self-pipe. */
void util_signal_pipe_close(int fd);

/* n when this process may run on CPUs 0..n-1 and no others, else -1. */
int util_cpus_from_zero(void);
/* Keep the calling thread on one CPU, or with -1 let it run on any
 * online one. Returns 0, or -1 with errno set. */
int util_pin_cpu(int cpu);

#ifdef __linux__
/* A pipe for splice(): pipe2() with flags and O_CLOEXEC, made to hold
 * size bytes where the system allows. Returns what it holds, or -1 with
 * errno set (p is then -1, -1). */
int util_splice_pipe(int p[2], int flags, int size);
/*
 * splice() from a socket into a pipe with room for n bytes, non-blocking,
 * EINTR retried. At TCP's urgent mark splice stops short (EAGAIN on a
 * readable socket, for ever, or 0 once the peer has closed): there the
 * bytes are read, as read() passes
 * the mark (the urgent byte left out unless SO_OOBINLINE), and written to
 * the pipe. Returns bytes moved, 0 at the end, -1 with errno set.
 */
ssize_t util_splice_in(int sock, int pipe_wr, size_t n);
#endif
/* Close both ends of a pipe when open, and set them to -1. */
void util_close_pipe(int p[2]);

#endif
