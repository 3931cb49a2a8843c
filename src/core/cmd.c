#include "nettool/core/cmd.h"
#include "nettool/core/sockopt.h"
#include "nettool/proto/frame.h"
#include "nettool/base/util.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPTS 64
#define HELP_COL 28

int cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nt_vwarn(cmd, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'nettool %s --help' for more information.\n", cmd);
	return NT_EXIT_USAGE;
}

int cmd_opt_frame(void *field, const char *arg, char *err)
{
	if (frame_mode_parse(arg, field) == 0)
		return 0;
	nt_seterr(err, "unknown mode '%s' (line, len16, len32, netstring)", arg);
	return -1;
}

int cmd_opt_size(void *field, const char *arg, char *err)
{
	return util_parse_size(arg, field, err);
}

void cmd_report_sockopts(const char *cmd, int fd, const struct sockopts *so)
{
	char d[SOCKOPT_MAX * (SOCKOPT_TEXT + 24)];

	if (!so->n)
		return;
	sockopt_describe(fd, so, d, sizeof d);
	nt_warn(cmd, "socket options: %s", d);
}

static void help_line(FILE *f, int sn, const char *ln, const char *arg, const char *help)
{
	char names[64];
	int n;

	if (sn && ln)
		n = snprintf(names, sizeof names, "-%c, --%s", sn, ln);
	else if (sn)
		n = snprintf(names, sizeof names, "-%c", sn);
	else
		n = snprintf(names, sizeof names, "    --%s", ln);
	if (arg && n >= 0 && (size_t)n < sizeof names)
		snprintf(names + n, sizeof names - (size_t)n, " %s", arg);
	n = fprintf(f, "  %s", names);
	if (n >= HELP_COL - 1)
		fprintf(f, "\n%*s", HELP_COL, "");
	else
		fprintf(f, "%*s", HELP_COL - n, "");
	for (; *help; help++) {
		fputc(*help, f);
		if (*help == '\n')
			fprintf(f, "%*s", HELP_COL, "");
	}
	fputc('\n', f);
}

void cmd_help(const struct cmd *c, FILE *f)
{
	const struct opt *o;

	fprintf(f, "usage: nettool %s %s\n%s\n\n", c->name, c->synopsis, c->about);
	for (o = c->opts; o->short_name || o->long_name; o++)
		help_line(f, o->short_name, o->long_name, o->arg, o->help);
	help_line(f, 'h', "help", NULL, "this help");
	if (c->notes)
		fprintf(f, "\n%s", c->notes);
}

/* The name the user gave, for messages: "--port" or "-p". */
static void opt_name(const struct opt *o, int used_long, char *out, size_t len)
{
	if (o->long_name && (used_long || !o->short_name))
		snprintf(out, len, "--%s", o->long_name);
	else
		snprintf(out, len, "-%c", o->short_name);
}

/* Store val as o says; 0, or -1 with err filled. */
static int opt_store(const struct opt *o, void *opts, const char *val, char *err)
{
	char *base = opts;
	unsigned long v;
	int ms;

	switch (o->kind) {
	case OPT_FLAG:
		*(int *)(base + o->off) = o->max ? (int)o->max : 1;
		return 0;
	case OPT_PORT:
		if (util_parse_port(val, o->min == 0, (unsigned *)(base + o->off), err) < 0)
			return -1;
		*(const char **)(base + o->off2) = val;
		return 0;
	case OPT_COUNT:
		if (util_parse_ulong(val, o->min, o->max, &v, err) < 0)
			return -1;
		*(unsigned long *)(base + o->off) = v;
		return 0;
	case OPT_SECS:
		if (util_parse_secs(val, &ms, err) < 0 || (o->min && !ms)) {
			nt_seterr(err, "invalid '%s'", val);
			return -1;
		}
		*(int *)(base + o->off) = ms;
		return 0;
	case OPT_STRING:
		*(const char **)(base + o->off) = val;
		return 0;
	case OPT_FUNC:
		return o->fn(base + o->off, val, err);
	}
	return -1;
}

/* getopt_long's tables from ours; the index of each long option is its
 * row in the command's table. Returns the count, or -1. */
static int build_getopt(const struct cmd *c, struct option *lo, char *so, size_t solen)
{
	const struct opt *opts = c->opts;
	size_t s = 0;
	int i, n = 0;

	if (c->in_order)
		so[s++] = '+';
	so[s++] = ':';
	for (i = 0; opts[i].short_name || opts[i].long_name; i++) {
		if (i >= MAX_OPTS || s + 3 >= solen)
			return -1;
		if (opts[i].short_name) {
			so[s++] = (char)opts[i].short_name;
			if (opts[i].arg)
				so[s++] = ':';
		}
		if (opts[i].long_name) {
			lo[n].name = opts[i].long_name;
			lo[n].has_arg = opts[i].arg ? required_argument : no_argument;
			lo[n].flag = NULL;
			lo[n].val = 0x1000 + i;
			n++;
		}
	}
	memcpy(so + s, "h", 2);
	lo[n].name = "help";
	lo[n].has_arg = no_argument;
	lo[n].flag = NULL;
	lo[n].val = 'h';
	memset(&lo[n + 1], 0, sizeof lo[n + 1]);
	return i;
}

/* Read the options; *first gets the index of the first operand. */
static int parse_options(const struct cmd *c, int argc, char **argv, void *opts, int *first)
{
	struct option lo[MAX_OPTS + 2];
	char so[3 * MAX_OPTS + 4], err[NT_ERR_LEN], name[64];
	int ch, n = build_getopt(c, lo, so, sizeof so);

	if (n < 0)
		return cmd_usage_error(c->name, "too many options in its table");
	opterr = 0;
#ifdef __GLIBC__
	optind = 0; /* glibc: a full reset, so the '+' of this table counts */
#else
	optind = 1;
#endif
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		const struct opt *o = NULL;
		int i;

		if (ch == 'h') {
			cmd_help(c, stdout);
			return -1;
		}
		if (ch == ':')
			return cmd_usage_error(c->name, "option '%s' needs a value", argv[optind - 1]);
		if (ch >= 0x1000)
			o = &c->opts[ch - 0x1000];
		for (i = 0; !o && i < n; i++)
			if (c->opts[i].short_name == ch)
				o = &c->opts[i];
		if (!o)
			return cmd_usage_error(c->name, "unknown option '%s'", argv[optind - 1]);
		if (opt_store(o, opts, optarg, err) < 0) {
			opt_name(o, ch >= 0x1000, name, sizeof name);
			return cmd_usage_error(c->name, "%s: %s", name, err);
		}
	}
	*first = optind;
	return 0;
}

int cmd_parse(const struct cmd *c, int argc, char **argv, void *opts)
{
	const char *what = c->synopsis;
	char err[NT_ERR_LEN];
	int first, n, rc = parse_options(c, argc, argv, opts, &first);

	if (rc)
		return rc;
	n = argc - first;
	if (n > c->max_args && c->max_args == 0)
		return cmd_usage_error(c->name, "unexpected argument '%s'", argv[first]);
	if (n < c->min_args || n > c->max_args) {
		if (!strncmp(what, "[OPTIONS] ", 10))
			what += 10;
		return cmd_usage_error(c->name, "expected %.*s", (int)strcspn(what, "\n"), what);
	}
	if (c->check && c->check(opts, argv + first, n, err) < 0)
		return cmd_usage_error(c->name, "%s", err);
	return 0;
}
