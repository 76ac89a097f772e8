/*
 * t_upload.c: the wizard's uploads go where the admin chooses (issue 16):
 * the default datastore and a folder named after the dataset, or any
 * datastore and folder chosen under Advanced settings (local, created when
 * missing; an Azurite container folder, written in blocks), fixed by the
 * first upload; name clashes get -2, -3; refused files are listed and not
 * stored; a file of several blocks arrives whole; a bad folder or datastore
 * is a 422 that keeps what was typed; the JSON mode of the JavaScript
 * uploader; and every resulting project initialises and labels.
 *
 * The test labeld writes blobs in blocks of 64 KiB (blob_block_size in the
 * stack's labeld.conf), so camera.png (136 KiB) takes three.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "wizard_steps.h"

#define NOT_AN_IMAGE "just some text\n"

/* ------------------------------------------------------------ helpers */

/* One file to send: its name in the request and the fixture it holds
 * (NULL: a text file). */
struct sent {
	const char *name;
	const char *fixture;
};

/* POST the upload step: the dataset name, the Advanced settings (NULL: the
 * field is not sent), files and the button go. */
/* The JavaScript uploader's upload_key field for upload_post, or NULL. */
static const char *upload_key;

static struct resp *upload_post(struct client *c, const char *d, const char *ds_name,
    const char *datastore, const char *folder, const struct sent *files, size_t n, const char *go)
{
	struct body b = { .multipart = 1 };

	field(&b, "csrf", csrf_of(c));
	if (upload_key != NULL)
		field(&b, "upload_key", upload_key);
	field(&b, "ds_name", ds_name);
	field(&b, "ds_description", "");
	if (datastore != NULL)
		field(&b, "up_datastore", datastore);
	if (folder != NULL)
		field(&b, "up_folder", folder);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(NOT_AN_IMAGE);
		const char *data = files[i].fixture ? fixture(files[i].fixture, &len) : NOT_AN_IMAGE;
		file_part(&b, files[i].name, data, len);
	}
	field(&b, "go", go);
	return body_post(c, itest_fmt("%s/upload", d), &b);
}

static const char *draft_id(const char *d)
{
	return d + strlen("/projects/drafts/");
}

/* A value of the draft's JSON ("-" when missing). */
static char *draft_value(const char *d, const char *key)
{
	return SQL_QUERY("SELECT COALESCE(JSON_VALUE(data, '$.%s'), '-') FROM project_drafts "
	    "WHERE id = %s", key, draft_id(d));
}

static char *builtin_id(void)
{
	return SQL_QUERY("SELECT id FROM datastores WHERE is_builtin = 1");
}

/* The file's bytes equal the fixture's. */
static void same_bytes(const char *what, const char *data, size_t len, const char *rel)
{
	size_t want_len;
	char *want = fixture(rel, &want_len);

	CHECK(len == want_len && memcmp(data, want, len) == 0, "%s: %zu bytes, want the %zu of %s",
	    what, len, want_len, rel);
}

/* The bytes of a local file (NULL when it does not exist). */
static char *file_bytes(const char *path, size_t *len)
{
	struct stat st;
	char *data;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	CHECK(fstat(fd, &st) == 0, "fstat %s", path);
	data = itest_keep(malloc((size_t)st.st_size + 1));
	CHECK(data != NULL && read(fd, data, (size_t)st.st_size) == st.st_size, "cannot read %s", path);
	close(fd);
	*len = (size_t)st.st_size;
	return data;
}

/* The bytes of blob name in container (azurite-seed.js --get); NULL when
 * there is no such blob. */
static char *blob_bytes(const char *container, const char *name, size_t *len)
{
	char *cmd = itest_fmt("node '%s/tests/integration/azurite-seed.js' '%s' '%s' --get '%s' 2>/dev/null",
	    ENV("LABELD_TEST_SRCDIR"), azurite_endpoint(), container, name);
	size_t cap = 1 << 20, n = 0, got;
	char *data = itest_keep(malloc(cap));
	FILE *p = popen(cmd, "r");

	CHECK(data != NULL && p != NULL, "cannot run %s", cmd);
	while ((got = fread(data + n, 1, cap - n, p)) > 0) {
		n += got;
		CHECK(n < cap, "blob %s is larger than the test reads", name);
	}
	if (pclose(p) != 0)
		return NULL;
	*len = n;
	return data;
}

/* Label one item of running project id as the admin c. */
static void label_one(struct client *c, long id)
{
	struct resp *r = GET(c, itest_fmt("/projects/%ld/label", id));
	const char *action;
	long label = sql_long(itest_fmt("SELECT MIN(id) FROM labels WHERE project_id = %ld", id));

	CHECK_STATUS(r, 200);
	action = html_str(r, "//form[@id='labelform']/@action");
	CHECK(action != NULL, "project %ld: no labeling form: %s", id, resp_snip(r));
	r = POST_FORM(c, action, "csrf", html_form_input(r, "labelform", "csrf"), "lease",
	    html_form_input(r, "labelform", "lease"), "label", itest_fmt("%ld", label),
	    "action", "submit");
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/label", id));
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM annotations a JOIN items i ON i.id = a.item_id "
	    "WHERE i.project_id = %ld", id)) == 1, "project %ld: the answer was not stored", id);
}

/* Finish the draft (at confirm) into a project, wait until it runs with
 * want items, and label one. */
static long project_labels(struct client *c, const char *d, long want)
{
	const char *labels[] = { "yes", "no" };
	long id = finish_project(c, d, labels, 2);
	struct resp *r = wait_initialized(c, id, NULL);

	CHECK_STREQ(html_str(r, "//h1/span[contains(@class,'state')]"), "Running");
	CHECK(items_shown(r) == want, "project %ld has %ld items, want %ld", id, items_shown(r), want);
	label_one(c, id);
	return id;
}

/* The upload page shows the target, the totals and the refusals. */
static struct resp *upload_page(struct client *c, const char *d, const char *target,
    const char *received)
{
	struct resp *r = GET(c, itest_fmt("%s/upload", d));
	char *t;

	CHECK_STATUS(r, 200);
	t = html_str(r, "//p[@id='upload-target']");
	CHECK(t != NULL && strstr(t, target) != NULL, "the upload page says \"%s\", want \"%s\"",
	    t ? t : "(no target)", target);
	CHECK(html_count(r, "//select[@name='up_datastore'] | //input[@name='up_folder']") == 0,
	    "the target can still be chosen after the first upload");
	t = html_str(r, "//p[@id='upload-received']");
	CHECK(t != NULL && strstr(t, received) != NULL, "the upload page says \"%s\", want \"%s\"",
	    t ? t : "(no totals)", received);
	return r;
}

static void refused_listed(struct resp *r, const char *name)
{
	CHECK(html_count(r, "//table[contains(@class,'refused')]//tr[td/code=\"%s\"]", name) == 1,
	    "%s does not list %s as refused", r->url, name);
}

/* ------------------------------------------------------------ tests */

/* The defaults: the default datastore preselected, the folder named after
 * the dataset; clashes get -2, -3; later uploads (whatever is sent) go to
 * the same place; a second dataset whose name makes the same folder gets
 * "<folder>-2", since that one holds files. */
static void upload_local_default(void)
{
	struct client *c = admin();
	const char *ds_name = uniq("Local Default set"), *dsdir = default_datastore_dir();
	char *d = draft_to_upload(c, uniq("Upload default")), *folder = folder_named_after(ds_name);
	const struct sent first[] = {
		{ "camera.png", "camera.png" }, { "camera.png", "camera.png" },
		{ "horse.png", "horse.png" }, { "notes.png", NULL },
	};
	const struct sent again[] = { { "camera.png", "camera.png" } };
	struct resp *r = GET(c, itest_fmt("%s/upload", d));
	char *data;
	size_t len;

	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//details[@id='upload-advanced' and not(@open)]/summary[normalize-space(.)="
	    "'Advanced settings']") == 1, "no closed Advanced settings disclosure");
	CHECK_STREQ(html_str(r, "//select[@id='up_datastore']/option[@selected]/@value"),
	    SQL_QUERY("SELECT id FROM datastores WHERE is_default = 1"));
	CHECK(html_count(r, "//select[@id='up_datastore']/option") ==
	    sql_long("SELECT COUNT(*) FROM datastores"), "the select does not list every datastore");
	CHECK_STREQ(html_str(r, "//input[@id='up_folder']/@value"), "");

	step_ok(upload_post(c, d, ds_name, builtin_id(), "", first, 4, "next"), d, "confirm");
	CHECK_STREQ(draft_value(d, "upload_dir"), folder);
	r = upload_page(c, d, folder, "3 images");
	refused_listed(r, "notes.png");
	data = file_bytes(itest_fmt("%s/%s/camera-2.png", dsdir, folder), &len);
	CHECK(data != NULL, "camera-2.png is not in %s/%s", dsdir, folder);
	same_bytes("camera-2.png", data, len, "camera.png");
	CHECK(file_bytes(itest_fmt("%s/%s/notes.png", dsdir, folder), &len) == NULL,
	    "the refused notes.png was stored");

	/* Another datastore and folder sent now change nothing. */
	step_ok(upload_post(c, d, ds_name, "999999999", "elsewhere", again, 1, "next"), d, "confirm");
	CHECK(file_bytes(itest_fmt("%s/%s/camera-3.png", dsdir, folder), &len) != NULL,
	    "the second upload did not go to the same folder as camera-3.png");
	upload_page(c, d, folder, "4 images");
	r = GET(c, itest_fmt("%s/confirm", d));
	CHECK(strstr(fact(r, "Folder"), folder) != NULL, "confirm shows folder \"%s\"", fact(r, "Folder"));

	/* A dataset name that makes the same folder: that one holds files. */
	char *d2 = draft_to_upload(c, uniq("Upload default again"));
	step_ok(upload_post(c, d2, itest_fmt("%s!", ds_name), builtin_id(), "", again, 1, "next"), d2,
	    "confirm");
	CHECK_STREQ(draft_value(d2, "upload_dir"), itest_fmt("%s-2", folder));

	long id = project_labels(c, d, 4);
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT(d.datastore_id, ' ', d.path, ' ', d.is_recursive, ' ', d.source) "
	    "FROM projects p JOIN datasets d ON d.id = p.dataset_id WHERE p.id = %ld", id),
	    itest_fmt("%s %s 0 upload", builtin_id(), folder));
	r = GET(c, itest_fmt("/datasets/%s", SQL_QUERY("SELECT dataset_id FROM projects WHERE id = %ld", id)));
	CHECK_STATUS(r, 200);
	CHECK(strstr(fact(r, "Datastore"), SQL_QUERY("SELECT name FROM datastores WHERE is_builtin = 1")) != NULL,
	    "the dataset page shows datastore \"%s\"", fact(r, "Datastore"));
	CHECK(strstr(fact(r, "Path"), folder) != NULL, "the dataset page shows path \"%s\"", fact(r, "Path"));
}

/* A chosen nested folder is created when missing; a chosen folder that
 * holds files already keeps them and they join the dataset (the page says
 * so); another dataset's folder is refused. */
static void upload_local_chosen(void)
{
	struct client *c = admin();
	const char *dsdir = default_datastore_dir();
	const char *nested = itest_fmt("chosen-%ld/a/b", (long)getpid()), *pre;
	const struct sent files[] = { { "horse.png", "horse.png" }, { "horse.png", "horse.png" } };
	char *d = draft_to_upload(c, uniq("Upload chosen")), *data;
	struct resp *r;
	size_t len;
	FILE *f;

	CHECK(file_bytes(itest_fmt("%s/%s/horse.png", dsdir, nested), &len) == NULL,
	    "%s exists already", nested);
	step_ok(upload_post(c, d, uniq("Chosen set"), builtin_id(), itest_fmt(" %s/ ", nested), files, 2,
	    "next"), d, "confirm");
	data = file_bytes(itest_fmt("%s/%s/horse-2.png", dsdir, nested), &len);
	CHECK(data != NULL, "horse-2.png is not in the new folder %s", nested);
	same_bytes("horse-2.png", data, len, "horse.png");
	upload_page(c, d, nested, "2 images");
	project_labels(c, d, 2);

	/* The folder of that dataset is no longer free for another. */
	d = draft_to_upload(c, uniq("Upload into a dataset"));
	r = upload_post(c, d, uniq("Other set"), builtin_id(), nested, files, 1, "next");
	refused_with(r, 422, "is the folder of the dataset");
	CHECK_STREQ(draft_value(d, "upload_dir"), "-");

	/* A folder with an image in it already: the dataset has both. */
	pre = itest_fmt("pre-%ld-%s", (long)getpid(), draft_id(d));
	/* labeld (another user) writes into it: world-writable, as the stack's
	 * roots are. */
	CHECK(mkdir(itest_fmt("%s/%s", dsdir, pre), 0777) == 0 &&
	    chmod(itest_fmt("%s/%s", dsdir, pre), 0777) == 0, "mkdir %s", pre);
	f = fopen(itest_fmt("%s/%s/horse.png", dsdir, pre), "wb");
	data = fixture("horse.png", &len);
	CHECK(f != NULL && fwrite(data, 1, len, f) == len && fclose(f) == 0, "cannot write into %s", pre);
	step_ok(upload_post(c, d, uniq("Other set"), builtin_id(), pre, files, 1, "next"), d, "confirm");
	r = upload_page(c, d, pre, "1 image");
	data = html_str(r, "//p[@id='upload-existing']");
	CHECK(data != NULL && strstr(data, "held 1 file before") != NULL,
	    "the page does not say the folder held 1 file");
	CHECK(file_bytes(itest_fmt("%s/%s/horse-2.png", dsdir, pre), &len) != NULL,
	    "the upload did not get the name horse-2.png beside the file there");
	project_labels(c, d, 2);
}

/* An Azurite container folder (nested): blobs named with -2, -3, a file of
 * three blocks whole, the refused one not stored; the project initialises
 * from the container and labels. */
static void upload_azurite(void)
{
	struct client *c = admin();
	const char *container = itest_fmt("upload-%ld-%ld", (long)getpid(), (long)time(NULL));
	const char *seed_names[] = { "seed/horse.png" }, *seed_rels[] = { "horse.png" };
	const char *folder = "deep/er/photos";
	const struct sent files[] = {
		{ "camera.png", "camera.png" }, { "rocket.jpg", "rocket.jpg" },
		{ "rocket.jpg", "rocket.jpg" }, { "notes.png", NULL },
	};
	const struct sent again[] = { { "rocket.jpg", "rocket.jpg" } };
	char *d = draft_to_upload(c, uniq("Upload azurite")), *data;
	long ds;
	struct resp *r;
	size_t len;

	azurite_put(container, seed_names, seed_rels, 1);
	ds = azurite_datastore(container);
	step_ok(upload_post(c, d, uniq("Blob set"), itest_fmt("%ld", ds), folder, files, 4, "next"), d,
	    "confirm");
	data = blob_bytes(container, "deep/er/photos/camera.png", &len);
	CHECK(data != NULL, "no blob deep/er/photos/camera.png");
	same_bytes("the blob camera.png (three blocks)", data, len, "camera.png");
	data = blob_bytes(container, "deep/er/photos/rocket-2.jpg", &len);
	CHECK(data != NULL, "no blob deep/er/photos/rocket-2.jpg");
	same_bytes("the blob rocket-2.jpg", data, len, "rocket.jpg");
	CHECK(blob_bytes(container, "deep/er/photos/notes.png", &len) == NULL,
	    "the refused notes.png was stored");
	step_ok(upload_post(c, d, uniq("Blob set"), NULL, NULL, again, 1, "next"), d, "confirm");
	CHECK(blob_bytes(container, "deep/er/photos/rocket-3.jpg", &len) != NULL, "no rocket-3.jpg");
	r = upload_page(c, d, folder, "4 images");
	refused_listed(r, "notes.png");
	CHECK(strstr(html_str(r, "//p[@id='upload-target']"), "Azure Blob") != NULL,
	    "the target does not say it is an Azure Blob container");
	long id = project_labels(c, d, 4);
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld AND path LIKE "
	    "'deep/er/photos/%%'", id)) == 4, "the items are not the blobs of the folder");
}

/* A bad folder or datastore: 422 with the reason, everything typed kept,
 * nothing stored. */
static void upload_bad_target(void)
{
	struct client *c = admin();
	const char *ds_name = uniq("Bad target set");
	const struct sent files[] = { { "horse.png", "horse.png" } };
	char *d = draft_to_upload(c, uniq("Upload bad target"));
	static const struct {
		const char *folder, *datastore, *why;
	} bad[] = {
		{ "../up", NULL, "'.' or '..'" },
		{ "a//b", NULL, "empty segments" },
		{ "/abs", NULL, "relative" },
		{ "a\\\\b", NULL, "backslashes" },
		{ "photos/**", NULL, "leave out" },
		{ "fine", "999999999", "no such datastore" },
		{ "fine", "abc", "no such datastore" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *dsid = bad[i].datastore ? bad[i].datastore : builtin_id();
		struct resp *r = upload_post(c, d, ds_name, dsid, bad[i].folder, files, 1, "next");
		refused_with(r, 422, bad[i].why);
		CHECK_STREQ(html_str(r, "//input[@name='ds_name']/@value"), ds_name);
		CHECK_STREQ(html_str(r, "//input[@name='up_folder']/@value"), bad[i].folder);
		CHECK(html_count(r, "//details[@id='upload-advanced' and @open]") == 1,
		    "Advanced settings is closed on a refused folder");
		CHECK_STREQ(draft_value(d, "upload_dir"), "-");
		if (strchr(bad[i].folder, '\\') == NULL)   /* the client escapes it */
			CHECK_STREQ(draft_value(d, "up_folder"), bad[i].folder);
	}
	/* Next without files checks the folder too. */
	refused_with(upload_post(c, d, ds_name, builtin_id(), "../x", NULL, 0, "next"), 422, "'..'");
}

/* JSON mode: one file a request, answered with what was stored and refused
 * and the draft's totals; errors as {"error": sentence}. */
static void upload_json(void)
{
	struct client *c = admin();
	char *d = draft_to_upload(c, uniq("Upload json"));
	const char *ds_name = uniq("Json set");
	struct json_object *o, *v;
	size_t len;
	struct resp *r;

	fixture("horse.png", &len);
	client_header(c, "Accept: application/json");
	const struct sent one[] = { { "horse.png", "horse.png" } }, text[] = { { "notes.png", NULL } };
	struct { const struct sent *f; const char *stored, *refused; long files; } steps[] = {
		{ one, "[ \"horse.png\" ]", "[ ]", 1 },
		{ text, "[ ]", "notes.png", 1 },
		{ one, "[ \"horse-2.png\" ]", "[ ]", 2 },
		/* the same file sent twice under one key (its first answer
		 * lost): stored once, the second answer is the first's */
		{ one, "[ \"horse-3.png\" ]", "[ ]", 3 },
		{ one, "[ \"horse-3.png\" ]", "[ ]", 3 },
	};
	for (size_t i = 0; i < 5; i++) {
		upload_key = i >= 3 ? "Kx_7-uPload-KEY-0123" : NULL;
		r = upload_post(c, d, ds_name, builtin_id(), "", steps[i].f, 1, "next");
		CHECK_STATUS(r, 200);
		CHECK(resp_header(r, "Content-Type") != NULL &&
		    strncmp(resp_header(r, "Content-Type"), "application/json", 16) == 0,
		    "JSON mode answers %s", resp_snip(r));
		o = json_tokener_parse(r->body);
		CHECK(o != NULL, "not JSON: %s", resp_snip(r));
		CHECK(json_object_object_get_ex(o, "stored", &v) &&
		    strcmp(json_object_to_json_string(v), steps[i].stored) == 0, "stored: %s", r->body);
		CHECK(json_object_object_get_ex(o, "refused", &v) &&
		    strstr(json_object_to_json_string(v), steps[i].refused) != NULL, "refused: %s", r->body);
		CHECK(json_object_object_get_ex(o, "files", &v) && json_object_get_int64(v) == steps[i].files,
		    "files: %s", r->body);
		CHECK(json_object_object_get_ex(o, "bytes", &v) &&
		    json_object_get_int64(v) == steps[i].files * (long)len, "bytes: %s", r->body);
		json_object_put(o);
	}
	/* A key that is not one: refused, nothing stored. */
	upload_key = "short";
	r = upload_post(c, d, ds_name, builtin_id(), "", one, 1, "next");
	CHECK_STATUS(r, 422);
	CHECK_BODY_HAS(r, "{\"error\":\"The upload's key");
	upload_key = NULL;
	CHECK_STREQ(draft_value(d, "upload_files"), "3");

	/* Errors: a bad folder (a new draft), a draft that is not there. */
	char *d2 = draft_to_upload(c, uniq("Upload json bad"));
	r = upload_post(c, d2, ds_name, builtin_id(), "../x", one, 1, "next");
	CHECK_STATUS(r, 422);
	CHECK_BODY_HAS(r, "{\"error\":\"Folder: ");
	r = upload_post(c, "/projects/drafts/999999999", ds_name, builtin_id(), "", one, 1, "next");
	CHECK_STATUS(r, 404);
	CHECK_BODY_HAS(r, "{\"error\":");

	/* The page (HTML) shows the totals and the refusal. */
	struct client *h = admin();
	r = upload_page(h, d, folder_named_after(ds_name), "3 images");
	refused_listed(r, "notes.png");
	step_ok(upload_post(h, d, ds_name, NULL, NULL, NULL, 0, "next"), d, "confirm");
	project_labels(h, d, 3);
}

const struct itest_case itest_upload_cases[] = {
	ITEST(upload_local_default),
	ITEST(upload_local_chosen),
	ITEST(upload_azurite),
	ITEST(upload_bad_target),
	ITEST(upload_json),
};

const size_t itest_upload_ncases = sizeof(itest_upload_cases) / sizeof(itest_upload_cases[0]);
