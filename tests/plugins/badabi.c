/*
 * badabi.c: plugins whose ABI constant the loader must refuse before it
 * calls any of their functions.  Makefile.am builds it four times:
 *   badabi.so    (-DBADABI_MAJOR) built for the next major ABI version;
 *   badminor.so  (-DBADABI_MINOR) a minor version newer than labeld's;
 *   badsize.so   (-DBADABI_SIZE)  the right version, a descriptor size 8
 *                bytes too big (as if built from an edited header without
 *                an ABI bump);
 *   noabi.so     (-DBADABI_NONE)  no constant at all (an entry point written
 *                without LABELD_PLUGIN_INIT).
 * Their init records that it ran (it creates the file named by the host's
 * configuration value plugin.badabi.marker, when there is one) and then
 * aborts: if the loader ever called it, the test process or labeld would
 * die.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <labeld/plugin.h>

#if defined(BADABI_MAJOR)
#define BADABI_VERSION LABELD_PLUGIN_ABI_MAJOR + 1, 0, sizeof(struct labeld_plugin)
#elif defined(BADABI_MINOR)
#define BADABI_VERSION LABELD_PLUGIN_ABI_MAJOR, LABELD_PLUGIN_ABI_MINOR + 1, \
	sizeof(struct labeld_plugin)
#elif defined(BADABI_SIZE)
#define BADABI_VERSION LABELD_PLUGIN_ABI_MAJOR, LABELD_PLUGIN_ABI_MINOR, \
	sizeof(struct labeld_plugin) + 8
#elif !defined(BADABI_NONE)
#error "define one of BADABI_MAJOR, BADABI_MINOR, BADABI_SIZE, BADABI_NONE"
#endif

#ifdef BADABI_VERSION
LABELD_PLUGIN_EXPORT const struct labeld_abi labeld_plugin_abi = {
	BADABI_VERSION, sizeof(struct labeld_task_ops), sizeof(struct labeld_export_ops)
};
#endif

/* Never returns: it records that it ran and aborts. */
const struct labeld_plugin *labeld_plugin_init(const struct labeld_host *host)
{
	const char *marker = host->config("badabi", "marker");

	if (marker != NULL) {
		int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
	}
	abort();
}
