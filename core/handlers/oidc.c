/*
 * oidc.c: signing in through an OpenID Connect provider (docs/signin.md).
 * The button's POST starts a flow and sends the browser to the provider;
 * the provider sends it back to the callback, which finishes the flow and
 * signs the person in as a password does (signin_session_start).  The
 * protocol itself (PKCE, the flow's state in MariaDB, the ID token's
 * checks, binding a person) is core/oidc.c; these pages carry the browser
 * through it and say what went wrong when something did.
 *
 * Secrets: the callback's query holds the provider's code and labeld's
 * state.  Its route is PATH_SECRET (labeld's log shows the pattern, and the
 * answer says Referrer-Policy: no-referrer so the next page's Referer does
 * not repeat the query), nginx keeps it out of its access log
 * (nginx/labeld.conf.in), and nothing here logs or shows a token: the
 * log gets core/oidc.c's detail sentence, which never holds one.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "config.h"
#include "handlers.h"
#include "log.h"
#include "oidc.h"
#include "request.h"
#include "response.h"
#include "session.h"

/* The browser's half of a flow: a random token whose SHA-256 the flow
 * keeps, sent only to the sign-in addresses below OIDC_COOKIE_PATH. */
#define OIDC_COOKIE "labeld_oidc"
#define OIDC_COOKIE_PATH "/signin/oidc"
#define OIDC_CALLBACK "/signin/oidc/callback"

struct json_object *oidc_providers_view(struct request *r)
{
	const struct config *cfg = &r->app->cfg;
	struct json_object *list = json_object_new_array();

	for (size_t i = 0; list != NULL && i < cfg->noidc; i++) {
		const struct oidc_provider *p = &cfg->oidc[i];
		struct json_object *o = json_object_new_object();
		view_str(o, "name", p->name);
		view_str(o, "display_name", p->display_name);
		json_object_array_add(list, o);
	}
	return list;
}

size_t oidc_providers_count(struct request *r)
{
	return r->app->cfg.noidc;
}

/* The name people know provider `name` by (its display_name), or the name
 * itself when it is not (or no longer) configured; "the provider" for
 * NULL. */
static const char *provider_title(struct request *r, const char *name)
{
	const struct oidc_provider *p = name != NULL ? oidc_provider_find(&r->app->cfg, name) : NULL;

	if (p != NULL && p->display_name != NULL && p->display_name[0] != '\0')
		return p->display_name;
	return name != NULL && name[0] != '\0' ? name : "the provider";
}

/* The sentence for a provider that cannot be reached. */
static const char *provider_down(struct request *r, const char *title)
{
	return arena_printf(r->arena, "%s cannot be reached right now, so signing in through it "
	    "does not work at the moment. Try again in a few minutes, or sign in with your "
	    "password.", title);
}

/* Whether the origin of url is one the sign-in page's form-action allows
 * (a provider's issuer: app->signin_origins). */
static int allowed_by_signin_page(struct request *r, const char *url)
{
	char origin[300];

	return oidc_origin(url, origin, sizeof(origin)) == 0 && r->app->signin_origins != NULL &&
	    oidc_origin_listed(r->app->signin_origins, origin);
}

void handle_oidc_start(struct request *r)
{
	const char *name = route_param(&r->params, "provider");
	const struct oidc_provider *p = oidc_provider_find(&r->app->cfg, name);
	const char *next = req_form(r, "next"), *base = resp_base_url(r), *redirect_uri;
	char browser[TOKEN_LEN + 1], detail[256] = "";
	char *url = NULL;
	enum oidc_result res;

	if (p == NULL) {
		page_error(r, 404, "No such sign-in",
		    "labeld has no identity provider at this address. Go back to the sign-in page "
		    "and choose one of its buttons.");
		return;
	}
	if (!next_is_safe(next))
		next = "";
	redirect_uri = base != NULL ? arena_printf(r->arena, "%s%s", base, OIDC_CALLBACK) : NULL;
	if (redirect_uri == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	res = oidc_flow_start(r->db, r->arena, &r->app->cfg, p, redirect_uri, next, &url, browser,
	    detail, sizeof(detail));
	if (res != OIDC_OK) {
		log_warn("oidc: starting a sign-in through %s failed: %s", p->name,
		    detail[0] ? detail : oidc_result_message(res));
		explicit_bzero(browser, sizeof(browser));
		if (res == OIDC_PROVIDER_DOWN)
			/* The sign-in page itself, so the password form (and the
			 * other providers) stay at hand. */
			login_page(r, oidc_result_status(res), NULL, next,
			    provider_down(r, provider_title(r, p->name)));
		else
			page_error(r, oidc_result_status(res), "Signing in failed",
			    oidc_result_message(res));
		return;
	}
	resp_cookie_path(r, OIDC_COOKIE, browser, OIDC_COOKIE_PATH,
	    (long)r->app->cfg.oidc_flow_seconds);
	explicit_bzero(browser, sizeof(browser));
	if (allowed_by_signin_page(r, url)) {
		resp_redirect(r, 303, url);
		return;
	}
	/* The sign-in page's form-action would stop a redirect to this
	 * origin: go on by a page (a refresh and a link are not forms). */
	struct json_object *v = view_new(r, "Signing in");
	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	view_str(v, "provider", provider_title(r, p->name));
	view_str(v, "url", url);
	view_str(v, "refresh", arena_printf(r->arena, "0;url=%s", url));
	page_render(r, 200, "signin_continue", v);
}

/* The heading of the error page of a failed sign-in. */
static const char *failure_title(enum oidc_result res)
{
	switch (res) {
	case OIDC_DB_ERROR: return "Database unavailable";
	case OIDC_PROVIDER_DOWN: return "Provider unreachable";
	case OIDC_BAD_STATE: return "Sign-in expired";
	case OIDC_CANCELLED: return "Sign-in cancelled";
	case OIDC_PROVIDER_ERROR: return "The provider refused";
	case OIDC_CODE_REFUSED: return "Sign-in expired";
	case OIDC_TOKEN_REFUSED:
	case OIDC_UNKNOWN_KEY: return "Sign-in refused";
	case OIDC_NO_VERIFIED_EMAIL: return "No verified email address";
	case OIDC_UNKNOWN_PERSON: return "Ask an admin for an invitation";
	case OIDC_DISABLED: return "Account disabled";
	case OIDC_BOUND_ELSEWHERE: return "Bound to another sign-in";
	case OIDC_OK: break;
	}
	return "Signing in failed";
}

/* The page of a sign-in that came back and failed: what happened in one
 * sentence, for an unknown person the address the provider gave, and the
 * way back to the sign-in page.  Never a token or code. */
static void failure_page(struct request *r, enum oidc_result res, const char *title,
    const char *email)
{
	int status = oidc_result_status(res);
	struct json_object *v = view_new(r, failure_title(res));
	const char *message = oidc_result_message(res);

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	if (res == OIDC_PROVIDER_DOWN)
		message = provider_down(r, title);
	else if (res == OIDC_UNKNOWN_PERSON && email != NULL && email[0] != '\0')
		message = arena_printf(r->arena, "%s signed you in as %s, but labeld has no account "
		    "with that address. Ask a labeld administrator to invite you with it, then sign "
		    "in again.", title, email);
	else if (res == OIDC_UNKNOWN_PERSON)
		message = "labeld has no account for the person the provider signed in. Ask a labeld "
		    "administrator to invite you, then sign in again.";
	view_int(v, "status", status);
	view_str(v, "heading", failure_title(res));
	view_str(v, "message", message != NULL ? message : "Signing in did not work.");
	view_str(v, "provider", title);
	if (res == OIDC_UNKNOWN_PERSON && email != NULL)
		view_str(v, "email", email);
	page_render(r, status, "signin_error", v);
}

void handle_oidc_callback(struct request *r)
{
	struct oidc_callback cb = {
		.state = req_query(r, "state"),
		.code = req_query(r, "code"),
		.error = req_query(r, "error"),
		.browser_token = req_cookie(r, OIDC_COOKIE),
	};
	const char *email = NULL, *next = NULL, *provider = NULL;
	char detail[256] = "";
	long long uid = 0;
	enum oidc_result res;

	res = oidc_flow_finish(r->db, r->arena, &r->app->cfg, &cb, &uid, &email, &next, &provider,
	    detail, sizeof(detail));
	/* The flow is used up (a state that named no flow may belong to
	 * another tab's sign-in, whose cookie stays). */
	if (res != OIDC_BAD_STATE)
		resp_cookie_path(r, OIDC_COOKIE, "", OIDC_COOKIE_PATH, 0);
	if (res == OIDC_OK) {
		signin_session_start(r, uid, email != NULL ? email : "?",
		    provider != NULL ? provider : "provider", next);
		return;
	}
	log_info("oidc: sign-in through %s failed from %s: %s", provider != NULL ? provider : "?",
	    r->remote_addr, detail[0] ? detail : oidc_result_message(res));
	failure_page(r, res, provider_title(r, provider), email);
}
