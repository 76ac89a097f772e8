/*
 * jobs.c: the job thread, claiming with SKIP LOCKED, heartbeats, takeover.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "arena.h"
#include "db.h"
#include "export.h"
#include "jobs.h"
#include "log.h"
#include "metrics.h"
#include "project_init.h"

static pthread_t job_thread;
static int job_thread_started;
static volatile int job_stopping;
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_cond = PTHREAD_COND_INITIALIZER;
static int job_kick;
static char runner_id[128];

/* The init job's end takes no error (its project shows the job's). */
static int init_end(struct job_ctx *job, int done, const char *error)
{
	(void)error;
	return project_init_end(job, done);
}

/* The kinds of job: how each runs, and what its end writes inside the
 * transaction that ends the job.  run returns a PROJECT_INIT_* code. */
static const struct job_kind {
	const char *kind;
	int (*run)(struct job_ctx *job, char *err, size_t errlen);
	int (*end)(struct job_ctx *job, int done, const char *error);
} job_kinds[] = {
	{ "init", project_init_run, init_end },
	{ EXPORT_JOB_KIND, export_job_run, export_job_end },
};

/* The kind named kind, or NULL. */
static const struct job_kind *job_kind_find(const char *kind)
{
	for (size_t i = 0; i < sizeof(job_kinds) / sizeof(job_kinds[0]); i++)
		if (strcmp(job_kinds[i].kind, kind) == 0)
			return &job_kinds[i];
	return NULL;
}

int jobs_enqueue(struct db *db, const char *kind, long long project_id, uint64_t *job_id)
{
	return db_exec(db, 0, NULL, job_id,
	    "INSERT INTO jobs (kind, project_id) VALUES (?, ?)", "si", kind, project_id);
}

static void runner_id_init(void)
{
	char host[64] = "";

	if (runner_id[0] != '\0')
		return;
	gethostname(host, sizeof(host) - 1);
	snprintf(runner_id, sizeof(runner_id), "%s:%ld:%lx", host, (long)getpid(),
	    (unsigned long)time(NULL));
}

const char *jobs_runner_id(void)
{
	return runner_id;
}

void jobs_wake(void)
{
	pthread_mutex_lock(&job_lock);
	job_kick = 1;
	pthread_cond_signal(&job_cond);
	pthread_mutex_unlock(&job_lock);
}

/* Milliseconds since t (CLOCK_MONOTONIC). */
static long long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

void job_beat_noted(struct job_ctx *job)
{
	clock_gettime(CLOCK_MONOTONIC, &job->last_beat);
}

/* No row of ours changed: the job was taken over by another runner. */
static void job_lost(struct job_ctx *job)
{
	job->lost = 1;
	log_warn("job %lld: taken over by another runner (or removed); stopping without writing",
	    job->job_id);
}

/* The heartbeat (with the progress when >= 0), only while we are still the
 * job's runner: a job taken over by another labeld (we stalled past
 * job_takeover_seconds) is theirs now.  heartbeat_at always changes, so
 * no row changed means the job is not ours. */
static int job_beat(struct job_ctx *job, long long progress)
{
	uint64_t affected = 0;
	int rc;

	if (*job->stopping || job->lost)
		return -1;
	if (progress >= 0)
		rc = db_exec(job->db, 0, &affected, NULL,
		    "UPDATE jobs SET heartbeat_at = NOW(6), progress = ? "
		    "WHERE id = ? AND runner = ? AND state = 'running'",
		    "uis", (unsigned long long)progress, job->job_id, runner_id);
	else
		rc = db_exec(job->db, 0, &affected, NULL,
		    "UPDATE jobs SET heartbeat_at = NOW(6) WHERE id = ? AND runner = ? AND state = 'running'",
		    "is", job->job_id, runner_id);
	if (rc != DB_OK) {
		log_warn("job %lld: the heartbeat could not be written; stopping", job->job_id);
		return -1;
	}
	if (affected == 0) {
		job_lost(job);
		return -1;
	}
	job_beat_noted(job);
	return 0;
}

int job_record(struct job_ctx *job, unsigned long long progress, unsigned long long refused,
    long long total)
{
	uint64_t affected = 0;

	if (db_exec(job->db, 0, &affected, NULL,
	    "UPDATE jobs SET progress = ?, refused = ?, total = NULLIF(?, -1), error = NULL, "
	    "heartbeat_at = NOW(6) WHERE id = ? AND runner = ? AND state = 'running'",
	    "uuiis", progress, refused, total < 0 ? -1 : total, job->job_id, runner_id) != DB_OK)
		return -1;
	if (affected == 0) {
		job_lost(job);
		return 1;
	}
	job_beat_noted(job);
	return 0;
}

int job_heartbeat(struct job_ctx *job)
{
	return job_beat(job, -1);
}

int job_tick(struct job_ctx *job, long long progress)
{
	if (*job->stopping || job->lost)
		return -1;
	if (ms_since(&job->last_beat) < JOBS_TICK_MS)
		return 0;
	return job_beat(job, progress);
}

/* End the job as state ("done" or "failed", with error) and let its kind
 * write its own end (an init job's project Running or Failed, an export's
 * row) in one transaction, and only while the job is still this runner's.
 * 1 when written, 0 when the job was taken over (nothing is written), -1 on
 * a database error (rolled back). */
static int job_end(struct job_ctx *job, const struct job_kind *kind, const char *state,
    const char *error)
{
	uint64_t affected = 0;

	if (db_begin(job->db) != DB_OK)
		return -1;
	if (db_exec(job->db, 0, &affected, NULL,
	    "UPDATE jobs SET state = ?, error = ?, finished_at = NOW(6) "
	    "WHERE id = ? AND runner = ? AND state = 'running'",
	    "ssis", state, error, job->job_id, runner_id) != DB_OK)
		goto fail;
	if (affected == 0) {
		db_rollback(job->db);
		log_warn("job %lld: taken over by another runner before it ended; nothing written",
		    job->job_id);
		return 0;
	}
	if (kind != NULL && kind->end(job, strcmp(state, "done") == 0, error) != DB_OK)
		goto fail;
	if (db_commit(job->db) != DB_OK)
		return -1;
	return 1;
fail:
	db_rollback(job->db);
	log_error("job %lld: could not be ended (database error); it will be taken over and run again",
	    job->job_id);
	return -1;
}

int jobs_run_one(struct app *app, struct db *db, struct arena *arena, volatile int *stopping)
{
	struct db_result *res;
	long long id, project_id, attempts;
	char kind[40], err[512] = "";
	int rc;

	runner_id_init();
	if (db_begin(db) != DB_OK)
		return -1;
	rc = db_query(db, arena, &res,
	    "SELECT id, kind, project_id, attempts FROM jobs "
	    "WHERE (state = 'queued' AND (run_after IS NULL OR run_after <= NOW(6))) "
	    "OR (state = 'running' AND heartbeat_at < NOW(6) - INTERVAL ? SECOND) "
	    "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
	    "u", (unsigned long long)app->cfg.job_takeover_seconds);
	if (rc != DB_OK || res->nrows == 0) {
		db_rollback(db);
		return rc == DB_OK ? 0 : -1;
	}
	id = db_int(res, 0, 0);
	/* A copy: the job resets the arena the row is in. */
	snprintf(kind, sizeof(kind), "%s", db_value(res, 0, 1));
	project_id = db_int(res, 0, 2);
	attempts = db_int(res, 0, 3) + 1;
	rc = db_exec(db, 0, NULL, NULL,
	    "UPDATE jobs SET state = 'running', runner = ?, attempts = attempts + 1, "
	    "heartbeat_at = NOW(6), started_at = COALESCE(started_at, NOW(6)) WHERE id = ?",
	    "si", runner_id, id);
	if (rc != DB_OK || db_commit(db) != DB_OK) {
		db_rollback(db);
		return -1;
	}
	log_info("job %lld (%s, project %lld): claimed by %s", id, kind, project_id, runner_id);

	struct job_ctx job = { db, arena, app, id, project_id, stopping, { 0, 0 }, 0, NULL };
	const struct job_kind *jk = job_kind_find(kind);
	uint64_t affected = 0;
	job_beat_noted(&job);
	metrics_add(METRIC_JOBS_STARTED, 1);
	metrics_jobs_running(1);
	if (jk != NULL) {
		rc = jk->run(&job, err, sizeof(err));
	} else {
		snprintf(err, sizeof(err), "unknown job kind '%s'", kind);
		rc = PROJECT_INIT_FAILED;
	}
	switch (rc) {
	case PROJECT_INIT_DONE:
		if (job_end(&job, jk, "done", NULL) == 1)
			log_info("job %lld: done", id);
		break;
	case PROJECT_INIT_FAILED:
		if (job_end(&job, jk, "failed", err) == 1) {
			metrics_add(METRIC_JOBS_FAILED, 1);
			log_error("job %lld: failed: %s", id, err);
		}
		break;
	case PROJECT_INIT_RETRY:
		if (attempts >= JOBS_MAX_ATTEMPTS) {
			char final[600];
			snprintf(final, sizeof(final), "gave up after %lld attempts: %s", attempts, err);
			if (job_end(&job, jk, "failed", final) == 1) {
				metrics_add(METRIC_JOBS_FAILED, 1);
				log_error("job %lld: %s", id, final);
			}
			break;
		}
		db_exec(db, DB_IDEMPOTENT, &affected, NULL,
		    "UPDATE jobs SET state = 'queued', runner = NULL, error = ?, "
		    "run_after = NOW(6) + INTERVAL ? SECOND WHERE id = ? AND runner = ? AND state = 'running'",
		    "suis", err, (unsigned long long)(10u << (attempts - 1)), id, runner_id);
		if (affected > 0)
			log_warn("job %lld: attempt %lld failed (%s); trying again later", id, attempts, err);
		break;
	default:
		/* Interrupted (stopping, or taken over): back to the queue if
		 * still ours, so the next labeld starts it at once. */
		db_exec(db, DB_IDEMPOTENT, &affected, NULL,
		    "UPDATE jobs SET state = 'queued', runner = NULL WHERE id = ? AND runner = ? AND state = 'running'",
		    "is", id, runner_id);
		if (affected > 0)
			log_info("job %lld: interrupted; queued again", id);
		else
			log_info("job %lld: stopped; it is no longer this runner's", id);
		break;
	}
	metrics_jobs_running(-1);
	return 1;
}

void jobs_db_config(const struct app *app, struct db_config *dc)
{
	*dc = (struct db_config){
		.socket = app->cfg.db_socket, .host = app->cfg.db_host, .port = app->cfg.db_port,
		.user = app->cfg.db_user, .password = app->cfg.db_password, .name = app->cfg.db_name,
		.connect_timeout = app->cfg.db_connect_timeout, .rw_timeout = app->cfg.db_rw_timeout,
	};
}

struct job_thread_arg {
	struct app *app;
};

static struct job_thread_arg thread_arg;

static void *job_main(void *p)
{
	struct job_thread_arg *arg = p;
	struct app *app = arg->app;
	struct db_config dc;
	struct db *db;
	struct arena *arena;

	jobs_db_config(app, &dc);
	db_thread_init();
	db = db_new(&dc);
	arena = arena_new();
	while (db != NULL && arena != NULL && !job_stopping) {
		int ran = 0;
		if (db_ensure(db) == DB_OK)
			ran = jobs_run_one(app, db, arena, &job_stopping);
		arena_reset(arena);
		if (ran == 1)
			continue;   /* there may be more */
		/* Sleep until woken or one second passed (other labelds'
		 * jobs and stale takeovers are found by polling). */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_mutex_lock(&job_lock);
		while (!job_kick && !job_stopping) {
			if (pthread_cond_timedwait(&job_cond, &job_lock, &ts) == ETIMEDOUT)
				break;
		}
		job_kick = 0;
		pthread_mutex_unlock(&job_lock);
	}
	db_free(db);
	arena_free(arena);
	db_thread_end();
	return NULL;
}

int jobs_start(struct app *app)
{
	runner_id_init();
	thread_arg.app = app;
	job_stopping = 0;
	if (pthread_create(&job_thread, NULL, job_main, &thread_arg) != 0) {
		log_error("jobs_start: cannot start the job thread");
		return -1;
	}
	job_thread_started = 1;
	return 0;
}

void jobs_stop(struct app *app)
{
	(void)app;
	if (!job_thread_started)
		return;
	pthread_mutex_lock(&job_lock);
	job_stopping = 1;
	pthread_cond_signal(&job_cond);
	pthread_mutex_unlock(&job_lock);
	pthread_join(job_thread, NULL);
	job_thread_started = 0;
}
