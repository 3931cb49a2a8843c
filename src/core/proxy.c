#include "nettool/core/proxy.h"
#include "nettool/proto/http.h"
#include "nettool/core/net.h"
#include "nettool/proto/url.h"
#include "nettool/base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_PORT "1080"

/* HOST:PORT or [V6]:PORT into p->host and p->port. */
static int split_hostport(const char *s, struct proxy *p, const char *def_port, char *err)
{
	const char *colon, *host = s;
	size_t hl;
	unsigned port;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || (close[1] && close[1] != ':')) {
			nt_seterr(err, "bad proxy address '%s'", s);
			return -1;
		}
		host = s + 1;
		hl = (size_t)(close - host);
		colon = close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = strrchr(s, ':');
		hl = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (!hl || hl >= sizeof p->host || (!colon && !def_port)) {
		nt_seterr(err, "bad proxy address '%s' (expected HOST:PORT)", s);
		return -1;
	}
	memcpy(p->host, host, hl);
	p->host[hl] = '\0';
	if (util_parse_port(colon ? colon + 1 : def_port, 0, &port, err) < 0)
		return -1;
	snprintf(p->port, sizeof p->port, "%u", port);
	return 0;
}

static int split_auth(struct proxy *p, const char *auth, size_t n, char *err)
{
	const char *colon = memchr(auth, ':', n);

	if (!colon || (size_t)(colon - auth) >= sizeof p->user ||
	    n - (size_t)(colon - auth) - 1 >= sizeof p->pass) {
		nt_seterr(err, "bad proxy credentials (expected USER:PASS)");
		return -1;
	}
	memcpy(p->user, auth, (size_t)(colon - auth));
	p->user[colon - auth] = '\0';
	memcpy(p->pass, colon + 1, n - (size_t)(colon - auth) - 1);
	p->pass[n - (size_t)(colon - auth) - 1] = '\0';
	p->auth = 1;
	return 0;
}

int proxy_set(struct proxy *p, const char *hostport, enum proxy_type type, const char *auth,
	      char *err)
{
	memset(p, 0, sizeof *p);
	p->type = type;
	p->remote_dns = 1;
	if (split_hostport(hostport, p, NULL, err) < 0)
		return -1;
	return auth ? split_auth(p, auth, strlen(auth), err) : 0;
}

int proxy_from_opts(struct proxy *p, const char *addr, enum proxy_type type, const char *auth,
		    char *err)
{
	memset(p, 0, sizeof *p);
	if ((type || auth) && !addr) {
		nt_seterr(err, "--proxy-type and --proxy-auth need --proxy HOST:PORT");
		return -1;
	}
	return addr ? proxy_set(p, addr, type ? type : PROXY_SOCKS5, auth, err) : 0;
}

int proxy_parse_url(const char *url, struct proxy *p, char *err)
{
	static const struct {
		const char *scheme;
		enum proxy_type type;
		int remote_dns;
	} schemes[] = { { "http", PROXY_HTTP, 1 }, { "socks5", PROXY_SOCKS5, 0 },
			{ "socks5h", PROXY_SOCKS5, 1 }, { "socks4", PROXY_SOCKS4, 0 },
			{ "socks4a", PROXY_SOCKS4, 1 } };
	const char *sep = strstr(url, "://"), *rest = sep ? sep + 3 : url, *at, *end;
	char hostport[300];
	size_t i, n;

	memset(p, 0, sizeof *p);
	p->type = PROXY_HTTP;
	p->remote_dns = 1;
	if (sep) {
		for (i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
			if ((size_t)(sep - url) == strlen(schemes[i].scheme) &&
			    !strncasecmp(url, schemes[i].scheme, (size_t)(sep - url)))
				break;
		if (i == sizeof schemes / sizeof schemes[0]) {
			nt_seterr(err, "proxy '%s': unknown scheme (http, socks5, socks5h, socks4, "
				  "socks4a)", url);
			return -1;
		}
		p->type = schemes[i].type;
		p->remote_dns = schemes[i].remote_dns;
	}
	end = rest + strcspn(rest, "/?#");
	at = memchr(rest, '@', (size_t)(end - rest));
	if (at) {
		char auth[520];

		n = (size_t)(at - rest);
		if (n >= sizeof auth) {
			nt_seterr(err, "proxy credentials too long");
			return -1;
		}
		memcpy(auth, rest, n);
		auth[n] = '\0';
		if (url_unescape(auth) < 0 || split_auth(p, auth, strlen(auth), err) < 0)
			return -1;
		rest = at + 1;
	}
	n = (size_t)(end - rest);
	if (n >= sizeof hostport || (*end && strcmp(end, "/"))) {
		nt_seterr(err, "bad proxy '%s'", url);
		return -1;
	}
	memcpy(hostport, rest, n);
	hostport[n] = '\0';
	return split_hostport(hostport, p, DEFAULT_PORT, err);
}

int proxy_opt_type(void *field, const char *arg, char *err)
{
	enum proxy_type *t = field;

	if (!strcmp(arg, "socks5"))
		*t = PROXY_SOCKS5;
	else if (!strcmp(arg, "socks4"))
		*t = PROXY_SOCKS4;
	else if (!strcmp(arg, "http"))
		*t = PROXY_HTTP;
	else {
		nt_seterr(err, "unknown proxy type '%s' (socks5, socks4 or http)", arg);
		return -1;
	}
	return 0;
}

/* ---- messages ---- */

size_t proxy_socks5_hello(unsigned char *out, int auth)
{
	out[0] = 5;
	out[1] = auth ? 2 : 1;
	out[2] = 0;
	out[3] = 2;
	return auth ? 4 : 3;
}

int proxy_socks5_method(const unsigned char *p, int auth, char *err)
{
	if (p[0] != 5) {
		nt_seterr(err, "not a SOCKS5 proxy (version %u)", p[0]);
		return -1;
	}
	if (p[1] == 0 || (p[1] == 2 && auth))
		return p[1];
	if (p[1] == 0xff)
		nt_seterr(err, "the SOCKS5 proxy accepts none of our methods%s",
			  auth ? "" : " (it may want a username and password)");
	else
		nt_seterr(err, "the SOCKS5 proxy chose method %u, which we did not offer", p[1]);
	return -1;
}

int proxy_socks5_auth(unsigned char *out, size_t cap, const char *user, const char *pass,
		      size_t *n, char *err)
{
	size_t ul = strlen(user), pl = strlen(pass);

	if (ul > 255 || pl > 255 || 3 + ul + pl > cap) {
		nt_seterr(err, "SOCKS5 username and password are at most 255 bytes each");
		return -1;
	}
	out[0] = 1;
	out[1] = (unsigned char)ul;
	memcpy(out + 2, user, ul);
	out[2 + ul] = (unsigned char)pl;
	memcpy(out + 3 + ul, pass, pl);
	*n = 3 + ul + pl;
	return 0;
}

int proxy_socks5_connect(unsigned char *out, size_t cap, const char *host, unsigned port,
			 size_t *n, char *err)
{
	unsigned char a[16];
	size_t hl = strlen(host), i = 4;

	if (cap < 262) {
		nt_seterr(err, "no room");
		return -1;
	}
	out[0] = 5;
	out[1] = 1; /* CONNECT */
	out[2] = 0;
	if (inet_pton(AF_INET, host, a) == 1) {
		out[3] = 1;
		memcpy(out + 4, a, 4);
		i += 4;
	} else if (inet_pton(AF_INET6, host, a) == 1) {
		out[3] = 4;
		memcpy(out + 4, a, 16);
		i += 16;
	} else {
		if (hl == 0 || hl > 255) {
			nt_seterr(err, "host name '%s' too long for SOCKS5", host);
			return -1;
		}
		out[3] = 3;
		out[4] = (unsigned char)hl;
		memcpy(out + 5, host, hl);
		i += 1 + hl;
	}
	out[i++] = (unsigned char)(port >> 8);
	out[i++] = (unsigned char)port;
	*n = i;
	return 0;
}

int proxy_socks5_reply_len(const unsigned char *p, char *err)
{
	if (p[0] != 5 || p[2] != 0) {
		nt_seterr(err, "malformed SOCKS5 reply (version %u)", p[0]);
		return -1;
	}
	switch (p[3]) {
	case 1: return 4 + 4 + 2;
	case 4: return 4 + 16 + 2;
	case 3: return 4 + 1 + p[4] + 2;
	default:
		nt_seterr(err, "malformed SOCKS5 reply (address type %u)", p[3]);
		return -1;
	}
}

const char *proxy_socks5_why(int rep)
{
	static const char *const why[] = { "succeeded", "general SOCKS server failure",
		"connection not allowed by ruleset", "network unreachable", "host unreachable",
		"connection refused", "TTL expired", "command not supported",
		"address type not supported" };

	return rep >= 0 && rep < 9 ? why[rep] : "unknown reply code";
}

int proxy_socks4_connect(unsigned char *out, size_t cap, const unsigned char *ip4,
			 const char *host, unsigned port, const char *user, size_t *n, char *err)
{
	size_t ul = strlen(user), hl = host ? strlen(host) : 0;

	if (9 + ul + (host ? hl + 1 : 0) > cap || hl > 255) {
		nt_seterr(err, "SOCKS4 request too long");
		return -1;
	}
	out[0] = 4;
	out[1] = 1;
	out[2] = (unsigned char)(port >> 8);
	out[3] = (unsigned char)port;
	if (host) { /* 4a: 0.0.0.x, x not 0, then the name */
		memcpy(out + 4, "\0\0\0\1", 4);
	} else {
		memcpy(out + 4, ip4, 4);
	}
	memcpy(out + 8, user, ul + 1);
	*n = 9 + ul;
	if (host) {
		memcpy(out + *n, host, hl + 1);
		*n += hl + 1;
	}
	return 0;
}

int proxy_socks4_reply(const unsigned char *p, char *err)
{
	static const char *const why[] = { "request rejected or failed",
		"the proxy cannot reach our identd", "identd reported another user" };

	if (p[0] != 0 || p[1] < 90 || p[1] > 93) {
		nt_seterr(err, "malformed SOCKS4 reply (%u %u)", p[0], p[1]);
		return -1;
	}
	if (p[1] != 90)
		nt_seterr(err, "SOCKS4 proxy: %s", why[p[1] - 91]);
	return p[1];
}

size_t proxy_http_connect(char *out, size_t cap, const char *host, unsigned port,
			  const char *auth)
{
	char hp[300], b64[700];
	int n;

	snprintf(hp, sizeof hp, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
	if (auth && strlen(auth) < 500)
		util_base64((const unsigned char *)auth, strlen(auth), b64);
	n = snprintf(out, cap, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%s\r\n", hp, hp,
		     auth ? "Proxy-Authorization: Basic " : "", auth ? b64 : "", auth ? "\r\n" : "");
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* ---- the handshake ---- */

/* Exactly n bytes, within timeout_ms for each wait. 0, or -1 with errno
 * (ETIMEDOUT, or 0 when the proxy closed). */
static int read_exact(int fd, unsigned char *p, size_t n, int timeout_ms)
{
	while (n) {
		struct pollfd pf = { fd, POLLIN, 0 };
		int r = poll(&pf, 1, timeout_ms);
		ssize_t got;

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		do
			got = read(fd, p, n);
		while (got < 0 && errno == EINTR);
		if (got <= 0) {
			if (got == 0)
				errno = 0;
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/* A failed read: the status, err filled. */
static int read_status(const char *what, char *err)
{
	if (errno == ETIMEDOUT) {
		nt_seterr(err, "proxy: timed out waiting for %s", what);
		return NT_EXIT_TIMEOUT;
	}
	nt_seterr(err, "proxy: %s while waiting for %s", errno ? strerror(errno) :
		  "the connection closed", what);
	return errno == ECONNRESET || errno == 0 ? NT_EXIT_PROTO : NT_EXIT_FAIL;
}

static int socks5(int fd, const struct proxy *p, const char *host, unsigned port, int tmo,
		  char *err)
{
	unsigned char b[600];
	size_t n = proxy_socks5_hello(b, p->auth);
	int m, len;

	if (net_write_full(fd, b, n) < 0 || read_exact(fd, b, 2, tmo) < 0)
		return read_status("the SOCKS5 method", err);
	if ((m = proxy_socks5_method(b, p->auth, err)) < 0)
		return b[0] == 5 ? NT_EXIT_REFUSED : NT_EXIT_PROTO;
	if (m == 2) {
		if (proxy_socks5_auth(b, sizeof b, p->user, p->pass, &n, err) < 0)
			return NT_EXIT_USAGE;
		if (net_write_full(fd, b, n) < 0 || read_exact(fd, b, 2, tmo) < 0)
			return read_status("the SOCKS5 authentication", err);
		if (b[0] != 1) {
			nt_seterr(err, "malformed SOCKS5 authentication reply");
			return NT_EXIT_PROTO;
		}
		if (b[1] != 0) {
			nt_seterr(err, "the SOCKS5 proxy refused the username and password");
			return NT_EXIT_REFUSED;
		}
	}
	if (proxy_socks5_connect(b, sizeof b, host, port, &n, err) < 0)
		return NT_EXIT_USAGE;
	if (net_write_full(fd, b, n) < 0 || read_exact(fd, b, 5, tmo) < 0)
		return read_status("the SOCKS5 reply", err);
	if ((len = proxy_socks5_reply_len(b, err)) < 0)
		return NT_EXIT_PROTO;
	if (read_exact(fd, b + 5, (size_t)len - 5, tmo) < 0)
		return read_status("the SOCKS5 reply", err);
	if (b[1] != 0) {
		nt_seterr(err, "the SOCKS5 proxy could not connect to %s port %u: %s", host, port,
			  proxy_socks5_why(b[1]));
		return NT_EXIT_REFUSED;
	}
	return 0;
}

static int socks4(int fd, const struct proxy *p, const char *host, unsigned port, int family,
		  int tmo, char *err)
{
	unsigned char b[600], ip[4];
	size_t n;
	int rc;

	if (!p->remote_dns || inet_pton(AF_INET, host, ip) == 1) {
		struct addrinfo *res;
		char ps[8];

		snprintf(ps, sizeof ps, "%u", port);
		if (net_resolve(host, ps, family == AF_UNSPEC ? AF_INET : family, SOCK_STREAM, 0,
				&res, err) < 0)
			return NT_EXIT_RESOLVE;
		if (res->ai_family != AF_INET) {
			freeaddrinfo(res);
			nt_seterr(err, "SOCKS4 reaches IPv4 addresses only");
			return NT_EXIT_USAGE;
		}
		memcpy(ip, &((struct sockaddr_in *)res->ai_addr)->sin_addr, 4);
		freeaddrinfo(res);
		host = NULL;
	}
	if (proxy_socks4_connect(b, sizeof b, ip, host, port, p->auth ? p->user : "", &n, err) < 0)
		return NT_EXIT_USAGE;
	if (net_write_full(fd, b, n) < 0 || read_exact(fd, b, 8, tmo) < 0)
		return read_status("the SOCKS4 reply", err);
	rc = proxy_socks4_reply(b, err);
	return rc < 0 ? NT_EXIT_PROTO : rc != 90 ? NT_EXIT_REFUSED : 0;
}

static int http_connect(int fd, const struct proxy *p, const char *host, unsigned port, int tmo,
			char *err)
{
	char req[1400], auth[520];
	struct http_parser *hp = malloc(sizeof *hp);
	enum http_event ev = HTTP_EV_NEED;
	int rc = 0;
	size_t n;

	snprintf(auth, sizeof auth, "%s:%s", p->user, p->pass);
	n = proxy_http_connect(req, sizeof req, host, port, p->auth ? auth : NULL);
	if (!hp || !n) {
		free(hp);
		nt_seterr(err, "out of memory");
		return NT_EXIT_FAIL;
	}
	http_parser_init(hp, 0);
	hp->head_request = 1; /* a 2xx to CONNECT has no body: the tunnel follows */
	if (net_write_full(fd, req, n) < 0)
		rc = read_status("the proxy's answer", err);
	/* byte by byte, so that nothing of the tunnel is read */
	while (rc == 0 && ev == HTTP_EV_NEED) {
		unsigned char c;
		size_t used;

		if (read_exact(fd, &c, 1, tmo) < 0) {
			rc = read_status("the proxy's answer to CONNECT", err);
			break;
		}
		ev = http_parse(hp, (char *)&c, 1, &used);
	}
	if (rc == 0 && ev == HTTP_EV_ERROR) {
		nt_seterr(err, "malformed answer from the HTTP proxy: %s", hp->err);
		rc = NT_EXIT_PROTO;
	} else if (rc == 0 && (hp->status < 200 || hp->status > 299)) {
		nt_seterr(err, "the HTTP proxy answered CONNECT with %d %s%s", hp->status, hp->reason,
			  hp->status == 407 ? " (it wants credentials: --proxy-auth)" : "");
		rc = NT_EXIT_REFUSED;
	}
	free(hp);
	return rc;
}

/* socks5:// (not socks5h://): the name is resolved here, the address
 * sent. */
static int local_name(const char *host, const char *port, int family, const char **out,
		      char *lit, char *err)
{
	struct addrinfo *res;

	if (net_resolve(host, port, family, SOCK_STREAM, 0, &res, err) < 0)
		return -1;
	if (res->ai_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, lit,
			  INET6_ADDRSTRLEN);
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, lit,
			  INET6_ADDRSTRLEN);
	freeaddrinfo(res);
	*out = lit;
	return 0;
}

int proxy_dial(const struct proxy *p, const char *host, const char *port, int family,
	       int timeout_ms, int *status, char *err)
{
	char perr[NT_ERR_LEN], lit[INET6_ADDRSTRLEN];
	unsigned pn;
	int fd, rc;

	if (util_parse_port(port, 0, &pn, err) < 0) {
		*status = NT_EXIT_USAGE;
		return -1;
	}
	fd = net_dial(p->host, p->port, AF_UNSPEC, SOCK_STREAM, 0, NULL, timeout_ms, status, perr);
	if (fd < 0) {
		nt_seterr(err, "proxy %s port %s: %s", p->host, p->port, perr);
		return -1;
	}
	if (p->type == PROXY_SOCKS5 && !p->remote_dns && local_name(host, port, family, &host,
								     lit, err) < 0) {
		close(fd);
		*status = NT_EXIT_RESOLVE;
		return -1;
	}
	rc = p->type == PROXY_SOCKS5 ? socks5(fd, p, host, pn, timeout_ms, err)
	     : p->type == PROXY_SOCKS4 ? socks4(fd, p, host, pn, family, timeout_ms, err)
	     : http_connect(fd, p, host, pn, timeout_ms, err);
	if (rc) {
		close(fd);
		*status = rc;
		return -1;
	}
	return fd;
}
