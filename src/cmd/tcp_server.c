#include "nettool/core/cmd.h"
#include "nettool/core/net.h"
#include "nettool/tcp/tcp_server.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#define CMD TSERVER_CMD

static int check_args(void *opts, char **args, int nargs, char *err)
{
	struct tserver *t = opts;

	(void)args;
	(void)nargs;
	if (pump_opts_check(&t->p, err) < 0)
		return -1;
	if (t->quiet_notices && !t->chat) {
		nt_seterr(err, "--quiet-notices goes with --chat");
		return -1;
	}
	if (t->chat && t->exec) {
		nt_seterr(err, "--chat and --exec exclude each other");
		return -1;
	}
	return server_addr_check(&t->addr, err);
}

/*
 * Wait for the next admitted connection on lfd, or for SIGINT or SIGTERM
 * on the self-pipe sfd. Returns its fd (its peer in a), -1 on an error
 * (err filled), or -2 for the signal.
 */
static int next_conn(struct tserver *t, int sfd, char *a, char *err)
{
	for (;;) {
		struct pollfd pfd[2] = { { t->lfd, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		int fd;

		if (poll(pfd, 2, -1) < 0 && errno != EINTR) {
			nt_seterr(err, "poll: %s", strerror(errno));
			return -1;
		}
		if (pfd[1].revents)
			return -2;
		if (!pfd[0].revents)
			continue;
		fd = tserver_accept(t, a);
		if (fd < 0)
			continue;
		return fd;
	}
}

/* Serve one connection at a time: one in all, or one after another (-k).
 * SIGINT or SIGTERM end it, during a transfer too. */
static int serve(struct tserver *t, int sfd, char *err)
{
	int status = 0;

	t->p.stop_fd = sfd;
	for (;;) {
		char peer[NET_ADDR_LEN];
		int fd = next_conn(t, sfd, peer, err);

		if (fd == -1)
			return NT_EXIT_FAIL;
		if (fd >= 0) {
			if (!t->keep) { /* like nc -l: one client, and no other waits */
				close(t->lfd);
				t->lfd = -1;
			}
			if (t->verbose) /* after the close: a client told of it is the only one */
				nt_warn(CMD, "connection from %s", peer);
			status = pump_run(&t->p, fd);
			close(fd);
			if (t->verbose && status != PUMP_STOPPED)
				nt_warn(CMD, "%s: connection ended (status %d)", peer, status);
		}
		if (fd == -2 || status == PUMP_STOPPED) {
			nt_warn(CMD, "stopped: %llu connections (%llu refused)", t->conns, t->refused);
			return t->keep ? 0 : NT_EXIT_FAIL;
		}
		if (!t->keep)
			return status;
	}
}

#define O(field) offsetof(struct tserver, field)
static const struct opt tserver_opts[] = {
	SERVER_ADDR_OPTS(struct tserver, addr, "port to listen on (default 8888; 0 picks a free one)"),
	SERVER_UNIX_OPT(struct tserver, addr),
	SERVER_ACL_OPTS(struct tserver, acl),
	{ 0, "backlog", OPT_COUNT, O(addr.backlog), 0, "N", "listen backlog (default 511)",
	  1, 65535, NULL },
	{ 'k', "keep-open", OPT_FLAG, O(keep), 0, NULL,
	  "after a connection ends, accept the next (as nc -lk)", 0, 0, NULL },
	{ 'e', "exec", OPT_STRING, O(exec), 0, "CMD",
	  "run /bin/sh -c CMD for each connection, the socket\n"
	  "as its stdin and stdout, many at once", 0, 0, NULL },
	{ 0, "chat", OPT_FLAG, O(chat), 0, NULL,
	  "many clients at once: each line a client sends\n"
	  "goes to stdout and the others; a typed line to\n"
	  "all, \"@N text\" to client N", 0, 0, NULL },
	{ 0, "quiet-notices", OPT_FLAG, O(quiet_notices), 0, NULL,
	  "--chat: joins and leaves only on stderr, not sent\nto the clients", 0, 0, NULL },
	{ 0, "max-clients", OPT_COUNT, O(max_clients), 0, "N",
	  "--exec: programs at once (default 100); more\nwait in the listen queue. --chat: clients\n"
	  "(default: what descriptors allow)", 1, 100000, NULL },
	{ 'w', NULL, OPT_SECS, O(p.timeout_ms), 0, "SECS", "end a connection idle that long (exit 5)",
	  0, 0, NULL },
	PUMP_OPTS(struct tserver, p),
	{ 'v', "verbose", OPT_FLAG, O(verbose), 0, NULL, "report each connection", 0, 0, NULL },
	OPT_END
};
#undef O

static int run(int argc, char **argv)
{
	struct tserver t;
	char err[NT_ERR_LEN] = "";
	int rc, sfd;

	memset(&t, 0, sizeof t);
	t.addr.port = 8888;
	t.addr.family = AF_UNSPEC;
	t.addr.backlog = 511;
	t.p.cmd = CMD;
	t.p.quit_ms = -1;
	t.p.max_frame = FRAME_DEFAULT_MAX;
	rc = cmd_parse(&cmd_tcp_server, argc, argv, &t);
	if (rc)
		return rc < 0 ? 0 : rc;
	t.lfd = server_listen(&t.addr, SOCK_STREAM, 0, &rc, err);
	if (t.lfd < 0) {
		nt_warn(CMD, "%s", err);
		return rc;
	}
	server_announce(CMD, t.lfd);
	if (t.verbose)
		cmd_report_sockopts(CMD, t.lfd, &t.addr.so);
	if (t.exec) {
		if (!t.max_clients)
			t.max_clients = 100;
		rc = tcp_exec_serve(&t, err);
	} else if (t.chat) {
		rc = tcp_chat_serve(&t, err);
	} else if ((sfd = util_signal_pipe(err)) < 0) {
		rc = NT_EXIT_FAIL;
	} else {
		rc = serve(&t, sfd, err);
		util_signal_pipe_close(sfd);
	}
	if (rc == NT_EXIT_FAIL && err[0])
		nt_warn(CMD, "%s", err);
	if (t.lfd >= 0)
		close(t.lfd);
	if (t.addr.unix_path)
		unlink(t.addr.unix_path);
	return rc;
}

const struct cmd cmd_tcp_server = {
	CMD, run, "listen for a connection; stdin to the socket, the socket to stdout",
	"[OPTIONS]",
	"Listen, accept one connection and then behave as tcp-client does on it:\n"
	"stdin goes to the socket, the socket to stdout; at the end of stdin the\n"
	"connection is half-closed and read until the client closes. With -k,\n"
	"accept the next connection after each one ends.",
	tserver_opts, NULL, 0, 0, 0, check_args
};
