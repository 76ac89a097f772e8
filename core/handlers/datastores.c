/*
 * datastores.c: the admin's datastore pages: the list, the form to register
 * a local directory or an Azure Blob container, and a datastore's details
 * with a Browse listing of its folders (also the folder picker of the
 * create-project wizard).
 *
 * The picker: GET /admin/datastores/ID?pick=/projects/drafts/D/STEP shows,
 * for the current folder and each subfolder, the links
 *   PICK?datastore=ID&path=FOLDER        ("Use this folder")
 *   PICK?datastore=ID&path=FOLDER%2F**   ("Use with subfolders"; "**" alone
 *                                         for the root)
 * which the wizard reads to prefill its form.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "blob.h"
#include "buf.h"
#include "catalog.h"
#include "datastore.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "request.h"
#include "response.h"
#include "session.h"

#define ENDPOINT_HINT "https://ACCOUNT.blob.core.windows.net"
#define BROWSE_MAX_FOLDERS 2000       /* folders shown on one Browse page */
#define BROWSE_MAX_FILES 100000       /* files counted before giving up */
#define BROWSE_MAX_ENTRIES 50000      /* blob listing entries read at most */
#define TEST_CONNECT_MS 3000          /* the connection test when registering */
#define TEST_TOTAL_MS 10000

/* ------------------------------------------------------------ small helpers */

static void db_failed(struct request *r, int rc)
{
	page_db_error(r, rc, "The datastores could not be read");
}

/* The first POST field with a NUL byte in its value (after
 * percent-decoding), or NULL. */
static const char *field_with_nul(const struct request *r)
{
	for (size_t i = 0; i < r->form.nfields; i++)
		if (strlen(r->form.fields[i].value) != r->form.fields[i].value_len)
			return r->form.fields[i].name;
	return NULL;
}

/* A POST field without leading and trailing white space, in the arena; ""
 * when absent, NULL when out of memory. */
static char *form_trimmed(struct request *r, const char *name)
{
	const char *s = req_form(r, name);
	size_t len;

	if (s == NULL)
		return arena_strdup(r->arena, "");
	len = strlen(s);
	while (len > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
	    s[len - 1] == '\n'))
		len--;
	return arena_strndup(r->arena, s, len);
}

/* The allowed roots as a json array of strings (for the form's hint). */
static struct json_object *roots_array(struct request *r)
{
	struct json_object *arr = json_object_new_array();
	const char *p = catalog_local_roots(r->arena, &r->app->cfg);

	while (arr != NULL && p != NULL && *p != '\0') {
		size_t n = strcspn(p, ":");
		if (n > 0)
			json_object_array_add(arr, json_object_new_string_len(p, (int)n));
		p += n;
		if (*p == ':')
			p++;
	}
	return arr;
}

/* ------------------------------------------------------------ the list */

void handle_datastores(struct request *r)
{
	struct json_object *v = view_new(r, "Datastores"), *list;
	struct db_result *res;
	int rc;

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	rc = db_query(r->db, r->arena, &res,
	    "SELECT id, name, kind, local_path, blob_endpoint, blob_container, is_default, "
	    "DATE_FORMAT(created_at, '%Y-%m-%d %H:%i'), is_builtin FROM datastores "
	    "ORDER BY is_default DESC, is_builtin DESC, name, id", "");
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	list = json_object_new_array();
	for (size_t i = 0; i < res->nrows; i++) {
		struct json_object *o = json_object_new_object();
		int blob = strcmp(db_value(res, i, 2), "azureblob") == 0;
		view_str(o, "id", db_value(res, i, 0));
		view_str(o, "name", db_value(res, i, 1));
		view_str(o, "kind", blob ? "Azure Blob" : "Local directory");
		if (blob)
			view_str(o, "location", arena_printf(r->arena, "%s/%s",
			    db_value(res, i, 4) ? db_value(res, i, 4) : "",
			    db_value(res, i, 5) ? db_value(res, i, 5) : ""));
		else
			view_str(o, "location", db_value(res, i, 3));
		json_object_object_add(o, "is_default", json_object_new_boolean(db_int(res, i, 6) != 0));
		view_str(o, "created", db_value(res, i, 7));
		json_object_object_add(o, "is_builtin", json_object_new_boolean(db_int(res, i, 8) != 0));
		json_object_array_add(list, o);
	}
	json_object_object_add(v, "datastores", list);
	page_render(r, 200, "datastores", v);
}

/* ------------------------------------------------------------ the form */

/* What the form shows (also when it comes back with a message). */
struct ds_form {
	const char *kind;        /* "local" or "azureblob" */
	const char *name;
	const char *dir;
	const char *account;
	const char *container;
	const char *endpoint;
	const char *auth;        /* "sas" or "key" */
	int secret_typed;        /* a SAS token or key was entered (not shown again) */
};

static void form_page(struct request *r, int status, const struct ds_form *f, const char *message)
{
	int blob = strcmp(f->kind, "azureblob") == 0;
	struct json_object *v = view_new(r, blob ? "Add an Azure Blob datastore" :
	    "Add a local datastore");

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	view_str(v, "kind", blob ? "azureblob" : "local");
	json_object_object_add(v, "is_local", json_object_new_boolean(!blob));
	json_object_object_add(v, "is_blob", json_object_new_boolean(blob));
	view_str(v, "name", f->name);
	view_str(v, "dir", f->dir);
	view_str(v, "account", f->account);
	view_str(v, "container", f->container);
	view_str(v, "endpoint", f->endpoint);
	view_str(v, "endpoint_hint", ENDPOINT_HINT);
	json_object_object_add(v, "auth_key", json_object_new_boolean(f->auth && strcmp(f->auth, "key") == 0));
	json_object_object_add(v, "auth_sas", json_object_new_boolean(!f->auth || strcmp(f->auth, "key") != 0));
	json_object_object_add(v, "roots", roots_array(r));
	if (message != NULL)
		view_str(v, "message", message);
	if (blob && f->secret_typed)
		view_str(v, "secret_note", "For safety the SAS token or account key is never sent back "
		    "to the browser: enter the key again.");
	page_render(r, status, "datastore_new", v);
}

void handle_datastore_new(struct request *r)
{
	const char *kind = req_query(r, "kind");
	struct ds_form f = { .kind = "local", .auth = "sas" };

	if (kind != NULL && strcmp(kind, "azureblob") == 0)
		f.kind = "azureblob";
	else if (kind != NULL && kind[0] != '\0' && strcmp(kind, "local") != 0) {
		page_error(r, 404, "No such kind of datastore",
		    "A datastore is a local directory (kind=local) or an Azure Blob container "
		    "(kind=azureblob).");
		return;
	}
	form_page(r, 200, &f, NULL);
}

/* blob_list callback for the connection test: one entry is enough. */
static int first_entry(void *ctx, const char *name, uint64_t size, int is_prefix)
{
	return 1;
}

/* Everything the form sent (trimmed; the directory as typed) into f, the
 * secrets into *sas / *key.  0, or -1 when out of memory. */
static int form_read(struct request *r, struct ds_form *f, const char **sas, const char **key)
{
	const char *auth = req_form(r, "auth");
	const char *dir = req_form(r, "dir");

	f->name = form_trimmed(r, "name");
	f->dir = dir ? dir : "";
	f->account = form_trimmed(r, "account");
	f->container = form_trimmed(r, "container");
	f->endpoint = form_trimmed(r, "endpoint");
	*sas = form_trimmed(r, "sas");
	*key = form_trimmed(r, "key");
	if (f->name == NULL || f->account == NULL || f->container == NULL ||
	    f->endpoint == NULL || *sas == NULL || *key == NULL)
		return -1;
	if (**sas == '?')
		(*sas)++;
	f->secret_typed = **sas != '\0' || **key != '\0';
	/* Which secret: the one field that was filled; the radio button when
	 * both (or neither) were. */
	if (**key != '\0' && **sas == '\0')
		f->auth = "key";
	else if (**sas != '\0' && **key == '\0')
		f->auth = "sas";
	else
		f->auth = auth != NULL && strcmp(auth, "key") == 0 ? "key" : "sas";
	return 0;
}

/* Register a local directory: f->dir checked and resolved into *resolved.
 * 0, 500 when out of memory, or 422 with the form answered. */
static int check_local(struct request *r, struct ds_form *f, char **resolved)
{
	char err[512], real[PATH_MAX];
	const char *roots = catalog_local_roots(r->arena, &r->app->cfg);

	if (roots == NULL)
		return 500;
	if (catalog_local_dir_check(f->dir, strlen(f->dir), err, sizeof(err)) < 0 ||
	    datastore_local_check(f->dir, roots, real, err, sizeof(err)) < 0) {
		form_page(r, 422, f, err);
		return 422;
	}
	*resolved = arena_strdup(r->arena, real);
	return *resolved != NULL ? 0 : 500;
}

/* Check an Azure Blob container's settings, then test them by listing one
 * entry.  acc is filled (strings in the arena).  0, 500 when out of memory,
 * or 422 with the form answered. */
static int check_blob(struct request *r, struct ds_form *f, const char *sas, const char *key,
    struct blob_account *acc)
{
	struct blob_limits lim;
	struct blob_client *c;
	char err[512], *m;
	int rc;

	memset(acc, 0, sizeof(*acc));
	if (catalog_blob_account_check(f->account, err, sizeof(err)) < 0 ||
	    catalog_blob_container_check(f->container, err, sizeof(err)) < 0)
		goto refuse;
	if (f->endpoint[0] == '\0') {
		acc->endpoint = arena_printf(r->arena, "https://%s.blob.core.windows.net", f->account);
	} else {
		char *ep = arena_strdup(r->arena, f->endpoint);
		size_t n = ep ? strlen(ep) : 0;
		while (n > 0 && ep[n - 1] == '/')
			ep[--n] = '\0';
		acc->endpoint = ep;
	}
	if (acc->endpoint == NULL)
		return 500;
	if (blob_endpoint_check(acc->endpoint, err, sizeof(err)) < 0) {
		m = arena_printf(r->arena, "The endpoint URL cannot be used: %s.", err);
		form_page(r, 422, f, m ? m : err);
		return 422;
	}
	if (strcmp(f->auth, "key") == 0) {
		if (catalog_blob_key_check(key, strlen(key), err, sizeof(err)) < 0)
			goto refuse;
		acc->key = key;
	} else {
		if (catalog_blob_sas_check(sas, strlen(sas), err, sizeof(err)) < 0)
			goto refuse;
		acc->sas = sas;
	}
	acc->account = f->account;
	acc->container = f->container;

	/* The test: short timeouts; the error sentence never repeats the
	 * remote body (blob.h). */
	blob_limits_default(&lim);
	lim.connect_timeout_ms = TEST_CONNECT_MS;
	lim.total_timeout_ms = TEST_TOTAL_MS;
	lim.max_response = (size_t)1 << 20;
	if ((c = blob_client_new(acc, &lim)) == NULL)
		return 500;
	rc = blob_list(c, "", NULL, 1, first_entry, NULL, err, sizeof(err));
	blob_client_free(c);
	if (rc < 0) {
		/* The details only in the log (blob.h, BLOB_FAILED_SENTENCE). */
		log_warn("datastore test of %s/%s for %s failed: %s", acc->endpoint, acc->container,
		    r->session->email, err);
		form_page(r, 422, f, BLOB_FAILED_SENTENCE);
		return 422;
	}
	return 0;
refuse:
	form_page(r, 422, f, err);
	return 422;
}

/* The label of a form field, for messages. */
static const char *field_label(const char *name)
{
	static const char *const labels[][2] = {
		{ "name", "The name" }, { "dir", "The directory" },
		{ "account", "The account name" }, { "container", "The container name" },
		{ "endpoint", "The endpoint URL" }, { "sas", "The SAS token" },
		{ "key", "The account key" },
	};
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(labels[i][0], name) == 0)
			return labels[i][1];
	return "A field";
}

void handle_datastore_create(struct request *r)
{
	struct ds_form f = { .kind = "local", .auth = "sas", .name = "", .dir = "",
	    .account = "", .container = "", .endpoint = "" };
	const char *kind = req_form(r, "kind"), *nul, *sas, *key;
	char err[256], *resolved = NULL, *loc;
	struct blob_account acc;
	struct db_result *res;
	uint64_t id = 0;
	int rc, blob;

	if (kind == NULL || (strcmp(kind, "local") != 0 && strcmp(kind, "azureblob") != 0)) {
		form_page(r, 400, &f, "Choose the kind of datastore: a local directory or an "
		    "Azure Blob container.");
		return;
	}
	f.kind = kind;
	blob = strcmp(kind, "azureblob") == 0;
	if ((nul = field_with_nul(r)) != NULL) {
		/* Keep what can be kept; the field with the NUL byte comes back empty. */
		if (form_read(r, &f, &sas, &key) < 0)
			goto oom;
		if (strcmp(nul, "dir") == 0)
			f.dir = "";
		else if (strcmp(nul, "name") == 0)
			f.name = "";
		snprintf(err, sizeof(err), "%s may not contain NUL bytes.", field_label(nul));
		form_page(r, 400, &f, err);
		return;
	}
	if (form_read(r, &f, &sas, &key) < 0)
		goto oom;
	if (catalog_name_check(f.name, strlen(f.name), err, sizeof(err)) < 0) {
		form_page(r, 422, &f, err);
		return;
	}
	/* A taken name is answered before any slow connection test. */
	rc = db_query(r->db, r->arena, &res, "SELECT id FROM datastores WHERE name = ?", "s", f.name);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if (res->nrows > 0) {
		form_page(r, 409, &f, "A datastore with this name exists already; choose another name.");
		return;
	}

	memset(&acc, 0, sizeof(acc));
	rc = blob ? check_blob(r, &f, sas, key, &acc) : check_local(r, &f, &resolved);
	if (rc == 500)
		goto oom;
	if (rc != 0)
		return;

	rc = db_exec(r->db, 0, NULL, &id,
	    "INSERT INTO datastores (name, kind, local_path, blob_endpoint, blob_account, "
	    "blob_container, blob_sas, blob_key, is_default, created_by) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)", "ssssssssi",
	    f.name, blob ? "azureblob" : "local", resolved, acc.endpoint, acc.account,
	    acc.container, acc.sas, acc.key, r->session->user_id);
	if (rc == DB_DUPLICATE) {
		form_page(r, 409, &f, "A datastore with this name exists already; choose another name.");
		return;
	}
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	log_info("datastore %llu '%s' (%s) registered by %s", (unsigned long long)id, f.name,
	    blob ? "azureblob" : "local", r->session->email);
	if ((loc = arena_printf(r->arena, "/admin/datastores/%llu", (unsigned long long)id)) == NULL)
		goto oom;
	resp_redirect(r, 303, loc);
	return;
oom:
	page_error(r, 500, "Internal error", "Out of memory.");
}

/* ------------------------------------------------------------ details + Browse */

struct browse {
	struct arena *a;
	char **folders;
	size_t n, cap;
	size_t more;              /* folders beyond BROWSE_MAX_FOLDERS */
	size_t skipped;           /* folders whose names labeld cannot use */
	unsigned long long files; /* files directly in the folder */
	int files_capped;         /* counting stopped at a limit */
	size_t entries;           /* blob listing entries seen */
	int oom;
};

static void browse_add(struct browse *b, const char *path)
{
	char err[128];

	size_t n = strlen(path);

	/* Blob names may hold "//": such a "folder" would be the current one. */
	if (n == 0 || path[n - 1] == '/' || datastore_path_check(path, err, sizeof(err)) < 0) {
		b->skipped++;
		return;
	}
	if (b->n >= BROWSE_MAX_FOLDERS) {
		b->more++;
		return;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		char **nf = arena_calloc(b->a, cap, sizeof(*nf));
		if (nf == NULL) {
			b->oom = 1;
			return;
		}
		if (b->n > 0)
			memcpy(nf, b->folders, b->n * sizeof(*nf));
		b->folders = nf;
		b->cap = cap;
	}
	if ((b->folders[b->n] = arena_strdup(b->a, path)) == NULL)
		b->oom = 1;
	else
		b->n++;
}

static int browse_folder_cb(void *ctx, const char *path)
{
	browse_add(ctx, path);
	return ((struct browse *)ctx)->oom;
}

static int browse_file_cb(void *ctx, const char *path, uint64_t size)
{
	struct browse *b = ctx;

	if (++b->files >= BROWSE_MAX_FILES) {
		b->files_capped = 1;
		return 1;
	}
	return 0;
}

/* One level of a blob listing: prefixes are folders, blobs are counted. */
static int browse_blob_cb(void *ctx, const char *name, uint64_t size, int is_prefix)
{
	struct browse *b = ctx;
	size_t n = strlen(name);

	if (++b->entries >= BROWSE_MAX_ENTRIES) {
		b->files_capped = 1;
		return 1;
	}
	if (is_prefix) {
		char *p = arena_strndup(b->a, name, n > 0 && name[n - 1] == '/' ? n - 1 : n);
		if (p == NULL) {
			b->oom = 1;
			return 1;
		}
		browse_add(b, p);
	} else {
		b->files++;
	}
	return b->oom;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* /admin/datastores/ID[?path=P][&pick=K]#browse */
static char *browse_href(struct request *r, long long id, const char *path, const char *pick)
{
	struct buf b;

	buf_init(&b, r->arena);
	buf_printf(&b, "/admin/datastores/%lld", id);
	if (path[0] != '\0') {
		buf_adds(&b, "?path=");
		buf_add_url(&b, path, strlen(path));
	}
	if (pick != NULL) {
		buf_adds(&b, path[0] != '\0' ? "&pick=" : "?pick=");
		buf_add_url(&b, pick, strlen(pick));
	}
	buf_adds(&b, "#browse");
	return b.failed ? NULL : b.data;
}

/* PICK?datastore=ID&path=FOLDER[%2F**] (root: "" or "**"). */
static char *pick_href(struct request *r, const char *pick, long long id, const char *path,
    int recursive)
{
	struct buf b;
	char *value = recursive ? arena_printf(r->arena, "%s%s**", path, path[0] ? "/" : "") :
	    arena_strdup(r->arena, path);

	if (value == NULL)
		return NULL;
	buf_init(&b, r->arena);
	buf_printf(&b, "%s?datastore=%lld&path=", pick, id);
	buf_add_url(&b, value, strlen(value));
	return b.failed ? NULL : b.data;
}

/* Fill the view's Browse part for folder `path` (already checked). */
static void browse_view(struct request *r, struct json_object *v, const struct datastore *ds,
    const char *path, const char *pick)
{
	struct browse b = { .a = r->arena };
	struct json_object *crumbs = json_object_new_array(), *folders = json_object_new_array();
	char err[512] = "";
	int rc;

	/* The breadcrumb: the root, then each segment but the last as a link. */
	{
		struct json_object *c = json_object_new_object();
		view_str(c, "name", ds->name);
		view_str(c, "href", path[0] ? browse_href(r, ds->id, "", pick) : NULL);
		json_object_object_add(c, "is_link", json_object_new_boolean(path[0] != '\0'));
		json_object_array_add(crumbs, c);
		for (const char *p = path; *p != '\0'; ) {
			size_t n = strcspn(p, "/");
			char *upto = arena_strndup(r->arena, path, (size_t)(p - path) + n);
			int last = p[n] == '\0';
			c = json_object_new_object();
			json_object_object_add(c, "name", json_object_new_string_len(p, (int)n));
			view_str(c, "href", last || upto == NULL ? NULL : browse_href(r, ds->id, upto, pick));
			json_object_object_add(c, "is_link", json_object_new_boolean(!last));
			json_object_array_add(crumbs, c);
			p += n;
			if (*p == '/')
				p++;
		}
	}
	json_object_object_add(v, "crumbs", crumbs);
	view_str(v, "path", path);

	if (ds->kind == DATASTORE_AZUREBLOB) {
		struct blob_limits lim;
		struct blob_client *c;
		char *prefix = arena_printf(r->arena, "%s%s", path, path[0] ? "/" : "");
		blob_limits_default(&lim);
		lim.connect_timeout_ms = TEST_CONNECT_MS;
		lim.total_timeout_ms = TEST_TOTAL_MS;
		c = prefix ? blob_client_new(&ds->blob, &lim) : NULL;
		if (c == NULL) {
			b.oom = 1;
			rc = 0;
		} else {
			rc = blob_list(c, prefix, "/", 0, browse_blob_cb, &b, err, sizeof(err));
			blob_client_free(c);
		}
	} else {
		rc = datastore_folders(ds, path, browse_folder_cb, &b, err, sizeof(err));
		if (rc == 0 && !b.oom)
			rc = datastore_walk(ds, path, 0, browse_file_cb, &b, err, sizeof(err));
	}
	if (b.oom) {
		view_str(v, "browse_error", "The listing did not fit in memory.");
	} else if (rc < 0) {
		const char *m = ds->kind == DATASTORE_AZUREBLOB ? BLOB_FAILED_SENTENCE :
		    arena_printf(r->arena, "labeld could not list this folder: %s", err);
		view_str(v, "browse_error", m ? m : err);
		log_warn("browse datastore %lld path '%s': %s", ds->id, path, err);
	} else {
		if (b.n > 1)
			qsort(b.folders, b.n, sizeof(*b.folders), cmp_str);
		for (size_t i = 0; i < b.n; i++) {
			struct json_object *o = json_object_new_object();
			const char *slash = strrchr(b.folders[i], '/');
			view_str(o, "name", slash ? slash + 1 : b.folders[i]);
			view_str(o, "path", b.folders[i]);
			view_str(o, "href", browse_href(r, ds->id, b.folders[i], pick));
			if (pick != NULL) {
				view_str(o, "use_href", pick_href(r, pick, ds->id, b.folders[i], 0));
				view_str(o, "use_all_href", pick_href(r, pick, ds->id, b.folders[i], 1));
			}
			json_object_array_add(folders, o);
		}
		json_object_object_add(v, "listed", json_object_new_boolean(1));
		view_str(v, "files", arena_printf(r->arena, "%llu%s", b.files, b.files_capped ? "+" : ""));
		json_object_object_add(v, "files_one", json_object_new_boolean(b.files == 1 && !b.files_capped));
		if (b.more > 0)
			view_str(v, "more", arena_printf(r->arena, "%zu more folders are not shown.", b.more));
		if (b.skipped > 0)
			view_str(v, "skipped", arena_printf(r->arena, "%zu folders with names labeld cannot "
			    "use (control characters, '..', backslashes) are not shown.", b.skipped));
		if (b.files_capped)
			view_str(v, "capped", "The listing stopped early: this folder is very large.");
	}
	json_object_object_add(v, "folders", folders);
	if (pick != NULL) {
		view_str(v, "pick", pick);
		view_str(v, "use_href", pick_href(r, pick, ds->id, path, 0));
		view_str(v, "use_all_href", pick_href(r, pick, ds->id, path, 1));
	}
}

void handle_datastore_details(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	const char *pick = req_query(r, "pick"), *path = req_query(r, "path");
	const char *saved = req_query(r, "saved");
	struct datastore ds;
	struct db_result *res;
	struct json_object *v;
	char hint[32], err[256];
	int rc, status = 200;

	if (id == 0) {
		page_error(r, 404, "No such datastore", "There is no datastore with this address.");
		return;
	}
	rc = catalog_datastore_load(r->db, r->arena, id, &ds);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if (ds.id == 0) {
		page_error(r, 404, "No such datastore", "There is no datastore with this number.");
		return;
	}
	if (pick != NULL && !catalog_pick_check(pick)) {
		page_error(r, 400, "Bad link", "The pick parameter must be a page of the "
		    "create-project wizard (/projects/drafts/...).");
		return;
	}
	rc = db_query(r->db, r->arena, &res,
	    "SELECT d.is_default, DATE_FORMAT(d.created_at, '%Y-%m-%d %H:%i'), u.email, "
	    "u.display_name, d.is_builtin FROM datastores d LEFT JOIN users u ON u.id = d.created_by "
	    "WHERE d.id = ?", "i", id);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if ((v = view_new(r, ds.name)) == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	view_str(v, "id", arena_printf(r->arena, "%lld", ds.id));
	view_str(v, "name", ds.name);
	json_object_object_add(v, "is_default", json_object_new_boolean(db_int(res, 0, 0) != 0));
	json_object_object_add(v, "is_builtin", json_object_new_boolean(db_int(res, 0, 4) != 0));
	if (saved != NULL && strcmp(saved, "default") == 0 && db_int(res, 0, 0) != 0)
		view_str(v, "saved", "This datastore is now the default: new exports are written here.");
	view_str(v, "created", db_value(res, 0, 1));
	if (db_value(res, 0, 2) != NULL)
		view_str(v, "created_by", db_value(res, 0, 3) && *db_value(res, 0, 3) ?
		    db_value(res, 0, 3) : db_value(res, 0, 2));
	if (ds.kind == DATASTORE_AZUREBLOB) {
		json_object_object_add(v, "is_blob", json_object_new_boolean(1));
		view_str(v, "kind", "Azure Blob container");
		view_str(v, "endpoint", ds.blob.endpoint);
		view_str(v, "account", ds.blob.account);
		view_str(v, "container", ds.blob.container);
		if (ds.blob.sas != NULL && ds.blob.sas[0] != '\0') {
			catalog_secret_hint(ds.blob.sas, hint, sizeof(hint));
			view_str(v, "auth", "SAS token");
			view_str(v, "secret_hint", hint);
		} else if (ds.blob.key != NULL && ds.blob.key[0] != '\0') {
			catalog_secret_hint(ds.blob.key, hint, sizeof(hint));
			view_str(v, "auth", "Account key (Shared Key)");
			view_str(v, "secret_hint", hint);
		}
	} else {
		json_object_object_add(v, "is_local", json_object_new_boolean(1));
		view_str(v, "kind", "Local directory");
		view_str(v, "local_path", ds.local_path);
	}

	/* Browse: ?path= is a folder inside the datastore (NUL bytes caught by
	 * comparing with the decoded length). */
	if (path == NULL)
		path = "";
	for (size_t i = 0; i < r->query_form.nfields; i++)
		if (strcmp(r->query_form.fields[i].name, "path") == 0 &&
		    strlen(r->query_form.fields[i].value) != r->query_form.fields[i].value_len) {
			path = NULL;
			break;
		}
	{
		char split[1100];
		int recursive = 0;
		if (path == NULL) {
			snprintf(err, sizeof(err), "the path may not contain NUL bytes");
			rc = -1;
		} else if (datastore_path_split(path, split, sizeof(split), &recursive) < 0) {
			snprintf(err, sizeof(err), "the path is too long");
			rc = -1;
		} else {
			rc = datastore_path_check(split, err, sizeof(err));
			path = arena_strdup(r->arena, split);
		}
	}
	if (rc < 0 || path == NULL) {
		char *m = arena_printf(r->arena, "This folder cannot be shown: %s.", err);
		view_str(v, "browse_error", m ? m : err);
		json_object_object_add(v, "crumbs", json_object_new_array());
		status = 400;
	} else {
		browse_view(r, v, &ds, path, pick);
	}
	page_render(r, status, "datastore_details", v);
}

/* ------------------------------------------------------------ the default */

/* POST /admin/datastores/:id/default: make this datastore the default one
 * (where new exports are written; docs/datastores.md), then back to its
 * page with a notice.  404 for an unknown datastore. */
void handle_datastore_make_default(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	int rc = id > 0 ? catalog_datastore_make_default(r->db, r->arena, id) : CATALOG_NO_DATASTORE;
	const char *loc;

	if (rc == CATALOG_NO_DATASTORE) {
		page_error(r, 404, "No such datastore", "There is no datastore with this number.");
		return;
	}
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	log_info("datastore %lld made the default by %s", id, r->session->email);
	if ((loc = arena_printf(r->arena, "/admin/datastores/%lld?saved=default", id)) == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	resp_redirect(r, 303, loc);
}
