/*
 * request.h: one request, from FastCGI parameters to the response.
 *
 * request_handle() parses the request into struct request (all of it in the
 * request's arena), looks up the route, enforces the route's needs (database,
 * sign-in, admin, CSRF), runs the handler and sends the response.  Handlers
 * only fill the response through response.h; they never write headers.
 */
#ifndef LABELD_REQUEST_H
#define LABELD_REQUEST_H

#include <stddef.h>

#include <fcgiapp.h>

#include "buf.h"
#include "http_parse.h"
#include "router.h"

struct app;
struct arena;
struct db;
struct runtime;
struct session;
struct json_object;

struct request {
	struct arena *arena;
	struct app *app;
	struct runtime *rt;
	struct db *db;
	FCGX_Request *fcgx;

	/* From the FastCGI parameters. */
	const char *method;
	const char *path;           /* decoded and normalised by nginx ($uri) */
	const char *query;          /* raw query string, "" when none */
	const char *content_type;
	size_t content_length;
	const char *remote_addr;
	const char *user_agent;
	int https;
	int signin_forms;           /* the page holds the providers' sign-in forms: its
	                               form-action also allows their origins */

	struct hp_form query_form;
	struct hp_form form;        /* POST body */
	struct hp_field *cookies;
	size_t ncookies;
	struct route_params params;
	const struct route *route;
	size_t body_read;           /* bytes of the body consumed so far */
	int body_unread;            /* refused before its body was read: the
	                             * connection is closed, not drained */

	struct session *session;    /* NULL when not signed in */
	void *preload;              /* what the route's preload read, or NULL */
	int project_access;         /* NEED_PROJECT decided by the preload: 1 may
	                             * see project :id, 0 may not; -1 (set
	                             * before dispatch) the dispatcher asks */
	int project_reviewer;       /* may review project :id (access.h): 1 or 0
	                             * once NEED_PROJECT was decided by the
	                             * dispatcher, else -1 (not asked) */
	const char *login_token;    /* the double-submit token on sign-in forms */

	/* The response. */
	int status;
	const char *resp_type;      /* Content-Type */
	struct buf resp_headers;    /* extra "Name: value\r\n" lines */
	struct buf body;
	int responded;
	int streamed;               /* headers sent by resp_stream_begin */
};

/* Handle one accepted FastCGI request with the worker's arena and database
 * handle; everything is released by the caller's arena_reset().  Returns 1
 * when the request was refused before its body was read: the caller closes
 * the connection instead of reading the rest; else 0. */
int request_handle(struct app *app, FCGX_Request *fcgx, struct arena *arena, struct db *db);

/* Release what the calling worker thread's handlers keep from one request
 * to the next (the labeling page's labels views); once, as it exits. */
void request_thread_end(void);

/* A field of the POST body, or NULL. */
const char *req_form(const struct request *r, const char *name);
/* A query-string parameter, or NULL. */
const char *req_query(const struct request *r, const char *name);
/* A cookie, or NULL. */
const char *req_cookie(const struct request *r, const char *name);

#endif
