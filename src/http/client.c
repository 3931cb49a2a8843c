/* The HTTP client's connection: the route, the request head, 100
 * Continue, the response, redirects. Bodies are in client_body.c. */
#include "nettool/http/client.h"
#include "nettool/http/client_body.h"
#include "nettool/base/buf.h"
#include "nettool/base/util.h"
#include "nettool/core/net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define EXPECT_OVER (1u << 20) /* larger bodies wait for 100 Continue, as curl's */
#define EXPECT_WAIT_MS 1000

int hc_init(struct hc_conn *c, const struct hc_route *route)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->route = route;
	c->buf = malloc(HC_BUF);
	c->hp = malloc(sizeof *c->hp);
	if (!c->buf || !c->hp) {
		hc_free(c);
		return -1;
	}
	return 0;
}

void hc_free(struct hc_conn *c)
{
	hc_close(c);
	free(c->buf);
	free(c->hp);
	buf_free(&c->raw);
	c->buf = NULL;
	c->hp = NULL;
}

void hc_close(struct hc_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->reusable = 0;
}

int hc_check_url(const char *s, struct url *u, int redirect, char *err)
{
	char e[NT_ERR_LEN];

	if (url_parse(s, u, e) < 0) {
		nt_seterr(err, "%s '%.80s': %.120s", redirect ? "bad redirect Location" : "bad URL", s, e);
		return redirect ? NT_EXIT_PROTO : NT_EXIT_USAGE;
	}
	if (!strcmp(u->scheme, "https")) {
		nt_seterr(err, "%s%.200s: https is not supported (no TLS in nettool)",
			  redirect ? "redirect to " : "", s);
		return NT_EXIT_USAGE;
	}
	if (strcmp(u->scheme, "http")) {
		nt_seterr(err, "%.200s: unsupported scheme '%s'", s, u->scheme);
		return NT_EXIT_USAGE;
	}
	return 0;
}

/* ---- the route ---- */

/* Whether no_proxy (or --noproxy) says host goes straight: "*", or an
 * entry that is the host, or a domain it ends in (".example.com" and
 * "example.com" both match "a.example.com"). */
static int no_proxy_for(const char *list, const char *host)
{
	size_t hl = strlen(host);

	while (list && *list) {
		size_t n = strcspn(list, ", ");
		const char *e = list;

		if (n == 1 && *e == '*')
			return 1;
		if (n && *e == '.') {
			e++;
			n--;
		}
		if (n && (hl == n || (hl > n && host[hl - n - 1] == '.')) &&
		    !strncasecmp(host + hl - n, e, n))
			return 1;
		list += n ? (size_t)(e - list) + n : 0;
		list += strspn(list, ", ");
	}
	return 0;
}

/* Milliseconds to connect: --connect-timeout, or what --max-time leaves
 * if sooner; -1 for no limit. */
static int connect_timeout(const struct hc_route *r)
{
	uint64_t now = util_now_ms();
	int ms = r->connect_ms > 0 ? r->connect_ms : -1;

	if (r->deadline_ms) {
		uint64_t left = r->deadline_ms > now ? r->deadline_ms - now : 1;

		if (ms < 0 || left < (uint64_t)ms)
			ms = (int)left;
	}
	return ms;
}

/* The connection's two ends, for --write-out. */
static void note_ends(struct hc_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char port[16];

	c->st.remote_ip[0] = c->st.local_ip[0] = '\0';
	c->st.remote_port = c->st.local_port = 0;
	if (getpeername(c->fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family != AF_UNIX &&
	    getnameinfo((struct sockaddr *)&ss, len, c->st.remote_ip, sizeof c->st.remote_ip, port,
			sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		c->st.remote_port = (unsigned)atoi(port);
	len = sizeof ss;
	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family != AF_UNIX &&
	    getnameinfo((struct sockaddr *)&ss, len, c->st.local_ip, sizeof c->st.local_ip, port,
			sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		c->st.local_port = (unsigned)atoi(port);
}

/* Where a direct connection to host:port goes: --connect-to's first
 * match changes the two, then --resolve's names the address. */
static void aliased(const struct hc_aliases *al, const char **host, unsigned *port, int *numeric)
{
	int i, k;

	for (k = 0; al && k < 2; k++) {
		for (i = 0; i < al->n; i++) {
			const struct hc_alias *a = &al->v[i];

			if (a->resolve != k || (a->host[0] && strcasecmp(a->host, *host)) ||
			    (a->port && a->port != *port))
				continue;
			if (a->to[0])
				*host = a->to;
			if (a->to_port)
				*port = a->to_port;
			*numeric |= a->resolve;
			break;
		}
	}
}

/* The fd connected by the route, or -1 with *status and err set. */
static int dial(struct hc_conn *c, const struct url *u, int *status, char *err)
{
	const struct hc_route *r = c->route;
	const char *np = r->noproxy ? r->noproxy
			 : getenv("no_proxy") ? getenv("no_proxy") : getenv("NO_PROXY");
	int timeout = connect_timeout(r), fd;
	struct addrinfo *ai;
	char port[8];

	snprintf(port, sizeof port, "%u", u->port);
	c->absolute = 0;
	if (r->unix_path)
		return net_dial_unix(r->unix_path, status, err);
	if (r->proxy->type == PROXY_NONE || no_proxy_for(np, u->host)) {
		const char *host = u->host;
		unsigned pn = u->port;
		int numeric = u->ipv6;

		aliased(r->aliases, &host, &pn, &numeric);
		snprintf(port, sizeof port, "%u", pn);
		/* resolved, then connected: each step's time for --write-out */
		if (net_resolve(host, port, r->family, SOCK_STREAM, numeric ? NET_NUMERIC : 0,
				&ai, err) < 0) {
			*status = NT_EXIT_RESOLVE;
			return -1;
		}
		c->st.resolved = util_now_us();
		fd = net_connect(ai, NULL, timeout, err);
		*status = fd < 0 ? net_connect_status(errno) : 0;
		freeaddrinfo(ai);
		return fd;
	}
	if (r->proxy->type != PROXY_HTTP)
		return proxy_dial(r->proxy, u->host, port, r->family, timeout, status, err);
	c->absolute = 1; /* an HTTP proxy gets the absolute URL */
	fd = net_dial(r->proxy->host, r->proxy->port, r->family, SOCK_STREAM, 0, NULL, timeout,
		      status, err);
	if (fd < 0) {
		char e2[NT_ERR_LEN];

		memcpy(e2, err, NT_ERR_LEN);
		nt_seterr(err, "proxy port %s: %.200s", r->proxy->port, e2);
	}
	return fd;
}

/* The socket's timeouts for this request: what --max-time leaves. */
static void set_timeouts(struct hc_conn *c)
{
	int ms = c->route->deadline_ms ? connect_timeout(c->route) : 0;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (ms > 0 || c->reused) {
		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	}
}

/* A kept connection that reaches u: the request goes on it. */
static int reuse(struct hc_conn *c, const char *key)
{
	struct hc_stats old = c->st;

	if (c->fd < 0 || !c->reusable || strcmp(key, c->key))
		return 0;
	c->reusable = 0;
	c->reused = 1;
	memset(&c->st, 0, sizeof c->st);
	c->st.connects = old.connects;
	c->st.resolved = c->st.connected = util_now_us();
	memcpy(c->st.remote_ip, old.remote_ip, sizeof old.remote_ip);
	memcpy(c->st.local_ip, old.local_ip, sizeof old.local_ip);
	c->st.remote_port = old.remote_port;
	c->st.local_port = old.local_port;
	set_timeouts(c);
	return 1;
}

int hc_open(struct hc_conn *c, const struct url *u, char *err)
{
	int status, one = 1;
	unsigned long connects = c->st.connects;
	char key[300];

	snprintf(key, sizeof key, "%s:%u", u->host, u->port);
	if (reuse(c, key))
		return 0;
	hc_close(c);
	c->reused = c->reusable = 0;
	memset(&c->st, 0, sizeof c->st);
	c->st.connects = connects;
	c->fd = dial(c, u, &status, err);
	if (c->fd < 0) {
		if (status == NT_EXIT_TIMEOUT && c->route->deadline_ms &&
		    util_now_ms() >= c->route->deadline_ms)
			nt_seterr(err, "--max-time: the operation timed out while connecting");
		return status;
	}
	c->st.connected = util_now_us();
	if (!c->st.resolved)
		c->st.resolved = c->st.connected; /* through a proxy: one step */
	c->st.connects++;
	note_ends(c);
	/* a head and then its body, or a request on a kept connection: none
	 * waits for an acknowledgement (Nagle), as in curl */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	set_timeouts(c);
	memcpy(c->key, key, sizeof key);
	return 0;
}

/* ---- the request head ---- */

/* The -H header replacing name, or NULL. */
static const char *extra_for(const struct hc_request *rq, const char *name)
{
	size_t nl = strlen(name);
	int i;

	for (i = 0; i < rq->nheaders; i++) {
		const char *h = rq->headers[i], *c = strchr(h, ':');

		if (c && (size_t)(c - h) == nl && !strncasecmp(h, name, nl))
			return h;
	}
	return NULL;
}

static void add_header(struct buf *b, const struct hc_request *rq, const char *name,
		       const char *value)
{
	const char *x = extra_for(rq, name);

	if (x && x[strlen(name) + 1 + strspn(x + strlen(name) + 1, " \t")])
		buf_printf(b, "%s\r\n", x);
	else if (!x && value)
		buf_printf(b, "%s: %s\r\n", name, value);
}

/* name: Basic credentials (RFC 7617) for "USER:PASS", or the -H given. */
static int add_basic(struct buf *b, const struct hc_request *rq, const char *name,
		     const char *cred)
{
	char *v = malloc(6 + 4 * (strlen(cred) / 3 + 1) + 1);

	if (!v)
		return -1;
	memcpy(v, "Basic ", 6);
	util_base64((const unsigned char *)cred, strlen(cred), v + 6);
	add_header(b, rq, name, v);
	free(v);
	return 0;
}

/* Whether to wait for 100 Continue before the body: as -H Expect says,
 * else for a large body or one of unknown length. */
static int wants_continue(const struct hc_request *rq)
{
	const char *x = extra_for(rq, "Expect");

	if (x)
		return http_has_token(x + 7, "100-continue");
	return rq->body->kind == HC_BODY_STREAM || rq->body->len > EXPECT_OVER;
}

/* Content-Type, Content-Length or Transfer-Encoding, and Expect. */
static void body_headers(struct hc_conn *c, const struct hc_request *rq, struct buf *b)
{
	const struct hc_body *bd = rq->body;
	char len[32], ctype[80];
	const char *type = bd->kind == HC_BODY_MEM ? bd->type : NULL;

	if (bd->kind == HC_BODY_FORM) {
		snprintf(ctype, sizeof ctype, "multipart/form-data; boundary=%s", bd->boundary);
		type = ctype;
	}
	add_header(b, rq, "Content-Type", type);
	if (bd->kind == HC_BODY_STREAM) {
		add_header(b, rq, "Transfer-Encoding", "chunked");
	} else {
		snprintf(len, sizeof len, "%llu", (unsigned long long)bd->len);
		add_header(b, rq, "Content-Length", len);
	}
	c->expect = wants_continue(rq);
	add_header(b, rq, "Expect", c->expect ? "100-continue" : NULL);
}

/* Authorization: -u, else the URL's user information, else none but an
 * -H one, and that to the first host only. */
static int auth_headers(struct hc_conn *c, const struct hc_request *rq, const struct url *u,
			struct buf *b)
{
	const struct proxy *px = c->route->proxy;

	if (c->absolute && px->auth) {
		char cred[520];

		snprintf(cred, sizeof cred, "%s:%s", px->user, px->pass);
		if (add_basic(b, rq, "Proxy-Authorization", cred) < 0)
			return -1;
	}
	if (rq->user && rq->send_auth)
		return add_basic(b, rq, "Authorization", rq->user);
	if (u->has_userinfo) {
		char ui[256];

		memcpy(ui, u->userinfo, sizeof ui);
		return url_unescape(ui) < 0 ? -1 : add_basic(b, rq, "Authorization", ui);
	}
	if (rq->send_auth)
		add_header(b, rq, "Authorization", NULL);
	return 0;
}

static int build_head(struct hc_conn *c, const struct hc_request *rq, const struct url *u,
		      struct buf *b)
{
	/* the last four are ours only with a body */
	static const char *std[] = { "Host", "User-Agent", "Accept", "Connection", "Cookie", "Referer",
				     "Authorization", "Range", "Expect", "Transfer-Encoding",
				     "Content-Type", "Content-Length" };
	char host[300], range[128];
	int i;
	size_t k;

	url_host_header(u, host, sizeof host);
	if (c->absolute)
		buf_printf(b, "%s http://%s%s HTTP/1.1\r\n", rq->method, host, u->target);
	else
		buf_printf(b, "%s %s HTTP/1.1\r\n", rq->method, u->target);
	add_header(b, rq, "Host", host);
	add_header(b, rq, "User-Agent", !rq->agent ? "nettool/" NT_VERSION
					: *rq->agent ? rq->agent : NULL);
	add_header(b, rq, "Accept", rq->accept_json && rq->send_body ? "application/json" : "*/*");
	add_header(b, rq, "Connection", c->keepalive ? NULL : "close");
	add_header(b, rq, "Cookie", rq->cookie);
	add_header(b, rq, "Referer", rq->referer);
	if (auth_headers(c, rq, u, b) < 0)
		return -1;
	c->expect = 0;
	if (rq->send_body)
		body_headers(c, rq, b);
	if (rq->from > 0)
		snprintf(range, sizeof range, "bytes=%lld-", rq->from);
	else if (rq->range)
		snprintf(range, sizeof range, "bytes=%.40s", rq->range);
	add_header(b, rq, "Range", rq->from > 0 || rq->range ? range : NULL);
	for (i = 0; i < rq->nheaders; i++) {
		const char *h = rq->headers[i], *colon = strchr(h, ':');
		int known = 0;

		for (k = 0; k < sizeof std / sizeof std[0] - (rq->send_body ? 0 : 4); k++)
			known |= (size_t)(colon - h) == strlen(std[k]) &&
				 !strncasecmp(h, std[k], strlen(std[k]));
		if (!known && colon[1] != '\0')
			buf_printf(b, "%s\r\n", h);
	}
	buf_printf(b, "\r\n");
	return 0;
}

/* ---- sending ---- */

/* After a head with Expect: 100-continue. 1: send the body (100 came, or
 * nothing within a second); 0: a final answer came first and waits in
 * c->pre, or the server closed. */
static int await_continue(struct hc_conn *c)
{
	uint64_t until = util_now_ms() + EXPECT_WAIT_MS;

	for (;;) {
		struct pollfd pf = { c->fd, POLLIN, 0 };
		uint64_t now = util_now_ms();
		char *end;
		ssize_t n;
		int r;

		if (c->pre_len >= 12 && (strncmp(c->pre, "HTTP/1.", 7) || c->pre[9] != '1'))
			return 0; /* not informational: the answer */
		c->pre[c->pre_len] = '\0';
		if (c->pre_len >= 12 && (end = strstr(c->pre, "\r\n\r\n"))) {
			size_t hl = (size_t)(end + 4 - c->pre);
			int cont = !strncmp(c->pre + 9, "100", 3);

			memmove(c->pre, c->pre + hl, c->pre_len - hl);
			c->pre_len -= hl;
			if (cont)
				return 1;
			continue; /* another 1xx: wait on */
		}
		if (c->pre_len + 1 >= sizeof c->pre)
			return 0; /* the parser will say what is wrong */
		r = now >= until ? 0 : poll(&pf, 1, (int)(until - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 1;
		n = recv(c->fd, c->pre + c->pre_len, sizeof c->pre - 1 - c->pre_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		c->pre_len += (size_t)n;
	}
}

static int send_fail(const struct hc_request *rq, char *err)
{
	if (errno == ESPIPE) {
		nt_seterr(err, "%.200s: the file changed size while it was sent",
			  rq->body->kind == HC_BODY_FORM ? "-F" : rq->body->path);
		return NT_EXIT_FAIL;
	}
	if (errno == EILSEQ) {
		nt_seterr(err, "-F: a file contains the multipart boundary; try again");
		return NT_EXIT_FAIL;
	}
	nt_seterr(err, "send: %s", strerror(errno));
	return errno == EAGAIN || errno == EWOULDBLOCK ? NT_EXIT_TIMEOUT : NT_EXIT_FAIL;
}

int hc_send(struct hc_conn *c, const struct hc_request *rq, const struct url *u, char *err)
{
	struct buf head = { NULL, 0, 0 };
	int rc = 0;

	c->pre_len = 0;
	if (build_head(c, rq, u, &head) < 0) {
		buf_free(&head);
		nt_seterr(err, "bad escape in the user information of the URL");
		return NT_EXIT_USAGE;
	}
	if (c->trace)
		c->trace(c->ctx, "> ", head.data, head.len);
	c->st.sent_head = util_now_us();
	c->st.head_out = head.len;
	if (net_write_full(c->fd, head.data, head.len) < 0) {
		rc = -1;
	} else if (rq->send_body && (!c->expect || await_continue(c))) {
		c->up_done = 0;
		c->up_total = rq->body->kind == HC_BODY_STREAM ? 0 : rq->body->len;
		rc = hc_body_send(c, rq->body);
	}
	buf_free(&head);
	if (rc < 0 && errno != EPIPE && errno != ECONNRESET)
		return send_fail(rq, err);
	return 0;
}

/* ---- the response ---- */

void hc_head_text(const struct http_parser *hp, struct buf *b)
{
	size_t i;

	buf_printf(b, "HTTP/1.%d %d %s\r\n", hp->minor, hp->status, hp->reason);
	for (i = 0; i < hp->nfields; i++)
		buf_printf(b, "%s: %s\r\n", hp->fields[i].name, hp->fields[i].value);
	buf_printf(b, "\r\n");
}

static int read_fail(const struct hc_conn *c, char *err)
{
	if (c->route->deadline_ms && util_now_ms() + 5 >= c->route->deadline_ms &&
	    (errno == ETIMEDOUT || errno == EAGAIN || errno == EWOULDBLOCK)) {
		nt_seterr(err, "--max-time: the operation timed out waiting for %s",
			  c->hp->state ? "the body" : "the response");
		return NT_EXIT_TIMEOUT;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		nt_seterr(err, "timed out waiting for %s", c->hp->state ? "the body" : "the response");
		return NT_EXIT_TIMEOUT;
	}
	nt_seterr(err, "receive: %s", strerror(errno));
	return errno == ECONNRESET ? NT_EXIT_PROTO : NT_EXIT_FAIL;
}

/* The next bytes of the response into c->buf: what came while waiting
 * for 100 Continue first. Their count, 0 at the end, or -1. */
static ssize_t next_bytes(struct hc_conn *c)
{
	ssize_t n;

	if (c->pre_len) {
		memcpy(c->buf, c->pre, c->pre_len);
		n = (ssize_t)c->pre_len;
		c->pre_len = 0;
		return n;
	}
	if (c->route->deadline_ms && util_now_ms() >= c->route->deadline_ms) {
		errno = ETIMEDOUT; /* --max-time: a trickle ends here too */
		return -1;
	}
	do
		n = read(c->fd, c->buf, HC_BUF);
	while (n < 0 && errno == EINTR);
	if (n > 0 && !c->st.first_byte)
		c->st.first_byte = util_now_us();
	return n;
}

/* One parser event: 0 (*go set to read on), or an exit status (-1: a
 * hook's quiet end). */
static int on_event(struct hc_conn *c, enum http_event ev, const struct hc_sink *s, int *go,
		    char *err)
{
	*go = ev != HTTP_EV_DONE;
	if (ev == HTTP_EV_ERROR) {
		nt_seterr(err, "%s", c->hp->err);
		return NT_EXIT_PROTO;
	}
	if (ev == HTTP_EV_HEAD) {
		if (c->trace) {
			struct buf b = { NULL, 0, 0 };

			hc_head_text(c->hp, &b);
			c->trace(c->ctx, "< ", b.data, b.len);
			buf_free(&b);
		}
		return s->head(s->ctx, c->hp, go);
	}
	if (ev == HTTP_EV_BODY)
		return s->body(s->ctx, c->hp->ev_data, c->hp->ev_len);
	return 0;
}

/* Whether the connection stays open after this answer (RFC 9112 9.3). */
static int keeps(const struct hc_conn *c, const struct hc_request *rq)
{
	const char *conn = http_field(c->hp, "Connection"), *mine = extra_for(rq, "Connection");

	return c->keepalive && c->hp->minor >= 1 && c->hp->body != HTTP_BODY_CLOSE &&
	       !(conn && http_has_token(conn, "close")) &&
	       !(mine && http_has_token(mine + 11, "close"));
}

int hc_receive(struct hc_conn *c, const struct hc_request *rq, const struct hc_sink *s,
	       char *err)
{
	int in_head = 1;

	nt_seterr(err, "%s", "");
	c->reusable = 0;
	http_parser_init(c->hp, 0);
	c->hp->head_request = !strcmp(rq->method, "HEAD");
	c->raw.len = 0;
	for (;;) {
		ssize_t n = next_bytes(c);
		size_t off = 0;
		int more = 0; /* after a head or a body piece, the end may be next */

		if (n < 0)
			return read_fail(c, err);
		while (n == 0 || off < (size_t)n || more) {
			size_t used = 0;
			enum http_event ev = n ? http_parse(c->hp, c->buf + off, (size_t)n - off, &used)
					       : http_parse_eof(c->hp);
			int rc, go;

			/* the heads' bytes as they came (1xx ones too), for -D and -i */
			if (in_head && c->raw.len + used <= 2 * HTTP_MAX_HEAD &&
			    buf_append(&c->raw, c->buf + off, used) < 0)
				c->raw.len = 0;
			in_head &= ev != HTTP_EV_HEAD;
			more = n && (ev == HTTP_EV_HEAD || ev == HTTP_EV_BODY);
			off += used;
			if (ev == HTTP_EV_NEED)
				break;
			if ((rc = on_event(c, ev, s, &go, err)) != 0 || !go) {
				/* the whole answer read, and nothing past it */
				c->reusable = ev == HTTP_EV_DONE && !rc && n > 0 &&
					      off == (size_t)n && keeps(c, rq);
				return rc;
			}
		}
	}
}

/* ---- redirects ---- */

int hc_is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

int hc_redirect(struct hc_request *rq, const struct http_parser *hp, const char *cur,
		char *next, char *err)
{
	char e[NT_ERR_LEN];

	if ((hp->status == 303 && strcmp(rq->method, "HEAD")) ||
	    ((hp->status == 301 || hp->status == 302) && !strcmp(rq->method, "POST"))) {
		snprintf(rq->method, sizeof rq->method, "GET");
		rq->send_body = 0;
	}
	if (rq->send_body && rq->body->pipe_used) {
		nt_seterr(err, "a %d redirect asks for the body again, but it was read from a pipe",
			  hp->status);
		return NT_EXIT_PROTO;
	}
	if (url_resolve(cur, http_field(hp, "Location"), next, URL_MAX, e) < 0) {
		nt_seterr(err, "bad redirect Location: %.200s", e);
		return NT_EXIT_PROTO;
	}
	return 0;
}
