#include "check.h"
#include "nettool/core/cmd.h"
#include "nettool/proto/frame.h"
#include "nettool/core/server.h"
#include "nettool/base/util.h"

#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

struct o {
	int flag, family, ms, nonzero_ms;
	unsigned port;
	const char *port_str, *name;
	unsigned long count;
	enum frame_mode frame;
	int nargs;
};

#define O(f) offsetof(struct o, f)
static const struct opt table[] = {
	{ 'v', "verbose", OPT_FLAG, O(flag), 0, NULL, "v", 0, 0, NULL },
	{ '6', NULL, OPT_FLAG, O(family), 0, NULL, "six", 0, AF_INET6, NULL },
	{ 'p', "port", OPT_PORT, O(port), O(port_str), "PORT", "p", 0, 0, NULL },
	{ 'P', NULL, OPT_PORT, O(port), O(port_str), "PORT", "p, not 0", 1, 0, NULL },
	{ 'w', NULL, OPT_SECS, O(ms), 0, "SECS", "w", 0, 0, NULL },
	{ 0, "idle", OPT_SECS, O(nonzero_ms), 0, "SECS", "i", 1, 0, NULL },
	{ 'n', "name", OPT_STRING, O(name), 0, "NAME", "n", 0, 0, NULL },
	{ 0, "count", OPT_COUNT, O(count), 0, "N", "c", 1, 100, NULL },
	{ 0, "frame", OPT_FUNC, O(frame), 0, "MODE", "f", 0, 0, cmd_opt_frame },
	OPT_END
};
#undef O

static int count_args(void *opts, char **args, int nargs, char *err)
{
	(void)args;
	(void)err;
	((struct o *)opts)->nargs = nargs;
	return 0;
}

static const struct cmd test_cmd = { "test", NULL, "", "[OPTIONS] ARG", "", table, NULL, 0,
				     0, 9, count_args };
static const struct cmd ordered = { "test", NULL, "", "FMT VALUE...", "", table, NULL, 1,
				    1, 9, count_args };
static const struct cmd two = { "test", NULL, "", "[OPTIONS] HOST PORT", "", table, NULL, 0,
				2, 2, count_args };

/* Parse a NULL-terminated argv; the status, with *first set. */
static int parse(const struct cmd *c, struct o *o, int *first, char **argv)
{
	int argc = 0, rc;

	while (argv[argc])
		argc++;
	memset(o, 0, sizeof *o);
	rc = cmd_parse(c, argc, argv, o);
	*first = argc - o->nargs;
	return rc;
}

#define ARGV(...) ((char *[]){ "test", __VA_ARGS__, NULL })

static void every_kind_is_read(void)
{
	struct o o;
	int first = -1;

	CHECK(parse(&test_cmd, &o, &first, ARGV("-v", "-6", "--port", "0", "-w", "0.25", "--idle=2",
				   "-n", "x", "--count", "100", "--frame", "len16", "arg")) == 0);
	CHECK(o.flag == 1 && o.family == AF_INET6 && o.port == 0 && !strcmp(o.port_str, "0"));
	CHECK(o.ms == 250 && o.nonzero_ms == 2000 && !strcmp(o.name, "x") && o.count == 100);
	CHECK(o.frame == FRAME_LEN16 && first == 14);
	CHECK(parse(&test_cmd, &o, &first, ARGV("-p65535", "-vn", "y")) == 0 && o.port == 65535 &&
	      o.flag && !strcmp(o.name, "y") && first == 4);
	/* options after an operand too, unless in order */
	CHECK(parse(&test_cmd, &o, &first, ARGV("arg", "-v")) == 0 && o.flag && first == 2);
	CHECK(parse(&ordered, &o, &first, ARGV("<i", "-7")) == 0 && first == 1);
}

static void bad_values_are_usage_errors(void)
{
	struct o o;
	int first;

	CHECK(parse(&test_cmd, &o, &first, ARGV("--count", "12x")) == NT_EXIT_USAGE);
	CHECK(parse(&test_cmd, &o, &first, ARGV("--count", "0")) == NT_EXIT_USAGE);
	CHECK(parse(&test_cmd, &o, &first, ARGV("--count", "101")) == NT_EXIT_USAGE);
	CHECK(parse(&test_cmd, &o, &first, ARGV("--count", "-1")) == NT_EXIT_USAGE);
	CHECK(parse(&test_cmd, &o, &first, ARGV("-p", "65536")) == NT_EXIT_USAGE);
	CHECK(parse(&test_cmd, &o, &first, ARGV("-P", "0")) == NT_EXIT_USAGE);
	CHECK(parse(&test_cmd, &o, &first, ARGV("-w", "1s")) == NT_EXIT_USAGE);
	CHECK(parse(&test_cmd, &o, &first, ARGV("--idle", "0")) == NT_EXIT_USAGE);
	CHECK(parse(&test_cmd, &o, &first, ARGV("--frame", "xml")) == NT_EXIT_USAGE);
	CHECK(parse(&test_cmd, &o, &first, ARGV("-n")) == NT_EXIT_USAGE);
	CHECK(parse(&test_cmd, &o, &first, ARGV("--nope")) == NT_EXIT_USAGE);
	CHECK(parse(&test_cmd, &o, &first, ARGV("-z")) == NT_EXIT_USAGE);
	CHECK(parse(&test_cmd, &o, &first, ARGV("--verbose=1")) == NT_EXIT_USAGE);
	CHECK(parse(&two, &o, &first, ARGV("host")) == NT_EXIT_USAGE);
	CHECK(parse(&two, &o, &first, ARGV("host", "1", "2")) == NT_EXIT_USAGE);
	CHECK(parse(&two, &o, &first, ARGV("host", "1")) == 0);
}

static void default_max_clients(void)
{
	CHECK(server_default_max(20000, 1) == 20000 - 256);
	CHECK(server_default_max(20000, 2) == (20000 - 256) / 2);
	CHECK(server_default_max(1024, 1) == 1024 - 128);
	CHECK(server_default_max(24, 1) == 16);
	CHECK(server_default_max(8, 1) == 1);
}

int main(void)
{
	RUN(every_kind_is_read);
	RUN(bad_values_are_usage_errors);
	RUN(default_max_clients);
	return CHECK_DONE();
}
