/*
 * yesno.c: an example task plugin for labeld, written to be read.
 *
 * The task: for every image, answer one question with "yes", "no" or
 * "unsure".  The question is about the project's first label class: a
 * project with the label "cat" asks "Does this image show cat?".
 *
 * What labeld stores for an answer (the annotation) is a json object:
 *
 *     {"answer": "yes", "label": 17}
 *
 * where 17 is the id of the label asked about.  Exports (describe) see a
 * "yes" as that label assigned to the image, and "no" or "unsure" as none.
 *
 * A task plugin gives labeld four functions (the required ops):
 *   editor_view  what the editor template shows for an item;
 *   parse_form   the labeler's submitted form -> an annotation;
 *   validate     is a stored annotation still right for this project?
 *   describe     an annotation -> the label ids (and boxes) exports get.
 * The rules every op lives by (threads, what may be kept, SIGHUP) are at the
 * top of <labeld/plugin.h>; docs/plugins.md in labeld's sources has the
 * whole guide.
 *
 * Build and install: see the Makefile beside this file.
 */
#include <stdint.h>
#include <string.h>

#include <json.h>                   /* json-c, through pkg-config */

#include <labeld/plugin.h>          /* the plugin contract */
#include <labeld/plugin-util.h>     /* optional small helpers (static inline) */

/*
 * The host's services (memory tied to the request, logging, configuration).
 * Set once in init and only read afterwards, which is what makes it safe to
 * keep in a static: the ops run on many threads at once, so a plugin keeps
 * no other state of its own between calls.
 */
static const struct labeld_host *host;

/* The three answers, in the order the editor shows them; number keys 1-3
 * pick them (labeld.js presses the radio button with that data-key). */
static const struct {
	const char *value;  /* in the form and in the annotation */
	const char *title;  /* shown to the labeler */
} answers[] = {
	{ "yes", "Yes" },
	{ "no", "No" },
	{ "unsure", "Unsure" },
};
#define NANSWERS (sizeof(answers) / sizeof(answers[0]))

/* The index of an answer in answers[], or -1 when s is none of them. */
static int yesno_answer_index(const char *s)
{
	for (size_t i = 0; s != NULL && i < NANSWERS; i++)
		if (strcmp(s, answers[i].value) == 0)
			return (int)i;
	return -1;
}

/* ------------------------------------------------------------ editor_view */

/*
 * The editor's view: the question and the three answers, the one already
 * chosen checked (when the page is shown again after an error, fields holds
 * what was submitted).  The template (editor.html) sees it as "editor".
 *
 * Everything here is built with json-c and handed to labeld with
 * labeld_json_finish (host->json_own): labeld puts the tree when the request
 * ends, the plugin frees nothing.  labeld_json_add and friends only set
 * `bad` when something fails, so the building reads straight through.
 */
static int yesno_editor_view(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **view, const char **error)
{
	size_t pos = 0;
	int chosen = yesno_answer_index(labeld_field_next(fields, nfields, "answer", &pos));
	struct json_object *root = json_object_new_object(), *arr, *a;
	int bad = root == NULL;

	if (!bad)
		labeld_json_add(root, "question",
		    json_object_new_string(nlabels > 0 && labels[0].name ? labels[0].name : ""), &bad);
	arr = bad ? NULL : json_object_new_array();
	if (!bad)
		labeld_json_add(root, "answers", arr, &bad);
	for (size_t i = 0; !bad && i < NANSWERS; i++) {
		a = json_object_new_object();
		labeld_json_append(arr, a, &bad);
		if (bad)
			break;
		/* Strings we own are copied by json_object_new_string; keys must
		 * be literals (labeld_json_add keeps them by pointer). */
		labeld_json_add(a, "value", json_object_new_string(answers[i].value), &bad);
		labeld_json_add(a, "title", json_object_new_string(answers[i].title), &bad);
		labeld_json_add(a, "key", json_object_new_int((int)i + 1), &bad);
		labeld_json_add(a, "checked", json_object_new_boolean((int)i == chosen), &bad);
	}
	*view = labeld_json_finish(host, ctx, root, bad, error);
	return *view != NULL ? 0 : -1;
}

/* ------------------------------------------------------------ parse_form */

/*
 * The submitted form -> {"answer": ..., "label": <first label's id>}.
 * A sentence in *error goes to the labeler as it is: say what to do.
 * fields holds the whole form; names labeld reserves (csrf, lease, item,
 * action) are not ours and are ignored by looking only at "answer".
 */
static int yesno_parse_form(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **annotation, const char **error)
{
	size_t pos = 0;
	const char *value = labeld_field_next(fields, nfields, "answer", &pos);
	int i = yesno_answer_index(value);
	struct json_object *obj;
	int bad = 0;

	if (nlabels == 0) {
		*error = "This project has no label to ask about.";
		return -1;
	}
	if (value == NULL || value[0] == '\0') {
		*error = "Choose Yes, No or Unsure.";
		return -1;
	}
	if (i < 0 || labeld_field_next(fields, nfields, "answer", &pos) != NULL) {
		*error = "Choose one of Yes, No or Unsure.";
		return -1;
	}
	obj = json_object_new_object();
	bad = obj == NULL;
	if (!bad) {
		labeld_json_add(obj, "answer", json_object_new_string(answers[i].value), &bad);
		labeld_json_add(obj, "label", json_object_new_int64(labels[0].id), &bad);
	}
	*annotation = labeld_json_finish(host, ctx, obj, bad, error);
	return *annotation != NULL ? 0 : -1;
}

/* ------------------------------------------------------------ validate, describe */

/*
 * Read an annotation: its answer index and label id.  Returns 0, or -1 when
 * it is not of the shape this plugin stores.  The annotation belongs to
 * labeld: read it during the call, never json_object_get/put it (json-c's
 * reference counts are not atomic and other threads may read it too).
 */
static int yesno_read(struct json_object *annotation, int *answer, int64_t *label)
{
	struct json_object *a, *l;

	if (!json_object_is_type(annotation, json_type_object) ||
	    !json_object_object_get_ex(annotation, "answer", &a) ||
	    !json_object_object_get_ex(annotation, "label", &l) ||
	    !json_object_is_type(a, json_type_string) || !json_object_is_type(l, json_type_int))
		return -1;
	*answer = yesno_answer_index(json_object_get_string(a));
	*label = json_object_get_int64(l);
	return *answer >= 0 && *label > 0 ? 0 : -1;
}

/* A stored annotation must have one of the answers and name a label of the
 * project (labels can be removed after answers were given). */
static int yesno_validate(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    struct json_object *annotation, const char **error)
{
	int answer;
	int64_t label;

	if (yesno_read(annotation, &answer, &label) != 0) {
		*error = "The annotation is not {\"answer\": \"yes\"|\"no\"|\"unsure\", \"label\": <id>}.";
		return -1;
	}
	if (labeld_label_index(labels, nlabels, label) < 0) {
		*error = "The annotation's label is not one of this project's labels.";
		return -1;
	}
	return 0;
}

/* For exports: "yes" assigns the label asked about; "no" and "unsure"
 * assign nothing.  Arrays come from host->alloc (freed with the request). */
static int yesno_describe(struct labeld_ctx *ctx, struct json_object *annotation,
    int64_t **label_ids, size_t *nlabel_ids,
    struct labeld_box **boxes, size_t *nboxes, const char **error)
{
	int answer;
	int64_t label;

	*label_ids = NULL;
	*nlabel_ids = 0;
	*boxes = NULL;
	*nboxes = 0;
	if (yesno_read(annotation, &answer, &label) != 0) {
		*error = "The annotation is not {\"answer\": \"yes\"|\"no\"|\"unsure\", \"label\": <id>}.";
		return -1;
	}
	if (strcmp(answers[answer].value, "yes") != 0)
		return 0;
	*label_ids = host->alloc(ctx, sizeof(**label_ids));
	if (*label_ids == NULL) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	(*label_ids)[0] = label;
	*nlabel_ids = 1;
	return 0;
}

/* ------------------------------------------------------------ the descriptor */

/* Start each struct with its LABELD_*_HEADER: it records the struct's size,
 * which lets labeld add ops later without breaking this plugin. */
static const struct labeld_task_ops yesno_ops = {
	LABELD_TASK_OPS_HEADER,
	.description = "Answer one question per image: yes, no or unsure",
	.editor_template = "editor",    /* plugins_dir/yesno/editor.html */
	.input_mode = "choose",         /* number keys pick one answer */
	.editor_view = yesno_editor_view,
	.parse_form = yesno_parse_form,
	.validate = yesno_validate,
	.describe = yesno_describe,
};

static const struct labeld_plugin yesno_plugin = {
	LABELD_PLUGIN_HEADER,
	.kind = LABELD_TASK,
	.name = "yesno",                /* the task name projects store */
	.title = "Yes / no / unsure",   /* shown in the create-project wizard */
	.version = "1.0",
	.task = &yesno_ops,
};

/*
 * The entry point.  LABELD_PLUGIN_INIT also defines the ABI constant that
 * labeld checks before it calls this.  labeld calls init at start-up and
 * again at every SIGHUP (possibly on the same loaded object): keep it
 * idempotent, and return NULL (after saying why through host->log) to
 * refuse loading.
 */
LABELD_PLUGIN_INIT(h)
{
	if (!LABELD_HOST_USABLE(h))
		return NULL;
	host = h;
	return &yesno_plugin;
}
