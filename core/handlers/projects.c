/*
 * projects.c: the projects home.  For now a plain page; the projects issue
 * fills it with the project list and the create wizard.
 */
#include <json-c/json.h>

#include "handlers.h"
#include "request.h"
#include "response.h"

void handle_projects(struct request *r)
{
	struct json_object *v = view_new(r, "Projects");

	page_render(r, 200, "projects", v);
}
