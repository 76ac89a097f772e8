/*
 * send.c: a datastore's file as the answer's body, in pieces straight to
 * FastCGI (send.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "arena.h"
#include "blob.h"
#include "datastore.h"
#include "log.h"
#include "request.h"
#include "response.h"
#include "send.h"

/* The pieces files are sent in. */
#define SEND_CHUNK ((size_t)128 << 10)

static atomic_uint streams;        /* files being sent by this process */
static atomic_uint blob_fetches;   /* of which waiting on Azure Blob */

/* Take a slot of counter (limit at most); 0, or -1 with the 503 answered. */
static int slot_take(struct request *r, atomic_uint *counter, unsigned limit, const char *what,
    const struct send_kind *k)
{
	if (atomic_fetch_add(counter, 1) < limit)
		return 0;
	atomic_fetch_sub(counter, 1);
	log_warn("%s %s: %u %s at once already: 503", r->method, r->path, limit, what);
	page_unavailable(r, k->retry_after, "Busy", k->busy);
	return -1;
}

static void slot_give(atomic_uint *counter)
{
	atomic_fetch_sub(counter, 1);
}

/* Send a file of a local datastore: the headers with its size, then the
 * bytes in SEND_CHUNK pieces; nothing else is kept. */
static void local_send(struct request *r, const struct datastore *ds, const char *path,
    const char *type, const struct send_kind *k)
{
	char err[256], *chunk;
	struct stat st;
	size_t left;
	int fd = datastore_local_open(ds->local_path, path, err, sizeof(err));

	if (fd < 0) {
		log_warn("%s %s in datastore %s: %s", k->what, path, ds->name, err);
		page_error(r, 404, "Not found", arena_printf(r->arena,
		    "The %s file is missing from its datastore.", k->what));
		return;
	}
	chunk = arena_alloc(r->arena, SEND_CHUNK);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (k->max_bytes > 0 && (uint64_t)st.st_size > k->max_bytes) || chunk == NULL) {
		close(fd);
		if (chunk == NULL)
			page_error(r, 500, "Internal error", "Out of memory.");
		else
			page_error(r, 502, k->title, k->max_bytes == 0 ?
			    arena_printf(r->arena, "The %s file cannot be sent (it is not a regular "
			    "file).", k->what) :
			    arena_printf(r->arena, "The %s file cannot be sent (it is not a regular "
			    "file, or larger than %llu MiB).", k->what,
			    (unsigned long long)(k->max_bytes >> 20)));
		return;
	}
	left = (size_t)st.st_size;
	resp_header(r, "Cache-Control", k->cache);
	if (resp_stream_begin(r, 200, type, (unsigned long long)left) < 0 ||
	    strcmp(r->method, "HEAD") == 0)
		left = 0;
	while (left > 0) {
		ssize_t n = read(fd, chunk, left < SEND_CHUNK ? left : SEND_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The file shrank or cannot be read: the answer is cut. */
			log_error("%s %s in datastore %s: %zu bytes short: %s", k->what, path, ds->name,
			    left, n < 0 ? strerror(errno) : "the file ended early");
			break;
		}
		if (resp_stream_write(r, chunk, (size_t)n) < 0)
			break;   /* nginx went away */
		left -= (size_t)n;
	}
	close(fd);
}

/* blob_get_stream's callbacks: the headers once the service answered,
 * then each piece as it arrives. */
struct blob_out {
	struct request *r;
	const char *type;
	const struct send_kind *k;
};

static int blob_begin(void *ctx, int64_t size)
{
	struct blob_out *o = ctx;

	if (size < 0)
		return -1;   /* no Content-Length: Get Blob always sends one */
	resp_header(o->r, "Cache-Control", o->k->cache);
	return resp_stream_begin(o->r, 200, o->type, (unsigned long long)size) < 0 ? -1 : 0;
}

static int blob_write(void *ctx, const void *data, size_t len)
{
	struct blob_out *o = ctx;

	return resp_stream_write(o->r, data, len) < 0 ? -1 : 0;
}

/* Send a blob as it arrives (blob_max_fetches at once per process). */
static void blob_send(struct request *r, const struct datastore *ds, const char *path,
    const char *type, const struct send_kind *k)
{
	struct blob_out out = { r, type, k };
	struct blob_limits lim;
	struct blob_client *c;
	char err[256];
	int rc, started = 0;

	if (slot_take(r, &blob_fetches, r->app->cfg.blob_max_fetches,
	    "blob fetches (blob_max_fetches)", k) < 0)
		return;
	blob_limits_default(&lim);   /* connect timeout: blob_connect_timeout */
	lim.total_timeout_ms = k->blob_timeout_ms;
	c = blob_client_new(&ds->blob, &lim);
	rc = c == NULL ? -1 : blob_get_stream(c, path, k->max_bytes, blob_begin, blob_write, &out,
	    &started, err, sizeof(err));
	blob_client_free(c);
	slot_give(&blob_fetches);
	if (rc == 0)
		return;
	if (started) {
		log_error("%s %s in datastore %s: cut after the headers: %s", k->what, path, ds->name, err);
		return;
	}
	log_warn("%s %s in datastore %s: %s", k->what, path, ds->name, c == NULL ? "out of memory" : err);
	page_error(r, 502, k->title, arena_printf(r->arena,
	    "The %s could not be fetched from its Azure Blob datastore; try again in a moment.",
	    k->what));
}

void send_file(struct request *r, const struct datastore *ds, const char *path,
    const char *type, const struct send_kind *k)
{
	unsigned workers = r->app->cfg.workers / 2 > 0 ? r->app->cfg.workers / 2 : 1;

	if (slot_take(r, &streams, workers, "files sent (half the workers)", k) < 0)
		return;
	if (ds->kind == DATASTORE_LOCAL)
		local_send(r, ds, path, type, k);
	else
		blob_send(r, ds, path, type, k);
	slot_give(&streams);
}
