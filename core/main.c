/*
 * main.c: labeld's command line.
 *
 *   labeld [-c FILE] [--check | --migrate | --create-admin EMAIL |
 *           --create-user EMAIL | --version | --help]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoconf.h"

#include "app.h"
#include "arena.h"
#include "auth.h"
#include "blob.h"
#include "catalog.h"
#include "datastore.h"
#include "image.h"
#include "projects_model.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "oidc.h"
#include "plugin.h"
#include "host.h"
#include "router.h"
#include "routes.h"
#include "server.h"
#include "tmpl.h"

#ifndef LABELD_SYSCONFDIR
#define LABELD_SYSCONFDIR "/usr/local/etc"
#endif

static void usage(FILE *f)
{
	fprintf(f,
	    "usage: labeld [-c FILE] [--check | --migrate | --create-admin EMAIL |\n"
	    "              --create-user EMAIL | --create-demo DIR | --routes | --version |\n"
	    "              --help]\n"
	    "\n"
	    "  -c, --config FILE    configuration file (default $LABELD_CONFIG or\n"
	    "                       " LABELD_SYSCONFDIR "/labeld.conf)\n"
	    "  --check              validate the configuration, templates and plugins\n"
	    "  --migrate            apply pending database migrations and exit\n"
	    "  --create-admin EMAIL create an admin; password from LABELD_ADMIN_PASSWORD\n"
	    "                       or the first line of standard input\n"
	    "  --create-user EMAIL  the same for a labeler without admin rights\n"
	    "  --create-demo DIR    create the demo project from the images in DIR\n"
	    "  --routes             print the route table: method, pattern and needs,\n"
	    "                       tab-separated, one route a line (docs/access.md)\n"
	    "  --version            print the version\n"
	    "\n"
	    "Every configuration key can be set by the environment: LABELD_<KEY>.\n");
}

static struct db *db_open_from(const struct config *c)
{
	struct db_config d = {
		.socket = c->db_socket, .host = c->db_host, .port = c->db_port,
		.user = c->db_user, .password = c->db_password, .name = c->db_name,
		.connect_timeout = c->db_connect_timeout, .rw_timeout = c->db_rw_timeout,
	};
	return db_new(&d);
}

/* Apply migrations: 0 done, 1 a migration failed, 2 no database. */
static int migrate(const struct config *c)
{
	char err[1024];
	struct db *db = db_open_from(c);
	int rc = 1;

	if (db == NULL)
		return 1;
	if (db_ensure(db) != DB_OK) {
		fprintf(stderr, "labeld: cannot connect to MariaDB: %s\n", db_errmsg(db));
		rc = 2;
	} else if (db_migrate(db, c->sql_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
	} else {
		/* The built-in datastore follows datastore_dir from the config. */
		struct arena *a = arena_new();
		if (a != NULL && catalog_default_datastore_ensure(db, a, c) == DB_OK)
			rc = 0;
		else
			fprintf(stderr, "labeld: cannot set up the built-in datastore %s\n", c->datastore_dir);
		arena_free(a);
	}
	db_free(db);
	return rc;
}

/* Read the new user's password: the environment, else one line of stdin. */
static char *read_password(void)
{
	const char *env = getenv("LABELD_ADMIN_PASSWORD");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (env != NULL && env[0] != '\0')
		return strdup(env);
	n = getline(&line, &cap, stdin);
	if (n <= 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

static int create_user(const struct config *c, const char *email, int admin)
{
	struct arena *a;
	struct db *db;
	char *password;
	long long id = 0;
	int rc;

	if (migrate(c) != 0)
		return 1;
	password = read_password();
	if (password == NULL || strlen(password) < 8) {
		fprintf(stderr, "labeld: the password must have at least 8 characters "
		    "(LABELD_ADMIN_PASSWORD or standard input)\n");
		free(password);
		return 1;
	}
	a = arena_new();
	db = db_open_from(c);
	if (a == NULL || db == NULL || db_ensure(db) != DB_OK) {
		fprintf(stderr, "labeld: cannot connect to MariaDB\n");
		free(password);
		db_free(db);
		arena_free(a);
		return 1;
	}
	if (auth_email_normalize(a, email) == NULL) {
		fprintf(stderr, "labeld: '%s' is not an email address\n", email);
		rc = 1;
	} else {
		rc = auth_user_create(db, a, email, "", password, admin, c->password_cost, &id);
		if (rc == DB_OK) {
			printf("created %s %s (id %lld)\n", admin ? "admin" : "user",
			    auth_email_normalize(a, email), id);
			rc = 0;
		} else if (rc == DB_DUPLICATE) {
			fprintf(stderr, "labeld: %s exists already; nothing changed\n", email);
			rc = 3;
		} else {
			fprintf(stderr, "labeld: could not create %s: %s\n", email, db_errmsg(db));
			rc = 1;
		}
	}
	explicit_bzero(password, strlen(password));
	free(password);
	db_free(db);
	arena_free(a);
	return rc;
}

#define DEMO_PROJECT "Demo: objects in photos"
#define DEMO_DATASET "Demo photos"

/* Copy one file into the datastore folder open on dirfd (never replacing,
 * never following a symlink).  0, or -1 with a message on stderr. */
static int demo_copy(const char *srcdir, const char *name, int dirfd)
{
	char path[4096], buf[65536];
	int in, out, rc = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", srcdir, name);
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		fprintf(stderr, "labeld: %s: %s\n", path, strerror(errno));
		return -1;
	}
	out = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (out < 0) {
		close(in);
		if (errno == EEXIST)
			return 0;   /* copied by an earlier, interrupted run */
		fprintf(stderr, "labeld: cannot create demo/%s: %s\n", name, strerror(errno));
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			rc = -1;
			break;
		}
	if (n < 0 || close(out) < 0)
		rc = -1;
	close(in);
	if (rc < 0)
		fprintf(stderr, "labeld: copying %s failed\n", path);
	return rc;
}

/* --create-demo DIR: the images of DIR (not its subfolders) go to the
 * built-in datastore's demo/ folder; a dataset and an object-detection
 * project with four label classes are created and initialised by the job
 * thread of a running labeld.  Exit 0 created, 3 when the demo project
 * exists already, 1 on errors. */
static int create_demo(const struct config *c, const char *dir)
{
	static const char *const labels[] = { "person", "animal", "vehicle", "object" };
	struct arena *a = NULL;
	struct db *db = NULL;
	struct db_result *res;
	struct datastore ds;
	long long dataset_id = 0, project_id = 0, admin = 0;
	char err[512], folder[4200];
	DIR *d = NULL;
	struct dirent *e;
	int dirfd = -1, copied = 0, rc = 1;

	if (migrate(c) != 0)
		return 1;
	a = arena_new();
	db = db_open_from(c);
	if (a == NULL || db == NULL || db_ensure(db) != DB_OK) {
		fprintf(stderr, "labeld: cannot connect to MariaDB\n");
		goto out;
	}
	if (db_query(db, a, &res, "SELECT id FROM projects WHERE name = ?", "s", DEMO_PROJECT) != DB_OK)
		goto out;
	if (res->nrows > 0) {
		fprintf(stderr, "labeld: the demo project exists already; nothing changed\n");
		rc = 3;
		goto out;
	}
	if (catalog_datastore_builtin(db, a, &ds) != DB_OK || ds.id == 0) {
		fprintf(stderr, "labeld: the built-in datastore is missing\n");
		goto out;
	}
	if (datastore_local_mkdirs(ds.local_path, "demo", err, sizeof(err)) < 0) {
		fprintf(stderr, "labeld: %s\n", err);
		goto out;
	}
	snprintf(folder, sizeof(folder), "%s/demo", ds.local_path);
	dirfd = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	d = opendir(dir);
	if (dirfd < 0 || d == NULL) {
		fprintf(stderr, "labeld: cannot open %s: %s\n", d == NULL ? dir : folder, strerror(errno));
		goto out;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || image_format_from_name(e->d_name) == IMAGE_UNKNOWN)
			continue;
		if (demo_copy(dir, e->d_name, dirfd) < 0)
			goto out;
		copied++;
	}
	if (copied == 0) {
		fprintf(stderr, "labeld: no images in %s\n", dir);
		goto out;
	}
	/* Credit the first admin, if there is one. */
	if (db_query(db, a, &res, "SELECT id FROM users WHERE is_admin = 1 ORDER BY id LIMIT 1", NULL) != DB_OK)
		goto out;
	if (res->nrows > 0)
		admin = db_int(res, 0, 0);
	/* Dataset and project in one transaction: all or nothing. */
	if (db_begin(db) != DB_OK)
		goto out;
	if (db_query(db, a, &res, "SELECT id FROM datasets WHERE name = ?", "s", DEMO_DATASET) != DB_OK)
		goto rollback;
	if (res->nrows > 0)
		dataset_id = db_int(res, 0, 0);
	else if (catalog_dataset_create(db, DEMO_DATASET,
	    "Sample photographs shipped with labeld (public domain or CC0; see LICENSES.txt).",
	    ds.id, "demo", 0, "upload", admin, &dataset_id) != DB_OK)
		goto rollback;
	if (project_create(db, a, DEMO_PROJECT, "bbox", dataset_id,
	    "A small object-detection project to try labeld with: draw a box around each "
	    "person, animal, vehicle or other object.", "", labels, 4, admin, &project_id) != DB_OK)
		goto rollback;
	if (db_commit(db) != DB_OK)
		goto out;
	printf("created the demo project \"%s\" (id %lld) with %d images\n", DEMO_PROJECT, project_id, copied);
	rc = 0;
	goto out;
rollback:
	fprintf(stderr, "labeld: creating the demo failed: %s\n", db_errmsg(db));
	db_rollback(db);
out:
	if (d != NULL)
		closedir(d);
	if (dirfd >= 0)
		close(dirfd);
	db_free(db);
	arena_free(a);
	return rc;
}

/* --check: configuration (already loaded), templates and plugins. */
static int check(struct config *cfg)
{
	struct labeld_host host;
	struct runtime *rt;
	char err[1024];
	size_t refused;

	if (blob_policy_set(cfg->blob_allow_hosts, (long)cfg->blob_connect_timeout * 1000,
	    err, sizeof(err)) < 0 || oidc_config_check(cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", cfg->path ? cfg->path : "labeld", err);
		return 1;
	}
	host_init(&host, cfg);
	rt = runtime_load(cfg, &host, err, sizeof(err));
	if (rt == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	refused = plugin_set_refused(rt->plugins);
	printf("configuration %s: ok\ntemplates %s: ok\nplugins %s: %zu loaded, %zu refused\n",
	    cfg->path ? cfg->path : "(defaults)", cfg->templates_dir, cfg->plugins_dir,
	    rt->plugins->n - refused, refused);
	for (size_t i = 0; i < rt->plugins->n; i++)
		if (rt->plugins->v[i].error != NULL)
			fprintf(stderr, "%s/%s: refused: %s\n", cfg->plugins_dir,
			    rt->plugins->v[i].file, rt->plugins->v[i].error);
	rt->refs = 1;
	tmpl_set_free(rt->tmpl);
	plugin_set_free(rt->plugins);
	free(rt);
	return refused > 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	enum { OPT_CHECK = 256, OPT_MIGRATE, OPT_ADMIN, OPT_USER, OPT_DEMO, OPT_VERSION, OPT_ROUTES };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "migrate", no_argument, NULL, OPT_MIGRATE },
		{ "create-admin", required_argument, NULL, OPT_ADMIN },
		{ "create-user", required_argument, NULL, OPT_USER },
		{ "create-demo", required_argument, NULL, OPT_DEMO },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "routes", no_argument, NULL, OPT_ROUTES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = getenv("LABELD_CONFIG"), *arg = NULL;
	int mode = 0, must_exist = conf_path != NULL, opt, rc;
	struct config cfg;
	struct app app;
	char err[1024];

	/* Every request allocates and frees much the same memory: keep freed
	 * memory in the process rather than handing it back to the kernel
	 * (and faulting it in again) request after request. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	/* No fastbins (the per-thread tcache still serves small blocks):
	 * with them, every allocation of a kilobyte or more (libfcgi's stream
	 * buffers, result sets) first sweeps them all back together, and that
	 * sweep showed as 5 % of labeld's time on the labeling page. */
	mallopt(M_MXFAST, 0);

	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; must_exist = 1; break;
		case OPT_CHECK: case OPT_MIGRATE: mode = opt; break;
		case OPT_ADMIN: case OPT_USER: case OPT_DEMO: mode = opt; arg = optarg; break;
		case OPT_VERSION: printf("labeld %s (plugin ABI %u.%u)\n", PACKAGE_VERSION,
		    LABELD_PLUGIN_ABI_MAJOR, LABELD_PLUGIN_ABI_MINOR); return 0;
		case OPT_ROUTES: router_print(routes, routes_count, stdout);
		    return fflush(stdout) == 0 ? 0 : 1;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (conf_path == NULL)
		conf_path = LABELD_SYSCONFDIR "/labeld.conf";

	config_defaults(&cfg);
	if (config_load(&cfg, conf_path, must_exist, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		config_free(&cfg);
		return 1;
	}
	log_set_level((enum log_level)log_level_parse(cfg.log_level));

	if (mode == OPT_CHECK) {
		rc = check(&cfg);
		config_free(&cfg);
		return rc;
	}
	if (db_library_init() != 0 || blob_global_init() != 0) {
		fprintf(stderr, "labeld: cannot initialise the MariaDB or curl client library\n");
		config_free(&cfg);
		return 1;
	}
	/* Where Azure Blob requests (and those to OpenID Connect providers)
	 * may go (docs/azure-blob.md); the providers' cache. */
	if (blob_policy_set(cfg.blob_allow_hosts, (long)cfg.blob_connect_timeout * 1000,
	    err, sizeof(err)) < 0 || oidc_config_check(&cfg, err, sizeof(err)) < 0 ||
	    oidc_global_init() != 0) {
		fprintf(stderr, "%s: %s\n", cfg.path ? cfg.path : "labeld", err);
		config_free(&cfg);
		db_library_end();
		return 1;
	}
	datastore_sink_block_size(cfg.blob_block_size);
	if (mode == OPT_MIGRATE || mode == OPT_ADMIN || mode == OPT_USER || mode == OPT_DEMO) {
		rc = mode == OPT_MIGRATE ? migrate(&cfg) :
		    mode == OPT_DEMO ? create_demo(&cfg, arg) :
		    create_user(&cfg, arg, mode == OPT_ADMIN);
		config_free(&cfg);
		oidc_global_free();
		db_library_end();
		return rc;
	}

	if (cfg.migrate) {
		rc = migrate(&cfg);
		if (rc == 1) {
			/* A broken migration must stop us: the schema is unknown. */
			config_free(&cfg);
			db_library_end();
			return 1;
		}
		/* No database yet: pages answer 503 until it is back; the
		 * migrations run at the next start (docs/database.md). */
		if (rc == 2)
			log_warn("MariaDB unreachable at start-up: migrations not checked");
	}
	if (app_init(&app, &cfg, err, sizeof(err)) < 0) {
		log_error("%s", err);
		db_library_end();
		return 1;
	}
	rc = server_run(&app);
	app_cleanup(&app);
	oidc_global_free();
	db_library_end();
	return rc;
}
