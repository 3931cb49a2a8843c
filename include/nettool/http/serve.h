#ifndef NETTOOL_HTTP_SERVE_H
#define NETTOOL_HTTP_SERVE_H

#include "nettool/base/buf.h"
#include "nettool/http/auth.h"
#include "nettool/http/fcache.h"
#include "nettool/proto/http.h"
#include "nettool/http/upload.h"
#include "nettool/core/server.h"
#include "nettool/base/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

/*
 * http-serve's connections: requests parsed, files, listings and errors
 * answered, keep-alive and pipelining, on the shared server layer. The
 * command (src/cmd/http_serve.c) owns options, set-up and threads.
 */

#define HS_POOL_MAX 128

/* What every worker shares: read-only once they run, but the atomics. */
struct hs_cfg {
	const char *dir, *page404, *log_path;
	struct server_addr addr;
	struct acl acl;
	struct fcache_root root;
	int no_list, quiet, header_ms, keepalive_ms, send_ms, no_affinity, follow;
	int upload, allow_delete, webdav;
	struct hs_auth auth;    /* --auth, --auth-file, --public-read */
	struct hs_locks *locks; /* --webdav's */
	const char *auth_file;
	int public_write;       /* writing open to anyone beyond loopback */
	struct hu_opts hu;      /* --overwrite, --dotfiles */
	uint64_t max_body;      /* a larger request body is 413 */
	unsigned long max_clients, threads;
	int max_by_limit;       /* max_clients is the descriptor limit's */
	atomic_ulong nclients;  /* connections open, over all workers */
	FILE *log;
	int stop_rd;
	atomic_int stop_wr;     /* closing it tells every worker to stop */
	atomic_int shared;      /* some worker watches the first worker's listener */
	atomic_int steered;     /* connections go to the worker of their CPU */
	atomic_ulong accepts;   /* connections accepted, all workers */
	atomic_ulong ready;     /* workers running on their CPU */
};

/* A worker: one thread with its own loop, listener and connections. */
struct hs_worker {
	struct server srv;
	struct hs_cfg *cfg;
	pthread_t tid;
	struct loop_io sio, fwio;
	int rc;
	int cpu;                /* the CPU it keeps to, or -1 */
	int nbulk;              /* its connections sending a large body */
	unsigned long taken, taken_base, accepts_base; /* for steering */
	char err[NT_ERR_LEN];
	time_t date_at;
	char date[40];          /* Date of every response, formatted once a second */
	struct fcache cache;
	/* request buffers of connections gone idle, for the next request */
	char *spare_in[HS_POOL_MAX];
	struct http_parser *spare_hp[HS_POOL_MAX];
	struct buf spare_out[HS_POOL_MAX];
	size_t nspare_in, nspare_hp, nspare_out;
};

/* The connections of a worker, for server_init. */
extern const struct server_class hs_class;

/* Release the worker's pools and cache (its server is freed first). */
void hs_worker_free_pools(struct hs_worker *w);

#endif
