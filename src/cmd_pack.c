#include "nettool/buf.h"
#include "nettool/cmd.h"
#include "nettool/net.h"
#include "nettool/pack.h"
#include "nettool/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "pack"

const char cmd_pack_usage[] =
	"usage: nettool pack [-x] FMT [VALUE...]\n"
	"       nettool pack [-x] --lines FMT < values.txt\n"
	"       nettool pack --size FMT\n"
	"Pack values as Python's struct.pack(FMT, ...) does and write the bytes.\n\n"
	"FMT: an optional prefix @ = < > ! then codes x c b B ? h H i I l L q Q\n"
	"n N e f d s p P, each with an optional repeat count (4s, 3i).\n"
	"VALUE: an integer (42, -7, 0x2a, 0o52, 0b101010), a float (1.75, 1e-3,\n"
	"inf, -inf, nan), true or false, or bytes for c, s and p with the escapes\n"
	"\\\\ \\n \\r \\t \\0 \\xHH.\n\n"
	"  -x, --hex     write lowercase hex and a newline instead of raw bytes\n"
	"  -l, --lines   pack one record per line of stdin: whitespace-separated\n"
	"                values, \"double quotes\" around a value with spaces\n"
	"      --size    print the size of one record (struct.calcsize) and exit\n"
	"  -h, --help    this help\n";

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

int cmd_pack(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "hex", no_argument, NULL, 'x' },
		{ "size", no_argument, NULL, 'S' },
		{ "lines", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pack_format f;
	char err[NT_ERR_LEN];
	unsigned char *out;
	int ch, hex = 0, size_only = 0, lines = 0, status;

	opterr = 0;
	optind = 1;
	/* '+': stop at FMT, so that negative values are not options */
	while ((ch = getopt_long(argc, argv, "+xlh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'x': hex = 1; break;
		case 'l': lines = 1; break;
		case 'S': size_only = 1; break;
		case 'h': fputs(cmd_pack_usage, stdout); return 0;
		default: return cmd_bad_option(CMD, ch, argv);
		}
	}
	if (optind >= argc)
		return cmd_usage_error(CMD, "expected FMT");
	if ((size_only || lines) && argc - optind != 1)
		return cmd_usage_error(CMD, "%s takes FMT only", size_only ? "--size" : "--lines");
	if (pack_compile(argv[optind], &f, err) < 0) {
		nt_warn(CMD, "bad format '%s': %s", argv[optind], err);
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
	optind++;
	if (lines) {
		status = pack_lines(&f, out, hex);
	} else if (pack_text_record(&f, argv + optind, (size_t)(argc - optind), out, err) < 0) {
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
