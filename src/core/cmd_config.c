#include "nettool/core/cmd_config.h"
#include "nettool/base/buf.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_DEPTH 4
#define CONFIG_LINE 8192

static const struct opt *find_opt(const struct cmd *c, const char *name)
{
	const struct opt *o;

	for (o = c->opts; o->short_name || o->long_name; o++)
		if ((name[1] == '\0' && o->short_name == name[0]) ||
		    (o->long_name && !strcmp(o->long_name, name)))
			return o;
	return NULL;
}

/* Whether arg names c's config option (-K, --config, -KFILE, --config=F). */
static const char *config_arg(const char *arg, const char *next, int *used)
{
	*used = 1;
	if (!strcmp(arg, "-K") || !strcmp(arg, "--config")) {
		*used = 2;
		return next;
	}
	if (!strncmp(arg, "--config=", 9))
		return arg + 9;
	if (!strncmp(arg, "-K", 2) && arg[2])
		return arg + 2;
	return NULL;
}

static int push(struct cmd_argv *a, struct buf *argv, char *s, int owned)
{
	if (!s || buf_append(argv, &s, sizeof s) < 0)
		return -1;
	if (owned) {
		char **o = realloc(a->owned, (size_t)(a->nowned + 1) * sizeof *o);

		if (!o)
			return -1;
		a->owned = o;
		a->owned[a->nowned++] = s;
	}
	return 0;
}

/* A quoted value from p (after its '"'), its escapes undone, into out. */
static const char *quoted(const char *p, struct buf *out)
{
	for (; *p && *p != '"'; p++) {
		char ch = *p;

		if (ch == '\\' && p[1]) {
			p++;
			ch = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p == 'v' ? '\v' : *p;
		}
		buf_putc(out, ch);
	}
	return *p == '"' ? p + 1 : NULL;
}

/* One line: nothing, or an option with its value, or an operand. */
static int config_line(const struct cmd *c, char *line, struct cmd_argv *a, struct buf *argv,
		       char *err)
{
	char *p = line + strspn(line, " \t"), *name, *opt;
	const struct opt *o;
	struct buf v = { NULL, 0, 0 };
	size_t n;
	int dashed;

	p[strcspn(p, "\r\n")] = '\0';
	if (!*p || *p == '#')
		return 0;
	/* with dashes only blanks end the name; without, '=' and ':' too */
	dashed = *p == '-';
	p += dashed ? (p[1] == '-' ? 2 : 1) : 0;
	name = p;
	n = strcspn(p, dashed ? " \t" : " \t=:");
	p += n;
	if (*p)
		*p++ = '\0';
	p += strspn(p, dashed ? " \t" : " \t=:");
	if (*p == '"') {
		if (!(p = (char *)quoted(p + 1, &v))) {
			nt_seterr(err, "'%s': an unclosed quote", name);
			buf_free(&v);
			return -1;
		}
	} else {
		buf_append(&v, p, strcspn(p, " \t"));
	}
	buf_putc(&v, '\0');
	if (!strcmp(name, "url"))
		return push(a, argv, v.data, 1);
	if (!(o = find_opt(c, name))) {
		nt_seterr(err, "'%s' is no option of %s", name, c->name);
		buf_free(&v);
		return -1;
	}
	opt = malloc(strlen(name) + 3);
	if (opt)
		sprintf(opt, "%s%s", name[1] ? "--" : "-", name);
	if (push(a, argv, opt, 1) < 0 || (o->arg && push(a, argv, v.data, 1) < 0)) {
		nt_seterr(err, "out of memory");
		return -1;
	}
	if (!o->arg)
		buf_free(&v);
	return 0;
}

static int config_file(const struct cmd *c, const char *path, struct cmd_argv *a,
		       struct buf *argv, int depth, char *err);

/* argv[from..argc) into the new argv, each config option opened. */
static int expand(const struct cmd *c, int argc, char **argv, struct cmd_argv *a,
		  struct buf *out, int depth, char *err)
{
	int i, used;

	for (i = 0; i < argc; i += used) {
		const char *file = config_arg(argv[i], i + 1 < argc ? argv[i + 1] : NULL, &used);

		if (!strcmp(argv[i], "--")) { /* the rest are operands */
			for (; i < argc; i++)
				if (push(a, out, argv[i], 0) < 0)
					return -1;
			return 0;
		}
		if (!file && used == 1) {
			if (push(a, out, argv[i], 0) < 0)
				return -1;
		} else if (!file) {
			nt_seterr(err, "-K needs a FILE");
			return -1;
		} else if (config_file(c, file, a, out, depth + 1, err) < 0) {
			return -1;
		}
	}
	return 0;
}

static int config_file(const struct cmd *c, const char *path, struct cmd_argv *a,
		       struct buf *argv, int depth, char *err)
{
	FILE *f;
	char line[CONFIG_LINE], e2[NT_ERR_LEN];
	struct buf args = { NULL, 0, 0 };
	int rc = 0, no = 0;

	if (depth > CONFIG_DEPTH) {
		nt_seterr(err, "%s: config files nested deeper than %d", path, CONFIG_DEPTH);
		return -1;
	}
	if (!(f = strcmp(path, "-") ? fopen(path, "r") : stdin)) {
		nt_seterr(err, "config file %s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof line, f)) {
		no++;
		if (!strchr(line, '\n') && !feof(f)) {
			nt_seterr(e2, "longer than %d bytes", CONFIG_LINE - 2);
			rc = -1;
		} else {
			rc = config_line(c, line, a, &args, e2);
		}
		if (rc < 0)
			nt_seterr(err, "config file %s, line %d: %s", path, no, e2);
	}
	if (f != stdin)
		fclose(f);
	/* what the file said, itself opened where it names another */
	if (rc == 0 && expand(c, (int)(args.len / sizeof(char *)), (char **)args.data, a, argv,
			      depth, err) < 0)
		rc = -1;
	buf_free(&args);
	return rc;
}

int cmd_config_expand(const struct cmd *c, int argc, char **argv, struct cmd_argv *out,
		      char *err)
{
	struct buf args = { NULL, 0, 0 };
	int i, used, any = 0;

	memset(out, 0, sizeof *out);
	err[0] = '\0';
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		any |= config_arg(argv[i], NULL, &used) != NULL || used == 2;
	if (!any) {
		out->argc = argc;
		out->argv = argv;
		return 0;
	}
	if (push(out, &args, argv[0], 0) < 0 || expand(c, argc - 1, argv + 1, out, &args, 0, err) < 0 ||
	    buf_append(&args, &(char *){ NULL }, sizeof(char *)) < 0) {
		if (!err[0])
			nt_seterr(err, "out of memory");
		buf_free(&args);
		cmd_argv_free(out);
		return -1;
	}
	out->argv = (char **)args.data;
	out->own_argv = 1;
	out->argc = (int)(args.len / sizeof(char *)) - 1;
	return 0;
}

void cmd_argv_free(struct cmd_argv *a)
{
	int i;

	for (i = 0; i < a->nowned; i++)
		free(a->owned[i]);
	free(a->owned);
	if (a->own_argv)
		free(a->argv);
	memset(a, 0, sizeof *a);
}
