/* Unit tests: /metrics addresses (metrics_allow) and the text of the counters. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "metrics.h"
#include "router.h"

START_TEST(allowed_addresses)
{
	const char *dflt = "127.0.0.1 ::1";
	char err[128];

	ck_assert_int_eq(metrics_addr_allowed(dflt, "127.0.0.1"), 1);
	ck_assert_int_eq(metrics_addr_allowed(dflt, "::1"), 1);
	ck_assert_int_eq(metrics_addr_allowed(dflt, "0:0::1"), 1);
	ck_assert_int_eq(metrics_addr_allowed(dflt, "::ffff:127.0.0.1"), 1);
	ck_assert_int_eq(metrics_addr_allowed(dflt, "127.0.0.9"), 0);
	ck_assert_int_eq(metrics_addr_allowed(dflt, "192.0.2.1"), 0);
	ck_assert_int_eq(metrics_addr_allowed(dflt, ""), 0);
	ck_assert_int_eq(metrics_addr_allowed(dflt, "127.0.0.1/8"), 0);
	ck_assert_int_eq(metrics_addr_allowed("10.1.0.0/16, 2001:db8::/32", "10.1.200.3"), 1);
	ck_assert_int_eq(metrics_addr_allowed("10.1.0.0/16, 2001:db8::/32", "10.2.0.1"), 0);
	ck_assert_int_eq(metrics_addr_allowed("10.1.0.0/16, 2001:db8::/32", "2001:db8:5::7"), 1);
	ck_assert_int_eq(metrics_addr_allowed("192.0.2.128/25", "192.0.2.127"), 0);
	ck_assert_int_eq(metrics_addr_allowed("192.0.2.128/25", "192.0.2.200"), 1);
	ck_assert_int_eq(metrics_addr_allowed("", "127.0.0.1"), 0);
	ck_assert_int_eq(metrics_allow_check(dflt, err, sizeof(err)), 0);
	ck_assert_int_eq(metrics_allow_check("", err, sizeof(err)), 0);
	ck_assert_int_eq(metrics_allow_check("127.0.0.1 localhost", err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "'localhost'") != NULL, "%s", err);
	ck_assert_int_eq(metrics_allow_check("10.0.0.0/33", err, sizeof(err)), -1);
}
END_TEST

static void h(struct request *r) { (void)r; }

/* The value of the sample line that starts with prefix, or -1. */
static double sample(const char *text, const char *prefix)
{
	const char *p = text;

	while ((p = strstr(p, prefix)) != NULL) {
		if (p == text || p[-1] == '\n')
			return strtod(p + strlen(prefix), NULL);
		p++;
	}
	return -1;
}

START_TEST(render_counts_and_histograms)
{
	static const struct route table[] = {
		{ "GET", "/healthz", h, 0, NULL },
		{ "POST", "/projects/:id/items/:item", h, 0, NULL },
	};
	struct arena *a = arena_new();
	struct buf b;
	const char *l = "labeld_http_request_duration_seconds_bucket{route=\"/healthz\",method=\"GET\",";

	metrics_request(0, "GET", 200, 0.0004);
	metrics_request(0, "GET", 200, 0.003);
	metrics_request(0, "GET", 503, 20.0);
	metrics_request(1, "POST", 303, 0.02);
	metrics_request(-1, "PUT", 405, 0.0001);
	metrics_add(METRIC_ANSWERS_STORED, 2);
	buf_init(&b, a);
	metrics_render(&b, table, 2);
	ck_assert(!b.failed);
	buf_addc(&b, '\0');
	ck_assert_double_eq(sample(b.data, "labeld_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"2xx\"} "), 2);
	ck_assert_double_eq(sample(b.data, "labeld_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"5xx\"} "), 1);
	ck_assert_double_eq(sample(b.data,
	    "labeld_http_requests_total{route=\"/projects/:id/items/:item\",method=\"POST\",status=\"3xx\"} "), 1);
	ck_assert_double_eq(sample(b.data, "labeld_http_requests_total{route=\"unmatched\",method=\"OTHER\",status=\"4xx\"} "), 1);
	/* Cumulative: each bucket counts every faster request too. */
	char want[200];
	snprintf(want, sizeof(want), "%sle=\"0.0005\"} ", l);
	ck_assert_double_eq(sample(b.data, want), 1);
	snprintf(want, sizeof(want), "%sle=\"0.005\"} ", l);
	ck_assert_double_eq(sample(b.data, want), 2);
	snprintf(want, sizeof(want), "%sle=\"10\"} ", l);
	ck_assert_double_eq(sample(b.data, want), 2);
	snprintf(want, sizeof(want), "%sle=\"+Inf\"} ", l);
	ck_assert_double_eq(sample(b.data, want), 3);
	ck_assert_double_eq(sample(b.data,
	    "labeld_http_request_duration_seconds_count{route=\"/healthz\",method=\"GET\"} "), 3);
	ck_assert_double_eq_tol(sample(b.data,
	    "labeld_http_request_duration_seconds_sum{route=\"/healthz\",method=\"GET\"} "), 20.0034, 1e-6);
	ck_assert_double_eq(sample(b.data, "labeld_answers_stored_total "), 2);
	ck_assert_ptr_nonnull(strstr(b.data, "# TYPE labeld_http_request_duration_seconds histogram\n"));
	arena_free(a);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *t = tcase_create("metrics");
	tcase_add_test(t, allowed_addresses);
	tcase_add_test(t, render_counts_and_histograms);
	suite_add_tcase(s, t);
	return s;
}

#include "unit.h"
