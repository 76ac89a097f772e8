/*
 * data_view.h: what the Data tab and the item page read (docs/review.md,
 * "Data tab"): one page of a project's items under a filter, in answer
 * time order, with keyset paging (never OFFSET), and an item's history.
 * The pages are in handlers/data.c; every change is review.c's.
 */
#ifndef LABELD_DATA_VIEW_H
#define LABELD_DATA_VIEW_H

#include <stddef.h>

struct arena;
struct db;
struct labeld_box;
struct plugin;

/* Items on one page of the Data tab. */
#define DATA_PAGE_SIZE 48

/* Which page of a filter: the first, the one after or before a cursor (an
 * item's answer time and id), or the last (the reversed query's first). */
enum data_at { DATA_FIRST, DATA_AFTER, DATA_BEFORE, DATA_LAST };

/* A filter of the Data tab and the page wanted. */
struct data_query {
	long long project_id;
	const char *phase;      /* one of items.phase, or NULL: every item */
	long long label_id;     /* a class of the current answer, or 0 */
	long long labeler_id;   /* who answered last, or 0 */
	int oldest;             /* 1: oldest answer first; 0: newest first */
	enum data_at at;
	long long cur_us;       /* the cursor of DATA_AFTER / DATA_BEFORE: */
	long long cur_id;       /* microseconds since 1970 and the item id */
};

/* One page in display order: ids[0..n) with their cursors; whether pages
 * come before and after it. */
struct data_page {
	size_t n;
	long long ids[DATA_PAGE_SIZE];
	long long us[DATA_PAGE_SIZE];
	int has_prev, has_next;
};

/* Whether phase names an item phase (queued, skipped, requeued, labeled,
 * approved). */
int data_phase_valid(const char *phase);

/* Parse a cursor "<microseconds>,<id>" (digits only, id > 0); 0 and the
 * two numbers, or -1. */
int data_cursor_parse(const char *s, long long *us, long long *id);

/* Read the page q asks for into *page.  Each filter reads one index range
 * in order (the rule is in docs/review.md): items_phase, items_labeler,
 * items_time, answer_labels' primary key or answer_labels_labeler.  DB_OK
 * or DB_*. */
int data_page_read(struct db *db, struct arena *a, const struct data_query *q,
    struct data_page *page);

/* What an annotation (JSON text) holds as the task plugin's describe tells
 * it: label ids and boxes (arena-owned arrays; counts may be 0).  0, or -1
 * when the text is no JSON or the plugin cannot describe it. */
int data_describe(struct arena *a, const struct plugin *task, const char *json,
    long long **ids, size_t *nids, struct labeld_box **boxes, size_t *nboxes);

#endif
