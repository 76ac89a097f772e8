/*
 * t_projects.c: the projects home, the create-project wizard (uploads,
 * datastore folders local and Azure Blob), initialisation watched from the
 * details page, label and instruction edits, the bad input of issue 3 that
 * belongs to these pages, who may do what, and CSRF.  Every fixture image
 * goes through every path that reads headers (upload, local folder, Azure
 * Blob) and must come out with its true size; blob names that break the
 * path rules are refused by the init job.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wizard_steps.h"

/* ------------------------------------------------------------ helpers */

/* A project of task testtask from one uploaded image; returns its id. */
static long quick_project(struct client *c, const char *name, const char *const *labels, size_t n)
{
	char *d = draft_to_upload(c, name);
	struct body b = { .multipart = 1 };
	size_t len;
	char *png = fixture("horse.png", &len);

	field(&b, "csrf", csrf_of(c));
	field(&b, "ds_name", uniq("Quick set"));
	field(&b, "ds_description", "");
	file_part(&b, "horse.png", png, len);
	field(&b, "go", "next");
	step_ok(body_post(c, itest_fmt("%s/upload", d), &b), d, "confirm");
	return finish_project(c, d, labels, n);
}

/* ------------------------------------------------------------ fixture sizes */

/* One image of tests/fixtures/images/ with its true size (formats/EXPECTED). */
struct expected_image {
	char rel[128];
	const char *base;                /* rel after its last '/' */
	long width, height;
	char format[16];
};

/* Every line of formats/EXPECTED (owned by the running test). */
static struct expected_image *expected_images(size_t *n)
{
	char *path = itest_fmt("%s/tests/fixtures/images/formats/EXPECTED", ENV("LABELD_TEST_SRCDIR"));
	struct expected_image *e = itest_keep(calloc(64, sizeof(*e)));
	FILE *f = fopen(path, "r");
	char line[512];

	CHECK(e != NULL && f != NULL, "cannot read %s", path);
	*n = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		struct expected_image *x = &e[*n];
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (*n == 64 || sscanf(line, "%127s %ld %ld %15s", x->rel, &x->width, &x->height,
		    x->format) != 4) {
			fclose(f);
			FAIL("%s: bad line %s", path, line);
		}
		x->base = strrchr(x->rel, '/') ? strrchr(x->rel, '/') + 1 : x->rel;
		(*n)++;
	}
	fclose(f);
	CHECK(*n >= 20, "%s lists %zu images", path, *n);
	return e;
}

/* The expected image whose file name is the last segment of path. */
static const struct expected_image *expected_for(const struct expected_image *e, size_t n,
    const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].base, base) == 0)
			return &e[i];
	return NULL;
}

/* The project has exactly want items, and each is a fixture image with its
 * true width, height and format. */
static void items_have_true_sizes(long id, long want)
{
	size_t n, seen = 0;
	struct expected_image *e = expected_images(&n);
	char *rows = SQL_QUERY("SELECT path, width, height, format FROM items WHERE project_id = %ld "
	    "ORDER BY path", id);

	for (char *line = strtok(rows, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		char path[1100], format[16];
		long w, h;
		const struct expected_image *x;
		CHECK(sscanf(line, "%1099[^\t]\t%ld\t%ld\t%15s", path, &w, &h, format) == 4,
		    "items row \"%s\"", line);
		x = expected_for(e, n, path);
		CHECK(x != NULL, "project %ld: item %s is no fixture image", id, path);
		CHECK(x->width == w && x->height == h && strcmp(x->format, format) == 0,
		    "project %ld: %s is %ldx%ld %s, want %ldx%ld %s", id, path, w, h, format,
		    x->width, x->height, x->format);
		seen++;
	}
	CHECK((long)seen == want, "project %ld has %zu items, want %ld", id, seen, want);
}

/* The refusals of the project's init job, "path<TAB>reason" per line in
 * byte order of the paths, as the mariadb client prints them (a tab in a
 * value as \t); owned by the running test. */
static char *init_refusals(long id)
{
	return SQL_QUERY("SELECT r.path, r.reason FROM job_refusals r JOIN jobs j ON j.id = r.job_id "
	    "WHERE j.project_id = %ld AND j.kind = 'init' ORDER BY BINARY r.path", id);
}

/* The project page lists the refused file shown as `shown`, count times, with
 * a reason containing why. */
static void refusal_listed(struct resp *r, const char *shown, const char *why, int count)
{
	int n = html_count(r, "//details[contains(@class,'refusals')]//tr[td/code=\"%s\"]"
	    "/td[contains(., \"%s\")]", shown, why);

	CHECK(n == count, "%s lists %s refused because \"%s\" %d times, want %d", r->url, shown, why,
	    n, count);
}

/* A project of task testtask over a datastore folder; returns its id once
 * it has left Initializing (the last details page in *page). */
static long project_over(struct client *c, long ds, const char *path, struct resp **page)
{
	const char *labels[] = { "x" };
	char *d = draft_new(c);
	long id;

	step_ok(STEP(c, d, "name", "name", uniq("Over a folder"), "task", "testtask", "go", "next"), d, "data");
	step_ok(STEP(c, d, "data", "source", "datastore", "go", "next"), d, "datastore");
	step_ok(STEP(c, d, "datastore", "ds_name", uniq("Folder set"), "ds_description", "",
	    "datastore", itest_fmt("%ld", ds), "path", path, "go", "next"), d, "confirm");
	id = finish_project(c, d, labels, 1);
	*page = wait_initialized(c, id, NULL);
	return id;
}

/* ------------------------------------------------------------ tests */

/* The home: admins get Add project (a POST form), and a project shows with
 * its task type, dataset, state and counts. */
static void projects_home(void)
{
	struct client *c = admin();
	const char *name = uniq("Home <b>listed</b>");
	const char *labels[] = { "one" };
	long id = quick_project(c, name, labels, 1);
	struct resp *r;

	wait_initialized(c, id, NULL);
	r = GET(c, "/projects");
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//h1[normalize-space(.)='Projects']") == 1, "no h1 Projects");
	CHECK(html_count(r, "//form[@action='/projects/drafts']//button[normalize-space(.)='Add project']") == 1,
	    "no Add project button for the admin");
	CHECK_STREQ(html_str(r, "//table//a[@href='/projects/%ld']", id), name);
	CHECK_BODY_LACKS(r, "<b>listed</b>");
	CHECK_STREQ(html_str(r, "//table//tr[td/a[@href='/projects/%ld']]/td[2]", id), "Test task");
	CHECK_STREQ(html_str(r, "//table//tr[td/a[@href='/projects/%ld']]/td[4]/span", id), "Running");
	CHECK_STREQ(html_str(r, "//table//tr[td/a[@href='/projects/%ld']]/td[5]", id), "1");
	CHECK_STREQ(html_str(r, "//table//tr[td/a[@href='/projects/%ld']]/td[6]", id), "0%");
}

/* The whole wizard from uploaded files, with every kind of bad upload:
 * refused or sanitised as documented, nothing written outside the upload
 * folder; then initialisation is watched until Running. */
static void projects_wizard_upload(void)
{
	struct client *c = admin();
	const char *name = uniq("Uploaded photos");
	const char *ds_name = uniq("Upload set");
	char *d = draft_to_upload(c, name), *dsdir = default_datastore_dir();
	struct body b = { .multipart = 1 };
	size_t n_cam, n_coins, n_horse, n_rocket, n_huge, n_gif;
	char *cam = fixture("camera.png", &n_cam), *coins = fixture("coins.png", &n_coins);
	char *horse = fixture("horse.png", &n_horse), *rocket = fixture("rocket.jpg", &n_rocket);
	char *huge = fixture("formats/huge_claim.png", &n_huge);
	char *gif = fixture("formats/gif89a.gif", &n_gif);
	char longname[320];
	struct resp *r;
	struct stat st;

	memset(longname, 'l', sizeof(longname));
	strcpy(longname + 296, ".png");

	CHECK(stat(itest_fmt("%s/../x.png", dsdir), &st) < 0, "x.png exists beside the datastore already");
	field(&b, "csrf", csrf_of(c));
	field(&b, "ds_name", ds_name);
	field(&b, "ds_description", "Photos sent by the tests");
	file_part(&b, "camera.png", cam, n_cam);                  /* kept */
	file_part(&b, "../../x.png", coins, n_coins);             /* kept as x.png */
	file_part(&b, "a\\\\b.png", horse, n_horse);              /* a\b.png: kept as b.png */
	file_part(&b, "rocket.jpg", rocket, n_rocket);            /* kept */
	file_part(&b, "camera.png", cam, n_cam);                  /* kept as camera-2.png */
	file_part(&b, "anim.gif", gif, n_gif);                    /* kept */
	file_part(&b, "notes.png", "just some text\n", 15);       /* not an image */
	file_part(&b, "disguised.jpg", horse, n_horse);           /* PNG bytes, .jpg name */
	file_part(&b, "huge_claim.png", huge, n_huge);            /* 65535 x 65535 */
	file_part(&b, longname, horse, n_horse);                  /* 300 bytes */
	file_part(&b, "bell\x07.png", horse, n_horse);            /* control character */
	file_part(&b, "tab\there.png", horse, n_horse);           /* control character */
	file_part(&b, ".hidden.png", horse, n_horse);             /* hidden */
	file_part(&b, "..", horse, n_horse);                      /* not a name */
	field(&b, "go", "next");
	r = body_post(c, itest_fmt("%s/upload", d), &b);
	step_ok(r, d, "confirm");

	r = GET(c, itest_fmt("%s/confirm", d));
	CHECK_STATUS(r, 200);
	CHECK(strstr(fact(r, "Images"), "6 images (") != NULL, "confirm says \"%s\"", fact(r, "Images"));
	CHECK_STREQ(fact(r, "Dataset name"), ds_name);
	CHECK(html_count(r, "//table[contains(@class,'refused')]/tbody/tr") == 8,
	    "confirm lists %d refused files, want 8", html_count(r, "//table[contains(@class,'refused')]/tbody/tr"));
#define REFUSED(file, why) CHECK(html_count(r, "//table[contains(@class,'refused')]//tr[td/code=\"%s\"]" \
	"/td[contains(., \"%s\")]", (file), (why)) == 1, "%s is not refused because \"%s\"", (file), (why))
	REFUSED("notes.png", "not a PNG, JPEG, GIF, BMP or WebP");
	REFUSED("disguised.jpg", "different image format than its name");
	REFUSED("huge_claim.png", "max_image_pixels");
	REFUSED(".hidden.png", "starting with '.'");
	REFUSED("..", "not a file name");
	REFUSED("bell?.png", "control characters");
	REFUSED("tab?here.png", "control characters");
	CHECK(html_count(r, "//table[contains(@class,'refused')]//tr/td[contains(., 'longer than 200 bytes')]") == 1,
	    "the 300-byte name is not refused as too long");
#undef REFUSED

	/* What reached the disk: exactly the six, in the folder named after the
	 * dataset (the default datastore is the built-in one here). */
	char *folder = SQL_QUERY("SELECT JSON_VALUE(data, '$.upload_dir') FROM project_drafts WHERE id = %s",
	    d + strlen("/projects/drafts/"));
	CHECK_STREQ(folder, folder_named_after(ds_name));
	const char *want[] = { "anim.gif", "b.png", "camera-2.png", "camera.png", "rocket.jpg", "x.png" };
	DIR *dir = opendir(itest_fmt("%s/%s", dsdir, folder));
	struct dirent *e;
	size_t found = 0;
	CHECK(dir != NULL, "cannot open the upload folder %s/%s", dsdir, folder);
	while ((e = readdir(dir)) != NULL) {
		size_t i;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		for (i = 0; i < 6 && strcmp(want[i], e->d_name) != 0; i++)
			;
		if (i == 6) {
			closedir(dir);
			FAIL("unexpected file %s in the upload folder", e->d_name);
		}
		found++;
	}
	closedir(dir);
	CHECK(found == 6, "%zu files in the upload folder, want 6", found);
	CHECK(stat(itest_fmt("%s/../x.png", dsdir), &st) < 0 && stat(itest_fmt("%s/x.png", dsdir), &st) < 0 &&
	    stat(itest_fmt("%s/uploads/x.png", dsdir), &st) < 0, "x.png was written outside the upload folder");

	const char *labels[] = { "Cat", "Dog", "<script>alert(\"x\")</script> & 'q'" };
	long id = finish_project(c, d, labels, 3);

	/* The draft is gone; the project initialises to Running with the six. */
	CHECK_STATUS(GET(c, itest_fmt("%s/name", d)), 404);
	r = wait_initialized(c, id, NULL);
	CHECK_STREQ(html_str(r, "//h1/span[contains(@class,'state')]"), "Running");
	CHECK(items_shown(r) == 6, "%ld items, want 6", items_shown(r));
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld", id)) == 6,
	    "items table disagrees");
	CHECK_STREQ(fact(r, "Task type"), "Test task");
	CHECK_STREQ(html_str(r, "//dl[contains(@class,'facts')]//a[starts-with(@href,'/datasets/')]"), ds_name);
	CHECK_STREQ(html_str(r, "//dl//a[@href='https://example.com/guide']/@rel"), "noopener noreferrer");
	/* The label with HTML: stored as typed, shown escaped. */
	CHECK_STREQ(SQL_QUERY("SELECT name FROM labels WHERE project_id = %ld AND position = 3", id), labels[2]);
	CHECK_BODY_HAS(r, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;");
	CHECK_BODY_LACKS(r, "<script>alert");
	CHECK_STREQ(html_str(r, "//ol[contains(@class,'label-list')]/li[3]/kbd"), "3");
	CHECK_BODY_HAS(r, "The task type and dataset cannot be changed after the project is created.");
	CHECK(html_count(r, "//a[normalize-space(.)='Label data' and @href='/projects/%ld/label']", id) == 1,
	    "no Label data link");
	CHECK(html_count(r, "//head/meta[@http-equiv='refresh']") == 0, "a Running project's page refreshes itself");
}

/* Back and Next keep what was typed; reload keeps it; "Add a row" adds a
 * row without JavaScript. */
static void projects_wizard_keeps_input(void)
{
	struct client *c = admin();
	const char *name = uniq("Kept \"name\"");
	char *d = draft_new(c);
	struct resp *r;

	/* Back from the first step saves too (and leaves the wizard). */
	CHECK_REDIRECT(STEP(c, d, "name", "name", name, "task", "testtask", "go", "back"), 303, "/projects");
	r = GET(c, itest_fmt("%s/name", d));
	CHECK_STREQ(html_str(r, "//input[@name='name']/@value"), name);
	CHECK_STREQ(html_str(r, "//input[@name='task' and @checked]/@value"), "testtask");
	step_ok(STEP(c, d, "name", "name", name, "task", "testtask", "go", "next"), d, "data");
	step_ok(STEP(c, d, "data", "source", "datastore", "go", "back"), d, "name");
	r = GET(c, itest_fmt("%s/data", d));
	CHECK_STREQ(html_str(r, "//input[@name='source' and @checked]/@value"), "datastore");
	step_ok(STEP(c, d, "data", "source", "datastore", "go", "next"), d, "datastore");
	step_ok(STEP(c, d, "datastore", "ds_name", "Typed set", "ds_description", "typed",
	    "path", "some/where/**", "go", "back"), d, "data");
	r = GET(c, itest_fmt("%s/datastore", d));
	CHECK_STREQ(html_str(r, "//input[@name='ds_name']/@value"), "Typed set");
	CHECK_STREQ(html_str(r, "//input[@name='path']/@value"), "some/where/**");
	CHECK_STREQ(html_str(r, "//textarea[@name='ds_description']"), "typed");
	/* The Browse link goes to the datastores page with pick=this step. */
	CHECK(html_count(r, "//a[starts-with(@href,'/admin/datastores/') and contains(@href,'?pick=%s')]",
	    url_enc(itest_fmt("%s/datastore", d))) >= 1, "no Browse link back to this step");
	/* Prefill from the Browse page's link, not saved until sent. */
	r = GET(c, itest_fmt("%s/datastore?datastore=%ld&path=%s", d,
	    sql_long("SELECT id FROM datastores WHERE is_default = 1"), url_enc("picked/**")));
	CHECK_STREQ(html_str(r, "//input[@name='path']/@value"), "picked/**");
	CHECK_STREQ(html_str(r, "//input[@name='ds_name']/@value"), "Typed set");

	/* Labels: Add a row posts back and shows one more row, values kept. */
	const char *two[] = { "first", "second" };
	step_ok(labels_post(c, d, "addrow", two, 2), d, "labels");
	r = GET(c, itest_fmt("%s/labels", d));
	CHECK(html_count(r, "//input[@name='label']") == 3, "%d label rows after Add a row, want 3",
	    html_count(r, "//input[@name='label']"));
	CHECK_STREQ(html_str(r, "(//input[@name='label'])[2]/@value"), "second");
	CHECK(html_count(r, "//form[@id='wizard']//button[@name='go' and @value='addrow']") == 1, "no Add a row button");
	CHECK_STREQ(html_str(r, "(//ol[contains(@class,'label-rows')]/li)[1]/span[@class='key']"), "1");
	/* Back from labels keeps them too. */
	step_ok(labels_post(c, d, "back", two, 2), d, "data");
	r = GET(c, itest_fmt("%s/labels", d));
	CHECK(html_count(r, "//input[@name='label']") == 2, "rows lost after Back");
	/* Instructions survive a refusal and a reload. */
	r = STEP(c, d, "instructions", "instructions_url", "javascript:alert(1)", "description", "kept", "go", "next");
	refused_with(r, 422, "only http and https links are allowed");
	CHECK_STREQ(html_str(r, "//input[@name='instructions_url']/@value"), "javascript:alert(1)");
	r = GET(c, itest_fmt("%s/instructions", d));
	CHECK_STREQ(html_str(r, "//input[@name='instructions_url']/@value"), "javascript:alert(1)");
	CHECK_STREQ(html_str(r, "//textarea[@name='description']"), "kept");
}

/* Duplicate and empty project names; the draft stays intact. */
static void projects_bad_names(void)
{
	struct client *c = admin();
	const char *taken = uniq("Taken");
	const char *labels[] = { "a" };
	struct resp *r;
	char *d;

	quick_project(c, taken, labels, 1);
	d = draft_new(c);
	refused_with(STEP(c, d, "name", "name", uniq("No task"), "go", "next"), 422, "Choose a task type");
	refused_with(STEP(c, d, "name", "name", "   ", "task", "testtask", "go", "next"), 422, "Enter a name");
	r = STEP(c, d, "name", "name", taken, "task", "testtask", "go", "next");
	refused_with(r, 409, "already exists");
	CHECK_STREQ(html_str(r, "//input[@name='name']/@value"), taken);
	/* Case and surrounding space do not make a new name. */
	char *upper = itest_fmt("  %s  ", taken);
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	refused_with(STEP(c, d, "name", "name", upper, "task", "testtask", "go", "next"), 409, "already exists");
	char *longname = itest_keep(malloc(102));
	memset(longname, 'n', 101);
	longname[101] = '\0';
	refused_with(STEP(c, d, "name", "name", longname, "task", "testtask", "go", "next"), 422, "at most 100");

	/* A name taken while the draft waited at review: back to the name
	 * step with 409, the draft intact, nothing created. */
	const char *late = uniq("Late clash");
	step_ok(STEP(c, d, "name", "name", late, "task", "testtask", "go", "next"), d, "data");
	long dataset = sql_long("SELECT MIN(id) FROM datasets");
	step_ok(STEP(c, d, "data", "source", "existing", "dataset", itest_fmt("%ld", dataset), "go", "next"),
	    d, "labels");
	step_ok(labels_post(c, d, "next", labels, 1), d, "instructions");
	step_ok(STEP(c, d, "instructions", "instructions_url", "", "description", "", "go", "next"), d, "review");
	quick_project(c, late, labels, 1);
	long before = sql_long("SELECT COUNT(*) FROM projects");
	r = STEP(c, d, "review", "go", "create");
	refused_with(r, 409, "already exists");
	CHECK_STREQ(html_str(r, "//input[@name='name']/@value"), late);
	CHECK(sql_long("SELECT COUNT(*) FROM projects") == before, "a project was created anyway");
	CHECK_STATUS(GET(c, itest_fmt("%s/review", d)), 200);
}

/* Empty, duplicate, too long and too many labels. */
static void projects_bad_labels(void)
{
	struct client *c = admin();
	char *d = draft_new(c);
	const char *blank[] = { "", "  " };
	const char *dup[] = { "Cat", "dog", "CAT" };
	char long_label[70];
	const char *too_long[] = { long_label };
	const char *many[101];
	struct resp *r;

	refused_with(labels_post(c, d, "next", blank, 2), 422, "at least one label");
	r = labels_post(c, d, "next", dup, 3);
	refused_with(r, 422, "listed twice");
	CHECK_STREQ(html_str(r, "(//input[@name='label'])[3]/@value"), "CAT");
	memset(long_label, 'x', 65);
	long_label[65] = '\0';
	refused_with(labels_post(c, d, "next", too_long, 1), 422, "at most 64");
	for (int i = 0; i < 101; i++)
		many[i] = itest_fmt("label %d", i);
	r = labels_post(c, d, "next", many, 101);
	refused_with(r, 422, "at most 100");
	CHECK(html_count(r, "//input[@name='label']") == 101, "the 101 typed rows were not kept");
	const char *control[] = { "bad\x01label" };
	refused_with(labels_post(c, d, "next", control, 1), 422, "control characters");
	step_ok(labels_post(c, d, "next", dup, 2), d, "instructions");
}

/* Instruction links with other schemes are refused; http(s) is kept. */
static void projects_bad_urls(void)
{
	struct client *c = admin();
	char *d = draft_new(c);
	const char *bad[] = {
		"javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,<script>alert(1)</script>",
		"file:///etc/passwd", "vbscript:msgbox(1)", "/relative", "//example.com/x",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct resp *r = STEP(c, d, "instructions", "instructions_url", bad[i], "go", "next");
		refused_with(r, 422, "only http and https links are allowed");
		CHECK_STREQ(html_str(r, "//input[@name='instructions_url']/@value"), bad[i]);
	}
	refused_with(STEP(c, d, "instructions", "instructions_url", "https://", "go", "next"), 422, "no host");
	step_ok(STEP(c, d, "instructions", "instructions_url", " https://example.com/a ", "go", "next"), d, "review");
}

/* Clean-up: remove a symlink the test made. */
static void link_remove(void *arg)
{
	if (unlink(arg) < 0)
		itest_cleanup_error("cannot remove %s: %s", (const char *)arg, strerror(errno));
}

/* Datastore paths with '..', NUL, absolute, missing folders and symlinks
 * that escape are refused on the datastore step. */
static void projects_bad_paths(void)
{
	struct client *c = admin();
	char *d = draft_new(c), *dsdir = default_datastore_dir();
	char *ds = itest_fmt("%ld", sql_long("SELECT id FROM datastores WHERE is_default = 1"));
	struct resp *r;
	struct body b = { 0 };

	step_ok(STEP(c, d, "data", "source", "datastore", "go", "next"), d, "datastore");
#define PATH_REFUSED(p, why) do { \
	const char *p_ = (p); \
	r = STEP(c, d, "datastore", "ds_name", uniq("Path set"), "datastore", ds, "path", p_, "go", "next"); \
	refused_with(r, 422, (why)); \
	CHECK_STREQ(html_str(r, "//input[@name='path']/@value"), p_); \
} while (0)
	PATH_REFUSED("../etc", "'..'");
	PATH_REFUSED("a/../../etc/**", "'..'");
	PATH_REFUSED("/etc", "relative");
	PATH_REFUSED(itest_fmt("%s/uploads", dsdir), "relative");
	PATH_REFUSED("a\\b", "backslash");
	PATH_REFUSED(uniq("no-such-folder"), "No such folder");
	/* A NUL byte, sent raw in the urlencoded body. */
	field(&b, "csrf", csrf_of(c));
	field(&b, "ds_name", uniq("Nul set"));
	field(&b, "datastore", ds);
	body_adds(&b, "&path=abc%00def&go=next");
	r = body_post(c, itest_fmt("%s/datastore", d), &b);
	CHECK(r->status == 422 || r->status == 400, "a path with NUL: status %ld", r->status);
	CHECK_BODY_HAS_NOCASE(r, "NUL");
	/* A symlink out of the datastore is not followed. */
	char *link = itest_fmt("%s/%s", dsdir, uniq("escape"));
	for (char *p = link + strlen(dsdir) + 1; *p; p++)
		if (*p == ' ')
			*p = '_';
	CHECK(symlink("/etc", link) == 0, "symlink %s: %s", link, strerror(errno));
	itest_defer(link_remove, link);
	PATH_REFUSED(link + strlen(dsdir) + 1, "outside the datastore");
	PATH_REFUSED(itest_fmt("%s/**", link + strlen(dsdir) + 1), "outside the datastore");
#undef PATH_REFUSED
}

/* Copy a fixture to dir/name. */
static void put_image(const char *dir, const char *name, const char *fixture_rel)
{
	size_t len;
	char *data = fixture(fixture_rel, &len);
	char *path = itest_fmt("%s/%s", dir, name);
	FILE *f = fopen(path, "wb");

	CHECK(f != NULL && fwrite(data, 1, len, f) == len && fclose(f) == 0, "cannot write %s", path);
}

/* Register a datastore: through the admin form when it answers 303, else
 * with SQL.  Returns its id. */
static long datastore_register(struct client *c, const char *name, const char *kind, const char *dir,
    const char *sql_values)
{
	struct resp *r = POST_FORM(c, "/admin/datastores", "csrf", csrf_of(c), "name", name, "kind", kind,
	    "local_path", dir, "dir", dir);
	if (r->status != 303) {
		itest_note("POST /admin/datastores answered %ld; registering %s with SQL", r->status, name);
		SQL("INSERT INTO datastores (name, kind, %s) VALUES (%s, %s, %s)",
		    strcmp(kind, "local") == 0 ? "local_path" : "blob_endpoint, blob_account, blob_container, blob_key",
		    sql_str(name), sql_str(kind), sql_values);
	}
	return sql_long(itest_fmt("SELECT id FROM datastores WHERE name = %s", sql_str(name)));
}

/* A project from a local datastore folder ending in "/ **" (written here
 * without the space): subfolders count, files beside the folder do not. */
static void projects_from_local_folder(void)
{
	struct client *c = admin();
	const char *root = ENV("LABELD_TEST_DATASTORE_ROOT");
	char *base = itest_fmt("%s/projects-%ld-%ld", root, (long)time(NULL), (long)getpid());
	const char *labels[] = { "a", "b" };
	struct resp *r;

	CHECK(mkdir(base, 0755) == 0 && mkdir(itest_fmt("%s/set", base), 0755) == 0 &&
	    mkdir(itest_fmt("%s/set/deep", base), 0755) == 0 &&
	    mkdir(itest_fmt("%s/set/deep/deeper", base), 0755) == 0, "cannot create folders under %s", base);
	put_image(base, "outside.png", "horse.png");
	put_image(itest_fmt("%s/set", base), "one.png", "horse.png");
	put_image(itest_fmt("%s/set/deep", base), "two.jpg", "rocket.jpg");
	put_image(itest_fmt("%s/set/deep/deeper", base), "three.png", "coins.png");
	put_image(itest_fmt("%s/set/deep", base), "broken.png", "formats/huge_claim.png");

	const char *dsname = uniq("Local store");
	long ds = datastore_register(c, dsname, "local", base, sql_str(base));
	CHECK(ds > 0, "datastore %s was not registered", dsname);

	char *d = draft_new(c);
	step_ok(STEP(c, d, "name", "name", uniq("From folder"), "task", "testtask", "go", "next"), d, "data");
	step_ok(STEP(c, d, "data", "source", "datastore", "go", "next"), d, "datastore");
	r = GET(c, itest_fmt("%s/datastore?datastore=%ld&path=%s", d, ds, url_enc("set/**")));
	CHECK_STREQ(html_str(r, "//select[@name='datastore']/option[@selected]/@value"), itest_fmt("%ld", ds));
	CHECK_STREQ(html_str(r, "//input[@name='path']/@value"), "set/**");
	step_ok(STEP(c, d, "datastore", "ds_name", uniq("Folder set"), "ds_description", "",
	    "datastore", itest_fmt("%ld", ds), "path", "set/**", "go", "next"), d, "confirm");
	r = GET(c, itest_fmt("%s/confirm", d));
	CHECK_STREQ(fact(r, "Datastore"), dsname);
	CHECK(strstr(fact(r, "Folder"), "all its subfolders") != NULL, "confirm: %s", fact(r, "Folder"));
	long id = finish_project(c, d, labels, 2);
	r = wait_initialized(c, id, NULL);
	CHECK_STREQ(html_str(r, "//h1/span[contains(@class,'state')]"), "Running");
	CHECK(items_shown(r) == 3, "%ld items from set/**, want 3", items_shown(r));
	CHECK(html_count(r, "//details[contains(@class,'refusals')]//tr/td/code[contains(., 'broken.png')]") == 1,
	    "the refused broken.png is not listed");
	CHECK_STREQ(SQL_QUERY("SELECT is_recursive FROM datasets d JOIN projects p ON p.dataset_id = d.id "
	    "WHERE p.id = %ld", id), "1");
}

/* A project from an Azure Blob container (Azurite), recursively ("**"):
 * every fixture image with its true size (photos whose size comes after
 * 64 KiB are read on with ranged GETs). */
static void projects_from_azurite(void)
{
	struct client *c = admin();
	const char *url = ENV("LABELD_TEST_AZURITE"), *key = ENV("LABELD_TEST_AZURITE_KEY");
	const char *container = ENV("LABELD_TEST_AZURITE_CONTAINER");
	const char *endpoint = strstr(url, "devstoreaccount1") ? url : itest_fmt("%s/devstoreaccount1", url);
	const char *dsname = uniq("Azurite store");
	const char *labels[] = { "x" };
	struct resp *r;
	long ds;

	ds = sql_long(itest_fmt("SELECT COALESCE(MAX(id), 0) FROM datastores WHERE kind = 'azureblob' "
	    "AND blob_container = %s", sql_str(container)));
	if (ds == 0) {
		SQL("INSERT INTO datastores (name, kind, blob_endpoint, blob_account, blob_container, blob_key) "
		    "VALUES (%s, 'azureblob', %s, 'devstoreaccount1', %s, %s)",
		    sql_str(dsname), sql_str(endpoint), sql_str(container), sql_str(key));
		ds = sql_long(itest_fmt("SELECT id FROM datastores WHERE name = %s", sql_str(dsname)));
	}
	char *d = draft_new(c);
	step_ok(STEP(c, d, "name", "name", uniq("From blobs"), "task", "testtask", "go", "next"), d, "data");
	step_ok(STEP(c, d, "data", "source", "datastore", "go", "next"), d, "datastore");
	refused_with(STEP(c, d, "datastore", "ds_name", uniq("Blob set"), "datastore", itest_fmt("%ld", ds),
	    "path", uniq("nothing-here"), "go", "next"), 422, "No such folder");
	step_ok(STEP(c, d, "datastore", "ds_name", uniq("Blob set"), "datastore", itest_fmt("%ld", ds),
	    "path", "**", "go", "next"), d, "confirm");
	long id = finish_project(c, d, labels, 1);
	r = wait_initialized(c, id, NULL);
	CHECK_STREQ(html_str(r, "//h1/span[contains(@class,'state')]"), "Running");
	long items = items_shown(r);
	long job_total = sql_long(itest_fmt("SELECT total - refused FROM jobs WHERE project_id = %ld", id));
	CHECK(items > 1 && items == job_total, "%ld items from the container, the job accepted %ld", items, job_total);
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld AND path LIKE '%%/%%'", id)) > 0,
	    "no item from a nested folder");
	/* Every fixture image (8 photos in each of five folders, formats/) with
	 * its true size; refused: the text blob and huge_claim.png. */
	size_t n;
	expected_images(&n);
	items_have_true_sizes(id, 5 * 8 + (long)n - 8 - 1);
	CHECK_STREQ(init_refusals(id), "formats/huge_claim.png\tthe image has more pixels than "
	    "max_image_pixels allows\nnested/a/readme.txt\tthe file name does not end in .png, .jpg, "
	    ".jpeg, .gif, .bmp or .webp");
}

/* Every fixture image uploaded through the wizard: each is taken but the
 * one with too many pixels, photos whose size comes after their metadata
 * (hubble_deep_field.jpg: 15 638 bytes in; exif_big.jpg: past 64 KiB;
 * ten_segments.jpg: after ten segments) included, and each item has its
 * true size. */
static void projects_upload_every_image(void)
{
	struct client *c = admin();
	char *d = draft_to_upload(c, uniq("Every image uploaded"));
	struct body b = { .multipart = 1 };
	size_t n, len;
	struct expected_image *e = expected_images(&n);
	struct resp *r;
	const char *labels[] = { "x" };

	field(&b, "csrf", csrf_of(c));
	field(&b, "ds_name", uniq("Every image"));
	field(&b, "ds_description", "");
	for (size_t i = 0; i < n; i++) {
		char *data = fixture(e[i].rel, &len);
		file_part(&b, e[i].base, data, len);
	}
	field(&b, "go", "next");
	step_ok(body_post(c, itest_fmt("%s/upload", d), &b), d, "confirm");

	r = GET(c, itest_fmt("%s/confirm", d));
	CHECK_STATUS(r, 200);
	CHECK(strstr(fact(r, "Images"), itest_fmt("%zu images (", n - 1)) != NULL,
	    "confirm says \"%s\", want %zu images", fact(r, "Images"), n - 1);
	CHECK(html_count(r, "//table[contains(@class,'refused')]/tbody/tr") == 1,
	    "confirm lists %d refused files, want only huge_claim.png: %s",
	    html_count(r, "//table[contains(@class,'refused')]/tbody/tr"),
	    html_str(r, "//table[contains(@class,'refused')]/tbody") ?
	    html_str(r, "//table[contains(@class,'refused')]/tbody") : "");
	CHECK(html_count(r, "//table[contains(@class,'refused')]//tr[td/code='huge_claim.png']"
	    "/td[contains(., 'max_image_pixels')]") == 1, "huge_claim.png is not refused for its pixels");

	long id = finish_project(c, d, labels, 1);
	r = wait_initialized(c, id, NULL);
	CHECK_STREQ(html_str(r, "//h1/span[contains(@class,'state')]"), "Running");
	items_have_true_sizes(id, (long)n - 1);
}

/* Every fixture image in a local datastore folder (formats/ as a
 * subfolder), initialised over "**": each item has its true size, and only
 * huge_claim.png is refused. */
static void projects_local_every_image(void)
{
	struct client *c = admin();
	const char *root = ENV("LABELD_TEST_DATASTORE_ROOT");
	char *base = itest_fmt("%s/every-%ld-%ld", root, (long)time(NULL), (long)getpid());
	size_t n;
	struct expected_image *e = expected_images(&n);
	struct resp *r;

	CHECK(mkdir(base, 0755) == 0 && mkdir(itest_fmt("%s/formats", base), 0755) == 0,
	    "cannot create folders under %s", base);
	for (size_t i = 0; i < n; i++)
		put_image(base, e[i].rel, e[i].rel);
	long ds = datastore_register(c, uniq("Every image store"), "local", base, sql_str(base));
	long id = project_over(c, ds, "**", &r);
	CHECK_STREQ(html_str(r, "//h1/span[contains(@class,'state')]"), "Running");
	items_have_true_sizes(id, (long)n - 1);
	CHECK_STREQ(init_refusals(id), "formats/huge_claim.png\tthe image has more pixels than "
	    "max_image_pixels allows");
	refusal_listed(r, "formats/huge_claim.png", "max_image_pixels", 1);
}

/* Blob names that break the path rules ("..", ".", "//", a leading '/', a
 * tab, DEL) are not items: the init job refuses each with the rule it
 * breaks, the project page lists them, and Browse offers no folder that
 * could never open.  The blobs are real images, so only their names are
 * refused.  (A name with \x01 cannot be listed by Azurite at all; the blob
 * service sends such names percent-encoded, see test_blob's
 * bad_encoded_names.) */
static void projects_azurite_bad_names(void)
{
	struct client *c = admin();
	char *container = itest_fmt("badnames-%ld-%ld", (long)getpid(), (long)time(NULL));
	static const char *const names[] = {
		"ok/horse.png", "ok/ten.jpg", "ok/a/../b.png", "ok/./c.png", "ok/a//b.png",
		"/lead.png", "ok/x\ty.png", "ok/x\x7fy.png",
	};
	static const char *const rels[] = {
		"horse.png", "formats/ten_segments.jpg", "horse.png", "horse.png", "horse.png",
		"horse.png", "horse.png", "horse.png",
	};
	struct resp *r;

	azurite_put(container, names, rels, sizeof(names) / sizeof(names[0]));
	long ds = azurite_datastore(container);
	long id = project_over(c, ds, "**", &r);
	CHECK_STREQ(html_str(r, "//h1/span[contains(@class,'state')]"), "Running");
	CHECK_STREQ(SQL_QUERY("SELECT GROUP_CONCAT(path ORDER BY BINARY path SEPARATOR ' ') FROM items "
	    "WHERE project_id = %ld", id), "ok/horse.png ok/ten.jpg");
	CHECK_STREQ(init_refusals(id),
	    "/lead.png\tthe path must be relative to the datastore (no leading '/')\n"
	    "ok/./c.png\tthe path may not contain '.' or '..' segments\n"
	    "ok/a/../b.png\tthe path may not contain '.' or '..' segments\n"
	    "ok/a//b.png\tthe path may not contain empty segments ('//')\n"
	    "ok/x\\ty.png\tthe path may not contain control characters\n"
	    "ok/x\x7fy.png\tthe path may not contain control characters");
	CHECK(items_shown(r) == 2, "the page shows %ld items, want 2", items_shown(r));
	refusal_listed(r, "/lead.png", "no leading '/'", 1);
	refusal_listed(r, "ok/./c.png", "'.' or '..' segments", 1);
	refusal_listed(r, "ok/a/../b.png", "'.' or '..' segments", 1);
	refusal_listed(r, "ok/a//b.png", "empty segments", 1);
	refusal_listed(r, "ok/x?y.png", "control characters", 2);

	/* Browse ok/a: "ok/a/../" and "ok/a//" are no folders to offer. */
	r = GET(c, itest_fmt("/admin/datastores/%ld?path=ok/a", ds));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//table[@id='folders']//a[@class='folder']") == 0,
	    "Browse ok/a offers folders: %s", resp_snip(r));
	r = GET(c, itest_fmt("/admin/datastores/%ld?path=ok", ds));
	CHECK(html_count(r, "//table[@id='folders']//a[@class='folder' and normalize-space(.)='a/']") == 1,
	    "Browse ok does not offer a/: %s", resp_snip(r));
}

/* The live progress of an initializing project: n of N, rate, refused and
 * the refused list; refreshes itself; Failed shows the job's error. */
static void projects_progress_view(void)
{
	struct client *c = admin();
	const char *labels[] = { "a" };
	long id = quick_project(c, uniq("Progress"), labels, 1);
	struct resp *r;

	wait_initialized(c, id, NULL);
	/* Pretend another labeld is half-way through a re-run. */
	SQL("UPDATE projects SET state = 'initializing' WHERE id = %ld", id);
	SQL("INSERT INTO jobs (kind, project_id, state, progress, total, refused, runner, heartbeat_at, started_at) "
	    "VALUES ('init', %ld, 'running', 500, 2000, 2, 'elsewhere:1:1', NOW(6) + INTERVAL 1 HOUR, "
	    "NOW(6) - INTERVAL 10 SECOND)", id);
	long job = sql_long(itest_fmt("SELECT MAX(id) FROM jobs WHERE project_id = %ld", id));
	SQL("INSERT INTO job_refusals (job_id, path, reason) VALUES (%ld, 'a/<b>.png', 'not an image'), "
	    "(%ld, 'c.jpg', 'too big')", job, job);
	r = GET(c, itest_fmt("/projects/%ld", id));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//head/meta[@http-equiv='refresh' and @content='2']") == 1, "no refresh meta");
	char *line = html_str(r, "//p[contains(@class,'progress-line')]");
	CHECK(line != NULL && strstr(line, "500 of 2000 files") && strstr(line, "files/s") &&
	    strstr(line, "2 refused"), "progress line \"%s\"", line ? line : "(none)");
	CHECK(html_count(r, "//details[contains(@class,'refusals')]//td/code[.='a/<b>.png']") == 1, "refusal not listed");
	CHECK(html_count(r, "//section[@id='edit-labels']") == 0, "edit forms shown while initializing");
	refused_with(POST_FORM(c, itest_fmt("/projects/%ld/labels", id), "csrf", csrf_of(c), "new", "z"),
	    409, "finished initializing");
	/* Failed. */
	SQL("UPDATE jobs SET state = 'failed', error = 'the dataset holds no files' WHERE id = %ld", job);
	SQL("UPDATE projects SET state = 'failed' WHERE id = %ld", id);
	r = GET(c, itest_fmt("/projects/%ld", id));
	CHECK_STREQ(html_str(r, "//h1/span[contains(@class,'state')]"), "Failed");
	CHECK_BODY_HAS(r, "the dataset holds no files");
	CHECK(html_count(r, "//head/meta[@http-equiv='refresh']") == 0, "a failed project refreshes itself");
	SQL("UPDATE projects SET state = 'running' WHERE id = %ld", id);
}

/* After initialisation: rename keeps the label id, new labels go to the
 * end, swapping two names works, nothing is removed; instructions change. */
static void projects_edit_details(void)
{
	struct client *c = admin();
	const char *labels[] = { "Cat", "Dog" };
	long id = quick_project(c, uniq("Editable"), labels, 2);
	char *path = itest_fmt("/projects/%ld/labels", id);
	struct resp *r;

	wait_initialized(c, id, NULL);
	long cat = sql_long(itest_fmt("SELECT id FROM labels WHERE project_id = %ld AND position = 1", id));
	long dog = sql_long(itest_fmt("SELECT id FROM labels WHERE project_id = %ld AND position = 2", id));
	char *fcat = itest_fmt("label-%ld", cat), *fdog = itest_fmt("label-%ld", dog);

	r = GET(c, itest_fmt("/projects/%ld", id));
	CHECK_STREQ(html_str(r, "//form[@id='labels-form']//input[@name='%s']/@value", fcat), "Cat");
	/* Add a row re-renders with one more empty row, typed values kept. */
	r = POST_FORM(c, path, "csrf", csrf_of(c), fcat, "Kitten", fdog, "Dog", "new", "Bird", "go", "addrow");
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//form[@id='labels-form']//input[@name='new']") == 2, "Add a row did not add a row");
	CHECK_STREQ(html_str(r, "//form[@id='labels-form']//input[@name='%s']/@value", fcat), "Kitten");
	CHECK_STREQ(SQL_QUERY("SELECT name FROM labels WHERE id = %ld", cat), "Cat");

	CHECK_REDIRECT(POST_FORM(c, path, "csrf", csrf_of(c), fcat, "Kitten", fdog, "Dog", "new", "Bird",
	    "new", "", "go", "save"), 303, itest_fmt("/projects/%ld?saved=labels", id));
	CHECK_STREQ(SQL_QUERY("SELECT name FROM labels WHERE id = %ld", cat), "Kitten");
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT(name, ':', position) FROM labels WHERE project_id = %ld "
	    "ORDER BY position DESC LIMIT 1", id), "Bird:3");
	/* Swap two names in one save. */
	CHECK_REDIRECT(POST_FORM(c, path, "csrf", csrf_of(c), fcat, "Dog", fdog, "Kitten", "go", "save"),
	    303, itest_fmt("/projects/%ld?saved=labels", id));
	CHECK_STREQ(SQL_QUERY("SELECT name FROM labels WHERE id = %ld", cat), "Dog");
	CHECK_STREQ(SQL_QUERY("SELECT name FROM labels WHERE id = %ld", dog), "Kitten");
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM labels WHERE project_id = %ld", id)) == 3, "a label vanished");
	/* Refusals keep what was typed. */
	r = POST_FORM(c, path, "csrf", csrf_of(c), fcat, "", "go", "save");
	refused_with(r, 422, "cannot be emptied");
	r = POST_FORM(c, path, "csrf", csrf_of(c), fcat, "Same", fdog, "same", "go", "save");
	refused_with(r, 422, "listed twice");
	CHECK_STREQ(html_str(r, "//form[@id='labels-form']//input[@name='%s']/@value", fdog), "same");
	r = POST_FORM(c, path, "csrf", csrf_of(c), "new", "<i>\"quoted\"</i>", "go", "save");
	CHECK_STATUS(r, 303);
	r = GET(c, itest_fmt("/projects/%ld", id));
	CHECK_BODY_HAS(r, "&lt;i&gt;&quot;quoted&quot;&lt;/i&gt;");
	CHECK_BODY_LACKS(r, "<i>\"quoted\"</i>");
	CHECK_STREQ(SQL_QUERY("SELECT name FROM labels WHERE project_id = %ld AND position = 4", id), "<i>\"quoted\"</i>");

	/* Instructions. */
	char *ipath = itest_fmt("/projects/%ld/instructions", id);
	r = POST_FORM(c, ipath, "csrf", csrf_of(c), "instructions_url", "data:text/html,x", "description", "d2");
	refused_with(r, 422, "only http and https links are allowed");
	CHECK_STREQ(html_str(r, "//form[@id='instructions-form']//input[@name='instructions_url']/@value"),
	    "data:text/html,x");
	CHECK_REDIRECT(POST_FORM(c, ipath, "csrf", csrf_of(c), "instructions_url", "http://example.org/new",
	    "description", "Second version"), 303, itest_fmt("/projects/%ld?saved=instructions", id));
	r = GET(c, itest_fmt("/projects/%ld", id));
	CHECK_STREQ(html_str(r, "//dl//a[@href='http://example.org/new']/@rel"), "noopener noreferrer");
	CHECK_STREQ(fact(r, "Description"), "Second version");
	CHECK_REDIRECT(POST_FORM(c, ipath, "csrf", csrf_of(c), "instructions_url", "", "description", ""),
	    303, itest_fmt("/projects/%ld?saved=instructions", id));
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT('[', instructions_url, ']') FROM projects WHERE id = %ld", id), "[]");
}

/* Tabs: Details, Dashboard, Data, Review, Team and Exports, each a page of
 * its own that marks its tab (t_dashboard.c, t_data.c, t_review.c,
 * t_teams.c, t_export_pages.c); /details is the Details tab's other
 * address; other names 404.  Labelers who do not review the project get
 * Details, Team and Exports only (t_dashboard.c). */
static void projects_tabs(void)
{
	struct client *c = admin();
	const char *labels[] = { "a" };
	long id = quick_project(c, uniq("Tabs"), labels, 1);
	struct resp *r = GET(c, itest_fmt("/projects/%ld", id));
	const char *tabs[] = { "dashboard", "data", "team", "exports" };

	CHECK(html_count(r, "//nav[contains(@class,'tabs')]/a") == 6, "not six tabs");
	CHECK_STREQ(html_str(r, "//nav[contains(@class,'tabs')]/a[@aria-current='page']"), "Details");
	CHECK(html_count(r, "//nav[contains(@class,'tabs')]/a[@href='/projects/%ld/review']", id) == 1,
	    "no Review tab");
	for (size_t i = 0; i < sizeof(tabs) / sizeof(tabs[0]); i++) {
		r = GET(c, itest_fmt("/projects/%ld/%s", id, tabs[i]));
		CHECK_STATUS(r, 200);
		CHECK_BODY_LACKS(r, "arrives with a later release");
		CHECK(html_count(r, "//nav[contains(@class,'tabs')]/a[@aria-current='page' and @href='/projects/%ld/%s']",
		    id, tabs[i]) == 1, "tab %s not marked current", tabs[i]);
	}
	CHECK_REDIRECT(GET(c, itest_fmt("/projects/%ld/details", id)), 303, itest_fmt("/projects/%ld", id));
	CHECK_STATUS(GET(c, itest_fmt("/projects/%ld/settings", id)), 404);
	CHECK_STATUS(GET(c, "/projects/0"), 404);
	CHECK_STATUS(GET(c, "/projects/-1"), 404);
	CHECK_STATUS(GET(c, "/projects/1x"), 404);
	CHECK_STATUS(GET(c, "/projects/99999999999"), 404);
	CHECK_STATUS(GET(c, "/projects/99999999999/data"), 404);
	CHECK_STATUS(GET(c, "/projects/drafts/abc/name"), 404);
	CHECK_STATUS(GET(c, itest_fmt("%s/nosuchstep", draft_new(c))), 404);
}

/* Clean-up: make the user a non-admin again. */
static void user_demote(void *arg)
{
	if (itest_sql_try("UPDATE users SET is_admin = 0 WHERE email = %s", (const char *)arg) != 0)
		itest_cleanup_error("could not make %s a non-admin again", (const char *)arg);
}

/* Non-admins see the projects one of their teams serves, and their
 * details, but not the wizard or the edits; other projects do not exist
 * for them (404), until a team of theirs serves them; an admin's draft is
 * invisible to another admin. */
static void projects_permissions(void)
{
	struct client *a = admin(), *u = CLIENT(NULL);
	const char *labels[] = { "a" };
	const char *name = uniq("Visible");
	long id = quick_project(a, name, labels, 1);
	char *d = draft_new(a), *csrf;
	struct resp *r;

	SIGN_IN_OK(u, USER_EMAIL, USER_PASSWORD);
	ITEST_JOIN(USER_EMAIL);
	CHECK_STATUS(GET(u, itest_fmt("/projects/%ld", id)), 404);
	CHECK_STATUS(GET(u, itest_fmt("/projects/%ld/label", id)), 404);
	CHECK_STATUS(GET(u, itest_fmt("/projects/%ld/exports", id)), 404);
	CHECK_STATUS(GET(u, itest_fmt("/projects/%ld/team", id)), 404);
	ITEST_SERVE(id);
	r = GET(u, "/projects");
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//table//a[@href='/projects/%ld']", id), name);
	CHECK(html_count(r, "//form[@action='/projects/drafts']") == 0, "a non-admin sees Add project");
	csrf = html_logout_csrf(r);
	r = GET(u, itest_fmt("/projects/%ld", id));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//form[@id='labels-form']") == 0 && html_count(r, "//form[@id='instructions-form']") == 0,
	    "a non-admin sees the edit forms");
	CHECK(html_count(r, "//a[starts-with(@href,'/datasets/')]") == 0, "a non-admin gets a dataset link");
	CHECK_STATUS(GET(u, itest_fmt("/projects/%ld/team", id)), 200);
	CHECK_STATUS(POST_FORM(u, "/projects/drafts", "csrf", csrf), 403);
	CHECK_STATUS(GET(u, itest_fmt("%s/name", d)), 403);
	CHECK_STATUS(POST_FORM(u, itest_fmt("%s/name", d), "csrf", csrf, "name", "x"), 403);
	CHECK_STATUS(POST_FORM(u, itest_fmt("/projects/%ld/labels", id), "csrf", csrf, "new", "x"), 403);
	CHECK_STATUS(POST_FORM(u, itest_fmt("/projects/%ld/instructions", id), "csrf", csrf,
	    "instructions_url", ""), 403);

	/* Another admin: the first admin's draft does not exist for them. */
	const char *email = USER_EMAIL;
	SQL("UPDATE users SET is_admin = 1 WHERE email = %s", sql_str(email));
	itest_defer(user_demote, sql_str(email));
	CHECK_STATUS(GET(u, itest_fmt("%s/name", d)), 404);
	CHECK_STATUS(POST_FORM(u, itest_fmt("%s/name", d), "csrf", csrf, "name", "stolen", "go", "next"), 404);
	CHECK(strstr(SQL_QUERY("SELECT data FROM project_drafts WHERE id = %s", d + strlen("/projects/drafts/")),
	    "stolen") == NULL, "another admin changed the draft");
}

/* Every state change needs the session's CSRF token. */
static void projects_csrf(void)
{
	struct client *c = admin();
	const char *labels[] = { "a" };
	long id = quick_project(c, uniq("Csrf"), labels, 1);
	char *d = draft_new(c);
	const char *wrong = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	long drafts = sql_long("SELECT COUNT(*) FROM project_drafts");

	CHECK_STATUS(POST_FORM(c, "/projects/drafts", "x", "y"), 403);
	CHECK_STATUS(POST_FORM(c, "/projects/drafts", "csrf", wrong), 403);
	CHECK(sql_long("SELECT COUNT(*) FROM project_drafts") == drafts, "a draft was made without CSRF");
	CHECK_STATUS(POST_FORM(c, itest_fmt("%s/name", d), "name", "no token", "go", "next"), 403);
	CHECK_STATUS(POST_FORM(c, itest_fmt("%s/review", d), "csrf", wrong, "go", "create"), 403);
	CHECK_STATUS(POST_FORM(c, itest_fmt("/projects/%ld/labels", id), "csrf", wrong, "new", "x"), 403);
	CHECK_STATUS(POST_FORM(c, itest_fmt("/projects/%ld/instructions", id), "instructions_url", ""), 403);
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM labels WHERE project_id = %ld", id)) == 1,
	    "a label was added without CSRF");
	/* A multipart upload without the token stores nothing. */
	struct body b = { .multipart = 1 };
	size_t len;
	char *png = fixture("horse.png", &len);
	field(&b, "ds_name", "x");
	file_part(&b, "horse.png", png, len);
	CHECK_STATUS(body_post(c, itest_fmt("%s/upload", d), &b), 403);
	CHECK_STREQ(SQL_QUERY("SELECT COALESCE(JSON_VALUE(data, '$.upload_dir'), '-') FROM project_drafts "
	    "WHERE id = %s", d + strlen("/projects/drafts/")), "-");
}

/* Clean-up: datastore arg (a test's, no longer the default). */
static void drop_store(void *arg)
{
	if (itest_sql_try("DELETE FROM datastores WHERE id = %ld AND is_default = 0", (long)arg) != 0)
		itest_cleanup_error("deleting datastore %ld failed", (long)arg);
}

/* With an Azure Blob datastore made the default (its page's "Make
 * default"), the wizard offers it first for a dataset from a datastore and
 * for uploads; uploads sent to the built-in local store land there. */
static void projects_upload_builtin(void)
{
	struct client *c = admin();
	const char *labels[] = { "one" };
	const char *name = uniq("itest-default-elsewhere");
	char *d, *png;
	long builtin = sql_long("SELECT id FROM datastores WHERE is_builtin = 1"), ds, id;
	struct body b = { .multipart = 1 };
	struct resp *r;
	struct stat st;
	size_t len;

	/* Never reached: nothing is read from or written to it here. */
	SQL("INSERT INTO datastores (name, kind, blob_endpoint, blob_account, blob_container, blob_key) "
	    "VALUES (%s, 'azureblob', 'http://localhost:1/acct', 'acct', 'exports', "
	    "'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=')", sql_str(name));
	ds = sql_long(itest_fmt("SELECT id FROM datastores WHERE name = %s", sql_str(name)));
	itest_defer(drop_store, (void *)ds);
	MAKE_DEFAULT(c, ds);

	d = draft_new(c);
	step_ok(STEP(c, d, "name", "name", uniq("Default first"), "task", "testtask", "go", "next"), d, "data");
	step_ok(STEP(c, d, "data", "source", "datastore", "go", "next"), d, "datastore");
	r = GET(c, itest_fmt("%s/datastore", d));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//select[@id='datastore']/option[1]/@value"), itest_fmt("%ld", ds));

	d = draft_to_upload(c, uniq("Uploaded, default elsewhere"));
	r = GET(c, itest_fmt("%s/upload", d));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//select[@id='up_datastore']/option[@selected]/@value"),
	    itest_fmt("%ld", ds));
	png = fixture("horse.png", &len);
	field(&b, "csrf", csrf_of(c));
	field(&b, "ds_name", uniq("Quick set"));
	field(&b, "up_datastore", itest_fmt("%ld", builtin));
	file_part(&b, "horse.png", png, len);
	field(&b, "go", "next");
	step_ok(body_post(c, itest_fmt("%s/upload", d), &b), d, "confirm");
	id = finish_project(c, d, labels, 1);
	CHECK(sql_long(itest_fmt("SELECT d.datastore_id FROM projects p JOIN datasets d "
	    "ON d.id = p.dataset_id WHERE p.id = %ld", id)) == builtin,
	    "the uploaded dataset is not in the built-in datastore");
	CHECK(stat(itest_fmt("%s/%s/horse.png", default_datastore_dir(),
	    SQL_QUERY("SELECT d.path FROM projects p JOIN datasets d ON d.id = p.dataset_id "
	    "WHERE p.id = %ld", id)), &st) == 0, "the upload is not in the built-in store's folder");
	CHECK(items_shown(wait_initialized(c, id, NULL)) == 1, "the uploaded project has no item");
}

const struct itest_case itest_projects_cases[] = {
	ITEST(projects_home),
	ITEST(projects_wizard_upload),
	ITEST(projects_wizard_keeps_input),
	ITEST(projects_bad_names),
	ITEST(projects_bad_labels),
	ITEST(projects_bad_urls),
	ITEST(projects_bad_paths),
	ITEST(projects_from_local_folder),
	ITEST(projects_from_azurite),
	ITEST(projects_upload_every_image),
	ITEST(projects_upload_builtin),
	ITEST(projects_local_every_image),
	ITEST(projects_azurite_bad_names),
	ITEST(projects_progress_view),
	ITEST(projects_edit_details),
	ITEST(projects_tabs),
	ITEST(projects_permissions),
	ITEST(projects_csrf),
};

const size_t itest_projects_ncases = sizeof(itest_projects_cases) / sizeof(itest_projects_cases[0]);
