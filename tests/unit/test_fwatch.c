#define _XOPEN_SOURCE 700 /* realpath */
#include "check.h"
#include "nettool/core/fwatch.h"
#include "nettool/base/util.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX];

static void put(const char *rel, const char *data)
{
	char p[PATH_MAX * 2];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", root, rel);
	f = fopen(p, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(data, f);
		fclose(f);
	}
}

static void at(char *out, size_t n, const char *rel)
{
	snprintf(out, n, "%s/%s", root, rel);
}

/* A watcher of the root, and a new directory dir below it. */
static struct fwatch *watcher_and_dir(const char *dir)
{
	char err[NT_ERR_LEN], a[PATH_MAX * 2];
	struct fwatch *w = fwatch_new(root, err);

	CHECK(w != NULL);
	at(a, sizeof a, dir);
	CHECK(mkdir(a, 0755) == 0);
	return w;
}

/* Read what waits, as a loop would once the descriptor turns readable. */
static void settle(struct fwatch *w)
{
	struct pollfd p = { fwatch_fd(w), POLLIN, 0 };

	if (poll(&p, 1, 0) == 1)
		fwatch_drain(w);
}

static void changes_invalidate(void)
{
	char a[PATH_MAX * 2], b[PATH_MAX * 2];
	struct fwatch *w = watcher_and_dir("d");
	struct fwatch_tok t1, t2, t3;

	if (!w)
		return;
	put("d/x", "x");
	put("y", "y");
	put("d/z", "z");
	CHECK(fwatch_track(w, "d/x", &t1) == 0 && fwatch_track(w, "y", &t2) == 0 &&
	      fwatch_track(w, "d/z", &t3) == 0);
	settle(w);
	CHECK(fwatch_unchanged(w, &t1) && fwatch_unchanged(w, &t2) && fwatch_unchanged(w, &t3));
	put("y", "Y"); /* written: only y's token */
	settle(w);
	CHECK(fwatch_unchanged(w, &t1) && !fwatch_unchanged(w, &t2) && fwatch_unchanged(w, &t3));
	CHECK(fwatch_track(w, "y", &t2) == 0);
	at(a, sizeof a, "d/x");
	CHECK(chmod(a, 0600) == 0); /* attributes: x only, not its directory */
	settle(w);
	CHECK(!fwatch_unchanged(w, &t1) && fwatch_unchanged(w, &t2) && fwatch_unchanged(w, &t3));
	CHECK(fwatch_track(w, "d/x", &t1) == 0);
	at(a, sizeof a, "d");
	at(b, sizeof b, "e");
	CHECK(rename(a, b) == 0); /* the directory renamed: both below it */
	settle(w);
	CHECK(!fwatch_unchanged(w, &t1) && !fwatch_unchanged(w, &t3));
	/* (and y's too: a name changed in its directory, the root) */
	CHECK(fwatch_track(w, "e/x", &t1) == 0 && fwatch_track(w, "y", &t2) == 0);
	put("e/new", "n"); /* a name added below: not y's directory */
	settle(w);
	CHECK(!fwatch_unchanged(w, &t1) && fwatch_unchanged(w, &t2));
	fwatch_free(w);
}

static void directories(void)
{
	struct fwatch *w = watcher_and_dir("dd");
	struct fwatch_tok top, dir;

	if (!w)
		return;
	put("dd/f", "f");
	CHECK(fwatch_track(w, "", &top) == 0 && fwatch_track(w, "dd", &dir) == 0);
	put("dd/f", "F"); /* a file's bytes: not its directory's names */
	settle(w);
	CHECK(fwatch_unchanged(w, &top) && fwatch_unchanged(w, &dir));
	put("dd/g", "g"); /* a name added */
	settle(w);
	CHECK(fwatch_unchanged(w, &top) && !fwatch_unchanged(w, &dir));
	put("h", "h");
	settle(w);
	CHECK(!fwatch_unchanged(w, &top));
	fwatch_free(w);
}

static void what_cannot_be_watched(void)
{
	char a[PATH_MAX * 2];
	struct fwatch *w = watcher_and_dir("s");
	struct fwatch_tok t;
	char deep[64] = "";
	int i;

	if (!w)
		return;
	put("s/f", "f");
	at(a, sizeof a, "sl");
	CHECK(symlink("s", a) == 0);
	CHECK(fwatch_track(w, "sl/f", &t) < 0); /* a symlinked directory */
	at(a, sizeof a, "fl");
	CHECK(symlink("s/f", a) == 0);
	CHECK(fwatch_track(w, "fl", &t) < 0); /* a symlinked file */
	CHECK(fwatch_track(w, "nope", &t) < 0);
	for (i = 0; i < FWATCH_DEPTH; i++) { /* the root, 8 directories, the file */
		strcat(deep, i ? "/n" : "n");
		at(a, sizeof a, deep);
		CHECK(mkdir(a, 0755) == 0);
	}
	strcat(deep, "/f");
	put(deep, "f");
	CHECK(fwatch_track(w, deep, &t) < 0);
	deep[strlen(deep) - 6] = '\0'; /* two levels up: the root, 6, the file */
	strcat(deep, "/f");
	put(deep, "f");
	CHECK(fwatch_track(w, deep, &t) == 0);
	fwatch_free(w);
}

int main(void)
{
	char tmpl[] = "/tmp/nettool-fwatch-XXXXXX", cmd[PATH_MAX + 16];
	char err[NT_ERR_LEN];
	struct fwatch *w;
	int rc;

	if (!mkdtemp(tmpl) || !realpath(tmpl, root)) {
		printf("not ok - mkdtemp\n");
		return 1;
	}
	w = fwatch_new(root, err);
	if (!w) {
		printf("ok - skipped: %s\n", err);
		rmdir(root);
		return 0;
	}
	fwatch_free(w);
	RUN(changes_invalidate);
	RUN(directories);
	RUN(what_cannot_be_watched);
	rc = CHECK_DONE();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
