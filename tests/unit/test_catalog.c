/*
 * test_catalog.c: the pure checks behind the datastore forms (catalog.h):
 * names, Azure account and container names, keys and SAS tokens, local
 * directories as typed, secret hints, the picker's return link, ids, and
 * the allowed roots.  With LABELD_TEST_DB_SOCKET (a MariaDB, root without
 * password unless LABELD_TEST_DB_USER / _PASSWORD say otherwise) also the
 * built-in and the default datastore in a scratch database
 * labeld_unit_catalog, migrated from the repository's sql/.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "catalog.h"
#include "config.h"
#include "db.h"
#include "unit_db.h"

static char err[512];

#define NAME_OK(s) ck_assert_msg(catalog_name_check((s), strlen(s), err, sizeof(err)) == 0, \
	"name \"%s\" refused: %s", (s), err)
#define NAME_BAD(s, n) ck_assert_msg(catalog_name_check((s), (n), err, sizeof(err)) < 0 && err[0], \
	"name \"%s\" accepted", (s))

START_TEST(test_name)
{
	char long_name[512];

	NAME_OK("a");
	NAME_OK("Samples (2026)");
	NAME_OK("Ünïcödé 画像 <b>&\"'");
	NAME_BAD("", 0);
	NAME_BAD("tab\there", 8);
	NAME_BAD("nul\0byte", 8);            /* the length says more than strlen */
	NAME_BAD("del\x7f", 4);
	NAME_BAD("c1\xc2\x85", 4);           /* U+0085, a C1 control */
	NAME_BAD("bad\xff", 4);              /* not UTF-8 */
	NAME_BAD("over\xc0\xaflong", 10);    /* overlong '/' */
	NAME_BAD("surrogate\xed\xa0\x80", 12);
	NAME_BAD("trunc\xe2\x82", 7);

	/* 100 characters are fine, 101 are not; multi-byte ones count once. */
	memset(long_name, 'x', 100);
	long_name[100] = '\0';
	NAME_OK(long_name);
	long_name[100] = 'x';
	long_name[101] = '\0';
	NAME_BAD(long_name, 101);
	for (int i = 0; i < 100; i++)
		memcpy(long_name + i * 3, "\xe7\x94\xbb", 3);   /* 画 */
	long_name[300] = '\0';
	NAME_OK(long_name);
}
END_TEST

START_TEST(test_account)
{
	const char *good[] = { "abc", "devstoreaccount1", "a23456789012345678901234" };
	const char *bad[] = { "", "ab", "a234567890123456789012345", "Upper", "with-hyphen",
		"under_score", "sp ace", "üml" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(catalog_blob_account_check(good[i], err, sizeof(err)) == 0,
		    "account %s refused: %s", good[i], err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(catalog_blob_account_check(bad[i], err, sizeof(err)) < 0 && err[0],
		    "account \"%s\" accepted", bad[i]);
	ck_assert_int_lt(catalog_blob_account_check(NULL, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_container)
{
	char c63[64], c64[65];
	const char *good[] = { "abc", "samples", "my-images-2026", "a1b", "0-0" };
	const char *bad[] = { "", "ab", "-abc", "abc-", "a--b", "Samples", "a_b", "a.b",
		"a b", "$root" };

	memset(c63, 'a', 63);
	c63[63] = '\0';
	memset(c64, 'a', 64);
	c64[64] = '\0';
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(catalog_blob_container_check(good[i], err, sizeof(err)) == 0,
		    "container %s refused: %s", good[i], err);
	ck_assert_int_eq(catalog_blob_container_check(c63, err, sizeof(err)), 0);
	ck_assert_int_lt(catalog_blob_container_check(c64, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(catalog_blob_container_check(bad[i], err, sizeof(err)) < 0 && err[0],
		    "container \"%s\" accepted", bad[i]);
}
END_TEST

START_TEST(test_key)
{
	/* Azurite's documented development key. */
	const char *dev = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

	ck_assert_int_eq(catalog_blob_key_check(dev, strlen(dev), err, sizeof(err)), 0);
	ck_assert_int_eq(catalog_blob_key_check("QUJDREVGR0hJSktMTU5PUA==", 24, err, sizeof(err)), 0);
	ck_assert_int_lt(catalog_blob_key_check("", 0, err, sizeof(err)), 0);
	ck_assert_int_lt(catalog_blob_key_check("short", 5, err, sizeof(err)), 0);
	ck_assert_int_lt(catalog_blob_key_check("QUJDREVGR0hJSktMTU5PU", 22, err, sizeof(err)), 0);
	ck_assert_int_lt(catalog_blob_key_check("QUJDREVGR0hJSktM=U5PUA==", 24, err, sizeof(err)), 0);
	ck_assert_int_lt(catalog_blob_key_check("QUJDREVGR0hJSktMTU5P===", 23, err, sizeof(err)), 0);
	ck_assert_int_lt(catalog_blob_key_check("QUJDREVGR0hJSktMTU5PU!=", 24, err, sizeof(err)), 0);
	ck_assert_int_lt(catalog_blob_key_check("QUJDREVG\0hJSktMTU5PUA==", 24, err, sizeof(err)), 0);
	/* the message never repeats the key */
	ck_assert_ptr_null(strstr(err, "QUJD"));
}
END_TEST

START_TEST(test_sas)
{
	const char *good = "sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&sig=abc%2Bdef%3D";

	ck_assert_int_eq(catalog_blob_sas_check(good, strlen(good), err, sizeof(err)), 0);
	ck_assert_int_eq(catalog_blob_sas_check("sig=x", 5, err, sizeof(err)), 0);
	ck_assert_int_lt(catalog_blob_sas_check("", 0, err, sizeof(err)), 0);
	ck_assert_int_lt(catalog_blob_sas_check("sv=1&sp=rl", 10, err, sizeof(err)), 0);
	ck_assert_int_lt(catalog_blob_sas_check("sv=1&sig=", 9, err, sizeof(err)), 0);
	ck_assert_int_lt(catalog_blob_sas_check("xsig=abc", 8, err, sizeof(err)), 0);
	ck_assert_int_lt(catalog_blob_sas_check("sig=a b", 7, err, sizeof(err)), 0);
	ck_assert_int_lt(catalog_blob_sas_check("sig=a#b", 7, err, sizeof(err)), 0);
	ck_assert_int_lt(catalog_blob_sas_check("sig=a\nb", 7, err, sizeof(err)), 0);
	ck_assert_int_lt(catalog_blob_sas_check("sig=a\0b", 7, err, sizeof(err)), 0);
	ck_assert_ptr_null(strstr(err, "sig=a"));
}
END_TEST

#define DIR_OK(s) ck_assert_msg(catalog_local_dir_check((s), strlen(s), err, sizeof(err)) == 0, \
	"dir \"%s\" refused: %s", (s), err)
#define DIR_BAD(s, n) ck_assert_msg(catalog_local_dir_check((s), (n), err, sizeof(err)) < 0 && err[0], \
	"dir \"%s\" accepted", (s))

START_TEST(test_local_dir)
{
	char *huge = malloc(PATH_MAX + 2);

	DIR_OK("/");
	DIR_OK("/srv/images");
	DIR_OK("/srv/images/");
	DIR_OK("/srv/my images/2026");
	DIR_OK("/srv/..hidden/...");
	DIR_BAD("", 0);
	DIR_BAD("srv/images", 10);
	DIR_BAD("./images", 8);
	DIR_BAD("/srv/../etc", 11);
	DIR_BAD("/srv/images/..", 14);
	DIR_BAD("/..", 3);
	DIR_BAD("/srv/./images", 13);
	DIR_BAD("/srv/images/.", 13);
	DIR_BAD("/srv/\0/etc", 10);
	DIR_BAD("/srv/a\nb", 8);
	DIR_BAD("/srv/a\x7f", 7);
	ck_assert_ptr_nonnull(huge);
	huge[0] = '/';
	memset(huge + 1, 'a', PATH_MAX);
	huge[PATH_MAX + 1] = '\0';
	DIR_BAD(huge, strlen(huge));
	free(huge);
}
END_TEST

START_TEST(test_secret_hint)
{
	char out[32];

	catalog_secret_hint("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
	    out, sizeof(out));
	ck_assert_str_eq(out, "\xe2\x80\xa6" "Gw==");
	catalog_secret_hint("sig=0123456789abcdef", out, sizeof(out));
	ck_assert_str_eq(out, "\xe2\x80\xa6" "cdef");
	catalog_secret_hint("short-secret", out, sizeof(out));   /* 12: the last 4 shown */
	ck_assert_str_eq(out, "\xe2\x80\xa6" "cret");
	catalog_secret_hint("shortsecret", out, sizeof(out));    /* 11: nothing */
	ck_assert_str_eq(out, "");
	catalog_secret_hint(NULL, out, sizeof(out));
	ck_assert_str_eq(out, "");
	catalog_secret_hint("0123456789abcdef", out, 4);          /* truncated, terminated */
	ck_assert_uint_lt(strlen(out), 4);
}
END_TEST

START_TEST(test_pick)
{
	ck_assert_int_eq(catalog_pick_check("/projects/drafts/12/data"), 1);
	ck_assert_int_eq(catalog_pick_check("/projects/drafts/12/data-source_2"), 1);
	ck_assert_int_eq(catalog_pick_check(NULL), 0);
	ck_assert_int_eq(catalog_pick_check(""), 0);
	ck_assert_int_eq(catalog_pick_check("/projects/drafts/"), 0);
	ck_assert_int_eq(catalog_pick_check("/projects/drafts"), 0);
	ck_assert_int_eq(catalog_pick_check("https://evil.example/projects/drafts/1"), 0);
	ck_assert_int_eq(catalog_pick_check("//evil.example/projects/drafts/1"), 0);
	ck_assert_int_eq(catalog_pick_check("/projects/drafts//evil.example"), 0);
	ck_assert_int_eq(catalog_pick_check("/projects/drafts/1/../../admin"), 0);
	ck_assert_int_eq(catalog_pick_check("/projects/drafts/1/data?x=1"), 0);
	ck_assert_int_eq(catalog_pick_check("/projects/drafts/1/data#x"), 0);
	ck_assert_int_eq(catalog_pick_check("/projects/drafts/1/da\"ta"), 0);
	ck_assert_int_eq(catalog_pick_check("/projects/drafts/1/da\\ta"), 0);
	ck_assert_int_eq(catalog_pick_check("/admin/datastores"), 0);
	ck_assert_int_eq(catalog_pick_check("javascript:alert(1)"), 0);

	char long_pick[260] = "/projects/drafts/";
	memset(long_pick + 17, 'a', 200);
	long_pick[217] = '\0';
	ck_assert_int_eq(catalog_pick_check(long_pick), 0);
}
END_TEST

START_TEST(test_parse_id)
{
	ck_assert_int_eq(catalog_parse_id("1"), 1);
	ck_assert_int_eq(catalog_parse_id("000042"), 42);
	ck_assert_int_eq(catalog_parse_id("999999999999999999"), 999999999999999999LL);
	ck_assert_int_eq(catalog_parse_id("9999999999999999999"), 0);
	ck_assert_int_eq(catalog_parse_id("0"), 0);
	ck_assert_int_eq(catalog_parse_id(""), 0);
	ck_assert_int_eq(catalog_parse_id(NULL), 0);
	ck_assert_int_eq(catalog_parse_id("abc"), 0);
	ck_assert_int_eq(catalog_parse_id("-1"), 0);
	ck_assert_int_eq(catalog_parse_id("+1"), 0);
	ck_assert_int_eq(catalog_parse_id(" 1"), 0);
	ck_assert_int_eq(catalog_parse_id("1x"), 0);
	ck_assert_int_eq(catalog_parse_id("0x10"), 0);
}
END_TEST

START_TEST(test_roots)
{
	struct arena *a = arena_new();
	struct config c;

	ck_assert_ptr_nonnull(a);
	memset(&c, 0, sizeof(c));
	c.datastore_dir = (char *)"/var/lib/labeld/datastore";
	c.datastore_roots = (char *)"";
	ck_assert_str_eq(catalog_local_roots(a, &c), "/var/lib/labeld/datastore");
	c.datastore_roots = (char *)"/srv/a:/srv/b";
	ck_assert_str_eq(catalog_local_roots(a, &c), "/srv/a:/srv/b:/var/lib/labeld/datastore");
	c.datastore_roots = NULL;
	ck_assert_str_eq(catalog_local_roots(a, &c), "/var/lib/labeld/datastore");
	arena_free(a);
}
END_TEST

/* ------------------------------------------------------------ database */

#define CAT_DB "labeld_unit_catalog"

/* A fresh scratch database with every migration; the connection to it. */
static struct db *cat_db_fresh(void)
{
	return unit_db_fresh(CAT_DB);
}

/* The built-in datastore follows datastore_dir; it is made the default
 * only when no datastore is: an admin's choice (catalog_datastore_make_default)
 * survives every start, also one that moves the built-in store.  At most
 * one default and one built-in row, by the schema. */
START_TEST(test_default_kept)
{
	struct db *db = cat_db_fresh();
	struct arena *a = arena_new();
	struct config c;
	struct datastore ds;
	char tmpl[] = "/tmp/labeld-catalog-XXXXXX", *dir = mkdtemp(tmpl), *dir2, real[PATH_MAX];
	const char *blob;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(dir);
	dir2 = arena_printf(a, "%s/moved", dir);
	ck_assert_ptr_nonnull(realpath(dir, real));
	/* Only datastore_dir is read. */
	memset(&c, 0, sizeof(c));
	c.datastore_dir = dir;

	/* First start: the built-in store, the default too (there is none). */
	ck_assert_int_eq(catalog_default_datastore_ensure(db, a, &c), DB_OK);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT kind, local_path, is_builtin, is_default "
	    "FROM datastores"), arena_printf(a, "local %s 1 1", real));
	ck_assert_int_eq(catalog_datastore_builtin(db, a, &ds), DB_OK);
	ck_assert_int_eq(ds.id, 1);

	/* The admin makes an Azure Blob datastore the default. */
	unit_db_exec(db, "INSERT INTO datastores (id, name, kind, blob_endpoint, blob_account, "
	    "blob_container, blob_key) VALUES (7, 'cloud', 'azureblob', "
	    "'https://acct.blob.core.windows.net', 'acct', 'exports', 'QUJDREVGR0hJSktMTU5PUA==')");
	ck_assert_int_eq(catalog_datastore_make_default(db, a, 7), DB_OK);
	blob = "7 azureblob https://acct.blob.core.windows.net 1 0";
	ck_assert_str_eq(unit_db_row(db, a, "SELECT id, kind, blob_endpoint, is_default, is_builtin "
	    "FROM datastores WHERE is_default = 1"), blob);

	/* labeld starts again (the same directory, then another one): the
	 * built-in row is kept or moved, the default stays the admin's. */
	ck_assert_int_eq(catalog_default_datastore_ensure(db, a, &c), DB_OK);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT id, kind, blob_endpoint, is_default, is_builtin "
	    "FROM datastores WHERE is_default = 1"), blob);
	ck_assert_int_eq(mkdir(dir2, 0700), 0);
	c.datastore_dir = dir2;
	ck_assert_int_eq(catalog_default_datastore_ensure(db, a, &c), DB_OK);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT id, kind, blob_endpoint, is_default, is_builtin "
	    "FROM datastores WHERE is_default = 1"), blob);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT id, kind, local_path, is_default FROM datastores "
	    "WHERE is_builtin = 1"), arena_printf(a, "1 local %s/moved 0", real));
	ck_assert_str_eq(unit_db_row(db, a, "SELECT COUNT(*) FROM datastores"), "2");
	ck_assert_int_eq(catalog_datastore_default(db, a, &ds), DB_OK);
	ck_assert_int_eq(ds.id, 7);
	ck_assert_int_eq(ds.kind, DATASTORE_AZUREBLOB);
	ck_assert_int_eq(catalog_datastore_builtin(db, a, &ds), DB_OK);
	ck_assert_int_eq(ds.id, 1);

	/* Unknown ids; making the default the default again changes nothing. */
	ck_assert_int_eq(catalog_datastore_make_default(db, a, 999), CATALOG_NO_DATASTORE);
	ck_assert_int_eq(catalog_datastore_make_default(db, a, 0), CATALOG_NO_DATASTORE);
	ck_assert_int_eq(catalog_datastore_make_default(db, a, 7), DB_OK);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT GROUP_CONCAT(id) FROM datastores WHERE is_default = 1"), "7");

	/* The schema refuses a second default and a second built-in row. */
	ck_assert_int_eq(db_exec(db, 0, NULL, NULL, "UPDATE datastores SET is_default = 1 WHERE id = 1",
	    ""), DB_DUPLICATE);
	ck_assert_int_eq(db_exec(db, 0, NULL, NULL, "INSERT INTO datastores (name, kind, local_path, "
	    "is_builtin) VALUES ('second', 'local', '/tmp', 1)", ""), DB_DUPLICATE);

	/* No default at all (the admin's was removed): the built-in store is
	 * the default at the next start. */
	unit_db_exec(db, "DELETE FROM datastores WHERE id = 7");
	ck_assert_int_eq(catalog_default_datastore_ensure(db, a, &c), DB_OK);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT id, is_default, is_builtin FROM datastores"), "1 1 1");
	ck_assert_int_eq(catalog_datastore_make_default(db, a, 1), DB_OK);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT id, is_default FROM datastores"), "1 1");

	unit_db_exec(db, "DROP DATABASE " CAT_DB);
	rmdir(dir2);
	rmdir(dir);
	arena_free(a);
	db_free(db);
}
END_TEST

/* Upgrading: 014 makes the row that was the default (the one labeld kept
 * at datastore_dir) the built-in one, and of two default rows (nothing
 * stopped them before) the lowest id keeps the default. */
START_TEST(test_migration_014)
{
	struct db *db = cat_db_fresh();
	struct arena *a = arena_new();
	char tmpl[] = "/tmp/labeld-sql-XXXXXX", *dir = mkdtemp(tmpl);
	char *cmd;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(dir);
	/* A database as 013 left it: every migration before 014. */
	unit_db_exec(db, "DROP DATABASE " CAT_DB);
	unit_db_exec(db, "CREATE DATABASE " CAT_DB " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
	unit_db_exec(db, "USE " CAT_DB);
	cmd = arena_printf(a, "for f in '%s'/sql/0*.sql; do case $f in */01[4-9]_*|*/0[2-9]*) ;; "
	    "*) ln -s \"$f\" '%s'/ ;; esac; done", TEST_SRCDIR, dir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_msg(db_migrate(db, dir, err, sizeof(err)) == 0, "migrate to 013: %s", err);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT MAX(version) FROM schema_migrations"), "13");
	unit_db_exec(db, "INSERT INTO datastores (id, name, kind, local_path, is_default) VALUES "
	    "(3, 'default', 'local', '/srv/labeld', 1), (5, 'more', 'local', '/srv/more', 1), "
	    "(2, 'other', 'local', '/srv/other', 0)");
	ck_assert_msg(db_migrate(db, TEST_SRCDIR "/sql", err, sizeof(err)) == 0, "migrate: %s", err);
	err[0] = '\0';
	ck_assert_str_eq(unit_db_row(db, a, "SELECT GROUP_CONCAT(CONCAT(id, ':', is_default, is_builtin) "
	    "ORDER BY id) FROM datastores"), "2:00,3:11,5:00");

	unit_db_exec(db, "DROP DATABASE " CAT_DB);
	ck_assert_int_eq(system(arena_printf(a, "rm -rf '%s'", dir)), 0);
	arena_free(a);
	db_free(db);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("catalog");
	TCase *t = tcase_create("checks");
	const char *sock = getenv("LABELD_TEST_DB_SOCKET");

	tcase_add_test(t, test_name);
	tcase_add_test(t, test_account);
	tcase_add_test(t, test_container);
	tcase_add_test(t, test_key);
	tcase_add_test(t, test_sas);
	tcase_add_test(t, test_local_dir);
	tcase_add_test(t, test_secret_hint);
	tcase_add_test(t, test_pick);
	tcase_add_test(t, test_parse_id);
	tcase_add_test(t, test_roots);
	suite_add_tcase(s, t);
	if (sock != NULL && sock[0] != '\0' && db_library_init() == 0) {
		t = tcase_create("database");
		tcase_set_timeout(t, 60);
		tcase_add_test(t, test_default_kept);
		tcase_add_test(t, test_migration_014);
		suite_add_tcase(s, t);
	}
	return s;
}

#include "unit.h"
