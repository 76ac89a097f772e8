/*
 * t_auth.c: sign-in, sessions, sign-out, CSRF, next= and throttling,
 * driven over HTTP against the running stack.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define ADMIN_EMAIL ENV("LABELD_TEST_ADMIN_EMAIL")
#define ADMIN_PASSWORD ENV("LABELD_TEST_ADMIN_PASSWORD")
#define USER_EMAIL ENV("LABELD_TEST_USER_EMAIL")
#define USER_PASSWORD ENV("LABELD_TEST_USER_PASSWORD")

#define WRONG_LOGIN "Wrong email or password."
#define LOGIN_AGAIN "/login?next=%2Fprojects"

static size_t discard_body(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* Clean-up: forget failed sign-ins so later tests are not throttled. */
static void clear_login_failures(void *arg)
{
	int st = itest_sql_try("DELETE FROM login_failures");

	if (st != 0)
		itest_cleanup_error("DELETE FROM login_failures failed (exit %d)", st);
}

/* Clean-up: enable the user again (arg is the SQL-quoted email). */
static void enable_user(void *arg)
{
	int st = itest_sql_try("UPDATE users SET is_disabled = 0 WHERE email = %s",
	    (const char *)arg);

	if (st != 0)
		itest_cleanup_error("re-enabling %s failed (exit %d)", (const char *)arg, st);
}

/* A new client carrying only labeld_session=value. */
static struct client *client_with_session(const char *value)
{
	struct client *c = CLIENT(NULL);

	CLIENT_SET_COOKIE(c, "labeld_session", value);
	return c;
}

/* GET /projects must answer 200 (the session works). */
#define CHECK_SIGNED_IN(c) do { \
	struct resp *r_ = GET((c), "/projects"); \
	CHECK_STATUS(r_, 200); \
} while (0)

/* GET /projects must send the client to sign in (the session is gone). */
#define CHECK_SIGNED_OUT(c) do { \
	struct resp *r_ = GET((c), "/projects"); \
	CHECK_REDIRECT(r_, 303, LOGIN_AGAIN); \
} while (0)

/* ------------------------------------------------------------ the form */

/* GET /login: the form the contract describes, and the double-submit cookie
 * equal to the hidden csrf field. */
static void auth_login_form(void)
{
	struct client *c = CLIENT(NULL);
	struct resp *r = GET(c, "/login");
	const char *ct = resp_header(r, "Content-Type");
	char *csrf, *cookie, *csrf2;

	CHECK_STATUS(r, 200);
	CHECK(ct != NULL && strncasecmp(ct, "text/html", 9) == 0,
	    "GET /login: Content-Type %s, want text/html", ct != NULL ? ct : "(none)");
	CHECK(html_count(r, "//form[@id='login']") == 1, "GET /login: no form id=\"login\"");
	CHECK_STREQ(html_str(r, "//form[@id='login']/@method"), "post");
	CHECK_STREQ(html_str(r, "//form[@id='login']/@action"), "/login");
	CHECK(html_count(r, "//form[@id='login']//input[@name='email']") == 1,
	    "GET /login: no email input");
	CHECK_STREQ(html_str(r, "//form[@id='login']//input[@name='password']/@type"), "password");
	CHECK_STREQ(html_str(r, "//form[@id='login']//input[@name='next']/@type"), "hidden");
	CHECK_STREQ(html_str(r, "//form[@id='login']//input[@name='csrf']/@type"), "hidden");
	CHECK(resp_set_cookie(r, "labeld_login") != NULL,
	    "GET /login without cookies: no Set-Cookie labeld_login");
	csrf = html_form_input(r, "login", "csrf");
	cookie = client_cookie(c, "labeld_login");
	CHECK(csrf != NULL && strlen(csrf) >= 16,
	    "GET /login: csrf field \"%s\" is missing or too short to be random",
	    csrf != NULL ? csrf : "(none)");
	CHECK_STREQ(cookie, csrf);

	/* the cookie is kept: a second visit shows the same token */
	r = GET(c, "/login");
	CHECK_STATUS(r, 200);
	csrf2 = html_form_input(r, "login", "csrf");
	CHECK_STREQ(client_cookie(c, "labeld_login"), cookie);
	CHECK_STREQ(csrf2, cookie);

	/* another browser gets another token */
	struct client *other = CLIENT(NULL);
	r = GET(other, "/login");
	CHECK_STATUS(r, 200);
	csrf2 = html_form_input(r, "login", "csrf");
	CHECK(csrf2 != NULL && strcmp(csrf2, csrf) != 0,
	    "two browsers got the same login CSRF token %s", csrf);
}

/* ------------------------------------------------------------ sign-in */

/* The right password: 303 to /projects, a session cookie, and /projects
 * shows who is signed in. */
static void auth_sign_in(void)
{
	struct client *c = CLIENT(NULL);
	const char *email = USER_EMAIL;
	struct resp *r;

	SIGN_IN_OK(c, email, USER_PASSWORD);
	r = GET(c, "/projects");
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//h1[normalize-space(.)='Projects']") >= 1,
	    "GET /projects: no <h1>Projects</h1>");
	CHECK_BODY_HAS(r, email);
	CHECK(html_logout_csrf(r) != NULL,
	    "GET /projects: no sign-out form (form action=/logout with a csrf input)");
}

/* Sign-in takes no files: a multipart/form-data body is refused with 415
 * (only routes that take uploads accept multipart) and signs nobody in. */
static void auth_sign_in_multipart(void)
{
	struct client *c = CLIENT(NULL);
	struct resp *r = GET(c, "/login");
	char *csrf;

	CHECK_STATUS(r, 200);
	csrf = html_form_input(r, "login", "csrf");
	CHECK(csrf != NULL, "GET /login: no csrf");
	r = POST_MULTIPART(c, "/login", "email", USER_EMAIL, "password", USER_PASSWORD,
	    "next", "", "csrf", csrf);
	CHECK_STATUS(r, 415);
	CHECK_BODY_HAS(r, "does not take files");
	CHECK(client_cookie(c, "labeld_session") == NULL, "multipart sign-in: a session cookie");
}

/* Email and password matching is exact about the password. */
static void auth_wrong_password(void)
{
	struct client *c = CLIENT(NULL);
	const char *email = USER_EMAIL;
	char *bad = itest_fmt("%s-wrong", USER_PASSWORD);
	struct resp *r;
	char *kept, *pw;

	itest_defer(clear_login_failures, NULL);
	r = SIGN_IN(c, email, bad, NULL);
	CHECK_STATUS(r, 401);
	CHECK_BODY_HAS(r, WRONG_LOGIN);
	kept = html_str(r, "//form[@id='login']//input[@name='email']/@value");
	CHECK_STREQ(kept, email);
	pw = html_str(r, "//form[@id='login']//input[@name='password']/@value");
	CHECK(pw == NULL || *pw == '\0', "401 page echoes the password back: value=\"%s\"", pw);
	CHECK_BODY_LACKS(r, bad);
	CHECK(resp_set_cookie(r, "labeld_session") == NULL,
	    "401 response sets labeld_session: %s", resp_set_cookie(r, "labeld_session"));
	CHECK(client_cookie(c, "labeld_session") == NULL, "session cookie after a wrong password");
	/* the form can be sent again: it carries a csrf token */
	CHECK(html_form_input(r, "login", "csrf") != NULL, "401 page: form has no csrf");
	CHECK_SIGNED_OUT(c);
}

/* An unknown email gets the very same answer as a wrong password. */
static void auth_unknown_email(void)
{
	struct client *c = CLIENT(NULL);
	const char *email = "nobody-here@example.invalid";
	struct resp *r;

	itest_defer(clear_login_failures, NULL);
	r = SIGN_IN(c, email, USER_PASSWORD, NULL);
	CHECK_STATUS(r, 401);
	CHECK_BODY_HAS(r, WRONG_LOGIN);
	CHECK_STREQ(html_str(r, "//form[@id='login']//input[@name='email']/@value"), email);
	CHECK(resp_set_cookie(r, "labeld_session") == NULL, "401 response sets labeld_session");
}

/* The session cookie: HttpOnly, SameSite=Lax, Path=/, no Secure over plain
 * http, value 43 base64url characters (256 random bits). */
static void auth_cookie_flags(void)
{
	struct client *c = CLIENT(NULL);
	struct resp *r = SIGN_IN(c, USER_EMAIL, USER_PASSWORD, NULL);
	const char *sc;
	char *value;
	size_t vlen;

	CHECK_REDIRECT(r, 303, "/projects");
	sc = resp_set_cookie(r, "labeld_session");
	CHECK(sc != NULL, "POST /login: no Set-Cookie labeld_session");
	CHECK(set_cookie_has_attr(sc, "HttpOnly"), "session cookie lacks HttpOnly: %s", sc);
	CHECK(set_cookie_has_attr(sc, "SameSite=Lax"), "session cookie lacks SameSite=Lax: %s", sc);
	CHECK(set_cookie_has_attr(sc, "Path=/"), "session cookie lacks Path=/: %s", sc);
	CHECK(!set_cookie_has_attr(sc, "Secure"), "session cookie has Secure over http: %s", sc);
	vlen = strcspn(sc + strlen("labeld_session="), ";");
	value = itest_keep(strndup(sc + strlen("labeld_session="), vlen));
	CHECK(is_base64url(value, 43), "session cookie value \"%s\" is not 43 base64url chars",
	    value);
	CHECK_STREQ(client_cookie(c, "labeld_session"), value);
}

/* The value of cookie name in a Set-Cookie header (owned by the test). */
static char *set_cookie_value(const char *sc, const char *name)
{
	size_t n = strlen(name);
	CHECK(sc != NULL && strncmp(sc, name, n) == 0 && sc[n] == '=', "no Set-Cookie %s", name);
	return itest_keep(strndup(sc + n + 1, strcspn(sc + n + 1, ";")));
}

/* The sign-in form's csrf from r (GET /login), with its Secure labeld_login
 * cookie handed back to c by hand: the test's client speaks plain http,
 * where a cookie library keeps Secure cookies to itself. */
static char *secure_login_form(struct client *c, struct resp *r)
{
	char *csrf = html_form_input(r, "login", "csrf");
	char *login = set_cookie_value(resp_set_cookie(r, "labeld_login"), "labeld_login");

	client_clear_cookies(c);
	CLIENT_SET_COOKIE(c, "labeld_login", login);
	return csrf;
}

/* Behind a TLS terminator (the stack's labeld-tls: public_url https://, nginx
 * trusting 127.0.0.5 for the client's address): cookies are Secure, every
 * answer sends Strict-Transport-Security, and the address sign-in counts
 * against is the one the trusted proxy names; from anyone else the header
 * is ignored.  (Without public_url, auth_cookie_flags: no Secure, and no
 * Strict-Transport-Security here.) */
static void auth_behind_tls_terminator(void)
{
	const char *base = ENV("LABELD_TEST_URL_TLS"), *proxy = ENV("LABELD_TEST_TLS_PROXY");
	struct client *c = CLIENT(base), *plain = CLIENT(NULL), *spoof = CLIENT(base);
	struct resp *r;
	const char *sc, *hsts;
	char *csrf;

	SQL("DELETE FROM login_failures");
	itest_defer(clear_login_failures, NULL);
	r = GET(plain, "/login");
	CHECK(resp_header(r, "Strict-Transport-Security") == NULL,
	    "Strict-Transport-Security over plain http without public_url");

	client_bind(c, proxy);
	client_header(c, "X-Forwarded-For: 203.0.113.9");
	r = GET(c, "/login");
	CHECK_STATUS(r, 200);
	hsts = resp_header(r, "Strict-Transport-Security");
	CHECK(hsts != NULL && strstr(hsts, "max-age=") != NULL && atol(strstr(hsts, "max-age=") + 8) > 0,
	    "no Strict-Transport-Security with max-age (got %s)", hsts ? hsts : "none");
	sc = resp_set_cookie(r, "labeld_login");
	CHECK(sc != NULL && set_cookie_has_attr(sc, "Secure"), "labeld_login cookie lacks Secure: %s",
	    sc ? sc : "none");
	csrf = secure_login_form(c, r);
	r = POST_FORM(c, "/login", "email", USER_EMAIL, "password", "wrong", "csrf", csrf);
	CHECK_STATUS(r, 401);
	CHECK(SQL_QUERY("SELECT COUNT(*) FROM login_failures WHERE throttle_key = "
	    "'address:203.0.113.9'")[0] == '1', "the trusted proxy's X-Forwarded-For was not used");
	r = POST_FORM(c, "/login", "email", USER_EMAIL, "password", USER_PASSWORD, "csrf", csrf);
	CHECK_REDIRECT(r, 303, "/projects");
	sc = resp_set_cookie(r, "labeld_session");
	CHECK(sc != NULL && set_cookie_has_attr(sc, "Secure"), "session cookie lacks Secure: %s",
	    sc ? sc : "none");
	CHECK(resp_header(r, "Strict-Transport-Security") != NULL, "303 without Strict-Transport-Security");

	/* the header from a client that is not a trusted proxy counts for nothing */
	client_header(spoof, "X-Forwarded-For: 198.51.100.7");
	csrf = secure_login_form(spoof, GET(spoof, "/login"));
	r = POST_FORM(spoof, "/login", "email", USER_EMAIL, "password", "wrong", "csrf", csrf);
	CHECK_STATUS(r, 401);
	CHECK(SQL_QUERY("SELECT COUNT(*) FROM login_failures WHERE throttle_key = "
	    "'address:198.51.100.7'")[0] == '0', "an untrusted client chose its address");
	CHECK(SQL_QUERY("SELECT COUNT(*) FROM login_failures WHERE throttle_key = "
	    "'address:127.0.0.1'")[0] == '1', "the untrusted client's own address was not used");
}

/* A session cookie sent along with a sign-in is replaced and dies.  The
 * browser holds a sign-in form (labeld_login token) and a live session:
 * as the contract has it, POST /login checks csrf against labeld_login. */
static void auth_session_rotation(void)
{
	struct client *c = CLIENT(NULL), *other = CLIENT(NULL);
	const char *email = USER_EMAIL, *pw = USER_PASSWORD;
	struct resp *r;
	char *s1, *s2, *token;

	/* a sign-in form first, while signed out */
	r = GET(c, "/login");
	CHECK_STATUS(r, 200);
	token = html_form_input(r, "login", "csrf");
	CHECK(token != NULL, "GET /login: no csrf");
	/* a live session of this user, now in this browser too */
	s1 = SIGN_IN_OK(other, email, pw);
	CLIENT_SET_COOKIE(c, "labeld_session", s1);
	CHECK_SIGNED_IN(c);
	/* sign in with that session cookie sent along */
	r = POST_FORM(c, "/login", "email", email, "password", pw, "next", "", "csrf", token);
	CHECK(r->status == 303,
	    "POST /login with a live session cookie and the labeld_login token as csrf: "
	    "status %ld, want 303 (the contract checks csrf against labeld_login); body: %s",
	    r->status, resp_snip(r));
	CHECK_REDIRECT(r, 303, "/projects");
	CHECK(resp_set_cookie(r, "labeld_session") != NULL,
	    "sign-in with a session cookie: no Set-Cookie labeld_session");
	s2 = client_cookie(c, "labeld_session");
	CHECK(s2 != NULL, "sign-in: no labeld_session in the jar");
	CHECK(strcmp(s1, s2) != 0, "sign-in kept the session id %s", s1);
	CHECK(is_base64url(s2, 43), "new session id \"%s\" is not 43 base64url chars", s2);
	CHECK_SIGNED_IN(c);
	CHECK_SIGNED_IN(client_with_session(s2));
	CHECK_SIGNED_OUT(client_with_session(s1));
	CHECK_SIGNED_OUT(other);
}

/* A session id planted in the browser before sign-in is never adopted. */
static void auth_session_fixation(void)
{
	static const char planted[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	struct client *f = client_with_session(planted);
	char *s;

	CHECK_SIGNED_OUT(f);
	s = SIGN_IN_OK(f, USER_EMAIL, USER_PASSWORD);
	CHECK(strcmp(s, planted) != 0, "sign-in adopted the planted session id");
	CHECK_SIGNED_IN(f);
	CHECK_SIGNED_OUT(client_with_session(planted));
}

/* POST /logout with the page's CSRF token: 303 to /login, cookie cleared,
 * and the old cookie value is dead on the server too. */
static void auth_sign_out(void)
{
	struct client *c = CLIENT(NULL);
	char *cookie = SIGN_IN_OK(c, USER_EMAIL, USER_PASSWORD);
	struct resp *r = GET(c, "/projects");
	const char *sc;
	char *csrf;

	CHECK_STATUS(r, 200);
	csrf = html_logout_csrf(r);
	CHECK(csrf != NULL && *csrf != '\0', "GET /projects: no csrf in the sign-out form");
	r = POST_FORM(c, "/logout", "csrf", csrf);
	CHECK_REDIRECT(r, 303, "/login");
	sc = resp_set_cookie(r, "labeld_session");
	CHECK(sc != NULL, "POST /logout: no Set-Cookie clearing labeld_session");
	CHECK(set_cookie_has_attr(sc, "Max-Age=0"), "POST /logout: cookie not cleared: %s", sc);
	CHECK(client_cookie(c, "labeld_session") == NULL,
	    "browser still holds labeld_session=\"%s\" after %s",
	    client_cookie(c, "labeld_session"), sc);
	CHECK_SIGNED_OUT(c);
	/* replay the old value from another browser */
	CHECK_SIGNED_OUT(client_with_session(cookie));
}

/* A session unused for longer than session_idle_timeout is over. */
static void auth_idle_expiry(void)
{
	struct client *c = CLIENT(NULL);
	const char *email = USER_EMAIL;

	SIGN_IN_OK(c, email, USER_PASSWORD);
	CHECK_SIGNED_IN(c);
	SQL("UPDATE sessions SET last_seen_at = last_seen_at - INTERVAL 2 DAY "
	    "WHERE user_id = (SELECT id FROM users WHERE email = %s)", sql_str(email));
	CHECK_SIGNED_OUT(c);
}

/* A session older than session_lifetime is over even when in use. */
static void auth_absolute_lifetime(void)
{
	struct client *c = CLIENT(NULL);
	const char *email = USER_EMAIL;

	SIGN_IN_OK(c, email, USER_PASSWORD);
	CHECK_SIGNED_IN(c);
	/* last_seen_at stays fresh: only the age since sign-in is too high */
	SQL("UPDATE sessions SET created_at = created_at - INTERVAL 400 DAY "
	    "WHERE user_id = (SELECT id FROM users WHERE email = %s)", sql_str(email));
	CHECK_SIGNED_OUT(c);
}

/* ------------------------------------------------------------ CSRF */

/* POST /logout without a csrf field: 403, and the session lives on. */
static void auth_csrf_logout_missing(void)
{
	struct client *c = CLIENT(NULL);
	struct resp *r;

	SIGN_IN_OK(c, USER_EMAIL, USER_PASSWORD);
	r = POST_RAW(c, "/logout", "application/x-www-form-urlencoded", "", 0);
	CHECK_STATUS(r, 403);
	CHECK_BODY_HAS(r, "CSRF");
	CHECK(resp_set_cookie(r, "labeld_session") == NULL,
	    "refused POST /logout still touched the cookie: %s",
	    resp_set_cookie(r, "labeld_session"));
	CHECK_SIGNED_IN(c);
}

/* POST /logout with a wrong token (made up, or another session's): 403. */
static void auth_csrf_logout_wrong(void)
{
	struct client *c = CLIENT(NULL), *other = CLIENT(NULL);
	struct resp *r;
	char *other_csrf;

	SIGN_IN_OK(c, USER_EMAIL, USER_PASSWORD);
	r = POST_FORM(c, "/logout", "csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	CHECK_STATUS(r, 403);
	CHECK_SIGNED_IN(c);

	/* a valid token of a different session is still wrong */
	SIGN_IN_OK(other, USER_EMAIL, USER_PASSWORD);
	r = GET(other, "/projects");
	CHECK_STATUS(r, 200);
	other_csrf = html_logout_csrf(r);
	CHECK(other_csrf != NULL, "GET /projects: no csrf in the sign-out form");
	r = GET(c, "/projects");
	CHECK_STATUS(r, 200);
	CHECK(html_logout_csrf(r) == NULL || strcmp(html_logout_csrf(r), other_csrf) != 0,
	    "two sessions share the CSRF token %s", other_csrf);
	r = POST_FORM(c, "/logout", "csrf", other_csrf);
	CHECK_STATUS(r, 403);
	CHECK_SIGNED_IN(c);
	CHECK_SIGNED_IN(other);
}

/* POST /login without a csrf field: 403 page that says CSRF, no session. */
static void auth_csrf_login_missing(void)
{
	struct client *c = CLIENT(NULL);
	struct resp *r = GET(c, "/login");

	CHECK_STATUS(r, 200);
	r = POST_FORM(c, "/login", "email", USER_EMAIL, "password", USER_PASSWORD);
	CHECK_STATUS(r, 403);
	CHECK_BODY_HAS(r, "CSRF");
	CHECK(resp_set_cookie(r, "labeld_session") == NULL, "refused sign-in set a session cookie");
	CHECK_SIGNED_OUT(c);
}

/* POST /login whose csrf field differs from the labeld_login cookie: 403. */
static void auth_csrf_login_mismatch(void)
{
	struct client *c = CLIENT(NULL);
	struct resp *r = GET(c, "/login");
	char *csrf;

	CHECK_STATUS(r, 200);
	csrf = html_form_input(r, "login", "csrf");
	CHECK(csrf != NULL, "GET /login: no csrf");
	r = POST_FORM(c, "/login", "email", USER_EMAIL, "password", USER_PASSWORD,
	    "csrf", itest_fmt("%sx", csrf));
	CHECK_STATUS(r, 403);
	CHECK_BODY_HAS(r, "CSRF");
	CHECK(resp_set_cookie(r, "labeld_session") == NULL, "refused sign-in set a session cookie");

	/* an empty field against the cookie */
	r = POST_FORM(c, "/login", "email", USER_EMAIL, "password", USER_PASSWORD, "csrf", "");
	CHECK_STATUS(r, 403);
	CHECK_SIGNED_OUT(c);
}

/* POST /login with a csrf field (taken from another browser) but no
 * labeld_login cookie at all: 403 (a cross-site form post). */
static void auth_csrf_login_no_cookie(void)
{
	struct client *attacker = CLIENT(NULL), *victim = CLIENT(NULL);
	struct resp *r = GET(attacker, "/login");
	char *csrf;

	CHECK_STATUS(r, 200);
	csrf = html_form_input(r, "login", "csrf");
	CHECK(csrf != NULL, "GET /login: no csrf");
	r = POST_FORM(victim, "/login", "email", USER_EMAIL, "password", USER_PASSWORD,
	    "csrf", csrf);
	CHECK_STATUS(r, 403);
	CHECK(resp_set_cookie(r, "labeld_session") == NULL, "refused sign-in set a session cookie");
}

/* ------------------------------------------------------------ next= */

/* A safe local next (with a query) is carried by the form and followed. */
static void auth_next_safe(void)
{
	struct client *c = CLIENT(NULL);
	struct resp *r = GET(c, "/login?next=%2Fprojects%3Fx%3D1");

	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_form_input(r, "login", "next"), "/projects?x=1");
	r = SIGN_IN_AT(c, "/login?next=%2Fprojects%3Fx%3D1", USER_EMAIL, USER_PASSWORD, NULL);
	CHECK_REDIRECT(r, 303, "/projects?x=1");
	r = GET(c, "/projects?x=1");
	CHECK_STATUS(r, 200);

	/* the same, posted directly */
	struct client *d = CLIENT(NULL);
	r = SIGN_IN(d, USER_EMAIL, USER_PASSWORD, "/admin/plugins");
	CHECK_REDIRECT(r, 303, "/admin/plugins");
}

/* next values (as the server sees them after decoding the form) that would
 * leave the site, or smuggle a header: sign-in lands on /projects. */
static void auth_next_open_redirect_post(void)
{
	static const char *const attacks[] = {
		"//evil.example",
		"//evil.example/projects",
		"/\\evil.example",
		"\\\\evil.example",
		"\\/evil.example",
		"https://evil.example",
		"http:evil.example",
		"HTTPS://evil.example/",
		"javascript:alert(1)",
		"JavaScript:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		"\t//evil.example",
		" //evil.example",
		"/\t/evil.example",
		"/\n/evil.example",
		"/\r\nSet-Cookie: x=1",
		"///evil.example",
		"evil.example",
		"%2F%2Fevil.example",
	};

	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		struct client *c = CLIENT(NULL);
		struct resp *r = SIGN_IN(c, USER_EMAIL, USER_PASSWORD, attacks[i]);
		const char *loc = resp_header(r, "Location");

		CHECK(r->status == 303 && loc != NULL && strcmp(loc, "/projects") == 0,
		    "next=\"%s\" (posted, url-encoded \"%s\"): status %ld, Location %s, want 303 /projects",
		    attacks[i], url_enc(attacks[i]), r->status, loc != NULL ? loc : "(none)");
	}

	/* "/%2F/evil.example" is a same-site path for a browser (it does not
	 * decode %2F in a Location); refusing it is fine, following it
	 * verbatim is fine, decoding it into "//evil.example" is not. */
	struct client *c = CLIENT(NULL);
	struct resp *r = SIGN_IN(c, USER_EMAIL, USER_PASSWORD, "/%2F/evil.example");
	const char *loc = resp_header(r, "Location");
	CHECK(r->status == 303 && loc != NULL &&
	    (strcmp(loc, "/projects") == 0 || strcmp(loc, "/%2F/evil.example") == 0),
	    "next=\"/%%2F/evil.example\" (posted): status %ld, Location %s, want 303 /projects",
	    r->status, loc != NULL ? loc : "(none)");
}

/* The same through the query string of GET /login, raw as an attacker would
 * write the link (including encoded variants): whatever the form carries,
 * sign-in lands on /projects. */
static void auth_next_open_redirect_link(void)
{
	static const char *const raw[] = {
		"//evil.example",
		"%2F%2Fevil.example",
		"%2f%2fevil.example",
		"/%2F/evil.example",
		"/%2f%2fevil.example",
		"/%5Cevil.example",
		"%5C%5Cevil.example",
		"https://evil.example",
		"https%3A%2F%2Fevil.example",
		"javascript:alert(1)",
		"javascript%3Aalert(1)",
		"%09//evil.example",
		"/%09/evil.example",
		"%20//evil.example",
		"/%0D%0ASet-Cookie:%20x=1",
		"///evil.example",
		"%252F%252Fevil.example",
	};

	for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		struct client *c = CLIENT(NULL);
		char *path = itest_fmt("/login?next=%s", raw[i]);
		struct resp *r = SIGN_IN_AT(c, path, USER_EMAIL, USER_PASSWORD, NULL);
		const char *loc = resp_header(r, "Location");

		CHECK(r->status == 303 && loc != NULL && strcmp(loc, "/projects") == 0,
		    "GET %s then sign-in: status %ld, Location %s, want 303 /projects",
		    path, r->status, loc != NULL ? loc : "(none)");
	}
}

/* ------------------------------------------------------------ access */

/* Pages that need a session send the browser to sign in, remembering where
 * it was going; / goes to the right place either way. */
static void auth_needs_login(void)
{
	struct client *c = CLIENT(NULL);
	struct resp *r;

	r = GET(c, "/projects");
	CHECK_REDIRECT(r, 303, LOGIN_AGAIN);
	r = GET(c, "/");
	CHECK_REDIRECT(r, 303, "/login");
	r = GET(c, "/admin/plugins");
	CHECK_REDIRECT(r, 303, "/login?next=%2Fadmin%2Fplugins");
	/* a garbage cookie is the same as none */
	CLIENT_SET_COOKIE(c, "labeld_session", "not-a-session");
	r = GET(c, "/projects");
	CHECK_REDIRECT(r, 303, LOGIN_AGAIN);

	SIGN_IN_OK(c, USER_EMAIL, USER_PASSWORD);
	r = GET(c, "/");
	CHECK_REDIRECT(r, 303, "/projects");
}

/* A signed-in user who is not an admin may not see the admin pages. */
static void auth_admin_forbidden(void)
{
	struct client *c = CLIENT(NULL);
	struct resp *r;

	SIGN_IN_OK(c, USER_EMAIL, USER_PASSWORD);
	r = GET(c, "/admin/plugins");
	CHECK_STATUS(r, 403);
	CHECK(html_count(r, "//tr[contains(@class,'plugin-')]") == 0,
	    "403 page still lists plugins");
	CHECK_BODY_LACKS(r, "testtask");
}

/* ------------------------------------------------------------ throttling */

/* After login_max_failures_account wrong passwords for one account, even
 * the right password is refused with 429 (other accounts still work); once
 * the failures are forgotten it works again. */
static void auth_throttle_account(void)
{
	long max = itest_env_long("LABELD_TEST_LOGIN_MAX_FAILURES_ACCOUNT", 5);
	const char *email = USER_EMAIL, *pw = USER_PASSWORD;
	char *bad = itest_fmt("%s-wrong", pw);
	struct client *c = CLIENT(NULL);
	struct resp *r;
	const char *ra;

	SQL("DELETE FROM login_failures");
	itest_defer(clear_login_failures, NULL);
	for (long i = 1; i <= max; i++) {
		r = SIGN_IN(c, email, bad, NULL);
		CHECK(r->status == 401, "wrong password #%ld of %ld allowed: status %ld, want 401",
		    i, max, r->status);
	}
	r = SIGN_IN(c, email, pw, NULL);
	CHECK(r->status == 429,
	    "right password after %ld failures: status %ld, want 429 (set "
	    "LABELD_TEST_LOGIN_MAX_FAILURES_ACCOUNT if the stack is not at the default 5)",
	    max, r->status);
	CHECK_BODY_HAS(r, "Too many failed sign-ins");
	ra = resp_header(r, "Retry-After");
	CHECK(ra != NULL && atol(ra) > 0, "429 without a positive Retry-After (got %s)",
	    ra != NULL ? ra : "none");
	CHECK(resp_set_cookie(r, "labeld_session") == NULL, "429 response sets a session cookie");
	CHECK(client_cookie(c, "labeld_session") == NULL, "session cookie while throttled");

	/* the throttle is per account: the admin still gets in */
	SIGN_IN_OK(CLIENT(NULL), ADMIN_EMAIL, ADMIN_PASSWORD);

	SQL("DELETE FROM login_failures");
	SIGN_IN_OK(c, email, pw);
	CHECK_SIGNED_IN(c);
}

/* After login_max_failures_address failed sign-ins from one address (each
 * for a different, unknown account, so no account is throttled), sign-in
 * from that address is refused with 429 even for another account. */
static void auth_throttle_address(void)
{
	long max = itest_env_long("LABELD_TEST_LOGIN_MAX_FAILURES_ADDRESS", 30);
	struct client *c = CLIENT(NULL);
	struct resp *r;

	SQL("DELETE FROM login_failures");
	itest_defer(clear_login_failures, NULL);
	for (long i = 1; i <= max; i++) {
		char *email = itest_fmt("nobody%ld@example.invalid", i);
		r = SIGN_IN(c, email, "wrong", NULL);
		CHECK(r->status == 401, "failed sign-in #%ld of %ld from this address: status %ld, "
		    "want 401", i, max, r->status);
	}
	r = SIGN_IN(CLIENT(NULL), ADMIN_EMAIL, ADMIN_PASSWORD, NULL);
	CHECK(r->status == 429,
	    "admin sign-in after %ld failures from this address: status %ld, want 429 (set "
	    "LABELD_TEST_LOGIN_MAX_FAILURES_ADDRESS if the stack is not at the default 30)",
	    max, r->status);
	CHECK_BODY_HAS(r, "Too many failed sign-ins");
	CHECK(resp_header(r, "Retry-After") != NULL, "429 without Retry-After");

	SQL("DELETE FROM login_failures");
	SIGN_IN_OK(CLIENT(NULL), ADMIN_EMAIL, ADMIN_PASSWORD);
}

/* 64 wrong guesses for one account from one address, all at once: each try
 * is counted before its password is checked, so exactly
 * login_max_failures_account of them reach the check (401) and the rest
 * are refused (429), however they interleave. */
static void auth_throttle_parallel(void)
{
	enum { N = 64 };
	long max = itest_env_long("LABELD_TEST_LOGIN_MAX_FAILURES_ACCOUNT", 5);
	struct client *c = CLIENT(NULL);
	struct resp *r;
	char *csrf, *login, *fields, *cookie;
	CURLM *m = curl_multi_init();
	CURL *e[N];
	int running = 0, n401 = 0, n429 = 0, other = 0;
	long other_status = 0;

	SQL("DELETE FROM login_failures");
	itest_defer(clear_login_failures, NULL);
	r = GET(c, "/login");
	CHECK_STATUS(r, 200);
	csrf = html_form_input(r, "login", "csrf");
	login = client_cookie(c, "labeld_login");
	CHECK(csrf != NULL && login != NULL, "GET /login: no csrf or labeld_login cookie");
	fields = itest_fmt("email=%s&password=wrong-%s&csrf=%s", url_enc(USER_EMAIL),
	    url_enc(USER_PASSWORD), url_enc(csrf));
	cookie = itest_fmt("labeld_login=%s", login);
	CHECK(m != NULL, "curl_multi_init failed");
	for (int i = 0; i < N; i++) {
		e[i] = curl_easy_init();
		CHECK(e[i] != NULL, "curl_easy_init failed");
		curl_easy_setopt(e[i], CURLOPT_URL, itest_fmt("%s/login", ENV("LABELD_TEST_URL")));
		curl_easy_setopt(e[i], CURLOPT_POSTFIELDS, fields);
		curl_easy_setopt(e[i], CURLOPT_COOKIE, cookie);
		curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, discard_body);
		curl_easy_setopt(e[i], CURLOPT_TIMEOUT, 60L);
		curl_multi_add_handle(m, e[i]);
	}
	do {
		CHECK(curl_multi_perform(m, &running) == CURLM_OK, "curl_multi_perform failed");
		if (running > 0)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	} while (running > 0);
	for (int i = 0; i < N; i++) {
		long st = 0;
		curl_easy_getinfo(e[i], CURLINFO_RESPONSE_CODE, &st);
		if (st == 401)
			n401++;
		else if (st == 429)
			n429++;
		else
			other++, other_status = st;
		curl_multi_remove_handle(m, e[i]);
		curl_easy_cleanup(e[i]);
	}
	curl_multi_cleanup(m);
	CHECK(other == 0, "%d of %d parallel guesses got neither 401 nor 429 (e.g. %ld)",
	    other, N, other_status);
	CHECK(n401 == max, "%d of %d parallel wrong guesses reached the password check, want "
	    "exactly %ld (429: %d)", n401, N, max, n429);
	CHECK(n429 == N - max, "%d refused, want %ld", n429, N - max);
}

/* An attacker at one address who runs into the limit does not lock the
 * account's owner out: the limit is per (account, address).  The attacker
 * is refused even with the right password; the owner elsewhere signs in. */
static void auth_throttle_owner_elsewhere(void)
{
	long max = itest_env_long("LABELD_TEST_LOGIN_MAX_FAILURES_ACCOUNT", 5);
	struct client *attacker = CLIENT(NULL), *owner = CLIENT(NULL);
	struct resp *r;

	SQL("DELETE FROM login_failures");
	itest_defer(clear_login_failures, NULL);
	client_bind(attacker, "127.0.0.3");
	client_bind(owner, "127.0.0.2");
	for (long i = 0; i < max; i++) {
		r = SIGN_IN(attacker, USER_EMAIL, "not-the-password", NULL);
		CHECK_STATUS(r, 401);
	}
	r = SIGN_IN(attacker, USER_EMAIL, "not-the-password", NULL);
	CHECK_STATUS(r, 429);
	r = SIGN_IN(attacker, USER_EMAIL, USER_PASSWORD, NULL);
	CHECK_STATUS(r, 429);
	CHECK(SQL_QUERY("SELECT COUNT(*) FROM login_failures WHERE throttle_key = "
	    "'address:127.0.0.3'")[0] == '1', "tries from 127.0.0.3 not recorded under its address");
	SIGN_IN_OK(owner, USER_EMAIL, USER_PASSWORD);
	CHECK_SIGNED_IN(owner);
}

/* Guesses spread over many addresses meet the account's slow brake: past
 * login_account_backoff tries in the window, each try must wait one second
 * more after the last (429 with Retry-After until then), except from an
 * address the account has signed in from before. */
static void auth_throttle_brake(void)
{
	long backoff = itest_env_long("LABELD_TEST_LOGIN_ACCOUNT_BACKOFF", 0);
	struct client *c, *home = CLIENT(NULL);
	struct resp *r;
	const char *ra;

	CHECK(backoff > 0 && backoff < 30, "LABELD_TEST_LOGIN_ACCOUNT_BACKOFF must be set (1..29)");
	SQL("DELETE FROM login_failures");
	SQL("DELETE FROM login_known");
	itest_defer(clear_login_failures, NULL);
	/* the owner signs in from home once: a known address from then on */
	client_bind(home, "127.0.0.2");
	SIGN_IN_OK(home, USER_EMAIL, USER_PASSWORD);
	for (long i = 0; i < backoff; i++) {
		c = CLIENT(NULL);
		client_bind(c, itest_fmt("127.0.1.%ld", i + 1));
		r = SIGN_IN(c, USER_EMAIL, "guess", NULL);
		CHECK(r->status == 401, "guess %ld of %ld from its own address: status %ld",
		    i + 1, backoff, r->status);
	}
	c = CLIENT(NULL);
	client_bind(c, "127.0.2.1");
	r = SIGN_IN(c, USER_EMAIL, "guess", NULL);
	CHECK_STATUS(r, 429);
	ra = resp_header(r, "Retry-After");
	CHECK(ra != NULL && atol(ra) >= 1 && atol(ra) <= 2, "Retry-After %s, want 1 or 2",
	    ra ? ra : "none");
	/* the owner at home is not braked */
	home = CLIENT(NULL);
	client_bind(home, "127.0.0.2");
	SIGN_IN_OK(home, USER_EMAIL, USER_PASSWORD);
	/* after the wait, one more guess is let through, then a longer wait */
	itest_sleep_ms(2100);
	r = SIGN_IN(c, USER_EMAIL, "guess", NULL);
	CHECK_STATUS(r, 401);
	c = CLIENT(NULL);
	client_bind(c, "127.0.2.2");
	r = SIGN_IN(c, USER_EMAIL, "guess", NULL);
	CHECK_STATUS(r, 429);
}

/* Expired sessions and sign-in tries of past windows are deleted by the
 * periodic cleanup (cleanup_interval); live ones stay. */
static void auth_cleanup_expired(void)
{
	struct client *c = CLIENT(NULL);
	char *n;

	SIGN_IN_OK(c, USER_EMAIL, USER_PASSWORD);
	SQL("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at) "
	    "SELECT UNHEX(SHA2('itest-expired-session', 256)), id, REPEAT('a', 43), "
	    "NOW() - INTERVAL 30 DAY, NOW() - INTERVAL 30 DAY FROM users WHERE email = %s",
	    sql_str(USER_EMAIL));
	SQL("INSERT INTO login_failures (throttle_key, window_start, failures) "
	    "VALUES ('address:192.0.2.77', NOW() - INTERVAL 30 DAY, 3)");
	for (int i = 0; i < 100; i++) {
		n = SQL_QUERY("SELECT (SELECT COUNT(*) FROM sessions WHERE token_hash = "
		    "UNHEX(SHA2('itest-expired-session', 256))) + (SELECT COUNT(*) FROM "
		    "login_failures WHERE throttle_key = 'address:192.0.2.77')");
		if (n[0] == '0')
			break;
		itest_sleep_ms(200);
	}
	CHECK(n[0] == '0', "expired rows still there after 20 s (%s left)", n);
	CHECK_SIGNED_IN(c);
}

/* ------------------------------------------------------------ disabled users */

/* A disabled user cannot sign in. */
static void auth_disabled_user(void)
{
	const char *email = USER_EMAIL;
	char *qemail = sql_str(email);
	struct client *c = CLIENT(NULL);
	struct resp *r;

	itest_defer(clear_login_failures, NULL);
	SQL("UPDATE users SET is_disabled = 1 WHERE email = %s", qemail);
	itest_defer(enable_user, qemail);
	r = SIGN_IN(c, email, USER_PASSWORD, NULL);
	CHECK(r->status != 303 && r->status >= 400 && r->status < 500,
	    "disabled user signing in: status %ld (Location %s), want a 4xx refusal",
	    r->status, resp_header(r, "Location") ? resp_header(r, "Location") : "none");
	CHECK(resp_set_cookie(r, "labeld_session") == NULL, "disabled user got a session cookie");
	CHECK_SIGNED_OUT(c);

	SQL("UPDATE users SET is_disabled = 0 WHERE email = %s", qemail);
	SIGN_IN_OK(c, email, USER_PASSWORD);
}

/* Disabling a user ends the sessions they already have. */
static void auth_disabled_user_session(void)
{
	const char *email = USER_EMAIL;
	char *qemail = sql_str(email);
	struct client *c = CLIENT(NULL);

	SIGN_IN_OK(c, email, USER_PASSWORD);
	CHECK_SIGNED_IN(c);
	SQL("UPDATE users SET is_disabled = 1 WHERE email = %s", qemail);
	itest_defer(enable_user, qemail);
	CHECK_SIGNED_OUT(c);
}

const struct itest_case itest_auth_cases[] = {
	ITEST(auth_login_form),
	ITEST(auth_sign_in),
	ITEST(auth_sign_in_multipart),
	ITEST(auth_wrong_password),
	ITEST(auth_unknown_email),
	ITEST(auth_cookie_flags),
	ITEST(auth_behind_tls_terminator),
	ITEST(auth_session_rotation),
	ITEST(auth_session_fixation),
	ITEST(auth_sign_out),
	ITEST(auth_idle_expiry),
	ITEST(auth_absolute_lifetime),
	ITEST(auth_csrf_logout_missing),
	ITEST(auth_csrf_logout_wrong),
	ITEST(auth_csrf_login_missing),
	ITEST(auth_csrf_login_mismatch),
	ITEST(auth_csrf_login_no_cookie),
	ITEST(auth_next_safe),
	ITEST(auth_next_open_redirect_post),
	ITEST(auth_next_open_redirect_link),
	ITEST(auth_needs_login),
	ITEST(auth_admin_forbidden),
	ITEST(auth_throttle_account),
	ITEST(auth_throttle_parallel),
	ITEST(auth_throttle_owner_elsewhere),
	ITEST(auth_throttle_brake),
	ITEST(auth_cleanup_expired),
	ITEST(auth_throttle_address),
	ITEST(auth_disabled_user),
	ITEST(auth_disabled_user_session),
};
const size_t itest_auth_ncases = sizeof(itest_auth_cases) / sizeof(itest_auth_cases[0]);
