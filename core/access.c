/*
 * access.c: the one rule of who may see what (access.h).
 */
#include <stdint.h>
#include <string.h>

#include "access.h"
#include "db.h"
#include "session.h"

int access_project(struct db *db, struct arena *a, const struct session *s,
    long long project_id, int *allowed, int *reviewer)
{
	struct db_result *res;
	int rc;

	*allowed = 0;
	if (reviewer != NULL)
		*reviewer = 0;
	if (s == NULL || project_id <= 0)
		return DB_OK;
	if (s->is_admin) {
		/* Admins see every project that exists; the handler's own
		 * lookup answers 404 for one that does not. */
		*allowed = 1;
		if (reviewer != NULL)
			*reviewer = 1;
		return DB_OK;
	}
	rc = db_query(db, a, &res, "SELECT " ACCESS_MEMBER_SQL("?") ", "
	    ACCESS_REVIEWER_OF("?", "?"), "iiii", project_id, s->user_id, project_id, s->user_id);
	if (rc != DB_OK)
		return rc;
	*allowed = res->nrows == 1 && db_int(res, 0, 0) == 1;
	if (reviewer != NULL)
		*reviewer = *allowed && db_int(res, 0, 1) == 1;
	return DB_OK;
}

/* The leases to revoke: held by user ? in a project they may not see (or
 * any, when the second parameter is 1), unless they are an admin and the
 * second parameter is 0. */
#define REVOKED \
	"lease_user = ? AND (? = 1 OR (NOT (SELECT is_admin FROM users WHERE id = lease_user) " \
	"AND NOT " ACCESS_MEMBER_SQL("items.project_id") "))"

int access_leases_revoke_tx(struct db *db, long long user_id, int all_projects,
    unsigned long long *released)
{
	uint64_t n = 0;
	int rc;

	if (released != NULL)
		*released = 0;
	rc = db_exec(db, 0, NULL, NULL,
	    "INSERT INTO item_events (item_id, project_id, user_id, kind) "
	    "SELECT id, project_id, lease_user, 'released' FROM items "
	    "WHERE " REVOKED " AND state = 'unlabeled' AND lease_until > NOW(6)",
	    "iii", user_id, (long long)(all_projects != 0), user_id);
	if (rc == DB_OK)
		rc = db_exec(db, 0, &n, NULL,
		    "UPDATE items SET lease_user = NULL, lease_until = NULL, lease_token = NULL, "
		    "version = version + 1 WHERE " REVOKED,
		    "iii", user_id, (long long)(all_projects != 0), user_id);
	if (rc == DB_OK && released != NULL)
		*released = n;
	if (rc == DB_OK)
		rc = access_review_leases_end_tx(db, user_id, all_projects, NULL);
	return rc;
}

/* The review leases to end: held by user ? in a project they may not
 * review (or any, when the second parameter is 1), unless they are an
 * admin and the second parameter is 0. */
#define REVIEW_REVOKED \
	"review_user = ? AND (? = 1 OR (NOT (SELECT is_admin FROM users WHERE id = review_user) " \
	"AND NOT " ACCESS_REVIEWER_OF("items.project_id", "items.review_user") "))"

int access_review_leases_end_tx(struct db *db, long long user_id, int all_projects,
    unsigned long long *ended)
{
	uint64_t n = 0;
	int rc = db_exec(db, 0, &n, NULL,
	    "UPDATE items SET review_user = NULL, review_until = NULL, review_token = NULL "
	    "WHERE " REVIEW_REVOKED, "ii", user_id, (long long)(all_projects != 0));

	if (rc == DB_OK && ended != NULL)
		*ended = n;
	return rc;
}

int access_sessions_end(struct db *db, long long user_id, const unsigned char *keep_hash)
{
	if (keep_hash != NULL)
		return db_exec(db, 0, NULL, NULL,
		    "DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?", "ib", user_id,
		    keep_hash, (size_t)32);
	return db_exec(db, 0, NULL, NULL, "DELETE FROM sessions WHERE user_id = ?", "i", user_id);
}
