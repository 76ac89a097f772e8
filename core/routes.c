/*
 * routes.c: every page labeld serves, with what it needs.  The dispatcher
 * (request.c) enforces `needs` before the handler runs.  Literal routes come
 * before patterns that could also match them.
 */
#include "handlers/handlers.h"
#include "routes.h"

#define LOGIN (NEED_DB | NEED_LOGIN)
#define ADMIN (NEED_DB | NEED_LOGIN | NEED_ADMIN)

const struct route routes[] = {
	{ "GET",  "/healthz",                       handle_healthz,              0 },
	{ "GET",  "/",                              handle_home,                 NEED_DB },
	{ "GET",  "/login",                         handle_login_form,           NEED_DB },
	{ "POST", "/login",                         handle_login,                NEED_DB | NEED_CSRF },
	{ "POST", "/logout",                        handle_logout,               LOGIN | NEED_CSRF },

	/* Projects and the create-project wizard (projects.c, wizard.c). */
	{ "GET",  "/projects",                      handle_projects,             LOGIN },
	{ "POST", "/projects/drafts",               handle_draft_new,            ADMIN | NEED_CSRF },
	{ "GET",  "/projects/drafts/:draft/:step",  handle_draft_step,           ADMIN },
	{ "POST", "/projects/drafts/:draft/:step",  handle_draft_step_post,      ADMIN | NEED_CSRF },
	{ "GET",  "/projects/:id",                  handle_project_details,      LOGIN },
	{ "POST", "/projects/:id/labels",           handle_project_labels,       ADMIN | NEED_CSRF },
	{ "POST", "/projects/:id/instructions",     handle_project_instructions, ADMIN | NEED_CSRF },
	/* Labeling (labeling.c). */
	{ "GET",  "/projects/:id/label",            handle_label_next,           LOGIN },
	{ "POST", "/projects/:id/items/:item",      handle_label_submit,         LOGIN | NEED_CSRF },
	{ "GET",  "/projects/:id/items/:item/image", handle_item_image,          LOGIN },
	{ "POST", "/projects/:id/state",            handle_project_state,        ADMIN | NEED_CSRF },
	{ "GET",  "/projects/:id/:tab",             handle_project_tab,          LOGIN },

	/* Datastores and datasets (datastores.c, datasets.c). */
	{ "GET",  "/admin/datastores",              handle_datastores,           ADMIN },
	{ "POST", "/admin/datastores",              handle_datastore_create,     ADMIN | NEED_CSRF },
	{ "GET",  "/admin/datastores/new",          handle_datastore_new,        ADMIN },
	{ "GET",  "/admin/datastores/:id",          handle_datastore_details,    ADMIN },
	{ "GET",  "/datasets",                      handle_datasets,             ADMIN },
	{ "GET",  "/datasets/:id",                  handle_dataset_details,      ADMIN },

	{ "GET",  "/admin/plugins",                 handle_admin_plugins,        ADMIN },
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);

const char *const routes_required_templates[7] = {
	"layout", "error", "login", "projects", "project", "wizard_name", "admin_plugins",
};
