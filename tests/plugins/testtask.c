/*
 * testtask.c: a small but real task plugin for labeld's tests.
 *
 * An annotation is {"label": <id>}: exactly one label per item.  The form
 * sends the label id in the field "label".
 *
 * Makefile.am builds it three times:
 *   testtask.so   as it is;
 *   dupname.so    (-DTESTTASK_DUPNAME) a valid plugin that also calls itself
 *                 "testtask" (title "Duplicate test task", version 2.0);
 *   noeditor.so   (-DTESTTASK_NOEDITOR) task "noeditor", the same without
 *                 editor_view, a required op: the loader must refuse it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include <labeld/plugin.h>

static const struct labeld_host *host;

/* True when id is the id of one of the labels. */
static int testtask_label_known(const struct labeld_label *labels, size_t nlabels, int64_t id)
{
	for (size_t i = 0; i < nlabels; i++)
		if (labels[i].id == id)
			return 1;
	return 0;
}

/* Parse a decimal label id; 0 on success, -1 when s is not one. */
static int testtask_parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return -1;
	*id = (int64_t)v;
	return 0;
}

static int testtask_parse_form(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **annotation, const char **error)
{
	const char *value = NULL;
	struct json_object *obj, *id_obj;
	int64_t id;

	for (size_t i = 0; i < nfields; i++) {
		if (strcmp(fields[i].name, "label") != 0)
			continue;
		if (value != NULL) {
			*error = "Choose only one label.";
			return -1;
		}
		value = fields[i].value;
	}
	if (value == NULL) {
		*error = "Choose a label.";
		return -1;
	}
	if (testtask_parse_id(value, &id) != 0 || !testtask_label_known(labels, nlabels, id)) {
		*error = "That label is not one of this project's labels.";
		return -1;
	}
	obj = json_object_new_object();
	if (obj == NULL)
		goto oom;
	id_obj = json_object_new_int64(id);
	if (id_obj == NULL || json_object_object_add(obj, "label", id_obj) != 0) {
		json_object_put(id_obj);
		json_object_put(obj);
		goto oom;
	}
	/* The ctx owns the annotation from here on. */
	*annotation = host->json_own(ctx, obj);
	if (*annotation == NULL)
		goto oom;
	return 0;
oom:
	*error = "Out of memory.";
	return -1;
}

/* The label id of a well-formed annotation, or -1. */
static int64_t testtask_annotation_label(struct json_object *annotation)
{
	struct json_object *v;

	if (annotation == NULL || !json_object_is_type(annotation, json_type_object) ||
	    json_object_object_length(annotation) != 1 ||
	    !json_object_object_get_ex(annotation, "label", &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int64(v);
}

static int testtask_validate(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    struct json_object *annotation, const char **error)
{
	int64_t id = testtask_annotation_label(annotation);

	if (id <= 0) {
		*error = "The annotation is not {\"label\": <id>}.";
		return -1;
	}
	if (!testtask_label_known(labels, nlabels, id)) {
		*error = "The annotation names a label this project does not have.";
		return -1;
	}
	return 0;
}

static int testtask_describe(struct labeld_ctx *ctx, struct json_object *annotation,
    int64_t **label_ids, size_t *nlabel_ids,
    struct labeld_box **boxes, size_t *nboxes, const char **error)
{
	int64_t id = testtask_annotation_label(annotation);

	*boxes = NULL;
	*nboxes = 0;
	if (id <= 0) {
		*error = "The annotation is not {\"label\": <id>}.";
		return -1;
	}
	*label_ids = host->alloc(ctx, sizeof(**label_ids));
	if (*label_ids == NULL) {
		*error = "Out of memory.";
		return -1;
	}
	(*label_ids)[0] = id;
	*nlabel_ids = 1;
	return 0;
}

#ifndef TESTTASK_NOEDITOR
/* The editor's view: which label the form chose, when it is shown again. */
static int testtask_editor_view(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **view, const char **error)
{
	struct json_object *v = host->json_own(ctx, json_object_new_object());
	int64_t chosen = 0;

	(void)item;
	if (v == NULL) {
		*error = "Out of memory.";
		return -1;
	}
	for (size_t i = 0; i < nfields; i++)
		if (strcmp(fields[i].name, "label") == 0 &&
		    testtask_parse_id(fields[i].value, &chosen) == 0 &&
		    !testtask_label_known(labels, nlabels, chosen))
			chosen = 0;
	json_object_object_add(v, "chosen", json_object_new_int64(chosen));
	*view = v;
	return 0;
}
#endif

static const struct labeld_task_ops testtask_ops = {
	LABELD_TASK_OPS_HEADER,
	.description = "A task type used by labeld's tests",
	.editor_template = "editor",
	.input_mode = "choose",
#ifndef TESTTASK_NOEDITOR
	.editor_view = testtask_editor_view,
#endif
	.parse_form = testtask_parse_form,
	.validate = testtask_validate,
	.describe = testtask_describe,
};

static const struct labeld_plugin testtask_plugin = {
	LABELD_PLUGIN_HEADER,
	.kind = LABELD_TASK,
#if defined(TESTTASK_DUPNAME)
	.name = "testtask",
	.title = "Duplicate test task",
	.version = "2.0",
#elif defined(TESTTASK_NOEDITOR)
	.name = "noeditor",
	.title = "Test task without an editor",
	.version = "1.0",
#else
	.name = "testtask",
	.title = "Test task",
	.version = "1.0",
#endif
	.task = &testtask_ops,
};

LABELD_PLUGIN_INIT(h)
{
	if (!LABELD_HOST_USABLE(h))
		return NULL;
	host = h;
	return &testtask_plugin;
}
