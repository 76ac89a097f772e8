/*
 * dashboard.c: a project's Dashboard tab (GET /projects/:id/dashboard,
 * reviewers and admins: the route table's REVIEWER).  The numbers come from
 * core/dashboard.c; this file turns them into the page: a stacked progress
 * bar and two charts drawn as inline SVG (geometry computed here, markup in
 * templates/project_dashboard.html), each with a title, a description and
 * a table of the same numbers for screen readers, and the labelers' table.
 * No JavaScript, no inline styles (the CSP forbids them): colours come
 * from classes in labeld.css.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "catalog.h"
#include "dashboard.h"
#include "db.h"
#include "handlers.h"
#include "project_rules.h"
#include "request.h"
#include "response.h"
#include "session.h"

/* The progress bar's width in SVG units (its viewBox; the page scales it). */
#define BAR_W 1000.0
/* The class chart (viewBox 460 wide): a row per class. */
#define CLASS_ROW 26
#define CLASS_NAME_W 150.0   /* right edge of the names */
#define CLASS_BAR_X 158.0
#define CLASS_BAR_W 230.0
#define CLASS_NAME_MAX 20    /* characters of a name in the chart (the table has all) */
/* The days chart (viewBox 472 x 160): a column per day. */
#define DAY_X0 34.0
#define DAY_COL 14.0
#define DAY_BAR 10.0
#define DAY_TOP 12.0
#define DAY_H 120.0

/* n with thin gaps between its thousands ("1 234 567"), in the arena. */
static const char *num(struct arena *a, long long n)
{
	char digits[24], out[40];
	int len, o = (int)sizeof(out) - 1;

	len = snprintf(digits, sizeof(digits), "%lld", n < 0 ? 0 : n);
	out[o] = '\0';
	for (int i = len - 1, k = 0; i >= 0; i--, k++) {
		if (k > 0 && k % 3 == 0)
			out[--o] = ' ';
		out[--o] = digits[i];
	}
	return arena_strdup(a, out + o);
}

/* A "nice" top for an axis holding max: 1, 2 or 5 times a power of ten. */
static long long nice_top(long long max)
{
	long long step = 1;

	if (max <= 0)
		return 1;
	for (;;) {
		if (max <= step)
			return step;
		if (max <= 2 * step)
			return 2 * step;
		if (max <= 5 * step)
			return 5 * step;
		step *= 10;
	}
}

/* The progress: numbers, legend and the bar's segments (every item once). */
static struct json_object *progress_view(struct request *r, const struct dash_progress *p)
{
	const struct {
		const char *kind, *title, *hint;
		long long n;
	} seg[] = {
		{ "approved", "Approved", "a review approved the answer", p->approved },
		{ "labeled", "Labeled", "answered, waiting for review", p->waiting },
		{ "leased", "Leased", "someone is labeling it now", p->leased },
		{ "requeued", "Rejected, requeued", "a review rejected the answer; back in the queue",
		  p->requeued },
		{ "skipped", "Skipped", "a labeler skipped it; others still get it", p->skipped },
		{ "queued", "Queued", "nobody answered it yet", p->queued },
	};
	struct json_object *o = json_object_new_object(), *list = json_object_new_array();
	long long sum = 0;

	for (size_t i = 0; i < sizeof(seg) / sizeof(seg[0]); i++) {
		struct json_object *s = json_object_new_object();
		double x = p->total > 0 ? BAR_W * (double)sum / (double)p->total : 0;
		double w = p->total > 0 ? BAR_W * (double)seg[i].n / (double)p->total : 0;
		sum += seg[i].n;
		view_str(s, "kind", seg[i].kind);
		view_str(s, "title", seg[i].title);
		view_str(s, "hint", seg[i].hint);
		view_str(s, "n", num(r->arena, seg[i].n));
		view_bool(s, "drawn", seg[i].n > 0 && p->total > 0);
		view_str(s, "x", arena_printf(r->arena, "%.2f", x));
		view_str(s, "w", arena_printf(r->arena, "%.2f", w));
		view_str(s, "share", p->total > 0 ? arena_printf(r->arena, "%.1f%%",
		    100.0 * (double)seg[i].n / (double)p->total) : "\u2013");
		json_object_array_add(list, s);
	}
	json_object_object_add(o, "segments", list);
	view_str(o, "total", num(r->arena, p->total));
	view_str(o, "done", num(r->arena, p->approved + p->waiting));
	view_str(o, "percent", arena_printf(r->arena, "%lld.%lld%%", p->percent10 / 10,
	    p->percent10 % 10));
	view_str(o, "rejections", num(r->arena, p->rejections));
	view_bool(o, "empty", p->total == 0);
	return o;
}

/* Answers per class: a horizontal bar each, in label order. */
static struct json_object *classes_view(struct request *r, const struct dashboard *d)
{
	struct json_object *o = json_object_new_object(), *list = json_object_new_array();
	long long max = 0, sum = 0;

	for (size_t i = 0; i < d->nclasses; i++) {
		if (d->classes[i].answers > max)
			max = d->classes[i].answers;
		sum += d->classes[i].answers;
	}
	for (size_t i = 0; i < d->nclasses; i++) {
		const struct dash_class *c = &d->classes[i];
		struct json_object *s = json_object_new_object();
		char shown[CLASS_NAME_MAX * 4 + 8];
		double y = (double)(i * CLASS_ROW);
		double w = max > 0 ? CLASS_BAR_W * (double)c->answers / (double)max : 0;
		rules_display(c->name, CLASS_NAME_MAX, shown, sizeof(shown));
		view_str(s, "name", c->name);
		view_str(s, "short", shown);
		view_str(s, "n", num(r->arena, c->answers));
		view_str(s, "y", arena_printf(r->arena, "%.0f", y + 4));
		view_str(s, "ty", arena_printf(r->arena, "%.0f", y + 18));
		view_str(s, "w", arena_printf(r->arena, "%.1f", w));
		view_str(s, "nx", arena_printf(r->arena, "%.1f", CLASS_BAR_X + w + 6));
		json_object_array_add(list, s);
	}
	json_object_object_add(o, "rows", list);
	view_int(o, "height", (long long)(d->nclasses * CLASS_ROW + 4));
	view_str(o, "name_x", arena_printf(r->arena, "%.0f", CLASS_NAME_W));
	view_str(o, "bar_x", arena_printf(r->arena, "%.0f", CLASS_BAR_X));
	view_str(o, "sum", num(r->arena, sum));
	view_bool(o, "has_rows", d->nclasses > 0);
	view_str(o, "desc", arena_printf(r->arena, "%zu classes; the most answered has %s answers.",
	    d->nclasses, num(r->arena, max)));
	return o;
}

/* Answers per day: a column each, oldest first, a tick every seventh day
 * counted back from today. */
static struct json_object *days_view(struct request *r, const struct dashboard *d)
{
	struct json_object *o = json_object_new_object(), *list = json_object_new_array();
	long long max = 0, sum = 0, top;

	for (int i = 0; i < DASH_DAYS; i++) {
		if (d->days[i].answers > max)
			max = d->days[i].answers;
		sum += d->days[i].answers;
	}
	top = nice_top(max);
	for (int i = 0; i < DASH_DAYS; i++) {
		const struct dash_day *day = &d->days[i];
		struct json_object *s = json_object_new_object();
		double h = DAY_H * (double)day->answers / (double)top;
		double x = DAY_X0 + DAY_COL * i + (DAY_COL - DAY_BAR) / 2;
		view_str(s, "day", day->day);
		view_str(s, "n", num(r->arena, day->answers));
		view_str(s, "x", arena_printf(r->arena, "%.1f", x));
		view_str(s, "y", arena_printf(r->arena, "%.1f", DAY_TOP + DAY_H - h));
		view_str(s, "h", arena_printf(r->arena, "%.1f", h));
		if ((DASH_DAYS - 1 - i) % 7 == 0) {
			view_bool(s, "tick", 1);
			view_str(s, "tx", arena_printf(r->arena, "%.1f", x + DAY_BAR / 2));
			view_str(s, "label", day->day + 5);   /* MM-DD */
		}
		json_object_array_add(list, s);
	}
	json_object_object_add(o, "rows", list);
	view_str(o, "top", num(r->arena, top));
	view_str(o, "half", (top % 2) == 0 ? num(r->arena, top / 2) : "");
	view_str(o, "sum", num(r->arena, sum));
	view_str(o, "first", d->days[0].day);
	view_str(o, "last", d->days[DASH_DAYS - 1].day);
	view_str(o, "max", num(r->arena, max));
	return o;
}

/* The labelers' table.  A reviewer sees display names only (docs/access.md:
 * addresses are for admins). */
static struct json_object *labelers_view(struct request *r, const struct dashboard *d)
{
	struct json_object *list = json_object_new_array();
	int admin = r->session->is_admin;

	for (size_t i = 0; i < d->nlabelers; i++) {
		const struct dash_labeler *l = &d->labelers[i];
		struct json_object *s = json_object_new_object();
		const char *name = l->display_name;
		if (name[0] == '\0')
			name = admin && l->email ? l->email :
			    arena_printf(r->arena, "Labeler #%lld", l->user_id);
		view_str(s, "name", name);
		if (admin && l->display_name[0] != '\0')
			view_str(s, "email", l->email);
		view_str(s, "answered", num(r->arena, l->answered));
		view_str(s, "skipped", num(r->arena, l->skipped));
		view_str(s, "rejected", num(r->arena, l->rejected));
		view_str(s, "approved", num(r->arena, l->approved));
		if (l->median_ms >= 0) {
			view_str(s, "median", arena_printf(r->arena, "%lld.%lld", l->median_ms / 1000,
			    l->median_ms % 1000 / 100));
			view_int(s, "timed", l->timed);
		}
		view_str(s, "last_active", l->last_active);
		json_object_array_add(list, s);
	}
	return list;
}

void handle_project_dashboard(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	const char *saved = req_query(r, "saved");
	struct json_object *v, *p;
	struct dashboard d;
	int rc;

	v = project_tab_view(r, id, "Dashboard", "dashboard");
	if (v == NULL)
		return;
	rc = dashboard_load(r->db, r->arena, id, &d);
	if (rc != DB_OK) {
		page_db_error(r, rc, "The dashboard could not be read");
		return;
	}
	json_object_object_get_ex(v, "project", &p);
	json_object_object_add(v, "title", json_object_new_string(arena_printf(r->arena,
	    "Dashboard \xc2\xb7 %s", json_object_get_string(json_object_object_get(p, "name")))));
	json_object_object_add(v, "progress", progress_view(r, &d.progress));
	json_object_object_add(v, "classes", classes_view(r, &d));
	json_object_object_add(v, "days", days_view(r, &d));
	json_object_object_add(v, "labelers", labelers_view(r, &d));
	view_bool(v, "has_labelers", d.nlabelers > 0);
	view_int(v, "ndays", DASH_DAYS);
	view_str(v, "saved", project_state_saved(saved));
	page_render(r, 200, "project_dashboard", v);
}
