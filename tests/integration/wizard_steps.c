/*
 * wizard_steps.c: what the tests of the create-project wizard share; see
 * wizard_steps.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wizard_steps.h"

/* A name no earlier run or test used. */
const char *uniq(const char *prefix)
{
	static unsigned counter;

	return itest_fmt("%s %ld-%ld-%u", prefix, (long)time(NULL), (long)getpid(), ++counter);
}

/* A signed-in admin. */
struct client *admin(void)
{
	struct client *c = CLIENT(NULL);

	SIGN_IN_OK(c, ADMIN_EMAIL, ADMIN_PASSWORD);
	return c;
}

/* The CSRF token of the client's session (from any page's sign-out form). */
char *csrf_of(struct client *c)
{
	struct resp *r = GET(c, "/projects");
	char *t;

	CHECK_STATUS(r, 200);
	t = html_logout_csrf(r);
	CHECK(t != NULL && strlen(t) > 20, "no CSRF token on /projects");
	return t;
}

long sql_long(const char *q)
{
	char *out = SQL_QUERY("%s", q);
	return strtol(out, NULL, 10);
}

/* A file of tests/fixtures/images/ (owned by the running test). */
char *fixture(const char *rel, size_t *len)
{
	char *path = itest_fmt("%s/tests/fixtures/images/%s", ENV("LABELD_TEST_SRCDIR"), rel);
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	CHECK(f != NULL, "cannot open %s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = itest_keep(malloc((size_t)n + 1));
	CHECK(data != NULL && fread(data, 1, (size_t)n, f) == (size_t)n, "cannot read %s", path);
	fclose(f);
	*len = (size_t)n;
	return data;
}

static void cell_free(void *arg)
{
	free(*(char **)arg);
}

void body_add(struct body *b, const void *p, size_t n)
{
	if (b->cell == NULL) {
		b->cell = itest_keep(calloc(1, sizeof(*b->cell)));
		CHECK(b->cell != NULL, "out of memory");
		itest_defer(cell_free, b->cell);
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *d = realloc(b->data, cap);
		CHECK(d != NULL, "out of memory");
		b->data = *b->cell = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void body_adds(struct body *b, const char *s)
{
	body_add(b, s, strlen(s));
}

/* One field (value may hold any bytes up to its NUL). */
void field(struct body *b, const char *name, const char *value)
{
	if (b->multipart) {
		body_adds(b, "--" MP_BOUNDARY "\r\nContent-Disposition: form-data; name=\"");
		body_adds(b, name);
		body_adds(b, "\"\r\n\r\n");
		body_adds(b, value);
		body_adds(b, "\r\n");
	} else {
		if (b->len > 0)
			body_adds(b, "&");
		body_adds(b, url_enc(name));
		body_adds(b, "=");
		body_adds(b, url_enc(value));
	}
}

/* One file part of a multipart body; filename is sent as is (quoted). */
void file_part(struct body *b, const char *filename, const void *data, size_t len)
{
	body_adds(b, "--" MP_BOUNDARY "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"");
	body_adds(b, filename);
	body_adds(b, "\"\r\nContent-Type: application/octet-stream\r\n\r\n");
	body_add(b, data, len);
	body_adds(b, "\r\n");
}

struct resp *body_post(struct client *c, const char *path, struct body *b)
{
	if (b->multipart) {
		body_adds(b, "--" MP_BOUNDARY "--\r\n");
		return POST_RAW(c, path, "multipart/form-data; boundary=" MP_BOUNDARY, b->data, b->len);
	}
	if (b->data == NULL)
		body_adds(b, "");
	return POST_RAW(c, path, FORM_TYPE, b->data, b->len);
}

/* The Location of a 303 that must point under prefix; returns it. */
const char *see_other(struct resp *r, const char *prefix)
{
	const char *loc = resp_header(r, "Location");

	CHECK(r->status == 303 && loc != NULL && strncmp(loc, prefix, strlen(prefix)) == 0,
	    "%s %s: status %ld, Location %s; want 303 to %s...: %s", r->method, r->url, r->status,
	    loc ? loc : "(none)", prefix, resp_snip(r));
	return loc;
}

/* POST /projects/drafts: a new draft; returns "/projects/drafts/N". */
char *draft_new(struct client *c)
{
	struct resp *r = GET(c, "/projects");
	const char *loc;
	long id;

	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//form[@action='/projects/drafts' and @method='post']//button") == 1,
	    "the admin's /projects has no Add project form");
	r = POST_FORM(c, "/projects/drafts", "csrf", html_logout_csrf(r));
	loc = see_other(r, "/projects/drafts/");
	CHECK(sscanf(loc, "/projects/drafts/%ld/name", &id) == 1 && id > 0, "draft Location %s", loc);
	return itest_fmt("/projects/drafts/%ld", id);
}

/* POST one step with name/value pairs (NULL-terminated); returns the response. */
struct resp *step_post(struct client *c, const char *draft, const char *step, ...)
{
	struct body b = { 0 };
	const char *name;
	va_list ap;

	field(&b, "csrf", csrf_of(c));
	va_start(ap, step);
	while ((name = va_arg(ap, const char *)) != NULL)
		field(&b, name, va_arg(ap, const char *));
	va_end(ap);
	return body_post(c, itest_fmt("%s/%s", draft, step), &b);
}

/* The step must answer 303 to the given next step. */
void step_ok(struct resp *r, const char *draft, const char *next)
{
	CHECK_REDIRECT(r, 303, itest_fmt("%s/%s", draft, next));
}

/* The flash error of a re-rendered page. */
const char *page_message(struct resp *r)
{
	char *m = html_str(r, "//p[contains(@class,'flash') and contains(@class,'error')]");
	return m ? m : "";
}

/* The re-rendered step has status and a message containing needle. */
void refused_with(struct resp *r, long status, const char *needle)
{
	CHECK_STATUS(r, status);
	CHECK(strstr(page_message(r), needle) != NULL, "%s %s: message \"%s\" lacks \"%s\"",
	    r->method, r->url, page_message(r), needle);
}

/* Labels as a urlencoded body for the labels step. */
struct resp *labels_post(struct client *c, const char *draft, const char *go,
    const char *const *labels, size_t n)
{
	struct body b = { 0 };

	field(&b, "csrf", csrf_of(c));
	for (size_t i = 0; i < n; i++)
		field(&b, "label", labels[i]);
	field(&b, "go", go);
	return body_post(c, itest_fmt("%s/labels", draft), &b);
}

/* Name step + choosing "upload": leaves the draft at the upload step. */
char *draft_to_upload(struct client *c, const char *name)
{
	char *d = draft_new(c);

	step_ok(STEP(c, d, "name", "name", name, "task", "testtask", "go", "next"), d, "data");
	step_ok(STEP(c, d, "data", "source", "upload", "go", "next"), d, "upload");
	return d;
}

/* From the confirm step through labels and instructions to a project;
 * returns its id. */
long finish_project(struct client *c, const char *d, const char *const *labels, size_t n)
{
	const char *loc;
	long id;

	step_ok(STEP(c, d, "confirm", "go", "create"), d, "labels");
	step_ok(labels_post(c, d, "next", labels, n), d, "instructions");
	step_ok(STEP(c, d, "instructions", "instructions_url", "https://example.com/guide",
	    "description", "Made by the tests.", "go", "next"), d, "review");
	loc = see_other(STEP(c, d, "review", "go", "create"), "/projects/");
	CHECK(sscanf(loc, "/projects/%ld", &id) == 1 && id > 0 &&
	    strcmp(loc, itest_fmt("/projects/%ld", id)) == 0, "project Location %s", loc);
	return id;
}

/* Poll the details page until the project leaves Initializing; returns
 * the last page.  Fails after INIT_WAIT_MS. */
struct resp *wait_initialized(struct client *c, long id, int *saw_initializing)
{
	for (long waited = 0; ; waited += 200) {
		struct resp *r = GET(c, itest_fmt("/projects/%ld", id));
		char *state;
		CHECK_STATUS(r, 200);
		state = html_str(r, "//h1/span[contains(@class,'state')]");
		CHECK(state != NULL, "project %ld: no state on the details page", id);
		if (strcmp(state, "Initializing") != 0)
			return r;
		if (saw_initializing != NULL)
			*saw_initializing = 1;
		CHECK(html_count(r, "//head/meta[@http-equiv='refresh' and @content='2']") == 1,
		    "an initializing project's page does not refresh itself");
		CHECK(waited < INIT_WAIT_MS, "project %ld still initializing after %d ms", id, INIT_WAIT_MS);
		itest_sleep_ms(200);
	}
}

/* The text of a Details fact ("Items", "Dataset", ...); "" when missing. */
char *fact(struct resp *r, const char *dt)
{
	char *v = html_str(r, "//dl[contains(@class,'facts')]/dt[normalize-space(.)='%s']"
	    "/following-sibling::dd[1]", dt);

	return v ? v : "";
}

/* The item count shown on the details page. */
long items_shown(struct resp *r)
{
	char *t = fact(r, "Items");
	long n = -1;

	CHECK(t != NULL && sscanf(t, "%ld", &n) == 1, "no item count on %s", r->url);
	return n;
}

char *folder_named_after(const char *name)
{
	char *out = itest_fmt("%s", name), *o = out;

	for (const char *p = name; *p != '\0'; p++) {
		char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_'))
			c = '-';
		if (c == '-' && (o == out || o[-1] == '-'))
			continue;
		*o++ = c;
	}
	while (o > out && o[-1] == '-')
		o--;
	*o = '\0';
	return out;
}

/* The built-in datastore's directory (where uploads land). */
char *default_datastore_dir(void)
{
	char *dir = SQL_QUERY("SELECT local_path FROM datastores WHERE is_builtin = 1");

	CHECK(dir != NULL && dir[0] == '/', "no built-in datastore (%s)", dir ? dir : "");
	return dir;
}

/* The test stack's Azurite account URL, path style. */
const char *azurite_endpoint(void)
{
	const char *url = ENV("LABELD_TEST_AZURITE");

	return strstr(url, "devstoreaccount1") ? url : itest_fmt("%s/devstoreaccount1", url);
}

/* A datastore row for an Azurite container (SQL); returns its id. */
long azurite_datastore(const char *container)
{
	const char *name = uniq("Azurite store");

	SQL("INSERT INTO datastores (name, kind, blob_endpoint, blob_account, blob_container, blob_key) "
	    "VALUES (%s, 'azureblob', %s, 'devstoreaccount1', %s, %s)", sql_str(name),
	    sql_str(azurite_endpoint()), sql_str(container), sql_str(ENV("LABELD_TEST_AZURITE_KEY")));
	return sql_long(itest_fmt("SELECT id FROM datastores WHERE name = %s", sql_str(name)));
}

/* Upload blobs named names[i] with the bytes of fixture rels[i] into a new
 * container, with tests/integration/azurite-seed.js --blobs (node, no shell:
 * the names hold tabs and other bytes a shell would mangle). */
void azurite_put(const char *container, const char *const *names, const char *const *rels,
    size_t n)
{
	const char *src = ENV("LABELD_TEST_SRCDIR");
	char **argv = itest_keep(calloc(2 * n + 7, sizeof(*argv)));
	size_t k = 0;
	pid_t pid;
	int st;

	CHECK(argv != NULL, "out of memory");
	argv[k++] = "node";
	argv[k++] = itest_fmt("%s/tests/integration/azurite-seed.js", src);
	argv[k++] = (char *)azurite_endpoint();
	argv[k++] = (char *)container;
	argv[k++] = "--blobs";
	for (size_t i = 0; i < n; i++) {
		argv[k++] = (char *)names[i];
		argv[k++] = itest_fmt("%s/tests/fixtures/images/%s", src, rels[i]);
	}
	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0, "fork failed");
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 1);	/* its summary line is no test result */
		execvp("node", argv);
		_exit(127);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "azurite-seed.js --blobs into %s failed (status %d)", container, st);
}
