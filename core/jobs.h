/*
 * jobs.h: background work (project initialisation now; exports and imports
 * later), queued as rows of the jobs table and run by one job thread in each
 * labeld process.  A job is claimed with SELECT ... FOR UPDATE SKIP LOCKED, so
 * any labeld can run it; a running job's runner writes a heartbeat, and a
 * job whose heartbeat is older than JOBS_STALE_SECONDS is taken over by the
 * next labeld that looks (its runner died).  Job work must be idempotent:
 * a taken-over job starts again from the beginning.
 */
#ifndef LABELD_JOBS_H
#define LABELD_JOBS_H

#include <stdint.h>

struct app;
struct arena;
struct db;

#define JOBS_STALE_SECONDS 30
/* A job failing with a passing error runs again after 10 s, 20 s, 40 s ...
 * and fails for good after JOBS_MAX_ATTEMPTS runs. */
#define JOBS_MAX_ATTEMPTS 5

/* Start / stop the job thread.  jobs_stop lets the running batch finish and
 * puts an unfinished job back in the queue. */
int jobs_start(struct app *app);
void jobs_stop(struct app *app);

/* This process's runner id ("host:pid:start"), as written to jobs.runner. */
const char *jobs_runner_id(void);

/* Wake the job thread now (after enqueueing in this process). */
void jobs_wake(void);

/* Queue a job; meant to run inside the caller's transaction.  DB_* status. */
int jobs_enqueue(struct db *db, const char *kind, long long project_id, uint64_t *job_id);

/* What a job reports while it runs.  Returns 0 to go on, -1 when the job
 * must stop (labeld is stopping, or the job was taken over). */
struct job_ctx {
	struct db *db;
	struct arena *arena;
	struct app *app;
	long long job_id;
	long long project_id;
	volatile int *stopping;
};
int job_heartbeat(struct job_ctx *job);

/* Claim and run at most one job; used by the thread and by tests.
 * Returns 1 when a job ran, 0 when none was waiting, -1 on a database
 * error. */
int jobs_run_one(struct app *app, struct db *db, struct arena *arena, volatile int *stopping);

#endif
