/*
 * wizard.c: the create-project wizard.
 *
 * Everything entered is kept server-side in a draft (table project_drafts,
 * a JSON document owned by the admin who started it), so Back, Next and
 * reload never lose input: every POST first saves what was typed, then
 * checks it, then either redirects (303) to the next step or shows the same
 * step again with a 4xx status and the reason.
 *
 * Steps: name -> data -> (upload | datastore -> confirm) -> labels ->
 * instructions -> review.  Each step is one row of the table steps[] (what
 * it saves, how it checks, what comes next, how it renders); the handlers
 * at the end only walk that table.  The draft document (see docs/projects.md):
 *   name, task                      step "name"
 *   source ("existing", "upload", "datastore"), dataset_id       "data"
 *   ds_name, ds_description         the new dataset ("upload", "datastore")
 *   up_datastore, up_folder (Advanced settings, as typed); the target
 *   fixed by the first upload: upload_datastore_id, upload_dir,
 *   upload_existing; upload_files, upload_bytes, refused[{name, reason}],
 *   refused_count, upload_sent {key: stored name} (the JavaScript
 *   uploader's keys, so a file sent again is stored once)          "upload"
 *   datastore_id, path              "datastore"
 *   created_dataset                 name of a dataset made at "confirm"
 *   labels[]                        rows as typed (blank rows kept)
 *   instructions_url, description   "instructions"
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "blob.h"
#include "catalog.h"
#include "datastore.h"
#include "db.h"
#include "handlers.h"
#include "image.h"
#include "jobs.h"
#include "log.h"
#include "plugin.h"
#include "project_init.h"
#include "project_rules.h"
#include "projects_model.h"
#include "request.h"
#include "response.h"
#include "session.h"

/* Drafts nobody touched for this long are removed when a new one starts. */
#define DRAFT_LIFETIME_DAYS 30
/* Label rows shown on a fresh labels step. */
#define LABEL_ROWS_START 3
/* Refused uploads listed in a draft (all are counted). */
#define UPLOAD_REFUSED_KEPT 1000
/* Files counted in a chosen upload folder before the first upload; more
 * are shown as "more than". */
#define UPLOAD_EXISTING_MAX 10000
/* Default folders tried: "<name>", "<name>-2" .. "<name>-99". */
#define UPLOAD_FOLDER_TRIES 99
/* The labels step's button that adds a blank row. */
#define GO_ADDROW "addrow"

enum step { S_NAME, S_DATA, S_UPLOAD, S_DATASTORE, S_CONFIRM, S_LABELS, S_INSTRUCTIONS, S_REVIEW, S_COUNT };

/* The stages shown at the top; each step belongs to one. */
static const char *const stage_titles[] = {
	"Name and task type", "Data", "Label classes", "Instructions", "Review",
};

struct draft {
	long long id;
	struct json_object *d;   /* owned by the request (arena clean-up) */
};

/* One step of the wizard: one row of steps[] below. */
struct step_def {
	const char *name;   /* in the URL; the page is template wizard_<name> */
	int stage;          /* index into stage_titles */
	/* Copies the POSTed fields into the draft (*nul set for a NUL byte):
	 * 0, or a 4xx/5xx status with *msg when what was sent could not be
	 * kept (the typed fields are saved all the same).  NULL: the step has
	 * no fields. */
	int (*save)(struct request *r, struct draft *dr, const char *go, int *nul, const char **msg);
	/* Checks what was saved: 0, a 4xx status with *msg, or a DB_* error.
	 * NULL: nothing to check. */
	int (*check)(struct request *r, struct draft *dr, const char **msg);
	/* Where Next and Back go; next_fn and back_fn, when set, decide from
	 * the draft instead.  Back to S_COUNT leaves the wizard. */
	enum step next, back;
	enum step (*next_fn)(const struct draft *dr);
	enum step (*back_fn)(const struct draft *dr);
	/* A "go" value that saves and shows the step again (NULL: none). */
	const char *stay;
	/* Does the step's work and answers, instead of check and Next. */
	void (*finish)(struct request *r, struct draft *dr);
	/* Adds the step's own values to its page: DB_OK or a DB_* error. */
	int (*show)(struct request *r, struct draft *dr, struct json_object *v);
	/* The step a GET shows instead (S_COUNT: this one); NULL: always this. */
	enum step (*detour)(const struct draft *dr);
	/* Answers a POST that asks for JSON (Accept: application/json), instead
	 * of save, check and Next; NULL: such a POST is treated as any other. */
	void (*json)(struct request *r, struct draft *dr);
};

static const char *step_url(struct request *r, const struct draft *dr, enum step s);
static void step_render(struct request *r, struct draft *dr, enum step s, int status,
    const char *message);

/* ------------------------------------------------------------ helpers */

/* A string member of the draft ("" when missing). */
static const char *dstr(const struct draft *dr, const char *key)
{
	struct json_object *o;

	if (!json_object_object_get_ex(dr->d, key, &o) || !json_object_is_type(o, json_type_string))
		return "";
	return json_object_get_string(o);
}

static long long dint(const struct draft *dr, const char *key)
{
	struct json_object *o;

	if (!json_object_object_get_ex(dr->d, key, &o))
		return 0;
	return json_object_get_int64(o);
}

/* An array member of the draft, created when missing. */
static struct json_object *darr(struct draft *dr, const char *key)
{
	struct json_object *o;

	if (json_object_object_get_ex(dr->d, key, &o) && json_object_is_type(o, json_type_array))
		return o;
	o = json_object_new_array();
	json_object_object_add(dr->d, key, o);
	return o;
}

static void json_put_cleanup(void *p)
{
	json_object_put(p);
}

/* A positive decimal id; 0 when s is anything else. */
static long long id_parse(const char *s)
{
	char *end;
	long long v;

	if (s == NULL || *s < '0' || *s > '9' || strlen(s) > 18)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return 0;
	return v;
}

static void db_failed(struct request *r, int rc)
{
	page_db_error(r, rc, "The wizard could not go on");
}

/* s trimmed, as an arena copy ("" for NULL). */
static char *trim_copy(struct request *r, const char *s)
{
	size_t n;
	const char *t = rules_trim(s, s ? strlen(s) : 0, &n);

	return arena_strndup(r->arena, t, n);
}

/* A field of the POST body; *nul is set when it holds a NUL byte. */
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

/* Copy a posted field into the draft when it was sent. */
static void save_field(struct request *r, struct draft *dr, const char *field, const char *key, int *nul)
{
	const char *v = form_value(r, field, nul);

	if (v != NULL)
		view_str(dr->d, key, v);
}

/* Answers a failed check (status from a check_* function): a DB_* error
 * page, or step s again with the status and msg.  Returns whether it
 * answered, that is whether status was not 0. */
static int step_refused(struct request *r, struct draft *dr, enum step s, int status,
    const char *msg)
{
	if (status < 0)
		db_failed(r, status);
	else if (status > 0)
		step_render(r, dr, s, status, msg);
	return status != 0;
}

/* ------------------------------------------------------------ the draft */

/* Load the signed-in admin's draft from the route; 0, 1 when it is not
 * theirs or does not exist, or a DB_* error. */
static int draft_load(struct request *r, struct draft *dr)
{
	struct db_result *res;
	int rc;

	dr->id = id_parse(route_param(&r->params, "draft"));
	if (dr->id == 0)
		return 1;
	rc = db_query(r->db, r->arena, &res,
	    "SELECT data FROM project_drafts WHERE id = ? AND user_id = ?",
	    "ii", dr->id, r->session->user_id);
	if (rc != DB_OK)
		return rc;
	if (res->nrows == 0)
		return 1;
	dr->d = json_tokener_parse(db_value(res, 0, 0));
	if (dr->d == NULL || !json_object_is_type(dr->d, json_type_object)) {
		json_object_put(dr->d);
		log_warn("draft %lld: data is not a JSON object; starting it afresh", dr->id);
		dr->d = json_object_new_object();
	}
	if (dr->d == NULL || arena_cleanup_add(r->arena, json_put_cleanup, dr->d) < 0)
		return DB_ERR;
	return 0;
}

static int draft_save(struct request *r, const struct draft *dr)
{
	const char *text = json_object_to_json_string_ext(dr->d, JSON_C_TO_STRING_PLAIN);

	if (text == NULL)
		return DB_ERR;
	return db_exec(r->db, 0, NULL, NULL,
	    "UPDATE project_drafts SET data = ? WHERE id = ? AND user_id = ?",
	    "sii", text, dr->id, r->session->user_id);
}

void handle_draft_new(struct request *r)
{
	uint64_t id = 0;
	int rc;

	/* Drafts nobody touched for a long time go first (their uploads stay
	 * in the datastore's uploads/ folder; see docs/projects.md). */
	rc = db_exec(r->db, 0, NULL, NULL,
	    "DELETE FROM project_drafts WHERE updated_at < NOW(6) - INTERVAL ? DAY",
	    "i", (long long)DRAFT_LIFETIME_DAYS);
	if (rc == DB_OK)
		rc = db_exec(r->db, 0, NULL, &id,
		    "INSERT INTO project_drafts (user_id, data) VALUES (?, ?)",
		    "is", r->session->user_id, "{\"v\":1}");
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	resp_redirect(r, 303, arena_printf(r->arena, "/projects/drafts/%llu/name",
	    (unsigned long long)id));
}

/* ------------------------------------------------------------ views */

/* Loaded task plugins as radio choices. */
static struct json_object *tasks_view(struct request *r, const char *chosen)
{
	struct json_object *list = json_object_new_array();
	const struct plugin_set *set = r->rt->plugins;

	for (size_t i = 0; set != NULL && i < set->n; i++) {
		const struct labeld_plugin *p = set->v[i].desc;
		if (p == NULL || p->kind != LABELD_TASK)
			continue;
		struct json_object *o = json_object_new_object();
		view_str(o, "name", p->name);
		view_str(o, "title", p->title);
		view_str(o, "description", p->task && p->task->description ? p->task->description : "");
		view_bool(o, "checked", strcmp(p->name, chosen) == 0);
		json_object_array_add(list, o);
	}
	return list;
}

/* Input datasets as choices; *chosen_name gets the name of dataset `chosen`. */
static int datasets_view(struct request *r, long long chosen, struct json_object **out,
    const char **chosen_name)
{
	struct db_result *res;
	int rc = db_query(r->db, r->arena, &res,
	    "SELECT d.id, d.name, d.path, d.is_recursive, d.file_count, s.name, d.source "
	    "FROM datasets d JOIN datastores s ON s.id = d.datastore_id "
	    "WHERE d.kind = 'input' ORDER BY d.created_at DESC, d.id DESC LIMIT 500", "");

	if (rc != DB_OK)
		return rc;
	*out = json_object_new_array();
	if (chosen_name != NULL)
		*chosen_name = NULL;
	for (size_t i = 0; i < res->nrows; i++) {
		struct json_object *o = json_object_new_object();
		long long id = db_int(res, i, 0);
		view_int(o, "id", id);
		view_str(o, "name", db_value(res, i, 1));
		view_str(o, "where", arena_printf(r->arena, "%s: %s%s%s", db_value(res, i, 5),
		    db_value(res, i, 2)[0] ? db_value(res, i, 2) : "(the whole datastore)",
		    db_int(res, i, 3) ? "/**" : "",
		    strcmp(db_value(res, i, 6), "upload") == 0 ? " (uploaded)" : ""));
		if (db_value(res, i, 4) != NULL)
			view_int(o, "files", db_int(res, i, 4));
		view_bool(o, "checked", id == chosen);
		if (id == chosen && chosen_name != NULL)
			*chosen_name = db_value(res, i, 1);
		json_object_array_add(*out, o);
	}
	return DB_OK;
}

/* Every datastore as select options plus Browse links. */
static int datastores_view(struct request *r, const struct draft *dr, long long chosen,
    struct json_object **out, const char **chosen_name)
{
	struct db_result *res;
	int rc = db_query(r->db, r->arena, &res,
	    "SELECT id, name, kind, is_default FROM datastores ORDER BY is_default DESC, name", "");

	if (rc != DB_OK)
		return rc;
	*out = json_object_new_array();
	*chosen_name = NULL;
	for (size_t i = 0; i < res->nrows; i++) {
		struct json_object *o = json_object_new_object();
		long long id = db_int(res, i, 0);
		view_int(o, "id", id);
		view_str(o, "name", db_value(res, i, 1));
		view_str(o, "kind", strcmp(db_value(res, i, 2), "azureblob") == 0 ?
		    "Azure Blob container" : "local folder");
		view_bool(o, "is_default", db_int(res, i, 3));
		view_bool(o, "selected", id == chosen);
		view_str(o, "pick", step_url(r, dr, S_DATASTORE));
		if (id == chosen)
			*chosen_name = db_value(res, i, 1);
		json_object_array_add(*out, o);
	}
	return DB_OK;
}

/* The non-blank label rows of the draft, trimmed. */
static const char **labels_collect(struct request *r, struct draft *dr, size_t *n)
{
	struct json_object *rows = darr(dr, "labels");
	size_t total = json_object_array_length(rows);
	const char **out = arena_calloc(r->arena, total + 1, sizeof(*out));

	*n = 0;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < total; i++) {
		char *t = trim_copy(r, json_object_get_string(json_object_array_get_idx(rows, i)));
		if (t == NULL)
			return NULL;
		if (t[0] != '\0')
			out[(*n)++] = t;
	}
	return out;
}

/* The refused uploads ("refused", "has_refused", and "refused_more" when
 * more were refused than are listed), for the upload and confirm pages. */
static void refused_view(struct json_object *v, struct draft *dr)
{
	struct json_object *list = darr(dr, "refused");
	long long n = (long long)json_object_array_length(list), all = dint(dr, "refused_count");

	json_object_object_add(v, "refused", json_object_get(list));
	view_bool(v, "has_refused", n > 0);
	if (all > n)
		view_int(v, "refused_more", all - n);
}

/* A byte count for people: "812 bytes", "3.4 MiB" (arena-owned). */
static const char *bytes_text(struct request *r, long long n)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double x = (double)n;
	int u = -1;

	if (n < 1024)
		return arena_printf(r->arena, "%lld byte%s", n, n == 1 ? "" : "s");
	while (x >= 1024 && u < 3) {
		x /= 1024;
		u++;
	}
	return arena_printf(r->arena, "%.1f %s", x, units[u]);
}

/* Does the request ask for JSON (Accept: application/json)? */
static int wants_json(struct request *r)
{
	const char *accept = r->fcgx != NULL ? FCGX_GetParam("HTTP_ACCEPT", r->fcgx->envp) : NULL;

	return accept != NULL && strstr(accept, "application/json") != NULL;
}

/* Answer o (which this takes) as JSON with status. */
static void json_answer(struct request *r, int status, struct json_object *o)
{
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	if (text == NULL)
		resp_bytes(r, 500, "application/json", "{\"error\":\"out of memory\"}", 25);
	else
		resp_bytes(r, status, "application/json", text, strlen(text));
	json_object_put(o);
}

/* {"error": sentence} with status. */
static void json_error(struct request *r, int status, const char *sentence)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(sentence));
	json_answer(r, status, o);
}

/* ------------------------------------------------------------ checks */

/* Name and task: 0, or the status to answer with *msg. */
static int check_name(struct request *r, struct draft *dr, const char **msg)
{
	char *name = trim_copy(r, dstr(dr, "name")), err[256];
	struct db_result *res;
	int rc;

	if (project_name_check(name, strlen(name), err, sizeof(err)) < 0) {
		*msg = arena_strdup(r->arena, err);
		return 422;
	}
	rc = db_query(r->db, r->arena, &res, "SELECT id FROM projects WHERE name = ?", "s", name);
	if (rc != DB_OK)
		return rc;
	if (res->nrows > 0) {
		*msg = arena_printf(r->arena, "A project named \u201c%s\u201d already exists. "
		    "Choose another name.", name);
		return 409;
	}
	if (plugin_find(r->rt->plugins, LABELD_TASK, dstr(dr, "task")) == NULL) {
		*msg = "Choose a task type.";
		return 422;
	}
	return 0;
}

/* The new dataset's name and description. */
static int check_dataset_text(struct request *r, struct draft *dr, const char **msg)
{
	char *name = trim_copy(r, dstr(dr, "ds_name")), *desc = trim_copy(r, dstr(dr, "ds_description"));
	char err[256];
	struct db_result *res;
	int rc;

	if (project_name_check(name, strlen(name), err, sizeof(err)) < 0) {
		*msg = arena_printf(r->arena, "Dataset name: %s", err);
		return 422;
	}
	if (project_description_check(desc, strlen(desc), err, sizeof(err)) < 0) {
		*msg = arena_printf(r->arena, "Dataset description: %s", err);
		return 422;
	}
	rc = db_query(r->db, r->arena, &res, "SELECT id FROM datasets WHERE name = ?", "s", name);
	if (rc != DB_OK)
		return rc;
	if (res->nrows > 0) {
		*msg = arena_printf(r->arena, "A dataset named \u201c%s\u201d already exists. "
		    "Choose another name, or go Back and pick that dataset.", name);
		return 409;
	}
	return 0;
}

static int first_file(void *ctx, const char *path, uint64_t size)
{
	(void)path;
	(void)size;
	*(int *)ctx = 1;
	return 1;
}

static int any_folder(void *ctx, const char *path)
{
	(void)ctx;
	(void)path;
	return 0;
}

/* Datastore, path and folder of the "from a datastore" choice; on success
 * ds, folder and *recursive are filled. */
static int check_folder(struct request *r, struct draft *dr, struct datastore *ds,
    char *folder, size_t folderlen, int *recursive, const char **msg)
{
	const char *path = trim_copy(r, dstr(dr, "path"));
	char err[512];
	int rc;

	rc = catalog_datastore_load(r->db, r->arena, dint(dr, "datastore_id"), ds);
	if (rc != DB_OK)
		return rc;
	if (ds->id == 0) {
		*msg = "Choose a datastore.";
		return 422;
	}
	if (datastore_path_split(path, folder, folderlen, recursive) < 0) {
		*msg = "The path is too long.";
		return 422;
	}
	if (datastore_path_check(folder, err, sizeof(err)) < 0) {
		*msg = arena_printf(r->arena, "That path was refused: %s.", err);
		return 422;
	}
	if (ds->kind == DATASTORE_AZUREBLOB) {
		/* Blob folders exist when a blob lies under them. */
		int found = 0;
		if (datastore_walk(ds, folder, 1, first_file, &found, err, sizeof(err)) < 0) {
			log_warn("wizard: listing '%s' of datastore %lld failed: %s", folder, ds->id, err);
			*msg = BLOB_FAILED_SENTENCE;
			return 422;
		}
		if (!found) {
			*msg = arena_printf(r->arena, "No such folder: nothing is stored under \u201c%s\u201d "
			    "in %s.", folder[0] ? folder : "/", ds->name);
			return 422;
		}
		return 0;
	}
	if (datastore_folders(ds, folder, any_folder, NULL, err, sizeof(err)) < 0) {
		log_info("wizard: folder '%s' of datastore %lld refused: %s", folder, ds->id, err);
		*msg = arena_printf(r->arena, "No such folder: \u201c%s\u201d is not a folder of %s%s.",
		    folder, ds->name, strstr(err, "cross-device") || strstr(err, "outside") ?
		    " (it leads outside the datastore)" : "");
		return 422;
	}
	return 0;
}

/* The label rows of the draft: 0, 422 with *msg, or DB_ERR. */
static int check_labels(struct request *r, struct draft *dr, const char **msg)
{
	char err[512];
	size_t n;
	const char **labels = labels_collect(r, dr, &n);

	if (labels == NULL)
		return DB_ERR;
	if (project_labels_check(labels, n, r->app->cfg.max_labels, NULL, err, sizeof(err)) < 0) {
		*msg = arena_strdup(r->arena, err);
		return 422;
	}
	return 0;
}

static int check_instructions(struct request *r, struct draft *dr, const char **msg)
{
	char *url = trim_copy(r, dstr(dr, "instructions_url"));
	char *desc = trim_copy(r, dstr(dr, "description"));
	char err[512];

	if (project_url_check(url, strlen(url), err, sizeof(err)) < 0 ||
	    project_description_check(desc, strlen(desc), err, sizeof(err)) < 0) {
		*msg = arena_strdup(r->arena, err);
		return 422;
	}
	return 0;
}

/* The chosen dataset exists: 0, 422 with *msg, or a DB_* error. */
static int check_dataset_chosen(struct request *r, struct draft *dr, const char **msg)
{
	struct db_result *res;
	int rc = db_query(r->db, r->arena, &res,
	    "SELECT id FROM datasets WHERE id = ? AND kind = 'input'", "i", dint(dr, "dataset_id"));

	if (rc != DB_OK)
		return rc;
	if (res->nrows == 0) {
		*msg = "Choose a dataset.";
		return 422;
	}
	return 0;
}

/* ------------------------------------------------------------ uploads */

/* The draft's keys about its uploads: forgotten once their dataset is made. */
static const char *const upload_keys[] = {
	"upload_datastore_id", "upload_dir", "upload_existing", "upload_files", "upload_bytes",
	"refused", "refused_count", "up_datastore", "up_folder", "upload_sent",
};

/* Decide about one uploaded file from its bytes (read through fd into buf,
 * IMAGE_HEADER_CAP bytes): 0, or -1 with *reason. */
static int upload_file_check(struct request *r, int fd, unsigned char *buf, const char *name,
    const char **reason)
{
	struct datastore_reader rd;
	struct image_info info;
	char err[256] = "";
	size_t len = 0;
	int rc;

	datastore_reader_fd(&rd, fd);
	rc = project_init_check(name, &rd.rd, buf, IMAGE_HEADER_CAP, &len, 0,
	    r->app->cfg.max_image_pixels, &info, reason, err, sizeof(err));
	datastore_reader_close(&rd);
	if (rc < 0 && *reason == err) {
		log_error("wizard: reading the upload %s: %s", name, err);
		*reason = "the file could not be read";
	}
	return rc;
}

/* Note a refused file in the draft: the first UPLOAD_REFUSED_KEPT are
 * listed ("refused"), all are counted ("refused_count").  The entry also
 * goes to now (this request's refusals) when not NULL. */
static void refused_add(struct draft *dr, struct json_object *now, const char *raw,
    const char *reason)
{
	struct json_object *list = darr(dr, "refused"), *o = json_object_new_object();
	char shown[512];

	rules_display(raw && raw[0] ? raw : "(no name)", 120, shown, sizeof(shown));
	view_str(o, "name", shown);
	view_str(o, "reason", reason);
	view_int(dr->d, "refused_count", dint(dr, "refused_count") + 1);
	if (now != NULL)
		json_object_array_add(now, json_object_get(o));
	if (json_object_array_length(list) < UPLOAD_REFUSED_KEPT)
		json_object_array_add(list, o);
	else
		json_object_put(o);
}

/* A file of the POST's "files" field (browsers send an empty part when
 * none was chosen). */
static int upload_sent(const struct hp_file *f)
{
	return strcmp(f->field, "files") == 0 && !(f->filename[0] == '\0' && f->size == 0);
}

static int file_count(void *ctx, const char *path, uint64_t size)
{
	long long *n = ctx;

	(void)path;
	(void)size;
	return ++*n > UPLOAD_EXISTING_MAX;
}

/* Where the next upload of the draft goes, unless its first upload fixed
 * it already: the datastore and folder chosen under Advanced settings, both
 * checked (the default datastore when none was chosen; folder NULL when the
 * field was left empty: a folder named after the dataset).  0, 422 with
 * *msg, or a DB_* error. */
static int upload_choice(struct request *r, struct draft *dr, struct datastore *ds,
    const char **folder, const char **msg)
{
	const char *chosen = trim_copy(r, dstr(dr, "up_datastore"));
	const char *typed = trim_copy(r, dstr(dr, "up_folder"));
	char split[1100], err[512];
	int recursive = 0, rc;

	if (chosen[0] == '\0')
		rc = catalog_datastore_default(r->db, r->arena, ds);
	else
		rc = catalog_datastore_load(r->db, r->arena, id_parse(chosen), ds);
	if (rc != DB_OK)
		return rc;
	if (ds->id == 0) {
		*msg = chosen[0] == '\0' ? "There is no default datastore; choose one under "
		    "Advanced settings." : "There is no such datastore; choose one under "
		    "Advanced settings.";
		return 422;
	}
	*folder = NULL;
	if (typed[0] == '\0')
		return 0;
	if (datastore_path_split(typed, split, sizeof(split), &recursive) < 0) {
		*msg = "Folder: the path is too long.";
		return 422;
	}
	if (recursive) {
		*msg = "Folder: uploads go into one folder; leave out the \u201c/**\u201d.";
		return 422;
	}
	if (datastore_path_check(split, err, sizeof(err)) < 0) {
		*msg = arena_printf(r->arena, "Folder: %s.", err);
		return 422;
	}
	*folder = arena_strdup(r->arena, split);
	return 0;
}

/* The name of an input dataset whose folder is folder of datastore ds, or
 * NULL; DB_OK or a DB_* error. */
static int folder_dataset(struct request *r, const struct datastore *ds, const char *folder,
    const char **name)
{
	struct db_result *res;
	int rc = db_query(r->db, r->arena, &res,
	    "SELECT name FROM datasets WHERE datastore_id = ? AND path = ? AND kind = 'input' "
	    "LIMIT 1", "is", ds->id, folder);

	if (rc != DB_OK)
		return rc;
	*name = res->nrows > 0 ? db_value(res, 0, 0) : NULL;
	return DB_OK;
}

/* Answer a datastore_sink_* or walk failure rc of the folder: the status
 * with *msg (err goes to the log). */
static int sink_failed(struct request *r, const struct datastore *ds, const char *folder, int rc,
    const char *what, const char *err, const char **msg)
{
	if (rc == DATASTORE_UNREACHABLE) {
		log_warn("wizard: %s \u201c%s\u201d of datastore %lld: %s", what, folder, ds->id, err);
		*msg = BLOB_FAILED_SENTENCE;
		return 503;
	}
	log_error("wizard: %s \u201c%s\u201d of datastore %lld: %s", what, folder, ds->id, err);
	*msg = arena_printf(r->arena, "Uploads cannot be stored in \u201c%s\u201d of %s: %s",
	    folder[0] ? folder : "/", ds->name, err[0] ? err : "see the server log.");
	return 500;
}

/* Open the sink of folder in ds and count the files directly in it (up to
 * UPLOAD_EXISTING_MAX + 1) into *existing.  0, or a status with *msg. */
static int sink_open_counted(struct request *r, const struct datastore *ds, const char *folder,
    struct datastore_sink **sink, long long *existing, const char **msg)
{
	char err[512] = "";
	int rc = datastore_sink_open(ds, folder, sink, err, sizeof(err));

	if (rc != 0)
		return sink_failed(r, ds, folder, rc, "opening the upload folder", err, msg);
	*existing = 0;
	rc = datastore_walk(ds, folder, 0, file_count, existing, err, sizeof(err));
	if (rc != 0) {
		datastore_sink_close(*sink);
		*sink = NULL;
		return sink_failed(r, ds, folder, rc, "listing the upload folder", err, msg);
	}
	return 0;
}

/* Fix the draft's upload target at its first upload and open it: the
 * datastore and folder chosen, or for a folder left empty the first of
 * "<name>", "<name>-2", ... that holds no files and is no dataset's folder
 * (the dataset name made a path segment, upload_folder_default).  The
 * target goes into the draft (upload_datastore_id, upload_dir and
 * upload_existing: the files that were in the folder already).  0 with
 * *sink, or a status with *msg (a DB_* error as DB_*). */
static int upload_target_fix(struct request *r, struct draft *dr, struct datastore *ds,
    struct datastore_sink **sink, const char **msg)
{
	const char *folder = NULL, *taken = NULL;
	char base[UPLOAD_FOLDER_MAX + 1];
	long long existing = 0;
	int rc = upload_choice(r, dr, ds, &folder, msg);

	if (rc != 0)
		return rc;
	if (folder != NULL) {
		/* The folder the admin chose: its files are part of the dataset. */
		rc = folder_dataset(r, ds, folder, &taken);
		if (rc != DB_OK)
			return rc;
		if (taken != NULL) {
			*msg = arena_printf(r->arena, "Folder: \u201c%s\u201d of %s is the folder of the "
			    "dataset \u201c%s\u201d, which would change; choose another folder.",
			    folder[0] ? folder : "/", ds->name, taken);
			return 422;
		}
		rc = sink_open_counted(r, ds, folder, sink, &existing, msg);
		if (rc != 0)
			return rc;
	} else {
		if (upload_folder_default(trim_copy(r, dstr(dr, "ds_name")), base, sizeof(base)) == 0)
			snprintf(base, sizeof(base), "upload-%lld", dr->id);
		for (int k = 1; ; k++) {
			if (k > UPLOAD_FOLDER_TRIES) {
				*msg = arena_printf(r->arena, "Folders \u201c%s\u201d to \u201c%s-%d\u201d of %s "
				    "all hold files already; choose a folder under Advanced settings.",
				    base, base, UPLOAD_FOLDER_TRIES, ds->name);
				return 409;
			}
			folder = k == 1 ? arena_strdup(r->arena, base) : arena_printf(r->arena, "%s-%d", base, k);
			rc = folder_dataset(r, ds, folder, &taken);
			if (rc != DB_OK)
				return rc;
			if (taken != NULL)
				continue;
			rc = sink_open_counted(r, ds, folder, sink, &existing, msg);
			if (rc != 0)
				return rc;
			if (existing == 0)
				break;
			datastore_sink_close(*sink);
			*sink = NULL;
		}
	}
	view_int(dr->d, "upload_datastore_id", ds->id);
	view_str(dr->d, "upload_dir", folder);
	view_int(dr->d, "upload_existing", existing);
	return 0;
}

/* Open the draft's upload target: the one fixed by its first upload, or
 * fixed now.  0 with *sink and *ds, or a status with *msg. */
static int upload_target_open(struct request *r, struct draft *dr, struct datastore *ds,
    struct datastore_sink **sink, const char **msg)
{
	const char *dir = dstr(dr, "upload_dir");
	char err[512] = "";
	int rc;

	if (dint(dr, "upload_datastore_id") == 0)
		return upload_target_fix(r, dr, ds, sink, msg);
	rc = catalog_datastore_load(r->db, r->arena, dint(dr, "upload_datastore_id"), ds);
	if (rc != DB_OK)
		return rc;
	if (ds->id == 0) {
		*msg = "The datastore these files were uploaded to no longer exists; start a new "
		    "project.";
		return 409;
	}
	rc = datastore_sink_open(ds, dir, sink, err, sizeof(err));
	return rc == 0 ? 0 : sink_failed(r, ds, dir, rc, "opening the upload folder", err, msg);
}

/* What one POST of the upload step stored and refused. */
struct upload_batch {
	struct json_object *stored;     /* names as stored, this request */
	struct json_object *refused;    /* {name, reason}, this request */
	struct datastore ds;
	struct datastore_sink *sink;    /* opened at the first accepted file */
	unsigned char *head;            /* IMAGE_HEADER_CAP bytes */
};

/* Check one sent file and store it: counted in the draft and its name added
 * to b->stored, or its reason to the refusals.  0, or a status with *msg
 * when the upload cannot go on (the target is bad or unreachable). */
static int upload_take(struct request *r, struct draft *dr, const struct hp_file *f,
    struct upload_batch *b, const char **msg)
{
	char name[UPLOAD_NAME_MAX + 1], stored[UPLOAD_NAME_MAX + 16], err[512] = "";
	const char *reason = NULL;
	int fd, rc = 0;

	if (upload_name_sanitize(f->filename, name, sizeof(name), err, sizeof(err)) < 0) {
		refused_add(dr, b->refused, f->filename, err);
		return 0;
	}
	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_error("wizard: upload temp file %s: %s", f->path, strerror(errno));
		refused_add(dr, b->refused, f->filename, "the upload could not be read");
		return 0;
	}
	if (upload_file_check(r, fd, b->head, name, &reason) < 0) {
		refused_add(dr, b->refused, f->filename, reason);
		close(fd);
		return 0;
	}
	if (b->sink == NULL)
		rc = upload_target_open(r, dr, &b->ds, &b->sink, msg);
	if (rc == 0) {
		rc = datastore_sink_put(b->sink, fd, f->size, name, stored, sizeof(stored), err,
		    sizeof(err));
		if (rc == 0) {
			json_object_array_add(b->stored, json_object_new_string(stored));
			view_int(dr->d, "upload_files", dint(dr, "upload_files") + 1);
			view_int(dr->d, "upload_bytes", dint(dr, "upload_bytes") + (long long)f->size);
		} else if (rc == DATASTORE_UNREACHABLE) {
			rc = sink_failed(r, &b->ds, dstr(dr, "upload_dir"), rc, "storing an upload in",
			    err, msg);
		} else {
			log_warn("wizard: storing %s in \u201c%s\u201d of datastore %lld: %s", name,
			    dstr(dr, "upload_dir"), b->ds.id, err);
			refused_add(dr, b->refused, f->filename, err[0] ? err : "the file could not be stored");
			rc = 0;
		}
	}
	close(fd);
	return rc;
}

/* Store the files of this POST into the draft's upload target (fixed at its
 * first upload).  Totals and refusals go into the draft, and what this POST
 * stored and refused into b (arrays owned by the caller).  0, or a status
 * with *msg when nothing more could be stored: the files stored before
 * stay counted. */
static int uploads_take(struct request *r, struct draft *dr, struct upload_batch *b,
    const char **msg)
{
	int nfiles = 0, rc = 0;

	for (size_t i = 0; i < r->form.nfiles; i++)
		nfiles += upload_sent(&r->form.files[i]);
	if (nfiles == 0)
		return 0;
	/* The image header of each file is read into one buffer. */
	b->head = malloc(IMAGE_HEADER_CAP);
	if (b->head == NULL) {
		*msg = "Uploads cannot be stored right now (out of memory).";
		return 500;
	}
	for (size_t i = 0; rc == 0 && i < r->form.nfiles; i++)
		if (upload_sent(&r->form.files[i]))
			rc = upload_take(r, dr, &r->form.files[i], b, msg);
	free(b->head);
	b->head = NULL;
	if (b->sink != NULL)
		datastore_sink_close(b->sink);
	b->sink = NULL;
	log_info("wizard: draft %lld: %d files sent, %zu stored (%lld in all in \u201c%s\u201d of "
	    "datastore %lld), %zu refused%s", dr->id, nfiles, json_object_array_length(b->stored),
	    dint(dr, "upload_files"), dstr(dr, "upload_dir"), dint(dr, "upload_datastore_id"),
	    json_object_array_length(b->refused), rc != 0 ? "; stopped" : "");
	return rc;
}

/* ------------------------------------------------------------ creating */

/* Check the new dataset of an upload or datastore choice (from) and find
 * its files: 0 with *ds and folder (and *recursive for a datastore), a 4xx
 * status with *msg, or a DB_* error. */
static int dataset_source(struct request *r, struct draft *dr, enum step from,
    struct datastore *ds, char *folder, size_t folderlen, int *recursive, const char **msg)
{
	int status = check_dataset_text(r, dr, msg), rc;

	if (status != 0)
		return status;
	if (from == S_DATASTORE)
		return check_folder(r, dr, ds, folder, folderlen, recursive, msg);
	if (dint(dr, "upload_files") == 0 || dint(dr, "upload_datastore_id") == 0) {
		*msg = "Add at least one image.";
		return 422;
	}
	rc = catalog_datastore_load(r->db, r->arena, dint(dr, "upload_datastore_id"), ds);
	if (rc != DB_OK)
		return rc;
	if (ds->id == 0) {
		*msg = "The datastore these files were uploaded to no longer exists.";
		return 409;
	}
	if ((size_t)snprintf(folder, folderlen, "%s", dstr(dr, "upload_dir")) >= folderlen)
		return DB_ERR;
	*recursive = 0;
	return 0;
}

/* Point the draft at the dataset just made and save it (inside the
 * caller's transaction). */
static int draft_use_dataset(struct request *r, struct draft *dr, long long id, const char *name)
{
	view_int(dr->d, "dataset_id", id);
	view_str(dr->d, "source", "existing");
	view_str(dr->d, "created_dataset", name);
	/* A later upload starts a new folder: this one belongs to the dataset now. */
	for (size_t i = 0; i < sizeof(upload_keys) / sizeof(upload_keys[0]); i++)
		json_object_object_del(dr->d, upload_keys[i]);
	return draft_save(r, dr);
}

/* Make the dataset of an upload or datastore choice, and point the draft at
 * it, in one transaction. */
static void dataset_create(struct request *r, struct draft *dr, enum step from)
{
	struct datastore ds = { 0 };
	char folder[1100];
	const char *msg = NULL, *name;
	long long id = 0;
	int recursive = 0, upload = from == S_UPLOAD, rc;

	rc = dataset_source(r, dr, from, &ds, folder, sizeof(folder), &recursive, &msg);
	if (step_refused(r, dr, from, rc, msg))
		return;
	name = trim_copy(r, dstr(dr, "ds_name"));
	rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = catalog_dataset_create(r->db, name, trim_copy(r, dstr(dr, "ds_description")),
		    ds.id, folder, recursive, upload ? "upload" : "datastore", r->session->user_id, &id);
	if (rc == DB_OK)
		rc = draft_use_dataset(r, dr, id, name);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	if (rc != DB_OK) {
		db_rollback(r->db);
		if (rc == DB_DUPLICATE)
			step_render(r, dr, from, 409, arena_printf(r->arena,
			    "A dataset named \u201c%s\u201d already exists. Choose another name.", name));
		else
			db_failed(r, rc);
		return;
	}
	log_info("wizard: draft %lld: dataset %lld \u201c%s\u201d created by %s", dr->id, id, name,
	    r->session->email);
	resp_redirect(r, 303, step_url(r, dr, S_LABELS));
}

/* Every step's check again before the project is made: 0, or the status
 * (with *at the step to show again and *msg). */
static int project_recheck(struct request *r, struct draft *dr, enum step *at, const char **msg)
{
	static const struct {
		enum step at;
		int (*check)(struct request *r, struct draft *dr, const char **msg);
	} order[] = {
		{ S_NAME, check_name },
		{ S_DATA, check_dataset_chosen },
		{ S_LABELS, check_labels },
		{ S_INSTRUCTIONS, check_instructions },
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int status = order[i].check(r, dr, msg);
		if (status != 0) {
			*at = order[i].at;
			return status;
		}
	}
	return 0;
}

/* Answer a project insert the database refused with rc (rolled back). */
static void project_refused(struct request *r, struct draft *dr, int rc, int labels_dup)
{
	if (rc == DB_DUPLICATE && labels_dup)
		step_render(r, dr, S_LABELS, 409, "Two of these label classes count as the same "
		    "to the database, which ignores case and accents (for example \u201cCafe\u201d "
		    "and \u201cCaf\u00e9\u201d). Make every name different.");
	else if (rc == DB_DUPLICATE)
		step_render(r, dr, S_NAME, 409, arena_printf(r->arena,
		    "A project named \u201c%s\u201d already exists. Choose another name.",
		    trim_copy(r, dstr(dr, "name"))));
	else if (rc == PROJECT_INVALID)
		step_render(r, dr, S_NAME, 422, "The project could not be created from what was entered; "
		    "check each step.");
	else
		db_failed(r, rc);
}

/* Review -> Create project: everything checked again, then one
 * transaction: the project, its labels, counters, init job, and the draft
 * removed. */
static void project_make(struct request *r, struct draft *dr)
{
	const char **labels, *msg = NULL;
	size_t n = 0;
	long long pid = 0;
	enum step at = S_NAME;
	int rc = project_recheck(r, dr, &at, &msg);

	if (step_refused(r, dr, at, rc, msg))
		return;
	labels = labels_collect(r, dr, &n);
	if (labels == NULL) {
		db_failed(r, DB_ERR);
		return;
	}
	rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = project_create(r->db, r->arena, dstr(dr, "name"), dstr(dr, "task"),
		    dint(dr, "dataset_id"), dstr(dr, "description"), dstr(dr, "instructions_url"),
		    labels, n, r->session->user_id, &pid);
	if (rc == DB_OK)
		rc = db_exec(r->db, 0, NULL, NULL,
		    "DELETE FROM project_drafts WHERE id = ? AND user_id = ?",
		    "ii", dr->id, r->session->user_id);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	if (rc != DB_OK) {
		int labels_dup = rc == DB_DUPLICATE && strstr(db_errmsg(r->db), "labels_name") != NULL;
		db_rollback(r->db);
		project_refused(r, dr, rc, labels_dup);
		return;
	}
	jobs_wake();
	log_info("wizard: project %lld \u201c%s\u201d created by %s from draft %lld", pid,
	    trim_copy(r, dstr(dr, "name")), r->session->email, dr->id);
	resp_redirect(r, 303, arena_printf(r->arena, "/projects/%lld", pid));
}

/* ------------------------------------------------------------ the steps */

/* Where each choice of "source" on the data step leads. */
static const struct {
	const char *name;
	const char *flag;   /* true on the data page when this one is chosen */
	enum step step;
} sources[] = {
	{ "existing", "src_existing", S_LABELS },
	{ "upload", "src_upload", S_UPLOAD },
	{ "datastore", "src_datastore", S_DATASTORE },
};

/* The step source src leads to; S_COUNT for anything else. */
static enum step source_step(const char *src)
{
	for (size_t i = 0; src != NULL && i < sizeof(sources) / sizeof(sources[0]); i++)
		if (strcmp(src, sources[i].name) == 0)
			return sources[i].step;
	return S_COUNT;
}

/* Step "name": the project's name and task type. */

static int save_name(struct request *r, struct draft *dr, const char *go, int *nul, const char **msg)
{
	save_field(r, dr, "name", "name", nul);
	save_field(r, dr, "task", "task", nul);
	return 0;
}

static int show_name(struct request *r, struct draft *dr, struct json_object *v)
{
	struct json_object *list = tasks_view(r, dstr(dr, "task"));

	view_str(v, "name", dstr(dr, "name"));
	view_bool(v, "no_tasks", json_object_array_length(list) == 0);
	json_object_object_add(v, "tasks", list);
	return DB_OK;
}

/* Step "data": an existing dataset, or a new one from uploads or a
 * datastore folder. */

static int save_data(struct request *r, struct draft *dr, const char *go, int *nul, const char **msg)
{
	const char *src = form_value(r, "source", nul), *ds = form_value(r, "dataset", nul);

	if (source_step(src) != S_COUNT)
		view_str(dr->d, "source", src);
	if (id_parse(ds) > 0)
		view_int(dr->d, "dataset_id", id_parse(ds));
	return 0;
}

static int check_data(struct request *r, struct draft *dr, const char **msg)
{
	const char *src = dstr(dr, "source");

	if (source_step(src) == S_COUNT) {
		*msg = "Choose where the images come from.";
		return 422;
	}
	if (strcmp(src, "existing") == 0)
		return check_dataset_chosen(r, dr, msg);
	return 0;
}

static enum step next_data(const struct draft *dr)
{
	return source_step(dstr(dr, "source"));
}

static int show_data(struct request *r, struct draft *dr, struct json_object *v)
{
	const char *src = dstr(dr, "source");
	struct json_object *list;
	int rc = datasets_view(r, dint(dr, "dataset_id"), &list, NULL);

	if (rc != DB_OK)
		return rc;
	json_object_object_add(v, "datasets", list);
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		view_bool(v, sources[i].flag, strcmp(src, sources[i].name) == 0);
	if (dstr(dr, "created_dataset")[0] != '\0')
		view_str(v, "created_dataset", dstr(dr, "created_dataset"));
	return DB_OK;
}

/* Step "upload": the new dataset's name, description and files, and where
 * they go (Advanced settings, until the first upload fixes it). */

static void save_upload_fields(struct request *r, struct draft *dr, int *nul)
{
	save_field(r, dr, "ds_name", "ds_name", nul);
	save_field(r, dr, "ds_description", "ds_description", nul);
	save_field(r, dr, "up_datastore", "up_datastore", nul);
	save_field(r, dr, "up_folder", "up_folder", nul);
}

static int save_upload(struct request *r, struct draft *dr, const char *go, int *nul, const char **msg)
{
	struct upload_batch b = { 0 };
	int rc;

	save_upload_fields(r, dr, nul);
	if (*nul)
		return 0;   /* answered as a NUL byte; nothing is stored */
	b.stored = json_object_new_array();
	b.refused = json_object_new_array();
	rc = uploads_take(r, dr, &b, msg);
	json_object_put(b.stored);
	json_object_put(b.refused);
	return rc;
}

static int check_upload(struct request *r, struct draft *dr, const char **msg)
{
	struct datastore ds;
	const char *folder;
	int status = check_dataset_text(r, dr, msg);

	if (status == 0 && dint(dr, "upload_datastore_id") == 0)
		status = upload_choice(r, dr, &ds, &folder, msg);
	if (status == 0 && dint(dr, "upload_files") == 0) {
		*msg = "Add at least one image: none was accepted so far.";
		return 422;
	}
	return status;
}

/* The upload totals ("received") and target ("fixed", "target_*",
 * "existing"), for the upload and confirm pages. */
static int upload_view(struct request *r, struct draft *dr, struct json_object *v)
{
	long long existing = dint(dr, "upload_existing");
	struct datastore ds;
	int rc;

	long long files = dint(dr, "upload_files");

	if (files > 0)
		view_str(v, "received", arena_printf(r->arena, "%lld image%s (%s)", files,
		    files == 1 ? "" : "s", bytes_text(r, dint(dr, "upload_bytes"))));
	if (dint(dr, "upload_datastore_id") == 0)
		return DB_OK;
	rc = catalog_datastore_load(r->db, r->arena, dint(dr, "upload_datastore_id"), &ds);
	if (rc != DB_OK)
		return rc;
	view_bool(v, "fixed", 1);
	view_str(v, "target_datastore", ds.id ? ds.name : "(a datastore that no longer exists)");
	view_str(v, "target_kind", ds.kind == DATASTORE_AZUREBLOB ? "Azure Blob container" :
	    "local folder");
	view_str(v, "target_folder", dstr(dr, "upload_dir")[0] ? dstr(dr, "upload_dir") : "/");
	if (existing > UPLOAD_EXISTING_MAX)
		view_str(v, "existing", arena_printf(r->arena, "more than %d files",
		    UPLOAD_EXISTING_MAX));
	else if (existing > 0)
		view_str(v, "existing", arena_printf(r->arena, "%lld file%s", existing,
		    existing == 1 ? "" : "s"));
	return DB_OK;
}

static int show_upload(struct request *r, struct draft *dr, struct json_object *v)
{
	struct json_object *list;
	const char *chosen = trim_copy(r, dstr(dr, "up_datastore")), *name;
	long long id = id_parse(chosen);
	int rc;

	view_str(v, "ds_name", dstr(dr, "ds_name"));
	view_str(v, "ds_description", dstr(dr, "ds_description"));
	view_str(v, "up_folder", dstr(dr, "up_folder"));
	refused_view(v, dr);
	rc = upload_view(r, dr, v);
	if (rc != DB_OK || dint(dr, "upload_datastore_id") != 0)
		return rc;
	/* The choice under Advanced settings: the default datastore first. */
	rc = datastores_view(r, dr, id, &list, &name);
	if (rc != DB_OK)
		return rc;
	if (id == 0 && json_object_array_length(list) > 0 && chosen[0] == '\0')
		view_bool(json_object_array_get_idx(list, 0), "selected", 1);
	json_object_object_add(v, "datastores", list);
	/* Open the disclosure when something other than the defaults is set. */
	view_bool(v, "advanced_open", chosen[0] != '\0' || dstr(dr, "up_folder")[0] != '\0');
	return DB_OK;
}

/* An upload key (the JavaScript uploader's, one per file, the same on
 * every try): 16 to 64 base64url characters. */
static int upload_key_ok(const char *k)
{
	size_t n = strlen(k);

	return n >= 16 && n <= 64 && strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == n;
}

/* Remember in the draft which name the file sent under key was stored as;
 * the oldest keys go past UPLOAD_KEYS_MAX (a retry comes within seconds). */
#define UPLOAD_KEYS_MAX 2000
static void upload_key_remember(struct draft *dr, const char *key, struct json_object *stored)
{
	struct json_object *keys;

	if (!json_object_object_get_ex(dr->d, "upload_sent", &keys) ||
	    !json_object_is_type(keys, json_type_object)) {
		keys = json_object_new_object();
		json_object_object_add(dr->d, "upload_sent", keys);
	}
	if (json_object_object_length(keys) >= UPLOAD_KEYS_MAX) {
		struct json_object_iterator it = json_object_iter_begin(keys);
		char *first = strdup(json_object_iter_peek_name(&it));
		if (first != NULL)
			json_object_object_del(keys, first);
		free(first);
	}
	json_object_object_add(keys, key, json_object_get(stored));
}

/* The upload step's JSON mode (Accept: application/json, for the
 * JavaScript uploader): the fields are saved and the files stored as by
 * the form, and the answer is {"stored": [...], "refused": [{name,
 * reason}], "files": N, "bytes": B} (N, B: the draft's totals) or a 4xx/5xx
 * {"error": sentence}. */
static void json_upload(struct request *r, struct draft *dr)
{
	struct upload_batch b = { 0 };
	struct json_object *o, *keys = NULL, *done = NULL;
	const char *msg = NULL, *key;
	int nul = 0, rc, saved;

	save_upload_fields(r, dr, &nul);
	key = form_value(r, "upload_key", &nul);
	if (nul) {
		json_error(r, 422, "A field held a NUL byte, which is not allowed; check what you "
		    "entered.");
		return;
	}
	if (key != NULL && !upload_key_ok(key)) {
		json_error(r, 422, "The upload's key is not 16 to 64 letters, digits, '-' or '_'.");
		return;
	}
	b.stored = json_object_new_array();
	b.refused = json_object_new_array();
	/* A file sent again under the key of a request whose answer was lost:
	 * the answer it had, and nothing stored twice. */
	if (key != NULL && json_object_object_get_ex(dr->d, "upload_sent", &keys) &&
	    json_object_object_get_ex(keys, key, &done)) {
		json_object_array_add(b.stored, json_object_get(done));
		saved = 0;
		goto answer;
	}
	saved = uploads_take(r, dr, &b, &msg);
	if (saved == 0 && key != NULL && json_object_array_length(b.stored) == 1)
		upload_key_remember(dr, key, json_object_array_get_idx(b.stored, 0));
answer:
	rc = draft_save(r, dr);
	if (rc != DB_OK || saved != 0) {
		json_object_put(b.stored);
		json_object_put(b.refused);
		if (rc != DB_OK)
			json_error(r, rc == DB_UNAVAILABLE ? 503 : 500, "The upload could not be saved "
			    "(the database failed; see the server log).");
		else if (saved < 0)
			json_error(r, saved == DB_UNAVAILABLE ? 503 : 500, "The upload could not be "
			    "saved (the database failed; see the server log).");
		else
			json_error(r, saved, msg != NULL ? msg : "The upload failed.");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "stored", b.stored);
	json_object_object_add(o, "refused", b.refused);
	json_object_object_add(o, "files", json_object_new_int64(dint(dr, "upload_files")));
	json_object_object_add(o, "bytes", json_object_new_int64(dint(dr, "upload_bytes")));
	json_answer(r, 200, o);
}

/* Step "datastore": the new dataset's name, description and folder. */

static int save_datastore(struct request *r, struct draft *dr, const char *go, int *nul,
    const char **msg)
{
	const char *ds = form_value(r, "datastore", nul);

	save_field(r, dr, "ds_name", "ds_name", nul);
	save_field(r, dr, "ds_description", "ds_description", nul);
	save_field(r, dr, "path", "path", nul);
	if (ds != NULL)
		view_int(dr->d, "datastore_id", id_parse(ds));
	return 0;
}

static int check_datastore(struct request *r, struct draft *dr, const char **msg)
{
	struct datastore ds;
	char folder[1100];
	int recursive, status = check_dataset_text(r, dr, msg);

	if (status == 0)
		status = check_folder(r, dr, &ds, folder, sizeof(folder), &recursive, msg);
	return status;
}

static int show_datastore(struct request *r, struct draft *dr, struct json_object *v)
{
	/* The Browse page sends folders back as ?datastore=ID&path=...: those
	 * prefill the form (saved only when it is sent). */
	long long chosen = dint(dr, "datastore_id");
	const char *path = dstr(dr, "path"), *name;
	const char *qds = req_query(r, "datastore"), *qpath = req_query(r, "path");
	struct json_object *list;
	int rc;

	if (id_parse(qds) > 0)
		chosen = id_parse(qds);
	if (qpath != NULL)
		path = qpath;
	rc = datastores_view(r, dr, chosen, &list, &name);
	if (rc != DB_OK)
		return rc;
	json_object_object_add(v, "datastores", list);
	view_str(v, "ds_name", dstr(dr, "ds_name"));
	view_str(v, "ds_description", dstr(dr, "ds_description"));
	view_str(v, "path", path);
	return DB_OK;
}

/* Step "confirm": the new dataset is made from the upload or datastore
 * choice. */

/* Confirm exists only for a new dataset; otherwise a GET goes to "data". */
static enum step detour_confirm(const struct draft *dr)
{
	enum step from = source_step(dstr(dr, "source"));

	return from == S_UPLOAD || from == S_DATASTORE ? S_COUNT : S_DATA;
}

static enum step back_confirm(const struct draft *dr)
{
	return strcmp(dstr(dr, "source"), "upload") == 0 ? S_UPLOAD : S_DATASTORE;
}

static void finish_confirm(struct request *r, struct draft *dr)
{
	enum step from = source_step(dstr(dr, "source"));

	if (from == S_UPLOAD || from == S_DATASTORE)
		dataset_create(r, dr, from);
	else
		resp_redirect(r, 303, step_url(r, dr, S_LABELS));
}

static int show_confirm(struct request *r, struct draft *dr, struct json_object *v)
{
	struct json_object *list = NULL;
	const char *name = NULL;
	char folder[1100];
	int upload = strcmp(dstr(dr, "source"), "upload") == 0, recursive = 0, rc;

	view_bool(v, "is_upload", upload);
	view_str(v, "ds_name", trim_copy(r, dstr(dr, "ds_name")));
	view_str(v, "ds_description", trim_copy(r, dstr(dr, "ds_description")));
	if (upload) {
		refused_view(v, dr);
		return upload_view(r, dr, v);
	}
	rc = datastores_view(r, dr, dint(dr, "datastore_id"), &list, &name);
	json_object_put(list);
	if (rc != DB_OK)
		return rc;
	view_str(v, "datastore_name", name ? name : "(no datastore chosen)");
	if (datastore_path_split(trim_copy(r, dstr(dr, "path")), folder, sizeof(folder), &recursive) < 0)
		folder[0] = '\0';
	view_str(v, "folder", folder[0] ? folder : "(the whole datastore)");
	view_bool(v, "recursive", recursive);
	return DB_OK;
}

/* Step "labels": the label classes, one row each (blank rows kept). */

static int save_labels(struct request *r, struct draft *dr, const char *go, int *nul,
    const char **msg)
{
	struct json_object *rows = json_object_new_array();

	for (size_t i = 0; i < r->form.nfields; i++) {
		const struct hp_field *f = &r->form.fields[i];
		if (strcmp(f->name, "label") != 0)
			continue;
		if (strlen(f->value) != f->value_len)
			*nul = 1;
		json_object_array_add(rows, json_object_new_string(f->value));
	}
	if (strcmp(go, GO_ADDROW) == 0)
		json_object_array_add(rows, json_object_new_string(""));
	json_object_object_add(dr->d, "labels", rows);
	return 0;
}

/* Append label i to a list on the page (the first nine get a number key);
 * returns the entry, which the list owns. */
static struct json_object *label_row_add(struct json_object *list, const char *field,
    const char *value, size_t i)
{
	struct json_object *o = json_object_new_object();

	view_str(o, field, value);
	if (i < 9)
		view_int(o, "key", (long long)i + 1);
	json_object_array_add(list, o);
	return o;
}

static int show_labels(struct request *r, struct draft *dr, struct json_object *v)
{
	struct json_object *rows = darr(dr, "labels"), *out = json_object_new_array();
	size_t n = json_object_array_length(rows);

	if (n == 0) {
		for (int i = 0; i < LABEL_ROWS_START; i++)
			json_object_array_add(rows, json_object_new_string(""));
		n = LABEL_ROWS_START;
	}
	for (size_t i = 0; i < n; i++)
		view_int(label_row_add(out, "value",
		    json_object_get_string(json_object_array_get_idx(rows, i)), i), "row", (long long)i + 1);
	json_object_object_add(v, "rows", out);
	view_int(v, "max_labels", r->app->cfg.max_labels);
	return DB_OK;
}

/* Step "instructions": a link and a description for the labelers. */

static int save_instructions(struct request *r, struct draft *dr, const char *go, int *nul,
    const char **msg)
{
	save_field(r, dr, "instructions_url", "instructions_url", nul);
	save_field(r, dr, "description", "description", nul);
	return 0;
}

static int show_instructions(struct request *r, struct draft *dr, struct json_object *v)
{
	view_str(v, "instructions_url", dstr(dr, "instructions_url"));
	view_str(v, "description", dstr(dr, "description"));
	return DB_OK;
}

/* Step "review": everything at once, and Create project. */

static int show_review(struct request *r, struct draft *dr, struct json_object *v)
{
	const struct plugin *p = plugin_find(r->rt->plugins, LABELD_TASK, dstr(dr, "task"));
	struct json_object *list = NULL;
	const char *name = NULL;
	size_t n;
	const char **labels = labels_collect(r, dr, &n);
	int rc;

	view_str(v, "name", trim_copy(r, dstr(dr, "name")));
	view_str(v, "task_title", p ? p->desc->title : "(no task type chosen)");
	rc = datasets_view(r, dint(dr, "dataset_id"), &list, &name);
	json_object_put(list);
	if (rc != DB_OK)
		return rc;
	view_str(v, "dataset_name", name ? name : "(no dataset chosen)");
	list = json_object_new_array();
	for (size_t i = 0; labels != NULL && i < n; i++)
		label_row_add(list, "name", labels[i], i);
	json_object_object_add(v, "labels", list);
	view_str(v, "instructions_url", trim_copy(r, dstr(dr, "instructions_url")));
	view_str(v, "description", trim_copy(r, dstr(dr, "description")));
	return DB_OK;
}

/* The wizard: a new step is one more row here (and its template). */
static const struct step_def steps[S_COUNT] = {
	[S_NAME] = { .name = "name", .stage = 0, .save = save_name, .check = check_name,
	    .next = S_DATA, .back = S_COUNT, .show = show_name },
	[S_DATA] = { .name = "data", .stage = 1, .save = save_data, .check = check_data,
	    .next = S_COUNT, .next_fn = next_data, .back = S_NAME, .show = show_data },
	[S_UPLOAD] = { .name = "upload", .stage = 1, .save = save_upload, .check = check_upload,
	    .next = S_CONFIRM, .back = S_DATA, .show = show_upload, .json = json_upload },
	[S_DATASTORE] = { .name = "datastore", .stage = 1, .save = save_datastore,
	    .check = check_datastore, .next = S_CONFIRM, .back = S_DATA, .show = show_datastore },
	[S_CONFIRM] = { .name = "confirm", .stage = 1, .finish = finish_confirm,
	    .next = S_COUNT, .back = S_COUNT, .back_fn = back_confirm, .show = show_confirm,
	    .detour = detour_confirm },
	[S_LABELS] = { .name = "labels", .stage = 2, .save = save_labels, .check = check_labels,
	    .next = S_INSTRUCTIONS, .back = S_DATA, .stay = GO_ADDROW, .show = show_labels },
	[S_INSTRUCTIONS] = { .name = "instructions", .stage = 3, .save = save_instructions,
	    .check = check_instructions, .next = S_REVIEW, .back = S_LABELS,
	    .show = show_instructions },
	[S_REVIEW] = { .name = "review", .stage = 4, .finish = project_make,
	    .next = S_COUNT, .back = S_INSTRUCTIONS, .show = show_review },
};

/* ------------------------------------------------------------ pages */

static const char *step_url(struct request *r, const struct draft *dr, enum step s)
{
	return arena_printf(r->arena, "/projects/drafts/%lld/%s", dr->id, steps[s].name);
}

static enum step step_parse(const char *s)
{
	for (int i = 0; s != NULL && i < S_COUNT; i++)
		if (strcmp(s, steps[i].name) == 0)
			return (enum step)i;
	return S_COUNT;
}

/* The stages at the top of the page of a step in stage `at`. */
static struct json_object *stages_view(int at)
{
	struct json_object *stages = json_object_new_array();

	for (int i = 0; i < (int)(sizeof(stage_titles) / sizeof(stage_titles[0])); i++) {
		struct json_object *o = json_object_new_object();
		view_int(o, "n", i + 1);
		view_str(o, "title", stage_titles[i]);
		view_bool(o, "current", at == i);
		view_bool(o, "done", at > i);
		json_object_array_add(stages, o);
	}
	return stages;
}

/* Render step s of the draft with status and an optional message. */
static void step_render(struct request *r, struct draft *dr, enum step s, int status,
    const char *message)
{
	struct json_object *v = view_new(r, "New project");
	int rc;

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	view_int(v, "draft", dr->id);
	view_str(v, "step", steps[s].name);
	view_str(v, "action", step_url(r, dr, s));
	if (message != NULL)
		view_str(v, "message", message);
	json_object_object_add(v, "stages", stages_view(steps[s].stage));
	rc = steps[s].show(r, dr, v);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	page_render(r, status, arena_printf(r->arena, "wizard_%s", steps[s].name), v);
}

/* Load the draft and step of the route: 1, or 0 when the error page (or
 * with json, the JSON error) was answered. */
static int draft_open(struct request *r, struct draft *dr, enum step s, int json)
{
	int rc = draft_load(r, dr);

	if (rc < 0) {
		if (json)
			json_error(r, rc == DB_UNAVAILABLE ? 503 : 500, "The draft could not be read "
			    "(the database failed; see the server log).");
		else
			db_failed(r, rc);
		return 0;
	}
	if (rc == 1 || s == S_COUNT) {
		if (json)
			json_error(r, 404, "There is no such draft project, or it is not yours.");
		else
			page_error(r, 404, "Not found", "There is no such draft project, or it is not yours.");
		return 0;
	}
	return 1;
}

void handle_draft_step(struct request *r)
{
	struct draft dr = { 0 };
	enum step s = step_parse(route_param(&r->params, "step")), to;

	if (!draft_open(r, &dr, s, 0))
		return;
	to = steps[s].detour != NULL ? steps[s].detour(&dr) : S_COUNT;
	if (to != S_COUNT) {
		resp_redirect(r, 303, step_url(r, &dr, to));
		return;
	}
	step_render(r, &dr, s, 200, NULL);
}

/* Every POST saves what was typed whatever the button; then Back leaves,
 * a stay button shows the step again, and Next checks and goes on. */
void handle_draft_step_post(struct request *r)
{
	struct draft dr = { 0 };
	enum step s = step_parse(route_param(&r->params, "step")), to;
	const struct step_def *st;
	const char *go = req_form(r, "go"), *msg = NULL;
	int json = s != S_COUNT && steps[s].json != NULL && wants_json(r), nul = 0, saved = 0, rc;

	if (!draft_open(r, &dr, s, json))
		return;
	st = &steps[s];
	if (json) {
		st->json(r, &dr);
		return;
	}
	if (go == NULL)
		go = "next";
	if (st->save != NULL)
		saved = st->save(r, &dr, go, &nul, &msg);
	rc = draft_save(r, &dr);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if (saved < 0) {
		db_failed(r, saved);
		return;
	}
	if (saved > 0) {
		step_render(r, &dr, s, saved, msg);
		return;
	}
	if (strcmp(go, "back") == 0) {
		to = st->back_fn != NULL ? st->back_fn(&dr) : st->back;
		resp_redirect(r, 303, to == S_COUNT ? "/projects" : step_url(r, &dr, to));
		return;
	}
	if (st->stay != NULL && strcmp(go, st->stay) == 0) {
		resp_redirect(r, 303, step_url(r, &dr, s));
		return;
	}
	if (nul) {
		step_render(r, &dr, s, 422, "A field held a NUL byte, which is not allowed; "
		    "check what you entered.");
		return;
	}
	if (st->finish != NULL) {
		st->finish(r, &dr);
		return;
	}
	rc = st->check != NULL ? st->check(r, &dr, &msg) : 0;
	if (step_refused(r, &dr, s, rc, msg))
		return;
	to = st->next_fn != NULL ? st->next_fn(&dr) : st->next;
	resp_redirect(r, 303, step_url(r, &dr, to));
}
