/*
 * router.h: the route table and its matcher.
 *
 * A route is {method, pattern, handler, needs}.  Patterns are literal path
 * segments and ":name" segments that capture one non-empty segment.  The
 * dispatcher (request.c) enforces `needs` before any handler runs, so a
 * handler cannot forget a check.
 */
#ifndef LABELD_ROUTER_H
#define LABELD_ROUTER_H

#include <stddef.h>
#include <stdio.h>

struct arena;
struct request;

typedef void (*route_handler)(struct request *r);

/* A route's own way to check the session cookie (token) together with the
 * data its handler reads first, in one statement: it must set r->session
 * exactly as session_lookup would (NULL unless the token names a valid
 * session) and may leave the data in r->preload.  The dispatcher then
 * enforces the route's needs as always.  DB_OK or DB_*. */
typedef int (*route_preload)(struct request *r, const char *token);

enum route_need {
	NEED_LOGIN = 1u << 0,   /* a valid session; else sign-in (GET) or 401 */
	NEED_CSRF = 1u << 1,    /* the form's csrf field matches */
	NEED_ADMIN = 1u << 2,   /* the user is an admin; else 403 */
	NEED_DB = 1u << 3,      /* MariaDB must answer; else 503 */
	TAKES_FILES = 1u << 4,  /* accepts multipart bodies (uploads); elsewhere 415 */
	NEED_IMAGE = 1u << 5,   /* the user may see the image of item :item of
	                           project :id (queue_image_access); else 404.
	                           Its struct queue_image goes to r->preload. */
	NEED_METRICS_ADDR = 1u << 6, /* the client's address (REMOTE_ADDR) is in
	                           labeld.conf metrics_allow; else 404 */
	NEED_PROJECT = 1u << 7, /* the user may see project :id (access.h: an
	                           admin, or in a team that serves it); else 404,
	                           whether it exists or not.  A preload may
	                           decide it (r->project_access). */
	PATH_SECRET = 1u << 8,  /* the address holds a secret (an invitation
	                           token in the path, a provider's code and
	                           state in the query): the log shows the
	                           route's pattern, and the answer carries
	                           Referrer-Policy: no-referrer */
	NEED_REVIEW = 1u << 9   /* the user may review project :id (access.h:
	                           an admin, or a reviewer in a team that serves
	                           it); else 403 for members, 404 for the rest.
	                           Always with NEED_PROJECT. */
};

struct route {
	const char *method;     /* "GET" also answers HEAD */
	const char *pattern;    /* "/projects/:id" */
	route_handler handler;
	unsigned needs;
	route_preload preload;  /* NULL: session_lookup */
};

#define ROUTE_MAX_PARAMS 6

struct route_params {
	size_t n;
	const char *name[ROUTE_MAX_PARAMS];   /* without the ':' */
	const char *value[ROUTE_MAX_PARAMS];  /* arena copies */
};

enum route_status { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };

/* Find the route for method + path.  On ROUTE_FOUND returns it and fills
 * params; on ROUTE_BAD_METHOD writes the allowed methods ("GET, HEAD, POST")
 * into allow.  NULL unless found. */
const struct route *router_match(const struct route *table, size_t n,
    const char *method, const char *path, struct arena *a,
    struct route_params *params, enum route_status *status,
    char *allow, size_t allowlen);

/* A captured parameter by name, or NULL. */
const char *route_param(const struct route_params *p, const char *name);

/* The names of the needs in `needs`, comma-separated in bit order
 * ("db,login,csrf"; "-" for none): login, csrf, admin, db, files, image,
 * metrics-addr, project; an unknown bit as its value ("0x100").  What
 * `labeld --routes` prints.  Whole names only, as many as fit out (outlen
 * > 0). */
void router_need_names(unsigned needs, char *out, size_t outlen);

/* Print the table, one route a line: METHOD TAB PATTERN TAB NEEDS
 * (router_need_names), in table order; "labeld --routes". */
void router_print(const struct route *table, size_t n, FILE *f);

/* Check a table at start-up: patterns start with '/', no empty segments, at
 * most ROUTE_MAX_PARAMS captures, no two routes with the same method and
 * pattern.  Returns 0 or -1 with a message in err. */
int router_check(const struct route *table, size_t n, char *err, size_t errlen);

#endif
