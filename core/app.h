/*
 * app.h: process-wide state: the configuration, the route table, and the
 * runtime (templates + plugins) that SIGHUP replaces.
 *
 * A runtime is reference-counted: each request holds the one that was current
 * when it started, so a reload never pulls templates or plugin code from
 * under a request in flight.  The old runtime is freed (and its plugins
 * dlclose'd) when its last request ends.
 */
#ifndef LABELD_APP_H
#define LABELD_APP_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>

#include "config.h"
#include <labeld/plugin.h>

struct tmpl_set;
struct plugin_set;
struct route;

struct runtime {
	struct tmpl_set *tmpl;
	struct plugin_set *plugins;
	unsigned long generation;
	unsigned refs;              /* guarded by app.rt_lock */
};

struct app {
	struct config cfg;
	const struct route *routes;
	size_t nroutes;
	struct labeld_host host;
	int public_https;           /* public_url is https://: Secure cookies, HSTS */
	char *signin_origins;       /* the providers' origins, for the sign-in page's
	                               form-action (oidc_signin_origins) */

	pthread_mutex_t rt_lock;
	struct runtime *rt;         /* current; holds one reference itself */
	unsigned long generation;

	volatile sig_atomic_t stopping;
};

/* Initialise app with a loaded configuration (ownership of cfg passes to
 * app) and load the first runtime.  -1 with "file:line: problem" in err. */
int app_init(struct app *app, struct config *cfg, char *err, size_t errlen);
void app_cleanup(struct app *app);

/* Build a runtime from the configuration: templates, then plugins (and the
 * template folders of loaded plugins, as "<plugin>/<name>").  Plugin refusals
 * are not errors; a template error is.  NULL with err filled on error. */
struct runtime *runtime_load(const struct config *cfg, const struct labeld_host *host,
    char *err, size_t errlen);

/* Take a reference to the current runtime / give it back. */
struct runtime *app_runtime_acquire(struct app *app);
void app_runtime_release(struct app *app, struct runtime *rt);

/* SIGHUP: load a new runtime and make it current.  On error the old one
 * stays in use and -1 is returned with err filled. */
int app_reload(struct app *app, char *err, size_t errlen);

#endif
