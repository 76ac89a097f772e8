/*
 * t_http.c: HTTP behaviour that does not depend on who is signed in:
 * security headers, error pages, bad bodies, limits, static files, HEAD,
 * and pages that parse as HTML.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "itest.h"

#define USER_EMAIL ENV("LABELD_TEST_USER_EMAIL")
#define USER_PASSWORD ENV("LABELD_TEST_USER_PASSWORD")
#define ADMIN_EMAIL ENV("LABELD_TEST_ADMIN_EMAIL")
#define ADMIN_PASSWORD ENV("LABELD_TEST_ADMIN_PASSWORD")

#define FORM_CT "application/x-www-form-urlencoded"
#define BOUNDARY "itestBoundary42"

/* Whether the Content-Type of r starts with type. */
static bool resp_is_type(const struct resp *r, const char *type)
{
	const char *ct = resp_header(r, "Content-Type");

	return ct != NULL && strncasecmp(ct, type, strlen(type)) == 0;
}

#define CHECK_TYPE(r, type) CHECK(resp_is_type((r), (type)), \
	"%s %s: Content-Type %s, want %s", (r)->method, (r)->url, \
	resp_header((r), "Content-Type") ? resp_header((r), "Content-Type") : "(none)", (type))

/* Whether the comma-separated Allow value lists method. */
static bool allow_has(const char *allow, const char *method)
{
	size_t mlen = strlen(method);
	const char *p = allow;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, ", ");
		if (n == mlen && strncasecmp(p, method, n) == 0)
			return true;
		p += n;
	}
	return false;
}

/* An error page that explains itself: HTML with a title and some text that
 * names the problem. */
#define CHECK_ERROR_PAGE(r, ...) do { \
	CHECK_TYPE((r), "text/html"); \
	CHECK(html_count((r), "//title[normalize-space(.)!='']") >= 1, \
	    "%s %s (%ld): error page without a <title>", (r)->method, (r)->url, (r)->status); \
	CHECK(itest_body_has_any((r), (const char *const[]){ __VA_ARGS__, NULL }), \
	    "%s %s (%ld): error page does not say what was wrong; body: %s", \
	    (r)->method, (r)->url, (r)->status, resp_snip(r)); \
} while (0)

static bool itest_body_has_any(const struct resp *r, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strcasestr(r->body, *words) != NULL)
			return true;
	return false;
}

/* A client with the labeld_login cookie and its token, so a POST /login is
 * well-formed as far as CSRF goes.  *csrf gets the token. */
static struct client *client_with_login_token(char **csrf)
{
	struct client *c = CLIENT(NULL);
	struct resp *r = GET(c, "/login");

	CHECK_STATUS(r, 200);
	*csrf = html_form_input(r, "login", "csrf");
	CHECK(*csrf != NULL, "GET /login: no csrf");
	return c;
}

/* ------------------------------------------------------------ headers */

/* The three security headers on every kind of response labeld makes (the
 * client checks them on each; here each kind is made once on purpose). */
static void http_security_headers(void)
{
	struct client *anon = CLIENT(NULL), *user = CLIENT(NULL);
	struct resp *r;
	char *csrf;

	r = GET(anon, "/login");
	CHECK_STATUS(r, 200);
	r = HEAD(anon, "/login");
	CHECK_STATUS(r, 200);
	r = GET(anon, "/");
	CHECK_STATUS(r, 303);
	r = GET(anon, "/projects");
	CHECK_STATUS(r, 303);
	r = GET(anon, "/healthz");
	CHECK_STATUS(r, 200);
	r = GET(anon, "/static/labeld.css");
	CHECK_STATUS(r, 200);
	r = GET(anon, "/no-such-page");
	CHECK_STATUS(r, 404);
	r = REQUEST(anon, "DELETE", "/login", NULL, NULL, 0, 0);
	CHECK_STATUS(r, 405);
	r = POST_RAW(anon, "/login", FORM_CT, "a=%zz&b", 7);
	CHECK_STATUS(r, 400);
	r = POST_FORM(anon, "/login", "email", "x@example.invalid", "password", "x");
	CHECK_STATUS(r, 403);

	csrf = html_form_input(GET(user, "/login"), "login", "csrf");
	CHECK(csrf != NULL, "GET /login: no csrf");
	r = POST_FORM(user, "/login", "email", "nobody@example.invalid", "password", "x",
	    "csrf", csrf);
	CHECK_STATUS(r, 401);
	SIGN_IN_OK(user, USER_EMAIL, USER_PASSWORD);
	r = GET(user, "/projects");
	CHECK_STATUS(r, 200);
	r = GET(user, "/admin/plugins");
	CHECK_STATUS(r, 403);
	r = POST_FORM(user, "/logout", "csrf", "wrong");
	CHECK_STATUS(r, 403);
	itest_sql_try("DELETE FROM login_failures");
}

/* ------------------------------------------------------------ error pages */

/* An unknown path: a 404 HTML page that says so. */
static void http_not_found(void)
{
	struct client *c = CLIENT(NULL);
	static const char *const paths[] = {
		"/no-such-page", "/projectsX", "/admin/nothing", "/login/extra/bits",
		"/core/main.c",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct resp *r = GET(c, paths[i]);
		CHECK_STATUS(r, 404);
		CHECK_ERROR_PAGE(r, "not found");
	}
}

/* A known path with a method it does not take: 405 with Allow. */
static void http_method_not_allowed(void)
{
	struct client *c = CLIENT(NULL);
	struct resp *r;
	const char *allow;

	r = REQUEST(c, "DELETE", "/login", NULL, NULL, 0, 0);
	CHECK_STATUS(r, 405);
	allow = resp_header(r, "Allow");
	CHECK(allow != NULL, "DELETE /login: 405 without an Allow header");
	CHECK(allow_has(allow, "GET") && allow_has(allow, "POST"),
	    "DELETE /login: Allow \"%s\", want GET and POST", allow);
	CHECK(!allow_has(allow, "DELETE"), "DELETE /login: Allow \"%s\" lists DELETE", allow);
	CHECK_TYPE(r, "text/html");

	r = REQUEST(c, "PUT", "/projects", FORM_CT, "a=1", 3, 0);
	CHECK_STATUS(r, 405);
	allow = resp_header(r, "Allow");
	CHECK(allow != NULL && allow_has(allow, "GET"),
	    "PUT /projects: Allow \"%s\", want GET listed", allow != NULL ? allow : "(none)");

	r = POST_RAW(c, "/healthz", FORM_CT, "", 0);
	CHECK_STATUS(r, 405);
	allow = resp_header(r, "Allow");
	CHECK(allow != NULL && allow_has(allow, "GET"),
	    "POST /healthz: Allow \"%s\", want GET listed", allow != NULL ? allow : "(none)");

	r = REQUEST(c, "PATCH", "/logout", FORM_CT, "", 0, 0);
	CHECK_STATUS(r, 405);
	allow = resp_header(r, "Allow");
	CHECK(allow != NULL && allow_has(allow, "POST"),
	    "PATCH /logout: Allow \"%s\", want POST listed", allow != NULL ? allow : "(none)");
}

/* ------------------------------------------------------------ bad bodies */

/* A urlencoded body with broken percent escapes: 400 page with a message
 * (the CSRF token is right, so the encoding is the only problem). */
static void http_bad_urlencoded(void)
{
	static const char *const bodies[] = {
		"a=%zz&b",
		"email=%&password=x",
		"email=%4&password=x",
		"email=a%g0&password=x",
		"em%zzail=a&password=x",
	};
	char *csrf;
	struct client *c = client_with_login_token(&csrf);

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		char *body = itest_fmt("csrf=%s&%s", csrf, bodies[i]);
		struct resp *r = POST_RAW(c, "/login", FORM_CT, body, strlen(body));
		CHECK(r->status == 400, "POST /login body \"%s\": status %ld, want 400; body: %s",
		    bodies[i], r->status, resp_snip(r));
		CHECK_ERROR_PAGE(r, "malformed", "invalid", "bad request", "encoding", "could not");
		CHECK(resp_set_cookie(r, "labeld_session") == NULL, "400 sets a session cookie");
	}
}

/* Multipart bodies go only to routes that take files (the wizard's upload
 * step, admins only): an admin client and that route. */
#define UPLOAD_PATH "/projects/drafts/1/upload"
static struct client *admin_client(void)
{
	struct client *c = CLIENT(NULL);
	SIGN_IN_OK(c, ENV("LABELD_TEST_ADMIN_EMAIL"), ENV("LABELD_TEST_ADMIN_PASSWORD"));
	return c;
}

/* multipart/form-data without a boundary parameter: 400. */
static void http_bad_multipart_no_boundary(void)
{
	static const char body[] =
	    "--" BOUNDARY "\r\n"
	    "Content-Disposition: form-data; name=\"email\"\r\n\r\n"
	    "a@example.invalid\r\n"
	    "--" BOUNDARY "--\r\n";
	struct client *c = admin_client();
	struct resp *r;

	r = POST_RAW(c, UPLOAD_PATH, "multipart/form-data", body, sizeof(body) - 1);
	CHECK_STATUS(r, 400);
	CHECK_ERROR_PAGE(r, "malformed", "invalid", "bad request", "boundary", "multipart",
	    "could not");
	r = POST_RAW(c, UPLOAD_PATH, "multipart/form-data; boundary=", body, sizeof(body) - 1);
	CHECK_STATUS(r, 400);
}

/* multipart bodies that stop early or never start: 400. */
static void http_bad_multipart_truncated(void)
{
	const char *csrf = "0123456789";
	struct client *c = admin_client();
	const char *ct = "multipart/form-data; boundary=" BOUNDARY;
	char *bodies[4];

	/* the csrf part is complete, then the email part never ends */
	bodies[0] = itest_fmt("--" BOUNDARY "\r\n"
	    "Content-Disposition: form-data; name=\"csrf\"\r\n\r\n%s\r\n"
	    "--" BOUNDARY "\r\n"
	    "Content-Disposition: form-data; name=\"email\"\r\n\r\n"
	    "a@example.invalid", csrf);
	/* cut inside the part headers */
	bodies[1] = itest_fmt("--" BOUNDARY "\r\n"
	    "Content-Disposition: form-data; name=\"csrf\"\r\n\r\n%s\r\n"
	    "--" BOUNDARY "\r\n"
	    "Content-Dispo", csrf);
	/* no boundary anywhere */
	bodies[2] = itest_fmt("csrf=%s&email=a@example.invalid", csrf);
	/* a part without Content-Disposition */
	bodies[3] = itest_fmt("--" BOUNDARY "\r\n"
	    "Content-Type: text/plain\r\n\r\n%s\r\n"
	    "--" BOUNDARY "--\r\n", csrf);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct resp *r = POST_RAW(c, UPLOAD_PATH, ct, bodies[i], strlen(bodies[i]));
		CHECK(r->status == 400, "POST " UPLOAD_PATH " multipart body #%zu: status %ld, want 400; body: %s",
		    i, r->status, resp_snip(r));
		CHECK_TYPE(r, "text/html");
	}
}

/* A body over max_body_size is refused by nginx with 413, both when the
 * client asks first (Expect: 100-continue) and when it just sends. */
static void http_body_too_large(void)
{
	long max = atol(ENV("LABELD_TEST_MAX_BODY"));
	size_t len;
	char *body;
	struct client *c = CLIENT(NULL);
	struct resp *r;

	CHECK(max > 0, "LABELD_TEST_MAX_BODY is not a positive number");
	len = (size_t)max + 1024 * 1024;
	body = itest_keep(malloc(len));
	CHECK(body != NULL, "out of memory for %zu bytes", len);
	memset(body, 'a', len);
	memcpy(body, "email=", 6);
	r = REQUEST(c, "POST", "/login", FORM_CT, body, len, ITEST_NO_HDR_CHECK | ITEST_EXPECT_100);
	CHECK_STATUS(r, 413);
	c = CLIENT(NULL);
	r = REQUEST(c, "POST", "/login", FORM_CT, body, len, ITEST_NO_HDR_CHECK);
	CHECK_STATUS(r, 413);
	/* and a body just under the limit is labeld's to judge: a form that
	 * large is more than the field limits allow (labeld's own 413 page) */
	c = CLIENT(NULL);
	r = REQUEST(c, "POST", "/login", FORM_CT, body, (size_t)max - 4096, 0);
	CHECK_STATUS(r, 413);
	CHECK_BODY_HAS(r, "more data than this server accepts");
}

/* Bytes read so far by the labeld processes of the stack (rchar of
 * /proc/PID/io: every read(2), sockets included), from the pid files in
 * $LABELD_TEST_LABELD_PIDFILES. */
static long long labeld_bytes_read(void)
{
	char *files = itest_keep(strdup(ENV("LABELD_TEST_LABELD_PIDFILES"))), *save = NULL;
	long long total = 0;

	for (char *f = strtok_r(files, " ", &save); f != NULL; f = strtok_r(NULL, " ", &save)) {
		FILE *fp = fopen(f, "r");
		char line[128];
		long pid = 0;
		long long v = -1;
		CHECK(fp != NULL, "%s: %s", f, strerror(errno));
		CHECK(fscanf(fp, "%ld", &pid) == 1, "%s: no pid", f);
		fclose(fp);
		fp = fopen(itest_fmt("/proc/%ld/io", pid), "r");
		CHECK(fp != NULL, "/proc/%ld/io: %s", pid, strerror(errno));
		while (fgets(line, sizeof(line), fp) != NULL)
			if (sscanf(line, "rchar: %lld", &v) == 1)
				break;
		fclose(fp);
		CHECK(v >= 0, "/proc/%ld/io: no rchar", pid);
		total += v;
	}
	return total;
}

/* Files in labeld's temp dir (where uploads are streamed). */
static int tmp_files(void)
{
	const char *dir = ENV("LABELD_TEST_TMP_DIR");
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	CHECK(d != NULL, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Nothing is read before it is allowed: a 60 MB multipart POST is refused
 * (anonymous: 401; a labeler on an admin route: 403; an admin's upload to a
 * route that takes no files: 415) without labeld reading its body or
 * writing anything to its temp dir, and the refusal still reaches the
 * client (not a 502 from a connection closed under nginx's feet). */
static void http_body_unread_when_refused(void)
{
	const size_t mb = 60u << 20;
	const char *head = "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; "
	    "filename=\"big.png\"\r\nContent-Type: image/png\r\n\r\n";
	const char *tail = "\r\n--XyZ--\r\n";
	const char *ct = "multipart/form-data; boundary=XyZ";
	size_t hl = strlen(head), tl = strlen(tail), len = hl + mb + tl;
	char *body = itest_keep(malloc(len));
	struct client *anon = CLIENT(NULL), *user = CLIENT(NULL), *admin = CLIENT(NULL);
	struct resp *r;
	long long before, after;
	int files;

	CHECK(body != NULL, "out of memory for %zu bytes", len);
	CHECK(itest_env_long("LABELD_TEST_MAX_BODY", 0) > (long)len,
	    "the stack's max_body_size must be above 60 MB for this test");
	memcpy(body, head, hl);
	memset(body + hl, 'x', mb);
	memcpy(body + hl + mb, tail, tl);
	SIGN_IN_OK(user, ENV("LABELD_TEST_USER_EMAIL"), ENV("LABELD_TEST_USER_PASSWORD"));
	SIGN_IN_OK(admin, ENV("LABELD_TEST_ADMIN_EMAIL"), ENV("LABELD_TEST_ADMIN_PASSWORD"));
	files = tmp_files();
	before = labeld_bytes_read();

	r = POST_RAW(anon, "/admin/datastores", ct, body, len);
	CHECK_STATUS(r, 401);
	CHECK_BODY_HAS(r, "Sign in again");
	r = POST_RAW(user, "/admin/datastores", ct, body, len);
	CHECK_STATUS(r, 403);
	r = POST_RAW(admin, "/admin/datastores", ct, body, len);
	CHECK_STATUS(r, 415);
	CHECK_BODY_HAS(r, "does not take files");

	after = labeld_bytes_read();
	CHECK(after - before < (4 << 20),
	    "labeld read %lld bytes while refusing three 60 MB bodies", after - before);
	CHECK(tmp_files() == files, "labeld's temp dir has %d files, had %d", tmp_files(), files);
	/* the same clients go on working (their connections were not spoilt) */
	r = GET(admin, "/admin/datastores");
	CHECK_STATUS(r, 200);
}

/* Too many fields, or names/values over the limits: 400, not a crash. */
static void http_too_many_fields(void)
{
	char *csrf;
	struct client *c = client_with_login_token(&csrf);
	struct resp *r;
	char *q, *body, *big;
	size_t qlen = 0, cap;

	/* 600 query fields (max_fields defaults to 256), ~4.5 KB */
	cap = 16 + 600 * 12;
	q = itest_keep(malloc(cap));
	CHECK(q != NULL, "out of memory");
	qlen = (size_t)snprintf(q, cap, "/login?");
	for (int i = 0; i < 600; i++)
		qlen += (size_t)snprintf(q + qlen, cap - qlen, "f%d=1&", i);
	q[qlen - 1] = '\0';
	r = GET(c, q);
	CHECK(r->status == 400, "GET /login with 600 query fields: status %ld, want 400", r->status);
	CHECK_TYPE(r, "text/html");

	/* 5000 form fields */
	cap = 64 + strlen(csrf) + 5000 * 12;
	body = itest_keep(malloc(cap));
	CHECK(body != NULL, "out of memory");
	qlen = (size_t)snprintf(body, cap, "csrf=%s", csrf);
	for (int i = 0; i < 5000; i++)
		qlen += (size_t)snprintf(body + qlen, cap - qlen, "&f%d=1", i);
	r = POST_RAW(c, "/login", FORM_CT, body, qlen);
	CHECK(r->status == 400, "POST /login with 5000 fields: status %ld, want 400", r->status);

	/* a 200 KB value (max_field_value defaults to 64 KB) */
	cap = 64 + strlen(csrf) + 200 * 1024;
	big = itest_keep(malloc(cap));
	CHECK(big != NULL, "out of memory");
	qlen = (size_t)snprintf(big, cap, "csrf=%s&email=", csrf);
	memset(big + qlen, 'v', 200 * 1024);
	qlen += 200 * 1024;
	r = POST_RAW(c, "/login", FORM_CT, big, qlen);
	CHECK(r->status == 400, "POST /login with a 200 KB value: status %ld, want 400", r->status);

	/* a 4 KB field name (max_field_name defaults to 128) */
	qlen = (size_t)snprintf(big, cap, "csrf=%s&", csrf);
	memset(big + qlen, 'n', 4096);
	qlen += 4096;
	memcpy(big + qlen, "=1", 2);
	qlen += 2;
	r = POST_RAW(c, "/login", FORM_CT, big, qlen);
	CHECK(r->status == 400, "POST /login with a 4 KB field name: status %ld, want 400",
	    r->status);

	/* 3000 multipart parts (max_parts defaults to 1024) */
	cap = 64 + 3000 * 96;
	body = itest_keep(malloc(cap));
	CHECK(body != NULL, "out of memory");
	qlen = 0;
	for (int i = 0; i < 3000; i++)
		qlen += (size_t)snprintf(body + qlen, cap - qlen, "--" BOUNDARY "\r\n"
		    "Content-Disposition: form-data; name=\"f%d\"\r\n\r\n1\r\n", i);
	qlen += (size_t)snprintf(body + qlen, cap - qlen, "--" BOUNDARY "--\r\n");
	r = POST_RAW(admin_client(), UPLOAD_PATH, "multipart/form-data; boundary=" BOUNDARY, body, qlen);
	CHECK(r->status == 400, "POST " UPLOAD_PATH " with 3000 multipart parts: status %ld, want 400",
	    r->status);
	/* where files are not taken, multipart is refused before it is read */
	r = POST_RAW(c, "/login", "multipart/form-data; boundary=" BOUNDARY, body, qlen);
	CHECK_STATUS(r, 415);

	/* and every labeld process is still alive */
	r = GET(c, "/healthz");
	CHECK_STATUS(r, 200);
	if (getenv("LABELD_TEST_URL_A") != NULL && getenv("LABELD_TEST_URL_B") != NULL) {
		r = GET(CLIENT(getenv("LABELD_TEST_URL_A")), "/healthz");
		CHECK_STATUS(r, 200);
		r = GET(CLIENT(getenv("LABELD_TEST_URL_B")), "/healthz");
		CHECK_STATUS(r, 200);
	}
}

/* ------------------------------------------------------------ static */

/* nginx serves the stylesheets and the icon with the right type and the
 * same headers; /favicon.ico is an empty 204 from nginx, not a 404 page. */
static void http_static(void)
{
	static const char *const css[] = { "/static/base.css", "/static/labeld.css", "/static/label.css" };
	struct client *c = CLIENT(NULL);
	struct resp *r;

	for (size_t i = 0; i < sizeof(css) / sizeof(css[0]); i++) {
		r = GET(c, css[i]);
		CHECK_STATUS(r, 200);
		CHECK_TYPE(r, "text/css");
		CHECK(r->len > 0, "GET %s: empty", css[i]);
	}
	r = GET(c, "/static/favicon.svg");
	CHECK_STATUS(r, 200);
	CHECK_TYPE(r, "image/svg+xml");
	r = GET(c, "/favicon.ico");
	CHECK_STATUS(r, 204);
	CHECK(r->len == 0, "GET /favicon.ico: %zu bytes", r->len);
	r = GET(c, "/static/no-such-file.css");
	CHECK_STATUS(r, 404);
}

/* Paths that try to climb out of /static/ never serve a file from outside
 * (curl sends them verbatim: CURLOPT_PATH_AS_IS). */
static void http_static_traversal(void)
{
	static const char *const paths[] = {
		"/static../labeld.conf",
		"/static../README.md",
		"/static../templates/layout.html",
		"/static/../README.md",
		"/static/../layout.html",
		"/static/%2e%2e/layout.html",
		"/static/%2E%2E/layout.html",
		"/static/..%2flayout.html",
		"/static/%2e%2e%2flayout.html",
		"/static/..%5clayout.html",
		"/static/....//layout.html",
		"/static/.%2e/layout.html",
		"/static//../layout.html",
		"/static/../../../../../../etc/passwd",
		"/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
		"/static/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
		"/static/%252e%252e/layout.html",
		"/static/labeld.css/../../layout.html",
		"/static/labeld.css%00.html",
	};
	struct client *c = CLIENT(NULL);

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct resp *r = REQUEST(c, "GET", paths[i], NULL, NULL, 0, ITEST_NO_HDR_CHECK);
		bool leaked = strstr(r->body, "{{") != NULL || strstr(r->body, "root:") != NULL ||
		    strstr(r->body, "db_socket") != NULL || strstr(r->body, "fastcgi") != NULL;
		CHECK(r->status != 200 || !leaked,
		    "GET %s: status %ld serving a file from outside /static/: %s",
		    paths[i], r->status, resp_snip(r));
		CHECK(r->status != 200,
		    "GET %s: status 200 (want a refusal or 404); Content-Type %s; body: %s",
		    paths[i], resp_header(r, "Content-Type") ? resp_header(r, "Content-Type") : "-",
		    resp_snip(r));
	}
}

/* ------------------------------------------------------------ HEAD */

/* HEAD answers like GET without a body. */
static void http_head(void)
{
	struct client *c = CLIENT(NULL);
	struct resp *r;

	r = HEAD(c, "/login");
	CHECK_STATUS(r, 200);
	CHECK_TYPE(r, "text/html");
	CHECK(r->len == 0, "HEAD /login: %zu body bytes", r->len);
	r = HEAD(c, "/healthz");
	CHECK_STATUS(r, 200);
	r = HEAD(c, "/projects");
	CHECK_REDIRECT(r, 303, "/login?next=%2Fprojects");
	r = HEAD(c, "/no-such-page");
	CHECK_STATUS(r, 404);
	/* the connection is still usable after HEAD (no stray body bytes) */
	r = GET(c, "/login");
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//form[@id='login']") == 1, "GET /login after HEAD: no form");
}

/* ------------------------------------------------------------ HTML */

/* Every page parses as HTML, has a title and a body, and has no inline
 * script or event handler attribute (CSP would block them). */
static void http_html_parses(void)
{
	struct client *anon = CLIENT(NULL), *user = CLIENT(NULL), *admin = CLIENT(NULL);
	struct resp *pages[9];
	size_t n = 0;
	char *csrf;

	pages[n++] = GET(anon, "/login");
	pages[n++] = GET(anon, "/login?next=%2Fprojects");
	pages[n++] = GET(anon, "/no-such-page");
	pages[n++] = POST_RAW(anon, "/login", FORM_CT, "a=%zz&b", 7);
	pages[n++] = POST_FORM(anon, "/login", "email", "x@example.invalid");
	csrf = html_form_input(pages[0], "login", "csrf");
	CHECK(csrf != NULL, "GET /login: no csrf");
	pages[n++] = POST_FORM(anon, "/login", "email", "nobody@example.invalid",
	    "password", "x", "csrf", csrf);
	SIGN_IN_OK(user, USER_EMAIL, USER_PASSWORD);
	pages[n++] = GET(user, "/projects");
	pages[n++] = GET(user, "/admin/plugins");
	SIGN_IN_OK(admin, ADMIN_EMAIL, ADMIN_PASSWORD);
	pages[n++] = GET(admin, "/admin/plugins");
	itest_sql_try("DELETE FROM login_failures");

	for (size_t i = 0; i < n; i++) {
		struct resp *r = pages[i];
		htmlDocPtr doc = resp_html(r);
		xmlNodePtr root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;

		CHECK_TYPE(r, "text/html");
		CHECK(root != NULL && xmlStrcasecmp(root->name, BAD_CAST "html") == 0,
		    "%s %s (%ld): does not parse as an HTML document", r->method, r->url, r->status);
		CHECK(strncasecmp(r->body + strspn(r->body, " \t\r\n"), "<!doctype html>", 15) == 0,
		    "%s %s (%ld): does not start with <!DOCTYPE html>", r->method, r->url, r->status);
		CHECK(html_count(r, "/html/head/title[normalize-space(.)!='']") == 1,
		    "%s %s (%ld): no (or more than one) non-empty <title> in <head>",
		    r->method, r->url, r->status);
		CHECK(html_count(r, "/html/body") == 1, "%s %s (%ld): no <body>",
		    r->method, r->url, r->status);
		CHECK(html_count(r, "//script[not(@src)]") == 0,
		    "%s %s (%ld): inline <script> (blocked by script-src 'self')",
		    r->method, r->url, r->status);
		CHECK(html_count(r, "//@*[starts-with(translate(name(), 'ON', 'on'), 'on')]") == 0,
		    "%s %s (%ld): inline event handler attribute (value \"%s\")", r->method, r->url,
		    r->status, html_str(r, "//@*[starts-with(translate(name(), 'ON', 'on'), 'on')]"));
		/* every POST form carries a CSRF token */
		CHECK(html_count(r, "//form[translate(@method,'POST','post')='post']"
		    "[not(.//input[@name='csrf'])]") == 0,
		    "%s %s (%ld): a POST form without a csrf input", r->method, r->url, r->status);
	}
}

const struct itest_case itest_http_cases[] = {
	ITEST(http_security_headers),
	ITEST(http_not_found),
	ITEST(http_method_not_allowed),
	ITEST(http_bad_urlencoded),
	ITEST(http_bad_multipart_no_boundary),
	ITEST(http_bad_multipart_truncated),
	ITEST(http_body_too_large),
	ITEST(http_body_unread_when_refused),
	ITEST(http_too_many_fields),
	ITEST(http_static),
	ITEST(http_static_traversal),
	ITEST(http_head),
	ITEST(http_html_parses),
};
const size_t itest_http_ncases = sizeof(itest_http_cases) / sizeof(itest_http_cases[0]);
