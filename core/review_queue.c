/*
 * review_queue.c: review leases and skips (review_queue.h,
 * docs/review.md).
 */
#include <string.h>

#include "arena.h"
#include "db.h"
#include "log.h"
#include "review.h"
#include "review_queue.h"
#include "session.h"

/* Deadlocks and lock wait timeouts are tried again this often. */
#define REVIEW_QUEUE_TRIES 3

/* The item columns of struct review_item, in this order. */
#define REVIEW_ITEM_COLUMNS "i.id, i.path, i.width, i.height, i.format, i.review_token"

/* Begin a READ COMMITTED transaction: locking reads keep locks only on the
 * rows they return, so the leased rows a scan passes over stay free. */
static int begin_rc(struct db *db)
{
	int rc = db_exec(db, 0, NULL, NULL, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "");

	return rc == DB_OK ? db_begin(db) : rc;
}

/* Fill the item part of *it from row 0 of res (REVIEW_ITEM_COLUMNS). */
static void item_from_row(const struct db_result *res, struct review_item *it)
{
	it->id = db_int(res, 0, 0);
	it->path = db_value(res, 0, 1);
	it->width = (unsigned)db_int(res, 0, 2);
	it->height = (unsigned)db_int(res, 0, 3);
	it->format = db_value(res, 0, 4);
	it->token = db_value(res, 0, 5);
}

/* One attempt at taking (or finding) the reviewer's lease: *it gets the
 * item's id, image and token.  DB_OK, REVIEW_QUEUE_* or DB_*; the
 * transaction is over on return. */
static int lease_once(struct db *db, struct arena *a, long long project_id, long long user_id,
    unsigned lease_seconds, struct review_item *it)
{
	struct db_result *res;
	char token[TOKEN_LEN + 1];
	int rc;

	if ((rc = begin_rc(db)) != DB_OK)
		return rc;
	rc = db_query(db, a, &res, "SELECT id FROM users WHERE id = ? FOR UPDATE", "i", user_id);
	if (rc != DB_OK)
		goto fail;
	/* The lease in force this reviewer holds here already. */
	rc = db_query(db, a, &res,
	    "SELECT " REVIEW_ITEM_COLUMNS " FROM items i FORCE INDEX (items_review) "
	    "WHERE i.review_user = ? AND i.project_id = ? AND i.phase = 'labeled' "
	    "AND i.review_until > NOW(6) LIMIT 1", "ii", user_id, project_id);
	if (rc != DB_OK)
		goto fail;
	if (res->nrows == 1) {
		item_from_row(res, it);
		return db_commit(db);
	}
	/* The oldest answer nobody reviews now, not skipped by this reviewer
	 * and not their own: items under a review lease in force, this
	 * reviewer's skips and answers are passed over in the range. */
	rc = db_query(db, a, &res,
	    "SELECT " REVIEW_ITEM_COLUMNS " FROM items i FORCE INDEX (items_phase) "
	    "WHERE i.project_id = ? AND i.phase = 'labeled' "
	    "AND (i.review_until IS NULL OR i.review_until <= NOW(6)) "
	    "AND NOT (i.labeled_by <=> ?) "
	    "AND NOT EXISTS (SELECT 1 FROM review_skips s WHERE s.user_id = ? "
	    "AND s.project_id = i.project_id AND s.item_id = i.id) "
	    "ORDER BY i.answered_at, i.id LIMIT 1 FOR UPDATE SKIP LOCKED",
	    "iii", project_id, user_id, user_id);
	if (rc != DB_OK)
		goto fail;
	if (res->nrows == 0) {
		rc = REVIEW_QUEUE_EMPTY;
		goto fail;
	}
	item_from_row(res, it);
	if (token_new(token) < 0) {
		log_error("review_queue_next: no random bytes for a review lease token");
		rc = DB_ERR;
		goto fail;
	}
	rc = db_exec(db, 0, NULL, NULL,
	    "UPDATE items SET review_user = ?, review_until = NOW(6) + INTERVAL ? SECOND, "
	    "review_token = ? WHERE id = ?",
	    "iisi", user_id, (long long)lease_seconds, token, it->id);
	if (rc != DB_OK)
		goto fail;
	if ((it->token = arena_strdup(a, token)) == NULL) {
		rc = DB_ERR;
		goto fail;
	}
	return db_commit(db);
fail:
	db_rollback(db);
	return rc;
}

int review_queue_next(struct db *db, struct arena *a, long long project_id, long long user_id,
    unsigned lease_seconds, struct review_item *item)
{
	struct db_result *res;
	int rc = DB_RETRY;

	memset(item, 0, sizeof(*item));
	for (int i = 0; i < REVIEW_QUEUE_TRIES && rc == DB_RETRY; i++)
		rc = lease_once(db, a, project_id, user_id, lease_seconds, item);
	if (rc != DB_OK)
		return rc;
	/* What the page shows of the answer: no lock, after the commit. */
	rc = db_query(db, a, &res,
	    "SELECT COALESCE(i.labeled_by, 0), COALESCE(NULLIF(u.display_name, ''), u.email), "
	    "DATE_FORMAT(i.answered_at, '%Y-%m-%d %H:%i:%s'), a.data FROM items i "
	    "LEFT JOIN users u ON u.id = i.labeled_by "
	    "LEFT JOIN annotations a ON a.item_id = i.id AND a.is_current = 1 "
	    "AND a.withdrawn_seq IS NULL WHERE i.id = ? ORDER BY a.id DESC LIMIT 1",
	    "i", item->id);
	if (rc != DB_OK)
		return rc;
	if (res->nrows == 1) {
		item->labeled_by = db_int(res, 0, 0);
		item->labeler = db_value(res, 0, 1);
		item->answered_at = db_value(res, 0, 2);
		item->answer = db_value(res, 0, 3);
	}
	return DB_OK;
}

/* One attempt at review_queue_skip. */
static int skip_once(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, const char *token)
{
	struct db_result *res;
	int rc;

	if ((rc = begin_rc(db)) != DB_OK)
		return rc;
	rc = db_query(db, a, &res,
	    "SELECT id FROM items WHERE id = ? AND project_id = ? AND phase = 'labeled' "
	    "AND review_user = ? AND review_token = ? FOR UPDATE",
	    "iiis", item_id, project_id, user_id, token);
	if (rc != DB_OK)
		goto fail;
	if (res->nrows == 0) {
		rc = REVIEW_STALE;
		goto fail;
	}
	rc = db_exec(db, 0, NULL, NULL,
	    "UPDATE items SET review_user = NULL, review_until = NULL, review_token = NULL "
	    "WHERE id = ?", "i", item_id);
	if (rc == DB_OK)
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT IGNORE INTO review_skips (user_id, project_id, item_id) VALUES (?, ?, ?)",
		    "iii", user_id, project_id, item_id);
	if (rc == DB_OK)
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT INTO item_events (item_id, project_id, user_id, kind) "
		    "VALUES (?, ?, ?, 'review_skipped')", "iii", item_id, project_id, user_id);
	if (rc != DB_OK)
		goto fail;
	return db_commit(db);
fail:
	db_rollback(db);
	return rc;
}

int review_queue_skip(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, const char *token)
{
	int rc = DB_RETRY;

	if (token == NULL || !token_syntax_ok(token))
		return REVIEW_STALE;
	for (int i = 0; i < REVIEW_QUEUE_TRIES && rc == DB_RETRY; i++)
		rc = skip_once(db, a, project_id, item_id, user_id, token);
	return rc;
}
