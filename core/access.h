/*
 * access.h: the one rule of who may see what, and what ends when someone
 * loses access.
 *
 * An admin sees everything.  Anyone else (a labeler) sees a project when
 * one of the teams they are in serves it (sql/015_people_teams.sql), and
 * nothing else of it: not its id, its items, images, exports or datasets.
 * The dispatcher applies the rule to every route marked NEED_PROJECT
 * (router.h, routes.c) before the handler runs and answers 404 otherwise,
 * so a forged id tells nothing; lists (the projects page) filter with
 * ACCESS_MEMBER_SQL.  Nothing else decides access.
 */
#ifndef LABELD_ACCESS_H
#define LABELD_ACCESS_H

struct arena;
struct db;
struct session;

/* A condition, true when user ? (one parameter, after whatever comes
 * before it) is in a team that serves the project in column `col`:
 *   "... WHERE p.id = ? AND " ACCESS_MEMBER_SQL("p.id")  with params "ii". */
#define ACCESS_MEMBER_SQL(col) ACCESS_MEMBER_OF(col, "?")

/* The same condition for the user in column (or expression) `user`, for
 * statements that find the user themselves (a route's preload: the
 * session and the page in one statement, queue.c). */
#define ACCESS_MEMBER_OF(col, user) \
	"EXISTS (SELECT 1 FROM project_teams pt_ JOIN team_members tm_ " \
	"ON tm_.team_id = pt_.team_id WHERE pt_.project_id = " col " AND tm_.user_id = " user ")"

/* The same for a reviewer: user `user` is marked reviewer in a team that
 * serves the project in column `col`. */
#define ACCESS_REVIEWER_OF(col, user) \
	"EXISTS (SELECT 1 FROM project_teams pt_ JOIN team_members tm_ " \
	"ON tm_.team_id = pt_.team_id WHERE pt_.project_id = " col " AND tm_.user_id = " user \
	" AND tm_.reviewer = 1)"

/* Whether session s may see project project_id: *allowed 1 or 0 (also 0
 * for a project that does not exist, or without a session), and, when
 * reviewer is not NULL, whether s may review it (*reviewer 1 or 0): an
 * admin, or someone a team that serves the project marks as its reviewer
 * (the Dashboard, the Data tab, Reject, Approve, the review queue).
 * DB_OK or DB_*. */
int access_project(struct db *db, struct arena *a, const struct session *s,
    long long project_id, int *allowed, int *reviewer);

/* Return to the queue the leases user_id holds in projects they may no
 * longer see (all of them when all_projects, as for a person disabled or
 * removed), recording 'released' events; an admin keeps theirs unless
 * all_projects.  Runs inside the caller's open transaction, after the
 * change that took the access away (it reads the teams as that
 * transaction sees them), so the change and the leases are one state
 * change: no commit, no retry.  On DB_RETRY the transaction is over (the
 * caller starts it again); on any other error the caller rolls back.
 * *released (may be NULL) gets how many.  The review leases they may no
 * longer hold end too (access_review_leases_end_tx).  DB_OK or DB_*. */
int access_leases_revoke_tx(struct db *db, long long user_id, int all_projects,
    unsigned long long *released);

/* End the review leases (items.review_*, docs/review.md) user_id holds in
 * projects they may no longer review (all of them when all_projects), as
 * access_leases_revoke_tx does for labeling leases (which calls this
 * too): inside the caller's open transaction, after the change.  *ended
 * (may be NULL) gets how many.  DB_OK or DB_*. */
int access_review_leases_end_tx(struct db *db, long long user_id, int all_projects,
    unsigned long long *ended);

/* End every session of user_id at once (disabled, removed, or a new
 * password: keep_hash, when not NULL, is the one session to keep).  DB_OK
 * or DB_*. */
int access_sessions_end(struct db *db, long long user_id, const unsigned char *keep_hash);

#endif
