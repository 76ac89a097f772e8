/*
 * host.h: the core's side of struct labeld_host, the services plugins call.
 */
#ifndef LABELD_HOST_H
#define LABELD_HOST_H

#include <labeld/plugin.h>

struct arena;
struct config;

/* What a plugin sees as struct labeld_ctx: the request's (or job's) arena. */
struct labeld_ctx {
	struct arena *arena;
};

/* Fill the host table; cfg is used for host->config and must outlive it. */
void host_init(struct labeld_host *host, const struct config *cfg);

#endif
