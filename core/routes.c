/*
 * routes.c: every page labeld serves, with what it needs.  The dispatcher
 * (request.c) enforces `needs` before the handler runs.
 */
#include "handlers/handlers.h"
#include "routes.h"

#define LOGIN (NEED_DB | NEED_LOGIN)
#define ADMIN (NEED_DB | NEED_LOGIN | NEED_ADMIN)

const struct route routes[] = {
	{ "GET",  "/healthz",       handle_healthz,       0 },
	{ "GET",  "/",              handle_home,          NEED_DB },
	{ "GET",  "/login",         handle_login_form,    NEED_DB },
	{ "POST", "/login",         handle_login,         NEED_DB | NEED_CSRF },
	{ "POST", "/logout",        handle_logout,        LOGIN | NEED_CSRF },
	{ "GET",  "/projects",      handle_projects,      LOGIN },
	{ "GET",  "/admin/plugins", handle_admin_plugins, ADMIN },
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);

const char *const routes_required_templates[5] = {
	"layout", "error", "login", "projects", "admin_plugins",
};
