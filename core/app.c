/*
 * app.c: the process-wide state and the reloadable runtime.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "host.h"
#include "log.h"
#include "oidc.h"
#include "plugin.h"
#include "routes.h"
#include "tmpl.h"

static void runtime_free(struct runtime *rt)
{
	if (rt == NULL)
		return;
	tmpl_set_free(rt->tmpl);
	plugin_set_free(rt->plugins);
	free(rt);
}

/* Add the template folder <plugins_dir>/<name>/ of every loaded plugin. */
static int runtime_add_plugin_templates(struct runtime *rt, const char *plugins_dir,
    char *err, size_t errlen)
{
	for (size_t i = 0; i < rt->plugins->n; i++) {
		const struct plugin *p = &rt->plugins->v[i];
		char dir[4096], prefix[64];
		struct stat st;
		if (p->desc == NULL)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", plugins_dir, p->desc->name);
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		snprintf(prefix, sizeof(prefix), "%s/", p->desc->name);
		if (tmpl_add_dir(rt->tmpl, dir, prefix, err, errlen) < 0)
			return -1;
	}
	return 0;
}

struct runtime *runtime_load(const struct config *cfg, const struct labeld_host *host,
    char *err, size_t errlen)
{
	struct runtime *rt = calloc(1, sizeof(*rt));

	if (rt == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rt->tmpl = tmpl_set_new();
	if (rt->tmpl == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (tmpl_add_dir(rt->tmpl, cfg->templates_dir, "", err, errlen) < 0)
		goto fail;
	rt->plugins = plugin_set_load(cfg->plugins_dir, host, err, errlen);
	if (rt->plugins == NULL)
		goto fail;
	if (runtime_add_plugin_templates(rt, cfg->plugins_dir, err, errlen) < 0)
		goto fail;
	if (tmpl_link(rt->tmpl, err, errlen) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(routes_required_templates) / sizeof(routes_required_templates[0]); i++) {
		if (!tmpl_exists(rt->tmpl, routes_required_templates[i])) {
			snprintf(err, errlen, "%s/%s.html: missing (labeld needs this template)",
			    cfg->templates_dir, routes_required_templates[i]);
			goto fail;
		}
	}
	return rt;
fail:
	runtime_free(rt);
	return NULL;
}

int app_init(struct app *app, struct config *cfg, char *err, size_t errlen)
{
	memset(app, 0, sizeof(*app));
	app->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	app->public_https = strncmp(app->cfg.public_url, "https://", 8) == 0;
	app->signin_origins = oidc_signin_origins(&app->cfg);
	if (app->signin_origins == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	app->routes = routes;
	app->nroutes = routes_count;
	if (router_check(app->routes, app->nroutes, err, errlen) < 0)
		return -1;
	host_init(&app->host, &app->cfg);
	pthread_mutex_init(&app->rt_lock, NULL);
	app->rt = runtime_load(&app->cfg, &app->host, err, errlen);
	if (app->rt == NULL)
		return -1;
	app->rt->refs = 1;
	app->rt->generation = ++app->generation;
	return 0;
}

struct runtime *app_runtime_acquire(struct app *app)
{
	struct runtime *rt;

	pthread_mutex_lock(&app->rt_lock);
	rt = app->rt;
	rt->refs++;
	pthread_mutex_unlock(&app->rt_lock);
	return rt;
}

void app_runtime_release(struct app *app, struct runtime *rt)
{
	int last;

	if (rt == NULL)
		return;
	pthread_mutex_lock(&app->rt_lock);
	last = --rt->refs == 0;
	pthread_mutex_unlock(&app->rt_lock);
	if (last) {
		log_info("runtime generation %lu released", rt->generation);
		runtime_free(rt);
	}
}

int app_reload(struct app *app, char *err, size_t errlen)
{
	struct runtime *rt = runtime_load(&app->cfg, &app->host, err, errlen), *old;

	if (rt == NULL)
		return -1;
	pthread_mutex_lock(&app->rt_lock);
	rt->refs = 1;
	rt->generation = ++app->generation;
	old = app->rt;
	app->rt = rt;
	pthread_mutex_unlock(&app->rt_lock);
	log_info("reloaded templates and plugins (generation %lu)", rt->generation);
	app_runtime_release(app, old);
	return 0;
}

void app_cleanup(struct app *app)
{
	if (app->rt != NULL)
		app_runtime_release(app, app->rt);
	app->rt = NULL;
	pthread_mutex_destroy(&app->rt_lock);
	free(app->signin_origins);
	app->signin_origins = NULL;
	config_free(&app->cfg);
}
