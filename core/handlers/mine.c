/*
 * mine.c: a labeler's own recent answers: Back (the labeling page's
 * button and key Z), My answers, and the editor that changes one of them
 * while nobody has reviewed it (docs/review.md, "A labeler's own
 * answers").  The change itself is review_relabel (review.h); the editor
 * is the labeling page's (label_edit_show, label_edit_read in
 * labeling.c).
 */
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "buf.h"
#include "catalog.h"
#include "db.h"
#include "handlers.h"
#include "host.h"
#include "plugin.h"
#include "request.h"
#include "response.h"
#include "review.h"
#include "session.h"

/* My answers shows this many answers a page; Back looks among this many of
 * the labeler's newest answers. */
#define MINE_PAGE 50

/*
 * What may still happen to an answer (annotation a of item i), one word:
 *   open      the item's current answer, waiting for review, no review
 *             lease in force: its labeler may change it;
 *   approved  the current answer, approved;
 *   review    the current answer, under a review lease in force;
 *   replaced  withdrawn by its labeler's own change (the relabel that
 *             withdrew it has its change number as seq);
 *   rejected  withdrawn by a review.
 * The same rule as review_relabel's, which decides again under locks.
 */
#define ANSWER_STATUS \
	"CASE WHEN a.is_current = 1 AND a.withdrawn_seq IS NULL THEN " \
	"CASE WHEN i.phase = 'approved' THEN 'approved' " \
	"WHEN i.phase = 'labeled' AND i.review_until > NOW(6) THEN 'review' " \
	"WHEN i.phase = 'labeled' AND i.labeled_by = a.labeler_id THEN 'open' " \
	"ELSE 'replaced' END " \
	"WHEN EXISTS (SELECT 1 FROM annotations b WHERE b.item_id = a.item_id AND b.relabel = 1 " \
	"AND b.seq = a.withdrawn_seq) THEN 'replaced' ELSE 'rejected' END"

/* The sentence for an answer that cannot be changed, by its status. */
static const char *status_why(const char *status)
{
	if (strcmp(status, "approved") == 0)
		return "A reviewer approved this answer, so it can no longer be changed.";
	if (strcmp(status, "review") == 0)
		return "A reviewer is looking at this answer right now, so it cannot be changed "
		    "while they do. Try again later.";
	if (strcmp(status, "rejected") == 0)
		return "A reviewer rejected this answer and sent the image back to the queue, so "
		    "it can no longer be changed.";
	if (strcmp(status, "replaced") == 0)
		return "You changed this answer since: the newer answer is the one that counts. "
		    "Open it from My answers.";
	return "This answer can no longer be changed.";
}

/* The words My answers shows for a status. */
static const char *status_text(const char *status)
{
	if (strcmp(status, "open") == 0)
		return "Can be changed";
	if (strcmp(status, "approved") == 0)
		return "Approved";
	if (strcmp(status, "review") == 0)
		return "Under review";
	if (strcmp(status, "rejected") == 0)
		return "Rejected";
	return "Replaced";
}

/* The :id of the route; 0 (and a 404 answered) when malformed. */
static long long project_param(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));

	if (id == 0)
		page_error(r, 404, "Not found", "There is no such project.");
	return id;
}

/* One stored answer of the signed-in labeler. */
struct answer {
	long long id, item_id;
	const char *data;          /* the annotation (JSON text) */
	const char *status;        /* ANSWER_STATUS */
};

/* Load annotation aid of project id if it is the signed-in labeler's.  0;
 * 1 when a response was made (404 for no such answer of theirs, or an
 * error). */
static int answer_load(struct request *r, long long id, long long aid, struct answer *ans)
{
	struct db_result *res;
	int rc;

	rc = db_query(r->db, r->arena, &res,
	    "SELECT a.item_id, a.data, " ANSWER_STATUS " FROM annotations a "
	    "JOIN items i ON i.id = a.item_id WHERE a.id = ? AND a.project_id = ? "
	    "AND a.labeler_id = ?", "iii", aid, id, r->session->user_id);
	if (rc != DB_OK) {
		page_db_error(r, rc, "The answer could not be read");
		return 1;
	}
	if (res->nrows == 0) {
		page_error(r, 404, "Not found", "You have no such answer in this project.");
		return 1;
	}
	ans->id = aid;
	ans->item_id = db_int(res, 0, 0);
	ans->data = db_value(res, 0, 1);
	ans->status = db_value(res, 0, 2);
	return 0;
}

/* Add one field (name, value copied into the arena) to *f; -1 when out of
 * memory (value NULL: an allocation before failed). */
static int field_add(struct arena *a, struct labeld_field **f, size_t *n, size_t *cap,
    const char *name, const char *value)
{
	if (value == NULL)
		return -1;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct labeld_field *g = arena_calloc(a, ncap, sizeof(*g));
		if (g == NULL)
			return -1;
		if (*n > 0)
			memcpy(g, *f, *n * sizeof(*g));
		*f = g;
		*cap = ncap;
	}
	(*f)[*n].name = name;
	(*f)[*n].value = arena_strdup(a, value);
	if ((*f)[*n].value == NULL)
		return -1;
	(*n)++;
	return 0;
}

/* A json number as the form would send it (the text it was stored with). */
static const char *number_text(struct json_object *v)
{
	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double) ?
	    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : NULL;
}

/*
 * The stored annotation (JSON text) as the form fields that would have
 * sent it, for the editors of the built-in task types (docs/review.md):
 *   {"label": id}                    label=id               (multiclass, testtask)
 *   {"labels": [ids]}                label=id, once per id  (multilabel)
 *   {"boxes": [{label,x,y,w,h}],     box="x,y,w,h,label" per box,
 *    "no_objects": true|false}       noobjects=1 when true  (bbox)
 * Keys of other shapes give no fields (another plugin's editor then opens
 * empty, and the labeler answers again).  Arena-owned; *n gets the count;
 * NULL when out of memory.
 */
static struct labeld_field *answer_fields(struct arena *a, const char *data, size_t *n)
{
	struct json_object *root = data != NULL ? json_tokener_parse(data) : NULL, *v;
	struct labeld_field *f = arena_calloc(a, 1, sizeof(*f));
	size_t cap = 1;
	int bad = 0;

	*n = 0;
	if (f == NULL || root == NULL || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return f;
	}
	if (json_object_object_get_ex(root, "label", &v) && json_object_is_type(v, json_type_int))
		bad |= field_add(a, &f, n, &cap, "label", json_object_get_string(v));
	if (json_object_object_get_ex(root, "labels", &v) && json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *e = json_object_array_get_idx(v, i);
			if (json_object_is_type(e, json_type_int))
				bad |= field_add(a, &f, n, &cap, "label", json_object_get_string(e));
		}
	if (json_object_object_get_ex(root, "boxes", &v) && json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *b = json_object_array_get_idx(v, i), *x, *y, *w, *h, *l;
			const char *sx, *sy, *sw, *sh;
			if (!json_object_object_get_ex(b, "x", &x) || !json_object_object_get_ex(b, "y", &y) ||
			    !json_object_object_get_ex(b, "w", &w) || !json_object_object_get_ex(b, "h", &h) ||
			    !json_object_object_get_ex(b, "label", &l) ||
			    !json_object_is_type(l, json_type_int))
				continue;
			if ((sx = number_text(x)) == NULL || (sy = number_text(y)) == NULL ||
			    (sw = number_text(w)) == NULL || (sh = number_text(h)) == NULL)
				continue;
			bad |= field_add(a, &f, n, &cap, "box", arena_printf(a, "%s,%s,%s,%s,%s",
			    sx, sy, sw, sh, json_object_get_string(l)));
		}
	if (json_object_object_get_ex(root, "no_objects", &v) && json_object_get_boolean(v))
		bad |= field_add(a, &f, n, &cap, "noobjects", "1");
	json_object_put(root);
	return bad ? NULL : f;
}

/* The `back` field or parameter when it is one of the two pages an
 * answer's editor returns to (the labeling page or My answers of project
 * id), else the labeling page: never anywhere else. */
static const char *back_path(struct request *r, long long id, const char *given)
{
	const char *label = arena_printf(r->arena, "/projects/%lld/label", id);
	const char *mine = arena_printf(r->arena, "/projects/%lld/mine", id);

	if (given != NULL && mine != NULL && strcmp(given, mine) == 0)
		return mine;
	return label;
}

/* The page mine_note: heading, why, and the ways back to project id's
 * labeling page and My answers. */
static void note_render(struct request *r, long long id, int status, const char *heading,
    const char *why)
{
	struct json_object *v = view_new(r, heading);

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	view_int(v, "project_id", id);
	view_str(v, "heading", heading);
	view_str(v, "why", why);
	page_render(r, status, "mine_note", v);
}

/* ------------------------------------------------------------ Back */

/* GET /projects/:id/back: to the editor of the labeler's newest answer
 * that can still change (among their last MINE_PAGE answers here), or a
 * page that says there is none. */
void handle_label_back(struct request *r)
{
	long long id = project_param(r);
	struct db_result *res;
	int rc;

	if (id == 0)
		return;
	rc = db_query(r->db, r->arena, &res,
	    "SELECT a.id FROM (SELECT n.id FROM annotations n FORCE INDEX (annotations_mine) "
	    "WHERE n.project_id = ? AND n.labeler_id = ? ORDER BY n.id DESC LIMIT ?) x "
	    "STRAIGHT_JOIN annotations a ON a.id = x.id JOIN items i ON i.id = a.item_id "
	    "WHERE (" ANSWER_STATUS ") = 'open' ORDER BY a.id DESC LIMIT 1",
	    "iii", id, r->session->user_id, (long long)MINE_PAGE);
	if (rc != DB_OK) {
		page_db_error(r, rc, "Your last answer could not be found");
		return;
	}
	if (res->nrows == 1) {
		resp_redirect(r, 303, arena_printf(r->arena, "/projects/%lld/mine/%lld", id,
		    db_int(res, 0, 0)));
		return;
	}
	/* None: say so, for a project that exists (admins pass the route's
	 * check for any id). */
	rc = db_query(r->db, r->arena, &res, "SELECT 1 FROM projects WHERE id = ?", "i", id);
	if (rc != DB_OK) {
		page_db_error(r, rc, "Your last answer could not be found");
		return;
	}
	if (res->nrows == 0) {
		page_error(r, 404, "Not found", "There is no such project.");
		return;
	}
	note_render(r, id, 200, "Nothing to go back to", "None of your last answers in this "
	    "project can still be changed: you have not answered any yet, or reviewers have "
	    "looked at them.");
}

/* ------------------------------------------------------------ My answers */

/* The classes an annotation assigns, as the words My answers shows:
 * "cat, dog", "3 boxes: cat, dog", "no objects". */
static const char *classes_text(struct request *r, const struct plugin *task,
    const struct json_object *names, const char *data)
{
	struct labeld_ctx ctx = { .arena = r->arena };
	struct json_object *ann = data != NULL ? json_tokener_parse(data) : NULL;
	int64_t *ids = NULL;
	struct labeld_box *boxes = NULL;
	size_t nids = 0, nboxes = 0;
	const char *err = NULL;
	struct buf b;
	int rc;

	if (task == NULL || ann == NULL) {
		json_object_put(ann);
		return "";
	}
	rc = task->desc->task->describe(&ctx, ann, &ids, &nids, &boxes, &nboxes, &err);
	json_object_put(ann);
	if (rc != 0)
		return "";
	buf_init(&b, r->arena);
	if (nboxes > 0)
		buf_printf(&b, "%zu box%s: ", nboxes, nboxes == 1 ? "" : "es");
	for (size_t i = 0, k = 0; i < nids + nboxes; i++) {
		int64_t lid = i < nids ? ids[i] : boxes[i - nids].label_id;
		struct json_object *name;
		int seen = 0;
		for (size_t j = nids; j < i && !seen; j++)   /* one name per class of boxes */
			seen = boxes[j - nids].label_id == lid;
		if (seen)
			continue;
		if (!json_object_object_get_ex(names, arena_printf(r->arena, "%lld", (long long)lid),
		    &name))
			continue;
		buf_printf(&b, "%s%s", k++ > 0 ? ", " : "", json_object_get_string(name));
	}
	if (nids + nboxes == 0)
		buf_adds(&b, "no objects");
	return b.failed ? "" : b.data;
}

/* GET /projects/:id/mine[?before=AID]: the labeler's answers here, newest
 * first, MINE_PAGE a page (keyset: the answers older than `before`). */
void handle_mine(struct request *r)
{
	long long id = project_param(r), before;
	const char *before_s = req_query(r, "before");
	struct json_object *v, *list, *names;
	const struct plugin *task;
	struct db_result *res, *pres;
	size_t shown;
	int rc;

	if (id == 0)
		return;
	before = before_s != NULL ? catalog_parse_id(before_s) : 0;
	if (before_s != NULL && before == 0) {
		page_error(r, 400, "Bad page", "The page of My answers is named by an answer's "
		    "number; this one is not a number.");
		return;
	}
	rc = db_query(r->db, r->arena, &pres,
	    "SELECT p.name, p.task, l.id, l.name FROM projects p "
	    "LEFT JOIN labels l ON l.project_id = p.id WHERE p.id = ?", "i", id);
	if (rc == DB_OK)
		rc = db_query(r->db, r->arena, &res,
		    "SELECT a.id, a.item_id, a.data, DATE_FORMAT(a.created_at, '%Y-%m-%d %H:%i'), "
		    "a.relabel, " ANSWER_STATUS " FROM annotations a FORCE INDEX (annotations_mine) "
		    "JOIN items i ON i.id = a.item_id WHERE a.project_id = ? AND a.labeler_id = ? "
		    "AND a.id < ? ORDER BY a.id DESC LIMIT ?", "iiii", id, r->session->user_id,
		    before > 0 ? before : (long long)INT64_MAX, (long long)MINE_PAGE + 1);
	if (rc != DB_OK) {
		page_db_error(r, rc, "Your answers could not be read");
		return;
	}
	if (pres->nrows == 0) {
		page_error(r, 404, "Not found", "There is no such project.");
		return;
	}
	v = view_new(r, "My answers");
	names = json_object_new_object();
	list = json_object_new_array();
	if (v == NULL || names == NULL || list == NULL) {
		json_object_put(names);
		json_object_put(list);
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	for (size_t i = 0; i < pres->nrows; i++)
		if (db_value(pres, i, 2) != NULL)
			view_str(names, db_value(pres, i, 2), db_value(pres, i, 3));
	task = plugin_find(r->rt->plugins, LABELD_TASK, db_value(pres, 0, 1));
	shown = res->nrows > MINE_PAGE ? MINE_PAGE : res->nrows;
	for (size_t i = 0; i < shown; i++) {
		struct json_object *o = json_object_new_object();
		const char *status = db_value(res, i, 5);
		long long aid = db_int(res, i, 0), item = db_int(res, i, 1);
		view_int(o, "id", aid);
		view_int(o, "item", item);
		view_str(o, "image_url", arena_printf(r->arena, "/projects/%lld/items/%lld/image",
		    id, item));
		view_str(o, "classes", classes_text(r, task, names, db_value(res, i, 2)));
		view_str(o, "time", db_value(res, i, 3));
		view_bool(o, "relabel", db_int(res, i, 4) == 1);
		view_str(o, "status", status);
		view_str(o, "status_text", status_text(status));
		if (strcmp(status, "open") == 0)
			view_str(o, "change_url", arena_printf(r->arena,
			    "/projects/%lld/mine/%lld?back=/projects/%lld/mine", id, aid, id));
		json_object_array_add(list, o);
	}
	json_object_put(names);
	view_int(v, "project_id", id);
	view_str(v, "project_name", db_value(pres, 0, 0));
	json_object_object_add(v, "answers", list);
	view_bool(v, "any", shown > 0);
	view_bool(v, "first_page", before == 0);
	if (res->nrows > MINE_PAGE)
		view_str(v, "older", arena_printf(r->arena, "/projects/%lld/mine?before=%lld", id,
		    db_int(res, MINE_PAGE - 1, 0)));
	view_bool(v, "saved", req_query(r, "saved") != NULL);
	page_render(r, 200, "mine", v);
}

/* ------------------------------------------------------------ the editor */

/* 409: the answer cannot be changed, and why. */
static void not_changeable(struct request *r, long long id, const char *why)
{
	note_render(r, id, 409, "This answer cannot be changed", why);
}

/* The answer of the route (:id, :aid) if it is the labeler's and can
 * still change, with e filled in (back: the parameter or field `back`).
 * 0; 1 when a response was made. */
static int editable_load(struct request *r, long long *id, struct answer *ans,
    struct answer_edit *e, const char *back)
{
	long long aid;

	if ((*id = project_param(r)) == 0)
		return 1;
	aid = catalog_parse_id(route_param(&r->params, "aid"));
	if (aid == 0) {
		page_error(r, 404, "Not found", "You have no such answer in this project.");
		return 1;
	}
	if (answer_load(r, *id, aid, ans) != 0)
		return 1;
	if (strcmp(ans->status, "open") != 0) {
		not_changeable(r, *id, status_why(ans->status));
		return 1;
	}
	*e = (struct answer_edit){ .item_id = ans->item_id, .annotation_id = aid,
	    .back = back_path(r, *id, back) };
	return 0;
}

/* GET /projects/:id/mine/:aid[?back=...]: the editor with the answer. */
void handle_mine_edit(struct request *r)
{
	struct answer_edit e;
	struct answer ans;
	struct labeld_field *fields;
	long long id;
	size_t n;

	if (editable_load(r, &id, &ans, &e, req_query(r, "back")) != 0)
		return;
	fields = answer_fields(r->arena, ans.data, &n);
	if (fields == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	label_edit_show(r, id, &e, fields, n);
}

/* POST /projects/:id/mine/:aid: an editor step, or (action=submit) the
 * changed answer: review_relabel, then back where the labeler came from. */
void handle_mine_save(struct request *r)
{
	const char *json, *classes;
	struct answer_edit e;
	struct answer ans;
	long long id;
	int rc;

	if (editable_load(r, &id, &ans, &e, req_form(r, "back")) != 0)
		return;
	if (label_edit_read(r, id, &e, &json, &classes) != 0)
		return;
	rc = review_relabel(r->db, r->arena, id, ans.item_id, r->session->user_id, ans.id, json,
	    classes);
	if (rc == REVIEW_REVIEWED) {
		not_changeable(r, id, "A reviewer got to this answer first (approved or rejected it, "
		    "or is looking at it now), so your change was not saved.");
		return;
	}
	if (rc == REVIEW_CHANGED) {
		not_changeable(r, id, "This answer is no longer the image's current one, so your "
		    "change was not saved.");
		return;
	}
	if (rc == REVIEW_NO_ITEM) {
		page_error(r, 404, "Not found", "There is no such image in this project.");
		return;
	}
	if (rc != DB_OK) {
		page_db_error(r, rc, "Your change could not be saved");
		return;
	}
	resp_redirect(r, 303, arena_printf(r->arena, "%s?%s", e.back,
	    strstr(e.back, "/mine") != NULL ? "saved=1" : "notice=changed"));
}
