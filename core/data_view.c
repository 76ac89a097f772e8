/*
 * data_view.c: the Data tab's pages and the describe of a stored answer
 * (data_view.h).
 *
 * Every filter is one range of one index whose last two columns are
 * (answered_at, id), read in that order or backwards, LIMIT one more than
 * a page; a cursor narrows the range, so the last page (the reversed
 * query's first) costs what the first does, and no page counts or skips
 * rows (docs/review.md, "Data tab").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "arena.h"
#include "buf.h"
#include "data_view.h"
#include "db.h"
#include "host.h"
#include "plugin.h"

/* Answer times travel as microseconds since this instant (DATETIME has no
 * time zone, so neither does the number). */
#define EPOCH "TIMESTAMP'1970-01-01 00:00:00'"

int data_phase_valid(const char *phase)
{
	static const char *const phases[] = { "queued", "skipped", "requeued", "labeled", "approved" };

	for (size_t i = 0; phase != NULL && i < sizeof(phases) / sizeof(phases[0]); i++)
		if (strcmp(phase, phases[i]) == 0)
			return 1;
	return 0;
}

/* s[0..n) as a number of 1..18 digits; -1 when it is not one. */
static long long digits(const char *s, size_t n)
{
	long long v = 0;

	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int data_cursor_parse(const char *s, long long *us, long long *id)
{
	const char *comma = s != NULL ? strchr(s, ',') : NULL;

	if (comma == NULL)
		return -1;
	*us = digits(s, (size_t)(comma - s));
	*id = digits(comma + 1, strlen(comma + 1));
	return *us >= 0 && *id > 0 ? 0 : -1;
}

/* The query of one filter, built from fixed pieces (no value of the
 * request is ever part of the text): the table and index, the time and id
 * columns, and the conditions with their parameters (all integers). */
struct range {
	struct buf sql;
	long long args[8];
	size_t nargs;
	const char *t, *id;     /* "x.answered_at", "x.id" or "x.item_id" */
};

static void arg(struct range *g, long long v)
{
	if (g->nargs < sizeof(g->args) / sizeof(g->args[0]))
		g->args[g->nargs++] = v;
}

/* SELECT <cols> (NULL: the cursor, answer time in microseconds and id)
 * FROM <the filter's index range> WHERE <its key prefix> [AND the residual
 * phase]: which index serves which filter is the rule of docs/review.md. */
static void range_begin(struct range *g, struct arena *a, const struct data_query *q,
    const char *cols)
{
	buf_init(&g->sql, a);
	g->nargs = 0;
	g->t = "x.answered_at";
	g->id = q->label_id > 0 ? "x.item_id" : "x.id";
	if (cols == NULL)
		cols = arena_printf(a, "TIMESTAMPDIFF(MICROSECOND, " EPOCH ", %s), %s", g->t, g->id);
	if (cols == NULL) {
		g->sql.failed = 1;
		return;
	}
	if (q->label_id > 0) {
		buf_printf(&g->sql, "SELECT %s FROM answer_labels x FORCE INDEX (%s)", cols,
		    q->labeler_id > 0 ? "answer_labels_labeler" : "PRIMARY");
		if (q->phase != NULL)
			buf_printf(&g->sql, " STRAIGHT_JOIN items i ON i.id = x.item_id");
		buf_printf(&g->sql, " WHERE x.project_id = ? AND x.label_id = ?");
		arg(g, q->project_id);
		arg(g, q->label_id);
		if (q->labeler_id > 0) {
			buf_printf(&g->sql, " AND x.labeled_by = ?");
			arg(g, q->labeler_id);
		}
		if (q->phase != NULL)
			buf_printf(&g->sql, " AND i.phase = '%s'", q->phase);
		return;
	}
	buf_printf(&g->sql, "SELECT %s FROM items x FORCE INDEX (%s) WHERE x.project_id = ?", cols,
	    q->labeler_id > 0 ? "items_labeler" : q->phase != NULL ? "items_phase" : "items_time");
	arg(g, q->project_id);
	if (q->labeler_id > 0) {
		buf_printf(&g->sql, " AND x.labeled_by = ?");
		arg(g, q->labeler_id);
	}
	/* A phase is a checked constant (data_phase_valid): as a literal the
	 * plan of a cached statement is that of its phase. */
	if (q->phase != NULL)
		buf_printf(&g->sql, " AND x.phase = '%s'", q->phase);
}

/* AND rows strictly after (us, id) in ascending order (asc) or strictly
 * before it (!asc). */
static void range_cursor(struct range *g, int asc, long long us, long long id)
{
	const char *op = asc ? ">" : "<";

	buf_printf(&g->sql, " AND (%s %s " EPOCH " + INTERVAL ? MICROSECOND OR (%s = " EPOCH
	    " + INTERVAL ? MICROSECOND AND %s %s ?))", g->t, op, g->t, g->id, op);
	arg(g, us);
	arg(g, us);
	arg(g, id);
}

/* ORDER BY the time and the id, ascending or descending, LIMIT n. */
static void range_order(struct range *g, int asc, size_t n)
{
	const char *d = asc ? "" : " DESC";

	buf_printf(&g->sql, " ORDER BY %s%s, %s%s LIMIT %zu", g->t, d, g->id, d, n);
}

static int range_run(struct db *db, struct arena *a, struct range *g, struct db_result **res)
{
	char fmt[sizeof(g->args) / sizeof(g->args[0]) + 1];
	const long long *v = g->args;

	if (g->sql.failed)
		return DB_ERR;
	memset(fmt, 'i', g->nargs);
	fmt[g->nargs] = '\0';
	/* Arguments past the format's are not read. */
	return db_query(db, a, res, g->sql.data, fmt, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
}

/* Whether any row of q's filter lies beyond (us, id): after it in
 * ascending order (asc), else before it.  1, 0, or DB_*. */
static int beyond(struct db *db, struct arena *a, const struct data_query *q, int asc,
    long long us, long long id)
{
	struct range g;
	struct db_result *res;
	int rc;

	range_begin(&g, a, q, "1");
	range_cursor(&g, asc, us, id);
	buf_printf(&g.sql, " LIMIT 1");
	rc = range_run(db, a, &g, &res);
	return rc != DB_OK ? rc : res->nrows > 0;
}

int data_page_read(struct db *db, struct arena *a, const struct data_query *q,
    struct data_page *page)
{
	/* The display order is ascending for oldest first; a page before a
	 * cursor, and the last page, read the other way and turn round. */
	int display_asc = q->oldest != 0;
	int backwards = q->at == DATA_BEFORE || q->at == DATA_LAST;
	int asc = backwards ? !display_asc : display_asc;
	struct range g;
	struct db_result *res;
	size_t n;
	int rc;

	memset(page, 0, sizeof(*page));
	range_begin(&g, a, q, NULL);
	if (q->at == DATA_AFTER || q->at == DATA_BEFORE)
		range_cursor(&g, asc, q->cur_us, q->cur_id);
	range_order(&g, asc, DATA_PAGE_SIZE + 1);
	if ((rc = range_run(db, a, &g, &res)) != DB_OK)
		return rc;
	n = res->nrows > DATA_PAGE_SIZE ? DATA_PAGE_SIZE : res->nrows;
	for (size_t i = 0; i < n; i++) {
		size_t k = backwards ? n - 1 - i : i;
		page->us[k] = db_int(res, i, 0);
		page->ids[k] = db_int(res, i, 1);
	}
	page->n = n;
	if (backwards)
		page->has_prev = res->nrows > DATA_PAGE_SIZE;
	else
		page->has_next = res->nrows > DATA_PAGE_SIZE;
	if (n == 0) {
		/* Past the end (its rows were deleted meanwhile), or nothing
		 * at all: First and Last lead back when a cursor was given. */
		page->has_prev = page->has_next = q->at == DATA_AFTER || q->at == DATA_BEFORE;
		return DB_OK;
	}
	/* The other side: is there a row before the first shown (after the
	 * last shown)?  One index probe. */
	if (q->at == DATA_AFTER) {
		rc = beyond(db, a, q, !display_asc, page->us[0], page->ids[0]);
		page->has_prev = rc == 1;
	} else if (q->at == DATA_BEFORE) {
		rc = beyond(db, a, q, display_asc, page->us[n - 1], page->ids[n - 1]);
		page->has_next = rc == 1;
	} else {
		rc = 0;
	}
	return rc < 0 ? rc : DB_OK;
}

int data_describe(struct arena *a, const struct plugin *task, const char *json,
    long long **ids, size_t *nids, struct labeld_box **boxes, size_t *nboxes)
{
	struct labeld_ctx ctx = { .arena = a };
	struct json_object *ann;
	int64_t *v = NULL;
	const char *error = NULL;
	int rc;

	*ids = NULL;
	*boxes = NULL;
	*nids = *nboxes = 0;
	if (task == NULL || json == NULL || (ann = json_tokener_parse(json)) == NULL)
		return -1;
	rc = task->desc->task->describe(&ctx, ann, &v, nids, boxes, nboxes, &error);
	json_object_put(ann);
	if (rc != 0)
		return -1;
	if (v == NULL)
		*nids = 0;
	if (*boxes == NULL)
		*nboxes = 0;
	*ids = arena_calloc(a, *nids + 1, sizeof(**ids));
	if (*ids == NULL)
		return -1;
	for (size_t i = 0; i < *nids; i++)
		(*ids)[i] = (long long)v[i];
	return 0;
}
