/*
 * unit_db.h: what the unit tests that use a scratch MariaDB database share
 * (LABELD_TEST_DB_SOCKET, set by ./stack test; root without password unless
 * LABELD_TEST_DB_USER / LABELD_TEST_DB_PASSWORD say otherwise): the
 * connection settings, a statement that must work, one row of a query as
 * text, and a fresh migrated database.
 */
#ifndef LABELD_UNIT_DB_H
#define LABELD_UNIT_DB_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "arena.h"
#include "db.h"

/* The test server's settings for database name (NULL: none). */
static inline struct db_config unit_db_config(const char *name)
{
	const char *u = getenv("LABELD_TEST_DB_USER"), *pw = getenv("LABELD_TEST_DB_PASSWORD");
	struct db_config cfg = {
		.socket = getenv("LABELD_TEST_DB_SOCKET"),
		.user = u != NULL && u[0] != '\0' ? u : "root",
		.password = pw != NULL ? pw : "",
		.name = name,
		.connect_timeout = 5,
		.rw_timeout = 30,
	};
	return cfg;
}

/* Run sql; the test fails unless it works. */
static inline void unit_db_exec(struct db *db, const char *sql)
{
	int rc = db_exec(db, 0, NULL, NULL, sql, "");
	ck_assert_msg(rc == DB_OK, "%s: %d %s", sql, rc, db_errmsg(db));
}

/* The one row of a query as text ("" for none; NULL columns as "-"),
 * columns separated by spaces, in the arena. */
static inline const char *unit_db_row(struct db *db, struct arena *a, const char *sql)
{
	struct db_result *res;
	char *out = "";

	ck_assert_msg(db_query(db, a, &res, sql, "") == DB_OK, "%s: %s", sql, db_errmsg(db));
	ck_assert_msg(res->nrows <= 1, "%s: %zu rows", sql, res->nrows);
	for (size_t i = 0; res->nrows == 1 && i < res->ncols; i++)
		out = arena_printf(a, "%s%s%s", out, i ? " " : "",
		    db_value(res, 0, i) ? db_value(res, 0, i) : "-");
	return out;
}

/* Database name dropped, created again and migrated from the repository's
 * sql/; the connection to it (free it with db_free). */
static inline struct db *unit_db_fresh(const char *name)
{
	struct db_config root = unit_db_config(NULL), cfg = unit_db_config(name);
	struct db *db = db_new(&root);
	char sql[256], err[512];

	ck_assert_ptr_nonnull(db);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", name);
	unit_db_exec(db, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
	    name);
	unit_db_exec(db, sql);
	db_free(db);
	db = db_new(&cfg);
	ck_assert_ptr_nonnull(db);
	ck_assert_int_eq(db_ensure(db), DB_OK);
	ck_assert_msg(db_migrate(db, TEST_SRCDIR "/sql", err, sizeof(err)) == 0, "migrate: %s", err);
	return db;
}

#endif
