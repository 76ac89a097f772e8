/*
 * labeling.c: the labeling page (the next item for a labeler), answers and
 * skips, item images, and Pause/Start.  The queue rules live in queue.c;
 * docs/labeling.md tells them in prose.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "blob.h"
#include "catalog.h"
#include "datastore.h"
#include "db.h"
#include "handlers.h"
#include "host.h"
#include "image.h"
#include "log.h"
#include "plugin.h"
#include "queue.h"
#include "review.h"
#include "request.h"
#include "response.h"
#include "send.h"
#include "session.h"
#include "tmpl.h"

/* An image's Cache-Control (error pages keep resp_send's no-store). */
#define IMAGE_CACHE "private, max-age=3600"

/* Images labeld sends itself (datastores nginx cannot read): at most 64
 * MiB, a blob whole within 30 s, Retry-After 2 s when busy (send.h). */
static const struct send_kind image_kind = {
	.what = "image",
	.title = "Image unavailable",
	.busy = "labeld is sending as many images as it may at once; this one will load in a moment.",
	.retry_after = 2,
	.cache = IMAGE_CACHE,
	.max_bytes = (uint64_t)64 << 20,
	.blob_timeout_ms = 30000L,
};

/* What the labeling page works with: the page facts plus the project's id,
 * its task plugin and its labels in the plugin's form. */
struct label_page {
	long long id;
	struct queue_page pg;
	const struct plugin *plugin;
	struct labeld_label *labels;
	size_t nlabels;
	struct json_object *labels_view;   /* [{id, name, key, key_hint, position}] */
};

/* ------------------------------------------------------------ helpers */

static void not_found(struct request *r, const char *what)
{
	page_error(r, 404, "Not found", what);
}

static void db_failed(struct request *r, int rc)
{
	page_db_error(r, rc, "The labeling page could not be produced");
}

/* "42%" of labeled items: floored, so 100% means every item is labeled;
 * "<1%" when some but less than one percent are. */
static const char *percent_text(struct request *r, long long labeled, long long total)
{
	if (total <= 0 || labeled <= 0)
		return "0%";
	if (labeled * 100 / total == 0)
		return "<1%";
	return arena_printf(r->arena, "%lld%%", labeled * 100 / total);
}

/* What label_preload read with the session: the page's facts. */
struct label_preloaded {
	long long id, item_id;
	int rc;                    /* queue_page_load_signed's */
	struct queue_page pg;
};

/* The route preload of the labeling page and of answers (router.h): the
 * session, whether its user may see the project (NEED_PROJECT: set in
 * r->project_access, so the dispatcher does not ask again) and the page's
 * facts in one statement (queue_page_load_signed); page_load below takes
 * them from r->preload.  A malformed id needs no page: the plain session
 * check (and the dispatcher answers 404). */
int label_preload(struct request *r, const char *token)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	const char *item = route_param(&r->params, "item");
	long long item_id = item != NULL ? catalog_parse_id(item) : 0;
	struct label_preloaded *p;
	int rc, access;

	if (id == 0 || (item != NULL && item_id == 0))
		return session_lookup(r->db, r->arena, token, r->app->cfg.session_idle_timeout,
		    r->app->cfg.session_lifetime, &r->session);
	p = arena_calloc(r->arena, 1, sizeof(*p));
	if (p == NULL)
		return DB_ERR;
	p->id = id;
	p->item_id = item_id;
	rc = queue_page_load_signed(r->db, r->arena, token, r->app->cfg.session_idle_timeout,
	    r->app->cfg.session_lifetime, id, item_id, &r->session, &access, &p->pg);
	if (rc < 0)
		return rc;
	p->rc = rc;
	if (r->session != NULL) {
		r->project_access = access;
		r->preload = p;
	}
	return DB_OK;
}

/* Load the page facts of project `id` (item_id as queue_page_load), or
 * take them from the preload.  0, 1 when there is no such project (a 404
 * was answered), or -1 when another response was made. */
static int page_load(struct request *r, long long id, long long item_id, struct label_page *lp)
{
	struct label_preloaded *p = r->preload;
	int rc;

	memset(lp, 0, sizeof(*lp));
	lp->id = id;
	if (p != NULL && p->id == id && p->item_id == item_id) {
		r->preload = NULL;   /* once: a second page_load reads afresh */
		rc = p->rc;
		lp->pg = p->pg;
	} else {
		rc = queue_page_load(r->db, r->arena, id, r->session->user_id, item_id, &lp->pg);
	}
	if (rc == QUEUE_NO_ITEM) {
		not_found(r, "There is no such project.");
		return 1;
	}
	if (rc != QUEUE_OK) {
		db_failed(r, rc);
		return -1;
	}
	lp->plugin = plugin_find(r->rt->plugins, LABELD_TASK, lp->pg.task);
	return 0;
}

/*
 * Each worker thread keeps the labels views it built last, per project and
 * meta_version: the view is the same for every page of a project until an
 * admin edits the labels (which raises meta_version), and building it was a
 * tenth of labeld's time per labeling page (a json-c object with five keys
 * per label).  Per thread because json-c's reference counts are not atomic:
 * a view is only ever used by the thread that built it, and never changed
 * after it is built.  The views live as long as their thread (labeld's
 * workers: the whole run) and are dropped as it exits (label_thread_end).
 */
#define LABELS_VIEW_SLOTS 4
static __thread struct labels_view_slot {
	long long project_id, version;
	struct json_object *view;
	unsigned long long used;      /* for least recently used replacement */
} labels_views[LABELS_VIEW_SLOTS];
static __thread unsigned long long labels_views_clock;

static struct json_object *labels_view_cached(long long project_id, long long version)
{
	for (int i = 0; i < LABELS_VIEW_SLOTS; i++) {
		struct labels_view_slot *s = &labels_views[i];
		if (s->view != NULL && s->project_id == project_id && s->version == version) {
			s->used = ++labels_views_clock;
			return s->view;
		}
	}
	return NULL;
}

/* Drop this thread's views (it is exiting). */
void label_thread_end(void)
{
	for (int i = 0; i < LABELS_VIEW_SLOTS; i++) {
		json_object_put(labels_views[i].view);
		labels_views[i] = (struct labels_view_slot){ 0 };
	}
}

/* Keep view (the cache takes the caller's reference). */
static void labels_view_keep(long long project_id, long long version, struct json_object *view)
{
	struct labels_view_slot *s = &labels_views[0];

	for (int i = 1; i < LABELS_VIEW_SLOTS && s->view != NULL; i++)
		if (labels_views[i].view == NULL || labels_views[i].used < s->used)
			s = &labels_views[i];
	json_object_put(s->view);
	*s = (struct labels_view_slot){ .project_id = project_id, .version = version,
	    .view = view, .used = ++labels_views_clock };
}

/* The project's labels as the plugin's array and (view: also) as the
 * page view's [{id, name, key, key_hint, position}]; an answer that is
 * stored needs no view.  0, or -1 when a response was made. */
static int labels_make(struct request *r, struct label_page *lp, int view)
{
	size_t n = lp->pg.nlabels;
	struct json_object *labels;

	if (lp->labels == NULL) {
		lp->labels = arena_calloc(r->arena, n + 1, sizeof(*lp->labels));
		if (lp->labels == NULL) {
			page_error(r, 500, "Internal error", "Out of memory.");
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			lp->labels[i] = (struct labeld_label){ .id = lp->pg.labels[i].id,
			    .name = lp->pg.labels[i].name, .key = i < 9 ? (int)i + 1 : 0 };
		lp->nlabels = n;
	}
	if (!view || lp->labels_view != NULL)
		return 0;
	lp->labels_view = labels_view_cached(lp->id, lp->pg.meta_version);
	if (lp->labels_view != NULL)
		return 0;
	labels = json_object_new_array_ext((int)(n > 0 ? n : 1));
	if (labels == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *l = json_object_new_object();
		int key = lp->labels[i].key;
		view_int(l, "id", lp->labels[i].id);
		view_str(l, "name", lp->labels[i].name);
		view_int(l, "key", key);
		view_str(l, "key_hint", key ? arena_printf(r->arena, "%d", key) : "");
		view_int(l, "position", (long long)i + 1);
		json_object_array_add(labels, l);
	}
	labels_view_keep(lp->id, lp->pg.meta_version, labels);
	lp->labels_view = labels;
	return 0;
}

/* The project part of a view. */
static struct json_object *project_view(const struct label_page *lp)
{
	struct json_object *p = json_object_new_object();

	view_int(p, "id", lp->id);
	view_str(p, "name", lp->pg.name);
	view_str(p, "instructions_url", lp->pg.instructions_url);
	view_str(p, "state", lp->pg.state);
	return p;
}

/* The form's fields that belong to the plugin: all but csrf, lease,
 * action, item and back (the answer editor's way back, mine.c).
 * Arena-owned; *n gets the count. */
static struct labeld_field *plugin_fields(struct request *r, size_t *n)
{
	struct labeld_field *f = arena_calloc(r->arena, r->form.nfields + 1, sizeof(*f));

	*n = 0;
	if (f == NULL)
		return NULL;
	for (size_t i = 0; i < r->form.nfields; i++) {
		const struct hp_field *h = &r->form.fields[i];
		if (strcmp(h->name, "csrf") == 0 || strcmp(h->name, "lease") == 0 ||
		    strcmp(h->name, "action") == 0 || strcmp(h->name, "item") == 0 ||
		    strcmp(h->name, "back") == 0)
			continue;
		f[*n].name = h->name;
		f[*n].value = h->value;
		(*n)++;
	}
	return f;
}

/* The plugin's view of the current item. */
static struct labeld_item plugin_item(const struct queue_item *it)
{
	struct labeld_item li = {
		.id = it->id, .path = it->path, .width = it->width, .height = it->height,
		.format = it->format,
	};
	return li;
}

/* A page without an item: the queue is empty, the project paused, still
 * initializing, failed, or its task type is not loaded. */
static void status_render(struct request *r, struct label_page *lp, int status,
    const char *heading, const char *message, int counts, int retry)
{
	struct json_object *v = view_new(r, heading);
	int rc;

	if ((rc = queue_page_counts(r->db, r->arena, lp->id, r->session->user_id, counts,
	    &lp->pg)) != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	view_str(v, "page_css", "label.css");
	json_object_object_add(v, "project", project_view(lp));
	view_str(v, "heading", heading);
	view_str(v, "message", message);
	view_bool(v, "show_counts", counts);
	view_bool(v, "retry", retry);
	view_int(v, "today", lp->pg.today);
	view_str(v, "images", lp->pg.today == 1 ? "image" : "images");
	view_int(v, "mine", lp->pg.mine);
	view_str(v, "percent", percent_text(r, lp->pg.items_labeled, lp->pg.items_total));
	view_str(v, "notice", queue_notice_text(req_query(r, "notice")));
	page_render(r, status, "label_status", v);
}

static void plugin_missing(struct request *r, struct label_page *lp)
{
	status_render(r, lp, 503, "Task type not available", arena_printf(r->arena,
	    "This project's task type (the plugin \"%s\") is not loaded on this server, so its "
	    "images cannot be labeled right now. An admin can look at the Plugins page.",
	    lp->pg.task ? lp->pg.task : "?"), 0, 1);
}

/* The page for a project that is not running; 1 when one was answered. */
static int not_running(struct request *r, struct label_page *lp)
{
	const char *s = lp->pg.state;

	if (strcmp(s, "paused") == 0)
		status_render(r, lp, 200, "This project is paused",
		    "An admin paused labeling for this project: no images are handed out until "
		    "they start it again.", 1, 1);
	else if (strcmp(s, "initializing") == 0)
		status_render(r, lp, 200, "This project is still being set up",
		    "labeld is still reading the project's images. Labeling starts when that is done.",
		    0, 1);
	else if (strcmp(s, "failed") == 0)
		status_render(r, lp, 200, "This project could not be set up",
		    "Its images could not be read, so there is nothing to label. The project's page "
		    "says why.", 0, 0);
	else if (strcmp(s, "running") != 0)
		status_render(r, lp, 200, "This project is not running",
		    "No images are handed out right now.", 0, 1);
	else
		return 0;
	return 1;
}

/* Render the labeling page for lp->pg.item with the plugin's editor, or
 * with e the editor page of a stored answer (template answer_edit, the
 * same editor; its form goes to /projects/:id/mine/:aid);
 * fields/nfields: the form sent (an editor step or a refused answer) or
 * the stored answer's.  error: a sentence for the labeler, or NULL. */
static void label_render(struct request *r, struct label_page *lp, const struct answer_edit *e,
    int status, const struct labeld_field *fields, size_t nfields, const char *error)
{
	const struct labeld_task_ops *ops = lp->plugin->desc->task;
	const struct queue_item *it = &lp->pg.item;
	struct labeld_ctx ctx = { .arena = r->arena };
	struct labeld_item li = plugin_item(it);
	struct json_object *v = view_new(r, lp->pg.name), *item, *editor = NULL;
	const char *perr = NULL, *tmpl;
	int rc;

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	view_str(v, "page_css", "label.css");
	if (e == NULL && (rc = queue_page_counts(r->db, r->arena, lp->id, r->session->user_id, 0,
	    &lp->pg)) != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if (labels_make(r, lp, 1) < 0)
		return;
	tmpl = arena_printf(r->arena, "%s/%s", lp->plugin->desc->name,
	    ops->editor_template ? ops->editor_template : "editor");
	if (tmpl == NULL || !tmpl_exists(r->rt->tmpl, tmpl)) {
		log_error("project %lld: the editor template %s of task plugin %s is missing",
		    lp->id, tmpl ? tmpl : "?", lp->plugin->desc->name);
		status_render(r, lp, 503, "Task type not available",
		    "The task type's editor is not installed on this server (its template folder "
		    "is missing beside the plugin). An admin can look at the Plugins page.", 0, 1);
		return;
	}
	if (ops->editor_view(&ctx, &li, lp->labels, lp->nlabels, fields, nfields, &editor,
	    &perr) != 0 || editor == NULL) {
		log_error("project %lld item %lld: plugin %s: editor_view failed: %s", lp->id, it->id,
		    lp->plugin->desc->name, perr ? perr : "(no reason)");
		page_error(r, 500, "Internal error", perr ? perr : "The task plugin could not show this image.");
		return;
	}
	item = json_object_new_object();
	view_int(item, "id", it->id);
	view_int(item, "width", it->width);
	view_int(item, "height", it->height);
	view_str(item, "format", it->format);
	view_str(item, "image_url", arena_printf(r->arena, "/projects/%lld/items/%lld/image",
	    lp->id, it->id));
	json_object_object_add(v, "item", item);
	json_object_object_add(v, "project", project_view(lp));
	json_object_object_add(v, "labels", json_object_get(lp->labels_view));
	/* editor is owned by the request's arena (host->json_own). */
	json_object_object_add(v, "editor", json_object_get(editor));
	view_str(v, "editor_template", tmpl);
	view_str(v, "input_mode", ops->input_mode ? ops->input_mode : "choose");
	/* An editor that shows the image itself (boxes are drawn on it) gets
	 * the page's width and the core leaves its own image out. */
	view_bool(v, "wide", json_object_get_boolean(json_object_object_get(editor, "draws_image")) ||
	    (ops->input_mode != NULL && strcmp(ops->input_mode, "boxes") == 0));
	if (error != NULL)
		view_str(v, "error", error);
	if (e != NULL) {
		view_str(v, "form_action", arena_printf(r->arena, "/projects/%lld/mine/%lld", lp->id,
		    e->annotation_id));
		view_str(v, "back", e->back);
		page_render(r, status, "answer_edit", v);
		return;
	}
	view_str(v, "form_action", arena_printf(r->arena, "/projects/%lld/items/%lld", lp->id,
	    it->id));
	view_str(v, "lease", it->lease_token);
	/* A review sent the image back: its reason (escaped by the template). */
	if (it->requeued) {
		view_bool(v, "sent_back", 1);
		if (it->reason != NULL && it->reason[0] != '\0')
			view_str(v, "sent_back_reason", it->reason);
	}
	view_str(v, "notice", queue_notice_text(req_query(r, "notice")));
	view_int(v, "today", lp->pg.today);
	view_str(v, "percent", percent_text(r, lp->pg.items_labeled, lp->pg.items_total));
	if (lp->pg.next_id > 0)
		view_str(v, "prefetch", arena_printf(r->arena, "/projects/%lld/items/%lld/image",
		    lp->id, lp->pg.next_id));
	page_render(r, status, "label", v);
}

/* Read the answer the request's form holds for lp's item through the task
 * plugin (lp->plugin set): 0 with *json and *classes (arena-owned), or 1
 * when a response was made: the page again (label_render with e) for an
 * editor step (act QUEUE_STEP, or a step the plugin finds in the form) or
 * a refused answer (422), or an error page. */
static int answer_read(struct request *r, struct label_page *lp, const struct answer_edit *e,
    enum queue_action act, const char **json, const char **classes)
{
	const struct labeld_task_ops *ops = lp->plugin->desc->task;
	struct labeld_ctx ctx = { .arena = r->arena };
	struct json_object *annotation = NULL;
	struct labeld_field *fields;
	struct labeld_item li;
	const char *perr = NULL;
	size_t nfields;
	int rc;

	if (labels_make(r, lp, 0) < 0)
		return 1;
	fields = plugin_fields(r, &nfields);
	if (fields == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return 1;
	}
	if (act == QUEUE_STEP) {
		label_render(r, lp, e, 200, fields, nfields, NULL);
		return 1;
	}
	li = plugin_item(&lp->pg.item);
	rc = ops->parse_form(&ctx, &li, lp->labels, lp->nlabels, fields, nfields, &annotation, &perr);
	if (rc == 1) {
		label_render(r, lp, e, 200, fields, nfields, NULL);
		return 1;
	}
	if (rc == 0 && annotation != NULL &&
	    ops->validate(&ctx, &li, lp->labels, lp->nlabels, annotation, &perr) != 0) {
		log_error("project %lld item %lld: plugin %s refused its own answer: %s", lp->id,
		    (long long)li.id, lp->plugin->desc->name, perr ? perr : "(no reason)");
		rc = -1;
	}
	if (rc != 0 || annotation == NULL) {
		label_render(r, lp, e, 422, fields, nfields,
		    perr ? perr : "Your answer could not be read; check it and send it again.");
		return 1;
	}
	*classes = review_classes(r->arena, lp->plugin, annotation, &perr);
	if (*classes == NULL) {
		log_error("project %lld item %lld: plugin %s cannot describe its own answer: %s",
		    lp->id, (long long)li.id, lp->plugin->desc->name, perr ? perr : "(no reason)");
		page_error(r, 500, "Internal error", "Your answer could not be stored.");
		return 1;
	}
	*json = json_object_to_json_string_ext(annotation, JSON_C_TO_STRING_PLAIN);
	return 0;
}

/* The answer to a request whose lease check did not say QUEUE_OK. */
static void outcome_respond(struct request *r, long long project_id, int st)
{
	const char *next = arena_printf(r->arena, "/projects/%lld/label", project_id);

	switch (st) {
	case QUEUE_OK:
	case QUEUE_ALREADY:
		resp_redirect(r, 303, next);
		return;
	case QUEUE_STALE:
		resp_redirect(r, 303, arena_printf(r->arena, "%s?notice=stale", next));
		return;
	case QUEUE_NOT_RUNNING:
		resp_redirect(r, 303, arena_printf(r->arena, "%s?notice=paused", next));
		return;
	case QUEUE_NOT_HELD:
		page_error(r, 403, "Not your image",
		    "That image is not reserved for you, so nothing was saved. Your other work is "
		    "untouched; open the project's labeling page to get an image of your own.");
		return;
	case QUEUE_WRONG_LEASE:
		page_error(r, 409, "Page out of date",
		    "This page's reservation of the image does not match the one labeld holds for you "
		    "(the page is out of date, or the form was changed). Nothing was saved; open the "
		    "project's labeling page again.");
		return;
	case QUEUE_NO_ITEM:
		not_found(r, "There is no such image in this project.");
		return;
	default:
		if (st < 0)
			db_failed(r, st);
		else
			page_error(r, 500, "Internal error", "The answer could not be handled.");
		return;
	}
}

/* ------------------------------------------------------------ the page */

/* GET /projects/:id/label.  Handing out an item on GET is a reservation,
 * not a change the labeler asked for: asking again gives the same item
 * under the same lease (see docs/labeling.md). */
void handle_label_next(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	struct label_page lp;
	int rc;

	if (id == 0) {
		not_found(r, "There is no such project.");
		return;
	}
	if (page_load(r, id, 0, &lp) != 0)
		return;
	if (not_running(r, &lp))
		return;
	if (lp.plugin == NULL) {
		plugin_missing(r, &lp);
		return;
	}
	if (lp.pg.item.id == 0) {
		rc = queue_lease_next(r->db, r->arena, id, r->session->user_id,
		    r->app->cfg.label_lease_seconds, &lp.pg.item, &lp.pg.next_id);
		if (rc == QUEUE_EMPTY) {
			status_render(r, &lp, 200, "Nothing left to label",
			    "Every image of this project is labeled, reserved by another labeler, or "
			    "one you skipped. Thank you!", 1, 1);
			return;
		}
		if (rc == QUEUE_NOT_RUNNING) {
			lp.pg.state = "paused";
			not_running(r, &lp);
			return;
		}
		if (rc == QUEUE_NO_ITEM) {
			not_found(r, "There is no such project.");
			return;
		}
		if (rc != QUEUE_OK) {
			db_failed(r, rc);
			return;
		}
		/* A fresh lease of an item a review sent back: its reason
		 * (only these items pay for the read). */
		if (lp.pg.item.requeued && lp.pg.item.reason == NULL &&
		    (rc = queue_reject_reason(r->db, r->arena, lp.pg.item.id,
		    &lp.pg.item.reason)) != DB_OK) {
			db_failed(r, rc);
			return;
		}
	}
	label_render(r, &lp, NULL, 200, NULL, 0, NULL);
}

/* POST /projects/:id/items/:item: submit, skip, or an editor step. */
void handle_label_submit(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	long long item_id = catalog_parse_id(route_param(&r->params, "item"));
	const char *action = req_form(r, "action"), *token = req_form(r, "lease");
	enum queue_action act = QUEUE_STEP;
	struct label_page lp;
	const char *json, *classes;
	int rc;

	if (id == 0 || item_id == 0) {
		not_found(r, "There is no such image in this project.");
		return;
	}
	if (action != NULL && strcmp(action, "submit") == 0)
		act = QUEUE_SUBMIT;
	else if (action != NULL && strcmp(action, "skip") == 0)
		act = QUEUE_SKIP;
	if (page_load(r, id, item_id, &lp) != 0)
		return;
	if (strcmp(lp.pg.state, "paused") == 0) {
		outcome_respond(r, id, QUEUE_NOT_RUNNING);
		return;
	}
	if (strcmp(lp.pg.state, "running") != 0) {
		page_error(r, 409, "Project not running",
		    "This project is not running, so nothing was saved.");
		return;
	}
	if (!lp.pg.facts.found) {
		outcome_respond(r, id, QUEUE_NO_ITEM);
		return;
	}
	rc = queue_page_check(r->db, r->arena, id, r->session->user_id, token, act, &lp.pg);
	if (rc != QUEUE_OK) {
		outcome_respond(r, id, rc);
		return;
	}
	if (act == QUEUE_SKIP) {
		rc = queue_skip(r->db, r->arena, id, item_id, r->session->user_id, token);
		outcome_respond(r, id, rc);
		return;
	}
	if (lp.plugin == NULL) {
		plugin_missing(r, &lp);
		return;
	}
	if (answer_read(r, &lp, NULL, act, &json, &classes) != 0)
		return;
	rc = queue_submit(r->db, r->arena, id, item_id, r->session->user_id, token, json, classes);
	outcome_respond(r, id, rc);
}

/* ------------------------------------------------------------ an answer's editor */

/* The page facts of e's item in project id for the editor of a stored
 * answer.  0, or 1 when a response was made (no such project or item, the
 * task type not loaded). */
static int edit_load(struct request *r, long long id, const struct answer_edit *e,
    struct label_page *lp)
{
	if (page_load(r, id, e->item_id, lp) != 0)
		return 1;
	if (!lp->pg.facts.found) {
		not_found(r, "There is no such image in this project.");
		return 1;
	}
	if (lp->plugin == NULL) {
		plugin_missing(r, lp);
		return 1;
	}
	return 0;
}

void label_edit_show(struct request *r, long long id, const struct answer_edit *e,
    const struct labeld_field *fields, size_t nfields)
{
	struct label_page lp;

	if (edit_load(r, id, e, &lp) == 0)
		label_render(r, &lp, e, 200, fields, nfields, NULL);
}

int label_edit_read(struct request *r, long long id, const struct answer_edit *e,
    const char **json, const char **classes)
{
	const char *action = req_form(r, "action");
	struct label_page lp;

	if (edit_load(r, id, e, &lp) != 0)
		return 1;
	return answer_read(r, &lp, e, action != NULL && strcmp(action, "submit") == 0 ?
	    QUEUE_SUBMIT : QUEUE_STEP, json, classes);
}

/* ------------------------------------------------------------ images */

/* The media type for a stored format name ("png", "jpeg", ...). */
static const char *format_media_type(const char *format)
{
	static const enum image_format all[] = {
		IMAGE_PNG, IMAGE_JPEG, IMAGE_GIF, IMAGE_BMP, IMAGE_WEBP,
	};

	for (size_t i = 0; format != NULL && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(format, image_format_name(all[i])) == 0)
			return image_media_type(all[i]);
	return "application/octet-stream";
}

/* GET /projects/:id/items/:item/image: only the image of an item of this
 * project that the user may see (NEED_IMAGE checked that and left the
 * item in r->preload): the browser never names a path.  Files of the
 * built-in datastore reached without a symlink are sent by nginx
 * (X-Accel-Redirect); others are streamed by labeld itself, never held in
 * memory whole. */
void handle_item_image(struct request *r)
{
	const struct queue_image *img = r->preload;
	const char *type;
	struct datastore ds;
	char err[256];
	int rc;

	if (img == NULL) {   /* a route without NEED_IMAGE */
		not_found(r, "There is no such image in this project.");
		return;
	}
	type = format_media_type(img->format);
	if (datastore_path_check(img->path, err, sizeof(err)) < 0) {
		log_error("item image %s: stored path refused: %s", img->path, err);
		page_error(r, 500, "Internal error", "The image's stored path is not valid.");
		return;
	}
	/* nginx follows no symlink (disable_symlinks on): a file reached
	 * through one that stays inside the datastore is streamed below. */
	if (img->builtin_local && datastore_local_plain(r->app->cfg.datastore_dir, img->path)) {
		char *uri = queue_accel_uri(r->arena, "/_datastore/", img->path);
		if (uri == NULL) {
			page_error(r, 500, "Internal error", "Out of memory.");
			return;
		}
		resp_header(r, "X-Accel-Redirect", uri);
		resp_header(r, "Cache-Control", IMAGE_CACHE);
		resp_bytes(r, 200, type, NULL, 0);
		return;
	}
	rc = catalog_datastore_load(r->db, r->arena, img->datastore_id, &ds);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	send_file(r, &ds, img->path, type, &image_kind);
}

/* ------------------------------------------------------------ pause/start */

/* POST /projects/:id/state (admins): state=running|paused. */
void handle_project_state(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	const char *state = req_form(r, "state"), *back;
	int running, rc;

	if (id == 0) {
		not_found(r, "There is no such project.");
		return;
	}
	if (state != NULL && strcmp(state, "running") == 0) {
		running = 1;
	} else if (state != NULL && strcmp(state, "paused") == 0) {
		running = 0;
	} else {
		page_error(r, 422, "Unknown state",
		    "A project can be set to running or paused only; use the Pause or Start button.");
		return;
	}
	rc = queue_set_running(r->db, r->arena, id, running, r->session->user_id);
	if (rc == QUEUE_NO_ITEM) {
		not_found(r, "There is no such project.");
		return;
	}
	if (rc == QUEUE_NOT_RUNNING) {
		page_error(r, 409, "Cannot change the state",
		    "Only a running or paused project can be paused or started; this one is still "
		    "initializing or failed.");
		return;
	}
	if (rc != QUEUE_OK) {
		page_db_error(r, rc, "The project's state could not be changed");
		return;
	}
	/* Back to the page of the button: the Dashboard's sends back=dashboard. */
	back = req_form(r, "back");
	resp_redirect(r, 303, arena_printf(r->arena, "/projects/%lld%s?saved=%s", id,
	    back != NULL && strcmp(back, "dashboard") == 0 ? "/dashboard" : "",
	    running ? "started" : "paused"));
}
