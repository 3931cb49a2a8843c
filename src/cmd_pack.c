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
	"       nettool pack --size FMT\n"
	"Pack values as Python's struct.pack(FMT, ...) does and write the bytes.\n\n"
	"FMT: an optional prefix @ = < > ! then codes x c b B ? h H i I l L q Q\n"
	"n N e f d s p P, each with an optional repeat count (4s, 3i).\n"
	"VALUE: an integer (42, -7, 0x2a, 0o52, 0b101010), a float (1.75, 1e-3,\n"
	"inf, -inf, nan), true or false, or bytes for c, s and p with the escapes\n"
	"\\\\ \\n \\r \\t \\0 \\xHH.\n\n"
	"  -x, --hex     write lowercase hex and a newline instead of raw bytes\n"
	"      --size    print the size of one record (struct.calcsize) and exit\n"
	"  -h, --help    this help\n";

static int write_packed(const unsigned char *p, size_t n, int hex)
{
	static const char digits[] = "0123456789abcdef";
	char *text = NULL;
	ssize_t rc;
	size_t i;

	if (hex) {
		text = malloc(n * 2 + 1);
		if (!text) {
			nt_warn(CMD, "out of memory");
			return NT_EXIT_FAIL;
		}
		for (i = 0; i < n; i++) {
			text[2 * i] = digits[p[i] >> 4];
			text[2 * i + 1] = digits[p[i] & 15];
		}
		text[2 * n] = '\n';
		p = (const unsigned char *)text;
		n = n * 2 + 1;
	}
	rc = net_write_full(STDOUT_FILENO, p, n);
	free(text);
	if (rc < 0 && errno != EPIPE) {
		nt_warn(CMD, "write: %s", strerror(errno));
		return NT_EXIT_FAIL;
	}
	return 0;
}

int cmd_pack(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "hex", no_argument, NULL, 'x' },
		{ "size", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pack_format f;
	char err[NT_ERR_LEN];
	unsigned char *out;
	int ch, hex = 0, size_only = 0, status;

	opterr = 0;
	optind = 1;
	/* '+': stop at FMT, so that negative values are not options */
	while ((ch = getopt_long(argc, argv, "+xh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'x': hex = 1; break;
		case 'S': size_only = 1; break;
		case 'h': fputs(cmd_pack_usage, stdout); return 0;
		default: return cmd_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cmd_usage_error(CMD, "expected FMT");
	if (size_only && argc - optind != 1)
		return cmd_usage_error(CMD, "--size takes FMT only");
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
	if (pack_text_record(&f, argv + optind, (size_t)(argc - optind), out, err) < 0) {
		nt_warn(CMD, "%s", err);
		status = NT_EXIT_FAIL;
	} else {
		status = write_packed(out, f.size, hex);
	}
	free(out);
	pack_free(&f);
	return status;
}
