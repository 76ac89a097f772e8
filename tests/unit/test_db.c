/*
 * test_db.c: core/db.c against a real MariaDB.
 *
 * Environment: LABELD_TEST_DB_SOCKET (unix socket; unset = skip, exit 77),
 * LABELD_TEST_DB_USER (root), LABELD_TEST_DB_PASSWORD (empty),
 * LABELD_TEST_DB_NAME (labeld_unit: a scratch database this test drops and
 * creates).
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "db.h"

static const char *t_socket;
static const char *t_user = "root";
static const char *t_password = "";
static const char *t_name = "labeld_unit";

static struct db_config test_config(const char *name)
{
	struct db_config cfg = {
		.host = NULL,
		.socket = t_socket,
		.port = 0,
		.user = t_user,
		.password = t_password,
		.name = name,
		.connect_timeout = 5,
		.rw_timeout = 30,
	};
	return cfg;
}

static struct db *test_open(void)
{
	struct db_config cfg = test_config(t_name);
	struct db *db = db_new(&cfg);

	ck_assert_ptr_nonnull(db);
	ck_assert_int_eq(db_ensure(db), DB_OK);
	return db;
}

static void test_exec(struct db *db, const char *sql)
{
	int rc = db_exec(db, 0, NULL, NULL, sql, "");
	ck_assert_msg(rc == DB_OK, "%s: %d %s", sql, rc, db_errmsg(db));
}

static long long test_scalar(struct db *db, struct arena *a, const char *sql)
{
	struct db_result *res;
	int rc = db_query(db, a, &res, sql, "");

	ck_assert_msg(rc == DB_OK, "%s: %d %s", sql, rc, db_errmsg(db));
	ck_assert_uint_eq(res->nrows, 1);
	return db_int(res, 0, 0);
}

static double test_elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Kill victim's connection from killer and wait until it is gone. */
static void test_kill(struct db *killer, struct db *victim, struct arena *a)
{
	long long id = test_scalar(victim, a, "SELECT CONNECTION_ID()");
	struct db_result *res;
	int i, rc;

	rc = db_exec(killer, 0, NULL, NULL, "KILL CONNECTION ?", "i", id);
	ck_assert_msg(rc == DB_OK, "KILL: %s", db_errmsg(killer));
	for (i = 0; i < 200; i++) {
		rc = db_query(killer, a, &res,
		    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?", "i", id);
		ck_assert_int_eq(rc, DB_OK);
		if (db_int(res, 0, 0) == 0)
			return;
		usleep(10000);
	}
	ck_abort_msg("connection %lld did not go away", id);
}

/* ------------------------------------------------------------ queries */

START_TEST(test_params_each_type)
{
	struct db *db = test_open();
	struct arena *a = arena_new();
	struct db_result *res;
	static const char bin[] = { 'a', 0, 'b', 0, 0, (char)0xff };
	int rc;

	rc = db_query(db, a, &res, "SELECT ?, ?, ?, ?, ?, ?, ?", "ssbiudb",
	    "h\xc3\xa9llo", (const char *)NULL, (const void *)bin, sizeof(bin),
	    -42LL, 18446744073709551615ULL, 1.5, (const void *)"", (size_t)0);
	ck_assert_msg(rc == DB_OK, "%s", db_errmsg(db));
	ck_assert_uint_eq(res->nrows, 1);
	ck_assert_uint_eq(res->ncols, 7);
	ck_assert_str_eq(db_value(res, 0, 0), "h\xc3\xa9llo");
	ck_assert_uint_eq(res->lens[0][0], 6);
	ck_assert_ptr_null(db_value(res, 0, 1));
	ck_assert_uint_eq(res->lens[0][2], sizeof(bin));
	ck_assert_int_eq(memcmp(db_value(res, 0, 2), bin, sizeof(bin)), 0);
	ck_assert_int_eq(db_value(res, 0, 2)[sizeof(bin)], '\0');
	ck_assert_str_eq(db_value(res, 0, 3), "-42");
	ck_assert_int_eq(db_int(res, 0, 3), -42);
	ck_assert_str_eq(db_value(res, 0, 4), "18446744073709551615");
	ck_assert_str_eq(db_value(res, 0, 5), "1.5");
	ck_assert_ptr_nonnull(db_value(res, 0, 6));
	ck_assert_uint_eq(res->lens[0][6], 0);
	ck_assert_str_eq(db_errmsg(db), "");

	/* NULL versus the empty string. */
	rc = db_query(db, a, &res, "SELECT '', NULL, ?, ?", "ss", "", (const char *)NULL);
	ck_assert_int_eq(rc, DB_OK);
	ck_assert_ptr_nonnull(db_value(res, 0, 0));
	ck_assert_str_eq(db_value(res, 0, 0), "");
	ck_assert_ptr_null(db_value(res, 0, 1));
	ck_assert_str_eq(db_value(res, 0, 2), "");
	ck_assert_ptr_null(db_value(res, 0, 3));
	ck_assert_int_eq(db_int(res, 0, 1), 0);

	/* Out of range. */
	ck_assert_ptr_null(db_value(res, 1, 0));
	ck_assert_ptr_null(db_value(res, 0, 4));
	ck_assert_int_eq(db_int(res, 5, 5), 0);

	arena_free(a);
	db_free(db);
}
END_TEST

START_TEST(test_table_round_trip)
{
	struct db *db = test_open();
	struct arena *a = arena_new();
	struct db_result *res;
	static const char bin[] = { 0, 1, 2, 0, 'z' };
	uint64_t affected = 0, id1 = 0, id2 = 0;
	int rc;

	test_exec(db, "DROP TABLE IF EXISTS t_types");
	test_exec(db, "CREATE TABLE t_types (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,"
	    " s VARCHAR(100) NULL, b VARBINARY(100) NULL, i BIGINT NULL,"
	    " u BIGINT UNSIGNED NULL, d DOUBLE NULL, t DATETIME(6) NULL, txt MEDIUMTEXT NULL)"
	    " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
	rc = db_exec(db, 0, &affected, &id1,
	    "INSERT INTO t_types (s, b, i, u, d, t) VALUES (?, ?, ?, ?, ?, '2026-01-02 03:04:05.123456')",
	    "sbiud", "\xe2\x9c\x93 ok", (const void *)bin, sizeof(bin),
	    (long long)INT64_MIN, (unsigned long long)UINT64_MAX, -0.25);
	ck_assert_msg(rc == DB_OK, "%s", db_errmsg(db));
	ck_assert_uint_eq(affected, 1);
	ck_assert_uint_gt(id1, 0);
	rc = db_exec(db, 0, &affected, &id2,
	    "INSERT INTO t_types (s, b, txt) VALUES (?, ?, REPEAT('x', 100000))", "sb",
	    "", (const void *)NULL, (size_t)0);
	ck_assert_int_eq(rc, DB_OK);
	ck_assert_uint_eq(id2, id1 + 1);

	rc = db_query(db, a, &res, "SELECT s, b, i, u, d, t, txt FROM t_types ORDER BY id", "");
	ck_assert_msg(rc == DB_OK, "%s", db_errmsg(db));
	ck_assert_uint_eq(res->nrows, 2);
	ck_assert_str_eq(db_value(res, 0, 0), "\xe2\x9c\x93 ok");
	ck_assert_uint_eq(res->lens[0][1], sizeof(bin));
	ck_assert_int_eq(memcmp(db_value(res, 0, 1), bin, sizeof(bin)), 0);
	ck_assert_str_eq(db_value(res, 0, 2), "-9223372036854775808");
	ck_assert_str_eq(db_value(res, 0, 3), "18446744073709551615");
	ck_assert_str_eq(db_value(res, 0, 4), "-0.25");
	ck_assert_str_eq(db_value(res, 0, 5), "2026-01-02 03:04:05.123456");
	ck_assert_ptr_null(db_value(res, 0, 6));
	ck_assert_str_eq(db_value(res, 1, 0), "");
	ck_assert_ptr_null(db_value(res, 1, 1));
	ck_assert_ptr_null(db_value(res, 1, 2));
	ck_assert_uint_eq(res->lens[1][6], 100000);
	ck_assert_uint_eq(strlen(db_value(res, 1, 6)), 100000);

	/* Many rows of varying length; no rows. */
	rc = db_query(db, a, &res,
	    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000)"
	    " SELECT n, REPEAT('y', n % 7) FROM c ORDER BY n", "");
	ck_assert_msg(rc == DB_OK, "%s", db_errmsg(db));
	ck_assert_uint_eq(res->nrows, 1000);
	ck_assert_int_eq(db_int(res, 999, 0), 1000);
	ck_assert_uint_eq(res->lens[12][1], 13 % 7);
	rc = db_query(db, a, &res, "SELECT id, s FROM t_types WHERE id = ?", "i", -1LL);
	ck_assert_int_eq(rc, DB_OK);
	ck_assert_uint_eq(res->nrows, 0);
	ck_assert_uint_eq(res->ncols, 2);

	/* Caller mistakes are errors, not crashes. */
	rc = db_query(db, a, &res, "SELECT ?, ?", "s", "one");
	ck_assert_int_eq(rc, DB_ERR);
	ck_assert_ptr_null(res);
	ck_assert_str_ne(db_errmsg(db), "");
	rc = db_query(db, a, &res, "SELECT ?", "x", 1);
	ck_assert_int_eq(rc, DB_ERR);
	rc = db_query(db, a, &res, "SELEKT 1", "");
	ck_assert_int_eq(rc, DB_ERR);
	ck_assert_ptr_nonnull(strstr(db_errmsg(db), "1064"));
	/* The connection is still good. */
	ck_assert_int_eq(test_scalar(db, a, "SELECT 7"), 7);
	ck_assert_str_eq(db_errmsg(db), "");

	arena_free(a);
	db_free(db);
}
END_TEST

START_TEST(test_duplicate)
{
	struct db *db = test_open();
	int rc;

	test_exec(db, "DROP TABLE IF EXISTS t_dup");
	test_exec(db, "CREATE TABLE t_dup (k VARCHAR(10) PRIMARY KEY) ENGINE=InnoDB");
	rc = db_exec(db, 0, NULL, NULL, "INSERT INTO t_dup VALUES (?)", "s", "a");
	ck_assert_int_eq(rc, DB_OK);
	rc = db_exec(db, 0, NULL, NULL, "INSERT INTO t_dup VALUES (?)", "s", "a");
	ck_assert_int_eq(rc, DB_DUPLICATE);
	ck_assert_ptr_nonnull(strstr(db_errmsg(db), "1062"));
	/* Strict mode is on: too long is an error, not a truncation. */
	rc = db_exec(db, 0, NULL, NULL, "INSERT INTO t_dup VALUES (?)", "s", "much too long");
	ck_assert_int_eq(rc, DB_ERR);
	db_free(db);
}
END_TEST

START_TEST(test_transactions)
{
	struct db *db = test_open();
	struct arena *a = arena_new();
	int rc;

	test_exec(db, "DROP TABLE IF EXISTS t_tx");
	test_exec(db, "CREATE TABLE t_tx (k INT PRIMARY KEY) ENGINE=InnoDB");

	ck_assert_int_eq(db_in_transaction(db), 0);
	ck_assert_int_eq(db_begin(db), DB_OK);
	ck_assert_int_ne(db_in_transaction(db), 0);
	ck_assert_int_eq(db_begin(db), DB_ERR);   /* no nesting */
	ck_assert_int_ne(db_in_transaction(db), 0);
	ck_assert_int_eq(db_exec(db, 0, NULL, NULL, "INSERT INTO t_tx VALUES (?)", "i", 1LL), DB_OK);
	ck_assert_int_eq(db_rollback(db), DB_OK);
	ck_assert_int_eq(db_in_transaction(db), 0);
	ck_assert_int_eq(test_scalar(db, a, "SELECT COUNT(*) FROM t_tx"), 0);

	ck_assert_int_eq(db_begin(db), DB_OK);
	ck_assert_int_eq(db_exec(db, 0, NULL, NULL, "INSERT INTO t_tx VALUES (?)", "i", 2LL), DB_OK);
	/* A duplicate inside a transaction leaves it open. */
	rc = db_exec(db, 0, NULL, NULL, "INSERT INTO t_tx VALUES (?)", "i", 2LL);
	ck_assert_int_eq(rc, DB_DUPLICATE);
	ck_assert_int_ne(db_in_transaction(db), 0);
	ck_assert_int_eq(db_exec(db, 0, NULL, NULL, "INSERT INTO t_tx VALUES (?)", "i", 3LL), DB_OK);
	ck_assert_int_eq(db_commit(db), DB_OK);
	ck_assert_int_eq(db_in_transaction(db), 0);
	ck_assert_int_eq(test_scalar(db, a, "SELECT COUNT(*) FROM t_tx"), 2);

	ck_assert_int_eq(db_commit(db), DB_ERR);     /* none open */
	ck_assert_int_eq(db_rollback(db), DB_OK);    /* no-op */
	/* Autocommit is on again outside. */
	ck_assert_int_eq(test_scalar(db, a, "SELECT @@autocommit"), 1);

	arena_free(a);
	db_free(db);
}
END_TEST

START_TEST(test_lock_wait_timeout)
{
	struct db *db = test_open(), *other = test_open();
	struct arena *a = arena_new();
	int rc;

	test_exec(db, "DROP TABLE IF EXISTS t_lock");
	test_exec(db, "CREATE TABLE t_lock (k INT PRIMARY KEY, v INT) ENGINE=InnoDB");
	test_exec(db, "INSERT INTO t_lock VALUES (1, 0)");
	test_exec(db, "SET SESSION innodb_lock_wait_timeout = 1");

	ck_assert_int_eq(db_begin(other), DB_OK);
	test_exec(other, "UPDATE t_lock SET v = 1 WHERE k = 1");

	ck_assert_int_eq(db_begin(db), DB_OK);
	rc = db_exec(db, 0, NULL, NULL, "UPDATE t_lock SET v = ? WHERE k = 1", "i", 2LL);
	ck_assert_int_eq(rc, DB_RETRY);
	ck_assert_int_eq(db_in_transaction(db), 0);
	ck_assert_int_eq(db_rollback(db), DB_OK);
	ck_assert_int_eq(db_rollback(other), DB_OK);
	/* Free again: the retry works. */
	ck_assert_int_eq(db_begin(db), DB_OK);
	rc = db_exec(db, 0, NULL, NULL, "UPDATE t_lock SET v = ? WHERE k = 1", "i", 2LL);
	ck_assert_int_eq(rc, DB_OK);
	ck_assert_int_eq(db_commit(db), DB_OK);
	ck_assert_int_eq(test_scalar(other, a, "SELECT v FROM t_lock WHERE k = 1"), 2);

	arena_free(a);
	db_free(other);
	db_free(db);
}
END_TEST

/* ------------------------------------------------------------ statement cache */

static long long test_prepares(struct db *db, struct arena *a)
{
	return test_scalar(db, a, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS"
	    " WHERE VARIABLE_NAME = 'COM_STMT_PREPARE'");
}

START_TEST(test_statement_cache)
{
	struct db *db = test_open();
	struct arena *a = arena_new();
	struct db_result *res;
	char sql[64];
	long long before, after;
	int i;

	before = test_prepares(db, a);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(db_query(db, a, &res, "SELECT ? + 1", "i", (long long)i), DB_OK);
		ck_assert_int_eq(db_int(res, 0, 0), i + 1);
	}
	after = test_prepares(db, a);
	/* One prepare for "SELECT ? + 1"; the counter query was cached. */
	ck_assert_int_eq(after - before, 1);

	/* Same buffer, different text: must not reuse the old statement. */
	snprintf(sql, sizeof(sql), "SELECT 'first'");
	ck_assert_int_eq(db_query(db, a, &res, sql, ""), DB_OK);
	ck_assert_str_eq(db_value(res, 0, 0), "first");
	snprintf(sql, sizeof(sql), "SELECT 'other'");
	ck_assert_int_eq(db_query(db, a, &res, sql, ""), DB_OK);
	ck_assert_str_eq(db_value(res, 0, 0), "other");
	/* Different buffer, same text: a hit. */
	before = test_prepares(db, a);
	snprintf(sql, sizeof(sql), "SELECT ? + 1");
	ck_assert_int_eq(db_query(db, a, &res, sql, "i", 41LL), DB_OK);
	ck_assert_int_eq(db_int(res, 0, 0), 42);
	ck_assert_int_eq(test_prepares(db, a) - before, 0);

	/* More distinct statements than the cache holds: eviction works. */
	for (i = 0; i < 150; i++) {
		snprintf(sql, sizeof(sql), "SELECT %d", i);
		ck_assert_int_eq(db_query(db, a, &res, sql, ""), DB_OK);
		ck_assert_int_eq(db_int(res, 0, 0), i);
	}
	ck_assert_int_eq(db_query(db, a, &res, "SELECT ? + 1", "i", 1LL), DB_OK);
	ck_assert_int_eq(db_int(res, 0, 0), 2);
	/* The server holds at most the cache size of our statements. */
	ck_assert_int_le(test_scalar(db, a, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS"
	    " WHERE VARIABLE_NAME = 'COM_STMT_PREPARE'") -
	    test_scalar(db, a, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS"
	    " WHERE VARIABLE_NAME = 'COM_STMT_CLOSE'"), 64);

	arena_free(a);
	db_free(db);
}
END_TEST

/* A stream reads every row in order, long and NULL values included, with
 * parameters; while it is open the connection refuses other work; after its
 * end the connection serves again; a stream closed early closes the
 * connection, and the next call reconnects. */
START_TEST(test_stream)
{
	struct db *db = test_open();
	struct arena *a = arena_new();
	struct db_stream *st;
	struct db_result *row, *res;
	long long n = 0;
	int rc;

	test_exec(db, "DROP TABLE IF EXISTS t_stream");
	test_exec(db, "CREATE TABLE t_stream (id INT PRIMARY KEY, v LONGTEXT NULL)");
	test_exec(db, "INSERT INTO t_stream SELECT seq, IF(seq = 7, NULL, "
	    "IF(seq = 9, REPEAT('x', 5000), CONCAT('v', seq))) FROM seq_1_to_3000");
	ck_assert_int_eq(db_stream_open(db, &st, "SELECT id, v FROM t_stream WHERE id > ? ORDER BY id",
	    "i", 0LL), DB_OK);
	/* The rows wait on the connection: nothing else may run. */
	ck_assert_int_eq(db_query(db, a, &res, "SELECT 1", ""), DB_ERR);
	ck_assert_int_eq(db_begin(db), DB_ERR);
	while ((rc = db_stream_next(st, &row)) == 1) {
		n++;
		ck_assert_int_eq(db_int(row, 0, 0), n);
		if (n == 7)
			ck_assert_ptr_null(db_value(row, 0, 1));
		else if (n == 9)
			ck_assert_uint_eq(strlen(db_value(row, 0, 1)), 5000);
		else
			ck_assert_int_eq(strtoll(db_value(row, 0, 1) + 1, NULL, 10), n);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(n, 3000);
	ck_assert_int_eq(db_stream_next(st, &row), 0);
	db_stream_close(st);
	ck_assert_int_eq(test_scalar(db, a, "SELECT COUNT(*) FROM t_stream"), 3000);

	/* Closed after one row: the connection is closed, not drained; the
	 * next query reconnects (a new connection id). */
	long long id1 = test_scalar(db, a, "SELECT CONNECTION_ID()");
	ck_assert_int_eq(db_stream_open(db, &st, "SELECT id FROM t_stream ORDER BY id", ""), DB_OK);
	ck_assert_int_eq(db_stream_next(st, &row), 1);
	db_stream_close(st);
	ck_assert_int_ne(test_scalar(db, a, "SELECT CONNECTION_ID()"), id1);

	/* A statement that fails: an error, nothing to close. */
	st = NULL;
	ck_assert_int_eq(db_stream_open(db, &st, "SELECT nosuch FROM t_stream", ""), DB_ERR);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(test_scalar(db, a, "SELECT 2"), 2);
	test_exec(db, "DROP TABLE t_stream");
	arena_free(a);
	db_free(db);
}
END_TEST

/* ------------------------------------------------------------ lost connections */

START_TEST(test_lost_query_reconnects)
{
	struct db *db = test_open(), *killer = test_open();
	struct arena *a = arena_new();
	struct db_result *res;
	long long id1, id2;

	id1 = test_scalar(db, a, "SELECT CONNECTION_ID()");
	test_kill(killer, db, a);
	ck_assert_int_eq(db_query(db, a, &res, "SELECT CONNECTION_ID()", ""), DB_OK);
	id2 = db_int(res, 0, 0);
	ck_assert_int_ne(id1, id2);
	/* The session settings were applied to the new connection. */
	ck_assert_int_eq(db_query(db, a, &res, "SELECT @@SESSION.time_zone, @@SESSION.sql_mode", ""), DB_OK);
	ck_assert_str_eq(db_value(res, 0, 0), "+00:00");
	ck_assert_ptr_nonnull(strstr(db_value(res, 0, 1), "STRICT_ALL_TABLES"));

	/* db_ping recovers too. */
	test_kill(killer, db, a);
	ck_assert_int_eq(db_ping(db), DB_OK);

	arena_free(a);
	db_free(killer);
	db_free(db);
}
END_TEST

START_TEST(test_lost_exec_rules)
{
	struct db *db = test_open(), *killer = test_open();
	struct arena *a = arena_new();
	struct db_result *res;
	int rc;

	test_exec(db, "DROP TABLE IF EXISTS t_lost");
	test_exec(db, "CREATE TABLE t_lost (k INT PRIMARY KEY) ENGINE=InnoDB");

	/* Not idempotent: reported, not retried; the next call reconnects. */
	test_kill(killer, db, a);
	rc = db_exec(db, 0, NULL, NULL, "INSERT INTO t_lost VALUES (?)", "i", 1LL);
	ck_assert_int_eq(rc, DB_UNAVAILABLE);
	ck_assert_str_ne(db_errmsg(db), "");
	rc = db_exec(db, 0, NULL, NULL, "INSERT INTO t_lost VALUES (?)", "i", 1LL);
	ck_assert_int_eq(rc, DB_OK);

	/* Idempotent: retried after the reconnect. */
	test_kill(killer, db, a);
	rc = db_exec(db, DB_IDEMPOTENT, NULL, NULL, "DELETE FROM t_lost WHERE k = ?", "i", 1LL);
	ck_assert_int_eq(rc, DB_OK);
	ck_assert_int_eq(test_scalar(db, a, "SELECT COUNT(*) FROM t_lost"), 0);

	/* Inside a transaction: the transaction is over, nothing is retried. */
	ck_assert_int_eq(db_begin(db), DB_OK);
	ck_assert_int_eq(db_exec(db, 0, NULL, NULL, "INSERT INTO t_lost VALUES (?)", "i", 5LL), DB_OK);
	test_kill(killer, db, a);
	rc = db_query(db, a, &res, "SELECT COUNT(*) FROM t_lost", "");
	ck_assert_int_eq(rc, DB_UNAVAILABLE);
	ck_assert_int_eq(db_in_transaction(db), 0);
	ck_assert_int_eq(db_rollback(db), DB_OK);
	rc = db_exec(db, DB_IDEMPOTENT, NULL, NULL, "INSERT INTO t_lost VALUES (?)", "i", 6LL);
	ck_assert_int_eq(rc, DB_OK);
	ck_assert_int_eq(db_begin(db), DB_OK);
	test_kill(killer, db, a);
	rc = db_exec(db, DB_IDEMPOTENT, NULL, NULL, "INSERT INTO t_lost VALUES (?)", "i", 7LL);
	ck_assert_int_eq(rc, DB_UNAVAILABLE);
	ck_assert_int_eq(db_in_transaction(db), 0);
	/* Row 5 was rolled back with its transaction; 7 was never retried. */
	ck_assert_int_eq(test_scalar(db, a, "SELECT COUNT(*) FROM t_lost"), 1);
	ck_assert_int_eq(test_scalar(db, a, "SELECT k FROM t_lost"), 6);

	/* Lost during begin: nothing ran yet, so begin reconnects. */
	test_kill(killer, db, a);
	ck_assert_int_eq(db_begin(db), DB_OK);
	ck_assert_int_eq(db_commit(db), DB_OK);

	arena_free(a);
	db_free(killer);
	db_free(db);
}
END_TEST

START_TEST(test_unavailable_fast)
{
	struct db_config cfg = test_config(t_name);
	struct arena *a = arena_new();
	struct db_result *res = (void *)1;
	struct timespec t0;
	struct db *db;
	char err[256];

	cfg.socket = "/nonexistent/labeld-test/mysqld.sock";
	db = db_new(&cfg);
	ck_assert_ptr_nonnull(db);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(db_ensure(db), DB_UNAVAILABLE);
	ck_assert_str_ne(db_errmsg(db), "");
	/* Throttled: these do not even try. */
	ck_assert_int_eq(db_ensure(db), DB_UNAVAILABLE);
	ck_assert_int_eq(db_query(db, a, &res, "SELECT 1", ""), DB_UNAVAILABLE);
	ck_assert_ptr_null(res);
	ck_assert_int_eq(db_exec(db, DB_IDEMPOTENT, NULL, NULL, "SELECT 1", ""), DB_UNAVAILABLE);
	ck_assert_int_eq(db_ping(db), DB_UNAVAILABLE);
	ck_assert_int_eq(db_begin(db), DB_UNAVAILABLE);
	ck_assert_int_eq(db_in_transaction(db), 0);
	ck_assert_int_eq(db_migrate(db, "/nonexistent", err, sizeof(err)), -1);
	ck_assert_str_ne(err, "");
	ck_assert_msg(test_elapsed(&t0) < 1.0, "took %.3f s", test_elapsed(&t0));
	/* After the throttle interval it tries again (and fails again). */
	usleep(250000);
	ck_assert_int_eq(db_ensure(db), DB_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(db_errmsg(db), "2002"));
	db_free(db);
	arena_free(a);
}
END_TEST

/* ------------------------------------------------------------ migrations */

static char t_dir[64];

static void test_write(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t_dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

static void test_unlink(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", t_dir, name);
	ck_assert_int_eq(unlink(path), 0);
}

static void test_migrations_setup(struct db *db)
{
	strcpy(t_dir, "/tmp/labeld-test-db.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t_dir));
	test_exec(db, "DROP TABLE IF EXISTS schema_migrations, mig_a, mig_t, mig_e, mig_p");
	test_exec(db, "DROP PROCEDURE IF EXISTS mig_add");
}

static void test_migrations_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t_dir);
	ck_assert_int_eq(system(cmd), 0);
}

static const char mig_001[] =
	"-- 001: the first table; a comment with ; and 'quote\n"
	"# another comment ;\n"
	"/* block ; comment\n   over lines ' \" */\n"
	"CREATE TABLE IF NOT EXISTS mig_a (\n"
	"  id INT PRIMARY KEY,\n"
	"  `odd;col` VARCHAR(100) NOT NULL -- trailing ; comment\n"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n"
	"\n"
	"INSERT INTO mig_a VALUES (1, 'semi;colon'), (2, 'it''s \\'q\\' \"x;\"');\n"
	";\n"
	"INSERT INTO mig_a VALUES (3, \"dq;'\"), (4, 5--1)\n"
	"-- no semicolon at the end of the file\n";

static const char mig_002[] =
	"INSERT INTO mig_a VALUES (10, 'two');\n";

START_TEST(test_migrate_apply_once)
{
	struct db *db = test_open();
	struct arena *a = arena_new();
	struct db_result *res;
	char err[512];

	test_migrations_setup(db);
	test_write("001_a.sql", mig_001);
	test_write("002_b.sql", mig_002);
	test_write("README", "not a migration\n");

	ck_assert_msg(db_migrate(db, t_dir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(test_scalar(db, a, "SELECT COUNT(*) FROM schema_migrations"), 2);
	ck_assert_int_eq(db_query(db, a, &res,
	    "SELECT version, name FROM schema_migrations ORDER BY version", ""), DB_OK);
	ck_assert_str_eq(db_value(res, 0, 1), "001_a.sql");
	ck_assert_str_eq(db_value(res, 1, 1), "002_b.sql");
	ck_assert_int_eq(db_query(db, a, &res, "SELECT id, `odd;col` FROM mig_a ORDER BY id", ""), DB_OK);
	ck_assert_uint_eq(res->nrows, 5);
	ck_assert_str_eq(db_value(res, 0, 1), "semi;colon");
	ck_assert_str_eq(db_value(res, 1, 1), "it's 'q' \"x;\"");
	ck_assert_str_eq(db_value(res, 2, 1), "dq;'");
	ck_assert_str_eq(db_value(res, 3, 1), "6");
	ck_assert_str_eq(db_value(res, 4, 1), "two");
	ck_assert_int_eq(db_in_transaction(db), 0);

	/* Again: nothing to do. */
	ck_assert_msg(db_migrate(db, t_dir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(test_scalar(db, a, "SELECT COUNT(*) FROM mig_a"), 5);
	ck_assert_int_eq(test_scalar(db, a, "SELECT COUNT(*) FROM schema_migrations"), 2);
	/* The lock was released. */
	ck_assert_int_eq(test_scalar(db, a, "SELECT IS_FREE_LOCK('labeld_migrations')"), 1);

	/* A new file is applied on the next run. */
	test_write("010_more.sql", "INSERT INTO mig_a VALUES (11, 'ten');");
	ck_assert_msg(db_migrate(db, t_dir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(test_scalar(db, a, "SELECT COUNT(*) FROM mig_a"), 6);
	ck_assert_int_eq(test_scalar(db, a, "SELECT MAX(version) FROM schema_migrations"), 10);

	test_migrations_teardown();
	arena_free(a);
	db_free(db);
}
END_TEST

/* A compound statement between DELIMITER lines; the delimiter inside
 * quotes and comments does not split, and ';' is back after the block. */
static const char mig_proc[] =
	"CREATE TABLE mig_p (id INT PRIMARY KEY, note VARCHAR(20)) ENGINE=InnoDB;\n"
	"delimiter $$\n"
	"-- a comment with $$ in it\n"
	"CREATE PROCEDURE mig_add(IN p_id INT, IN p_note VARCHAR(20))\n"
	"BEGIN\n"
	"  INSERT INTO mig_p VALUES (p_id, p_note);\n"
	"  IF p_id < 0 THEN\n"
	"    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no $$ ids below 0';\n"
	"  END IF;\n"
	"END$$\n"
	"CALL mig_add(1, 'one;$$')$$\n"
	"DELIMITER ;\n"
	"CALL mig_add(2, 'two');\n";

START_TEST(test_migrate_delimiter)
{
	struct db *db = test_open();
	struct arena *a = arena_new();
	struct db_result *res;
	char err[512], want[256];

	test_migrations_setup(db);
	test_write("001_p.sql", mig_proc);
	ck_assert_msg(db_migrate(db, t_dir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(db_query(db, a, &res, "SELECT id, note FROM mig_p ORDER BY id", ""), DB_OK);
	ck_assert_uint_eq(res->nrows, 2);
	ck_assert_str_eq(db_value(res, 0, 1), "one;$$");
	ck_assert_str_eq(db_value(res, 1, 1), "two");

	/* A prepared CALL; the procedure's SIGNAL comes back as DB_REFUSED,
	 * with the work it did before still in the caller's transaction. */
	ck_assert_int_eq(db_exec(db, 0, NULL, NULL, "CALL mig_add(?, ?)", "is", 3LL, "three"), DB_OK);
	ck_assert_int_eq(db_begin(db), DB_OK);
	ck_assert_int_eq(db_exec(db, 0, NULL, NULL, "CALL mig_add(?, ?)", "is", -1LL, "neg"),
	    DB_REFUSED);
	ck_assert_int_eq(db_in_transaction(db), 1);
	ck_assert_int_eq(test_scalar(db, a, "SELECT COUNT(*) FROM mig_p WHERE id = -1"), 1);
	ck_assert_int_eq(db_rollback(db), DB_OK);
	ck_assert_int_eq(test_scalar(db, a, "SELECT COUNT(*) FROM mig_p"), 3);

	/* DELIMITER with nothing after it: an error at its line. */
	test_write("002_d.sql", "SELECT 1;\nDELIMITER   \nSELECT 2;\n");
	ck_assert_int_eq(db_migrate(db, t_dir, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/002_d.sql:2: ", t_dir);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got: %s", err);
	ck_assert_ptr_nonnull(strstr(err, "DELIMITER"));

	test_migrations_teardown();
	arena_free(a);
	db_free(db);
}
END_TEST

struct mig_thread {
	pthread_barrier_t *start;
	int rc;
	char err[512];
};

static void *mig_thread_main(void *p)
{
	struct mig_thread *t = p;
	struct db_config cfg = test_config(t_name);
	struct db *db;

	db_thread_init();
	db = db_new(&cfg);
	t->rc = -2;
	if (db != NULL) {
		pthread_barrier_wait(t->start);
		t->rc = db_migrate(db, t_dir, t->err, sizeof(t->err));
		db_free(db);
	}
	db_thread_end();
	return NULL;
}

START_TEST(test_migrate_concurrent)
{
	enum { N = 4 };
	struct db *db = test_open();
	struct arena *a = arena_new();
	struct mig_thread t[N];
	pthread_t th[N];
	pthread_barrier_t start;
	int i;

	test_migrations_setup(db);
	test_write("001_t.sql", "CREATE TABLE mig_t (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(10)) ENGINE=InnoDB;\n");
	test_write("002_t.sql", "INSERT INTO mig_t (note) VALUES ('two');\nDO SLEEP(0.2);\n");
	test_write("003_t.sql", "INSERT INTO mig_t (note) VALUES ('three');\n");
	ck_assert_int_eq(pthread_barrier_init(&start, NULL, N), 0);
	for (i = 0; i < N; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].start = &start;
		ck_assert_int_eq(pthread_create(&th[i], NULL, mig_thread_main, &t[i]), 0);
	}
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_msg(t[i].rc == 0, "thread %d: %d %s", i, t[i].rc, t[i].err);
	}
	pthread_barrier_destroy(&start);
	ck_assert_int_eq(test_scalar(db, a, "SELECT COUNT(*) FROM schema_migrations"), 3);
	ck_assert_int_eq(test_scalar(db, a, "SELECT COUNT(*) FROM mig_t"), 2);

	test_migrations_teardown();
	arena_free(a);
	db_free(db);
}
END_TEST

START_TEST(test_migrate_errors)
{
	struct db *db = test_open();
	struct arena *a = arena_new();
	char err[512], want[256];

	test_migrations_setup(db);
	test_write("001_e.sql", "CREATE TABLE mig_e (id INT PRIMARY KEY) ENGINE=InnoDB;\n");
	test_write("002_bad.sql",
	    "INSERT INTO mig_e VALUES (1);\n"
	    "\n"
	    "-- the next statement fails\n"
	    "INSERT INTO\n  no_such_table VALUES (1);\n"
	    "INSERT INTO mig_e VALUES (2);\n");
	ck_assert_int_eq(db_migrate(db, t_dir, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/002_bad.sql:4: ", t_dir);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got: %s", err);
	ck_assert_ptr_nonnull(strstr(err, "no_such_table"));
	/* 001 stays applied; 002 is neither recorded nor half-applied. */
	ck_assert_int_eq(test_scalar(db, a, "SELECT COUNT(*) FROM schema_migrations"), 1);
	ck_assert_int_eq(test_scalar(db, a, "SELECT COUNT(*) FROM mig_e"), 0);
	ck_assert_int_eq(test_scalar(db, a, "SELECT IS_FREE_LOCK('labeld_migrations')"), 1);
	ck_assert_int_eq(db_in_transaction(db), 0);

	/* Fixed: applied. */
	test_write("002_bad.sql", "INSERT INTO mig_e VALUES (1);\n");
	ck_assert_msg(db_migrate(db, t_dir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(test_scalar(db, a, "SELECT COUNT(*) FROM mig_e"), 1);

	/* Unterminated string: the line where it starts. */
	test_write("003_q.sql", "INSERT INTO mig_e VALUES (5);\n\nSELECT 'abc;\n");
	ck_assert_int_eq(db_migrate(db, t_dir, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/003_q.sql:3: ", t_dir);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got: %s", err);
	ck_assert_int_eq(test_scalar(db, a, "SELECT COUNT(*) FROM mig_e"), 1);
	test_unlink("003_q.sql");

	/* Bad names and duplicate versions. */
	test_write("4_x.sql", "SELECT 1;\n");
	ck_assert_int_eq(db_migrate(db, t_dir, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "4_x.sql"));
	test_unlink("4_x.sql");
	test_write("004_Upper.sql", "SELECT 1;\n");
	ck_assert_int_eq(db_migrate(db, t_dir, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "004_Upper.sql"));
	test_unlink("004_Upper.sql");
	test_write("002_again.sql", "SELECT 1;\n");
	ck_assert_int_eq(db_migrate(db, t_dir, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "002"));
	test_unlink("002_again.sql");
	ck_assert_int_eq(db_migrate(db, "/nonexistent/labeld-sql", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/labeld-sql"));

	/* Everything fine again, and the lock is free. */
	ck_assert_msg(db_migrate(db, t_dir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(test_scalar(db, a, "SELECT IS_FREE_LOCK('labeld_migrations')"), 1);

	test_migrations_teardown();
	arena_free(a);
	db_free(db);
}
END_TEST

/* ------------------------------------------------------------ suite */

static int test_name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* Recreate the scratch database; runs once before the tests fork. */
static void test_db_create(void)
{
	struct db_config cfg = test_config(NULL);
	struct db *db;
	char sql[256];

	if (!test_name_ok(t_name)) {
		fprintf(stderr, "LABELD_TEST_DB_NAME must match [a-z0-9_]+\n");
		exit(EXIT_FAILURE);
	}
	if (db_library_init() != 0)
		exit(EXIT_FAILURE);
	db = db_new(&cfg);
	if (db == NULL)
		exit(EXIT_FAILURE);
	/* The name is checked above; identifiers cannot be bound. */
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS `%s`", t_name);
	if (db_exec(db, 0, NULL, NULL, sql, "") != DB_OK) {
		fprintf(stderr, "test_db: %s\n", db_errmsg(db));
		exit(EXIT_FAILURE);
	}
	snprintf(sql, sizeof(sql), "CREATE DATABASE `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", t_name);
	if (db_exec(db, 0, NULL, NULL, sql, "") != DB_OK) {
		fprintf(stderr, "test_db: %s\n", db_errmsg(db));
		exit(EXIT_FAILURE);
	}
	db_free(db);
}

static Suite *suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc;
	const char *v;

	t_socket = getenv("LABELD_TEST_DB_SOCKET");
	if (t_socket == NULL || t_socket[0] == '\0') {
		printf("0 passed, 0 failed\n");
		exit(77);   /* automake: SKIP */
	}
	if ((v = getenv("LABELD_TEST_DB_USER")) != NULL && v[0] != '\0')
		t_user = v;
	if ((v = getenv("LABELD_TEST_DB_PASSWORD")) != NULL)
		t_password = v;
	if ((v = getenv("LABELD_TEST_DB_NAME")) != NULL && v[0] != '\0')
		t_name = v;
	test_db_create();

	tc = tcase_create("query");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_params_each_type);
	tcase_add_test(tc, test_table_round_trip);
	tcase_add_test(tc, test_duplicate);
	tcase_add_test(tc, test_transactions);
	tcase_add_test(tc, test_lock_wait_timeout);
	tcase_add_test(tc, test_statement_cache);
	tcase_add_test(tc, test_stream);
	suite_add_tcase(s, tc);

	tc = tcase_create("reconnect");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_lost_query_reconnects);
	tcase_add_test(tc, test_lost_exec_rules);
	tcase_add_test(tc, test_unavailable_fast);
	suite_add_tcase(s, tc);

	tc = tcase_create("migrate");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_migrate_apply_once);
	tcase_add_test(tc, test_migrate_concurrent);
	tcase_add_test(tc, test_migrate_errors);
	tcase_add_test(tc, test_migrate_delimiter);
	suite_add_tcase(s, tc);
	return s;
}

#include "unit.h"
