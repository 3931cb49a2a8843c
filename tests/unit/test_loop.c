#include "check.h"
#include "nettool/core/loop.h"
#include "nettool/base/util.h"

#include <string.h>
#include <unistd.h>

static int order[8], norder;

static void record(struct loop *lp, struct loop_timer *t)
{
	order[norder++] = *(int *)t->data;
	if (norder == 4)
		loop_stop(lp);
}

static void timers_fire_in_order(void)
{
	/* before loop_new: timers count from the loop's clock, read there */
	uint64_t start = util_now_ms();
	char err[NT_ERR_LEN];
	struct loop *lp = loop_new(err);
	struct loop_timer t[5];
	int ids[5] = { 0, 1, 2, 3, 4 };
	int i;

	CHECK(lp != NULL);
	if (!lp)
		return;
	memset(t, 0, sizeof t);
	for (i = 0; i < 5; i++) {
		t[i].cb = record;
		t[i].data = &ids[i];
	}
	loop_timer_set(lp, &t[0], 40);
	loop_timer_set(lp, &t[1], 10);
	loop_timer_set(lp, &t[2], 30);
	loop_timer_set(lp, &t[3], 20);
	loop_timer_set(lp, &t[4], 5);
	loop_timer_stop(lp, &t[4]);  /* a stopped timer never fires */
	loop_timer_set(lp, &t[2], 25); /* re-arming moves it */
	norder = 0;
	CHECK(loop_run(lp, err) == 0);
	CHECK(norder == 4);
	CHECK(order[0] == 1 && order[1] == 3 && order[2] == 2 && order[3] == 0);
	CHECK(util_now_ms() - start >= 40);
	loop_free(lp);
}

struct pair {
	struct loop_io io[2];
	int calls[2];
};

/* The first callback to run deletes the other watcher: it must not run. */
static void delete_other(struct loop *lp, struct loop_io *io, int ev)
{
	struct pair *p = io->data;
	int me = io == &p->io[0] ? 0 : 1;

	(void)ev;
	p->calls[me]++;
	loop_io_del(lp, &p->io[1 - me]);
	loop_io_del(lp, io);
	loop_stop(lp);
}

static void delete_during_dispatch(void)
{
	char err[NT_ERR_LEN];
	struct loop *lp = loop_new(err);
	struct pair p;
	int a[2], b[2], i;

	CHECK(lp != NULL && pipe(a) == 0 && pipe(b) == 0);
	if (!lp)
		return;
	memset(&p, 0, sizeof p);
	CHECK(write(a[1], "x", 1) == 1 && write(b[1], "y", 1) == 1);
	for (i = 0; i < 2; i++) {
		p.io[i].fd = i ? b[0] : a[0];
		p.io[i].events = LOOP_READ;
		p.io[i].cb = delete_other;
		p.io[i].data = &p;
		CHECK(loop_io_add(lp, &p.io[i], err) == 0);
	}
	CHECK(loop_run(lp, err) == 0);
	CHECK(p.calls[0] + p.calls[1] == 1);
	close(a[0]); close(a[1]); close(b[0]); close(b[1]);
	loop_free(lp);
}

static int hits;

static void count_write(struct loop *lp, struct loop_io *io, int ev)
{
	if (ev & LOOP_WRITE)
		hits++;
	loop_io_set(lp, io, 0);
	if (hits == 1)
		loop_stop(lp);
}

static void io_set_changes_interest(void)
{
	char err[NT_ERR_LEN];
	struct loop *lp = loop_new(err);
	struct loop_io io;
	int a[2];

	CHECK(lp != NULL && pipe(a) == 0);
	if (!lp)
		return;
	memset(&io, 0, sizeof io);
	io.fd = a[1];
	io.events = 0;
	io.cb = count_write;
	CHECK(loop_io_add(lp, &io, err) == 0);
	CHECK(loop_io_set(lp, &io, LOOP_WRITE) == 0);
	hits = 0;
	CHECK(loop_run(lp, err) == 0);
	CHECK(hits == 1);
	loop_io_del(lp, &io);
	close(a[0]);
	close(a[1]);
	loop_free(lp);
}

static int seen[4], nseen;
static struct loop_io quad[4];

static void note_and_leave(struct loop *lp, struct loop_io *io, int ev)
{
	(void)ev;
	seen[nseen++] = (int)(io - quad);
	loop_io_del(lp, io);
	if (nseen == 4)
		loop_stop(lp);
}

/* Whichever watcher is named first runs first among those ready. */
static void first_runs_first(void)
{
	char err[NT_ERR_LEN];
	int fds[4][2], i, k;

	for (k = 0; k < 4; k++) {
		struct loop *lp = loop_new(err);

		CHECK(lp != NULL);
		if (!lp)
			return;
		memset(quad, 0, sizeof quad);
		nseen = 0;
		for (i = 0; i < 4; i++) {
			CHECK(pipe(fds[i]) == 0 && write(fds[i][1], "x", 1) == 1);
			quad[i].fd = fds[i][0];
			quad[i].events = LOOP_READ;
			quad[i].cb = note_and_leave;
			CHECK(loop_io_add(lp, &quad[i], err) == 0);
		}
		loop_io_first(lp, &quad[k]);
		CHECK(loop_run(lp, err) == 0);
		CHECK(nseen == 4 && seen[0] == k);
		for (i = 0; i < 4; i++) {
			close(fds[i][0]);
			close(fds[i][1]);
		}
		loop_free(lp);
	}
}

int main(void)
{
	RUN(timers_fire_in_order);
	RUN(delete_during_dispatch);
	RUN(io_set_changes_interest);
	RUN(first_runs_first);
	return CHECK_DONE();
}
