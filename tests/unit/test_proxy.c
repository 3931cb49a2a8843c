#include "check.h"
#include "nettool/core/proxy.h"
#include "nettool/base/util.h"

#include <string.h>

static void urls_and_addresses(void)
{
	struct proxy p;
	char err[NT_ERR_LEN];

	CHECK(proxy_parse_url("socks5h://u:p%40ss@proxy.example:1081", &p, err) == 0);
	CHECK(p.type == PROXY_SOCKS5 && p.remote_dns && !strcmp(p.host, "proxy.example") &&
	      !strcmp(p.port, "1081") && p.auth && !strcmp(p.user, "u") && !strcmp(p.pass, "p@ss"));
	CHECK(proxy_parse_url("socks5://[::1]", &p, err) == 0 && !p.remote_dns &&
	      !strcmp(p.host, "::1") && !strcmp(p.port, "1080"));
	CHECK(proxy_parse_url("10.0.0.1:3128", &p, err) == 0 && p.type == PROXY_HTTP &&
	      !strcmp(p.port, "3128"));
	CHECK(proxy_parse_url("socks4a://h/", &p, err) == 0 && p.type == PROXY_SOCKS4 && p.remote_dns);
	CHECK(proxy_parse_url("gopher://h:70", &p, err) < 0 && strstr(err, "unknown scheme"));
	CHECK(proxy_parse_url("http://h:99999", &p, err) < 0);
	CHECK(proxy_parse_url("http://h:80/path", &p, err) < 0);
	CHECK(proxy_set(&p, "127.0.0.1:1080", PROXY_SOCKS5, "a:b", err) == 0 && p.auth);
	CHECK(proxy_set(&p, "127.0.0.1", PROXY_SOCKS5, NULL, err) < 0);
	CHECK(proxy_set(&p, "h:1", PROXY_SOCKS5, "nocolon", err) < 0);
}

static void socks_messages(void)
{
	unsigned char b[600];
	char err[NT_ERR_LEN], http[600];
	size_t n;

	CHECK(proxy_socks5_hello(b, 1) == 4 && !memcmp(b, "\5\2\0\2", 4));
	CHECK(proxy_socks5_method((const unsigned char *)"\5\0", 0, err) == 0);
	CHECK(proxy_socks5_method((const unsigned char *)"\5\377", 0, err) < 0);
	CHECK(proxy_socks5_method((const unsigned char *)"\5\2", 0, err) < 0); /* not offered */
	CHECK(proxy_socks5_auth(b, sizeof b, "me", "pw", &n, err) == 0 && n == 7 &&
	      !memcmp(b, "\1\2me\2pw", 7));
	CHECK(proxy_socks5_connect(b, sizeof b, "example.org", 443, &n, err) == 0 && n == 18 &&
	      !memcmp(b, "\5\1\0\3\13example.org\1\273", 18));
	CHECK(proxy_socks5_connect(b, sizeof b, "10.1.2.3", 80, &n, err) == 0 && n == 10 &&
	      !memcmp(b, "\5\1\0\1\12\1\2\3\0\120", 10));
	CHECK(proxy_socks5_connect(b, sizeof b, "::1", 80, &n, err) == 0 && n == 22 && b[3] == 4);
	CHECK(proxy_socks5_reply_len((const unsigned char *)"\5\0\0\1\0", err) == 10);
	CHECK(proxy_socks5_reply_len((const unsigned char *)"\5\0\0\3\7", err) == 14);
	CHECK(proxy_socks5_reply_len((const unsigned char *)"\5\0\0\11\0", err) < 0);
	CHECK(proxy_socks5_reply_len((const unsigned char *)"\4\0\0\1\0", err) < 0);
	CHECK(!strcmp(proxy_socks5_why(5), "connection refused"));
	CHECK(proxy_socks4_connect(b, sizeof b, (const unsigned char *)"\1\2\3\4", NULL, 80, "u",
				   &n, err) == 0 && n == 10 && !memcmp(b, "\4\1\0\120\1\2\3\4u", 10));
	CHECK(proxy_socks4_connect(b, sizeof b, NULL, "h.test", 80, "", &n, err) == 0 && n == 16 &&
	      !memcmp(b + 4, "\0\0\0\1\0h.test", 12));
	CHECK(proxy_socks4_reply((const unsigned char *)"\0\132\0\0\0\0\0\0", err) == 90);
	CHECK(proxy_socks4_reply((const unsigned char *)"\0\133\0\0\0\0\0\0", err) == 91);
	CHECK(proxy_socks4_reply((const unsigned char *)"\4\132\0\0\0\0\0\0", err) < 0);
	n = proxy_http_connect(http, sizeof http, "::1", 8080, "me:pw");
	CHECK(n && !strcmp(http, "CONNECT [::1]:8080 HTTP/1.1\r\nHost: [::1]:8080\r\n"
			   "Proxy-Authorization: Basic bWU6cHc=\r\n\r\n"));
	CHECK(proxy_http_connect(http, 20, "example.org", 80, NULL) == 0);
}

int main(void)
{
	RUN(urls_and_addresses);
	RUN(socks_messages);
	return CHECK_DONE();
}
