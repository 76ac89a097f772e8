/*
 * admin.c: administration pages.  /admin/plugins lists every plugin file:
 * the loaded ones with name, kind, title and version, the refused ones with
 * the reason.
 */
#include <json-c/json.h>

#include "app.h"
#include "handlers.h"
#include "plugin.h"
#include "request.h"
#include "response.h"

void handle_admin_plugins(struct request *r)
{
	struct json_object *v = view_new(r, "Plugins"), *list;
	const struct plugin_set *set = r->rt->plugins;
	size_t loaded = 0;

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	list = json_object_new_array();
	for (size_t i = 0; i < set->n; i++) {
		const struct plugin *p = &set->v[i];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "file", json_object_new_string(p->file));
		if (p->desc != NULL) {
			json_object_object_add(o, "loaded", json_object_new_boolean(1));
			json_object_object_add(o, "name", json_object_new_string(p->desc->name));
			json_object_object_add(o, "kind", json_object_new_string(plugin_kind_name(p->desc->kind)));
			json_object_object_add(o, "title", json_object_new_string(p->desc->title));
			json_object_object_add(o, "version", json_object_new_string(p->desc->version));
			loaded++;
		} else {
			json_object_object_add(o, "error", json_object_new_string(p->error));
		}
		json_object_array_add(list, o);
	}
	json_object_object_add(v, "plugins", list);
	json_object_object_add(v, "dir", json_object_new_string(set->dir ? set->dir : ""));
	json_object_object_add(v, "loaded_count", json_object_new_int((int)loaded));
	json_object_object_add(v, "refused_count", json_object_new_int((int)(set->n - loaded)));
	page_render(r, 200, "admin_plugins", v);
}
