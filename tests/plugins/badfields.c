/*
 * badfields.c: one plugin, many broken descriptors.  It returns the
 * descriptor picked by the host's configuration value
 * plugin.badfields.case, so the loader test can check every field rule
 * and every required op without a separate .so for each; with no (or an
 * unknown) case it returns a valid task plugin named "badfields".  Its ops
 * are never called.
 */
#include <string.h>

#include <labeld/plugin.h>

static int badfields_editor_view(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **view, const char **error)
{
	*error = "badfields shows nothing";
	return -1;
}

static int badfields_parse_form(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **annotation, const char **error)
{
	*error = "badfields never parses anything";
	return -1;
}

static int badfields_validate(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    struct json_object *annotation, const char **error)
{
	*error = "badfields accepts no annotation";
	return -1;
}

static int badfields_describe(struct labeld_ctx *ctx, struct json_object *annotation,
    int64_t **label_ids, size_t *nlabel_ids,
    struct labeld_box **boxes, size_t *nboxes, const char **error)
{
	*error = "badfields describes nothing";
	return -1;
}

static int badfields_begin(struct labeld_ctx *ctx, void **state,
    const struct labeld_export_project *project,
    struct labeld_export_sink *out, const char **error)
{
	return 0;
}

static int badfields_item(struct labeld_ctx *ctx, void *state, uint32_t pass,
    const struct labeld_export_item *item, const char **error)
{
	return 0;
}

static int badfields_end(struct labeld_ctx *ctx, void *state, const char **error)
{
	return 0;
}

/* Task ops with the four required ops, minus the ones given as NULL. */
#define TASK_OPS(ev, pf, va, de) { LABELD_TASK_OPS_HEADER, .description = "Task ops", \
	.editor_view = (ev), .parse_form = (pf), .validate = (va), .describe = (de) }

static const struct labeld_task_ops badfields_task =
	TASK_OPS(badfields_editor_view, badfields_parse_form, badfields_validate, badfields_describe);
/* Only the required ops: no description, editor_template or input_mode. */
static const struct labeld_task_ops badfields_task_required = {
	LABELD_TASK_OPS_HEADER,
	.editor_view = badfields_editor_view, .parse_form = badfields_parse_form,
	.validate = badfields_validate, .describe = badfields_describe,
};
static const struct labeld_task_ops badfields_task_noeditor =
	TASK_OPS(NULL, badfields_parse_form, badfields_validate, badfields_describe);
static const struct labeld_task_ops badfields_task_noparse =
	TASK_OPS(badfields_editor_view, NULL, badfields_validate, badfields_describe);
static const struct labeld_task_ops badfields_task_novalidate =
	TASK_OPS(badfields_editor_view, badfields_parse_form, NULL, badfields_describe);
static const struct labeld_task_ops badfields_task_nodescribe =
	TASK_OPS(badfields_editor_view, badfields_parse_form, badfields_validate, NULL);
/* Written without LABELD_TASK_OPS_HEADER: struct_size 0. */
static const struct labeld_task_ops badfields_task_nosize = {
	.editor_view = badfields_editor_view, .parse_form = badfields_parse_form,
	.validate = badfields_validate, .describe = badfields_describe,
};

/* Export ops with the required ones, minus the ones given as NULL. */
#define EXPORT_OPS(ext, media, b, i, e) { LABELD_EXPORT_OPS_HEADER, .description = "Export ops", \
	.file_extension = (ext), .media_type = (media), .begin = (b), .item = (i), .end = (e) }
#define EXPORT_CALLS(ext, media) EXPORT_OPS((ext), (media), badfields_begin, badfields_item, \
	badfields_end)

static const struct labeld_export_ops badfields_export = EXPORT_CALLS("txt", "text/plain");
static const struct labeld_export_ops badfields_export_nobegin =
	EXPORT_OPS("txt", "text/plain", NULL, badfields_item, badfields_end);
static const struct labeld_export_ops badfields_export_noitem =
	EXPORT_OPS("txt", "text/plain", badfields_begin, NULL, badfields_end);
static const struct labeld_export_ops badfields_export_noend =
	EXPORT_OPS("txt", "text/plain", badfields_begin, badfields_item, NULL);
static const struct labeld_export_ops badfields_export_noext =
	EXPORT_CALLS(NULL, "text/plain");
static const struct labeld_export_ops badfields_export_badext =
	EXPORT_CALLS("../txt", "text/plain");
static const struct labeld_export_ops badfields_export_nomedia =
	EXPORT_CALLS("txt", "text/plain\r\nX-Injected: 1");
/* Three passes: labeld hands items over once or twice. */
static const struct labeld_export_ops badfields_export_passes = {
	LABELD_EXPORT_OPS_HEADER, .file_extension = "txt", .media_type = "text/plain",
	.passes = 3, .begin = badfields_begin, .item = badfields_item, .end = badfields_end,
};
/* answer_passes naming only a pass it does not have, or a third pass. */
static const struct labeld_export_ops badfields_export_answerpass = {
	LABELD_EXPORT_OPS_HEADER, .file_extension = "txt", .media_type = "text/plain",
	.begin = badfields_begin, .item = badfields_item, .end = badfields_end,
	.answer_passes = LABELD_PASS(2),
};
static const struct labeld_export_ops badfields_export_answerbits = {
	LABELD_EXPORT_OPS_HEADER, .file_extension = "txt", .media_type = "text/plain",
	.passes = 2, .begin = badfields_begin, .item = badfields_item, .end = badfields_end,
	.answer_passes = LABELD_PASS(2) | LABELD_PASS(3),
};
/* struct_size of a bigger struct than the ABI constant says. */
static const struct labeld_export_ops badfields_export_wrongsize = {
	.struct_size = sizeof(struct labeld_export_ops) + 8,
	.file_extension = "txt", .media_type = "text/plain",
	.begin = badfields_begin, .item = badfields_item, .end = badfields_end,
};

#define TASK(nm, ti, ve, ops) { LABELD_PLUGIN_HEADER, .kind = LABELD_TASK, \
	.name = (nm), .title = (ti), .version = (ve), .task = (ops) }
#define EXPORT(nm, ops) { LABELD_PLUGIN_HEADER, .kind = LABELD_EXPORT, \
	.name = (nm), .title = "Bad fields", .version = "1.0", .export = (ops) }
#define TASK_OPS_CASE(ops) TASK("badfields", "Bad fields", "1.0", (ops))

static const struct {
	const char *name;
	struct labeld_plugin desc;
} badfields_cases[] = {
	{ "valid", TASK_OPS_CASE(&badfields_task) },
	{ "required", TASK_OPS_CASE(&badfields_task_required) },
	{ "kind", { LABELD_PLUGIN_HEADER, .kind = (enum labeld_plugin_kind)7,
		.name = "badfields", .title = "Bad fields", .version = "1.0",
		.task = &badfields_task } },
	{ "descsize", { .struct_size = sizeof(struct labeld_plugin) + 8, .kind = LABELD_TASK,
		.name = "badfields", .title = "Bad fields", .version = "1.0",
		.task = &badfields_task } },
	{ "noname", TASK(NULL, "Bad fields", "1.0", &badfields_task) },
	{ "emptyname", TASK("", "Bad fields", "1.0", &badfields_task) },
	{ "upper", TASK("BadFields", "Bad fields", "1.0", &badfields_task) },
	{ "space", TASK("bad fields", "Bad fields", "1.0", &badfields_task) },
	{ "longname", TASK("a23456789012345678901234567890123", "Bad fields", "1.0",
		&badfields_task) },
	{ "maxname", TASK("a2345678901234567890123456789012", "Bad fields", "1.0",
		&badfields_task) },
	{ "notitle", TASK("badfields", NULL, "1.0", &badfields_task) },
	{ "emptytitle", TASK("badfields", "", "1.0", &badfields_task) },
	{ "noversion", TASK("badfields", "Bad fields", NULL, &badfields_task) },
	{ "ctrlversion", TASK("badfields", "Bad fields", "1.0\nINFO fake", &badfields_task) },
	{ "notaskops", TASK_OPS_CASE(NULL) },
	{ "noeditor", TASK_OPS_CASE(&badfields_task_noeditor) },
	{ "noparse", TASK_OPS_CASE(&badfields_task_noparse) },
	{ "novalidate", TASK_OPS_CASE(&badfields_task_novalidate) },
	{ "nodescribe", TASK_OPS_CASE(&badfields_task_nodescribe) },
	{ "taskopssize", TASK_OPS_CASE(&badfields_task_nosize) },
	{ "noexportops", EXPORT("badfields", NULL) },
	{ "nobegin", EXPORT("badfields", &badfields_export_nobegin) },
	{ "noitem", EXPORT("badfields", &badfields_export_noitem) },
	{ "noend", EXPORT("badfields", &badfields_export_noend) },
	{ "noext", EXPORT("badfields", &badfields_export_noext) },
	{ "badext", EXPORT("badfields", &badfields_export_badext) },
	{ "nomedia", EXPORT("badfields", &badfields_export_nomedia) },
	{ "exportopssize", EXPORT("badfields", &badfields_export_wrongsize) },
	{ "passes", EXPORT("badfields", &badfields_export_passes) },
	{ "answerpass", EXPORT("badfields", &badfields_export_answerpass) },
	{ "answerbits", EXPORT("badfields", &badfields_export_answerbits) },
	{ "export", EXPORT("badfields", &badfields_export) },
};

LABELD_PLUGIN_INIT(host)
{
	const char *c = host->config("badfields", "case");

	for (size_t i = 0; c != NULL && i < sizeof(badfields_cases) / sizeof(badfields_cases[0]); i++)
		if (strcmp(c, badfields_cases[i].name) == 0)
			return &badfields_cases[i].desc;
	return &badfields_cases[0].desc;
}
