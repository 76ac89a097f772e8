/*
 * badabi.c: a plugin built against a different plugin ABI.  Everything
 * else about it is valid; the loader must refuse it on the ABI number.
 */
#include "labeld-plugin.h"

static int badabi_parse_form(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **annotation, const char **error)
{
	*error = "badabi never parses anything";
	return -1;
}

static const struct labeld_task_ops badabi_ops = {
	.description = "Built for the next plugin ABI",
	.parse_form = badabi_parse_form,
};

static const struct labeld_plugin badabi_plugin = {
	.abi = LABELD_PLUGIN_ABI + 1,
	.struct_size = sizeof(struct labeld_plugin),
	.kind = LABELD_TASK,
	.name = "badabi",
	.title = "Bad ABI",
	.version = "1.0",
	.task = &badabi_ops,
};

const struct labeld_plugin *labeld_plugin_init(const struct labeld_host *host)
{
	return &badabi_plugin;
}
