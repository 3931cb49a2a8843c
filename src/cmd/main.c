#include "nettool/core/cmd.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct cmd *const commands[] = {
	&cmd_tcp_client, &cmd_tcp_server, &cmd_tcp_echo_server, &cmd_udp_server, &cmd_udp_client,
	&cmd_http_get, &cmd_http_serve, &cmd_relay, &cmd_pack, &cmd_unpack,
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: nettool SUBCOMMAND [OPTIONS] [ARGS]\n"
		   "       nettool help SUBCOMMAND | --help | --version\n\n"
		   "Subcommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-17s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\nRun 'nettool SUBCOMMAND --help' for its options.\n");
}

/* The command named name, or NULL after a usage error on stderr. */
static const struct cmd *find(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	fprintf(stderr, "nettool: unknown subcommand '%s'\n"
		"Try 'nettool --help' for the list.\n", name);
	return NULL;
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
		cmd_help(c, stdout);
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
