/*
 * projects.c: the projects home, a project's Details tab (with live
 * initialisation progress), the placeholder tabs, and the label and
 * instruction edits admins make after initialisation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "access.h"
#include "app.h"
#include "arena.h"
#include "catalog.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "plugin.h"
#include "project_rules.h"
#include "projects_model.h"
#include "request.h"
#include "response.h"
#include "session.h"

#define REFUSALS_SHOWN 100

/* ------------------------------------------------------------ helpers */

static void db_failed(struct request *r, int rc)
{
	page_db_error(r, rc, "The page could not be produced");
}

static void not_found(struct request *r)
{
	page_error(r, 404, "Not found", "There is no such project.");
}

/* The task type's title from its plugin, or a sentence saying it is not
 * loaded; *loaded says which. */
static const char *task_title(struct request *r, const char *task, int *loaded)
{
	const struct plugin *p = plugin_find(r->rt->plugins, LABELD_TASK, task);

	*loaded = p != NULL;
	if (p != NULL)
		return p->desc->title;
	return arena_printf(r->arena, "plugin %s not loaded", task ? task : "?");
}

/* "42%" of labeled items; "-" when there are none. */
static const char *percent_text(struct request *r, long long labeled, long long total)
{
	if (total <= 0)
		return "\u2013";
	if (labeled > 0 && labeled * 100 / total == 0)
		return "<1%";
	return arena_printf(r->arena, "%lld%%", labeled * 100 / total);
}

/* A value from the POST body with its length; *nul is set when it holds a
 * NUL byte (the C string then ends early). */
static const char *form_value(struct request *r, const char *name, int *nul)
{
	for (size_t i = 0; i < r->form.nfields; i++) {
		const struct hp_field *f = &r->form.fields[i];
		if (strcmp(f->name, name) == 0) {
			if (strlen(f->value) != f->value_len)
				*nul = 1;
			return f->value;
		}
	}
	return NULL;
}

/* s trimmed, as an arena copy ("" for NULL). */
static char *trim_copy(struct request *r, const char *s)
{
	size_t n;
	const char *t = rules_trim(s, s ? strlen(s) : 0, &n);

	return arena_strndup(r->arena, t, n);
}

/* ------------------------------------------------------------ the home */

void handle_projects(struct request *r)
{
	struct json_object *v = view_new(r, "Projects"), *list, *drafts;
	struct db_result *res;
	int rc;

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	/* Admins see every project; a labeler the projects one of their
	 * teams serves (access.h, the one rule). */
	rc = db_query(r->db, r->arena, &res,
	    "SELECT p.id, p.name, p.task, p.state, d.id, d.name, "
	    "COALESCE(c.items_total, 0), COALESCE(c.items_labeled, 0) "
	    "FROM projects p JOIN datasets d ON d.id = p.dataset_id "
	    "LEFT JOIN project_counters c ON c.project_id = p.id "
	    "WHERE ? = 1 OR " ACCESS_MEMBER_SQL("p.id") " "
	    "ORDER BY p.created_at DESC, p.id DESC", "ii", (long long)(r->session->is_admin != 0),
	    r->session->user_id);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	list = json_object_new_array();
	for (size_t i = 0; i < res->nrows; i++) {
		struct json_object *o = json_object_new_object();
		int loaded;
		view_int(o, "id", db_int(res, i, 0));
		view_str(o, "name", db_value(res, i, 1));
		view_str(o, "task_title", task_title(r, db_value(res, i, 2), &loaded));
		view_bool(o, "task_missing", !loaded);
		view_str(o, "state", db_value(res, i, 3));
		view_str(o, "state_text", project_state_title(db_value(res, i, 3)));
		view_int(o, "dataset_id", db_int(res, i, 4));
		view_str(o, "dataset_name", db_value(res, i, 5));
		view_int(o, "items", db_int(res, i, 6));
		view_str(o, "percent", percent_text(r, db_int(res, i, 7), db_int(res, i, 6)));
		json_object_array_add(list, o);
	}
	view_bool(v, "has_projects", res->nrows > 0);
	json_object_object_add(v, "projects", list);

	if (r->session->is_admin) {
		rc = db_query(r->db, r->arena, &res,
		    "SELECT id, data, DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i') FROM project_drafts "
		    "WHERE user_id = ? ORDER BY updated_at DESC, id DESC LIMIT 10",
		    "i", r->session->user_id);
		if (rc != DB_OK) {
			db_failed(r, rc);
			return;
		}
		drafts = json_object_new_array();
		for (size_t i = 0; i < res->nrows; i++) {
			struct json_object *o = json_object_new_object(), *data, *name;
			const char *shown = "";
			data = json_tokener_parse(db_value(res, i, 1));
			if (data != NULL && json_object_object_get_ex(data, "name", &name))
				shown = trim_copy(r, json_object_get_string(name));
			view_int(o, "id", db_int(res, i, 0));
			view_str(o, "name", shown && shown[0] ? shown : "Untitled project");
			view_str(o, "updated", db_value(res, i, 2));
			json_object_put(data);
			json_object_array_add(drafts, o);
		}
		view_bool(v, "has_drafts", res->nrows > 0);
		json_object_object_add(v, "drafts", drafts);
	}
	page_render(r, 200, "projects", v);
}

/* ------------------------------------------------------------ details */

/* What an edit form sent back, to show again after a refusal. */
struct typed {
	const char *form;          /* "labels" or "instructions" */
	const char *message;
	struct json_object *labels; /* [{id, name, key}] as typed, or NULL */
	struct json_object *new_rows; /* [{value, key}] */
	const char *url;
	const char *description;
};

/* The tab bar (handlers.h).  Dashboard, Data and Review are for the
 * project's reviewers and admins (docs/review.md). */
struct json_object *project_tabs_view(struct request *r, long long id, const char *current)
{
	static const struct {
		const char *name, *title;
		int reviewers;
	} names[] = {
		{ "details", "Details", 0 }, { "dashboard", "Dashboard", 1 }, { "data", "Data", 1 },
		{ "review", "Review", 1 }, { "team", "Team", 0 }, { "exports", "Exports", 0 },
	};
	struct json_object *tabs = json_object_new_array();
	int reviewer = r->session->is_admin || r->project_reviewer == 1;
	char href[64];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct json_object *t;
		if (names[i].reviewers && !reviewer)
			continue;
		t = json_object_new_object();
		if (i == 0)
			snprintf(href, sizeof(href), "/projects/%lld", id);
		else
			snprintf(href, sizeof(href), "/projects/%lld/%s", id, names[i].name);
		view_str(t, "href", href);
		view_str(t, "title", names[i].title);
		view_bool(t, "current", strcmp(names[i].name, current) == 0);
		json_object_array_add(tabs, t);
	}
	return tabs;
}

/* Load a project into a view (handlers.h). */
int project_view_load(struct request *r, long long id, struct json_object *v,
    const char **state_out)
{
	struct json_object *p = json_object_new_object();
	struct db_result *res;
	int rc, loaded;

	rc = db_query(r->db, r->arena, &res,
	    "SELECT p.id, p.name, p.task, p.dataset_id, d.name, p.description, p.instructions_url, "
	    "p.state, COALESCE(NULLIF(u.display_name, ''), u.email), "
	    "DATE_FORMAT(p.created_at, '%Y-%m-%d %H:%i'), COALESCE(c.items_total, 0), "
	    "COALESCE(c.items_labeled, 0), d.path, d.is_recursive, NULLIF(u.display_name, '') "
	    "FROM projects p JOIN datasets d ON d.id = p.dataset_id "
	    "LEFT JOIN users u ON u.id = p.created_by "
	    "LEFT JOIN project_counters c ON c.project_id = p.id WHERE p.id = ?",
	    "i", id);
	if (rc != DB_OK) {
		json_object_put(p);
		return rc;
	}
	if (res->nrows == 0) {
		json_object_put(p);
		return 1;
	}
	const char *state = db_value(res, 0, 7);
	view_int(p, "id", id);
	view_str(p, "name", db_value(res, 0, 1));
	view_str(p, "task", db_value(res, 0, 2));
	view_str(p, "task_title", task_title(r, db_value(res, 0, 2), &loaded));
	view_bool(p, "task_missing", !loaded);
	view_int(p, "dataset_id", db_int(res, 0, 3));
	view_str(p, "dataset_name", db_value(res, 0, 4));
	/* Admin-only facts (docs/access.md): where the images are kept, and
	 * people's email addresses. */
	if (r->session->is_admin) {
		view_str(p, "dataset_path", db_value(res, 0, 12));
		view_bool(p, "dataset_recursive", db_int(res, 0, 13));
		view_str(p, "created_by", db_value(res, 0, 8) ? db_value(res, 0, 8) : "a deleted user");
	} else {
		view_str(p, "created_by", db_value(res, 0, 14) ? db_value(res, 0, 14) : "an admin");
	}
	view_str(p, "description", db_value(res, 0, 5));
	view_str(p, "instructions_url", db_value(res, 0, 6));
	view_str(p, "state", state);
	view_str(p, "state_text", project_state_title(state));
	view_bool(p, "initializing", strcmp(state, "initializing") == 0);
	view_bool(p, "failed", strcmp(state, "failed") == 0);
	view_bool(p, "paused", strcmp(state, "paused") == 0);
	/* Pause/Start (labeling.c): admins, running or paused projects. */
	view_bool(p, "can_toggle", r->session->is_admin &&
	    (strcmp(state, "running") == 0 || strcmp(state, "paused") == 0));
	view_str(p, "created_at", db_value(res, 0, 9));
	view_int(p, "items", db_int(res, 0, 10));
	view_int(p, "items_labeled", db_int(res, 0, 11));
	view_str(p, "percent", percent_text(r, db_int(res, 0, 11), db_int(res, 0, 10)));
	json_object_object_add(v, "project", p);
	if (state_out != NULL)
		*state_out = arena_strdup(r->arena, state);
	return 0;
}

/* The project's latest init job: progress, rate, refusals; adds "job" and
 * "refusals" to v.  Its error and the refused files (their paths) are for
 * admins only (docs/access.md): a labeler gets the progress.  DB_* status. */
static int job_view_load(struct request *r, long long id, struct json_object *v)
{
	struct json_object *j, *list;
	struct db_result *res, *ref;
	int rc;

	rc = db_query(r->db, r->arena, &res,
	    "SELECT id, state, progress, total, refused, error, "
	    "TIMESTAMPDIFF(MICROSECOND, started_at, COALESCE(finished_at, heartbeat_at, NOW(6))) "
	    "FROM jobs WHERE project_id = ? AND kind = 'init' ORDER BY id DESC LIMIT 1",
	    "i", id);
	if (rc != DB_OK || res->nrows == 0)
		return rc;
	j = json_object_new_object();
	long long progress = db_int(res, 0, 2), refused = db_int(res, 0, 4);
	long long micros = db_int(res, 0, 6);
	view_str(j, "state", db_value(res, 0, 1));
	view_bool(j, "queued", strcmp(db_value(res, 0, 1), "queued") == 0);
	view_int(j, "progress", progress);
	view_bool(j, "listed", db_value(res, 0, 3) != NULL);
	view_int(j, "total", db_int(res, 0, 3));
	view_int(j, "refused", refused);
	if (r->session->is_admin)
		view_str(j, "error", db_value(res, 0, 5));
	if (micros > 0 && progress > 0) {
		double rate = (double)progress * 1e6 / (double)micros;
		view_str(j, "rate", arena_printf(r->arena, rate < 10 ? "%.1f" : "%.0f", rate));
	} else {
		view_str(j, "rate", "0");
	}
	json_object_object_add(v, "job", j);
	if (refused == 0 || !r->session->is_admin)
		return DB_OK;
	view_bool(v, "show_refusals", 1);
	rc = db_query(r->db, r->arena, &ref,
	    "SELECT path, reason FROM job_refusals WHERE job_id = ? ORDER BY id LIMIT "
	    "100", "i", db_int(res, 0, 0));
	if (rc != DB_OK)
		return rc;
	list = json_object_new_array();
	for (size_t i = 0; i < ref->nrows; i++) {
		struct json_object *o = json_object_new_object();
		char shown[800];
		rules_display(db_value(ref, i, 0), 200, shown, sizeof(shown));
		view_str(o, "path", shown);
		view_str(o, "reason", db_value(ref, i, 1));
		json_object_array_add(list, o);
	}
	json_object_object_add(v, "refusals", list);
	view_bool(v, "refusals_more", refused > (long long)ref->nrows);
	view_int(v, "refusals_shown", (long long)ref->nrows);
	return DB_OK;
}

/* The labels of project id as [{id, name, key}] in position order. */
static int labels_load(struct request *r, long long id, struct json_object **out)
{
	struct db_result *res;
	int rc = db_query(r->db, r->arena, &res,
	    "SELECT id, name FROM labels WHERE project_id = ? ORDER BY position", "i", id);

	if (rc != DB_OK)
		return rc;
	*out = json_object_new_array();
	for (size_t i = 0; i < res->nrows; i++) {
		struct json_object *o = json_object_new_object();
		view_int(o, "id", db_int(res, i, 0));
		view_str(o, "name", db_value(res, i, 1));
		if (i < 9)
			view_int(o, "key", (long long)i + 1);
		json_object_array_add(*out, o);
	}
	return DB_OK;
}

/* Render the Details tab of project id with `status`; typed (may be NULL)
 * carries a refused edit back into its form. */
static void details_render(struct request *r, long long id, int status, const struct typed *typed)
{
	struct json_object *v = view_new(r, "Project"), *labels = NULL, *p;
	const char *state = NULL, *saved = req_query(r, "saved");
	int rc;

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	rc = project_view_load(r, id, v, &state);
	if (rc == 1) {
		not_found(r);
		return;
	}
	if (rc == DB_OK)
		rc = job_view_load(r, id, v);
	if (rc == DB_OK)
		rc = labels_load(r, id, &labels);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	json_object_object_get_ex(v, "project", &p);
	json_object_object_add(v, "title", json_object_new_string(
	    json_object_get_string(json_object_object_get(p, "name"))));
	json_object_object_add(v, "labels", labels);
	json_object_object_add(v, "tabs", project_tabs_view(r, id, "details"));
	if (strcmp(state, "initializing") == 0)
		view_int(v, "refresh", 2);

	/* The edit forms: admins, once initialisation is over. */
	if (r->session->is_admin && strcmp(state, "initializing") != 0) {
		struct json_object *e = json_object_new_object(), *rows;
		view_bool(e, "show", 1);
		if (typed != NULL && typed->labels != NULL) {
			json_object_object_add(e, "labels", json_object_get(typed->labels));
			rows = json_object_get(typed->new_rows);
		} else {
			json_object_object_add(e, "labels", json_object_get(labels));
			rows = json_object_new_array();
			struct json_object *row = json_object_new_object();
			view_str(row, "value", "");
			json_object_array_add(rows, row);
		}
		/* Keys 1..9 continue over the new rows. */
		size_t have = json_object_array_length(json_object_object_get(e, "labels"));
		for (size_t i = 0; i < json_object_array_length(rows); i++) {
			struct json_object *row = json_object_array_get_idx(rows, i);
			json_object_object_del(row, "key");
			if (have + i < 9)
				view_int(row, "key", (long long)(have + i + 1));
		}
		json_object_object_add(e, "new_rows", rows);
		if (typed != NULL && typed->url != NULL) {
			view_str(e, "url", typed->url);
			view_str(e, "description", typed->description);
		} else {
			view_str(e, "url", json_object_get_string(json_object_object_get(p, "instructions_url")));
			view_str(e, "description", json_object_get_string(json_object_object_get(p, "description")));
		}
		if (typed != NULL && typed->message != NULL)
			view_str(e, strcmp(typed->form, "labels") == 0 ? "labels_message" : "instructions_message",
			    typed->message);
		json_object_object_add(v, "edit", e);
	} else if (typed != NULL && typed->message != NULL) {
		view_str(v, "message", typed->message);
	}
	if (saved != NULL && strcmp(saved, "labels") == 0)
		view_str(v, "saved", "The label classes were saved.");
	else if (saved != NULL && strcmp(saved, "instructions") == 0)
		view_str(v, "saved", "The instructions and description were saved.");
	else
		view_str(v, "saved", project_state_saved(saved));
	page_render(r, status, "project", v);
}

/* The sentence after Pause or Start (handlers.h). */
const char *project_state_saved(const char *saved)
{
	if (saved != NULL && strcmp(saved, "paused") == 0)
		return "The project is paused: no images are handed out, and every reservation "
		    "has ended.";
	if (saved != NULL && strcmp(saved, "started") == 0)
		return "The project is running: labelers get images again.";
	return NULL;
}

void handle_project_details(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));

	if (id == 0) {
		not_found(r);
		return;
	}
	details_render(r, id, 200, NULL);
}

/* A tab's view (handlers.h). */
struct json_object *project_tab_view(struct request *r, long long id, const char *title,
    const char *tab)
{
	struct json_object *v = view_new(r, title);
	int rc;

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return NULL;
	}
	rc = project_view_load(r, id, v, NULL);
	if (rc == 1) {
		not_found(r);
		return NULL;
	}
	if (rc != DB_OK) {
		db_failed(r, rc);
		return NULL;
	}
	json_object_object_add(v, "tabs", project_tabs_view(r, id, tab));
	return v;
}

void handle_project_tab(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	const char *tab = route_param(&r->params, "tab");

	if (id == 0 || tab == NULL) {
		not_found(r);
		return;
	}
	/* Every tab has a route of its own (routes.c); this one keeps the
	 * Details tab's other address and says what a wrong name is. */
	if (strcmp(tab, "details") == 0) {
		resp_redirect(r, 303, arena_printf(r->arena, "/projects/%lld", id));
		return;
	}
	page_error(r, 404, "Not found", "This project has no such tab.");
}

/* ------------------------------------------------------------ edits */

/* The project's state, or NULL when there is no such project; DB_* in *rc. */
static const char *project_state(struct request *r, long long id, int *rc)
{
	struct db_result *res;

	*rc = db_query(r->db, r->arena, &res, "SELECT state FROM projects WHERE id = ?", "i", id);
	if (*rc != DB_OK || res->nrows == 0)
		return NULL;
	return db_value(res, 0, 0);
}

void handle_project_labels(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	struct typed t = { .form = "labels" };
	struct json_object *current, *typed_labels, *rows;
	struct label_edit *edits;
	const char **names;
	const char *state, *go = req_form(r, "go");
	size_t n = 0, nlabels, nedits = 0, bad;
	char err[512];
	int rc, nul = 0;

	if (id == 0) {
		not_found(r);
		return;
	}
	state = project_state(r, id, &rc);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if (state == NULL) {
		not_found(r);
		return;
	}
	if (strcmp(state, "initializing") == 0) {
		t.message = "Label classes can be changed once the project has finished initializing.";
		details_render(r, id, 409, &t);
		return;
	}
	rc = labels_load(r, id, &current);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	nlabels = json_object_array_length(current);

	/* What was typed: existing labels by id ("label-ID"; a missing field
	 * keeps the name), then the new rows. */
	typed_labels = json_object_new_array();
	rows = json_object_new_array();
	names = arena_calloc(r->arena, nlabels + r->form.nfields + 1, sizeof(*names));
	edits = arena_calloc(r->arena, nlabels + r->form.nfields + 1, sizeof(*edits));
	if (names == NULL || edits == NULL) {
		json_object_put(current);
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	for (size_t i = 0; i < nlabels; i++) {
		struct json_object *l = json_object_array_get_idx(current, i);
		long long lid = json_object_get_int64(json_object_object_get(l, "id"));
		const char *old = json_object_get_string(json_object_object_get(l, "name"));
		const char *in = form_value(r, arena_printf(r->arena, "label-%lld", lid), &nul);
		struct json_object *o = json_object_new_object();
		view_int(o, "id", lid);
		view_str(o, "name", in ? in : old);
		if (i < 9)
			view_int(o, "key", (long long)i + 1);
		json_object_array_add(typed_labels, o);
		names[n] = trim_copy(r, in ? in : old);
		edits[nedits++] = (struct label_edit){ lid, names[n] };
		n++;
	}
	for (size_t i = 0; i < r->form.nfields; i++) {
		const struct hp_field *f = &r->form.fields[i];
		if (strcmp(f->name, "new") != 0)
			continue;
		if (strlen(f->value) != f->value_len)
			nul = 1;
		struct json_object *o = json_object_new_object();
		view_str(o, "value", f->value);
		json_object_array_add(rows, o);
		char *name = trim_copy(r, f->value);
		if (name != NULL && name[0] != '\0') {
			names[n] = name;
			edits[nedits++] = (struct label_edit){ 0, name };
			n++;
		}
	}
	json_object_put(current);
	t.labels = typed_labels;
	t.new_rows = rows;

	if (go != NULL && strcmp(go, "addrow") == 0) {
		struct json_object *o = json_object_new_object();
		view_str(o, "value", "");
		json_object_array_add(rows, o);
		details_render(r, id, 200, &t);
		goto out;
	}
	for (size_t i = 0; i < nlabels; i++) {
		if (names[i][0] == '\0') {
			t.message = arena_printf(r->arena, "Label %zu cannot be emptied: label classes are "
			    "never removed, because existing annotations use them. Rename it instead.", i + 1);
			details_render(r, id, 422, &t);
			goto out;
		}
	}
	if (nul) {
		t.message = "Label names may not contain control characters (the form held a NUL byte).";
		details_render(r, id, 422, &t);
		goto out;
	}
	if (project_labels_check(names, n, r->app->cfg.max_labels, &bad, err, sizeof(err)) < 0) {
		t.message = arena_strdup(r->arena, err);
		details_render(r, id, 422, &t);
		goto out;
	}
	rc = project_labels_apply(r->db, r->arena, id, edits, nedits);
	if (rc == DB_DUPLICATE) {
		t.message = "Two of these label classes count as the same to the database, which "
		    "ignores case and accents (for example \u201cCafe\u201d and \u201cCaf\u00e9\u201d). "
		    "Make every name different.";
		details_render(r, id, 409, &t);
		goto out;
	}
	if (rc == PROJECT_INVALID) {
		t.message = "The labels changed while you were editing them; check them and save again.";
		t.labels = NULL;
		details_render(r, id, 409, &t);
		goto out;
	}
	if (rc != DB_OK) {
		db_failed(r, rc);
		goto out;
	}
	log_info("project %lld: labels saved by %s (%zu labels)", id, r->session->email, n);
	resp_redirect(r, 303, arena_printf(r->arena, "/projects/%lld?saved=labels", id));
out:
	json_object_put(typed_labels);
	json_object_put(rows);
}

void handle_project_instructions(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	struct typed t = { .form = "instructions" };
	const char *state, *url_in, *desc_in;
	char *url, *desc, err[512];
	int rc, nul = 0;

	if (id == 0) {
		not_found(r);
		return;
	}
	state = project_state(r, id, &rc);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if (state == NULL) {
		not_found(r);
		return;
	}
	url_in = form_value(r, "instructions_url", &nul);
	desc_in = form_value(r, "description", &nul);
	t.url = url_in ? url_in : "";
	t.description = desc_in ? desc_in : "";
	url = trim_copy(r, url_in);
	desc = trim_copy(r, desc_in);
	if (url == NULL || desc == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	if (strcmp(state, "initializing") == 0)
		t.message = "The instructions can be changed once the project has finished initializing.";
	else if (nul)
		t.message = "The link and the description may not contain NUL bytes.";
	else if (project_url_check(url, strlen(url), err, sizeof(err)) < 0 ||
	    project_description_check(desc, strlen(desc), err, sizeof(err)) < 0)
		t.message = arena_strdup(r->arena, err);
	if (t.message != NULL) {
		details_render(r, id, strcmp(state, "initializing") == 0 ? 409 : 422, &t);
		return;
	}
	rc = project_instructions_set(r->db, id, url, desc);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	log_info("project %lld: instructions saved by %s", id, r->session->email);
	resp_redirect(r, 303, arena_printf(r->arena, "/projects/%lld?saved=instructions", id));
}
