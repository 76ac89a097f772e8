/*
 * data.c: a project's Data tab (a grid of its items, filtered and paged
 * in the URL), an item's page (its image, answer and history), and the
 * Reject and Approve forms of both.  What they read is data_view.c's;
 * every change is review.c's; who may come here is the route table's
 * (REVIEWER).  docs/review.md tells the rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "buf.h"
#include "catalog.h"
#include "data_view.h"
#include "db.h"
#include "handlers.h"
#include "http_parse.h"
#include "log.h"
#include "plugin.h"
#include "project_rules.h"
#include "request.h"
#include "response.h"
#include "review.h"
#include "session.h"

/* The most history rows an item page shows. */
#define HISTORY_SHOWN 500
#define HISTORY_LIMIT "500"
/* Box colours: label positions cycle through this many classes (CSS). */
#define BOX_COLOURS 8

static const char *const phase_names[][2] = {
	{ "queued", "Queued" }, { "skipped", "Skipped" }, { "requeued", "Rejected, requeued" },
	{ "labeled", "Waiting for review" }, { "approved", "Approved" },
};

/* ------------------------------------------------------------ helpers */

static void db_failed(struct request *r, int rc)
{
	page_db_error(r, rc, "The Data tab could not be read or changed");
}

static const char *phase_title(const char *phase)
{
	for (size_t i = 0; i < sizeof(phase_names) / sizeof(phase_names[0]); i++)
		if (phase != NULL && strcmp(phase, phase_names[i][0]) == 0)
			return phase_names[i][1];
	return phase != NULL ? phase : "";
}

/* Who someone is on these pages: admins see a display name or the email
 * address; reviewers a display name or "person #id", never an address
 * (docs/access.md). */
static const char *person(struct request *r, const char *id, const char *name, const char *email)
{
	if (id == NULL)
		return "nobody";
	if (name != NULL && name[0] != '\0')
		return name;
	if (r->session->is_admin && email != NULL)
		return email;
	return arena_printf(r->arena, "person #%s", id);
}

/* The project's labels: ids, names, positions (for names and colours). */
struct labels {
	size_t n;
	long long *ids;
	const char **names;
};

static int labels_read(struct request *r, long long project_id, struct labels *l)
{
	struct db_result *res;
	int rc = db_query(r->db, r->arena, &res,
	    "SELECT id, name FROM labels WHERE project_id = ? ORDER BY position", "i", project_id);

	if (rc != DB_OK)
		return rc;
	l->n = res->nrows;
	l->ids = arena_calloc(r->arena, l->n + 1, sizeof(*l->ids));
	l->names = arena_calloc(r->arena, l->n + 1, sizeof(*l->names));
	if (l->ids == NULL || l->names == NULL)
		return DB_ERR;
	for (size_t i = 0; i < l->n; i++) {
		l->ids[i] = db_int(res, i, 0);
		l->names[i] = db_value(res, i, 1);
	}
	return DB_OK;
}

/* The position of label id in l, or -1. */
static long label_index(const struct labels *l, long long id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->ids[i] == id)
			return (long)i;
	return -1;
}

/* A new page view of project id with its tab bar (the Data tab current)
 * and labels in *l; NULL when it answered already (no such project, the
 * database failed, out of memory). */
static struct json_object *page_start(struct request *r, long long id, const char *title,
    struct labels *l)
{
	struct json_object *v = view_new(r, title);
	int rc;

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return NULL;
	}
	rc = project_view_load(r, id, v, NULL);
	if (rc == 1) {
		page_error(r, 404, "Not found", "There is no such project.");
		return NULL;
	}
	if (rc == DB_OK)
		rc = labels_read(r, id, l);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return NULL;
	}
	json_object_object_add(v, "tabs", project_tabs_view(r, id, "data"));
	return v;
}

/* What a refused review form sends back to its page. */
struct typed {
	const char *message;
	const char *reason;
	const long long *ids;       /* the items ticked (the Data tab) */
	size_t nids;
	int all;                    /* "All on this page" was ticked */
};

/* Render `page` with v and status, with a refused form's message and
 * reason (t may be NULL) and the reason's limit. */
static void review_page_render(struct request *r, struct json_object *v, const char *page,
    int status, const struct typed *t)
{
	if (t != NULL) {
		view_str(v, "message", t->message);
		view_str(v, "reason", t->reason);
	}
	view_int(v, "reason_max", REVIEW_REASON_MAX);
	page_render(r, status, page, v);
}

/* The project's task plugin (NULL when not loaded). */
static const struct plugin *task_plugin(struct request *r, struct json_object *v)
{
	struct json_object *p = json_object_object_get(v, "project");

	return plugin_find(r->rt->plugins, LABELD_TASK,
	    json_object_get_string(json_object_object_get(p, "task")));
}

/* A number for an SVG attribute. */
static const char *svg_num(struct request *r, double d)
{
	return arena_printf(r->arena, "%.6g", d);
}

/* Add what answer `json` holds to item view o: "labels" (its class names,
 * in label order, comma separated), "boxes" [{x, y, w, h, tx, ty, name,
 * colour}] and "font" (a caption size in image pixels) for the SVG drawn
 * over the image (width x height). */
static void answer_view(struct request *r, struct json_object *o, const struct plugin *task,
    const struct labels *l, const char *json, long long width, long long height)
{
	double side = (double)(width > height ? width : height);
	struct labeld_box *boxes;
	long long *ids;
	size_t nids, nboxes;
	struct buf names;
	struct json_object *list;
	char *has;

	if (json == NULL)
		return;
	if (data_describe(r->arena, task, json, &ids, &nids, &boxes, &nboxes) < 0) {
		view_str(o, "labels", task == NULL ? "(the task plugin is not loaded)" :
		    "(the task plugin cannot read this answer)");
		return;
	}
	/* Which classes the answer uses, by label position. */
	if ((has = arena_calloc(r->arena, l->n + 1, 1)) == NULL)
		return;
	for (size_t i = 0; i < nids; i++)
		if (label_index(l, ids[i]) >= 0)
			has[label_index(l, ids[i])] = 1;
	list = json_object_new_array();
	for (size_t i = 0; i < nboxes; i++) {
		struct json_object *b = json_object_new_object();
		long k = label_index(l, boxes[i].label_id);
		if (k >= 0)
			has[k] = 1;
		view_str(b, "x", svg_num(r, boxes[i].x));
		view_str(b, "y", svg_num(r, boxes[i].y));
		view_str(b, "w", svg_num(r, boxes[i].width));
		view_str(b, "h", svg_num(r, boxes[i].height));
		view_str(b, "tx", svg_num(r, boxes[i].x + side / 120));
		view_str(b, "ty", svg_num(r, boxes[i].y + side / 28));
		view_str(b, "name", k >= 0 ? l->names[k] : "?");
		view_int(b, "colour", k >= 0 ? k % BOX_COLOURS : 0);
		json_object_array_add(list, b);
	}
	if (nboxes > 0) {
		view_str(o, "font", svg_num(r, side / 32));
		json_object_object_add(o, "boxes", list);
	} else {
		json_object_put(list);
	}
	buf_init(&names, r->arena);
	for (size_t k = 0; k < l->n; k++)
		if (has[k])
			buf_printf(&names, "%s%s", names.len > 0 ? ", " : "", l->names[k]);
	if (!names.failed)
		view_str(o, "labels", names.len > 0 ? names.data : "nothing (no objects)");
}

/* ------------------------------------------------------------ the view's URL */

/* A Data tab filter as the URL gives it (checked). */
struct filter {
	const char *state;       /* NULL: all */
	long long label_id, labeler_id;
	int oldest;
	/* What was wrong (the first bad parameter) and which. */
	const char *bad_param, *bad_message;
};

/* The URL of the Data tab of project id with filter f and the page part
 * `page` ("after=...", "before=...", "last=1" or NULL). */
static const char *view_url(struct request *r, long long id, const struct filter *f,
    const char *page)
{
	struct buf b;
	char sep = '?';

	buf_init(&b, r->arena);
	buf_printf(&b, "/projects/%lld/data", id);
	if (f->state != NULL) {
		buf_printf(&b, "%cstate=%s", sep, f->state);
		sep = '&';
	}
	if (f->label_id > 0) {
		buf_printf(&b, "%cclass=%lld", sep, f->label_id);
		sep = '&';
	}
	if (f->labeler_id > 0) {
		buf_printf(&b, "%clabeler=%lld", sep, f->labeler_id);
		sep = '&';
	}
	if (f->oldest) {
		buf_printf(&b, "%csort=old", sep);
		sep = '&';
	}
	if (page != NULL)
		buf_printf(&b, "%c%s", sep, page);
	return b.failed ? "/" : b.data;
}

/* Set the first bad parameter of f. */
static void filter_bad(struct filter *f, const char *param, const char *message)
{
	if (f->bad_param == NULL) {
		f->bad_param = param;
		f->bad_message = message;
	}
}

/* Read the filter and page of query q into f and dq; a bad value is left
 * out of both (and named in f->bad_*), so links keep the others. */
static void filter_read(const struct hp_form *q, const struct labels *l, struct filter *f,
    struct data_query *dq)
{
	const char *state = hp_form_get(q, "state"), *cls = hp_form_get(q, "class");
	const char *labeler = hp_form_get(q, "labeler"), *sort = hp_form_get(q, "sort");
	const char *after = hp_form_get(q, "after"), *before = hp_form_get(q, "before");
	const char *last = hp_form_get(q, "last");

	memset(f, 0, sizeof(*f));
	dq->at = DATA_FIRST;
	if (state != NULL && state[0] != '\0' && strcmp(state, "all") != 0) {
		if (data_phase_valid(state))
			f->state = state;
		else
			filter_bad(f, "state", "state must be one of all, queued, skipped, requeued, "
			    "labeled or approved.");
	}
	if (cls != NULL && cls[0] != '\0') {
		f->label_id = catalog_parse_id(cls);
		if (f->label_id == 0)
			filter_bad(f, "class", "class must be the number of one of the project's classes.");
		else if (label_index(l, f->label_id) < 0) {
			f->label_id = 0;
			filter_bad(f, "class", "class names no class of this project.");
		}
	}
	if (labeler != NULL && labeler[0] != '\0') {
		f->labeler_id = catalog_parse_id(labeler);
		if (f->labeler_id == 0)
			filter_bad(f, "labeler", "labeler must be the number of a person.");
	}
	if (sort != NULL && sort[0] != '\0' && strcmp(sort, "new") != 0) {
		if (strcmp(sort, "old") == 0)
			f->oldest = 1;
		else
			filter_bad(f, "sort", "sort must be new (newest answer first) or old.");
	}
	if ((after != NULL) + (before != NULL) + (last != NULL) > 1) {
		filter_bad(f, after != NULL ? "after" : "before",
		    "Give at most one of after, before and last.");
	} else if (after != NULL || before != NULL) {
		if (data_cursor_parse(after != NULL ? after : before, &dq->cur_us, &dq->cur_id) < 0)
			filter_bad(f, after != NULL ? "after" : "before", "A page cursor must be "
			    "<microseconds>,<item id>, as the page links give it.");
		else
			dq->at = after != NULL ? DATA_AFTER : DATA_BEFORE;
	} else if (last != NULL) {
		if (strcmp(last, "1") == 0)
			dq->at = DATA_LAST;
		else
			filter_bad(f, "last", "last must be 1.");
	}
}

/* ------------------------------------------------------------ the Data tab */

/* The select lists of the filter form: states, classes, labelers. */
static int filter_view(struct request *r, long long id, const struct filter *f,
    const struct labels *l, struct json_object *v)
{
	struct json_object *states = json_object_new_array(), *classes, *people;
	struct db_result *res;
	int rc;

	for (size_t i = 0; i < sizeof(phase_names) / sizeof(phase_names[0]); i++) {
		struct json_object *o = json_object_new_object();
		view_str(o, "value", phase_names[i][0]);
		view_str(o, "title", phase_names[i][1]);
		view_bool(o, "selected", f->state != NULL && strcmp(f->state, phase_names[i][0]) == 0);
		json_object_array_add(states, o);
	}
	json_object_object_add(v, "states", states);
	classes = json_object_new_array();
	for (size_t i = 0; i < l->n; i++) {
		struct json_object *o = json_object_new_object();
		view_int(o, "id", l->ids[i]);
		view_str(o, "name", l->names[i]);
		view_bool(o, "selected", f->label_id == l->ids[i]);
		json_object_array_add(classes, o);
	}
	json_object_object_add(v, "classes", classes);
	/* The project's labelers: everyone with a labeler_days row (one
	 * index range of the primary key, grouped). */
	rc = db_query(r->db, r->arena, &res,
	    "SELECT u.id, u.display_name, u.email FROM (SELECT user_id FROM labeler_days "
	    "WHERE project_id = ? GROUP BY user_id) d JOIN users u ON u.id = d.user_id "
	    "ORDER BY COALESCE(NULLIF(u.display_name, ''), u.email), u.id", "i", id);
	if (rc != DB_OK)
		return rc;
	people = json_object_new_array();
	for (size_t i = 0; i < res->nrows; i++) {
		struct json_object *o = json_object_new_object();
		view_int(o, "id", db_int(res, i, 0));
		view_str(o, "name", person(r, db_value(res, i, 0), db_value(res, i, 1), db_value(res, i, 2)));
		view_bool(o, "selected", f->labeler_id == db_int(res, i, 0));
		json_object_array_add(people, o);
	}
	json_object_object_add(v, "labelers", people);
	view_bool(v, "sort_old", f->oldest);
	return DB_OK;
}

/* The ids as a JSON array ("[1,2]"). */
static const char *ids_json(struct request *r, const long long *ids, size_t n)
{
	struct buf b;

	buf_init(&b, r->arena);
	buf_addc(&b, '[');
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%lld", i > 0 ? "," : "", ids[i]);
	buf_addc(&b, ']');
	return b.failed ? NULL : b.data;
}

/* The grid: one view per item of page pg, in its order. */
static int grid_view(struct request *r, long long id, const struct data_page *pg,
    const struct labels *l, const struct plugin *task, const char *back, const struct typed *t,
    struct json_object *v)
{
	struct json_object *items = json_object_new_array();
	struct db_result *res;
	const char *list = ids_json(r, pg->ids, pg->n);
	int rc;

	json_object_object_add(v, "items", items);
	if (pg->n == 0)
		return DB_OK;
	if (list == NULL)
		return DB_ERR;
	rc = db_query(r->db, r->arena, &res,
	    "SELECT i.id, i.width, i.height, i.phase, i.labeled_by, u.display_name, u.email, "
	    "IF(i.answered_at > TIMESTAMP'1970-01-01 00:00:00', "
	    "DATE_FORMAT(i.answered_at, '%Y-%m-%d %H:%i'), NULL), a.data "
	    "FROM JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) j "
	    "STRAIGHT_JOIN items i ON i.id = j.id "
	    "LEFT JOIN users u ON u.id = i.labeled_by "
	    "LEFT JOIN annotations a ON a.item_id = i.id AND a.is_current = 1 "
	    "AND a.withdrawn_seq IS NULL WHERE i.project_id = ?", "si", list, id);
	if (rc != DB_OK)
		return rc;
	for (size_t k = 0; k < pg->n; k++) {
		size_t row;
		for (row = 0; row < res->nrows && db_int(res, row, 0) != pg->ids[k]; row++)
			;
		if (row == res->nrows)
			continue;   /* deleted since the page was read */
		struct json_object *o = json_object_new_object();
		long long w = db_int(res, row, 1), h = db_int(res, row, 2);
		view_int(o, "id", pg->ids[k]);
		view_int(o, "project_id", id);
		view_int(o, "width", w);
		view_int(o, "height", h);
		view_str(o, "phase", db_value(res, row, 3));
		view_str(o, "phase_text", phase_title(db_value(res, row, 3)));
		if (db_value(res, row, 7) != NULL) {
			view_str(o, "labeler", person(r, db_value(res, row, 4), db_value(res, row, 5),
			    db_value(res, row, 6)));
			view_str(o, "when", db_value(res, row, 7));
		}
		view_str(o, "back", back);
		for (size_t s = 0; t != NULL && s < t->nids; s++)
			if (t->ids[s] == pg->ids[k])
				view_bool(o, "checked", 1);
		answer_view(r, o, task, l, db_value(res, row, 8), w, h);
		json_object_array_add(items, o);
	}
	return DB_OK;
}

/* Render the Data tab of project id for query q (the request's, or a
 * refused form's `back`) with status (400 when q has a bad parameter). */
static void data_render(struct request *r, long long id, const struct hp_form *q, int status,
    const struct typed *t)
{
	struct json_object *v;
	const struct plugin *task;
	const char *back, *notice;
	struct data_query dq = { .project_id = id };
	struct data_page pg;
	struct filter f;
	struct labels l;
	int rc;

	if ((v = page_start(r, id, "Data", &l)) == NULL)
		return;
	task = task_plugin(r, v);
	filter_read(q, &l, &f, &dq);
	if ((rc = filter_view(r, id, &f, &l, v)) != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if (f.bad_param != NULL) {
		/* The view without the bad parameter keeps the others. */
		view_str(v, "bad", arena_printf(r->arena, "The parameter \u201c%s\u201d is not valid: %s",
		    f.bad_param, f.bad_message));
		view_str(v, "bad_param", f.bad_param);
		view_str(v, "fixed_href", view_url(r, id, &f, NULL));
		page_render(r, 400, "project_data", v);
		return;
	}
	dq.phase = f.state;
	dq.label_id = f.label_id;
	dq.labeler_id = f.labeler_id;
	dq.oldest = f.oldest;
	if ((rc = data_page_read(r->db, r->arena, &dq, &pg)) != DB_OK) {
		db_failed(r, rc);
		return;
	}
	/* This view, to come back to after a review and from an item page. */
	back = view_url(r, id, &f, dq.at == DATA_AFTER ?
	    arena_printf(r->arena, "after=%lld,%lld", dq.cur_us, dq.cur_id) : dq.at == DATA_BEFORE ?
	    arena_printf(r->arena, "before=%lld,%lld", dq.cur_us, dq.cur_id) :
	    dq.at == DATA_LAST ? "last=1" : NULL);
	if ((rc = grid_view(r, id, &pg, &l, task, back, t, v)) != DB_OK) {
		db_failed(r, rc);
		return;
	}
	view_str(v, "back", back);
	view_bool(v, "all_checked", t != NULL && t->all);
	view_bool(v, "has_items", pg.n > 0);
	view_bool(v, "filtered", f.state != NULL || f.label_id > 0 || f.labeler_id > 0);
	view_bool(v, "paged", dq.at != DATA_FIRST);
	view_int(v, "page_size", DATA_PAGE_SIZE);
	if (pg.has_prev) {
		view_str(v, "first_href", view_url(r, id, &f, NULL));
		if (pg.n > 0)
			view_str(v, "prev_href", view_url(r, id, &f, arena_printf(r->arena,
			    "before=%lld,%lld", pg.us[0], pg.ids[0])));
	}
	if (pg.has_next) {
		view_str(v, "last_href", view_url(r, id, &f, "last=1"));
		if (pg.n > 0)
			view_str(v, "next_href", view_url(r, id, &f, arena_printf(r->arena,
			    "after=%lld,%lld", pg.us[pg.n - 1], pg.ids[pg.n - 1])));
	}
	view_bool(v, "pager", pg.has_prev || pg.has_next);
	/* After a review: how many answers it changed. */
	for (int k = 0; k < 2; k++) {
		const char *verb = k == 0 ? "rejected" : "approved";
		if ((notice = hp_form_get(q, verb)) == NULL)
			continue;
		if (strcmp(notice, "0") == 0)
			view_str(v, "notice", "Nothing changed: the selected items had no answer to review.");
		else if (catalog_parse_id(notice) > 0)
			view_str(v, "notice", arena_printf(r->arena, "%s answer%s %s.", notice,
			    strcmp(notice, "1") == 0 ? "" : "s", k == 0 ?
			    "rejected: the items are back in the queue" : "approved"));
	}
	review_page_render(r, v, "project_data", status, t);
}

void handle_project_data(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));

	if (id == 0) {
		page_error(r, 404, "Not found", "There is no such project.");
		return;
	}
	data_render(r, id, &r->query_form, 200, NULL);
}

/* ------------------------------------------------------------ reviews */

/* `back` when it is a view of project id's Data tab (a local path, so the
 * redirect stays on labeld), else the plain Data tab. */
static const char *data_back(struct request *r, long long id, const char *back)
{
	const char *base = arena_printf(r->arena, "/projects/%lld/data", id);
	size_t n = base != NULL ? strlen(base) : 0;

	if (base == NULL)
		return "/projects";
	if (back == NULL || strncmp(back, base, n) != 0 || (back[n] != '\0' && back[n] != '?'))
		return base;
	for (const unsigned char *p = (const unsigned char *)back; *p; p++)
		if (*p < 0x21 || *p >= 0x7f || *p == '#')
			return base;   /* links carry no spaces, controls or fragments */
	return back;
}

/* The reason field, trimmed ("" for none); NULL with *problem set when
 * it is refused. */
static const char *reason_read(struct request *r, const char **problem)
{
	const char *reason = NULL, *t;
	size_t len = 0;
	long chars;

	*problem = NULL;
	for (size_t i = 0; i < r->form.nfields && reason == NULL; i++)
		if (strcmp(r->form.fields[i].name, "reason") == 0) {
			reason = r->form.fields[i].value;
			len = r->form.fields[i].value_len;
		}
	if (reason == NULL)
		return "";
	chars = strlen(reason) == len ? rules_utf8_count(reason, len) : -2;
	if (chars == -2)
		*problem = "The reason may not contain NUL bytes.";
	else if (chars < 0)
		*problem = "The reason is not valid UTF-8 text.";
	else if (chars > REVIEW_REASON_MAX)
		*problem = arena_printf(r->arena, "The reason is %ld characters long; at most %d are "
		    "kept. Shorten it.", chars, REVIEW_REASON_MAX);
	if (*problem != NULL)
		return NULL;
	t = rules_trim(reason, len, &len);
	return arena_strndup(r->arena, t, len);
}

/* Run the review: action "reject" (with reason) or "approve" on ids.
 * DB_OK with *done, or DB_*. */
static int review_run(struct request *r, long long id, const char *action, const long long *ids,
    size_t n, const char *reason, size_t *done)
{
	int rc;

	if (strcmp(action, "reject") == 0)
		rc = review_reject(r->db, r->arena, id, r->session->user_id, ids, n, reason, NULL, done);
	else
		rc = review_approve(r->db, r->arena, id, r->session->user_id, ids, n, NULL, done);
	if (rc == DB_OK)
		log_info("project %lld: %s %zu of %zu answers by %s", id,
		    strcmp(action, "reject") == 0 ? "rejected" : "approved", *done, n, r->session->email);
	return rc;
}

/* The query part of path (after '?') as a form; an empty form when there
 * is none or it does not parse. */
static void back_query(struct request *r, const char *path, struct hp_form *q)
{
	const char *qs = strchr(path, '?');
	struct hp_limits lim;
	const char *msg;

	memset(q, 0, sizeof(*q));
	hp_limits_default(&lim);
	if (qs != NULL && hp_parse_urlencoded(r->arena, qs + 1, strlen(qs + 1), &lim, q, &msg) != HP_OK)
		memset(q, 0, sizeof(*q));
}

/* POST /projects/:id/data/review: the selected items (item, repeated; with
 * all=1 also every item of the page, the page's `page` fields), action
 * reject or approve, reason, back.  Action "choose" is the form's hidden
 * default button (Enter on a checkbox): it does neither, and the page
 * comes back as it was. */
void handle_data_review(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	const char *action = req_form(r, "action"), *all = req_form(r, "all");
	const char *back = data_back(r, id, req_form(r, "back"));
	const char *reason, *problem;
	struct typed t = { 0 };
	struct hp_form q;
	long long *ids;
	size_t n = 0, done = 0;
	int rc;

	if (id == 0) {
		page_error(r, 404, "Not found", "There is no such project.");
		return;
	}
	if (action == NULL || (strcmp(action, "reject") != 0 && strcmp(action, "approve") != 0 &&
	    strcmp(action, "choose") != 0)) {
		page_error(r, 400, "Bad request", "The parameter \u201caction\u201d must be reject "
		    "or approve.");
		return;
	}
	/* ids: the ticked items first (t.ids), then the page's with all=1. */
	ids = arena_calloc(r->arena, r->form.nfields + 1, sizeof(*ids));
	if (ids == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	t.all = all != NULL && strcmp(all, "1") == 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < r->form.nfields; i++) {
			const struct hp_field *fl = &r->form.fields[i];
			if (strcmp(fl->name, pass == 0 ? "item" : "page") != 0 || (pass == 1 && !t.all))
				continue;
			if ((ids[n++] = catalog_parse_id(fl->value)) == 0) {
				page_error(r, 400, "Bad request", arena_printf(r->arena, "The parameter "
				    "\u201c%s\u201d must be an item number.", fl->name));
				return;
			}
		}
		if (pass == 0)
			t.nids = n;
	}
	t.ids = ids;
	reason = reason_read(r, &problem);
	t.reason = req_form(r, "reason");
	back_query(r, back, &q);
	if (strcmp(action, "choose") == 0)
		problem = "Choose Reject selected or Approve selected: Enter alone does neither.";
	if (problem != NULL || n == 0) {
		t.message = problem != NULL ? problem : arena_printf(r->arena, "Select the items to %s "
		    "first (their checkboxes, or \u201cAll on this page\u201d).", action);
		data_render(r, id, &q, 422, &t);
		return;
	}
	rc = review_run(r, id, action, ids, n, reason, &done);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	resp_redirect(r, 303, arena_printf(r->arena, "%s%c%s=%zu", back,
	    strchr(back, '?') != NULL ? '&' : '?',
	    strcmp(action, "reject") == 0 ? "rejected" : "approved", done));
}

/* ------------------------------------------------------------ an item's page */

/* The history of item item_id: item_events (but 'labeled', which the
 * annotations tell better) and the annotations, by time; [{when, what,
 * who, reason, detail, state}]. */
static int history_view(struct request *r, long long item_id, const struct plugin *task,
    const struct labels *l, struct json_object *v)
{
	static const char *const kinds[][2] = {
		{ "leased", "Given to a labeler" }, { "skipped", "Skipped" },
		{ "released", "Returned unanswered" }, { "rejected", "Rejected" },
		{ "approved", "Approved" }, { "review_skipped", "Skipped in review" },
	};
	struct json_object *list = json_object_new_array();
	struct db_result *res;
	int rc;

	json_object_object_add(v, "history", list);
	rc = db_query(r->db, r->arena, &res,
	    "SELECT DATE_FORMAT(h.t, '%Y-%m-%d %H:%i:%s'), h.kind, h.user_id, u.display_name, "
	    "u.email, h.reason, h.relabel, h.withdrawn, h.approved, h.data FROM ("
	    "SELECT e.created_at AS t, 1 AS src, e.id AS o, e.kind AS kind, e.user_id AS user_id, "
	    "e.reason AS reason, 0 AS relabel, 0 AS withdrawn, 0 AS approved, NULL AS data "
	    "FROM item_events e WHERE e.item_id = ? AND e.kind <> 'labeled' "
	    "UNION ALL SELECT a.created_at, 0, a.id, 'answered', a.labeler_id, NULL, a.relabel, "
	    "a.withdrawn_seq IS NOT NULL, a.approved_seq IS NOT NULL, a.data "
	    "FROM annotations a WHERE a.item_id = ?) h LEFT JOIN users u ON u.id = h.user_id "
	    "ORDER BY h.t, h.src, h.o LIMIT " HISTORY_LIMIT, "ii", item_id, item_id);
	if (rc != DB_OK)
		return rc;
	for (size_t i = 0; i < res->nrows; i++) {
		struct json_object *o = json_object_new_object();
		const char *kind = db_value(res, i, 1), *what = kind;
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (strcmp(kind, kinds[k][0]) == 0)
				what = kinds[k][1];
		if (strcmp(kind, "answered") == 0) {
			what = db_int(res, i, 6) ? "Relabeled" : "Answered";
			answer_view(r, o, task, l, db_value(res, i, 9), 1, 1);
			json_object_object_del(o, "boxes");
			json_object_object_del(o, "font");
			if (db_int(res, i, 7))
				view_str(o, "state", "withdrawn");
			else if (db_int(res, i, 8))
				view_str(o, "state", "approved");
			else
				view_str(o, "state", "current");
		}
		view_str(o, "kind", kind);
		view_str(o, "when", db_value(res, i, 0));
		view_str(o, "what", what);
		view_str(o, "who", person(r, db_value(res, i, 2), db_value(res, i, 3), db_value(res, i, 4)));
		view_str(o, "reason", db_value(res, i, 5));
		json_object_array_add(list, o);
	}
	view_bool(v, "history_cut", res->nrows == HISTORY_SHOWN);
	return DB_OK;
}

/* Whether the item query (status rc, result res) found the item; if not,
 * the answer is made (404, or the database's failure). */
static int item_found(struct request *r, int rc, const struct db_result *res)
{
	if (rc != DB_OK)
		db_failed(r, rc);
	else if (res->nrows == 0)
		page_error(r, 404, "Not found", "There is no such item in this project.");
	return rc == DB_OK && res->nrows > 0;
}

/* Render item item_id's page with status; t (may be NULL) brings back a
 * refused form. */
static void item_render(struct request *r, long long id, long long item_id, int status,
    const struct typed *t)
{
	struct json_object *v, *it;
	const char *back = req_query(r, "back"), *done = req_query(r, "done");
	const struct plugin *task;
	struct db_result *res;
	struct labels l;
	int rc;

	if (back == NULL)
		back = req_form(r, "back");
	if ((v = page_start(r, id, "Item", &l)) == NULL)
		return;
	rc = db_query(r->db, r->arena, &res,
		    "SELECT i.width, i.height, i.phase, i.labeled_by, u.display_name, u.email, "
		    "IF(i.answered_at > TIMESTAMP'1970-01-01 00:00:00', "
		    "DATE_FORMAT(i.answered_at, '%Y-%m-%d %H:%i:%s'), NULL), a.data, i.path "
		    "FROM items i LEFT JOIN users u ON u.id = i.labeled_by "
		    "LEFT JOIN annotations a ON a.item_id = i.id AND a.is_current = 1 "
		    "AND a.withdrawn_seq IS NULL WHERE i.id = ? AND i.project_id = ? LIMIT 1",
		    "ii", item_id, id);
	if (!item_found(r, rc, res))
		return;
	task = task_plugin(r, v);
	it = json_object_new_object();
	view_int(it, "id", item_id);
	view_int(it, "width", db_int(res, 0, 0));
	view_int(it, "height", db_int(res, 0, 1));
	view_str(it, "phase", db_value(res, 0, 2));
	view_str(it, "phase_text", phase_title(db_value(res, 0, 2)));
	view_bool(it, "answered", strcmp(db_value(res, 0, 2), "labeled") == 0 ||
	    strcmp(db_value(res, 0, 2), "approved") == 0);
	view_bool(it, "can_approve", strcmp(db_value(res, 0, 2), "labeled") == 0);
	if (db_value(res, 0, 6) != NULL) {
		view_str(it, "labeler", person(r, db_value(res, 0, 3), db_value(res, 0, 4),
		    db_value(res, 0, 5)));
		view_str(it, "when", db_value(res, 0, 6));
	}
	if (r->session->is_admin)
		view_str(it, "path", db_value(res, 0, 8));
	answer_view(r, it, task, &l, db_value(res, 0, 7), db_int(res, 0, 0), db_int(res, 0, 1));
	json_object_object_add(v, "item", it);
	json_object_object_add(v, "title", json_object_new_string(
	    arena_printf(r->arena, "Item %lld", item_id)));
	if ((rc = history_view(r, item_id, task, &l, v)) != DB_OK) {
		db_failed(r, rc);
		return;
	}
	back = data_back(r, id, back);
	view_str(v, "back", back);
	if (done != NULL && strcmp(done, "rejected") == 0)
		view_str(v, "notice", "The answer was rejected: the item is back in the queue.");
	else if (done != NULL && strcmp(done, "approved") == 0)
		view_str(v, "notice", "The answer was approved.");
	else if (done != NULL && strcmp(done, "none") == 0)
		view_str(v, "notice", "Nothing changed: the item has no answer waiting for this review.");
	review_page_render(r, v, "item", status, t);
}

void handle_item_page(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	long long item_id = catalog_parse_id(route_param(&r->params, "item"));

	if (id == 0 || item_id == 0) {
		page_error(r, 404, "Not found", "There is no such item in this project.");
		return;
	}
	item_render(r, id, item_id, 200, NULL);
}

/* POST /projects/:id/items/:item/review: action reject (reason) or
 * approve; back to the item's page. */
void handle_item_review(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	long long item_id = catalog_parse_id(route_param(&r->params, "item"));
	const char *action = req_form(r, "action"), *reason, *problem;
	const char *back = data_back(r, id, req_form(r, "back"));
	struct typed t = { 0 };
	struct db_result *res;
	struct buf to;
	size_t done = 0;
	int rc;

	if (id == 0 || item_id == 0) {
		page_error(r, 404, "Not found", "There is no such item in this project.");
		return;
	}
	rc = db_query(r->db, r->arena, &res, "SELECT 1 FROM items WHERE id = ? AND project_id = ?",
	    "ii", item_id, id);
	if (!item_found(r, rc, res))
		return;
	if (action == NULL || (strcmp(action, "reject") != 0 && strcmp(action, "approve") != 0)) {
		page_error(r, 400, "Bad request", "The parameter \u201caction\u201d must be reject "
		    "or approve.");
		return;
	}
	reason = reason_read(r, &problem);
	if (problem != NULL) {
		t.message = problem;
		t.reason = req_form(r, "reason");
		item_render(r, id, item_id, 422, &t);
		return;
	}
	rc = review_run(r, id, action, &item_id, 1, reason, &done);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	buf_init(&to, r->arena);
	buf_printf(&to, "/projects/%lld/items/%lld?done=%s&back=", id, item_id, done == 0 ? "none" :
	    strcmp(action, "reject") == 0 ? "rejected" : "approved");
	buf_add_url(&to, back, strlen(back));
	resp_redirect(r, 303, to.failed ? "/projects" : to.data);
}
