/*
 * failexport.c: an export plugin for labeld's fault tests, "failexport"
 * ("Failing export (test)").  It writes one line per item ("<item id>\n")
 * and its item op fails on the third item it is given with the message
 * FAILEXPORT_MSG, so the export job must show that message, list no
 * finished file and leave no partial file behind.
 */
#include <inttypes.h>
#include <stdint.h>

#include <labeld/plugin.h>
#include <labeld/plugin-util.h>

#define FAILEXPORT_MSG "failexport: stopped on purpose at the third item"

static const struct labeld_host *host;

struct failexport_state {
	struct labeld_export_sink *out;
	uint64_t items;
};

static int failexport_begin(struct labeld_ctx *ctx, void **state,
    const struct labeld_export_project *project,
    struct labeld_export_sink *out, const char **error)
{
	struct failexport_state *st = host->alloc(ctx, sizeof(*st));

	(void)project;
	if (st == NULL) {
		*error = LABELD_MSG_OOM;
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

	(void)ctx;
	(void)pass;
	if (++st->items == 3) {
		*error = FAILEXPORT_MSG;
		return -1;
	}
	if (labeld_write_int(st->out, it->item->id) != 0 || labeld_write(st->out, "\n", 1) != 0) {
		*error = LABELD_MSG_WRITE;
		return -1;
	}
	return 0;
}

static int failexport_end(struct labeld_ctx *ctx, void *state, const char **error)
{
	(void)ctx;
	(void)state;
	(void)error;
	return 0;
}

static const struct labeld_export_ops failexport_ops = {
	LABELD_EXPORT_OPS_HEADER,
	.description = "Fails on the third item (a test plugin)",
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
	.title = "Failing export (test)",
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
