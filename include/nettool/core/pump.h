#ifndef NETTOOL_PUMP_H
#define NETTOOL_PUMP_H

#include "nettool/proto/frame.h"

/*
 * One established connection, netcat style: standard input to the socket
 * and the socket to standard output, both at once, through two bounded
 * buffers. At the end of standard input the socket is half-closed and the
 * reply read until the peer closes; the peer closing first ends it once
 * standard output is flushed (input still flowing is delivered). Shared
 * by tcp-client and the listening side.
 */
struct pump_opts {
	const char *cmd;          /* for messages */
	int timeout_ms;           /* -w: idle this long, exit 5 (0: none) */
	int quit_ms;              /* -q: after the end of stdin (-1: none) */
	int eol;                  /* PUMP_EOL_*: what ends a line sent */
	int hex, keepalive, nodelay;
	int no_shutdown;          /* at the end of stdin, no half-close */
	int send_only;            /* what is received is read and discarded */
	int recv_only;            /* -d: stdin is not read, nor half-closed */
	enum frame_mode frame;    /* --frame, or FRAME_NONE */
	unsigned long max_frame;
	const char *pack_fmt;     /* --pack, or NULL */
	int stop_fd;              /* readable: stop at once (0: none) */
};

#define PUMP_STOPPED (-2)

enum { PUMP_EOL_LF, PUMP_EOL_CRLF, PUMP_EOL_NONE };

/* --eol's reader (with cmd.h's OPT_FUNC). */
int pump_opt_eol(void *field, const char *arg, char *err);
/* The half-close options that exclude each other, checked: 0 or -1. */
int pump_opts_check(const struct pump_opts *o, char *err);

/* The option rows of a connection, for a struct pump_opts at field of
 * type (with cmd.h): -q -C --eol --no-shutdown --send-only --recv-only
 * -d -x --frame --max-frame --pack --keepalive --nodelay. */
#define PUMP_OPTS(type, field)                                                         \
	{ 'q', NULL, OPT_SECS, offsetof(type, field.quit_ms), 0, "SECS",                  \
	  "quit SECS after the end of stdin", 0, 0, NULL },                               \
	{ 'C', NULL, OPT_FLAG, offsetof(type, field.eol), 0, NULL,                        \
	  "send CRLF line endings (--eol crlf)", 0, PUMP_EOL_CRLF, NULL },                \
	{ 0, "eol", OPT_FUNC, offsetof(type, field.eol), 0, "EOL",                        \
	  "line endings sent: lf (as read), crlf, or none\n"                               \
	  "(each line sent without its ending, a write each)", 0, 0, pump_opt_eol },      \
	{ 0, "no-shutdown", OPT_FLAG, offsetof(type, field.no_shutdown), 0, NULL,         \
	  "at the end of stdin keep the connection open both\n"                           \
	  "ways (no half-close); read until the peer closes\nor -q SECS pass", 0, 0, NULL }, \
	{ 0, "send-only", OPT_FLAG, offsetof(type, field.send_only), 0, NULL,             \
	  "only send: what arrives is read and discarded", 0, 0, NULL },                   \
	{ 0, "recv-only", OPT_FLAG, offsetof(type, field.recv_only), 0, NULL,             \
	  "only receive: never read stdin (as -d)", 0, 0, NULL },                          \
	{ 'd', NULL, OPT_FLAG, offsetof(type, field.recv_only), 0, NULL,                  \
	  "do not read stdin (nor half-close)", 0, 0, NULL },                              \
	{ 'x', "hex", OPT_FLAG, offsetof(type, field.hex), 0, NULL,                       \
	  "hex dump of the traffic on stderr (with --frame:\n"                            \
	  "write received frames as hex)", 0, 0, NULL },                                  \
	{ 0, "frame", OPT_FUNC, offsetof(type, field.frame), 0, "MODE",                   \
	  "send each stdin line as one frame; write each\n"                               \
	  "frame received and a newline (line, len16,\nlen32, netstring)", 0, 0,          \
	  cmd_opt_frame },                                                                \
	{ 0, "max-frame", OPT_COUNT, offsetof(type, field.max_frame), 0, "N",             \
	  "largest frame accepted or sent (default 16777216)", 1, FRAME_MAX_MAX, NULL },  \
	{ 0, "pack", OPT_STRING, offsetof(type, field.pack_fmt), 0, "FMT",                \
	  "send each stdin line's values packed as one record", 0, 0, NULL },             \
	{ 0, "keepalive", OPT_FLAG, offsetof(type, field.keepalive), 0, NULL,             \
	  "enable TCP keepalive", 0, 0, NULL },                                           \
	{ 0, "nodelay", OPT_FLAG, offsetof(type, field.nodelay), 0, NULL,                 \
	  "disable Nagle's algorithm", 0, 0, NULL }

/* Pump between stdin/stdout and the connected socket fd until both
 * directions are done. Returns the exit status, or PUMP_STOPPED when
 * stop_fd turned readable first; fd stays open. */
int pump_run(const struct pump_opts *o, int fd);

#endif
