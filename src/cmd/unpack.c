#include "nettool/base/buf.h"
#include "nettool/core/cmd.h"
#include "nettool/core/net.h"
#include "nettool/proto/pack.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "unpack"
#define UNPACK_READ (256 * 1024)
#define UNPACK_FLUSH (128 * 1024)

struct unpacker {
	struct pack_format f;
	struct pack_value *vals;
	struct pack_printf *pf;
	const char *tmpl;
	int repr, hex;
	char **args;             /* FMT [FILE] */
	int nargs;
	struct buf out;
	unsigned long long records;
};

/* Print one record into u->out. */
static int format_record(struct unpacker *u, const unsigned char *rec)
{
	size_t i;

	unpack_values(&u->f, rec, u->vals);
	if (u->pf)
		return pack_printf_record(&u->out, u->pf, u->vals);
	if (u->repr)
		pack_format_repr(&u->out, u->vals, u->f.nvalues);
	else
		for (i = 0; i < u->f.nvalues; i++) {
			if (i)
				buf_putc(&u->out, '\t');
			pack_format_value(&u->out, &u->vals[i]);
		}
	return buf_putc(&u->out, '\n');
}

/* Write out what is formatted; 1 when stdout has gone. */
static int flush_out(struct unpacker *u)
{
	ssize_t rc = net_write_full(STDOUT_FILENO, u->out.data, u->out.len);

	u->out.len = 0;
	if (rc < 0) {
		if (errno != EPIPE)
			nt_warn(CMD, "write: %s", strerror(errno));
		return errno == EPIPE ? 1 : -1;
	}
	return 0;
}

/*
 * Turn hex text into bytes in place; returns the count. An odd digit is
 * carried over in *carry (-1 when none); a bad character sets *bad and
 * ends the conversion there.
 */
static size_t dehex(char *p, size_t n, int *carry, unsigned long long *pos, int *bad)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++, (*pos)++) {
		char c = p[i];
		int v;

		if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
			continue;
		v = (c >= '0' && c <= '9') ? c - '0' :
		    (c >= 'a' && c <= 'f') ? c - 'a' + 10 :
		    (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
		if (v < 0) {
			*bad = 1;
			break;
		}
		if (*carry < 0) {
			*carry = v;
		} else {
			p[o++] = (char)(*carry * 16 + v);
			*carry = -1;
		}
	}
	return o;
}

static int unpack_stream(struct unpacker *u, int fd)
{
	size_t rs = u->f.size, have = 0, cap = rs + UNPACK_READ;
	unsigned char *data = malloc(cap);
	unsigned long long hexpos = 0;
	int carry = -1, status = 0, bad = 0;

	if (!data) {
		nt_warn(CMD, "out of memory");
		return NT_EXIT_FAIL;
	}
	for (;;) {
		ssize_t n = read(fd, data + have, cap - have);
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			nt_warn(CMD, "read: %s", strerror(errno));
			status = NT_EXIT_FAIL;
			break;
		}
		if (n == 0)
			break;
		if (u->hex)
			n = (ssize_t)dehex((char *)data + have, (size_t)n, &carry,
					   &hexpos, &bad);
		have += (size_t)n;
		for (; have - off >= rs; off += rs) {
			format_record(u, data + off);
			u->records++;
		}
		memmove(data, data + off, have - off);
		have -= off;
		if (bad) {
			nt_warn(CMD, "bad hex digit in input at character %llu", hexpos + 1);
			status = NT_EXIT_PROTO;
			break;
		}
		if (u->out.len >= UNPACK_FLUSH && (status = flush_out(u)) != 0)
			break;
	}
	if (status == 0 && (have || carry >= 0)) {
		nt_warn(CMD, "truncated record: %zu trailing bytes after %llu records of %zu bytes",
			have, u->records, rs);
		status = NT_EXIT_PROTO;
	}
	free(data);
	if (status >= 0 && u->out.len) {
		int rc = flush_out(u);

		if (rc < 0)
			status = NT_EXIT_FAIL;
	}
	return status < 0 ? NT_EXIT_FAIL : status == 1 ? 0 : status;
}

static int check_args(void *opts, char **args, int nargs, char *err)
{
	struct unpacker *u = opts;

	u->args = args;
	u->nargs = nargs;
	if (!u->repr || !u->tmpl)
		return 0;
	nt_seterr(err, "--repr and --printf exclude each other");
	return -1;
}

#define O(field) offsetof(struct unpacker, field)
static const struct opt unpack_opts[] = {
	{ 'x', "hex", OPT_FLAG, O(hex), 0, NULL, "read hex text instead of raw bytes", 0, 0, NULL },
	{ 0, "repr", OPT_FLAG, O(repr), 0, NULL, "print repr(struct.unpack(FMT, record)) as Python does",
	  0, 0, NULL },
	{ 0, "printf", OPT_STRING, O(tmpl), 0, "TEMPLATE",
	  "format each record with a printf-style template,\n"
	  "one conversion per field (%s: bytes up to a NUL)", 0, 0, NULL },
	OPT_END
};
#undef O

static int run(int argc, char **argv)
{
	struct unpacker u;
	const char *tmpl;
	char err[NT_ERR_LEN];
	int fd = STDIN_FILENO, status = NT_EXIT_FAIL;
	const char *fmt;

	memset(&u, 0, sizeof u);
	status = cmd_parse(&cmd_unpack, argc, argv, &u);
	if (status)
		return status < 0 ? 0 : status;
	status = NT_EXIT_FAIL;
	tmpl = u.tmpl;
	fmt = u.args[0];
	if (pack_compile(fmt, &u.f, err) < 0) {
		nt_warn(CMD, "bad format '%s': %s", fmt, err);
		return NT_EXIT_FAIL;
	}
	if (u.f.size == 0) {
		nt_warn(CMD, "format '%s' has size 0: nothing to unpack", fmt);
		goto out;
	}
	if (tmpl && !(u.pf = pack_printf_compile(tmpl, &u.f, err))) {
		status = cmd_usage_error(CMD, "--printf: %s", err);
		goto out;
	}
	u.vals = calloc(u.f.nvalues ? u.f.nvalues : 1, sizeof *u.vals);
	if (!u.vals) {
		nt_warn(CMD, "out of memory");
		goto out;
	}
	if (u.nargs == 2 && strcmp(u.args[1], "-") != 0) {
		fd = open(u.args[1], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			nt_warn(CMD, "%s: %s", u.args[1], strerror(errno));
			goto out;
		}
	}
	status = unpack_stream(&u, fd);
	if (fd != STDIN_FILENO)
		close(fd);
out:
	free(u.vals);
	buf_free(&u.out);
	pack_printf_free(u.pf);
	pack_free(&u.f);
	return status;
}

const struct cmd cmd_unpack = {
	CMD, run, "print records of bytes as Python's struct.unpack reads them",
	"[-x] [--repr | --printf TEMPLATE] FMT [FILE]",
	"Read consecutive records of struct.calcsize(FMT) bytes from FILE or stdin\n"
	"and print one line per record: fields separated by tabs, integers in\n"
	"decimal, floats as Python's repr prints them, bools true/false, bytes with\n"
	"the escapes nettool pack reads (trailing NULs of s fields dropped).", unpack_opts, NULL, 0, 1, 2, check_args
};
