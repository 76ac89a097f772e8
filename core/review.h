/*
 * review.h: what a review does to answers, each in one transaction with
 * the counters it changes (sql/016_review.sql, docs/review.md).
 *
 *   reject    the current answers of some items leave the exports, the
 *             items go back to the queue (phase 'requeued') with a reason
 *             that the next labeler sees;
 *   approve   the current answers are approved (phase 'approved');
 *   relabel   a labeler replaces their own answer while nobody reviewed
 *             it (Back, My answers); the history keeps both.
 *
 * Every change takes the project's next change_seq (sql/013_exports.sql)
 * under its counter row, so delta exports see it, and keeps
 * project_counters, label_counts and labeler_days exact in the same
 * transaction.  Access is the route table's business (NEED_REVIEW); these
 * functions trust their caller on who may do this.
 */
#ifndef LABELD_REVIEW_H
#define LABELD_REVIEW_H

#include <stddef.h>

struct arena;
struct db;
struct json_object;
struct plugin;

/* Results besides DB_OK and DB_* (db.h); distinct from both and from the
 * QUEUE_* codes of queue.h. */
enum review_status {
	REVIEW_STALE = -200,     /* the review lease (token) no longer holds */
	REVIEW_REVIEWED = -201,  /* relabel: the answer was approved, rejected, or
	                          * is under a review lease in force */
	REVIEW_CHANGED = -202,   /* relabel: that answer is not the item's
	                          * current one of this labeler any more */
	REVIEW_NO_ITEM = -203    /* no such item in the project */
};

/* The longest reason a rejection keeps (characters). */
#define REVIEW_REASON_MAX 1000

/* Reject the current answers of items ids[0..n-1] (ids of project_id;
 * others, and items without an answer, are passed over) as user_id, with
 * reason (NULL or "" for none; at most REVIEW_REASON_MAX characters, the
 * caller checks).  With token (n must be 1) the item must be under
 * user_id's review lease with that token, else REVIEW_STALE and nothing
 * changes.  *done (may be NULL): how many answers were rejected.  DB_OK,
 * REVIEW_STALE or DB_*; retried on deadlock. */
int review_reject(struct db *db, struct arena *a, long long project_id, long long user_id,
    const long long *ids, size_t n, const char *reason, const char *token, size_t *done);

/* Approve, as review_reject: items already approved are passed over. */
int review_approve(struct db *db, struct arena *a, long long project_id, long long user_id,
    const long long *ids, size_t n, const char *token, size_t *done);

/* Replace labeler user_id's answer annotation_id of item item_id with
 * annotation_json (the task plugin's annotation, validated by the caller)
 * whose classes are classes_json (review_classes).  Only while that answer
 * is the item's current one (else REVIEW_CHANGED) and nobody reviewed it
 * or holds a review lease on it (else REVIEW_REVIEWED).  DB_OK,
 * REVIEW_* or DB_*. */
int review_relabel(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, long long annotation_id, const char *annotation_json,
    const char *classes_json);

/* The label ids an annotation assigns, as a JSON array of distinct ids
 * ("[3,5]", "[]"), through the task plugin's describe: what answer_labels
 * and label_counts record.  Arena-owned; NULL when the plugin cannot
 * describe it (*error set, static or arena-owned) or out of memory. */
const char *review_classes(struct arena *a, const struct plugin *task,
    struct json_object *annotation, const char **error);

#endif
