/*
 * metrics.h: the process's counters for GET /metrics (Prometheus text
 * exposition format 0.0.4).
 *
 * Every counter belongs to this process and is a relaxed atomic: counting
 * takes no lock, so the hot paths (every request, every answer) only add.
 * Which addresses may read them is the route's need NEED_METRICS_ADDR
 * (request.c) with the list in labeld.conf "metrics_allow".
 */
#ifndef LABELD_METRICS_H
#define LABELD_METRICS_H

#include <stddef.h>

struct buf;
struct route;

enum metrics_counter {
	METRIC_ANSWERS_STORED,   /* answers written (queue_submit said QUEUE_OK) */
	METRIC_LEASES_GRANTED,   /* items handed to labelers (queue_lease_next QUEUE_OK) */
	METRIC_LEASES_EXPIRED,   /* answers or skips refused: the lease had ended (QUEUE_STALE) */
	METRIC_JOBS_STARTED,     /* background jobs this process claimed */
	METRIC_JOBS_FAILED,      /* of those, the ones that ended failed */
	METRIC_DB_ERRORS,        /* MariaDB statements or connects that failed */
	METRIC_DB_RECONNECTS,    /* connections made again after one was lost */
	METRIC_COUNTERS
};

/* The most routes a table may have for per-route metrics; requests of
 * routes beyond it count as unmatched. */
#define METRICS_MAX_ROUTES 96

/* Add n to a counter. */
void metrics_add(enum metrics_counter c, unsigned long long n);

/* The jobs running in this process: +1 when one starts, -1 when it ends. */
void metrics_jobs_running(int delta);

/* Count one request: route_index is its route's index in the table (or
 * -1 when no route matched), method the request's method, status its
 * HTTP status and seconds how long it took. */
void metrics_request(long route_index, const char *method, int status, double seconds);

/* Append every process metric in the text format to b, route labels from
 * table (the one whose indexes metrics_request was given). */
void metrics_render(struct buf *b, const struct route *table, size_t n);

/* Does the space-separated list of addresses and networks (a.b.c.d,
 * a.b.c.d/len, IPv6 likewise) contain addr?  0 or 1; a word that is no
 * address never matches (config validation refuses such lists). */
int metrics_addr_allowed(const char *list, const char *addr);

/* Check such a list: 0, or -1 with the first bad word in err. */
int metrics_allow_check(const char *list, char *err, size_t errlen);

#endif
