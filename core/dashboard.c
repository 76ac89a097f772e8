/*
 * dashboard.c: the numbers of a project's Dashboard tab (dashboard.h).
 *
 * Six statements, whatever the project's size: the counter row, the live
 * leases (the items_free range that holds them), the classes with their
 * counts, the days of the chart, the labelers' sums and last answers
 * (labeler_days), their time histograms (labeler_seconds, at most
 * DASH_BUCKETS rows a labeler).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "dashboard.h"
#include "db.h"

int dashboard_median_bucket(const long long *n, int nb, long long *total)
{
	long long sum = 0, seen = 0;

	for (int b = 0; b < nb; b++)
		sum += n[b] > 0 ? n[b] : 0;
	if (total != NULL)
		*total = sum;
	if (sum == 0)
		return -1;
	for (int b = 0; b < nb; b++) {
		seen += n[b] > 0 ? n[b] : 0;
		if (seen >= (sum + 1) / 2)
			return b;
	}
	return nb - 1;   /* not reached: seen ends at sum */
}

long long dashboard_bucket_ms(int b)
{
	/* 100 * 1.2^0.5, then one factor 1.2 a bucket (no libm). */
	double v = 109.54451150103322;

	if (b < 0)
		b = 0;
	if (b > DASH_BUCKETS - 1)
		b = DASH_BUCKETS - 1;
	for (int i = 0; i < b; i++)
		v *= 1.2;
	return (long long)v;
}

static long long nonneg(long long v)
{
	return v < 0 ? 0 : v;
}

void dashboard_progress(struct dash_progress *p, long long total, long long labeled,
    long long approved, long long skipped, long long requeued, long long rejections,
    long long leased_queued, long long leased_skipped, long long leased_requeued)
{
	memset(p, 0, sizeof(*p));
	p->total = nonneg(total);
	p->approved = nonneg(approved);
	p->waiting = nonneg(labeled - approved);
	p->requeued = nonneg(requeued - leased_requeued);
	p->skipped = nonneg(skipped - leased_skipped);
	p->leased = nonneg(leased_queued) + nonneg(leased_skipped) + nonneg(leased_requeued);
	p->queued = nonneg(total - labeled - skipped - requeued - nonneg(leased_queued));
	p->rejections = nonneg(rejections);
	if (p->total > 0)
		p->percent10 = (p->approved + p->waiting) * 1000 / p->total;
	if (p->percent10 > 1000)
		p->percent10 = 1000;
}

int dashboard_days(struct dash_day *days, const char *today)
{
	struct tm tm = { 0 };
	int y, m, d;
	time_t t;

	if (today == NULL || sscanf(today, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;    /* noon: a day is a day, whatever leap seconds do */
	t = timegm(&tm);
	for (int i = 0; i < DASH_DAYS; i++) {
		time_t ti = t - (time_t)(DASH_DAYS - 1 - i) * 86400;
		struct tm di;
		gmtime_r(&ti, &di);
		strftime(days[i].day, sizeof(days[i].day), "%Y-%m-%d", &di);
		days[i].answers = 0;
	}
	return 0;
}

/* The counter row and the live leases by phase into d->progress; *today
 * gets the database's UTC date.  DB_* status. */
static int progress_load(struct db *db, struct arena *a, long long project_id,
    struct dashboard *d, const char **today)
{
	struct db_result *res, *leases;
	long long lq = 0, ls = 0, lr = 0;
	int rc;

	rc = db_query(db, a, &res,
	    "SELECT DATE_FORMAT(UTC_DATE(), '%Y-%m-%d'), c.items_total, c.items_labeled, "
	    "c.items_approved, c.items_skipped, c.items_requeued, c.rejections "
	    "FROM (SELECT 1) one LEFT JOIN project_counters c ON c.project_id = ?",
	    "i", project_id);
	if (rc != DB_OK)
		return rc;
	/* The leases in force: the items_free range (project, 'unlabeled',
	 * lease_until > now) holds one row per lease, however many items
	 * the project has. */
	rc = db_query(db, a, &leases,
	    "SELECT phase, COUNT(*) FROM items FORCE INDEX (items_free) "
	    "WHERE project_id = ? AND state = 'unlabeled' AND lease_until > NOW(6) GROUP BY phase",
	    "i", project_id);
	if (rc != DB_OK)
		return rc;
	for (size_t i = 0; i < leases->nrows; i++) {
		const char *phase = db_value(leases, i, 0);
		if (strcmp(phase, "skipped") == 0)
			ls += db_int(leases, i, 1);
		else if (strcmp(phase, "requeued") == 0)
			lr += db_int(leases, i, 1);
		else
			lq += db_int(leases, i, 1);
	}
	*today = db_value(res, 0, 0);
	dashboard_progress(&d->progress, db_int(res, 0, 1), db_int(res, 0, 2), db_int(res, 0, 3),
	    db_int(res, 0, 4), db_int(res, 0, 5), db_int(res, 0, 6), lq, ls, lr);
	return DB_OK;
}

/* Every class of the project in label order with its current answers. */
static int classes_load(struct db *db, struct arena *a, long long project_id,
    struct dashboard *d)
{
	struct db_result *res;
	int rc = db_query(db, a, &res,
	    "SELECT l.id, l.name, COALESCE(c.answers, 0) FROM labels l "
	    "LEFT JOIN label_counts c ON c.project_id = l.project_id AND c.label_id = l.id "
	    "WHERE l.project_id = ? ORDER BY l.position", "i", project_id);

	if (rc != DB_OK)
		return rc;
	d->classes = arena_calloc(a, res->nrows + 1, sizeof(*d->classes));
	if (d->classes == NULL)
		return DB_ERR;
	for (size_t i = 0; i < res->nrows; i++) {
		d->classes[i].label_id = db_int(res, i, 0);
		d->classes[i].name = db_value(res, i, 1);
		d->classes[i].answers = nonneg(db_int(res, i, 2));
	}
	d->nclasses = res->nrows;
	return DB_OK;
}

/* Answers per day of the last DASH_DAYS days: the range (project, day >=
 * the first) of labeler_days_day, not the project's whole history; the
 * index holds `labeled`, so the table is not read. */
static int days_load(struct db *db, struct arena *a, long long project_id,
    struct dashboard *d, const char *today)
{
	struct db_result *res;
	int rc;

	if (dashboard_days(d->days, today) != 0)
		return DB_ERR;
	rc = db_query(db, a, &res,
	    "SELECT DATE_FORMAT(day, '%Y-%m-%d'), SUM(labeled) FROM labeler_days "
	    "FORCE INDEX (labeler_days_day) WHERE project_id = ? AND day >= ? GROUP BY day",
	    "is", project_id, d->days[0].day);
	if (rc != DB_OK)
		return rc;
	for (size_t i = 0; i < res->nrows; i++)
		for (int k = 0; k < DASH_DAYS; k++)
			if (strcmp(d->days[k].day, db_value(res, i, 0)) == 0)
				d->days[k].answers = db_int(res, i, 1);
	return DB_OK;
}

/* The labelers' sums and newest answer, most answers first: the
 * project's range of labeler_days summed first, then their names. */
static int labelers_load(struct db *db, struct arena *a, long long project_id,
    struct dashboard *d)
{
	struct db_result *res;
	int rc = db_query(db, a, &res,
	    "SELECT d.user_id, u.display_name, u.email, d.labeled, d.skipped, d.rejected, d.approved, "
	    "DATE_FORMAT(d.last_at, '%Y-%m-%d %H:%i') "
	    "FROM (SELECT user_id, SUM(labeled) labeled, SUM(skipped) skipped, SUM(rejected) rejected, "
	    "SUM(approved) approved, MAX(last_at) last_at FROM labeler_days WHERE project_id = ? "
	    "GROUP BY user_id) d "
	    "STRAIGHT_JOIN users u ON u.id = d.user_id ORDER BY d.labeled DESC, d.user_id",
	    "i", project_id);

	if (rc != DB_OK)
		return rc;
	d->labelers = arena_calloc(a, res->nrows + 1, sizeof(*d->labelers));
	if (d->labelers == NULL)
		return DB_ERR;
	for (size_t i = 0; i < res->nrows; i++) {
		struct dash_labeler *l = &d->labelers[i];
		l->user_id = db_int(res, i, 0);
		l->display_name = db_value(res, i, 1) ? db_value(res, i, 1) : "";
		l->email = db_value(res, i, 2);
		l->answered = db_int(res, i, 3);
		l->skipped = db_int(res, i, 4);
		l->rejected = db_int(res, i, 5);
		l->approved = db_int(res, i, 6);
		l->last_active = db_value(res, i, 7);
		l->median_ms = -1;
	}
	d->nlabelers = res->nrows;
	return DB_OK;
}

/* Each labeler's median seconds from their histogram in labeler_seconds:
 * one statement for the project, at most DASH_BUCKETS rows a labeler.  A
 * row of someone without sums (none: every answer writes labeler_days)
 * is passed over.  DB_* status. */
static int medians_load(struct db *db, struct arena *a, long long project_id,
    struct dashboard *d)
{
	struct db_result *res;
	long long n[DASH_BUCKETS];
	size_t row = 0;
	int rc = db_query(db, a, &res,
	    "SELECT user_id, bucket, n FROM labeler_seconds WHERE project_id = ? "
	    "ORDER BY user_id, bucket", "i", project_id);

	if (rc != DB_OK)
		return rc;
	while (row < res->nrows) {
		long long uid = db_int(res, row, 0);
		struct dash_labeler *l = NULL;
		for (size_t i = 0; i < d->nlabelers; i++)
			if (d->labelers[i].user_id == uid)
				l = &d->labelers[i];
		memset(n, 0, sizeof(n));
		for (; row < res->nrows && db_int(res, row, 0) == uid; row++) {
			long long b = db_int(res, row, 1);
			if (b >= 0 && b < DASH_BUCKETS)
				n[b] = db_int(res, row, 2);
		}
		if (l != NULL) {
			int b = dashboard_median_bucket(n, DASH_BUCKETS, &l->timed);
			l->median_ms = b < 0 ? -1 : dashboard_bucket_ms(b);
		}
	}
	return DB_OK;
}

int dashboard_load(struct db *db, struct arena *a, long long project_id, struct dashboard *d)
{
	const char *today = NULL;
	int rc;

	memset(d, 0, sizeof(*d));
	rc = progress_load(db, a, project_id, d, &today);
	if (rc == DB_OK)
		rc = classes_load(db, a, project_id, d);
	if (rc == DB_OK)
		rc = days_load(db, a, project_id, d, today);
	if (rc == DB_OK)
		rc = labelers_load(db, a, project_id, d);
	if (rc == DB_OK)
		rc = medians_load(db, a, project_id, d);
	return rc;
}
