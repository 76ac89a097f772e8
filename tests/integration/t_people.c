/*
 * t_people.c: the People pages (issue 13): adding people, invitation links
 * (once, expiry, resend), search, disable / remove / role with the
 * last-admin guard, the Account page, and what a labeler may not do;
 * driven over HTTP against the running stack.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

#define ADMIN_EMAIL ENV("LABELD_TEST_ADMIN_EMAIL")
#define ADMIN_PASSWORD ENV("LABELD_TEST_ADMIN_PASSWORD")
#define USER_EMAIL ENV("LABELD_TEST_USER_EMAIL")
#define USER_PASSWORD ENV("LABELD_TEST_USER_PASSWORD")

#define WRONG_LOGIN "Wrong email or password."
#define INVITE_BAD "This invitation link cannot be used"
#define LAST_ADMIN "This is the only admin who can sign in"
#define NEW_PASSWORD "a new password 1"

/* ------------------------------------------------------------ helpers */

static long sql_long(const char *q)
{
	return strtol(SQL_QUERY("%s", q), NULL, 10);
}

static long user_id(const char *email)
{
	return sql_long(itest_fmt("SELECT id FROM users WHERE email = %s", sql_str(email)));
}

/* A fresh address. */
static const char *new_email(const char *stem)
{
	return itest_fmt("%s@example.com", itest_uniq(stem));
}

/* Clean-up: forget failed sign-ins so later tests are not throttled. */
static void clear_login_failures(void *arg)
{
	(void)arg;
	if (itest_sql_try("DELETE FROM login_failures") != 0)
		itest_cleanup_error("DELETE FROM login_failures failed");
}

/* A client signed in as email; *csrf (may be NULL) gets its session's
 * CSRF token. */
static struct client *signed_in(const char *email, const char *password, char **csrf)
{
	struct client *c = CLIENT(NULL);
	struct resp *r;

	SIGN_IN_OK(c, email, password);
	if (csrf != NULL) {
		r = GET(c, "/projects");
		CHECK_STATUS(r, 200);
		*csrf = html_logout_csrf(r);
		CHECK(*csrf != NULL, "no CSRF token on /projects");
	}
	return c;
}

/* A labeler made with SQL, with the test user's password. */
static const char *make_labeler(void)
{
	const char *email = new_email("people-labeler");

	SQL("INSERT INTO users (email, display_name, password_hash, activated_at) "
	    "SELECT %s, 'Labeler', password_hash, NOW(6) FROM users WHERE email = %s",
	    sql_str(email), sql_str(USER_EMAIL));
	return email;
}

/* POST /admin/people: add a person; returns the answer. */
static struct resp *add_person(struct client *admin, const char *csrf, const char *email,
    const char *name, const char *role)
{
	return POST_FORM(admin, "/admin/people", "csrf", csrf, "email", email, "name", name,
	    "role", role);
}

/* The invitation link on a person's page r (which must show one). */
static char *invite_link(struct resp *r)
{
	char *link = html_str(r, "//input[@id='invite-link']/@value");

	CHECK(link != NULL && strstr(link, "/invite/") != NULL, "no invitation link: %s",
	    resp_snip(r));
	return link;
}

/* The path of a link ("/invite/TOKEN"). */
static const char *link_path(const char *link)
{
	return strstr(link, "/invite/");
}

/* Add a person and return the path of their invitation link. */
static const char *invite(struct client *admin, const char *csrf, const char *email,
    const char *name, const char *role)
{
	struct resp *r = add_person(admin, csrf, email, name, role);

	CHECK_STATUS(r, 200);
	return link_path(invite_link(r));
}

/* Open an invitation in c and send the passwords; returns the POST's
 * answer.  The page must show the form. */
static struct resp *accept_invite(struct client *c, const char *path, const char *pw, const char *pw2,
    const char *name)
{
	struct resp *r = GET(c, path);
	char *csrf;

	CHECK_STATUS(r, 200);
	csrf = html_form_input(r, "invite", "csrf");
	CHECK(csrf != NULL, "no csrf on the invitation form");
	return POST_FORM(c, path, "csrf", csrf, "name", name, "password", pw, "password2", pw2);
}

/* An invitation link that cannot be used: the one page for all. */
#define CHECK_INVITE_BAD(c, path) do { \
	struct resp *r_ = GET((c), (path)); \
	CHECK_STATUS(r_, 404); \
	CHECK_BODY_HAS(r_, INVITE_BAD); \
} while (0)

/* GET /projects answers 200 (signed in) or sends to sign in. */
#define CHECK_SIGNED_IN(c) CHECK_STATUS(GET((c), "/projects"), 200)
#define CHECK_SIGNED_OUT(c) CHECK_REDIRECT(GET((c), "/projects"), 303, "/login?next=%2Fprojects")

/* A project of testtask with n items and a team serving it with user
 * uid in it (made with SQL); returns the project id. */
static long project_with_member(long uid, long n)
{
	const char *name = itest_uniq("People project");
	long p = strtol(SQL_QUERY(
	    "INSERT INTO datasets (name, description, datastore_id, path, kind, source) "
	    "SELECT %s, '', id, 'people-test', 'input', 'datastore' FROM datastores WHERE is_default = 1; "
	    "INSERT INTO projects (name, task, dataset_id, description, state) "
	    "VALUES (%s, 'testtask', LAST_INSERT_ID(), '', 'running'); "
	    "SET @p = LAST_INSERT_ID(); "
	    "INSERT INTO labels (project_id, name, position) VALUES (@p, 'cat', 1), (@p, 'dog', 2); "
	    "INSERT INTO items (project_id, path, width, height, format) "
	    "SELECT @p, CONCAT('people-test/', @p, '/', seq, '.png'), 64, 48, 'png' FROM seq_1_to_%ld; "
	    "INSERT INTO project_counters (project_id, items_total) VALUES (@p, %ld); "
	    "INSERT INTO teams (name, project_id) VALUES (CONCAT(%s, ' team'), @p); "
	    "INSERT INTO project_teams (project_id, team_id) VALUES (@p, LAST_INSERT_ID()); "
	    "INSERT INTO team_members (team_id, user_id) SELECT team_id, %ld FROM project_teams "
	    "WHERE project_id = @p; "
	    "SELECT @p;", sql_str(name), sql_str(name), n, n, sql_str(name), uid), NULL, 10);

	CHECK(p > 0, "no project made");
	return p;
}

/* A new labeler (*email, *uid) in the team of a new project *p of three
 * items, signed in (*c) and holding the lease of one item. */
static void at_work(const char **email, long *uid, long *p, struct client **c)
{
	itest_defer(clear_login_failures, NULL);
	*email = make_labeler();
	*uid = user_id(*email);
	*p = project_with_member(*uid, 3);
	*c = signed_in(*email, USER_PASSWORD, NULL);
	CHECK_STATUS(GET(*c, itest_fmt("/projects/%ld/label", *p)), 200);
	CHECK_STREQ(SQL_QUERY("SELECT COUNT(*) FROM items WHERE lease_user = %ld", *uid), "1");
}

/* Clean-up: enable again the admins disabled by only_admin (arg: ids). */
static void enable_admins(void *arg)
{
	if (itest_sql_try("UPDATE users SET is_disabled = 0 WHERE FIND_IN_SET(id, %s)",
	    sql_str((const char *)arg)) != 0)
		itest_cleanup_error("re-enabling admins %s failed", (const char *)arg);
}

/* Make the test admin the only admin who can sign in for this test (the
 * others are disabled until it ends). */
static void only_admin(void)
{
	char *others = SQL_QUERY("SELECT COALESCE(GROUP_CONCAT(id), '') FROM users WHERE is_admin = 1 "
	    "AND is_disabled = 0 AND removed_at IS NULL AND password_hash <> '' AND email <> %s",
	    sql_str(ADMIN_EMAIL));

	if (others[0] == '\0')
		return;
	others = itest_keep(strdup(others));
	itest_defer(enable_admins, others);
	SQL("UPDATE users SET is_disabled = 1 WHERE FIND_IN_SET(id, %s)", sql_str(others));
}

/* ------------------------------------------------------------ tests */

/* Add a person: the link works once and signs them in; before that no
 * password signs them in; only the token's hash is stored and no log
 * holds the token. */
static void people_invitation_once(void)
{
	char *csrf;
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD, &csrf);
	const char *email = new_email("invitee"), *name = itest_uniq("Invitee");
	struct client *c = CLIENT(NULL), *other;
	struct resp *r;
	const char *path, *token;
	long uid;

	itest_defer(clear_login_failures, NULL);
	r = add_person(admin, csrf, email, name, "labeler");
	CHECK_STATUS(r, 200);
	CHECK_BODY_HAS(r, "shown only now");
	path = link_path(invite_link(r));
	token = path + strlen("/invite/");
	CHECK(is_base64url(token, 43), "token %s is not 43 base64url characters", token);
	uid = user_id(email);
	CHECK(uid > 0, "no user %s", email);
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT(password_hash, '|', is_admin, '|', "
	    "activated_at IS NULL) FROM users WHERE id = %ld", uid), "|0|1");
	CHECK_STREQ(SQL_QUERY("SELECT COUNT(*) FROM invitations WHERE user_id = %ld AND "
	    "token_hash = UNHEX(SHA2(%s, 256))", uid, sql_str(token)), "1");
	/* the people list says invited */
	r = GET(admin, itest_fmt("/admin/people?q=%s", url_enc(email)));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//table[@id='people']//tr[@data-id='%ld']/td[6]", uid), "invited");

	/* no password signs an invited person in */
	r = SIGN_IN(CLIENT(NULL), email, "", NULL);
	CHECK_STATUS(r, 400);
	r = SIGN_IN(CLIENT(NULL), email, NEW_PASSWORD, NULL);
	CHECK_STATUS(r, 401);
	CHECK_BODY_HAS(r, WRONG_LOGIN);

	/* bad input: 422, the name kept, never the passwords */
	r = accept_invite(c, path, NEW_PASSWORD, "something else", "Kept Name");
	CHECK_STATUS(r, 422);
	CHECK_BODY_HAS(r, "not the same");
	CHECK_STREQ(html_str(r, "//form[@id='invite']//input[@name='name']/@value"), "Kept Name");
	CHECK_BODY_LACKS(r, NEW_PASSWORD);
	r = accept_invite(c, path, "short", "short", "Kept Name");
	CHECK_STATUS(r, 422);
	CHECK_BODY_HAS(r, "too short");

	/* the right input: signed in, on to /projects */
	r = accept_invite(c, path, NEW_PASSWORD, NEW_PASSWORD, "");
	CHECK_REDIRECT(r, 303, "/projects");
	CHECK(resp_set_cookie(r, "labeld_session") != NULL, "no session cookie after the invitation");
	CHECK_SIGNED_IN(c);
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT(activated_at IS NOT NULL, '|', display_name) "
	    "FROM users WHERE id = %ld", uid), itest_fmt("1|%s", name));

	/* once only: the same page for GET and POST */
	other = CLIENT(NULL);
	CHECK_INVITE_BAD(other, path);
	r = GET(other, "/login");
	r = POST_FORM(other, path, "csrf", client_cookie(other, "labeld_login"),
	    "password", "another password", "password2", "another password");
	CHECK_STATUS(r, 404);
	CHECK_BODY_HAS(r, INVITE_BAD);
	/* and the password set through it signs in */
	signed_in(email, NEW_PASSWORD, NULL);
	r = GET(admin, itest_fmt("/admin/people?q=%s", url_enc(email)));
	CHECK_STREQ(html_str(r, "//table[@id='people']//tr[@data-id='%ld']/td[6]", uid), "active");

	/* the token is in no log (nginx buffers its access log for 1 s) */
	itest_sleep_ms(1500);
	CHECK(!itest_log_has(token, NULL), "labeld's log holds the invitation token");
	CHECK(itest_shell(itest_fmt("grep -q -F -e %s %s/nginx-access.log", token,
	    ENV("LABELD_TEST_LOG_DIR"))) == 1, "nginx's access log holds the invitation token");
}

/* Expired, voided (resend) and unknown links get the one 404 page. */
static void people_invitation_expiry_resend(void)
{
	char *csrf;
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD, &csrf);
	const char *email = new_email("resend");
	const char *first = invite(admin, csrf, email, "Resend Me", "labeler"), *second;
	struct client *c = CLIENT(NULL);
	long uid = user_id(email);
	struct resp *r;

	CHECK_STATUS(GET(c, first), 200);
	r = POST_FORM(admin, itest_fmt("/admin/people/%ld/invitation", uid), "csrf", csrf);
	CHECK_STATUS(r, 200);
	second = link_path(invite_link(r));
	CHECK(strcmp(first, second) != 0, "resend gave the same link");
	CHECK_INVITE_BAD(c, first);
	CHECK_STATUS(GET(c, second), 200);
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT(COUNT(*), '/', COUNT(voided_at)) FROM invitations "
	    "WHERE user_id = %ld", uid), "2/1");

	/* expired */
	SQL("UPDATE invitations SET expires_at = NOW(6) - INTERVAL 1 SECOND WHERE user_id = %ld", uid);
	CHECK_INVITE_BAD(c, second);
	/* unknown, and not a token at all */
	CHECK_INVITE_BAD(c, "/invite/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	CHECK_INVITE_BAD(c, "/invite/nonsense");
	/* a new one works again; the lifetime is the configured 7 days */
	r = POST_FORM(admin, itest_fmt("/admin/people/%ld/invitation", uid), "csrf", csrf);
	CHECK_STATUS(r, 200);
	CHECK_STREQ(SQL_QUERY("SELECT TIMESTAMPDIFF(HOUR, NOW(6), MAX(expires_at)) BETWEEN 167 AND 168 "
	    "FROM invitations WHERE user_id = %ld", uid), "1");
	CHECK_STATUS(GET(c, link_path(invite_link(r))), 200);

	/* only invited people get links */
	SQL("UPDATE users SET activated_at = NOW(6), password_hash = '$y$x' WHERE id = %ld", uid);
	r = POST_FORM(admin, itest_fmt("/admin/people/%ld/invitation", uid), "csrf", csrf);
	CHECK_STATUS(r, 409);
}

/* The mailto: link: address, subject and body percent-encoded. */
static void people_mailto(void)
{
	char *csrf;
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD, &csrf);
	const char *local = itest_uniq("o'brien+mail");
	const char *email = itest_fmt("%s@example.com", local);
	struct resp *r = add_person(admin, csrf, email, "Ann & Bob", "labeler");
	char *href, *link;

	CHECK_STATUS(r, 200);
	link = invite_link(r);
	href = html_str(r, "//a[@id='invite-mailto']/@href");
	CHECK(href != NULL, "no mailto link");
	const char *prefix = itest_fmt("mailto:%s@example.com?subject=Your%%20invitation%%20to%%20labeld"
	    "&body=", url_enc(local));
	CHECK(strncmp(href, prefix, strlen(prefix)) == 0, "mailto link %s, want it to start with %s",
	    href, prefix);
	CHECK(strstr(href, url_enc(link)) != NULL, "mailto body lacks the encoded link %s: %s",
	    url_enc(link), href);
	CHECK(strstr(href, "Hello%20Ann%20%26%20Bob%2C%0D%0A") != NULL, "mailto body: %s", href);
	for (const char *p = href; *p != '\0'; p++)
		CHECK(*p > ' ' && *p != '\'' && *p != '+' && *p != '#' && *p != '<',
		    "mailto link holds '%c' unencoded: %s", *p, href);
}

/* Search by email or name, case-insensitive; LIKE's % is literal. */
static void people_search(void)
{
	char *csrf;
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD, &csrf);
	const char *stem = itest_uniq("Zebra"), *a = new_email("searcha"), *b = new_email("searchb");
	long ida, idb;
	struct resp *r;

	invite(admin, csrf, a, itest_fmt("%s Alpha", stem), "labeler");
	invite(admin, csrf, b, "Somebody Else", "admin");
	ida = user_id(a);
	idb = user_id(b);
	/* by name, another case */
	r = GET(admin, itest_fmt("/admin/people?q=%s", url_enc(itest_fmt("%s alpha", stem))));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//tr[@data-id='%ld']", ida) == 1, "search by name misses %s", a);
	CHECK(html_count(r, "//tr[@data-id='%ld']", idb) == 0, "search by name finds %s", b);
	CHECK(html_count(r, "//table[@id='people']/tbody/tr") == 1, "search by name: %s", resp_snip(r));
	CHECK_STREQ(html_str(r, "//tr[@data-id='%ld']/td[3]", ida), "labeler");
	/* by email, upper case */
	char *upper = itest_fmt("%s", b);
	for (char *p = upper; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	r = GET(admin, itest_fmt("/admin/people?q=%s", url_enc(upper)));
	CHECK(html_count(r, "//tr[@data-id='%ld']", idb) == 1, "search by email misses %s", b);
	CHECK_STREQ(html_str(r, "//tr[@data-id='%ld']/td[3]", idb), "admin");
	/* % is not a wildcard: "%" and a's address would match a as one (other
	 * tests' people may have a % in their address, so not "%" alone) */
	r = GET(admin, itest_fmt("/admin/people?q=%s", url_enc(itest_fmt("%%%s", a))));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//tr[@data-id='%ld']", ida) == 0, "%% matched as a wildcard");
	CHECK_BODY_HAS(r, "Nobody matches.");
	/* everyone without q (up to the cap); without a display name the
	 * email is the link */
	r = GET(admin, "/admin/people");
	CHECK(html_count(r, "//tr[@data-id='%ld']", ida) == 1, "the list misses %s", a);
	SQL("UPDATE users SET display_name = '' WHERE id = %ld", idb);
	r = GET(admin, itest_fmt("/admin/people?q=%s", url_enc(b)));
	CHECK_STREQ(html_str(r, "//tr[@data-id='%ld']/td[1]/a", idb), b);
	r = GET(admin, itest_fmt("/admin/people/%ld", idb));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//h1/text()"), itest_fmt("%s ", b));
	/* bad input: a 4xx page that keeps what was typed */
	r = add_person(admin, csrf, "not-an-address", "Typed Name", "admin");
	CHECK_STATUS(r, 400);
	CHECK_STREQ(html_str(r, "//form[@id='person-add']//input[@name='name']/@value"), "Typed Name");
	CHECK_STREQ(html_str(r, "//form[@id='person-add']//input[@value='admin']/@checked"), "checked");
	r = add_person(admin, csrf, a, "Twice", "labeler");
	CHECK_STATUS(r, 409);
	CHECK_BODY_HAS(r, "already has an account");
}

/* Disable: the session's next request is signed out, sign-in is refused,
 * the lease goes back; Enable lets them in again. */
static void people_disable(void)
{
	char *csrf;
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD, &csrf), *c;
	const char *email;
	long uid, p;
	struct resp *r;

	at_work(&email, &uid, &p, &c);

	r = POST_FORM(admin, itest_fmt("/admin/people/%ld/disable", uid), "csrf", csrf);
	CHECK_REDIRECT(r, 303, itest_fmt("/admin/people/%ld?done=disabled", uid));
	CHECK_SIGNED_OUT(c);
	CHECK_STREQ(SQL_QUERY("SELECT COUNT(*) FROM items WHERE lease_user = %ld", uid), "0");
	CHECK_STREQ(SQL_QUERY("SELECT COUNT(*) FROM item_events WHERE user_id = %ld AND "
	    "kind = 'released'", uid), "1");
	CHECK_STREQ(SQL_QUERY("SELECT COUNT(*) FROM sessions WHERE user_id = %ld", uid), "0");
	r = SIGN_IN(CLIENT(NULL), email, USER_PASSWORD, NULL);
	CHECK_STATUS(r, 401);
	CHECK_BODY_HAS(r, WRONG_LOGIN);
	r = GET(admin, itest_fmt("/admin/people/%ld", uid));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//dd[@id='status']"), "disabled");
	CHECK(html_count(r, "//form[@id='enable']") == 1, "no Enable form");
	/* their team, linked, here and in the list */
	long tid = sql_long(itest_fmt("SELECT team_id FROM team_members WHERE user_id = %ld", uid));
	CHECK(html_count(r, "//dd[@id='teams']/a[@href='/admin/teams/%ld']", tid) == 1,
	    "the person's page does not link team %ld", tid);
	r = GET(admin, itest_fmt("/admin/people?q=%s", url_enc(email)));
	CHECK(html_count(r, "//tr[@data-id='%ld']/td[4]/a[@href='/admin/teams/%ld']", uid, tid) == 1,
	    "the list does not link team %ld", tid);

	r = POST_FORM(admin, itest_fmt("/admin/people/%ld/enable", uid), "csrf", csrf);
	CHECK_REDIRECT(r, 303, itest_fmt("/admin/people/%ld?done=enabled", uid));
	signed_in(email, USER_PASSWORD, NULL);
	/* GET never changes anything; a POST needs the CSRF token */
	CHECK_STATUS(GET(admin, itest_fmt("/admin/people/%ld/disable", uid)), 405);
	CHECK_STATUS(POST_FORM(admin, itest_fmt("/admin/people/%ld/disable", uid), "csrf", "x"), 403);
	CHECK_STREQ(SQL_QUERY("SELECT is_disabled FROM users WHERE id = %ld", uid), "0");
}

/* Remove: answers stay attributed, the list hides them (unless asked),
 * sign-in refused; adding the email again brings the same row back as
 * invited. */
static void people_remove(void)
{
	char *csrf;
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD, &csrf), *c;
	const char *email, *path;
	long uid, p;
	struct resp *r;

	at_work(&email, &uid, &p, &c);
	SQL("INSERT INTO annotations (item_id, project_id, labeler_id, data) "
	    "SELECT id, project_id, %ld, '{}' FROM items WHERE project_id = %ld AND lease_user IS NULL "
	    "ORDER BY id LIMIT 1", uid, p);

	r = POST_FORM(admin, itest_fmt("/admin/people/%ld/remove", uid), "csrf", csrf);
	CHECK_REDIRECT(r, 303, itest_fmt("/admin/people/%ld?done=removed", uid));
	CHECK_SIGNED_OUT(c);
	CHECK_STREQ(SQL_QUERY("SELECT COUNT(*) FROM annotations WHERE project_id = %ld AND "
	    "labeler_id = %ld", p, uid), "1");
	CHECK_STREQ(SQL_QUERY("SELECT COUNT(*) FROM items WHERE lease_user = %ld", uid), "0");
	CHECK_STREQ(SQL_QUERY("SELECT COUNT(*) FROM team_members WHERE user_id = %ld", uid), "0");
	CHECK_STATUS(SIGN_IN(CLIENT(NULL), email, USER_PASSWORD, NULL), 401);
	r = GET(admin, itest_fmt("/admin/people?q=%s", url_enc(email)));
	CHECK(html_count(r, "//tr[@data-id='%ld']", uid) == 0, "a removed person is listed");
	r = GET(admin, itest_fmt("/admin/people?q=%s&removed=1", url_enc(email)));
	CHECK_STREQ(html_str(r, "//tr[@data-id='%ld']/td[6]", uid), "removed");
	/* no actions on a removed person but adding them again */
	r = POST_FORM(admin, itest_fmt("/admin/people/%ld/enable", uid), "csrf", csrf);
	CHECK_STATUS(r, 409);

	path = invite(admin, csrf, email, "Back Again", "labeler");
	CHECK(user_id(email) == uid, "re-adding made a new row");
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT(removed_at IS NULL, is_disabled, activated_at IS NULL, "
	    "password_hash = '') FROM users WHERE id = %ld", uid), "1011");
	CHECK_STATUS(SIGN_IN(CLIENT(NULL), email, USER_PASSWORD, NULL), 401);
	CHECK_REDIRECT(accept_invite(CLIENT(NULL), path, NEW_PASSWORD, NEW_PASSWORD, ""), 303, "/projects");
	CHECK_STREQ(SQL_QUERY("SELECT COUNT(*) FROM annotations WHERE labeler_id = %ld", uid), "1");
}

/* The last admin who can sign in cannot be demoted, disabled or removed;
 * another admin can. */
static void people_last_admin(void)
{
	char *csrf;
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD, &csrf);
	long me = user_id(ADMIN_EMAIL), other;
	const char *email = new_email("second-admin");
	static const char *const acts[] = { "disable", "remove", "role" };
	struct resp *r;

	only_admin();
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		r = POST_FORM(admin, itest_fmt("/admin/people/%ld/%s", me, acts[i]), "csrf", csrf,
		    "role", "labeler");
		CHECK_STATUS(r, 409);
		CHECK_BODY_HAS(r, LAST_ADMIN);
	}
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT(is_admin, is_disabled, removed_at IS NULL) FROM users "
	    "WHERE id = %ld", me), "101");
	CHECK_SIGNED_IN(admin);

	/* an invited admin (no password yet) does not count */
	const char *path = invite(admin, csrf, email, "Second Admin", "admin");
	other = user_id(email);
	r = POST_FORM(admin, itest_fmt("/admin/people/%ld/role", me), "csrf", csrf, "role", "labeler");
	CHECK_STATUS(r, 409);
	/* once they can sign in, either may go */
	struct client *c2 = CLIENT(NULL);
	CHECK_REDIRECT(accept_invite(c2, path, NEW_PASSWORD, NEW_PASSWORD, ""), 303, "/projects");
	CHECK_STATUS(GET(c2, "/admin/people"), 200);
	r = POST_FORM(admin, itest_fmt("/admin/people/%ld/role", other), "csrf", csrf,
	    "role", "labeler");
	CHECK_REDIRECT(r, 303, itest_fmt("/admin/people/%ld?done=labeler", other));
	CHECK_STATUS(GET(c2, "/admin/people"), 403);
	r = POST_FORM(admin, itest_fmt("/admin/people/%ld/role", other), "csrf", csrf, "role", "admin");
	CHECK_REDIRECT(r, 303, itest_fmt("/admin/people/%ld?done=admin", other));
	CHECK_STATUS(GET(c2, "/admin/people"), 200);
	r = POST_FORM(admin, itest_fmt("/admin/people/%ld/role", other), "csrf", csrf, "role", "king");
	CHECK_STATUS(r, 400);
	/* and the second admin is then the last one */
	r = POST_FORM(admin, itest_fmt("/admin/people/%ld/remove", other), "csrf", csrf);
	CHECK_REDIRECT(r, 303, itest_fmt("/admin/people/%ld?done=removed", other));
	r = POST_FORM(admin, itest_fmt("/admin/people/%ld/disable", me), "csrf", csrf);
	CHECK_STATUS(r, 409);
}

/* Two demotions at once: while another transaction holds the admins'
 * rows (FOR UPDATE, as a demotion does) and demotes the second admin, the
 * demotion of the first waits for it and is then refused: one admin who
 * can sign in is left, not none. */
static void people_last_admin_concurrent(void)
{
	char *csrf;
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD, &csrf);
	const char *email = new_email("rival-admin");
	long me = user_id(ADMIN_EMAIL), other;
	struct resp *r;

	only_admin();
	CHECK_REDIRECT(accept_invite(CLIENT(NULL), invite(admin, csrf, email, "Rival", "admin"),
	    NEW_PASSWORD, NEW_PASSWORD, ""), 303, "/projects");
	other = user_id(email);
	CHECK(itest_shell(itest_fmt("%s -e 'START TRANSACTION; SELECT id FROM users WHERE is_admin = 1 "
	    "AND is_disabled = 0 FOR UPDATE; DO SLEEP(2); UPDATE users SET is_admin = 0 WHERE id = %ld; "
	    "COMMIT;' >/dev/null 2>&1 &", ENV("LABELD_TEST_SQL"), other)) == 0,
	    "could not start the rival transaction");
	itest_sleep_ms(700);
	r = POST_FORM(admin, itest_fmt("/admin/people/%ld/role", me), "csrf", csrf, "role", "labeler");
	CHECK_STATUS(r, 409);
	CHECK_BODY_HAS(r, LAST_ADMIN);
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT(is_admin, '/', (SELECT is_admin FROM users WHERE id = %ld)) "
	    "FROM users WHERE id = %ld", other, me), "1/0");
}

/* The Account page: a new name; a new password needs the current one and
 * ends the other sessions, not this one; nothing reaches another person. */
static void people_account(void)
{
	const char *email = make_labeler(), *victim = make_labeler();
	char *csrf, *csrf2;
	struct client *c = signed_in(email, USER_PASSWORD, &csrf);
	struct client *c2 = signed_in(email, USER_PASSWORD, &csrf2);
	long uid = user_id(email), vid = user_id(victim);
	struct resp *r;

	itest_defer(clear_login_failures, NULL);
	r = GET(c, "/account");
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//header//a[@href='/account']") == 1, "no Account link in the nav");
	CHECK(html_count(r, "//header//a[@href='/admin/people']") == 0, "a labeler sees People");
	r = POST_FORM(c, "/account/name", "csrf", csrf, "name", "  Renamed Person ",
	    "user_id", itest_fmt("%ld", vid), "email", victim);
	CHECK_REDIRECT(r, 303, "/account?done=name");
	CHECK_STREQ(SQL_QUERY("SELECT display_name FROM users WHERE id = %ld", uid), "Renamed Person");
	CHECK_STREQ(SQL_QUERY("SELECT display_name FROM users WHERE id = %ld", vid), "Labeler");
	r = POST_FORM(c, "/account/name", "csrf", csrf, "name", "");
	CHECK_STATUS(r, 422);
	/* 100 characters (not bytes) at most */
	char name100[301] = "", name101[301];
	for (int i = 0; i < 100; i++)
		strcat(name100, "\xc3\xa9");
	snprintf(name101, sizeof(name101), "%sx", name100);
	r = POST_FORM(c, "/account/name", "csrf", csrf, "name", name101);
	CHECK_STATUS(r, 422);
	CHECK_BODY_HAS(r, "too long");
	CHECK_REDIRECT(POST_FORM(c, "/account/name", "csrf", csrf, "name", name100), 303,
	    "/account?done=name");
	r = POST_FORM(c, "/account/name", "csrf", csrf, "name", "bad \xff byte");
	CHECK_STATUS(r, 422);
	r = POST_FORM(c, "/account/name", "csrf", csrf, "name", "  Renamed Person ");
	CHECK_REDIRECT(r, 303, "/account?done=name");

	/* the current password is required, the new one twice */
	r = POST_FORM(c, "/account/password", "csrf", csrf, "current", "wrong password",
	    "password", NEW_PASSWORD, "password2", NEW_PASSWORD);
	CHECK_STATUS(r, 403);
	CHECK_BODY_HAS(r, "current password is not right");
	r = POST_FORM(c, "/account/password", "csrf", csrf, "current", USER_PASSWORD,
	    "password", NEW_PASSWORD, "password2", "different");
	CHECK_STATUS(r, 422);
	CHECK_SIGNED_IN(c2);
	r = POST_FORM(c, "/account/password", "csrf", csrf, "current", USER_PASSWORD,
	    "password", NEW_PASSWORD, "password2", NEW_PASSWORD, "user_id", itest_fmt("%ld", vid));
	CHECK_REDIRECT(r, 303, "/account?done=password");
	CHECK_SIGNED_IN(c);
	CHECK_SIGNED_OUT(c2);
	CHECK_STATUS(SIGN_IN(CLIENT(NULL), email, USER_PASSWORD, NULL), 401);
	signed_in(email, NEW_PASSWORD, NULL);
	signed_in(victim, USER_PASSWORD, NULL);
	/* guesses of the current password are throttled as sign-ins are */
	long got = 0;
	for (int i = 0; i < 40 && got != 429; i++) {
		r = POST_FORM(c, "/account/password", "csrf", csrf, "current", "guess",
		    "password", NEW_PASSWORD, "password2", NEW_PASSWORD);
		got = r->status;
		CHECK(got == 403 || got == 429, "a guess got %ld", got);
	}
	CHECK(got == 429 && resp_header(r, "Retry-After") != NULL, "no 429 after 40 guesses");
	/* signed out: the account page asks to sign in */
	CHECK_REDIRECT(GET(CLIENT(NULL), "/account"), 303, "/login?next=%2Faccount");
}

/* A labeler reaches no People page or action (403) and cannot make
 * themselves admin. */
static void people_labeler_forbidden(void)
{
	char *csrf;
	const char *email = make_labeler();
	struct client *c = signed_in(email, USER_PASSWORD, &csrf);
	long uid = user_id(email), admin_id = user_id(ADMIN_EMAIL);
	static const char *const posts[] = { "invitation", "disable", "enable", "remove", "role" };

	CHECK_STATUS(GET(c, "/admin/people"), 403);
	CHECK_STATUS(GET(c, itest_fmt("/admin/people/%ld", uid)), 403);
	CHECK_STATUS(GET(c, itest_fmt("/admin/people/%ld", admin_id)), 403);
	CHECK_STATUS(POST_FORM(c, "/admin/people", "csrf", csrf, "email", new_email("sneaky"),
	    "name", "Sneaky", "role", "admin"), 403);
	for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++) {
		CHECK_STATUS(POST_FORM(c, itest_fmt("/admin/people/%ld/%s", uid, posts[i]),
		    "csrf", csrf, "role", "admin"), 403);
		CHECK_STATUS(POST_FORM(c, itest_fmt("/admin/people/%ld/%s", admin_id, posts[i]),
		    "csrf", csrf, "role", "labeler"), 403);
	}
	CHECK_STREQ(SQL_QUERY("SELECT is_admin FROM users WHERE id = %ld", uid), "0");
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT(is_admin, is_disabled) FROM users WHERE id = %ld",
	    admin_id), "10");
	/* signed out: sign in first */
	CHECK_REDIRECT(GET(CLIENT(NULL), "/admin/people"), 303, "/login?next=%2Fadmin%2Fpeople");
}

const struct itest_case itest_people_cases[] = {
	ITEST(people_invitation_once),
	ITEST(people_invitation_expiry_resend),
	ITEST(people_mailto),
	ITEST(people_search),
	ITEST(people_disable),
	ITEST(people_remove),
	ITEST(people_last_admin),
	ITEST(people_last_admin_concurrent),
	ITEST(people_account),
	ITEST(people_labeler_forbidden),
};
const size_t itest_people_ncases = sizeof(itest_people_cases) / sizeof(itest_people_cases[0]);
