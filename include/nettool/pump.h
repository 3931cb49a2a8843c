#ifndef NETTOOL_PUMP_H
#define NETTOOL_PUMP_H

#include "nettool/frame.h"

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
	int crlf, hex, keepalive, nodelay;
	enum frame_mode frame;    /* --frame, or FRAME_NONE */
	unsigned long max_frame;
	const char *pack_fmt;     /* --pack, or NULL */
	int stop_fd;              /* readable: stop at once (0: none) */
};

#define PUMP_STOPPED (-2)

/* Pump between stdin/stdout and the connected socket fd until both
 * directions are done. Returns the exit status, or PUMP_STOPPED when
 * stop_fd turned readable first; fd stays open. */
int pump_run(const struct pump_opts *o, int fd);

#endif
