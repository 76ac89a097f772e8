/*
 * cleanup.c: see cleanup.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "cleanup.h"
#include "config.h"
#include "db.h"
#include "log.h"

#define BATCH 1000

/* Run one DELETE ... LIMIT BATCH until it deletes fewer than BATCH rows. */
static int delete_batches(struct db *db, unsigned long long *deleted, const char *sql,
    const char *types, unsigned long long a, unsigned long long b)
{
	uint64_t n;
	int rc;

	do {
		n = 0;
		if (types[1] == '\0')
			rc = db_exec(db, DB_IDEMPOTENT, &n, NULL, sql, types, a);
		else
			rc = db_exec(db, DB_IDEMPOTENT, &n, NULL, sql, types, a, b);
		if (rc != DB_OK)
			return rc;
		*deleted += n;
	} while (n == BATCH);
	return DB_OK;
}

int cleanup_run(struct db *db, const struct config *cfg, unsigned long long *deleted)
{
	unsigned long long n = 0;
	int rc;

	rc = delete_batches(db, &n,
	    "DELETE FROM sessions WHERE last_seen_at < NOW(6) - INTERVAL ? SECOND "
	    "OR created_at < NOW(6) - INTERVAL ? SECOND LIMIT 1000", "uu",
	    cfg->session_idle_timeout, cfg->session_lifetime);
	if (rc == DB_OK)
		rc = delete_batches(db, &n,
		    "DELETE FROM login_failures WHERE window_start < NOW(6) - INTERVAL ? SECOND "
		    "LIMIT 1000", "u", cfg->login_window, 0);
	if (rc == DB_OK)
		rc = delete_batches(db, &n,
		    "DELETE FROM login_known WHERE last_success < NOW(6) - INTERVAL ? DAY "
		    "LIMIT 1000", "u", LOGIN_KNOWN_DAYS, 0);
	if (rc == DB_OK)
		rc = delete_batches(db, &n,
		    "DELETE FROM oidc_flows WHERE expires_at < NOW(6) - INTERVAL ? SECOND "
		    "LIMIT 1000", "u", 0, 0);
	if (deleted != NULL)
		*deleted = n;
	return rc;
}

static pthread_t cleanup_thread;
static pthread_mutex_t cleanup_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cleanup_cond = PTHREAD_COND_INITIALIZER;
static int cleanup_stopping, cleanup_started;

static void *cleanup_main(void *p)
{
	struct app *app = p;
	struct db_config dc = {
		.socket = app->cfg.db_socket, .host = app->cfg.db_host, .port = app->cfg.db_port,
		.user = app->cfg.db_user, .password = app->cfg.db_password, .name = app->cfg.db_name,
		.connect_timeout = app->cfg.db_connect_timeout, .rw_timeout = app->cfg.db_rw_timeout,
	};
	struct db *db;

	db_thread_init();
	db = db_new(&dc);
	for (;;) {
		struct timespec ts;
		int stop;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += app->cfg.cleanup_interval;
		pthread_mutex_lock(&cleanup_lock);
		while (!cleanup_stopping &&
		    pthread_cond_timedwait(&cleanup_cond, &cleanup_lock, &ts) != ETIMEDOUT)
			;
		stop = cleanup_stopping;
		pthread_mutex_unlock(&cleanup_lock);
		if (stop)
			break;
		if (db != NULL && db_ensure(db) == DB_OK) {
			unsigned long long n = 0;
			int rc = cleanup_run(db, &app->cfg, &n);
			if (rc != DB_OK)
				log_warn("cleanup: deleting expired rows failed (%d); trying again later", rc);
			else if (n > 0)
				log_info("cleanup: deleted %llu expired sessions, sign-in records and sign-in flows", n);
		}
	}
	db_free(db);
	db_thread_end();
	return NULL;
}

int cleanup_start(struct app *app)
{
	cleanup_stopping = 0;
	if (pthread_create(&cleanup_thread, NULL, cleanup_main, app) != 0) {
		log_error("cleanup_start: cannot start the cleanup thread");
		return -1;
	}
	cleanup_started = 1;
	return 0;
}

void cleanup_stop(void)
{
	if (!cleanup_started)
		return;
	pthread_mutex_lock(&cleanup_lock);
	cleanup_stopping = 1;
	pthread_cond_signal(&cleanup_cond);
	pthread_mutex_unlock(&cleanup_lock);
	pthread_join(cleanup_thread, NULL);
	cleanup_started = 0;
}
