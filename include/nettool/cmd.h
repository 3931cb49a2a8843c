#ifndef NETTOOL_CMD_H
#define NETTOOL_CMD_H

/* One row of the command table in main.c. */
struct cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *usage; /* full --help text */
};

int cmd_tcp_client(int argc, char **argv);
int cmd_tcp_echo_server(int argc, char **argv);
int cmd_pack(int argc, char **argv);
int cmd_unpack(int argc, char **argv);
int cmd_udp_server(int argc, char **argv);
int cmd_udp_client(int argc, char **argv);
int cmd_http_get(int argc, char **argv);
int cmd_http_serve(int argc, char **argv);

extern const char cmd_tcp_client_usage[];
extern const char cmd_tcp_echo_server_usage[];
extern const char cmd_pack_usage[];
extern const char cmd_unpack_usage[];
extern const char cmd_udp_server_usage[];
extern const char cmd_udp_client_usage[];
extern const char cmd_http_get_usage[];
extern const char cmd_http_serve_usage[];

/* Print a usage error and the one-line hint; returns NT_EXIT_USAGE. */
int cmd_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* The usage error for getopt_long's ':' (a missing value) or '?'. */
int cmd_bad_option(const char *cmd, int ch, char **argv);

#endif
