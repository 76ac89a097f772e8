/*
 * test_export_plugins.c: the export plugins (coco, manifest) and the test
 * formats (csv, failexport), loaded by labeld's own loader (plugin_set_load)
 * from a fresh plugin directory of the built .so files, with labeld's own
 * host table; each export gets one ctx for begin and end and a fresh ctx
 * for every item call (freed when it returns, so a plugin keeping item
 * memory is caught under ASan).  Synthetic projects of each task type go through
 * begin, item (every pass) and end into a memory sink; the output is parsed
 * with json-c in strict mode and checked field by field against what was
 * given: ids unique and consistent, categories in label order, boxes in
 * pixels (COCO) and in 0..1 (manifest), label names with quotes,
 * backslashes, Unicode, "</script>" and control characters given back
 * exactly.  Also: empty projects, delta exports with removed items, a sink
 * that fails at every single write, unknown labels and bad boxes, and the
 * plugin-util.h writers themselves.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arena.h"
#include <labeld/plugin.h>
#include <labeld/plugin-util.h>
#include "host.h"
#include "plugin.h"

#ifndef TEST_BUILDDIR
#error "TEST_BUILDDIR must be defined (the Makefile passes it)"
#endif

/* The plugins get labeld's own host table (core/host.c: a ctx is an
 * arena; no configuration). */
static struct labeld_host host;

/* ------------------------------------------------------------ memory sink */

/* The export file in memory (malloc'd, NUL-terminated); fail_at > 0 makes
 * the fail_at-th write and every later one fail. */
struct mem_sink {
	char *data;
	size_t len, cap;
	size_t writes;
	size_t fail_at;
};

static int mem_write(void *opaque, const void *data, size_t len)
{
	struct mem_sink *m = opaque;

	m->writes++;
	if (m->fail_at > 0 && m->writes >= m->fail_at)
		return -1;
	ck_assert_uint_gt(len, 0);
	if (m->len + len + 1 > m->cap) {
		size_t cap = m->cap > 0 ? m->cap : 256;
		while (m->len + len + 1 > cap)
			cap *= 2;
		m->data = realloc(m->data, cap);
		ck_assert_ptr_nonnull(m->data);
		m->cap = cap;
	}
	memcpy(m->data + m->len, data, len);
	m->len += len;
	m->data[m->len] = '\0';
	return 0;
}

static void mem_reset(struct mem_sink *m, size_t fail_at)
{
	free(m->data);
	memset(m, 0, sizeof(*m));
	m->fail_at = fail_at;
}

/* ------------------------------------------------------------ fixtures */

static char plugdir[4096];
/* What setup installs there. */
static const char *const plugin_files[] = { "coco.so", "manifest.so", "csvexport.so",
	"failexport.so" };
static struct plugin_set *set;
static struct mem_sink sink;

/* Copy a built .so into the plugin directory (mode 0644, as installed). */
static void install(const char *from, const char *file)
{
	char to[4200];
	struct stat st;
	int in, out;

	snprintf(to, sizeof(to), "%s/%s", plugdir, file);
	in = open(from, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(in >= 0 && fstat(in, &st) == 0, "%s: %s", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ck_assert_msg(out >= 0 && fchmod(out, 0644) == 0, "%s: %s", to, strerror(errno));
	ck_assert_int_eq(sendfile(out, in, NULL, (size_t)st.st_size), st.st_size);
	close(in);
	ck_assert_int_eq(close(out), 0);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char err[256] = "";

	snprintf(plugdir, sizeof(plugdir), "%s/labeld-export-plugins-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	ck_assert_msg(mkdtemp(plugdir) != NULL, "mkdtemp: %s", strerror(errno));
	install(TEST_BUILDDIR "/plugins/export/coco/.libs/coco.so", "coco.so");
	install(TEST_BUILDDIR "/plugins/export/manifest/.libs/manifest.so", "manifest.so");
	install(TEST_BUILDDIR "/tests/plugins/.libs/csvexport.so", "csvexport.so");
	install(TEST_BUILDDIR "/tests/plugins/.libs/failexport.so", "failexport.so");
	host_init(&host, NULL);
	set = plugin_set_load(plugdir, &host, err, sizeof(err));
	ck_assert_msg(set != NULL, "load failed: %s", err);
	for (size_t i = 0; i < set->n; i++)
		ck_assert_msg(set->v[i].desc != NULL, "%s refused: %s", set->v[i].file,
		    set->v[i].error);
	memset(&sink, 0, sizeof(sink));
}

static void teardown(void)
{
	plugin_set_free(set);
	set = NULL;
	for (size_t i = 0; i < sizeof(plugin_files) / sizeof(plugin_files[0]); i++) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", plugdir, plugin_files[i]);
		ck_assert_int_eq(unlink(path), 0);
	}
	ck_assert_int_eq(rmdir(plugdir), 0);
	mem_reset(&sink, 0);
}

/* ------------------------------------------------------------ test data */

/* Label order differs from id order, so a category id that is a label id
 * or an id-order position shows. */
static const struct labeld_label labels[] = {
	{ .id = 31, .name = "cat", .key = 1 },
	{ .id = 7, .name = "say \"hi\"", .key = 2 },
	{ .id = 19, .name = "back\\slash\\", .key = 3 },
	{ .id = 4, .name = "\xc3\xbcn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9 \xe7\x8c\xab \xf0\x9f\x90\xb1",
	  .key = 4 },
	{ .id = 12, .name = "</script><b>&amp;", .key = 5 },
	{ .id = 25, .name = "ctl\x01\x1f\t\n\r\b\f\x7f end", .key = 6 },
	{ .id = 40, .name = "line\xe2\x80\xa8para\xe2\x80\xa9", .key = 7 },
};
#define NLABELS (sizeof(labels) / sizeof(labels[0]))

/* Place of a label id in label order, or -1. */
static long label_pos(int64_t id)
{
	for (size_t i = 0; i < NLABELS; i++)
		if (labels[i].id == id)
			return (long)i;
	return -1;
}

/* One exported item as the test gives it. */
struct titem {
	int64_t id;
	const char *path;
	uint32_t w, h;
	const char *format;
	int removed;
	int64_t ids[4];
	size_t nids;
	struct labeld_box boxes[4];
	size_t nboxes;
};

static const struct titem bbox_items[] = {
	{ .id = 3, .path = "a/one.jpg", .w = 640, .h = 480, .format = "jpeg",
	  .ids = { 7, 4 }, .nids = 2,
	  .boxes = { { 7, 10, 20, 100, 50 }, { 4, 0.5, 0.25, 33.3, 12.7 } }, .nboxes = 2 },
	{ .id = 5, .path = "dir \"q\"/two, comma.png", .w = 400, .h = 300, .format = "png" },
	{ .id = 9, .path = "b/\xe7\x8c\xab</script>.png", .w = 100, .h = 80, .format = "png",
	  .ids = { 12 }, .nids = 1,
	  /* Reaches past the image: clamped to it. */
	  .boxes = { { 12, 90, 70, 20, 20 } }, .nboxes = 1 },
	{ .id = 10, .path = "c/four.gif", .w = 50, .h = 50, .format = "gif",
	  .ids = { 25, 40, 31 }, .nids = 3,
	  .boxes = { { 40, 1, 2, 3, 4 }, { 25, 5, 6, 7, 8 }, { 31, 0, 0, 50, 50 },
		  { 25, 10.3, 3.3, 5.1, 3.3 } }, .nboxes = 4 },
};

static const struct titem multiclass_items[] = {
	{ .id = 2, .path = "x/1.jpg", .w = 10, .h = 20, .format = "jpeg", .ids = { 19 }, .nids = 1 },
	{ .id = 4, .path = "x/2.png", .w = 30, .h = 40, .format = "png", .ids = { 25 }, .nids = 1 },
	{ .id = 6, .path = "x/3.png", .w = 30, .h = 40, .format = "png", .ids = { 40 }, .nids = 1 },
	{ .id = 8, .path = "x/4.png", .w = 30, .h = 40, .format = "png", .ids = { 12 }, .nids = 1 },
};

static const struct titem multilabel_items[] = {
	{ .id = 1, .path = "m/1.jpg", .w = 10, .h = 20, .format = "jpeg",
	  .ids = { 19, 31, 4 }, .nids = 3 },
	{ .id = 2, .path = "m/2.png", .w = 30, .h = 40, .format = "png" },
	{ .id = 7, .path = "m/3.png", .w = 30, .h = 40, .format = "png",
	  .ids = { 40, 7, 12, 25 }, .nids = 4 },
};

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Make t a removed item of a delta export (no labels, no boxes). */
static void mark_removed(struct titem *t)
{
	t->removed = 1;
	t->nids = 0;
	t->nboxes = 0;
}

/* The project; labels are copied into the begin call's own memory and
 * scribbled over after begin returns (a plugin must copy what it keeps). */
struct tproject {
	const char *task;
	const struct labeld_label *labels;
	size_t nlabels;
	int delta;
};

static const char *item_url(const struct titem *t, char *buf, size_t len)
{
	snprintf(buf, len, "https://acct.blob.core.windows.net/c/%s", t->path);
	return buf;
}

/*
 * Run one export of plugin name over items: begin, item for each pass, end.
 * Returns 0, or -1 with *error (copied into static storage) at the first
 * failing op.  Output in sink (reset first, failing at fail_at).
 */
static int run_export(const char *name, const struct tproject *tp, const struct titem *items,
    size_t nitems, size_t fail_at, const char **error)
{
	static char errbuf[512];
	const struct plugin *p = plugin_find(set, LABELD_EXPORT, name);
	const struct labeld_export_ops *ops;
	struct labeld_ctx export_ctx = { .arena = arena_new() };
	struct labeld_export_sink out = { .opaque = &sink, .write = mem_write };
	struct labeld_label *lcopy = NULL;
	struct labeld_export_project proj = { .struct_size = sizeof(proj) };
	void *state = NULL;
	const char *err = NULL;
	int rc = 0;

	ck_assert_msg(p != NULL, "export plugin %s not loaded", name);
	ops = p->desc->export;
	ck_assert_ptr_nonnull(export_ctx.arena);
	mem_reset(&sink, fail_at);
	*error = NULL;
	if (tp->nlabels > 0) {
		lcopy = calloc(tp->nlabels, sizeof(*lcopy));
		ck_assert_ptr_nonnull(lcopy);
		for (size_t i = 0; i < tp->nlabels; i++) {
			lcopy[i] = tp->labels[i];
			lcopy[i].name = strdup(tp->labels[i].name);
		}
	}
	proj.id = 77;
	proj.name = "Pets \"2026\" </script>";
	proj.task = tp->task;
	proj.labels = lcopy;
	proj.nlabels = tp->nlabels;
	proj.instructions_url = "https://example.com/how?a=1&b=2";
	proj.export_id = 5;
	proj.created_at = "2026-12-04T10:00:00Z";
	proj.labeld_version = "0.9.0";
	proj.delta = tp->delta;
	proj.since = tp->delta ? "2026-12-01T09:00:00Z" : NULL;
	proj.items = nitems;
	rc = ops->begin(&export_ctx, &state, &proj, &out, &err);
	for (size_t i = 0; i < tp->nlabels; i++) {
		memset((char *)lcopy[i].name, 'X', strlen(lcopy[i].name));
		free((char *)lcopy[i].name);
	}
	free(lcopy);
	for (uint32_t pass = 1; rc == 0 && pass <= ops->passes; pass++) {
		for (size_t i = 0; rc == 0 && i < nitems; i++) {
			const struct titem *t = &items[i];
			struct labeld_item item = { .id = t->id, .path = t->path, .width = t->w,
			    .height = t->h, .format = t->format };
			char url[512];
			struct labeld_export_item ei = { .struct_size = sizeof(ei), .item = &item,
			    .image_url = item_url(t, url, sizeof(url)), .removed = t->removed,
			    .label_ids = t->nids > 0 ? t->ids : NULL, .nlabel_ids = t->nids,
			    .boxes = t->nboxes > 0 ? t->boxes : NULL, .nboxes = t->nboxes };
			struct labeld_ctx item_ctx = { .arena = arena_new() };
			ck_assert_ptr_nonnull(item_ctx.arena);
			rc = ops->item(&item_ctx, state, pass, &ei, &err);
			arena_free(item_ctx.arena);
		}
	}
	if (rc == 0)
		rc = ops->end(&export_ctx, state, &err);
	if (rc != 0) {
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(err != NULL && err[0] != '\0', "%s failed without a sentence", name);
		snprintf(errbuf, sizeof(errbuf), "%s", err);
		*error = errbuf;
	}
	arena_free(export_ctx.arena);
	return rc;
}

/* Parse text with json-c in strict mode (and UTF-8 checked); only
 * whitespace may follow the value.  The caller puts the result. */
static struct json_object *parse_strict(const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *obj;
	size_t end;

	ck_assert_ptr_nonnull(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	ck_assert_msg(obj != NULL && json_tokener_get_error(tok) == json_tokener_success,
	    "not strict JSON (%s): %.*s", json_tokener_error_desc(json_tokener_get_error(tok)),
	    (int)len, text);
	end = json_tokener_get_parse_end(tok);
	while (end < len && strchr(" \n", text[end]) != NULL)
		end++;
	ck_assert_msg(end == len, "trailing bytes after the JSON value: %s", text + end);
	json_tokener_free(tok);
	return obj;
}

static struct json_object *get(struct json_object *o, const char *key, enum json_type type)
{
	struct json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key,
	    json_object_to_json_string(o));
	ck_assert_msg(json_object_is_type(v, type), "\"%s\" has the wrong type in %s", key,
	    json_object_to_json_string(o));
	return v;
}

static int has(struct json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

/* The raw file never holds what must be escaped: <, >, &, U+2028, U+2029,
 * control characters (but the newlines that end lines). */
static void assert_escaped(const char *text, size_t len)
{
	if (len == 0)
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		ck_assert_msg(c != '<' && c != '>' && c != '&', "raw %c at %zu", c, i);
		ck_assert_msg(c >= 0x20 ? c != 0x7f : c == '\n', "raw control 0x%02x at %zu", c, i);
		if (c == 0xe2 && i + 2 < len)
			ck_assert_msg(!((unsigned char)text[i + 1] == 0x80 &&
			    ((unsigned char)text[i + 2] == 0xa8 || (unsigned char)text[i + 2] == 0xa9)),
			    "raw U+2028/9 at %zu", i);
	}
	ck_assert_ptr_null(strstr(text, "</script>"));
}

static void assert_double(struct json_object *v, double want)
{
	ck_assert_msg(json_object_is_type(v, json_type_double) ||
	    json_object_is_type(v, json_type_int), "not a number: %s", json_object_to_json_string(v));
	ck_assert_msg(fabs(json_object_get_double(v) - want) < 1e-9, "%s != %.17g",
	    json_object_to_json_string(v), want);
}

/* ------------------------------------------------------------ COCO */

/*
 * Check a COCO file against the project and its items, field by field:
 * categories 1..n in label order with the exact names; one image per item
 * not removed (id = item id, file_name, width, height); annotations with
 * ids 1..N, every image_id an image, category ids of the project, for an
 * item with boxes one per box in pixels (clamped to the image), else one
 * per class without a box; removed items only in labeld.removed_images.
 * Returns the parsed file (the caller puts it).
 */
static struct json_object *check_coco(const struct tproject *tp, const struct titem *items,
    size_t nitems)
{
	struct json_object *root = parse_strict(sink.data, sink.len);
	struct json_object *info, *cats, *imgs, *anns, *lab, *removed;
	size_t nimg = 0, nann = 0, nrem = 0, ai = 0;

	assert_escaped(sink.data, sink.len);
	info = get(root, "info", json_type_object);
	ck_assert_str_eq(json_object_get_string(get(info, "description", json_type_string)),
	    "Pets \"2026\" </script>");
	ck_assert_int_eq(json_object_get_int(get(info, "year", json_type_int)), 2026);
	ck_assert_str_eq(json_object_get_string(get(info, "date_created", json_type_string)),
	    "2026-12-04T10:00:00Z");
	ck_assert_str_eq(json_object_get_string(get(info, "url", json_type_string)),
	    "https://example.com/how?a=1&b=2");
	ck_assert_uint_eq(json_object_array_length(get(root, "licenses", json_type_array)), 0);

	cats = get(root, "categories", json_type_array);
	ck_assert_uint_eq(json_object_array_length(cats), tp->nlabels);
	for (size_t i = 0; i < tp->nlabels; i++) {
		struct json_object *c = json_object_array_get_idx(cats, i);
		ck_assert_int_eq(json_object_get_int64(get(c, "id", json_type_int)), (int64_t)i + 1);
		ck_assert_str_eq(json_object_get_string(get(c, "name", json_type_string)),
		    tp->labels[i].name);
		get(c, "supercategory", json_type_string);
	}

	imgs = get(root, "images", json_type_array);
	anns = get(root, "annotations", json_type_array);
	for (size_t i = 0; i < nitems; i++)
		nimg += !items[i].removed;
	ck_assert_uint_eq(json_object_array_length(imgs), nimg);
	for (size_t i = 0, k = 0; i < nitems; i++) {
		const struct titem *t = &items[i];
		struct json_object *im;
		if (t->removed)
			continue;
		im = json_object_array_get_idx(imgs, k++);
		ck_assert_int_eq(json_object_get_int64(get(im, "id", json_type_int)), t->id);
		ck_assert_str_eq(json_object_get_string(get(im, "file_name", json_type_string)),
		    t->path);
		ck_assert_int_eq(json_object_get_int64(get(im, "width", json_type_int)), t->w);
		ck_assert_int_eq(json_object_get_int64(get(im, "height", json_type_int)), t->h);
	}

	/* Annotations: in item order, then box order (or class in label order). */
	for (size_t i = 0; i < nitems; i++)
		if (!items[i].removed)
			nann += items[i].nboxes > 0 ? items[i].nboxes : items[i].nids;
	ck_assert_uint_eq(json_object_array_length(anns), nann);
	for (size_t i = 0; i < nitems; i++) {
		const struct titem *t = &items[i];
		long order[4];
		size_t n = 0;
		if (t->removed)
			continue;
		if (t->nboxes == 0) {
			/* classes in label order */
			for (size_t l = 0; l < NLABELS; l++)
				for (size_t j = 0; j < t->nids; j++)
					if (t->ids[j] == labels[l].id)
						order[n++] = (long)l;
		}
		for (size_t j = 0; j < (t->nboxes > 0 ? t->nboxes : n); j++, ai++) {
			struct json_object *a = json_object_array_get_idx(anns, ai);
			int64_t image_id = json_object_get_int64(get(a, "image_id", json_type_int));
			int found = 0;
			ck_assert_int_eq(json_object_get_int64(get(a, "id", json_type_int)),
			    (int64_t)ai + 1);
			ck_assert_int_eq(image_id, t->id);
			for (size_t k = 0; k < nimg; k++)
				found |= json_object_get_int64(get(json_object_array_get_idx(imgs, k),
				    "id", json_type_int)) == image_id;
			ck_assert_msg(found, "annotation %zu: image %lld is not an image", ai + 1,
			    (long long)image_id);
			ck_assert_int_eq(json_object_get_int(get(a, "iscrowd", json_type_int)), 0);
			ck_assert_uint_eq(json_object_array_length(get(a, "segmentation",
			    json_type_array)), 0);
			if (t->nboxes > 0) {
				const struct labeld_box *b = &t->boxes[j];
				struct json_object *bb = get(a, "bbox", json_type_array);
				int inside = b->x >= 0 && b->y >= 0 && b->x + b->width <= t->w &&
				    b->y + b->height <= t->h;
				double x0 = fmin(fmax(b->x, 0), t->w), y0 = fmin(fmax(b->y, 0), t->h);
				double w = inside ? b->width : fmin(b->x + b->width, t->w) - x0;
				double h = inside ? b->height : fmin(b->y + b->height, t->h) - y0;
				ck_assert_int_eq(json_object_get_int64(get(a, "category_id",
				    json_type_int)), label_pos(b->label_id) + 1);
				ck_assert_uint_eq(json_object_array_length(bb), 4);
				assert_double(json_object_array_get_idx(bb, 0), x0);
				assert_double(json_object_array_get_idx(bb, 1), y0);
				assert_double(json_object_array_get_idx(bb, 2), w);
				assert_double(json_object_array_get_idx(bb, 3), h);
				/* A box inside the image: exactly the numbers labeled. */
				if (inside)
					ck_assert(json_object_get_double(json_object_array_get_idx(bb, 0)) ==
					    b->x && json_object_get_double(json_object_array_get_idx(bb, 1)) ==
					    b->y && json_object_get_double(json_object_array_get_idx(bb, 2)) ==
					    b->width && json_object_get_double(json_object_array_get_idx(bb,
					    3)) == b->height);
				ck_assert(has(a, "area"));
				ck_assert_msg(fabs(json_object_get_double(json_object_object_get(a,
				    "area")) - w * h) < 1e-6, "area %s, want %g",
				    json_object_to_json_string(a), w * h);
				/* inside the image */
				ck_assert(x0 >= 0 && y0 >= 0 && x0 + w <= t->w && y0 + h <= t->h);
			} else {
				ck_assert_int_eq(json_object_get_int64(get(a, "category_id",
				    json_type_int)), order[j] + 1);
				ck_assert_msg(!has(a, "bbox") && !has(a, "area"),
				    "a class annotation has a box: %s", json_object_to_json_string(a));
			}
		}
	}

	lab = get(root, "labeld", json_type_object);
	ck_assert_int_eq(json_object_get_int64(get(lab, "export_id", json_type_int)), 5);
	ck_assert_int_eq(json_object_get_int64(get(lab, "project_id", json_type_int)), 77);
	ck_assert_str_eq(json_object_get_string(get(lab, "task", json_type_string)), tp->task);
	ck_assert_int_eq(json_object_get_boolean(get(lab, "delta", json_type_boolean)), tp->delta);
	removed = get(lab, "removed_images", json_type_array);
	for (size_t i = 0; i < nitems; i++) {
		struct json_object *r;
		if (!items[i].removed)
			continue;
		r = json_object_array_get_idx(removed, nrem++);
		ck_assert_ptr_nonnull(r);
		ck_assert_int_eq(json_object_get_int64(get(r, "id", json_type_int)), items[i].id);
		ck_assert_str_eq(json_object_get_string(get(r, "file_name", json_type_string)),
		    items[i].path);
	}
	ck_assert_uint_eq(json_object_array_length(removed), nrem);
	return root;
}

static void coco_ok(const char *task, const struct titem *items, size_t nitems, int delta)
{
	const struct tproject tp = { .task = task, .labels = labels, .nlabels = NLABELS,
	    .delta = delta };
	const char *err;

	ck_assert_msg(run_export("coco", &tp, items, nitems, 0, &err) == 0, "coco failed: %s", err);
	json_object_put(check_coco(&tp, items, nitems));
}

START_TEST(coco_bbox)
{
	struct json_object *root, *bb;
	const struct tproject tp = { .task = "bbox", .labels = labels, .nlabels = NLABELS };
	const char *err;

	coco_ok("bbox", bbox_items, NITEMS(bbox_items), 0);
	/* The clamped box of item 9, and the pixels as given, in the bytes. */
	ck_assert_int_eq(run_export("coco", &tp, bbox_items, NITEMS(bbox_items), 0, &err), 0);
	ck_assert_ptr_nonnull(strstr(sink.data, "\"bbox\":[90,70,10,10],\"area\":100,"));
	ck_assert_ptr_nonnull(strstr(sink.data, "\"bbox\":[0.5,0.25,33.3,12.7],"));
	/* 5.1 x 3.3 is 16.829999999999998 in doubles: the area is rounded. */
	ck_assert_ptr_nonnull(strstr(sink.data, "\"bbox\":[10.3,3.3,5.1,3.3],\"area\":16.83,"));
	root = parse_strict(sink.data, sink.len);
	bb = get(json_object_array_get_idx(get(root, "annotations", json_type_array), 1), "bbox",
	    json_type_array);
	ck_assert(json_object_get_double(json_object_array_get_idx(bb, 2)) == 33.3);
	json_object_put(root);
}
END_TEST

START_TEST(coco_multiclass)
{
	coco_ok("multiclass", multiclass_items, NITEMS(multiclass_items), 0);
}
END_TEST

START_TEST(coco_multilabel)
{
	coco_ok("multilabel", multilabel_items, NITEMS(multilabel_items), 0);
}
END_TEST

/* The label names come back exactly, and are escaped in the bytes. */
START_TEST(coco_names_escaped)
{
	const struct tproject tp = { .task = "multilabel", .labels = labels, .nlabels = NLABELS };
	const char *err;

	ck_assert_int_eq(run_export("coco", &tp, multilabel_items, 0, 0, &err), 0);
	ck_assert_ptr_nonnull(strstr(sink.data, "\"name\":\"say \\\"hi\\\"\""));
	ck_assert_ptr_nonnull(strstr(sink.data, "\"name\":\"back\\\\slash\\\\\""));
	ck_assert_ptr_nonnull(strstr(sink.data,
	    "\"name\":\"\\u003c/script\\u003e\\u003cb\\u003e\\u0026amp;\""));
	ck_assert_ptr_nonnull(strstr(sink.data,
	    "\"name\":\"ctl\\u0001\\u001f\\t\\n\\r\\b\\f\\u007f end\""));
	ck_assert_ptr_nonnull(strstr(sink.data, "\"name\":\"line\\u2028para\\u2029\""));
	/* Unicode stays UTF-8. */
	ck_assert_ptr_nonnull(strstr(sink.data, labels[3].name));
	json_object_put(check_coco(&tp, multilabel_items, 0));
}
END_TEST

START_TEST(coco_empty)
{
	const struct tproject tp = { .task = "bbox", .labels = labels, .nlabels = NLABELS };
	const struct tproject none = { .task = "multiclass" };
	const char *err;

	ck_assert_int_eq(run_export("coco", &tp, NULL, 0, 0, &err), 0);
	json_object_put(check_coco(&tp, NULL, 0));
	ck_assert_int_eq(run_export("coco", &none, NULL, 0, 0, &err), 0);
	json_object_put(check_coco(&none, NULL, 0));
	ck_assert_ptr_nonnull(strstr(sink.data, "\"categories\":[],\"images\":[],"
	    "\"annotations\":[],"));
}
END_TEST

/* A delta: removed items are no images and have no annotations; they are
 * listed in labeld.removed_images.  Also when every item is removed. */
START_TEST(coco_delta)
{
	struct titem items[NITEMS(bbox_items)];
	struct titem all[2] = {
		{ .id = 1, .path = "gone/1.png", .w = 1, .h = 1, .format = "png", .removed = 1 },
		{ .id = 2, .path = "gone/\"2\".png", .w = 1, .h = 1, .format = "png", .removed = 1 },
	};
	struct json_object *root;

	memcpy(items, bbox_items, sizeof(items));
	mark_removed(&items[1]);
	mark_removed(&items[2]);
	coco_ok("bbox", items, NITEMS(items), 1);
	coco_ok("bbox", all, 2, 1);
	root = parse_strict(sink.data, sink.len);
	ck_assert_uint_eq(json_object_array_length(get(root, "images", json_type_array)), 0);
	ck_assert_uint_eq(json_object_array_length(get(get(root, "labeld", json_type_object),
	    "removed_images", json_type_array)), 2);
	ck_assert_str_eq(json_object_get_string(get(get(root, "labeld", json_type_object),
	    "since", json_type_string)), "2026-12-01T09:00:00Z");
	json_object_put(root);
}
END_TEST

/* ------------------------------------------------------------ manifest */

/* Check a manifest: one strict JSON line per item, in order; removed items
 * {"image_url", "removed": true}; else image_url, image_details (format
 * "jpg" for jpeg, "<n>px") and label in the task's shape. */
static void check_manifest(const char *task, const struct titem *items, size_t nitems)
{
	char *p = sink.data;
	size_t line = 0;

	assert_escaped(sink.data, sink.len);
	if (nitems == 0) {
		ck_assert_uint_eq(sink.len, 0);
		return;
	}
	ck_assert_msg(sink.len > 0 && sink.data[sink.len - 1] == '\n', "no final newline");
	for (; line < nitems && *p != '\0'; line++) {
		const struct titem *t = &items[line];
		char *nl = strchr(p, '\n'), url[512], px[32];
		struct json_object *o, *d, *label;
		ck_assert_ptr_nonnull(nl);
		o = parse_strict(p, (size_t)(nl - p));
		ck_assert_str_eq(json_object_get_string(get(o, "image_url", json_type_string)),
		    item_url(t, url, sizeof(url)));
		if (t->removed) {
			ck_assert(json_object_get_boolean(get(o, "removed", json_type_boolean)));
			ck_assert_int_eq(json_object_object_length(o), 2);
			json_object_put(o);
			p = nl + 1;
			continue;
		}
		ck_assert(!has(o, "removed"));
		d = get(o, "image_details", json_type_object);
		ck_assert_str_eq(json_object_get_string(get(d, "format", json_type_string)),
		    strcmp(t->format, "jpeg") == 0 ? "jpg" : t->format);
		snprintf(px, sizeof(px), "%upx", t->w);
		ck_assert_str_eq(json_object_get_string(get(d, "width", json_type_string)), px);
		snprintf(px, sizeof(px), "%upx", t->h);
		ck_assert_str_eq(json_object_get_string(get(d, "height", json_type_string)), px);
		if (strcmp(task, "multiclass") == 0) {
			label = get(o, "label", json_type_string);
			ck_assert_str_eq(json_object_get_string(label),
			    labels[label_pos(t->ids[0])].name);
		} else if (strcmp(task, "multilabel") == 0) {
			size_t n = 0;
			label = get(o, "label", json_type_array);
			for (size_t l = 0; l < NLABELS; l++)
				for (size_t j = 0; j < t->nids; j++)
					if (t->ids[j] == labels[l].id)
						ck_assert_str_eq(json_object_get_string(
						    json_object_array_get_idx(label, n++)), labels[l].name);
			ck_assert_uint_eq(json_object_array_length(label), n);
		} else {
			label = get(o, "label", json_type_array);
			ck_assert_uint_eq(json_object_array_length(label), t->nboxes);
			for (size_t j = 0; j < t->nboxes; j++) {
				const struct labeld_box *b = &t->boxes[j];
				struct json_object *bo = json_object_array_get_idx(label, j);
				ck_assert_str_eq(json_object_get_string(get(bo, "label", json_type_string)),
				    labels[label_pos(b->label_id)].name);
				assert_double(json_object_object_get(bo, "topX"), b->x / t->w);
				assert_double(json_object_object_get(bo, "topY"), b->y / t->h);
				assert_double(json_object_object_get(bo, "bottomX"),
				    fmin((b->x + b->width) / t->w, 1));
				assert_double(json_object_object_get(bo, "bottomY"),
				    fmin((b->y + b->height) / t->h, 1));
				ck_assert_int_eq(json_object_get_int(get(bo, "isCrowd", json_type_int)), 0);
				for (const char *const *k = (const char *const[]){ "topX", "topY",
				    "bottomX", "bottomY", NULL }; *k != NULL; k++) {
					double v = json_object_get_double(json_object_object_get(bo, *k));
					ck_assert_msg(v >= 0 && v <= 1, "%s = %g outside 0..1", *k, v);
				}
			}
		}
		json_object_put(o);
		p = nl + 1;
	}
	ck_assert_uint_eq(line, nitems);
	ck_assert_msg(*p == '\0', "more lines than items: %s", p);
}

static void manifest_ok(const char *task, const struct titem *items, size_t nitems, int delta)
{
	const struct tproject tp = { .task = task, .labels = labels, .nlabels = NLABELS,
	    .delta = delta };
	const char *err;

	ck_assert_msg(run_export("manifest", &tp, items, nitems, 0, &err) == 0,
	    "manifest failed: %s", err);
	check_manifest(task, items, nitems);
}

START_TEST(manifest_bbox)
{
	manifest_ok("bbox", bbox_items, NITEMS(bbox_items), 0);
	/* The bytes of the first line: 0..1 coordinates to 10 decimals. */
	ck_assert_ptr_nonnull(strstr(sink.data, "{\"image_url\":\"https://acct.blob.core.windows.net"
	    "/c/a/one.jpg\",\"image_details\":{\"format\":\"jpg\",\"width\":\"640px\","
	    "\"height\":\"480px\"},\"label\":[{\"label\":\"say \\\"hi\\\"\",\"topX\":0.015625,"
	    "\"topY\":0.0416666667,\"bottomX\":0.171875,\"bottomY\":0.1458333333,"
	    "\"isCrowd\":0},"));
	/* "nothing here": an empty list. */
	ck_assert_ptr_nonnull(strstr(sink.data, "\"height\":\"300px\"},\"label\":[]}\n"));
	/* Clamped to the image. */
	ck_assert_ptr_nonnull(strstr(sink.data, "\"topX\":0.9,\"topY\":0.875,\"bottomX\":1,"
	    "\"bottomY\":1,"));
}
END_TEST

START_TEST(manifest_multiclass)
{
	manifest_ok("multiclass", multiclass_items, NITEMS(multiclass_items), 0);
	ck_assert_ptr_nonnull(strstr(sink.data, "\"label\":\"back\\\\slash\\\\\"}\n"));
}
END_TEST

START_TEST(manifest_multilabel)
{
	manifest_ok("multilabel", multilabel_items, NITEMS(multilabel_items), 0);
	ck_assert_ptr_nonnull(strstr(sink.data, "\"label\":[]}\n"));
}
END_TEST

START_TEST(manifest_empty)
{
	const struct tproject none = { .task = "bbox" };
	const char *err;

	manifest_ok("multiclass", NULL, 0, 0);
	ck_assert_int_eq(run_export("manifest", &none, NULL, 0, 0, &err), 0);
	ck_assert_uint_eq(sink.len, 0);
}
END_TEST

START_TEST(manifest_delta)
{
	struct titem items[NITEMS(multiclass_items)];

	memcpy(items, multiclass_items, sizeof(items));
	mark_removed(&items[0]);
	mark_removed(&items[3]);
	manifest_ok("multiclass", items, NITEMS(items), 1);
	ck_assert_ptr_nonnull(strstr(sink.data,
	    "{\"image_url\":\"https://acct.blob.core.windows.net/c/x/1.jpg\",\"removed\":true}\n"));
}
END_TEST

/* A multi-class item must have exactly one class. */
START_TEST(manifest_multiclass_not_one)
{
	const struct tproject tp = { .task = "multiclass", .labels = labels, .nlabels = NLABELS };
	struct titem two = multiclass_items[0];
	const char *err;

	two.ids[1] = 31;
	two.nids = 2;
	ck_assert_int_eq(run_export("manifest", &tp, &two, 1, 0, &err), -1);
	ck_assert_str_eq(err, "Item 2 (x/1.jpg) has 2 labels; a multi-class manifest needs "
	    "exactly one.");
}
END_TEST

/* ------------------------------------------------------------ bad data, failures */

/* A label the project does not have, and a box that is not a number: the
 * op fails with a sentence naming the item, in every format. */
START_TEST(bad_labels_and_boxes)
{
	static const char *const formats[] = { "coco", "manifest", "csv" };
	const struct tproject tp = { .task = "bbox", .labels = labels, .nlabels = NLABELS };
	struct titem bad = bbox_items[0];
	const char *err;

	for (size_t f = 0; f < 3; f++) {
		bad = bbox_items[0];
		bad.boxes[1].label_id = 999;
		ck_assert_int_eq(run_export(formats[f], &tp, &bad, 1, 0, &err), -1);
		ck_assert_msg(strstr(err, "label 999, which is not one of the project's labels.") &&
		    strstr(err, "Item 3"), "%s: %s", formats[f], err);
		bad = multilabel_items[0];
		bad.ids[2] = 998;
		ck_assert_int_eq(run_export(formats[f], &(struct tproject){ .task = "multilabel",
		    .labels = labels, .nlabels = NLABELS }, &bad, 1, 0, &err), -1);
		ck_assert_msg(strstr(err, "label 998") != NULL, "%s: %s", formats[f], err);
	}
	bad = bbox_items[0];
	bad.boxes[0].width = NAN;
	ck_assert_int_eq(run_export("coco", &tp, &bad, 1, 0, &err), -1);
	ck_assert_str_eq(err, "Item 3 (a/one.jpg) has a box whose coordinates are not numbers.");
	bad.boxes[0].width = 1;
	bad.boxes[0].x = INFINITY;
	ck_assert_int_eq(run_export("manifest", &tp, &bad, 1, 0, &err), -1);
	ck_assert_str_eq(err, "Item 3 (a/one.jpg) has a box whose coordinates are not numbers.");
	bad = bbox_items[0];
	bad.w = 0;
	ck_assert_int_eq(run_export("manifest", &tp, &bad, 1, 0, &err), -1);
	ck_assert_str_eq(err, "Item 3 (a/one.jpg) has boxes but no width and height.");
}
END_TEST

/* The sink fails at the first write, the second, ... the last: the op
 * that meets it fails with "Could not write the export file.", every time. */
START_TEST(sink_failures)
{
	static const char *const formats[] = { "coco", "manifest", "csv" };
	const struct tproject tp = { .task = "bbox", .labels = labels, .nlabels = NLABELS,
	    .delta = 1 };
	struct titem items[NITEMS(bbox_items)];
	const char *err;

	memcpy(items, bbox_items, sizeof(items));
	mark_removed(&items[1]);
	for (size_t f = 0; f < 3; f++) {
		size_t total;
		ck_assert_int_eq(run_export(formats[f], &tp, items, NITEMS(items), 0, &err), 0);
		total = sink.writes;
		ck_assert_uint_gt(total, 10);
		for (size_t k = 1; k <= total; k++) {
			ck_assert_msg(run_export(formats[f], &tp, items, NITEMS(items), k, &err) == -1,
			    "%s: write %zu of %zu failed, the export did not", formats[f], k, total);
			ck_assert_str_eq(err, LABELD_MSG_WRITE);
			/* It stopped at the failure. */
			ck_assert_uint_eq(sink.writes, k);
		}
	}
}
END_TEST

/* ------------------------------------------------------------ csv, failexport */

START_TEST(csv_rows)
{
	const struct tproject tp = { .task = "bbox", .labels = labels, .nlabels = NLABELS,
	    .delta = 1 };
	struct titem items[3] = { bbox_items[0], bbox_items[1], multilabel_items[0] };
	const char *err;
	const struct plugin *p = plugin_find(set, LABELD_EXPORT, "csv");

	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->desc->title, "CSV (test)");
	ck_assert_str_eq(p->desc->export->file_extension, "csv");
	mark_removed(&items[1]);
	ck_assert_int_eq(run_export("csv", &tp, items, 3, 0, &err), 0);
	ck_assert_str_eq(sink.data,
	    "image_id,file_name,width,height,label,x,y,box_width,box_height,removed\r\n"
	    "3,a/one.jpg,640,480,\"say \"\"hi\"\"\",10,20,100,50,0\r\n"
	    "3,a/one.jpg,640,480,\xc3\xbcn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9 \xe7\x8c\xab \xf0\x9f\x90\xb1"
	    ",0.5,0.25,33.3,12.7,0\r\n"
	    "5,\"dir \"\"q\"\"/two, comma.png\",400,300,,,,,,1\r\n"
	    "1,m/1.jpg,10,20,cat,,,,,0\r\n"
	    "1,m/1.jpg,10,20,back\\slash\\,,,,,0\r\n"
	    "1,m/1.jpg,10,20,\xc3\xbcn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9 \xe7\x8c\xab \xf0\x9f\x90\xb1"
	    ",,,,,0\r\n");
}
END_TEST

START_TEST(failexport_third_item)
{
	const struct tproject tp = { .task = "multiclass", .labels = labels, .nlabels = NLABELS };
	const char *err;

	ck_assert_int_eq(run_export("failexport", &tp, multiclass_items,
	    NITEMS(multiclass_items), 0, &err), -1);
	ck_assert_str_eq(err, "failexport: stopped on purpose at the third item");
	ck_assert_str_eq(sink.data, "2\n4\n");
	ck_assert_int_eq(run_export("failexport", &tp, multiclass_items, 2, 0, &err), 0);
}
END_TEST

/* What the loader made of the two shipped formats. */
START_TEST(loader_descriptors)
{
	const struct plugin *coco = plugin_find(set, LABELD_EXPORT, "coco");
	const struct plugin *man = plugin_find(set, LABELD_EXPORT, "manifest");

	ck_assert_ptr_nonnull(coco);
	ck_assert_ptr_nonnull(man);
	ck_assert_str_eq(coco->desc->title, "COCO");
	ck_assert_str_eq(coco->desc->export->file_extension, "json");
	ck_assert_str_eq(coco->desc->export->media_type, "application/json");
	ck_assert_uint_eq(coco->desc->export->passes, 2);
	ck_assert_str_eq(man->desc->export->file_extension, "jsonl");
	ck_assert_uint_eq(man->desc->export->passes, 1);
	ck_assert_ptr_nonnull(plugin_find(set, LABELD_EXPORT, "failexport"));
}
END_TEST

/* ------------------------------------------------------------ the writers */

START_TEST(util_json_string)
{
	struct labeld_export_sink out = { .opaque = &sink, .write = mem_write };
	struct json_object *o;

	mem_reset(&sink, 0);
	/* Invalid UTF-8: a stray continuation byte, a truncated sequence, an
	 * overlong '/', a surrogate, a byte that is never UTF-8: each byte
	 * U+FFFD.  Valid 2-, 3- and 4-byte sequences stay. */
	ck_assert_int_eq(labeld_write_json_string(&out,
	    "a\x80" "b\xe2\x82" "c\xc0\xaf" "d\xed\xa0\x80" "e\xff" "f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
	    "\"\\/<>&\x1b"), 0);
	ck_assert_str_eq(sink.data, "\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffdd\\ufffd\\ufffd\\ufffde"
	    "\\ufffdf\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\\"\\\\/\\u003c\\u003e\\u0026\\u001b\"");
	o = parse_strict(sink.data, sink.len);
	json_object_put(o);
	mem_reset(&sink, 0);
	ck_assert_int_eq(labeld_write_json_string(&out, NULL), 0);
	ck_assert_str_eq(sink.data, "\"\"");
	/* Every label name round-trips through a strict parser. */
	for (size_t i = 0; i < NLABELS; i++) {
		mem_reset(&sink, 0);
		ck_assert_int_eq(labeld_write_json_string(&out, labels[i].name), 0);
		o = parse_strict(sink.data, sink.len);
		ck_assert_str_eq(json_object_get_string(o), labels[i].name);
		json_object_put(o);
	}
}
END_TEST

START_TEST(util_numbers)
{
	static const struct { double v; const char *s; } cases[] = {
		{ 0, "0" }, { -0.0, "0" }, { 640, "640" }, { 0.1, "0.1" }, { 33.3, "33.3" },
		{ 1e-7, "0.0000001" }, { -2.5, "-2.5" }, { 1.0 / 3, "0.3333333333333333" },
		{ 0.1 + 0.2, "0.30000000000000004" }, { 1e21, "1e+21" }, { -1e300, "-1.0000000000000001e+300" },
		{ 0.041666666666666664, "0.041666666666666664" }, { 4503599627370497, "4503599627370497" },
		{ 422.90999999999997, "422.90999999999997" }, { 1e-30, "1.0000000000000001e-30" },
	};
	static const struct { double v; unsigned d; const char *s; } fixed[] = {
		{ 0.041666666666666664, 10, "0.0416666667" }, { 0.5, 10, "0.5" }, { 1, 10, "1" },
		{ 0, 10, "0" }, { -0.0, 3, "0" }, { -0.0001, 3, "0" }, { -0.25, 3, "-0.25" },
		{ 0.99999999999, 10, "1" }, { 12.5, 0, "13" }, { 0.1 + 0.2, 15, "0.3" },
		{ 123456789.123, 10, "123456789.123" }, { 1e20, 10, "1e+20" },
	};
	struct labeld_export_sink out = { .opaque = &sink, .write = mem_write };
	char num[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		labeld_format_double(num, cases[i].v);
		ck_assert_str_eq(num, cases[i].s);
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		ck_assert_uint_eq(labeld_format_fixed(num, fixed[i].v, fixed[i].d), strlen(fixed[i].s));
		ck_assert_str_eq(num, fixed[i].s);
	}
	ck_assert_uint_eq(labeld_format_fixed(num, NAN, 3), 0);
	/* Round trips exactly, short or long. */
	srand(12);
	for (int i = 0; i < 2000; i++) {
		double v = (double)rand() / RAND_MAX * pow(10, rand() % 40 - 20);
		double r = round(v * 100) / 100;
		ck_assert_uint_gt(labeld_format_double(num, v), 0);
		ck_assert_msg(strtod(num, NULL) == v, "%s != %.17g", num, v);
		ck_assert_uint_gt(labeld_format_double(num, r), 0);
		ck_assert_msg(strtod(num, NULL) == r, "%s != %.17g", num, r);
		if (r < 1e13)
			ck_assert_msg(strlen(num) <= 17, "%.17g (two decimals) is long: %s", r, num);
	}
	ck_assert_uint_eq(labeld_format_double(num, NAN), 0);
	ck_assert_uint_eq(labeld_format_double(num, -INFINITY), 0);
	mem_reset(&sink, 0);
	ck_assert_int_eq(labeld_write_double(&out, NAN), -1);
	ck_assert_uint_eq(sink.len, 0);
	ck_assert_int_eq(labeld_write_int(&out, INT64_MIN), 0);
	ck_assert_int_eq(labeld_write_str(&out, ","), 0);
	ck_assert_int_eq(labeld_write_int(&out, 42), 0);
	ck_assert_str_eq(sink.data, "-9223372036854775808,42");
	mem_reset(&sink, 1);
	ck_assert_int_eq(labeld_write_int(&out, 1), -1);
	ck_assert_int_eq(labeld_write_json_string(&out, "x"), -1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("export_plugins");
	TCase *tc = tcase_create("export_plugins");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, loader_descriptors);
	tcase_add_test(tc, coco_bbox);
	tcase_add_test(tc, coco_multiclass);
	tcase_add_test(tc, coco_multilabel);
	tcase_add_test(tc, coco_names_escaped);
	tcase_add_test(tc, coco_empty);
	tcase_add_test(tc, coco_delta);
	tcase_add_test(tc, manifest_bbox);
	tcase_add_test(tc, manifest_multiclass);
	tcase_add_test(tc, manifest_multilabel);
	tcase_add_test(tc, manifest_empty);
	tcase_add_test(tc, manifest_delta);
	tcase_add_test(tc, manifest_multiclass_not_one);
	tcase_add_test(tc, bad_labels_and_boxes);
	tcase_add_test(tc, sink_failures);
	tcase_add_test(tc, csv_rows);
	tcase_add_test(tc, failexport_third_item);
	tcase_add_test(tc, util_json_string);
	tcase_add_test(tc, util_numbers);
	suite_add_tcase(s, tc);
	return s;
}

#include "unit.h"
