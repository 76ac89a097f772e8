/*
 * noentry.c: a shared object with a valid ABI constant but a misspelled
 * entry point and no labeld_plugin_init.  The loader must refuse it.
 */
#include <labeld/plugin.h>

LABELD_PLUGIN_ABI_CONSTANT;

static const struct labeld_plugin noentry_plugin = {
	LABELD_PLUGIN_HEADER,
	.kind = LABELD_TASK,
	.name = "noentry",
	.title = "No entry",
	.version = "1.0",
};

const struct labeld_plugin *labeld_plugin_initialize(const struct labeld_host *host);

const struct labeld_plugin *labeld_plugin_initialize(const struct labeld_host *host)
{
	return &noentry_plugin;
}
