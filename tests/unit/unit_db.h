/*
 * unit_db.h: what the unit tests that use a scratch MariaDB database share
 * (LABELD_TEST_DB_SOCKET, set by ./stack test): the connection settings, a
 * statement that must work, and one row of a query as text.
 */
#ifndef LABELD_UNIT_DB_H
#define LABELD_UNIT_DB_H

#include <check.h>
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

#endif
