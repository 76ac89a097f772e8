/*
 * testexport.c: a small export plugin for labeld's tests.  It writes one
 * line per item, "<item id>\t<item path>\n", through the sink.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <labeld/plugin.h>

static const struct labeld_host *host;

struct testexport_state {
	struct labeld_export_sink *out;
	size_t items;
};

static int testexport_begin(struct labeld_ctx *ctx, void **state,
    const struct labeld_export_project *project,
    struct labeld_export_sink *out, const char **error)
{
	struct testexport_state *st = host->alloc(ctx, sizeof(*st));

	if (st == NULL) {
		*error = "Out of memory.";
		return -1;
	}
	st->out = out;
	*state = st;
	return 0;
}

static int testexport_item(struct labeld_ctx *ctx, void *state, uint32_t pass,
    const struct labeld_export_item *it, const char **error)
{
	struct testexport_state *st = state;
	char id[32];
	int n = snprintf(id, sizeof(id), "%" PRId64 "\t", it->item->id);

	if (n < 0 || (size_t)n >= sizeof(id) ||
	    st->out->write(st->out->opaque, id, (size_t)n) != 0 ||
	    st->out->write(st->out->opaque, it->item->path, strlen(it->item->path)) != 0 ||
	    st->out->write(st->out->opaque, "\n", 1) != 0) {
		*error = "Could not write the export file.";
		return -1;
	}
	st->items++;
	return 0;
}

static int testexport_end(struct labeld_ctx *ctx, void *state, const char **error)
{
	return 0;
}

static const struct labeld_export_ops testexport_ops = {
	LABELD_EXPORT_OPS_HEADER,
	.description = "One line per item: id, a tab, the path",
	.file_extension = "tsv",
	.media_type = "text/tab-separated-values",
	.begin = testexport_begin,
	.item = testexport_item,
	.end = testexport_end,
};

static const struct labeld_plugin testexport_plugin = {
	LABELD_PLUGIN_HEADER,
	.kind = LABELD_EXPORT,
	.name = "testexport",
	.title = "Test export",
	.version = "1.0",
	.export = &testexport_ops,
};

LABELD_PLUGIN_INIT(h)
{
	if (!LABELD_HOST_USABLE(h))
		return NULL;
	host = h;
	return &testexport_plugin;
}
