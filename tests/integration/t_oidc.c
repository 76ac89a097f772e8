/*
 * t_oidc.c: signing in through OpenID Connect (issue 15) against the test
 * provider (tests/oidc/provider.mjs, npm oidc-provider on loopback,
 * $LABELD_TEST_OIDC_URL): the whole redirect dance with two cookie jars
 * (labeld's and the provider's, as one browser keeps them apart by host),
 * binding by verified email and then by (issuer, sub), every refusal
 * (state, code, ID token, person) with its status, its page and an
 * unchanged database, a flow started on one labeld process and finished on
 * the other, provider-only people and unbinding, and logs without secrets.
 *
 * The provider's test hooks spoil the next ID token (POST /_test/next),
 * make codes expire (/_test/expire-codes) and count JWKS fetches
 * (/_test/jwks-fetches).  Its accounts (login name = sub): alice, bob
 * (email not verified), carol, mallory (alice's email, another subject),
 * stranger (not a person here), dave, erin (tenant-b; the others tenant-a).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define ADMIN_EMAIL ENV("LABELD_TEST_ADMIN_EMAIL")
#define ADMIN_PASSWORD ENV("LABELD_TEST_ADMIN_PASSWORD")
#define USER_EMAIL ENV("LABELD_TEST_USER_EMAIL")
#define USER_PASSWORD ENV("LABELD_TEST_USER_PASSWORD")
#define IDP_URL ENV("LABELD_TEST_OIDC_URL")

#define CALLBACK "/signin/oidc/callback"

/* ------------------------------------------------------------ secrets seen */

/* Every state and code this run saw: oidc_logs_clean looks for each in
 * the logs.  Process-wide (not per test), so kept outside the test arena. */
static char *seen[512];
static size_t nseen;

static void remember(const char *secret)
{
	if (secret != NULL && *secret != '\0' && nseen < sizeof(seen) / sizeof(seen[0])) {
		seen[nseen] = strdup(secret);
		if (seen[nseen] != NULL)
			nseen++;
	}
}

/* The value of query parameter name in url (decoded), or NULL; owned by
 * the running test. */
static char *query_param(const char *url, const char *name)
{
	const char *q = strchr(url, '?');
	size_t nlen = strlen(name);

	while (q != NULL) {
		q++;
		if (strncmp(q, name, nlen) == 0 && q[nlen] == '=') {
			const char *v = q + nlen + 1;
			size_t vlen = strcspn(v, "&#");
			int outlen = 0;
			char *dec = curl_easy_unescape(NULL, v, (int)vlen, &outlen);
			char *out = dec != NULL ? itest_fmt("%s", dec) : NULL;
			curl_free(dec);
			return out;
		}
		q = strchr(q, '&');
	}
	return NULL;
}

/* ------------------------------------------------------------ people */

static long user_id(const char *email)
{
	return strtol(SQL_QUERY("SELECT COALESCE(MAX(id), 0) FROM users WHERE email = %s",
	    sql_str(email)), NULL, 10);
}

static long count_of(const char *query)
{
	return strtol(SQL_QUERY("%s", query), NULL, 10);
}

/* Identities bound to person uid. */
static long identities(long uid)
{
	return count_of(itest_fmt("SELECT COUNT(*) FROM user_identities WHERE user_id = %ld", uid));
}

static long sessions(long uid)
{
	return count_of(itest_fmt("SELECT COUNT(*) FROM sessions WHERE user_id = %ld", uid));
}

/* A client signed in as the test admin; *csrf gets its session's token. */
static struct client *admin_client(char **csrf)
{
	struct client *c = CLIENT(NULL);
	struct resp *r;

	SIGN_IN_OK(c, ADMIN_EMAIL, ADMIN_PASSWORD);
	r = GET(c, "/projects");
	CHECK_STATUS(r, 200);
	*csrf = html_logout_csrf(r);
	CHECK(*csrf != NULL, "no CSRF token on /projects");
	return c;
}

/* The person with this email made anew: earlier rows (and so identities
 * and sessions) deleted, then invited by the admin through the People
 * page, as an admin does it (not activated, no password, no identity).
 * Returns their id. */
static long person_invited(const char *email, const char *name)
{
	char *csrf;
	struct client *admin;
	struct resp *r;
	long uid;

	/* the persona's earlier rows: by email, and whoever its subject (the
	 * address's local part) is bound to, under whatever email */
	SQL("DELETE FROM users WHERE email = %s OR id IN (SELECT user_id FROM user_identities "
	    "WHERE subject = %s)", sql_str(email), sql_str(itest_fmt("%.*s",
	    (int)strcspn(email, "@"), email)));
	admin = admin_client(&csrf);
	r = POST_FORM(admin, "/admin/people", "csrf", csrf, "email", email, "name", name,
	    "role", "labeler");
	CHECK_STATUS(r, 200);
	uid = user_id(email);
	CHECK(uid > 0, "%s was not added", email);
	CHECK_STREQ(SQL_QUERY("SELECT activated_at IS NULL FROM users WHERE id = %ld", uid), "1");
	return uid;
}

/* The person with this email made anew with the test user's password,
 * activated (made with SQL). */
static long person_with_password(const char *email, const char *name)
{
	SQL("DELETE FROM users WHERE email = %s OR id IN (SELECT user_id FROM user_identities "
	    "WHERE subject = %s)", sql_str(email), sql_str(itest_fmt("%.*s",
	    (int)strcspn(email, "@"), email)));
	SQL("INSERT INTO users (email, display_name, password_hash, activated_at) "
	    "SELECT %s, %s, password_hash, NOW(6) FROM users WHERE email = %s",
	    sql_str(email), sql_str(name), sql_str(USER_EMAIL));
	return user_id(email);
}

/* Clean-up: forget failed password sign-ins (a refused one counts). */
static void clear_login_failures(void *arg)
{
	(void)arg;
	if (itest_sql_try("DELETE FROM login_failures") != 0)
		itest_cleanup_error("DELETE FROM login_failures failed");
}

/* ------------------------------------------------------------ the provider */

/* A client of the provider itself: its own cookie jar, no labeld headers. */
static struct client *idp_client(void)
{
	return CLIENT(IDP_URL);
}

/* url as a path of c's base (it must be on that base, or be a path). */
static const char *path_of(struct client *c, const char *url)
{
	size_t blen = strlen(c->base);

	if (url[0] == '/')
		return url;
	CHECK(strncmp(url, c->base, blen) == 0 && (url[blen] == '/' || url[blen] == '\0'),
	    "%s is not on %s", url, c->base);
	return url[blen] != '\0' ? url + blen : "/";
}

static struct resp *idp_get(struct client *idp, const char *url)
{
	return REQUEST(idp, "GET", path_of(idp, url), NULL, NULL, 0, ITEST_NO_HDR_CHECK);
}

static struct resp *idp_post(struct client *idp, const char *url, const char *form)
{
	return REQUEST(idp, "POST", path_of(idp, url), "application/x-www-form-urlencoded",
	    form, strlen(form), ITEST_NO_HDR_CHECK);
}

/* POST a JSON body to a test hook of the provider. */
static void idp_hook(const char *path, const char *json)
{
	struct resp *r = REQUEST(idp_client(), "POST", path, "application/json", json,
	    strlen(json), ITEST_NO_HDR_CHECK);

	CHECK_STATUS(r, 200);
}

/* Clean-ups: the provider's hooks back to normal. */
static void idp_mode_clear(void *arg)
{
	(void)arg;
	if (itest_shell(itest_fmt("curl -sf -o /dev/null -X POST -d '{\"mode\":null}' %s/_test/next",
	    getenv("LABELD_TEST_OIDC_URL"))) != 0)
		itest_cleanup_error("could not clear the provider's token mode");
}

static void idp_codes_valid(void *arg)
{
	(void)arg;
	if (itest_shell(itest_fmt("curl -sf -o /dev/null -X POST -d '{\"on\":false}' %s/_test/expire-codes",
	    getenv("LABELD_TEST_OIDC_URL"))) != 0)
		itest_cleanup_error("could not turn the provider's code expiry off");
}

/* The provider spoils its next ID token as mode says (until the test ends). */
static void idp_next(const char *mode)
{
	itest_defer(idp_mode_clear, NULL);
	idp_hook("/_test/next", itest_fmt("{\"mode\":\"%s\"}", mode));
}

static long jwks_fetches(void)
{
	struct resp *r = REQUEST(idp_client(), "GET", "/_test/jwks-fetches", NULL, NULL, 0,
	    ITEST_NO_HDR_CHECK);
	const char *n;

	CHECK_STATUS(r, 200);
	n = strstr(r->body, "\"fetches\":");
	CHECK(n != NULL, "jwks-fetches answered %s", r->body);
	return strtol(n + strlen("\"fetches\":"), NULL, 10);
}

/* ------------------------------------------------------------ the dance */

/* GET /login on c and POST its "Sign in with ..." form of provider: the
 * 303 to the provider's authorization endpoint.  Checks the request it
 * makes (PKCE S256, state, nonce, the redirect URI of c's host) and the
 * labeld_oidc cookie.  Returns the authorization URL. */
static const char *oidc_begin(struct client *c, const char *provider)
{
	const char *action = itest_fmt("/signin/oidc/%s", provider);
	struct resp *r = GET(c, "/login");
	const char *loc, *sc;
	char *csrf;

	CHECK_STATUS(r, 200);
	csrf = html_str(r, "//form[@action='%s']//input[@name='csrf']/@value", action);
	CHECK(csrf != NULL, "GET /login: no form posting to %s", action);
	r = POST_FORM(c, action, "csrf", csrf,
	    "next", html_str(r, "//form[@action='%s']//input[@name='next']/@value", action));
	CHECK_STATUS(r, 303);
	loc = resp_header(r, "Location");
	CHECK(loc != NULL, "POST %s: no Location", action);
	sc = resp_set_cookie(r, "labeld_oidc");
	CHECK(sc != NULL, "POST %s: no labeld_oidc cookie", action);
	CHECK(set_cookie_has_attr(sc, "HttpOnly") && set_cookie_has_attr(sc, "SameSite=Lax") &&
	    set_cookie_has_attr(sc, "Path=/signin/oidc"), "labeld_oidc cookie: %s", sc);
	return loc;
}

/* From the authorization URL on, what a person does at the provider: its
 * sign-in form (login = persona, any password), then its consent form, in
 * the provider's own cookie jar, until the provider sends the browser back
 * to labeld.  Returns that URL (labeld's callback with code and state or
 * error), remembering its secrets. */
static const char *idp_sign_in(const char *authorize_url, const char *persona)
{
	struct client *idp = idp_client();
	const char *url = authorize_url;

	CHECK(strncmp(url, idp->base, strlen(idp->base)) == 0 &&
	    url[strlen(idp->base)] == '/', "labeld sent the browser to %s, not to the provider %s",
	    url, idp->base);
	for (int step = 0; step < 12; step++) {
		struct resp *r = idp_get(idp, url);
		const char *loc;

		if (r->status == 200) {
			char *action = html_str(r, "//form[.//input[@name='prompt']]/@action");
			char *prompt = html_str(r, "//form//input[@name='prompt']/@value");
			CHECK(action != NULL && prompt != NULL, "provider page %s without its form: %s",
			    url, resp_snip(r));
			if (strcmp(prompt, "login") == 0)
				r = idp_post(idp, action, itest_fmt("prompt=login&login=%s&password=any",
				    url_enc(persona)));
			else
				r = idp_post(idp, action, itest_fmt("prompt=%s", url_enc(prompt)));
		}
		CHECK(r->status == 302 || r->status == 303, "provider %s %s: status %ld: %s",
		    r->method, r->url, r->status, resp_snip(r));
		loc = resp_header(r, "Location");
		CHECK(loc != NULL, "provider %s: redirect without Location", r->url);
		if (strstr(loc, CALLBACK "?") != NULL) {
			remember(query_param(loc, "code"));
			remember(query_param(loc, "state"));
			return loc;
		}
		url = loc;
	}
	FAIL("the provider did not send the browser back to labeld within 12 steps");
}

/* The whole dance up to the callback: c (a labeld client: its base is the
 * labeld the browser uses, the one whose host is in the redirect URI)
 * signs in with provider as persona.  Returns the callback as a path of
 * c's base, not yet requested. */
static const char *oidc_dance(struct client *c, const char *provider, const char *persona)
{
	const char *cb = idp_sign_in(oidc_begin(c, provider), persona);

	return path_of(c, cb);
}

/* Finish: the callback on c (status checked by the caller).  Its answer
 * carries the security headers, but Referrer-Policy: no-referrer (its
 * address holds the code and state: the next page must not send it). */
static struct resp *oidc_finish(struct client *c, const char *cb_path)
{
	struct resp *r = REQUEST(c, "GET", cb_path, NULL, NULL, 0, ITEST_NO_HDR_CHECK);
	const char *csp = resp_header(r, "Content-Security-Policy");

	CHECK(csp != NULL && strstr(csp, "default-src 'self'") != NULL &&
	    strstr(csp, "frame-ancestors 'none'") != NULL, "callback: Content-Security-Policy %s",
	    csp != NULL ? csp : "missing");
	CHECK_STREQ(resp_header(r, "X-Content-Type-Options"), "nosniff");
	CHECK_STREQ(resp_header(r, "Referrer-Policy"), "no-referrer");
	return r;
}

/* A callback that signed c in: 303 and a session cookie; c's /account is
 * the person's. */
static void check_signed_in_as(struct client *c, struct resp *r, const char *email)
{
	struct resp *a;

	CHECK_STATUS(r, 303);
	CHECK(resp_set_cookie(r, "labeld_session") != NULL, "callback set no session cookie");
	a = GET(c, "/account");
	CHECK_STATUS(a, 200);
	CHECK_BODY_HAS(a, email);
}

/* A refused callback: status, the page says what (needle, may be NULL),
 * offers the way back to sign in, shows no code or state, and no session
 * came of it. */
static void check_refused(struct client *c, struct resp *r, const char *cb_path, long status,
    const char *needle)
{
	const char *code = query_param(cb_path, "code"), *state = query_param(cb_path, "state");

	CHECK_STATUS(r, status);
	if (needle != NULL)
		CHECK_BODY_HAS_NOCASE(r, needle);
	CHECK(html_count(r, "//a[starts-with(@href, '/login')]") > 0,
	    "the error page has no link to sign in again: %s", resp_snip(r));
	if (code != NULL)
		CHECK_BODY_LACKS(r, code);
	if (state != NULL)
		CHECK_BODY_LACKS(r, state);
	CHECK_BODY_LACKS(r, "eyJ");
	CHECK(resp_set_cookie(r, "labeld_session") == NULL ||
	    strstr(resp_set_cookie(r, "labeld_session"), "labeld_session=;") != NULL,
	    "a refused callback set a session: %s", resp_set_cookie(r, "labeld_session"));
	CHECK_REDIRECT(GET(c, "/projects"), 303, "/login?next=%2Fprojects");
}

/* The issuer labeld is configured with (the provider's URL). */
static const char *issuer(void)
{
	return IDP_URL;
}

/* Alice invited and bound (her first sign-in through "test" done);
 * returns her id. */
static long alice_bound(void)
{
	long uid = person_invited("alice@example.com", "Alice");
	struct client *c = CLIENT(NULL);

	check_signed_in_as(c, oidc_finish(c, oidc_dance(c, "test", "alice")), "alice@example.com");
	CHECK(identities(uid) == 1, "alice has %ld identities after her first sign-in", identities(uid));
	return uid;
}

/* ------------------------------------------------------------ tests */

/* The sign-in page has one form per provider; starting a flow sends the
 * browser to the provider with PKCE S256, state and nonce. */
static void oidc_login_buttons(void)
{
	struct client *c = CLIENT(NULL);
	struct resp *r = GET(c, "/login");
	const char *names[] = { "test", "tenant", "down" }, *labels[] = { "Test ID", "Tenant ID", "Down ID" };
	const char *loc;

	CHECK_STATUS(r, 200);
	/* A browser checks the redirect after a form against the page's
	 * form-action: the providers' origins (the test provider's, and the
	 * down one's) are allowed on the sign-in page, and only there. */
	const char *csp = resp_header(r, "Content-Security-Policy");
	CHECK(csp != NULL && strstr(csp, itest_fmt("form-action 'self' %s", issuer())) != NULL &&
	    strstr(csp, ENV("LABELD_TEST_OIDC_DOWN_URL")) != NULL,
	    "the sign-in page's policy does not allow the providers: %s", csp ? csp : "(none)");
	csp = resp_header(GET(c, "/projects"), "Content-Security-Policy");
	CHECK(csp != NULL && strstr(csp, issuer()) == NULL, "another page allows the providers: %s", csp);
	for (size_t i = 0; i < 3; i++) {
		CHECK(html_count(r, "//form[@method='post' and @action='/signin/oidc/%s']", names[i]) == 1,
		    "no form for provider %s on /login", names[i]);
		CHECK(html_count(r, "//form[@action='/signin/oidc/%s']//button[normalize-space(.)="
		    "'Sign in with %s']", names[i], labels[i]) == 1,
		    "no button \"Sign in with %s\" on /login", labels[i]);
	}
	loc = oidc_begin(c, "test");
	CHECK(strncmp(loc, itest_fmt("%s/", issuer()), strlen(issuer()) + 1) == 0,
	    "authorization URL %s is not the provider's", loc);
	CHECK_STREQ(query_param(loc, "response_type"), "code");
	CHECK_STREQ(query_param(loc, "client_id"), "labeld-test");
	CHECK_STREQ(query_param(loc, "redirect_uri"), itest_fmt("%s" CALLBACK, c->base));
	CHECK_STREQ(query_param(loc, "code_challenge_method"), "S256");
	CHECK(is_base64url(query_param(loc, "code_challenge"), 43), "code_challenge %s",
	    query_param(loc, "code_challenge"));
	CHECK(query_param(loc, "state") != NULL && strlen(query_param(loc, "state")) >= 22, "state");
	CHECK(query_param(loc, "nonce") != NULL && strlen(query_param(loc, "nonce")) >= 22, "nonce");
	CHECK(strstr(query_param(loc, "scope"), "openid") != NULL, "scope %s", query_param(loc, "scope"));
	/* without the form's CSRF token, or for a provider not configured */
	CHECK_STATUS(POST_FORM(CLIENT(NULL), "/signin/oidc/test", "next", "/projects"), 403);
	r = GET(c, "/login");
	CHECK_STATUS(POST_FORM(c, "/signin/oidc/nosuch", "csrf",
	    html_str(r, "//form[@action='/signin/oidc/test']//input[@name='csrf']/@value")), 404);
}

/* An invited person's first sign-in binds them by their verified email
 * and activates them; the session is theirs. */
static void oidc_first_signin_binds(void)
{
	long uid = person_invited("alice@example.com", "Alice");
	struct client *c = CLIENT(NULL);
	struct resp *r;

	r = oidc_finish(c, oidc_dance(c, "test", "alice"));
	check_signed_in_as(c, r, "alice@example.com");
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT_WS('|', provider, issuer, subject, tenant, email) "
	    "FROM user_identities WHERE user_id = %ld", uid),
	    itest_fmt("test|%s|alice|tenant-a|alice@example.com", issuer()));
	CHECK_STREQ(SQL_QUERY("SELECT activated_at IS NOT NULL FROM users WHERE id = %ld", uid), "1");
	CHECK(sessions(uid) == 1, "%ld sessions", sessions(uid));
}

/* Once bound, a person is found by (issuer, sub) alone: a new email in
 * labeld does not matter. */
static void oidc_second_signin_by_subject(void)
{
	long uid = alice_bound();
	const char *renamed = itest_fmt("%s@example.com", itest_uniq("alice-renamed"));
	struct client *c = CLIENT(NULL);

	SQL("UPDATE users SET email = %s WHERE id = %ld", sql_str(renamed), uid);
	check_signed_in_as(c, oidc_finish(c, oidc_dance(c, "test", "alice")), renamed);
	CHECK(identities(uid) == 1, "alice has %ld identities", identities(uid));
	CHECK_STREQ(SQL_QUERY("SELECT last_used_at IS NOT NULL FROM user_identities WHERE user_id = %ld",
	    uid), "1");
}

/* The same callback twice: the state is single use (400 the second time,
 * in the same browser and in one that holds the same cookie). */
static void oidc_replayed_state(void)
{
	long uid = alice_bound();
	struct client *c = CLIENT(NULL), *again = CLIENT(NULL);
	const char *cb = oidc_dance(c, "test", "alice");
	char *browser = client_cookie(c, "labeld_oidc");
	long before;

	CHECK(browser != NULL, "no labeld_oidc cookie in the jar");
	check_signed_in_as(c, oidc_finish(c, cb), "alice@example.com");
	before = sessions(uid);
	CLIENT_SET_COOKIE(again, "labeld_oidc", browser);
	check_refused(again, oidc_finish(again, cb), cb, 400, NULL);
	CHECK_STATUS(oidc_finish(c, cb), 400);
	CHECK(sessions(uid) == before, "a replayed state made a session");
}

/* A callback in another browser (its own labeld_oidc cookie, or none):
 * 400, nothing bound. */
static void oidc_other_browser(void)
{
	long uid = person_invited("dave@example.com", "Dave");
	struct client *victim = CLIENT(NULL), *attacker = CLIENT(NULL), *bare = CLIENT(NULL);
	const char *cb = oidc_dance(victim, "test", "dave");

	oidc_begin(attacker, "test");
	check_refused(attacker, oidc_finish(attacker, cb), cb, 400, NULL);
	check_refused(bare, oidc_finish(bare, cb), cb, 400, NULL);
	CHECK(identities(uid) == 0, "another browser's callback bound dave");
}

/* A first sign-in of persona (invited afresh as persona@example.com)
 * through provider, with the next ID token spoiled as mode says (NULL:
 * as issued), that labeld refuses with status and a page saying needle
 * (NULL: any): nothing bound, not activated, no session.  Returns the
 * person's id. */
static long first_signin_refused(const char *persona, const char *provider, const char *mode,
    long status, const char *needle)
{
	const char *email = itest_fmt("%s@example.com", persona);
	long uid = person_invited(email, persona);
	struct client *c = CLIENT(NULL);
	const char *cb = oidc_dance(c, provider, persona);

	if (mode != NULL)
		idp_next(mode);
	check_refused(c, oidc_finish(c, cb), cb, status, needle);
	CHECK(identities(uid) == 0, "a refused sign-in (%s) bound %s", mode ? mode : provider, persona);
	CHECK_STREQ(SQL_QUERY("SELECT activated_at IS NULL FROM users WHERE id = %ld", uid), "1");
	CHECK(sessions(uid) == 0, "a refused sign-in (%s) made a session", mode ? mode : provider);
	return uid;
}

/* An ID token spoiled as mode says is refused with 401. */
static void token_refused(const char *mode)
{
	first_signin_refused("dave", "test", mode, 401, NULL);
}

static void oidc_wrong_nonce(void) { token_refused("wrong-nonce"); }
static void oidc_other_key(void) { token_refused("other-key"); }
static void oidc_alg_none(void) { token_refused("alg-none"); }
static void oidc_hs256(void) { token_refused("hs256"); }
static void oidc_expired_token(void) { token_refused("expired"); }
static void oidc_wrong_aud(void) { token_refused("wrong-aud"); }
static void oidc_wrong_iss(void) { token_refused("wrong-iss"); }

/* Seconds between two reads of one provider's key set by one labeld
 * process (core/oidc.c OIDC_JWKS_MIN_INTERVAL), plus one. */
#define JWKS_INTERVAL_MS 11000L

/* A kid not in the key set: labeld reads the set once more; a key
 * published meanwhile is found (sign-in works), one never published is
 * refused (401), and another made-up kid right after does not make it read
 * the set again (at most one read per interval).  All on labeld-a, whose
 * cache a first sign-in filled. */
static void oidc_unknown_kid(void)
{
	long uid = person_invited("dave@example.com", "Dave");
	struct client *c = CLIENT(ENV("LABELD_TEST_URL_A"));
	const char *cb;
	long before;

	check_signed_in_as(c, oidc_finish(c, oidc_dance(c, "test", "dave")), "dave@example.com");
	itest_sleep_ms(JWKS_INTERVAL_MS);
	c = CLIENT(ENV("LABELD_TEST_URL_A"));
	cb = oidc_dance(c, "test", "dave");
	before = jwks_fetches();
	idp_next("unknown-kid");
	check_signed_in_as(c, oidc_finish(c, cb), "dave@example.com");
	CHECK(jwks_fetches() == before + 1, "key set read %ld times for one unknown kid, want 1",
	    jwks_fetches() - before);

	itest_sleep_ms(JWKS_INTERVAL_MS);
	c = CLIENT(ENV("LABELD_TEST_URL_A"));
	cb = oidc_dance(c, "test", "dave");
	before = jwks_fetches();
	idp_next("unknown-kid-absent");
	check_refused(c, oidc_finish(c, cb), cb, 401, "key");
	CHECK(jwks_fetches() == before + 1, "key set read %ld times for an absent kid, want 1",
	    jwks_fetches() - before);

	c = CLIENT(ENV("LABELD_TEST_URL_A"));
	cb = oidc_dance(c, "test", "dave");
	idp_next("unknown-kid-absent");
	check_refused(c, oidc_finish(c, cb), cb, 401, "key");
	CHECK(jwks_fetches() == before + 1, "key set read again %ld times within the interval",
	    jwks_fetches() - before - 1);
	CHECK(identities(uid) == 1, "dave has %ld identities", identities(uid));
}

/* An ID token signed ES256 with the published EC key is accepted. */
static void oidc_es256(void)
{
	long uid = person_invited("dave@example.com", "Dave");
	struct client *c = CLIENT(NULL);
	const char *cb = oidc_dance(c, "test", "dave");

	idp_next("es256");
	check_signed_in_as(c, oidc_finish(c, cb), "dave@example.com");
	CHECK(identities(uid) == 1, "dave has %ld identities", identities(uid));
}

/* The token endpoint refuses the code (expired): 400. */
static void oidc_expired_code(void)
{
	long uid = person_invited("dave@example.com", "Dave");
	struct client *c = CLIENT(NULL);
	const char *cb = oidc_dance(c, "test", "dave");

	itest_defer(idp_codes_valid, NULL);
	idp_hook("/_test/expire-codes", "{\"on\":true}");
	check_refused(c, oidc_finish(c, cb), cb, 400, NULL);
	CHECK(identities(uid) == 0, "an expired code bound dave");
}

/* The person cancels at the provider (its "abort" link): the callback
 * gets error=access_denied; 400 "cancelled". */
static void oidc_cancelled(void)
{
	long uid = person_invited("dave@example.com", "Dave");
	struct client *c = CLIENT(NULL), *idp = idp_client();
	const char *url = oidc_begin(c, "test"), *cb = NULL;
	struct resp *r;

	for (int step = 0; step < 4 && cb == NULL; step++) {
		r = idp_get(idp, url);
		if (r->status == 200) {
			/* the provider's sign-in page: cancel instead */
			r = idp_get(idp, itest_fmt("%s/abort", path_of(idp, r->url)));
		}
		CHECK(r->status == 302 || r->status == 303, "provider %s: %ld", r->url, r->status);
		url = resp_header(r, "Location");
		CHECK(url != NULL, "no Location from the provider");
		if (strstr(url, CALLBACK "?") != NULL)
			cb = path_of(c, url);
	}
	CHECK(cb != NULL, "the provider did not send the browser back");
	CHECK_STREQ(query_param(cb, "error"), "access_denied");
	remember(query_param(cb, "state"));
	check_refused(c, oidc_finish(c, cb), cb, 400, "cancelled");
	CHECK(identities(uid) == 0, "a cancelled sign-in bound dave");
}

/* A provider that does not answer: 502 with a way back to sign in. */
static void oidc_provider_down(void)
{
	struct client *c = CLIENT(NULL);
	struct resp *r = GET(c, "/login");
	char *csrf = html_str(r, "//form[@action='/signin/oidc/down']//input[@name='csrf']/@value");

	CHECK(csrf != NULL, "no form for the provider \"down\"");
	r = POST_FORM(c, "/signin/oidc/down", "csrf", csrf);
	CHECK_STATUS(r, 502);
	CHECK_BODY_HAS(r, "Down ID");
	CHECK_BODY_HAS_NOCASE(r, "cannot be reached");
	/* the sign-in page itself, or a link to it */
	CHECK(html_count(r, "//a[starts-with(@href, '/login')] | //form[@action='/login']") > 0,
	    "no way back to sign in: %s", resp_snip(r));
	CHECK(resp_set_cookie(r, "labeld_oidc") == NULL, "a flow cookie for a provider that is down");
	CHECK(resp_set_cookie(r, "labeld_session") == NULL, "a session cookie");
}

/* An email the provider does not vouch for: refused through "test"
 * (403, nothing bound); through "tenant" (tenant-a is allowed) the
 * tenant's email binds. */
static void oidc_unverified_email(void)
{
	long uid = first_signin_refused("bob", "test", NULL, 403, "verified");
	struct client *c = CLIENT(NULL);

	check_signed_in_as(c, oidc_finish(c, oidc_dance(c, "tenant", "bob")), "bob@example.com");
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT_WS('|', provider, subject, tenant) FROM user_identities "
	    "WHERE user_id = %ld", uid), "tenant|bob|tenant-a");
}

/* A token of a tenant not on the provider's list: 401. */
static void oidc_wrong_tenant(void)
{
	first_signin_refused("erin", "tenant", NULL, 401, NULL);
}

/* Once alice is bound, a token with her email but another subject is
 * refused (403 "bound to another sign-in") and her binding stays. */
static void oidc_same_email_other_subject(void)
{
	long uid = alice_bound();
	const char *was = SQL_QUERY("SELECT CONCAT_WS('|', id, issuer, subject) FROM user_identities "
	    "WHERE user_id = %ld", uid);
	struct client *c = CLIENT(NULL);
	const char *cb = oidc_dance(c, "test", "mallory");
	long before = sessions(uid);

	check_refused(c, oidc_finish(c, cb), cb, 403, "bound to another sign-in");
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT_WS('|', id, issuer, subject) FROM user_identities "
	    "WHERE user_id = %ld", uid), was);
	CHECK(count_of("SELECT COUNT(*) FROM user_identities WHERE subject = 'mallory'") == 0,
	    "mallory was bound");
	CHECK(sessions(uid) == before, "mallory got a session of alice's");
}

/* An email that is no person: 403 "ask an admin"; nobody is made. */
static void oidc_unknown_person(void)
{
	struct client *c = CLIENT(NULL);
	const char *cb;

	SQL("DELETE FROM users WHERE email = 'stranger@example.com'");
	cb = oidc_dance(c, "test", "stranger");
	check_refused(c, oidc_finish(c, cb), cb, 403, "ask an admin");
	CHECK(user_id("stranger@example.com") == 0, "a person was made for a stranger");
	CHECK(count_of("SELECT COUNT(*) FROM user_identities WHERE subject = 'stranger'") == 0,
	    "the stranger was bound");
}

/* A disabled person: 403, nothing bound. */
static void oidc_disabled_person(void)
{
	long uid = person_invited("carol@example.com", "Carol");
	struct client *c = CLIENT(NULL);
	const char *cb;

	SQL("UPDATE users SET is_disabled = 1 WHERE id = %ld", uid);
	cb = oidc_dance(c, "test", "carol");
	check_refused(c, oidc_finish(c, cb), cb, 403, NULL);
	CHECK(identities(uid) == 0, "a disabled person was bound");
	CHECK(sessions(uid) == 0, "a disabled person got a session");
}

/* A flow started on labeld-a (its host is in the redirect URI) finished
 * on labeld-b, with the same browser cookie: the flow is in MariaDB. */
static void oidc_other_process(void)
{
	long uid = person_invited("dave@example.com", "Dave");
	struct client *a = CLIENT(ENV("LABELD_TEST_URL_A")), *b = CLIENT(ENV("LABELD_TEST_URL_B"));
	const char *cb = oidc_dance(a, "test", "dave");

	CHECK_STREQ(SQL_QUERY("SELECT redirect_uri FROM oidc_flows ORDER BY created_at DESC LIMIT 1"),
	    itest_fmt("%s" CALLBACK, a->base));
	CLIENT_SET_COOKIE(b, "labeld_oidc", client_cookie(a, "labeld_oidc"));
	check_signed_in_as(b, oidc_finish(b, cb), "dave@example.com");
	CHECK(identities(uid) == 1, "dave has %ld identities", identities(uid));
}

/* Provider-only: the password goes and the person's sessions end;
 * signing in with the password is refused, through the provider it works.
 * Turned off, the flag goes (the password stays gone: an invitation sets
 * a new one). */
static void oidc_provider_only(void)
{
	long uid = person_with_password("dave@example.com", "Dave");
	struct client *admin, *c, *before = CLIENT(NULL);
	struct resp *r;
	char *csrf;

	itest_defer(clear_login_failures, NULL);
	SIGN_IN_OK(before, "dave@example.com", USER_PASSWORD);
	admin = admin_client(&csrf);
	r = POST_FORM(admin, itest_fmt("/admin/people/%ld/provider-only", uid), "csrf", csrf, "on", "1");
	CHECK_STATUS(r, 303);
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT(provider_only, password_hash = '') FROM users WHERE id = %ld",
	    uid), "11");
	CHECK_REDIRECT(GET(before, "/projects"), 303, "/login?next=%2Fprojects");
	c = CLIENT(NULL);
	r = SIGN_IN(c, "dave@example.com", USER_PASSWORD, NULL);
	CHECK_STATUS(r, 401);
	CHECK(resp_set_cookie(r, "labeld_session") == NULL, "a provider-only person got a session");
	CHECK_BODY_HAS(r, "Sign in with Test ID");
	check_signed_in_as(c, oidc_finish(c, oidc_dance(c, "test", "dave")), "dave@example.com");
	r = POST_FORM(admin, itest_fmt("/admin/people/%ld/provider-only", uid), "csrf", csrf, "on", "0");
	CHECK_STATUS(r, 303);
	CHECK_STREQ(SQL_QUERY("SELECT provider_only FROM users WHERE id = %ld", uid), "0");
	CHECK_STATUS(SIGN_IN(CLIENT(NULL), "dave@example.com", USER_PASSWORD, NULL), 401);
}

/* Unbinding lets another subject with the person's verified email bind. */
static void oidc_unbind(void)
{
	long uid = alice_bound(), iid;
	struct client *admin, *c;
	struct resp *r;
	const char *cb;
	char *csrf;

	c = CLIENT(NULL);
	cb = oidc_dance(c, "test", "mallory");
	CHECK_STATUS(oidc_finish(c, cb), 403);
	iid = count_of(itest_fmt("SELECT id FROM user_identities WHERE user_id = %ld", uid));
	admin = admin_client(&csrf);
	r = GET(admin, itest_fmt("/admin/people/%ld", uid));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//form[@action='/admin/people/%ld/identities/%ld/unbind']", uid, iid) == 1,
	    "the person's page has no Unbind form for identity %ld", iid);
	r = POST_FORM(admin, itest_fmt("/admin/people/%ld/identities/%ld/unbind", uid, iid), "csrf", csrf);
	CHECK(r->status == 303, "unbind: %ld %s", r->status, resp_snip(r));
	CHECK(identities(uid) == 0, "still %ld identities after unbind", identities(uid));
	c = CLIENT(NULL);
	check_signed_in_as(c, oidc_finish(c, oidc_dance(c, "test", "mallory")), "alice@example.com");
	CHECK_STREQ(SQL_QUERY("SELECT subject FROM user_identities WHERE user_id = %ld", uid), "mallory");
	/* without the admin's CSRF token nothing happens */
	iid = count_of(itest_fmt("SELECT id FROM user_identities WHERE user_id = %ld", uid));
	CHECK_STATUS(POST_FORM(admin, itest_fmt("/admin/people/%ld/identities/%ld/unbind", uid, iid),
	    "csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 403);
	CHECK(identities(uid) == 1, "unbound without a CSRF token");
}

/* Whether file holds s anywhere. */
static bool file_has(const char *file, const char *s)
{
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	CHECK(f != NULL, "cannot read %s", file);
	while (!found && getline(&line, &cap, f) >= 0)
		found = strstr(line, s) != NULL;
	free(line);
	fclose(f);
	return found;
}

/* No code or state this run saw (and no JWT) is in labeld's logs or in
 * nginx's access log.  Runs one refused and one good sign-in itself, so it
 * also means something when run alone. */
static void oidc_logs_clean(void)
{
	const char *access = itest_fmt("%s/nginx-access.log", ENV("LABELD_TEST_LOG_DIR"));
	struct client *c = CLIENT(NULL);
	const char *cb;

	person_invited("dave@example.com", "Dave");
	cb = oidc_dance(c, "test", "dave");
	idp_next("wrong-nonce");
	CHECK_STATUS(oidc_finish(c, cb), 401);
	c = CLIENT(NULL);
	check_signed_in_as(c, oidc_finish(c, oidc_dance(c, "test", "dave")), "dave@example.com");
	CHECK(itest_log_has(CALLBACK, NULL), "labeld's logs show no callback at all");
	itest_sleep_ms(1500);        /* nginx flushes its access log every second */
	CHECK(nseen >= 4, "only %zu secrets seen", nseen);
	for (size_t i = 0; i < nseen; i++) {
		CHECK(!itest_log_has(seen[i], NULL), "labeld's log holds a code or state (%.6s...)", seen[i]);
		CHECK(!file_has(access, seen[i]), "nginx's access log holds a code or state (%.6s...)",
		    seen[i]);
	}
	CHECK(!itest_log_has("eyJhbGci", NULL) && !itest_log_has("eyJ0eXAi", NULL),
	    "labeld's log holds a JWT");
}

const struct itest_case itest_oidc_cases[] = {
	ITEST(oidc_login_buttons),
	ITEST(oidc_first_signin_binds),
	ITEST(oidc_second_signin_by_subject),
	ITEST(oidc_replayed_state),
	ITEST(oidc_other_browser),
	ITEST(oidc_wrong_nonce),
	ITEST(oidc_other_key),
	ITEST(oidc_alg_none),
	ITEST(oidc_hs256),
	ITEST(oidc_expired_token),
	ITEST(oidc_wrong_aud),
	ITEST(oidc_wrong_iss),
	ITEST(oidc_unknown_kid),
	ITEST(oidc_es256),
	ITEST(oidc_expired_code),
	ITEST(oidc_cancelled),
	ITEST(oidc_provider_down),
	ITEST(oidc_unverified_email),
	ITEST(oidc_wrong_tenant),
	ITEST(oidc_same_email_other_subject),
	ITEST(oidc_unknown_person),
	ITEST(oidc_disabled_person),
	ITEST(oidc_other_process),
	ITEST(oidc_provider_only),
	ITEST(oidc_unbind),
	ITEST(oidc_logs_clean),
};
const size_t itest_oidc_ncases = sizeof(itest_oidc_cases) / sizeof(itest_oidc_cases[0]);
