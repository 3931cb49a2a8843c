#ifndef NETTOOL_PROXY_H
#define NETTOOL_PROXY_H

#include <stddef.h>

/*
 * Reaching a host through a proxy: SOCKS5 (RFC 1928, with RFC 1929's
 * username and password), SOCKS4 and SOCKS4a, and HTTP CONNECT. The
 * message codecs are pure; proxy_dial does the I/O.
 */

enum proxy_type { PROXY_NONE, PROXY_SOCKS5, PROXY_SOCKS4, PROXY_HTTP };

struct proxy {
	enum proxy_type type;
	int remote_dns;          /* the proxy resolves the target's name */
	char host[256];
	char port[8];
	char user[256], pass[256];
	int auth;
};

/* "HOST:PORT" ([v6]:PORT) with type and auth ("USER:PASS" or NULL), as
 * ncat's --proxy, --proxy-type and --proxy-auth say. 0, or -1. */
int proxy_set(struct proxy *p, const char *hostport, enum proxy_type type, const char *auth,
	      char *err);
/* --proxy, --proxy-type (0: socks5) and --proxy-auth, as tcp-client and
 * relay take them: no --proxy leaves p->type PROXY_NONE; --proxy-type or
 * --proxy-auth without it is an error. 0, or -1. */
int proxy_from_opts(struct proxy *p, const char *addr, enum proxy_type type, const char *auth,
		    char *err);
/* A curl -x URL: [SCHEME://][USER:PASS@]HOST[:PORT], SCHEME http (the
 * default), socks5, socks5h, socks4 or socks4a; the port defaults to
 * 1080. 0, or -1. */
int proxy_parse_url(const char *url, struct proxy *p, char *err);

/* The OPT_FUNC of --proxy-type: socks5, socks4 or http into an enum
 * proxy_type. */
int proxy_opt_type(void *field, const char *arg, char *err);

/* ---- the messages ---- */

/* SOCKS5 greeting: no authentication, and username/password when auth. */
size_t proxy_socks5_hello(unsigned char *out, int auth);
/* The server's method choice (2 bytes): the method, or -1 with err. */
int proxy_socks5_method(const unsigned char *p, int auth, char *err);
/* RFC 1929 request; 0 with *n, or -1 (a name or password over 255). */
int proxy_socks5_auth(unsigned char *out, size_t cap, const char *user, const char *pass,
		      size_t *n, char *err);
/* CONNECT to host (a name, or an IPv4 or IPv6 literal) and port. */
int proxy_socks5_connect(unsigned char *out, size_t cap, const char *host, unsigned port,
			 size_t *n, char *err);
/* A reply's whole length from its first 5 bytes, or -1 (malformed). */
int proxy_socks5_reply_len(const unsigned char *p, char *err);
/* The reply code's meaning (RFC 1928 section 6). */
const char *proxy_socks5_why(int rep);

/* SOCKS4 CONNECT to an IPv4 address (4 bytes), or with host, SOCKS4a's
 * name for the proxy to resolve. */
int proxy_socks4_connect(unsigned char *out, size_t cap, const unsigned char *ip4,
			 const char *host, unsigned port, const char *user, size_t *n, char *err);
/* The 8-byte reply: 90 granted, or the code (91-93) with err filled, or
 * -1 when malformed. */
int proxy_socks4_reply(const unsigned char *p, char *err);

/* An HTTP CONNECT request for host:port, with Proxy-Authorization when
 * auth ("USER:PASS"). Returns its length, or 0 when it does not fit. */
size_t proxy_http_connect(char *out, size_t cap, const char *host, unsigned port,
			  const char *auth);

/*
 * Connect to host:port through p, within timeout_ms (-1: none) for the
 * connection and each reply. Returns a blocking fd whose next byte is the
 * target's, or -1 with err filled and *status: 3 (the proxy's name does
 * not resolve), 4 (the proxy is unreachable, refuses, wants other
 * credentials, or cannot reach the target), 5 (timed out), 6 (a
 * malformed reply), 1.
 */
int proxy_dial(const struct proxy *p, const char *host, const char *port, int family,
	       int timeout_ms, int *status, char *err);

#endif
