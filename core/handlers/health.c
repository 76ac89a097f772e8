/*
 * health.c: GET /healthz for load balancers and benchmarks.
 */
#include "db.h"
#include "handlers.h"
#include "request.h"
#include "response.h"

void handle_healthz(struct request *r)
{
	if (db_ping(r->db) == DB_OK)
		resp_text(r, 200, "ok\n");
	else
		resp_text(r, 503, "database unavailable\n");
}
