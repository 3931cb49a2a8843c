#ifdef __linux__
#define _GNU_SOURCE /* TCP_KEEPIDLE, TCP_CONGESTION, TCP_USER_TIMEOUT */
#endif
#include "nettool/core/sockopt.h"
#include "nettool/base/util.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

enum so_kind { SO_K_BOOL, SO_K_INT, SO_K_TEXT, SO_K_LINGER, SO_K_IFINDEX };
enum so_scope { SO_S_ANY, SO_S_IP, SO_S_V6, SO_S_TCP };

struct so_def {
	const char *name;
	int level, opt;
	enum so_kind kind;
	enum so_scope scope;
	long min, max;
};

/* Where a constant is missing (not Linux), its row is left out. */
static const struct so_def defs[] = {
	{ "so_reuseaddr", SOL_SOCKET, SO_REUSEADDR, SO_K_BOOL, SO_S_ANY, 0, 1 },
#ifdef SO_REUSEPORT
	{ "so_reuseport", SOL_SOCKET, SO_REUSEPORT, SO_K_BOOL, SO_S_ANY, 0, 1 },
#endif
	{ "so_keepalive", SOL_SOCKET, SO_KEEPALIVE, SO_K_BOOL, SO_S_ANY, 0, 1 },
	{ "so_broadcast", SOL_SOCKET, SO_BROADCAST, SO_K_BOOL, SO_S_ANY, 0, 1 },
	{ "so_dontroute", SOL_SOCKET, SO_DONTROUTE, SO_K_BOOL, SO_S_ANY, 0, 1 },
	{ "so_oobinline", SOL_SOCKET, SO_OOBINLINE, SO_K_BOOL, SO_S_ANY, 0, 1 },
	{ "so_rcvbuf", SOL_SOCKET, SO_RCVBUF, SO_K_INT, SO_S_ANY, 1, INT_MAX / 2 },
	{ "so_sndbuf", SOL_SOCKET, SO_SNDBUF, SO_K_INT, SO_S_ANY, 1, INT_MAX / 2 },
	{ "so_linger", SOL_SOCKET, SO_LINGER, SO_K_LINGER, SO_S_ANY, -1, 65535 },
#ifdef SO_PRIORITY
	{ "so_priority", SOL_SOCKET, SO_PRIORITY, SO_K_INT, SO_S_ANY, 0, INT_MAX },
#endif
#ifdef SO_MARK
	{ "so_mark", SOL_SOCKET, SO_MARK, SO_K_INT, SO_S_ANY, 0, INT_MAX },
#endif
#ifdef SO_BINDTODEVICE
	{ "so_bindtodevice", SOL_SOCKET, SO_BINDTODEVICE, SO_K_TEXT, SO_S_ANY, 0, 0 },
#endif
	{ "ip_ttl", IPPROTO_IP, IP_TTL, SO_K_INT, SO_S_IP, 1, 255 },
	{ "ip_tos", IPPROTO_IP, IP_TOS, SO_K_INT, SO_S_IP, 0, 255 },
	{ "ip_multicast_ttl", IPPROTO_IP, IP_MULTICAST_TTL, SO_K_INT, SO_S_IP, 0, 255 },
	{ "ip_multicast_loop", IPPROTO_IP, IP_MULTICAST_LOOP, SO_K_BOOL, SO_S_IP, 0, 1 },
#ifdef __linux__ /* an interface by index, as struct ip_mreqn */
	{ "ip_multicast_if", IPPROTO_IP, IP_MULTICAST_IF, SO_K_IFINDEX, SO_S_IP, 0, 0 },
#endif
	{ "ipv6_v6only", IPPROTO_IPV6, IPV6_V6ONLY, SO_K_BOOL, SO_S_V6, 0, 1 },
	{ "tcp_nodelay", IPPROTO_TCP, TCP_NODELAY, SO_K_BOOL, SO_S_TCP, 0, 1 },
#ifdef TCP_MAXSEG
	{ "tcp_maxseg", IPPROTO_TCP, TCP_MAXSEG, SO_K_INT, SO_S_TCP, 88, 65535 },
#endif
#ifdef TCP_KEEPIDLE
	{ "tcp_keepidle", IPPROTO_TCP, TCP_KEEPIDLE, SO_K_INT, SO_S_TCP, 1, 32767 },
#endif
#ifdef TCP_KEEPINTVL
	{ "tcp_keepintvl", IPPROTO_TCP, TCP_KEEPINTVL, SO_K_INT, SO_S_TCP, 1, 32767 },
#endif
#ifdef TCP_KEEPCNT
	{ "tcp_keepcnt", IPPROTO_TCP, TCP_KEEPCNT, SO_K_INT, SO_S_TCP, 1, 127 },
#endif
#ifdef TCP_CONGESTION
	{ "tcp_congestion", IPPROTO_TCP, TCP_CONGESTION, SO_K_TEXT, SO_S_TCP, 0, 0 },
#endif
#ifdef TCP_USER_TIMEOUT
	{ "tcp_user_timeout", IPPROTO_TCP, TCP_USER_TIMEOUT, SO_K_INT, SO_S_TCP, 0, INT_MAX },
#endif
};
#define NDEFS (sizeof defs / sizeof defs[0])

/* The known names, grouped by prefix as so_{rcvbuf,sndbuf} to fit. */
static void known_list(char *err, const char *name)
{
	char list[NT_ERR_LEN] = "";
	size_t i, n = 0;

	for (i = 0; i < NDEFS && n < sizeof list; i++) {
		const char *us = strchr(defs[i].name, '_');
		int plen = (int)(us - defs[i].name) + 1;
		int first = i == 0 || strncmp(defs[i - 1].name, defs[i].name, (size_t)plen) != 0;
		int last = i + 1 == NDEFS || strncmp(defs[i + 1].name, defs[i].name, (size_t)plen) != 0;

		if (first && last)
			n += (size_t)snprintf(list + n, sizeof list - n, " %s", defs[i].name);
		else
			n += (size_t)snprintf(list + n, sizeof list - n, "%s%.*s%s%s", first ? " " : "",
					      first ? plen : 0, defs[i].name, first ? "{" : ",",
					      us + 1);
		if (last && !first && n < sizeof list)
			n += (size_t)snprintf(list + n, sizeof list - n, "}");
	}
	nt_seterr(err, "unknown socket option '%.20s'; known:%s", name, list);
}

static int parse_value(const struct so_def *d, const char *v, struct sockopt_set *s, char *err)
{
	static const char *const yes[] = { "1", "on", "yes", "true" }, *const no[] = { "0", "off", "no", "false" };
	unsigned long u;
	size_t i;

	if (d->kind == SO_K_IFINDEX) {
		if (!v || !(s->value = (int)if_nametoindex(v))) {
			nt_seterr(err, "%s: no network interface '%.20s'", d->name, v ? v : "");
			return -1;
		}
		snprintf(s->text, sizeof s->text, "%s", v);
		return 0;
	}
	if (d->kind == SO_K_TEXT) {
		if (!v || !*v || strlen(v) >= sizeof s->text) {
			nt_seterr(err, "%s needs a value (a name under %zu bytes)", d->name, sizeof s->text);
			return -1;
		}
		strcpy(s->text, v);
		return 0;
	}
	if (d->kind == SO_K_BOOL) {
		for (i = 0; i < 4; i++)
			if (!v || strcmp(v, yes[i]) == 0 || strcmp(v, no[i]) == 0) {
				s->value = !v || strcmp(v, yes[i]) == 0;
				return 0;
			}
		nt_seterr(err, "%s: '%s' is not 1, 0, on, off, yes or no", d->name, v);
		return -1;
	}
	if (!v) {
		nt_seterr(err, "%s needs a value (%s=N)", d->name, d->name);
		return -1;
	}
	if (d->kind == SO_K_LINGER && strcmp(v, "off") == 0) {
		s->value = -1;
		return 0;
	}
	if (util_parse_ulong(v, (unsigned long)(d->min < 0 ? 0 : d->min), (unsigned long)d->max,
			     &u, err) < 0) {
		char why[NT_ERR_LEN];

		snprintf(why, sizeof why, "%s", err);
		nt_seterr(err, "%s: %s", d->name, why);
		return -1;
	}
	s->value = (int)u;
	return 0;
}

int sockopt_opt(void *field, const char *arg, char *err)
{
	struct sockopts *so = field;
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg), i;
	struct sockopt_set s;

	memset(&s, 0, sizeof s);
	for (i = 0; i < NDEFS; i++)
		if (strlen(defs[i].name) == len && strncmp(defs[i].name, arg, len) == 0)
			break;
	if (i == NDEFS) {
		char name[SOCKOPT_TEXT];

		snprintf(name, sizeof name, "%.*s", (int)(len < 60 ? len : 60), arg);
		known_list(err, name);
		return -1;
	}
	if (so->n == SOCKOPT_MAX) {
		nt_seterr(err, "more than %d socket options", SOCKOPT_MAX);
		return -1;
	}
	s.idx = (unsigned)i;
	if (parse_value(&defs[i], eq ? eq + 1 : NULL, &s, err) < 0)
		return -1;
	so->set[so->n++] = s;
	return 0;
}

/* udp-client's multicast options, as the socket options they are. */
static int as_sockopt(void *field, const char *name, const char *arg, char *err)
{
	char spec[SOCKOPT_TEXT + 32];

	snprintf(spec, sizeof spec, "%s=%s", name, arg);
	return sockopt_opt(field, spec, err);
}

int sockopt_opt_iface(void *field, const char *arg, char *err)
{
	return as_sockopt(field, "so_bindtodevice", arg, err);
}

int sockopt_opt_mttl(void *field, const char *arg, char *err)
{
	return as_sockopt(field, "ip_multicast_ttl", arg, err);
}

int sockopt_opt_mloop(void *field, const char *arg, char *err)
{
	return as_sockopt(field, "ip_multicast_loop", arg, err);
}

int sockopt_opt_mif(void *field, const char *arg, char *err)
{
	return as_sockopt(field, "ip_multicast_if", arg, err);
}

/* The level and name for this socket's family; 0 to skip it here. */
static int resolve(const struct so_def *d, int family, int *level, int *opt)
{
	*level = d->level;
	*opt = d->opt;
	if (d->scope == SO_S_V6)
		return family == AF_INET6;
	if (d->scope == SO_S_IP && family == AF_INET6) {
		*level = IPPROTO_IPV6;
		*opt = d->opt == IP_TTL ? IPV6_UNICAST_HOPS : d->opt == IP_TOS ? IPV6_TCLASS :
		       d->opt == IP_MULTICAST_TTL ? IPV6_MULTICAST_HOPS :
		       d->opt == IP_MULTICAST_LOOP ? IPV6_MULTICAST_LOOP : IPV6_MULTICAST_IF;
	}
	return family == AF_INET || family == AF_INET6 || d->scope == SO_S_ANY;
}

int sockopt_apply(int fd, int family, int socktype, const struct sockopts *so, char *err)
{
	unsigned i;

	for (i = 0; so && i < so->n; i++) {
		const struct sockopt_set *s = &so->set[i];
		const struct so_def *d = &defs[s->idx];
		struct linger lg = { s->value >= 0, s->value >= 0 ? s->value : 0 };
#ifdef __linux__
		struct ip_mreqn mr = { { 0 }, { 0 }, 0 };
#endif
		const void *v = &s->value;
		socklen_t vlen = sizeof s->value;
		int level, opt;

		if (!resolve(d, family, &level, &opt))
			continue;
		if (d->scope == SO_S_TCP && socktype != SOCK_STREAM) {
			nt_seterr(err, "--sockopt %s: not for a datagram socket", d->name);
			return -1;
		}
		if (d->kind == SO_K_TEXT) {
			v = s->text;
			vlen = (socklen_t)strlen(s->text) + 1;
		} else if (d->kind == SO_K_LINGER) {
			v = &lg;
			vlen = sizeof lg;
		}
#ifdef __linux__
		if (d->kind == SO_K_IFINDEX && family == AF_INET) {
			mr.imr_ifindex = s->value;
			v = &mr;
			vlen = sizeof mr;
		}
#endif
		if (setsockopt(fd, level, opt, v, vlen) < 0) {
			nt_seterr(err, "--sockopt %s: %s", d->name, strerror(errno));
			return -1;
		}
	}
	return 0;
}

void sockopt_describe(int fd, const struct sockopts *so, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int family = getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 ? ss.ss_family : AF_UNSPEC;
	size_t n = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; so && i < so->n && n < len; i++) {
		const struct so_def *d = &defs[so->set[i].idx];
		char text[SOCKOPT_TEXT] = "";
		struct linger lg = { 0, 0 };
		int level, opt, v = 0;
		socklen_t vl = d->kind == SO_K_TEXT ? sizeof text : d->kind == SO_K_LINGER ? sizeof lg : sizeof v;
		void *p = d->kind == SO_K_TEXT ? (void *)text : d->kind == SO_K_LINGER ? (void *)&lg : (void *)&v;

		if (!resolve(d, family, &level, &opt))
			continue;
		if (d->kind == SO_K_IFINDEX)
			n += (size_t)snprintf(out + n, len - n, "%s%s=%s", n ? " " : "", d->name,
					      so->set[i].text);
		else if (getsockopt(fd, level, opt, p, &vl) < 0)
			n += (size_t)snprintf(out + n, len - n, "%s%s=?", n ? " " : "", d->name);
		else if (d->kind == SO_K_TEXT)
			n += (size_t)snprintf(out + n, len - n, "%s%s=%.*s", n ? " " : "", d->name,
					      (int)strnlen(text, vl), text);
		else if (d->kind == SO_K_LINGER)
			n += (size_t)snprintf(out + n, len - n, lg.l_onoff ? "%s%s=%d" : "%s%s=off",
					      n ? " " : "", d->name, lg.l_linger);
		else
			n += (size_t)snprintf(out + n, len - n, "%s%s=%d", n ? " " : "", d->name, v);
	}
}

int sockopt_given(const struct sockopts *so, const char *name)
{
	unsigned i;

	for (i = 0; i < so->n; i++)
		if (strcmp(defs[so->set[i].idx].name, name) == 0)
			return 1;
	return 0;
}

/* GROUP[%IFACE] as an address and an interface index (0: the default). */
static int join_parse(const char *spec, struct sockaddr_storage *g, socklen_t *glen,
		      unsigned *ifindex, char *err)
{
	struct addrinfo hints, *ai;
	char host[128];
	const char *pct = strchr(spec, '%');
	size_t hl = pct ? (size_t)(pct - spec) : strlen(spec);
	int multicast;

	*ifindex = 0;
	if (hl >= sizeof host || (pct && !(*ifindex = if_nametoindex(pct + 1)))) {
		nt_seterr(err, hl >= sizeof host ? "'%.40s': too long" : "no network interface '%.20s'",
			  hl >= sizeof host ? spec : pct + 1);
		return -1;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_NUMERICHOST;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host, NULL, &hints, &ai) != 0) {
		nt_seterr(err, "'%.60s' is not an IP address", host);
		return -1;
	}
	multicast = ai->ai_family == AF_INET
		    ? IN_MULTICAST(ntohl(((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr))
		    : IN6_IS_ADDR_MULTICAST(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
	memcpy(g, ai->ai_addr, ai->ai_addrlen);
	*glen = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (!multicast) {
		nt_seterr(err, "%s is not a multicast group", host);
		return -1;
	}
	return 0;
}

int sockopt_opt_join(void *field, const char *arg, char *err)
{
	struct sockopt_joins *j = field;
	struct sockaddr_storage g;
	socklen_t gl;
	unsigned ifi;

	if (join_parse(arg, &g, &gl, &ifi, err) < 0)
		return -1;
	if (j->n == SOCKOPT_JOINS) {
		nt_seterr(err, "more than %d groups", SOCKOPT_JOINS);
		return -1;
	}
	j->spec[j->n++] = arg;
	return 0;
}

int sockopt_join(int fd, const char *spec, char *err)
{
	struct sockaddr_storage g;
	socklen_t gl;
	unsigned ifi;
	int level, rc;

	if (join_parse(spec, &g, &gl, &ifi, err) < 0)
		return -1;
	level = g.ss_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
#ifdef MCAST_JOIN_GROUP
	{
		struct group_req gr;

		memset(&gr, 0, sizeof gr);
		gr.gr_interface = ifi;
		memcpy(&gr.gr_group, &g, gl);
		rc = setsockopt(fd, level, MCAST_JOIN_GROUP, &gr, sizeof gr);
	}
#else
	if (g.ss_family == AF_INET6) {
		struct ipv6_mreq m;

		m.ipv6mr_multiaddr = ((struct sockaddr_in6 *)&g)->sin6_addr;
		m.ipv6mr_interface = ifi;
		rc = setsockopt(fd, level, IPV6_JOIN_GROUP, &m, sizeof m);
	} else {
		struct ip_mreq m;

		m.imr_multiaddr = ((struct sockaddr_in *)&g)->sin_addr;
		m.imr_interface.s_addr = htonl(INADDR_ANY);
		rc = ifi ? (errno = ENOTSUP, -1) : setsockopt(fd, level, IP_ADD_MEMBERSHIP, &m, sizeof m);
	}
#endif
	if (rc < 0)
		nt_seterr(err, "--join %s: %s", spec, strerror(errno));
	return rc;
}
