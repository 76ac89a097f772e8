/*
 * review.c: the review queue (docs/review.md, "The review queue"): the
 * next answered item under a review lease with its answer drawn (GET
 * /projects/:id/review), and the reviewer's verdict on it (POST
 * /projects/:id/review/:item: approve, reject with a reason, skip).  Who
 * may review is the route table's (NEED_REVIEW); the leases are
 * review_queue.c's, approvals and rejections review.c's.  The page is a
 * plain form with three buttons; review.js adds the keys A, R and S.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "catalog.h"
#include "db.h"
#include "handlers.h"
#include "host.h"
#include "log.h"
#include "plugin.h"
#include "project_rules.h"
#include "request.h"
#include "response.h"
#include "review.h"
#include "review_queue.h"
#include "session.h"

/* ------------------------------------------------------------ helpers */

static void db_failed(struct request *r, int rc)
{
	page_db_error(r, rc, "The review queue could not be read or changed");
}

static void json_put(void *obj)
{
	json_object_put(obj);
}

/* What the review page needs of the project. */
struct review_project {
	long long id;
	const char *name, *state, *task;
	long long waiting;           /* answers waiting for review (the counters) */
	struct db_result *labels;    /* id, name in position order (labels_load) */
};

/* Load the project, its labels and its counters.  0, 1 when there is no
 * such project (404 answered), -1 when another answer was given. */
static int project_load(struct request *r, long long id, struct review_project *p)
{
	struct db_result *res;
	int rc;

	memset(p, 0, sizeof(*p));
	p->id = id;
	rc = db_query(r->db, r->arena, &res,
	    "SELECT p.name, p.state, p.task, COALESCE(c.items_labeled - c.items_approved, 0) "
	    "FROM projects p LEFT JOIN project_counters c ON c.project_id = p.id WHERE p.id = ?",
	    "i", id);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return -1;
	}
	if (res->nrows == 0) {
		page_error(r, 404, "Not found", "There is no such project.");
		return 1;
	}
	p->name = db_value(res, 0, 0);
	p->state = db_value(res, 0, 1);
	p->task = db_value(res, 0, 2);
	p->waiting = db_int(res, 0, 3);
	return 0;
}

/* Load the project's labels into p (only a page with an answer needs
 * them).  DB_* status. */
static int labels_load(struct request *r, struct review_project *p)
{
	return db_query(r->db, r->arena, &p->labels,
	    "SELECT id, name FROM labels WHERE project_id = ? ORDER BY position, id", "i", p->id);
}

/* The name of label id in the project, or "class N" for one deleted. */
static const char *label_name(struct request *r, const struct review_project *p, long long id)
{
	for (size_t i = 0; i < p->labels->nrows; i++)
		if (db_int(p->labels, i, 0) == id)
			return db_value(p->labels, i, 1);
	return arena_printf(r->arena, "class %lld", id);
}

/* The project part of a view. */
static struct json_object *project_view(const struct review_project *p)
{
	struct json_object *o = json_object_new_object();

	view_int(o, "id", p->id);
	view_str(o, "name", p->name);
	view_str(o, "state", p->state);
	view_bool(o, "paused", strcmp(p->state, "paused") == 0);
	return o;
}

/* How many answers wait for review, into view v. */
static void waiting_view(struct json_object *v, const struct review_project *p)
{
	view_int(v, "waiting", p->waiting);
	view_str(v, "waiting_text", p->waiting == 1 ? "answer waits for review" :
	    "answers wait for review");
}

/* A page of the queue without an item (kind: "empty", "not_ready",
 * "stale", "refused") with status and a sentence. */
static void status_render(struct request *r, const struct review_project *p, int status,
    const char *kind, const char *heading, const char *message)
{
	struct json_object *v = view_new(r, heading), *s;

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	view_str(v, "page_css", "review.css");
	json_object_object_add(v, "project", project_view(p));
	s = json_object_new_object();
	view_str(s, "heading", heading);
	view_str(s, "message", message);
	view_bool(s, kind, 1);
	json_object_object_add(v, "status", s);
	waiting_view(v, p);
	page_render(r, status, "review", v);
}

/* A box coordinate for people: one decimal, none when it is whole. */
static const char *coord_text(struct request *r, double v)
{
	char *t = arena_printf(r->arena, "%.1f", v);
	size_t n = t != NULL ? strlen(t) : 0;

	if (n > 2 && strcmp(t + n - 2, ".0") == 0)
		t[n - 2] = '\0';
	return t;
}

/* The answer of *it as the page shows it: "classes" [{name}] and "boxes"
 * [{x, y, w, h, name, tx, ty}] in image pixels, through the task plugin's
 * describe.  0, or -1 when it could not be read ("answer_error" set). */
static int answer_view(struct request *r, const struct review_project *p,
    const struct plugin *task, const struct review_item *it, struct json_object *v)
{
	struct labeld_ctx ctx = { .arena = r->arena };
	struct json_object *ann, *classes = json_object_new_array(), *boxes = json_object_new_array();
	int64_t *ids = NULL;
	struct labeld_box *bx = NULL;
	size_t nids = 0, nbx = 0;
	const char *error = NULL;
	double font;

	json_object_object_add(v, "classes", classes);
	json_object_object_add(v, "boxes", boxes);
	ann = it->answer != NULL ? json_tokener_parse(it->answer) : NULL;
	if (ann == NULL || arena_cleanup_add(r->arena, json_put, ann) < 0) {
		json_object_put(ann);
		view_str(v, "answer_error", "This item has no readable answer.");
		return -1;
	}
	if (task == NULL) {
		view_str(v, "answer_error", arena_printf(r->arena, "The project's task type (the "
		    "plugin \"%s\") is not loaded on this server, so its answer cannot be shown.",
		    p->task));
		return -1;
	}
	if (task->desc->task->describe(&ctx, ann, &ids, &nids, &bx, &nbx, &error) != 0) {
		log_error("project %lld item %lld: plugin %s cannot describe the answer: %s", p->id,
		    it->id, task->desc->name, error ? error : "(no reason)");
		view_str(v, "answer_error", "The task plugin could not read this answer.");
		return -1;
	}
	for (size_t i = 0; ids != NULL && i < nids; i++) {
		struct json_object *c = json_object_new_object();
		view_str(c, "name", label_name(r, p, (long long)ids[i]));
		json_object_array_add(classes, c);
	}
	/* Captions as the box editor draws them: about 1/40 of the image. */
	font = (it->width > it->height ? it->width : it->height) / 40.0;
	if (font < 8)
		font = 8;
	view_str(v, "font", arena_printf(r->arena, "%.1f", font));
	for (size_t i = 0; bx != NULL && i < nbx; i++) {
		struct json_object *b = json_object_new_object();
		view_str(b, "x", coord_text(r, bx[i].x));
		view_str(b, "y", coord_text(r, bx[i].y));
		view_str(b, "w", coord_text(r, bx[i].width));
		view_str(b, "h", coord_text(r, bx[i].height));
		view_str(b, "tx", arena_printf(r->arena, "%.1f", bx[i].x + font / 4));
		view_str(b, "ty", arena_printf(r->arena, "%.1f", bx[i].y + font));
		view_str(b, "name", label_name(r, p, (long long)bx[i].label_id));
		json_object_array_add(boxes, b);
	}
	view_bool(v, "has_boxes", nbx > 0);
	/* A box answer's classes are its boxes' (listed with them). */
	view_bool(v, "has_classes", nids > 0 && nbx == 0);
	view_bool(v, "nothing", nids == 0 && nbx == 0);
	return 0;
}

/* ------------------------------------------------------------ the page */

/* GET /projects/:id/review: the item the reviewer holds, or a new review
 * lease on the next one.  As on the labeling page, handing out an item on
 * GET is a reservation, not a change: asking again gives the same item
 * under the same lease. */
void handle_review_next(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	struct review_project p;
	struct review_item it;
	struct json_object *v, *item;
	int rc;

	if (project_load(r, id, &p) != 0)
		return;
	/* Reviewing goes on while labeling is paused (docs/review.md). */
	if (strcmp(p.state, "running") != 0 && strcmp(p.state, "paused") != 0) {
		status_render(r, &p, 200, "not_ready", "Nothing to review yet",
		    "This project is still being set up, or its setup failed: it has no answers "
		    "to review.");
		return;
	}
	rc = review_queue_next(r->db, r->arena, id, r->session->user_id,
	    r->app->cfg.review_lease_seconds, &it);
	if (rc == DB_OK)
		rc = labels_load(r, &p);
	if (rc == REVIEW_QUEUE_EMPTY) {
		status_render(r, &p, 200, "empty", "Nothing left to review",
		    "Every answer of this project is reviewed, reserved by another reviewer, one you "
		    "skipped, or one of your own.");
		return;
	}
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if ((v = view_new(r, arena_printf(r->arena, "Review \xc2\xb7 %s", p.name))) == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	view_str(v, "page_css", "review.css");
	json_object_object_add(v, "project", project_view(&p));
	item = json_object_new_object();
	view_int(item, "id", it.id);
	view_int(item, "width", it.width);
	view_int(item, "height", it.height);
	view_str(item, "image_url", arena_printf(r->arena, "/projects/%lld/items/%lld/image", id,
	    it.id));
	view_str(item, "labeler", it.labeler != NULL ? it.labeler : "a person no longer here");
	view_str(item, "answered_at", it.answered_at);
	view_str(item, "token", it.token);
	answer_view(r, &p, plugin_find(r->rt->plugins, LABELD_TASK, p.task), &it, item);
	json_object_object_add(v, "item", item);
	waiting_view(v, &p);
	view_int(v, "reason_max", REVIEW_REASON_MAX);
	page_render(r, 200, "review", v);
}

/* ------------------------------------------------------------ the verdict */

enum verdict_action { ACT_APPROVE, ACT_REJECT, ACT_SKIP };

/* POST /projects/:id/review/:item: token, action=approve|reject|skip,
 * reason (reject: optional, at most REVIEW_REASON_MAX characters).  303
 * back to the queue; 409 when the review lease no longer holds (nothing
 * changed). */
void handle_review_verdict(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	long long item_id = catalog_parse_id(route_param(&r->params, "item"));
	const char *action = req_form(r, "action"), *token = req_form(r, "token");
	const char *reason = req_form(r, "reason");
	struct review_project p;
	enum verdict_action act;
	size_t rlen = 0, done = 0;
	int rc;

	if (project_load(r, id, &p) != 0)
		return;
	if (item_id == 0) {
		page_error(r, 404, "Not found", "There is no such item in this project.");
		return;
	}
	if (action != NULL && strcmp(action, "approve") == 0) {
		act = ACT_APPROVE;
	} else if (action != NULL && strcmp(action, "reject") == 0) {
		act = ACT_REJECT;
	} else if (action != NULL && strcmp(action, "skip") == 0) {
		act = ACT_SKIP;
	} else {
		status_render(r, &p, 422, "refused", "Unknown action",
		    "A review is Approve, Reject or Skip; use the page's buttons. Nothing was changed.");
		return;
	}
	if (act == ACT_REJECT && reason != NULL) {
		size_t n = strlen(reason);
		long chars;
		for (size_t i = 0; i < r->form.nfields; i++) {
			if (strcmp(r->form.fields[i].name, "reason") == 0) {
				n = r->form.fields[i].value_len;   /* req_form's: the first */
				break;
			}
		}
		chars = n == strlen(reason) ? rules_utf8_count(reason, n) : -1;
		if (chars < 0) {
			status_render(r, &p, 422, "refused", "Reason not readable",
			    "The reason must be plain text (UTF-8, no NUL bytes). Nothing was changed.");
			return;
		}
		reason = rules_trim(reason, n, &rlen);
		if ((reason = arena_strndup(r->arena, reason, rlen)) == NULL) {
			page_error(r, 500, "Internal error", "Out of memory.");
			return;
		}
		if (rules_utf8_count(reason, rlen) > REVIEW_REASON_MAX) {
			status_render(r, &p, 422, "refused", "Reason too long", arena_printf(r->arena,
			    "A reason may be at most %d characters long; this one has %ld. Nothing was "
			    "changed: the item is still yours, shorten the reason and reject it again.",
			    REVIEW_REASON_MAX, rules_utf8_count(reason, rlen)));
			return;
		}
	}
	if (token == NULL || !token_syntax_ok(token)) {
		rc = REVIEW_STALE;
	} else if (act == ACT_APPROVE) {
		rc = review_approve(r->db, r->arena, id, r->session->user_id, &item_id, 1, token, &done);
	} else if (act == ACT_REJECT) {
		rc = review_reject(r->db, r->arena, id, r->session->user_id, &item_id, 1, reason, token,
		    &done);
	} else {
		rc = review_queue_skip(r->db, r->arena, id, item_id, r->session->user_id, token);
	}
	if (rc == REVIEW_STALE) {
		status_render(r, &p, 409, "stale", "This review lease has ended",
		    "Your time on this item ran out and another reviewer took it, or it was reviewed "
		    "meanwhile (on the Data tab, say). Nothing was changed.");
		return;
	}
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	log_info("project %lld item %lld: %s by %s", id, item_id,
	    act == ACT_APPROVE ? "approved" : act == ACT_REJECT ? "rejected" : "skipped in review",
	    r->session->email);
	resp_redirect(r, 303, arena_printf(r->arena, "/projects/%lld/review", id));
}
