/*
 * metrics.c: per-process counters and their text for GET /metrics.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"
#include "router.h"

/* Upper bounds of the latency buckets, in microseconds; +Inf follows. */
static const unsigned long long bucket_us[] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

static const char *const method_names[] = { "GET", "HEAD", "POST", "OTHER" };
#define NMETHODS (sizeof(method_names) / sizeof(method_names[0]))

/* One route and method: requests by status class (1xx..5xx) and the
 * latency histogram, each bucket counted on its own (the text sums them). */
struct cell {
	unsigned long long status[5];
	unsigned long long bucket[NBUCKETS + 1];
	unsigned long long sum_us;
};

static unsigned long long counters[METRIC_COUNTERS];
static long long jobs_running;
/* [METRICS_MAX_ROUTES] is the requests no route matched. */
static struct cell cells[METRICS_MAX_ROUTES + 1][NMETHODS];

static const struct {
	const char *name, *type, *help;
} counter_info[METRIC_COUNTERS] = {
	[METRIC_ANSWERS_STORED] = { "labeld_answers_stored_total", "counter",
	    "Answers stored by this process." },
	[METRIC_LEASES_GRANTED] = { "labeld_leases_granted_total", "counter",
	    "Items handed to labelers by this process (an item a labeler still holds is handed to it again)." },
	[METRIC_LEASES_EXPIRED] = { "labeld_leases_expired_total", "counter",
	    "Answers and skips refused by this process because the labeler's lease had ended and the item had moved on." },
	[METRIC_JOBS_STARTED] = { "labeld_jobs_started_total", "counter",
	    "Background jobs this process claimed." },
	[METRIC_JOBS_FAILED] = { "labeld_jobs_failed_total", "counter",
	    "Background jobs of this process that ended failed." },
	[METRIC_DB_ERRORS] = { "labeld_database_errors_total", "counter",
	    "MariaDB statements and connection attempts of this process that failed (a duplicate key is not counted)." },
	[METRIC_DB_RECONNECTS] = { "labeld_database_reconnects_total", "counter",
	    "MariaDB connections this process made again after losing one." },
};

static void add(unsigned long long *p, unsigned long long n)
{
	__atomic_fetch_add(p, n, __ATOMIC_RELAXED);
}

static unsigned long long get(const unsigned long long *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void metrics_add(enum metrics_counter c, unsigned long long n)
{
	if ((unsigned)c < METRIC_COUNTERS)
		add(&counters[c], n);
}

void metrics_jobs_running(int delta)
{
	__atomic_fetch_add(&jobs_running, (long long)delta, __ATOMIC_RELAXED);
}

static size_t method_index(const char *m)
{
	for (size_t i = 0; i + 1 < NMETHODS; i++)
		if (strcmp(m, method_names[i]) == 0)
			return i;
	return NMETHODS - 1;
}

void metrics_request(long route_index, const char *method, int status, double seconds)
{
	size_t ri = route_index >= 0 && route_index < METRICS_MAX_ROUTES ?
	    (size_t)route_index : METRICS_MAX_ROUTES;
	struct cell *c = &cells[ri][method_index(method)];
	unsigned long long us = seconds > 0 ? (unsigned long long)(seconds * 1e6) : 0;
	size_t b = 0;

	while (b < NBUCKETS && us > bucket_us[b])
		b++;
	if (status >= 100 && status < 600)
		add(&c->status[status / 100 - 1], 1);
	add(&c->bucket[b], 1);
	add(&c->sum_us, us);
}

/* A label value: backslash, quote and newline escaped. */
static void add_label(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			buf_addc(b, '\\');
		if (*s == '\n')
			buf_adds(b, "\\n");
		else
			buf_addc(b, *s);
	}
}

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void route_labels(struct buf *b, const char *pattern, size_t m)
{
	buf_adds(b, "route=\"");
	add_label(b, pattern);
	buf_printf(b, "\",method=\"%s\"", method_names[m]);
}

void metrics_render(struct buf *b, const struct route *table, size_t n)
{
	size_t nr = n < METRICS_MAX_ROUTES ? n : METRICS_MAX_ROUTES;

	head(b, "labeld_http_requests_total", "counter",
	    "HTTP requests this process answered, by route pattern, method and status class.");
	for (size_t r = 0; r <= METRICS_MAX_ROUTES; r++) {
		if (r >= nr && r != METRICS_MAX_ROUTES)
			continue;
		for (size_t m = 0; m < NMETHODS; m++)
			for (size_t s = 0; s < 5; s++) {
				unsigned long long v = get(&cells[r][m].status[s]);
				if (v == 0)
					continue;
				buf_adds(b, "labeld_http_requests_total{");
				route_labels(b, r < nr ? table[r].pattern : "unmatched", m);
				buf_printf(b, ",status=\"%zuxx\"} %llu\n", s + 1, v);
			}
	}
	head(b, "labeld_http_request_duration_seconds", "histogram",
	    "Time from a request's start to its answer, by route pattern and method.");
	for (size_t r = 0; r <= METRICS_MAX_ROUTES; r++) {
		if (r >= nr && r != METRICS_MAX_ROUTES)
			continue;
		for (size_t m = 0; m < NMETHODS; m++) {
			const struct cell *c = &cells[r][m];
			const char *pattern = r < nr ? table[r].pattern : "unmatched";
			unsigned long long v[NBUCKETS + 1], total = 0;
			for (size_t k = 0; k <= NBUCKETS; k++)
				total += v[k] = get(&c->bucket[k]);
			if (total == 0)
				continue;
			total = 0;
			for (size_t k = 0; k <= NBUCKETS; k++) {
				total += v[k];
				buf_adds(b, "labeld_http_request_duration_seconds_bucket{");
				route_labels(b, pattern, m);
				if (k < NBUCKETS)
					buf_printf(b, ",le=\"%g\"} %llu\n", (double)bucket_us[k] / 1e6, total);
				else
					buf_printf(b, ",le=\"+Inf\"} %llu\n", total);
			}
			buf_adds(b, "labeld_http_request_duration_seconds_sum{");
			route_labels(b, pattern, m);
			buf_printf(b, "} %.6f\n", (double)get(&c->sum_us) / 1e6);
			buf_adds(b, "labeld_http_request_duration_seconds_count{");
			route_labels(b, pattern, m);
			buf_printf(b, "} %llu\n", total);
		}
	}
	for (size_t i = 0; i < METRIC_COUNTERS; i++) {
		head(b, counter_info[i].name, counter_info[i].type, counter_info[i].help);
		buf_printf(b, "%s %llu\n", counter_info[i].name, get(&counters[i]));
	}
	head(b, "labeld_jobs_running", "gauge", "Background jobs running in this process now.");
	buf_printf(b, "labeld_jobs_running %lld\n", __atomic_load_n(&jobs_running, __ATOMIC_RELAXED));
}

/* ------------------------------------------------------------ addresses */

struct net {
	int family;
	unsigned char addr[16];
	unsigned bits;
};

/* One word of the list (or a client's address, without "/len"): 0 or -1. */
static int net_parse(const char *s, size_t len, struct net *n)
{
	char text[INET6_ADDRSTRLEN + 8];
	char *slash, *end;

	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	slash = strchr(text, '/');
	if (slash != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, text, n->addr) == 1) {
		n->family = AF_INET;
		n->bits = 32;
	} else if (inet_pton(AF_INET6, text, n->addr) == 1) {
		n->family = AF_INET6;
		n->bits = 128;
	} else {
		return -1;
	}
	if (slash != NULL) {
		unsigned long v;
		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		v = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || v > n->bits)
			return -1;
		n->bits = (unsigned)v;
	}
	return 0;
}

static int net_contains(const struct net *net, const struct net *a)
{
	unsigned full = net->bits / 8, rest = net->bits % 8;

	if (net->family != a->family)
		return 0;
	if (memcmp(net->addr, a->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((net->addr[full] ^ a->addr[full]) & (unsigned char)(0xff << (8 - rest))) == 0;
}

int metrics_addr_allowed(const char *list, const char *addr)
{
	struct net a, net;

	if (list == NULL || addr == NULL || strchr(addr, '/') != NULL ||
	    net_parse(addr, strlen(addr), &a) < 0)
		return 0;
	/* An IPv4 client on an IPv6 socket: ::ffff:a.b.c.d is a.b.c.d. */
	if (a.family == AF_INET6 && memcmp(a.addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memmove(a.addr, a.addr + 12, 4);
		a.family = AF_INET;
		a.bits = 32;
	}
	while (*list != '\0') {
		size_t len;
		list += strspn(list, " \t,");
		len = strcspn(list, " \t,");
		if (len > 0 && net_parse(list, len, &net) == 0 && net_contains(&net, &a))
			return 1;
		list += len;
	}
	return 0;
}

int metrics_allow_check(const char *list, char *err, size_t errlen)
{
	struct net net;

	while (*list != '\0') {
		size_t len;
		list += strspn(list, " \t,");
		len = strcspn(list, " \t,");
		if (len > 0 && net_parse(list, len, &net) < 0) {
			snprintf(err, errlen, "'%.*s' is not an address or network", (int)(len > 60 ? 60 : len), list);
			return -1;
		}
		list += len;
	}
	return 0;
}
