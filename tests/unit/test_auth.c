/* http-serve's accounts: specs, secrets, paths, roles, the lockout. */
#include "check.h"
#include "nettool/base/util.h"
#include "nettool/http/auth.h"

#include <string.h>

static struct hs_auth a;

/* "Basic " and base64 of user:pass. */
static const char *basic(const char *up)
{
	static char out[300];

	strcpy(out, "Basic ");
	util_base64((const unsigned char *)up, strlen(up), out + 6);
	return out;
}

static enum hs_auth_verdict check(const char *up, const char *path, int write, time_t now)
{
	char user[128];
	int failed;

	return hs_auth_check(&a, up ? basic(up) : NULL, path, write, "10.0.0.1", now, user,
			     sizeof user, &failed);
}

static void test_specs(void)
{
	char err[NT_ERR_LEN];

	hs_auth_init(&a);
	CHECK(hs_auth_add(&a, "admin:p@ss:w0rd", err) == 0 && a.v[0].rw && !strcmp(a.v[0].path, "/"));
	CHECK(hs_auth_add(&a, "guest:sha256:"
			  "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b:ro", err) == 0);
	CHECK(!a.v[1].rw);
	CHECK(hs_auth_add(&a, "sub:x@/dir/inner/:rw", err) == 0 && !strcmp(a.v[2].path, "/dir/inner"));
	CHECK(hs_auth_add(&a, "nopass", err) < 0);
	CHECK(hs_auth_add(&a, ":pw", err) < 0);
	CHECK(hs_auth_add(&a, "u:sha256:abc", err) < 0);
	CHECK(hs_auth_add(&a, "u:pw@/a/../b", err) < 0);
	CHECK(a.n == 3);
}

static void test_checks(void)
{
	time_t now = 1000;

	CHECK(check(NULL, "/x", 0, now) == AUTH_NEEDED);
	CHECK(check("admin:p@ss:w0rd", "/x", 1, now) == AUTH_OK);
	CHECK(check("guest:secret", "/x", 0, now) == AUTH_OK); /* sha256 of "secret" */
	CHECK(check("guest:secret", "/x", 1, now) == AUTH_FORBIDDEN);
	CHECK(check("sub:x", "/dir/inner", 1, now) == AUTH_OK);
	CHECK(check("sub:x", "/dir/inner/deep/f", 1, now) == AUTH_OK);
	CHECK(check("sub:x", "/dir/innerx", 0, now) == AUTH_FORBIDDEN);
	CHECK(check("sub:x", "/dir", 0, now) == AUTH_FORBIDDEN);
	a.public_read = 1;
	CHECK(check(NULL, "/x", 0, now) == AUTH_OK);
	CHECK(check(NULL, "/x", 1, now) == AUTH_NEEDED);
	a.public_read = 0;
}

static void test_lockout(void)
{
	time_t now = 5000;
	int i;

	for (i = 0; i < AUTH_MAX_FAILS - 1; i++)
		CHECK(check("admin:wrong", "/", 0, now) == AUTH_NEEDED);
	CHECK(check("admin:p@ss:w0rd", "/", 0, now) == AUTH_OK); /* not yet */
	CHECK(check("admin:wrong", "/", 0, now) == AUTH_NEEDED);  /* the tenth */
	CHECK(check("admin:p@ss:w0rd", "/", 0, now + 1) == AUTH_LOCKED);
	CHECK(check(NULL, "/", 0, now + 1) == AUTH_LOCKED);
	CHECK(check("admin:p@ss:w0rd", "/", 0, now + AUTH_WINDOW - 1) == AUTH_LOCKED);
	CHECK(check("admin:p@ss:w0rd", "/", 0, now + AUTH_WINDOW) == AUTH_OK); /* its end */
	/* failures spread wider than the window never lock */
	for (i = 0; i < 3 * AUTH_MAX_FAILS; i++)
		CHECK(check("admin:wrong", "/", 0, now + 100 + i * 7) == AUTH_NEEDED);
	/* a table of bounded size: many addresses, none locks another out */
	{
		char user[128], addr[64];
		int failed;

		for (i = 0; i < 3 * AUTH_SLOTS; i++) {
			snprintf(addr, sizeof addr, "10.1.%d.%d", i / 256, i % 256);
			hs_auth_check(&a, basic("admin:wrong"), "/", 0, addr, now + 500, user,
				      sizeof user, &failed);
		}
		CHECK(hs_auth_check(&a, basic("admin:p@ss:w0rd"), "/", 0, "10.9.9.9", now + 500,
				    user, sizeof user, &failed) == AUTH_OK);
	}
	hs_auth_free(&a);
}

int main(void)
{
	RUN(test_specs);
	RUN(test_checks);
	RUN(test_lockout);
	return CHECK_DONE();
}
