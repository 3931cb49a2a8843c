#ifndef NETTOOL_ACL_H
#define NETTOOL_ACL_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * Which peers a server admits: --allow and --deny lists of address
 * prefixes (CIDR), IPv4 and IPv6. A bare address is a /32 or /128; an
 * IPv4-mapped IPv6 peer (::ffff:a.b.c.d, a dual-stack socket's IPv4
 * client) matches IPv4 rules. With any allow rule only allowed peers are
 * admitted; a deny rule wins over an allow rule. Pure: no I/O.
 */

#define ACL_MAX 64 /* rules of each kind */

struct acl_rule {
	unsigned char addr[16]; /* IPv4 in the first 4 bytes */
	int v6;
	unsigned bits;
};

struct acl {
	struct acl_rule allow[ACL_MAX], deny[ACL_MAX];
	size_t nallow, ndeny;
};

/* Add "ADDR" or "ADDR/BITS" to the allow (allow != 0) or deny list.
 * Returns 0, or -1 with err filled. */
int acl_add(struct acl *a, const char *cidr, int allow, char *err);

/* Whether a peer at sa is admitted (1) or refused (0). */
int acl_admits(const struct acl *a, const struct sockaddr *sa);

/* OPT_FUNC readers for --allow and --deny (field: a struct acl). */
int acl_opt_allow(void *field, const char *arg, char *err);
int acl_opt_deny(void *field, const char *arg, char *err);

#endif
