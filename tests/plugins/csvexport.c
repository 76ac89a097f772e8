/*
 * csvexport.c: a third export format for labeld's tests, "csv" ("CSV
 * (test)"), the plugin an admin drops into the plugin directory: the
 * integration test installs it into a running labeld's plugin directory and
 * expects it in the Export menu after SIGHUP, with no change to the core.
 *
 * One CSV file (RFC 4180: CRLF line ends, a field with a comma, quote, CR
 * or LF in double quotes, quotes doubled) with the header
 *
 *   image_id,file_name,width,height,label,x,y,box_width,box_height,removed
 *
 * and one row per (image, box) when the item has boxes, else per (image,
 * class); an image answered "nothing here" is one row with an empty label,
 * a removed one (delta export) one row with removed 1.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include <labeld/plugin.h>
#include <labeld/plugin-util.h>

static const struct labeld_host *host;

struct csvexport_state {
	struct labeld_ctx *ctx;
	struct labeld_export_sink *out;
	struct labeld_label_map labels;
};

/* Write s as one CSV field: as it is, or quoted when it holds a comma,
 * quote, CR or LF (quotes doubled). */
static int csv_field(struct labeld_export_sink *out, const char *s)
{
	const char *q;

	if (s[strcspn(s, ",\"\r\n")] == '\0')
		return labeld_write_str(out, s);
	if (labeld_write(out, "\"", 1) != 0)
		return -1;
	while ((q = strchr(s, '"')) != NULL) {
		if (labeld_write(out, s, (size_t)(q - s) + 1) != 0 || labeld_write(out, "\"", 1) != 0)
			return -1;
		s = q + 1;
	}
	return labeld_write_str(out, s) != 0 || labeld_write(out, "\"", 1) != 0 ? -1 : 0;
}

static int csvexport_begin(struct labeld_ctx *ctx, void **state,
    const struct labeld_export_project *project,
    struct labeld_export_sink *out, const char **error)
{
	struct csvexport_state *st = host->alloc(ctx, sizeof(*st));

	if (st == NULL) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	st->ctx = ctx;
	st->out = out;
	if (labeld_label_map_init(host, ctx, &st->labels, project->labels, project->nlabels,
	    error) != 0)
		return -1;
	if (labeld_write_str(out, "image_id,file_name,width,height,label,x,y,box_width,"
	    "box_height,removed\r\n") != 0) {
		*error = LABELD_MSG_WRITE;
		return -1;
	}
	*state = st;
	return 0;
}

/* One row: the image's columns, then label (NULL: empty), the box (NULL:
 * empty columns) and removed. */
static int csv_row(struct labeld_export_sink *out, const struct labeld_export_item *it,
    const char *label, const struct labeld_box *b)
{
	const struct labeld_item *item = it->item;

	if (labeld_write_int(out, item->id) != 0 || labeld_write(out, ",", 1) != 0 ||
	    csv_field(out, item->path) != 0 || labeld_write(out, ",", 1) != 0 ||
	    labeld_write_int(out, item->width) != 0 || labeld_write(out, ",", 1) != 0 ||
	    labeld_write_int(out, item->height) != 0 || labeld_write(out, ",", 1) != 0 ||
	    (label != NULL && csv_field(out, label) != 0) || labeld_write(out, ",", 1) != 0)
		return -1;
	if (b != NULL && (labeld_write_double(out, b->x) != 0 || labeld_write(out, ",", 1) != 0 ||
	    labeld_write_double(out, b->y) != 0 || labeld_write(out, ",", 1) != 0 ||
	    labeld_write_double(out, b->width) != 0 || labeld_write(out, ",", 1) != 0 ||
	    labeld_write_double(out, b->height) != 0))
		return -1;
	if (b == NULL && labeld_write_str(out, ",,,") != 0)
		return -1;
	return labeld_write_str(out, it->removed ? ",1\r\n" : ",0\r\n");
}

static int csvexport_item(struct labeld_ctx *ctx, void *state, uint32_t pass,
    const struct labeld_export_item *it, const char **error)
{
	struct csvexport_state *st = state;
	const struct labeld_label_entry **classes;
	size_t n;
	int64_t unknown = 0;
	int rc;

	(void)pass;
	if (it->removed || (it->nboxes == 0 && it->nlabel_ids == 0))
		goto one_row;
	for (size_t i = 0; i < it->nboxes; i++) {
		const struct labeld_label_entry *l = labeld_label_map_find(&st->labels,
		    it->boxes[i].label_id);
		if (l == NULL) {
			unknown = it->boxes[i].label_id;
			goto unknown_label;
		}
		if (csv_row(st->out, it, l->name, &it->boxes[i]) != 0)
			goto write_failed;
	}
	if (it->nboxes > 0)
		return 0;
	rc = labeld_label_map_sorted(host, ctx, &st->labels, it->label_ids, it->nlabel_ids,
	    &classes, &n, &unknown, error);
	if (rc == -2)
		goto unknown_label;
	if (rc != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (csv_row(st->out, it, classes[i]->name, NULL) != 0)
			goto write_failed;
	return 0;
one_row:
	if (csv_row(st->out, it, NULL, NULL) != 0)
		goto write_failed;
	return 0;
unknown_label:
	*error = labeld_sentence(host, st->ctx, "An item has a label the project does not have.",
	    "Item %" PRId64 " has label %" PRId64 ", which is not one of the project's labels.",
	    it->item->id, unknown);
	return -1;
write_failed:
	*error = LABELD_MSG_WRITE;
	return -1;
}

static int csvexport_end(struct labeld_ctx *ctx, void *state, const char **error)
{
	(void)ctx;
	(void)state;
	(void)error;
	return 0;
}

static const struct labeld_export_ops csvexport_ops = {
	LABELD_EXPORT_OPS_HEADER,
	.description = "CSV: one row per image and label or box (a test plugin)",
	.file_extension = "csv",
	.media_type = "text/csv",
	.begin = csvexport_begin,
	.item = csvexport_item,
	.end = csvexport_end,
};

static const struct labeld_plugin csvexport_plugin = {
	LABELD_PLUGIN_HEADER,
	.kind = LABELD_EXPORT,
	.name = "csv",
	.title = "CSV (test)",
	.version = "1.0",
	.export = &csvexport_ops,
};

LABELD_PLUGIN_INIT(h)
{
	if (!LABELD_HOST_USABLE(h))
		return NULL;
	host = h;
	return &csvexport_plugin;
}
