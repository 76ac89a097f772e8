/*
 * ownsyms.c: a task plugin that defines functions of its own under names
 * labeld uses too (log_error, buf_init), built WITHOUT -fvisibility=hidden
 * and without an export list, the way a careless plugin would be.  If labeld
 * exported its internal functions to plugins, the dynamic linker would bind
 * this plugin's calls to labeld's functions instead of its own.
 *
 * editor_view calls both and reports whose ran: the view is
 *   {"log_error": "plugin" | "labeld", "buf_init": "plugin" | "labeld"}.
 */
#include <string.h>

#include <json.h>

#include <labeld/plugin.h>

/* Larger than labeld's struct buf, with the marker past its end, so that
 * labeld's buf_init (were it called) would leave the marker alone. */
struct buf {
	char room[256];
	int marker;
};
struct arena;

#define OWNSYMS_MARKER 0x6f776e

void log_error(const char *fmt, ...);
void buf_init(struct buf *b, struct arena *a);

static const struct labeld_host *host;
/* Set by this plugin's log_error; per thread, so concurrent calls do not
 * share it. */
static _Thread_local int ownsyms_logged;

void log_error(const char *fmt, ...)
{
	ownsyms_logged = 1;
}

void buf_init(struct buf *b, struct arena *a)
{
	b->marker = OWNSYMS_MARKER;
}

static int ownsyms_editor_view(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **view, const char **error)
{
	struct buf b;
	struct json_object *v;

	memset(&b, 0, sizeof(b));
	ownsyms_logged = 0;
	log_error("ownsyms: %s", "which log_error runs?");
	buf_init(&b, NULL);
	v = host->json_own(ctx, json_object_new_object());
	if (v == NULL ||
	    json_object_object_add(v, "log_error",
	    json_object_new_string(ownsyms_logged ? "plugin" : "labeld")) != 0 ||
	    json_object_object_add(v, "buf_init",
	    json_object_new_string(b.marker == OWNSYMS_MARKER ? "plugin" : "labeld")) != 0) {
		*error = "Out of memory.";
		return -1;
	}
	*view = v;
	return 0;
}

static int ownsyms_parse_form(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **annotation, const char **error)
{
	*error = "This test plugin takes no answers.";
	return -1;
}

static int ownsyms_validate(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    struct json_object *annotation, const char **error)
{
	*error = "This test plugin takes no answers.";
	return -1;
}

static int ownsyms_describe(struct labeld_ctx *ctx, struct json_object *annotation,
    int64_t **label_ids, size_t *nlabel_ids,
    struct labeld_box **boxes, size_t *nboxes, const char **error)
{
	*error = "This test plugin takes no answers.";
	return -1;
}

static const struct labeld_task_ops ownsyms_ops = {
	LABELD_TASK_OPS_HEADER,
	.description = "Test: a plugin's own log_error and buf_init",
	.editor_view = ownsyms_editor_view,
	.parse_form = ownsyms_parse_form,
	.validate = ownsyms_validate,
	.describe = ownsyms_describe,
};

static const struct labeld_plugin ownsyms_plugin = {
	LABELD_PLUGIN_HEADER,
	.kind = LABELD_TASK,
	.name = "ownsyms",
	.title = "Own symbols test",
	.version = "1.0",
	.task = &ownsyms_ops,
};

LABELD_PLUGIN_INIT(h)
{
	if (!LABELD_HOST_USABLE(h))
		return NULL;
	host = h;
	return &ownsyms_plugin;
}
