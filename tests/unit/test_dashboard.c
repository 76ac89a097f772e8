/*
 * test_dashboard.c: the Dashboard's numbers (dashboard.h).  The pure
 * parts: the median bucket and its time, the progress parts (every item once, never
 * negative), the 30 days of the chart across month, year and leap days.
 * With LABELD_TEST_DB_SOCKET (a MariaDB, root without password unless
 * LABELD_TEST_DB_USER / _PASSWORD say otherwise) also dashboard_load on a
 * scratch database labeld_unit_dashboard, migrated from sql/: answers,
 * a skip, a live lease, and real rejections and approvals (review.c), and
 * every number compared with a recount of the items and annotations.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "dashboard.h"
#include "db.h"
#include "queue.h"
#include "review.h"
#include "unit_db.h"

#define DASH_DB "labeld_unit_dashboard"

START_TEST(test_median_bucket)
{
	long long none[4] = { 0 }, one[4] = { 0, 0, 1, 0 }, odd[4] = { 1, 1, 0, 1 };
	long long even[4] = { 2, 0, 0, 2 }, skew[4] = { 1, 0, 0, 9 }, total = -1;

	ck_assert_int_eq(dashboard_median_bucket(none, 4, &total), -1);
	ck_assert_int_eq(total, 0);
	ck_assert_int_eq(dashboard_median_bucket(one, 4, &total), 2);
	ck_assert_int_eq(total, 1);
	ck_assert_int_eq(dashboard_median_bucket(odd, 4, NULL), 1);    /* rank 2 of 3 */
	ck_assert_int_eq(dashboard_median_bucket(even, 4, &total), 0); /* rank 2 of 4: the lower */
	ck_assert_int_eq(total, 4);
	ck_assert_int_eq(dashboard_median_bucket(skew, 4, NULL), 3);   /* rank 5 of 10 */
}
END_TEST

START_TEST(test_bucket_ms)
{
	/* 100 * 1.2^(b + 0.5), rounded down. */
	ck_assert_int_eq(dashboard_bucket_ms(0), 109);
	ck_assert_int_eq(dashboard_bucket_ms(1), 131);
	ck_assert_int_eq(dashboard_bucket_ms(12), 976);
	ck_assert_int_eq(dashboard_bucket_ms(17), 2430);
	ck_assert_int_eq(dashboard_bucket_ms(63), dashboard_bucket_ms(DASH_BUCKETS - 1));
	ck_assert_int_eq(dashboard_bucket_ms(99), dashboard_bucket_ms(63));
	ck_assert_int_eq(dashboard_bucket_ms(-1), 109);
	/* Each bucket's time is 1.2 times the one before (up to the
	 * rounding down): the buckets' edges lie 1.2^0.5 (9.5%) either side. */
	for (int b = 1; b < DASH_BUCKETS; b++) {
		long long d = 10 * dashboard_bucket_ms(b) - 12 * dashboard_bucket_ms(b - 1);
		ck_assert_int_le(d < 0 ? -d : d, 12);
	}
}
END_TEST

START_TEST(test_progress)
{
	struct dash_progress p;

	/* 100 items: 30 answered of which 10 approved, 5 skipped (1 leased
	 * again), 4 requeued (2 leased), 3 more leased from the queue. */
	dashboard_progress(&p, 100, 30, 10, 5, 4, 9, 3, 1, 2);
	ck_assert_int_eq(p.approved, 10);
	ck_assert_int_eq(p.waiting, 20);
	ck_assert_int_eq(p.leased, 6);
	ck_assert_int_eq(p.skipped, 4);
	ck_assert_int_eq(p.requeued, 2);
	ck_assert_int_eq(p.queued, 58);
	ck_assert_int_eq(p.approved + p.waiting + p.leased + p.skipped + p.requeued + p.queued, 100);
	ck_assert_int_eq(p.rejections, 9);
	ck_assert_int_eq(p.percent10, 300);
	/* 2 of 3: 66.6%, rounded down. */
	dashboard_progress(&p, 3, 2, 0, 0, 0, 0, 0, 0, 0);
	ck_assert_int_eq(p.percent10, 666);
	/* Leases read a moment after the counters: nothing negative. */
	dashboard_progress(&p, 1, 1, 0, 0, 0, 0, 2, 1, 1);
	ck_assert_int_eq(p.queued, 0);
	ck_assert_int_eq(p.skipped, 0);
	ck_assert_int_eq(p.requeued, 0);
	/* No items: no division. */
	dashboard_progress(&p, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	ck_assert_int_eq(p.percent10, 0);
}
END_TEST

START_TEST(test_days)
{
	struct dash_day d[DASH_DAYS];

	ck_assert_int_eq(dashboard_days(d, "2024-03-01"), 0);
	ck_assert_str_eq(d[DASH_DAYS - 1].day, "2024-03-01");
	ck_assert_str_eq(d[DASH_DAYS - 2].day, "2024-02-29");
	ck_assert_str_eq(d[0].day, "2024-02-01");
	ck_assert_int_eq(dashboard_days(d, "2027-01-10"), 0);
	ck_assert_str_eq(d[0].day, "2026-12-12");
	ck_assert_str_eq(d[20].day, "2027-01-01");
	ck_assert_str_eq(d[19].day, "2026-12-31");
	for (int i = 0; i < DASH_DAYS; i++)
		ck_assert_int_eq(d[i].answers, 0);
	ck_assert_int_eq(dashboard_days(d, "yesterday"), -1);
	ck_assert_int_eq(dashboard_days(d, NULL), -1);
}
END_TEST

/* ------------------------------------------------------------ database */

/* The one number a query returns. */
static long long dash_num(struct db *db, struct arena *a, const char *sql)
{
	struct db_result *res;

	ck_assert_int_eq(db_query(db, a, &res, sql, ""), DB_OK);
	ck_assert_uint_eq(res->nrows, 1);
	return db_int(res, 0, 0);
}

/* The one string a query returns (in arena a). */
static const char *dash_str(struct db *db, struct arena *a, const char *sql)
{
	struct db_result *res;

	ck_assert_int_eq(db_query(db, a, &res, sql, ""), DB_OK);
	ck_assert_uint_eq(res->nrows, 1);
	ck_assert_ptr_nonnull(db_value(res, 0, 0));
	return db_value(res, 0, 0);
}

/* Lease the next item as user and answer it with class label (or skip it
 * when label is 0), the lease handed out `ago` seconds before (a time to
 * bucket); returns the item. */
static long long dash_answer_after(struct db *db, struct arena *a, long long user, long long label,
    long long ago)
{
	struct queue_item it;
	long long next = 0;
	int rc = queue_lease_next(db, a, 1, user, 600, &it, &next);

	ck_assert_msg(rc == QUEUE_OK, "lease: %d", rc);
	unit_db_exec(db, arena_printf(a, "UPDATE items SET leased_at = leased_at - INTERVAL %lld SECOND "
	    "WHERE id = %lld", ago, it.id));
	if (label == 0)
		rc = queue_skip(db, a, 1, it.id, user, it.lease_token);
	else
		rc = queue_submit(db, a, 1, it.id, user, it.lease_token,
		    arena_printf(a, "{\"label\":%lld}", label), arena_printf(a, "[%lld]", label));
	ck_assert_msg(rc == QUEUE_OK, "answer: %d", rc);
	return it.id;
}

static long long dash_answer(struct db *db, struct arena *a, long long user, long long label)
{
	return dash_answer_after(db, a, user, label, 0);
}

#define LIVE "COALESCE(lease_until > NOW(6), 0)"

START_TEST(test_load_recount)
{
	struct db *db = unit_db_fresh(DASH_DB);
	struct arena *a = arena_new();
	struct dashboard d;
	struct queue_item it;
	long long next = 0, items[6], ids[2];
	size_t done = 0;

	unit_db_exec(db, "SET time_zone = '+00:00'");
	queue_set_combine(0);

	/* Project 1: 10 items, classes 1 cat, 2 dog, 3 bird; users 1..3. */
	unit_db_exec(db, "INSERT INTO users (id, email, display_name, password_hash) VALUES "
	    "(1, 'a@example.com', 'Ann', 'x'), (2, 'b@example.com', '', 'x'), "
	    "(3, 'r@example.com', 'Rev', 'x')");
	unit_db_exec(db, "INSERT INTO datastores (id, name, kind, is_default) VALUES (100, 'd', 'local', 0)");
	unit_db_exec(db, "INSERT INTO datasets (id, name, description, datastore_id, path, kind, source) "
	    "VALUES (1, 'ds', '', 100, 'p', 'input', 'datastore')");
	unit_db_exec(db, "INSERT INTO projects (id, name, task, dataset_id, description, state) "
	    "VALUES (1, 'P', 'testtask', 1, '', 'running')");
	unit_db_exec(db, "INSERT INTO labels (id, project_id, name, position) VALUES "
	    "(1, 1, 'cat', 1), (2, 1, 'dog', 2), (3, 1, 'bird', 3)");
	unit_db_exec(db, "INSERT INTO items (project_id, path, width, height, format) "
	    "SELECT 1, CONCAT('p/', seq, '.png'), 4, 4, 'png' FROM seq_1_to_10");
	unit_db_exec(db, "INSERT INTO project_counters (project_id, items_total) VALUES (1, 10)");

	/* Times of 4, 1 and 25 s for Ann; 2 and 40 s for user 2. */
	items[0] = dash_answer_after(db, a, 1, 1, 4);
	items[1] = dash_answer_after(db, a, 1, 1, 1);
	items[2] = dash_answer_after(db, a, 1, 2, 25);
	items[3] = dash_answer_after(db, a, 2, 2, 2);
	items[4] = dash_answer_after(db, a, 2, 1, 40);
	items[5] = dash_answer(db, a, 2, 0);     /* a skip */
	/* Three rejections (one with a reason) and an approval, by user 3. */
	ck_assert_int_eq(review_reject(db, a, 1, 3, &items[0], 1, "blurry", NULL, &done), DB_OK);
	ck_assert_uint_eq(done, 1);
	ck_assert_int_eq(review_approve(db, a, 1, 3, &items[2], 1, NULL, &done), DB_OK);
	ck_assert_uint_eq(done, 1);
	ids[0] = items[3];
	ids[1] = items[1];
	ck_assert_int_eq(review_reject(db, a, 1, 3, ids, 2, NULL, NULL, &done), DB_OK);
	ck_assert_uint_eq(done, 2);
	/* User 2 takes a lease and keeps it. */
	ck_assert_int_eq(queue_lease_next(db, a, 1, 2, 600, &it, &next), QUEUE_OK);

	ck_assert_int_eq(dashboard_load(db, a, 1, &d), DB_OK);

	/* Progress, against the items. */
	struct dash_progress *p = &d.progress;
	ck_assert_int_eq(p->total, dash_num(db, a, "SELECT COUNT(*) FROM items WHERE project_id = 1"));
	ck_assert_int_eq(p->approved, dash_num(db, a, "SELECT COUNT(*) FROM items WHERE project_id = 1 "
	    "AND phase = 'approved'"));
	ck_assert_int_eq(p->waiting, dash_num(db, a, "SELECT COUNT(*) FROM items WHERE project_id = 1 "
	    "AND phase = 'labeled'"));
	ck_assert_int_eq(p->leased, dash_num(db, a, "SELECT COUNT(*) FROM items WHERE project_id = 1 "
	    "AND state = 'unlabeled' AND " LIVE));
	ck_assert_int_eq(p->requeued, dash_num(db, a, "SELECT COUNT(*) FROM items WHERE project_id = 1 "
	    "AND phase = 'requeued' AND NOT " LIVE));
	ck_assert_int_eq(p->skipped, dash_num(db, a, "SELECT COUNT(*) FROM items WHERE project_id = 1 "
	    "AND phase = 'skipped' AND NOT " LIVE));
	ck_assert_int_eq(p->queued, dash_num(db, a, "SELECT COUNT(*) FROM items WHERE project_id = 1 "
	    "AND phase = 'queued' AND NOT " LIVE));
	ck_assert_int_eq(p->rejections, dash_num(db, a, "SELECT COUNT(*) FROM item_events "
	    "WHERE project_id = 1 AND kind = 'rejected'"));
	ck_assert_int_eq(p->approved, 1);
	ck_assert_int_eq(p->waiting, 1);
	ck_assert_int_eq(p->leased, 1);
	ck_assert_int_eq(p->requeued + p->leased + p->skipped + p->queued, 8);
	ck_assert_int_eq(p->rejections, 3);
	ck_assert_int_eq(p->percent10, 200);

	/* Classes: current answers only (cat 1 left: items[4]; dog 1: the
	 * approved items[2]; bird 0). */
	ck_assert_uint_eq(d.nclasses, 3);
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(d.classes[i].answers, dash_num(db, a, arena_printf(a,
		    "SELECT COUNT(*) FROM annotations WHERE project_id = 1 AND is_current = 1 "
		    "AND JSON_VALUE(data, '$.label') = %lld", d.classes[i].label_id)));
	ck_assert_str_eq(d.classes[0].name, "cat");
	ck_assert_int_eq(d.classes[0].answers, 1);
	ck_assert_int_eq(d.classes[2].answers, 0);

	/* Today: every answer, rejected ones too. */
	ck_assert_int_eq(d.days[DASH_DAYS - 1].answers, dash_num(db, a,
	    "SELECT COUNT(*) FROM annotations WHERE project_id = 1 AND DATE(created_at) = UTC_DATE()"));
	ck_assert_int_eq(d.days[DASH_DAYS - 1].answers, 5);

	/* Labelers: Ann (3 answers, 2 rejected) first. */
	ck_assert_uint_eq(d.nlabelers, 2);
	for (size_t i = 0; i < 2; i++) {
		struct dash_labeler *l = &d.labelers[i];
		ck_assert_int_eq(l->answered, dash_num(db, a, arena_printf(a, "SELECT COUNT(*) FROM "
		    "annotations WHERE project_id = 1 AND labeler_id = %lld", l->user_id)));
		ck_assert_int_eq(l->skipped, dash_num(db, a, arena_printf(a, "SELECT COUNT(*) FROM "
		    "item_events WHERE project_id = 1 AND user_id = %lld AND kind = 'skipped'", l->user_id)));
		ck_assert_int_eq(l->rejected, dash_num(db, a, arena_printf(a, "SELECT COUNT(*) FROM "
		    "item_events e JOIN annotations n ON n.item_id = e.item_id AND n.withdrawn_seq IS NOT NULL "
		    "WHERE e.project_id = 1 AND e.kind = 'rejected' AND n.labeler_id = %lld", l->user_id)));
		/* The median: the bucket of the middle timed answer by the rule
		 * of sql/018_labeler_stats.sql, recounted from the annotations. */
		ck_assert_int_eq(l->timed, dash_num(db, a, arena_printf(a, "SELECT COUNT(*) FROM "
		    "annotations WHERE project_id = 1 AND labeler_id = %lld AND ms IS NOT NULL", l->user_id)));
		ck_assert_int_eq(l->median_ms, dashboard_bucket_ms((int)dash_num(db, a, arena_printf(a,
		    "SELECT b FROM (SELECT b, ROW_NUMBER() OVER (ORDER BY b) r, COUNT(*) OVER () n FROM "
		    "(SELECT LEAST(63, GREATEST(0, FLOOR(LOG(1.2, GREATEST(ms, 1) / 100)))) b FROM annotations "
		    "WHERE project_id = 1 AND labeler_id = %lld AND ms IS NOT NULL) x) y "
		    "WHERE r = (n + 1) DIV 2", l->user_id))));
		ck_assert_str_eq(l->last_active, dash_str(db, a, arena_printf(a, "SELECT "
		    "DATE_FORMAT(MAX(created_at), '%%Y-%%m-%%d %%H:%%i') FROM annotations "
		    "WHERE project_id = 1 AND labeler_id = %lld", l->user_id)));
	}
	ck_assert_int_eq(d.labelers[0].user_id, 1);
	ck_assert_int_eq(d.labelers[0].rejected, 2);
	ck_assert_int_eq(d.labelers[0].approved, 1);
	ck_assert_int_eq(d.labelers[1].rejected, 1);
	ck_assert_int_eq(d.labelers[1].skipped, 1);
	/* Ann's times 1, 4, 25 s: the middle, 4 s, is in bucket 20
	 * ([3.83, 4.60) s); user 2's 2 and 40 s: the lower, 2 s, bucket 16
	 * ([1.85, 2.22) s). */
	ck_assert_int_eq(d.labelers[0].median_ms, dashboard_bucket_ms(20));
	ck_assert_int_eq(d.labelers[1].median_ms, dashboard_bucket_ms(16));
	ck_assert_ptr_nonnull(d.labelers[0].last_active);
	ck_assert_uint_eq(strlen(d.labelers[0].last_active), 16);

	arena_free(a);
	db_free(db);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("dashboard");
	TCase *t = tcase_create("pure");
	const char *sock = getenv("LABELD_TEST_DB_SOCKET");

	tcase_add_test(t, test_median_bucket);
	tcase_add_test(t, test_bucket_ms);
	tcase_add_test(t, test_progress);
	tcase_add_test(t, test_days);
	suite_add_tcase(s, t);
	if (sock != NULL && sock[0] != '\0') {
		t = tcase_create("database");
		tcase_set_timeout(t, 120);
		tcase_add_test(t, test_load_recount);
		suite_add_tcase(s, t);
	}
	return s;
}

#include "unit.h"
