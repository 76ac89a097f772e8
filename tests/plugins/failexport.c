/*
 * failexport.c: an export plugin for labeld's tests that fails midway: it
 * writes "<item id>\n" for the first two items of pass 1 and fails on the
 * third with "failexport: stopped on purpose at the third item".  An
 * export with fewer items finishes.
 */
#include <inttypes.h>
#include <stdio.h>

#include <labeld/plugin.h>

static const struct labeld_host *host;

struct failexport_state {
	struct labeld_export_sink *out;
	unsigned items;
};

static int failexport_begin(struct labeld_ctx *ctx, void **state,
    const struct labeld_export_project *project,
    struct labeld_export_sink *out, const char **error)
{
	struct failexport_state *st = host->alloc(ctx, sizeof(*st));

	if (st == NULL) {
		*error = "Out of memory.";
		return -1;
	}
	st->out = out;
	*state = st;
	return 0;
}

static int failexport_item(struct labeld_ctx *ctx, void *state, uint32_t pass,
    const struct labeld_export_item *it, const char **error)
{
	struct failexport_state *st = state;
	char line[32];
	int n;

	if (++st->items == 3) {
		*error = "failexport: stopped on purpose at the third item";
		return -1;
	}
	n = snprintf(line, sizeof(line), "%" PRId64 "\n", it->item->id);
	if (n < 0 || (size_t)n >= sizeof(line) || st->out->write(st->out->opaque, line, (size_t)n) != 0) {
		*error = "Could not write the export file.";
		return -1;
	}
	return 0;
}

static int failexport_end(struct labeld_ctx *ctx, void *state, const char **error)
{
	return 0;
}

static const struct labeld_export_ops failexport_ops = {
	LABELD_EXPORT_OPS_HEADER,
	.description = "Fails at the third item (tests)",
	.file_extension = "txt",
	.media_type = "text/plain",
	.begin = failexport_begin,
	.item = failexport_item,
	.end = failexport_end,
};

static const struct labeld_plugin failexport_plugin = {
	LABELD_PLUGIN_HEADER,
	.kind = LABELD_EXPORT,
	.name = "failexport",
	.title = "Failing export",
	.version = "1.0",
	.export = &failexport_ops,
};

LABELD_PLUGIN_INIT(h)
{
	if (!LABELD_HOST_USABLE(h))
		return NULL;
	host = h;
	return &failexport_plugin;
}
