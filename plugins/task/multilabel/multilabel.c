/*
 * multilabel.c: the task type "Image classification (multi-label)".
 *
 * One or more labels per image.  The editor is a set of checkboxes named
 * "label" whose values are label ids (the field repeats); the annotation is
 * {"labels": [<id>, ...]} with the ids sorted ascending and unique.
 * Uses only <labeld/plugin.h> and json-c (see docs/task-plugins.md).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include <labeld/plugin.h>
#include <labeld/plugin-util.h>

#define PLUGIN_NAME "multilabel"

static const struct labeld_host *host;

static const char msg_shape[] = "The annotation is not {\"labels\": [<label id>, ...]}.";
static const char msg_unknown[] = "That label is not one of this project's labels.";

/* The project's label ids, sorted, in ctx memory; NULL when out of memory
 * (or when there are no labels, with *n = 0). */
static int64_t *multilabel_sorted_label_ids(struct labeld_ctx *ctx,
    const struct labeld_label *labels, size_t nlabels)
{
	int64_t *v;

	if (nlabels == 0)
		return NULL;
	v = host->alloc(ctx, nlabels * sizeof(*v));
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < nlabels; i++)
		v[i] = labels[i].id;
	qsort(v, nlabels, sizeof(*v), labeld_cmp_id);
	return v;
}

/* 1 when id is in the sorted array, else 0. */
static int multilabel_sorted_has(const int64_t *v, size_t n, int64_t id)
{
	return n > 0 && bsearch(&id, v, n, sizeof(*v), labeld_cmp_id) != NULL;
}

/*
 * Check that every id of the sorted, unique array ids is one of the labels.
 * Returns 1 when all are known, 0 when one is not, -1 when out of memory.
 */
static int multilabel_all_known(struct labeld_ctx *ctx, const struct labeld_label *labels,
    size_t nlabels, const int64_t *ids, size_t nids)
{
	int64_t *known;

	if (nids > nlabels)
		return 0;
	known = multilabel_sorted_label_ids(ctx, labels, nlabels);
	if (known == NULL)
		return nlabels == 0 ? 0 : -1;
	for (size_t i = 0; i < nids; i++)
		if (!multilabel_sorted_has(known, nlabels, ids[i]))
			return 0;
	return 1;
}

/*
 * Read the "label" fields of a form into a sorted array of unique ids (ctx
 * memory).  strict: any malformed, unknown or repeated value is an error;
 * otherwise such values are skipped (for showing a form again).  Returns 0
 * with *ids and *nids set (possibly none), or -1 with *error.
 */
static int multilabel_form_labels(struct labeld_ctx *ctx, const struct labeld_label *labels,
    size_t nlabels, const struct labeld_field *fields, size_t nfields, int strict,
    int64_t **ids, size_t *nids, const char **error)
{
	int64_t *v = NULL, id;
	size_t n = 0, count, out;
	const char *value;
	int known;

	*ids = NULL;
	*nids = 0;
	count = labeld_field_count(fields, nfields, "label");
	if (count == 0)
		return 0;
	v = host->alloc(ctx, count * sizeof(*v));
	if (v == NULL) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	for (size_t pos = 0; (value = labeld_field_next(fields, nfields, "label", &pos)) != NULL; ) {
		if (labeld_parse_id(value, &id) != 0) {
			if (strict) {
				*error = msg_unknown;
				return -1;
			}
			continue;
		}
		v[n++] = id;
	}
	qsort(v, n, sizeof(*v), labeld_cmp_id);
	for (size_t i = out = 0; i < n; i++) {
		if (out > 0 && v[out - 1] == v[i]) {
			if (strict) {
				*error = "The same label was chosen twice.";
				return -1;
			}
			continue;
		}
		v[out++] = v[i];
	}
	n = out;
	if (strict) {
		known = multilabel_all_known(ctx, labels, nlabels, v, n);
		if (known < 0) {
			*error = LABELD_MSG_OOM;
			return -1;
		}
		if (!known) {
			*error = msg_unknown;
			return -1;
		}
	}
	*ids = v;
	*nids = n;
	return 0;
}

/* A new json array of the ids; NULL when out of memory. */
static struct json_object *multilabel_json_ids(const int64_t *ids, size_t nids)
{
	struct json_object *arr = json_object_new_array_ext((int)(nids < 1 ? 1 : nids));
	int bad = 0;

	if (arr == NULL)
		return NULL;
	for (size_t i = 0; !bad && i < nids; i++)
		labeld_json_append(arr, json_object_new_int64(ids[i]), &bad);
	if (bad) {
		json_object_put(arr);
		return NULL;
	}
	return arr;
}

static int multilabel_parse_form(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **annotation, const char **error)
{
	struct json_object *obj;
	int64_t *ids;
	size_t nids;
	int bad = 0;

	(void)item;
	if (multilabel_form_labels(ctx, labels, nlabels, fields, nfields, 1,
	    &ids, &nids, error) != 0)
		return -1;
	if (nids == 0) {
		*error = "Choose at least one label.";
		return -1;
	}
	obj = json_object_new_object();
	if (obj != NULL)
		labeld_json_add(obj, "labels", multilabel_json_ids(ids, nids), &bad);
	*annotation = labeld_json_finish(host, ctx, obj, bad, error);
	return *annotation != NULL ? 0 : -1;
}

/*
 * The ids of an annotation of the right shape: {"labels": [...]} and nothing
 * else, at least one id, every id an integer > 0, strictly ascending.
 * Returns 0 with the ids in ctx memory, or -1 with *error.
 */
static int multilabel_annotation_ids(struct labeld_ctx *ctx, struct json_object *annotation,
    int64_t **ids, size_t *nids, const char **error)
{
	struct json_object *arr, *e;
	size_t n;
	int64_t *v;

	if (!json_object_is_type(annotation, json_type_object) ||
	    json_object_object_length(annotation) != 1 ||
	    !json_object_object_get_ex(annotation, "labels", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		*error = msg_shape;
		return -1;
	}
	n = json_object_array_length(arr);
	if (n == 0) {
		*error = "The annotation has no labels.";
		return -1;
	}
	v = host->alloc(ctx, n * sizeof(*v));
	if (v == NULL) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(e, json_type_int)) {
			*error = msg_shape;
			return -1;
		}
		v[i] = json_object_get_int64(e);
		if (v[i] <= 0 || v[i] == INT64_MAX) {
			*error = msg_shape;
			return -1;
		}
		if (i > 0 && v[i] <= v[i - 1]) {
			*error = "The annotation's labels are not sorted and unique.";
			return -1;
		}
	}
	*ids = v;
	*nids = n;
	return 0;
}

static int multilabel_validate(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    struct json_object *annotation, const char **error)
{
	int64_t *ids;
	size_t nids;
	int known;

	(void)item;
	if (multilabel_annotation_ids(ctx, annotation, &ids, &nids, error) != 0)
		return -1;
	known = multilabel_all_known(ctx, labels, nlabels, ids, nids);
	if (known < 0) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	if (!known) {
		*error = "The annotation names a label this project does not have.";
		return -1;
	}
	return 0;
}

static int multilabel_describe(struct labeld_ctx *ctx, struct json_object *annotation,
    int64_t **label_ids, size_t *nlabel_ids,
    struct labeld_box **boxes, size_t *nboxes, const char **error)
{
	*label_ids = NULL;
	*nlabel_ids = 0;
	*boxes = NULL;
	*nboxes = 0;
	return multilabel_annotation_ids(ctx, annotation, label_ids, nlabel_ids, error);
}

/*
 * The editor's view: {"labels": [{id, name, key, checked}]} in the
 * project's order; the labels the form chose (when the page is shown again)
 * are checked.  Values that are not valid label ids are left out.
 */
static int multilabel_editor_view(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **view, const char **error)
{
	struct json_object *root, *arr;
	int64_t *chosen;
	size_t nchosen;
	int bad = 0;

	(void)item;
	if (multilabel_form_labels(ctx, labels, nlabels, fields, nfields, 0,
	    &chosen, &nchosen, error) != 0)
		return -1;
	root = json_object_new_object();
	/* Nothing chosen (a new item): no labels of its own, the template
	 * shows the page's labels. */
	if (nchosen == 0) {
		*view = labeld_json_finish(host, ctx, root, root == NULL, error);
		return *view != NULL ? 0 : -1;
	}
	arr = json_object_new_array_ext((int)(nlabels < 1 ? 1 : nlabels));
	if (root == NULL) {
		json_object_put(arr);
	} else {
		labeld_json_add(root, "labels", arr, &bad);
		for (size_t i = 0; !bad && i < nlabels; i++)
			labeld_json_label(arr, &labels[i],
			    multilabel_sorted_has(chosen, nchosen, labels[i].id), &bad);
	}
	*view = labeld_json_finish(host, ctx, root, bad, error);
	return *view != NULL ? 0 : -1;
}

static const struct labeld_task_ops multilabel_ops = {
	LABELD_TASK_OPS_HEADER,
	.description = "Choose one or more labels for each image.",
	.editor_template = "editor",
	.input_mode = "toggle",
	.editor_view = multilabel_editor_view,
	.parse_form = multilabel_parse_form,
	.validate = multilabel_validate,
	.describe = multilabel_describe,
};

static const struct labeld_plugin multilabel_plugin = {
	LABELD_PLUGIN_HEADER,
	.kind = LABELD_TASK,
	.name = PLUGIN_NAME,
	.title = "Image classification (multi-label)",
	.version = "1.0",
	.task = &multilabel_ops,
};

/* The entry point: checks the host's ABI and keeps its service table.
 * Returns the descriptor, or NULL for a host this plugin was not built for. */
LABELD_PLUGIN_INIT(h)
{
	if (!LABELD_HOST_USABLE(h))
		return NULL;
	host = h;
	return &multilabel_plugin;
}
