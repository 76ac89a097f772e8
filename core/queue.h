/*
 * queue.h: the labeling queue.  Items are handed to labelers under leases
 * (a labeler, an expiry time and a fresh 256-bit token) taken with
 * SELECT ... FOR UPDATE SKIP LOCKED in a short transaction; every answer and
 * skip is checked against the lease again in its own transaction.  Pausing a
 * project ends its leases.  docs/labeling.md tells the rules in prose.
 *
 * Functions that touch the database return a queue_status (>= 0) or a DB_*
 * code of db.h (< 0; DB_RETRY only after a transaction was tried three
 * times).  Strings they hand back live in the caller's arena.
 */
#ifndef LABELD_QUEUE_H
#define LABELD_QUEUE_H

#include <stddef.h>

struct arena;
struct db;
struct session;

enum queue_status {
	QUEUE_OK = 0,          /* done, or found */
	QUEUE_EMPTY = 1,       /* nothing left to hand to this labeler */
	QUEUE_ALREADY = 2,     /* this lease already did it (a double submit or skip) */
	QUEUE_STALE = 3,       /* the labeler's lease ended and the item was labeled,
	                          leased by someone else, or released since */
	QUEUE_NOT_HELD = 4,    /* the labeler never held this item */
	QUEUE_WRONG_LEASE = 5, /* the labeler holds the item, under another token */
	QUEUE_NO_ITEM = 6,     /* no such item in this project (or no such project) */
	QUEUE_NOT_RUNNING = 7  /* the project is not running (paused, ...) */
};

/* What a request does with a leased item. */
enum queue_action {
	QUEUE_SUBMIT,          /* store an answer */
	QUEUE_SKIP,            /* give the item back, never see it again */
	QUEUE_STEP             /* an editor step: only shows the page again */
};

/* An item as the labeling page needs it. */
struct queue_item {
	long long id;
	const char *path;
	unsigned width, height;
	const char *format;
	const char *lease_token;   /* its current lease token, or NULL */
	int requeued;              /* a review sent it back (phase 'requeued') */
	const char *reason;        /* requeued, read with the page: the last
	                              rejection's reason ("" for none); NULL when
	                              not requeued or not read (a fresh lease:
	                              queue_reject_reason) */
};

/* One label class of a project. */
struct queue_label {
	long long id;
	const char *name;
};

/* What the database says about an item and one labeler. */
struct queue_facts {
	int found;                 /* the item exists in this project */
	int labeled;               /* its state is 'labeled' */
	long long lease_user;      /* 0 when nobody holds it */
	const char *lease_token;   /* NULL when nobody holds it */
	int history;               /* the three below were loaded */
	int answered_by_token;     /* an annotation of this labeler under the token exists */
	int skipped;               /* this labeler skipped it */
	int ever_held;             /* this labeler leased it at some time */
};

/* Everything the labeling page needs to know about a project for one
 * labeler, read in ONE query: the page is labeld's hot path, and the
 * database's work per page is what limits its throughput. */
struct queue_page {
	const char *name, *task, *state, *instructions_url;
	long long items_total, items_labeled;
	long long today, mine;     /* this labeler's answers here today (UTC) / ever
	                              (mine: -1 until queue_page_counts) */
	int counted;               /* items_*, today are loaded */
	struct queue_label *labels;   /* in position order (the number keys follow it) */
	size_t nlabels;
	long long meta_version;    /* the project's meta_version that name, task,
	                              instructions_url and labels are at */
	struct queue_item item;    /* item.id == 0 when there is none */
	struct queue_facts facts;  /* about item, from its row only (no history) */
	long long next_id;         /* a guess at the next free item after it (fresh
	                              leases only), or 0 */
};

/* Load the page of project_id for user_id.  item_id == 0: the item the
 * labeler holds under an unexpired lease, if any (the same item again when
 * they come back); item_id > 0: that item, if it belongs to the project.
 * QUEUE_OK, QUEUE_NO_ITEM when there is no such project, or DB_*.  No
 * transaction, no locks. */
int queue_page_load(struct db *db, struct arena *a, long long project_id, long long user_id,
    long long item_id, struct queue_page *pg);

/* queue_page_load together with the check of a session token (any
 * string; a labeling route's preload, see router.h): one statement finds
 * the session by the rules of session_lookup and the page of its labeler.
 * *session gets the session (arena-owned), or NULL when the token names no
 * valid session (DB_OK, pg untouched); last_seen_at is refreshed as by
 * session_lookup.  *access gets 1 when the session's user may see the
 * project (access.h, the one rule: the dispatcher's NEED_PROJECT, decided
 * in the same statement), else 0.  With a session: QUEUE_OK,
 * QUEUE_NO_ITEM when there is no such project, or DB_*. */
int queue_page_load_signed(struct db *db, struct arena *a, const char *token,
    unsigned idle_timeout, unsigned lifetime, long long project_id, long long item_id,
    struct session **session, int *access, struct queue_page *pg);

/* The reason of the last rejection of item_id into *reason ("" when it
 * gave none; arena-owned): for a requeued item that a fresh lease handed
 * out (the page of a held item reads it in its own statement).  DB_OK or
 * DB_*. */
int queue_reject_reason(struct db *db, struct arena *a, long long item_id, const char **reason);

/* Fill the counts of pg that queue_page_load left out (an item by id
 * comes without them: an answer that is stored needs none): the
 * project's counters and this labeler's count today; with mine also the
 * labeler's answers in the project on all days (only pages without an
 * item show that).  DB_OK or DB_*. */
int queue_page_counts(struct db *db, struct arena *a, long long project_id, long long user_id,
    int mine, struct queue_page *pg);

/* What user_id may do with the item of a page loaded with item_id > 0
 * under lease `token` (as sent: any string or NULL): queue_classify,
 * loading the labeler's history with the item when the row alone cannot
 * decide.  A queue_status or DB_*. */
int queue_page_check(struct db *db, struct arena *a, long long project_id, long long user_id,
    const char *token, enum queue_action action, struct queue_page *pg);

/* The next item for a labeler who holds none: a new lease of lease_seconds
 * on the first unlabeled, unleased (or expired) item of the project that
 * they did not skip, in id order.  One short transaction: the project row
 * is read in share mode (Pause waits for it and it waits for Pause), the
 * labeler's row is locked (one labeler's requests take turns, so a labeler
 * holds at most one lease per project: a request that finds the lease
 * another one just took returns that), the item is taken with FOR UPDATE
 * SKIP LOCKED (labelers never wait for each other) and an item_events
 * "leased" row is written.  *next_id gets a guess at the item after it
 * (the next free one when the lease was taken; 0 when none), for
 * prefetching its image.  QUEUE_OK with *item, QUEUE_EMPTY,
 * QUEUE_NOT_RUNNING, QUEUE_NO_ITEM (no such project), or DB_*; nothing is
 * changed on any error. */
int queue_lease_next(struct db *db, struct arena *a, long long project_id, long long user_id,
    unsigned lease_seconds, struct queue_item *item, long long *next_id);

/* Store an answer (annotation_json, the plugin's annotation).  Call it
 * after queue_page_check said QUEUE_OK (which compares the token in
 * constant time); the stored procedure labeld_answer_batch
 * (sql/012_answer_one_path.sql), alone or in a batch with other labelers'
 * answers, checks the lease again atomically (the one lease guard: the
 * item must still be unlabeled and held by the labeler under token), then
 * adds the annotation (with labeler, lease token and time: the answer's
 * only record, no item_events row), makes the item labeled with its lease
 * cleared and counts it for the project and the labeler.  QUEUE_OK;
 * QUEUE_ALREADY when the same lease stored its answer before (a double
 * submit: nothing is added; the procedure says so); another queue_status
 * when the lease changed meanwhile; or DB_*.  Nothing is changed unless
 * QUEUE_OK.  classes: the answer's label ids as review_classes gives them
 * (for answer_labels and label_counts, docs/review.md).  Runs its own
 * transaction: DB_ERR when db is in one. */
int queue_submit(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, const char *token, const char *annotation_json, const char *classes);

/* Skip, as queue_submit (after queue_page_check): the lease is released,
 * the skip remembered (the item is never handed to this labeler again), the
 * labeler's daily count and an item_events "skipped" row written.
 * QUEUE_ALREADY when the labeler skipped this item before. */
int queue_skip(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, const char *token);

/* Combine the leases and answers of many labelers into batches (on, the
 * default) or run each in its own transaction (off: the setting `combine`,
 * for tests that run the labeling suite both ways).  Both ways store an
 * answer through the same procedure and the same lease guard.  Call once
 * at start, before any worker runs. */
void queue_set_combine(int on);

/* How many leases and answers were stored in how many batches (a batch
 * is one transaction for the requests of many labelers that arrived
 * together; see docs/labeling.md), since start; submit_careful: answer
 * batches that were refused (a lease among them did not hold) and handed
 * back to be stored answer by answer. */
void queue_batch_stats(unsigned long long *lease_batches, unsigned long long *leases,
    unsigned long long *submit_batches, unsigned long long *submits,
    unsigned long long *submit_careful);

/* An item's image as the image route needs it. */
struct queue_image {
	const char *path;
	const char *format;
	long long datastore_id;
	int builtin_local;         /* in the built-in datastore: nginx sends it */
};

/* The one rule for who sees an item's image (docs/labeling.md, "Who sees
 * an image"), read with what the image route needs in one statement: an
 * admin or a reviewer of the project (sees_all, docs/review.md) sees any
 * item of the project; a labeler only an item
 * whose lease is theirs (in force, or run out while nobody else took the
 * item: the rule of answers), an item they answered (an annotation of
 * theirs exists), or the item the labeling page named for prefetching
 * when they took the lease they hold now (labeler_leases.next_item_id,
 * good while that lease is theirs).  QUEUE_OK with *img (strings in the
 * arena), QUEUE_NO_ITEM when there is no such item in the project or the
 * user may not see it (told apart by nothing: the route answers 404 to
 * both), or DB_*. */
int queue_image_access(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, int sees_all, struct queue_image *img);

/* Pause (running = 0) or start (running = 1) a project in one transaction;
 * pausing ends every lease of the project (item_events "released" for the
 * unexpired ones).  QUEUE_OK (also when the project already was in that
 * state), QUEUE_NO_ITEM when there is no such project, QUEUE_NOT_RUNNING
 * when it is initializing or failed (nothing to toggle), or DB_*. */
int queue_set_running(struct db *db, struct arena *a, long long project_id, int running,
    long long user_id);

/* ------------------------------------------------------------ pure parts
 * No I/O; unit-tested in tests/unit/test_queue.c. */

/* Decide what a request of user_id with lease token `token` (as sent: any
 * string or NULL) may do with the item.  The token is compared in constant
 * time.  A lease that expired is still good while nobody else took the
 * item: nothing is lost by accepting the answer.  f->history must be set
 * unless the labeler holds the item (see queue_page_check). */
enum queue_status queue_classify(const struct queue_facts *f, enum queue_action action,
    long long user_id, const char *token);

/* Parse the page query's label list "ID:HEXNAME,ID:HEXNAME,..." (names
 * hex-encoded by the database, so any name is safe) into an arena array.
 * NULL or "" is no labels.  0, or -1 when the text is malformed or memory
 * runs out. */
int queue_labels_parse(struct arena *a, const char *text, struct queue_label **labels,
    size_t *n);

/* The sentence for a notice code of the labeling page's query string
 * ("stale", "paused"); NULL for anything else.  Never echoes its input. */
const char *queue_notice_text(const char *code);

/* The X-Accel-Redirect target for a path inside the default datastore:
 * prefix + the path with every byte outside [A-Za-z0-9._~/-] percent-
 * encoded (so '?', '%', '#' and spaces reach nginx as part of the name).
 * Arena-owned; NULL when out of memory. */
char *queue_accel_uri(struct arena *a, const char *prefix, const char *path);

#endif
