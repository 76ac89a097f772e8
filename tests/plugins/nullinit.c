/*
 * nullinit.c: a plugin whose entry point declines to load (returns NULL
 * after saying why through the host's log).  The loader must refuse it.
 */
#include "labeld-plugin.h"

const struct labeld_plugin *labeld_plugin_init(const struct labeld_host *host)
{
	host->log(LABELD_LOG_ERROR, "nullinit", "declining to load (%s)", "test plugin");
	return NULL;
}
