/* Unit tests: core/export_store.c on a local datastore: the file appears
 * under its name only when whole (a hidden temporary file until then, none
 * after an abort), stale temporary files of the same export are removed,
 * the folders are made 0755 and never reached through a symlink, and the
 * delete and stream functions.  (Blob stores: tests/integration/
 * t_export_job.c against Azurite; a full disk: the same file, on a tmpfs.) */
#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "datastore.h"
#include "export.h"

static char root[64], outside[64];
static struct datastore ds;

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/labeld-exp-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(outside, sizeof(outside), "/tmp/labeld-expout-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(outside));
	memset(&ds, 0, sizeof(ds));
	ds.id = 1;
	ds.name = "local";
	ds.kind = DATASTORE_LOCAL;
	ds.local_path = root;
}

static void teardown(void)
{
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", root, outside);
	ck_assert_int_eq(system(cmd), 0);
}

/* How many entries of dir/rel start with prefix. */
static int count_prefix(const char *dir, const char *rel, const char *prefix)
{
	char p[PATH_MAX];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	d = opendir(p);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static long file_size(const char *dir, const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

START_TEST(commit_whole_file)
{
	struct arena *a = arena_new();
	char err[256] = "", p[PATH_MAX];
	char *path = export_file_path(a, "coco", 7, 42, "json");
	struct export_store *st;
	static unsigned char chunk[300001];
	unsigned long long sum = 0;
	struct stat sb;

	ck_assert_str_eq(path, "exports/coco/7-42.json");
	st = export_store_open(&ds, path, "application/json", err, sizeof(err));
	ck_assert_msg(st != NULL, "%s", err);
	for (int i = 0; i < 9; i++) {
		memset(chunk, 'a' + i, sizeof(chunk));
		ck_assert_int_eq(export_store_write(st, chunk, sizeof(chunk) - (size_t)i), 0);
		sum += sizeof(chunk) - (size_t)i;
	}
	/* More than a buffer was written, but only to the temporary file. */
	ck_assert_int_eq(file_size(root, path), -1);
	ck_assert_int_eq(count_prefix(root, "exports/coco", ".7-42.json."), 1);
	ck_assert_uint_eq(export_store_bytes(st), sum);
	ck_assert_int_eq(export_store_commit(st, err, sizeof(err)), 0);
	export_store_abort(st);   /* after a commit: only frees */
	ck_assert_int_eq(file_size(root, path), (long)sum);
	ck_assert_int_eq(count_prefix(root, "exports/coco", "."), 2);   /* . and .. only */
	snprintf(p, sizeof(p), "%s/exports/coco", root);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0755);
	arena_free(a);
}
END_TEST

START_TEST(abort_leaves_nothing)
{
	char err[256] = "";
	struct export_store *st = export_store_open(&ds, "exports/coco/1-2.json", "", err, sizeof(err));

	ck_assert_msg(st != NULL, "%s", err);
	ck_assert_int_eq(export_store_write(st, "{\"images\": [", 12), 0);
	export_store_abort(st);
	ck_assert_int_eq(file_size(root, "exports/coco/1-2.json"), -1);
	ck_assert_int_eq(count_prefix(root, "exports/coco", ".1-2."), 0);
}
END_TEST

START_TEST(stale_temporaries_removed)
{
	char err[256] = "", p[PATH_MAX];
	struct export_store *st;
	FILE *f;

	snprintf(p, sizeof(p), "%s/exports", root);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/exports/tsv", root);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	/* Of this export (a run that died), and of another export. */
	snprintf(p, sizeof(p), "%s/exports/tsv/.3-4.tsv.deadbeef.part", root);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fclose(f);
	snprintf(p, sizeof(p), "%s/exports/tsv/.3-40.tsv.deadbeef.part", root);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fclose(f);
	st = export_store_open(&ds, "exports/tsv/3-4.tsv", "", err, sizeof(err));
	ck_assert_msg(st != NULL, "%s", err);
	ck_assert_int_eq(file_size(root, "exports/tsv/.3-4.tsv.deadbeef.part"), -1);
	ck_assert_int_eq(file_size(root, "exports/tsv/.3-40.tsv.deadbeef.part"), 0);
	ck_assert_int_eq(export_store_commit(st, err, sizeof(err)), 0);
	export_store_abort(st);
	ck_assert_int_eq(file_size(root, "exports/tsv/3-4.tsv"), 0);   /* an empty export */
	/* Delete: the file and this export's temporaries; missing is fine. */
	ck_assert_int_eq(export_file_delete(&ds, "exports/tsv/3-4.tsv", err, sizeof(err)), 0);
	ck_assert_int_eq(file_size(root, "exports/tsv/3-4.tsv"), -1);
	ck_assert_int_eq(export_file_delete(&ds, "exports/tsv/3-4.tsv", err, sizeof(err)), 0);
	ck_assert_int_eq(export_file_delete(&ds, "exports/none/3-4.tsv", err, sizeof(err)), 0);
}
END_TEST

START_TEST(symlinked_folder_refused)
{
	char err[256] = "", p[PATH_MAX];
	struct export_store *st;

	/* exports -> a folder outside the root: never written through. */
	snprintf(p, sizeof(p), "%s/exports", root);
	ck_assert_int_eq(symlink(outside, p), 0);
	st = export_store_open(&ds, "exports/coco/1-1.json", "", err, sizeof(err));
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "symlink") != NULL, "%s", err);
	ck_assert_int_eq(count_prefix(outside, "", "coco"), 0);
	ck_assert_int_ne(export_file_delete(&ds, "exports/coco/1-1.json", err, sizeof(err)), 0);
	/* A path that breaks the path rules is refused too. */
	ck_assert_ptr_null(export_store_open(&ds, "exports/../x/1-1.json", "", err, sizeof(err)));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("export_store");
	TCase *tc = tcase_create("local");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, commit_whole_file);
	tcase_add_test(tc, abort_leaves_nothing);
	tcase_add_test(tc, stale_temporaries_removed);
	tcase_add_test(tc, symlinked_folder_refused);
	suite_add_tcase(s, tc);
	return s;
}

#include "unit.h"
