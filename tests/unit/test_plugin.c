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
#include <ftw.h>
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

#include "buf.h"
#include "log.h"
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
/* Where badabi.c's init would record that it ran (see setup). */
static char host_badabi_marker[PATH_MAX + 64];
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
	if (strcmp(plugin, "badabi") == 0 && strcmp(key, "marker") == 0)
		return host_badabi_marker;
	return NULL;
}

static const struct labeld_host test_host = {
	.abi_major = LABELD_PLUGIN_ABI_MAJOR,
	.abi_minor = LABELD_PLUGIN_ABI_MINOR,
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
	/* Whatever the umask: the loader refuses files others may write. */
	ck_assert_int_eq(chmod(dir_path(name), 0644), 0);
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
	snprintf(host_badabi_marker, sizeof(host_badabi_marker), "%s/badabi-init-ran", plugdir);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void teardown(void)
{
	chmod(plugdir, 0700);
	nftw(plugdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The full directory: two good plugins, every broken kind, and files the
 * loader must skip. */
static void populate_full(void)
{
	install_plugin("testtask", "testtask.so");
	install_plugin("testexport", "testexport.so");
	install_plugin("badabi", "badabi.so");
	install_plugin("badminor", "badminor.so");
	install_plugin("badsize", "badsize.so");
	install_plugin("noabi", "noabi.so");
	install_plugin("noeditor", "noeditor.so");
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

/* The refusals of the four builds of badabi.c, none of whose init ran. */
static void assert_abi_refusals(const struct plugin_set *set)
{
	char reason[256];

	snprintf(reason, sizeof(reason),
	    "built for plugin ABI %u.0, labeld has %u.%u (the major versions differ)",
	    LABELD_PLUGIN_ABI_MAJOR + 1, LABELD_PLUGIN_ABI_MAJOR, LABELD_PLUGIN_ABI_MINOR);
	assert_refused(set, "badabi.so", reason);
	snprintf(reason, sizeof(reason), "built for plugin ABI %u.%u, newer than labeld's %u.%u",
	    LABELD_PLUGIN_ABI_MAJOR, LABELD_PLUGIN_ABI_MINOR + 1,
	    LABELD_PLUGIN_ABI_MAJOR, LABELD_PLUGIN_ABI_MINOR);
	assert_refused(set, "badminor.so", reason);
	snprintf(reason, sizeof(reason), "descriptor size %zu, expected %zu (not binary compatible)",
	    sizeof(struct labeld_plugin) + 8, sizeof(struct labeld_plugin));
	assert_refused(set, "badsize.so", reason);
	assert_refused(set, "noabi.so", "no ABI constant labeld_plugin_abi (define the entry "
	    "point with LABELD_PLUGIN_INIT from <labeld/plugin.h>)");
	ck_assert_msg(access(host_badabi_marker, F_OK) != 0 && errno == ENOENT,
	    "the init of a plugin with a bad ABI constant ran (%s exists)", host_badabi_marker);
}

/* Every outcome of the full directory. */
static void assert_full_set(const struct plugin_set *set)
{
	static const char *order[] = {
		"badabi.so", "badminor.so", "badsize.so", "noabi.so", "noeditor.so",
		"noentry.so", "notso.so", "nullinit.so", "testexport.so", "testtask.so",
		"zz-dupname.so",
	};
	const struct plugin *p;

	ck_assert_ptr_nonnull(set);
	ck_assert_str_eq(set->dir, plugdir);
	ck_assert_uint_eq(set->n, sizeof(order) / sizeof(order[0]));
	for (size_t i = 0; i < set->n; i++)
		ck_assert_str_eq(set->v[i].file, order[i]);
	ck_assert_uint_eq(plugin_set_refused(set), 9);

	assert_loaded(set, "testtask.so", LABELD_TASK, "testtask", "Test task");
	assert_loaded(set, "testexport.so", LABELD_EXPORT, "testexport", "Test export");
	p = find_file(set, "testtask.so");
	ck_assert_str_eq(p->desc->task->description, "A task type used by labeld's tests");

	assert_abi_refusals(set);
	assert_refused(set, "noeditor.so", "task plugin 'noeditor' has no editor_view op "
	    "(a task plugin must have editor_view, parse_form, validate and describe)");
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

/* The project and item the task ops tests hand to a plugin. */
static const struct labeld_label task_labels[] = {
	{ .id = 11, .name = "cat", .key = 1 },
	{ .id = 12, .name = "dog", .key = 2 },
};
static const struct labeld_item task_item = {
	.id = 5, .path = "a/b.png", .width = 10, .height = 20, .format = "png",
};

/* A form choosing label 12 ("dog") becomes {"label":12}, which validate
 * accepts and describe turns into the one label id 12, without boxes. */
static void assert_label_answer(const struct labeld_task_ops *ops, struct labeld_ctx *ctx,
    const struct labeld_field *fields, size_t nfields)
{
	struct json_object *ann = NULL;
	const char *error = NULL;
	struct labeld_box *boxes;
	size_t nids, nboxes;
	int64_t *ids;

	ck_assert_int_eq(ops->parse_form(ctx, &task_item, task_labels, 2, fields, nfields, &ann,
	    &error), 0);
	ck_assert_ptr_nonnull(ann);
	ck_assert_str_eq(json_object_to_json_string_ext(ann, JSON_C_TO_STRING_PLAIN),
	    "{\"label\":12}");
	ck_assert_int_eq(ops->validate(ctx, &task_item, task_labels, 2, ann, &error), 0);
	ck_assert_int_eq(ops->describe(ctx, ann, &ids, &nids, &boxes, &nboxes, &error), 0);
	ck_assert_uint_eq(nids, 1);
	ck_assert_int_eq(ids[0], 12);
	ck_assert_uint_eq(nboxes, 0);
}

START_TEST(test_task_ops)
{
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
	assert_label_answer(ops, &ctx, fields, 2);

	/* Missing, unknown, malformed and repeated labels. */
	error = NULL;
	ck_assert_int_eq(ops->parse_form(&ctx, &task_item, task_labels, 2, fields, 1, &ann, &error), -1);
	ck_assert_str_eq(error, "Choose a label.");
	fields[1].value = "13";
	error = NULL;
	ck_assert_int_eq(ops->parse_form(&ctx, &task_item, task_labels, 2, fields, 2, &ann, &error), -1);
	ck_assert_ptr_nonnull(error);
	fields[1].value = "12abc";
	error = NULL;
	ck_assert_int_eq(ops->parse_form(&ctx, &task_item, task_labels, 2, fields, 2, &ann, &error), -1);
	ck_assert_ptr_nonnull(error);
	fields[1].value = "11";
	fields[2] = (struct labeld_field){ "label", "12" };
	error = NULL;
	ck_assert_int_eq(ops->parse_form(&ctx, &task_item, task_labels, 2, fields, 3, &ann, &error), -1);
	ck_assert_str_eq(error, "Choose only one label.");

	/* validate refuses annotations that do not fit. */
	bad = host_json_own(&ctx, json_tokener_parse("{\"label\":99}"));
	error = NULL;
	ck_assert_int_eq(ops->validate(&ctx, &task_item, task_labels, 2, bad, &error), -1);
	ck_assert_ptr_nonnull(error);
	bad = host_json_own(&ctx, json_tokener_parse("{\"label\":\"11\"}"));
	ck_assert_int_eq(ops->validate(&ctx, &task_item, task_labels, 2, bad, &error), -1);
	bad = host_json_own(&ctx, json_tokener_parse("[11]"));
	ck_assert_int_eq(ops->validate(&ctx, &task_item, task_labels, 2, bad, &error), -1);
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
		.struct_size = sizeof(struct labeld_export_project),
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
	ck_assert_uint_eq(ops->passes, 1);   /* 0 in the plugin: one pass */
	for (size_t i = 0; i < 2; i++) {
		struct labeld_export_item it = {
			.struct_size = sizeof(it), .item = &items[i], .image_url = "url",
			.label_ids = ids, .nlabel_ids = 1,
		};
		ck_assert_int_eq(ops->item(&ctx, state, 1, &it, &error), 0);
	}
	ck_assert_int_eq(ops->end(&ctx, state, &error), 0);
	ck_assert_uint_eq(buf.len, strlen("7\tx/1.png\n42\tx/2.jpg\n"));
	ck_assert(memcmp(buf.data, "7\tx/1.png\n42\tx/2.jpg\n", buf.len) == 0);
	ctx_release(&ctx);
	plugin_set_free(set);
}
END_TEST

/* One broken descriptor per case of badfields.so (see badfields.c). */
#define NO_TASK_OP(op) "task plugin 'badfields' has no " op " op (a task plugin must have " \
	"editor_view, parse_form, validate and describe)"
#define NO_EXPORT_OP(op) "export plugin 'badfields' has no " op " op (an export plugin must " \
	"have begin, item and end)"
static const struct {
	const char *name;
	const char *reason;   /* NULL: loads */
} badfields_cases[] = {
	{ "valid", NULL },
	{ "required", NULL },
	{ "maxname", NULL },
	{ "export", NULL },
	{ "kind", "unknown plugin kind 7 (expected 1 for a task or 2 for an export)" },
	{ "descsize", NULL },   /* the reason has numbers: see test_descriptor_fields */
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
	{ "noeditor", NO_TASK_OP("editor_view") },
	{ "noparse", NO_TASK_OP("parse_form") },
	{ "novalidate", NO_TASK_OP("validate") },
	{ "nodescribe", NO_TASK_OP("describe") },
	{ "taskopssize", NULL },
	{ "noexportops", "export plugin 'badfields' has no export ops" },
	{ "nobegin", NO_EXPORT_OP("begin") },
	{ "noitem", NO_EXPORT_OP("item") },
	{ "noend", NO_EXPORT_OP("end") },
	{ "noext", "export plugin 'badfields': missing or invalid file_extension "
	    "(must match [a-z0-9]{1,16})" },
	{ "badext", "export plugin 'badfields': missing or invalid file_extension "
	    "(must match [a-z0-9]{1,16})" },
	{ "nomedia", "export plugin 'badfields': missing media_type (or it has control characters)" },
	{ "exportopssize", NULL },
	{ "passes", "export plugin 'badfields': passes is 3 (must be 1 or 2)" },
	{ "answerpass", "export plugin 'badfields': answer_passes is 0x2 (a mask of LABELD_PASS(n) "
	    "naming at least one of its 1 passes)" },
	{ "answerbits", "export plugin 'badfields': answer_passes is 0x6 (a mask of LABELD_PASS(n) "
	    "naming at least one of its 2 passes)" },
};

/* The reasons that carry struct sizes, for the cases that leave it NULL
 * above; NULL when the case loads.  Static buffer. */
static const char *badfields_size_reason(const char *name)
{
	static char reason[256];

	if (strcmp(name, "descsize") == 0)
		snprintf(reason, sizeof(reason), "descriptor struct_size %zu, but its ABI constant "
		    "says %zu (start the descriptor with LABELD_PLUGIN_HEADER)",
		    sizeof(struct labeld_plugin) + 8, sizeof(struct labeld_plugin));
	else if (strcmp(name, "taskopssize") == 0)
		snprintf(reason, sizeof(reason), "task plugin 'badfields': task ops struct_size 0, but "
		    "its ABI constant says %zu (start the ops with LABELD_TASK_OPS_HEADER)",
		    sizeof(struct labeld_task_ops));
	else if (strcmp(name, "exportopssize") == 0)
		snprintf(reason, sizeof(reason), "export plugin 'badfields': export ops struct_size "
		    "%zu, but its ABI constant says %zu (start the ops with LABELD_EXPORT_OPS_HEADER)",
		    sizeof(struct labeld_export_ops) + 8, sizeof(struct labeld_export_ops));
	else
		return NULL;
	return reason;
}

START_TEST(test_descriptor_fields)
{
	const char *reason = badfields_cases[_i].reason;
	char err[256] = "";
	struct plugin_set *set;

	install_plugin("badfields", "badfields.so");
	host_badfields_case = badfields_cases[_i].name;
	if (reason == NULL)
		reason = badfields_size_reason(host_badfields_case);
	set = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(set != NULL, "load failed: %s", err);
	ck_assert_uint_eq(set->n, 1);
	if (reason == NULL) {
		ck_assert_msg(set->v[0].desc != NULL, "case %s refused: %s",
		    badfields_cases[_i].name, set->v[0].error);
		ck_assert_uint_eq(plugin_set_refused(set), 0);
	} else {
		ck_assert_msg(set->v[0].error != NULL, "case %s loaded",
		    badfields_cases[_i].name);
		ck_assert_str_eq(set->v[0].error, reason);
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

/* A reload while the old set lives loads a file replaced on disk (a new
 * file renamed over the old name, as install(1) and package managers do),
 * not the object the old set still holds under that name. */
START_TEST(test_reload_replaced_file)
{
	char err[256] = "", from[PATH_MAX + 64];
	struct plugin_set *a, *b;

	install_plugin("testtask", "x.so");
	a = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(a != NULL, "load failed: %s", err);
	ck_assert_ptr_nonnull(plugin_find(a, LABELD_TASK, "testtask"));

	install_plugin("testexport", "x.so.new");
	snprintf(from, sizeof(from), "%s", dir_path("x.so.new"));
	ck_assert_int_eq(rename(from, dir_path("x.so")), 0);
	b = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(b != NULL, "reload failed: %s", err);
	ck_assert_ptr_null(plugin_find(b, LABELD_TASK, "testtask"));
	ck_assert_ptr_nonnull(plugin_find(b, LABELD_EXPORT, "testexport"));
	/* The old set keeps its own object until it is freed. */
	ck_assert_str_eq(plugin_find(a, LABELD_TASK, "testtask")->desc->title, "Test task");
	plugin_set_free(a);
	ck_assert_str_eq(plugin_find(b, LABELD_EXPORT, "testexport")->desc->export->media_type,
	    "text/tab-separated-values");
	plugin_set_free(b);
}
END_TEST

/* The dynamic loader knows an object by every name it was opened under,
 * and plugins are opened as /proc/self/fd/N: an object two sets shared
 * keeps the first set's name after that set closed its descriptor, and a
 * later load whose file gets that descriptor number must still load its own
 * file, not the object known by the name (seen as every plugin after a
 * second SIGHUP turning into another one). */
START_TEST(test_reload_reused_descriptor)
{
	char err[256] = "";
	struct plugin_set *a, *b, *c;

	install_plugin("testtask", "x.so");
	a = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(a != NULL, "load failed: %s", err);
	b = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(b != NULL, "reload failed: %s", err);
	/* The object lives on in b under a's name; a's descriptor is closed. */
	plugin_set_free(a);
	ck_assert_int_eq(unlink(dir_path("x.so")), 0);
	install_plugin("testexport", "y.so");
	c = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(c != NULL, "third load failed: %s", err);
	ck_assert_uint_eq(c->n, 1);
	ck_assert_msg(c->v[0].desc != NULL, "y.so refused: %s", c->v[0].error);
	ck_assert_str_eq(c->v[0].desc->name, "testexport");
	ck_assert_ptr_null(plugin_find(c, LABELD_TASK, "testtask"));
	ck_assert_str_eq(plugin_find(b, LABELD_TASK, "testtask")->desc->title, "Test task");
	plugin_set_free(b);
	plugin_set_free(c);
}
END_TEST

/* Three generations of SIGHUP: a set built while the old one lives shares
 * its objects, and the loader knows each object also by the old set's
 * descriptor name (/proc/self/fd/N) after that descriptor is closed.  A
 * third set whose files get those numbers in another order (here one
 * descriptor taken in between) must still load each file, not the object
 * an old name points at. */
START_TEST(test_reload_fd_names_reused)
{
	char err[256] = "";
	struct plugin_set *a, *b, *c;
	int hold;

	install_plugin("testtask", "a.so");
	install_plugin("testexport", "b.so");
	a = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(a != NULL, "load failed: %s", err);
	b = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(b != NULL, "reload failed: %s", err);
	plugin_set_free(a);
	hold = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(hold, 0);
	c = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(c != NULL, "third load failed: %s", err);
	close(hold);
	ck_assert_msg(find_file(c, "a.so")->error == NULL, "a.so: %s", find_file(c, "a.so")->error);
	ck_assert_msg(find_file(c, "b.so")->error == NULL, "b.so: %s", find_file(c, "b.so")->error);
	ck_assert_str_eq(find_file(c, "a.so")->desc->name, "testtask");
	ck_assert_str_eq(find_file(c, "b.so")->desc->name, "testexport");
	plugin_set_free(b);
	plugin_set_free(c);
}
END_TEST

/* A plugin whose ABI constant does not fit is refused before its init
 * runs: the four builds of badabi.c, whose init would create the marker
 * file and abort (killing this test), each alone and all together. */
START_TEST(test_abi_before_init)
{
	static const char *const names[] = { "badabi", "badminor", "badsize", "noabi" };
	char err[256] = "", file[64];
	struct plugin_set *set;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(file, sizeof(file), "%s.so", names[i]);
		install_plugin(names[i], file);
		set = plugin_set_load(plugdir, &test_host, err, sizeof(err));
		ck_assert_msg(set != NULL, "load failed: %s", err);
		ck_assert_uint_eq(set->n, i + 1);
		ck_assert_uint_eq(plugin_set_refused(set), i + 1);
		ck_assert_msg(access(host_badabi_marker, F_OK) != 0,
		    "%s: its init ran although its ABI constant is wrong", file);
		plugin_set_free(set);
	}
	set = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(set != NULL, "load failed: %s", err);
	assert_abi_refusals(set);
	plugin_set_free(set);
	ck_assert_int_eq(host_log_calls, 0);
}
END_TEST

/* The copy the core reads: optional fields a plugin leaves out are NULL,
 * and the descriptor is the set's copy, not the plugin's. */
START_TEST(test_optional_ops)
{
	char err[256] = "";
	struct plugin_set *set;
	const struct labeld_task_ops *t;

	install_plugin("badfields", "badfields.so");
	host_badfields_case = "required";
	set = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(set != NULL, "load failed: %s", err);
	ck_assert_msg(set->v[0].desc != NULL, "refused: %s", set->v[0].error);
	ck_assert_ptr_eq(set->v[0].desc, &set->v[0].desc_copy);
	t = set->v[0].desc->task;
	ck_assert_ptr_eq(t, &set->v[0].task_copy);
	ck_assert_uint_eq(t->struct_size, sizeof(struct labeld_task_ops));
	ck_assert_ptr_null(t->description);
	ck_assert_ptr_null(t->editor_template);
	ck_assert_ptr_null(t->input_mode);
	ck_assert_ptr_nonnull(t->editor_view);
	ck_assert_ptr_nonnull(t->parse_form);
	ck_assert_ptr_nonnull(t->validate);
	ck_assert_ptr_nonnull(t->describe);
	ck_assert_ptr_null(set->v[0].desc->export);
	plugin_set_free(set);
}
END_TEST

/* Load the directory and check that file is refused for the reason fmt
 * and its arguments give. */
static void assert_untrusted(const char *file, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void assert_untrusted(const char *file, const char *fmt, ...)
{
	char err[256] = "", reason[PATH_MAX + 256];
	struct plugin_set *set;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	set = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(set != NULL, "load failed: %s", err);
	assert_refused(set, file, reason);
	plugin_set_free(set);
}

/* testtask.so loads from the directory as it is now. */
static void assert_trusted(void)
{
	char err[256] = "";
	struct plugin_set *set;

	set = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(set != NULL, "load failed: %s", err);
	assert_loaded(set, "testtask.so", LABELD_TASK, "testtask", "Test task");
	plugin_set_free(set);
}

#define WRITABLE "%s is writable by group or others (mode %04o): chmod go-w it"

/* Files and folders that group or others may write are refused: the plugin
 * directory, the .so, the template folder and its templates. */
START_TEST(test_unsafe_modes)
{
	char folder[PATH_MAX + 64], tmpl[PATH_MAX + 96];
	static const unsigned bad_file[] = { 0664, 0646, 0666, 0775 };
	static const unsigned bad_dir[] = { 0770, 0707, 01777 };

	install_plugin("testtask", "testtask.so");
	assert_trusted();
	for (size_t i = 0; i < sizeof(bad_file) / sizeof(bad_file[0]); i++) {
		ck_assert_int_eq(chmod(dir_path("testtask.so"), bad_file[i]), 0);
		assert_untrusted("testtask.so", "the plugin file " WRITABLE,
		    dir_path("testtask.so"), bad_file[i]);
	}
	ck_assert_int_eq(chmod(dir_path("testtask.so"), 0755), 0);
	assert_trusted();

	for (size_t i = 0; i < sizeof(bad_dir) / sizeof(bad_dir[0]); i++) {
		ck_assert_int_eq(chmod(plugdir, bad_dir[i]), 0);
		assert_untrusted("testtask.so", "the plugin directory " WRITABLE, plugdir,
		    bad_dir[i]);
	}
	ck_assert_int_eq(chmod(plugdir, 0755), 0);
	assert_trusted();

	/* The template folder plugins_dir/testtask/ and its *.html. */
	snprintf(folder, sizeof(folder), "%s", dir_path("testtask"));
	snprintf(tmpl, sizeof(tmpl), "%s/editor.html", folder);
	ck_assert_int_eq(mkdir(folder, 0755), 0);
	write_text("testtask/editor.html", "<p>editor</p>\n");
	write_text("testtask/notes.txt", "not a template\n");
	assert_trusted();
	ck_assert_int_eq(chmod(folder, 0775), 0);
	assert_untrusted("testtask.so", "its template folder " WRITABLE, folder, 0775);
	ck_assert_int_eq(chmod(folder, 0755), 0);
	ck_assert_int_eq(chmod(tmpl, 0666), 0);
	assert_untrusted("testtask.so", "its template " WRITABLE, tmpl, 0666);
	ck_assert_int_eq(chmod(tmpl, 0644), 0);
	/* Files the template loader does not read do not count. */
	ck_assert_int_eq(chmod(dir_path("testtask/notes.txt"), 0666), 0);
	assert_trusted();
}
END_TEST

#define FOREIGN_UID 4242
#define FOREIGN "%s is owned by uid 4242, not by root or labeld's user (uid %u)"

/* Files and folders owned by someone other than root and labeld's user are
 * refused.  Only root can give a file away, so other users skip this. */
START_TEST(test_unsafe_owner)
{
	char folder[PATH_MAX + 64], tmpl[PATH_MAX + 96];

	if (geteuid() != 0) {
		fprintf(stderr, "test_unsafe_owner: SKIPPED: only root can chown a plugin to "
		    "another user (running as uid %u)\n", (unsigned)geteuid());
		return;
	}
	install_plugin("testtask", "testtask.so");
	snprintf(folder, sizeof(folder), "%s", dir_path("testtask"));
	snprintf(tmpl, sizeof(tmpl), "%s/editor.html", folder);
	ck_assert_int_eq(mkdir(folder, 0755), 0);
	write_text("testtask/editor.html", "<p>editor</p>\n");
	assert_trusted();

	ck_assert_int_eq(chown(dir_path("testtask.so"), FOREIGN_UID, FOREIGN_UID), 0);
	assert_untrusted("testtask.so", "the plugin file " FOREIGN, dir_path("testtask.so"),
	    (unsigned)geteuid());
	ck_assert_int_eq(chown(dir_path("testtask.so"), 0, 0), 0);
	ck_assert_int_eq(chown(plugdir, FOREIGN_UID, FOREIGN_UID), 0);
	assert_untrusted("testtask.so", "the plugin directory " FOREIGN, plugdir,
	    (unsigned)geteuid());
	ck_assert_int_eq(chown(plugdir, 0, 0), 0);
	ck_assert_int_eq(chown(folder, FOREIGN_UID, 0), 0);
	assert_untrusted("testtask.so", "its template folder " FOREIGN, folder,
	    (unsigned)geteuid());
	ck_assert_int_eq(chown(folder, 0, 0), 0);
	ck_assert_int_eq(chown(tmpl, FOREIGN_UID, 0), 0);
	assert_untrusted("testtask.so", "its template " FOREIGN, tmpl,
	    (unsigned)geteuid());
	ck_assert_int_eq(chown(tmpl, 0, 0), 0);
	assert_trusted();
}
END_TEST

/* The example plugin of README.md ("Writing a plugin"), which make cuts out
 * of the README into readme.so: it loads, and its ops do what it says. */
START_TEST(test_readme_example)
{
	struct labeld_field fields[] = { { "csrf", "x" }, { "label", "12" } };
	struct labeld_ctx ctx = { .nmem = 0 };
	struct json_object *view = NULL, *ann = NULL;
	const struct labeld_task_ops *ops;
	const char *error = NULL;
	char err[256] = "";
	struct plugin_set *set;

	install_plugin("readme", "mytask.so");
	set = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(set != NULL, "load failed: %s", err);
	assert_loaded(set, "mytask.so", LABELD_TASK, "mytask", "My task");
	ops = set->v[0].desc->task;
	ck_assert_int_eq(ops->editor_view(&ctx, &task_item, task_labels, 2, NULL, 0, &view, &error), 0);
	ck_assert_ptr_nonnull(view);
	assert_label_answer(ops, &ctx, fields, 2);
	fields[1].value = "12abc";
	ck_assert_int_eq(ops->parse_form(&ctx, &task_item, task_labels, 2, fields, 2, &ann, &error), -1);
	ck_assert_str_eq(error, "Choose one of the labels.");
	/* "dog" is not a label of a project with only "cat". */
	ann = host_json_own(&ctx, json_tokener_parse("{\"label\":12}"));
	ck_assert_int_eq(ops->validate(&ctx, &task_item, task_labels, 1, ann, &error), -1);
	ctx_release(&ctx);
	plugin_set_free(set);
}
END_TEST

/* A plugin that defines functions named like labeld's own (log_error,
 * buf_init), built with default visibility, keeps its own: this program is
 * linked with labeld's link flags (LABELD_LINK_FLAGS) and holds labeld's
 * log_error and buf_init, and the plugin's editor_view reports whose ran. */
START_TEST(test_own_symbols)
{
	/* Keep labeld's buf_init in this program, as it is in labeld. */
	void (*volatile labeld_buf_init)(struct buf *, struct arena *) = buf_init;
	struct labeld_ctx ctx = { .nmem = 0 };
	struct json_object *view = NULL, *v;
	const struct labeld_task_ops *ops;
	const char *error = NULL;
	char err[256] = "";
	struct plugin_set *set;

	ck_assert_ptr_nonnull(labeld_buf_init);
	install_plugin("ownsyms", "ownsyms.so");
	set = plugin_set_load(plugdir, &test_host, err, sizeof(err));
	ck_assert_msg(set != NULL, "load failed: %s", err);
	assert_loaded(set, "ownsyms.so", LABELD_TASK, "ownsyms", "Own symbols test");
	ops = set->v[0].desc->task;
	ck_assert_int_eq(ops->editor_view(&ctx, &task_item, task_labels, 2, NULL, 0, &view, &error), 0);
	ck_assert(json_object_object_get_ex(view, "log_error", &v));
	ck_assert_str_eq(json_object_get_string(v), "plugin");
	ck_assert(json_object_object_get_ex(view, "buf_init", &v));
	ck_assert_str_eq(json_object_get_string(v), "plugin");
	ctx_release(&ctx);
	plugin_set_free(set);
}
END_TEST

/* The labeld program itself has none of its functions in its dynamic symbol
 * table (nm -D), so no plugin can bind to them. */
START_TEST(test_labeld_exports_nothing)
{
	static const char *const internal[] = { "log_error", "buf_init", "plugin_set_load",
		"app_reload", "db_thread_init" };
	char line[512];
	size_t n = 0;
	FILE *p = popen("nm -D '" TEST_BUILDDIR "/labeld' 2>&1", "r");

	ck_assert_msg(p != NULL, "cannot run nm: %s", strerror(errno));
	while (fgets(line, sizeof(line), p) != NULL) {
		const char *name = strrchr(line, ' ');

		line[strcspn(line, "\n")] = '\0';
		name = name != NULL ? name + 1 : line;
		n++;
		/* Undefined (what labeld imports) and weak references. */
		if (strstr(line, " U ") != NULL || strstr(line, " w ") != NULL)
			continue;
		for (size_t i = 0; i < sizeof(internal) / sizeof(internal[0]); i++)
			ck_assert_msg(strcmp(name, internal[i]) != 0,
			    "labeld exports its %s to plugins (linked with -export-dynamic?)", name);
	}
	ck_assert_msg(pclose(p) == 0, "nm -D %s/labeld failed", TEST_BUILDDIR);
	/* labeld imports from libc at least: nm read the file. */
	ck_assert_msg(n > 0, "nm -D printed nothing for %s/labeld", TEST_BUILDDIR);
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
	tcase_add_test(tc, test_reload_replaced_file);
	tcase_add_test(tc, test_reload_reused_descriptor);
	tcase_add_test(tc, test_reload_fd_names_reused);
	tcase_add_test(tc, test_abi_before_init);
	tcase_add_test(tc, test_optional_ops);
	tcase_add_test(tc, test_unsafe_modes);
	tcase_add_test(tc, test_unsafe_owner);
	tcase_add_test(tc, test_readme_example);
	tcase_add_test(tc, test_own_symbols);
	tcase_add_test(tc, test_labeld_exports_nothing);
	tcase_add_test(tc, test_helpers);
	suite_add_tcase(s, tc);
	return s;
}

#include "unit.h"
