/*
 * coco.c: the export format "COCO" (the object-detection format of
 * cocodataset.org): one JSON object
 *
 *   {"info": {...}, "licenses": [],
 *    "categories": [{"id", "name", "supercategory"}...],   label order, ids 1..n
 *    "images": [{"id", "file_name", "width", "height"}...], id = labeld's item id
 *    "annotations": [{"id", "image_id", "category_id", "bbox", "area",
 *                     "iscrowd", "segmentation"}...],       ids 1, 2, ...
 *    "labeld": {"export_id", ..., "removed_images": [{"id", "file_name"}...]}}
 *
 * written as a stream in two passes: begin writes info, licenses and
 * categories and opens images; pass 1 writes one image per item; the first
 * item of pass 2 closes images and opens annotations; pass 2 writes each
 * item's annotations; end closes the file (and, for an export without
 * items, the arrays still open).  Nothing of the project is kept but its
 * label classes and, in a delta export, the removed items' ids and paths
 * (the "labeld" object comes last).  docs/export.md, "COCO", says how to
 * read it.  Uses only <labeld/plugin.h> and <labeld/plugin-util.h>.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <labeld/plugin.h>
#include <labeld/plugin-util.h>

#define PLUGIN_NAME "coco"
/* A box's area (width x height, square pixels) is written rounded to this
 * many decimals (the product of two decimals carries float noise); the box
 * itself is written exactly. */
#define COCO_AREA_DECIMALS 6

static const struct labeld_host *host;

/* A removed item of a delta export, listed at the end. */
struct coco_removed {
	struct coco_removed *next;
	int64_t id;
	const char *file_name;
};

struct coco_state {
	struct labeld_ctx *ctx;             /* the export's: lives until end */
	struct labeld_export_sink *out;
	struct labeld_label_map labels;
	enum { COCO_IMAGES, COCO_ANNOTATIONS, COCO_DONE } section;
	uint64_t images;                    /* written so far */
	int64_t next_annotation;            /* the next annotation id: 1, 2, ... */
	/* For the "labeld" object (copied: the project is valid in begin only). */
	int64_t export_id, project_id;
	const char *project_name, *task, *since, *version;
	int delta;
	struct coco_removed *removed, **removed_tail;
};

/* Write `"key":` (key a plain literal). */
static int coco_key(struct labeld_export_sink *out, const char *key)
{
	return labeld_write(out, "\"", 1) != 0 || labeld_write_str(out, key) != 0 ||
	    labeld_write(out, "\":", 2) != 0 ? -1 : 0;
}

/* The "info" object: the project's name, the export, labeld's version, the
 * snapshot's time (and its year, when created_at starts with one). */
static int coco_write_info(struct labeld_export_sink *out, const struct labeld_export_project *p)
{
	const char *at = p->created_at != NULL ? p->created_at : "";
	int year = 0;

	if (strlen(at) >= 4 && strspn(at, "0123456789") >= 4)
		year = (at[0] - '0') * 1000 + (at[1] - '0') * 100 + (at[2] - '0') * 10 + (at[3] - '0');
	if (labeld_write_str(out, "{\"info\":{\"description\":") != 0 ||
	    labeld_write_json_string(out, p->name) != 0 ||
	    labeld_write_str(out, ",\"url\":") != 0 ||
	    labeld_write_json_string(out, p->instructions_url) != 0 ||
	    labeld_write_str(out, ",\"version\":\"") != 0 ||
	    labeld_write_int(out, p->export_id) != 0 ||
	    labeld_write_str(out, "\",") != 0)
		return -1;
	if (year > 0 && (coco_key(out, "year") != 0 || labeld_write_int(out, year) != 0 ||
	    labeld_write(out, ",", 1) != 0))
		return -1;
	return labeld_write_str(out, "\"contributor\":\"labeld\",\"date_created\":") != 0 ||
	    labeld_write_json_string(out, at) != 0 ||
	    labeld_write_str(out, "},\"licenses\":[]") != 0 ? -1 : 0;
}

/* "categories": the label classes in label order, ids 1..n. */
static int coco_write_categories(struct labeld_export_sink *out,
    const struct labeld_export_project *p)
{
	if (labeld_write_str(out, ",\"categories\":[") != 0)
		return -1;
	for (size_t i = 0; i < p->nlabels; i++) {
		if (labeld_write_str(out, i == 0 ? "{\"id\":" : ",{\"id\":") != 0 ||
		    labeld_write_int(out, (int64_t)i + 1) != 0 ||
		    labeld_write_str(out, ",\"name\":") != 0 ||
		    labeld_write_json_string(out, p->labels[i].name) != 0 ||
		    labeld_write_str(out, ",\"supercategory\":\"\",\"labeld_label_id\":") != 0 ||
		    labeld_write_int(out, p->labels[i].id) != 0 ||
		    labeld_write(out, "}", 1) != 0)
			return -1;
	}
	return labeld_write_str(out, "],\"images\":[");
}

static int coco_begin(struct labeld_ctx *ctx, void **state,
    const struct labeld_export_project *project,
    struct labeld_export_sink *out, const char **error)
{
	struct coco_state *st = host->alloc(ctx, sizeof(*st));

	if (st == NULL) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	st->ctx = ctx;
	st->out = out;
	st->section = COCO_IMAGES;
	st->next_annotation = 1;
	st->export_id = project->export_id;
	st->project_id = project->id;
	st->delta = project->delta;
	st->project_name = host->strdup(ctx, project->name != NULL ? project->name : "");
	st->task = host->strdup(ctx, project->task != NULL ? project->task : "");
	st->since = project->since != NULL ? host->strdup(ctx, project->since) : NULL;
	st->version = host->strdup(ctx, project->labeld_version != NULL ?
	    project->labeld_version : "");
	st->removed_tail = &st->removed;
	if (st->project_name == NULL || st->task == NULL || st->version == NULL ||
	    (project->since != NULL && st->since == NULL)) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	if (labeld_label_map_init(host, ctx, &st->labels, project->labels, project->nlabels,
	    error) != 0)
		return -1;
	if (coco_write_info(out, project) != 0 || coco_write_categories(out, project) != 0) {
		*error = LABELD_MSG_WRITE;
		return -1;
	}
	*state = st;
	return 0;
}

/* Pass 1: one image, or (removed) a note for the "labeld" object. */
static int coco_image(struct coco_state *st, const struct labeld_export_item *it,
    const char **error)
{
	const struct labeld_item *item = it->item;
	struct labeld_export_sink *out = st->out;

	if (it->removed) {
		struct coco_removed *r = host->alloc(st->ctx, sizeof(*r));
		if (r == NULL || (r->file_name = host->strdup(st->ctx, item->path)) == NULL) {
			*error = LABELD_MSG_OOM;
			return -1;
		}
		r->id = item->id;
		*st->removed_tail = r;
		st->removed_tail = &r->next;
		return 0;
	}
	if (labeld_write_str(out, st->images++ == 0 ? "{\"id\":" : ",{\"id\":") != 0 ||
	    labeld_write_int(out, item->id) != 0 ||
	    labeld_write_str(out, ",\"file_name\":") != 0 ||
	    labeld_write_json_string(out, item->path) != 0 ||
	    labeld_write_str(out, ",\"width\":") != 0 ||
	    labeld_write_int(out, item->width) != 0 ||
	    labeld_write_str(out, ",\"height\":") != 0 ||
	    labeld_write_int(out, item->height) != 0 ||
	    labeld_write(out, "}", 1) != 0) {
		*error = LABELD_MSG_WRITE;
		return -1;
	}
	return 0;
}

/* Close "images" and open "annotations" (once). */
static int coco_to_annotations(struct coco_state *st)
{
	if (st->section != COCO_IMAGES)
		return 0;
	st->section = COCO_ANNOTATIONS;
	return labeld_write_str(st->out, "],\"annotations\":[");
}

/* Write the start of annotation: {"id":N,"image_id":I,"category_id":C */
static int coco_annotation_head(struct coco_state *st, int64_t image_id, size_t label_index)
{
	struct labeld_export_sink *out = st->out;

	return labeld_write_str(out, st->next_annotation == 1 ? "{\"id\":" : ",{\"id\":") != 0 ||
	    labeld_write_int(out, st->next_annotation++) != 0 ||
	    labeld_write_str(out, ",\"image_id\":") != 0 ||
	    labeld_write_int(out, image_id) != 0 ||
	    labeld_write_str(out, ",\"category_id\":") != 0 ||
	    labeld_write_int(out, (int64_t)label_index + 1) != 0 ? -1 : 0;
}

/* Clamp the span [*pos, *pos + *len] into [0, max] (max 0: the size is
 * unknown, the span stays).  A span inside keeps its numbers as they are. */
static void coco_clamp(double *pos, double *len, uint32_t max)
{
	if (max == 0)
		return;
	if (*pos < 0) {
		*len += *pos;
		*pos = 0;
	}
	if (*pos > max)
		*pos = max;
	if (*pos + *len > max)
		*len = max - *pos;
	if (*len < 0)
		*len = 0;
}

/* One box annotation; a coordinate that is not a finite number fails. */
static int coco_box(struct coco_state *st, const struct labeld_item *item,
    const struct labeld_box *b, size_t label_index, const char **error)
{
	struct labeld_export_sink *out = st->out;
	double x = b->x, y = b->y, w = b->width, h = b->height;

	if (!isfinite(x) || !isfinite(y) || !isfinite(w) || !isfinite(h)) {
		*error = labeld_sentence(host, st->ctx, "A box is not a number.",
		    "Item %" PRId64 " (%s) has a box whose coordinates are not numbers.",
		    item->id, item->path);
		return -1;
	}
	/* Inside the image, always. */
	coco_clamp(&x, &w, item->width);
	coco_clamp(&y, &h, item->height);
	if (coco_annotation_head(st, item->id, label_index) != 0 ||
	    labeld_write_str(out, ",\"bbox\":[") != 0 ||
	    labeld_write_double(out, x) != 0 || labeld_write(out, ",", 1) != 0 ||
	    labeld_write_double(out, y) != 0 || labeld_write(out, ",", 1) != 0 ||
	    labeld_write_double(out, w) != 0 || labeld_write(out, ",", 1) != 0 ||
	    labeld_write_double(out, h) != 0 ||
	    labeld_write_str(out, "],\"area\":") != 0 ||
	    labeld_write_fixed(out, w * h, COCO_AREA_DECIMALS) != 0 ||
	    labeld_write_str(out, ",\"iscrowd\":0,\"segmentation\":[]}") != 0) {
		*error = LABELD_MSG_WRITE;
		return -1;
	}
	return 0;
}

/* The sentence for a label id the project does not have. */
static const char *coco_unknown_label(struct coco_state *st, const struct labeld_item *item,
    int64_t id)
{
	return labeld_sentence(host, st->ctx, "An item has a label the project does not have.",
	    "Item %" PRId64 " (%s) has label %" PRId64 ", which is not one of the project's labels.",
	    item->id, item->path, id);
}

/* Pass 2: an item's annotations: one per box when it has boxes, else one
 * per class (no bbox, no area); none for "nothing here" and removed items. */
static int coco_annotations(struct labeld_ctx *ctx, struct coco_state *st,
    const struct labeld_export_item *it, const char **error)
{
	const struct labeld_label_entry **classes;
	size_t nclasses;
	int64_t unknown = 0;
	int rc;

	if (it->removed)
		return 0;
	for (size_t i = 0; i < it->nboxes; i++) {
		const struct labeld_label_entry *l = labeld_label_map_find(&st->labels,
		    it->boxes[i].label_id);
		if (l == NULL) {
			*error = coco_unknown_label(st, it->item, it->boxes[i].label_id);
			return -1;
		}
		if (coco_box(st, it->item, &it->boxes[i], l->index, error) != 0)
			return -1;
	}
	if (it->nboxes > 0)
		return 0;
	rc = labeld_label_map_sorted(host, ctx, &st->labels, it->label_ids, it->nlabel_ids,
	    &classes, &nclasses, &unknown, error);
	if (rc == -2)
		*error = coco_unknown_label(st, it->item, unknown);
	if (rc != 0)
		return -1;
	for (size_t i = 0; i < nclasses; i++) {
		if (coco_annotation_head(st, it->item->id, classes[i]->index) != 0 ||
		    labeld_write_str(st->out, ",\"iscrowd\":0,\"segmentation\":[]}") != 0) {
			*error = LABELD_MSG_WRITE;
			return -1;
		}
	}
	return 0;
}

static int coco_item(struct labeld_ctx *ctx, void *state, uint32_t pass,
    const struct labeld_export_item *it, const char **error)
{
	struct coco_state *st = state;

	if (pass == 1) {
		if (st->section != COCO_IMAGES) {
			*error = "The COCO export got an image after the annotations began.";
			return -1;
		}
		return coco_image(st, it, error);
	}
	if (coco_to_annotations(st) != 0) {
		*error = LABELD_MSG_WRITE;
		return -1;
	}
	return coco_annotations(ctx, st, it, error);
}

/* The "labeld" object: the export, and the removed items of a delta. */
static int coco_write_labeld(struct coco_state *st)
{
	struct labeld_export_sink *out = st->out;

	if (labeld_write_str(out, "],\"labeld\":{\"export_id\":") != 0 ||
	    labeld_write_int(out, st->export_id) != 0 ||
	    labeld_write_str(out, ",\"project_id\":") != 0 ||
	    labeld_write_int(out, st->project_id) != 0 ||
	    labeld_write_str(out, ",\"project\":") != 0 ||
	    labeld_write_json_string(out, st->project_name) != 0 ||
	    labeld_write_str(out, ",\"task\":") != 0 ||
	    labeld_write_json_string(out, st->task) != 0 ||
	    labeld_write_str(out, ",\"labeld_version\":") != 0 ||
	    labeld_write_json_string(out, st->version) != 0 ||
	    labeld_write_str(out, st->delta ? ",\"delta\":true,\"since\":" :
	    ",\"delta\":false,\"since\":") != 0 ||
	    (st->since != NULL ? labeld_write_json_string(out, st->since) :
	    labeld_write_str(out, "null")) != 0 ||
	    labeld_write_str(out, ",\"removed_images\":[") != 0)
		return -1;
	for (const struct coco_removed *r = st->removed; r != NULL; r = r->next) {
		if (labeld_write_str(out, r == st->removed ? "{\"id\":" : ",{\"id\":") != 0 ||
		    labeld_write_int(out, r->id) != 0 ||
		    labeld_write_str(out, ",\"file_name\":") != 0 ||
		    labeld_write_json_string(out, r->file_name) != 0 ||
		    labeld_write(out, "}", 1) != 0)
			return -1;
	}
	return labeld_write_str(out, "]}}\n");
}

static int coco_end(struct labeld_ctx *ctx, void *state, const char **error)
{
	struct coco_state *st = state;

	(void)ctx;
	if (st->section == COCO_DONE)
		return 0;
	if (coco_to_annotations(st) != 0 || coco_write_labeld(st) != 0) {
		*error = LABELD_MSG_WRITE;
		return -1;
	}
	st->section = COCO_DONE;
	return 0;
}

static const struct labeld_export_ops coco_ops = {
	LABELD_EXPORT_OPS_HEADER,
	.description = "COCO: one JSON file with images, categories and annotations "
	    "(boxes in pixels; one annotation per class for classification)",
	.file_extension = "json",
	.media_type = "application/json",
	.passes = 2,
	.begin = coco_begin,
	.item = coco_item,
	.end = coco_end,
	.answer_passes = LABELD_PASS(2),   /* pass 1 lists the images only */
};

static const struct labeld_plugin coco_plugin = {
	LABELD_PLUGIN_HEADER,
	.kind = LABELD_EXPORT,
	.name = PLUGIN_NAME,
	.title = "COCO",
	.version = "1.0",
	.export = &coco_ops,
};

LABELD_PLUGIN_INIT(h)
{
	if (!LABELD_HOST_USABLE(h))
		return NULL;
	host = h;
	return &coco_plugin;
}
