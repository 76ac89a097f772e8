/*
 * request.c: the dispatcher.  Parse, route, enforce the route's needs, run
 * the handler, send, log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app.h"
#include "arena.h"
#include "access.h"
#include "catalog.h"
#include "db.h"
#include "handlers/handlers.h"
#include "log.h"
#include "metrics.h"
#include "queue.h"
#include "request.h"
#include "response.h"
#include "session.h"

const char *req_form(const struct request *r, const char *name)
{
	return hp_form_get(&r->form, name);
}

const char *req_query(const struct request *r, const char *name)
{
	return hp_form_get(&r->query_form, name);
}

const char *req_cookie(const struct request *r, const char *name)
{
	return hp_cookie_get(r->cookies, r->ncookies, name);
}

static const char *param(FCGX_Request *f, const char *name)
{
	const char *v = FCGX_GetParam(name, f->envp);
	return v ? v : "";
}

static void limits_from_config(const struct config *c, struct hp_limits *l)
{
	hp_limits_default(l);
	l->max_fields = c->max_fields;
	l->max_name = c->max_field_name;
	l->max_value = c->max_field_value;
	l->max_parts = c->max_parts;
	l->max_file = c->max_body_size;
}

/* The most of a refused body that is read and dropped to keep nginx's
 * connection; more is left unread and the connection closed. */
#define BODY_DRAIN_MAX ((size_t)8 << 20)

/* Body reader for the multipart parser: never past CONTENT_LENGTH. */
static ssize_t body_read(void *ctx, char *buf, size_t len)
{
	struct request *r = ctx;
	size_t left = r->content_length - r->body_read;
	int n;

	if (left == 0)
		return 0;
	if (len > left)
		len = left;
	if (len > 1u << 20)
		len = 1u << 20;
	n = FCGX_GetStr(buf, (int)len, r->fcgx->in);
	if (n < 0)
		return -1;
	r->body_read += (size_t)n;
	if (n == 0)
		return -1;   /* the body ended before CONTENT_LENGTH: truncated */
	return n;
}

/* Consume what is left of the body so the connection stays usable. */
static void body_drain(struct request *r)
{
	char scratch[16384];

	while (r->body_read < r->content_length) {
		if (body_read(r, scratch, sizeof(scratch)) <= 0)
			break;
	}
}

static int status_for(enum hp_err e)
{
	switch (e) {
	case HP_NOMEM:
	case HP_IO:
		return 500;
	default:
		return 400;
	}
}

/* Parse the body of a POST, once the route's needs other than CSRF have
 * passed: multipart only for routes that take files.  Returns 0, or -1 with
 * the response set. */
static int parse_body(struct request *r)
{
	struct hp_limits lim;
	const char *msg = NULL;
	enum hp_err e = HP_OK;
	const char *ct = r->content_type;

	limits_from_config(&r->app->cfg, &lim);
	if (r->content_length == 0)
		return 0;
	if (strncasecmp(ct, "multipart/form-data", 19) == 0 && !(r->route->needs & TAKES_FILES)) {
		page_error(r, 415, "Files not accepted here",
		    "This form does not take files. Send it as application/x-www-form-urlencoded.");
		return -1;
	}
	if (r->content_length > r->app->cfg.max_body_size) {
		page_error(r, 413, "Request too large", "The request body is larger than this server accepts.");
		return -1;
	}
	if (strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
		/* A urlencoded body holds fields only: at most the field limits. */
		size_t cap = lim.max_fields * (lim.max_name + lim.max_value + 2);
		char *data;
		if (r->content_length > cap) {
			page_error(r, 413, "Request too large", "The form has more data than this server accepts.");
			return -1;
		}
		data = arena_alloc(r->arena, r->content_length + 1);
		if (data == NULL) {
			page_error(r, 500, "Internal error", "Out of memory.");
			return -1;
		}
		while (r->body_read < r->content_length) {
			ssize_t n = body_read(r, data + r->body_read, r->content_length - r->body_read);
			if (n <= 0) {
				page_error(r, 400, "Bad request", "The request body ended early.");
				return -1;
			}
		}
		e = hp_parse_urlencoded(r->arena, data, r->content_length, &lim, &r->form, &msg);
	} else if (strncasecmp(ct, "multipart/form-data", 19) == 0) {
		e = hp_parse_multipart(r->arena, ct, body_read, r, r->app->cfg.tmp_dir,
		    &lim, &r->form, &msg);
	} else {
		page_error(r, 415, "Unsupported form encoding",
		    "Forms must be sent as application/x-www-form-urlencoded or multipart/form-data.");
		return -1;
	}
	if (e != HP_OK) {
		if (status_for(e) == 500)
			log_error("parse_body: %s %s: %s", r->method, r->path, msg ? msg : "error");
		page_error(r, e == HP_TOO_LONG && msg && strstr(msg, "file") ? 413 : status_for(e),
		    status_for(e) == 500 ? "Internal error" : "Bad request",
		    msg ? msg : "The request could not be read.");
		return -1;
	}
	return 0;
}

static void not_signed_in(struct request *r)
{
	if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0) {
		struct buf loc;
		buf_init(&loc, r->arena);
		buf_adds(&loc, "/login?next=");
		buf_add_url(&loc, r->path, strlen(r->path));
		if (r->query[0] != '\0') {
			buf_add_url(&loc, "?", 1);
			buf_add_url(&loc, r->query, strlen(r->query));
		}
		resp_redirect(r, 303, loc.failed ? "/login" : loc.data);
		return;
	}
	page_error(r, 401, "Please sign in", "Your session has ended. Sign in again and repeat what you were doing.");
}

/* NEED_IMAGE: the route's :id and :item name an item whose image the user
 * may see (queue_image_access: the one rule); what the handler needs of
 * it goes to r->preload.  0, or -1 with the response set: 404 for every
 * item the user may not see, whether it exists or not, so that ids tell
 * nothing. */
static int image_allowed(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	long long item = catalog_parse_id(route_param(&r->params, "item"));
	struct queue_image *img = arena_calloc(r->arena, 1, sizeof(*img));
	int rc;

	if (img == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return -1;
	}
	/* Admins and the project's reviewers see every image of it (the Data
	 * tab, the review queue); labelers the ones they hold or answered. */
	rc = id == 0 || item == 0 || r->session == NULL ? QUEUE_NO_ITEM :
	    queue_image_access(r->db, r->arena, id, item, r->session->user_id,
	    r->session->is_admin || r->project_reviewer == 1, img);
	if (rc == QUEUE_OK) {
		r->preload = img;
		return 0;
	}
	if (rc == QUEUE_NO_ITEM)
		page_error(r, 404, "Not found", "There is no such image in this project.");
	else
		page_db_error(r, rc, "The image could not be looked up");
	return -1;
}

/* NEED_PROJECT: the user may see project :id (access.h, the one rule),
 * unless the route's preload decided it already.  0, or -1 with the
 * response set: 404 for every project the user may not see, whether it
 * exists or not. */
static int project_allowed(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	int allowed = r->project_access, rc;

	/* A preload decides membership only; a reviewer's page asks again. */
	if (allowed < 0 || ((r->route->needs & NEED_REVIEW) && r->project_reviewer < 0)) {
		rc = access_project(r->db, r->arena, r->session, id, &allowed,
		    &r->project_reviewer);
		if (rc != DB_OK) {
			page_db_error(r, rc, "Access to the project could not be checked");
			return -1;
		}
	}
	if (!allowed || id == 0) {
		page_error(r, 404, "No such project", "There is no project at this address.");
		return -1;
	}
	if ((r->route->needs & NEED_REVIEW) && r->project_reviewer != 1) {
		page_error(r, 403, "Reviewers only",
		    "Only the project's reviewers and labeld administrators may open this page.");
		return -1;
	}
	return 0;
}

/* The route's needs that do not read the body, in order: client address,
 * database, session, sign-in, admin, project, image.  Returns 0 to go on,
 * -1 with the response set. */
static int enforce_needs(struct request *r)
{
	unsigned needs = r->route->needs;
	const char *token;
	int rc;

	/* Other addresses are told there is nothing here, as for any
	 * unknown address. */
	if ((needs & NEED_METRICS_ADDR) &&
	    !metrics_addr_allowed(r->app->cfg.metrics_allow, r->remote_addr)) {
		page_error(r, 404, "Page not found", "There is no page at this address.");
		return -1;
	}
	if (needs & NEED_DB) {
		if (db_ensure(r->db) != DB_OK) {
			page_error(r, 503, "Database unavailable",
			    "labeld cannot reach its database right now. Try again in a moment.");
			return -1;
		}
		token = req_cookie(r, SESSION_COOKIE);
		if (token != NULL) {
			rc = r->route->preload != NULL ? r->route->preload(r, token) :
			    session_lookup(r->db, r->arena, token, r->app->cfg.session_idle_timeout,
			    r->app->cfg.session_lifetime, &r->session);
			if (rc != DB_OK) {
				page_error(r, rc == DB_UNAVAILABLE ? 503 : 500,
				    rc == DB_UNAVAILABLE ? "Database unavailable" : "Internal error",
				    rc == DB_UNAVAILABLE ?
				    "labeld cannot reach its database right now. Try again in a moment." :
				    "The session could not be checked.");
				return -1;
			}
		}
	}
	if ((needs & NEED_LOGIN) && r->session == NULL) {
		not_signed_in(r);
		return -1;
	}
	if ((needs & NEED_ADMIN) && !r->session->is_admin) {
		page_error(r, 403, "Admins only", "This page is for labeld administrators.");
		return -1;
	}
	if ((needs & (NEED_PROJECT | NEED_REVIEW)) && project_allowed(r) < 0)
		return -1;
	if ((needs & NEED_IMAGE) && image_allowed(r) < 0)
		return -1;
	return 0;
}

/* CSRF, the one need that reads the form: after parse_body.  Returns 0 to
 * run the handler, -1 with the response set. */
static int enforce_csrf(struct request *r)
{
	unsigned needs = r->route->needs;

	if (needs & NEED_CSRF) {
		/* Pages for signed-in users: the session's token.  Pages that
		 * also serve signed-out visitors (sign-in): the double-submit
		 * token of the labeld_login cookie, or the session's token when
		 * there is a session. */
		const char *got = req_form(r, "csrf");
		const char *login = (needs & NEED_LOGIN) ? NULL : req_cookie(r, LOGIN_COOKIE);
		int ok = got != NULL && (
		    (r->session != NULL && secure_equal(got, r->session->csrf)) ||
		    (login != NULL && token_syntax_ok(login) && secure_equal(got, login)));
		if (!ok) {
			page_error(r, 403, "Form expired",
			    "This form was not sent from a labeld page of your current session "
			    "(its CSRF token is missing or wrong). Go back, reload the page, and try again.");
			return -1;
		}
	}
	return 0;
}

static void dispatch(struct request *r)
{
	struct hp_limits lim;
	const char *msg = NULL;
	enum route_status st;
	char allow[64];

	limits_from_config(&r->app->cfg, &lim);
	if (hp_parse_cookies(r->arena, param(r->fcgx, "HTTP_COOKIE"), &lim,
	    &r->cookies, &r->ncookies, &msg) != HP_OK) {
		page_error(r, 400, "Bad request", msg ? msg : "The cookies could not be read.");
		return;
	}
	r->route = router_match(r->app->routes, r->app->nroutes, r->method, r->path,
	    r->arena, &r->params, &st, allow, sizeof(allow));
	if (r->route == NULL) {
		if (st == ROUTE_BAD_METHOD) {
			resp_header(r, "Allow", allow);
			page_error(r, 405, "Method not allowed",
			    "This address exists, but not for that kind of request.");
		} else {
			page_error(r, 404, "Page not found", "There is no page at this address.");
		}
		return;
	}
	if (hp_parse_urlencoded(r->arena, r->query, strlen(r->query), &lim, &r->query_form, &msg) != HP_OK) {
		page_error(r, 400, "Bad request", msg ? msg : "The query string could not be read.");
		return;
	}
	/* Nothing of the body is read before the route allows the request:
	 * a refused POST's body is left unread and its connection closed. */
	if (enforce_needs(r) < 0)
		return;
	if (strcmp(r->method, "POST") == 0 && parse_body(r) < 0)
		return;
	if (enforce_csrf(r) < 0)
		return;
	r->route->handler(r);
	if (db_in_transaction(r->db)) {
		log_error("dispatch: %s %s left a transaction open; rolled back", r->method, r->path);
		db_rollback(r->db);
	}
	if (!r->responded) {
		log_error("dispatch: %s %s: handler gave no response", r->method, r->path);
		page_error(r, 500, "Internal error", "The page could not be produced.");
	}
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

void request_thread_end(void)
{
	label_thread_end();
}

int request_handle(struct app *app, FCGX_Request *fcgx, struct arena *arena, struct db *db)
{
	struct request req, *r = &req;
	struct timespec t0;
	const char *cl, *uri;
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(r, 0, sizeof(*r));
	r->project_access = -1;
	r->project_reviewer = -1;
	r->arena = arena;
	r->app = app;
	r->db = db;
	r->fcgx = fcgx;
	r->rt = app_runtime_acquire(app);
	buf_init(&r->resp_headers, arena);
	buf_init(&r->body, arena);

	r->method = param(fcgx, "REQUEST_METHOD");
	uri = FCGX_GetParam("DOCUMENT_URI", fcgx->envp);
	if (uri == NULL || uri[0] == '\0') {
		/* Not behind our nginx config: take REQUEST_URI up to '?'. */
		const char *ru = param(fcgx, "REQUEST_URI");
		uri = arena_strndup(arena, ru, strcspn(ru, "?"));
	}
	r->path = uri && uri[0] ? uri : "/";
	r->query = param(fcgx, "QUERY_STRING");
	r->content_type = param(fcgx, "CONTENT_TYPE");
	r->remote_addr = param(fcgx, "REMOTE_ADDR");
	r->user_agent = param(fcgx, "HTTP_USER_AGENT");
	r->https = strcasecmp(param(fcgx, "HTTPS"), "on") == 0;
	cl = param(fcgx, "CONTENT_LENGTH");
	if (cl[0] != '\0') {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(cl, &end, 10);
		if (errno != 0 || *end != '\0' || cl[0] == '-')
			v = 0;
		r->content_length = (size_t)v;
	}

	dispatch(r);
	/* What is left of a refused body is never parsed or stored.  A small
	 * rest is read and dropped so that nginx may keep the connection (it
	 * keeps one whose request it sent whole).  A large rest is never read:
	 * nginx cannot have sent it whole (it is more than the socket buffers
	 * hold), so it will not reuse the connection, which labeld closes once
	 * nginx has read the answer (server.c, conn_linger). */
	if (r->content_length - r->body_read > BODY_DRAIN_MAX)
		r->body_unread = 1;
	else
		body_drain(r);
	resp_send(r);
	ms = ms_since(&t0);
	metrics_request(r->route != NULL ? (long)(r->route - app->routes) : -1, r->method,
	    r->status, ms / 1e3);
	log_info("%s %s %d %.1fms%s", r->method,
	    r->route != NULL && (r->route->needs & PATH_SECRET) ? r->route->pattern : r->path,
	    r->status, ms,
	    r->body_unread ? " (body left unread)" : "");
	app_runtime_release(app, r->rt);
	return r->body_unread;
}
