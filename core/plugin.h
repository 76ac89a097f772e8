/*
 * plugin.h: the plugin loader.  Scans a directory for *.so files, checks
 * each file's owner and mode, dlopens it, checks its ABI constant before
 * calling its entry point, checks the descriptor, and keeps both the loaded
 * and the refused ones (with the reason) for /admin/plugins.  A set is
 * read-only once loaded; a reload builds a new set and frees the old one
 * when no request uses it.
 */
#ifndef LABELD_PLUGIN_LOADER_H
#define LABELD_PLUGIN_LOADER_H

#include <stddef.h>
#include <labeld/plugin.h>

struct plugin {
	char *file;                        /* basename, e.g. "bbox.so" */
	char *path;                        /* full path */
	/* The descriptor as the host reads it: desc_copy and its ops copied
	 * from the plugin up to the sizes the plugin gave, the rest zero (so
	 * an op a plugin for an older minor ABI lacks is NULL); desc.task or
	 * desc.export points at task_copy or export_copy.  NULL when refused.
	 * Strings still point into the plugin. */
	const struct labeld_plugin *desc;
	void *handle;                      /* dlopen handle; NULL when refused */
	int fd;                            /* the file it was loaded through, or -1 */
	char *error;                       /* why it was refused; NULL when loaded */
	struct labeld_plugin desc_copy;
	struct labeld_task_ops task_copy;
	struct labeld_export_ops export_copy;
};

struct plugin_set {
	struct plugin *v;      /* sorted by file name */
	size_t n;
	char *dir;
};

/* Load every *.so in dir (sorted by name, so a duplicate name is refused in
 * a stable way: the first file wins).  Refusals are logged with one line each
 * and recorded; only out-of-memory or an unreadable directory makes this
 * fail: NULL with err filled.  The rules (file modes and owners, the ABI,
 * the required ops) are in plugin.c and docs/task-plugins.md. */
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
