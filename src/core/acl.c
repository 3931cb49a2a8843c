#include "nettool/core/acl.h"
#include "nettool/base/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int acl_add(struct acl *a, const char *cidr, int allow, char *err)
{
	struct acl_rule r;
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(cidr, '/');
	size_t n = slash ? (size_t)(slash - cidr) : strlen(cidr);
	unsigned long bits;

	memset(&r, 0, sizeof r);
	if (n == 0 || n >= sizeof host)
		goto bad;
	memcpy(host, cidr, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, r.addr) != 1) {
		if (inet_pton(AF_INET6, host, r.addr) != 1)
			goto bad;
		r.v6 = 1;
	}
	bits = r.v6 ? 128 : 32;
	if (slash && util_parse_ulong(slash + 1, 0, bits, &bits, NULL) < 0)
		goto bad;
	r.bits = (unsigned)bits;
	if (r.v6 && r.bits >= 96 && !memcmp(r.addr, v4mapped, 12)) {
		/* ::ffff:a.b.c.d/N is the IPv4 rule a.b.c.d/(N - 96) */
		memmove(r.addr, r.addr + 12, 4);
		memset(r.addr + 4, 0, 12);
		r.v6 = 0;
		r.bits -= 96;
	}
	if ((allow ? a->nallow : a->ndeny) == ACL_MAX) {
		nt_seterr(err, "at most %d rules of a kind", ACL_MAX);
		return -1;
	}
	if (allow)
		a->allow[a->nallow++] = r;
	else
		a->deny[a->ndeny++] = r;
	return 0;
bad:
	nt_seterr(err, "bad address or prefix '%s' (expected ADDR or ADDR/BITS)", cidr);
	return -1;
}

/* Whether the first bits of p and q agree. */
static int prefix_eq(const unsigned char *p, const unsigned char *q, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(p, q, whole))
		return 0;
	return !rest || ((p[whole] ^ q[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static int matches(const struct acl_rule *rules, size_t n, const unsigned char *addr, int v6)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rules[i].v6 == v6 && prefix_eq(rules[i].addr, addr, rules[i].bits))
			return 1;
	return 0;
}

int acl_admits(const struct acl *a, const struct sockaddr *sa)
{
	unsigned char addr[16];
	int v6;

	if (!a || (!a->nallow && !a->ndeny))
		return 1;
	memset(addr, 0, sizeof addr);
	if (sa->sa_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		v6 = 0;
	} else if (sa->sa_family == AF_INET6) {
		memcpy(addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		v6 = 1;
		if (!memcmp(addr, v4mapped, 12)) { /* an IPv4 client of a dual-stack socket */
			memmove(addr, addr + 12, 4);
			memset(addr + 4, 0, 12);
			v6 = 0;
		}
	} else {
		return !a->nallow; /* no address to match: only when nothing must be allowed */
	}
	if (matches(a->deny, a->ndeny, addr, v6))
		return 0;
	return !a->nallow || matches(a->allow, a->nallow, addr, v6);
}

int acl_opt_allow(void *field, const char *arg, char *err)
{
	return acl_add(field, arg, 1, err);
}

int acl_opt_deny(void *field, const char *arg, char *err)
{
	return acl_add(field, arg, 0, err);
}
