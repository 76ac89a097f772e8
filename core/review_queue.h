/*
 * review_queue.h: the review queue (docs/review.md, "The review queue").
 * Answered items (phase 'labeled') are handed to reviewers one at a time
 * under a review lease (items.review_user, review_until and a fresh
 * 256-bit review_token), as the labeling queue hands out items: taken
 * with SELECT ... FOR UPDATE SKIP LOCKED in a short transaction, so two
 * reviewers never get the same item and never wait for each other.  The
 * verdicts themselves are review_approve and review_reject (review.h)
 * under the lease's token; a skip is review_queue_skip.
 *
 * The queue touches only the review_* columns of items (never the labeling
 * lease's), so it never slows labeling.  Access (who is a reviewer) is the
 * route table's business; these functions trust their caller.
 */
#ifndef LABELD_REVIEW_QUEUE_H
#define LABELD_REVIEW_QUEUE_H

struct arena;
struct db;

/* Results besides DB_OK and the DB_* codes (db.h), distinct from both and
 * from REVIEW_* (review.h). */
enum review_queue_status {
	REVIEW_QUEUE_EMPTY = -210        /* nothing left for this reviewer */
};

/* An item under review, as the review page shows it (strings in the
 * caller's arena). */
struct review_item {
	long long id;
	const char *path;
	unsigned width, height;
	const char *format;
	const char *token;          /* the review lease's token */
	long long labeled_by;       /* who answered (0: unknown) */
	const char *labeler;        /* their display name or email; NULL if gone */
	const char *answered_at;    /* "YYYY-MM-DD HH:MM:SS" UTC */
	const char *answer;         /* the current annotation's JSON; NULL if none */
};

/* The item reviewer user_id reviews next in project_id: the one they hold
 * under a review lease in force (the same item and token again when they
 * come back), else a new lease of lease_seconds on the answered item
 * (phase 'labeled') answered longest ago (answered_at, id) that nobody
 * holds under a review lease in force, that this reviewer did not skip
 * and did not answer themselves.  One short READ COMMITTED transaction:
 * the reviewer's users row is locked (one reviewer's requests take turns,
 * so they hold at most one review lease per project), the held lease is
 * found by the items_review index, a new one is taken from the
 * items_phase range with FOR UPDATE SKIP LOCKED.  The caller checks
 * that the project exists and may be reviewed (running or paused: only
 * those have answers).  DB_OK with *item, REVIEW_QUEUE_EMPTY, or DB_*
 * (nothing changed). */
int review_queue_next(struct db *db, struct arena *a, long long project_id, long long user_id,
    unsigned lease_seconds, struct review_item *item);

/* Skip (S): in one transaction, end user_id's review lease `token` on
 * item_id (expired or not, as long as nobody else took it and the item
 * still waits for review), remember the skip (review_skips: the item is
 * never offered to this reviewer again, still to others) and write an
 * item_events 'review_skipped' row.  DB_OK, REVIEW_STALE (review.h:
 * the lease no longer holds; nothing changed) or DB_*. */
int review_queue_skip(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, const char *token);

#endif
