/*
 * routes.c: every page labeld serves, with what it needs.  The dispatcher
 * (request.c) enforces `needs` before the handler runs, and before a POST's
 * body is read (only CSRF needs the body); a route with a
 * preload checks the session with the data its handler reads first.  Literal routes come
 * before patterns that could also match them.
 */
#include "handlers/handlers.h"
#include "routes.h"

#define LOGIN (NEED_DB | NEED_LOGIN)
#define ADMIN (NEED_DB | NEED_LOGIN | NEED_ADMIN)
/* Signed in and may see project :id (access.h); 404 otherwise. */
#define MEMBER (NEED_DB | NEED_LOGIN | NEED_PROJECT)
/* May review project :id (access.h): 403 for its other members, 404 for
 * everyone else. */
#define REVIEWER (MEMBER | NEED_REVIEW)

const struct route routes[] = {
	{ "GET",  "/healthz",                       handle_healthz,              0, NULL },
	{ "GET",  "/metrics",                       handle_metrics,              NEED_METRICS_ADDR, NULL },
	{ "GET",  "/",                              handle_home,                 NEED_DB, NULL },
	{ "GET",  "/login",                         handle_login_form,           NEED_DB, NULL },
	{ "POST", "/login",                         handle_login,                NEED_DB | NEED_CSRF, NULL },
	{ "POST", "/logout",                        handle_logout,               LOGIN | NEED_CSRF, NULL },
	/* Sign-in through an OpenID Connect provider (oidc.c, docs/signin.md):
	 * the callback's query holds the provider's code and the state. */
	{ "POST", "/signin/oidc/:provider",         handle_oidc_start,           NEED_DB | NEED_CSRF, NULL },
	{ "GET",  "/signin/oidc/callback",          handle_oidc_callback,        NEED_DB | PATH_SECRET, NULL },

	/* Projects and the create-project wizard (projects.c, wizard.c). */
	{ "GET",  "/projects",                      handle_projects,             LOGIN, NULL },
	{ "POST", "/projects/drafts",               handle_draft_new,            ADMIN | NEED_CSRF, NULL },
	{ "GET",  "/projects/drafts/:draft/:step",  handle_draft_step,           ADMIN, NULL },
	{ "POST", "/projects/drafts/:draft/:step",  handle_draft_step_post,      ADMIN | NEED_CSRF | TAKES_FILES, NULL },
	{ "GET",  "/projects/:id",                  handle_project_details,      MEMBER, NULL },
	{ "POST", "/projects/:id/labels",           handle_project_labels,       ADMIN | NEED_PROJECT | NEED_CSRF, NULL },
	{ "POST", "/projects/:id/instructions",     handle_project_instructions, ADMIN | NEED_PROJECT | NEED_CSRF, NULL },
	/* Labeling (labeling.c). */
	{ "GET",  "/projects/:id/label",            handle_label_next,           MEMBER, label_preload },
	{ "POST", "/projects/:id/items/:item",      handle_label_submit,         MEMBER | NEED_CSRF, label_preload },
	{ "GET",  "/projects/:id/items/:item/image", handle_item_image,          MEMBER | NEED_IMAGE, NULL },
	/* A labeler's own answers: Back, My answers, their editor (mine.c). */
	{ "GET",  "/projects/:id/back",             handle_label_back,           MEMBER, NULL },
	{ "GET",  "/projects/:id/mine",             handle_mine,                 MEMBER, NULL },
	{ "GET",  "/projects/:id/mine/:aid",        handle_mine_edit,            MEMBER, NULL },
	{ "POST", "/projects/:id/mine/:aid",        handle_mine_save,            MEMBER | NEED_CSRF, NULL },
	{ "POST", "/projects/:id/state",            handle_project_state,        ADMIN | NEED_PROJECT | NEED_CSRF, NULL },
	/* Exports (exports.c). */
	{ "GET",  "/projects/:id/exports",          handle_project_exports,      MEMBER, NULL },
	{ "POST", "/projects/:id/exports",          handle_export_create,        ADMIN | NEED_PROJECT | NEED_CSRF, NULL },
	{ "GET",  "/projects/:id/exports/:eid/download", handle_export_download, ADMIN | NEED_PROJECT, NULL },
	{ "POST", "/projects/:id/exports/:eid/delete", handle_export_delete,     ADMIN | NEED_PROJECT | NEED_CSRF, NULL },
	/* A project's Team tab (teams.c). */
	{ "GET",  "/projects/:id/team",             handle_project_team,         MEMBER, NULL },
	{ "POST", "/projects/:id/team",             handle_project_team_assign,  ADMIN | NEED_PROJECT | NEED_CSRF, NULL },
	{ "POST", "/projects/:id/team/unassign",    handle_project_team_unassign, ADMIN | NEED_PROJECT | NEED_CSRF, NULL },
	/* The Dashboard tab (dashboard.c). */
	{ "GET",  "/projects/:id/dashboard",        handle_project_dashboard,    REVIEWER, NULL },
	/* The Data tab and an item's page (data.c). */
	{ "GET",  "/projects/:id/data",             handle_project_data,         REVIEWER, NULL },
	{ "POST", "/projects/:id/data/review",      handle_data_review,          REVIEWER | NEED_CSRF, NULL },
	{ "GET",  "/projects/:id/items/:item",      handle_item_page,            REVIEWER, NULL },
	{ "POST", "/projects/:id/items/:item/review", handle_item_review,        REVIEWER | NEED_CSRF, NULL },
	/* The review queue (review.c). */
	{ "GET",  "/projects/:id/review",           handle_review_next,          REVIEWER, NULL },
	{ "POST", "/projects/:id/review/:item",     handle_review_verdict,       REVIEWER | NEED_CSRF, NULL },
	{ "GET",  "/projects/:id/:tab",             handle_project_tab,          MEMBER, NULL },

	/* Datastores and datasets (datastores.c, datasets.c). */
	{ "GET",  "/admin/datastores",              handle_datastores,           ADMIN, NULL },
	{ "POST", "/admin/datastores",              handle_datastore_create,     ADMIN | NEED_CSRF, NULL },
	{ "GET",  "/admin/datastores/new",          handle_datastore_new,        ADMIN, NULL },
	{ "GET",  "/admin/datastores/:id",          handle_datastore_details,    ADMIN, NULL },
	{ "POST", "/admin/datastores/:id/default",  handle_datastore_make_default, ADMIN | NEED_CSRF, NULL },
	{ "GET",  "/datasets",                      handle_datasets,             ADMIN, NULL },
	{ "GET",  "/datasets/:id",                  handle_dataset_details,      ADMIN, NULL },
	{ "GET",  "/datasets/labeled/:eid",         handle_labeled_dataset,      ADMIN, NULL },

	/* Teams (teams.c). */
	{ "GET",  "/admin/teams",                   handle_teams,                ADMIN, NULL },
	{ "POST", "/admin/teams",                   handle_team_create,          ADMIN | NEED_CSRF, NULL },
	{ "GET",  "/admin/teams/:tid",              handle_team_details,         ADMIN, NULL },
	{ "POST", "/admin/teams/:tid/members",      handle_team_members_add,     ADMIN | NEED_CSRF, NULL },
	{ "POST", "/admin/teams/:tid/members/remove", handle_team_members_remove, ADMIN | NEED_CSRF, NULL },
	{ "POST", "/admin/teams/:tid/members/reviewer", handle_team_member_reviewer, ADMIN | NEED_CSRF, NULL },
	{ "POST", "/admin/teams/:tid/name",         handle_team_rename,          ADMIN | NEED_CSRF, NULL },
	{ "POST", "/admin/teams/:tid/delete",       handle_team_delete,          ADMIN | NEED_CSRF, NULL },

	{ "GET",  "/admin/plugins",                 handle_admin_plugins,        ADMIN, NULL },

	/* People, invitations and the account page (people.c). */
	{ "GET",  "/admin/people",                  handle_people,               ADMIN, NULL },
	{ "POST", "/admin/people",                  handle_person_add,           ADMIN | NEED_CSRF, NULL },
	{ "GET",  "/admin/people/:uid",             handle_person,               ADMIN, NULL },
	{ "POST", "/admin/people/:uid/invitation",  handle_person_invite,        ADMIN | NEED_CSRF, NULL },
	{ "POST", "/admin/people/:uid/disable",     handle_person_disable,       ADMIN | NEED_CSRF, NULL },
	{ "POST", "/admin/people/:uid/enable",      handle_person_enable,        ADMIN | NEED_CSRF, NULL },
	{ "POST", "/admin/people/:uid/remove",      handle_person_remove,        ADMIN | NEED_CSRF, NULL },
	{ "POST", "/admin/people/:uid/role",        handle_person_role,          ADMIN | NEED_CSRF, NULL },
	{ "POST", "/admin/people/:uid/provider-only", handle_person_provider_only, ADMIN | NEED_CSRF, NULL },
	{ "POST", "/admin/people/:uid/identities/:iid/unbind", handle_person_identity_unbind, ADMIN | NEED_CSRF, NULL },
	{ "GET",  "/invite/:token",                 handle_invite_form,          NEED_DB | PATH_SECRET, NULL },
	{ "POST", "/invite/:token",                 handle_invite_accept,        NEED_DB | NEED_CSRF | PATH_SECRET, NULL },
	{ "GET",  "/account",                       handle_account,              LOGIN, NULL },
	{ "POST", "/account/name",                  handle_account_name,         LOGIN | NEED_CSRF, NULL },
	{ "POST", "/account/password",              handle_account_password,     LOGIN | NEED_CSRF, NULL },
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);

const char *const routes_required_templates[7] = {
	"layout", "error", "login", "projects", "project", "wizard_name", "admin_plugins",
};
