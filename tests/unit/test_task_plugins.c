/*
 * test_task_plugins.c: the three task-type plugins (multiclass, multilabel,
 * bbox), loaded with dlopen from the build tree the way labeld loads them,
 * behind a test host (arena memory, json owned by the arena, configuration
 * from a table).  Every form from the "Bad input" list, the editor
 * views (first display, after a step, after an error), the no-JavaScript
 * corner clicks of bbox, validation of stored annotations (good and
 * tampered) and describe.  Each plugin's editor template is rendered with
 * the core's template engine against a realistic page view.  And the
 * loader itself accepts all three (ABI constant, sizes, required ops).
 */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arena.h"
#include "buf.h"
#include <labeld/plugin.h>
#include "plugin.h"
#include "tmpl.h"

#ifndef TEST_BUILDDIR
#error "TEST_BUILDDIR must be defined (the Makefile passes it)"
#endif
#ifndef TEST_SRCDIR
#error "TEST_SRCDIR must be defined (the Makefile passes it)"
#endif

/* ------------------------------------------------------------ test host */

struct labeld_ctx {
	struct arena *arena;
};

static int log_calls;
/* plugin.bbox.* values the host hands out; NULL: not configured. */
static const char *cfg_min_box_size;
static const char *cfg_max_boxes;

static void *host_alloc(struct labeld_ctx *ctx, size_t size)
{
	return arena_alloc(ctx->arena, size);
}

static char *host_strdup(struct labeld_ctx *ctx, const char *s)
{
	return arena_strdup(ctx->arena, s);
}

static void json_put_cleanup(void *p)
{
	json_object_put(p);
}

static struct json_object *host_json_own(struct labeld_ctx *ctx, struct json_object *obj)
{
	if (obj == NULL || arena_cleanup_add(ctx->arena, json_put_cleanup, obj) < 0)
		return NULL;
	return obj;
}

static void host_log(enum labeld_log_level level, const char *plugin, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void host_log(enum labeld_log_level level, const char *plugin, const char *fmt, ...)
{
	va_list ap;

	log_calls++;
	fprintf(stderr, "[host log %d] %s: ", (int)level, plugin);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *host_config(const char *plugin, const char *key)
{
	if (strcmp(plugin, "bbox") != 0)
		return NULL;
	if (strcmp(key, "min_box_size") == 0)
		return cfg_min_box_size;
	if (strcmp(key, "max_boxes") == 0)
		return cfg_max_boxes;
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

/* ------------------------------------------------------------ fixtures */

static struct labeld_ctx ctx;

static void setup(void)
{
	ctx.arena = arena_new();
	ck_assert_ptr_nonnull(ctx.arena);
	cfg_min_box_size = NULL;
	cfg_max_boxes = NULL;
	log_calls = 0;
}

static void teardown(void)
{
	arena_free(ctx.arena);
	ctx.arena = NULL;
}

/* Load (or load again, which re-reads the configuration) plugin `name`
 * from the build tree.  The handle stays open for the test process. */
static const struct labeld_plugin *plugin_load(const char *name)
{
	char path[4096];
	const struct labeld_plugin *(*init)(const struct labeld_host *);
	const struct labeld_plugin *p;
	void *h;

	snprintf(path, sizeof(path), "%s/plugins/task/%s/.libs/%s.so", TEST_BUILDDIR, name, name);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(h != NULL, "dlopen %s: %s", path, dlerror());
	*(void **)&init = dlsym(h, LABELD_PLUGIN_ENTRY);
	ck_assert_msg(init != NULL, "%s: no %s", path, LABELD_PLUGIN_ENTRY);
	p = init(&test_host);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->struct_size, sizeof(struct labeld_plugin));
	ck_assert_uint_eq(p->task->struct_size, sizeof(struct labeld_task_ops));
	ck_assert_int_eq(p->kind, LABELD_TASK);
	ck_assert_str_eq(p->name, name);
	ck_assert_ptr_nonnull(p->task);
	return p;
}

static const struct labeld_label labels3[] = {
	{ .id = 11, .name = "cat", .key = 1 },
	{ .id = 12, .name = "dog", .key = 2 },
	{ .id = 13, .name = "bird", .key = 3 },
};
#define NLABELS3 (sizeof(labels3) / sizeof(labels3[0]))

static const struct labeld_item item = {
	.id = 5, .path = "sub/dog.png", .width = 640, .height = 480, .format = "png",
};

/* Fields from "a=1&b=2" (no decoding; a name without '=' has value "").
 * Arena memory. */
static struct labeld_field *fields_from(const char *spec, size_t *n)
{
	struct labeld_field *f;
	char *copy, *tok, *save = NULL;
	size_t cap = 1;

	*n = 0;
	for (const char *p = spec; *p; p++)
		cap += *p == '&';
	f = arena_calloc(ctx.arena, cap, sizeof(*f));
	copy = arena_strdup(ctx.arena, spec);
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(copy);
	for (tok = strtok_r(copy, "&", &save); tok != NULL; tok = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(tok, '=');
		f[*n].name = tok;
		f[*n].value = "";
		if (eq != NULL) {
			*eq = '\0';
			f[*n].value = eq + 1;
		}
		(*n)++;
	}
	return f;
}

/* parse_form on "a=1&b=2" for item it; returns rc, sets *ann / *err. */
static int form_on(const struct labeld_plugin *p, const struct labeld_item *it,
    const char *spec, struct json_object **ann, const char **err)
{
	size_t n;
	struct labeld_field *f = fields_from(spec, &n);
	int rc;

	*ann = NULL;
	*err = NULL;
	rc = p->task->parse_form(&ctx, it, labels3, NLABELS3, f, n, ann, err);
	if (rc < 0)
		ck_assert_msg(*err != NULL && **err != '\0', "%s: no error sentence", spec);
	if (rc == 0)
		ck_assert_msg(*ann != NULL, "%s: no annotation", spec);
	return rc;
}

/* parse_form on "a=1&b=2" for the 640 x 480 item. */
static int form(const struct labeld_plugin *p, const char *spec,
    struct json_object **ann, const char **err)
{
	return form_on(p, &item, spec, ann, err);
}

/* The form is an error with exactly this sentence. */
static void form_refused(const struct labeld_plugin *p, const char *spec, const char *want)
{
	struct json_object *ann;
	const char *err;
	int rc = form(p, spec, &ann, &err);

	ck_assert_msg(rc == -1, "%s '%s': accepted (rc %d)", p->name, spec, rc);
	ck_assert_msg(ann == NULL, "%s '%s': annotation on error", p->name, spec);
	if (want != NULL)
		ck_assert_msg(strcmp(err, want) == 0, "%s '%s': error \"%s\", want \"%s\"",
		    p->name, spec, err, want);
}

/* The form is a complete answer whose annotation serialises to want. */
static void form_accepted(const struct labeld_plugin *p, const char *spec, const char *want)
{
	struct json_object *ann;
	const char *err;
	int rc = form(p, spec, &ann, &err);

	ck_assert_msg(rc == 0, "%s '%s': rc %d (%s)", p->name, spec, rc, err ? err : "");
	ck_assert_str_eq(json_object_to_json_string_ext(ann, JSON_C_TO_STRING_PLAIN), want);
	/* What parse_form produces, validate accepts, also after a round
	 * trip through text as the database stores it. */
	ck_assert_int_eq(p->task->validate(&ctx, &item, labels3, NLABELS3, ann, &err), 0);
	struct json_object *back = json_tokener_parse(want);
	ck_assert_ptr_nonnull(back);
	ck_assert_msg(p->task->validate(&ctx, &item, labels3, NLABELS3, back, &err) == 0,
	    "%s: stored %s refused: %s", p->name, want, err);
	json_object_put(back);
}

/* validate() on a json text; returns rc (and checks the error on -1). */
static int validate_text(const struct labeld_plugin *p, const char *text)
{
	struct json_object *ann = json_tokener_parse(text);
	const char *err = NULL;
	int rc;

	rc = p->task->validate(&ctx, &item, labels3, NLABELS3, ann, &err);
	if (rc != 0)
		ck_assert_msg(err != NULL && *err != '\0', "%s: no error", text);
	json_object_put(ann);
	return rc;
}

/* editor_view on "a=1&b=2" (NULL: first display) for item it; the view,
 * checked. */
static struct json_object *editor_on(const struct labeld_plugin *p,
    const struct labeld_item *it, const char *spec)
{
	struct labeld_field *f = NULL;
	struct json_object *view = NULL;
	const char *err = NULL;
	size_t n = 0;

	if (spec != NULL)
		f = fields_from(spec, &n);
	ck_assert_int_eq(p->task->editor_view(&ctx, it, labels3, NLABELS3, f, n, &view, &err), 0);
	ck_assert_ptr_nonnull(view);
	return view;
}

static struct json_object *editor(const struct labeld_plugin *p, const char *spec)
{
	return editor_on(p, &item, spec);
}

static const char *jstr(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no key %s in %s", key, jstr(o));
	return v;
}

/* The label ids checked in an editor view's "labels", as "11,13" ("" when
 * the view has no labels of its own: then the page's are shown). */
static const char *checked_ids(struct json_object *view)
{
	struct json_object *arr = NULL;
	struct buf b;

	buf_init(&b, ctx.arena);
	json_object_object_get_ex(view, "labels", &arr);
	for (size_t i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
		struct json_object *l = json_object_array_get_idx(arr, i);
		if (json_object_get_boolean(jget(l, "checked")))
			buf_printf(&b, "%s%lld", b.len ? "," : "",
			    (long long)json_object_get_int64(jget(l, "id")));
	}
	buf_addc(&b, '\0');
	ck_assert(!b.failed);
	return b.data;
}

/* ------------------------------------------------------------ descriptors */

START_TEST(descriptors)
{
	static const struct {
		const char *name, *title, *mode;
	} want[] = {
		{ "multiclass", "Image classification (multi-class)", "choose" },
		{ "multilabel", "Image classification (multi-label)", "toggle" },
		{ "bbox", "Object detection (bounding boxes)", "boxes" },
	};
	for (size_t i = 0; i < 3; i++) {
		const struct labeld_plugin *p = plugin_load(want[i].name);
		ck_assert_str_eq(p->title, want[i].title);
		ck_assert_str_eq(p->task->input_mode, want[i].mode);
		ck_assert_str_eq(p->task->editor_template, "editor");
		ck_assert_ptr_nonnull(p->task->description);
		ck_assert_ptr_nonnull(p->task->editor_view);
		ck_assert_ptr_nonnull(p->task->parse_form);
		ck_assert_ptr_nonnull(p->task->validate);
		ck_assert_ptr_nonnull(p->task->describe);
		ck_assert_ptr_null(p->export);
	}
}
END_TEST

START_TEST(refuses_other_abi)
{
	static const char *const names[] = { "multiclass", "multilabel", "bbox" };
	struct labeld_host other = test_host;
	char path[4096];

	other.abi_major = LABELD_PLUGIN_ABI_MAJOR - 1;
	for (size_t i = 0; i < 3; i++) {
		const struct labeld_plugin *(*init)(const struct labeld_host *);
		void *h;
		snprintf(path, sizeof(path), "%s/plugins/task/%s/.libs/%s.so", TEST_BUILDDIR,
		    names[i], names[i]);
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		ck_assert_ptr_nonnull(h);
		*(void **)&init = dlsym(h, LABELD_PLUGIN_ENTRY);
		ck_assert_ptr_nonnull(init);
		const struct labeld_abi *abi;
		ck_assert_ptr_null(init(&other));
		ck_assert_ptr_null(init(NULL));
		/* Only the entry point and the ABI constant are exported. */
		ck_assert_ptr_null(dlsym(h, "host"));
		abi = dlsym(h, LABELD_PLUGIN_ABI_SYMBOL);
		ck_assert_ptr_nonnull(abi);
		ck_assert_uint_eq(abi->major, LABELD_PLUGIN_ABI_MAJOR);
		ck_assert_uint_eq(abi->minor, LABELD_PLUGIN_ABI_MINOR);
		ck_assert_uint_eq(abi->plugin_size, sizeof(struct labeld_plugin));
		ck_assert_uint_eq(abi->task_ops_size, sizeof(struct labeld_task_ops));
		ck_assert_uint_eq(abi->export_ops_size, sizeof(struct labeld_export_ops));
	}
}
END_TEST

/* labeld's loader accepts the three plugins, copied into a fresh plugin
 * directory (as installed, mode 0755). */
START_TEST(loader_accepts)
{
	static const char *const names[] = { "bbox", "multiclass", "multilabel" };
	const char *tmp = getenv("TMPDIR");
	char dir[4096], from[4096], to[4200], err[256] = "";
	struct plugin_set *set;

	snprintf(dir, sizeof(dir), "%s/labeld-task-plugins-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
	for (size_t i = 0; i < 3; i++) {
		struct stat st;
		int in, out;
		snprintf(from, sizeof(from), "%s/plugins/task/%s/.libs/%s.so", TEST_BUILDDIR,
		    names[i], names[i]);
		snprintf(to, sizeof(to), "%s/%s.so", dir, names[i]);
		in = open(from, O_RDONLY | O_CLOEXEC);
		ck_assert_msg(in >= 0 && fstat(in, &st) == 0, "%s: %s", from, strerror(errno));
		out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
		ck_assert_msg(out >= 0 && fchmod(out, 0755) == 0, "%s: %s", to, strerror(errno));
		ck_assert_int_eq(sendfile(out, in, NULL, (size_t)st.st_size), st.st_size);
		close(in);
		ck_assert_int_eq(close(out), 0);
	}
	set = plugin_set_load(dir, &test_host, err, sizeof(err));
	ck_assert_msg(set != NULL, "load failed: %s", err);
	ck_assert_uint_eq(set->n, 3);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_msg(set->v[i].desc != NULL, "%s refused: %s", set->v[i].file,
		    set->v[i].error);
		ck_assert_str_eq(set->v[i].desc->name, names[i]);
		snprintf(to, sizeof(to), "%s/%s.so", dir, names[i]);
		ck_assert_int_eq(unlink(to), 0);
	}
	plugin_set_free(set);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* ------------------------------------------------------------ multiclass */

START_TEST(multiclass_forms)
{
	const struct labeld_plugin *p = plugin_load("multiclass");
	const char *unknown = "That label is not one of this project's labels.";

	form_accepted(p, "label=12", "{\"label\":12}");
	form_accepted(p, "csrf=x&lease=y&label=13&other=1", "{\"label\":13}");

	form_refused(p, "", "Choose a label.");
	form_refused(p, "label=", "Choose a label.");
	form_refused(p, "labels=12", "Choose a label.");
	form_refused(p, "label=12&label=11", "Choose only one label.");
	form_refused(p, "label=12&label=12", "Choose only one label.");
	form_refused(p, "label=99", unknown);
	form_refused(p, "label=0", unknown);
	form_refused(p, "label=-12", unknown);
	form_refused(p, "label=+12", unknown);
	form_refused(p, "label=012", unknown);
	form_refused(p, "label= 12", unknown);
	form_refused(p, "label=12 ", unknown);
	form_refused(p, "label=12abc", unknown);
	form_refused(p, "label=1e1", unknown);
	form_refused(p, "label=0x0c", unknown);
	form_refused(p, "label=12.0", unknown);
	form_refused(p, "label=nan", unknown);
	form_refused(p, "label=9223372036854775807", unknown);
	form_refused(p, "label=99999999999999999999999999999999999999", unknown);
	form_refused(p, "label=cat", unknown);
}
END_TEST

START_TEST(multiclass_editor)
{
	const struct labeld_plugin *p = plugin_load("multiclass");
	struct json_object *v, *l;

	/* A new item: no labels of its own (the template shows the page's). */
	ck_assert_str_eq(jstr(editor(p, NULL)), "{}");

	/* Shown again after an error: the choice is kept when it is valid. */
	v = editor(p, "label=13");
	ck_assert_str_eq(checked_ids(v), "13");
	ck_assert_int_eq(json_object_array_length(jget(v, "labels")), 3);
	l = json_object_array_get_idx(jget(v, "labels"), 1);
	ck_assert_str_eq(jstr(l), "{\"id\":12,\"name\":\"dog\",\"key\":2,\"checked\":false}");
	ck_assert_str_eq(jstr(editor(p, "label=99")), "{}");
	ck_assert_str_eq(checked_ids(editor(p, "label=99")), "");
	ck_assert_str_eq(checked_ids(editor(p, "label=12&label=13")), "");
	ck_assert_str_eq(checked_ids(editor(p, "label=12abc")), "");
}
END_TEST

START_TEST(multiclass_validate_describe)
{
	const struct labeld_plugin *p = plugin_load("multiclass");
	struct json_object *ann;
	int64_t *ids;
	size_t nids, nboxes;
	struct labeld_box *boxes;
	const char *err;

	ck_assert_int_eq(validate_text(p, "{\"label\":11}"), 0);
	ck_assert_int_eq(validate_text(p, "{\"label\":99}"), -1);
	ck_assert_int_eq(validate_text(p, "{\"label\":\"11\"}"), -1);
	ck_assert_int_eq(validate_text(p, "{\"label\":11.0}"), -1);
	ck_assert_int_eq(validate_text(p, "{\"label\":-11}"), -1);
	ck_assert_int_eq(validate_text(p, "{\"label\":0}"), -1);
	ck_assert_int_eq(validate_text(p, "{\"label\":11,\"x\":1}"), -1);
	ck_assert_int_eq(validate_text(p, "{\"labels\":[11]}"), -1);
	ck_assert_int_eq(validate_text(p, "{\"label\":null}"), -1);
	ck_assert_int_eq(validate_text(p, "{}"), -1);
	ck_assert_int_eq(validate_text(p, "[11]"), -1);
	ck_assert_int_eq(validate_text(p, "11"), -1);
	ck_assert_int_eq(validate_text(p, "null"), -1);

	ann = json_tokener_parse("{\"label\":12}");
	ck_assert_int_eq(p->task->describe(&ctx, ann, &ids, &nids, &boxes, &nboxes, &err), 0);
	ck_assert_uint_eq(nids, 1);
	ck_assert_int_eq(ids[0], 12);
	ck_assert_uint_eq(nboxes, 0);
	json_object_put(ann);
	ann = json_tokener_parse("{\"label\":\"12\"}");
	ck_assert_int_eq(p->task->describe(&ctx, ann, &ids, &nids, &boxes, &nboxes, &err), -1);
	ck_assert_ptr_nonnull(err);
	json_object_put(ann);
}
END_TEST

/* ------------------------------------------------------------ multilabel */

START_TEST(multilabel_forms)
{
	const struct labeld_plugin *p = plugin_load("multilabel");
	const char *unknown = "That label is not one of this project's labels.";
	const char *twice = "The same label was chosen twice.";

	form_accepted(p, "label=12", "{\"labels\":[12]}");
	form_accepted(p, "label=13&label=11", "{\"labels\":[11,13]}");
	form_accepted(p, "label=13&csrf=x&label=12&label=11", "{\"labels\":[11,12,13]}");

	form_refused(p, "", "Choose at least one label.");
	form_refused(p, "other=11", "Choose at least one label.");
	form_refused(p, "label=", unknown);
	form_refused(p, "label=11&label=", unknown);
	form_refused(p, "label=11&label=11", twice);
	form_refused(p, "label=13&label=11&label=13", twice);
	form_refused(p, "label=11&label=99", unknown);
	form_refused(p, "label=0", unknown);
	form_refused(p, "label=-11", unknown);
	form_refused(p, "label=011", unknown);
	form_refused(p, "label=11abc", unknown);
	form_refused(p, "label=11 ", unknown);
	form_refused(p, "label=1.1", unknown);
	form_refused(p, "label=99999999999999999999999999999", unknown);
}
END_TEST

START_TEST(multilabel_editor)
{
	const struct labeld_plugin *p = plugin_load("multilabel");

	ck_assert_str_eq(jstr(editor(p, NULL)), "{}");
	ck_assert_str_eq(checked_ids(editor(p, "label=13&label=11")), "11,13");
	ck_assert_int_eq(json_object_array_length(jget(editor(p, "label=11"), "labels")), 3);
	/* Shown again after an error: the valid choices are kept. */
	ck_assert_str_eq(checked_ids(editor(p, "label=13&label=99&label=x&label=13")), "13");
}
END_TEST

START_TEST(multilabel_validate_describe)
{
	const struct labeld_plugin *p = plugin_load("multilabel");
	struct json_object *ann;
	int64_t *ids;
	size_t nids, nboxes;
	struct labeld_box *boxes;
	const char *err;

	ck_assert_int_eq(validate_text(p, "{\"labels\":[11]}"), 0);
	ck_assert_int_eq(validate_text(p, "{\"labels\":[11,12,13]}"), 0);
	ck_assert_int_eq(validate_text(p, "{\"labels\":[]}"), -1);
	ck_assert_int_eq(validate_text(p, "{\"labels\":[13,11]}"), -1);
	ck_assert_int_eq(validate_text(p, "{\"labels\":[11,11]}"), -1);
	ck_assert_int_eq(validate_text(p, "{\"labels\":[11,99]}"), -1);
	ck_assert_int_eq(validate_text(p, "{\"labels\":[11,\"12\"]}"), -1);
	ck_assert_int_eq(validate_text(p, "{\"labels\":[11,12.5]}"), -1);
	ck_assert_int_eq(validate_text(p, "{\"labels\":[-11]}"), -1);
	ck_assert_int_eq(validate_text(p, "{\"labels\":11}"), -1);
	ck_assert_int_eq(validate_text(p, "{\"labels\":[11],\"more\":1}"), -1);
	ck_assert_int_eq(validate_text(p, "{\"label\":11}"), -1);
	ck_assert_int_eq(validate_text(p, "[11]"), -1);
	ck_assert_int_eq(validate_text(p, "null"), -1);

	ann = json_tokener_parse("{\"labels\":[11,13]}");
	ck_assert_int_eq(p->task->describe(&ctx, ann, &ids, &nids, &boxes, &nboxes, &err), 0);
	ck_assert_uint_eq(nids, 2);
	ck_assert_int_eq(ids[0], 11);
	ck_assert_int_eq(ids[1], 13);
	ck_assert_uint_eq(nboxes, 0);
	json_object_put(ann);
	ann = json_tokener_parse("{\"labels\":[13,11]}");
	ck_assert_int_eq(p->task->describe(&ctx, ann, &ids, &nids, &boxes, &nboxes, &err), -1);
	json_object_put(ann);
}
END_TEST

/* ------------------------------------------------------------ bbox */

START_TEST(bbox_forms_good)
{
	const struct labeld_plugin *p = plugin_load("bbox");

	form_accepted(p, "box=10,20,30,40,11&label=12",
	    "{\"boxes\":[{\"label\":11,\"x\":10,\"y\":20,\"w\":30,\"h\":40}],\"no_objects\":false}");
	/* The whole image, decimals, and several boxes in order. */
	form_accepted(p, "box=0,0,640,480,12&box=10.5,20.25,4,4.125,13&box=636,476,4,4,11",
	    "{\"boxes\":[{\"label\":12,\"x\":0,\"y\":0,\"w\":640,\"h\":480},"
	    "{\"label\":13,\"x\":10.5,\"y\":20.25,\"w\":4,\"h\":4.125},"
	    "{\"label\":11,\"x\":636,\"y\":476,\"w\":4,\"h\":4}],\"no_objects\":false}");
	/* Long fractions as a script computes them. */
	form_accepted(p, "box=0.33333333333333331,1.6666666666666667,500.12,400.5,11",
	    "{\"boxes\":[{\"label\":11,\"x\":0.33333333333333331,\"y\":1.6666666666666667,"
	    "\"w\":500.12,\"h\":400.5}],\"no_objects\":false}");
	/* "No objects" is an answer. */
	form_accepted(p, "noobjects=1", "{\"boxes\":[],\"no_objects\":true}");
	form_accepted(p, "noobjects=1&label=11", "{\"boxes\":[],\"no_objects\":true}");
}
END_TEST

START_TEST(bbox_forms_bad)
{
	const struct labeld_plugin *p = plugin_load("bbox");
	const char *number = "Box 1 has a coordinate that is not a number of at least 0.";
	const char *shape = "Box 1 is not of the form x,y,width,height,label.";
	const char *outside = "Box 1 reaches outside the image (640 \u00d7 480 pixels).";
	const char *small = "Box 1 is smaller than the minimum of 4 \u00d7 4 pixels.";
	const char *label = "Box 1 has a label that is not one of this project's labels.";
	char big[4096];

	form_refused(p, "", "Draw at least one box, or tick \u201cNo objects\u201d.");
	form_refused(p, "label=11", "Draw at least one box, or tick \u201cNo objects\u201d.");
	form_refused(p, "noobjects=1&box=10,20,30,40,11",
	    "You ticked \u201cNo objects\u201d but drew boxes: remove the boxes or untick it.");
	form_refused(p, "noobjects=yes", "The \u201cNo objects\u201d answer is not valid.");
	form_refused(p, "noobjects=", "The \u201cNo objects\u201d answer is not valid.");
	form_refused(p, "noobjects=1&noobjects=1", "The \u201cNo objects\u201d answer is not valid.");

	/* NaN, infinity, negative, junk, exponent, hex, spaces. */
	form_refused(p, "box=nan,20,30,40,11", number);
	form_refused(p, "box=NaN,20,30,40,11", number);
	form_refused(p, "box=inf,20,30,40,11", number);
	form_refused(p, "box=10,Infinity,30,40,11", number);
	form_refused(p, "box=-1,20,30,40,11", number);
	form_refused(p, "box=10,-0,30,40,11", number);
	form_refused(p, "box=10,20,-30,40,11", number);
	form_refused(p, "box=10,20,30,-40,11", number);
	form_refused(p, "box=+10,20,30,40,11", number);
	form_refused(p, "box=3abc,20,30,40,11", number);
	form_refused(p, "box=1e1,20,30,40,11", number);
	form_refused(p, "box=0x10,20,30,40,11", number);
	form_refused(p, "box= 10,20,30,40,11", number);
	form_refused(p, "box=10 ,20,30,40,11", number);
	form_refused(p, "box=010,20,30,40,11", number);
	form_refused(p, "box=.5,20,30,40,11", number);
	form_refused(p, "box=5.,20,30,40,11", number);
	form_refused(p, "box=5..5,20,30,40,11", number);
	form_refused(p, "box=1.000000000000000001,20,30,40,11", number);
	form_refused(p, "box=10,20,30,4O,11", number);
	/* Huge and outside. */
	form_refused(p, "box=99999999999,20,30,40,11", number);
	form_refused(p, "box=9999999999,20,30,40,11", outside);
	form_refused(p, "box=10,20,99999,40,11", outside);
	form_refused(p, "box=630,20,20,40,11", outside);
	form_refused(p, "box=10,470,30,20,11", outside);
	form_refused(p, "box=0,0,640.001,480,11", outside);
	form_refused(p, "box=640,480,4,4,11", outside);
	/* Zero, tiny: inverted boxes cannot be written without a sign. */
	form_refused(p, "box=10,20,0,40,11", small);
	form_refused(p, "box=10,20,30,0,11", small);
	form_refused(p, "box=10,20,3,40,11", small);
	form_refused(p, "box=10,20,30,3.99,11", small);
	/* Missing, extra and overlong parts. */
	form_refused(p, "box=", shape);
	form_refused(p, "box=10,20,30,40", shape);
	form_refused(p, "box=10,20,30,40,", "Box 1 has a label that is not one of this project's labels.");
	form_refused(p, "box=10,20,30,40,11,12", shape);
	form_refused(p, "box=10;20;30;40;11", shape);
	form_refused(p, "box=,,,,", number);
	memset(big, 0, sizeof(big));
	strcpy(big, "box=1");
	memset(big + 5, '0', 200);
	strcat(big, ",0,10,10,11");
	form_refused(p, big, shape);
	/* Labels. */
	form_refused(p, "box=10,20,30,40,99", label);
	form_refused(p, "box=10,20,30,40,0", label);
	form_refused(p, "box=10,20,30,40,011", label);
	form_refused(p, "box=10,20,30,40,11x", label);
	form_refused(p, "box=10,20,30,40,-11", label);
	form_refused(p, "box=10,20,30,40,cat", label);
	form_refused(p, "box=10,20,30,40,11&box=1,2,3,4,11",
	    "Box 2 is smaller than the minimum of 4 \u00d7 4 pixels.");
	form_refused(p, "box=10,20,30,40,11&label=99", "That class is not one of this project's labels.");
	form_refused(p, "box=10,20,30,40,11&label=11&label=12", "Choose only one class.");
	/* A first corner without its opposite corner. */
	form_refused(p, "box=10,20,30,40,11&corner=5,5",
	    "Finish the box you started: click its opposite corner, or cancel it.");
	form_refused(p, "box=10,20,30,40,11&corner=640,5",
	    "The first corner is not a point of the image.");
	form_refused(p, "box=10,20,30,40,11&corner=5", "The first corner is not a point of the image.");
	form_refused(p, "box=10,20,30,40,11&corner=5,5&corner=6,6", "The first corner was sent twice.");
}
END_TEST

START_TEST(bbox_too_many_boxes)
{
	const struct labeld_plugin *p = plugin_load("bbox");
	struct buf b;

	buf_init(&b, ctx.arena);
	for (int i = 0; i < 500; i++)
		buf_printf(&b, "%sbox=%d,%d,4,4,11", i ? "&" : "", i % 100 * 6, i / 100 * 6);
	buf_addc(&b, '\0');
	ck_assert(!b.failed);
	{
		struct json_object *ann;
		const char *err;
		ck_assert_int_eq(form(p, b.data, &ann, &err), 0);
		ck_assert_uint_eq(json_object_array_length(jget(ann, "boxes")), 500);
		/* A 501st box from a click is refused too. */
		char *more = arena_printf(ctx.arena, "%s&label=11&corner=1,1&pt.x=5&pt.y=5", b.data);
		ck_assert_int_eq(form(p, more, &ann, &err), -1);
		ck_assert_str_eq(err, "At most 500 boxes are allowed per image: remove one first.");
	}
	b.len--;
	buf_adds(&b, "&box=600,400,4,4,11");
	buf_addc(&b, '\0');
	form_refused(p, b.data, "At most 500 boxes are allowed per image.");
}
END_TEST

START_TEST(bbox_config)
{
	const struct labeld_plugin *p;

	cfg_min_box_size = "10";
	cfg_max_boxes = "2";
	p = plugin_load("bbox");
	ck_assert_int_eq(log_calls, 0);
	form_accepted(p, "box=0,0,10,10,11&box=20,20,10,10.5,12",
	    "{\"boxes\":[{\"label\":11,\"x\":0,\"y\":0,\"w\":10,\"h\":10},"
	    "{\"label\":12,\"x\":20,\"y\":20,\"w\":10,\"h\":10.5}],\"no_objects\":false}");
	form_refused(p, "box=0,0,9.5,10,11", "Box 1 is smaller than the minimum of 10 \u00d7 10 pixels.");
	form_refused(p, "box=0,0,10,10,11&box=0,0,10,10,11&box=0,0,10,10,11",
	    "At most 2 boxes are allowed per image.");
	ck_assert_int_eq(validate_text(p,
	    "{\"boxes\":[{\"label\":11,\"x\":0,\"y\":0,\"w\":5,\"h\":5}],\"no_objects\":false}"), -1);
	{
		struct json_object *v = editor(p, NULL);
		ck_assert_int_eq(json_object_get_int(jget(v, "min_box_size")), 10);
		ck_assert_int_eq(json_object_get_int(jget(v, "max_boxes")), 2);
	}

	/* Values that are not whole numbers from 1 are logged and ignored. */
	cfg_min_box_size = "0";
	cfg_max_boxes = "5x";
	p = plugin_load("bbox");
	ck_assert_int_eq(log_calls, 2);
	form_refused(p, "box=0,0,3,10,11", "Box 1 is smaller than the minimum of 4 \u00d7 4 pixels.");
	cfg_min_box_size = "-4";
	cfg_max_boxes = "99999999999";
	p = plugin_load("bbox");
	ck_assert_int_eq(log_calls, 4);
	cfg_min_box_size = NULL;
	cfg_max_boxes = NULL;
	plugin_load("bbox");
	ck_assert_int_eq(log_calls, 4);
}
END_TEST

/* Boxes of an editor view as "value|value". */
static const char *view_boxes(struct json_object *v)
{
	struct json_object *arr = jget(v, "boxes");
	struct buf b;

	buf_init(&b, ctx.arena);
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		buf_printf(&b, "%s%s", i ? "|" : "",
		    json_object_get_string(jget(json_object_array_get_idx(arr, i), "value")));
	buf_addc(&b, '\0');
	ck_assert(!b.failed);
	return b.data;
}

/* The first corner of an editor view, or "" when none waits. */
static const char *view_corner(struct json_object *v)
{
	struct json_object *c;

	if (!json_object_object_get_ex(v, "corner", &c))
		return "";
	return json_object_get_string(jget(c, "value"));
}

START_TEST(bbox_corner_clicks)
{
	const struct labeld_plugin *p = plugin_load("bbox");
	struct json_object *ann, *v;
	const char *err;
	/* At 100 % a displayed pixel is an image pixel (bbox_zoom: other zooms). */
	const char *step1 = "zoom=100&label=12&pt.x=100&pt.y=50";
	const char *step2 = "zoom=100&label=12&corner=100,50&pt.x=149&pt.y=89";
	const char *step3 = "zoom=100&label=11&box=100,50,50,40,12&pt.x=639&pt.y=479";
	const char *step4 = "label=11&box=100,50,50,40,12&corner=639,479,1,1&pt.x=600&pt.y=400&zoom=100";

	/* First display: no boxes, no corner, nothing chosen. */
	v = editor(p, NULL);
	ck_assert_str_eq(view_boxes(v), "");
	ck_assert_str_eq(view_corner(v), "");
	ck_assert_str_eq(checked_ids(v), "");
	ck_assert_int_eq(json_object_get_int(jget(v, "width")), 640);
	ck_assert_int_eq(json_object_get_int(jget(v, "height")), 480);
	ck_assert(!json_object_get_boolean(jget(v, "noobjects")));

	/* First click: the corner is kept, nothing else changes. */
	ck_assert_int_eq(form(p, step1, &ann, &err), 1);
	ck_assert_ptr_null(ann);
	v = editor(p, step1);
	ck_assert_str_eq(view_corner(v), "100,50,1,1");
	ck_assert_str_eq(view_boxes(v), "");
	ck_assert_str_eq(checked_ids(v), "12");

	/* Second click: a box with both clicked pixels, of the chosen class. */
	ck_assert_int_eq(form(p, step2, &ann, &err), 1);
	v = editor(p, step2);
	ck_assert_str_eq(view_corner(v), "");
	ck_assert_str_eq(view_boxes(v), "100,50,50,40,12");
	ck_assert_str_eq(checked_ids(v), "12");
	{
		struct json_object *b = json_object_array_get_idx(jget(v, "boxes"), 0);
		ck_assert_str_eq(json_object_get_string(jget(b, "name")), "dog");
		ck_assert_str_eq(json_object_get_string(jget(b, "x")), "100");
		ck_assert_str_eq(json_object_get_string(jget(b, "w")), "50");
		ck_assert_int_eq(json_object_get_int(jget(b, "index")), 0);
	}

	/* A second box from the bottom-right pixel up-left: reaches the edge. */
	ck_assert_int_eq(form(p, step3, &ann, &err), 1);
	ck_assert_str_eq(view_corner(editor(p, step3)), "639,479,1,1");
	ck_assert_int_eq(form(p, step4, &ann, &err), 1);
	v = editor(p, step4);
	ck_assert_str_eq(view_boxes(v), "100,50,50,40,12|600,400,40,80,11");

	/* Submitting what the page now holds. */
	form_accepted(p, "label=11&box=100,50,50,40,12&box=600,400,40,80,11",
	    "{\"boxes\":[{\"label\":12,\"x\":100,\"y\":50,\"w\":50,\"h\":40},"
	    "{\"label\":11,\"x\":600,\"y\":400,\"w\":40,\"h\":80}],\"no_objects\":false}");

	/* Remove the first box. */
	ck_assert_int_eq(form(p, "box=100,50,50,40,12&box=600,400,40,80,11&remove=0", &ann, &err), 1);
	v = editor(p, "box=100,50,50,40,12&box=600,400,40,80,11&remove=0");
	ck_assert_str_eq(view_boxes(v), "600,400,40,80,11");
	v = editor(p, "box=100,50,50,40,12&box=600,400,40,80,11&remove=1&corner=3,3");
	ck_assert_str_eq(view_boxes(v), "100,50,50,40,12");
	ck_assert_str_eq(view_corner(v), "3,3,1,1");
	form_refused(p, "box=100,50,50,40,12&remove=1", "There is no such box to remove.");
	form_refused(p, "box=100,50,50,40,12&remove=-1", "There is no such box to remove.");
	form_refused(p, "box=100,50,50,40,12&remove=x", "There is no such box to remove.");
	form_refused(p, "box=100,50,50,40,12&remove=0&remove=0", "Remove one box at a time.");

	/* Cancel a waiting corner. */
	ck_assert_int_eq(form(p, "corner=100,50&remove=corner", &ann, &err), 1);
	ck_assert_str_eq(view_corner(editor(p, "corner=100,50&remove=corner")), "");
	ck_assert_int_eq(form(p, "remove=corner", &ann, &err), 1);

	/* No class chosen: refused, the corner is kept, no box. */
	form_refused(p, "corner=100,50&pt.x=149&pt.y=89",
	    "Choose the class of the box, then click its opposite corner again.");
	v = editor(p, "corner=100,50&pt.x=149&pt.y=89");
	ck_assert_str_eq(view_corner(v), "100,50,1,1");
	ck_assert_str_eq(view_boxes(v), "");
	/* The editor says why too: the core may show a step without parse_form. */
	ck_assert_str_eq(json_object_get_string(jget(v, "step_error")),
	    "Choose the class of the box, then click its opposite corner again.");
	ck_assert(json_object_get_boolean(jget(v, "draws_image")));
	ck_assert(!json_object_object_get_ex(editor(p, step2), "step_error", NULL));
	ck_assert(!json_object_object_get_ex(editor(p, NULL), "step_error", NULL));

	/* Too small: refused, the corner is kept. */
	form_refused(p, "zoom=100&label=11&corner=100,50&pt.x=102&pt.y=80",
	    "A box must be at least 4 \u00d7 4 pixels: click its opposite corner again.");
	v = editor(p, "zoom=100&label=11&corner=100,50&pt.x=102&pt.y=80");
	ck_assert_str_eq(view_corner(v), "100,50,1,1");
	ck_assert_str_eq(view_boxes(v), "");
	ck_assert_int_eq(form(p, "zoom=100&label=11&corner=100,50&pt.x=103&pt.y=53", &ann, &err), 1);
	ck_assert_str_eq(view_boxes(editor(p, "zoom=100&label=11&corner=100,50&pt.x=103&pt.y=53")),
	    "100,50,4,4,11");

	/* Clicks that are not on the image as shown (640 x 480 at 100 %). */
	form_refused(p, "zoom=100&pt.x=640&pt.y=5", "The click was not on the image.");
	form_refused(p, "zoom=100&pt.x=5&pt.y=480", "The click was not on the image.");
	form_refused(p, "pt.x=-1&pt.y=5", "The click was not on the image.");
	form_refused(p, "pt.x=5.5&pt.y=5", "The click was not on the image.");
	form_refused(p, "pt.x=5", "The click was not on the image.");
	form_refused(p, "pt.y=5", "The click was not on the image.");
	form_refused(p, "pt.x=5&pt.y=5&pt.x=6", "The click was not on the image.");
	form_refused(p, "pt.x=5&pt.y=", "The click was not on the image.");
	form_refused(p, "pt.x=5&pt.y=5&remove=corner", "Make one change at a time.");
	v = editor(p, "zoom=100&pt.x=640&pt.y=5");
	ck_assert_str_eq(view_corner(v), "");

	/* The editor drops what it cannot show and keeps the rest. */
	v = editor(p, "box=nan,1,1,1,11&box=10,20,30,40,11&box=10,20,30,40,99&noobjects=1&label=x");
	ck_assert_str_eq(view_boxes(v), "10,20,30,40,11");
	ck_assert(json_object_get_boolean(jget(v, "noobjects")));
	ck_assert_str_eq(checked_ids(v), "");
}
END_TEST

/* The zoom choices of an editor view as "fit*,50,100" (* the current). */
static const char *view_zooms(struct json_object *v)
{
	struct json_object *arr = jget(v, "zooms");
	struct buf b;

	buf_init(&b, ctx.arena);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *z = json_object_array_get_idx(arr, i);
		buf_printf(&b, "%s%s%s", i ? "," : "", json_object_get_string(jget(z, "value")),
		    json_object_get_boolean(jget(z, "current")) ? "*" : "");
	}
	buf_addc(&b, '\0');
	ck_assert(!b.failed);
	return b.data;
}

/* The displayed size of an editor view as "800x600 fit". */
static const char *view_shown(struct json_object *v)
{
	return arena_printf(ctx.arena, "%dx%d %s", json_object_get_int(jget(v, "show_width")),
	    json_object_get_int(jget(v, "show_height")), json_object_get_string(jget(v, "zoom")));
}

/* The result of clicks without JavaScript on an item: the step is
 * applied (parse_form returns 1) and the view shows boxes|corner. */
static const char *clicks(const struct labeld_plugin *p, const struct labeld_item *it,
    const char *spec)
{
	struct json_object *ann, *v;
	const char *err;

	ck_assert_msg(form_on(p, it, spec, &ann, &err) == 1, "%s: %s", spec, err ? err : "answer");
	v = editor_on(p, it, spec);
	return arena_printf(ctx.arena, "%s|%s", view_boxes(v), view_corner(v));
}

/* Zoom without JavaScript: the displayed size the server chooses, clicks
 * mapped back to image pixels, zoom steps, refused zooms. */
START_TEST(bbox_zoom)
{
	const struct labeld_plugin *p = plugin_load("bbox");
	static const struct labeld_item big = { .id = 6, .path = "big.jpg", .width = 4000,
		.height = 3000, .format = "jpeg" };
	static const struct labeld_item small = { .id = 7, .path = "s.png", .width = 100,
		.height = 75, .format = "png" };
	static const struct labeld_item tall = { .id = 8, .path = "t.png", .width = 300,
		.height = 4000, .format = "png" };
	static const struct labeld_item huge = { .id = 9, .path = "h.png", .width = 10000,
		.height = 5000, .format = "png" };
	const char *zoom = "That zoom is not one of the choices for this image.";
	const char *off = "The click was not on the image.";
	struct json_object *v, *ann;
	const char *err;

	/* Fit: the whole image in 800 x 600, never more than twice its size. */
	v = editor_on(p, &big, NULL);
	ck_assert_str_eq(view_shown(v), "800x600 fit");
	ck_assert_str_eq(view_zooms(v), "fit*,50,100,200,400");
	ck_assert_int_eq(json_object_get_int(jget(v, "font")), 70);
	ck_assert_int_eq(json_object_get_int(jget(v, "width")), 4000);
	ck_assert_str_eq(view_shown(editor(p, NULL)), "800x600 fit");
	ck_assert_str_eq(view_shown(editor_on(p, &small, NULL)), "200x150 fit");
	ck_assert_str_eq(view_shown(editor_on(p, &tall, NULL)), "45x600 fit");
	v = editor_on(p, &huge, NULL);
	ck_assert_str_eq(view_shown(v), "800x400 fit");
	/* Levels whose longer side would pass 16384 px are not offered. */
	ck_assert_str_eq(view_zooms(v), "fit*,50,100");

	/* A click covers the image pixels under it; the first corner keeps
	 * them all, so corner to corner of the displayed image is the whole
	 * image, in either order. */
	ck_assert_str_eq(clicks(p, &big, "label=11&pt.x=0&pt.y=0"), "|0,0,5,5");
	ck_assert_str_eq(clicks(p, &big, "zoom=fit&label=11&pt.x=799&pt.y=599"), "|3995,2995,5,5");
	ck_assert_str_eq(clicks(p, &big, "label=11&corner=0,0,5,5&pt.x=799&pt.y=599&zoom=fit"),
	    "0,0,4000,3000,11|");
	ck_assert_str_eq(clicks(p, &big, "label=11&corner=3995,2995,5,5&pt.x=0&pt.y=0"),
	    "0,0,4000,3000,11|");
	ck_assert_str_eq(clicks(p, &big, "label=11&pt.x=400&pt.y=300"), "|2000,1500,5,5");
	form_refused(p, "label=11&pt.x=800&pt.y=5", off);
	form_refused(p, "label=11&pt.x=5&pt.y=600", off);
	/* Small images: a displayed pixel is half an image pixel. */
	ck_assert_str_eq(clicks(p, &small, "label=11&pt.x=199&pt.y=149"), "|99,74,1,1");
	ck_assert_str_eq(clicks(p, &small, "label=11&corner=99,74,1,1&pt.x=0&pt.y=1"),
	    "0,0,100,75,11|");

	/* A zoom step keeps the boxes, the corner and the class. */
	{
		const char *spec = "zoom=fit&zoomto=200&box=10,10,100,100,12&corner=0,0,5,5&label=11";
		ck_assert_int_eq(form_on(p, &big, spec, &ann, &err), 1);
		v = editor_on(p, &big, spec);
		ck_assert_str_eq(view_shown(v), "8000x6000 200");
		ck_assert_str_eq(view_zooms(v), "fit,50,100,200*,400");
		ck_assert_str_eq(view_boxes(v), "10,10,100,100,12");
		ck_assert_str_eq(view_corner(v), "0,0,5,5");
		ck_assert_str_eq(checked_ids(v), "11");
		ck_assert_int_eq(json_object_get_int(jget(v, "font")), 7);
		ck_assert_str_eq(view_shown(editor_on(p, &big, "zoom=200&zoomto=fit")), "800x600 fit");
		ck_assert_str_eq(view_shown(editor_on(p, &big, "zoomto=50")), "2000x1500 50");
		ck_assert_str_eq(view_shown(editor_on(p, &small, "zoomto=400")), "400x300 400");
	}
	/* Clicks at 200 %: two displayed pixels per image pixel. */
	ck_assert_str_eq(clicks(p, &big, "zoom=200&label=11&pt.x=3&pt.y=3"), "|1,1,1,1");
	ck_assert_str_eq(clicks(p, &big, "zoom=200&label=11&corner=1,1,1,1&pt.x=20&pt.y=30"),
	    "1,1,10,15,11|");
	ck_assert_str_eq(clicks(p, &big, "zoom=200&label=11&corner=0,0,5,5&pt.x=7999&pt.y=5999"),
	    "0,0,4000,3000,11|");
	ck_assert_int_eq(form_on(p, &big, "zoom=200&pt.x=7999&pt.y=5999", &ann, &err), 1);
	ck_assert_int_eq(form_on(p, &big, "zoom=200&pt.x=8000&pt.y=5", &ann, &err), -1);
	ck_assert_str_eq(err, off);
	/* At 50 % a displayed pixel is two image pixels. */
	ck_assert_str_eq(clicks(p, &big, "zoom=50&label=11&pt.x=10&pt.y=10"), "|20,20,2,2");
	ck_assert_int_eq(form_on(p, &big, "zoom=50&pt.x=2000&pt.y=5", &ann, &err), -1);

	/* Zooms that are not offered. */
	form_refused(p, "zoom=25&pt.x=1&pt.y=1", zoom);
	form_refused(p, "zoom=0&pt.x=1&pt.y=1", zoom);
	form_refused(p, "zoom=FIT&noobjects=1", zoom);
	form_refused(p, "zoom=&noobjects=1", zoom);
	form_refused(p, "zoom=0100&noobjects=1", zoom);
	form_refused(p, "zoom=fit&zoom=fit&noobjects=1", zoom);
	form_refused(p, "zoomto=300", zoom);
	form_refused(p, "zoomto=fit&zoomto=50", zoom);
	ck_assert_int_eq(form_on(p, &huge, "zoomto=200", &ann, &err), -1);
	ck_assert_str_eq(err, zoom);
	ck_assert_int_eq(form_on(p, &huge, "zoomto=100", &ann, &err), 1);
	form_refused(p, "zoomto=fit&pt.x=1&pt.y=1", "Make one change at a time.");
	form_refused(p, "zoomto=fit&remove=corner&corner=1,1", "Make one change at a time.");
	/* The zoom is no part of the answer. */
	form_accepted(p, "zoom=100&box=10,20,30,40,11",
	    "{\"boxes\":[{\"label\":11,\"x\":10,\"y\":20,\"w\":30,\"h\":40}],\"no_objects\":false}");
	/* The editor shows what it can: an unknown zoom is fit. */
	ck_assert_str_eq(view_corner(editor_on(p, &big, "zoom=25&pt.x=799&pt.y=599")),
	    "3995,2995,5,5");
	ck_assert_str_eq(view_shown(editor_on(p, &big, "zoom=50&zoomto=999")), "2000x1500 50");

	/* First corners: x,y (one pixel) or x,y,w,h inside the image. */
	ck_assert_str_eq(clicks(p, &big, "label=11&corner=3995,2995,5,5&remove=corner"), "|");
	form_refused(p, "corner=636,5,5,1&noobjects=1", "The first corner is not a point of the image.");
	form_refused(p, "corner=1,1,0,1&noobjects=1", "The first corner is not a point of the image.");
	form_refused(p, "corner=1,1,1&noobjects=1", "The first corner is not a point of the image.");
	form_refused(p, "corner=1,1,1,1,1&noobjects=1", "The first corner is not a point of the image.");
	form_refused(p, "corner=1,,1,1&noobjects=1", "The first corner is not a point of the image.");
	form_refused(p, "corner=635,475,5,5&noobjects=1",
	    "Finish the box you started: click its opposite corner, or cancel it.");
}
END_TEST

START_TEST(bbox_single_class_preselected)
{
	const struct labeld_plugin *p = plugin_load("bbox");
	static const struct labeld_label one[] = { { .id = 7, .name = "car", .key = 1 } };
	struct json_object *v = NULL;
	const char *err;

	ck_assert_int_eq(p->task->editor_view(&ctx, &item, one, 1, NULL, 0, &v, &err), 0);
	ck_assert_str_eq(jstr(json_object_array_get_idx(jget(v, "labels"), 0)),
	    "{\"id\":7,\"name\":\"car\",\"key\":1,\"checked\":true}");
}
END_TEST

START_TEST(bbox_validate)
{
	const struct labeld_plugin *p = plugin_load("bbox");
	struct json_object *ann, *box;
	const char *err;

	ck_assert_int_eq(validate_text(p,
	    "{\"boxes\":[{\"label\":11,\"x\":0,\"y\":0,\"w\":640,\"h\":480}],\"no_objects\":false}"), 0);
	ck_assert_int_eq(validate_text(p,
	    "{\"no_objects\":false,\"boxes\":[{\"h\":4.5,\"w\":4.5,\"y\":1.5,\"x\":1.5,\"label\":13}]}"), 0);
	ck_assert_int_eq(validate_text(p, "{\"boxes\":[],\"no_objects\":true}"), 0);

	static const char *const bad[] = {
		"{\"boxes\":[],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":11,\"x\":0,\"y\":0,\"w\":10,\"h\":10}],\"no_objects\":true}",
		"{\"boxes\":[{\"label\":99,\"x\":0,\"y\":0,\"w\":10,\"h\":10}],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":\"11\",\"x\":0,\"y\":0,\"w\":10,\"h\":10}],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":0,\"x\":0,\"y\":0,\"w\":10,\"h\":10}],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":11,\"x\":-1,\"y\":0,\"w\":10,\"h\":10}],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":11,\"x\":0,\"y\":-0.5,\"w\":10,\"h\":10}],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":11,\"x\":20,\"y\":0,\"w\":-10,\"h\":10}],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":11,\"x\":0,\"y\":0,\"w\":0,\"h\":10}],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":11,\"x\":0,\"y\":0,\"w\":3,\"h\":10}],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":11,\"x\":631,\"y\":0,\"w\":10,\"h\":10}],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":11,\"x\":0,\"y\":0,\"w\":10,\"h\":481}],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":11,\"x\":0,\"y\":0,\"w\":1e300,\"h\":10}],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":11,\"x\":0,\"y\":0,\"w\":99999999999999999999999,\"h\":10}],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":11,\"x\":\"0\",\"y\":0,\"w\":10,\"h\":10}],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":11,\"x\":null,\"y\":0,\"w\":10,\"h\":10}],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":11,\"y\":0,\"w\":10,\"h\":10}],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":11,\"x\":0,\"y\":0,\"w\":10,\"h\":10,\"z\":1}],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":11,\"x\":0,\"y\":0,\"width\":10,\"h\":10}],\"no_objects\":false}",
		"{\"boxes\":[[11,0,0,10,10]],\"no_objects\":false}",
		"{\"boxes\":[{\"label\":11,\"x\":0,\"y\":0,\"w\":10,\"h\":10}]}",
		"{\"boxes\":[{\"label\":11,\"x\":0,\"y\":0,\"w\":10,\"h\":10}],\"no_objects\":0}",
		"{\"boxes\":{},\"no_objects\":false}",
		"{\"boxes\":[],\"no_objects\":true,\"extra\":1}",
		"{\"no_objects\":true}",
		"[]",
		"null",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(validate_text(p, bad[i]) == -1, "accepted: %s", bad[i]);

	/* NaN and infinity cannot come from text; build them. */
	static const double nonfinite[] = { NAN, INFINITY, -INFINITY };
	for (size_t i = 0; i < 3; i++) {
		ann = json_tokener_parse(
		    "{\"boxes\":[{\"label\":11,\"x\":0,\"y\":0,\"w\":10,\"h\":10}],\"no_objects\":false}");
		box = json_object_array_get_idx(jget(ann, "boxes"), 0);
		json_object_object_add(box, i == 0 ? "x" : "w", json_object_new_double(nonfinite[i]));
		err = NULL;
		ck_assert_int_eq(p->task->validate(&ctx, &item, labels3, NLABELS3, ann, &err), -1);
		ck_assert_ptr_nonnull(err);
		json_object_put(ann);
	}

	/* Too many boxes. */
	{
		struct buf b;
		buf_init(&b, ctx.arena);
		buf_adds(&b, "{\"boxes\":[");
		for (int i = 0; i < 501; i++)
			buf_printf(&b, "%s{\"label\":11,\"x\":0,\"y\":0,\"w\":10,\"h\":10}", i ? "," : "");
		buf_adds(&b, "],\"no_objects\":false}");
		buf_addc(&b, '\0');
		ck_assert(!b.failed);
		ck_assert_int_eq(validate_text(p, b.data), -1);
	}
}
END_TEST

START_TEST(bbox_describe)
{
	const struct labeld_plugin *p = plugin_load("bbox");
	struct json_object *ann;
	int64_t *ids;
	size_t nids, nboxes;
	struct labeld_box *boxes;
	const char *err;

	ann = json_tokener_parse("{\"boxes\":[{\"label\":13,\"x\":1.5,\"y\":2,\"w\":30,\"h\":40.25},"
	    "{\"label\":11,\"x\":0,\"y\":0,\"w\":10,\"h\":10},"
	    "{\"label\":13,\"x\":5,\"y\":6,\"w\":7,\"h\":8}],\"no_objects\":false}");
	ck_assert_int_eq(p->task->describe(&ctx, ann, &ids, &nids, &boxes, &nboxes, &err), 0);
	ck_assert_uint_eq(nids, 2);
	ck_assert_int_eq(ids[0], 11);
	ck_assert_int_eq(ids[1], 13);
	ck_assert_uint_eq(nboxes, 3);
	ck_assert_int_eq(boxes[0].label_id, 13);
	ck_assert_double_eq(boxes[0].x, 1.5);
	ck_assert_double_eq(boxes[0].y, 2);
	ck_assert_double_eq(boxes[0].width, 30);
	ck_assert_double_eq(boxes[0].height, 40.25);
	ck_assert_int_eq(boxes[1].label_id, 11);
	ck_assert_int_eq(boxes[2].label_id, 13);
	json_object_put(ann);

	ann = json_tokener_parse("{\"boxes\":[],\"no_objects\":true}");
	ck_assert_int_eq(p->task->describe(&ctx, ann, &ids, &nids, &boxes, &nboxes, &err), 0);
	ck_assert_uint_eq(nids, 0);
	ck_assert_uint_eq(nboxes, 0);
	json_object_put(ann);

	ann = json_tokener_parse("{\"boxes\":[{\"label\":11,\"x\":0,\"y\":0,\"w\":0,\"h\":10}],"
	    "\"no_objects\":false}");
	ck_assert_int_eq(p->task->describe(&ctx, ann, &ids, &nids, &boxes, &nboxes, &err), -1);
	json_object_put(ann);
	ann = json_tokener_parse("{\"label\":11}");
	ck_assert_int_eq(p->task->describe(&ctx, ann, &ids, &nids, &boxes, &nboxes, &err), -1);
	json_object_put(ann);
}
END_TEST

/* ------------------------------------------------------------ templates */

/* Render the plugin's editor the way the labeling page does: a page
 * template with {{>*editor_template}} inside a form, the page's view with
 * the plugin's editor view under "editor".  Arena memory. */
static const char *render_editor(const char *name, const struct labeld_label *labels,
    size_t nlabels, struct json_object *editor_view, const char *error, size_t *editor_len)
{
	static const char page[] = "<form id=\"labelform\">\n{{>*editor_template}}</form>\n";
	char dir[4096], err[512];
	struct tmpl_set *set = tmpl_set_new();
	struct json_object *view, *it, *arr;
	struct buf out;

	ck_assert_ptr_nonnull(set);
	snprintf(dir, sizeof(dir), "%s/plugins/task/%s", TEST_SRCDIR, name);
	ck_assert_msg(tmpl_add_dir(set, dir, arena_printf(ctx.arena, "%s/", name), err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_msg(tmpl_add(set, "label", "label.html", page, strlen(page), err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_msg(tmpl_link(set, err, sizeof(err)) == 0, "%s", err);
	ck_assert(tmpl_exists(set, arena_printf(ctx.arena, "%s/editor", name)));

	view = host_json_own(&ctx, json_object_new_object());
	ck_assert_ptr_nonnull(view);
	it = json_object_new_object();
	json_object_object_add(it, "id", json_object_new_int64(item.id));
	json_object_object_add(it, "width", json_object_new_int64(item.width));
	json_object_object_add(it, "height", json_object_new_int64(item.height));
	json_object_object_add(it, "format", json_object_new_string(item.format));
	json_object_object_add(it, "image_url", json_object_new_string("/projects/3/items/5/image?v=1&x=\"q\""));
	json_object_object_add(view, "item", it);
	/* Where the core's form posts (the labeling page's own address). */
	json_object_object_add(view, "form_action", json_object_new_string("/projects/3/items/5"));
	arr = json_object_new_array();
	for (size_t i = 0; i < nlabels; i++) {
		struct json_object *l = json_object_new_object();
		json_object_object_add(l, "id", json_object_new_int64(labels[i].id));
		json_object_object_add(l, "name", json_object_new_string(labels[i].name));
		json_object_object_add(l, "key", json_object_new_int(labels[i].key));
		json_object_object_add(l, "position", json_object_new_int((int)i + 1));
		json_object_array_add(arr, l);
	}
	json_object_object_add(view, "labels", arr);
	json_object_object_add(view, "editor", json_object_get(editor_view));
	if (error != NULL)
		json_object_object_add(view, "error", json_object_new_string(error));
	json_object_object_add(view, "csrf", json_object_new_string("csrf-token"));
	json_object_object_add(view, "lease", json_object_new_string("lease-token"));
	json_object_object_add(view, "editor_template",
	    json_object_new_string(arena_printf(ctx.arena, "%s/editor", name)));

	buf_init(&out, ctx.arena);
	ck_assert_int_eq(tmpl_render(set, "label", view, &out), 0);
	buf_addc(&out, '\0');
	ck_assert(!out.failed);
	tmpl_set_free(set);
	*editor_len = out.len - 1 - strlen(page) + strlen("{{>*editor_template}}");
	return out.data;
}

/* With TASK_PLUGINS_DUMP=<dir> set, keep a rendered editor for a person to
 * look at (<dir>/<file>). */
static void dump_html(const char *file, const char *html)
{
	const char *dir = getenv("TASK_PLUGINS_DUMP");
	char path[4096];
	FILE *f;

	if (dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s", path);
	fputs(html, f);
	fclose(f);
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* What no editor may contain: its own form, inline script or style. */
static void assert_page_rules(const char *html)
{
	ck_assert_int_eq(count_of(html, "<form"), 1);
	ck_assert_int_eq(count_of(html, "</form>"), 1);
	ck_assert_ptr_null(strstr(html, "style="));
	ck_assert_ptr_null(strstr(html, "<style"));
	ck_assert_ptr_null(strstr(html, "<script"));
	/* No event handler attributes (onclick= and friends). */
	for (const char *q = html; (q = strstr(q, " on")) != NULL; q += 3) {
		const char *e = q + 3;
		while (*e >= 'a' && *e <= 'z')
			e++;
		ck_assert_msg(*e != '=', "event handler attribute in %s", html);
	}
	ck_assert_ptr_null(strstr(html, "{{"));
}

static const struct labeld_label labels10[] = {
	{ 101, "person", 1 }, { 102, "bicycle", 2 }, { 103, "car", 3 }, { 104, "motorbike", 4 },
	{ 105, "bus", 5 }, { 106, "truck", 6 }, { 107, "traffic light", 7 },
	{ 108, "stop sign", 8 }, { 109, "dog", 9 }, { 110, "<b>cat & \"kitten\"</b>", 0 },
};

START_TEST(template_multiclass)
{
	const struct labeld_plugin *p = plugin_load("multiclass");
	struct json_object *v = NULL;
	const char *err, *html;
	size_t n;
	struct labeld_field chosen[] = { { "label", "103" } };

	ck_assert_int_eq(p->task->editor_view(&ctx, &item, labels10, 10, chosen, 1, &v, &err), 0);
	html = render_editor("multiclass", labels10, 10, v, NULL, &n);
	assert_page_rules(html);
	ck_assert_int_eq(count_of(html, "type=\"radio\" name=\"label\""), 10);
	ck_assert_ptr_nonnull(strstr(html,
	    "<label><input type=\"radio\" name=\"label\" value=\"101\" "
	    "data-key=\"1\"><kbd>1</kbd> person</label>"));
	ck_assert_ptr_nonnull(strstr(html, "value=\"103\" data-key=\"3\" checked><kbd>3</kbd> car"));
	ck_assert_ptr_nonnull(strstr(html, "data-key=\"9\""));
	ck_assert_int_eq(count_of(html, "data-key="), 9);
	ck_assert_int_eq(count_of(html, "<kbd>"), 9);
	ck_assert_int_eq(count_of(html, " checked"), 1);
	/* The tenth label: no key, name escaped. */
	ck_assert_ptr_nonnull(strstr(html, "value=\"110\">&lt;b&gt;cat &amp; &quot;kitten&quot;&lt;/b&gt;</label>"));
	ck_assert_uint_lt(n, 1500);
}
END_TEST

START_TEST(template_multilabel)
{
	const struct labeld_plugin *p = plugin_load("multilabel");
	struct json_object *v = NULL;
	const char *err, *html;
	size_t n;
	struct labeld_field chosen[] = { { "label", "110" }, { "label", "102" } };

	ck_assert_int_eq(p->task->editor_view(&ctx, &item, labels10, 10, chosen, 2, &v, &err), 0);
	html = render_editor("multilabel", labels10, 10, v, NULL, &n);
	assert_page_rules(html);
	ck_assert_int_eq(count_of(html, "type=\"checkbox\" name=\"label\""), 10);
	ck_assert_ptr_nonnull(strstr(html, "value=\"102\" data-key=\"2\" checked><kbd>2</kbd> bicycle"));
	ck_assert_ptr_nonnull(strstr(html, "value=\"110\" checked>&lt;b&gt;"));
	ck_assert_int_eq(count_of(html, "data-key="), 9);
	ck_assert_int_eq(count_of(html, " checked"), 2);
	ck_assert_uint_lt(n, 1500);
}
END_TEST

START_TEST(template_bbox)
{
	const struct labeld_plugin *p = plugin_load("bbox");
	struct json_object *v = NULL;
	const char *err, *html;
	size_t n, nf;
	struct buf spec;
	struct labeld_field *f;

	/* First display. */
	ck_assert_int_eq(p->task->editor_view(&ctx, &item, labels10, 10, NULL, 0, &v, &err), 0);
	html = render_editor("bbox", labels10, 10, v, NULL, &n);
	assert_page_rules(html);
	ck_assert_int_eq(count_of(html, "type=\"radio\" name=\"label\""), 10);
	ck_assert_int_eq(count_of(html, "data-key="), 9);
	ck_assert_ptr_nonnull(strstr(html, "value=\"101\" data-key=\"1\"><kbd>1</kbd> person"));
	ck_assert_ptr_nonnull(strstr(html, "id=\"bbox-stage\" data-width=\"640\" data-height=\"480\""));
	ck_assert_ptr_nonnull(strstr(html, "<svg id=\"bbox-overlay\" viewBox=\"0 0 640 480\""));
	ck_assert_ptr_nonnull(strstr(html, "<div id=\"bbox-boxes\">"));
	ck_assert_ptr_nonnull(strstr(html,
	    "<input type=\"image\" name=\"pt\" src=\"/projects/3/items/5/image?v&#61;1&amp;x&#61;&quot;q&quot;\""));
	/* Shown at the size the server chose (attributes: no style), the
	 * zoom it was shown at, the zoom choices. */
	ck_assert_ptr_nonnull(strstr(html, "alt=\"Image: click a corner\" width=\"800\" height=\"600\" "
	    "formaction=\"/projects/3/items/5#bbox-at\">"));
	ck_assert_ptr_nonnull(strstr(html, "<input type=\"hidden\" name=\"zoom\" value=\"fit\">"));
	ck_assert_ptr_nonnull(strstr(html, "<button name=\"zoomto\" value=\"fit\" aria-pressed=\"true\">Fit</button>"
	    "<button name=\"zoomto\" value=\"50\">50%</button>"));
	ck_assert_int_eq(count_of(html, "name=\"zoomto\""), 5);
	ck_assert_int_eq(count_of(html, "aria-pressed"), 1);
	ck_assert_ptr_nonnull(strstr(html, "name=\"noobjects\" value=\"1\">"));
	ck_assert_int_eq(count_of(html, "name=\"box\""), 0);
	ck_assert_int_eq(count_of(html, "name=\"corner\""), 0);
	ck_assert_int_eq(count_of(html, "<rect"), 0);

	/* After a first click: the corner is a hidden field and a marker. */
	f = fields_from("label=110&pt.x=10&pt.y=20", &nf);
	ck_assert_int_eq(p->task->editor_view(&ctx, &item, labels10, 10, f, nf, &v, &err), 0);
	html = render_editor("bbox", labels10, 10, v, NULL, &n);
	assert_page_rules(html);
	ck_assert_ptr_nonnull(strstr(html, "<input type=\"hidden\" name=\"corner\" value=\"8,16,1,1\">"));
	ck_assert_ptr_nonnull(strstr(html, "<circle id=\"bbox-at\" cx=\"8.5\" cy=\"16.5\""));
	ck_assert_ptr_nonnull(strstr(html, "name=\"remove\" value=\"corner\""));
	ck_assert_ptr_nonnull(strstr(html, "value=\"110\" checked>"));
	ck_assert_ptr_null(strstr(html, "flash error"));

	/* A refused click: the editor shows why unless the page shows an error. */
	f = fields_from("corner=10,20&pt.x=100&pt.y=200", &nf);
	ck_assert_int_eq(p->task->editor_view(&ctx, &item, labels10, 10, f, nf, &v, &err), 0);
	html = render_editor("bbox", labels10, 10, v, NULL, &n);
	assert_page_rules(html);
	ck_assert_ptr_nonnull(strstr(html, "<p class=\"flash error\" role=\"alert\">Choose the class "
	    "of the box, then click its opposite corner again.</p>"));
	ck_assert_ptr_nonnull(strstr(html, "<input type=\"hidden\" name=\"corner\" value=\"10,20,1,1\">"));
	html = render_editor("bbox", labels10, 10, v, "Choose the class of the box.", &n);
	ck_assert_ptr_null(strstr(html, "flash error"));

	/* The box a click made is the page's #bbox-at (the fragment the
	 * click's formaction names), and only that one. */
	f = fields_from("box=1,1,4,4,101&zoom=100&label=110&corner=10,20&pt.x=100&pt.y=200", &nf);
	ck_assert_int_eq(p->task->editor_view(&ctx, &item, labels10, 10, f, nf, &v, &err), 0);
	html = render_editor("bbox", labels10, 10, v, NULL, &n);
	assert_page_rules(html);
	ck_assert_ptr_nonnull(strstr(html, "<rect x=\"1\" y=\"1\" width=\"4\" height=\"4\"/>"));
	ck_assert_ptr_nonnull(strstr(html, "<rect id=\"bbox-at\" x=\"10\" y=\"20\" width=\"91\" height=\"181\"/>"));
	ck_assert_int_eq(count_of(html, "bbox-at"), 2);
	ck_assert_ptr_null(strstr(html, "<circle"));

	/* Ten boxes of ten classes and "no objects" ticked (shown as sent). */
	buf_init(&spec, ctx.arena);
	for (int i = 0; i < 10; i++)
		buf_printf(&spec, "box=%d.25,%d.5,%d,%d.75,%d&", i * 60, i * 40, 50 + i, 30 + i, 101 + i);
	buf_adds(&spec, "label=102&noobjects=1");
	buf_addc(&spec, '\0');
	f = fields_from(spec.data, &nf);
	ck_assert_int_eq(p->task->editor_view(&ctx, &item, labels10, 10, f, nf, &v, &err), 0);
	html = render_editor("bbox", labels10, 10, v, NULL, &n);
	assert_page_rules(html);
	dump_html("bbox-10.html", html);
	ck_assert_int_eq(count_of(html, "<input type=\"hidden\" name=\"box\""), 10);
	ck_assert_int_eq(count_of(html, "<rect "), 10);
	ck_assert_int_eq(count_of(html, "<text "), 10);
	ck_assert_int_eq(count_of(html, "name=\"remove\""), 10);
	ck_assert_ptr_nonnull(strstr(html, "<input type=\"hidden\" name=\"box\" value=\"0.25,0.5,50,30.75,101\">"));
	ck_assert_ptr_nonnull(strstr(html, "<rect x=\"540.25\" y=\"360.5\" width=\"59\" height=\"39.75\"/>"));
	ck_assert_ptr_nonnull(strstr(html, "<button name=\"remove\" value=\"9\">"));
	ck_assert_ptr_nonnull(strstr(html, "&lt;b&gt;cat &amp; &quot;kitten&quot;&lt;/b&gt;</text>"));
	ck_assert_ptr_nonnull(strstr(html, "name=\"noobjects\" value=\"1\" checked>"));
	ck_assert_ptr_nonnull(strstr(html, "value=\"102\" data-key=\"2\" checked>"));

	/* The labeling page must stay small (20 KB with CSS and JS): ten
	 * labels and ten boxes drawn with the mouse (labeld.js writes one
	 * decimal).  The zoom bar is about 400 bytes of it. */
	static const struct labeld_label plain[] = {
		{ 101, "person", 1 }, { 102, "bicycle", 2 }, { 103, "car", 3 },
		{ 104, "motorbike", 4 }, { 105, "bus", 5 }, { 106, "truck", 6 },
		{ 107, "traffic light", 7 }, { 108, "stop sign", 8 }, { 109, "dog", 9 },
		{ 110, "cat", 0 },
	};
	buf_clear(&spec);
	for (int i = 0; i < 10; i++)
		buf_printf(&spec, "box=%d.2,%d.5,%d.7,%d.1,%d&", i * 60, i * 40, 50 + i, 30 + i, 101 + i);
	buf_adds(&spec, "label=102");
	buf_addc(&spec, '\0');
	f = fields_from(spec.data, &nf);
	ck_assert_int_eq(p->task->editor_view(&ctx, &item, plain, 10, f, nf, &v, &err), 0);
	html = render_editor("bbox", plain, 10, v, NULL, &n);
	dump_html("bbox-size.html", html);
	ck_assert_msg(n < 4608, "bbox editor is %zu bytes", n);
	fprintf(stderr, "bbox editor, 10 labels and 10 boxes: %zu bytes\n", n);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("task_plugins");
	TCase *tc = tcase_create("plugins");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, descriptors);
	tcase_add_test(tc, refuses_other_abi);
	tcase_add_test(tc, loader_accepts);
	tcase_add_test(tc, multiclass_forms);
	tcase_add_test(tc, multiclass_editor);
	tcase_add_test(tc, multiclass_validate_describe);
	tcase_add_test(tc, multilabel_forms);
	tcase_add_test(tc, multilabel_editor);
	tcase_add_test(tc, multilabel_validate_describe);
	tcase_add_test(tc, bbox_forms_good);
	tcase_add_test(tc, bbox_forms_bad);
	tcase_add_test(tc, bbox_too_many_boxes);
	tcase_add_test(tc, bbox_config);
	tcase_add_test(tc, bbox_corner_clicks);
	tcase_add_test(tc, bbox_zoom);
	tcase_add_test(tc, bbox_single_class_preselected);
	tcase_add_test(tc, bbox_validate);
	tcase_add_test(tc, bbox_describe);
	tcase_add_test(tc, template_multiclass);
	tcase_add_test(tc, template_multilabel);
	tcase_add_test(tc, template_bbox);
	suite_add_tcase(s, tc);
	return s;
}

#include "unit.h"
