/*
 * badsize.c: a plugin with the right ABI number but a descriptor of the
 * wrong size (as if built from an edited header without an ABI bump).  The
 * loader must refuse it as not binary compatible.
 */
#include "labeld-plugin.h"

static int badsize_parse_form(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **annotation, const char **error)
{
	*error = "badsize never parses anything";
	return -1;
}

static const struct labeld_task_ops badsize_ops = {
	.description = "Descriptor size does not match",
	.parse_form = badsize_parse_form,
};

static const struct labeld_plugin badsize_plugin = {
	.abi = LABELD_PLUGIN_ABI,
	.struct_size = sizeof(struct labeld_plugin) + 8,
	.kind = LABELD_TASK,
	.name = "badsize",
	.title = "Bad size",
	.version = "1.0",
	.task = &badsize_ops,
};

const struct labeld_plugin *labeld_plugin_init(const struct labeld_host *host)
{
	return &badsize_plugin;
}
