/*
 * send.h: sending a file of a datastore as the answer's body, streamed and
 * never held in memory whole: item images that nginx cannot send itself,
 * and export downloads (docs/labeling.md "Images", docs/export.md).
 *
 * Files labeld sends itself hold a worker for as long as nginx takes to
 * read them: at most half of the workers (at least one) do that at once in
 * a process, so that every other page always finds a free one; and at most
 * blob_max_fetches of them wait on Azure Blob storage.  Beyond either the
 * answer is 503 with Retry-After.
 */
#ifndef LABELD_SEND_H
#define LABELD_SEND_H

#include <stdint.h>

struct datastore;
struct request;

/* How one kind of file is sent. */
struct send_kind {
	const char *what;          /* "image", "export": in messages and logs */
	const char *title;         /* the heading of its error pages */
	const char *busy;          /* the 503 page's sentence */
	unsigned retry_after;      /* the 503's Retry-After, seconds */
	const char *cache;         /* the Cache-Control of a sent file */
	uint64_t max_bytes;        /* larger files are refused; 0: no limit */
	long blob_timeout_ms;      /* how long a blob may take to arrive whole */
};

/* Send file path (already checked) of datastore ds with Content-Type type
 * and the headers the caller added with resp_header.  Every failure is
 * answered with a page: 404 when the file is missing, 502 when it cannot
 * be read or fetched before anything was sent (after that the answer is
 * cut), 503 when as many files are being sent as may be. */
void send_file(struct request *r, const struct datastore *ds, const char *path,
    const char *type, const struct send_kind *k);

#endif
