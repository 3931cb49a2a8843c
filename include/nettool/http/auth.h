#ifndef NETTOOL_HTTP_AUTH_H
#define NETTOOL_HTTP_AUTH_H
/*
 * http-serve's accounts: HTTP Basic (RFC 7617) against --auth entries
 * USER:SECRET[@PATH][:ro|:rw], SECRET a password or sha256:HEX (kept as
 * its SHA-256 either way and compared in constant time), PATH the
 * subtree the account may reach. An address that fails AUTH_MAX_FAILS
 * times within AUTH_WINDOW seconds is refused (429) for AUTH_WINDOW
 * seconds; the table of addresses is AUTH_SLOTS long, the oldest
 * forgotten first, so it never grows.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#define AUTH_MAX_ACCOUNTS 256
#define AUTH_MAX_FAILS 10
#define AUTH_WINDOW 60
#define AUTH_WINDOW_TEXT "60"
#define AUTH_SLOTS 1024

struct hs_account {
	char user[128];
	unsigned char hash[32];       /* SHA-256 of the password */
	char path[1024];              /* "/" or "/sub" (no trailing '/') */
	int rw;
};

struct hs_fails {
	char addr[64];
	int count;
	time_t first, until;          /* the window's start; refused until */
};

struct hs_auth {
	struct hs_account v[AUTH_MAX_ACCOUNTS];
	int n;
	int public_read;              /* reading needs no account */
	pthread_mutex_t lock;         /* for fails, shared by the workers */
	atomic_llong locked_until;    /* the latest end of a refusal: none after it */
	struct hs_fails fails[AUTH_SLOTS];
};

enum hs_auth_verdict {
	AUTH_OK,
	AUTH_NEEDED,                  /* 401: no credentials, or wrong ones */
	AUTH_FORBIDDEN,               /* 403: an account, not for this */
	AUTH_LOCKED                   /* 429: too many failures */
};

void hs_auth_init(struct hs_auth *a);
void hs_auth_free(struct hs_auth *a);
/* One USER:SECRET[@PATH][:ro|:rw] (rw when no role is given). 0, or -1
 * with err filled. */
int hs_auth_add(struct hs_auth *a, const char *spec, char *err);
/* --auth-file: an entry a line; blank lines and '#' comments skipped. 0,
 * or -1 with err filled (naming the line). */
int hs_auth_load(struct hs_auth *a, const char *path, char *err);
/* For cmd.h's OPT_FUNC: --auth into a struct hs_auth. */
int hs_opt_auth(void *field, const char *arg, char *err);
/*
 * May the peer at addr, sending the Authorization value authz (or NULL),
 * read (write 0) or write urlpath (decoded, from '/')? The user name
 * tried is copied to user (for the log) when there is one; *failed is
 * set when wrong credentials were counted against addr.
 */
enum hs_auth_verdict hs_auth_check(struct hs_auth *a, const char *authz, const char *urlpath,
				   int write, const char *addr, time_t now, char *user,
				   size_t ulen, int *failed);

#endif
