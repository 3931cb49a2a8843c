#include "nettool/base/buf.h"
#include "nettool/core/cmd.h"
#include "nettool/core/net.h"
#include "nettool/proto/pack.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "pack"

struct pack_opts {
	int hex, lines, size_only;
	char **args;             /* FMT, then the values */
	int nargs;
};

static int check_args(void *opts, char **args, int nargs, char *err)
{
	struct pack_opts *o = opts;

	o->args = args;
	o->nargs = nargs;
	if (!(o->size_only || o->lines) || nargs == 1)
		return 0;
	nt_seterr(err, "%s takes FMT only", o->size_only ? "--size" : "--lines");
	return -1;
}

#define O(field) offsetof(struct pack_opts, field)
static const struct opt pack_opts_table[] = {
	{ 'x', "hex", OPT_FLAG, O(hex), 0, NULL, "write lowercase hex and a newline instead of raw bytes",
	  0, 0, NULL },
	{ 'l', "lines", OPT_FLAG, O(lines), 0, NULL,
	  "pack one record per line of stdin: whitespace-\nseparated values, \"double quotes\" around a\n"
	  "value with spaces", 0, 0, NULL },
	{ 0, "size", OPT_FLAG, O(size_only), 0, NULL,
	  "print the size of one record (struct.calcsize)\nand exit", 0, 0, NULL },
	OPT_END
};
#undef O

/* Append a record to out, as raw bytes or as hex and a newline. */
static int add_record(struct buf *out, const unsigned char *p, size_t n, int hex)
{
	if (!hex)
		return buf_append(out, p, n);
	return buf_hex(out, p, n) < 0 ? -1 : buf_putc(out, '\n');
}

/* Write out; 1 when stdout has gone (quietly), -1 on an error. */
static int flush_out(struct buf *out)
{
	ssize_t rc = net_write_full(STDOUT_FILENO, out->data, out->len);

	out->len = 0;
	if (rc >= 0)
		return 0;
	if (errno == EPIPE)
		return 1;
	nt_warn(CMD, "write: %s", strerror(errno));
	return -1;
}

/* --lines: one record per stdin line. */
static int pack_lines(const struct pack_format *f, unsigned char *rec, int hex)
{
	struct buf out = { NULL, 0, 0 };
	char err[NT_ERR_LEN], *line = NULL;
	size_t cap = 0;
	unsigned long long lineno = 0;
	ssize_t n;
	int status = 0, rc;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		lineno++;
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (pack_text_line(f, line, rec, err) < 0) {
			nt_warn(CMD, "line %llu: %s", lineno, err);
			status = NT_EXIT_FAIL;
			break;
		}
		if (add_record(&out, rec, f->size, hex) < 0) {
			nt_warn(CMD, "out of memory");
			status = NT_EXIT_FAIL;
			break;
		}
		if (out.len >= 128 * 1024 && (rc = flush_out(&out)) != 0) {
			status = rc < 0 ? NT_EXIT_FAIL : 0;
			goto done;
		}
	}
	if (ferror(stdin)) {
		nt_warn(CMD, "read: %s", strerror(errno));
		status = NT_EXIT_FAIL;
	}
	if (out.len && (rc = flush_out(&out)) < 0)
		status = NT_EXIT_FAIL;
done:
	free(line);
	buf_free(&out);
	return status;
}

static int run(int argc, char **argv)
{
	struct pack_opts o = { 0, 0, 0, NULL, 0 };
	struct pack_format f;
	char err[NT_ERR_LEN];
	unsigned char *out;
	int status = cmd_parse(&cmd_pack, argc, argv, &o);
	int hex = o.hex, lines = o.lines, size_only = o.size_only;

	if (status)
		return status < 0 ? 0 : status;
	if (pack_compile(o.args[0], &f, err) < 0) {
		nt_warn(CMD, "bad format '%s': %s", o.args[0], err);
		return NT_EXIT_FAIL;
	}
	if (size_only) {
		printf("%zu\n", f.size);
		pack_free(&f);
		return 0;
	}
	if (!hex && isatty(STDOUT_FILENO)) {
		pack_free(&f);
		return cmd_usage_error(CMD, "refusing to write binary to a terminal; use --hex");
	}
	out = malloc(f.size ? f.size : 1);
	if (!out) {
		nt_warn(CMD, "out of memory");
		pack_free(&f);
		return NT_EXIT_FAIL;
	}
	if (lines) {
		status = pack_lines(&f, out, hex);
	} else if (pack_text_record(&f, o.args + 1, (size_t)(o.nargs - 1), out, err) < 0) {
		nt_warn(CMD, "%s", err);
		status = NT_EXIT_FAIL;
	} else {
		struct buf b = { NULL, 0, 0 };

		status = add_record(&b, out, f.size, hex) < 0 || flush_out(&b) < 0 ?
			 NT_EXIT_FAIL : 0;
		buf_free(&b);
	}
	free(out);
	pack_free(&f);
	return status;
}

const struct cmd cmd_pack = {
	CMD, run, "pack values into bytes as Python's struct.pack does",
	"[-x] FMT [VALUE...]\n"
	"       nettool pack [-x] --lines FMT < values.txt\n"
	"       nettool pack --size FMT",
	"Pack values as Python's struct.pack(FMT, ...) does and write the bytes.\n\n"
	"FMT: an optional prefix @ = < > ! then codes x c b B ? h H i I l L q Q\n"
	"n N e f d s p P, each with an optional repeat count (4s, 3i).\n"
	"VALUE: an integer (42, -7, 0x2a, 0o52, 0b101010), a float (1.75, 1e-3,\n"
	"inf, -inf, nan), true or false, or bytes for c, s and p with the escapes\n"
	"\\\\ \\n \\r \\t \\0 \\xHH.", pack_opts_table, NULL, 1, 1, INT_MAX, check_args
};
