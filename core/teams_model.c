/*
 * teams_model.c: teams and their people and projects, each change in one
 * transaction (teams_model.h).
 */
#include <stdint.h>
#include <string.h>

#include "access.h"
#include "arena.h"
#include "buf.h"
#include "db.h"
#include "teams_model.h"

#define TX_ATTEMPTS 5
#define DEFAULT_NAME_TRIES 1000

/* ------------------------------------------------------------ mailto */

char *team_mailto(struct arena *a, const char *const *emails, size_t n, size_t max,
    int *too_long)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b;

	*too_long = 0;
	buf_init(&b, a);
	buf_adds(&b, "mailto:");
	for (size_t i = 0; i < n && !b.failed; i++) {
		if (i > 0)
			buf_addc(&b, ',');
		for (const unsigned char *p = (const unsigned char *)emails[i]; *p != '\0'; p++) {
			unsigned char c = *p;
			if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
				buf_addc(&b, (char)c);
			} else {
				char e[3] = { '%', hex[c >> 4], hex[c & 15] };
				buf_add(&b, e, 3);
			}
		}
		if (b.len > max) {
			*too_long = 1;
			return NULL;
		}
	}
	return b.failed ? NULL : b.data;
}

/* ------------------------------------------------------------ transactions */

/* One state change: fn runs its statements inside an open transaction and
 * returns DB_OK to commit, or an error to roll back. */
typedef int (*tx_body)(struct db *db, void *ctx);

/* Run body in a transaction of its own, again after a deadlock.  The
 * body's outputs must be set afresh on every run. */
static int in_tx(struct db *db, tx_body body, void *ctx)
{
	int rc = DB_ERR;

	for (int attempt = 0; attempt < TX_ATTEMPTS; attempt++) {
		if ((rc = db_begin(db)) != DB_OK)
			return rc;
		rc = body(db, ctx);
		if (rc == DB_OK)
			rc = db_commit(db);
		if (rc == DB_OK)
			return DB_OK;
		db_rollback(db);
		if (rc != DB_RETRY)
			return rc;
	}
	return rc;
}

/* Lock team_id's row (so that a concurrent delete waits); TEAM_NOT_FOUND
 * when there is none. */
static int team_lock(struct db *db, struct arena *a, long long team_id)
{
	struct db_result *res;
	int rc = db_query(db, a, &res, "SELECT id FROM teams WHERE id = ? FOR UPDATE", "i", team_id);

	if (rc != DB_OK)
		return rc;
	return res->nrows == 1 ? DB_OK : TEAM_NOT_FOUND;
}

/* Return the leases of every user in res (column 0) that they may no
 * longer hold; adds the count to *released. */
static int revoke_each(struct db *db, const struct db_result *res, unsigned long long *released)
{
	for (size_t i = 0; i < res->nrows; i++) {
		unsigned long long n = 0;
		int rc = access_leases_revoke_tx(db, db_int(res, i, 0), 0, &n);
		if (rc != DB_OK)
			return rc;
		*released += n;
	}
	return DB_OK;
}

/* ------------------------------------------------------------ teams */

int team_default_create(struct db *db, struct arena *a, const char *project_name,
    long long project_id, long long created_by, long long *team_id)
{
	struct db_result *res;
	uint64_t tid = 0;
	int rc = DB_ERR;

	for (int n = 1; n <= DEFAULT_NAME_TRIES; n++) {
		const char *name = n == 1 ? arena_printf(a, "%s team", project_name) :
		    arena_printf(a, "%s team %d", project_name, n);
		if (name == NULL)
			return DB_ERR;
		rc = db_query(db, a, &res, "SELECT 1 FROM teams WHERE name = ?", "s", name);
		if (rc != DB_OK)
			return rc;
		if (res->nrows > 0)
			continue;
		/* A team of that name made at this moment by someone else
		 * refuses only this statement: the next number is tried. */
		rc = db_exec(db, 0, NULL, &tid,
		    "INSERT INTO teams (name, project_id, created_by) VALUES (?, ?, NULLIF(?, 0))",
		    "sii", name, project_id, created_by);
		if (rc == DB_DUPLICATE)
			continue;
		break;
	}
	if (rc != DB_OK)
		return rc;
	rc = db_exec(db, 0, NULL, NULL,
	    "INSERT INTO project_teams (project_id, team_id, added_by) VALUES (?, ?, NULLIF(?, 0))",
	    "iii", project_id, (long long)tid, created_by);
	if (rc == DB_OK && created_by > 0)
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT INTO team_members (team_id, user_id, added_by) VALUES (?, ?, ?)",
		    "iii", (long long)tid, created_by, created_by);
	if (rc == DB_OK && team_id != NULL)
		*team_id = (long long)tid;
	return rc;
}

int team_create(struct db *db, const char *name, long long created_by, long long *team_id)
{
	uint64_t tid = 0;
	int rc = db_exec(db, 0, NULL, &tid,
	    "INSERT INTO teams (name, created_by) VALUES (?, NULLIF(?, 0))", "si", name, created_by);

	if (rc == DB_OK)
		*team_id = (long long)tid;
	return rc;
}

int team_rename(struct db *db, struct arena *a, long long team_id, const char *name)
{
	struct db_result *res;
	int rc;

	/* An unchanged name counts no row: ask whether the team exists. */
	rc = db_exec(db, 0, NULL, NULL, "UPDATE teams SET name = ? WHERE id = ?", "si", name, team_id);
	if (rc == DB_OK)
		rc = db_query(db, a, &res, "SELECT 1 FROM teams WHERE id = ?", "i", team_id);
	if (rc == DB_OK && res->nrows == 0)
		rc = TEAM_NOT_FOUND;
	return rc;
}

struct members_change {
	struct arena *a;
	long long team_id;
	const long long *users;
	size_t n;
	long long by;
	unsigned long long count;     /* added or removed */
	unsigned long long released;
};

static int members_add_body(struct db *db, void *ctx)
{
	struct members_change *m = ctx;
	int rc;

	m->count = 0;
	if ((rc = team_lock(db, m->a, m->team_id)) != DB_OK)
		return rc;
	for (size_t i = 0; i < m->n; i++) {
		uint64_t n = 0;
		rc = db_exec(db, 0, &n, NULL,
		    "INSERT IGNORE INTO team_members (team_id, user_id, added_by) "
		    "SELECT ?, id, NULLIF(?, 0) FROM users WHERE id = ? AND removed_at IS NULL",
		    "iii", m->team_id, m->by, m->users[i]);
		if (rc != DB_OK)
			return rc;
		m->count += n;
	}
	return DB_OK;
}

int team_members_add(struct db *db, struct arena *a, long long team_id,
    const long long *users, size_t n, long long added_by, unsigned long long *added)
{
	struct members_change m = { a, team_id, users, n, added_by, 0, 0 };
	int rc = in_tx(db, members_add_body, &m);

	if (rc == DB_OK && added != NULL)
		*added = m.count;
	return rc;
}

static int members_remove_body(struct db *db, void *ctx)
{
	struct members_change *m = ctx;
	int rc;

	m->count = m->released = 0;
	if ((rc = team_lock(db, m->a, m->team_id)) != DB_OK)
		return rc;
	for (size_t i = 0; i < m->n; i++) {
		uint64_t gone = 0;
		unsigned long long n = 0;
		rc = db_exec(db, 0, &gone, NULL,
		    "DELETE FROM team_members WHERE team_id = ? AND user_id = ?",
		    "ii", m->team_id, m->users[i]);
		if (rc == DB_OK && gone > 0)
			rc = access_leases_revoke_tx(db, m->users[i], 0, &n);
		if (rc != DB_OK)
			return rc;
		m->count += gone;
		m->released += n;
	}
	return DB_OK;
}

int team_members_remove(struct db *db, struct arena *a, long long team_id,
    const long long *users, size_t n, unsigned long long *removed,
    unsigned long long *released)
{
	struct members_change m = { a, team_id, users, n, 0, 0, 0 };
	int rc = in_tx(db, members_remove_body, &m);

	if (rc == DB_OK) {
		if (removed != NULL)
			*removed = m.count;
		if (released != NULL)
			*released = m.released;
	}
	return rc;
}

struct team_change {
	struct arena *a;
	long long team_id;
	long long project_id;
	unsigned long long released;
};

static int delete_body(struct db *db, void *ctx)
{
	struct team_change *t = ctx;
	struct db_result *res;
	int rc;

	t->released = 0;
	if ((rc = team_lock(db, t->a, t->team_id)) != DB_OK)
		return rc;
	rc = db_query(db, t->a, &res, "SELECT user_id FROM team_members WHERE team_id = ?",
	    "i", t->team_id);
	if (rc == DB_OK)
		rc = db_exec(db, 0, NULL, NULL, "DELETE FROM teams WHERE id = ?", "i", t->team_id);
	if (rc == DB_OK)
		rc = revoke_each(db, res, &t->released);
	return rc;
}

int team_delete(struct db *db, struct arena *a, long long team_id,
    unsigned long long *released)
{
	struct team_change t = { a, team_id, 0, 0 };
	int rc = in_tx(db, delete_body, &t);

	if (rc == DB_OK && released != NULL)
		*released = t.released;
	return rc;
}

int team_project_assign(struct db *db, struct arena *a, long long project_id,
    long long team_id, long long added_by)
{
	struct db_result *res;
	uint64_t n = 0;
	int rc;

	rc = db_exec(db, 0, &n, NULL,
	    "INSERT IGNORE INTO project_teams (project_id, team_id, added_by) "
	    "SELECT p.id, t.id, NULLIF(?, 0) FROM projects p JOIN teams t ON t.id = ? WHERE p.id = ?",
	    "iii", added_by, team_id, project_id);
	if (rc != DB_OK || n > 0)
		return rc;
	/* Nothing inserted: serving already, or no such team or project. */
	rc = db_query(db, a, &res, "SELECT 1 FROM project_teams WHERE project_id = ? AND team_id = ?",
	    "ii", project_id, team_id);
	if (rc == DB_OK && res->nrows == 0)
		rc = TEAM_NOT_FOUND;
	return rc;
}

static int unassign_body(struct db *db, void *ctx)
{
	struct team_change *t = ctx;
	struct db_result *res;
	uint64_t gone = 0;
	int rc;

	t->released = 0;
	if ((rc = team_lock(db, t->a, t->team_id)) != DB_OK)
		return rc;
	rc = db_exec(db, 0, &gone, NULL,
	    "DELETE FROM project_teams WHERE project_id = ? AND team_id = ?",
	    "ii", t->project_id, t->team_id);
	if (rc != DB_OK || gone == 0)
		return rc;
	rc = db_query(db, t->a, &res, "SELECT user_id FROM team_members WHERE team_id = ?",
	    "i", t->team_id);
	if (rc == DB_OK)
		rc = revoke_each(db, res, &t->released);
	return rc;
}

int team_project_unassign(struct db *db, struct arena *a, long long project_id,
    long long team_id, unsigned long long *released)
{
	struct team_change t = { a, team_id, project_id, 0 };
	int rc = in_tx(db, unassign_body, &t);

	if (rc == DB_OK && released != NULL)
		*released = t.released;
	return rc;
}

struct reviewer_change {
	struct arena *a;
	long long team_id, user_id;
	int reviewer;
	unsigned long long ended;
};

static int reviewer_body(struct db *db, void *ctx)
{
	struct reviewer_change *c = ctx;
	struct db_result *res;
	int rc;

	c->ended = 0;
	if ((rc = team_lock(db, c->a, c->team_id)) != DB_OK)
		return rc;
	rc = db_query(db, c->a, &res,
	    "SELECT m.reviewer FROM team_members m JOIN users u ON u.id = m.user_id "
	    "WHERE m.team_id = ? AND m.user_id = ? AND u.removed_at IS NULL FOR UPDATE",
	    "ii", c->team_id, c->user_id);
	if (rc != DB_OK)
		return rc;
	if (res->nrows == 0)
		return TEAM_NOT_MEMBER;
	rc = db_exec(db, 0, NULL, NULL,
	    "UPDATE team_members SET reviewer = ? WHERE team_id = ? AND user_id = ?",
	    "iii", (long long)(c->reviewer != 0), c->team_id, c->user_id);
	if (rc == DB_OK && !c->reviewer)
		rc = access_review_leases_end_tx(db, c->user_id, 0, &c->ended);
	return rc;
}

int team_member_reviewer_set(struct db *db, struct arena *a, long long team_id,
    long long user_id, int reviewer, unsigned long long *ended)
{
	struct reviewer_change c = { a, team_id, user_id, reviewer, 0 };
	int rc = in_tx(db, reviewer_body, &c);

	if (rc == DB_OK && ended != NULL)
		*ended = c.ended;
	return rc;
}
