/*
 * plugin.h: the plugin loader.  Scans a directory for *.so files, dlopens
 * each, checks the descriptor, and keeps both the loaded and the refused
 * ones (with the reason) for /admin/plugins.  A set is read-only once loaded;
 * a reload builds a new set and frees the old one when no request uses it.
 */
#ifndef LABELD_PLUGIN_LOADER_H
#define LABELD_PLUGIN_LOADER_H

#include <stddef.h>
#include "labeld-plugin.h"

struct plugin {
	char *file;                        /* basename, e.g. "bbox.so" */
	char *path;                        /* full path */
	const struct labeld_plugin *desc;  /* NULL when refused */
	void *handle;                      /* dlopen handle; NULL when refused */
	char *error;                       /* why it was refused; NULL when loaded */
};

struct plugin_set {
	struct plugin *v;      /* sorted by file name */
	size_t n;
	char *dir;
};

/* Load every *.so in dir (sorted by name, so a duplicate name is refused in
 * a stable way: the first file wins).  Refusals are logged with one line each
 * and recorded; only out-of-memory or an unreadable directory makes this
 * fail: NULL with err filled. */
struct plugin_set *plugin_set_load(const char *dir, const struct labeld_host *host,
    char *err, size_t errlen);
/* dlclose everything and free.  NULL allowed. */
void plugin_set_free(struct plugin_set *set);

/* A loaded plugin by kind and name, or NULL. */
const struct plugin *plugin_find(const struct plugin_set *set,
    enum labeld_plugin_kind kind, const char *name);

/* Number of refused plugins (for --check and the log). */
size_t plugin_set_refused(const struct plugin_set *set);

const char *plugin_kind_name(enum labeld_plugin_kind kind);

#endif
