/*
 * dashboard.h: the numbers of a project's Dashboard tab (docs/review.md,
 * "Dashboard"), read from the counters that the transactions changing
 * items keep (project_counters, label_counts, labeler_days,
 * labeler_seconds) and from one bounded index read: the live leases.
 * Nothing here counts the project's items or reads their annotations, so
 * the page costs the same at ten items as at a million.
 */
#ifndef LABELD_DASHBOARD_H
#define LABELD_DASHBOARD_H

#include <stddef.h>

struct arena;
struct db;

/* Days in the answers-per-day chart, today (UTC) the last. */
#define DASH_DAYS 30
/* The buckets of labeler_seconds (sql/018_labeler_stats.sql): bucket b
 * holds the lease-to-answer times t ms with b = floor(log1.2(t / 100)),
 * clamped to 0..DASH_BUCKETS-1. */
#define DASH_BUCKETS 64

/* Where the items of a project are, each item counted once: the six add
 * up to items_total (docs/review.md, "Dashboard"). */
struct dash_progress {
	long long total;        /* items_total */
	long long approved;     /* phase approved */
	long long waiting;      /* phase labeled: answered, waiting for review */
	long long leased;       /* under a labeling lease in force, any phase */
	long long requeued;     /* phase requeued (rejected, back in the queue), not leased */
	long long skipped;      /* phase skipped, not leased */
	long long queued;       /* phase queued, not leased */
	long long rejections;   /* rejections ever made (an item may count twice) */
	long long percent10;    /* (approved + waiting) / total in tenths of a
	                         * percent, rounded down; 0 when total is 0 */
};

/* One class: current answers that assign it (label_counts). */
struct dash_class {
	long long label_id;
	const char *name;
	long long answers;
};

/* One day (UTC) of the chart: answers given that day (labeler_days). */
struct dash_day {
	char day[11];           /* YYYY-MM-DD */
	long long answers;
};

/* One labeler with any row in labeler_days of the project. */
struct dash_labeler {
	long long user_id;
	const char *display_name;   /* "" when none */
	const char *email;
	long long answered, skipped, rejected, approved;   /* sums of labeler_days */
	long long median_ms;        /* the middle bucket's dashboard_bucket_ms; -1
	                             * when none of their answers has a time */
	long long timed;            /* how many answers the median was taken over */
	const char *last_active;    /* newest answer (labeler_days.last_at),
	                             * "YYYY-MM-DD HH:MM" UTC; NULL when none */
};

struct dashboard {
	struct dash_progress progress;
	struct dash_class *classes;     /* in label order, classes without answers too */
	size_t nclasses;
	struct dash_day days[DASH_DAYS];    /* oldest first */
	struct dash_labeler *labelers;  /* most answers first */
	size_t nlabelers;
};

/* Read project_id's dashboard into *d (arrays and strings in arena a).
 * A project without a counters row reads as empty.  DB_OK or DB_*. */
int dashboard_load(struct db *db, struct arena *a, long long project_id, struct dashboard *d);

/* The bucket (0..nb-1) that holds the middle answer of a histogram of nb
 * buckets, n[b] answers in bucket b: the answer of rank (N + 1) / 2 in
 * time order, N the sum (for an even N the lower of the two middle ones);
 * -1 when N is 0.  *total (may be NULL) gets N. */
int dashboard_median_bucket(const long long *n, int nb, long long *total);

/* The time that stands for bucket b (0..DASH_BUCKETS-1) in ms: its
 * geometric middle 100 * 1.2^(b + 0.5) rounded down, within about 10% of
 * every time in the bucket (bucket 0 also holds the times under 100 ms). */
long long dashboard_bucket_ms(int b);

/* The progress from the counters and the live leases by phase; every
 * count is clamped at 0 so that a lease read a moment after the counters
 * never makes one negative. */
void dashboard_progress(struct dash_progress *p, long long total, long long labeled,
    long long approved, long long skipped, long long requeued, long long rejections,
    long long leased_queued, long long leased_skipped, long long leased_requeued);

/* The DASH_DAYS dates ending with today ("YYYY-MM-DD"), oldest first, into
 * days[].day (answers set to 0).  0, or -1 when today is not a date. */
int dashboard_days(struct dash_day *days, const char *today);

#endif
