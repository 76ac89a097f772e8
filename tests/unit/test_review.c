/*
 * test_review.c: what a review does to a project's rows (core/review.c,
 * docs/review.md), against a scratch MariaDB database: the upgrade of an
 * existing database to the phases and counters of sql/016 and 017, and
 * reject, approve and relabel with the counters they keep.  Each check
 * compares the counters with a recount of the rows themselves.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "db.h"
#include "review.h"
#include "unit_db.h"

#define REV_DB "labeld_unit_review"

static char err[512];

/* A database with the migrations up to 015 (as a labeld before this
 * change left it) in a fresh scratch database. */
static struct db *rev_db_at_015(struct arena *a, char *dir)
{
	struct db_config root = unit_db_config(NULL), cfg = unit_db_config(REV_DB);
	struct db *db = db_new(&root);
	char *cmd;

	ck_assert_ptr_nonnull(db);
	unit_db_exec(db, "DROP DATABASE IF EXISTS " REV_DB);
	unit_db_exec(db, "CREATE DATABASE " REV_DB " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
	db_free(db);
	db = db_new(&cfg);
	ck_assert_ptr_nonnull(db);
	ck_assert_int_eq(db_ensure(db), DB_OK);
	cmd = arena_printf(a, "for f in '%s'/sql/0*.sql; do case $f in */01[6-9]_*|*/0[2-9]*) ;; "
	    "*) ln -s \"$f\" '%s'/ ;; esac; done", TEST_SRCDIR, dir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_msg(db_migrate(db, dir, err, sizeof(err)) == 0, "migrate to 015: %s", err);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT MAX(version) FROM schema_migrations"), "15");
	return db;
}

/*
 * Project 1 (multiclass, labels 11 "cat", 12 "dog"), labeler 2:
 *   item 101  labeled, current answer {"label": 11}
 *   item 102  labeled, current answer {"label": 12}
 *   item 103  unlabeled; its answer was rejected (withdrawn), then skipped
 *   item 104  unlabeled, skipped by labeler 3
 *   item 105  unlabeled, never touched
 * Project 2 (bbox, labels 21, 22): item 201 labeled with two boxes of 21
 * and one of 22, item 202 labeled with no objects.
 */
static void rev_fill(struct db *db)
{
	unit_db_exec(db, "INSERT INTO users (id, email, password_hash, is_admin) VALUES "
	    "(1, 'admin@example.com', 'x', 1), (2, 'ann@example.com', 'x', 0), "
	    "(3, 'bob@example.com', 'x', 0)");
	unit_db_exec(db, "INSERT INTO datastores (id, name, kind, local_path, is_default, is_builtin) "
	    "VALUES (1, 'default', 'local', '/srv/labeld', 1, 1)");
	unit_db_exec(db, "INSERT INTO datasets (id, name, description, datastore_id, path) VALUES "
	    "(1, 'd1', '', 1, 'd1'), (2, 'd2', '', 1, 'd2')");
	unit_db_exec(db, "INSERT INTO projects (id, name, task, dataset_id, description, state) VALUES "
	    "(1, 'p1', 'multiclass', 1, '', 'running'), (2, 'p2', 'bbox', 2, '', 'running')");
	unit_db_exec(db, "INSERT INTO labels (id, project_id, name, position) VALUES "
	    "(11, 1, 'cat', 1), (12, 1, 'dog', 2), (21, 2, 'car', 1), (22, 2, 'bus', 2)");
	unit_db_exec(db, "INSERT INTO items (id, project_id, path, width, height, format, state) VALUES "
	    "(101, 1, 'a.png', 10, 10, 'png', 'labeled'), (102, 1, 'b.png', 10, 10, 'png', 'labeled'), "
	    "(103, 1, 'c.png', 10, 10, 'png', 'unlabeled'), (104, 1, 'd.png', 10, 10, 'png', 'unlabeled'), "
	    "(105, 1, 'e.png', 10, 10, 'png', 'unlabeled'), "
	    "(201, 2, 'f.png', 10, 10, 'png', 'labeled'), (202, 2, 'g.png', 10, 10, 'png', 'labeled')");
	unit_db_exec(db, "INSERT INTO project_counters (project_id, items_total, items_labeled, change_seq) "
	    "VALUES (1, 5, 2, 4), (2, 2, 2, 2)");
	unit_db_exec(db, "INSERT INTO annotations (id, item_id, project_id, labeler_id, data, seq, "
	    "withdrawn_seq, is_current, created_at) VALUES "
	    "(1, 101, 1, 2, '{\"label\": 11}', 1, NULL, 1, '2026-11-01 10:00:00'), "
	    "(2, 102, 1, 2, '{\"label\": 12}', 2, NULL, 1, '2026-11-01 10:01:00'), "
	    "(3, 103, 1, 2, '{\"label\": 11}', 3, 4, 0, '2026-11-01 10:02:00'), "
	    "(4, 201, 2, 2, '{\"boxes\": [{\"label\": 21, \"x\": 1, \"y\": 1, \"w\": 2, \"h\": 2}, "
	    "{\"label\": 22, \"x\": 1, \"y\": 1, \"w\": 2, \"h\": 2}, "
	    "{\"label\": 21, \"x\": 3, \"y\": 3, \"w\": 2, \"h\": 2}]}', 1, NULL, 1, '2026-11-02 10:00:00'), "
	    "(5, 202, 2, 2, '{\"boxes\": [], \"no_objects\": true}', 2, NULL, 1, '2026-11-02 10:01:00')");
	unit_db_exec(db, "INSERT INTO item_skips (user_id, project_id, item_id) VALUES (3, 1, 104), (3, 1, 103)");
	unit_db_exec(db, "INSERT INTO item_events (item_id, project_id, user_id, kind) VALUES "
	    "(103, 1, 1, 'rejected')");
	unit_db_exec(db, "INSERT INTO labeler_days (project_id, user_id, day, labeled) VALUES "
	    "(1, 2, '2026-11-01', 3), (2, 2, '2026-11-02', 2)");
}

/* The counters of project p as "labeled skipped requeued approved
 * rejections", and the same recounted from the rows. */
#define COUNTERS(p) "SELECT items_labeled, items_skipped, items_requeued, items_approved, " \
	"rejections FROM project_counters WHERE project_id = " p
#define RECOUNT(p) "SELECT SUM(phase IN ('labeled', 'approved')), SUM(phase = 'skipped'), " \
	"SUM(phase = 'requeued'), SUM(phase = 'approved'), " \
	"(SELECT COUNT(*) FROM item_events WHERE project_id = " p " AND kind = 'rejected') " \
	"FROM items WHERE project_id = " p
/* Current answers per class: label_counts, and recounted. */
#define CLASSES(p) "SELECT GROUP_CONCAT(CONCAT(label_id, '=', answers) ORDER BY label_id) " \
	"FROM label_counts WHERE project_id = " p " AND answers <> 0"
#define CLASSES_RECOUNT(p) "SELECT GROUP_CONCAT(CONCAT(label_id, '=', n) ORDER BY label_id) FROM " \
	"(SELECT label_id, COUNT(*) AS n FROM answer_labels WHERE project_id = " p \
	" GROUP BY label_id) x"

static void rev_check_exact(struct db *db, struct arena *a, const char *p)
{
	ck_assert_str_eq(unit_db_row(db, a, arena_printf(a, COUNTERS("%s"), p)),
	    unit_db_row(db, a, arena_printf(a, RECOUNT("%s"), p, p)));
	ck_assert_str_eq(unit_db_row(db, a, arena_printf(a, CLASSES("%s"), p)),
	    unit_db_row(db, a, arena_printf(a, CLASSES_RECOUNT("%s"), p)));
	/* answer_labels exactly for the current answers, at their time. */
	ck_assert_str_eq(unit_db_row(db, a, arena_printf(a, "SELECT COUNT(*) FROM answer_labels al "
	    "JOIN items i ON i.id = al.item_id WHERE al.project_id = %s AND (i.state <> 'labeled' "
	    "OR al.answered_at <> i.answered_at OR NOT (al.labeled_by <=> i.labeled_by))", p)), "0");
}

/* Upgrading: the items that exist get their phases, who answered them and
 * when, the counters, and the classes of their current answers (also a
 * box task's, each class once per answer). */
START_TEST(test_migration_016)
{
	struct arena *a = arena_new();
	char tmpl[] = "/tmp/labeld-sql-XXXXXX", *dir = mkdtemp(tmpl);
	struct db *db;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(dir);
	db = rev_db_at_015(a, dir);
	rev_fill(db);
	ck_assert_msg(db_migrate(db, TEST_SRCDIR "/sql", err, sizeof(err)) == 0, "migrate: %s", err);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT GROUP_CONCAT(CONCAT(id, ':', phase) ORDER BY id) "
	    "FROM items"), "101:labeled,102:labeled,103:requeued,104:skipped,105:queued,"
	    "201:labeled,202:labeled");
	ck_assert_str_eq(unit_db_row(db, a, "SELECT labeled_by, answered_at FROM items WHERE id = 102"),
	    "2 2026-11-01 10:01:00.000000");
	ck_assert_str_eq(unit_db_row(db, a, "SELECT answered_at FROM items WHERE id = 105"),
	    "1970-01-01 00:00:00.000000");
	ck_assert_str_eq(unit_db_row(db, a, COUNTERS("1")), "2 1 1 0 1");
	ck_assert_str_eq(unit_db_row(db, a, COUNTERS("2")), "2 0 0 0 0");
	ck_assert_str_eq(unit_db_row(db, a, CLASSES("1")), "11=1,12=1");
	ck_assert_str_eq(unit_db_row(db, a, CLASSES("2")), "21=1,22=1");
	rev_check_exact(db, a, "1");
	rev_check_exact(db, a, "2");

	unit_db_exec(db, "DROP DATABASE " REV_DB);
	ck_assert_int_eq(system(arena_printf(a, "rm -rf '%s'", dir)), 0);
	db_free(db);
	arena_free(a);
}
END_TEST

/* Approve, reject (also an approved answer), relabel: each keeps the
 * counters, the classes, the labelers' days, the change numbers and the
 * history exact; a review lease's token is checked; what does not apply
 * is passed over. */
START_TEST(test_reject_approve_relabel)
{
	struct arena *a = arena_new();
	char tmpl[] = "/tmp/labeld-sql-XXXXXX", *dir = mkdtemp(tmpl);
	long long ids[] = { 101, 102, 105, 101, 201 }, one;
	const char *tok = "RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR";
	struct db *db;
	size_t done = 99;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(dir);
	db = rev_db_at_015(a, dir);
	rev_fill(db);
	ck_assert_msg(db_migrate(db, TEST_SRCDIR "/sql", err, sizeof(err)) == 0, "migrate: %s", err);

	/* Approve 101 (101 twice, 105 unanswered, 201 of another project). */
	ck_assert_int_eq(review_approve(db, a, 1, 1, ids, 5, NULL, &done), DB_OK);
	ck_assert_uint_eq(done, 2);
	ck_assert_str_eq(unit_db_row(db, a, COUNTERS("1")), "2 1 1 2 1");
	ck_assert_str_eq(unit_db_row(db, a, "SELECT GROUP_CONCAT(approved_seq ORDER BY id) FROM annotations "
	    "WHERE item_id IN (101, 102)"), "5,5");
	ck_assert_str_eq(unit_db_row(db, a, "SELECT approved FROM labeler_days WHERE project_id = 1 "
	    "AND user_id = 2 AND day = UTC_DATE()"), "2");
	ck_assert_str_eq(unit_db_row(db, a, "SELECT phase FROM items WHERE id = 201"), "labeled");
	/* Approving again changes nothing. */
	ck_assert_int_eq(review_approve(db, a, 1, 1, ids, 2, NULL, &done), DB_OK);
	ck_assert_uint_eq(done, 0);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT change_seq FROM project_counters WHERE project_id = 1"),
	    "5");
	rev_check_exact(db, a, "1");

	/* Reject the approved 102 with a reason: back in the queue; a skip of
	 * its answer goes with the answer (the next one is offered again). */
	unit_db_exec(db, "INSERT INTO review_skips (user_id, project_id, item_id) VALUES "
	    "(3, 1, 102), (3, 1, 101)");
	one = 102;
	ck_assert_int_eq(review_reject(db, a, 1, 1, &one, 1, "the dog is a cat", NULL, &done), DB_OK);
	ck_assert_uint_eq(done, 1);
	ck_assert_str_eq(unit_db_row(db, a, COUNTERS("1")), "1 1 2 1 2");
	ck_assert_str_eq(unit_db_row(db, a, "SELECT state, phase, labeled_by FROM items WHERE id = 102"),
	    "unlabeled requeued 2");
	ck_assert_str_eq(unit_db_row(db, a, "SELECT is_current, withdrawn_seq FROM annotations WHERE id = 2"),
	    "0 6");
	ck_assert_str_eq(unit_db_row(db, a, "SELECT user_id, reason FROM item_events WHERE item_id = 102 "
	    "AND kind = 'rejected'"), "1 the dog is a cat");
	ck_assert_str_eq(unit_db_row(db, a, "SELECT rejected FROM labeler_days WHERE project_id = 1 "
	    "AND user_id = 2 AND day = UTC_DATE()"), "1");
	ck_assert_str_eq(unit_db_row(db, a, CLASSES("1")), "11=1");
	ck_assert_str_eq(unit_db_row(db, a, "SELECT GROUP_CONCAT(item_id) FROM review_skips"), "101");
	rev_check_exact(db, a, "1");
	/* Rejecting it again: it has no answer now. */
	ck_assert_int_eq(review_reject(db, a, 1, 1, &one, 1, "", NULL, &done), DB_OK);
	ck_assert_uint_eq(done, 0);

	/* A review lease's token: only its holder, only while it holds. */
	one = 201;
	unit_db_exec(db, "UPDATE items SET review_user = 3, review_until = NOW(6) + INTERVAL 1 HOUR, "
	    "review_token = 'RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR' WHERE id = 201");
	ck_assert_int_eq(review_reject(db, a, 2, 1, &one, 1, NULL, tok, &done), REVIEW_STALE);
	ck_assert_int_eq(review_approve(db, a, 2, 3, &one, 1, "SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS",
	    &done), REVIEW_STALE);
	ck_assert_int_eq(review_approve(db, a, 2, 3, ids, 2, tok, &done), REVIEW_STALE);
	ck_assert_str_eq(unit_db_row(db, a, COUNTERS("2")), "2 0 0 0 0");
	/* Labeler 3 has no answers; a reviewer's own is not checked here
	 * (the queue leaves them out). */
	ck_assert_int_eq(review_reject(db, a, 2, 3, &one, 1, "two cars, one bus?", tok, &done), DB_OK);
	ck_assert_uint_eq(done, 1);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT review_user, review_token FROM items WHERE id = 201"),
	    "- -");
	ck_assert_str_eq(unit_db_row(db, a, CLASSES("2")), "-");
	rev_check_exact(db, a, "2");

	/* Relabel: only the labeler's current, unreviewed answer. */
	unit_db_exec(db, "UPDATE items SET phase = 'labeled' WHERE id = 101");   /* as if not approved */
	unit_db_exec(db, "UPDATE project_counters SET items_approved = items_approved - 1 WHERE project_id = 1");
	ck_assert_int_eq(review_relabel(db, a, 1, 101, 3, 1, "{\"label\": 12}", "[12]"), REVIEW_CHANGED);
	ck_assert_int_eq(review_relabel(db, a, 1, 101, 2, 3, "{\"label\": 12}", "[12]"), REVIEW_CHANGED);
	ck_assert_int_eq(review_relabel(db, a, 1, 999, 2, 1, "{\"label\": 12}", "[12]"), REVIEW_NO_ITEM);
	ck_assert_int_eq(review_relabel(db, a, 2, 101, 2, 1, "{\"label\": 12}", "[12]"), REVIEW_NO_ITEM);
	unit_db_exec(db, "UPDATE items SET review_user = 3, review_until = NOW(6) + INTERVAL 1 HOUR WHERE id = 101");
	ck_assert_int_eq(review_relabel(db, a, 1, 101, 2, 1, "{\"label\": 12}", "[12]"), REVIEW_REVIEWED);
	unit_db_exec(db, "UPDATE items SET review_user = NULL, review_until = NULL WHERE id = 101");
	ck_assert_int_eq(review_relabel(db, a, 1, 101, 2, 1, "{\"label\": 12}", "[12]"), DB_OK);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT COUNT(*) FROM review_skips"), "0");
	ck_assert_str_eq(unit_db_row(db, a, "SELECT GROUP_CONCAT(CONCAT(id, ':', is_current, ':', "
	    "COALESCE(withdrawn_seq, '-'), ':', relabel, ':', data) ORDER BY id) FROM annotations "
	    "WHERE item_id = 101"), "1:0:7:0:{\"label\": 11},6:1:-:1:{\"label\": 12}");
	ck_assert_str_eq(unit_db_row(db, a, CLASSES("1")), "12=1");
	ck_assert_str_eq(unit_db_row(db, a, COUNTERS("1")), "1 1 2 0 2");
	rev_check_exact(db, a, "1");
	/* The replaced answer cannot be changed again; the new one can. */
	ck_assert_int_eq(review_relabel(db, a, 1, 101, 2, 1, "{\"label\": 11}", "[11]"), REVIEW_CHANGED);
	ck_assert_int_eq(review_relabel(db, a, 1, 101, 2, 6, "{\"label\": 11}", "[11]"), DB_OK);
	/* Approved: no more changes. */
	one = 101;
	ck_assert_int_eq(review_approve(db, a, 1, 1, &one, 1, NULL, &done), DB_OK);
	ck_assert_int_eq(review_relabel(db, a, 1, 101, 2, 7, "{\"label\": 12}", "[12]"), REVIEW_REVIEWED);
	rev_check_exact(db, a, "1");

	unit_db_exec(db, "DROP DATABASE " REV_DB);
	ck_assert_int_eq(system(arena_printf(a, "rm -rf '%s'", dir)), 0);
	db_free(db);
	arena_free(a);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("review");
	const char *sock = getenv("LABELD_TEST_DB_SOCKET");

	if (sock != NULL && sock[0] != '\0' && db_library_init() == 0) {
		TCase *t = tcase_create("database");
		tcase_set_timeout(t, 120);
		tcase_add_test(t, test_migration_016);
		tcase_add_test(t, test_reject_approve_relabel);
		suite_add_tcase(s, t);
	}
	return s;
}

#include "unit.h"
