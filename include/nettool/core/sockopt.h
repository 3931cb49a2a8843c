#ifndef NETTOOL_SOCKOPT_H
#define NETTOOL_SOCKOPT_H

#include <stddef.h>

/*
 * Socket options by name (--sockopt NAME[=VALUE], -I IFACE), for every
 * socket a command opens. Names are those of the C constants in lower
 * case: so_rcvbuf, ip_ttl, tcp_maxseg ...
 */
#define SOCKOPT_MAX 32
#define SOCKOPT_TEXT 64

struct sockopt_set {
	unsigned idx;              /* in the table of known options */
	int value;                 /* an int, a bool, or seconds (so_linger) */
	char text[SOCKOPT_TEXT];   /* a string option's value */
};

struct sockopts {
	struct sockopt_set set[SOCKOPT_MAX];
	unsigned n;
};

/* --sockopt's reader (cmd.h's OPT_FUNC; field: struct sockopts):
 * NAME[=VALUE] checked and appended. An unknown name lists the known. */
int sockopt_opt(void *field, const char *arg, char *err);
/* -I's reader: so_bindtodevice=IFACE. */
int sockopt_opt_iface(void *field, const char *arg, char *err);

/*
 * Set each option on fd, a socket of family and socktype. An option of
 * the other IP family is skipped (ipv6_v6only on IPv4); ip_ttl and ip_tos
 * are IPV6_UNICAST_HOPS and IPV6_TCLASS on IPv6. Returns 0, or -1 with
 * err naming the option the kernel refused (or that does not fit a
 * datagram socket).
 */
int sockopt_apply(int fd, int family, int socktype, const struct sockopts *so, char *err);

/* Whether the option name was asked for (a command's own default for it
 * then stands aside). */
int sockopt_given(const struct sockopts *so, const char *name);

/* The options' values as the kernel reports them, "name=value ..." into
 * out (for -v). */
void sockopt_describe(int fd, const struct sockopts *so, char *out, size_t len);

/* Multicast groups to join (udp-server --join GROUP[%IFACE]). */
#define SOCKOPT_JOINS 16

struct sockopt_joins {
	const char *spec[SOCKOPT_JOINS];
	unsigned n;
};

/* --join's reader: a multicast address (IPv4 or IPv6) and an interface
 * that exists, appended. */
int sockopt_opt_join(void *field, const char *arg, char *err);
/* Join spec's group on fd (MCAST_JOIN_GROUP; on the interface given, or
 * the one the kernel routes the group to). 0, or -1 with err filled. */
int sockopt_join(int fd, const char *spec, char *err);

/* udp-client's --multicast-ttl, --multicast-loop and --multicast-if
 * (ip_multicast_ttl, _loop, _if), into a struct sockopts. */
int sockopt_opt_mttl(void *field, const char *arg, char *err);
int sockopt_opt_mloop(void *field, const char *arg, char *err);
int sockopt_opt_mif(void *field, const char *arg, char *err);
#define SOCKOPT_MCAST_OPTS(type, field)                                                 \
	{ 0, "multicast-ttl", OPT_FUNC, offsetof(type, field), 0, "N",                   \
	  "hops a multicast datagram may take (default 1)", 0, 0, sockopt_opt_mttl },     \
	{ 0, "multicast-loop", OPT_FUNC, offsetof(type, field), 0, "0|1",                \
	  "multicast datagrams also to this host's receivers\n(default 1)", 0, 0,         \
	  sockopt_opt_mloop },                                                           \
	{ 0, "multicast-if", OPT_FUNC, offsetof(type, field), 0, "IFACE",                \
	  "send multicast datagrams out of IFACE", 0, 0, sockopt_opt_mif }

/* The option rows: --sockopt and -I/--interface (with cmd.h), for a
 * struct sockopts at field of type; _LONG without -I (http-get's -I is
 * curl's). */
#define SOCKOPT_OPTS_LONG(type, field)                                                  \
	{ 0, "sockopt", OPT_FUNC, offsetof(type, field), 0, "NAME[=VALUE]",                \
	  "set a socket option on each socket (repeatable;\n"                            \
	  "NAMEs in nettool(1))", 0, 0, sockopt_opt },                                   \
	{ 0, "interface", OPT_FUNC, offsetof(type, field), 0, "IFACE",                    \
	  "bind sockets to the network interface IFACE\n(SO_BINDTODEVICE)", 0, 0,        \
	  sockopt_opt_iface }
#define SOCKOPT_OPTS(type, field)                                                       \
	{ 0, "sockopt", OPT_FUNC, offsetof(type, field), 0, "NAME[=VALUE]",                \
	  "set a socket option on each socket (repeatable;\n"                            \
	  "NAMEs in nettool(1))", 0, 0, sockopt_opt },                                   \
	{ 'I', "interface", OPT_FUNC, offsetof(type, field), 0, "IFACE",                  \
	  "bind sockets to the network interface IFACE\n(SO_BINDTODEVICE)", 0, 0,        \
	  sockopt_opt_iface }

#endif
