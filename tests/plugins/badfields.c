/*
 * badfields.c: one plugin, many broken descriptors.  It returns the
 * descriptor picked by the host's configuration value
 * plugin.badfields.case, so the loader test can check every field rule
 * without a separate .so for each; with no (or an unknown) case it returns
 * a valid task plugin named "badfields".
 */
#include <string.h>

#include "labeld-plugin.h"

static int badfields_parse_form(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **annotation, const char **error)
{
	*error = "badfields never parses anything";
	return -1;
}

static int badfields_item(struct labeld_ctx *ctx, void *state,
    const struct labeld_item *item, const char *image_url,
    const int64_t *label_ids, size_t nlabel_ids,
    const struct labeld_box *boxes, size_t nboxes, const char **error)
{
	return 0;
}

static const struct labeld_task_ops badfields_task = {
	.description = "Task ops with parse_form",
	.parse_form = badfields_parse_form,
};

static const struct labeld_task_ops badfields_task_noparse = {
	.description = "Task ops without parse_form",
};

static const struct labeld_export_ops badfields_export_noitem = {
	.description = "Export ops without item",
	.file_extension = "txt",
	.media_type = "text/plain",
};

static const struct labeld_export_ops badfields_export = {
	.description = "Export ops with item",
	.file_extension = "txt",
	.media_type = "text/plain",
	.item = badfields_item,
};

#define TASK(nm, ti, ve, ops) { LABELD_PLUGIN_HEADER, .kind = LABELD_TASK, \
	.name = (nm), .title = (ti), .version = (ve), .task = (ops) }
#define EXPORT(nm, ops) { LABELD_PLUGIN_HEADER, .kind = LABELD_EXPORT, \
	.name = (nm), .title = "Bad fields", .version = "1.0", .export = (ops) }

static const struct {
	const char *name;
	struct labeld_plugin desc;
} badfields_cases[] = {
	{ "valid", TASK("badfields", "Bad fields", "1.0", &badfields_task) },
	{ "kind", { LABELD_PLUGIN_HEADER, .kind = (enum labeld_plugin_kind)7,
		.name = "badfields", .title = "Bad fields", .version = "1.0",
		.task = &badfields_task } },
	{ "noname", TASK(NULL, "Bad fields", "1.0", &badfields_task) },
	{ "emptyname", TASK("", "Bad fields", "1.0", &badfields_task) },
	{ "upper", TASK("BadFields", "Bad fields", "1.0", &badfields_task) },
	{ "space", TASK("bad fields", "Bad fields", "1.0", &badfields_task) },
	{ "longname", TASK("a23456789012345678901234567890123", "Bad fields", "1.0",
		&badfields_task) },
	{ "maxname", TASK("a2345678901234567890123456789012", "Bad fields", "1.0",
		&badfields_task) },
	{ "notitle", TASK("badfields", NULL, "1.0", &badfields_task) },
	{ "emptytitle", TASK("badfields", "", "1.0", &badfields_task) },
	{ "noversion", TASK("badfields", "Bad fields", NULL, &badfields_task) },
	{ "ctrlversion", TASK("badfields", "Bad fields", "1.0\nINFO fake", &badfields_task) },
	{ "notaskops", TASK("badfields", "Bad fields", "1.0", NULL) },
	{ "noparse", TASK("badfields", "Bad fields", "1.0", &badfields_task_noparse) },
	{ "noexportops", EXPORT("badfields", NULL) },
	{ "noitem", EXPORT("badfields", &badfields_export_noitem) },
	{ "export", EXPORT("badfields", &badfields_export) },
};

const struct labeld_plugin *labeld_plugin_init(const struct labeld_host *host)
{
	const char *c = host->config("badfields", "case");

	for (size_t i = 0; c != NULL && i < sizeof(badfields_cases) / sizeof(badfields_cases[0]); i++)
		if (strcmp(c, badfields_cases[i].name) == 0)
			return &badfields_cases[i].desc;
	return &badfields_cases[0].desc;
}
