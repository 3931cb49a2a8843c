#include "nettool/core/cmd.h"
#include "nettool/proto/frame.h"
#include "nettool/core/net.h"
#include "nettool/core/proxy.h"
#include "nettool/core/sockopt.h"
#include "nettool/core/pump.h"
#include "nettool/base/util.h"
#include "nettool/tcp/tcp_spawn.h"

#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CMD "tcp-client"

struct client_opts {
	const char *host, *port, *src, *src_port, *unix_path, *proxy_addr, *proxy_auth, *exec;
	enum proxy_type proxy_type;
	struct proxy proxy;
	int family, flags, scan, verbose, nc_n;
	unsigned port_lo, port_hi;
	struct pump_opts p; /* the connection's options */
	struct sockopts so;
	unsigned src_port_n;
};

/* PORT or, with -z, LOW-HIGH. */
static int parse_ports(struct client_opts *o, char *err)
{
	const char *dash = o->scan ? strchr(o->port, '-') : NULL;
	char lo[8];

	if (!dash) {
		if (util_parse_port(o->port, 0, &o->port_lo, err) < 0)
			return -1;
		o->port_hi = o->port_lo;
		return 0;
	}
	if ((size_t)(dash - o->port) >= sizeof lo) {
		nt_seterr(err, "invalid port range '%s'", o->port);
		return -1;
	}
	memcpy(lo, o->port, (size_t)(dash - o->port));
	lo[dash - o->port] = '\0';
	if (util_parse_port(lo, 0, &o->port_lo, err) < 0 ||
	    util_parse_port(dash + 1, 0, &o->port_hi, err) < 0)
		return -1;
	if (o->port_hi < o->port_lo) {
		nt_seterr(err, "invalid port range '%s' (high below low)", o->port);
		return -1;
	}
	return 0;
}

#define O(field) offsetof(struct client_opts, field)
static const struct opt client_opts[] = {
	{ '4', NULL, OPT_FLAG, O(family), 0, NULL, "IPv4 only", 0, AF_INET, NULL },
	{ '6', NULL, OPT_FLAG, O(family), 0, NULL, "IPv6 only", 0, AF_INET6, NULL },
	{ 'n', NULL, OPT_FLAG, O(flags), 0, NULL, "numeric HOST only, no DNS", 0, NET_NUMERIC, NULL },
	{ 'w', NULL, OPT_SECS, O(p.timeout_ms), 0, "SECS", "connect timeout and idle timeout (exit 5)",
	  0, 0, NULL },
	CMD_SOURCE_OPTS(struct client_opts, src, src_port_n, src_port),
	SOCKOPT_OPTS(struct client_opts, so),
	{ 'U', "unix", OPT_STRING, O(unix_path), 0, "PATH",
	  "connect to the Unix stream socket at PATH instead\nof HOST PORT", 0, 0, NULL },
	{ 0, "proxy", OPT_STRING, O(proxy_addr), 0, "HOST:PORT",
	  "connect through the proxy at HOST:PORT", 0, 0, NULL },
	{ 0, "proxy-type", OPT_FUNC, O(proxy_type), 0, "TYPE",
	  "socks5 (default), socks4 (4a) or http (CONNECT)", 0, 0, proxy_opt_type },
	{ 0, "proxy-auth", OPT_STRING, O(proxy_auth), 0, "USER:PASS",
	  "credentials for the proxy (SOCKS5 or HTTP Basic)", 0, 0, NULL },
	{ 'N', NULL, OPT_FLAG, O(nc_n), 0, NULL,
	  "accepted for OpenBSD nc scripts (always half-closes)", 0, 0, NULL },
	{ 'z', NULL, OPT_FLAG, O(scan), 0, NULL,
	  "only test that PORT (or a range LOW-HIGH) accepts", 0, 0, NULL },
	{ 'e', "exec", OPT_STRING, O(exec), 0, "CMD",
	  "once connected, run /bin/sh -c CMD with the socket\nas its stdin and stdout; its exit status is ours",
	  0, 0, NULL },
	{ 'v', "verbose", OPT_FLAG, O(verbose), 0, NULL,
	  "report the connection (and open ports with -z)", 0, 0, NULL },
	PUMP_OPTS(struct client_opts, p),
	OPT_END
};
#undef O

static int check_args(void *opts, char **args, int nargs, char *err)
{
	struct client_opts *o = opts;

	if (pump_opts_check(&o->p, err) < 0)
		return -1;
	if (o->unix_path && (nargs || o->scan || o->src || o->src_port)) {
		nt_seterr(err, "-U PATH takes the place of HOST PORT (and of -z, -s and -p)");
		return -1;
	}
	if (o->unix_path && o->proxy_addr) {
		nt_seterr(err, "-U PATH and --proxy exclude each other");
		return -1;
	}
	if (o->proxy_addr && (o->src || o->src_port)) {
		nt_seterr(err, "-s and -p do not go with --proxy (the proxy makes the connection)");
		return -1;
	}
	if (o->exec && (o->scan || o->p.frame || o->p.pack_fmt || o->p.hex || o->p.eol ||
			o->p.no_shutdown || o->p.send_only || o->p.recv_only || o->p.quit_ms >= 0)) {
		nt_seterr(err, "--exec gives the connection to CMD: no -z, -q, -x, -C, --eol, "
			       "--frame, --pack or half-close options");
		return -1;
	}
	if (proxy_from_opts(&o->proxy, o->proxy_addr, o->proxy_type, o->proxy_auth, err) < 0)
		return -1;
	if (o->unix_path)
		return 0;
	if (nargs != 2) {
		nt_seterr(err, "expected HOST PORT (or -U PATH)");
		return -1;
	}
	o->host = args[0];
	o->port = args[1];
	return parse_ports(o, err);
}

/* Resolve HOST for one port and connect. Returns fd, or -status with
 * err filled. */
static int dial_quiet(const struct client_opts *o, unsigned port,
		      const struct addrinfo *src, char *err)
{
	char ps[8];
	int fd, status;

	snprintf(ps, sizeof ps, "%u", port);
	if (o->proxy_addr)
		fd = proxy_dial(&o->proxy, o->host, ps, o->family,
				o->p.timeout_ms > 0 ? o->p.timeout_ms : -1, &status, err);
	else
		fd = net_dial(o->host, ps, o->family, SOCK_STREAM, o->flags, src,
			      o->p.timeout_ms > 0 ? o->p.timeout_ms : -1, &status, err);
	return fd < 0 ? -status : fd;
}

static int dial(const struct client_opts *o, unsigned port, const struct addrinfo *src)
{
	char err[NT_ERR_LEN];
	int fd = dial_quiet(o, port, src, err);

	if (fd < 0)
		nt_warn(CMD, "%s", err);
	return fd;
}

static int dial_unix(const struct client_opts *o)
{
	char err[NT_ERR_LEN];
	int status, fd = net_dial_unix(o->unix_path, &status, err);

	if (fd < 0)
		nt_warn(CMD, "%s", err);
	return fd < 0 ? -status : fd;
}

/* -z: which ports accept; with -v each port's answer and a count. */
static int scan(const struct client_opts *o, const struct addrinfo *src)
{
	char a[NET_ADDR_LEN], err[NT_ERR_LEN];
	unsigned p, open_ports = 0, closed = 0;

	for (p = o->port_lo; p <= o->port_hi; p++) {
		int fd = dial_quiet(o, p, src, err);

		if (fd == -NT_EXIT_RESOLVE) {
			nt_warn(CMD, "%s", err);
			return NT_EXIT_RESOLVE;
		}
		if (fd < 0) {
			closed++;
			if (o->verbose)
				nt_warn(CMD, "%s %u: %s", o->host, p,
					fd == -NT_EXIT_REFUSED && !o->proxy_addr ? "refused"
					: fd == -NT_EXIT_TIMEOUT		    ? "timed out"
										    : err);
			continue;
		}
		open_ports++;
		if (o->verbose)
			nt_warn(CMD, "%s open", net_fd_addr(fd, 1, a));
		close(fd);
	}
	if (o->verbose)
		nt_warn(CMD, "%u open, %u closed", open_ports, closed);
	return open_ports ? 0 : NT_EXIT_REFUSED;
}

/* --exec: CMD on the connection; its exit status (128 + a signal's
 * number when one killed it, as the shell says). */
static int run_exec(const struct client_opts *o, int fd)
{
	struct tcp_spawn sp;
	pid_t pid = -1;
	int st = 0, rc;

	if (tcp_spawn_init(&sp, CMD, o->exec) == 0) {
		tcp_spawn_env(&sp, fd);
		pid = tcp_spawn_start(&sp, fd, 0);
	}
	tcp_spawn_free(&sp);
	if (pid < 0) {
		nt_warn(CMD, "cannot start the program: %s", strerror(errno));
		return NT_EXIT_FAIL;
	}
	close(fd); /* the program's now: its close is the connection's */
	while ((rc = (int)waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (rc < 0)
		return NT_EXIT_FAIL;
	if (o->verbose)
		nt_warn(CMD, "process %ld %s %d", (long)pid,
			WIFEXITED(st) ? "exited" : "killed by signal",
			WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int run(int argc, char **argv)
{
	struct client_opts o;
	struct addrinfo *src = NULL;
	char err[NT_ERR_LEN], a[NET_ADDR_LEN], l[NET_ADDR_LEN];
	int rc, fd;

	memset(&o, 0, sizeof o);
	o.p.cmd = CMD;
	o.family = AF_UNSPEC;
	o.p.quit_ms = -1;
	o.p.max_frame = FRAME_DEFAULT_MAX;
	rc = cmd_parse(&cmd_tcp_client, argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	net_use_sockopts(&o.so);
	if (net_resolve_source(o.src, o.src_port, o.family, SOCK_STREAM, o.flags, &src, err) < 0) {
		nt_warn(CMD, "source address: %s", err);
		return NT_EXIT_RESOLVE;
	}
	if (o.scan) {
		rc = scan(&o, src);
	} else {
		fd = o.unix_path ? dial_unix(&o) : dial(&o, o.port_lo, src);
		if (fd < 0) {
			rc = -fd;
		} else {
			if (o.verbose)
				nt_warn(CMD, "connected to %s from %s",
					net_fd_addr(fd, 1, a), net_fd_addr(fd, 0, l));
			if (o.verbose)
				cmd_report_sockopts(CMD, fd, &o.so);
			rc = o.exec ? run_exec(&o, fd) : pump_run(&o.p, fd);
			if (!o.exec)
				close(fd);
		}
	}
	if (src)
		freeaddrinfo(src);
	return rc;
}

const struct cmd cmd_tcp_client = {
	CMD, run, "connect to HOST PORT; stdin to the socket, the socket to stdout",
	"[OPTIONS] HOST PORT\n       nettool tcp-client [OPTIONS] -U PATH",
	"Connect to HOST PORT: stdin goes to the socket, the socket to stdout.\n"
	"At the end of stdin the connection is half-closed and the reply is read\n"
	"until the server closes; the server closing ends the client.",
	client_opts, NULL, 0, 0, 2, check_args
};
