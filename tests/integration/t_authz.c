/*
 * t_authz.c: the authorization matrix (docs/access.md): every route of
 * labeld's route table, asked for by six people, with the status each
 * must get, through nginx.
 *
 * The people ("personas"), made with SQL for this test, each with a
 * session made with SQL (a cookie and its CSRF token, as labeld stores
 * them):
 *   anon      no session at all
 *   member    a labeler in a team that serves project P
 *   outsider  a labeler in a team that serves project Q only
 *   disabled  a labeler in P's team whose session was made before an
 *             admin disabled them (users.is_disabled = 1)
 *   admin     an admin in no team
 *   reviewer  a labeler in P's team whom the team marks as reviewer
 *             (team_members.reviewer = 1)
 *
 * THE MATRIX (rows[] below), one line per request:
 *
 *   { METHOD, PATTERN, PATH, BODY, FLAGS, anon, member, outsider, disabled, admin,
 *     reviewer },
 *
 * METHOD and PATTERN name the route exactly as `labeld --routes` prints it
 * (core/routes.c); PATH is what is requested and BODY (POSTs: urlencoded
 * fields; the persona's csrf field is added when it has a session) what is
 * sent, both with these ids put in:
 *   {P} project P (member's)      {Q} project Q (outsider's)
 *   {I} an item of P that member holds     {I2} an item of P nobody holds
 *   {J} an item of Q              {E} a finished export of P (with a file)
 *   {F} an export of Q            {G} a failed export of P (admin deletes it)
 *   {D} P's dataset               {S} the default datastore
 *   {R} a draft of admin's        {R2} a draft of another admin's
 *   {T} P's team (the member's)   {U} the member
 *   {V} a removed person          {K} the token of a good invitation
 *   {A} an answer (annotation) of member's in P
 *   {AO} an answer of reviewer's in P     {AQ} an answer of outsider's in Q
 *   {X} an id that does not exist {N} a non-numeric id ("abc")
 * FLAGS: FRESH sends the request with a session of its own (made for this
 * one request; for routes that end the session, such as /logout).
 * The statuses expected: a number, or IN for "303 to the sign-in page"
 * (/login?next=...).
 *
 * The test fails when a route of `labeld --routes` has no row, when a row
 * names no route or would be answered by another route (an earlier one in
 * the table), and when a route that takes an id lacks the forged forms:
 * every route of one project (need "project") has rows with {Q}, {X} and
 * {N} as :id, every other route with an id rows with {X} and {N}, a route
 * with :item a row with {J}, one with :eid a row with {F}.  Adding a route
 * means adding its lines here.
 *
 * POSTs of the people who get past the dispatcher use inputs the handler
 * refuses or that change nothing for good (the point is who gets past the
 * route's needs, not what the handler then does); the handlers' own
 * behaviour is tested elsewhere.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "itest.h"

#define IN (-303)         /* 303 to /login?next=... */
#define FRESH 1

enum { ANON, MEMBER, OUTSIDER, DISABLED, ADMIN, REVIEWER, NPERSONAS };

static const char *const persona_names[NPERSONAS] = {
	"anonymous", "labeler in the team", "labeler not in it", "disabled person", "admin",
	"reviewer in the team",
};

struct row {
	const char *method, *pattern, *path, *body;
	int flags;
	int want[NPERSONAS];
};

/* Bodies of admins' POSTs the handlers refuse, or that save nothing. */
#define LABELS_ADDROW "go=addrow"
#define BAD_URL "instructions_url=javascript%3Aalert(1)&description="
#define SAME_STATE "state=running"    /* P and Q run already */
#define BAD_FORMAT "format=no-such-format"
#define BAD_DATASTORE "name=&kind=local"
#define BAD_ANSWER "action=no-such-action"
#define BAD_TEAM "team=abc"
#define NO_ITEMS "action=approve"     /* nothing selected: 422 */
#define BAD_VERDICT "action=no-such-action&token=x"
#define MISMATCH "name=x&current=wrong&password=authz-one-password&password2=authz-another-one"
#define LONG_NAME "name=" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

static const struct row rows[] = {
	/* method pattern                                   path                                   body          flags   anon  member outsider disabled admin reviewer */
	{ "GET",  "/healthz",                               "/healthz",                            NULL,          0,     { 200,  200,  200,  200,  200,  200 } },
	{ "GET",  "/metrics",                               "/metrics",                            NULL,          0,     { 200,  200,  200,  200,  200,  200 } },
	{ "GET",  "/",                                      "/",                                   NULL,          0,     { 303,  303,  303,  303,  303,  303 } },
	{ "GET",  "/login",                                 "/login",                              NULL,          0,     { 200,  303,  303,  200,  303,  303 } },
	{ "POST", "/login",                                 "/login",                              "email=",      0,     { 403,  400,  400,  403,  400,  400 } },
	{ "POST", "/logout",                                "/logout",                             "",            FRESH, { 401,  303,  303,  401,  303,  303 } },
	/* Sign-in through a provider (docs/signin.md): the button's POST needs
	 * the sign-in form's token, which the anonymous visitor and the
	 * disabled person lack here (403); "test" is the test stack's
	 * provider (303 to it), "down" one that cannot be reached (502), an
	 * unknown name 404.  The callback without a state: 400 for everybody. */
	{ "POST", "/signin/oidc/:provider",                 "/signin/oidc/test",                   "",            0,     { 403,  303,  303,  403,  303,  303 } },
	{ "POST", "/signin/oidc/:provider",                 "/signin/oidc/down",                   "",            0,     { 403,  502,  502,  403,  502,  502 } },
	{ "POST", "/signin/oidc/:provider",                 "/signin/oidc/{N}",                    "",            0,     { 403,  404,  404,  403,  404,  404 } },
	{ "GET",  "/signin/oidc/callback",                  "/signin/oidc/callback",               NULL,          0,     { 400,  400,  400,  400,  400,  400 } },

	{ "GET",  "/projects",                              "/projects",                           NULL,          0,     { IN,   200,  200,  IN,   200,  200 } },
	{ "POST", "/projects/drafts",                       "/projects/drafts",                    "",            0,     { 401,  403,  403,  401,  303,  403 } },
	{ "GET",  "/projects/drafts/:draft/:step",          "/projects/drafts/{R}/name",           NULL,          0,     { IN,   403,  403,  IN,   200,  403 } },
	{ "GET",  "/projects/drafts/:draft/:step",          "/projects/drafts/{R2}/name",          NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "GET",  "/projects/drafts/:draft/:step",          "/projects/drafts/{X}/name",           NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "GET",  "/projects/drafts/:draft/:step",          "/projects/drafts/{N}/name",           NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "POST", "/projects/drafts/:draft/:step",          "/projects/drafts/{R2}/name",          "name=x",      0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/projects/drafts/:draft/:step",          "/projects/drafts/{X}/name",           "name=x",      0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/projects/drafts/:draft/:step",          "/projects/drafts/{N}/name",           "name=x",      0,     { 401,  403,  403,  401,  404,  403 } },

	{ "GET",  "/projects/:id",                          "/projects/{P}",                       NULL,          0,     { IN,   200,  404,  IN,   200,  200 } },
	{ "GET",  "/projects/:id",                          "/projects/{Q}",                       NULL,          0,     { IN,   404,  200,  IN,   200,  404 } },
	{ "GET",  "/projects/:id",                          "/projects/{X}",                       NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id",                          "/projects/{N}",                       NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "POST", "/projects/:id/labels",                   "/projects/{P}/labels",                LABELS_ADDROW, 0,     { 401,  403,  403,  401,  200,  403 } },
	{ "POST", "/projects/:id/labels",                   "/projects/{Q}/labels",                LABELS_ADDROW, 0,     { 401,  403,  403,  401,  200,  403 } },
	{ "POST", "/projects/:id/labels",                   "/projects/{X}/labels",                LABELS_ADDROW, 0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/projects/:id/labels",                   "/projects/{N}/labels",                LABELS_ADDROW, 0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/projects/:id/instructions",             "/projects/{P}/instructions",          BAD_URL,       0,     { 401,  403,  403,  401,  422,  403 } },
	{ "POST", "/projects/:id/instructions",             "/projects/{Q}/instructions",          BAD_URL,       0,     { 401,  403,  403,  401,  422,  403 } },
	{ "POST", "/projects/:id/instructions",             "/projects/{X}/instructions",          BAD_URL,       0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/projects/:id/instructions",             "/projects/{N}/instructions",          BAD_URL,       0,     { 401,  403,  403,  401,  404,  403 } },

	{ "GET",  "/projects/:id/label",                    "/projects/{P}/label",                 NULL,          0,     { IN,   200,  404,  IN,   200,  200 } },
	{ "GET",  "/projects/:id/label",                    "/projects/{Q}/label",                 NULL,          0,     { IN,   404,  200,  IN,   200,  404 } },
	{ "GET",  "/projects/:id/label",                    "/projects/{X}/label",                 NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/label",                    "/projects/{N}/label",                 NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "POST", "/projects/:id/items/:item",              "/projects/{P}/items/{I}",             BAD_ANSWER,    0,     { 401,  409,  404,  401,  403,  403 } },
	{ "POST", "/projects/:id/items/:item",              "/projects/{P}/items/{J}",             BAD_ANSWER,    0,     { 401,  404,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/items/:item",              "/projects/{Q}/items/{J}",             BAD_ANSWER,    0,     { 401,  404,  409,  401,  403,  404 } },
	{ "POST", "/projects/:id/items/:item",              "/projects/{X}/items/{I}",             BAD_ANSWER,    0,     { 401,  404,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/items/:item",              "/projects/{N}/items/{I}",             BAD_ANSWER,    0,     { 401,  404,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/items/:item",              "/projects/{P}/items/{X}",             BAD_ANSWER,    0,     { 401,  404,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/items/:item",              "/projects/{P}/items/{N}",             BAD_ANSWER,    0,     { 401,  404,  404,  401,  404,  404 } },
	{ "GET",  "/projects/:id/items/:item/image",        "/projects/{P}/items/{I}/image",       NULL,          0,     { IN,   200,  404,  IN,   200,  200 } },
	{ "GET",  "/projects/:id/items/:item/image",        "/projects/{P}/items/{I2}/image",      NULL,          0,     { IN,   404,  404,  IN,   200,  200 } },
	{ "GET",  "/projects/:id/items/:item/image",        "/projects/{P}/items/{J}/image",       NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/items/:item/image",        "/projects/{Q}/items/{I}/image",       NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/items/:item/image",        "/projects/{X}/items/{I}/image",       NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/items/:item/image",        "/projects/{N}/items/{I}/image",       NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/items/:item/image",        "/projects/{P}/items/{X}/image",       NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/items/:item/image",        "/projects/{P}/items/{N}/image",       NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	/* A labeler's own answers: Back, My answers, the editor of one's own
	 * answer only (anyone else's, or one of another project, is 404). */
	{ "GET",  "/projects/:id/back",                     "/projects/{P}/back",                  NULL,          0,     { IN,   303,  404,  IN,   200,  303 } },
	{ "GET",  "/projects/:id/back",                     "/projects/{Q}/back",                  NULL,          0,     { IN,   404,  303,  IN,   200,  404 } },
	{ "GET",  "/projects/:id/back",                     "/projects/{X}/back",                  NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/back",                     "/projects/{N}/back",                  NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/mine",                     "/projects/{P}/mine",                  NULL,          0,     { IN,   200,  404,  IN,   200,  200 } },
	{ "GET",  "/projects/:id/mine",                     "/projects/{Q}/mine",                  NULL,          0,     { IN,   404,  200,  IN,   200,  404 } },
	{ "GET",  "/projects/:id/mine",                     "/projects/{X}/mine",                  NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/mine",                     "/projects/{N}/mine",                  NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/mine/:aid",                "/projects/{P}/mine/{A}",              NULL,          0,     { IN,   200,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/mine/:aid",                "/projects/{P}/mine/{AO}",             NULL,          0,     { IN,   404,  404,  IN,   404,  200 } },
	{ "GET",  "/projects/:id/mine/:aid",                "/projects/{P}/mine/{AQ}",             NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/mine/:aid",                "/projects/{Q}/mine/{AQ}",             NULL,          0,     { IN,   404,  200,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/mine/:aid",                "/projects/{Q}/mine/{A}",              NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/mine/:aid",                "/projects/{X}/mine/{A}",              NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/mine/:aid",                "/projects/{N}/mine/{A}",              NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/mine/:aid",                "/projects/{P}/mine/{X}",              NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/mine/:aid",                "/projects/{P}/mine/{N}",              NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "POST", "/projects/:id/mine/:aid",                "/projects/{P}/mine/{A}",              BAD_ANSWER,    0,     { 401,  200,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/mine/:aid",                "/projects/{P}/mine/{AO}",             BAD_ANSWER,    0,     { 401,  404,  404,  401,  404,  200 } },
	{ "POST", "/projects/:id/mine/:aid",                "/projects/{P}/mine/{AQ}",             BAD_ANSWER,    0,     { 401,  404,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/mine/:aid",                "/projects/{Q}/mine/{AQ}",             BAD_ANSWER,    0,     { 401,  404,  200,  401,  404,  404 } },
	{ "POST", "/projects/:id/mine/:aid",                "/projects/{Q}/mine/{A}",              BAD_ANSWER,    0,     { 401,  404,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/mine/:aid",                "/projects/{X}/mine/{A}",              BAD_ANSWER,    0,     { 401,  404,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/mine/:aid",                "/projects/{N}/mine/{A}",              BAD_ANSWER,    0,     { 401,  404,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/mine/:aid",                "/projects/{P}/mine/{X}",              BAD_ANSWER,    0,     { 401,  404,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/mine/:aid",                "/projects/{P}/mine/{N}",              BAD_ANSWER,    0,     { 401,  404,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/state",                    "/projects/{P}/state",                 SAME_STATE,    0,     { 401,  403,  403,  401,  303,  403 } },
	{ "POST", "/projects/:id/state",                    "/projects/{Q}/state",                 SAME_STATE,    0,     { 401,  403,  403,  401,  303,  403 } },
	{ "POST", "/projects/:id/state",                    "/projects/{X}/state",                 SAME_STATE,    0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/projects/:id/state",                    "/projects/{N}/state",                 SAME_STATE,    0,     { 401,  403,  403,  401,  404,  403 } },

	{ "GET",  "/projects/:id/exports",                  "/projects/{P}/exports",               NULL,          0,     { IN,   200,  404,  IN,   200,  200 } },
	{ "GET",  "/projects/:id/exports",                  "/projects/{Q}/exports",               NULL,          0,     { IN,   404,  200,  IN,   200,  404 } },
	{ "GET",  "/projects/:id/exports",                  "/projects/{X}/exports",               NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/exports",                  "/projects/{N}/exports",               NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "POST", "/projects/:id/exports",                  "/projects/{P}/exports",               BAD_FORMAT,    0,     { 401,  403,  403,  401,  422,  403 } },
	{ "POST", "/projects/:id/exports",                  "/projects/{Q}/exports",               BAD_FORMAT,    0,     { 401,  403,  403,  401,  422,  403 } },
	{ "POST", "/projects/:id/exports",                  "/projects/{X}/exports",               BAD_FORMAT,    0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/projects/:id/exports",                  "/projects/{N}/exports",               BAD_FORMAT,    0,     { 401,  403,  403,  401,  404,  403 } },
	{ "GET",  "/projects/:id/exports/:eid/download",    "/projects/{P}/exports/{E}/download",  NULL,          0,     { IN,   403,  403,  IN,   200,  403 } },
	{ "GET",  "/projects/:id/exports/:eid/download",    "/projects/{P}/exports/{F}/download",  NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "GET",  "/projects/:id/exports/:eid/download",    "/projects/{Q}/exports/{E}/download",  NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "GET",  "/projects/:id/exports/:eid/download",    "/projects/{X}/exports/{E}/download",  NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "GET",  "/projects/:id/exports/:eid/download",    "/projects/{N}/exports/{E}/download",  NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "GET",  "/projects/:id/exports/:eid/download",    "/projects/{P}/exports/{X}/download",  NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "GET",  "/projects/:id/exports/:eid/download",    "/projects/{P}/exports/{N}/download",  NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "POST", "/projects/:id/exports/:eid/delete",      "/projects/{P}/exports/{F}/delete",    "",            0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/projects/:id/exports/:eid/delete",      "/projects/{Q}/exports/{G}/delete",    "",            0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/projects/:id/exports/:eid/delete",      "/projects/{X}/exports/{G}/delete",    "",            0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/projects/:id/exports/:eid/delete",      "/projects/{N}/exports/{G}/delete",    "",            0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/projects/:id/exports/:eid/delete",      "/projects/{P}/exports/{X}/delete",    "",            0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/projects/:id/exports/:eid/delete",      "/projects/{P}/exports/{N}/delete",    "",            0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/projects/:id/exports/:eid/delete",      "/projects/{P}/exports/{G}/delete",    "",            0,     { 401,  403,  403,  401,  303,  403 } },
	{ "GET",  "/projects/:id/team",                     "/projects/{P}/team",                  NULL,          0,     { IN,   200,  404,  IN,   200,  200 } },
	{ "GET",  "/projects/:id/team",                     "/projects/{Q}/team",                  NULL,          0,     { IN,   404,  200,  IN,   200,  404 } },
	{ "GET",  "/projects/:id/team",                     "/projects/{X}/team",                  NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/team",                     "/projects/{N}/team",                  NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "POST", "/projects/:id/team",                     "/projects/{P}/team",                  BAD_TEAM,      0,     { 401,  403,  403,  401,  422,  403 } },
	{ "POST", "/projects/:id/team",                     "/projects/{Q}/team",                  BAD_TEAM,      0,     { 401,  403,  403,  401,  422,  403 } },
	{ "POST", "/projects/:id/team",                     "/projects/{P}/team",                  "team={X}",    0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/projects/:id/team",                     "/projects/{X}/team",                  "team={T}",    0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/projects/:id/team",                     "/projects/{N}/team",                  "team={T}",    0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/projects/:id/team/unassign",            "/projects/{P}/team/unassign",         BAD_TEAM,      0,     { 401,  403,  403,  401,  422,  403 } },
	{ "POST", "/projects/:id/team/unassign",            "/projects/{Q}/team/unassign",         BAD_TEAM,      0,     { 401,  403,  403,  401,  422,  403 } },
	{ "POST", "/projects/:id/team/unassign",            "/projects/{X}/team/unassign",         "team={T}",    0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/projects/:id/team/unassign",            "/projects/{N}/team/unassign",         "team={T}",    0,     { 401,  403,  403,  401,  404,  403 } },
	/* The Dashboard: reviewers and admins; 403 for the project's other
	 * labelers, 404 for everyone else. */
	{ "GET",  "/projects/:id/dashboard",                "/projects/{P}/dashboard",             NULL,          0,     { IN,   403,  404,  IN,   200,  200 } },
	{ "GET",  "/projects/:id/dashboard",                "/projects/{Q}/dashboard",             NULL,          0,     { IN,   404,  403,  IN,   200,  404 } },
	{ "GET",  "/projects/:id/dashboard",                "/projects/{X}/dashboard",             NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/dashboard",                "/projects/{N}/dashboard",             NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/:tab",                     "/projects/{P}/details",               NULL,          0,     { IN,   303,  404,  IN,   303,  303 } },
	{ "GET",  "/projects/:id/data",                     "/projects/{P}/data",                  NULL,          0,     { IN,   403,  404,  IN,   200,  200 } },
	{ "GET",  "/projects/:id/data",                     "/projects/{Q}/data",                  NULL,          0,     { IN,   404,  403,  IN,   200,  404 } },
	{ "GET",  "/projects/:id/data",                     "/projects/{X}/data",                  NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/data",                     "/projects/{N}/data",                  NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "POST", "/projects/:id/data/review",              "/projects/{P}/data/review",           NO_ITEMS,      0,     { 401,  403,  404,  401,  422,  422 } },
	{ "POST", "/projects/:id/data/review",              "/projects/{Q}/data/review",           NO_ITEMS,      0,     { 401,  404,  403,  401,  422,  404 } },
	{ "POST", "/projects/:id/data/review",              "/projects/{X}/data/review",           NO_ITEMS,      0,     { 401,  404,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/data/review",              "/projects/{N}/data/review",           NO_ITEMS,      0,     { 401,  404,  404,  401,  404,  404 } },
	{ "GET",  "/projects/:id/items/:item",              "/projects/{P}/items/{I}",             NULL,          0,     { IN,   403,  404,  IN,   200,  200 } },
	{ "GET",  "/projects/:id/items/:item",              "/projects/{P}/items/{J}",             NULL,          0,     { IN,   403,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/items/:item",              "/projects/{Q}/items/{J}",             NULL,          0,     { IN,   404,  403,  IN,   200,  404 } },
	{ "GET",  "/projects/:id/items/:item",              "/projects/{X}/items/{I}",             NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/items/:item",              "/projects/{N}/items/{I}",             NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/items/:item",              "/projects/{P}/items/{X}",             NULL,          0,     { IN,   403,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/items/:item",              "/projects/{P}/items/{N}",             NULL,          0,     { IN,   403,  404,  IN,   404,  404 } },
	{ "POST", "/projects/:id/items/:item/review",       "/projects/{P}/items/{I}/review",      BAD_ANSWER,    0,     { 401,  403,  404,  401,  400,  400 } },
	{ "POST", "/projects/:id/items/:item/review",       "/projects/{P}/items/{J}/review",      BAD_ANSWER,    0,     { 401,  403,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/items/:item/review",       "/projects/{Q}/items/{J}/review",      BAD_ANSWER,    0,     { 401,  404,  403,  401,  400,  404 } },
	{ "POST", "/projects/:id/items/:item/review",       "/projects/{X}/items/{I}/review",      BAD_ANSWER,    0,     { 401,  404,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/items/:item/review",       "/projects/{N}/items/{I}/review",      BAD_ANSWER,    0,     { 401,  404,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/items/:item/review",       "/projects/{P}/items/{X}/review",      BAD_ANSWER,    0,     { 401,  403,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/items/:item/review",       "/projects/{P}/items/{N}/review",      BAD_ANSWER,    0,     { 401,  403,  404,  401,  404,  404 } },
	/* The review queue: the project's reviewers and admins; its other
	 * members 403, everyone else 404.  BAD_VERDICT is refused (422) after
	 * the access checks, before any lease is looked at. */
	{ "GET",  "/projects/:id/review",                   "/projects/{P}/review",                NULL,          0,     { IN,   403,  404,  IN,   200,  200 } },
	{ "GET",  "/projects/:id/review",                   "/projects/{Q}/review",                NULL,          0,     { IN,   404,  403,  IN,   200,  404 } },
	{ "GET",  "/projects/:id/review",                   "/projects/{X}/review",                NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/review",                   "/projects/{N}/review",                NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "POST", "/projects/:id/review/:item",             "/projects/{P}/review/{I}",            BAD_VERDICT,   0,     { 401,  403,  404,  401,  422,  422 } },
	{ "POST", "/projects/:id/review/:item",             "/projects/{P}/review/{I2}",           "action=approve&token=x", 0, { 401, 403, 404, 401, 409, 409 } },
	{ "POST", "/projects/:id/review/:item",             "/projects/{P}/review/{J}",            "action=skip&token=x", 0, { 401,  403,  404,  401,  409,  409 } },
	{ "POST", "/projects/:id/review/:item",             "/projects/{Q}/review/{J}",            BAD_VERDICT,   0,     { 401,  404,  403,  401,  422,  404 } },
	{ "POST", "/projects/:id/review/:item",             "/projects/{X}/review/{I}",            BAD_VERDICT,   0,     { 401,  404,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/review/:item",             "/projects/{N}/review/{I}",            BAD_VERDICT,   0,     { 401,  404,  404,  401,  404,  404 } },
	{ "POST", "/projects/:id/review/:item",             "/projects/{P}/review/{X}",            "action=reject&token=x", 0, { 401, 403, 404, 401, 409, 409 } },
	{ "POST", "/projects/:id/review/:item",             "/projects/{P}/review/{N}",            BAD_VERDICT,   0,     { 401,  403,  404,  401,  404,  404 } },
	{ "GET",  "/projects/:id/:tab",                     "/projects/{P}/no-such-tab",           NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/:tab",                     "/projects/{Q}/details",               NULL,          0,     { IN,   404,  303,  IN,   303,  404 } },
	{ "GET",  "/projects/:id/:tab",                     "/projects/{X}/no-such-tab",           NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },
	{ "GET",  "/projects/:id/:tab",                     "/projects/{N}/no-such-tab",           NULL,          0,     { IN,   404,  404,  IN,   404,  404 } },

	{ "GET",  "/admin/datastores",                      "/admin/datastores",                   NULL,          0,     { IN,   403,  403,  IN,   200,  403 } },
	{ "POST", "/admin/datastores",                      "/admin/datastores",                   BAD_DATASTORE, 0,     { 401,  403,  403,  401,  422,  403 } },
	{ "GET",  "/admin/datastores/new",                  "/admin/datastores/new",               NULL,          0,     { IN,   403,  403,  IN,   200,  403 } },
	{ "GET",  "/admin/datastores/:id",                  "/admin/datastores/{S}",               NULL,          0,     { IN,   403,  403,  IN,   200,  403 } },
	{ "GET",  "/admin/datastores/:id",                  "/admin/datastores/{X}",               NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "GET",  "/admin/datastores/:id",                  "/admin/datastores/{N}",               NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "POST", "/admin/datastores/:id/default",          "/admin/datastores/{S}/default",       "",            0,     { 401,  403,  403,  401,  303,  403 } },
	{ "POST", "/admin/datastores/:id/default",          "/admin/datastores/{X}/default",       "",            0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/datastores/:id/default",          "/admin/datastores/{N}/default",       "",            0,     { 401,  403,  403,  401,  404,  403 } },
	{ "GET",  "/datasets",                              "/datasets",                           NULL,          0,     { IN,   403,  403,  IN,   200,  403 } },
	{ "GET",  "/datasets/:id",                          "/datasets/{D}",                       NULL,          0,     { IN,   403,  403,  IN,   200,  403 } },
	{ "GET",  "/datasets/:id",                          "/datasets/{X}",                       NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "GET",  "/datasets/:id",                          "/datasets/{N}",                       NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "GET",  "/datasets/labeled/:eid",                 "/datasets/labeled/{E}",               NULL,          0,     { IN,   403,  403,  IN,   200,  403 } },
	{ "GET",  "/datasets/labeled/:eid",                 "/datasets/labeled/{F}",               NULL,          0,     { IN,   403,  403,  IN,   200,  403 } },
	{ "GET",  "/datasets/labeled/:eid",                 "/datasets/labeled/{X}",               NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "GET",  "/datasets/labeled/:eid",                 "/datasets/labeled/{N}",               NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "GET",  "/admin/plugins",                         "/admin/plugins",                      NULL,          0,     { IN,   403,  403,  IN,   200,  403 } },

	/* People: nobody but an admin may add, change or invite anyone, or make
	 * anyone admin.  The actions aim at {V}, a removed person, whom they
	 * refuse (409) after the access checks. */
	{ "GET",  "/admin/people",                          "/admin/people",                       NULL,          0,     { IN,   403,  403,  IN,   200,  403 } },
	{ "POST", "/admin/people",                          "/admin/people",                       "email=",      0,     { 401,  403,  403,  401,  400,  403 } },
	{ "GET",  "/admin/people/:uid",                     "/admin/people/{U}",                   NULL,          0,     { IN,   403,  403,  IN,   200,  403 } },
	{ "GET",  "/admin/people/:uid",                     "/admin/people/{X}",                   NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "GET",  "/admin/people/:uid",                     "/admin/people/{N}",                   NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "POST", "/admin/people/:uid/invitation",          "/admin/people/{V}/invitation",        "",            0,     { 401,  403,  403,  401,  409,  403 } },
	{ "POST", "/admin/people/:uid/invitation",          "/admin/people/{X}/invitation",        "",            0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/people/:uid/invitation",          "/admin/people/{N}/invitation",        "",            0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/people/:uid/disable",             "/admin/people/{V}/disable",           "",            0,     { 401,  403,  403,  401,  409,  403 } },
	{ "POST", "/admin/people/:uid/disable",             "/admin/people/{X}/disable",           "",            0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/people/:uid/disable",             "/admin/people/{N}/disable",           "",            0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/people/:uid/enable",              "/admin/people/{V}/enable",            "",            0,     { 401,  403,  403,  401,  409,  403 } },
	{ "POST", "/admin/people/:uid/enable",              "/admin/people/{X}/enable",            "",            0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/people/:uid/enable",              "/admin/people/{N}/enable",            "",            0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/people/:uid/remove",              "/admin/people/{V}/remove",            "",            0,     { 401,  403,  403,  401,  409,  403 } },
	{ "POST", "/admin/people/:uid/remove",              "/admin/people/{X}/remove",            "",            0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/people/:uid/remove",              "/admin/people/{N}/remove",            "",            0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/people/:uid/role",                "/admin/people/{V}/role",              "role=admin",  0,     { 401,  403,  403,  401,  409,  403 } },
	{ "POST", "/admin/people/:uid/role",                "/admin/people/{U}/role",              "role=boss",   0,     { 401,  403,  403,  401,  400,  403 } },
	{ "POST", "/admin/people/:uid/role",                "/admin/people/{X}/role",              "role=admin",  0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/people/:uid/role",                "/admin/people/{N}/role",              "role=admin",  0,     { 401,  403,  403,  401,  404,  403 } },
	/* Provider sign-in only, and unbinding a sign-in identity. */
	{ "POST", "/admin/people/:uid/provider-only",       "/admin/people/{V}/provider-only",     "on=1",        0,     { 401,  403,  403,  401,  409,  403 } },
	{ "POST", "/admin/people/:uid/provider-only",       "/admin/people/{U}/provider-only",     "on=maybe",    0,     { 401,  403,  403,  401,  400,  403 } },
	{ "POST", "/admin/people/:uid/provider-only",       "/admin/people/{X}/provider-only",     "on=1",        0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/people/:uid/provider-only",       "/admin/people/{N}/provider-only",     "on=1",        0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/people/:uid/identities/:iid/unbind", "/admin/people/{V}/identities/{X}/unbind", "",     0,     { 401,  403,  403,  401,  409,  403 } },
	{ "POST", "/admin/people/:uid/identities/:iid/unbind", "/admin/people/{U}/identities/{X}/unbind", "",     0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/people/:uid/identities/:iid/unbind", "/admin/people/{U}/identities/{N}/unbind", "",     0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/people/:uid/identities/:iid/unbind", "/admin/people/{X}/identities/{X}/unbind", "",     0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/people/:uid/identities/:iid/unbind", "/admin/people/{N}/identities/{X}/unbind", "",     0,     { 401,  403,  403,  401,  404,  403 } },
	/* An invitation link: for whoever holds it (no session needed). */
	{ "GET",  "/invite/:token",                         "/invite/{K}",                         NULL,          0,     { 200,  200,  200,  200,  200,  200 } },
	{ "GET",  "/invite/:token",                         "/invite/{X}",                         NULL,          0,     { 404,  404,  404,  404,  404,  404 } },
	{ "GET",  "/invite/:token",                         "/invite/{N}",                         NULL,          0,     { 404,  404,  404,  404,  404,  404 } },
	{ "POST", "/invite/:token",                         "/invite/{K}",                         MISMATCH,      0,     { 403,  422,  422,  403,  422,  422 } },
	{ "POST", "/invite/:token",                         "/invite/{X}",                         MISMATCH,      0,     { 403,  404,  404,  403,  404,  404 } },
	{ "POST", "/invite/:token",                         "/invite/{N}",                         MISMATCH,      0,     { 403,  404,  404,  403,  404,  404 } },
	/* One's own account only. */
	{ "GET",  "/account",                               "/account",                            NULL,          0,     { IN,   200,  200,  IN,   200,  200 } },
	{ "POST", "/account/name",                          "/account/name",                       LONG_NAME,     0,     { 401,  422,  422,  401,  422,  422 } },
	{ "POST", "/account/password",                      "/account/password",                   MISMATCH,      0,     { 401,  422,  422,  401,  422,  422 } },

	/* Teams: nobody but an admin may make one, join one or change one. */
	{ "GET",  "/admin/teams",                           "/admin/teams",                        NULL,          0,     { IN,   403,  403,  IN,   200,  403 } },
	{ "POST", "/admin/teams",                           "/admin/teams",                        "name=",       0,     { 401,  403,  403,  401,  422,  403 } },
	{ "GET",  "/admin/teams/:tid",                      "/admin/teams/{T}",                    NULL,          0,     { IN,   403,  403,  IN,   200,  403 } },
	{ "GET",  "/admin/teams/:tid",                      "/admin/teams/{X}",                    NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "GET",  "/admin/teams/:tid",                      "/admin/teams/{N}",                    NULL,          0,     { IN,   403,  403,  IN,   404,  403 } },
	{ "POST", "/admin/teams/:tid/members",              "/admin/teams/{T}/members",            "user={U}",    0,     { 401,  403,  403,  401,  303,  403 } },
	{ "POST", "/admin/teams/:tid/members",              "/admin/teams/{T}/members",            "",            0,     { 401,  403,  403,  401,  422,  403 } },
	{ "POST", "/admin/teams/:tid/members",              "/admin/teams/{X}/members",            "user={U}",    0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/teams/:tid/members",              "/admin/teams/{N}/members",            "user={U}",    0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/teams/:tid/members/remove",       "/admin/teams/{T}/members/remove",     "",            0,     { 401,  403,  403,  401,  422,  403 } },
	{ "POST", "/admin/teams/:tid/members/remove",       "/admin/teams/{X}/members/remove",     "user={U}",    0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/teams/:tid/members/remove",       "/admin/teams/{N}/members/remove",     "user={U}",    0,     { 401,  403,  403,  401,  404,  403 } },
	/* Reviewer marks: aimed at {V}, a removed person (409: not a member). */
	{ "POST", "/admin/teams/:tid/members/reviewer",     "/admin/teams/{T}/members/reviewer",   "user={U}&reviewer=maybe", 0, { 401, 403, 403, 401, 422, 403 } },
	{ "POST", "/admin/teams/:tid/members/reviewer",     "/admin/teams/{T}/members/reviewer",   "user={V}&reviewer=0", 0, { 401, 403,  403,  401,  409,  403 } },
	{ "POST", "/admin/teams/:tid/members/reviewer",     "/admin/teams/{X}/members/reviewer",   "user={U}&reviewer=0", 0, { 401, 403,  403,  401,  404,  403 } },
	{ "POST", "/admin/teams/:tid/members/reviewer",     "/admin/teams/{N}/members/reviewer",   "user={U}&reviewer=0", 0, { 401, 403,  403,  401,  404,  403 } },
	{ "POST", "/admin/teams/:tid/name",                 "/admin/teams/{T}/name",               "name=",       0,     { 401,  403,  403,  401,  422,  403 } },
	{ "POST", "/admin/teams/:tid/name",                 "/admin/teams/{X}/name",               "name=x",      0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/teams/:tid/name",                 "/admin/teams/{N}/name",               "name=x",      0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/teams/:tid/delete",               "/admin/teams/{T}/delete",             "",            0,     { 401,  403,  403,  401,  200,  403 } },
	{ "POST", "/admin/teams/:tid/delete",               "/admin/teams/{X}/delete",             "",            0,     { 401,  403,  403,  401,  404,  403 } },
	{ "POST", "/admin/teams/:tid/delete",               "/admin/teams/{N}/delete",             "",            0,     { 401,  403,  403,  401,  404,  403 } },
};
static const size_t nrows = sizeof(rows) / sizeof(rows[0]);

/* ------------------------------------------------------------ the route table */

struct route_line {
	char *method, *pattern, *needs;
};

/* The route table of the installed labeld (`labeld --routes`): *n lines,
 * owned by the running test. */
static struct route_line *routes_read(size_t *n)
{
	char *cmd = itest_fmt("'%s/sbin/labeld' --routes", ENV("LABELD_TEST_PREFIX"));
	struct route_line *v = itest_keep(calloc(256, sizeof(*v)));
	char line[1024];
	FILE *p = popen(cmd, "r");
	int rc;

	CHECK(v != NULL, "out of memory");
	CHECK(p != NULL, "cannot run %s: %s", cmd, strerror(errno));
	*n = 0;
	while (fgets(line, sizeof(line), p) != NULL && *n < 256) {
		char *m = strtok(line, "\t\n"), *pat = strtok(NULL, "\t\n"), *needs = strtok(NULL, "\t\n");
		if (m == NULL || pat == NULL || needs == NULL)
			continue;
		v[*n].method = itest_fmt("%s", m);
		v[*n].pattern = itest_fmt("%s", pat);
		v[*n].needs = itest_fmt("%s", needs);
		(*n)++;
	}
	rc = pclose(p);
	CHECK(rc == 0, "%s exited with status %d", cmd, rc);
	CHECK(*n >= 20, "%s printed %zu routes", cmd, *n);
	return v;
}

/* Whether a path matches a pattern as the router does: the same number of
 * segments, literal ones equal, ":name" any non-empty segment. */
static bool pattern_matches(const char *pattern, const char *path)
{
	while (*pattern == '/' && *path == '/') {
		size_t pl = strcspn(pattern + 1, "/"), sl = strcspn(path + 1, "/");
		if (pattern[1] == ':') {
			if (sl == 0)
				return false;
		} else if (pl != sl || strncmp(pattern + 1, path + 1, pl) != 0) {
			return false;
		}
		pattern += 1 + pl;
		path += 1 + sl;
	}
	return *pattern == '\0' && *path == '\0';
}

/* Whether the needs list (comma-separated) has need. */
static bool has_need(const char *needs, const char *need)
{
	size_t n = strlen(need);

	for (const char *s = needs; *s; ) {
		size_t l = strcspn(s, ",");
		if (l == n && strncmp(s, need, n) == 0)
			return true;
		s += l;
		if (*s == ',')
			s++;
	}
	return false;
}

/* Whether some row of route (method, pattern) has tag in its path, as the
 * segment that stands for capture `capture`. */
static bool row_with(const char *method, const char *pattern, const char *capture, const char *tag)
{
	for (size_t i = 0; i < nrows; i++) {
		const char *pp = rows[i].pattern, *rp = rows[i].path;
		if (strcmp(rows[i].method, method) != 0 || strcmp(pp, pattern) != 0)
			continue;
		/* Walk the pattern and the row's path (before ids are put in)
		 * segment by segment. */
		while (*pp == '/' && *rp == '/') {
			size_t pl = strcspn(pp + 1, "/"), rl = strcspn(rp + 1, "/");
			if (pl == strlen(capture) && strncmp(pp + 1, capture, pl) == 0 &&
			    rl == strlen(tag) && strncmp(rp + 1, tag, rl) == 0)
				return true;
			pp += 1 + pl;
			rp += 1 + rl;
		}
	}
	return false;
}

/* The matrix covers the route table: every route has rows (with the forged
 * ids its captures need), every row names a route, and every row's path
 * is answered by its own route. */
static void authz_matrix_covers_routes(void)
{
	size_t n, missing = 0;
	struct route_line *rt = routes_read(&n);
	char *why = itest_fmt("%s", "");

	for (size_t i = 0; i < n; i++) {
		bool any = false;
		for (size_t j = 0; j < nrows && !any; j++)
			any = strcmp(rows[j].method, rt[i].method) == 0 &&
			    strcmp(rows[j].pattern, rt[i].pattern) == 0;
		if (!any) {
			why = itest_fmt("%s\n  no row for %s %s", why, rt[i].method, rt[i].pattern);
			missing++;
			continue;
		}
		/* The forged ids each capture needs. */
		static const char *const captures[] = { ":id", ":item", ":eid", ":draft", ":aid" };
		for (size_t c = 0; c < sizeof(captures) / sizeof(captures[0]); c++) {
			const char *cap = captures[c];
			const char *need[4] = { NULL };
			size_t k = 0;
			if (!strstr(rt[i].pattern, cap))
				continue;
			need[k++] = "{X}";
			need[k++] = "{N}";
			if (strcmp(cap, ":id") == 0 && has_need(rt[i].needs, "project"))
				need[k++] = "{Q}";
			if (strcmp(cap, ":item") == 0)
				need[k++] = "{J}";
			if (strcmp(cap, ":eid") == 0 && has_need(rt[i].needs, "project"))
				need[k++] = "{F}";
			for (size_t t = 0; t < k; t++) {
				if (!row_with(rt[i].method, rt[i].pattern, cap, need[t])) {
					why = itest_fmt("%s\n  no row for %s %s with %s as %s", why,
					    rt[i].method, rt[i].pattern, need[t], cap);
					missing++;
				}
			}
		}
	}
	for (size_t j = 0; j < nrows; j++) {
		size_t first = n;
		bool named = false;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(rows[j].method, rt[i].method) != 0)
				continue;
			if (first == n && pattern_matches(rt[i].pattern, rows[j].path))
				first = i;
			if (strcmp(rows[j].pattern, rt[i].pattern) == 0)
				named = true;
		}
		if (!named) {
			why = itest_fmt("%s\n  row %zu: %s %s is not a route", why, j + 1, rows[j].method,
			    rows[j].pattern);
			missing++;
		} else if (first == n || strcmp(rt[first].pattern, rows[j].pattern) != 0) {
			why = itest_fmt("%s\n  row %zu: %s %s is answered by %s, not %s", why, j + 1,
			    rows[j].method, rows[j].path, first == n ? "no route" : rt[first].pattern,
			    rows[j].pattern);
			missing++;
		}
	}
	CHECK(missing == 0, "the matrix (tests/integration/t_authz.c) and the route table "
	    "(labeld --routes) differ in %zu places:%s", missing, why);
}

/* ------------------------------------------------------------ fixtures */

struct fixture {
	const char *ids[32][2];      /* {tag, value} */
	size_t nids;
	long users[NPERSONAS];       /* 0 for anon */
	char *emails[NPERSONAS];
	char *cookie[NPERSONAS], *csrf[NPERSONAS];
};

static void id_set(struct fixture *fx, const char *tag, long v)
{
	fx->ids[fx->nids][0] = tag;
	fx->ids[fx->nids][1] = itest_fmt("%ld", v);
	fx->nids++;
}

/* The value of tag in the fixture. */
static const char *id_of(const struct fixture *fx, const char *tag)
{
	for (size_t i = 0; i < fx->nids; i++)
		if (strcmp(fx->ids[i][0], tag) == 0)
			return fx->ids[i][1];
	FAIL("no id %s in the fixture", tag);
}

static long sql_long(const char *q)
{
	return strtol(SQL_QUERY("%s", q), NULL, 10);
}

static void sql_cleanup(void *arg)
{
	if (itest_sql_try("%s", (const char *)arg) != 0)
		itest_cleanup_error("clean-up failed: %s", (const char *)arg);
}

/* Run SQL when the test ends. */
static void defer_sql(const char *sql)
{
	itest_defer(sql_cleanup, itest_fmt("%s", sql));
}

/* A person made with SQL (a copy of the test admin's password hash; they
 * never sign in with it); their id.  Removed when the test ends. */
static long person_new(const char *stem, int admin, char **email_out)
{
	char *email = itest_fmt("%s@example.com", itest_uniq(stem));

	*email_out = email;
	long id;

	SQL("INSERT INTO users (email, display_name, password_hash, is_admin) "
	    "SELECT %s, %s, password_hash, %d FROM users WHERE email = %s",
	    sql_str(email), sql_str(stem), admin, sql_str(ENV("LABELD_TEST_ADMIN_EMAIL")));
	id = sql_long(itest_fmt("SELECT id FROM users WHERE email = %s", sql_str(email)));
	CHECK(id > 0, "no user %s", email);
	defer_sql(itest_fmt("DELETE FROM users WHERE id = %ld", id));
	return id;
}

/* A session of user id made with SQL as labeld stores it: *cookie gets
 * "labeld_session=TOKEN", *csrf its CSRF token. */
static void session_new(long user, char **cookie, char **csrf)
{
	char *out = SQL_QUERY(
	    "SET @t = REPLACE(REPLACE(SUBSTRING(TO_BASE64(RANDOM_BYTES(33)), 1, 43), '+', '-'), '/', '_'); "
	    "SET @c = REPLACE(REPLACE(SUBSTRING(TO_BASE64(RANDOM_BYTES(33)), 1, 43), '+', '-'), '/', '_'); "
	    "INSERT INTO sessions (token_hash, user_id, csrf_token, remote_addr, user_agent) "
	    "VALUES (UNHEX(SHA2(@t, 256)), %ld, @c, '127.0.0.1', 'labeld authz test'); "
	    "SELECT @t, @c;", user);
	char *tab = strchr(out, '\t');

	CHECK(tab != NULL && tab - out == 43 && strlen(tab + 1) == 43, "no session made: %s", out);
	*tab = '\0';
	*cookie = itest_fmt("labeld_session=%s", out);
	*csrf = itest_fmt("%s", tab + 1);
}

/* A running project with two items and its team (serving it, with the
 * people in members[]); sets tag (project), item tags and dataset. */
static long project_new(struct fixture *fx, const char *tag, const char *item1, const char *item2,
    const char *dir, const long *members, size_t nmembers)
{
	char *name = itest_uniq("authz project");
	long p = sql_long(itest_fmt(
	    "INSERT INTO datasets (name, description, datastore_id, path, kind, source) "
	    "SELECT %s, '', id, %s, 'input', 'datastore' FROM datastores WHERE is_default = 1; "
	    "INSERT INTO projects (name, task, dataset_id, description, state) "
	    "VALUES (%s, 'testtask', LAST_INSERT_ID(), '', 'running'); "
	    "SET @p = LAST_INSERT_ID(); "
	    "INSERT INTO labels (project_id, name, position) VALUES (@p, 'cat', 1); "
	    "INSERT INTO items (project_id, path, width, height, format) "
	    "SELECT @p, CONCAT(%s, '/', seq, '.png'), 1, 1, 'png' FROM seq_1_to_2; "
	    "INSERT INTO project_counters (project_id, items_total) VALUES (@p, 2); "
	    "INSERT INTO teams (name, project_id) VALUES (%s, @p); "
	    "INSERT INTO project_teams (project_id, team_id) VALUES (@p, LAST_INSERT_ID()); "
	    "SELECT @p;",
	    sql_str(name), sql_str(dir), sql_str(name), sql_str(dir), sql_str(itest_fmt("%s team", name))));

	CHECK(p > 0, "no project made");
	defer_sql(itest_fmt("DELETE FROM teams WHERE project_id = %ld; DELETE FROM projects WHERE id = %ld; "
	    "DELETE FROM datasets WHERE name = %s", p, p, sql_str(name)));
	for (size_t i = 0; i < nmembers; i++)
		SQL("INSERT INTO team_members (team_id, user_id) SELECT id, %ld FROM teams WHERE project_id = %ld",
		    members[i], p);
	id_set(fx, tag, p);
	id_set(fx, item1, sql_long(itest_fmt("SELECT MIN(id) FROM items WHERE project_id = %ld", p)));
	id_set(fx, item2, sql_long(itest_fmt("SELECT MAX(id) FROM items WHERE project_id = %ld", p)));
	return p;
}

static void file_remove(void *arg)
{
	if (unlink(arg) < 0 && errno != ENOENT)
		itest_cleanup_error("cannot remove %s: %s", (const char *)arg, strerror(errno));
}

static void dir_remove(void *arg)
{
	if (rmdir(arg) < 0 && errno != ENOENT)
		itest_cleanup_error("cannot remove %s: %s", (const char *)arg, strerror(errno));
}

/* A small file at datastore path rel (in folder dir, made here) of the
 * default datastore, removed when the test ends. */
static void datastore_file(const char *dir, const char *rel)
{
	const char *root = ENV("LABELD_TEST_DEFAULT_DATASTORE");
	char *d = itest_fmt("%s/%s", root, dir), *full = itest_fmt("%s/%s", root, rel);
	FILE *f;

	if (mkdir(d, 0755) == 0)
		itest_defer(dir_remove, d);
	else
		CHECK(errno == EEXIST, "mkdir %s: %s", d, strerror(errno));
	f = fopen(full, "w");
	CHECK(f != NULL, "cannot write %s: %s", full, strerror(errno));
	itest_defer(file_remove, full);
	fputs("\x89PNG\r\n\x1a\n authz test", f);
	CHECK(fclose(f) == 0, "cannot write %s", full);
}

static long export_new(long p, const char *state, const char *path)
{
	return sql_long(itest_fmt(
	    "INSERT INTO exports (project_id, format, file_extension, media_type, state, items, "
	    "annotations, bytes, snapshot_seq, datastore_id, path, finished_at) "
	    "SELECT %ld, 'manifest', 'jsonl', 'application/jsonl', %s, 1, 1, 10, 1, "
	    "IF(%s IS NULL, NULL, id), %s, IF(%s = 'done', NOW(6), NULL) "
	    "FROM datastores WHERE is_default = 1; SELECT LAST_INSERT_ID();",
	    p, sql_str(state), path ? sql_str(path) : "NULL", path ? sql_str(path) : "NULL",
	    sql_str(state)));
}

/* An answered item of project p (state and phase labeled) and its answer
 * by user, as an answer stores them; the answer's id. */
static long answer_new(long p, long user, const char *dir)
{
	return sql_long(itest_fmt(
	    "INSERT INTO items (project_id, path, width, height, format, state, phase, labeled_by, "
	    "answered_at) VALUES (%ld, CONCAT(%s, '/answered-', %ld, '.png'), 1, 1, 'png', "
	    "'labeled', 'labeled', %ld, NOW(6)); "
	    "INSERT INTO annotations (item_id, project_id, labeler_id, data) SELECT LAST_INSERT_ID(), "
	    "%ld, %ld, JSON_OBJECT('label', MIN(id)) FROM labels WHERE project_id = %ld; "
	    "SELECT LAST_INSERT_ID();", p, sql_str(dir), user, user, p, user, p));
}

static void fixture_make(struct fixture *fx)
{
	char *dirp = itest_uniq("authz-p"), *dirq = itest_uniq("authz-q");
	long p, q, members[3];

	memset(fx, 0, sizeof(*fx));
	fx->users[MEMBER] = person_new("authz-member", 0, &fx->emails[MEMBER]);
	fx->users[OUTSIDER] = person_new("authz-outsider", 0, &fx->emails[OUTSIDER]);
	fx->users[DISABLED] = person_new("authz-disabled", 0, &fx->emails[DISABLED]);
	fx->users[ADMIN] = person_new("authz-admin", 1, &fx->emails[ADMIN]);
	fx->users[REVIEWER] = person_new("authz-reviewer", 0, &fx->emails[REVIEWER]);
	members[0] = fx->users[MEMBER];
	members[1] = fx->users[DISABLED];
	members[2] = fx->users[REVIEWER];
	p = project_new(fx, "{P}", "{I}", "{I2}", dirp, members, 3);
	SQL("UPDATE team_members tm JOIN teams t ON t.id = tm.team_id SET tm.reviewer = 1 "
	    "WHERE t.project_id = %ld AND tm.user_id = %ld", p, fx->users[REVIEWER]);
	q = project_new(fx, "{Q}", "{J}", "{J2}", dirq, &fx->users[OUTSIDER], 1);
	for (int k = MEMBER; k < NPERSONAS; k++)
		session_new(fx->users[k], &fx->cookie[k], &fx->csrf[k]);
	/* Disabled after their session began: the session no longer counts. */
	SQL("UPDATE users SET is_disabled = 1 WHERE id = %ld", fx->users[DISABLED]);

	/* The member holds {I}; each item's image is a file. */
	SQL("UPDATE items SET lease_user = %ld, lease_until = NOW(6) + INTERVAL 1 HOUR, "
	    "lease_token = REPLACE(REPLACE(SUBSTRING(TO_BASE64(RANDOM_BYTES(33)), 1, 43), '+', '-'), '/', '_'), "
	    "version = version + 1 WHERE id = %s; "
	    "INSERT INTO labeler_leases (project_id, user_id, item_id) VALUES (%ld, %ld, %s)",
	    fx->users[MEMBER], id_of(fx, "{I}"), p, fx->users[MEMBER], id_of(fx, "{I}"));
	datastore_file(dirp, itest_fmt("%s/1.png", dirp));
	datastore_file(dirp, itest_fmt("%s/2.png", dirp));

	/* Answers: member's and reviewer's in P, outsider's in Q, each of an
	 * item of its own (the member's answer must not open {I2}'s image). */
	id_set(fx, "{A}", answer_new(p, fx->users[MEMBER], dirp));
	id_set(fx, "{AO}", answer_new(p, fx->users[REVIEWER], dirp));
	id_set(fx, "{AQ}", answer_new(q, fx->users[OUTSIDER], dirq));

	/* Exports: a finished one of P (with its file), one of Q, a failed
	 * one of P for the admin to delete. */
	datastore_file(dirp, itest_fmt("%s/export.jsonl", dirp));
	id_set(fx, "{E}", export_new(p, "done", itest_fmt("%s/export.jsonl", dirp)));
	id_set(fx, "{F}", export_new(q, "done", NULL));
	id_set(fx, "{G}", export_new(p, "failed", NULL));

	id_set(fx, "{T}", sql_long(itest_fmt("SELECT id FROM teams WHERE project_id = %ld", p)));
	id_set(fx, "{U}", fx->users[MEMBER]);
	{
		char *email;
		long v = person_new("authz-removed", 0, &email);
		/* 43 base64url characters, as labeld makes them. */
		const char *token = "authzInvitationTokenAAAAAAAAAAAAAAAAAAAAAAA";
		long k = person_new("authz-invited", 0, &email);

		SQL("UPDATE users SET removed_at = NOW(6), is_disabled = 1 WHERE id = %ld", v);
		id_set(fx, "{V}", v);
		SQL("UPDATE users SET password_hash = '', activated_at = NULL WHERE id = %ld; "
		    "INSERT INTO invitations (user_id, token_hash, expires_at) "
		    "VALUES (%ld, UNHEX(SHA2(%s, 256)), NOW(6) + INTERVAL 1 DAY)", k, k, sql_str(token));
		fx->ids[fx->nids][0] = "{K}";
		fx->ids[fx->nids][1] = token;
		fx->nids++;
	}
	id_set(fx, "{D}", sql_long(itest_fmt("SELECT dataset_id FROM projects WHERE id = %ld", p)));
	id_set(fx, "{S}", sql_long("SELECT id FROM datastores WHERE is_default = 1"));
	id_set(fx, "{R}", sql_long(itest_fmt("INSERT INTO project_drafts (user_id, data) VALUES "
	    "(%ld, '{}'); SELECT LAST_INSERT_ID()", fx->users[ADMIN])));
	id_set(fx, "{R2}", sql_long(itest_fmt("INSERT INTO project_drafts (user_id, data) SELECT id, '{}' "
	    "FROM users WHERE email = %s; SELECT LAST_INSERT_ID()", sql_str(ENV("LABELD_TEST_ADMIN_EMAIL")))));
	defer_sql(itest_fmt("DELETE FROM project_drafts WHERE id = %s", id_of(fx, "{R2}")));
	id_set(fx, "{X}", 999999999999L);
	fx->ids[fx->nids][0] = "{N}";
	fx->ids[fx->nids][1] = "abc";
	fx->nids++;
}

/* s with every {TAG} of the fixture put in. */
static char *ids_put(const struct fixture *fx, const char *s)
{
	char *out = itest_fmt("%s", s);

	for (;;) {
		char *open = strchr(out, '{'), *close = open ? strchr(open, '}') : NULL;
		size_t i;
		if (open == NULL || close == NULL)
			return out;
		for (i = 0; i < fx->nids; i++)
			if (strlen(fx->ids[i][0]) == (size_t)(close - open + 1) &&
			    strncmp(fx->ids[i][0], open, (size_t)(close - open + 1)) == 0)
				break;
		CHECK(i < fx->nids, "unknown id %.*s in %s", (int)(close - open + 1), open, s);
		*open = '\0';
		out = itest_fmt("%s%s%s", out, fx->ids[i][1], close + 1);
	}
}

/* ------------------------------------------------------------ the matrix */

static void authz_matrix(void)
{
	struct fixture fx;
	size_t wrong = 0, asked = 0;
	char *why = itest_fmt("%s", "");

	fixture_make(&fx);
	for (size_t j = 0; j < nrows; j++) {
		const struct row *w = &rows[j];
		char *path = ids_put(&fx, w->path);
		for (int k = 0; k < NPERSONAS; k++) {
			struct client *c = CLIENT(NULL);
			char *cookie = fx.cookie[k], *csrf = fx.csrf[k], *body;
			struct resp *r;
			bool ok;
			if (k != ANON && (w->flags & FRESH))
				session_new(fx.users[k], &cookie, &csrf);
			if (k == DISABLED && (w->flags & FRESH))
				SQL("UPDATE users SET is_disabled = 1 WHERE id = %ld", fx.users[k]);
			if (cookie != NULL)
				client_header(c, itest_fmt("Cookie: %s", cookie));
			if (strcmp(w->method, "GET") == 0) {
				r = GET(c, path);
			} else {
				body = ids_put(&fx, w->body ? w->body : "");
				if (csrf != NULL)
					body = itest_fmt("csrf=%s%s%s", csrf, body[0] ? "&" : "", body);
				r = POST_RAW(c, path, "application/x-www-form-urlencoded", body, strlen(body));
			}
			asked++;
			if (w->want[k] == IN) {
				const char *loc = resp_header(r, "Location");
				ok = r->status == 303 && loc != NULL && strncmp(loc, "/login?next=", 12) == 0;
			} else {
				ok = r->status == w->want[k];
			}
			if (!ok) {
				why = itest_fmt("%s\n  row %zu: %s %s as %s: %ld, want %s (%s)", why, j + 1,
				    w->method, path, persona_names[k], r->status,
				    w->want[k] == IN ? "303 to /login" : itest_fmt("%d", w->want[k]),
				    resp_snip(r));
				wrong++;
			}
		}
	}
	itest_note("authz matrix: %zu rows, %zu requests", nrows, asked);
	CHECK(wrong == 0, "%zu of %zu answers were not what the matrix expects:%s", wrong, asked, why);
}

/* What labelers see of their own project: none of the admin-only facts
 * (docs/access.md); the projects list shows each person their projects
 * only. */
static void authz_admin_only_facts(void)
{
	struct fixture fx;
	struct client *member = CLIENT(NULL), *admin = CLIENT(NULL), *outsider = CLIENT(NULL);
	struct client *reviewer = CLIENT(NULL);
	const char *p, *q;
	struct resp *r;
	long job;

	fixture_make(&fx);
	p = id_of(&fx, "{P}");
	q = id_of(&fx, "{Q}");
	client_header(member, itest_fmt("Cookie: %s", fx.cookie[MEMBER]));
	client_header(admin, itest_fmt("Cookie: %s", fx.cookie[ADMIN]));
	client_header(outsider, itest_fmt("Cookie: %s", fx.cookie[OUTSIDER]));
	client_header(reviewer, itest_fmt("Cookie: %s", fx.cookie[REVIEWER]));

	/* The projects list: each labeler their team's project only. */
	r = GET(member, "/projects");
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//a[@href='/projects/%s']", p) == 1, "the member's list lacks P");
	CHECK(html_count(r, "//a[@href='/projects/%s']", q) == 0, "the member's list shows Q");
	r = GET(outsider, "/projects");
	CHECK(html_count(r, "//a[@href='/projects/%s']", p) == 0, "the outsider's list shows P");
	CHECK(html_count(r, "//a[@href='/projects/%s']", q) == 1, "the outsider's list lacks Q");
	r = GET(admin, "/projects");
	CHECK(html_count(r, "//a[@href='/projects/%s']", p) == 1 &&
	    html_count(r, "//a[@href='/projects/%s']", q) == 1, "the admin's list lacks P or Q");

	/* A failed initialization with refused files; the creator an admin
	 * with an email address and a display name. */
	SQL("UPDATE projects SET state = 'failed', created_by = %ld WHERE id = %s", fx.users[ADMIN], p);
	job = sql_long(itest_fmt("INSERT INTO jobs (kind, project_id, state, progress, total, refused, "
	    "error, finished_at) VALUES ('init', %s, 'failed', 2, 3, 1, 'secret-error: /srv/images/x "
	    "unreadable', NOW(6)); SELECT LAST_INSERT_ID()", p));
	SQL("INSERT INTO job_refusals (job_id, path, reason) VALUES (%ld, 'secret-refused/x.gif', 'not an image')",
	    job);
	SQL("UPDATE exports SET state = 'failed', error = 'secret-export-error' WHERE id = %s",
	    id_of(&fx, "{G}"));

	r = GET(admin, itest_fmt("/projects/%s", p));
	CHECK_STATUS(r, 200);
	CHECK_BODY_HAS(r, "secret-error");
	CHECK_BODY_HAS(r, "secret-refused/x.gif");
	CHECK_BODY_HAS(r, fx.emails[ADMIN]);
	r = GET(member, itest_fmt("/projects/%s", p));
	CHECK_STATUS(r, 200);
	CHECK_BODY_HAS(r, "Initialization failed");
	CHECK_BODY_LACKS(r, "secret-error");
	CHECK_BODY_LACKS(r, "secret-refused");
	CHECK_BODY_LACKS(r, "files refused");
	CHECK_BODY_LACKS(r, fx.emails[ADMIN]);
	CHECK_BODY_HAS(r, "by authz-admin");
	/* The Dashboard: a reviewer gets it without the admin's facts (nor
	 * anyone's address); the member does not get it at all. */
	r = GET(reviewer, itest_fmt("/projects/%s/dashboard", p));
	CHECK_STATUS(r, 200);
	CHECK_BODY_LACKS(r, "secret-error");
	CHECK_BODY_LACKS(r, fx.emails[ADMIN]);
	r = GET(member, itest_fmt("/projects/%s/dashboard", p));
	CHECK_STATUS(r, 403);
	CHECK_BODY_LACKS(r, "secret-error");

	r = GET(admin, itest_fmt("/projects/%s/exports", p));
	CHECK_STATUS(r, 200);
	CHECK_BODY_HAS(r, "secret-export-error");
	r = GET(member, itest_fmt("/projects/%s/exports", p));
	CHECK_STATUS(r, 200);
	CHECK_BODY_LACKS(r, "secret-export-error");
	CHECK_BODY_LACKS(r, "/download");
	CHECK_BODY_LACKS(r, "/delete");
}

const struct itest_case itest_authz_cases[] = {
	ITEST(authz_matrix_covers_routes),
	ITEST(authz_matrix),
	ITEST(authz_admin_only_facts),
};
const size_t itest_authz_ncases = sizeof(itest_authz_cases) / sizeof(itest_authz_cases[0]);
