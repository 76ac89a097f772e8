/*
 * itest.h: the harness of labeld-itest, the integration tests that drive a
 * running stack (nginx + two labeld processes + MariaDB) over HTTP.
 *
 * A test is a function with no arguments registered in a const table; the
 * runner calls the tests in table order (t_http, t_auth, t_datastores,
 * t_projects, t_labeling, t_export, t_jobs, t_export_job, t_export_pages,
 * t_authz, t_infra) and prints "ok NAME" or "FAIL NAME: file:line:
 * message" for each, then one line "N passed, N failed".
 * t_projects, t_labeling, t_export, t_jobs, t_export_job, t_export_pages, t_people, t_infra) and prints
 * "ok NAME" or "FAIL NAME: file:line: message" for each, then one line
 * "N passed, N failed".
 *
 * The CHECK macros record file:line and a message and leave the test at the
 * first failure (a longjmp back to the runner).  Everything a test allocates
 * through this header (clients, responses, strings) and every clean-up it
 * registers with itest_defer() is released or run by the runner when the test
 * ends, whether it passed or failed, so a failed test never leaks state into
 * the next one.
 *
 * Every response from a client is checked for the three security headers
 * unless the request was made with ITEST_NO_HDR_CHECK (responses nginx makes
 * by itself, such as 413).
 */
#ifndef LABELD_ITEST_H
#define LABELD_ITEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <libxml/HTMLparser.h>

/* ------------------------------------------------------------ registry */

struct itest_case {
	const char *name;
	void (*fn)(void);
};

#define ITEST(fn) { #fn, fn }

extern const struct itest_case itest_http_cases[];
extern const size_t itest_http_ncases;
extern const struct itest_case itest_auth_cases[];
extern const size_t itest_auth_ncases;
extern const struct itest_case itest_datastores_cases[];
extern const size_t itest_datastores_ncases;
extern const struct itest_case itest_projects_cases[];
extern const size_t itest_projects_ncases;
extern const struct itest_case itest_labeling_cases[];
extern const size_t itest_labeling_ncases;
extern const struct itest_case itest_export_cases[];
extern const size_t itest_export_ncases;
extern const struct itest_case itest_infra_cases[];
extern const size_t itest_infra_ncases;
extern const struct itest_case itest_jobs_cases[];
extern const size_t itest_jobs_ncases;
extern const struct itest_case itest_export_job_cases[];
extern const size_t itest_export_job_ncases;
extern const struct itest_case itest_export_pages_cases[];
extern const size_t itest_export_pages_ncases;
extern const struct itest_case itest_authz_cases[];
extern const size_t itest_authz_ncases;
extern const struct itest_case itest_teams_cases[];
extern const size_t itest_teams_ncases;
extern const struct itest_case itest_people_cases[];
extern const size_t itest_people_ncases;
extern const struct itest_case itest_dashboard_cases[];
extern const size_t itest_dashboard_ncases;
extern const struct itest_case itest_mine_cases[];
extern const size_t itest_mine_ncases;
extern const struct itest_case itest_counters_cases[];
extern const size_t itest_counters_ncases;
extern const struct itest_case itest_data_cases[];
extern const size_t itest_data_ncases;
extern const struct itest_case itest_review_cases[];
extern const size_t itest_review_ncases;
extern const struct itest_case itest_oidc_cases[];
extern const size_t itest_oidc_ncases;
extern const struct itest_case itest_upload_cases[];
extern const size_t itest_upload_ncases;

/* ------------------------------------------------------------ failures */

/* Record a failure of the running test at file:line and leave the test.
 * Never returns. */
__attribute__((noreturn, format(printf, 3, 4)))
void itest_fail(const char *file, int line, const char *fmt, ...);

#define FAIL(...) itest_fail(__FILE__, __LINE__, __VA_ARGS__)

/* CHECK(cond, "fmt", ...): fail with the message when cond is false. */
#define CHECK(cond, ...) do { \
	if (!(cond)) \
		itest_fail(__FILE__, __LINE__, __VA_ARGS__); \
} while (0)

/* The response has this status. */
#define CHECK_STATUS(r, code) \
	itest_check_status(__FILE__, __LINE__, (r), (code))
/* The response is a redirect (303) to exactly this Location. */
#define CHECK_REDIRECT(r, code, location) \
	itest_check_redirect(__FILE__, __LINE__, (r), (code), (location))
/* The body contains needle (case-insensitive when nocase). */
#define CHECK_BODY_HAS(r, needle) \
	itest_check_body(__FILE__, __LINE__, (r), (needle), false, true)
#define CHECK_BODY_HAS_NOCASE(r, needle) \
	itest_check_body(__FILE__, __LINE__, (r), (needle), true, true)
#define CHECK_BODY_LACKS(r, needle) \
	itest_check_body(__FILE__, __LINE__, (r), (needle), false, false)
/* Two C strings are equal; NULL is reported as such. */
#define CHECK_STREQ(got, want) \
	itest_check_streq(__FILE__, __LINE__, #got, (got), (want))

/* Register fn(arg) to run when the running test ends (last registered runs
 * first).  Clean-ups must not use the CHECK macros; they report problems with
 * itest_cleanup_error(), which marks the test failed. */
void itest_defer(void (*fn)(void *), void *arg);
/* free(p) when the running test ends; returns p.  NULL allowed. */
void *itest_keep(void *p);
/* printf into a string owned by the running test (freed when it ends). */
__attribute__((format(printf, 1, 2)))
char *itest_fmt(const char *fmt, ...);
/* A problem found while cleaning up: printed, and the test counts as failed. */
__attribute__((format(printf, 1, 2)))
void itest_cleanup_error(const char *fmt, ...);
/* A diagnostic line on stderr ("# ..."), for progress in long tests. */
__attribute__((format(printf, 1, 2)))
void itest_note(const char *fmt, ...);

/* ------------------------------------------------------------ environment */

/* The value of an environment variable; fails the test (at the caller's
 * file:line) when it is unset or empty. */
#define ENV(name) itest_env(__FILE__, __LINE__, (name))
const char *itest_env(const char *file, int line, const char *name);
/* An integer environment variable, or def when unset. */
long itest_env_long(const char *name, long def);

/* ------------------------------------------------------------ HTTP client */

struct header {
	char *name;
	char *value;
};

/* One response.  Owned by the running test (freed when it ends). */
struct resp {
	char *method;
	char *url;
	long status;
	struct header *hdrs;     /* every header of the final response, in order */
	size_t nhdrs;
	char *body;              /* NUL-terminated (the NUL is not in len) */
	size_t len;
	htmlDocPtr doc;          /* parsed on first use by the html_* helpers */
};

/* A simulated browser: its own connection and its own cookie jar; redirects
 * are not followed. */
struct client {
	CURL *curl;
	char *base;              /* "http://127.0.0.1:PORT", no trailing slash */
	char *host;              /* host part of base, for cookies */
	char *header;            /* one more request header ("Name: value"), or NULL */
};

enum {
	ITEST_NO_HDR_CHECK = 1 << 0,   /* not a labeld response: skip the header check */
	ITEST_HEAD = 1 << 1,           /* HEAD request */
	ITEST_EXPECT_100 = 1 << 2,     /* send "Expect: 100-continue" with a body */
};

/* A new client for base (NULL: $LABELD_TEST_URL).  Owned by the running
 * test.  Fails the test when curl cannot be set up. */
#define CLIENT(base) client_new(__FILE__, __LINE__, (base))
struct client *client_new(const char *file, int line, const char *base);
/* Send the client's requests from a loopback address of its own (e.g.
 * "127.0.0.3"; any 127.x address works on Linux): nginx, and so labeld, see
 * it as the client's address. */
void client_bind(struct client *c, const char *addr);
/* Send one more header ("Name: value") with every request of the client. */
void client_header(struct client *c, const char *line);

/* Requests.  path is appended to the client's base as is (no normalisation
 * of "..").  A transport error fails the test unless a status line was read.
 * The response is checked for the security headers (see above). */
#define GET(c, path) \
	client_request(__FILE__, __LINE__, (c), "GET", (path), NULL, NULL, 0, 0)
#define HEAD(c, path) \
	client_request(__FILE__, __LINE__, (c), "HEAD", (path), NULL, NULL, 0, ITEST_HEAD)
#define REQUEST(c, method, path, ctype, body, len, flags) \
	client_request(__FILE__, __LINE__, (c), (method), (path), (ctype), (body), (len), (flags))
#define POST_RAW(c, path, ctype, body, len) \
	client_request(__FILE__, __LINE__, (c), "POST", (path), (ctype), (body), (len), 0)
/* POST_FORM(c, path, name, value, name, value, ...): urlencoded; a NULL
 * value skips that field. */
#define POST_FORM(c, path, ...) \
	client_post_form(__FILE__, __LINE__, (c), (path), __VA_ARGS__, (const char *)NULL)
/* POST_MULTIPART(c, path, name, value, ...): multipart/form-data. */
#define POST_MULTIPART(c, path, ...) \
	client_post_multipart(__FILE__, __LINE__, (c), (path), __VA_ARGS__, (const char *)NULL)

struct resp *client_request(const char *file, int line, struct client *c,
    const char *method, const char *path, const char *ctype,
    const char *body, size_t len, int flags);
struct resp *client_post_form(const char *file, int line, struct client *c,
    const char *path, ...);
struct resp *client_post_multipart(const char *file, int line, struct client *c,
    const char *path, ...);

/* The first value of header name (case-insensitive), or NULL. */
const char *resp_header(const struct resp *r, const char *name);
/* How many times header name occurs. */
size_t resp_header_count(const struct resp *r, const char *name);
/* The Set-Cookie header that sets cookie name, or NULL. */
const char *resp_set_cookie(const struct resp *r, const char *name);
/* Whether a ';'-separated Set-Cookie value carries attribute attr
 * ("HttpOnly", "SameSite=Lax", ...; case-insensitive, exact). */
bool set_cookie_has_attr(const char *set_cookie, const char *attr);

/* Check the three security headers on r; fail at file:line if one is
 * missing, repeated or wrong.  Called by client_request() on every labeld
 * response; exposed for responses checked again explicitly. */
#define CHECK_SECURITY_HEADERS(r) itest_check_security_headers(__FILE__, __LINE__, (r))
void itest_check_security_headers(const char *file, int line, const struct resp *r);

/* ------------------------------------------------------------ cookies */

/* The value of cookie name in c's jar, or NULL.  Owned by the running test. */
char *client_cookie(struct client *c, const char *name);
/* Put cookie name=value (path /, host of the client's base) in c's jar. */
#define CLIENT_SET_COOKIE(c, name, value) \
	client_set_cookie(__FILE__, __LINE__, (c), (name), (value))
void client_set_cookie(const char *file, int line, struct client *c,
    const char *name, const char *value);
/* Empty c's jar. */
void client_clear_cookies(struct client *c);

/* ------------------------------------------------------------ HTML */

/* The parsed document of r (parsed on first use, leniently); NULL when the
 * body is empty or not HTML at all. */
htmlDocPtr resp_html(struct resp *r);
/* Number of nodes an XPath expression selects in r (0 when it cannot parse). */
__attribute__((format(printf, 2, 3)))
int html_count(struct resp *r, const char *xpath_fmt, ...);
/* The string value of the first node an XPath expression selects, or NULL.
 * Owned by the running test. */
__attribute__((format(printf, 2, 3)))
char *html_str(struct resp *r, const char *xpath_fmt, ...);
/* The string values of every node selected (n filled in); owned by the
 * running test. */
char **html_strs(struct resp *r, const char *xpath, size_t *n);
/* The value of hidden input name inside form #form_id, or NULL. */
char *html_form_input(struct resp *r, const char *form_id, const char *name);
/* The CSRF token of the page's sign-out form, or NULL. */
char *html_logout_csrf(struct resp *r);
/* For worker threads, which may not use the test-owned parser: the text
 * between `after` and the next '"' in s, into out.  1, or 0 when `after` is
 * not in s or the text does not fit. */
int text_after(const char *s, const char *after, char *out, size_t outlen);

/* ------------------------------------------------------------ sign-in */

/* GET /login (must be 200 with a csrf), then POST /login with email,
 * password and next (NULL: the form's hidden next).  Returns the POST
 * response, whatever its status. */
#define SIGN_IN(c, email, password, next) \
	itest_sign_in(__FILE__, __LINE__, (c), "/login", (email), (password), (next))
/* The same, starting from login_path (e.g. "/login?next=...") for the GET. */
#define SIGN_IN_AT(c, login_path, email, password, next) \
	itest_sign_in(__FILE__, __LINE__, (c), (login_path), (email), (password), (next))
struct resp *itest_sign_in(const char *file, int line, struct client *c,
    const char *login_path, const char *email, const char *password, const char *next);
/* SIGN_IN, requiring a 303 to /projects and a labeld_session cookie; returns
 * the cookie value (owned by the running test). */
#define SIGN_IN_OK(c, email, password) \
	itest_sign_in_ok(__FILE__, __LINE__, (c), (email), (password))
char *itest_sign_in_ok(const char *file, int line, struct client *c,
    const char *email, const char *password);

/* ------------------------------------------------------------ SQL and shell */

/* Run SQL on the test database through $LABELD_TEST_SQL -e '...'; fails the
 * test when the command fails. */
#define SQL(...) itest_sql(__FILE__, __LINE__, __VA_ARGS__)
__attribute__((format(printf, 3, 4)))
void itest_sql(const char *file, int line, const char *fmt, ...);
/* Same, but returns the command's exit status (-1 when it could not run);
 * for clean-ups.  Never fails the test. */
__attribute__((format(printf, 1, 2)))
int itest_sql_try(const char *fmt, ...);
/* Run SQL and return its output (batch mode, no column names), trailing
 * newline removed; owned by the running test. */
#define SQL_QUERY(...) itest_sql_query(__FILE__, __LINE__, __VA_ARGS__)
__attribute__((format(printf, 3, 4)))
char *itest_sql_query(const char *file, int line, const char *fmt, ...);
/* s quoted as an SQL string literal ('...'); owned by the running test. */
char *sql_str(const char *s);
/* Run a shell command; returns its exit status, or -1. */
int itest_shell(const char *cmd);

/* Recount every counter of project_id from its rows
 * (tests/integration/counters_recount.sql: project_counters, label_counts,
 * labeler_days, answer_labels, and the items' phases against their
 * answers) and fail at the caller's file:line listing each one that
 * differs, with the counter's value and the recount's. */
#define COUNTERS_CHECK(project) itest_counters_check(__FILE__, __LINE__, (project))
void itest_counters_check(const char *file, int line, long project_id);
/* The recount's lines ("what TAB counter TAB recount", one per counter
 * that differs), "" when every counter is exact; owned by the running
 * test. */
#define COUNTERS_RECOUNT(project) itest_counters_recount(__FILE__, __LINE__, (project))
char *itest_counters_recount(const char *file, int line, long project_id);

/* Access (core/access.h): a labeler sees a project only when one of their
 * teams serves it.  The tests' own labelers share the team "Integration
 * test labelers": ITEST_SERVE(p) makes it serve project p, ITEST_JOIN(email)
 * puts a person in it.  Tests of access itself make their own teams. */
#define ITEST_SERVE(project) itest_team_serve(__FILE__, __LINE__, (project))
#define ITEST_JOIN(email) itest_team_join(__FILE__, __LINE__, (email))
void itest_team_serve(const char *file, int line, long project);
void itest_team_join(const char *file, int line, const char *email);

/* A running project of `task` made with SQL (no files): a dataset in the
 * default datastore's folder `folder`, the labels cat, dog and bird,
 * nitems items of width x height (paths FOLDER/P/N.png) and their
 * counters; the tests' team serves it.  Returns its id. */
#define SQL_PROJECT(folder, task, nitems, width, height) \
	itest_sql_project(__FILE__, __LINE__, (folder), (task), (nitems), (width), (height))
long itest_sql_project(const char *file, int line, const char *folder, const char *task,
    long nitems, int width, int height);
/* A new labeler in the tests' team with the test user's password, signed
 * in; *email_out (when not NULL) gets the address. */
#define NEW_LABELER(email_out) itest_new_labeler(__FILE__, __LINE__, (email_out))
struct client *itest_new_labeler(const char *file, int line, const char **email_out);

/* ------------------------------------------------------------ blob service, logs */

/* Start tests/unit/badhttp.js, a misbehaving blob service on a loopback
 * port (stopped when the running test ends, or earlier with
 * itest_badhttp_stop(*pid); pid may be NULL); returns the port.  The test
 * stack's labeld reaches it as http://localhost:PORT/acct (blob_allow_hosts
 * holds "localhost"). */
int itest_badhttp_start(long *pid);
void itest_badhttp_stop(long pid);
/* The same, returning its account URL http://localhost:PORT/acct (owned by
 * the running test). */
#define BADHTTP_START() itest_fmt("http://localhost:%d/acct", itest_badhttp_start(NULL))
/* Whether one line of the labeld processes' logs ($LABELD_TEST_LOG_DIR/
 * labeld-*.log) holds both a and b (b may be NULL). */
bool itest_log_has(const char *a, const char *b);

/* ------------------------------------------------------------ small helpers */

/* What a failure message shows of r's body: an HTML page's title and
 * visible text, else the start of the body; one line, at most ~300 bytes,
 * in a static buffer valid until the next call. */
const char *resp_snip(const struct resp *r);

/* A name no earlier run used: "<stem>-<time>-<pid>-<n>"; owned by the
 * running test. */
char *itest_uniq(const char *stem);

/* Sleep for ms milliseconds. */
void itest_sleep_ms(long ms);
/* s percent-encoded for a query string; owned by the running test. */
char *url_enc(const char *s);
/* Whether s has exactly n characters of the base64url alphabet. */
bool is_base64url(const char *s, size_t n);

void itest_check_status(const char *file, int line, const struct resp *r, long code);
void itest_check_redirect(const char *file, int line, const struct resp *r,
    long code, const char *location);
void itest_check_body(const char *file, int line, const struct resp *r,
    const char *needle, bool nocase, bool want);
void itest_check_streq(const char *file, int line, const char *what,
    const char *got, const char *want);

/* ------------------------------------------------------------ the default datastore */

/* Make datastore id the default one through the "Make default" form of its
 * page (admin: a signed-in admin's client); the datastore that was the
 * default is made the default again when the running test ends. */
#define MAKE_DEFAULT(admin, id) itest_make_default(__FILE__, __LINE__, (admin), (id))
void itest_make_default(const char *file, int line, struct client *admin, long id);

#endif
