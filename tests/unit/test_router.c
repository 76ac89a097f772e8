/* Unit tests: route matching, 404/405 decisions, and the table check. */
#include <check.h>
#include <string.h>

#include "arena.h"
#include "router.h"
#include "routes.h"

static void h_a(struct request *r) { (void)r; }
static void h_b(struct request *r) { (void)r; }

static const struct route table[] = {
	{ "GET", "/", h_a, 0, NULL },
	{ "GET", "/projects", h_a, NEED_LOGIN, NULL },
	{ "POST", "/projects", h_b, NEED_LOGIN | NEED_CSRF, NULL },
	{ "GET", "/projects/:id", h_b, NEED_LOGIN, NULL },
	{ "GET", "/projects/:id/items/:item", h_a, NEED_LOGIN, NULL },
	{ "POST", "/logout", h_b, NEED_LOGIN | NEED_CSRF, NULL },
};
#define N (sizeof(table) / sizeof(table[0]))

START_TEST(literal_and_captures)
{
	struct arena *a = arena_new();
	struct route_params p;
	enum route_status st;
	char allow[64];
	const struct route *r;

	r = router_match(table, N, "GET", "/projects", a, &p, &st, allow, sizeof(allow));
	ck_assert_ptr_eq(r, &table[1]);
	ck_assert_int_eq(st, ROUTE_FOUND);
	r = router_match(table, N, "POST", "/projects", a, &p, &st, allow, sizeof(allow));
	ck_assert_ptr_eq(r, &table[2]);
	r = router_match(table, N, "GET", "/projects/42", a, &p, &st, allow, sizeof(allow));
	ck_assert_ptr_eq(r, &table[3]);
	ck_assert_str_eq(route_param(&p, "id"), "42");
	r = router_match(table, N, "GET", "/projects/7/items/abc", a, &p, &st, allow, sizeof(allow));
	ck_assert_ptr_eq(r, &table[4]);
	ck_assert_str_eq(route_param(&p, "id"), "7");
	ck_assert_str_eq(route_param(&p, "item"), "abc");
	ck_assert_ptr_null(route_param(&p, "nope"));
	/* HEAD is answered by GET routes. */
	r = router_match(table, N, "HEAD", "/", a, &p, &st, allow, sizeof(allow));
	ck_assert_ptr_eq(r, &table[0]);
	arena_free(a);
}
END_TEST

START_TEST(not_found_and_bad_method)
{
	struct arena *a = arena_new();
	struct route_params p;
	enum route_status st;
	char allow[64];

	ck_assert_ptr_null(router_match(table, N, "GET", "/projects/", a, &p, &st, allow, sizeof(allow)));
	ck_assert_int_eq(st, ROUTE_NOT_FOUND);
	ck_assert_ptr_null(router_match(table, N, "GET", "/projects//items/x", a, &p, &st, allow, sizeof(allow)));
	ck_assert_int_eq(st, ROUTE_NOT_FOUND);
	ck_assert_ptr_null(router_match(table, N, "GET", "/projectsx", a, &p, &st, allow, sizeof(allow)));
	ck_assert_int_eq(st, ROUTE_NOT_FOUND);
	ck_assert_ptr_null(router_match(table, N, "GET", "", a, &p, &st, allow, sizeof(allow)));
	ck_assert_int_eq(st, ROUTE_NOT_FOUND);
	ck_assert_ptr_null(router_match(table, N, "DELETE", "/projects", a, &p, &st, allow, sizeof(allow)));
	ck_assert_int_eq(st, ROUTE_BAD_METHOD);
	ck_assert_str_eq(allow, "GET, HEAD, POST");
	ck_assert_ptr_null(router_match(table, N, "GET", "/logout", a, &p, &st, allow, sizeof(allow)));
	ck_assert_int_eq(st, ROUTE_BAD_METHOD);
	ck_assert_str_eq(allow, "POST");
	arena_free(a);
}
END_TEST

START_TEST(table_check)
{
	char err[256];
	const struct route dup[] = { { "GET", "/a", h_a, 0, NULL }, { "GET", "/a", h_b, 0, NULL } };
	const struct route bad1[] = { { "GET", "a", h_a, 0, NULL } };
	const struct route bad2[] = { { "GET", "/a//b", h_a, 0, NULL } };
	const struct route bad3[] = { { "GET", "/a:b", h_a, 0, NULL } };

	ck_assert_int_eq(router_check(table, N, err, sizeof(err)), 0);
	ck_assert_int_eq(router_check(dup, 2, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "twice"));
	ck_assert_int_eq(router_check(bad1, 1, err, sizeof(err)), -1);
	ck_assert_int_eq(router_check(bad2, 1, err, sizeof(err)), -1);
	ck_assert_int_eq(router_check(bad3, 1, err, sizeof(err)), -1);
	/* labeld's own table passes. */
	ck_assert_int_eq(router_check(routes, routes_count, err, sizeof(err)), 0);
}
END_TEST

START_TEST(labeld_routes_need_what_they_should)
{
	/* Every POST checks CSRF; every admin page needs sign-in; files are
	 * taken only by admin POSTs (the wizard's upload step), so nobody
	 * else can make labeld write a temp file. */
	size_t takes_files = 0, metrics = 0;
	for (size_t i = 0; i < routes_count; i++) {
		/* /metrics is for the addresses in metrics_allow only, and
		 * only /metrics is: the dispatcher checks it, not the handler. */
		if (strcmp(routes[i].pattern, "/metrics") == 0) {
			metrics++;
			ck_assert_str_eq(routes[i].method, "GET");
			ck_assert_msg(routes[i].needs & NEED_METRICS_ADDR, "/metrics lacks NEED_METRICS_ADDR");
		} else {
			ck_assert_msg(!(routes[i].needs & NEED_METRICS_ADDR), "%s needs a metrics address",
			    routes[i].pattern);
		}
		if (routes[i].needs & TAKES_FILES) {
			takes_files++;
			ck_assert_str_eq(routes[i].method, "POST");
			ck_assert_msg((routes[i].needs & (NEED_LOGIN | NEED_ADMIN | NEED_CSRF)) ==
			    (NEED_LOGIN | NEED_ADMIN | NEED_CSRF), "%s takes files from non-admins",
			    routes[i].pattern);
		}
		if (strcmp(routes[i].method, "POST") == 0)
			ck_assert_msg(routes[i].needs & NEED_CSRF, "%s lacks CSRF", routes[i].pattern);
		/* Every page of one project asks the one rule of who may
		 * see it (access.h), admin pages too. */
		if (strncmp(routes[i].pattern, "/projects/:id", 13) == 0)
			ck_assert_msg(routes[i].needs & NEED_PROJECT, "%s %s lacks NEED_PROJECT",
			    routes[i].method, routes[i].pattern);
		/* A reviewer's page is one project's page. */
		if (routes[i].needs & NEED_REVIEW)
			ck_assert_msg((routes[i].needs & (NEED_LOGIN | NEED_PROJECT)) ==
			    (NEED_LOGIN | NEED_PROJECT), "%s %s: NEED_REVIEW without NEED_PROJECT",
			    routes[i].method, routes[i].pattern);
		if (strncmp(routes[i].pattern, "/admin", 6) == 0)
			ck_assert_msg((routes[i].needs & (NEED_LOGIN | NEED_ADMIN)) == (NEED_LOGIN | NEED_ADMIN),
			    "%s must need an admin", routes[i].pattern);
	}
	ck_assert_uint_eq(takes_files, 1);
	ck_assert_uint_eq(metrics, 1);
}
END_TEST

START_TEST(need_names)
{
	/* What `labeld --routes` prints for the authorization matrix
	 * (tests/integration/t_authz.c): every need has its name, in bit
	 * order, and a bit without one shows as its value. */
	char out[160], small[8];

	router_need_names(0, out, sizeof(out));
	ck_assert_str_eq(out, "-");
	router_need_names(NEED_DB | NEED_LOGIN | NEED_PROJECT | NEED_CSRF, out, sizeof(out));
	ck_assert_str_eq(out, "login,csrf,db,project");
	router_need_names(NEED_ADMIN | TAKES_FILES | NEED_IMAGE | NEED_METRICS_ADDR, out, sizeof(out));
	ck_assert_str_eq(out, "admin,files,image,metrics-addr");
	router_need_names(1u << 10 | NEED_LOGIN | NEED_REVIEW, out, sizeof(out));
	ck_assert_str_eq(out, "login,review,0x400");
	router_need_names(PATH_SECRET | NEED_DB, out, sizeof(out));
	ck_assert_str_eq(out, "db,path-secret");
	router_need_names(NEED_DB | NEED_LOGIN | NEED_ADMIN, small, sizeof(small));
	ck_assert_str_eq(small, "login");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("router");
	TCase *t = tcase_create("router");
	tcase_add_test(t, literal_and_captures);
	tcase_add_test(t, not_found_and_bad_method);
	tcase_add_test(t, table_check);
	tcase_add_test(t, labeld_routes_need_what_they_should);
	tcase_add_test(t, need_names);
	suite_add_tcase(s, t);
	return s;
}

#include "unit.h"
