/*
 * multiclass.c: the task type "Image classification (multi-class)".
 *
 * Exactly one label per image.  The editor is a set of radio buttons named
 * "label" whose values are label ids; the annotation is {"label": <id>}.
 * Uses only <labeld/plugin.h> and json-c (see docs/task-plugins.md).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include <labeld/plugin.h>
#include <labeld/plugin-util.h>

#define PLUGIN_NAME "multiclass"

static const struct labeld_host *host;

static const char msg_shape[] = "The annotation is not {\"label\": <label id>}.";

/*
 * Read the form: the one "label" field.  Returns 0 with *id set, or -1 with
 * *error.  Fields with other names are not this editor's and are ignored.
 */
static int multiclass_form_label(const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields, int64_t *id, const char **error)
{
	size_t pos = 0;
	const char *value = labeld_field_next(fields, nfields, "label", &pos);

	if (value != NULL && labeld_field_next(fields, nfields, "label", &pos) != NULL) {
		*error = "Choose only one label.";
		return -1;
	}
	if (value == NULL || value[0] == '\0') {
		*error = "Choose a label.";
		return -1;
	}
	if (labeld_parse_id(value, id) != 0 ||
	    labeld_label_index(labels, nlabels, *id) < 0) {
		*error = "That label is not one of this project's labels.";
		return -1;
	}
	return 0;
}

static int multiclass_parse_form(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **annotation, const char **error)
{
	struct json_object *obj;
	int64_t id;
	int bad = 0;

	(void)item;
	if (multiclass_form_label(labels, nlabels, fields, nfields, &id, error) != 0)
		return -1;
	obj = json_object_new_object();
	if (obj != NULL)
		labeld_json_add(obj, "label", json_object_new_int64(id), &bad);
	*annotation = labeld_json_finish(host, ctx, obj, bad, error);
	return *annotation != NULL ? 0 : -1;
}

/* The label id of an annotation of the right shape ({"label": id > 0} and
 * nothing else), or -1. */
static int64_t multiclass_annotation_label(struct json_object *annotation)
{
	struct json_object *v;
	int64_t id;

	if (!json_object_is_type(annotation, json_type_object) ||
	    json_object_object_length(annotation) != 1 ||
	    !json_object_object_get_ex(annotation, "label", &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	id = json_object_get_int64(v);
	return id > 0 && id < INT64_MAX ? id : -1;
}

static int multiclass_validate(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    struct json_object *annotation, const char **error)
{
	int64_t id = multiclass_annotation_label(annotation);

	(void)ctx;
	(void)item;
	if (id <= 0) {
		*error = msg_shape;
		return -1;
	}
	if (labeld_label_index(labels, nlabels, id) < 0) {
		*error = "The annotation names a label this project does not have.";
		return -1;
	}
	return 0;
}

static int multiclass_describe(struct labeld_ctx *ctx, struct json_object *annotation,
    int64_t **label_ids, size_t *nlabel_ids,
    struct labeld_box **boxes, size_t *nboxes, const char **error)
{
	int64_t id = multiclass_annotation_label(annotation);

	*label_ids = NULL;
	*nlabel_ids = 0;
	*boxes = NULL;
	*nboxes = 0;
	if (id <= 0) {
		*error = msg_shape;
		return -1;
	}
	*label_ids = host->alloc(ctx, sizeof(**label_ids));
	if (*label_ids == NULL) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	(*label_ids)[0] = id;
	*nlabel_ids = 1;
	return 0;
}

/*
 * The editor's view: {"labels": [{id, name, key, checked}]} in the
 * project's order; the label the form chose (when the page is shown again)
 * is checked.  A form that chose nothing valid checks nothing.
 */
static int multiclass_editor_view(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **view, const char **error)
{
	struct json_object *root, *arr;
	const char *ignored;
	int64_t chosen = 0;
	int bad = 0;

	(void)item;
	if (multiclass_form_label(labels, nlabels, fields, nfields, &chosen, &ignored) != 0)
		chosen = 0;
	root = json_object_new_object();
	/* Nothing chosen (a new item): no labels of its own, the template
	 * shows the page's labels. */
	if (chosen == 0) {
		*view = labeld_json_finish(host, ctx, root, root == NULL, error);
		return *view != NULL ? 0 : -1;
	}
	arr = json_object_new_array_ext((int)(nlabels < 1 ? 1 : nlabels));
	if (root == NULL) {
		json_object_put(arr);
	} else {
		labeld_json_add(root, "labels", arr, &bad);
		for (size_t i = 0; !bad && i < nlabels; i++)
			labeld_json_label(arr, &labels[i], labels[i].id == chosen, &bad);
	}
	*view = labeld_json_finish(host, ctx, root, bad, error);
	return *view != NULL ? 0 : -1;
}

static const struct labeld_task_ops multiclass_ops = {
	LABELD_TASK_OPS_HEADER,
	.description = "Choose exactly one label for each image.",
	.editor_template = "editor",
	.input_mode = "choose",
	.editor_view = multiclass_editor_view,
	.parse_form = multiclass_parse_form,
	.validate = multiclass_validate,
	.describe = multiclass_describe,
};

static const struct labeld_plugin multiclass_plugin = {
	LABELD_PLUGIN_HEADER,
	.kind = LABELD_TASK,
	.name = PLUGIN_NAME,
	.title = "Image classification (multi-class)",
	.version = "1.0",
	.task = &multiclass_ops,
};

/* The entry point: checks the host's ABI and keeps its service table.
 * Returns the descriptor, or NULL for a host this plugin was not built for. */
LABELD_PLUGIN_INIT(h)
{
	if (!LABELD_HOST_USABLE(h))
		return NULL;
	host = h;
	return &multiclass_plugin;
}
