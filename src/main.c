#include "nettool/cmd.h"
#include "nettool/util.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct cmd commands[] = {
	{ "tcp-client", cmd_tcp_client,
	  "connect to HOST PORT; stdin to the socket, the socket to stdout",
	  cmd_tcp_client_usage },
	{ "tcp-echo-server", cmd_tcp_echo_server,
	  "echo every byte back to each client (RFC 862)",
	  cmd_tcp_echo_server_usage },
	{ "udp-server", cmd_udp_server,
	  "receive datagrams from many peers; replies, records, acknowledgements",
	  cmd_udp_server_usage },
	{ "udp-client", cmd_udp_client,
	  "send stdin lines as datagrams and print the replies",
	  cmd_udp_client_usage },
	{ "http-get", cmd_http_get,
	  "fetch an http:// URL (a small curl)",
	  cmd_http_get_usage },
	{ "http-serve", cmd_http_serve,
	  "serve a directory over HTTP/1.1 (GET, HEAD)",
	  cmd_http_serve_usage },
	{ "pack", cmd_pack,
	  "pack values into bytes as Python's struct.pack does",
	  cmd_pack_usage },
	{ "unpack", cmd_unpack,
	  "print records of bytes as Python's struct.unpack reads them",
	  cmd_unpack_usage },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: nettool SUBCOMMAND [OPTIONS] [ARGS]\n"
		   "       nettool help SUBCOMMAND | --help | --version\n\n"
		   "Subcommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-17s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'nettool SUBCOMMAND --help' for its options.\n");
}

/* The command named name, or NULL after a usage error on stderr. */
static const struct cmd *find(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	fprintf(stderr, "nettool: unknown subcommand '%s'\n"
		"Try 'nettool --help' for the list.\n", name);
	return NULL;
}

int cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	nt_warn(cmd, "%s", msg);
	fprintf(stderr, "Try 'nettool %s --help' for more information.\n", cmd);
	return NT_EXIT_USAGE;
}

int cmd_bad_option(const char *cmd, int ch, char **argv)
{
	if (ch == ':')
		return cmd_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
	return cmd_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

/* Flush stdout and report a failure to write it, as git does. */
static int finish_stdout(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE)
			return status;
		fprintf(stderr, "nettool: write error on stdout: %s\n",
			strerror(errno));
		return status ? status : NT_EXIT_FAIL;
	}
	return status;
}

static int dispatch(int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 2) {
		usage(stderr);
		return NT_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("nettool %s\n", NT_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		c = find(argv[2]);
		if (!c)
			return NT_EXIT_USAGE;
		fputs(c->usage, stdout);
		return 0;
	}
	c = find(argv[1]);
	if (!c)
		return NT_EXIT_USAGE;
	return c->run(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	return finish_stdout(dispatch(argc, argv));
}
