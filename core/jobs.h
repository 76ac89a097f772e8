/*
 * jobs.h: background work (project initialisation and exports; imports
 * later), queued as rows of the jobs table and run by one job thread in each
 * labeld process.  A job is claimed with SELECT ... FOR UPDATE SKIP LOCKED, so
 * any labeld can run it; a running job's runner writes a heartbeat (at least
 * once a second while it works: job_tick), and a job whose heartbeat is
 * older than job_takeover_seconds (labeld.conf, 30) is taken over by the
 * next labeld that looks (its runner died or hangs).  Every write of a
 * runner checks, in its transaction, that the job is still its own; a
 * runner that finds it was taken over stops without writing.  Job work must
 * be idempotent: a taken-over job starts again from the beginning.
 */
#ifndef LABELD_JOBS_H
#define LABELD_JOBS_H

#include <stdint.h>
#include <time.h>

struct app;
struct arena;
struct db;

/* job_tick writes a heartbeat at most this often. */
#define JOBS_TICK_MS 1000
/* A job failing with a passing error runs again after 10 s, 20 s, 40 s ...
 * and fails for good after JOBS_MAX_ATTEMPTS runs. */
#define JOBS_MAX_ATTEMPTS 5

/* Start / stop the job thread.  jobs_stop lets the running batch finish and
 * puts an unfinished job back in the queue. */
int jobs_start(struct app *app);
void jobs_stop(struct app *app);

/* The settings of a database connection of the job thread (a job that
 * needs a second connection opens it with these). */
struct db_config;
void jobs_db_config(const struct app *app, struct db_config *dc);

/* This process's runner id ("host:pid:start"), as written to jobs.runner. */
const char *jobs_runner_id(void);

/* Wake the job thread now (after enqueueing in this process). */
void jobs_wake(void);

/* Queue a job; meant to run inside the caller's transaction.  DB_* status. */
int jobs_enqueue(struct db *db, const char *kind, long long project_id, uint64_t *job_id);

/* What a job reports while it runs.  db is the job thread's own
 * connection; the job uses it from that thread only. */
struct job_ctx {
	struct db *db;
	struct arena *arena;
	struct app *app;
	long long job_id;
	long long project_id;
	volatile int *stopping;
	struct timespec last_beat;       /* CLOCK_MONOTONIC of the last heartbeat */
	int lost;                        /* the job was found taken over */
	void *data;                      /* what a kind's run leaves for its end
	                                    (in arena; NULL when none) */
};

/* Write a heartbeat now (outside any transaction).  Returns 0 to go on, -1
 * when the job must stop: labeld is stopping, or the job is no longer this
 * runner's (taken over; job->lost is then set and stays set). */
int job_heartbeat(struct job_ctx *job);

/* Called often from long work (every file listed, every header fetched):
 * a heartbeat when JOBS_TICK_MS passed since the last one, otherwise only
 * the checks that need no database.  With progress >= 0, jobs.progress is
 * written with the heartbeat (the files listed so far, while listing).
 * Returns 0 to go on, -1 when the job must stop (as job_heartbeat). */
int job_tick(struct job_ctx *job, long long progress);

/* Note a heartbeat written by the job itself (in its batch transaction). */
void job_beat_noted(struct job_ctx *job);

/* Inside the job's own transaction: set its progress, refused count and
 * total (total < 0: not known, NULL), clear its error and write a
 * heartbeat, only while the job is still this runner's.  0 when written,
 * 1 when it was taken over (job->lost is set; roll back and stop), -1 on a
 * database error. */
int job_record(struct job_ctx *job, unsigned long long progress, unsigned long long refused,
    long long total);

/* Claim and run at most one job; used by the thread and by tests.
 * Returns 1 when a job ran, 0 when none was waiting, -1 on a database
 * error. */
int jobs_run_one(struct app *app, struct db *db, struct arena *arena, volatile int *stopping);

#endif
