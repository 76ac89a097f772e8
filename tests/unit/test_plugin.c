/*
 * test_plugin.c: the plugin loader against the test plugins in
 * tests/plugins/ (see tests/plugins/README.md).
 *
 * Each test builds its own plugin directory under $TMPDIR from the modules
 * libtool left in TEST_BUILDDIR/tests/plugins/.libs/, so it works in VPATH
 * builds and `make distcheck`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <json.h>

#include "plugin.h"

#ifndef TEST_BUILDDIR
#error "TEST_BUILDDIR must be defined (the Makefile passes it)"
#endif
#define TEST_PLUGIN_BUILD_DIR TEST_BUILDDIR "/tests/plugins/.libs"

/* ------------------------------------------------------------ mock host */

/* The host side of one request: everything handed out is freed at the end. */
struct labeld_ctx {
	void *mem[64];
	size_t nmem;
	struct json_object *json[16];
	size_t njson;
};

static int host_log_calls;
static const char *host_badfields_case;
/* When set, successive badfields loads get successive cases. */
static const char *const *host_badfields_seq;

static void *host_alloc(struct labeld_ctx *ctx, size_t size)
{
	void *p;

	if (ctx->nmem == sizeof(ctx->mem) / sizeof(ctx->mem[0]))
		return NULL;
	p = calloc(1, size != 0 ? size : 1);
	if (p != NULL)
		ctx->mem[ctx->nmem++] = p;
	return p;
}

static char *host_strdup(struct labeld_ctx *ctx, const char *s)
{
	char *p = host_alloc(ctx, strlen(s) + 1);

	if (p != NULL)
		strcpy(p, s);
	return p;
}

static struct json_object *host_json_own(struct labeld_ctx *ctx, struct json_object *obj)
{
	if (obj == NULL || ctx->njson == sizeof(ctx->json) / sizeof(ctx->json[0])) {
		json_object_put(obj);
		return NULL;
	}
	ctx->json[ctx->njson++] = obj;
	return obj;
}

static void host_log(enum labeld_log_level level, const char *plugin, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void host_log(enum labeld_log_level level, const char *plugin, const char *fmt, ...)
{
	va_list ap;

	host_log_calls++;
	fprintf(stderr, "[host log %d] %s: ", (int)level, plugin);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *host_config(const char *plugin, const char *key)
{
	if (strcmp(plugin, "badfields") == 0 && strcmp(key, "case") == 0)
		return host_badfields_seq != NULL ? *host_badfields_seq++ : host_badfields_case;
	return NULL;
}

static const struct labeld_host test_host = {
	.abi = LABELD_PLUGIN_ABI,
	.struct_size = sizeof(struct labeld_host),
	.alloc = host_alloc,
	.strdup = host_strdup,
	.json_own = host_json_own,
	.log = host_log,
	.config = host_config,
};

static void ctx_release(struct labeld_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nmem; i++)
		free(ctx->mem[i]);
	for (size_t i = 0; i < ctx->njson; i++)
		json_object_put(ctx->json[i]);
	memset(ctx, 0, sizeof(*ctx));
}

/* ------------------------------------------------------------ plugin dir */

static char plugdir[PATH_MAX];

/* Path of name inside the test plugin directory (static buffer). */
static const char *dir_path(const char *name)
{
	static char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", plugdir, name);
	return path;
}

/* Copy the built test plugin <src>.so into the directory as dst. */
static void install_plugin(const char *src, const char *dst)
{
	char from[PATH_MAX];
	char buf[8192];
	ssize_t n;
	int in, out;

	snprintf(from, sizeof(from), "%s/%s.so", TEST_PLUGIN_BUILD_DIR, src);
	in = open(from, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(in >= 0, "cannot open %s: %s (are the test plugins built? "
	    "`make check` builds them)", from, strerror(errno));
	out = open(dir_path(dst), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ck_assert_msg(out >= 0, "cannot create %s: %s", dir_path(dst), strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_msg(write(out, buf, (size_t)n) == n, "short write to %s", dir_path(dst));
	ck_assert_msg(n == 0, "read %s: %s", from, strerror(errno));
	close(in);
	ck_assert_int_eq(close(out), 0);
}

static void write_text(const char *name, const char *text)
{
	FILE *f = fopen(dir_path(name), "w");

	ck_assert_msg(f != NULL, "cannot create %s", dir_path(name));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(plugdir, sizeof(plugdir), "%s/labeld-plugin-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	ck_assert_msg(mkdtemp(plugdir) != NULL, "mkdtemp: %s", strerror(errno));
	host_log_calls = 0;
	host_badfields_case = NULL;
	host_badfields_seq = NULL;
}

static void teardown(void)
{
	DIR *d;
	struct dirent *de;

	chmod(plugdir, 0700);
	d = opendir(plugdir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) != 0)
			unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
	rmdir(plugdir);
}

/* The full directory: two good plugins, every broken kind, and files the
 * loader must skip. */
static void populate_full(void)
{
	install_plugin("testtask", "testtask.so");
	install_plugin("testexport", "testexport.so");
	install_plugin("badabi", "badabi.so");
	install_plugin("badsize", "badsize.so");
	install_plugin("noentry", "noentry.so");
	install_plugin("nullinit", "nullinit.so");
	/* Sorts after testtask.so, so testtask.so wins the name. */
	install_plugin("dupname", "zz-dupname.so");
	write_text("notso.so", "this is a text file, not a shared object\n");
	/* Skipped: hidden, not *.so, a directory, a dangling symlink. */
	install_plugin("testexport", ".hidden.so");
	write_text("README.txt", "plugins live here\n");
	write_text("testtask.so.bak", "old copy\n");
	ck_assert_int_eq(mkdir(dir_path("subdir.so"), 0700), 0);
	ck_assert_int_eq(symlink("does-not-exist.so", dir_path("dangling.so")), 0);
}

static const struct plugin *find_file(const struct plugin_set *set, const char *file)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].file, file) == 0)
			return &set->v[i];
	return NULL;
}

static void assert_refused(const struct plugin_set *set, const char *file, const char *reason)
{
	const struct plugin *p = find_file(set, file);

	ck_assert_msg(p != NULL, "%s is not in the set", file);
	ck_assert_msg(p->desc == NULL && p->handle == NULL, "%s was not refused", file);
	ck_assert_msg(p->error != NULL, "%s has no reason", file);
	ck_assert_str_eq(p->error, reason);
	ck_assert_str_eq(p->path, dir_path(file));
}

static void assert_loaded(const struct plugin_set *set, const char *file,
    enum labeld_plugin_kind kind, const char *name, const char *title)
{
	const struct plugin *p = find_file(set, file);

	ck_assert_msg(p != NULL, "%s is not in the set", file);
	ck_assert_msg(p->desc != NULL, "%s was refused: %s", file,
	    p->error != NULL ? p->error : "(no reason)");
	ck_assert_ptr_nonnull(p->handle);
	ck_assert_ptr_null(p->error);
	ck_assert_int_eq(p->desc->kind, kind);
	ck_assert_str_eq(p->desc->name, name);
	ck_assert_str_eq(p->desc->title, title);
	ck_assert_str_eq(p->desc->version, "1.0");
	ck_assert_str_eq(p->path, dir_path(file));
	ck_assert_ptr_eq(plugin_find(set, kind, name), p);
}

/* Every outcome of the full directory. */
static void assert_full_set(const struct plugin_set *set)
{
	static const char *order[] = {
		"badabi.so", "badsize.so", "noentry.so", "notso.so", "nullinit.so",
		"testexport.so", "testtask.so", "zz-dupname.so",
	};
	char reason[256];
	const struct plugin *p;

	ck_assert_ptr_nonnull(set);
	ck_assert_str_eq(set->dir, plugdir);
	ck_assert_uint_eq(set->n, sizeof(order) / sizeof(order[0]));
	for (size_t i = 0; i < set->n; i++)
		ck_assert_str_eq(set->v[i].file, order[i]);
	ck_assert_uint_eq(plugin_set_refused(set), 6);

	assert_loaded(set, "testtask.so", LABELD_TASK, "testtask", "Test task");
	assert_loaded(set, "testexport.so", LABELD_EXPORT, "testexport", "Test export");
	p = find_file(set, "testtask.so");
	ck_assert_str_eq(p->desc->task->description, "A task type used by labeld's tests");

	snprintf(reason, sizeof(reason), "built for plugin ABI %u, labeld has %u",
	    (unsigned)LABELD_PLUGIN_ABI + 1, (unsigned)LABELD_PLUGIN_ABI);
	assert_refused(set, "badabi.so", reason);
	snprintf(reason, sizeof(reason),
	    "descriptor size %zu, expected %zu (not binary compatible)",
	    sizeof(struct labeld_plugin) + 8, sizeof(struct labeld_plugin));
	assert_refused(set, "badsize.so", reason);
	assert_refused(set, "noentry.so", "no entry symbol labeld_plugin_init");
	assert_refused(set, "nullinit.so", "plugin refused to load (init returned NULL)");
	assert_refused(set, "zz-dupname.so",
	    "duplicate plugin name 'testtask' (already loaded from testtask.so)");

	p = find_file(set, "notso.so");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(p->desc);
	ck_assert_ptr_null(p->handle);
	ck_assert_msg(strncmp(p->error, "not a loadable shared object: ", 30) == 0 &&
	    strlen(p->error) > 30, "notso.so: %s", p->error);
}

/* ------------------------------------------------------------ tests */

START_TEST(test_load_directory)
{
	char err[256] = "";
	struct plugin_set *set;

	populate_full();
	set = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(set != NULL, "load failed: %s", err);
	assert_full_set(set);
	/* nullinit said why through the host's log before returning NULL. */
	ck_assert_int_eq(host_log_calls, 1);
	plugin_set_free(set);
}
END_TEST

START_TEST(test_find)
{
	char err[256] = "";
	struct plugin_set *set;

	populate_full();
	set = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(set != NULL, "load failed: %s", err);
	ck_assert_ptr_nonnull(plugin_find(set, LABELD_TASK, "testtask"));
	ck_assert_ptr_nonnull(plugin_find(set, LABELD_EXPORT, "testexport"));
	/* Kind must match; refused plugins are never found. */
	ck_assert_ptr_null(plugin_find(set, LABELD_EXPORT, "testtask"));
	ck_assert_ptr_null(plugin_find(set, LABELD_TASK, "testexport"));
	ck_assert_ptr_null(plugin_find(set, LABELD_TASK, "badabi"));
	ck_assert_ptr_null(plugin_find(set, LABELD_TASK, "badsize"));
	ck_assert_ptr_null(plugin_find(set, LABELD_TASK, "nope"));
	ck_assert_ptr_null(plugin_find(set, LABELD_TASK, ""));
	ck_assert_ptr_null(plugin_find(set, LABELD_TASK, NULL));
	ck_assert_ptr_null(plugin_find(NULL, LABELD_TASK, "testtask"));
	/* The duplicate did not replace the first one. */
	ck_assert_str_eq(plugin_find(set, LABELD_TASK, "testtask")->file, "testtask.so");
	plugin_set_free(set);
}
END_TEST

START_TEST(test_task_ops)
{
	static const struct labeld_label labels[] = {
		{ .id = 11, .name = "cat", .key = 1 },
		{ .id = 12, .name = "dog", .key = 2 },
	};
	static const struct labeld_item item = {
		.id = 5, .path = "a/b.png", .width = 10, .height = 20, .format = "png",
	};
	struct labeld_field fields[3];
	struct labeld_ctx ctx = { .nmem = 0 };
	const struct labeld_task_ops *ops;
	struct json_object *ann = NULL, *bad;
	struct labeld_box *boxes;
	const char *error;
	int64_t *ids;
	size_t nids, nboxes;
	char err[256] = "";
	struct plugin_set *set;
	const struct plugin *p;

	install_plugin("testtask", "testtask.so");
	set = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(set != NULL, "load failed: %s", err);
	p = plugin_find(set, LABELD_TASK, "testtask");
	ck_assert_ptr_nonnull(p);
	ops = p->desc->task;
	ck_assert_ptr_nonnull(ops->validate);
	ck_assert_ptr_nonnull(ops->describe);

	/* A good form. */
	fields[0] = (struct labeld_field){ "csrf", "x" };
	fields[1] = (struct labeld_field){ "label", "12" };
	error = NULL;
	ck_assert_int_eq(ops->parse_form(&ctx, &item, labels, 2, fields, 2, &ann, &error), 0);
	ck_assert_ptr_nonnull(ann);
	ck_assert_str_eq(json_object_to_json_string_ext(ann, JSON_C_TO_STRING_PLAIN),
	    "{\"label\":12}");
	ck_assert_int_eq(ops->validate(&ctx, &item, labels, 2, ann, &error), 0);
	ck_assert_int_eq(ops->describe(&ctx, ann, &ids, &nids, &boxes, &nboxes, &error), 0);
	ck_assert_uint_eq(nids, 1);
	ck_assert_int_eq(ids[0], 12);
	ck_assert_uint_eq(nboxes, 0);

	/* Missing, unknown, malformed and repeated labels. */
	error = NULL;
	ck_assert_int_eq(ops->parse_form(&ctx, &item, labels, 2, fields, 1, &ann, &error), -1);
	ck_assert_str_eq(error, "Choose a label.");
	fields[1].value = "13";
	error = NULL;
	ck_assert_int_eq(ops->parse_form(&ctx, &item, labels, 2, fields, 2, &ann, &error), -1);
	ck_assert_ptr_nonnull(error);
	fields[1].value = "12abc";
	error = NULL;
	ck_assert_int_eq(ops->parse_form(&ctx, &item, labels, 2, fields, 2, &ann, &error), -1);
	ck_assert_ptr_nonnull(error);
	fields[1].value = "11";
	fields[2] = (struct labeld_field){ "label", "12" };
	error = NULL;
	ck_assert_int_eq(ops->parse_form(&ctx, &item, labels, 2, fields, 3, &ann, &error), -1);
	ck_assert_str_eq(error, "Choose only one label.");

	/* validate refuses annotations that do not fit. */
	bad = host_json_own(&ctx, json_tokener_parse("{\"label\":99}"));
	error = NULL;
	ck_assert_int_eq(ops->validate(&ctx, &item, labels, 2, bad, &error), -1);
	ck_assert_ptr_nonnull(error);
	bad = host_json_own(&ctx, json_tokener_parse("{\"label\":\"11\"}"));
	ck_assert_int_eq(ops->validate(&ctx, &item, labels, 2, bad, &error), -1);
	bad = host_json_own(&ctx, json_tokener_parse("[11]"));
	ck_assert_int_eq(ops->validate(&ctx, &item, labels, 2, bad, &error), -1);
	ck_assert_int_eq(ops->describe(&ctx, bad, &ids, &nids, &boxes, &nboxes, &error), -1);

	ctx_release(&ctx);
	plugin_set_free(set);
}
END_TEST

struct membuf {
	char data[256];
	size_t len;
};

static int membuf_write(void *opaque, const void *data, size_t len)
{
	struct membuf *m = opaque;

	if (len > sizeof(m->data) - m->len)
		return -1;
	memcpy(m->data + m->len, data, len);
	m->len += len;
	return 0;
}

START_TEST(test_export_ops)
{
	static const struct labeld_label labels[] = { { .id = 1, .name = "cat", .key = 1 } };
	static const struct labeld_export_project project = {
		.id = 3, .name = "Cats", .task = "testtask", .labels = labels, .nlabels = 1,
	};
	static const struct labeld_item items[] = {
		{ .id = 7, .path = "x/1.png", .width = 1, .height = 1, .format = "png" },
		{ .id = 42, .path = "x/2.jpg", .width = 1, .height = 1, .format = "jpeg" },
	};
	static const int64_t ids[] = { 1 };
	struct membuf buf = { .len = 0 };
	struct labeld_export_sink sink = { .opaque = &buf, .write = membuf_write };
	struct labeld_ctx ctx = { .nmem = 0 };
	const struct labeld_export_ops *ops;
	const char *error = NULL;
	void *state = NULL;
	char err[256] = "";
	struct plugin_set *set;
	const struct plugin *p;

	install_plugin("testexport", "testexport.so");
	set = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(set != NULL, "load failed: %s", err);
	p = plugin_find(set, LABELD_EXPORT, "testexport");
	ck_assert_ptr_nonnull(p);
	ops = p->desc->export;
	ck_assert_int_eq(ops->begin(&ctx, &state, &project, &sink, &error), 0);
	for (size_t i = 0; i < 2; i++)
		ck_assert_int_eq(ops->item(&ctx, state, &items[i], "url", ids, 1, NULL, 0,
		    &error), 0);
	ck_assert_int_eq(ops->end(&ctx, state, &error), 0);
	ck_assert_uint_eq(buf.len, strlen("7\tx/1.png\n42\tx/2.jpg\n"));
	ck_assert(memcmp(buf.data, "7\tx/1.png\n42\tx/2.jpg\n", buf.len) == 0);
	ctx_release(&ctx);
	plugin_set_free(set);
}
END_TEST

/* One broken descriptor per case of badfields.so (see badfields.c). */
static const struct {
	const char *name;
	const char *reason;   /* NULL: loads */
} badfields_cases[] = {
	{ "valid", NULL },
	{ "maxname", NULL },
	{ "export", NULL },
	{ "kind", "unknown plugin kind 7 (expected 1 for a task or 2 for an export)" },
	{ "noname", "missing plugin name" },
	{ "emptyname", "invalid plugin name (must match [a-z0-9_-]{1,32})" },
	{ "upper", "invalid plugin name (must match [a-z0-9_-]{1,32})" },
	{ "space", "invalid plugin name (must match [a-z0-9_-]{1,32})" },
	{ "longname", "invalid plugin name (must match [a-z0-9_-]{1,32})" },
	{ "notitle", "plugin 'badfields': missing title (or it has control characters)" },
	{ "emptytitle", "plugin 'badfields': missing title (or it has control characters)" },
	{ "noversion", "plugin 'badfields': missing version (or it has control characters)" },
	{ "ctrlversion", "plugin 'badfields': missing version (or it has control characters)" },
	{ "notaskops", "task plugin 'badfields' has no task ops" },
	{ "noparse", "task plugin 'badfields' has no parse_form op" },
	{ "noexportops", "export plugin 'badfields' has no export ops" },
	{ "noitem", "export plugin 'badfields' has no item op" },
};

START_TEST(test_descriptor_fields)
{
	char err[256] = "";
	struct plugin_set *set;

	install_plugin("badfields", "badfields.so");
	host_badfields_case = badfields_cases[_i].name;
	set = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(set != NULL, "load failed: %s", err);
	ck_assert_uint_eq(set->n, 1);
	if (badfields_cases[_i].reason == NULL) {
		ck_assert_msg(set->v[0].desc != NULL, "case %s refused: %s",
		    badfields_cases[_i].name, set->v[0].error);
		ck_assert_uint_eq(plugin_set_refused(set), 0);
	} else {
		ck_assert_msg(set->v[0].error != NULL, "case %s loaded",
		    badfields_cases[_i].name);
		ck_assert_str_eq(set->v[0].error, badfields_cases[_i].reason);
		ck_assert_ptr_null(set->v[0].desc);
		ck_assert_ptr_null(set->v[0].handle);
		ck_assert_uint_eq(plugin_set_refused(set), 1);
	}
	plugin_set_free(set);
}
END_TEST

START_TEST(test_duplicate_across_kinds)
{
	static const char *const seq[] = { "valid", "export" };
	char err[256] = "";
	struct plugin_set *set;

	/* a.so is task "badfields"; b.so, an export plugin, may not take the
	 * same name. */
	install_plugin("badfields", "a.so");
	install_plugin("badfields", "b.so");
	host_badfields_seq = seq;
	set = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(set != NULL, "load failed: %s", err);
	ck_assert_uint_eq(set->n, 2);
	ck_assert_ptr_nonnull(set->v[0].desc);
	ck_assert_int_eq(set->v[0].desc->kind, LABELD_TASK);
	ck_assert_str_eq(set->v[1].error,
	    "duplicate plugin name 'badfields' (already loaded from a.so)");
	ck_assert_ptr_null(plugin_find(set, LABELD_EXPORT, "badfields"));
	plugin_set_free(set);
}
END_TEST

START_TEST(test_missing_dir)
{
	char err[256] = "";
	char missing[PATH_MAX + 64];
	struct plugin_set *set;

	snprintf(missing, sizeof(missing), "%s/does-not-exist", plugdir);
	set = plugin_set_load(missing, &test_host, err, sizeof(err));
	ck_assert_msg(set != NULL, "a missing directory must give an empty set: %s", err);
	ck_assert_uint_eq(set->n, 0);
	ck_assert_uint_eq(plugin_set_refused(set), 0);
	ck_assert_str_eq(set->dir, missing);
	ck_assert_ptr_null(plugin_find(set, LABELD_TASK, "testtask"));
	plugin_set_free(set);
}
END_TEST

START_TEST(test_empty_dir)
{
	char err[256] = "";
	struct plugin_set *set;

	write_text("notes.txt", "nothing here\n");
	set = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(set != NULL, "load failed: %s", err);
	ck_assert_uint_eq(set->n, 0);
	plugin_set_free(set);
}
END_TEST

START_TEST(test_unusable_dir)
{
	char err[256] = "";

	/* A file where the directory should be. */
	write_text("file", "x\n");
	ck_assert_ptr_null(plugin_set_load(dir_path("file"), &test_host, err, sizeof(err)));
	ck_assert_msg(strstr(err, "Not a directory") != NULL, "err: %s", err);

	/* No host table, no directory. */
	err[0] = '\0';
	ck_assert_ptr_null(plugin_set_load(plugdir, NULL, err, sizeof(err)));
	ck_assert_msg(err[0] != '\0', "no reason given");
	ck_assert_ptr_null(plugin_set_load(NULL, &test_host, NULL, 0));

	/* Unreadable (root reads anything, so only as another user). */
	if (geteuid() != 0) {
		err[0] = '\0';
		ck_assert_int_eq(chmod(plugdir, 0), 0);
		ck_assert_ptr_null(plugin_set_load(plugdir, &test_host, err, sizeof(err)));
		ck_assert_msg(strstr(err, "Permission denied") != NULL, "err: %s", err);
		ck_assert_int_eq(chmod(plugdir, 0700), 0);
	}
}
END_TEST

START_TEST(test_trailing_slash)
{
	char err[256] = "";
	char dir[PATH_MAX + 8];
	struct plugin_set *set;

	install_plugin("testtask", "testtask.so");
	snprintf(dir, sizeof(dir), "%s//", plugdir);
	set = plugin_set_load(dir, &test_host, err, sizeof(err));
	ck_assert_msg(set != NULL, "load failed: %s", err);
	ck_assert_str_eq(set->dir, plugdir);
	ck_assert_uint_eq(set->n, 1);
	ck_assert_str_eq(set->v[0].path, dir_path("testtask.so"));
	ck_assert_ptr_nonnull(set->v[0].desc);
	plugin_set_free(set);
}
END_TEST

START_TEST(test_reload)
{
	char err[256] = "";
	struct plugin_set *a, *b;

	populate_full();
	/* load, free, load again */
	a = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(a != NULL, "load failed: %s", err);
	assert_full_set(a);
	plugin_set_free(a);
	a = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(a != NULL, "reload failed: %s", err);
	assert_full_set(a);

	/* A SIGHUP reload: the new set is built while the old one is in use. */
	b = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(b != NULL, "second set failed: %s", err);
	assert_full_set(b);
	plugin_set_free(a);
	/* The new set's plugins still work after the old set is gone. */
	ck_assert_str_eq(plugin_find(b, LABELD_TASK, "testtask")->desc->title, "Test task");
	ck_assert_str_eq(plugin_find(b, LABELD_EXPORT, "testexport")->desc->export->media_type,
	    "text/tab-separated-values");
	plugin_set_free(b);
}
END_TEST

START_TEST(test_helpers)
{
	ck_assert_str_eq(plugin_kind_name(LABELD_TASK), "task");
	ck_assert_str_eq(plugin_kind_name(LABELD_EXPORT), "export");
	ck_assert_str_eq(plugin_kind_name((enum labeld_plugin_kind)0), "unknown");
	ck_assert_uint_eq(plugin_set_refused(NULL), 0);
	plugin_set_free(NULL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("plugin");
	TCase *tc = tcase_create("loader");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_load_directory);
	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_task_ops);
	tcase_add_test(tc, test_export_ops);
	tcase_add_loop_test(tc, test_descriptor_fields, 0,
	    (int)(sizeof(badfields_cases) / sizeof(badfields_cases[0])));
	tcase_add_test(tc, test_duplicate_across_kinds);
	tcase_add_test(tc, test_missing_dir);
	tcase_add_test(tc, test_empty_dir);
	tcase_add_test(tc, test_unusable_dir);
	tcase_add_test(tc, test_trailing_slash);
	tcase_add_test(tc, test_reload);
	tcase_add_test(tc, test_helpers);
	suite_add_tcase(s, tc);
	return s;
}

#include "unit.h"
