/*
 * queue.c: leases, answers, skips and pause/start.  See queue.h and
 * docs/labeling.md.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "db.h"
#include "log.h"
#include "queue.h"
#include "session.h"

/* A transaction that ends in a deadlock is tried this many times. */
#define QUEUE_TRIES 3

/* The columns of struct queue_item, in this order (the second form for
 * "i." in front). */
#define ITEM_COLUMNS "id, path, width, height, format, lease_token"
#define ITEM_COLUMNS_I "id, i.path, i.width, i.height, i.format, i.lease_token"

/* Fill *item from row `row` of res: ITEM_COLUMNS from column col on. */
static void item_from_row(const struct db_result *res, size_t row, size_t col,
    struct queue_item *item)
{
	item->id = db_int(res, row, col);
	item->path = db_value(res, row, col + 1);
	item->width = (unsigned)db_int(res, row, col + 2);
	item->height = (unsigned)db_int(res, row, col + 3);
	item->format = db_value(res, row, col + 4);
	item->lease_token = db_value(res, row, col + 5);
}

/* ------------------------------------------------------------ pure parts */

enum queue_status queue_classify(const struct queue_facts *f, enum queue_action action,
    long long user_id, const char *token)
{
	int token_ok = token != NULL && token_syntax_ok(token);

	if (!f->found)
		return QUEUE_NO_ITEM;
	if (f->labeled) {
		if (token_ok && f->answered_by_token)
			return QUEUE_ALREADY;
		return f->ever_held ? QUEUE_STALE : QUEUE_NOT_HELD;
	}
	if (f->lease_user == user_id && user_id > 0) {
		/* Expired or not: while the item is still ours, an answer
		 * under our token loses nothing. */
		if (token_ok && f->lease_token != NULL && secure_equal(token, f->lease_token))
			return QUEUE_OK;
		return QUEUE_WRONG_LEASE;
	}
	if (action == QUEUE_SKIP && f->skipped)
		return QUEUE_ALREADY;
	return f->ever_held ? QUEUE_STALE : QUEUE_NOT_HELD;
}

const char *queue_notice_text(const char *code)
{
	if (code == NULL)
		return NULL;
	if (strcmp(code, "stale") == 0)
		return "Your time on that image ran out and it went to someone else; "
		    "your answer was not saved.";
	if (strcmp(code, "paused") == 0)
		return "The project was paused before your answer reached labeld; "
		    "your answer was not saved.";
	return NULL;
}

/* The value of one hex digit, or -1. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int queue_labels_parse(struct arena *a, const char *text, struct queue_label **labels,
    size_t *n)
{
	size_t cap = 1, k = 0;
	const char *p;

	*labels = NULL;
	*n = 0;
	if (text == NULL)
		text = "";
	for (p = text; *p != '\0'; p++)
		if (*p == ',')
			cap++;
	*labels = arena_calloc(a, cap + 1, sizeof(**labels));
	if (*labels == NULL)
		return -1;
	for (p = text; *p != '\0'; ) {
		long long id = 0;
		size_t hexlen = 0;
		char *name;
		const char *h;
		while (*p >= '0' && *p <= '9' && id < 100000000000000000LL)
			id = id * 10 + (*p++ - '0');
		if (id <= 0 || *p != ':')
			return -1;
		h = ++p;
		while (hex_value(p[hexlen]) >= 0)
			hexlen++;
		if (hexlen % 2 != 0 || (p[hexlen] != ',' && p[hexlen] != '\0') ||
		    (name = arena_alloc(a, hexlen / 2 + 1)) == NULL)
			return -1;
		for (size_t i = 0; i < hexlen / 2; i++)
			name[i] = (char)(hex_value(h[2 * i]) * 16 + hex_value(h[2 * i + 1]));
		name[hexlen / 2] = '\0';
		if (strlen(name) != hexlen / 2 || k == cap)
			return -1;   /* a NUL inside a name: not a label labeld stored */
		(*labels)[k++] = (struct queue_label){ .id = id, .name = name };
		p += hexlen;
		if (*p == ',' && p[1] == '\0')
			return -1;
		if (*p == ',')
			p++;
	}
	*n = k;
	return 0;
}

char *queue_accel_uri(struct arena *a, const char *prefix, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t plen = strlen(prefix), n = strlen(path);
	char *out = arena_alloc(a, plen + n * 3 + 1), *o;

	if (out == NULL)
		return NULL;
	memcpy(out, prefix, plen);
	o = out + plen;
	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
		unsigned char c = *p;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '~' || c == '-' || c == '/') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

/* ------------------------------------------------------------ reading */

/* Fill the row part of *f from row 0 of res, whose columns from `col` on
 * are state, lease_user (the lease token is item->lease_token). */
static void facts_from_row(const struct db_result *res, size_t col,
    const struct queue_item *item, struct queue_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->found = 1;
	f->labeled = strcmp(db_value(res, 0, col), "labeled") == 0;
	f->lease_user = db_int(res, 0, col + 1);
	f->lease_token = item->lease_token;
}

/* 1 when the item row alone decides (the labeler holds the item). */
static int facts_enough(const struct queue_facts *f, long long user_id)
{
	return !f->found || (f->lease_user == user_id && !f->labeled);
}

/* Load what the labeler did with the item before (its answer under token,
 * a skip, a lease) into *f.  DB_OK or DB_*. */
static int facts_history(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, const char *token, struct queue_facts *f)
{
	struct db_result *res;
	int rc;

	f->history = 1;
	if (f->labeled && token != NULL && token_syntax_ok(token)) {
		rc = db_query(db, a, &res,
		    "SELECT 1 FROM annotations WHERE lease_token = ? AND item_id = ? AND labeler_id = ?",
		    "sii", token, item_id, user_id);
		if (rc != DB_OK)
			return rc;
		f->answered_by_token = res->nrows > 0;
		if (f->answered_by_token)
			return DB_OK;
	}
	rc = db_query(db, a, &res,
	    "SELECT EXISTS (SELECT 1 FROM item_skips WHERE user_id = ? AND project_id = ? AND item_id = ?), "
	    "EXISTS (SELECT 1 FROM item_events WHERE item_id = ? AND user_id = ? AND kind = 'leased')",
	    "iiiii", user_id, project_id, item_id, item_id, user_id);
	if (rc != DB_OK)
		return rc;
	f->skipped = db_int(res, 0, 0) > 0;
	f->ever_held = db_int(res, 0, 1) > 0;
	return DB_OK;
}

/* Load the facts about item_id for user_id (and the item itself into
 * *item).  DB_OK or DB_*. */
static int facts_load(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, const char *token, struct queue_facts *f, struct queue_item *item)
{
	struct db_result *res;
	int rc;

	memset(f, 0, sizeof(*f));
	memset(item, 0, sizeof(*item));
	rc = db_query(db, a, &res,
	    "SELECT " ITEM_COLUMNS ", state, lease_user FROM items WHERE id = ? AND project_id = ?",
	    "ii", item_id, project_id);
	if (rc != DB_OK || res->nrows == 0)
		return rc;
	item_from_row(res, 0, 0, item);
	facts_from_row(res, 6, item, f);
	if (facts_enough(f, user_id))
		return DB_OK;
	return facts_history(db, a, project_id, item_id, user_id, token, f);
}

/* The page query: the project, its counters, the labeler's counts, the
 * labels (GROUP_CONCAT of "id:HEX(name)", see queue_labels_parse), then
 * one item (from column 9; two variants: the held one, or one by id) and
 * the guess at the next free item.  No sorting of the outer rows and no
 * json building: this runs for every page view. */
#define PAGE_SELECT \
	"SELECT p.name, p.task, p.state, p.instructions_url, " \
	"COALESCE(c.items_total, 0), COALESCE(c.items_labeled, 0), " \
	"COALESCE((SELECT d.labeled FROM labeler_days d WHERE d.project_id = p.id " \
	"AND d.user_id = ? AND d.day = UTC_DATE()), 0), " \
	"COALESCE((SELECT SUM(d.labeled) FROM labeler_days d WHERE d.project_id = p.id " \
	"AND d.user_id = ?), 0), " \
	"(SELECT GROUP_CONCAT(l.id, ':', HEX(l.name) ORDER BY l.position SEPARATOR ',') " \
	"FROM labels l WHERE l.project_id = p.id), " \
	"i.id, i.path, i.width, i.height, i.format, i.lease_token, i.state, i.lease_user " \
	"FROM projects p LEFT JOIN project_counters c ON c.project_id = p.id "

int queue_page_load(struct db *db, struct arena *a, long long project_id, long long user_id,
    long long item_id, struct queue_page *pg)
{
	struct db_result *res;
	int rc;

	memset(pg, 0, sizeof(*pg));
	/* A labeler holds at most one lease per project (queue_lease_next
	 * takes turns per labeler), so the join gives at most one row. */
	if (item_id == 0)
		rc = db_query(db, a, &res, PAGE_SELECT
		    "LEFT JOIN items i ON i.lease_user = ? AND i.project_id = p.id "
		    "AND i.state = 'unlabeled' AND i.lease_until > NOW(6) WHERE p.id = ?",
		    "iiii", user_id, user_id, user_id, project_id);
	else
		rc = db_query(db, a, &res, PAGE_SELECT
		    "LEFT JOIN items i ON i.id = ? AND i.project_id = p.id WHERE p.id = ?",
		    "iiii", user_id, user_id, item_id, project_id);
	if (rc != DB_OK)
		return rc;
	if (res->nrows == 0)
		return QUEUE_NO_ITEM;
	pg->name = db_value(res, 0, 0);
	pg->task = db_value(res, 0, 1);
	pg->state = db_value(res, 0, 2);
	pg->instructions_url = db_value(res, 0, 3);
	pg->items_total = db_int(res, 0, 4);
	pg->items_labeled = db_int(res, 0, 5);
	pg->today = db_int(res, 0, 6);
	pg->mine = db_int(res, 0, 7);
	if (queue_labels_parse(a, db_value(res, 0, 8), &pg->labels, &pg->nlabels) < 0) {
		log_error("queue_page_load: project %lld: the label list could not be read", project_id);
		return DB_ERR;
	}
	if (db_value(res, 0, 9) != NULL) {
		pg->item.id = db_int(res, 0, 9);
		pg->item.path = db_value(res, 0, 10);
		pg->item.width = (unsigned)db_int(res, 0, 11);
		pg->item.height = (unsigned)db_int(res, 0, 12);
		pg->item.format = db_value(res, 0, 13);
		pg->item.lease_token = db_value(res, 0, 14);
		pg->facts.found = 1;
		pg->facts.labeled = strcmp(db_value(res, 0, 15), "labeled") == 0;
		pg->facts.lease_user = db_int(res, 0, 16);
		pg->facts.lease_token = pg->item.lease_token;
		/* No prefetch guess when a page is shown again (a reload, an
		 * editor step): only a fresh lease finds the next free item, for
		 * free.  Guessing here cost a scan per page view under load. */
		pg->next_id = 0;
	}
	return QUEUE_OK;
}

int queue_page_check(struct db *db, struct arena *a, long long project_id, long long user_id,
    const char *token, enum queue_action action, struct queue_page *pg)
{
	int rc;

	if (!facts_enough(&pg->facts, user_id) && !pg->facts.history) {
		rc = facts_history(db, a, project_id, pg->item.id, user_id, token, &pg->facts);
		if (rc != DB_OK)
			return rc;
	}
	return (int)queue_classify(&pg->facts, action, user_id, token);
}

/* ------------------------------------------------------------ leasing */

/* One attempt of queue_lease_next; *next_id gets the guess at the item
 * after the leased one. */
static int lease_once(struct db *db, struct arena *a, long long project_id, long long user_id,
    unsigned lease_seconds, struct queue_item *item, long long *next_id)
{
	struct db_result *res;
	char token[TOKEN_LEN + 1];
	int rc;

	/* Locking reads under READ COMMITTED keep locks only on the rows
	 * they return: the leased rows a scan passes over stay free. */
	rc = db_exec(db, 0, NULL, NULL, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "");
	if (rc != DB_OK)
		return rc;
	rc = db_begin(db);
	if (rc != DB_OK)
		return rc;
	/* One labeler's requests take turns from here on. */
	rc = db_query(db, a, &res, "SELECT id FROM users WHERE id = ? FOR UPDATE", "i", user_id);
	if (rc != DB_OK)
		goto fail;
	/* The project's state in share mode (Pause waits for this lease to
	 * commit; this lease waits for a Pause to commit), and the item a
	 * request of this labeler may have leased meanwhile. */
	rc = db_query(db, a, &res,
	    "SELECT p.state, i." ITEM_COLUMNS_I " FROM projects p LEFT JOIN items i "
	    "ON i.lease_user = ? AND i.project_id = p.id AND i.state = 'unlabeled' "
	    "AND i.lease_until > NOW(6) WHERE p.id = ? LOCK IN SHARE MODE",
	    "ii", user_id, project_id);
	if (rc != DB_OK)
		goto fail;
	if (res->nrows == 0 || strcmp(db_value(res, 0, 0), "running") != 0) {
		db_rollback(db);
		return res->nrows == 0 ? QUEUE_NO_ITEM : QUEUE_NOT_RUNNING;
	}
	if (db_value(res, 0, 1) != NULL) {
		item_from_row(res, 0, 1, item);
		rc = db_commit(db);
		return rc == DB_OK ? QUEUE_OK : rc;
	}
	/* Two rows: the first is leased; the second's id is the guess at the
	 * next free item (for prefetching), for free.  Its lock lasts only
	 * until the commit a few statements below. */
	rc = db_query(db, a, &res,
	    "SELECT " ITEM_COLUMNS " FROM items i WHERE i.project_id = ? AND i.state = 'unlabeled' "
	    "AND (i.lease_until IS NULL OR i.lease_until < NOW(6)) "
	    "AND NOT EXISTS (SELECT 1 FROM item_skips s WHERE s.user_id = ? AND s.project_id = ? "
	    "AND s.item_id = i.id) ORDER BY i.id LIMIT 2 FOR UPDATE SKIP LOCKED",
	    "iii", project_id, user_id, project_id);
	if (rc != DB_OK)
		goto fail;
	if (res->nrows == 0) {
		rc = db_commit(db);
		return rc == DB_OK ? QUEUE_EMPTY : rc;
	}
	item_from_row(res, 0, 0, item);
	if (res->nrows > 1)
		*next_id = db_int(res, 1, 0);
	if (token_new(token) < 0) {
		log_error("queue_lease_next: no random bytes for a lease token");
		rc = DB_ERR;
		goto fail;
	}
	rc = db_exec(db, 0, NULL, NULL,
	    "UPDATE items SET lease_user = ?, lease_until = NOW(6) + INTERVAL ? SECOND, "
	    "lease_token = ?, version = version + 1 WHERE id = ?",
	    "iisi", user_id, (long long)lease_seconds, token, item->id);
	if (rc == DB_OK)
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT INTO item_events (item_id, project_id, user_id, kind) VALUES (?, ?, ?, 'leased')",
		    "iii", item->id, project_id, user_id);
	if (rc != DB_OK)
		goto fail;
	rc = db_commit(db);
	if (rc != DB_OK)
		return rc;
	item->lease_token = arena_strdup(a, token);
	return item->lease_token != NULL ? QUEUE_OK : DB_ERR;
fail:
	db_rollback(db);
	return rc;
}

int queue_lease_next(struct db *db, struct arena *a, long long project_id, long long user_id,
    unsigned lease_seconds, struct queue_item *item, long long *next_id)
{
	int rc = DB_RETRY;

	for (int i = 0; i < QUEUE_TRIES && rc == DB_RETRY; i++) {
		memset(item, 0, sizeof(*item));
		*next_id = 0;
		rc = lease_once(db, a, project_id, user_id, lease_seconds, item, next_id);
	}
	return rc;
}

/* ------------------------------------------------------------ answers */

/* Why a guarded UPDATE of an answer found no row to change: the item's
 * state now, classified.  Never QUEUE_OK (the lease did not hold). */
static int answer_refused(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, const char *token, enum queue_action action)
{
	struct queue_facts f;
	struct queue_item item;
	int rc = facts_load(db, a, project_id, item_id, user_id, token, &f, &item);

	if (rc != DB_OK)
		return rc;
	rc = (int)queue_classify(&f, action, user_id, token);
	return rc == QUEUE_OK ? QUEUE_STALE : rc;
}

/* One attempt of queue_submit / queue_skip.  The first statement is the
 * guard: it changes the item only while the labeler still holds it under
 * token (expired or not, as long as nobody else took it). */
static int answer_once(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, const char *token, const char *json, enum queue_action action)
{
	uint64_t changed = 0;
	int rc;

	if (!token_syntax_ok(token))
		return answer_refused(db, a, project_id, item_id, user_id, token, action);
	rc = db_begin(db);
	if (rc != DB_OK)
		return rc;
	rc = db_exec(db, 0, &changed, NULL, action == QUEUE_SUBMIT ?
	    "UPDATE items SET state = 'labeled', lease_user = NULL, lease_until = NULL, "
	    "lease_token = NULL, version = version + 1 WHERE id = ? AND project_id = ? "
	    "AND state = 'unlabeled' AND lease_user = ? AND lease_token = ?" :
	    "UPDATE items SET lease_user = NULL, lease_until = NULL, lease_token = NULL, "
	    "version = version + 1 WHERE id = ? AND project_id = ? "
	    "AND state = 'unlabeled' AND lease_user = ? AND lease_token = ?",
	    "iiis", item_id, project_id, user_id, token);
	if (rc != DB_OK)
		goto fail;
	if (changed != 1) {
		db_rollback(db);
		return answer_refused(db, a, project_id, item_id, user_id, token, action);
	}
	if (action == QUEUE_SUBMIT) {
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT INTO annotations (item_id, project_id, labeler_id, data, lease_token) "
		    "VALUES (?, ?, ?, ?, ?)", "iiiss", item_id, project_id, user_id, json, token);
		if (rc == DB_DUPLICATE) {
			/* The lease's answer is there already. */
			db_rollback(db);
			return QUEUE_ALREADY;
		}
		if (rc == DB_OK)
			rc = db_exec(db, 0, NULL, NULL,
			    "INSERT INTO labeler_days (project_id, user_id, day, labeled) "
			    "VALUES (?, ?, UTC_DATE(), 1) ON DUPLICATE KEY UPDATE labeled = labeled + 1",
			    "ii", project_id, user_id);
		if (rc == DB_OK)
			rc = db_exec(db, 0, NULL, NULL,
			    "INSERT INTO item_events (item_id, project_id, user_id, kind) "
			    "VALUES (?, ?, ?, 'labeled')", "iii", item_id, project_id, user_id);
		/* The project's counter last: its row is the one every
		 * labeler's answer locks, so it is held for the least time. */
		if (rc == DB_OK)
			rc = db_exec(db, 0, NULL, NULL,
			    "UPDATE project_counters SET items_labeled = items_labeled + 1 "
			    "WHERE project_id = ?", "i", project_id);
	} else {
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT IGNORE INTO item_skips (user_id, project_id, item_id) VALUES (?, ?, ?)",
		    "iii", user_id, project_id, item_id);
		if (rc == DB_OK)
			rc = db_exec(db, 0, NULL, NULL,
			    "INSERT INTO labeler_days (project_id, user_id, day, skipped) "
			    "VALUES (?, ?, UTC_DATE(), 1) ON DUPLICATE KEY UPDATE skipped = skipped + 1",
			    "ii", project_id, user_id);
		if (rc == DB_OK)
			rc = db_exec(db, 0, NULL, NULL,
			    "INSERT INTO item_events (item_id, project_id, user_id, kind) "
			    "VALUES (?, ?, ?, 'skipped')", "iii", item_id, project_id, user_id);
	}
	if (rc != DB_OK)
		goto fail;
	rc = db_commit(db);
	return rc == DB_OK ? QUEUE_OK : rc;
fail:
	db_rollback(db);
	return rc;
}

int queue_submit(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, const char *token, const char *annotation_json)
{
	int rc = DB_RETRY;

	if (annotation_json == NULL || token == NULL)
		return DB_ERR;
	for (int i = 0; i < QUEUE_TRIES && rc == DB_RETRY; i++)
		rc = answer_once(db, a, project_id, item_id, user_id, token, annotation_json,
		    QUEUE_SUBMIT);
	return rc;
}

int queue_skip(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, const char *token)
{
	int rc = DB_RETRY;

	if (token == NULL)
		return DB_ERR;
	for (int i = 0; i < QUEUE_TRIES && rc == DB_RETRY; i++)
		rc = answer_once(db, a, project_id, item_id, user_id, token, NULL, QUEUE_SKIP);
	return rc;
}

/* ------------------------------------------------------------ pause/start */

/* One attempt of queue_set_running. */
static int set_running_once(struct db *db, struct arena *a, long long project_id, int running)
{
	struct db_result *res;
	const char *state;
	int rc;

	rc = db_begin(db);
	if (rc != DB_OK)
		return rc;
	rc = db_query(db, a, &res, "SELECT state FROM projects WHERE id = ? FOR UPDATE",
	    "i", project_id);
	if (rc != DB_OK)
		goto fail;
	if (res->nrows == 0) {
		db_rollback(db);
		return QUEUE_NO_ITEM;
	}
	state = db_value(res, 0, 0);
	if (strcmp(state, "running") != 0 && strcmp(state, "paused") != 0) {
		db_rollback(db);
		return QUEUE_NOT_RUNNING;
	}
	if (strcmp(state, running ? "running" : "paused") == 0) {
		rc = db_commit(db);
		return rc == DB_OK ? QUEUE_OK : rc;
	}
	rc = db_exec(db, 0, NULL, NULL, "UPDATE projects SET state = ? WHERE id = ?",
	    "si", running ? "running" : "paused", project_id);
	if (rc == DB_OK && !running)
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT INTO item_events (item_id, project_id, user_id, kind) "
		    "SELECT id, project_id, lease_user, 'released' FROM items "
		    "WHERE lease_user IS NOT NULL AND project_id = ? AND state = 'unlabeled' "
		    "AND lease_until > NOW(6)", "i", project_id);
	if (rc == DB_OK && !running)
		rc = db_exec(db, 0, NULL, NULL,
		    "UPDATE items SET lease_user = NULL, lease_until = NULL, lease_token = NULL, "
		    "version = version + 1 WHERE lease_user IS NOT NULL AND project_id = ?",
		    "i", project_id);
	if (rc != DB_OK)
		goto fail;
	rc = db_commit(db);
	return rc == DB_OK ? QUEUE_OK : rc;
fail:
	db_rollback(db);
	return rc;
}

int queue_set_running(struct db *db, struct arena *a, long long project_id, int running,
    long long user_id)
{
	int rc = DB_RETRY;

	for (int i = 0; i < QUEUE_TRIES && rc == DB_RETRY; i++)
		rc = set_running_once(db, a, project_id, running);
	if (rc == QUEUE_OK)
		log_info("project %lld %s by user %lld", project_id, running ? "started" : "paused",
		    user_id);
	return rc;
}
