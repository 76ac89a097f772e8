/*
 * dashboard.c: the numbers of a project's Dashboard tab (dashboard.h).
 *
 * Five statements, whatever the project's size: the counter row, the live
 * leases (the items_free range that holds them), the classes with their
 * counts, the days of the chart, the labelers' sums; then the labelers'
 * last answers, DASH_CHUNK labelers per statement, each labeler one
 * bounded range of annotations_mine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "dashboard.h"
#include "db.h"

/* Labelers whose last answers one statement reads. */
#define DASH_CHUNK 8

#define STR_(x) #x
#define STR(x) STR_(x)

/* One labeler's last DASH_MEDIAN_OF answers, newest first, from the index
 * (project_id, labeler_id, id). */
#define LAST_ANSWERS \
	"(SELECT labeler_id, ms, DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s') " \
	"FROM annotations FORCE INDEX (annotations_mine) " \
	"WHERE project_id = ? AND labeler_id = ? ORDER BY id DESC LIMIT " STR(DASH_MEDIAN_OF) ")"
#define U2 LAST_ANSWERS " UNION ALL " LAST_ANSWERS
#define U4 U2 " UNION ALL " U2
#define U8 U4 " UNION ALL " U4

static int ll_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

long long dashboard_median(long long *v, size_t n)
{
	if (n == 0)
		return -1;
	qsort(v, n, sizeof(*v), ll_cmp);
	if (n % 2 == 1)
		return v[n / 2];
	/* No overflow: both are milliseconds of an INT UNSIGNED column. */
	return (v[n / 2 - 1] + v[n / 2]) / 2;
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
 * the first) of labeler_days_day, not the project's whole history. */
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

/* The labelers' sums, most answers first: the project's range of
 * labeler_days summed first, then their names. */
static int labelers_load(struct db *db, struct arena *a, long long project_id,
    struct dashboard *d)
{
	struct db_result *res;
	int rc = db_query(db, a, &res,
	    "SELECT d.user_id, u.display_name, u.email, d.labeled, d.skipped, d.rejected, d.approved "
	    "FROM (SELECT user_id, SUM(labeled) labeled, SUM(skipped) skipped, SUM(rejected) rejected, "
	    "SUM(approved) approved FROM labeler_days WHERE project_id = ? GROUP BY user_id) d "
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
		l->median_ms = -1;
	}
	d->nlabelers = res->nrows;
	return DB_OK;
}

/* The median seconds and last answer of labelers d->labelers[from..from+n)
 * (n <= DASH_CHUNK) in one statement: DASH_CHUNK bounded reads, the unused
 * ones for user 0, whom no annotation has. */
static int answers_chunk(struct db *db, struct arena *a, long long p, struct dashboard *d,
    size_t from, size_t n, long long *ms)
{
	struct db_result *res;
	long long u[DASH_CHUNK] = { 0 };
	int rc;

	for (size_t i = 0; i < n; i++)
		u[i] = d->labelers[from + i].user_id;
	rc = db_query(db, a, &res, U8, "iiiiiiiiiiiiiiii", p, u[0], p, u[1], p, u[2], p, u[3],
	    p, u[4], p, u[5], p, u[6], p, u[7]);
	if (rc != DB_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct dash_labeler *l = &d->labelers[from + i];
		const char *newest = NULL;
		size_t k = 0;
		for (size_t row = 0; row < res->nrows; row++) {
			if (db_int(res, row, 0) != l->user_id)
				continue;
			if (db_value(res, row, 1) != NULL && k < DASH_MEDIAN_OF)
				ms[k++] = db_int(res, row, 1);
			if (newest == NULL || strcmp(db_value(res, row, 2), newest) > 0)
				newest = db_value(res, row, 2);
		}
		l->median_ms = dashboard_median(ms, k);
		l->timed = k;
		/* "YYYY-MM-DD HH:MM" */
		l->last_active = newest ? arena_strndup(a, newest, 16) : NULL;
	}
	return DB_OK;
}

int dashboard_load(struct db *db, struct arena *a, long long project_id, struct dashboard *d)
{
	const char *today = NULL;
	long long ms[DASH_MEDIAN_OF];
	int rc;

	memset(d, 0, sizeof(*d));
	rc = progress_load(db, a, project_id, d, &today);
	if (rc == DB_OK)
		rc = classes_load(db, a, project_id, d);
	if (rc == DB_OK)
		rc = days_load(db, a, project_id, d, today);
	if (rc == DB_OK)
		rc = labelers_load(db, a, project_id, d);
	for (size_t i = 0; rc == DB_OK && i < d->nlabelers; i += DASH_CHUNK) {
		size_t n = d->nlabelers - i < DASH_CHUNK ? d->nlabelers - i : DASH_CHUNK;
		rc = answers_chunk(db, a, project_id, d, i, n, ms);
	}
	return rc;
}
