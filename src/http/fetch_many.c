#include "nettool/http/fetch.h"
#include "nettool/proto/urlglob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One transfer of the run: its URL and where its body goes. */
struct job {
	uint64_t seq;           /* its place in the run */
	char url[URL_MAX];
	char out[4096];         /* "" for standard output */
	int remote;             /* -O */
};

/* The run's URLs, one after another, each operand's glob opened. */
struct jobs {
	const struct hc_get_opts *o;
	int arg;                /* the operand being expanded */
	struct urlglob g;
	int have_glob;
	uint64_t n, seq;        /* within the operand; within the run */
	pthread_mutex_t lock;   /* for the threads of -Z */
	int first_rc;           /* the status of the first URL that failed */
	uint64_t first_seq;
	char err[NT_ERR_LEN];
};

/* The next transfer into j: 1, 0 at the end, -1 with js->err filled. */
static int next_job(struct jobs *js, struct job *j)
{
	const struct hc_get_opts *o = js->o;
	const char *out;

	while (js->arg < o->nurls) {
		const char *arg = o->urls[js->arg];

		if (!js->have_glob) {
			if (o->globoff) {
				js->g.total = 1;
			} else if (ug_parse(&js->g, arg, js->err) < 0) {
				return -1;
			}
			js->have_glob = 1;
			js->n = 0;
		}
		if (js->n < js->g.total)
			break;
		if (!o->globoff)
			ug_free(&js->g);
		js->have_glob = 0;
		js->arg++;
	}
	if (js->arg >= o->nurls)
		return 0;
	out = js->arg < o->outs.n ? o->outs.v[js->arg] : NULL;
	j->remote = (js->arg < o->outs.n && !out) || (js->arg >= o->outs.n && o->remote_all);
	if (o->globoff) {
		snprintf(j->url, sizeof j->url, "%s", o->urls[js->arg]);
		snprintf(j->out, sizeof j->out, "%s", out ? out : "");
	} else if (ug_url(&js->g, js->n, j->url, sizeof j->url) < 0 ||
		   ug_name(&js->g, js->n, out ? out : "", j->out, sizeof j->out) < 0) {
		nt_seterr(js->err, "%.60s...: too long", o->urls[js->arg]);
		return -1;
	}
	j->seq = js->seq++;
	js->n++;
	return 1;
}

/* The URL to start from: -G's query added, or -T's file name after a
 * final '/'. NULL when it is the URL as given; *rc set on failure. */
static char *start_url(const struct hc_get_opts *o, const char *url, int *rc)
{
	struct buf q = { NULL, 0, 0 };
	size_t ul = strlen(url);

	*rc = 0;
	if ((o->body.fields || o->body.json) && o->get_query) {
		buf_printf(&q, "%s%c", url, strchr(url, '?') ? '&' : '?');
		buf_append(&q, o->body.data.data ? o->body.data.data : "", o->body.data.len);
	} else if (o->upload && strcmp(o->upload, "-") && ul && url[ul - 1] == '/' &&
		   !strpbrk(url, "?#")) {
		const char *slash = strrchr(o->upload, '/');

		buf_append(&q, url, ul);
		url_escape(&q, slash ? slash + 1 : o->upload);
	} else {
		return NULL;
	}
	if (buf_putc(&q, '\0') < 0) {
		buf_free(&q);
		*rc = NT_EXIT_FAIL;
	}
	return q.data;
}

/* One transfer on conn, start to end; its status. */
static int run_job(struct hc_many *m, struct hc_conn *conn, const struct job *j,
		   pthread_mutex_t *lock)
{
	const struct hc_get_opts *o = m->o;
	struct hc_fetch *f = calloc(1, sizeof *f);
	char *url2;
	int rc;

	if (!f)
		return NT_EXIT_FAIL;
	f->o = o;
	f->conn = conn;
	f->body = *m->body;
	f->out.fd = -1;
	f->out.create_dirs = o->create_dirs;
	f->remote = j->remote;
	f->lock = lock;
	snprintf(f->out.path, sizeof f->out.path, "%s", j->out);
	m->setup(f, m->ctx);
	url2 = start_url(o, j->url, &rc);
	f->url = url2 ? url2 : j->url;
	f->t0 = util_now_us();
	f->started = util_now_ms();
	f->connects0 = conn->st.connects;
	if (!rc)
		rc = hc_fetch_run(f);
	hc_fetch_progress(f, 1);
	if (rc == 0 || (rc == NT_EXIT_HTTP && o->fail_body)) {
		int done = hc_fetch_finish(f);

		rc = done ? done : rc;
	} else {
		hc_out_discard(&f->out);
	}
	m->done(f, rc, m->ctx);
	buf_free(&f->cookie);
	free(url2);
	free(f);
	return rc;
}

/* The first failure in the run's order is its status. */
static void note_rc(struct jobs *js, const struct job *j, int rc)
{
	if (rc > 0 && (!js->first_rc || j->seq < js->first_seq)) {
		js->first_rc = rc;
		js->first_seq = j->seq;
	}
}

struct worker {
	struct hc_many *m;
	struct jobs *js;
	struct hc_conn conn;
	pthread_t th;
	int started;
};

/* A -Z thread: the next URL, until there is none. */
static void *work(void *arg)
{
	struct worker *w = arg;
	struct job *j = malloc(sizeof *j);
	int more = j != NULL;

	while (more) {
		pthread_mutex_lock(&w->js->lock);
		more = w->js->err[0] ? 0 : next_job(w->js, j);
		pthread_mutex_unlock(&w->js->lock);
		if (more > 0) {
			int rc = run_job(w->m, &w->conn, j, &w->js->lock);

			pthread_mutex_lock(&w->js->lock);
			note_rc(w->js, j, rc);
			pthread_mutex_unlock(&w->js->lock);
		}
		more = more > 0;
	}
	free(j);
	return NULL;
}

static int many_parallel(struct hc_many *m, struct jobs *js, unsigned long n)
{
	struct worker *w = calloc(n, sizeof *w);
	unsigned long i, started = 0;

	if (!w)
		return -1;
	for (i = 0; i < n; i++) {
		w[i].m = m;
		w[i].js = js;
		if (hc_init(&w[i].conn, NULL) < 0)
			break;
		w[i].conn.keepalive = 1;
		w[i].conn.trace = m->trace;
		if (pthread_create(&w[i].th, NULL, work, &w[i]) != 0) {
			hc_free(&w[i].conn);
			break;
		}
		w[i].started = 1;
		started++;
	}
	for (i = 0; i < n; i++) {
		if (w[i].started) {
			pthread_join(w[i].th, NULL);
			hc_free(&w[i].conn);
		}
	}
	free(w);
	return started ? 0 : -1;
}

int hc_fetch_many(struct hc_many *m, char *err)
{
	const struct hc_get_opts *o = m->o;
	struct jobs js;
	int rc = 0;

	memset(&js, 0, sizeof js);
	js.o = o;
	pthread_mutex_init(&js.lock, NULL);
	if (o->parallel) {
		if (many_parallel(m, &js, o->parallel_max) < 0)
			nt_seterr(js.err, "cannot start the transfers' threads");
	} else {
		struct hc_conn conn;
		struct job *j = malloc(sizeof *j);

		if (!j || hc_init(&conn, NULL) < 0) {
			nt_seterr(js.err, "out of memory");
		} else {
			conn.trace = m->trace;
			while ((rc = next_job(&js, j)) > 0) {
				/* a connection kept for the URLs that follow */
				conn.keepalive = o->nurls > 1 || js.g.total > 1;
				note_rc(&js, j, run_job(m, &conn, j, NULL));
			}
			hc_free(&conn);
		}
		free(j);
	}
	if (js.have_glob && !o->globoff)
		ug_free(&js.g);
	pthread_mutex_destroy(&js.lock);
	if (js.err[0]) {
		snprintf(err, NT_ERR_LEN, "%s", js.err);
		return js.first_rc ? js.first_rc : NT_EXIT_USAGE;
	}
	return js.first_rc;
}
