/*
 * cleanup.h: the periodic deletion of rows that only grow otherwise:
 * expired sessions, sign-in tries of past windows, and addresses no account
 * has signed in from for a long time.
 */
#ifndef LABELD_CLEANUP_H
#define LABELD_CLEANUP_H

struct app;
struct config;
struct db;

/* Days after its last sign-in from an address that the address stops being
 * known for the account (the sign-in brake spares known addresses). */
#define LOGIN_KNOWN_DAYS 90

/* Delete, in batches of at most 1000 rows (no long locks), sessions idle
 * past session_idle_timeout or older than session_lifetime, login_failures
 * rows whose window ended more than login_window ago, and login_known rows
 * older than LOGIN_KNOWN_DAYS.  Every labeld process may run it at once: the
 * statements are idempotent.  DB_OK with *deleted (may be NULL) set to the
 * rows deleted, or DB_*. */
int cleanup_run(struct db *db, const struct config *cfg, unsigned long long *deleted);

/* The cleanup thread: cleanup_run every cleanup_interval seconds on its own
 * database connection.  Returns 0 or -1 (logged). */
int cleanup_start(struct app *app);
void cleanup_stop(void);

#endif
