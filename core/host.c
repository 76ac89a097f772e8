/*
 * host.c: services offered to plugins.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "config.h"
#include "host.h"
#include "log.h"

static const struct config *host_cfg;

static void *host_alloc(struct labeld_ctx *ctx, size_t size)
{
	return arena_alloc(ctx->arena, size);
}

static char *host_strdup(struct labeld_ctx *ctx, const char *s)
{
	return arena_strdup(ctx->arena, s);
}

static void json_put_cleanup(void *p)
{
	json_object_put(p);
}

static struct json_object *host_json_own(struct labeld_ctx *ctx, struct json_object *obj)
{
	if (obj == NULL)
		return NULL;
	if (arena_cleanup_add(ctx->arena, json_put_cleanup, obj) < 0)
		return NULL;
	return obj;
}

static void host_log(enum labeld_log_level level, const char *plugin, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void host_log(enum labeld_log_level level, const char *plugin, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	switch (level) {
	case LABELD_LOG_ERROR: log_error("plugin %s: %s", plugin, msg); break;
	case LABELD_LOG_WARN: log_warn("plugin %s: %s", plugin, msg); break;
	default: log_info("plugin %s: %s", plugin, msg); break;
	}
}

static const char *host_config(const char *plugin, const char *key)
{
	char name[256];

	if (host_cfg == NULL)
		return NULL;
	snprintf(name, sizeof(name), "plugin.%s.%s", plugin, key);
	return config_get_extra(host_cfg, name);
}

void host_init(struct labeld_host *host, const struct config *cfg)
{
	host_cfg = cfg;
	memset(host, 0, sizeof(*host));
	host->abi_major = LABELD_PLUGIN_ABI_MAJOR;
	host->abi_minor = LABELD_PLUGIN_ABI_MINOR;
	host->struct_size = sizeof(*host);
	host->alloc = host_alloc;
	host->strdup = host_strdup;
	host->json_own = host_json_own;
	host->log = host_log;
	host->config = host_config;
}
