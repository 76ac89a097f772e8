/*
 * t_datastores.c: the datastore and dataset pages over HTTP: the list with
 * the default datastore, registering local directories (and every way a
 * path is refused), Azure Blob containers against Azurite (bad endpoint,
 * wrong key, good key, masked secrets), the Browse listing and the folder
 * picker, admin-only access, CSRF, and the dataset pages.
 *
 * Needs from the stack: LABELD_TEST_DATASTORE_ROOT (a directory inside the
 * test labeld's datastore_roots that this program may write),
 * LABELD_TEST_AZURITE (account URL, e.g. http://127.0.0.1:PORT/devstoreaccount1),
 * LABELD_TEST_AZURITE_KEY, and LABELD_TEST_AZURITE_CONTAINER (a container
 * holding blobs under nested/a/ and nested/b/c/).  The misbehaving blob
 * service is tests/unit/badhttp.js (under LABELD_TEST_SRCDIR), run with node
 * (itest_badhttp_start).  The test labeld allows Azure Blob requests to
 * Azurite's exact host:port and to "localhost" only (blob_allow_hosts):
 * ds_blob_forbidden_addresses tries every other spelling of loopback and
 * the other refused addresses.  A failed request shows one sentence; its
 * details are looked for in the labeld logs (LABELD_TEST_LOG_DIR).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "itest.h"

#define ADMIN_EMAIL ENV("LABELD_TEST_ADMIN_EMAIL")
#define ADMIN_PASSWORD ENV("LABELD_TEST_ADMIN_PASSWORD")
#define USER_EMAIL ENV("LABELD_TEST_USER_EMAIL")
#define USER_PASSWORD ENV("LABELD_TEST_USER_PASSWORD")
#define DS_ROOT ENV("LABELD_TEST_DATASTORE_ROOT")
#define AZURITE ENV("LABELD_TEST_AZURITE")
#define AZURITE_KEY ENV("LABELD_TEST_AZURITE_KEY")
#define AZURITE_CONTAINER ENV("LABELD_TEST_AZURITE_CONTAINER")

#define FORM "datastore"
#define RETYPE_NOTE "enter the key again"
/* BLOB_FAILED_SENTENCE of core/blob.h */
#define BLOB_SENTENCE "labeld could not reach the storage account; see the server log."
#define HTTPS_ONLY "http:// is only for hosts in the blob_allow_hosts setting"

/* What a refusal page must never repeat: curl's sentences, the address
 * rules' own, the service's status and codes.  The page's text is read,
 * not its markup: a random token in an attribute may spell "TLS". */
static void check_no_details(struct resp *r)
{
	const char *text = html_str(r, "//body");

	static const char *const details[] = {
		"Failed to connect", "Couldn't connect", "Could not connect", "Connection refused",
		"connect to server", "timed out", "Timeout", "SSL", "TLS", "wrong version",
		"refused to connect", "loopback", "link-local", "private address", "answered HTTP",
		"HTTP 4", "HTTP 5", "blob service", "Not Found", "nginx", "AuthorizationFailure",
		"AuthenticationFailed", "did not answer", "answered with a redirect", "larger than", "XML",
	};
	for (size_t i = 0; i < sizeof(details) / sizeof(details[0]); i++)
		CHECK(text != NULL && strstr(text, details[i]) == NULL, "the page repeats \"%s\": %s",
		    details[i], resp_snip(r));
}

/* ------------------------------------------------------------ helpers */

/* A name no other test run uses. */
static char *unique(const char *stem)
{
	static unsigned n;

	return itest_fmt("%s-%ld-%u", stem, (long)getpid(), ++n);
}

/* A signed-in admin. */
static struct client *admin(void)
{
	struct client *c = CLIENT(NULL);

	SIGN_IN_OK(c, ADMIN_EMAIL, ADMIN_PASSWORD);
	return c;
}

/* The CSRF token of the signed-in client (from the add form). */
static char *csrf_of(struct client *c)
{
	struct resp *r = GET(c, "/admin/datastores/new");
	char *t;

	CHECK_STATUS(r, 200);
	t = html_form_input(r, FORM, "csrf");
	CHECK(t != NULL && *t != '\0', "GET /admin/datastores/new: no csrf in form#" FORM);
	return t;
}

/* Clean-up: remove the datastore named arg (SQL-quoted). */
static void drop_datastore(void *arg)
{
	int st = itest_sql_try("DELETE FROM datastores WHERE name = %s AND is_default = 0",
	    (const char *)arg);

	if (st != 0)
		itest_cleanup_error("deleting datastore %s failed (exit %d)", (const char *)arg, st);
}

/* Clean-up: rm -rf a directory this test made under the root. */
static void remove_tree(void *arg)
{
	int st = itest_shell(itest_fmt("rm -rf '%s'", (const char *)arg));

	if (st != 0)
		itest_cleanup_error("rm -rf %s failed (exit %d)", (const char *)arg, st);
}

/* A fresh directory under the test root (removed when the test ends). */
static char *test_dir(void)
{
	char *dir = itest_fmt("%s/%s", DS_ROOT, unique("t"));

	CHECK(mkdir(dir, 0755) == 0, "mkdir %s failed", dir);
	itest_defer(remove_tree, dir);
	return dir;
}

static void mkdirs(const char *base, const char *rel)
{
	int st = itest_shell(itest_fmt("mkdir -p '%s/%s'", base, rel));

	CHECK(st == 0, "mkdir -p %s/%s failed", base, rel);
}

static void touch(const char *base, const char *rel)
{
	FILE *f = fopen(itest_fmt("%s/%s", base, rel), "w");

	CHECK(f != NULL, "cannot create %s/%s", base, rel);
	fputs("x", f);
	fclose(f);
}

/* How many datastores are named name. */
static long count_named(const char *name)
{
	return atol(SQL_QUERY("SELECT COUNT(*) FROM datastores WHERE name = %s", sql_str(name)));
}

/* POST a local datastore; the caller checks the answer. */
static struct resp *post_local(struct client *c, const char *csrf, const char *name, const char *dir)
{
	return POST_FORM(c, "/admin/datastores", "csrf", csrf, "kind", "local",
	    "name", name, "dir", dir);
}

/* A key without its '=' padding (pages escape '='), to look for leaks. */
static const char *key_core(const char *key)
{
	size_t n = strlen(key);

	while (n > 0 && key[n - 1] == '=')
		n--;
	return itest_fmt("%.*s", (int)n, key);
}

/* The account name in an Azurite account URL (its last path segment). */
static const char *azurite_account(void)
{
	const char *url = AZURITE, *slash = strrchr(url, '/');

	CHECK(slash != NULL && slash[1] != '\0',
	    "LABELD_TEST_AZURITE=%s: want http://HOST:PORT/ACCOUNT", url);
	return slash + 1;
}

static struct resp *post_blob(struct client *c, const char *csrf, const char *name,
    const char *endpoint, const char *container, const char *key)
{
	return POST_FORM(c, "/admin/datastores", "csrf", csrf, "kind", "azureblob",
	    "name", name, "account", azurite_account(), "container", container,
	    "endpoint", endpoint, "auth", "key", "key", key);
}

/* The id in a 303 to /admin/datastores/ID. */
static long created_id(const struct resp *r, const char *what)
{
	const char *loc = resp_header(r, "Location");
	long id;

	CHECK(r->status == 303, "%s: status %ld, want 303; page: %s", what, r->status, resp_snip(r));
	CHECK(loc != NULL && strncmp(loc, "/admin/datastores/", 18) == 0,
	    "%s: Location %s, want /admin/datastores/ID", what, loc ? loc : "(none)");
	id = atol(loc + 18);
	CHECK(id > 0 && strcmp(loc + 18, itest_fmt("%ld", id)) == 0, "%s: Location %s", what, loc);
	return id;
}

/* A refusal: the status, the message, the form again with name (and dir)
 * kept, and no row. */
static void check_refused(struct resp *r, long status, const char *name, const char *dir,
    const char *needle)
{
	CHECK_STATUS(r, status);
	CHECK(html_count(r, "//form[@id='" FORM "']") == 1, "refusal without the form again: %s",
	    resp_snip(r));
	CHECK(html_count(r, "//*[contains(@class,'flash') and contains(@class,'error')]") >= 1,
	    "refusal without an error message: %s", resp_snip(r));
	if (needle != NULL)
		CHECK_BODY_HAS_NOCASE(r, needle);
	CHECK_STREQ(html_form_input(r, FORM, "name"), name);
	if (dir != NULL)
		CHECK_STREQ(html_form_input(r, FORM, "dir"), dir);
	CHECK(count_named(name) == 0, "datastore %s was stored although refused", name);
}

/* The folder names of a Browse page (table#folders, links a.folder). */
static char **folders_of(struct resp *r, size_t *n)
{
	return html_strs(r, "//table[@id='folders']//a[@class='folder']", n);
}

static int has_folder(struct resp *r, const char *name)
{
	return html_count(r, "//table[@id='folders']//a[@class='folder' and normalize-space(.)='%s/']",
	    name) == 1;
}

/* ------------------------------------------------------------ the list */

static void ds_list_default(void)
{
	struct client *c = admin();
	struct resp *r = GET(c, "/admin/datastores");

	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//table[@id='datastores']//tr[.//a[normalize-space(.)='default']]"
	    "[.//*[contains(@class,'badge') and normalize-space(.)='default']]") == 1,
	    "GET /admin/datastores: no row for the default datastore with its marker");
	CHECK(html_count(r, "//a[@href='/admin/datastores/new']") >= 1,
	    "GET /admin/datastores: no \"Add datastore\" link");
	/* the nav shows the sections to admins */
	CHECK(html_count(r, "//nav//a[@href='/datasets']") == 1, "nav: no Datasets link for an admin");
	CHECK(html_count(r, "//nav//a[@href='/admin/datastores']") == 1, "nav: no Datastores link");
}

static void ds_new_forms(void)
{
	struct client *c = admin();
	struct resp *r = GET(c, "/admin/datastores/new");

	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_form_input(r, FORM, "kind"), "local");
	CHECK(html_count(r, "//form[@id='" FORM "']//input[@name='dir']") == 1, "local form: no dir");
	CHECK_STREQ(html_str(r, "//form[@id='" FORM "']/@method"), "post");
	CHECK_STREQ(html_str(r, "//form[@id='" FORM "']/@action"), "/admin/datastores");

	r = GET(c, "/admin/datastores/new?kind=azureblob");
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_form_input(r, FORM, "kind"), "azureblob");
	CHECK(html_count(r, "//form[@id='" FORM "']//input[@name='account']") == 1, "blob form: no account");
	CHECK(html_count(r, "//form[@id='" FORM "']//input[@name='container']") == 1, "blob form: no container");
	CHECK(html_count(r, "//form[@id='" FORM "']//input[@name='endpoint']") == 1, "blob form: no endpoint");
	CHECK(html_count(r, "//form[@id='" FORM "']//input[@name='auth']") == 2, "blob form: no sas/key choice");
	CHECK(html_count(r, "//form[@id='" FORM "']//input[@name='sas']") == 1, "blob form: no sas");
	CHECK(html_count(r, "//form[@id='" FORM "']//input[@name='key']") == 1, "blob form: no key");
	CHECK_BODY_HAS(r, "https://ACCOUNT.blob.core.windows.net");

	r = GET(c, "/admin/datastores/new?kind=ftp");
	CHECK_STATUS(r, 404);
}

/* ------------------------------------------------------------ local */

static void ds_add_local(void)
{
	struct client *c = admin();
	char *csrf = csrf_of(c), *dir = test_dir(), *name = unique("itest-local");
	struct resp *r;
	long id;

	mkdirs(dir, "images");
	itest_defer(drop_datastore, sql_str(name));
	r = post_local(c, csrf, name, itest_fmt("%s/images", dir));
	id = created_id(r, "POST a local datastore");

	r = GET(c, itest_fmt("/admin/datastores/%ld", id));
	CHECK_STATUS(r, 200);
	CHECK_BODY_HAS(r, name);
	CHECK_BODY_HAS(r, "/images");
	CHECK(html_count(r, "//h2[@id='browse']") == 1, "details: no Browse section");

	r = GET(c, "/admin/datastores");
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//table[@id='datastores']//a[@href='/admin/datastores/%ld']", id) == 1,
	    "the list does not link to the new datastore");

	/* the same name again: 409, the form kept */
	r = post_local(c, csrf, name, itest_fmt("%s/images", dir));
	CHECK_STATUS(r, 409);
	CHECK_STREQ(html_form_input(r, FORM, "name"), name);
	CHECK_STREQ(html_form_input(r, FORM, "dir"), itest_fmt("%s/images", dir));
	CHECK(count_named(name) == 1, "a duplicate name was stored");
	/* names differ from the stored one only in case: still taken */
	char *upper = itest_fmt("ITEST-LOCAL%s", name + strlen("itest-local"));
	r = post_local(c, csrf, upper, itest_fmt("%s/images", dir));
	CHECK_STATUS(r, 409);
}

static void ds_local_refused(void)
{
	struct client *c = admin();
	char *csrf = csrf_of(c), *dir = test_dir(), *name = unique("itest-refused");
	struct resp *r;

	itest_defer(drop_datastore, sql_str(name));
	mkdirs(dir, "inside/deeper");
	CHECK(symlink("/etc", itest_fmt("%s/inside/escape", dir)) == 0, "symlink failed");
	CHECK(symlink(itest_fmt("%s/inside/deeper", dir), itest_fmt("%s/inside/ok-link", dir)) == 0,
	    "symlink failed");

	r = post_local(c, csrf, name, "relative/images");
	check_refused(r, 422, name, "relative/images", "absolute");

	r = post_local(c, csrf, name, itest_fmt("%s/inside/../inside", dir));
	check_refused(r, 422, name, itest_fmt("%s/inside/../inside", dir), "..");

	r = post_local(c, csrf, name, "/etc");
	check_refused(r, 422, name, "/etc", "allowed");

	r = post_local(c, csrf, name, itest_fmt("%s/inside/escape", dir));
	check_refused(r, 422, name, itest_fmt("%s/inside/escape", dir), "allowed");

	r = post_local(c, csrf, name, itest_fmt("%s/missing", dir));
	check_refused(r, 422, name, itest_fmt("%s/missing", dir), "not an existing directory");

	r = post_local(c, csrf, name, "");
	check_refused(r, 422, name, "", NULL);

	/* NUL byte: %00 in the body */
	char *body = itest_fmt("csrf=%s&kind=local&name=%s&dir=%s%%00x", url_enc(csrf), url_enc(name),
	    url_enc(itest_fmt("%s/inside", dir)));
	r = POST_RAW(c, "/admin/datastores", "application/x-www-form-urlencoded", body, strlen(body));
	check_refused(r, 400, name, NULL, "NUL");

	/* an empty or too long name */
	r = post_local(c, csrf, "   ", itest_fmt("%s/inside", dir));
	CHECK_STATUS(r, 422);
	CHECK_STREQ(html_form_input(r, FORM, "dir"), itest_fmt("%s/inside", dir));
	char longname[120];
	memset(longname, 'n', 101);
	longname[101] = '\0';
	r = post_local(c, csrf, longname, itest_fmt("%s/inside", dir));
	check_refused(r, 422, longname, NULL, "100 characters");

	/* a symlink that stays inside the root is fine (stored resolved) */
	r = post_local(c, csrf, name, itest_fmt("%s/inside/ok-link", dir));
	long id = created_id(r, "POST a symlink inside the root");
	char *stored = SQL_QUERY("SELECT local_path FROM datastores WHERE id = %ld", id);
	CHECK(strstr(stored, "/inside/deeper") != NULL, "stored path %s is not the resolved one", stored);
}

/* ------------------------------------------------------------ Browse */

static void ds_browse_local(void)
{
	struct client *c = admin();
	char *csrf = csrf_of(c), *dir = test_dir(), *name = unique("itest-browse");
	struct resp *r;
	size_t n;
	char **names;
	long id;

	mkdirs(dir, "cats/tabby");
	mkdirs(dir, "cats/black");
	mkdirs(dir, "dogs");
	mkdirs(dir, ".hidden");
	touch(dir, "top.png");
	touch(dir, "cats/a.png");
	touch(dir, "cats/b.png");
	CHECK(symlink("/etc", itest_fmt("%s/outside", dir)) == 0, "symlink failed");
	itest_defer(drop_datastore, sql_str(name));
	id = created_id(post_local(c, csrf, name, dir), "POST a local datastore");

	r = GET(c, itest_fmt("/admin/datastores/%ld", id));
	CHECK_STATUS(r, 200);
	names = folders_of(r, &n);
	CHECK(n == 2 && has_folder(r, "cats") && has_folder(r, "dogs"),
	    "root folders: %zu (%s, ...), want cats and dogs only", n, n ? names[0] : "none");
	CHECK_BODY_HAS(r, "1 file directly");
	CHECK(html_count(r, "//a[contains(@href,'pick=')]") == 0, "pick links without pick=");

	/* deeper, with a breadcrumb back up */
	r = GET(c, itest_fmt("/admin/datastores/%ld?path=cats", id));
	CHECK_STATUS(r, 200);
	names = folders_of(r, &n);
	CHECK(n == 2 && has_folder(r, "black") && has_folder(r, "tabby"),
	    "cats/: %zu folders, want black and tabby", n);
	CHECK(strcmp(names[0], "black/") == 0, "folders not sorted: first %s", names[0]);
	CHECK_BODY_HAS(r, "2 files directly");
	CHECK(html_count(r, "//a[@href='/admin/datastores/%ld#browse' and normalize-space(.)='%s']",
	    id, name) == 1, "cats/: no breadcrumb link back to the root");
	CHECK(html_count(r, "//a[@class='folder' and @href='/admin/datastores/%ld?path=cats%%2Ftabby#browse']",
	    id) == 1, "cats/: no link into cats/tabby");

	r = GET(c, itest_fmt("/admin/datastores/%ld?path=cats/tabby", id));
	CHECK_STATUS(r, 200);
	CHECK_BODY_HAS(r, "No subfolders");
	CHECK(html_count(r, "//a[@href='/admin/datastores/%ld?path=cats#browse']", id) == 1,
	    "cats/tabby: no breadcrumb link to cats");

	/* bad paths: 400 with a message; the symlink out is not followed */
	r = GET(c, itest_fmt("/admin/datastores/%ld?path=cats/..", id));
	CHECK_STATUS(r, 400);
	r = GET(c, itest_fmt("/admin/datastores/%ld?path=%%2Fetc", id));
	CHECK_STATUS(r, 400);
	r = GET(c, itest_fmt("/admin/datastores/%ld?path=cats%%00x", id));
	CHECK_STATUS(r, 400);
	r = GET(c, itest_fmt("/admin/datastores/%ld?path=outside", id));
	CHECK(r->status == 200 && html_count(r, "//*[contains(@class,'flash') and contains(@class,'error')]") == 1,
	    "browsing a symlink out of the root: status %ld, want 200 with an error", r->status);
	CHECK_BODY_LACKS(r, "passwd");

	/* the picker: links back to the wizard in the agreed format */
	const char *pick = "/projects/drafts/7/data";
	r = GET(c, itest_fmt("/admin/datastores/%ld?path=cats&pick=%s", id, url_enc(pick)));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//a[@href='%s?datastore=%ld&path=cats%%2Ftabby']", pick, id) == 1,
	    "picker: no \"Use this folder\" link for cats/tabby");
	CHECK(html_count(r, "//a[@href='%s?datastore=%ld&path=cats%%2Ftabby%%2F%%2A%%2A']", pick, id) == 1,
	    "picker: no \"Use with subfolders\" link for cats/tabby");
	CHECK(html_count(r, "//a[@href='%s?datastore=%ld&path=cats']", pick, id) == 1,
	    "picker: no link for the current folder");
	CHECK(html_count(r, "//a[@href='%s?datastore=%ld&path=cats%%2F%%2A%%2A']", pick, id) == 1,
	    "picker: no recursive link for the current folder");
	/* going deeper keeps the picker */
	CHECK(html_count(r, "//a[@class='folder' and @href='/admin/datastores/%ld?path=cats%%2Ftabby&pick=%s#browse']",
	    id, url_enc(pick)) == 1, "picker: folder links lose pick=");
	/* the root offers the whole datastore */
	r = GET(c, itest_fmt("/admin/datastores/%ld?pick=%s", id, url_enc(pick)));
	CHECK(html_count(r, "//a[@href='%s?datastore=%ld&path=%%2A%%2A']", pick, id) == 1,
	    "picker: no link for the whole datastore");

	/* pick= must be a wizard page on this site */
	r = GET(c, itest_fmt("/admin/datastores/%ld?pick=%s", id, url_enc("https://evil.example/projects/drafts/1")));
	CHECK_STATUS(r, 400);
	r = GET(c, itest_fmt("/admin/datastores/%ld?pick=%s", id, url_enc("//evil.example/x")));
	CHECK_STATUS(r, 400);
	r = GET(c, itest_fmt("/admin/datastores/%ld?pick=%s", id, url_enc("/projects/drafts/1/../../admin")));
	CHECK_STATUS(r, 400);
}

/* ------------------------------------------------------------ Azure Blob */

static void ds_blob_bad_endpoint(void)
{
	struct client *c = admin();
	char *csrf = csrf_of(c), *name = unique("itest-ftp");
	struct resp *r;

	itest_defer(drop_datastore, sql_str(name));
	r = post_blob(c, csrf, name, "ftp://127.0.0.1/devstoreaccount1", "samples", AZURITE_KEY);
	check_refused(r, 422, name, NULL, "http");
	CHECK_STREQ(html_form_input(r, FORM, "endpoint"), "ftp://127.0.0.1/devstoreaccount1");
	CHECK_STREQ(html_form_input(r, FORM, "key"), "");
	CHECK_BODY_LACKS(r, key_core(AZURITE_KEY));
	CHECK_BODY_HAS(r, RETYPE_NOTE);

	/* a container name Azure would refuse, and an account key that is not base64 */
	r = post_blob(c, csrf, name, AZURITE, "Bad_Container", AZURITE_KEY);
	check_refused(r, 422, name, NULL, "container");
	r = post_blob(c, csrf, name, AZURITE, AZURITE_CONTAINER, "not base64 at all!");
	check_refused(r, 422, name, NULL, "base64");
	CHECK_BODY_LACKS(r, "not base64 at all!");
}

static void ds_blob_wrong_key(void)
{
	struct client *c = admin();
	char *csrf = csrf_of(c), *name = unique("itest-wrongkey");
	char *key = itest_fmt("%s", AZURITE_KEY);
	struct resp *r;

	itest_defer(drop_datastore, sql_str(name));
	key[0] = key[0] == 'A' ? 'B' : 'A';      /* still base64, not the key */
	r = post_blob(c, csrf, name, AZURITE, AZURITE_CONTAINER, key);
	check_refused(r, 422, name, NULL, BLOB_SENTENCE);
	check_no_details(r);
	CHECK(itest_log_has(itest_fmt("datastore test of %s/%s for", AZURITE, AZURITE_CONTAINER),
	    "answered HTTP 403"), "the log does not say what Azurite answered");
	/* Azurite's error body says this; labeld must not repeat it */
	CHECK_BODY_LACKS(r, "Server failed to authenticate");
	CHECK_BODY_LACKS(r, "<Error>");
	CHECK_BODY_LACKS(r, "&lt;Error&gt;");
	CHECK_BODY_LACKS(r, "RequestId");
	CHECK_BODY_LACKS(r, key_core(key));
	CHECK_STREQ(html_form_input(r, FORM, "key"), "");
	CHECK_BODY_HAS(r, RETYPE_NOTE);
	/* the other fields are kept */
	CHECK_STREQ(html_form_input(r, FORM, "endpoint"), AZURITE);
	CHECK_STREQ(html_form_input(r, FORM, "container"), AZURITE_CONTAINER);
	CHECK_STREQ(html_form_input(r, FORM, "account"), azurite_account());

	/* nothing listens there (an allowed host): refused quickly with the
	 * sentence; curl's words go to the log */
	r = post_blob(c, csrf, name, "http://localhost:9/devstoreaccount1", AZURITE_CONTAINER, AZURITE_KEY);
	check_refused(r, 422, name, NULL, BLOB_SENTENCE);
	check_no_details(r);
	CHECK(itest_log_has("datastore test of http://localhost:9/devstoreaccount1/", "could not reach"),
	    "the log does not say why localhost:9 failed");
}

/* Every spelling of a loopback address (of nginx's port here, and of
 * Azurite's own port with the right account and key), link-local (the
 * cloud metadata service), private, shared, unique-local, multicast and
 * unspecified addresses: refused, over https at the moment labeld would
 * connect, over http before (not an allowed host), with the one sentence
 * and nothing that tells whether anything answers there.  Azurite's exact
 * host:port (allowed) works: ds_blob_good. */
static void ds_blob_forbidden_addresses(void)
{
	struct client *c = admin();
	char *csrf = csrf_of(c), *name = unique("itest-ssrf");
	const char *web = strrchr(ENV("LABELD_TEST_URL"), ':') + 1, *az = AZURITE;
	const char *azport = strrchr(strstr(az, "://") + 3, ':');
	static const char *const loopback[] = {
		"127.0.0.1", "127.1", "127.0.1", "2130706433", "0x7f000001", "0x7F.0.0.1", "0177.0.0.1",
		"127.000.000.001", "0", "0.0.0.0", "[::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]",
		"[::ffff:7f00:1]", "[::]",
	};
	static const char *const elsewhere[] = {
		"[::ffff:127.0.0.1]", "[::1]", "[::ffff:7f00:1]", "[::127.0.0.1]",
	};
	static const char *const internal[] = {
		"169.254.169.254", "[::ffff:169.254.169.254]", "2852039166", "10.0.0.1", "0x0a000001",
		"172.16.0.1", "192.168.0.1", "100.64.0.1", "[fc00::1]", "[fd00::1]", "[fe80::1]",
		"224.0.0.1", "[ff02::1]", "[64:ff9b::a9fe:a9fe]",
	};
	size_t n = 0;
	const char *endpoints[64];

	CHECK(azport != NULL, "LABELD_TEST_AZURITE=%s: no port", az);
	azport++;
	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++)
		endpoints[n++] = itest_fmt("%s:%s", loopback[i], web);
	for (size_t i = 0; i < sizeof(elsewhere) / sizeof(elsewhere[0]); i++)
		endpoints[n++] = itest_fmt("%.*s:%s", (int)strcspn(elsewhere[i], "/"), elsewhere[i],
		    itest_fmt("%.*s", (int)strcspn(azport, "/"), azport));
	for (size_t i = 0; i < sizeof(internal) / sizeof(internal[0]); i++)
		endpoints[n++] = itest_fmt("%s:80", internal[i]);

	itest_defer(drop_datastore, sql_str(name));
	for (size_t i = 0; i < n; i++) {
		for (int https = 0; https < 2; https++) {
			const char *ep = itest_fmt("%s://%s/%s", https ? "https" : "http", endpoints[i],
			    strrchr(az, '/') + 1);
			struct resp *r = post_blob(c, csrf, name, ep, AZURITE_CONTAINER, AZURITE_KEY);
			check_refused(r, 422, name, NULL, https ? BLOB_SENTENCE : HTTPS_ONLY);
			check_no_details(r);
			CHECK_STREQ(html_form_input(r, FORM, "endpoint"), ep);
			if (https)
				CHECK(itest_log_has(itest_fmt("datastore test of %s/", ep), "refused to connect to "),
				    "%s: the log does not say which address was refused", ep);
		}
	}
}

static void ds_blob_good(void)
{
	struct client *c = admin();
	char *csrf = csrf_of(c), *name = unique("itest-azurite");
	const char *key = AZURITE_KEY;
	size_t klen = strlen(key);
	struct resp *r;
	long id;

	itest_defer(drop_datastore, sql_str(name));
	r = post_blob(c, csrf, name, AZURITE, AZURITE_CONTAINER, key);
	id = created_id(r, "POST an Azurite datastore");

	r = GET(c, itest_fmt("/admin/datastores/%ld", id));
	CHECK_STATUS(r, 200);
	CHECK_BODY_HAS(r, AZURITE_CONTAINER);
	CHECK_BODY_HAS(r, AZURITE);
	/* the key is masked: never whole, never its start; its end only */
	CHECK_BODY_LACKS(r, key_core(key));
	CHECK_BODY_LACKS(r, itest_fmt("%.8s", key));
	CHECK(html_count(r, "//*[contains(text(), '%s')]", key) == 0, "details: the key is shown");
	CHECK(html_count(r, "//dd[contains(., '%s')]", key + klen - 4) == 1,
	    "details: the key's last four characters are not shown");
	r = GET(c, "/admin/datastores");
	CHECK_BODY_LACKS(r, itest_fmt("%.8s", key));

	/* Browse: nested/a and nested/b/c */
	r = GET(c, itest_fmt("/admin/datastores/%ld", id));
	CHECK(has_folder(r, "nested"), "Azurite root: no folder nested/");
	r = GET(c, itest_fmt("/admin/datastores/%ld?path=nested", id));
	CHECK_STATUS(r, 200);
	CHECK(has_folder(r, "a") && has_folder(r, "b"), "Azurite nested/: want folders a and b");
	r = GET(c, itest_fmt("/admin/datastores/%ld?path=nested/b", id));
	CHECK_STATUS(r, 200);
	CHECK(has_folder(r, "c"), "Azurite nested/b/: want folder c");
	r = GET(c, itest_fmt("/admin/datastores/%ld?path=nested/a&pick=%s", id,
	    url_enc("/projects/drafts/3/data")));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//a[@href='/projects/drafts/3/data?datastore=%ld&path=nested%%2Fa%%2F%%2A%%2A']",
	    id) == 1, "Azurite picker: no recursive link for nested/a");
	CHECK(html_count(r, "//*[contains(@class,'flash') and contains(@class,'error')]") == 0,
	    "Azurite nested/a: %s", resp_snip(r));
}

/* A blob service that redirects, fails with a page, never ends its body,
 * sends a DOCTYPE or no XML at all, or never answers: each refused with the
 * one sentence that repeats nothing of what the service sent; what went
 * wrong is in the log. */
static void ds_blob_misbehaving(void)
{
	struct client *c = admin();
	char *csrf = csrf_of(c), *name = unique("itest-bad");
	char *endpoint = itest_fmt("http://localhost:%d/acct", itest_badhttp_start(NULL));
	const char *key = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=";
	static const struct {
		const char *container;
		const char *needle;     /* in the log */
	} cases[] = {
		{ "redirect", "redirect (HTTP 302)" },
		{ "error", "answered HTTP 500" },
		{ "errxml", "answered HTTP 403 (AuthenticationFailed)" },
		{ "errcode", "answered HTTP 403" },
		{ "endless", "larger than" },
		{ "notxml", "not valid blob-service XML" },
		{ "doctype", "not valid blob-service XML" },
		{ "slow", "did not answer" },
	};

	itest_defer(drop_datastore, sql_str(name));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resp *r = POST_FORM(c, "/admin/datastores", "csrf", csrf, "kind", "azureblob",
		    "name", name, "account", "acct", "container", cases[i].container,
		    "endpoint", endpoint, "auth", "key", "key", key);
		CHECK(r->status == 422, "container %s: status %ld, want 422; page: %s",
		    cases[i].container, r->status, resp_snip(r));
		CHECK_BODY_HAS(r, BLOB_SENTENCE);
		check_no_details(r);
		CHECK(itest_log_has(itest_fmt("datastore test of %s/%s for", endpoint, cases[i].container),
		    cases[i].needle), "container %s: the log lacks \"%s\"", cases[i].container,
		    cases[i].needle);
		CHECK_BODY_LACKS(r, "SECRET-BODY-TEXT");
		CHECK_BODY_LACKS(r, "AccountKey");
		CHECK_BODY_LACKS(r, "elsewhere.invalid");
		CHECK_BODY_LACKS(r, "xxxxxxxxxxxxxxxx");
		CHECK_BODY_LACKS(r, "ENTITY");
		CHECK_STREQ(html_form_input(r, FORM, "container"), cases[i].container);
		CHECK(count_named(name) == 0, "container %s: stored although refused", cases[i].container);
	}
}

/* ------------------------------------------------------------ access */

static void ds_non_admin(void)
{
	struct client *u = CLIENT(NULL);
	struct resp *r;
	const char *pages[] = { "/admin/datastores", "/admin/datastores/new",
		"/admin/datastores/new?kind=azureblob", "/admin/datastores/1", "/datasets",
		"/datasets/1" };
	char *csrf;

	SIGN_IN_OK(u, USER_EMAIL, USER_PASSWORD);
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		r = GET(u, pages[i]);
		CHECK(r->status == 403, "GET %s as a non-admin: %ld, want 403", pages[i], r->status);
	}
	r = GET(u, "/projects");
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//nav//a[@href='/admin/datastores']") == 0, "nav: Datastores shown to a non-admin");
	CHECK(html_count(r, "//nav//a[@href='/datasets']") == 0, "nav: Datasets shown to a non-admin");
	csrf = html_logout_csrf(r);
	CHECK(csrf != NULL, "no csrf");
	char *name = unique("itest-user");
	itest_defer(drop_datastore, sql_str(name));
	r = post_local(u, csrf, name, DS_ROOT);
	CHECK_STATUS(r, 403);
	CHECK(count_named(name) == 0, "a non-admin registered a datastore");
}

static void ds_csrf(void)
{
	struct client *c = admin();
	char *name = unique("itest-csrf");
	struct resp *r;

	itest_defer(drop_datastore, sql_str(name));
	r = POST_FORM(c, "/admin/datastores", "kind", "local", "name", name, "dir", DS_ROOT);
	CHECK_STATUS(r, 403);
	r = post_local(c, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", name, DS_ROOT);
	CHECK_STATUS(r, 403);
	CHECK(count_named(name) == 0, "a datastore was stored without a valid CSRF token");
}

static void ds_not_found(void)
{
	struct client *c = admin();
	const char *pages[] = { "/admin/datastores/999999999", "/admin/datastores/abc",
		"/admin/datastores/0", "/admin/datastores/-1", "/admin/datastores/1x",
		"/datasets/999999", "/datasets/abc", "/datasets/0", "/datasets/1e3" };

	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		struct resp *r = GET(c, pages[i]);
		CHECK(r->status == 404, "GET %s: %ld, want 404", pages[i], r->status);
	}
}

/* ------------------------------------------------------------ datasets */

static void drop_dataset(void *arg)
{
	int st = itest_sql_try("DELETE FROM datasets WHERE name = %s", (const char *)arg);

	if (st != 0)
		itest_cleanup_error("deleting dataset %s failed (exit %d)", (const char *)arg, st);
}

static void datasets_pages(void)
{
	struct client *c = admin();
	char *name = itest_fmt("<b>%s</b> & \"q\"", unique("itest-set"));
	char *qname = sql_str(name);
	struct resp *r;
	long id;

	r = GET(c, "/datasets");
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//table[@id='datasets']") == 1, "GET /datasets: no table#datasets");

	/* a dataset row as the wizard would make it; the count is not known yet */
	itest_defer(drop_dataset, qname);
	SQL("INSERT INTO datasets (name, description, datastore_id, path, is_recursive, source) "
	    "SELECT %s, 'from the test', id, 'cats/tabby', 1, 'datastore' FROM datastores "
	    "WHERE is_default = 1", qname);
	id = atol(SQL_QUERY("SELECT id FROM datasets WHERE name = %s", qname));
	CHECK(id > 0, "the test dataset was not inserted");

	r = GET(c, "/datasets");
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//table[@id='datasets']//tr[.//a[@href='/datasets/%ld']]", id) == 1,
	    "GET /datasets: no row for the dataset");
	CHECK_BODY_LACKS(r, "<b>itest-set");
	CHECK_BODY_HAS(r, "cats/tabby/**");
	CHECK(html_count(r, "//tr[.//a[@href='/datasets/%ld']]/td[normalize-space(.)='\xe2\x80\x94']", id) == 1,
	    "GET /datasets: an unknown file count is not shown as a dash");

	r = GET(c, itest_fmt("/datasets/%ld", id));
	CHECK_STATUS(r, 200);
	CHECK_BODY_HAS(r, "from the test");
	CHECK_BODY_HAS(r, "No project uses this dataset");
	CHECK(strstr(r->body, "&lt;b&gt;itest-set") != NULL, "dataset name not shown escaped");
	CHECK_BODY_LACKS(r, "<b>itest-set");

	SQL("UPDATE datasets SET file_count = 1234 WHERE id = %ld", id);
	r = GET(c, "/datasets");
	CHECK(html_count(r, "//tr[.//a[@href='/datasets/%ld']]/td[normalize-space(.)='1234']", id) == 1,
	    "GET /datasets: the file count is not shown");
}

/* The default datastore is the admin's choice: "Make default" on an Azure
 * Blob datastore's page (CSRF checked; admins only; unknown ids 404) moves
 * the default there and back, with one default and one built-in store in
 * the list and on the pages at every step. */
static void ds_make_default(void)
{
	struct client *c = admin(), *u = CLIENT(NULL);
	char *name = unique("itest-default"), *csrf;
	long builtin = atol(SQL_QUERY("SELECT id FROM datastores WHERE is_builtin = 1")), id;
	struct resp *r;

	CHECK(builtin > 0, "no built-in datastore");
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT_WS(' ', COUNT(*), SUM(is_builtin)) FROM datastores "
	    "WHERE is_default = 1"), "1 1");
	itest_defer(drop_datastore, sql_str(name));
	SQL("INSERT INTO datastores (name, kind, blob_endpoint, blob_account, blob_container, blob_key) "
	    "VALUES (%s, 'azureblob', %s, 'devstoreaccount1', %s, %s)", sql_str(name), sql_str(AZURITE),
	    sql_str(AZURITE_CONTAINER), sql_str(AZURITE_KEY));
	id = atol(SQL_QUERY("SELECT id FROM datastores WHERE name = %s", sql_str(name)));

	/* The built-in store's page: both badges, the rule, no button. */
	r = GET(c, itest_fmt("/admin/datastores/%ld", builtin));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//h1/span[@id='badge-default']"), "default");
	CHECK_STREQ(html_str(r, "//h1/span[@id='badge-builtin']"), "built-in");
	CHECK(strstr(html_str(r, "//p[@id='default-rule']"), "new exports are written here") != NULL,
	    "the page does not say what the default is: %s", resp_snip(r));
	CHECK(html_count(r, "//form[@id='make-default']") == 0, "the default offers \"Make default\"");
	/* The blob datastore's page: no badge, the button. */
	r = GET(c, itest_fmt("/admin/datastores/%ld", id));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//h1/span[contains(@class,'badge')]") == 0, "a badge on %s", name);
	CHECK_STREQ(html_str(r, "//form[@id='make-default']/@action"),
	    itest_fmt("/admin/datastores/%ld/default", id));
	CHECK_STREQ(html_str(r, "//form[@id='make-default']/@method"), "post");
	csrf = html_form_input(r, "make-default", "csrf");

	/* Refused: no token, a wrong token, a labeler (with the labeler's own
	 * token), unknown datastores; the default stays where it was. */
	CHECK_STATUS(POST_FORM(c, itest_fmt("/admin/datastores/%ld/default", id), "go", "1"), 403);
	CHECK_STATUS(POST_FORM(c, itest_fmt("/admin/datastores/%ld/default", id), "csrf",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 403);
	SIGN_IN_OK(u, USER_EMAIL, USER_PASSWORD);
	r = GET(u, "/projects");
	CHECK_STATUS(POST_FORM(u, itest_fmt("/admin/datastores/%ld/default", id), "csrf",
	    html_logout_csrf(r)), 403);
	CHECK_STATUS(POST_FORM(c, "/admin/datastores/999999999/default", "csrf", csrf), 404);
	CHECK_STATUS(POST_FORM(c, "/admin/datastores/abc/default", "csrf", csrf), 404);
	CHECK_STREQ(SQL_QUERY("SELECT GROUP_CONCAT(id) FROM datastores WHERE is_default = 1"),
	    itest_fmt("%ld", builtin));

	/* Made the default: the notice and the badge; the built-in store keeps
	 * its own badge and offers the button. */
	MAKE_DEFAULT(c, id);
	r = GET(c, itest_fmt("/admin/datastores/%ld?saved=default", id));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//p[contains(@class,'flash') and contains(., 'now the default')]") == 1,
	    "no notice after Make default: %s", resp_snip(r));
	CHECK_STREQ(html_str(r, "//h1/span[@id='badge-default']"), "default");
	CHECK(html_count(r, "//form[@id='make-default']") == 0, "the new default offers the button");
	r = GET(c, itest_fmt("/admin/datastores/%ld", builtin));
	CHECK(html_count(r, "//h1/span[@id='badge-default']") == 0, "the built-in store is still marked default");
	CHECK_STREQ(html_str(r, "//h1/span[@id='badge-builtin']"), "built-in");
	CHECK(html_count(r, "//form[@id='make-default']") == 1, "the built-in store offers no button");
	r = GET(c, "/admin/datastores");
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//table[@id='datastores']//span[contains(@class,'badge-default')]") == 1 &&
	    html_count(r, "//table[@id='datastores']//tr[.//a[@href='/admin/datastores/%ld']]"
	    "//span[contains(@class,'badge-default')]", id) == 1,
	    "the list does not mark %s (only) as the default", name);
	CHECK(html_count(r, "//table[@id='datastores']//span[contains(@class,'badge-builtin')]") == 1 &&
	    html_count(r, "//table[@id='datastores']//tr[.//a[@href='/admin/datastores/%ld']]"
	    "//span[contains(@class,'badge-builtin')]", builtin) == 1,
	    "the list does not mark the built-in store");
	/* The notice is only for a datastore that is the default. */
	r = GET(c, itest_fmt("/admin/datastores/%ld?saved=default", builtin));
	CHECK(html_count(r, "//p[contains(@class,'flash') and contains(., 'now the default')]") == 0,
	    "the notice is shown on a datastore that is not the default");

	/* And back: the built-in store is the default again. */
	MAKE_DEFAULT(c, builtin);
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT_WS(' ', COUNT(*), SUM(is_builtin)) FROM datastores "
	    "WHERE is_default = 1"), "1 1");
}

const struct itest_case itest_datastores_cases[] = {
	ITEST(ds_list_default),
	ITEST(ds_new_forms),
	ITEST(ds_add_local),
	ITEST(ds_local_refused),
	ITEST(ds_browse_local),
	ITEST(ds_blob_bad_endpoint),
	ITEST(ds_blob_wrong_key),
	ITEST(ds_blob_good),
	ITEST(ds_blob_misbehaving),
	ITEST(ds_blob_forbidden_addresses),
	ITEST(ds_non_admin),
	ITEST(ds_csrf),
	ITEST(ds_not_found),
	ITEST(ds_make_default),
	ITEST(datasets_pages),
};
const size_t itest_datastores_ncases = sizeof(itest_datastores_cases) / sizeof(itest_datastores_cases[0]);
