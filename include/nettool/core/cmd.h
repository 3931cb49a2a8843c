#ifndef NETTOOL_CMD_H
#define NETTOOL_CMD_H

#include <stddef.h>
#include <stdio.h>

/* How an option's value is read into the command's options struct. */
enum opt_kind {
	OPT_FLAG,   /* no value: the int at off becomes max (1 when max is 0) */
	OPT_PORT,   /* 0..65535 (1.. when min is 1): unsigned at off, the text at off2 */
	OPT_COUNT,  /* decimal in [min, max]: unsigned long at off */
	OPT_SECS,   /* "3" or "0.25" seconds: int milliseconds at off; min 1: not 0 */
	OPT_STRING, /* the value itself: const char * at off */
	OPT_FUNC    /* fn(the field at off, value, err) reads it: 0 or -1 */
};

/* One option of a command: its names, what it sets and its help line. */
struct opt {
	int short_name;        /* a letter, or 0 for a long name only */
	const char *long_name; /* or NULL */
	enum opt_kind kind;
	size_t off, off2;
	const char *arg;       /* the value's name in help; NULL: no value */
	const char *help;      /* lines after the first start with '\n' */
	unsigned long min, max;
	int (*fn)(void *field, const char *arg, char *err);
};

#define OPT_END { 0, NULL, OPT_FLAG, 0, 0, NULL, NULL, 0, 0, NULL }

/* A subcommand: a row of the command table in main.c. */
struct cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;   /* one line in "nettool --help" */
	const char *synopsis;  /* after "usage: nettool NAME " */
	const char *about;     /* the paragraph under the usage line */
	const struct opt *opts;
	const char *notes;     /* printed after the options, or NULL */
	int in_order;          /* options end at the first operand (pack's "-7") */
	int min_args, max_args; /* how many operands */
	/* the operands, and what options ask of each other: 0, or -1 with
	 * err filled for a usage error (NULL: nothing to check) */
	int (*check)(void *opts, char **args, int nargs, char *err);
};

extern const struct cmd cmd_tcp_client, cmd_tcp_server, cmd_tcp_echo_server, cmd_pack, cmd_unpack,
	cmd_udp_server, cmd_udp_client, cmd_http_get, cmd_http_serve, cmd_relay;

/*
 * Read argv's options into opts by c's table (-h and --help are added:
 * they print the help), count the operands and run c's check. Returns 0,
 * -1 after printing the help, or NT_EXIT_USAGE after a usage error.
 */
int cmd_parse(const struct cmd *c, int argc, char **argv, void *opts);

/* The --help text, made from the table. */
void cmd_help(const struct cmd *c, FILE *f);

/* OPT_FUNC readers shared by several commands: a frame mode (enum
 * frame_mode); an address family letter is an OPT_FLAG. */
int cmd_opt_frame(void *field, const char *arg, char *err);
/* A byte count with k, M or G (util_parse_size): uint64_t. */
int cmd_opt_size(void *field, const char *arg, char *err);

/* The rows for a client's -s ADDR and -p PORT (a const char * at src, an
 * unsigned at port_n and its text at port) of type. */
#define CMD_SOURCE_OPTS(type, src, port_n, port)                                      \
	{ 's', NULL, OPT_STRING, offsetof(type, src), 0, "ADDR", "source address", 0, 0, NULL }, \
	{ 'p', "source-port", OPT_PORT, offsetof(type, port_n), offsetof(type, port), "PORT", \
	  "source port (as nc's -p; with -s or alone)", 1, 0, NULL }

struct sockopts;
/* -v: the socket options of fd as the kernel now reports them, one line
 * on stderr (nothing when none was asked for). */
void cmd_report_sockopts(const char *cmd, int fd, const struct sockopts *so);

/* Print a usage error and the one-line hint; returns NT_EXIT_USAGE. */
int cmd_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

#endif
