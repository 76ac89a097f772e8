/*
 * dashboard.h: the numbers of a project's Dashboard tab (docs/review.md,
 * "Dashboard"), read from the counters that the transactions changing
 * items keep (project_counters, label_counts, labeler_days) and from
 * bounded index reads: the live leases, and each labeler's last
 * DASH_MEDIAN_OF answers.  Nothing here counts the project's items or
 * annotations, so the page costs the same at ten items as at a million.
 */
#ifndef LABELD_DASHBOARD_H
#define LABELD_DASHBOARD_H

#include <stddef.h>

struct arena;
struct db;

/* Days in the answers-per-day chart, today (UTC) the last. */
#define DASH_DAYS 30
/* The seconds per item of a labeler: the median of their last this many
 * answers in the project (odd, so the median is one of them). */
#define DASH_MEDIAN_OF 101

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
	long long median_ms;        /* -1 when none of the read answers has a time */
	size_t timed;               /* how many answers the median was taken over */
	const char *last_active;    /* newest answer, "YYYY-MM-DD HH:MM" UTC; NULL when none */
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

/* The median of v[0..n-1] (sorted in place): the middle value, or for an
 * even n the mean of the two middle ones rounded down; -1 when n is 0. */
long long dashboard_median(long long *v, size_t n);

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
