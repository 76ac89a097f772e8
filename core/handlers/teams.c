/*
 * teams.c: the admins' team pages (/admin/teams: the list and "Add team";
 * /admin/teams/TID: members with Assign people / Remove people, the
 * projects served, Email team, rename, delete) and a project's Team tab
 * (/projects/ID/team: the teams serving it; admins assign and unassign
 * teams there).  A member may be marked reviewer of the team's projects
 * (docs/review.md).
 *
 * Labelers may open the Team tab of a project they see (the dispatcher
 * checks NEED_PROJECT): they get the team names and the members' display
 * names only; email addresses are an admin's detail.  Every change goes
 * through teams_model.h, which returns the leases of whoever loses a
 * project in the same transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "buf.h"
#include "catalog.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "project_rules.h"
#include "request.h"
#include "response.h"
#include "session.h"
#include "teams_model.h"

#define CANDIDATES_SHOWN 100   /* people offered on one Assign people list */

/* ------------------------------------------------------------ helpers */

static void db_failed(struct request *r, int rc)
{
	page_db_error(r, rc, "The teams could not be read or changed");
}

static void no_team(struct request *r)
{
	page_error(r, 404, "No such team", "There is no team at this address.");
}

/* Whether a change failed (rc not DB_OK); if so the answer is given: 404
 * for a team that does not exist, else the database failure. */
static int answered_failure(struct request *r, int rc)
{
	if (rc == TEAM_NOT_FOUND)
		no_team(r);
	else if (rc != DB_OK)
		db_failed(r, rc);
	return rc != DB_OK;
}

/* POST field `name` trimmed, in the arena ("" when absent); *nul when it
 * held a NUL byte; NULL when out of memory. */
static char *field_trimmed(struct request *r, const char *name, int *nul)
{
	const char *t;
	size_t n;

	*nul = 0;
	for (size_t i = 0; i < r->form.nfields; i++) {
		const struct hp_field *f = &r->form.fields[i];
		if (strcmp(f->name, name) != 0)
			continue;
		*nul = strlen(f->value) != f->value_len;
		t = rules_trim(f->value, strlen(f->value), &n);
		return arena_strndup(r->arena, t, n);
	}
	return arena_strdup(r->arena, "");
}

/* Every value of POST field `name` as an id, in *ids (arena); returns how
 * many, or -1 when one is not an id (or out of memory). */
static long ids_of(struct request *r, const char *name, long long **ids)
{
	long n = 0;

	*ids = arena_calloc(r->arena, r->form.nfields + 1, sizeof(**ids));
	if (*ids == NULL)
		return -1;
	for (size_t i = 0; i < r->form.nfields; i++) {
		if (strcmp(r->form.fields[i].name, name) != 0)
			continue;
		if (((*ids)[n] = catalog_parse_id(r->form.fields[i].value)) == 0)
			return -1;
		n++;
	}
	return n;
}

/* A count from the query string (0 when absent or not a number). */
static long long query_count(struct request *r, const char *name)
{
	const char *s = req_query(r, name);

	return s != NULL && strcmp(s, "0") != 0 ? catalog_parse_id(s) : 0;
}

/* "1 person" / "3 people" style wording. */
static const char *count_of(struct request *r, long long n, const char *one, const char *many)
{
	return arena_printf(r->arena, "%lld %s", n, n == 1 ? one : many);
}

/* What a person is called on the pages: the display name, or the email. */
static const char *person_name(const struct db_result *res, size_t row, size_t name_col,
    size_t email_col)
{
	const char *name = db_value(res, row, name_col);

	return name != NULL && name[0] != '\0' ? name : db_value(res, row, email_col);
}

/* The sentence for ?saved=... after a change (NULL when none). */
static const char *saved_text(struct request *r)
{
	const char *saved = req_query(r, "saved");
	long long n = query_count(r, "n"), l = query_count(r, "l");
	const char *leases = l > 0 ? arena_printf(r->arena, " %s returned to the queue.",
	    count_of(r, l, "reserved image was", "reserved images were")) : "";

	if (saved == NULL)
		return NULL;
	if (strcmp(saved, "created") == 0)
		return "The team was created. Assign people to it, then assign it to projects on "
		    "their Team tab.";
	if (strcmp(saved, "added") == 0)
		return arena_printf(r->arena, "%s added to the team.", count_of(r, n, "person", "people"));
	if (strcmp(saved, "removed") == 0)
		return arena_printf(r->arena, "%s removed from the team.%s",
		    count_of(r, n, "person", "people"), leases);
	if (strcmp(saved, "renamed") == 0)
		return "The team was renamed.";
	if (strcmp(saved, "deleted") == 0)
		return arena_printf(r->arena, "The team was deleted.%s", leases);
	if (strcmp(saved, "assigned") == 0)
		return "The team now serves this project.";
	if (strcmp(saved, "unassigned") == 0)
		return arena_printf(r->arena, "The team no longer serves this project.%s", leases);
	if (strcmp(saved, "reviewer") == 0)
		return "The person now reviews every project of this team.";
	if (strcmp(saved, "unreviewer") == 0)
		return arena_printf(r->arena, "The person no longer reviews this team's projects "
		    "(unless another of their teams makes them reviewer).%s", l > 0 ?
		    arena_printf(r->arena, " %s ended.", count_of(r, l, "review in progress was",
		    "reviews in progress were")) : "");
	return NULL;
}

/* s with '\', '%' and '_' escaped for LIKE, between two '%'. */
static char *like_pattern(struct request *r, const char *s)
{
	struct buf b;

	buf_init(&b, r->arena);
	buf_addc(&b, '%');
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '%' || *s == '_')
			buf_addc(&b, '\\');
		buf_addc(&b, *s);
	}
	buf_addc(&b, '%');
	return b.failed ? NULL : b.data;
}

/* Row i of res as {id, name} from columns col and col + 1. */
static struct json_object *id_name(const struct db_result *res, size_t i, size_t col)
{
	struct json_object *o = json_object_new_object();

	view_int(o, "id", db_int(res, i, col));
	view_str(o, "name", db_value(res, i, col + 1));
	return o;
}

/* The rows (id, name, ...) of res as [{id, name, child: []}]; *byid maps
 * each id to its child array, for filling (the caller puts it). */
static struct json_object *groups_view(const struct db_result *res, const char *child,
    struct json_object **byid)
{
	struct json_object *list = json_object_new_array();

	*byid = json_object_new_object();
	for (size_t i = 0; i < res->nrows; i++) {
		struct json_object *o = id_name(res, i, 0), *children = json_object_new_array();
		json_object_object_add(o, child, children);
		json_object_object_add(*byid, db_value(res, i, 0), json_object_get(children));
		json_object_array_add(list, o);
	}
	return list;
}

/* The projects team_id serves as [{id, name}]. */
static int team_projects(struct request *r, long long team_id, struct json_object **out)
{
	struct db_result *res;
	int rc = db_query(r->db, r->arena, &res,
	    "SELECT p.id, p.name FROM project_teams pt JOIN projects p ON p.id = pt.project_id "
	    "WHERE pt.team_id = ? ORDER BY p.name, p.id", "i", team_id);

	if (rc != DB_OK)
		return rc;
	*out = json_object_new_array();
	for (size_t i = 0; i < res->nrows; i++)
		json_object_array_add(*out, id_name(res, i, 0));
	return DB_OK;
}

/* ------------------------------------------------------------ the list */

/* The teams page with status; message (may be NULL) refuses what was
 * typed into Add team, shown again as typed. */
static void teams_render(struct request *r, int status, const char *message, const char *typed)
{
	struct json_object *v = view_new(r, "Teams"), *list, *byid;
	struct db_result *res, *served;
	int rc;

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	rc = db_query(r->db, r->arena, &res,
	    "SELECT t.id, t.name, (SELECT COUNT(*) FROM team_members m JOIN users u ON u.id = m.user_id "
	    "WHERE m.team_id = t.id AND u.removed_at IS NULL) FROM teams t ORDER BY t.name, t.id", "");
	if (rc == DB_OK)
		rc = db_query(r->db, r->arena, &served,
		    "SELECT pt.team_id, p.id, p.name FROM project_teams pt "
		    "JOIN projects p ON p.id = pt.project_id ORDER BY p.name, p.id", "");
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	list = groups_view(res, "projects", &byid);
	for (size_t i = 0; i < res->nrows; i++)
		view_int(json_object_array_get_idx(list, i), "members", db_int(res, i, 2));
	for (size_t i = 0; i < served->nrows; i++) {
		struct json_object *projects;
		if (json_object_object_get_ex(byid, db_value(served, i, 0), &projects))
			json_object_array_add(projects, id_name(served, i, 1));
	}
	json_object_put(byid);
	json_object_object_add(v, "teams", list);
	view_str(v, "new_name", typed);
	if (message != NULL)
		view_str(v, "message", message);
	else
		view_str(v, "saved", saved_text(r));
	page_render(r, status, "teams", v);
}

void handle_teams(struct request *r)
{
	teams_render(r, 200, NULL, "");
}

void handle_team_create(struct request *r)
{
	char err[256];
	long long tid = 0;
	int nul, rc;
	char *name = field_trimmed(r, "name", &nul);

	if (name == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	if (nul) {
		teams_render(r, 422, "The team name may not contain control characters.", name);
		return;
	}
	if (team_name_check(name, strlen(name), err, sizeof(err)) < 0) {
		teams_render(r, 422, arena_strdup(r->arena, err), name);
		return;
	}
	rc = team_create(r->db, name, r->session->user_id, &tid);
	if (rc == DB_DUPLICATE) {
		teams_render(r, 409, arena_printf(r->arena, "A team named \u201c%s\u201d exists already "
		    "(team names are compared without regard to case). Choose another name.", name), name);
		return;
	}
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	log_info("team %lld \u201c%s\u201d created by %s", tid, name, r->session->email);
	resp_redirect(r, 303, arena_printf(r->arena, "/admin/teams/%lld?saved=created", tid));
}

/* ------------------------------------------------------------ one team */

/* The "Email team" part of view v for the members' addresses: "mailto"
 * when the link fits TEAM_MAILTO_MAX, else "email_list" (the addresses
 * separated by ", ") with the reason. */
static int email_view(struct request *r, struct json_object *v, const struct db_result *members)
{
	const char **emails = arena_calloc(r->arena, members->nrows + 1, sizeof(*emails));
	struct buf list;
	char *mailto;
	int too_long;

	if (emails == NULL)
		return -1;
	for (size_t i = 0; i < members->nrows; i++)
		emails[i] = db_value(members, i, 2);
	if (members->nrows == 0)
		return 0;
	mailto = team_mailto(r->arena, emails, members->nrows, TEAM_MAILTO_MAX, &too_long);
	if (mailto != NULL) {
		view_str(v, "mailto", mailto);
		return 0;
	}
	if (!too_long)
		return -1;
	buf_init(&list, r->arena);
	for (size_t i = 0; i < members->nrows; i++) {
		if (i > 0)
			buf_adds(&list, ", ");
		buf_adds(&list, emails[i]);
	}
	if (list.failed)
		return -1;
	view_str(v, "email_list", list.data);
	view_int(v, "mailto_max", TEAM_MAILTO_MAX);
	return 0;
}

/* The first n rows (id, display_name, email, is_admin, is_disabled[,
 * reviewer]) of res as a list of people to check (template team_people);
 * reviewers: the members' table, with column 5 and the Reviewer buttons. */
static struct json_object *people_table(const struct db_result *res, size_t n,
    const char *table_id, const char *verb, int reviewers)
{
	struct json_object *t = json_object_new_object(), *list = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		view_int(o, "id", db_int(res, i, 0));
		view_str(o, "name", db_value(res, i, 1));
		view_str(o, "email", db_value(res, i, 2));
		view_str(o, "role", db_int(res, i, 3) ? "admin" : "labeler");
		view_bool(o, "disabled", db_int(res, i, 4) != 0);
		if (reviewers)
			view_bool(o, "reviewer", db_int(res, i, 5) != 0);
		json_object_array_add(list, o);
	}
	view_str(t, "table_id", table_id);
	view_str(t, "verb", verb);
	view_bool(t, "reviewers", reviewers);
	json_object_object_add(t, "people", list);
	return t;
}

/* The team page of team_id with status.  message (may be NULL) says what
 * was refused; typed_name (may be NULL) is a refused new name, shown again
 * in the rename form. */
static void team_render(struct request *r, long long team_id, int status, const char *message,
    const char *typed_name)
{
	struct json_object *v = view_new(r, "Team"), *t, *projects = NULL;
	struct db_result *team, *members, *cand;
	const char *q = req_query(r, "q");
	char *pattern;
	int rc;

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	q = q != NULL ? q : "";
	if (rules_utf8_count(q, strlen(q)) < 0) {
		page_error(r, 400, "Bad search", "The search is not valid UTF-8 text.");
		return;
	}
	pattern = like_pattern(r, q);
	if (pattern == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	rc = db_query(r->db, r->arena, &team,
	    "SELECT t.id, t.name, p.id, p.name FROM teams t LEFT JOIN projects p ON p.id = t.project_id "
	    "WHERE t.id = ?", "i", team_id);
	if (rc == DB_OK && team->nrows == 0) {
		no_team(r);
		return;
	}
	if (rc == DB_OK)
		rc = db_query(r->db, r->arena, &members,
		    "SELECT u.id, u.display_name, u.email, u.is_admin, u.is_disabled, m.reviewer "
		    "FROM team_members m JOIN users u ON u.id = m.user_id "
		    "WHERE m.team_id = ? AND u.removed_at IS NULL "
		    "ORDER BY COALESCE(NULLIF(u.display_name, ''), u.email), u.id", "i", team_id);
	if (rc == DB_OK)
		rc = team_projects(r, team_id, &projects);
	if (rc == DB_OK)
		rc = db_query(r->db, r->arena, &cand,
		    "SELECT u.id, u.display_name, u.email, u.is_admin, u.is_disabled FROM users u "
		    "WHERE u.removed_at IS NULL AND NOT EXISTS (SELECT 1 FROM team_members m "
		    "WHERE m.team_id = ? AND m.user_id = u.id) "
		    "AND (? = '' OR u.email LIKE ? OR u.display_name LIKE ?) "
		    "ORDER BY COALESCE(NULLIF(u.display_name, ''), u.email), u.id LIMIT "
		    "101", "isss", team_id, q, pattern, pattern);
	if (rc != DB_OK) {
		json_object_put(projects);
		db_failed(r, rc);
		return;
	}
	t = json_object_new_object();
	view_int(t, "id", team_id);
	view_str(t, "name", db_value(team, 0, 1));
	if (db_value(team, 0, 2) != NULL) {
		view_int(t, "default_for_id", db_int(team, 0, 2));
		view_str(t, "default_for", db_value(team, 0, 3));
	}
	json_object_object_add(v, "team", t);
	json_object_object_add(v, "title", json_object_new_string(db_value(team, 0, 1)));
	view_str(v, "rename", typed_name != NULL ? typed_name : db_value(team, 0, 1));

	json_object_object_add(v, "member_table", people_table(members, members->nrows, "member-list",
	    "Remove", 1));
	view_bool(v, "has_members", members->nrows > 0);
	view_bool(v, "has_projects", json_object_array_length(projects) > 0);
	view_str(v, "member_count", count_of(r, (long long)members->nrows, "member", "members"));
	json_object_object_add(v, "projects", projects);

	json_object_object_add(v, "candidate_table", people_table(cand,
	    cand->nrows < CANDIDATES_SHOWN ? cand->nrows : CANDIDATES_SHOWN, "candidate-list", "Add",
	    0));
	view_bool(v, "has_candidates", cand->nrows > 0);
	view_str(v, "q", q);
	view_bool(v, "searched", q[0] != '\0');
	view_bool(v, "candidates_more", cand->nrows > CANDIDATES_SHOWN);
	view_int(v, "candidates_shown", CANDIDATES_SHOWN);

	if (email_view(r, v, members) < 0) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	if (message != NULL)
		view_str(v, "message", message);
	else
		view_str(v, "saved", saved_text(r));
	page_render(r, status, "team", v);
}

/* The route's :tid; 0 (after answering 404) when it is not an id. */
static long long team_param(struct request *r)
{
	long long tid = catalog_parse_id(route_param(&r->params, "tid"));

	if (tid == 0)
		no_team(r);
	return tid;
}

void handle_team_details(struct request *r)
{
	long long tid = team_param(r);

	if (tid != 0)
		team_render(r, tid, 200, NULL, NULL);
}

/* Assign people / Remove people: the checked "user" fields. */
static void members_change(struct request *r, int add)
{
	long long tid = team_param(r), *ids;
	unsigned long long count = 0, released = 0;
	long n;
	int rc;

	if (tid == 0)
		return;
	n = ids_of(r, "user", &ids);
	if (n < 0) {
		team_render(r, tid, 422, "The form named a person that does not exist.", NULL);
		return;
	}
	if (n == 0) {
		team_render(r, tid, 422, add ? "Choose at least one person to assign to the team." :
		    "Choose at least one member to remove from the team.", NULL);
		return;
	}
	rc = add ? team_members_add(r->db, r->arena, tid, ids, (size_t)n, r->session->user_id, &count) :
	    team_members_remove(r->db, r->arena, tid, ids, (size_t)n, &count, &released);
	if (answered_failure(r, rc))
		return;
	log_info("team %lld: %llu %s by %s%s", tid, count, add ? "added" : "removed",
	    r->session->email, add ? "" : arena_printf(r->arena, " (%llu leases returned)", released));
	resp_redirect(r, 303, arena_printf(r->arena, "/admin/teams/%lld?saved=%s&n=%llu&l=%llu", tid,
	    add ? "added" : "removed", count, released));
}

void handle_team_members_add(struct request *r)
{
	members_change(r, 1);
}

void handle_team_members_remove(struct request *r)
{
	members_change(r, 0);
}

/* POST /admin/teams/:tid/members/reviewer: user (a member), reviewer=1
 * (mark) or 0 (unmark; their review leases in projects they may no longer
 * review end in the same transaction). */
void handle_team_member_reviewer(struct request *r)
{
	long long tid = team_param(r), user;
	const char *mark = req_form(r, "reviewer");
	unsigned long long ended = 0;
	int reviewer, rc;

	if (tid == 0)
		return;
	user = catalog_parse_id(req_form(r, "user"));
	if (mark == NULL || (strcmp(mark, "1") != 0 && strcmp(mark, "0") != 0)) {
		team_render(r, tid, 422, "Use a member's Make reviewer or Not reviewer button.", NULL);
		return;
	}
	reviewer = mark[0] == '1';
	if (user == 0) {
		team_render(r, tid, 422, "The form named a person that does not exist.", NULL);
		return;
	}
	rc = team_member_reviewer_set(r->db, r->arena, tid, user, reviewer, &ended);
	if (rc == TEAM_NOT_MEMBER) {
		team_render(r, tid, 409, "That person is not a member of this team (any more); "
		    "nothing was changed.", NULL);
		return;
	}
	if (answered_failure(r, rc))
		return;
	log_info("team %lld: person %lld %s by %s (%llu review leases ended)", tid, user,
	    reviewer ? "marked reviewer" : "no longer reviewer", r->session->email, ended);
	resp_redirect(r, 303, arena_printf(r->arena, "/admin/teams/%lld?saved=%s&l=%llu#members",
	    tid, reviewer ? "reviewer" : "unreviewer", ended));
}

void handle_team_rename(struct request *r)
{
	long long tid = team_param(r);
	char err[256], *name;
	int nul, rc;

	if (tid == 0)
		return;
	if ((name = field_trimmed(r, "name", &nul)) == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	if (nul || team_name_check(name, strlen(name), err, sizeof(err)) < 0) {
		team_render(r, tid, 422, nul ? "The team name may not contain control characters." :
		    arena_strdup(r->arena, err), name);
		return;
	}
	rc = team_rename(r->db, r->arena, tid, name);
	if (rc == DB_DUPLICATE) {
		team_render(r, tid, 409, arena_printf(r->arena, "Another team is named \u201c%s\u201d "
		    "(team names are compared without regard to case). Choose another name.", name), name);
		return;
	}
	if (answered_failure(r, rc))
		return;
	log_info("team %lld renamed \u201c%s\u201d by %s", tid, name, r->session->email);
	resp_redirect(r, 303, arena_printf(r->arena, "/admin/teams/%lld?saved=renamed", tid));
}

/* Delete team: without confirm=yes a page saying what deleting does, with
 * the button that confirms. */
void handle_team_delete(struct request *r)
{
	long long tid = team_param(r);
	const char *confirm = req_form(r, "confirm");
	unsigned long long released = 0;
	struct json_object *v, *projects = NULL;
	struct db_result *res;
	int rc;

	if (tid == 0)
		return;
	if (confirm != NULL && strcmp(confirm, "yes") == 0) {
		rc = team_delete(r->db, r->arena, tid, &released);
		if (answered_failure(r, rc))
			return;
		log_info("team %lld deleted by %s (%llu leases returned)", tid, r->session->email, released);
		resp_redirect(r, 303, arena_printf(r->arena, "/admin/teams?saved=deleted&l=%llu", released));
		return;
	}
	rc = db_query(r->db, r->arena, &res,
	    "SELECT t.name, (SELECT COUNT(*) FROM team_members m WHERE m.team_id = t.id) "
	    "FROM teams t WHERE t.id = ?", "i", tid);
	if (rc == DB_OK && res->nrows == 0) {
		no_team(r);
		return;
	}
	if (rc == DB_OK)
		rc = team_projects(r, tid, &projects);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if ((v = view_new(r, "Delete team")) == NULL) {
		json_object_put(projects);
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	view_int(v, "id", tid);
	view_str(v, "name", db_value(res, 0, 0));
	view_str(v, "member_count", count_of(r, db_int(res, 0, 1), "member", "members"));
	view_bool(v, "has_projects", json_object_array_length(projects) > 0);
	json_object_object_add(v, "projects", projects);
	page_render(r, 200, "team_delete", v);
}

/* ------------------------------------------------------------ a project's Team tab */

/* The Team tab of project id with status; message (may be NULL) says what
 * was refused. */
static void project_team_render(struct request *r, long long id, int status, const char *message)
{
	struct json_object *v = view_new(r, "Team"), *list, *byid, *others;
	struct db_result *teams, *members, *rest = NULL;
	int admin = r->session->is_admin, rc;

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	rc = project_view_load(r, id, v, NULL);
	if (rc == 1) {
		page_error(r, 404, "Not found", "There is no such project.");
		return;
	}
	if (rc == DB_OK)
		rc = db_query(r->db, r->arena, &teams,
		    "SELECT t.id, t.name FROM project_teams pt JOIN teams t ON t.id = pt.team_id "
		    "WHERE pt.project_id = ? ORDER BY t.name, t.id", "i", id);
	if (rc == DB_OK)
		rc = db_query(r->db, r->arena, &members,
		    "SELECT m.team_id, u.display_name, u.email, u.is_admin FROM project_teams pt "
		    "JOIN team_members m ON m.team_id = pt.team_id JOIN users u ON u.id = m.user_id "
		    "WHERE pt.project_id = ? AND u.removed_at IS NULL "
		    "ORDER BY COALESCE(NULLIF(u.display_name, ''), u.email), u.id", "i", id);
	if (rc == DB_OK && admin)
		rc = db_query(r->db, r->arena, &rest,
		    "SELECT t.id, t.name FROM teams t WHERE NOT EXISTS (SELECT 1 FROM project_teams pt "
		    "WHERE pt.project_id = ? AND pt.team_id = t.id) ORDER BY t.name, t.id", "i", id);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	list = groups_view(teams, "members", &byid);
	for (size_t i = 0; i < members->nrows; i++) {
		struct json_object *m, *o;
		const char *name = db_value(members, i, 1);
		if (!json_object_object_get_ex(byid, db_value(members, i, 0), &m))
			continue;
		o = json_object_new_object();
		/* A labeler sees display names only; an admin the addresses
		 * too. */
		if (admin) {
			view_str(o, "name", person_name(members, i, 1, 2));
			view_str(o, "email", db_value(members, i, 2));
		} else {
			view_str(o, "name", name != NULL && name[0] != '\0' ? name : "(no display name)");
		}
		view_str(o, "role", db_int(members, i, 3) ? "admin" : "labeler");
		json_object_array_add(m, o);
	}
	json_object_put(byid);
	for (size_t i = 0; i < teams->nrows; i++) {
		struct json_object *o = json_object_array_get_idx(list, i);
		view_bool(o, "has_members",
		    json_object_array_length(json_object_object_get(o, "members")) > 0);
	}
	json_object_object_add(v, "teams", list);
	if (admin) {
		others = json_object_new_array();
		for (size_t i = 0; i < rest->nrows; i++)
			json_object_array_add(others, id_name(rest, i, 0));
		json_object_object_add(v, "other_teams", others);
		view_bool(v, "has_other_teams", rest->nrows > 0);
		view_bool(v, "admin", 1);
	}
	json_object_object_add(v, "tabs", project_tabs_view(r, id, "team"));
	if (message != NULL)
		view_str(v, "message", message);
	else
		view_str(v, "saved", saved_text(r));
	page_render(r, status, "project_team", v);
}

void handle_project_team(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));

	project_team_render(r, id, 200, NULL);
}

/* The "team" field of an assign or unassign; 0 when it is not an id. */
static long long team_field(struct request *r)
{
	return catalog_parse_id(req_form(r, "team"));
}

/* Whether project id is missing (answered 404) or could not be looked up
 * (answered); 0 when it exists.  Admins pass NEED_PROJECT for any id. */
static int project_missing(struct request *r, long long id)
{
	struct db_result *res;
	int rc = db_query(r->db, r->arena, &res, "SELECT 1 FROM projects WHERE id = ?", "i", id);

	if (rc != DB_OK) {
		db_failed(r, rc);
		return 1;
	}
	if (res->nrows == 0) {
		page_error(r, 404, "Not found", "There is no such project.");
		return 1;
	}
	return 0;
}

void handle_project_team_assign(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	long long tid = team_field(r);
	int rc;

	if (tid == 0) {
		project_team_render(r, id, 422, "Choose a team to assign to this project.");
		return;
	}
	if (project_missing(r, id))
		return;
	rc = team_project_assign(r->db, r->arena, id, tid, r->session->user_id);
	if (answered_failure(r, rc))
		return;
	log_info("project %lld: team %lld assigned by %s", id, tid, r->session->email);
	resp_redirect(r, 303, arena_printf(r->arena, "/projects/%lld/team?saved=assigned", id));
}

void handle_project_team_unassign(struct request *r)
{
	long long id = catalog_parse_id(route_param(&r->params, "id"));
	long long tid = team_field(r);
	unsigned long long released = 0;
	int rc;

	if (tid == 0) {
		project_team_render(r, id, 422, "Choose a team to unassign from this project.");
		return;
	}
	if (project_missing(r, id))
		return;
	rc = team_project_unassign(r->db, r->arena, id, tid, &released);
	if (answered_failure(r, rc))
		return;
	log_info("project %lld: team %lld unassigned by %s (%llu leases returned)", id, tid,
	    r->session->email, released);
	resp_redirect(r, 303, arena_printf(r->arena, "/projects/%lld/team?saved=unassigned&l=%llu",
	    id, released));
}
