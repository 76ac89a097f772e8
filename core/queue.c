/*
 * queue.c: leases, answers, skips and pause/start.  See queue.h and
 * docs/labeling.md.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "arena.h"
#include "buf.h"
#include "combine.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "project_cache.h"
#include "queue.h"
#include "session.h"

/* A transaction that ends in a deadlock is tried this many times. */
#define QUEUE_TRIES 3

/* Lease and answer batches (see "batches" below): one at a time per
 * process, as every answer batch updates the project's counter row and a
 * second one would only wait there for the first one's commit. */
#define QUEUE_BATCH_LEADERS 1
/* Page reads too: one batch at a time, so that the batches stay large. */
#define QUEUE_READ_LEADERS 1
/* At most this many jobs go into one batch. */
#define QUEUE_BATCH_MAX 32


/* The columns of struct queue_item, in this order (the second form with
 * the table's alias, for joins). */
#define ITEM_COLUMNS "id, path, width, height, format, lease_token"
#define ITEM_COLUMNS_I "i.id, i.path, i.width, i.height, i.format, i.lease_token"

/*
 * The queue's scan (docs/labeling.md, "The queue"): first the unlabeled
 * items whose lease ran out, the oldest lease first, then the items nobody
 * holds, in id order.  Each part reads only its own range of the items_free
 * index (project_id, state, lease_until, id), so the items others hold now
 * are never read, however many there are.  COND narrows both parts (its
 * placeholders are bound in each).  Placeholders: project, [COND], the
 * expired part's LIMIT, project, [COND], the free part's LIMIT.  Rows:
 * ITEM_COLUMNS and whether the item is requeued, the expired part's first (UNION ALL keeps the parts in
 * order).  Locked rows are skipped: labelers never wait for each other.
 */
#define QUEUE_SCAN(COND) \
	"(SELECT " ITEM_COLUMNS ", phase = 'requeued' FROM items i FORCE INDEX (items_free) " \
	"WHERE i.project_id = ? AND i.state = 'unlabeled' AND i.lease_until < NOW(6) " COND \
	"ORDER BY i.lease_until, i.id LIMIT ? FOR UPDATE SKIP LOCKED) UNION ALL " \
	"(SELECT " ITEM_COLUMNS ", phase = 'requeued' FROM items i FORCE INDEX (items_free) " \
	"WHERE i.project_id = ? AND i.state = 'unlabeled' AND i.lease_until IS NULL " COND \
	"ORDER BY i.id LIMIT ? FOR UPDATE SKIP LOCKED)"
/* The scan's rows end with whether the item is requeued (a review sent it
 * back): the page then shows the rejection's reason (queue_item.requeued). */
/* QUEUE_SCAN's COND for one labeler: not an item it skipped (user, project). */
#define QUEUE_NOT_SKIPPED "AND NOT EXISTS (SELECT 1 FROM item_skips s WHERE s.user_id = ? " \
	"AND s.project_id = ? AND s.item_id = i.id) "

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
	if (strcmp(code, "changed") == 0)
		return "Your answer was changed.";
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

/* The page queries: what changes per request (the project's state and
 * meta_version; for the page of the labeler's own lease also the counters
 * and the labeler's count today) and one item (two variants: the held one,
 * or one by id; an answer needs no counts unless its page is shown again,
 * queue_page_counts).  Every table is reached by its primary key or the
 * items_lease index: no subqueries, no sorting, no json.  The project's
 * name, task, link and labels come from project_cache (meta_load on a
 * miss). */
/* The reason of the latest rejection of the item whose id is ITEM (SQL):
 * '' when the review gave none or there was none.  It reads
 * item_events_item (a handful of rows per item). */
#define REJECT_REASON_OF(ITEM) "COALESCE((SELECT e.reason FROM item_events e " \
	"WHERE e.item_id = " ITEM " AND e.kind = 'rejected' ORDER BY e.id DESC LIMIT 1), '')"

/* The last column: a requeued item's rejection reason, NULL for any other
 * item; the subquery runs for requeued items only. */
#define ITEM_PAGE_COLUMNS "i.id, i.path, i.width, i.height, i.format, i.lease_token, i.state, " \
	"i.lease_user, IF(i.phase = 'requeued', " REJECT_REASON_OF("i.id") ", NULL)"

/* Load the fixed facts of project_id at (at least) `version` from the
 * database and cache them.  DB_OK, QUEUE_NO_ITEM, or DB_*. */
static int meta_load(struct db *db, struct arena *a, long long project_id,
    struct project_meta *m)
{
	struct db_result *res;
	int rc;

	rc = db_query(db, a, &res,
	    "SELECT p.name, p.task, p.instructions_url, p.meta_version, "
	    "(SELECT GROUP_CONCAT(l.id, ':', HEX(l.name) ORDER BY l.position SEPARATOR ',') "
	    "FROM labels l WHERE l.project_id = p.id) FROM projects p WHERE p.id = ?",
	    "i", project_id);
	if (rc != DB_OK)
		return rc;
	if (res->nrows == 0)
		return QUEUE_NO_ITEM;
	memset(m, 0, sizeof(*m));
	m->id = project_id;
	m->name = db_value(res, 0, 0);
	m->task = db_value(res, 0, 1);
	m->instructions_url = db_value(res, 0, 2);
	m->version = db_int(res, 0, 3);
	if (queue_labels_parse(a, db_value(res, 0, 4), &m->labels, &m->nlabels) < 0) {
		log_error("queue_page_load: project %lld: the label list could not be read", project_id);
		return DB_ERR;
	}
	project_cache_put(m);
	return DB_OK;
}

/* Page reads are combined like leases and answers (see "batches" below):
 * the pages of one project asked for together are read by one statement
 * over a JSON array of the requests.  Kinds: the labeler's own lease, or an
 * item by id. */
enum { PAGE_HELD = 1, PAGE_ITEM = 2, PAGE_HELD_SIGNED = 3, PAGE_ITEM_SIGNED = 4 };

struct page_job {
	struct combine_job cj;     /* first: the combiner's part */
	struct arena *arena;       /* the owner's */
	long long user_id, item_id;
	unsigned char hash[32];    /* signed kinds: the session token's hash */
	unsigned idle_timeout, lifetime;
	struct db_result *row;     /* the owner's copy of its row; NULL: no project
	                              (signed kinds: no valid session) */
	int rc;
};

static struct combiner page_combiner;
static pthread_once_t page_once = PTHREAD_ONCE_INIT;

static void page_batch(void *ctx, struct combine_job **cjobs, size_t n)
{
	struct combine_ctx *bc = ctx;
	struct page_job **jobs = (struct page_job **)cjobs;
	long long project_id = jobs[0]->cj.group;
	struct db_result *res;
	struct buf b;
	int rc;

	buf_init(&b, bc->arena);
	buf_addc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		char h[65] = "";
		int kind = jobs[i]->cj.kind;
		if (kind == PAGE_HELD_SIGNED || kind == PAGE_ITEM_SIGNED)
			session_hash_hex(jobs[i]->hash, h);
		buf_printf(&b, "%s{\"k\":%zu,\"v\":%lld,\"h\":\"%s\"}", i > 0 ? "," : "", i,
		    kind == PAGE_HELD ? jobs[i]->user_id : jobs[i]->item_id, h);
		jobs[i]->row = NULL;
	}
	buf_addc(&b, ']');
	if (b.failed) {
		for (size_t i = 0; i < n; i++)
			jobs[i]->rc = DB_ERR;
		return;
	}
	/* The rows: k, then (signed kinds) SESSION_COLUMNS and whether the
	 * session's user may see the project (access.h: an admin, or in a
	 * team that serves it), then the page: state, meta_version,
	 * [counters, today,] the item. */
#define PAGE_ACCESS ", (u.is_admin = 1 OR " ACCESS_MEMBER_OF("p.id", "s.user_id") ")"
#define JT_PAGES "JSON_TABLE(?, '$[*]' COLUMNS (k INT UNSIGNED PATH '$.k', " \
	"v BIGINT UNSIGNED PATH '$.v', h CHAR(64) CHARACTER SET ascii PATH '$.h')) j "
#define PAGE_HELD_COLUMNS "p.state, p.meta_version, COALESCE(c.items_total, 0), " \
	"COALESCE(c.items_labeled, 0), COALESCE(d.labeled, 0), " ITEM_PAGE_COLUMNS
/* The held item of labeler U, from the hint (see labeler_leases). */
#define PAGE_HELD_JOINS(U) "LEFT JOIN project_counters c ON c.project_id = p.id " \
	"LEFT JOIN labeler_days d ON d.project_id = p.id AND d.user_id = " U " " \
	"AND d.day = UTC_DATE() " \
	"LEFT JOIN labeler_leases l ON l.project_id = p.id AND l.user_id = " U " " \
	"LEFT JOIN items i ON i.id = l.item_id AND i.project_id = p.id " \
	"AND i.lease_user = l.user_id AND i.state = 'unlabeled' AND i.lease_until > NOW(6)"
	switch (jobs[0]->cj.kind) {
	case PAGE_HELD:
		rc = db_query(bc->db, bc->arena, &res,
		    "SELECT j.k, " PAGE_HELD_COLUMNS " FROM " JT_PAGES
		    "STRAIGHT_JOIN projects p ON p.id = ? " PAGE_HELD_JOINS("j.v"),
		    "si", b.data, project_id);
		break;
	case PAGE_ITEM:
		rc = db_query(bc->db, bc->arena, &res,
		    "SELECT j.k, p.state, p.meta_version, " ITEM_PAGE_COLUMNS " FROM " JT_PAGES
		    "STRAIGHT_JOIN projects p ON p.id = ? "
		    "LEFT JOIN items i ON i.id = j.v AND i.project_id = p.id",
		    "si", b.data, project_id);
		break;
	case PAGE_HELD_SIGNED:
		/* The session check of session_lookup, and the page of its
		 * labeler: one row per valid session. */
		rc = db_query(bc->db, bc->arena, &res,
		    "SELECT j.k, " SESSION_COLUMNS PAGE_ACCESS ", " PAGE_HELD_COLUMNS " FROM " JT_PAGES SESSION_JOIN
		    "LEFT JOIN projects p ON p.id = ? " PAGE_HELD_JOINS("s.user_id")
		    " WHERE " SESSION_VALID,
		    "siuu", b.data, project_id, (unsigned long long)jobs[0]->idle_timeout,
		    (unsigned long long)jobs[0]->lifetime);
		break;
	default:
		rc = db_query(bc->db, bc->arena, &res,
		    "SELECT j.k, " SESSION_COLUMNS PAGE_ACCESS ", p.state, p.meta_version, " ITEM_PAGE_COLUMNS
		    " FROM " JT_PAGES SESSION_JOIN "LEFT JOIN projects p ON p.id = ? "
		    "LEFT JOIN items i ON i.id = j.v AND i.project_id = p.id WHERE " SESSION_VALID,
		    "siuu", b.data, project_id, (unsigned long long)jobs[0]->idle_timeout,
		    (unsigned long long)jobs[0]->lifetime);
		break;
	}
#undef PAGE_HELD_JOINS
#undef PAGE_HELD_COLUMNS
#undef JT_PAGES
#undef PAGE_ACCESS
	for (size_t i = 0; i < n; i++)
		jobs[i]->rc = rc;
	if (rc != DB_OK)
		return;
	for (size_t r = 0; r < res->nrows; r++) {
		long long k = db_int(res, r, 0);
		if (k < 0 || (size_t)k >= n)
			continue;
		jobs[k]->row = db_row_copy(jobs[k]->arena, res, r, 1);
		if (jobs[k]->row == NULL)
			jobs[k]->rc = DB_ERR;
	}
}

static void page_init(void)
{
	combiner_init(&page_combiner, QUEUE_READ_LEADERS, QUEUE_BATCH_MAX, 4, page_batch);
}

/* Fill *pg from row 0 of res, whose columns from `base` on are the page
 * columns of page_batch (with the counters when item_id == 0), and the
 * project's fixed facts from the cache.  QUEUE_OK, QUEUE_NO_ITEM when the
 * project's columns are NULL (no such project), or DB_*. */
static int page_from_row(struct db *db, struct arena *a, long long project_id, long long item_id,
    const struct db_result *res, size_t base, struct queue_page *pg)
{
	size_t col = base + (item_id == 0 ? 5 : 2);
	struct project_meta m;
	int rc;

	memset(pg, 0, sizeof(*pg));
	pg->mine = -1;
	if (db_value(res, 0, base) == NULL)
		return QUEUE_NO_ITEM;
	/* A labeler holds at most one lease per project (queue_lease_next
	 * takes turns per labeler): one row per request. */
	pg->state = db_value(res, 0, base);
	if (item_id == 0) {
		pg->items_total = db_int(res, 0, base + 2);
		pg->items_labeled = db_int(res, 0, base + 3);
		pg->today = db_int(res, 0, base + 4);
		pg->counted = 1;
	}
	if (db_value(res, 0, col) != NULL) {
		pg->item.id = db_int(res, 0, col);
		pg->item.path = db_value(res, 0, col + 1);
		pg->item.width = (unsigned)db_int(res, 0, col + 2);
		pg->item.height = (unsigned)db_int(res, 0, col + 3);
		pg->item.format = db_value(res, 0, col + 4);
		pg->item.lease_token = db_value(res, 0, col + 5);
		pg->facts.found = 1;
		pg->facts.labeled = strcmp(db_value(res, 0, col + 6), "labeled") == 0;
		pg->facts.lease_user = db_int(res, 0, col + 7);
		pg->facts.lease_token = pg->item.lease_token;
		pg->item.reason = db_value(res, 0, col + 8);
		pg->item.requeued = pg->item.reason != NULL;
		/* No prefetch guess when a page is shown again (a reload, an
		 * editor step): only a fresh lease finds the next free item
		 * without a scan of its own. */
		pg->next_id = 0;
	}
	rc = project_cache_get(a, project_id, db_int(res, 0, base + 1), &m);
	if (rc < 0)
		return DB_ERR;
	if (rc == 0) {
		rc = meta_load(db, a, project_id, &m);
		if (rc != DB_OK)
			return rc;
	}
	pg->name = m.name;
	pg->task = m.task;
	pg->instructions_url = m.instructions_url;
	pg->labels = m.labels;
	pg->nlabels = m.nlabels;
	pg->meta_version = m.version;
	return QUEUE_OK;
}

int queue_page_load(struct db *db, struct arena *a, long long project_id, long long user_id,
    long long item_id, struct queue_page *pg)
{
	struct page_job j = {
		.cj = { .kind = item_id == 0 ? PAGE_HELD : PAGE_ITEM, .group = project_id },
		.arena = a, .user_id = user_id, .item_id = item_id,
	};
	struct combine_ctx bc = { .db = db, .arena = a };

	memset(pg, 0, sizeof(*pg));
	pthread_once(&page_once, page_init);
	combine_submit(&page_combiner, &j.cj, &bc);
	if (j.rc != DB_OK)
		return j.rc;
	if (j.row == NULL)
		return QUEUE_NO_ITEM;
	return page_from_row(db, a, project_id, item_id, j.row, 0, pg);
}

int queue_page_load_signed(struct db *db, struct arena *a, const char *token,
    unsigned idle_timeout, unsigned lifetime, long long project_id, long long item_id,
    struct session **session, int *access, struct queue_page *pg)
{
	struct page_job j = {
		.cj = { .kind = item_id == 0 ? PAGE_HELD_SIGNED : PAGE_ITEM_SIGNED, .group = project_id },
		.arena = a, .item_id = item_id, .idle_timeout = idle_timeout, .lifetime = lifetime,
	};
	struct combine_ctx bc = { .db = db, .arena = a };
	long long age;
	int rc;

	*session = NULL;
	*access = 0;
	memset(pg, 0, sizeof(*pg));
	if (!token_syntax_ok(token))
		return DB_OK;
	token_hash(token, j.hash);
	pthread_once(&page_once, page_init);
	combine_submit(&page_combiner, &j.cj, &bc);
	if (j.rc != DB_OK || j.row == NULL)
		return j.rc;   /* DB_OK without a row: no valid session */
	*session = session_from_row(a, j.row, 0, 0, j.hash, &age);
	if (*session == NULL)
		return DB_ERR;
	rc = session_touch(db, *session, age);
	if (rc != DB_OK) {
		*session = NULL;
		return rc;
	}
	*access = db_int(j.row, 0, 6) == 1;
	return page_from_row(db, a, project_id, item_id, j.row, 7, pg);
}

int queue_reject_reason(struct db *db, struct arena *a, long long item_id, const char **reason)
{
	struct db_result *res;
	int rc = db_query(db, a, &res,
	    "SELECT " REJECT_REASON_OF("?"), "i", item_id);

	*reason = rc == DB_OK && res->nrows == 1 ? db_value(res, 0, 0) : "";
	return rc;
}

int queue_page_counts(struct db *db, struct arena *a, long long project_id, long long user_id,
    int mine, struct queue_page *pg)
{
	struct db_result *res;
	int rc;

	if (!pg->counted) {
		rc = db_query(db, a, &res,
		    "SELECT COALESCE(c.items_total, 0), COALESCE(c.items_labeled, 0), "
		    "(SELECT d.labeled FROM labeler_days d WHERE d.project_id = ? AND d.user_id = ? "
		    "AND d.day = UTC_DATE()) FROM project_counters c WHERE c.project_id = ?",
		    "iii", project_id, user_id, project_id);
		if (rc != DB_OK)
			return rc;
		pg->items_total = db_int(res, 0, 0);
		pg->items_labeled = db_int(res, 0, 1);
		pg->today = db_int(res, 0, 2);
		pg->counted = 1;
	}
	if (mine && pg->mine < 0) {
		rc = db_query(db, a, &res,
		    "SELECT COALESCE(SUM(labeled), 0) FROM labeler_days WHERE project_id = ? AND user_id = ?",
		    "ii", project_id, user_id);
		if (rc != DB_OK)
			return rc;
		pg->mine = db_int(res, 0, 0);
	}
	return DB_OK;
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

/* ------------------------------------------------------------ images */

int queue_image_access(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, int sees_all, struct queue_image *img)
{
	struct db_result *res;
	int rc;

	memset(img, 0, sizeof(*img));
	rc = db_query(db, a, &res,
	    "SELECT i.path, i.format, s.id, s.kind = 'local' AND s.is_builtin = 1 FROM items i "
	    "JOIN projects p ON p.id = i.project_id JOIN datasets d ON d.id = p.dataset_id "
	    "JOIN datastores s ON s.id = d.datastore_id WHERE i.id = ? AND i.project_id = ? AND ("
	    "? = 1 "
	    "OR (i.lease_user = ? AND i.state = 'unlabeled') "
	    "OR EXISTS (SELECT 1 FROM annotations n WHERE n.item_id = i.id AND n.labeler_id = ?) "
	    "OR EXISTS (SELECT 1 FROM labeler_leases l JOIN items h ON h.id = l.item_id "
	    "WHERE l.project_id = i.project_id AND l.user_id = ? AND l.next_item_id = i.id "
	    "AND h.lease_user = ? AND h.state = 'unlabeled'))",
	    "iiiiiii", item_id, project_id, (long long)(sees_all != 0), user_id, user_id, user_id,
	    user_id);
	if (rc != DB_OK)
		return rc;
	if (res->nrows == 0)
		return QUEUE_NO_ITEM;
	img->path = db_value(res, 0, 0);
	img->format = db_value(res, 0, 1);
	img->datastore_id = db_int(res, 0, 2);
	img->builtin_local = db_int(res, 0, 3) == 1;
	return QUEUE_OK;
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

/* Append s as a JSON string. */
static void buf_add_json_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	buf_addc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			buf_addc(b, '\\');
			buf_addc(b, (char)*p);
		} else if (*p < 0x20) {
			char esc[7] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15], '\0' };
			buf_adds(b, esc);
		} else {
			buf_addc(b, (char)*p);
		}
	}
	buf_addc(b, '"');
}

/* Append the lease row {"i", "u", "t"} (with json also "d", the answer,
 * and "c", its classes) of the procedures of sql/012_answer_one_path.sql
 * and sql/017_review_data.sql to the array in b; k: the rows before it.
 * token must pass token_syntax_ok and classes come from review_classes
 * (both are written as they are). */
static void lease_row(struct buf *b, long long item_id, long long user_id, const char *token,
    const char *json, const char *classes, size_t k)
{
	buf_printf(b, "%s{\"i\":%lld,\"u\":%lld,\"t\":\"%s\"", k > 0 ? "," : "",
	    item_id, user_id, token);
	if (json != NULL) {
		buf_adds(b, ",\"d\":");
		buf_add_json_str(b, json);
		buf_printf(b, ",\"c\":%s", classes);
	}
	buf_addc(b, '}');
}

/* One attempt of queue_submit / queue_skip.  The lease guard is the
 * procedure labeld_leases_end (sql/012_answer_one_path.sql), the one
 * place it is written: it ends the lease only while the labeler still
 * holds the item under token (expired or not, as long as nobody else took
 * it).  An answer is a batch of one (labeld_answer_batch, its own
 * transaction: the same statements as every batch); a skip runs the guard
 * in its own transaction and then records the skip. */
static int answer_once(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, const char *token, const char *json, const char *classes,
    enum queue_action action)
{
	struct buf row;
	uint64_t changed = 0;
	int rc;

	if (!token_syntax_ok(token))
		return answer_refused(db, a, project_id, item_id, user_id, token, action);
	buf_init(&row, a);
	buf_addc(&row, '[');
	lease_row(&row, item_id, user_id, token, action == QUEUE_SUBMIT ? json : NULL, classes, 0);
	buf_addc(&row, ']');
	if (row.failed)
		return DB_ERR;
	if (action == QUEUE_SUBMIT) {
		rc = db_exec(db, 0, NULL, NULL, "CALL labeld_answer_batch(?, ?, 1)", "is",
		    project_id, row.data);
		if (rc == DB_DUPLICATE)   /* the lease's answer is there already */
			return QUEUE_ALREADY;
		if (rc == DB_REFUSED)
			return answer_refused(db, a, project_id, item_id, user_id, token, action);
		return rc == DB_OK ? QUEUE_OK : rc;
	}
	rc = db_begin(db);
	if (rc != DB_OK)
		return rc;
	rc = db_exec(db, 0, NULL, NULL, "CALL labeld_leases_end(?, ?, 1, FALSE)", "is",
	    project_id, row.data);
	if (rc == DB_REFUSED) {
		db_rollback(db);
		return answer_refused(db, a, project_id, item_id, user_id, token, action);
	}
	if (rc == DB_OK)
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT IGNORE INTO item_skips (user_id, project_id, item_id) VALUES (?, ?, ?)",
		    "iii", user_id, project_id, item_id);
	/* The first skip of a queued item makes it 'skipped' (docs/review.md);
	 * the item's row is locked since the guard, so two skips count once. */
	if (rc == DB_OK)
		rc = db_exec(db, 0, &changed, NULL,
		    "UPDATE items SET phase = 'skipped' WHERE id = ? AND phase = 'queued'", "i", item_id);
	if (rc == DB_OK && changed > 0)
		rc = db_exec(db, 0, NULL, NULL,
		    "UPDATE project_counters SET items_skipped = items_skipped + 1 WHERE project_id = ?",
		    "i", project_id);
	if (rc == DB_OK)
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT INTO labeler_days (project_id, user_id, day, skipped) "
		    "VALUES (?, ?, UTC_DATE(), 1) ON DUPLICATE KEY UPDATE skipped = skipped + 1",
		    "ii", project_id, user_id);
	if (rc == DB_OK)
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT INTO item_events (item_id, project_id, user_id, kind) "
		    "VALUES (?, ?, ?, 'skipped')", "iii", item_id, project_id, user_id);
	if (rc != DB_OK)
		goto fail;
	rc = db_commit(db);
	return rc == DB_OK ? QUEUE_OK : rc;
fail:
	db_rollback(db);
	return rc;
}

/* queue_submit for one answer in its own transaction. */
static int submit_single(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, const char *token, const char *annotation_json, const char *classes)
{
	int rc = DB_RETRY;

	for (int i = 0; i < QUEUE_TRIES && rc == DB_RETRY; i++)
		rc = answer_once(db, a, project_id, item_id, user_id, token, annotation_json,
		    classes, QUEUE_SUBMIT);
	return rc;
}

/* Count an answer's or skip's result for /metrics. */
static void answer_counted(int rc, enum queue_action action)
{
	if (rc == QUEUE_OK && action == QUEUE_SUBMIT)
		metrics_add(METRIC_ANSWERS_STORED, 1);
	else if (rc == QUEUE_STALE)
		metrics_add(METRIC_LEASES_EXPIRED, 1);
}

int queue_skip(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, const char *token)
{
	int rc = DB_RETRY;

	if (token == NULL)
		return DB_ERR;
	for (int i = 0; i < QUEUE_TRIES && rc == DB_RETRY; i++)
		rc = answer_once(db, a, project_id, item_id, user_id, token, NULL, NULL, QUEUE_SKIP);
	answer_counted(rc, QUEUE_SKIP);
	return rc;
}

/* ------------------------------------------------------------ batches
 *
 * Leases and answers of many labelers of one project are combined into one
 * transaction each (combine.h): the statements below take a JSON array of
 * the batch's rows as their one changing parameter (JSON_TABLE), so each
 * is prepared once and runs once per batch whatever its size.  A batch that
 * fails for any reason other than a deadlock hands every job back to its
 * owner, which then runs it alone as a batch of one: a batch is only ever
 * a faster way to the same result.
 */

enum { JOB_LEASE = 1, JOB_SUBMIT = 2 };

/* Set by the leader for a job it could not do in its batch. */
#define JOB_ALONE (-100)

struct queue_job {
	struct combine_job cj;     /* first: the combiner's part */
	struct arena *arena;       /* the owner's: results are copied here */
	long long project_id, user_id;
	/* lease */
	unsigned lease_seconds;
	struct queue_item item;
	long long next_id;
	/* submit */
	long long item_id;
	const char *token, *json, *classes;
	int rc;
};


static struct combiner lease_combiner, submit_combiner;
static pthread_once_t combiners_once = PTHREAD_ONCE_INIT;

/* The JSON_TABLE columns of an id list ("[1,2,3]"). */
#define JT_IDS "JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) j"

static int cmp_ll(const void *x, const void *y)
{
	long long a = *(const long long *)x, b = *(const long long *)y;

	return (a > b) - (a < b);
}

/* "[v0,v1,...]" of n sorted, distinct values (sorted in place; *n gets the
 * distinct count).  NULL when out of memory. */
static const char *ids_json(struct arena *a, long long *v, size_t *n)
{
	struct buf b;
	size_t k = 0;

	qsort(v, *n, sizeof(*v), cmp_ll);
	buf_init(&b, a);
	buf_addc(&b, '[');
	for (size_t i = 0; i < *n; i++) {
		if (i > 0 && v[i] == v[i - 1])
			continue;
		buf_printf(&b, "%s%lld", k > 0 ? "," : "", v[i]);
		v[k++] = v[i];
	}
	buf_addc(&b, ']');
	*n = k;
	return b.failed ? NULL : b.data;
}

/* Copy an item into the job owner's arena.  0, or -1. */
static int item_copy(struct queue_job *j, const struct queue_item *it)
{
	j->item = *it;
	j->item.path = arena_strdup(j->arena, it->path);
	j->item.format = arena_strdup(j->arena, it->format);
	j->item.lease_token = arena_strdup(j->arena, it->lease_token);
	return j->item.path && j->item.format && j->item.lease_token ? 0 : -1;
}

/* A lease this batch gives: labeler, item, token, and the guess at the next
 * free item after it (for prefetching; 0: none). */
struct grant {
	long long user_id;
	struct queue_item item;
	char token[TOKEN_LEN + 1];
	long long next;
};

/* Hand grant g to every job of its labeler. */
static void grant_jobs(struct queue_job **jobs, size_t n, const struct grant *g)
{
	for (size_t i = 0; i < n; i++) {
		if (jobs[i]->user_id != g->user_id || jobs[i]->rc != JOB_ALONE)
			continue;
		jobs[i]->rc = item_copy(jobs[i], &g->item) == 0 ? QUEUE_OK : DB_ERR;
		jobs[i]->next_id = g->next;
	}
}

/* 1 when id is among the first n grants. */
static int granted(const struct grant *g, size_t n, long long id)
{
	for (size_t i = 0; i < n; i++)
		if (g[i].item.id == id)
			return 1;
	return 0;
}

/* Point the page's hints (labeler_leases) at the leases in `rows`, a JSON
 * array of {"i": item, "u": labeler, "n": the prefetch guess (a new lease;
 * left out for a lease found again, whose guess is kept)}: the page's way
 * to a lease by primary key (only a hint: the page checks it against the
 * item's own lease columns), and the item whose image the lease lets its
 * labeler prefetch (sql/011_image_access.sql).  DB_OK or DB_*. */
static int hints_write(struct db *db, long long project_id, const char *rows)
{
	/* next_item_id first: it compares with the row's item_id before that
	 * is updated (MariaDB assigns left to right). */
	return db_exec(db, 0, NULL, NULL,
	    "INSERT INTO labeler_leases (project_id, user_id, item_id, next_item_id) "
	    "SELECT ?, j.u, j.i, j.n FROM JSON_TABLE(?, '$[*]' COLUMNS "
	    "(i BIGINT UNSIGNED PATH '$.i', u BIGINT UNSIGNED PATH '$.u', "
	    "n BIGINT UNSIGNED PATH '$.n')) j "
	    "ON DUPLICATE KEY UPDATE next_item_id = IF(VALUES(next_item_id) IS NULL AND "
	    "labeler_leases.item_id = VALUES(item_id), labeler_leases.next_item_id, "
	    "VALUES(next_item_id)), item_id = VALUES(item_id)",
	    "is", project_id, rows);
}

/*
 * Leasing.  Every lease is taken by lease_batch_once, for the labelers of a
 * batch or for one labeler alone (lease_single: a batch of one), in five
 * steps: lock and state, held leases and skippers, scan, grants, hand-out.
 */

/* One lease batch: its jobs and what the steps learn. */
struct lease_batch {
	struct db *db;
	struct arena *arena;           /* the leader's */
	struct queue_job **jobs;
	size_t n;
	long long project_id;
	long long *users;              /* the labelers, distinct, in id order */
	size_t nusers;
	const char *ulist;             /* users as a JSON array */
	struct db_result *held;        /* per labeler: id, skipped, its lease (ITEM_COLUMNS) */
	struct grant *g;               /* the new leases */
	size_t ng;
};

/* Lock and state: begin the transaction, lock the labelers' rows (in id
 * order, as every batch does, so one labeler's requests take turns and
 * batches never deadlock on them) and read the project's state in share
 * mode (Pause waits for this lease to commit; this lease waits for a Pause
 * to commit).  Sets every job JOB_ALONE.  DB_OK when the project runs;
 * QUEUE_NO_ITEM or QUEUE_NOT_RUNNING (rolled back), or DB_* (the caller
 * rolls back). */
static int lease_lock(struct lease_batch *lb)
{
	struct db_result *res;
	int rc;

	lb->users = arena_calloc(lb->arena, lb->n, sizeof(*lb->users));
	lb->g = arena_calloc(lb->arena, lb->n, sizeof(*lb->g));
	if (lb->users == NULL || lb->g == NULL)
		return DB_ERR;
	for (size_t i = 0; i < lb->n; i++) {
		lb->users[i] = lb->jobs[i]->user_id;
		lb->jobs[i]->rc = JOB_ALONE;
		lb->jobs[i]->next_id = 0;
	}
	lb->nusers = lb->n;
	if ((lb->ulist = ids_json(lb->arena, lb->users, &lb->nusers)) == NULL)
		return DB_ERR;
	/* Locking reads under READ COMMITTED keep locks only on the rows they
	 * return: the leased rows a scan passes over stay free. */
	rc = db_exec(lb->db, 0, NULL, NULL, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "");
	if (rc == DB_OK)
		rc = db_begin(lb->db);
	if (rc != DB_OK)
		return rc;
	rc = db_query(lb->db, lb->arena, &res,
	    "SELECT u.id FROM " JT_IDS " STRAIGHT_JOIN users u ON u.id = j.id FOR UPDATE",
	    "s", lb->ulist);
	if (rc == DB_OK)
		rc = db_query(lb->db, lb->arena, &res,
		    "SELECT state FROM projects WHERE id = ? LOCK IN SHARE MODE", "i", lb->project_id);
	if (rc != DB_OK)
		return rc;
	if (res->nrows == 0 || strcmp(db_value(res, 0, 0), "running") != 0) {
		db_rollback(lb->db);
		return res->nrows == 0 ? QUEUE_NO_ITEM : QUEUE_NOT_RUNNING;
	}
	return DB_OK;
}

/* Held leases and skippers: one row per labeler with whether it skipped
 * anything here and the lease it holds already (ITEM_COLUMNS and whether
 * the item is requeued) (another tab, another
 * process), into lb->held.  FORCE INDEX: joined from JSON_TABLE, the
 * optimizer misjudges items_lease by its statistics (the items nobody holds
 * look like one huge group) and would read the whole items table.  DB_OK
 * or DB_*. */
static int lease_held(struct lease_batch *lb)
{
	return db_query(lb->db, lb->arena, &lb->held,
	    "SELECT j.id, (SELECT 1 FROM item_skips s WHERE s.user_id = j.id AND s.project_id = ? "
	    "LIMIT 1), " ITEM_COLUMNS_I ", i.phase = 'requeued' FROM " JT_IDS
	    " LEFT JOIN items i FORCE INDEX (items_lease) ON i.lease_user = j.id AND i.project_id = ? "
	    "AND i.state = 'unlabeled' AND i.lease_until > NOW(6)",
	    "isi", lb->project_id, lb->ulist, lb->project_id);
}

/* Whether labeler u holds a lease (held) or skipped anything (skips), from
 * lb->held. */
static void held_facts(const struct lease_batch *lb, long long u, int *held, int *skips)
{
	*held = *skips = 0;
	for (size_t r = 0; r < lb->held->nrows; r++) {
		if (db_int(lb->held, r, 0) != u)
			continue;
		*held |= db_value(lb->held, r, 2) != NULL;
		*skips |= db_value(lb->held, r, 1) != NULL;
	}
}

/* The id of the first row of cand from *r on that this batch has not
 * granted (*r: that row), or 0 when there is none. */
static long long next_free(const struct lease_batch *lb, const struct db_result *cand, size_t *r)
{
	for (; *r < cand->nrows; (*r)++) {
		long long id = db_int(cand, *r, 0);
		if (!granted(lb->g, lb->ng, id))
			return id;
	}
	return 0;
}

/* Give labeler u a new lease on row r of cand (a QUEUE_SCAN result). */
static void grant_add(struct lease_batch *lb, const struct db_result *cand, size_t r, long long u)
{
	struct grant *g = &lb->g[lb->ng++];

	g->user_id = u;
	item_from_row(cand, r, 0, &g->item);
	g->item.requeued = db_int(cand, r, 6) == 1;
}

/* Scan: a new lease for every labeler that holds none.  Whoever skipped
 * anything gets its own scan that leaves its skips out; everyone else
 * shares one.  Items this batch took are locked by this transaction, so
 * SKIP LOCKED returns them: each scan asks for as many more, and its free
 * part for one more, the guess at the next free item.  Fills lb->g.  DB_OK
 * or DB_*. */
static int lease_scan(struct lease_batch *lb)
{
	long long *plain = arena_calloc(lb->arena, lb->nusers, sizeof(*plain)), guess;
	size_t nplain = 0, first, r = 0;
	struct db_result *cand;
	int rc;

	if (plain == NULL)
		return DB_ERR;
	for (size_t u = 0; u < lb->nusers; u++) {
		int held, skips;
		held_facts(lb, lb->users[u], &held, &skips);
		if (held)
			continue;
		if (!skips) {
			plain[nplain++] = lb->users[u];
			continue;
		}
		rc = db_query(lb->db, lb->arena, &cand, QUEUE_SCAN(QUEUE_NOT_SKIPPED), "iiiiiiii",
		    lb->project_id, lb->users[u], lb->project_id, (long long)lb->ng + 1,
		    lb->project_id, lb->users[u], lb->project_id, (long long)lb->ng + 2);
		if (rc != DB_OK)
			return rc;
		r = 0;
		if (next_free(lb, cand, &r) == 0)
			continue;
		grant_add(lb, cand, r, lb->users[u]);
		lb->g[lb->ng - 1].next = next_free(lb, cand, &r);
	}
	first = lb->ng;
	if (nplain > 0) {
		size_t k = 0;
		rc = db_query(lb->db, lb->arena, &cand, QUEUE_SCAN(""), "iiii",
		    lb->project_id, (long long)(nplain + first),
		    lb->project_id, (long long)(nplain + first + 1));
		if (rc != DB_OK)
			return rc;
		r = 0;
		while (k < nplain && next_free(lb, cand, &r) != 0)
			grant_add(lb, cand, r, plain[k++]);
		guess = next_free(lb, cand, &r);
		for (size_t i = first; i < lb->ng; i++)
			lb->g[i].next = guess;
	}
	/* A skipper's guess that a later scan granted is no guess. */
	for (size_t i = 0; i < first; i++)
		if (granted(lb->g, lb->ng, lb->g[i].next))
			lb->g[i].next = 0;
	return DB_OK;
}

/* Grants: write the hints of the leases found again (so the next page
 * finds them by primary key), then the new leases (a fresh token each),
 * their item_events "leased" rows and their hints.  DB_OK or DB_*. */
static int lease_grants(struct lease_batch *lb)
{
	struct buf b;
	size_t k = 0;
	int rc;

	buf_init(&b, lb->arena);
	buf_addc(&b, '[');
	for (size_t r = 0; r < lb->held->nrows; r++)
		if (db_value(lb->held, r, 2) != NULL)
			buf_printf(&b, "%s{\"i\":%lld,\"u\":%lld}", k++ > 0 ? "," : "",
			    db_int(lb->held, r, 2), db_int(lb->held, r, 0));
	buf_addc(&b, ']');
	if (b.failed)
		return DB_ERR;
	if (k > 0 && (rc = hints_write(lb->db, lb->project_id, b.data)) != DB_OK)
		return rc;
	if (lb->ng == 0)
		return DB_OK;
	buf_init(&b, lb->arena);
	buf_addc(&b, '[');
	for (size_t i = 0; i < lb->ng; i++) {
		struct grant *g = &lb->g[i];
		if (token_new(g->token) < 0) {
			log_error("queue_lease_next: no random bytes for a lease token");
			return DB_ERR;
		}
		g->item.lease_token = g->token;
		buf_printf(&b, "%s{\"i\":%lld,\"u\":%lld,\"t\":\"%s\"", i > 0 ? "," : "",
		    g->item.id, g->user_id, g->token);
		if (g->next > 0)
			buf_printf(&b, ",\"n\":%lld", g->next);
		buf_addc(&b, '}');
	}
	buf_addc(&b, ']');
	if (b.failed)
		return DB_ERR;
	rc = db_exec(lb->db, 0, NULL, NULL,
	    "UPDATE JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$.i', "
	    "u BIGINT UNSIGNED PATH '$.u', t CHAR(43) CHARACTER SET ascii PATH '$.t')) j "
	    "STRAIGHT_JOIN items i ON i.id = j.id SET i.lease_user = j.u, i.lease_token = j.t, "
	    "i.lease_until = NOW(6) + INTERVAL ? SECOND, i.leased_at = NOW(6), "
	    "i.version = i.version + 1",
	    "si", b.data, (long long)lb->jobs[0]->lease_seconds);
	if (rc == DB_OK)
		rc = db_exec(lb->db, 0, NULL, NULL,
		    "INSERT INTO item_events (item_id, project_id, user_id, kind) "
		    "SELECT j.i, ?, j.u, 'leased' FROM JSON_TABLE(?, '$[*]' COLUMNS "
		    "(i BIGINT UNSIGNED PATH '$.i', u BIGINT UNSIGNED PATH '$.u')) j",
		    "is", lb->project_id, b.data);
	if (rc == DB_OK)
		rc = hints_write(lb->db, lb->project_id, b.data);
	return rc;
}

/* Hand-out (after the commit): every job gets its labeler's lease, the one
 * found again or the new one; QUEUE_EMPTY when the scan found none. */
static void lease_hand_out(struct lease_batch *lb)
{
	for (size_t r = 0; r < lb->held->nrows; r++) {
		struct grant h = { .user_id = db_int(lb->held, r, 0) };
		if (db_value(lb->held, r, 2) == NULL)
			continue;
		item_from_row(lb->held, r, 2, &h.item);
		h.item.requeued = db_int(lb->held, r, 8) == 1;
		grant_jobs(lb->jobs, lb->n, &h);
	}
	for (size_t i = 0; i < lb->ng; i++)
		grant_jobs(lb->jobs, lb->n, &lb->g[i]);
	for (size_t i = 0; i < lb->n; i++)
		if (lb->jobs[i]->rc == JOB_ALONE)
			lb->jobs[i]->rc = QUEUE_EMPTY;
}

/* One attempt at leasing for jobs[0..n-1] (one project, one lease length).
 * Sets each job's rc (and item, next_id); returns DB_OK, or DB_* for the
 * whole batch (rolled back, no job's result is kept). */
static int lease_batch_once(struct combine_ctx *bc, struct queue_job **jobs, size_t n)
{
	struct lease_batch lb = {
		.db = bc->db, .arena = bc->arena, .jobs = jobs, .n = n,
		.project_id = jobs[0]->project_id,
	};
	int rc = lease_lock(&lb);

	if (rc == QUEUE_NO_ITEM || rc == QUEUE_NOT_RUNNING) {
		for (size_t i = 0; i < n; i++)
			jobs[i]->rc = rc;
		return DB_OK;
	}
	if (rc == DB_OK)
		rc = lease_held(&lb);
	if (rc == DB_OK)
		rc = lease_scan(&lb);
	if (rc == DB_OK)
		rc = lease_grants(&lb);
	if (rc != DB_OK) {
		db_rollback(lb.db);
		return rc;
	}
	rc = db_commit(lb.db);
	if (rc != DB_OK)
		return rc;
	lease_hand_out(&lb);
	return DB_OK;
}

typedef int (*batch_once_fn)(struct combine_ctx *bc, struct queue_job **jobs, size_t n);

/* One attempt of a batch (one project's jobs) and its deadlock retries:
 * the last attempt's result. */
static int batch_tries(batch_once_fn once, struct combine_ctx *bc, struct queue_job **jobs,
    size_t n)
{
	int rc = DB_RETRY;

	for (int t = 0; t < QUEUE_TRIES && rc == DB_RETRY; t++)
		rc = once(bc, jobs, n);
	return rc;
}

/* Run a batch with its deadlock retries; when it cannot be done, every
 * job goes back to its owner (JOB_ALONE). */
static void batch_run(batch_once_fn once, void *ctx, struct combine_job **cjobs, size_t n)
{
	struct queue_job **jobs = (struct queue_job **)cjobs;

	if (batch_tries(once, ctx, jobs, n) != DB_OK)
		for (size_t i = 0; i < n; i++)
			jobs[i]->rc = JOB_ALONE;
}

/* The combiner's function for leases. */
static void lease_batch(void *ctx, struct combine_job **cjobs, size_t n)
{
	batch_run(lease_batch_once, ctx, cjobs, n);
}

/* queue_lease_next for one labeler alone (combining off, or a job its
 * batch handed back): a batch of one.  Its failure is the result, never
 * handed back again. */
static int lease_single(struct db *db, struct arena *a, long long project_id, long long user_id,
    unsigned lease_seconds, struct queue_item *item, long long *next_id)
{
	struct queue_job j = {
		.cj = { .kind = JOB_LEASE, .group = project_id }, .arena = a,
		.project_id = project_id, .user_id = user_id, .lease_seconds = lease_seconds,
	}, *jp = &j;
	struct combine_ctx bc = { .db = db, .arena = a };
	int rc = batch_tries(lease_batch_once, &bc, &jp, 1);

	*item = j.item;
	*next_id = j.next_id;
	return rc == DB_OK ? j.rc : rc;
}

/* Answer batches that were refused and handed back answer by answer
 * (statistics). */
static unsigned long long careful_batches;

/*
 * One attempt at storing the answers jobs[0..n-1] (one project): one call
 * of labeld_answer_batch (sql/005_answer_batch.sql, its inner part as
 * sql/012_answer_one_path.sql redefined it), which ends every answer's
 * lease under the one lease guard (labeld_leases_end), joined row by row
 * in item id order, stores the annotations, the labelers' days and the
 * project's counter, and commits: one round trip.  When not every row held
 * its lease (a stale, tampered or double submit among them, or the same
 * item twice) it rolls back, and batch_run hands every job back to its
 * owner, which stores its answer alone through the same procedure (a
 * batch of one): the guard is checked nowhere else.  Sets every job
 * QUEUE_OK on success; DB_OK, or DB_* / QUEUE_ALREADY for the whole batch.
 */
static int submit_batch_once(struct combine_ctx *bc, struct queue_job **jobs, size_t n)
{
	struct queue_job **sorted = arena_calloc(bc->arena, n, sizeof(*sorted));
	struct buf b;
	int rc;

	for (size_t i = 0; i < n; i++)
		jobs[i]->rc = JOB_ALONE;
	if (sorted == NULL)
		return DB_ERR;
	memcpy(sorted, jobs, n * sizeof(*sorted));
	for (size_t i = 1; i < n; i++)   /* insertion sort by item id: n is small */
		for (size_t k = i; k > 0 && sorted[k - 1]->item_id > sorted[k]->item_id; k--) {
			struct queue_job *t = sorted[k];
			sorted[k] = sorted[k - 1];
			sorted[k - 1] = t;
		}
	buf_init(&b, bc->arena);
	buf_addc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && sorted[i]->item_id == sorted[i - 1]->item_id) {
			rc = QUEUE_ALREADY;   /* one item twice: each on its own */
			goto handback;
		}
		lease_row(&b, sorted[i]->item_id, sorted[i]->user_id, sorted[i]->token,
		    sorted[i]->json, sorted[i]->classes, i);
	}
	buf_addc(&b, ']');
	if (b.failed)
		return DB_ERR;
	rc = db_exec(bc->db, 0, NULL, NULL, "CALL labeld_answer_batch(?, ?, ?)", "isi",
	    jobs[0]->project_id, b.data, (long long)n);
	if (rc == DB_OK) {
		for (size_t i = 0; i < n; i++)
			jobs[i]->rc = QUEUE_OK;
		return DB_OK;
	}
	if (rc != DB_REFUSED && rc != DB_DUPLICATE)
		return rc;
handback:
	__atomic_add_fetch(&careful_batches, 1, __ATOMIC_RELAXED);
	return rc;
}

/* The combiner's function for answers. */
static void submit_batch(void *ctx, struct combine_job **cjobs, size_t n)
{
	batch_run(submit_batch_once, ctx, cjobs, n);
}

/* Whether leases and answers are combined into batches (the setting
 * `combine`; set once at start, before any worker runs). */
static int combine_on = 1;

void queue_set_combine(int on)
{
	combine_on = on != 0;
}

static void combiners_init(void)
{
	combiner_init(&lease_combiner, QUEUE_BATCH_LEADERS, QUEUE_BATCH_MAX, 1, lease_batch);
	combiner_init(&submit_combiner, QUEUE_BATCH_LEADERS, QUEUE_BATCH_MAX, 1, submit_batch);
}

int queue_lease_next(struct db *db, struct arena *a, long long project_id, long long user_id,
    unsigned lease_seconds, struct queue_item *item, long long *next_id)
{
	struct queue_job j = {
		.cj = { .kind = JOB_LEASE, .group = project_id }, .arena = a,
		.project_id = project_id, .user_id = user_id, .lease_seconds = lease_seconds,
		.rc = JOB_ALONE,
	};
	struct combine_ctx bc = { .db = db, .arena = a };

	if (combine_on) {
		pthread_once(&combiners_once, combiners_init);
		/* Leases of one length batch together. */
		j.cj.group = project_id * 0x10000 + (lease_seconds & 0xffff);
		combine_submit(&lease_combiner, &j.cj, &bc);
	}
	if (j.rc == JOB_ALONE) {
		j.rc = lease_single(db, a, project_id, user_id, lease_seconds, item, next_id);
	} else {
		*item = j.item;
		*next_id = j.next_id;
	}
	if (j.rc == QUEUE_OK)
		metrics_add(METRIC_LEASES_GRANTED, 1);
	return j.rc;
}

int queue_submit(struct db *db, struct arena *a, long long project_id, long long item_id,
    long long user_id, const char *token, const char *annotation_json, const char *classes)
{
	struct queue_job j = {
		.cj = { .kind = JOB_SUBMIT, .group = project_id }, .arena = a,
		.project_id = project_id, .user_id = user_id, .item_id = item_id,
		.token = token, .json = annotation_json, .classes = classes,
	};
	struct combine_ctx bc = { .db = db, .arena = a };

	if (annotation_json == NULL || token == NULL || classes == NULL || classes[0] != '[')
		return DB_ERR;
	if (db_in_transaction(db)) {
		/* labeld_answer_batch starts its own transaction, which would
		 * commit the caller's. */
		log_error("queue_submit: called inside a transaction");
		return DB_ERR;
	}
	pthread_once(&combiners_once, combiners_init);
	if (combine_on && token_syntax_ok(token))
		combine_submit(&submit_combiner, &j.cj, &bc);
	else
		j.rc = JOB_ALONE;
	if (j.rc == JOB_ALONE)
		j.rc = submit_single(db, a, project_id, item_id, user_id, token, annotation_json,
		    classes);
	answer_counted(j.rc, QUEUE_SUBMIT);
	return j.rc;
}

void queue_batch_stats(unsigned long long *lease_batches, unsigned long long *leases,
    unsigned long long *submit_batches, unsigned long long *submits,
    unsigned long long *submit_careful)
{
	pthread_once(&combiners_once, combiners_init);
	combine_stats(&lease_combiner, lease_batches, leases);
	combine_stats(&submit_combiner, submit_batches, submits);
	*submit_careful = __atomic_load_n(&careful_batches, __ATOMIC_RELAXED);
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
