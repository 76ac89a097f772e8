/*
 * datasets.c: the Datasets section: the list of datasets and a dataset's
 * details with the projects that use it.  Datasets are created by the
 * create-project wizard (catalog_dataset_create).  The labeled datasets
 * (finished exports) listed below them are exports.c's.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "buf.h"
#include "catalog.h"
#include "db.h"
#include "handlers.h"
#include "projects_model.h"
#include "request.h"
#include "response.h"

#define DATASETS_MAX 1000   /* rows on the list page */

static void db_failed(struct request *r, int rc)
{
	page_db_error(r, rc, "The datasets could not be read");
}

/* How a dataset's folder is written: "a/b", or for a recursive dataset the
 * same followed by slash-star-star; "**" for all of a datastore, "(root)" for
 * its root folder alone. */
static const char *path_text(struct arena *a, const char *path, int recursive)
{
	if (path == NULL || path[0] == '\0')
		return recursive ? "**" : "(root)";
	return recursive ? arena_printf(a, "%s/**", path) : path;
}

/* The file count, or what stands for it while unknown. */
static const char *count_text(struct arena *a, const char *count, int counting)
{
	if (count != NULL)
		return count;
	return counting ? "counting\xe2\x80\xa6" : "\xe2\x80\x94";
}

/* The name a user is shown by: display name, else email; NULL when the
 * user is gone. */
static const char *user_text(const char *email, const char *display_name)
{
	if (email == NULL)
		return NULL;
	return display_name != NULL && display_name[0] != '\0' ? display_name : email;
}

void handle_datasets(struct request *r)
{
	struct json_object *v = view_new(r, "Datasets"), *list;
	struct db_result *res;
	int rc;

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	rc = db_query(r->db, r->arena, &res,
	    "SELECT d.id, d.name, s.id, s.name, d.path, d.is_recursive, d.file_count, d.source, "
	    "DATE_FORMAT(d.created_at, '%Y-%m-%d %H:%i'), u.email, u.display_name, "
	    "EXISTS (SELECT 1 FROM projects p WHERE p.dataset_id = d.id "
	    "AND p.state = 'initializing'), d.kind "
	    "FROM datasets d JOIN datastores s ON s.id = d.datastore_id "
	    "LEFT JOIN users u ON u.id = d.created_by "
	    "ORDER BY d.created_at DESC, d.id DESC LIMIT ?", "i", (long long)DATASETS_MAX + 1);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	list = json_object_new_array();
	for (size_t i = 0; i < res->nrows && i < DATASETS_MAX; i++) {
		struct json_object *o = json_object_new_object();
		view_str(o, "id", db_value(res, i, 0));
		view_str(o, "name", db_value(res, i, 1));
		view_str(o, "datastore_id", db_value(res, i, 2));
		view_str(o, "datastore", db_value(res, i, 3));
		view_str(o, "path", path_text(r->arena, db_value(res, i, 4), db_int(res, i, 5) != 0));
		view_str(o, "files", count_text(r->arena, db_value(res, i, 6), db_int(res, i, 11) != 0));
		view_str(o, "source", strcmp(db_value(res, i, 7), "upload") == 0 ? "Upload" : "Datastore");
		view_str(o, "created", db_value(res, i, 8));
		view_str(o, "created_by", user_text(db_value(res, i, 9), db_value(res, i, 10)));
		json_object_object_add(o, "labeled", json_object_new_boolean(
		    strcmp(db_value(res, i, 12), "labeled") == 0));
		json_object_array_add(list, o);
	}
	json_object_object_add(v, "datasets", list);
	if (res->nrows > DATASETS_MAX)
		view_str(v, "more", arena_printf(r->arena, "Only the newest %d datasets are shown.",
		    DATASETS_MAX));
	/* Every finished export is a labeled dataset (exports.c). */
	rc = labeled_datasets_view(r, v);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	page_render(r, 200, "datasets", v);
}

void handle_dataset_details(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	struct json_object *v, *projects;
	struct db_result *res, *pres;
	const char *path;
	struct buf href;
	int rc, recursive;

	if (id == 0) {
		page_error(r, 404, "No such dataset", "There is no dataset with this address.");
		return;
	}
	rc = db_query(r->db, r->arena, &res,
	    "SELECT d.id, d.name, d.description, s.id, s.name, s.kind, d.path, d.is_recursive, "
	    "d.file_count, d.source, d.kind, DATE_FORMAT(d.created_at, '%Y-%m-%d %H:%i'), "
	    "u.email, u.display_name "
	    "FROM datasets d JOIN datastores s ON s.id = d.datastore_id "
	    "LEFT JOIN users u ON u.id = d.created_by WHERE d.id = ?", "i", id);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if (res->nrows == 0) {
		page_error(r, 404, "No such dataset", "There is no dataset with this number.");
		return;
	}
	rc = db_query(r->db, r->arena, &pres,
	    "SELECT p.id, p.name, p.task, p.state, DATE_FORMAT(p.created_at, '%Y-%m-%d %H:%i') "
	    "FROM projects p WHERE p.dataset_id = ? ORDER BY p.id", "i", id);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if ((v = view_new(r, db_value(res, 0, 1))) == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	path = db_value(res, 0, 6);
	recursive = db_int(res, 0, 7) != 0;
	view_str(v, "id", db_value(res, 0, 0));
	view_str(v, "name", db_value(res, 0, 1));
	view_str(v, "description", db_value(res, 0, 2));
	view_str(v, "datastore_id", db_value(res, 0, 3));
	view_str(v, "datastore", db_value(res, 0, 4));
	view_str(v, "datastore_kind", strcmp(db_value(res, 0, 5), "azureblob") == 0 ?
	    "Azure Blob container" : "Local directory");
	view_str(v, "path", path_text(r->arena, path, recursive));
	view_str(v, "scope", recursive ? "This folder and all its subfolders" : "This folder only");
	view_str(v, "source", strcmp(db_value(res, 0, 9), "upload") == 0 ?
	    "Uploaded files" : "A folder of a datastore");
	view_str(v, "kind", strcmp(db_value(res, 0, 10), "labeled") == 0 ?
	    "Labeled (exported by a project)" : "Input images");
	view_str(v, "created", db_value(res, 0, 11));
	view_str(v, "created_by", user_text(db_value(res, 0, 12), db_value(res, 0, 13)));

	/* The folder in the datastore's Browse listing. */
	buf_init(&href, r->arena);
	buf_printf(&href, "/admin/datastores/%s", db_value(res, 0, 3));
	if (path != NULL && path[0] != '\0') {
		buf_adds(&href, "?path=");
		buf_add_url(&href, path, strlen(path));
	}
	buf_adds(&href, "#browse");
	if (!href.failed)
		view_str(v, "browse_href", href.data);

	projects = json_object_new_array();
	int counting = 0;
	for (size_t i = 0; i < pres->nrows; i++) {
		struct json_object *o = json_object_new_object();
		view_str(o, "id", db_value(pres, i, 0));
		view_str(o, "name", db_value(pres, i, 1));
		view_str(o, "task", db_value(pres, i, 2));
		view_str(o, "state", project_state_title(db_value(pres, i, 3)));
		view_str(o, "created", db_value(pres, i, 4));
		if (strcmp(db_value(pres, i, 3), "initializing") == 0)
			counting = 1;
		json_object_array_add(projects, o);
	}
	json_object_object_add(v, "projects", projects);
	view_str(v, "files", count_text(r->arena, db_value(res, 0, 8), counting));
	page_render(r, 200, "dataset_details", v);
}
