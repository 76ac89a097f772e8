/*
 * metrics.c: GET /metrics, the process's counters in the Prometheus text
 * format, and each project's queue depth from project_counters.  Who may
 * read it is the route's need NEED_METRICS_ADDR.  It answers without the
 * database too (labeld_database_up 0): that is when it is most wanted.
 */
#include "app.h"
#include "buf.h"
#include "db.h"
#include "handlers.h"
#include "metrics.h"
#include "request.h"
#include "response.h"

void handle_metrics(struct request *r)
{
	struct db_result *res = NULL;
	struct buf b;
	int up = db_ensure(r->db) == DB_OK;

	buf_init(&b, r->arena);
	metrics_render(&b, r->app->routes, r->app->nroutes);
	/* One row per project, kept in step with every change: no scan of items. */
	if (up && db_query(r->db, r->arena, &res,
	    "SELECT project_id, CAST(items_total AS SIGNED) - CAST(items_labeled AS SIGNED) "
	    "FROM project_counters ORDER BY project_id", "") != DB_OK)
		up = 0;
	buf_adds(&b, "# HELP labeld_database_up Whether MariaDB answered this scrape (1) or not (0).\n"
	    "# TYPE labeld_database_up gauge\n");
	buf_printf(&b, "labeld_database_up %d\n", up);
	buf_adds(&b, "# HELP labeld_queue_depth Items of a project not labeled yet (project_counters).\n"
	    "# TYPE labeld_queue_depth gauge\n");
	for (size_t i = 0; up && res != NULL && i < res->nrows; i++)
		buf_printf(&b, "labeld_queue_depth{project=\"%lld\"} %lld\n",
		    db_int(res, i, 0), db_int(res, i, 1));
	if (b.failed) {
		resp_text(r, 500, "out of memory\n");
		return;
	}
	resp_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
}
