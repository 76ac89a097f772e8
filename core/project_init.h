/*
 * project_init.h: the "init" job: enumerate a project's dataset, read each
 * image's format and size from its header, and insert the items in batches.
 */
#ifndef LABELD_PROJECT_INIT_H
#define LABELD_PROJECT_INIT_H

#include <stddef.h>

struct job_ctx;

enum {
	PROJECT_INIT_DONE = 0,
	PROJECT_INIT_FAILED = 1,        /* err says why; the project is Failed */
	PROJECT_INIT_INTERRUPTED = 2,   /* stopping or taken over: run again */
	PROJECT_INIT_RETRY = 3          /* a passing failure (err says which):
	                                   run again later, a few times */
};

/* Items per INSERT (and per transaction). */
#define PROJECT_INIT_BATCH 500
/* Refused files recorded per job (the count is always exact). */
#define PROJECT_INIT_MAX_REFUSALS 1000

int project_init_run(struct job_ctx *job, char *err, size_t errlen);

/* Inside jobs.c's transaction that ends the job: the project becomes
 * Running (done) or Failed.  DB_* status. */
int project_init_end(struct job_ctx *job, int done);

/* Decide about one file from its name and header: 0 with *info filled, or
 * -1 with a reason for the person (static text, or err when the file could
 * not be read).  buf (cap bytes) holds the *len leading bytes read so far
 * (whole: they are the whole file); more are read through rd while the
 * header asks for them (image_read_header), and *len counts them. */
struct image_info;
struct image_reader;
int project_init_check(const char *path, const struct image_reader *rd,
    unsigned char *buf, size_t cap, size_t *len, int whole,
    unsigned long long max_pixels, struct image_info *info,
    const char **reason, char *err, size_t errlen);

#endif
