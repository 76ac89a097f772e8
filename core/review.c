/*
 * review.c: reject, approve and relabel (review.h), each one transaction
 * that keeps the counters of docs/review.md.
 *
 * Lock order, as the answers' (sql/017_review_data.sql): the items (in id
 * order, by a locking read first), labeler_days, the project's counter row,
 * label_counts, then the rows of the items themselves (answer_labels,
 * annotations).  Every change of a project takes its counter row before
 * label_counts, so those rows never deadlock.  READ COMMITTED keeps the
 * locks to the rows read; every count that matters comes from a locking
 * read.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "arena.h"
#include "buf.h"
#include "db.h"
#include "host.h"
#include "plugin.h"
#include "review.h"

/* Deadlocks and lock wait timeouts are tried again this often. */
#define REVIEW_TRIES 4

/* The id list of a JSON array parameter. */
#define JT_IDS "JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) j"

static int cmp_ll(const void *x, const void *y)
{
	long long a = *(const long long *)x, b = *(const long long *)y;

	return (a > b) - (a < b);
}

/* ids as a sorted JSON array of distinct positive ids ("[1,2]"), or NULL
 * (out of memory).  *count gets how many. */
static const char *ids_array(struct arena *a, const long long *ids, size_t n, size_t *count)
{
	long long *v = arena_calloc(a, n + 1, sizeof(*v));
	struct buf b;
	size_t k = 0;

	*count = 0;
	if (v == NULL)
		return NULL;
	memcpy(v, ids, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_ll);
	buf_init(&b, a);
	buf_addc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		if (v[i] <= 0 || (i > 0 && v[i] == v[i - 1]))
			continue;
		buf_printf(&b, "%s%lld", k++ > 0 ? "," : "", v[i]);
	}
	buf_addc(&b, ']');
	*count = k;
	return b.failed ? NULL : b.data;
}

/* The ids of the rows of res (column 0) as a JSON array (already in id
 * order: the locking read orders them), or NULL. */
static const char *rows_array(struct arena *a, const struct db_result *res)
{
	struct buf b;

	buf_init(&b, a);
	buf_addc(&b, '[');
	for (size_t r = 0; r < res->nrows; r++)
		buf_printf(&b, "%s%s", r > 0 ? "," : "", res->rows[r][0]);
	buf_addc(&b, ']');
	return b.failed ? NULL : b.data;
}

/* Begin a READ COMMITTED transaction. */
static int begin_rc(struct db *db)
{
	int rc = db_exec(db, 0, NULL, NULL, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "");

	return rc == DB_OK ? db_begin(db) : rc;
}

/* Inside the transaction: with a token, the one item of the list must be
 * under user_id's review lease with it (expired or not, as long as nobody
 * else took it) and still waiting for review.  DB_OK, REVIEW_STALE or
 * DB_*. */
static int lease_holds(struct db *db, struct arena *a, long long project_id, long long user_id,
    const char *list, const char *token)
{
	struct db_result *res;
	int rc;

	if (token == NULL)
		return DB_OK;
	rc = db_query(db, a, &res,
	    "SELECT i.id FROM " JT_IDS " STRAIGHT_JOIN items i ON i.id = j.id "
	    "WHERE i.project_id = ? AND i.phase = 'labeled' AND i.review_user = ? "
	    "AND i.review_token = ? FOR UPDATE", "siis", list, project_id, user_id, token);
	if (rc != DB_OK)
		return rc;
	return res->nrows == 1 ? DB_OK : REVIEW_STALE;
}

/* Inside the transaction: the labelers of the items in list get one more
 * `column` (rejected or approved) for today. */
static int labelers_count(struct db *db, long long project_id, const char *list, int approved)
{
	return db_exec(db, 0, NULL, NULL, approved ?
	    "INSERT INTO labeler_days (project_id, user_id, day, approved) "
	    "SELECT ?, i.labeled_by, UTC_DATE(), 1 FROM " JT_IDS " STRAIGHT_JOIN items i "
	    "ON i.id = j.id WHERE i.labeled_by IS NOT NULL "
	    "ON DUPLICATE KEY UPDATE approved = approved + 1" :
	    "INSERT INTO labeler_days (project_id, user_id, day, rejected) "
	    "SELECT ?, i.labeled_by, UTC_DATE(), 1 FROM " JT_IDS " STRAIGHT_JOIN items i "
	    "ON i.id = j.id WHERE i.labeled_by IS NOT NULL "
	    "ON DUPLICATE KEY UPDATE rejected = rejected + 1", "is", project_id, list);
}

/* Inside the transaction, after the counter row: the classes of the
 * current answers of the items in list leave label_counts and
 * answer_labels. */
static int classes_withdraw(struct db *db, long long project_id, const char *list)
{
	int rc = db_exec(db, 0, NULL, NULL,
	    "UPDATE label_counts lc JOIN (SELECT al.label_id, COUNT(*) AS n FROM " JT_IDS
	    " STRAIGHT_JOIN answer_labels al ON al.item_id = j.id GROUP BY al.label_id) x "
	    "ON lc.label_id = x.label_id SET lc.answers = lc.answers - x.n WHERE lc.project_id = ?",
	    "si", list, project_id);

	if (rc == DB_OK)
		rc = db_exec(db, 0, NULL, NULL,
		    "DELETE al FROM " JT_IDS " STRAIGHT_JOIN answer_labels al ON al.item_id = j.id",
		    "s", list);
	return rc;
}

enum verdict { REJECT, APPROVE };

/* One attempt at a reject or an approval (review.h). */
static int verdict_once(struct db *db, struct arena *a, long long project_id, long long user_id,
    const char *list, enum verdict v, const char *reason, const char *token, size_t *done)
{
	struct db_result *res;
	const char *targets;
	long long n, napproved = 0;
	uint64_t seq = 0, affected = 0;
	int rc;

	*done = 0;
	if ((rc = begin_rc(db)) != DB_OK)
		return rc;
	if ((rc = lease_holds(db, a, project_id, user_id, list, token)) != DB_OK)
		goto fail;
	/* The items this changes, locked in id order: answered ones for a
	 * rejection, those waiting for review for an approval. */
	rc = db_query(db, a, &res, v == REJECT ?
	    "SELECT i.id, i.phase = 'approved' FROM " JT_IDS " STRAIGHT_JOIN items i "
	    "ON i.id = j.id WHERE i.project_id = ? AND i.state = 'labeled' ORDER BY i.id FOR UPDATE" :
	    "SELECT i.id, 0 FROM " JT_IDS " STRAIGHT_JOIN items i "
	    "ON i.id = j.id WHERE i.project_id = ? AND i.phase = 'labeled' ORDER BY i.id FOR UPDATE",
	    "si", list, project_id);
	if (rc != DB_OK)
		goto fail;
	if (res->nrows == 0)
		return db_commit(db);
	n = (long long)res->nrows;
	for (size_t r = 0; r < res->nrows; r++)
		napproved += db_int(res, r, 1);
	if ((targets = rows_array(a, res)) == NULL) {
		rc = DB_ERR;
		goto fail;
	}
	if ((rc = labelers_count(db, project_id, targets, v == APPROVE)) != DB_OK)
		goto fail;
	/* The counter row: the phases' counts and the change's number. */
	if (v == REJECT)
		rc = db_exec(db, 0, &affected, &seq, "UPDATE project_counters SET "
		    "items_labeled = items_labeled - ?, items_approved = items_approved - ?, "
		    "items_requeued = items_requeued + ?, rejections = rejections + ?, "
		    "change_seq = LAST_INSERT_ID(change_seq + 1) WHERE project_id = ?",
		    "iiiii", n, napproved, n, n, project_id);
	else
		rc = db_exec(db, 0, &affected, &seq, "UPDATE project_counters SET "
		    "items_approved = items_approved + ?, "
		    "change_seq = LAST_INSERT_ID(change_seq + 1) WHERE project_id = ?",
		    "ii", n, project_id);
	if (rc == DB_OK && affected != 1)
		rc = DB_ERR;   /* a project without its counters row */
	if (rc != DB_OK)
		goto fail;
	if (v == REJECT) {
		rc = classes_withdraw(db, project_id, targets);
		if (rc == DB_OK)
			rc = db_exec(db, 0, NULL, NULL,
			    "UPDATE " JT_IDS " STRAIGHT_JOIN annotations a ON a.item_id = j.id "
			    "AND a.is_current = 1 SET a.is_current = 0, "
			    "a.withdrawn_seq = COALESCE(a.withdrawn_seq, ?)", "si", targets, (long long)seq);
		if (rc == DB_OK)
			rc = db_exec(db, 0, NULL, NULL,
			    "UPDATE " JT_IDS " STRAIGHT_JOIN items i ON i.id = j.id "
			    "SET i.state = 'unlabeled', i.phase = 'requeued', i.lease_user = NULL, "
			    "i.lease_until = NULL, i.lease_token = NULL, i.review_user = NULL, "
			    "i.review_until = NULL, i.review_token = NULL, i.version = i.version + 1",
			    "s", targets);
		/* A reviewer who skipped the withdrawn answer is offered the
		 * next one. */
		if (rc == DB_OK)
			rc = db_exec(db, 0, NULL, NULL,
			    "DELETE s FROM " JT_IDS " STRAIGHT_JOIN review_skips s ON s.item_id = j.id",
			    "s", targets);
	} else {
		rc = db_exec(db, 0, NULL, NULL,
		    "UPDATE " JT_IDS " STRAIGHT_JOIN annotations a ON a.item_id = j.id "
		    "AND a.is_current = 1 AND a.withdrawn_seq IS NULL SET a.approved_seq = ?",
			    "si", targets, (long long)seq);
		if (rc == DB_OK)
			rc = db_exec(db, 0, NULL, NULL,
			    "UPDATE " JT_IDS " STRAIGHT_JOIN items i ON i.id = j.id "
			    "SET i.phase = 'approved', i.review_user = NULL, i.review_until = NULL, "
			    "i.review_token = NULL, i.version = i.version + 1", "s", targets);
	}
	if (rc == DB_OK)
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT INTO item_events (item_id, project_id, user_id, kind, reason) "
		    "SELECT j.id, ?, ?, ?, ? FROM " JT_IDS, "iisss", project_id, user_id,
		    v == REJECT ? "rejected" : "approved",
		    v == REJECT && reason != NULL && reason[0] != '\0' ? reason : NULL, targets);
	if (rc != DB_OK)
		goto fail;
	rc = db_commit(db);
	if (rc == DB_OK)
		*done = (size_t)n;
	return rc;
fail:
	db_rollback(db);
	return rc;
}

static int verdict(struct db *db, struct arena *a, long long project_id, long long user_id,
    const long long *ids, size_t n, enum verdict v, const char *reason, const char *token,
    size_t *done)
{
	size_t count, got = 0;
	const char *list = ids_array(a, ids, n, &count);
	int rc = DB_RETRY;

	if (done != NULL)
		*done = 0;
	if (list == NULL)
		return DB_ERR;
	if (count == 0)
		return DB_OK;
	if (token != NULL && count != 1)
		return REVIEW_STALE;
	for (int i = 0; i < REVIEW_TRIES && rc == DB_RETRY; i++)
		rc = verdict_once(db, a, project_id, user_id, list, v, reason, token, &got);
	if (done != NULL)
		*done = got;
	return rc;
}

int review_reject(struct db *db, struct arena *a, long long project_id, long long user_id,
    const long long *ids, size_t n, const char *reason, const char *token, size_t *done)
{
	return verdict(db, a, project_id, user_id, ids, n, REJECT, reason, token, done);
}

int review_approve(struct db *db, struct arena *a, long long project_id, long long user_id,
    const long long *ids, size_t n, const char *token, size_t *done)
{
	return verdict(db, a, project_id, user_id, ids, n, APPROVE, NULL, token, done);
}

/* One attempt at review_relabel. */
static int relabel_once(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, long long annotation_id, const char *json, const char *classes)
{
	struct db_result *res;
	const char *phase;
	uint64_t seq = 0, affected = 0;
	char list[32];
	int rc;

	snprintf(list, sizeof(list), "[%lld]", item_id);
	if ((rc = begin_rc(db)) != DB_OK)
		return rc;
	rc = db_query(db, a, &res,
	    "SELECT i.phase, i.labeled_by, COALESCE(i.review_until > NOW(6), 0), a.id "
	    "FROM items i LEFT JOIN annotations a ON a.item_id = i.id AND a.is_current = 1 "
	    "AND a.withdrawn_seq IS NULL WHERE i.id = ? AND i.project_id = ? FOR UPDATE",
	    "ii", item_id, project_id);
	if (rc != DB_OK)
		goto fail;
	if (res->nrows == 0) {
		rc = REVIEW_NO_ITEM;
		goto fail;
	}
	phase = db_value(res, 0, 0);
	if (strcmp(phase, "approved") == 0 || strcmp(phase, "requeued") == 0 ||
	    db_int(res, 0, 2) == 1)
		rc = REVIEW_REVIEWED;
	else if (strcmp(phase, "labeled") != 0 || db_value(res, 0, 3) == NULL ||
	    db_int(res, 0, 3) != annotation_id || db_value(res, 0, 1) == NULL ||
	    db_int(res, 0, 1) != user_id)
		rc = REVIEW_CHANGED;
	if (rc != DB_OK)
		goto fail;
	rc = db_exec(db, 0, &affected, &seq, "UPDATE project_counters SET "
	    "change_seq = LAST_INSERT_ID(change_seq + 1) WHERE project_id = ?", "i", project_id);
	if (rc == DB_OK && affected != 1)
		rc = DB_ERR;
	if (rc == DB_OK)
		rc = classes_withdraw(db, project_id, list);
	if (rc == DB_OK)
		rc = db_exec(db, 0, NULL, NULL,
		    "UPDATE annotations SET is_current = 0, withdrawn_seq = ? WHERE id = ?",
		    "ii", (long long)seq, annotation_id);
	if (rc == DB_OK)
		rc = db_exec(db, 0, NULL, NULL,
		    "UPDATE items SET answered_at = NOW(6), version = version + 1 WHERE id = ?",
		    "i", item_id);
	if (rc == DB_OK)   /* a new answer: reviewers who skipped the old one see it */
		rc = db_exec(db, 0, NULL, NULL, "DELETE FROM review_skips WHERE item_id = ?",
		    "i", item_id);
	if (rc == DB_OK)
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT INTO answer_labels (project_id, label_id, answered_at, item_id, labeled_by) "
		    "SELECT ?, j.c, i.answered_at, i.id, ? FROM JSON_TABLE(?, '$[*]' COLUMNS "
		    "(c BIGINT UNSIGNED PATH '$')) j STRAIGHT_JOIN items i ON i.id = ?",
		    "iisi", project_id, user_id, classes, item_id);
	if (rc == DB_OK)
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT INTO label_counts (project_id, label_id, answers) "
		    "SELECT ?, j.c, 1 FROM JSON_TABLE(?, '$[*]' COLUMNS (c BIGINT UNSIGNED PATH '$')) j "
		    "ON DUPLICATE KEY UPDATE answers = answers + 1", "is", project_id, classes);
	if (rc == DB_OK)
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT INTO annotations (item_id, project_id, labeler_id, data, seq, relabel, "
		    "created_at) SELECT i.id, ?, ?, ?, ?, 1, i.answered_at FROM items i WHERE i.id = ?",
		    "iisii", project_id, user_id, json, (long long)seq, item_id);
	if (rc != DB_OK)
		goto fail;
	return db_commit(db);
fail:
	db_rollback(db);
	return rc;
}

int review_relabel(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, long long annotation_id, const char *annotation_json,
    const char *classes_json)
{
	int rc = DB_RETRY;

	if (annotation_json == NULL || classes_json == NULL || classes_json[0] != '[')
		return DB_ERR;
	for (int i = 0; i < REVIEW_TRIES && rc == DB_RETRY; i++)
		rc = relabel_once(db, a, project_id, item_id, user_id, annotation_id,
		    annotation_json, classes_json);
	return rc;
}

const char *review_classes(struct arena *a, const struct plugin *task,
    struct json_object *annotation, const char **error)
{
	const struct labeld_task_ops *ops = task->desc->task;
	struct labeld_ctx ctx = { .arena = a };
	struct labeld_box *boxes = NULL;
	int64_t *ids = NULL;
	size_t nids = 0, nboxes = 0, n = 0;
	long long *v;

	*error = NULL;
	if (ops->describe(&ctx, annotation, &ids, &nids, &boxes, &nboxes, error) != 0) {
		if (*error == NULL)
			*error = "The task plugin could not describe the answer.";
		return NULL;
	}
	v = arena_calloc(a, nids + nboxes + 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < nids; i++)
		v[n++] = (long long)ids[i];
	for (size_t i = 0; i < nboxes; i++)
		v[n++] = (long long)boxes[i].label_id;
	return ids_array(a, v, n, &nids);
}
