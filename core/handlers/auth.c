/*
 * auth.c: the home redirect, sign-in and sign-out.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "auth.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "request.h"
#include "response.h"
#include "session.h"

#define HOME "/projects"

void handle_home(struct request *r)
{
	/* The dispatcher looked the session up (NEED_DB). */
	resp_redirect(r, 303, r->session ? HOME : "/login");
}

const char *login_token(struct request *r)
{
	const char *t = req_cookie(r, LOGIN_COOKIE);
	char *fresh;

	if (t != NULL && token_syntax_ok(t))
		return t;
	fresh = arena_alloc(r->arena, TOKEN_LEN + 1);
	if (fresh == NULL || token_new(fresh) < 0)
		return NULL;
	resp_cookie(r, LOGIN_COOKIE, fresh, -1);
	return fresh;
}

void login_page(struct request *r, int status, const char *email, const char *next,
    const char *message)
{
	struct json_object *v = view_new(r, "Sign in");
	const char *token = login_token(r);

	if (v == NULL || token == NULL) {
		page_error(r, 500, "Internal error", "The sign-in page could not be produced.");
		return;
	}
	json_object_object_add(v, "login_csrf", json_object_new_string(token));
	json_object_object_add(v, "email", json_object_new_string(email ? email : ""));
	json_object_object_add(v, "next", json_object_new_string(next_is_safe(next) ? next : ""));
	json_object_object_add(v, "providers", oidc_providers_view(r));
	view_bool(v, "has_providers", oidc_providers_count(r) > 0);
	r->signin_forms = 1;
	if (message != NULL)
		json_object_object_add(v, "message", json_object_new_string(message));
	page_render(r, status, "login", v);
}

void handle_login_form(struct request *r)
{
	const char *next = req_query(r, "next");

	/* Already signed in: nothing to do here. */
	if (r->session != NULL) {
		resp_redirect(r, 303, next_is_safe(next) ? next : HOME);
		return;
	}
	login_page(r, 200, NULL, next, NULL);
}

static void db_failed(struct request *r, int rc)
{
	page_db_error(r, rc, "Signing in failed");
}

void handle_login(struct request *r)
{
	const char *email_in = req_form(r, "email"), *password = req_form(r, "password");
	const char *next = req_form(r, "next");
	char *email = auth_email_normalize(r->arena, email_in);
	char retry[32];
	struct db_result *res;
	unsigned wait = 0;
	int rc, ok = 0;

	if (email == NULL || password == NULL || password[0] == '\0') {
		login_page(r, 400, email_in, next, "Enter your email address and your password.");
		return;
	}
	rc = db_query(r->db, r->arena, &res,
	    "SELECT u.id, u.password_hash, u.is_disabled OR u.removed_at IS NOT NULL, "
	    "EXISTS (SELECT 1 FROM login_known k WHERE k.user_id = u.id AND k.address = ?) "
	    "FROM users u WHERE u.email = ?", "ss", r->remote_addr, email);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	/* The try is counted before the password is checked. */
	rc = auth_throttle_begin(r->db, r->arena, &r->app->cfg, email, r->remote_addr,
	    res->nrows == 1 && db_int(res, 0, 3) == 1, &wait);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if (wait > 0) {
		snprintf(retry, sizeof(retry), "%u", wait);
		resp_header(r, "Retry-After", retry);
		log_warn("sign-in throttled for %s from %s", email, r->remote_addr);
		login_page(r, 429, email_in, next,
		    "Too many failed sign-ins. Wait a few minutes, then try again.");
		return;
	}
	if (res->nrows == 1) {
		/* Invited people have no password (password_hash ''), which
		 * never verifies; disabled and removed people are refused with
		 * the same answer as a wrong password. */
		ok = auth_verify_password(password, db_value(res, 0, 1)) && db_int(res, 0, 2) == 0;
	} else {
		/* Same work for unknown accounts: timing does not tell. */
		auth_verify_dummy(password, r->app->cfg.password_cost);
	}
	if (!ok) {
		/* People who sign in through a provider only have no password
		 * (password_hash ''): they get this answer too, so that it
		 * tells nobody who they are; the page shows the providers'
		 * buttons beside it. */
		log_info("sign-in failed for %s from %s", email, r->remote_addr);
		login_page(r, 401, email_in, next, oidc_providers_count(r) > 0 ?
		    "Wrong email or password. If you sign in through your organisation's account, "
		    "use its button instead." : "Wrong email or password.");
		return;
	}

	rc = auth_throttle_success(r->db, r->arena, email, r->remote_addr, db_int(res, 0, 0));
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	signin_session_start(r, db_int(res, 0, 0), email, "password", next);
}

void signin_session_start(struct request *r, long long uid, const char *email, const char *how,
    const char *next)
{
	const char *old = req_cookie(r, SESSION_COOKIE);
	char token[TOKEN_LEN + 1];
	int rc = DB_OK;

	/* A new session id at every sign-in; the old session (if any) ends. */
	if (old != NULL && token_syntax_ok(old)) {
		unsigned char h[32];
		token_hash(old, h);
		rc = session_destroy(r->db, h);
	}
	if (rc == DB_OK)
		rc = session_create(r->db, uid, r->remote_addr, r->user_agent,
		    r->app->cfg.session_idle_timeout, r->app->cfg.session_lifetime, token);
	if (rc == DB_OK)
		rc = db_exec(r->db, DB_IDEMPOTENT, NULL, NULL,
		    "UPDATE users SET last_login_at = NOW(6), activated_at = COALESCE(activated_at, NOW(6)) "
		    "WHERE id = ?", "i", uid);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	log_info("signed in (%s): %s from %s", how, email, r->remote_addr);
	resp_cookie(r, SESSION_COOKIE, token, -1);
	resp_cookie(r, LOGIN_COOKIE, "", 0);
	explicit_bzero(token, sizeof(token));
	resp_redirect(r, 303, next_is_safe(next) ? next : HOME);
}

void handle_logout(struct request *r)
{
	int rc = session_destroy(r->db, r->session->hash);

	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	log_info("signed out: %s", r->session->email);
	resp_cookie(r, SESSION_COOKIE, "", 0);
	resp_redirect(r, 303, "/login");
}
