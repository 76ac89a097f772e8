/*
 * dupname.c: a valid task plugin that claims the name "testtask", which
 * testtask.so already uses.  Tests install it under a name that sorts after
 * testtask.so ("zz-dupname.so"), so testtask.so loads first and this one
 * is refused as a duplicate.
 */
#include "labeld-plugin.h"

static int dupname_parse_form(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **annotation, const char **error)
{
	*error = "dupname never parses anything";
	return -1;
}

static const struct labeld_task_ops dupname_ops = {
	.description = "A second plugin named testtask",
	.parse_form = dupname_parse_form,
};

static const struct labeld_plugin dupname_plugin = {
	LABELD_PLUGIN_HEADER,
	.kind = LABELD_TASK,
	.name = "testtask",
	.title = "Duplicate test task",
	.version = "2.0",
	.task = &dupname_ops,
};

const struct labeld_plugin *labeld_plugin_init(const struct labeld_host *host)
{
	return &dupname_plugin;
}
