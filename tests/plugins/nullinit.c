/*
 * nullinit.c: a plugin whose entry point declines to load (returns NULL
 * after saying why through the host's log).  The loader must refuse it.
 */
#include <labeld/plugin.h>

LABELD_PLUGIN_INIT(host)
{
	host->log(LABELD_LOG_ERROR, "nullinit", "declining to load (%s)", "test plugin");
	return NULL;
}
