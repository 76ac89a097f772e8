/*
 * teams_model.h: teams, the people in them and the projects they serve
 * (sql/015_people_teams.sql), each change in one transaction, and the
 * "Email team" link.
 *
 * Access follows the tables at once (access.h reads them on every
 * request): whoever loses a project by a change here (removed from a team,
 * the team deleted, the team no longer serving a project) gives back the
 * leases they hold in it in the same transaction as the change
 * (access_leases_revoke_tx), so they return to the queue.
 *
 * Return values are the DB_* codes of db.h, plus TEAM_NOT_FOUND.  A
 * transaction that meets a deadlock is run again (up to five times).
 */
#ifndef LABELD_TEAMS_MODEL_H
#define LABELD_TEAMS_MODEL_H

#include <stddef.h>

struct arena;
struct db;

#define TEAM_NOT_FOUND (-11)
#define TEAM_NOT_MEMBER (-12)   /* the person is not (or no longer) in the team */

/* The longest "Email team" link offered, in bytes of the whole URL
 * ("mailto:" included).  Mail handlers cut longer ones without a word:
 * Windows passes at most 2048 characters of a mailto: URL to the mail
 * program, Outlook and older browsers cut near 2083, and a cut list
 * silently leaves people out.  2000 stays under all of them. */
#define TEAM_MAILTO_MAX 2000

/* The mailto: URL for n addresses: each percent-encoded (everything but
 * letters, digits, '-', '.', '_', '~' and '@', so '+', '&', '?', '%', ','
 * and non-ASCII bytes are %XX), joined by ','; no display names.  NULL
 * when it would be longer than max bytes (*too_long = 1) or when out of
 * memory (*too_long = 0).  In the arena. */
char *team_mailto(struct arena *a, const char *const *emails, size_t n, size_t max,
    int *too_long);

/* Create project_id's default team inside the caller's open transaction:
 * "<project_name> team", or "<project_name> team N" (N = 2, 3, ...) when
 * a team has that name already, holding created_by (when > 0) and serving
 * the project.  *team_id (may be NULL) on DB_OK.  On an error the caller
 * rolls back. */
int team_default_create(struct db *db, struct arena *a, const char *project_name,
    long long project_id, long long created_by, long long *team_id);

/* A new team named name (checked with team_name_check, trimmed).
 * DB_DUPLICATE when a team has that name (the database compares without
 * regard to case); *team_id on DB_OK. */
int team_create(struct db *db, const char *name, long long created_by, long long *team_id);

/* Rename team_id.  DB_DUPLICATE when another team has that name,
 * TEAM_NOT_FOUND. */
int team_rename(struct db *db, struct arena *a, long long team_id, const char *name);

/* Put people (user ids; removed people and unknown ids are skipped) in
 * team_id.  *added (may be NULL) gets how many were not in it before.
 * TEAM_NOT_FOUND. */
int team_members_add(struct db *db, struct arena *a, long long team_id,
    const long long *users, size_t n, long long added_by, unsigned long long *added);

/* Take people out of team_id; their leases in projects they can no longer
 * see return to the queue.  *removed and *released (may be NULL) get how
 * many people left and how many leases were returned.  TEAM_NOT_FOUND. */
int team_members_remove(struct db *db, struct arena *a, long long team_id,
    const long long *users, size_t n, unsigned long long *removed,
    unsigned long long *released);

/* Delete team_id: its members and the projects it served are let go, and
 * the members' leases in projects they can no longer see return to the
 * queue.  *released may be NULL.  TEAM_NOT_FOUND. */
int team_delete(struct db *db, struct arena *a, long long team_id,
    unsigned long long *released);

/* Let team_id serve project_id (nothing changes when it does already).
 * TEAM_NOT_FOUND for an unknown team or project. */
int team_project_assign(struct db *db, struct arena *a, long long project_id,
    long long team_id, long long added_by);

/* Stop team_id serving project_id; the members who can no longer see the
 * project give back their leases in it.  *released may be NULL.
 * TEAM_NOT_FOUND for an unknown team; DB_OK when it did not serve the
 * project. */
int team_project_unassign(struct db *db, struct arena *a, long long project_id,
    long long team_id, unsigned long long *released);

/* Mark (reviewer = 1) or unmark (0) member user_id of team_id as a
 * reviewer: they review every project the team serves (docs/access.md).
 * Unmarking ends, in the same transaction, the review leases they hold in
 * projects they may no longer review (access_review_leases_end_tx);
 * *ended (may be NULL) gets how many.  TEAM_NOT_FOUND, TEAM_NOT_MEMBER. */
int team_member_reviewer_set(struct db *db, struct arena *a, long long team_id,
    long long user_id, int reviewer, unsigned long long *ended);

#endif
