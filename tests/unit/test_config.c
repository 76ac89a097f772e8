/* Unit tests: the configuration file, environment overrides, validation. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "oidc.h"

static char *write_conf(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/labeld-conf-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

START_TEST(defaults_match_example_file)
{
	/* The shipped example documents every key with its default: loading
	 * it must change nothing. */
	struct config d, e;
	char err[512];
	config_defaults(&d);
	config_defaults(&e);
	ck_assert_int_eq(config_load(&e, TEST_SRCDIR "/conf/labeld.conf.example", 1, err, sizeof(err)), 0);
	ck_assert_uint_eq(d.workers, e.workers);
	ck_assert_uint_eq(d.max_body_size, e.max_body_size);
	ck_assert_uint_eq(d.session_idle_timeout, e.session_idle_timeout);
	ck_assert_uint_eq(d.session_lifetime, e.session_lifetime);
	ck_assert_uint_eq(d.socket_mode, e.socket_mode);
	ck_assert_uint_eq(d.login_max_failures_account, e.login_max_failures_account);
	ck_assert_uint_eq(d.login_account_backoff, e.login_account_backoff);
	ck_assert_uint_eq(d.cleanup_interval, e.cleanup_interval);
	ck_assert_str_eq(d.public_url, e.public_url);
	ck_assert_str_eq(d.blob_allow_hosts, e.blob_allow_hosts);
	ck_assert_uint_eq(d.blob_max_fetches, e.blob_max_fetches);
	ck_assert_uint_eq(d.blob_connect_timeout, e.blob_connect_timeout);
	ck_assert_uint_eq(d.max_dataset_files, e.max_dataset_files);
	ck_assert_uint_eq(d.job_takeover_seconds, e.job_takeover_seconds);
	ck_assert_str_eq(d.socket, e.socket);
	ck_assert_str_eq(d.db_name, e.db_name);
	config_free(&d);
	config_free(&e);
}
END_TEST

START_TEST(file_values_and_errors_with_line)
{
	struct config c;
	char err[512];
	char *p = write_conf("# comment\n\nworkers = 3\nmax_body_size = 2m\nsocket_mode=0600\n"
	    "migrate = off\nplugin.bbox.min_box = 4\n");
	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, 1, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.workers, 3);
	ck_assert_uint_eq(c.max_body_size, 2u << 20);
	ck_assert_uint_eq(c.socket_mode, 0600);
	ck_assert_int_eq(c.migrate, 0);
	ck_assert_str_eq(config_get_extra(&c, "plugin.bbox.min_box"), "4");
	ck_assert_ptr_null(config_get_extra(&c, "plugin.bbox.other"));
	config_free(&c);
	unlink(p);

	p = write_conf("workers = 2\n\nworkers = lots\n");
	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, 1, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":3: workers") != NULL, "%s", err);
	config_free(&c);
	unlink(p);

	p = write_conf("no_such_key = 1\n");
	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, 1, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":1: unknown key 'no_such_key'") != NULL, "%s", err);
	config_free(&c);
	unlink(p);

	p = write_conf("just words\n");
	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, 1, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":1: expected") != NULL, "%s", err);
	config_free(&c);
	unlink(p);

	p = write_conf("session_idle_timeout = 100\nsession_lifetime = 50\n");
	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, 1, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "session_lifetime") != NULL, "%s", err);
	config_free(&c);
	unlink(p);
}
END_TEST

START_TEST(environment_wins)
{
	struct config c;
	char err[512];
	char *p = write_conf("workers = 3\ndb_name = fromfile\n");
	setenv("LABELD_WORKERS", "5", 1);
	setenv("LABELD_DB_NAME", "fromenv", 1);
	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, 1, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.workers, 5);
	ck_assert_str_eq(c.db_name, "fromenv");
	config_free(&c);
	setenv("LABELD_WORKERS", "0", 1);
	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, 1, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "LABELD_WORKERS") != NULL, "%s", err);
	config_free(&c);
	unsetenv("LABELD_WORKERS");
	unsetenv("LABELD_DB_NAME");
	unlink(p);
}
END_TEST

START_TEST(missing_file)
{
	struct config c;
	char err[512];
	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, "/nonexistent/labeld.conf", 0, err, sizeof(err)), 0);
	config_free(&c);
	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, "/nonexistent/labeld.conf", 1, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot open"));
	config_free(&c);
}
END_TEST

START_TEST(sizes)
{
	size_t z;
	ck_assert_int_eq(config_parse_size("10", &z), 0);
	ck_assert_uint_eq(z, 10);
	ck_assert_int_eq(config_parse_size("4k", &z), 0);
	ck_assert_uint_eq(z, 4096);
	ck_assert_int_eq(config_parse_size("1G", &z), 0);
	ck_assert_uint_eq(z, 1u << 30);
	ck_assert_int_eq(config_parse_size("", &z), -1);
	ck_assert_int_eq(config_parse_size("-1", &z), -1);
	ck_assert_int_eq(config_parse_size("5x", &z), -1);
	ck_assert_int_eq(config_parse_size("5mb", &z), -1);
	ck_assert_int_eq(config_parse_size("99999999999999999999", &z), -1);
}
END_TEST

START_TEST(public_url_checked)
{
	static const char *const good[] = { "https://labels.example.com", "https://h:8443/",
	    "http://127.0.0.1:8080", "" };
	static const char *const bad[] = { "labels.example.com", "https://", "ftp://x",
	    "https://h/labeld", "https://user@h", "https://h?x=1", "https:// h" };
	struct config c;
	char err[512];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		config_defaults(&c);
		ck_assert_int_eq(config_set(&c, "public_url", good[i], err, sizeof(err)), 0);
		ck_assert_msg(config_load(&c, NULL, 0, err, sizeof(err)) == 0, "%s: %s", good[i], err);
		config_free(&c);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_defaults(&c);
		ck_assert_int_eq(config_set(&c, "public_url", bad[i], err, sizeof(err)), 0);
		ck_assert_msg(config_load(&c, NULL, 0, err, sizeof(err)) == -1, "%s accepted", bad[i]);
		ck_assert_ptr_nonnull(strstr(err, "public_url"));
		config_free(&c);
	}
}
END_TEST

START_TEST(oidc_providers)
{
	struct config c;
	char err[512], *p, *sp, text[1024];
	const struct oidc_provider *o;

	/* A secret file: its first line, without the line break. */
	sp = strdup(write_conf("s3cret-from-file\nsecond line\n"));
	snprintf(text, sizeof(text),
	    "oidc_flow_seconds = 300\n"
	    "oidc.entra.issuer = https://login.microsoftonline.com/organizations/v2.0\n"
	    "oidc.entra.client_id = abc\n"
	    "oidc.entra.client_secret_file = %s\n"
	    "oidc.entra.display_name = Microsoft\n"
	    "oidc.entra.tenants = t1, t2 ,,t3\n"
	    "oidc.test_2.issuer = http://127.0.0.1:9000\n"
	    "oidc.test_2.client_id = labeld\n"
	    "oidc.test_2.client_secret = plain\n", sp);
	p = write_conf(text);
	config_defaults(&c);
	ck_assert_uint_eq(c.oidc_cache_seconds, 3600);
	ck_assert_uint_eq(c.oidc_clock_skew, 120);
	ck_assert_msg(config_load(&c, p, 1, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(c.oidc_flow_seconds, 300);
	ck_assert_uint_eq(c.noidc, 2);
	o = &c.oidc[0];
	ck_assert_str_eq(o->name, "entra");
	ck_assert_str_eq(o->client_secret, "s3cret-from-file");
	ck_assert_str_eq(o->display_name, "Microsoft");
	ck_assert_str_eq(o->scopes, "openid email profile");
	ck_assert_ptr_nonnull(o->tenants);
	ck_assert_str_eq(o->tenants[0], "t1");
	ck_assert_str_eq(o->tenants[1], "t2");
	ck_assert_str_eq(o->tenants[2], "t3");
	ck_assert_ptr_null(o->tenants[3]);
	o = &c.oidc[1];
	ck_assert_str_eq(o->name, "test_2");
	ck_assert_str_eq(o->display_name, "test_2");
	ck_assert_str_eq(o->client_secret, "plain");
	ck_assert_ptr_null(o->tenants);
	config_free(&c);
	unlink(p);

	/* Errors, with the line of the key or of the provider's first key. */
	static const struct { const char *text, *want; } bad[] = {
		{ "oidc.Entra.issuer = https://x\n", ":1: 'oidc.Entra.issuer'" },
		{ "oidc.a.issuer = https://x\noidc.a.colour = red\n", ":2: unknown key 'oidc.a.colour'" },
		{ "oidc.issuer = https://x\n", ":1: 'oidc.issuer'" },
		{ "oidc.abcdefghijabcdefghijabcdefghijabc.issuer = https://x\n", ":1: 'oidc.abc" },
		{ "workers = 2\noidc.a.issuer = https://x\noidc.a.client_secret = s\n",
		  ":2: oidc.a: client_id is missing" },
		{ "oidc.a.client_id = c\noidc.a.client_secret = s\n", ":1: oidc.a: issuer is missing" },
		{ "oidc.a.issuer = https://x\noidc.a.client_id = c\n",
		  ":1: oidc.a: client_secret or client_secret_file is missing" },
		{ "oidc.a.client_secret = s\noidc.a.client_secret_file = /etc/hostname\n",
		  ":2: oidc.a: set client_secret or client_secret_file, not both" },
		{ "oidc.a.client_secret_file = /nonexistent/secret\n",
		  ":1: oidc.a.client_secret_file: cannot open /nonexistent/secret" },
		{ "oidc.a.issuer = ftp://x\noidc.a.client_id = c\noidc.a.client_secret = s\n",
		  ":1: oidc.a.issuer must be an https:// URL" },
		{ "oidc.a.issuer = https://x/?p=1\noidc.a.client_id = c\noidc.a.client_secret = s\n",
		  ":1: oidc.a.issuer must not have a query" },
		{ "oidc.a.issuer = https://u@x/\noidc.a.client_id = c\noidc.a.client_secret = s\n",
		  ":1: oidc.a.issuer must name a host" },
		{ "oidc.a.issuer = https://x\noidc.a.client_id = c\noidc.a.client_secret = s\n"
		  "oidc.a.scopes = email\n", ":1: oidc.a: scopes must include openid" },
		{ "oidc.a.tenants = a b\n", ":1: a tenant id" },
		{ "oidc_clock_skew = 601\n", ":1: oidc_clock_skew" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = write_conf(bad[i].text);
		config_defaults(&c);
		ck_assert_msg(config_load(&c, p, 1, err, sizeof(err)) == -1, "accepted: %s", bad[i].text);
		ck_assert_msg(strstr(err, bad[i].want) != NULL, "%s: got %s", bad[i].want, err);
		config_free(&c);
		unlink(p);
	}
	/* No environment variables for providers; config_set works (line 0). */
	config_defaults(&c);
	ck_assert_int_eq(config_set(&c, "oidc.x.issuer", "https://id.example.com", err, sizeof(err)), 0);
	ck_assert_int_eq(config_set(&c, "oidc.x.client_id", "c", err, sizeof(err)), 0);
	ck_assert_int_eq(config_load(&c, NULL, 0, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "config: oidc.x: client_secret") != NULL, "%s", err);
	config_free(&c);
	unlink(sp);
	free(sp);
}
END_TEST

/* The default as written in a document: prefix is how that document
 * spells the install prefix ("PREFIX" or "/usr/local").  Path defaults are
 * compared after the prefix (the build's prefix is not the document's). */
static int default_matches(const char *doc, const char *def, const char *prefix)
{
	size_t np = strlen(prefix);

	if (strncmp(doc, prefix, np) == 0 && doc[np] == '/') {
		size_t nd = strlen(def), nrest = strlen(doc + np);
		return nd >= nrest && strcmp(def + nd - nrest, doc + np) == 0;
	}
	return strcmp(doc, def) == 0;
}

/* The index of key in the config table, or -1. */
static long table_index(const char *key)
{
	const char *name;

	for (size_t i = 0; (name = config_key_at(i, NULL)) != NULL; i++)
		if (strcmp(name, key) == 0)
			return (long)i;
	return -1;
}

static size_t table_size(void)
{
	size_t n = 0;

	while (config_key_at(n, NULL) != NULL)
		n++;
	return n;
}

START_TEST(docs_list_exactly_the_table_keys)
{
	/* The table in core/config.c is the truth; docs/operations.md's
	 * reference and conf/labeld.conf.example each list every key of it
	 * once, with its default, and no other key. */
	size_t n = table_size();
	unsigned *seen = calloc(n, sizeof(*seen));
	char line[1024];
	int in_ref = 0, plugin_row = 0, oidc_rows = 0;
	FILE *f = fopen(TEST_SRCDIR "/docs/operations.md", "r");

	ck_assert_ptr_nonnull(seen);
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char key[128], def[256], *p, *q;
		const char *tdef;
		long i;
		if (strncmp(line, "## ", 3) == 0)
			in_ref = strcmp(line, "## Configuration reference\n") == 0;
		if (!in_ref || strncmp(line, "| `", 3) != 0)
			continue;
		p = line + 3;
		q = strchr(p, '`');
		ck_assert_ptr_nonnull(q);
		snprintf(key, sizeof(key), "%.*s", (int)(q - p), p);
		if (strncmp(key, "plugin.", 7) == 0) {
			plugin_row = 1;
			continue;
		}
		if (strncmp(key, "oidc.<name>.", 12) == 0) {
			oidc_rows++;
			continue;
		}
		i = table_index(key);
		ck_assert_msg(i >= 0, "docs/operations.md lists '%s', which is not a key", key);
		seen[i]++;
		/* The default column: `value` or (empty). */
		p = strchr(q, '|');
		ck_assert_ptr_nonnull(p);
		p++;
		while (*p == ' ')
			p++;
		q = strchr(p, '|');
		ck_assert_ptr_nonnull(q);
		while (q > p && q[-1] == ' ')
			q--;
		snprintf(def, sizeof(def), "%.*s", (int)(q - p), p);
		config_key_at((size_t)i, &tdef);
		if (tdef[0] == '\0') {
			ck_assert_msg(strcmp(def, "(empty)") == 0, "docs/operations.md: %s default %s, want (empty)",
			    key, def);
		} else {
			size_t nd = strlen(def);
			ck_assert_msg(nd >= 2 && def[0] == '`' && def[nd - 1] == '`', "docs/operations.md: %s default %s",
			    key, def);
			def[nd - 1] = '\0';
			ck_assert_msg(default_matches(def + 1, tdef, "PREFIX"),
			    "docs/operations.md: %s default %s, the table says %s", key, def + 1, tdef);
		}
	}
	fclose(f);
	ck_assert_msg(plugin_row, "docs/operations.md does not describe plugin.<name>.* keys");
	ck_assert_msg(oidc_rows == 7, "docs/operations.md describes %d oidc.<name>.* keys, not 7", oidc_rows);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(seen[i] == 1, "docs/operations.md lists %s %u times", config_key_at(i, NULL), seen[i]);

	memset(seen, 0, n * sizeof(*seen));
	f = fopen(TEST_SRCDIR "/conf/labeld.conf.example", "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *eq = strchr(line, '='), *v, *e;
		const char *tdef;
		long i;
		if (line[0] == '#' || line[0] == '\n' || eq == NULL)
			continue;
		e = eq;
		while (e > line && e[-1] == ' ')
			e--;
		*e = '\0';
		i = table_index(line);
		ck_assert_msg(i >= 0, "conf/labeld.conf.example sets '%s', which is not a key", line);
		seen[i]++;
		v = eq + 1;
		while (*v == ' ')
			v++;
		v[strcspn(v, "\n")] = '\0';
		config_key_at((size_t)i, &tdef);
		ck_assert_msg(default_matches(v, tdef, "/usr/local"),
		    "conf/labeld.conf.example: %s = %s, the table says %s", line, v, tdef);
	}
	fclose(f);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(seen[i] == 1, "conf/labeld.conf.example sets %s %u times", config_key_at(i, NULL), seen[i]);
	free(seen);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("config");
	TCase *t = tcase_create("config");
	tcase_add_test(t, defaults_match_example_file);
	tcase_add_test(t, public_url_checked);
	tcase_add_test(t, file_values_and_errors_with_line);
	tcase_add_test(t, environment_wins);
	tcase_add_test(t, missing_file);
	tcase_add_test(t, sizes);
	tcase_add_test(t, docs_list_exactly_the_table_keys);
	tcase_add_test(t, oidc_providers);
	suite_add_tcase(s, t);
	return s;
}

#include "unit.h"
