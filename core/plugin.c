/*
 * plugin.c: the plugin loader.
 *
 * Every *.so in the plugin directory (regular files, hidden ones skipped) is
 * checked and loaded in name order:
 *
 *  1. Trust: the plugin directory, the file, and later the plugin's template
 *     folder (plugins_dir/<name>/ and its *.html) must be owned by root or by
 *     labeld's own effective user and not be writable by group or others;
 *     otherwise the file is refused before dlopen.
 *  2. ABI: after dlopen, the plugin's constant labeld_plugin_abi (a data
 *     symbol) is read before any of its functions is called: the major
 *     version must be labeld's, the minor not newer than labeld's, and the
 *     struct sizes within what that version allows.
 *  3. The descriptor from labeld_plugin_init(): its struct_size and its ops'
 *     must be the ones the constant gave; they are copied into the set up to
 *     those sizes (the rest zero), so the core reads only fields the plugin
 *     has.  Then the fields and the required ops of its kind.
 *
 * A plugin that fails any check is refused: its handle is closed at once,
 * one log line says why, and the set keeps the file name and the reason so
 * the admin's Plugins page can show it.  Only an unreadable directory or
 * out-of-memory makes the whole load fail.
 *
 * Required ops: a task plugin must have editor_view, parse_form, validate
 * and describe; an export plugin file_extension, media_type, begin, item and
 * end.  The other fields may be NULL and callers check before using them.
 *
 * Each file is opened once and both checked (fstat) and loaded through that
 * descriptor (/proc/self/fd/N), so the object checked is the object loaded;
 * N is one whose name no loaded object carries (plugin_fd_unaliased).
 * The descriptor stays open while the set lives: no live object shares its
 * name, so a reload after a plugin was replaced on disk (a new file under
 * the old name) loads the new file, while an unchanged file is the same
 * object to the loader and is shared with the old set.  The loader also
 * keeps knowing a shared object by the old set's descriptor name after
 * that descriptor is closed; a later open that gets the same number for
 * another file takes a fresh number (fd_name_taken).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "plugin.h"

#define PLUGIN_NAME_MAX 32
#define PLUGIN_EXTENSION_MAX 16

/* The end of a field: the size of a struct that ends with it. */
#define FIELD_END(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* The sizes of the structs in ABI 3.0, the smallest a 3.x plugin has.  Later
 * minor versions only append fields, so these stay as they are. */
#define DESC_SIZE_3_0 FIELD_END(struct labeld_plugin, export)
#define TASK_OPS_SIZE_3_0 FIELD_END(struct labeld_task_ops, describe)
#define EXPORT_OPS_SIZE_3_0 FIELD_END(struct labeld_export_ops, end)

/* Whether the object mapped at addr is the file st (its mapping in
 * /proc/self/maps has st's device and inode); 1 when that cannot be told. */
static int mapping_is_file(uintptr_t addr, const struct stat *st)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char *line = NULL;
	size_t cap = 0;
	int same = 1;

	if (f == NULL)
		return 1;
	while (getline(&line, &cap, f) > 0) {
		unsigned long lo, hi, off, ino;
		unsigned maj, min;
		if (sscanf(line, "%lx-%lx %*s %lx %x:%x %lu", &lo, &hi, &off, &maj, &min, &ino) == 6 &&
		    addr >= lo && addr < hi) {
			same = ino == (unsigned long)st->st_ino && makedev(maj, min) == st->st_dev;
			break;
		}
	}
	free(line);
	fclose(f);
	return same;
}

/* Whether the loader already knows fdpath ("/proc/self/fd/N") as the name
 * of an object that is another file than st: a name an older set opened a
 * shared object under, whose descriptor was closed and its number reused.
 * dlopen would hand back that object instead of loading the file. */
static int fd_name_taken(const char *fdpath, const struct stat *st)
{
	void *h = dlopen(fdpath, RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
	struct link_map *lm = NULL;
	int taken = 0;

	if (h == NULL)
		return 0;
	if (dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm != NULL)
		taken = !mapping_is_file((uintptr_t)lm->l_ld, st);
	dlclose(h);
	return taken;
}

/* 3.1 appended answer_passes to the export ops (the struct's size is
 * rounded up to its alignment). */
#define EXPORT_OPS_ALIGN _Alignof(struct labeld_export_ops)
#define EXPORT_OPS_SIZE_3_1 ((FIELD_END(struct labeld_export_ops, answer_passes) + \
	EXPORT_OPS_ALIGN - 1) / EXPORT_OPS_ALIGN * EXPORT_OPS_ALIGN)

/* Appending a field without bumping the minor version breaks these: the
 * sizes of ABI 3.1, labeld's own. */
_Static_assert(LABELD_PLUGIN_ABI_MINOR > 1 || sizeof(struct labeld_plugin) == DESC_SIZE_3_0,
    "struct labeld_plugin changed: bump LABELD_PLUGIN_ABI_MINOR");
_Static_assert(LABELD_PLUGIN_ABI_MINOR > 1 || sizeof(struct labeld_task_ops) == TASK_OPS_SIZE_3_0,
    "struct labeld_task_ops changed: bump LABELD_PLUGIN_ABI_MINOR");
_Static_assert(LABELD_PLUGIN_ABI_MINOR > 1 ||
    sizeof(struct labeld_export_ops) == EXPORT_OPS_SIZE_3_1,
    "struct labeld_export_ops changed: bump LABELD_PLUGIN_ABI_MINOR");

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
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
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

/* True when s matches [a-z0-9]{1,16}: a file name extension for exports. */
static bool plugin_extension_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; *s != '\0'; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			return false;
	return n >= 1 && n <= PLUGIN_EXTENSION_MAX;
}

/*
 * Whether path (st: its stat) may not be trusted: owned by someone other
 * than root and labeld's effective user, or writable by group or others.
 * Returns true with a sentence naming it ("<what> <path> is ...") in why.
 */
static bool plugin_path_unsafe(const char *what, const char *path, const struct stat *st,
    char *why, size_t whylen)
{
	uid_t self = geteuid();

	if (st->st_uid != 0 && st->st_uid != self) {
		snprintf(why, whylen, "%s %s is owned by uid %u, not by root or labeld's user (uid %u)",
		    what, path, (unsigned)st->st_uid, (unsigned)self);
		return true;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, whylen, "%s %s is writable by group or others (mode %04o): chmod go-w it",
		    what, path, (unsigned)(st->st_mode & 07777));
		return true;
	}
	return false;
}

/*
 * Whether the template folder of plugin `name` (dir/<name>/, when it is a
 * folder) may not be trusted: the folder itself or one of the *.html files
 * in it that the template loader reads (tmpl_add_dir).  Returns true with a
 * sentence in why.
 */
static bool plugin_templates_unsafe(const char *dir, const char *name, char *why, size_t whylen)
{
	char folder[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	bool bad = false;
	DIR *d;

	if ((size_t)snprintf(folder, sizeof(folder), "%s/%s", dir, name) >= sizeof(folder)) {
		snprintf(why, whylen, "its template folder's path is too long");
		return true;
	}
	/* No folder: nothing is read from it (see app.c). */
	if (stat(folder, &st) != 0 || !S_ISDIR(st.st_mode))
		return false;
	if (plugin_path_unsafe("its template folder", folder, &st, why, whylen))
		return true;
	d = opendir(folder);
	if (d == NULL) {
		snprintf(why, whylen, "its template folder %s cannot be read: %s", folder,
		    strerror(errno));
		return true;
	}
	while (!bad && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".html") != 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", folder, de->d_name) >= sizeof(path))
			continue;
		/* One that cannot be read is the template loader's to report. */
		if (stat(path, &st) == 0)
			bad = plugin_path_unsafe("its template", path, &st, why, whylen);
	}
	closedir(d);
	return bad;
}

/* True when addr lies in the object of handle itself, not in one of the
 * libraries it depends on (which dlsym searches too). */
static bool plugin_symbol_own(void *handle, const void *addr)
{
	struct link_map *own = NULL, *at = NULL;
	Dl_info info;

	if (dlinfo(handle, RTLD_DI_LINKMAP, &own) != 0 ||
	    dladdr1(addr, &info, (void **)&at, RTLD_DL_LINKMAP) == 0)
		return false;
	return own != NULL && own == at;
}

/* Refuse p for a struct size outside min..max.  Returns what plugin_refuse
 * returns. */
static int plugin_refuse_size(struct plugin *p, const char *what, uint32_t size,
    size_t min, size_t max)
{
	if (min == max)
		return plugin_refuse(p, "%s size %u, expected %zu (not binary compatible)",
		    what, (unsigned)size, min);
	return plugin_refuse(p, "%s size %u, expected %zu to %zu (not binary compatible)",
	    what, (unsigned)size, min, max);
}

/*
 * Check the ABI constant of p, before any of its functions runs: the major
 * version must be labeld's, the minor not newer, each struct size between
 * its ABI 2.0 size and labeld's.  A failed check refuses p (p->error set).
 * Returns 0, or -1 only when out of memory.
 */
static int plugin_abi_check(struct plugin *p, const struct labeld_abi *abi)
{
	if (abi->major != LABELD_PLUGIN_ABI_MAJOR)
		return plugin_refuse(p, "built for plugin ABI %u.%u, labeld has %u.%u "
		    "(the major versions differ)", (unsigned)abi->major, (unsigned)abi->minor,
		    LABELD_PLUGIN_ABI_MAJOR, LABELD_PLUGIN_ABI_MINOR);
	if (abi->minor > LABELD_PLUGIN_ABI_MINOR)
		return plugin_refuse(p, "built for plugin ABI %u.%u, newer than labeld's %u.%u",
		    (unsigned)abi->major, (unsigned)abi->minor,
		    LABELD_PLUGIN_ABI_MAJOR, LABELD_PLUGIN_ABI_MINOR);
	if (abi->plugin_size < DESC_SIZE_3_0 || abi->plugin_size > sizeof(struct labeld_plugin))
		return plugin_refuse_size(p, "descriptor", abi->plugin_size, DESC_SIZE_3_0,
		    sizeof(struct labeld_plugin));
	if (abi->task_ops_size < TASK_OPS_SIZE_3_0 ||
	    abi->task_ops_size > sizeof(struct labeld_task_ops))
		return plugin_refuse_size(p, "task ops", abi->task_ops_size, TASK_OPS_SIZE_3_0,
		    sizeof(struct labeld_task_ops));
	if (abi->export_ops_size < EXPORT_OPS_SIZE_3_0 ||
	    abi->export_ops_size > sizeof(struct labeld_export_ops))
		return plugin_refuse_size(p, "export ops", abi->export_ops_size, EXPORT_OPS_SIZE_3_0,
		    sizeof(struct labeld_export_ops));
	return 0;
}

/* The first required task op that t lacks, or NULL. */
static const char *plugin_task_missing(const struct labeld_task_ops *t)
{
	if (t->editor_view == NULL)
		return "editor_view";
	if (t->parse_form == NULL)
		return "parse_form";
	if (t->validate == NULL)
		return "validate";
	if (t->describe == NULL)
		return "describe";
	return NULL;
}

/* The first required export op that e lacks, or NULL. */
static const char *plugin_export_missing(const struct labeld_export_ops *e)
{
	if (e->begin == NULL)
		return "begin";
	if (e->item == NULL)
		return "item";
	if (e->end == NULL)
		return "end";
	return NULL;
}

/*
 * Copy the ops of the task or export plugin d into p (up to the size the ABI
 * constant gave, the rest zero) and check them: their own struct_size and
 * the required ops.  c is p's copy of the descriptor.  A failed check
 * refuses p.  Returns 0, or -1 only when out of memory.
 */
static int plugin_check_ops(struct plugin *p, struct labeld_plugin *c,
    const struct labeld_plugin *d, const struct labeld_abi *abi)
{
	const char *missing;

	if (c->kind == LABELD_TASK) {
		if (d->task == NULL)
			return plugin_refuse(p, "task plugin '%s' has no task ops", c->name);
		if (d->task->struct_size != abi->task_ops_size)
			return plugin_refuse(p, "task plugin '%s': task ops struct_size %u, but its ABI "
			    "constant says %u (start the ops with LABELD_TASK_OPS_HEADER)", c->name,
			    (unsigned)d->task->struct_size, (unsigned)abi->task_ops_size);
		memcpy(&p->task_copy, d->task, abi->task_ops_size);
		c->task = &p->task_copy;
		if ((missing = plugin_task_missing(c->task)) != NULL)
			return plugin_refuse(p, "task plugin '%s' has no %s op (a task plugin must have "
			    "editor_view, parse_form, validate and describe)", c->name, missing);
		return 0;
	}
	if (d->export == NULL)
		return plugin_refuse(p, "export plugin '%s' has no export ops", c->name);
	if (d->export->struct_size != abi->export_ops_size)
		return plugin_refuse(p, "export plugin '%s': export ops struct_size %u, but its ABI "
		    "constant says %u (start the ops with LABELD_EXPORT_OPS_HEADER)", c->name,
		    (unsigned)d->export->struct_size, (unsigned)abi->export_ops_size);
	memcpy(&p->export_copy, d->export, abi->export_ops_size);
	c->export = &p->export_copy;
	if ((missing = plugin_export_missing(c->export)) != NULL)
		return plugin_refuse(p, "export plugin '%s' has no %s op (an export plugin must have "
		    "begin, item and end)", c->name, missing);
	if (!plugin_extension_valid(c->export->file_extension))
		return plugin_refuse(p, "export plugin '%s': missing or invalid file_extension "
		    "(must match [a-z0-9]{1,%d})", c->name, PLUGIN_EXTENSION_MAX);
	if (!plugin_text_valid(c->export->media_type))
		return plugin_refuse(p, "export plugin '%s': missing media_type (or it has control "
		    "characters)", c->name);
	if (c->export->passes > 2)
		return plugin_refuse(p, "export plugin '%s': passes is %u (must be 1 or 2)", c->name,
		    (unsigned)c->export->passes);
	if (c->export->passes == 0)
		p->export_copy.passes = 1;
	if (c->export->answer_passes == 0)
		p->export_copy.answer_passes = LABELD_PASS(1) | LABELD_PASS(2);
	if ((c->export->answer_passes & ((1u << c->export->passes) - 1u)) == 0 ||
	    (c->export->answer_passes & ~(LABELD_PASS(1) | LABELD_PASS(2))) != 0)
		return plugin_refuse(p, "export plugin '%s': answer_passes is %#x (a mask of "
		    "LABELD_PASS(n) naming at least one of its %u passes)", c->name,
		    (unsigned)c->export->answer_passes, (unsigned)c->export->passes);
	return 0;
}

/*
 * Check the descriptor d that p's init returned against its ABI constant
 * and the plugins loaded before it (set->v[0 .. idx-1]), copying it into p
 * on the way.  Passing every check sets p->desc; a failed one refuses p.
 * Returns 0, or -1 only when out of memory.
 */
static int plugin_check(struct plugin *p, const struct plugin_set *set, size_t idx,
    const struct labeld_plugin *d, const struct labeld_abi *abi)
{
	struct labeld_plugin *c = &p->desc_copy;
	char why[PATH_MAX + 160];

	/* struct_size is the first field in every ABI version. */
	if (d->struct_size != abi->plugin_size)
		return plugin_refuse(p, "descriptor struct_size %u, but its ABI constant says %u "
		    "(start the descriptor with LABELD_PLUGIN_HEADER)",
		    (unsigned)d->struct_size, (unsigned)abi->plugin_size);
	memset(c, 0, sizeof(*c));
	memcpy(c, d, abi->plugin_size);
	c->task = NULL;
	c->export = NULL;
	if (c->kind != LABELD_TASK && c->kind != LABELD_EXPORT)
		return plugin_refuse(p, "unknown plugin kind %d (expected %d for a task or %d for an export)",
		    (int)c->kind, (int)LABELD_TASK, (int)LABELD_EXPORT);
	if (c->name == NULL)
		return plugin_refuse(p, "missing plugin name");
	if (!plugin_name_valid(c->name))
		return plugin_refuse(p, "invalid plugin name (must match [a-z0-9_-]{1,%d})",
		    PLUGIN_NAME_MAX);
	if (!plugin_text_valid(c->title))
		return plugin_refuse(p, "plugin '%s': missing title (or it has control characters)",
		    c->name);
	if (!plugin_text_valid(c->version))
		return plugin_refuse(p, "plugin '%s': missing version (or it has control characters)",
		    c->name);
	if (plugin_check_ops(p, c, d, abi) < 0)
		return -1;
	if (p->error != NULL)
		return 0;
	for (size_t i = 0; i < idx; i++) {
		const struct plugin *q = &set->v[i];
		if (q->desc != NULL && strcmp(q->desc->name, c->name) == 0)
			return plugin_refuse(p, "duplicate plugin name '%s' (already loaded from %s)",
			    c->name, q->file);
	}
	if (plugin_templates_unsafe(set->dir, c->name, why, sizeof(why)))
		return plugin_refuse(p, "%s", why);
	p->desc = c;
	return 0;
}

/* How many descriptor numbers plugin_fd_unaliased tries before it gives up. */
#define PLUGIN_ALIAS_TRIES 256

/*
 * Move *fd to a descriptor number N whose name "/proc/self/fd/N" no loaded
 * object carries.  The dynamic loader knows an object by every name it was
 * opened under and looks names up before it opens anything, while
 * descriptor numbers are reused once closed: an object an older set shared
 * with a newer one keeps the name of the older set's closed descriptor, and
 * dlopen of that name would hand back that object instead of the file now
 * at that number.  Each candidate number is held by a placeholder
 * (/dev/null, which the loader cannot load, so only a name can match) while
 * its name is tested with RTLD_NOLOAD; the file is then moved onto the
 * first free one.  Returns 0, or -1 with errno.
 */
static int plugin_fd_unaliased(int *fd)
{
	int held[PLUGIN_ALIAS_TRIES], nheld = 0, rc = -1, saved;

	for (;;) {
		char name[32];
		void *h;
		int ph = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (ph < 0)
			break;
		snprintf(name, sizeof(name), "/proc/self/fd/%d", ph);
		h = dlopen(name, RTLD_LAZY | RTLD_NOLOAD);
		if (h == NULL) {
			if (dup3(*fd, ph, O_CLOEXEC) < 0) {
				close(ph);
				break;
			}
			close(*fd);
			*fd = ph;
			rc = 0;
			break;
		}
		dlclose(h);
		if (nheld == PLUGIN_ALIAS_TRIES) {
			close(ph);
			errno = EMFILE;
			break;
		}
		held[nheld++] = ph;
	}
	saved = errno;
	while (nheld > 0)
		close(held[--nheld]);
	dlerror();
	errno = saved;
	return rc;
}

/*
 * Open set->v[idx] (file and path filled in) and check it; dir_why: why the
 * plugin directory is not trusted, or NULL.  A refusal is recorded in the
 * entry; returns -1 only when out of memory.
 */
static int plugin_load_one(struct plugin_set *set, size_t idx, const struct labeld_host *host,
    const char *dir_why)
{
	struct plugin *p = &set->v[idx];
	const struct labeld_plugin *d;
	const struct labeld_abi *abi;
	char why[PATH_MAX + 160], fdpath[32];
	plugin_init_fn init;
	struct stat st;
	const char *e;

	if (dir_why != NULL)
		return plugin_refuse(p, "%s", dir_why);
	p->fd = open(p->path, O_RDONLY | O_CLOEXEC);
	if (p->fd < 0 || fstat(p->fd, &st) != 0)
		return plugin_refuse(p, "cannot read the file: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return plugin_refuse(p, "not a regular file");
	if (plugin_path_unsafe("the plugin file", p->path, &st, why, sizeof(why)))
		return plugin_refuse(p, "%s", why);
	if (plugin_fd_unaliased(&p->fd) != 0)
		return plugin_refuse(p, "cannot open the file for loading: %s", strerror(errno));
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", p->fd);
	/* A number whose name an old object still answers to: take another
	 * (the ones tried stay open until a free name is found). */
	int tried[16];
	size_t ntried = 0;
	while (ntried < sizeof(tried) / sizeof(tried[0]) && fd_name_taken(fdpath, &st)) {
		int nfd = fcntl(p->fd, F_DUPFD_CLOEXEC, 0);
		if (nfd < 0)
			break;
		tried[ntried++] = p->fd;
		p->fd = nfd;
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", p->fd);
	}
	for (size_t i = 0; i < ntried; i++)
		close(tried[i]);
	if (fd_name_taken(fdpath, &st))
		return plugin_refuse(p, "the loader has no free descriptor name to load it under");
	p->handle = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
	if (p->handle == NULL) {
		size_t fdlen = strlen(fdpath);

		/* The loader's message names the descriptor; the admin knows the file. */
		e = dlerror();
		if (e != NULL && strncmp(e, fdpath, fdlen) == 0)
			return plugin_refuse(p, "not a loadable shared object: %s%s", p->path,
			    e + fdlen);
		return plugin_refuse(p, "not a loadable shared object: %s",
		    e != NULL ? e : "unknown error");
	}
	/* The ABI constant first: no function of the plugin runs before it is
	 * known to fit. */
	abi = dlsym(p->handle, LABELD_PLUGIN_ABI_SYMBOL);
	if (abi == NULL || !plugin_symbol_own(p->handle, abi))
		return plugin_refuse(p, "no ABI constant %s (define the entry point with "
		    "LABELD_PLUGIN_INIT from <labeld/plugin.h>)", LABELD_PLUGIN_ABI_SYMBOL);
	if (plugin_abi_check(p, abi) < 0)
		return -1;
	if (p->error != NULL)
		return 0;
	dlerror();
	init = (plugin_init_fn)dlsym(p->handle, LABELD_PLUGIN_ENTRY);
	if (init == NULL)
		return plugin_refuse(p, "no entry symbol %s", LABELD_PLUGIN_ENTRY);
	d = init(host);
	if (d == NULL)
		return plugin_refuse(p, "plugin refused to load (init returned NULL)");
	if (plugin_check(p, set, idx, d, abi) < 0)
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
	char dir_why[PATH_MAX + 160];
	const char *dir_bad = NULL;
	struct plugin_set *set;
	char **names = NULL;
	size_t nnames = 0, dirlen;
	struct stat st;
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
		if (stat(set->dir, &st) != 0) {
			plugin_set_error(err, errlen, "plugin directory %s: %s", set->dir,
			    strerror(errno));
			plugin_names_free(names, nnames);
			plugin_set_free(set);
			return NULL;
		}
		/* An untrusted directory: every file in it is refused. */
		if (plugin_path_unsafe("the plugin directory", set->dir, &st, dir_why,
		    sizeof(dir_why)))
			dir_bad = dir_why;
	}
	for (size_t i = 0; i < nnames; i++) {
		struct plugin *p = &set->v[i];

		/* The set owns the name from here on. */
		p->file = names[i];
		p->fd = -1;
		names[i] = NULL;
		set->n++;
		if (asprintf(&p->path, "%s%s%s", set->dir,
		    strcmp(set->dir, "/") == 0 ? "" : "/", p->file) < 0) {
			p->path = NULL;
			goto oom;
		}
		if (plugin_load_one(set, i, host, dir_bad) < 0)
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
		if (p->fd >= 0)
			close(p->fd);
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
