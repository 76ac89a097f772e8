/*
 * manifest.c: the export format "Dataset manifest": JSON Lines in the
 * schema Azure Machine Learning's AutoML for images reads, one line per
 * image:
 *
 *   {"image_url": "...", "image_details": {"format": "jpg", "width": "400px",
 *    "height": "300px"}, "label": ...}
 *
 * where label is a string (task multiclass), a list of strings (multilabel)
 * or a list of {"label", "topX", "topY", "bottomX", "bottomY", "isCrowd"}
 * with coordinates in 0..1 of the image's size, to 10 decimals (bbox).  For another task
 * type: its boxes when an item has any, else its classes as a list of
 * strings.  A delta export lists a removed item as
 * {"image_url": "...", "removed": true}.  One pass; nothing of the project
 * is kept but its label classes.  docs/export.md, "Dataset manifest", says
 * how to hand it to Azure ML.  Uses only <labeld/plugin.h> and
 * <labeld/plugin-util.h>.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <labeld/plugin.h>
#include <labeld/plugin-util.h>

#define PLUGIN_NAME "manifest"
/* Box coordinates (fractions of the image's size) are written rounded to
 * this many decimals: a ten-billionth of the size, far below a pixel of any
 * image, and fast to write for millions of boxes. */
#define MANIFEST_DECIMALS 10

static const struct labeld_host *host;

struct manifest_state {
	struct labeld_ctx *ctx;             /* the export's: lives until end */
	struct labeld_export_sink *out;
	struct labeld_label_map labels;
	/* How "label" is written, from the task: one string, a list of
	 * strings, a list of boxes, or (another task) boxes or strings as the
	 * item has them. */
	enum { LABEL_ONE, LABEL_LIST, LABEL_BOXES, LABEL_ANY } shape;
};

static int manifest_begin(struct labeld_ctx *ctx, void **state,
    const struct labeld_export_project *project,
    struct labeld_export_sink *out, const char **error)
{
	struct manifest_state *st = host->alloc(ctx, sizeof(*st));
	const char *task = project->task != NULL ? project->task : "";

	if (st == NULL) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	st->ctx = ctx;
	st->out = out;
	st->shape = strcmp(task, "multiclass") == 0 ? LABEL_ONE :
	    strcmp(task, "multilabel") == 0 ? LABEL_LIST :
	    strcmp(task, "bbox") == 0 ? LABEL_BOXES : LABEL_ANY;
	if (labeld_label_map_init(host, ctx, &st->labels, project->labels, project->nlabels,
	    error) != 0)
		return -1;
	*state = st;
	return 0;
}

/* The image format as Azure ML names it: "jpg" for JPEG, else labeld's
 * name ("png", "gif", "bmp", "webp", ...). */
static const char *manifest_format(const char *format)
{
	if (format == NULL || format[0] == '\0')
		return "";
	if (strcmp(format, "jpeg") == 0 || strcmp(format, "jpg") == 0)
		return "jpg";
	return format;
}

/* Write `"<n>px"`. */
static int manifest_px(struct labeld_export_sink *out, uint32_t n)
{
	return labeld_write(out, "\"", 1) != 0 || labeld_write_int(out, n) != 0 ||
	    labeld_write(out, "px\"", 3) != 0 ? -1 : 0;
}

/* Write pixels / size, clamped into 0..1, to MANIFEST_DECIMALS decimals. */
static int manifest_coord(struct labeld_export_sink *out, double pixels, uint32_t size)
{
	double r = pixels / size;

	return labeld_write_fixed(out, r < 0 ? 0 : r > 1 ? 1 : r, MANIFEST_DECIMALS);
}

/* The sentence for a label id the project does not have. */
static const char *manifest_unknown_label(struct manifest_state *st,
    const struct labeld_item *item, int64_t id)
{
	return labeld_sentence(host, st->ctx, "An item has a label the project does not have.",
	    "Item %" PRId64 " (%s) has label %" PRId64 ", which is not one of the project's labels.",
	    item->id, item->path, id);
}

/* "label": the item's boxes, [{label, topX, topY, bottomX, bottomY,
 * isCrowd}...] in 0..1. */
static int manifest_boxes(struct manifest_state *st, const struct labeld_export_item *it,
    const char **error)
{
	const struct labeld_item *item = it->item;
	struct labeld_export_sink *out = st->out;

	if (it->nboxes > 0 && (item->width == 0 || item->height == 0)) {
		*error = labeld_sentence(host, st->ctx, "An image with boxes has no size.",
		    "Item %" PRId64 " (%s) has boxes but no width and height.", item->id, item->path);
		return -1;
	}
	if (labeld_write(out, "[", 1) != 0)
		goto write_failed;
	for (size_t i = 0; i < it->nboxes; i++) {
		const struct labeld_box *b = &it->boxes[i];
		const struct labeld_label_entry *l = labeld_label_map_find(&st->labels, b->label_id);
		if (l == NULL) {
			*error = manifest_unknown_label(st, item, b->label_id);
			return -1;
		}
		if (!isfinite(b->x) || !isfinite(b->y) || !isfinite(b->width) ||
		    !isfinite(b->height)) {
			*error = labeld_sentence(host, st->ctx, "A box is not a number.",
			    "Item %" PRId64 " (%s) has a box whose coordinates are not numbers.",
			    item->id, item->path);
			return -1;
		}
		if (labeld_write_str(out, i == 0 ? "{\"label\":" : ",{\"label\":") != 0 ||
		    labeld_write_json_string(out, l->name) != 0 ||
		    labeld_write_str(out, ",\"topX\":") != 0 ||
		    manifest_coord(out, b->x, item->width) != 0 ||
		    labeld_write_str(out, ",\"topY\":") != 0 ||
		    manifest_coord(out, b->y, item->height) != 0 ||
		    labeld_write_str(out, ",\"bottomX\":") != 0 ||
		    manifest_coord(out, b->x + b->width, item->width) != 0 ||
		    labeld_write_str(out, ",\"bottomY\":") != 0 ||
		    manifest_coord(out, b->y + b->height, item->height) != 0 ||
		    labeld_write_str(out, ",\"isCrowd\":0}") != 0)
			goto write_failed;
	}
	if (labeld_write(out, "]", 1) != 0)
		goto write_failed;
	return 0;
write_failed:
	*error = LABELD_MSG_WRITE;
	return -1;
}

/* "label": the item's classes in label order, as one string (one) or a
 * list of strings. */
static int manifest_classes(struct labeld_ctx *ctx, struct manifest_state *st,
    const struct labeld_export_item *it, int one, const char **error)
{
	const struct labeld_label_entry **classes;
	size_t n;
	int64_t unknown = 0;
	int rc = labeld_label_map_sorted(host, ctx, &st->labels, it->label_ids, it->nlabel_ids,
	    &classes, &n, &unknown, error);

	if (rc == -2)
		*error = manifest_unknown_label(st, it->item, unknown);
	if (rc != 0)
		return -1;
	if (one) {
		if (n != 1) {
			*error = labeld_sentence(host, st->ctx,
			    "A multi-class item does not have exactly one label.",
			    "Item %" PRId64 " (%s) has %zu labels; a multi-class manifest needs "
			    "exactly one.", it->item->id, it->item->path, n);
			return -1;
		}
		return labeld_write_json_string(st->out, classes[0]->name) != 0 ? -2 : 0;
	}
	if (labeld_write(st->out, "[", 1) != 0)
		return -2;
	for (size_t i = 0; i < n; i++)
		if ((i > 0 && labeld_write(st->out, ",", 1) != 0) ||
		    labeld_write_json_string(st->out, classes[i]->name) != 0)
			return -2;
	return labeld_write(st->out, "]", 1) != 0 ? -2 : 0;
}

static int manifest_item(struct labeld_ctx *ctx, void *state, uint32_t pass,
    const struct labeld_export_item *it, const char **error)
{
	struct manifest_state *st = state;
	struct labeld_export_sink *out = st->out;
	const struct labeld_item *item = it->item;
	const char *url = it->image_url != NULL ? it->image_url : item->path;
	int rc;

	(void)pass;
	if (labeld_write_str(out, "{\"image_url\":") != 0 ||
	    labeld_write_json_string(out, url) != 0)
		goto write_failed;
	if (it->removed) {
		if (labeld_write_str(out, ",\"removed\":true}\n") != 0)
			goto write_failed;
		return 0;
	}
	if (labeld_write_str(out, ",\"image_details\":{\"format\":") != 0 ||
	    labeld_write_json_string(out, manifest_format(item->format)) != 0 ||
	    labeld_write_str(out, ",\"width\":") != 0 || manifest_px(out, item->width) != 0 ||
	    labeld_write_str(out, ",\"height\":") != 0 || manifest_px(out, item->height) != 0 ||
	    labeld_write_str(out, "},\"label\":") != 0)
		goto write_failed;
	if (st->shape == LABEL_BOXES || (st->shape == LABEL_ANY && it->nboxes > 0)) {
		if (manifest_boxes(st, it, error) != 0)
			return -1;
	} else {
		rc = manifest_classes(ctx, st, it, st->shape == LABEL_ONE, error);
		if (rc == -2)
			goto write_failed;
		if (rc != 0)
			return -1;
	}
	if (labeld_write_str(out, "}\n") != 0)
		goto write_failed;
	return 0;
write_failed:
	*error = LABELD_MSG_WRITE;
	return -1;
}

static int manifest_end(struct labeld_ctx *ctx, void *state, const char **error)
{
	(void)ctx;
	(void)state;
	(void)error;
	return 0;
}

static const struct labeld_export_ops manifest_ops = {
	LABELD_EXPORT_OPS_HEADER,
	.description = "Dataset manifest: JSON Lines for Azure Machine Learning's AutoML for "
	    "images (one line per image; boxes in 0..1)",
	.file_extension = "jsonl",
	.media_type = "application/jsonl",
	.passes = 1,
	.begin = manifest_begin,
	.item = manifest_item,
	.end = manifest_end,
};

static const struct labeld_plugin manifest_plugin = {
	LABELD_PLUGIN_HEADER,
	.kind = LABELD_EXPORT,
	.name = PLUGIN_NAME,
	.title = "Dataset manifest (Azure ML)",
	.version = "1.0",
	.export = &manifest_ops,
};

LABELD_PLUGIN_INIT(h)
{
	if (!LABELD_HOST_USABLE(h))
		return NULL;
	host = h;
	return &manifest_plugin;
}
