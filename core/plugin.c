/*
 * plugin.c: the plugin loader.
 *
 * Every *.so in the plugin directory (regular files, hidden ones skipped) is
 * dlopen'd in name order, asked for its descriptor through
 * labeld_plugin_init(), and checked: ABI number first, then the descriptor
 * size, then the fields.  A plugin that fails any check is refused: its
 * handle is closed at once, one log line says why, and the set keeps the
 * file name and the reason so the admin's Plugins page can show it.  Only an
 * unreadable directory or out-of-memory makes the whole load fail.
 *
 * Required ops: a task plugin must have task ops with parse_form; an export
 * plugin must have export ops with item.  Every other op may be NULL and
 * callers check before calling.
 *
 * Note on reloads: glibc's dlopen() returns the already-loaded object when
 * the same path is still open, so a plugin file replaced on disk is only
 * picked up once the old set has been freed.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "plugin.h"

#define PLUGIN_NAME_MAX 32

typedef const struct labeld_plugin *(*plugin_init_fn)(const struct labeld_host *host);

static void plugin_set_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int plugin_refuse(struct plugin *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Write a message into the caller's err buffer (if there is one). */
static void plugin_set_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Record why p is refused, log it, and close its handle.  Returns 0, or -1
 * when the reason cannot be stored (out of memory).
 */
static int plugin_refuse(struct plugin *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	/* Format first: the arguments may point into the plugin's memory. */
	va_start(ap, fmt);
	n = vasprintf(&p->error, fmt, ap);
	va_end(ap);
	p->desc = NULL;
	if (p->handle != NULL) {
		dlclose(p->handle);
		p->handle = NULL;
	}
	if (n < 0) {
		p->error = NULL;
		return -1;
	}
	log_error("plugin %s: refused: %s", p->file, p->error);
	return 0;
}

/* True when name matches [a-z0-9_-]{1,32}. */
static bool plugin_name_valid(const char *name)
{
	size_t n = 0;

	for (const char *s = name; *s != '\0'; s++, n++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_' || *s == '-'))
			return false;
	}
	return n >= 1 && n <= PLUGIN_NAME_MAX;
}

/* True when s is a non-empty string without control characters. */
static bool plugin_text_valid(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/*
 * Check the descriptor of p against the ABI and the plugins loaded before
 * it (set->v[0 .. idx-1]).  A failed check refuses p (p->desc becomes NULL).
 * Returns 0, or -1 only when out of memory.
 */
static int plugin_check(struct plugin *p, const struct plugin_set *set, size_t idx)
{
	const struct labeld_plugin *d = p->desc;

	/* abi and struct_size are the first two fields in every ABI version,
	 * so they are safe to read before anything else is trusted. */
	if (d->abi != LABELD_PLUGIN_ABI)
		return plugin_refuse(p, "built for plugin ABI %u, labeld has %u",
		    (unsigned)d->abi, (unsigned)LABELD_PLUGIN_ABI);
	if (d->struct_size != sizeof(struct labeld_plugin))
		return plugin_refuse(p, "descriptor size %u, expected %zu (not binary compatible)",
		    (unsigned)d->struct_size, sizeof(struct labeld_plugin));
	if (d->kind != LABELD_TASK && d->kind != LABELD_EXPORT)
		return plugin_refuse(p, "unknown plugin kind %d (expected %d for a task or %d for an export)",
		    (int)d->kind, (int)LABELD_TASK, (int)LABELD_EXPORT);
	if (d->name == NULL)
		return plugin_refuse(p, "missing plugin name");
	if (!plugin_name_valid(d->name))
		return plugin_refuse(p, "invalid plugin name (must match [a-z0-9_-]{1,%d})",
		    PLUGIN_NAME_MAX);
	if (!plugin_text_valid(d->title))
		return plugin_refuse(p, "plugin '%s': missing title (or it has control characters)",
		    d->name);
	if (!plugin_text_valid(d->version))
		return plugin_refuse(p, "plugin '%s': missing version (or it has control characters)",
		    d->name);
	if (d->kind == LABELD_TASK) {
		if (d->task == NULL)
			return plugin_refuse(p, "task plugin '%s' has no task ops", d->name);
		if (d->task->parse_form == NULL)
			return plugin_refuse(p, "task plugin '%s' has no parse_form op", d->name);
	} else {
		if (d->export == NULL)
			return plugin_refuse(p, "export plugin '%s' has no export ops", d->name);
		if (d->export->item == NULL)
			return plugin_refuse(p, "export plugin '%s' has no item op", d->name);
	}
	for (size_t i = 0; i < idx; i++) {
		const struct plugin *q = &set->v[i];
		if (q->desc != NULL && strcmp(q->desc->name, d->name) == 0)
			return plugin_refuse(p, "duplicate plugin name '%s' (already loaded from %s)",
			    d->name, q->file);
	}
	return 0;
}

/*
 * Open set->v[idx] (file and path filled in) and check it.  A refusal is
 * recorded in the entry; returns -1 only when out of memory.
 */
static int plugin_load_one(struct plugin_set *set, size_t idx, const struct labeld_host *host)
{
	struct plugin *p = &set->v[idx];
	plugin_init_fn init;
	const char *e;

	p->handle = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
	if (p->handle == NULL) {
		e = dlerror();
		return plugin_refuse(p, "not a loadable shared object: %s",
		    e != NULL ? e : "unknown error");
	}
	dlerror();
	init = (plugin_init_fn)dlsym(p->handle, LABELD_PLUGIN_ENTRY);
	if (init == NULL)
		return plugin_refuse(p, "no entry symbol %s", LABELD_PLUGIN_ENTRY);
	p->desc = init(host);
	if (p->desc == NULL)
		return plugin_refuse(p, "plugin refused to load (init returned NULL)");
	if (plugin_check(p, set, idx) < 0)
		return -1;
	if (p->desc != NULL)
		log_info("plugin %s: loaded %s '%s' %s", p->file,
		    plugin_kind_name(p->desc->kind), p->desc->name, p->desc->version);
	return 0;
}

static int plugin_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void plugin_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* True when name ends in ".so" and is not hidden. */
static bool plugin_file_candidate(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 3 && strcmp(name + len - 3, ".so") == 0;
}

/*
 * The sorted names of the candidate plugin files in dir.  Returns 0 with
 * *names (malloc'd, caller frees) and *n; 1 when dir does not exist; -1 with
 * err filled on any other failure.
 */
static int plugin_list_files(const char *dir, char ***names, size_t *n,
    char *err, size_t errlen)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t len = 0, cap = 0;
	int saved;

	*names = NULL;
	*n = 0;
	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return 1;
		plugin_set_error(err, errlen, "plugin directory %s: %s", dir, strerror(errno));
		return -1;
	}
	for (;;) {
		struct stat st;

		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				saved = errno;
				plugin_set_error(err, errlen, "plugin directory %s: %s",
				    dir, strerror(saved));
				goto fail;
			}
			break;
		}
		if (!plugin_file_candidate(de->d_name))
			continue;
		/* Follow symlinks: a link to a regular file is a plugin. */
		if (fstatat(dirfd(d), de->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) {
			log_warn("plugin %s: skipped: not a regular file", de->d_name);
			continue;
		}
		if (len == cap) {
			size_t ncap = cap != 0 ? cap * 2 : 16;
			char **nv = reallocarray(v, ncap, sizeof(*v));
			if (nv == NULL)
				goto oom;
			v = nv;
			cap = ncap;
		}
		v[len] = strdup(de->d_name);
		if (v[len] == NULL)
			goto oom;
		len++;
	}
	closedir(d);
	if (len > 0)
		qsort(v, len, sizeof(*v), plugin_name_cmp);
	*names = v;
	*n = len;
	return 0;
oom:
	plugin_set_error(err, errlen, "plugin directory %s: out of memory", dir);
fail:
	closedir(d);
	plugin_names_free(v, len);
	return -1;
}

/*
 * Load every plugin in dir; see plugin.h.  The returned set is owned by the
 * caller and released with plugin_set_free().  A missing directory gives an
 * empty set (and a warning); an unreadable one, or out of memory, gives NULL
 * with err filled.
 */
struct plugin_set *plugin_set_load(const char *dir, const struct labeld_host *host,
    char *err, size_t errlen)
{
	struct plugin_set *set;
	char **names = NULL;
	size_t nnames = 0, dirlen;
	int r;

	if (dir == NULL || *dir == '\0' || host == NULL) {
		plugin_set_error(err, errlen, "plugin_set_load: no directory or no host table");
		return NULL;
	}
	set = calloc(1, sizeof(*set));
	if (set == NULL)
		goto oom;
	/* Drop trailing slashes (but keep "/") so paths read cleanly. */
	dirlen = strlen(dir);
	while (dirlen > 1 && dir[dirlen - 1] == '/')
		dirlen--;
	set->dir = strndup(dir, dirlen);
	if (set->dir == NULL)
		goto oom;

	r = plugin_list_files(set->dir, &names, &nnames, err, errlen);
	if (r < 0) {
		plugin_set_free(set);
		return NULL;
	}
	if (r == 1) {
		log_warn("plugin directory %s does not exist: no plugins loaded", set->dir);
		return set;
	}
	if (nnames > 0) {
		set->v = calloc(nnames, sizeof(*set->v));
		if (set->v == NULL)
			goto oom;
	}
	for (size_t i = 0; i < nnames; i++) {
		struct plugin *p = &set->v[i];

		/* The set owns the name from here on. */
		p->file = names[i];
		names[i] = NULL;
		set->n++;
		if (asprintf(&p->path, "%s%s%s", set->dir,
		    strcmp(set->dir, "/") == 0 ? "" : "/", p->file) < 0) {
			p->path = NULL;
			goto oom;
		}
		if (plugin_load_one(set, i, host) < 0)
			goto oom;
	}
	plugin_names_free(names, nnames);
	return set;
oom:
	plugin_set_error(err, errlen, "loading plugins from %s: out of memory", dir);
	plugin_names_free(names, nnames);
	plugin_set_free(set);
	return NULL;
}

/* Close every loaded plugin and free the set and its strings.  NULL is
 * allowed.  No descriptor from the set may be used afterwards. */
void plugin_set_free(struct plugin_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++) {
		struct plugin *p = &set->v[i];
		if (p->handle != NULL)
			dlclose(p->handle);
		free(p->file);
		free(p->path);
		free(p->error);
	}
	free(set->v);
	free(set->dir);
	free(set);
}

/* The loaded plugin of this kind and name, or NULL (also for a NULL set or
 * name).  The result belongs to the set. */
const struct plugin *plugin_find(const struct plugin_set *set,
    enum labeld_plugin_kind kind, const char *name)
{
	if (set == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < set->n; i++) {
		const struct plugin *p = &set->v[i];
		if (p->desc != NULL && p->desc->kind == kind &&
		    strcmp(p->desc->name, name) == 0)
			return p;
	}
	return NULL;
}

/* How many entries of the set were refused; 0 for a NULL set. */
size_t plugin_set_refused(const struct plugin_set *set)
{
	size_t n = 0;

	if (set == NULL)
		return 0;
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].desc == NULL)
			n++;
	return n;
}

/* "task" or "export" (a static string); "unknown" for anything else. */
const char *plugin_kind_name(enum labeld_plugin_kind kind)
{
	switch (kind) {
	case LABELD_TASK:
		return "task";
	case LABELD_EXPORT:
		return "export";
	}
	return "unknown";
}
