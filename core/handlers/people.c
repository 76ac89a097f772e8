/*
 * people.c: the People pages of admins (the list with search, Add person,
 * a person's page and its actions), the invitation page where an invited
 * person sets a password, and everyone's Account page.
 *
 * Adding a person and resending their invitation answer with the person's
 * page itself (200), not a redirect: the invitation link exists only in
 * that answer (only its SHA-256 is stored), so it is shown once.  Every
 * other action redirects back to the person's page (post-redirect-get).
 *
 * The invitation link is /invite/TOKEN.  The token is in the path, so
 * neither labeld's log (the route is PATH_SECRET: the log shows its
 * pattern) nor nginx's access log (nginx/labeld.conf.in) records it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "access.h"
#include "app.h"
#include "arena.h"
#include "auth.h"
#include "buf.h"
#include "catalog.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "oidc.h"
#include "people.h"
#include "project_rules.h"
#include "request.h"
#include "response.h"
#include "session.h"

#define PEOPLE_LIST_MAX 200   /* rows on one People page; search for more */

/* The one answer for every invitation link that cannot be used. */
#define INVITE_BAD_TITLE "Invitation link not valid"
#define INVITE_BAD_TEXT "This invitation link cannot be used: it was used already, replaced " \
	"by a newer one, or it has expired. Ask a labeld administrator for a new invitation."

/* ------------------------------------------------------------ small helpers */

/* A POST field without leading and trailing white space, in the arena; ""
 * when absent.  NULL only when out of memory. */
static char *field(struct request *r, const char *name)
{
	const char *s = req_form(r, name);
	size_t len;

	if (s == NULL)
		return arena_strdup(r->arena, "");
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
	    s[len - 1] == '\n'))
		len--;
	return arena_strndup(r->arena, s, len);
}

/* What is wrong with a display name (a sentence), or NULL: it is needed,
 * valid UTF-8 of at most NAME_MAX_CHARS code points (users.display_name),
 * without control characters. */
#define NAME_MAX_CHARS 100
static const char *name_problem(const char *name)
{
	long chars;

	if (name == NULL || name[0] == '\0')
		return "Enter a display name.";
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "The display name may not hold control characters.";
	chars = rules_utf8_count(name, strlen(name));
	if (chars < 0)
		return "The display name is not valid UTF-8 text.";
	if (chars > NAME_MAX_CHARS)
		return "The display name is too long: use at most 100 characters.";
	return NULL;
}

/* The user id of :uid, or 0 when it is not an id. */
static long long param_uid(struct request *r)
{
	return catalog_parse_id(route_param(&r->params, "uid"));
}

/* people_status() of a row with the removed, disabled and activated
 * flags in columns col, col + 1, col + 2. */
static const char *row_status(const struct db_result *res, size_t row, size_t col)
{
	return people_status(db_int(res, row, col) != 0, db_int(res, row, col + 1) != 0,
	    db_int(res, row, col + 2) != 0);
}

/* A JSON array text from MariaDB (JSON_ARRAYAGG) as a json-c array owned
 * by the view it is added to; an empty array for NULL or junk. */
static struct json_object *json_array_of(const char *text)
{
	struct json_object *o = text != NULL ? json_tokener_parse(text) : NULL;

	if (o != NULL && json_object_is_type(o, json_type_array))
		return o;
	json_object_put(o);
	return json_object_new_array();
}

/* The teams of the user in column user_col as a JSON array of {id, name},
 * ordered by name. */
#define TEAMS_JSON(user_col) \
	"(SELECT JSON_ARRAYAGG(JSON_OBJECT('id', t.id, 'name', t.name) ORDER BY t.name, t.id) " \
	"FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE tm.user_id = " user_col ")"

/* ------------------------------------------------------------ the list */

/* The People page: people matching q (email or name, case-insensitive),
 * removed people only with show_removed; the Add person form with what
 * was typed (add_*) and a message. */
static void people_page(struct request *r, int status, const char *message,
    const char *add_email, const char *add_name, int add_admin)
{
	struct json_object *v = view_new(r, "People"), *list;
	const char *q = req_query(r, "q"), *removed = req_query(r, "removed");
	int show_removed = removed != NULL && strcmp(removed, "1") == 0;
	struct db_result *res;
	struct buf like;
	int rc;

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	if (q == NULL)
		q = "";
	/* LIKE '%q%' with q's own % _ and \ taken literally. */
	buf_init(&like, r->arena);
	buf_addc(&like, '%');
	for (const char *p = q; *p != '\0'; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			buf_addc(&like, '\\');
		buf_addc(&like, *p);
	}
	buf_addc(&like, '%');
	buf_addc(&like, '\0');
	if (like.failed) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	rc = db_query(r->db, r->arena, &res,
	    "SELECT u.id, u.email, u.display_name, u.is_admin, "
	    "COALESCE(DATE_FORMAT(u.last_login_at, '%Y-%m-%d %H:%i'), ''), "
	    "u.removed_at IS NOT NULL, u.is_disabled, u.activated_at IS NOT NULL, "
	    TEAMS_JSON("u.id") " FROM users u "
	    "WHERE (u.email LIKE ? OR u.display_name LIKE ?) AND (? = 1 OR u.removed_at IS NULL) "
	    "ORDER BY u.display_name, u.email, u.id LIMIT ?",
	    "ssii", like.data, like.data, (long long)show_removed, (long long)PEOPLE_LIST_MAX + 1);
	if (rc != DB_OK) {
		page_db_error(r, rc, "The people could not be read");
		return;
	}
	list = json_object_new_array();
	for (size_t i = 0; i < res->nrows && i < PEOPLE_LIST_MAX; i++) {
		struct json_object *o = json_object_new_object();
		view_str(o, "id", db_value(res, i, 0));
		view_str(o, "email", db_value(res, i, 1));
		view_str(o, "name", db_value(res, i, 2)[0] != '\0' ? db_value(res, i, 2) :
		    db_value(res, i, 1));
		view_str(o, "role", db_int(res, i, 3) ? "admin" : "labeler");
		view_str(o, "last_sign_in", db_value(res, i, 4));
		view_str(o, "status", row_status(res, i, 5));
		json_object_object_add(o, "teams", json_array_of(db_value(res, i, 8)));
		json_object_array_add(list, o);
	}
	json_object_object_add(v, "people", list);
	view_str(v, "q", q);
	view_bool(v, "show_removed", show_removed);
	if (res->nrows > PEOPLE_LIST_MAX)
		view_str(v, "capped", arena_printf(r->arena,
		    "Showing the first %d people only: search to narrow the list.", PEOPLE_LIST_MAX));
	view_str(v, "add_email", add_email);
	view_str(v, "add_name", add_name);
	view_bool(v, "add_admin", add_admin);
	if (message != NULL)
		view_str(v, "message", message);
	page_render(r, status, "people", v);
}

void handle_people(struct request *r)
{
	people_page(r, 200, NULL, "", "", 0);
}

/* ------------------------------------------------------------ a person */

/* The sign-in identities of person uid into view v as "identities":
 * [{iid, provider (its display name), issuer, subject, tenant, email,
 * bound, last_used}], oldest first (oidc_identities_list).  DB_OK or
 * DB_*. */
static int identities_view(struct request *r, long long uid, struct json_object *v)
{
	struct json_object *list = json_object_new_array();
	struct db_result *res;
	int rc;

	json_object_object_add(v, "identities", list);
	rc = oidc_identities_list(r->db, r->arena, uid, &res);
	if (rc != DB_OK)
		return rc;
	for (size_t i = 0; i < res->nrows; i++) {
		const struct oidc_provider *p = oidc_provider_find(&r->app->cfg, db_value(res, i, 1));
		struct json_object *o = json_object_new_object();
		view_str(o, "iid", db_value(res, i, 0));
		view_str(o, "provider", p != NULL ? p->display_name : db_value(res, i, 1));
		view_bool(o, "unconfigured", p == NULL);
		view_str(o, "issuer", db_value(res, i, 2));
		view_str(o, "subject", db_value(res, i, 3));
		view_str(o, "tenant", db_value(res, i, 4));
		view_str(o, "email", db_value(res, i, 5));
		view_str(o, "bound", db_value(res, i, 6));
		view_str(o, "last_used", db_value(res, i, 7));
		json_object_array_add(list, o);
	}
	return DB_OK;
}

/* A person's page: details, teams, status, actions; with the invitation
 * link when token is not NULL (just made), and a message: a flash (what
 * was done) when status is 200, else the reason of a refusal.  404 when
 * uid is not a person. */
static void person_page(struct request *r, int status, long long uid, const char *token,
    const char *message)
{
	struct json_object *v;
	struct db_result *res;
	const char *st, *name;
	int rc;

	rc = db_query(r->db, r->arena, &res,
	    "SELECT u.id, u.email, u.display_name, u.is_admin, "
	    "COALESCE(DATE_FORMAT(u.last_login_at, '%Y-%m-%d %H:%i'), ''), "
	    "u.removed_at IS NOT NULL, u.is_disabled, u.activated_at IS NOT NULL, "
	    TEAMS_JSON("u.id") ", DATE_FORMAT(u.created_at, '%Y-%m-%d %H:%i'), "
	    "COALESCE(i.display_name, i.email, ''), "
	    "(SELECT DATE_FORMAT(MAX(expires_at), '%Y-%m-%d %H:%i') FROM invitations "
	    " WHERE user_id = u.id AND used_at IS NULL AND voided_at IS NULL AND expires_at > NOW(6)), "
	    "u.provider_only, u.password_hash = '' "
	    "FROM users u LEFT JOIN users i ON i.id = u.invited_by WHERE u.id = ?", "i", uid);
	if (rc != DB_OK) {
		page_db_error(r, rc, "The person could not be read");
		return;
	}
	if (res->nrows != 1) {
		page_error(r, 404, "No such person", "There is no person at this address.");
		return;
	}
	/* Without a display name (labeld --create-admin), the email. */
	name = db_value(res, 0, 2)[0] != '\0' ? db_value(res, 0, 2) : db_value(res, 0, 1);
	v = view_new(r, name);
	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	st = row_status(res, 0, 5);
	view_str(v, "id", db_value(res, 0, 0));
	view_str(v, "email", db_value(res, 0, 1));
	view_str(v, "name", name);
	view_bool(v, "is_admin", db_int(res, 0, 3) != 0);
	view_str(v, "role", db_int(res, 0, 3) ? "admin" : "labeler");
	view_str(v, "last_sign_in", db_value(res, 0, 4));
	view_str(v, "status", st);
	view_bool(v, "is_removed", strcmp(st, "removed") == 0);
	view_bool(v, "is_disabled", strcmp(st, "disabled") == 0);
	view_bool(v, "is_invited", strcmp(st, "invited") == 0);
	view_bool(v, "is_self", r->session->user_id == uid);
	json_object_object_add(v, "teams", json_array_of(db_value(res, 0, 8)));
	view_str(v, "created", db_value(res, 0, 9));
	view_str(v, "invited_by", db_value(res, 0, 10));
	view_str(v, "invitation_expires", db_value(res, 0, 11));
	view_bool(v, "provider_only", db_int(res, 0, 12) != 0);
	/* Who may get an invitation link (handle_person_invite): people
	 * without a password who do not sign in through a provider only. */
	view_bool(v, "can_invite", db_int(res, 0, 13) != 0 && db_int(res, 0, 12) == 0 &&
	    (strcmp(st, "invited") == 0 || strcmp(st, "active") == 0));
	view_bool(v, "no_password", db_int(res, 0, 13) != 0);
	if ((rc = identities_view(r, uid, v)) != DB_OK) {
		page_db_error(r, rc, "The person could not be read");
		return;
	}
	if (token != NULL) {
		const char *link = arena_printf(r->arena, "%s/invite/%s", resp_base_url(r), token);
		const char *who = r->session->display_name && r->session->display_name[0] ?
		    r->session->display_name : r->session->email;
		const char *body = arena_printf(r->arena,
		    "Hello %s,\n\n%s invites you to label images with labeld. Open this link to set "
		    "your password and sign in:\n\n%s\n\nThe link works once and expires on %s.\n",
		    name, who ? who : "", link, db_value(res, 0, 11));
		view_str(v, "invite_link", link);
		view_str(v, "mailto", people_mailto(r->arena, db_value(res, 0, 1),
		    "Your invitation to labeld", body));
	}
	if (message != NULL)
		view_str(v, status == 200 ? "flash" : "message", message);
	page_render(r, status, "person", v);
}

/* The flash of ?done=WHAT after an action. */
static const char *done_message(const char *done)
{
	static const struct { const char *key, *text; } m[] = {
		{ "disabled", "Disabled: their sessions ended and their leases went back to the queue." },
		{ "enabled", "Enabled: they can sign in again." },
		{ "removed", "Removed: they can no longer sign in; their past answers stay attributed." },
		{ "admin", "They are an admin now." },
		{ "labeler", "They are a labeler now." },
		{ "provider-only", "They sign in through a provider only now: their password and "
		  "open invitations are gone, and their sessions ended." },
		{ "password-allowed", "They may have a password again: send them an invitation to "
		  "set one." },
		{ "unbound", "Unbound: that sign-in no longer signs them in. Their next sign-in "
		  "through a provider binds again by a verified email address." },
	};
	for (size_t i = 0; done != NULL && i < sizeof(m) / sizeof(m[0]); i++)
		if (strcmp(done, m[i].key) == 0)
			return m[i].text;
	return NULL;
}

void handle_person(struct request *r)
{
	person_page(r, 200, param_uid(r), NULL, done_message(req_query(r, "done")));
}

/* ------------------------------------------------------------ adding */

void handle_person_add(struct request *r)
{
	const char *email_in = field(r, "email"), *name = field(r, "name");
	const char *role = req_form(r, "role"), *problem;
	int admin = role != NULL && strcmp(role, "admin") == 0;
	char *email = auth_email_normalize(r->arena, email_in);
	char token[TOKEN_LEN + 1];
	struct db_result *res;
	uint64_t id = 0;
	int rc;

	if (email_in == NULL || name == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	if (role != NULL && !admin && strcmp(role, "labeler") != 0) {
		people_page(r, 400, "Choose a role: labeler or admin.", email_in, name, admin);
		return;
	}
	if (email == NULL) {
		people_page(r, 400, "Enter the person's email address (such as name@example.com).",
		    email_in, name, admin);
		return;
	}
	if ((problem = name_problem(name)) != NULL) {
		people_page(r, 400, problem, email_in, name, admin);
		return;
	}
	for (int attempt = 0; attempt < 3; attempt++) {
		if ((rc = db_begin(r->db)) != DB_OK)
			break;
		rc = db_query(r->db, r->arena, &res,
		    "SELECT id, removed_at IS NOT NULL FROM users WHERE email = ? FOR UPDATE",
		    "s", email);
		if (rc == DB_OK && res->nrows == 1 && db_int(res, 0, 1) == 0) {
			db_rollback(r->db);
			people_page(r, 409, arena_printf(r->arena,
			    "%s already has an account: find them in the list.", email),
			    email_in, name, admin);
			return;
		}
		if (rc == DB_OK && res->nrows == 1) {
			/* A removed person comes back as invited: the same row,
			 * so their past answers stay theirs. */
			id = (uint64_t)db_int(res, 0, 0);
			rc = db_exec(r->db, 0, NULL, NULL,
			    "UPDATE users SET display_name = ?, is_admin = ?, password_hash = '', "
			    "is_disabled = 0, removed_at = NULL, activated_at = NULL, invited_by = ? "
			    "WHERE id = ?", "siii", name, (long long)admin, r->session->user_id,
			    (long long)id);
		} else if (rc == DB_OK) {
			rc = db_exec(r->db, 0, NULL, &id,
			    "INSERT INTO users (email, display_name, password_hash, is_admin, invited_by) "
			    "VALUES (?, ?, '', ?, ?)", "ssii", email, name, (long long)admin,
			    r->session->user_id);
		}
		if (rc == DB_OK)
			rc = people_invite(r->db, (long long)id, r->session->user_id,
			    r->app->cfg.invitation_lifetime, token);
		if (rc == DB_OK)
			rc = db_commit(r->db);
		if (rc == DB_OK)
			break;
		db_rollback(r->db);
		if (rc != DB_RETRY && rc != DB_DUPLICATE)
			break;
	}
	if (rc != DB_OK) {
		page_db_error(r, rc, "The person could not be added");
		return;
	}
	log_info("person %llu (%s) invited by %s", (unsigned long long)id, email, r->session->email);
	person_page(r, 200, (long long)id, token,
	    "Added. Send them the invitation link below; it is shown only now.");
	explicit_bzero(token, sizeof(token));
}

void handle_person_invite(struct request *r)
{
	long long uid = param_uid(r);
	char token[TOKEN_LEN + 1];
	struct db_result *res;
	int rc, tries = 0;

again:
	if ((rc = db_begin(r->db)) != DB_OK) {
		page_db_error(r, rc, "The invitation could not be made");
		return;
	}
	/* People without a password: invited ones, and those whose
	 * provider-only sign-in an admin turned off. */
	rc = db_query(r->db, r->arena, &res,
	    "SELECT (activated_at IS NULL OR password_hash = '') AND provider_only = 0 "
	    "AND removed_at IS NULL AND is_disabled = 0 "
	    "FROM users WHERE id = ? FOR UPDATE", "i", uid);
	if (rc == DB_OK && res->nrows != 1) {
		db_rollback(r->db);
		page_error(r, 404, "No such person", "There is no person at this address.");
		return;
	}
	if (rc == DB_OK && db_int(res, 0, 0) != 1) {
		db_rollback(r->db);
		person_page(r, 409, uid, NULL, "Only people without a password get invitation "
		    "links: this person has set a password already, signs in through a provider "
		    "only, or is disabled or removed.");
		return;
	}
	if (rc == DB_OK)
		rc = people_invite(r->db, uid, r->session->user_id, r->app->cfg.invitation_lifetime,
		    token);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	if (rc != DB_OK) {
		db_rollback(r->db);
		if ((rc == DB_RETRY || rc == DB_DUPLICATE) && ++tries < 3)
			goto again;
		page_db_error(r, rc, "The invitation could not be made");
		return;
	}
	log_info("invitation of person %lld made again by %s", uid, r->session->email);
	person_page(r, 200, uid, token,
	    "A new invitation link: the older links no longer work. It is shown only now.");
	explicit_bzero(token, sizeof(token));
}

/* ------------------------------------------------------------ actions */

/* End the transaction of a change to person uid: commit when rc is
 * DB_OK.  Returns 1 to run the change again (a deadlock; at most 3
 * tries), else 0 with the answer made: the redirect to their page with
 * ?done=done (logged), or the error page saying `what` failed. */
static int person_change_end(struct request *r, long long uid, int rc, int *tries,
    const char *what, const char *done)
{
	if (rc == DB_OK)
		rc = db_commit(r->db);
	if (rc != DB_OK) {
		db_rollback(r->db);
		if (rc == DB_RETRY && ++*tries < 3)
			return 1;
		page_db_error(r, rc, what);
		return 0;
	}
	log_info("person %lld %s by %s", uid, done, r->session->email);
	resp_redirect(r, 303, arena_printf(r->arena, "/admin/people/%lld?done=%s", uid, done));
	return 0;
}

enum person_action { ACT_DISABLE, ACT_ENABLE, ACT_REMOVE, ACT_ADMIN, ACT_LABELER };

/* Apply an action to person :uid in one transaction (with the last-admin
 * guard) that also ends their sessions and returns their leases when they
 * lose access, and redirect to their page; 409 with the reason when
 * refused. */
static void person_act(struct request *r, enum person_action act)
{
	static const char *const done[] = { "disabled", "enabled", "removed", "admin", "labeler" };
	long long uid = param_uid(r);
	struct db_result *res;
	int rc, last = 0, tries = 0;
	const char *refusal = NULL;

again:
	if ((rc = db_begin(r->db)) != DB_OK) {
		page_db_error(r, rc, "The change could not be made");
		return;
	}
	/* The guard locks the admins' rows first, then the person's row. */
	rc = people_last_admin(r->db, r->arena, uid, &last);
	if (rc == DB_OK)
		rc = db_query(r->db, r->arena, &res,
		    "SELECT removed_at IS NOT NULL FROM users WHERE id = ? FOR UPDATE", "i", uid);
	if (rc == DB_OK && res->nrows != 1) {
		db_rollback(r->db);
		page_error(r, 404, "No such person", "There is no person at this address.");
		return;
	}
	if (rc == DB_OK && db_int(res, 0, 0) != 0)
		refusal = "This person was removed. To bring them back, add their email address "
		    "again on the People page: they get a new invitation.";
	else if (rc == DB_OK && last && act != ACT_ENABLE && act != ACT_ADMIN)
		refusal = "This is the only admin who can sign in: make someone else an admin "
		    "first. labeld always keeps at least one admin.";
	if (refusal != NULL) {
		db_rollback(r->db);
		person_page(r, 409, uid, NULL, refusal);
		return;
	}
	if (rc == DB_OK) {
		switch (act) {
		case ACT_DISABLE:
			rc = db_exec(r->db, 0, NULL, NULL,
			    "UPDATE users SET is_disabled = 1 WHERE id = ?", "i", uid);
			break;
		case ACT_ENABLE:
			rc = db_exec(r->db, 0, NULL, NULL,
			    "UPDATE users SET is_disabled = 0 WHERE id = ?", "i", uid);
			break;
		case ACT_REMOVE:
			rc = db_exec(r->db, 0, NULL, NULL,
			    "UPDATE users SET is_disabled = 1, removed_at = NOW(6) WHERE id = ?", "i", uid);
			if (rc == DB_OK)
				rc = db_exec(r->db, 0, NULL, NULL,
				    "UPDATE invitations SET voided_at = NOW(6) "
				    "WHERE user_id = ? AND used_at IS NULL AND voided_at IS NULL", "i", uid);
			/* Out of every team: added again, they start with none. */
			if (rc == DB_OK)
				rc = db_exec(r->db, 0, NULL, NULL,
				    "DELETE FROM team_members WHERE user_id = ?", "i", uid);
			break;
		case ACT_ADMIN:
		case ACT_LABELER:
			rc = db_exec(r->db, 0, NULL, NULL, "UPDATE users SET is_admin = ? WHERE id = ?",
			    "ii", (long long)(act == ACT_ADMIN), uid);
			break;
		}
	}
	/* Their sessions end, and the items they hold go back to the queue,
	 * with the change itself; a labeler made of an admin keeps only the
	 * leases of projects their teams serve. */
	if (rc == DB_OK && (act == ACT_DISABLE || act == ACT_REMOVE))
		rc = access_sessions_end(r->db, uid, NULL);
	if (rc == DB_OK && (act == ACT_DISABLE || act == ACT_REMOVE || act == ACT_LABELER))
		rc = access_leases_revoke_tx(r->db, uid, act != ACT_LABELER, NULL);
	if (person_change_end(r, uid, rc, &tries, "The change could not be made", done[act]))
		goto again;
}

void handle_person_disable(struct request *r)
{
	person_act(r, ACT_DISABLE);
}

void handle_person_enable(struct request *r)
{
	person_act(r, ACT_ENABLE);
}

void handle_person_remove(struct request *r)
{
	person_act(r, ACT_REMOVE);
}

void handle_person_role(struct request *r)
{
	const char *role = req_form(r, "role");

	if (role != NULL && strcmp(role, "admin") == 0)
		person_act(r, ACT_ADMIN);
	else if (role != NULL && strcmp(role, "labeler") == 0)
		person_act(r, ACT_LABELER);
	else
		page_error(r, 400, "No such role", "A person is an admin or a labeler (role=admin or "
		    "role=labeler).");
}

/* ------------------------------------------------------------ sign-in through providers */

/* The person :uid locked for a change (FOR UPDATE) inside the caller's
 * transaction: 0 when they may be changed, else -1 with the transaction
 * rolled back and the answer made (404 no such person, 409 removed, or
 * the database's error page when *rc is not DB_OK). */
static int person_lock(struct request *r, long long uid, int *rc)
{
	struct db_result *res;

	*rc = db_query(r->db, r->arena, &res,
	    "SELECT removed_at IS NOT NULL FROM users WHERE id = ? FOR UPDATE", "i", uid);
	if (*rc != DB_OK)
		return -1;
	if (res->nrows != 1) {
		db_rollback(r->db);
		page_error(r, 404, "No such person", "There is no person at this address.");
		return -1;
	}
	if (db_int(res, 0, 0) != 0) {
		db_rollback(r->db);
		person_page(r, 409, uid, NULL, "This person was removed. To bring them back, add "
		    "their email address again on the People page.");
		return -1;
	}
	return 0;
}

void handle_person_provider_only(struct request *r)
{
	long long uid = param_uid(r);
	const char *on_s = req_form(r, "on");
	int on, rc, last = 0, tries = 0;

	if (on_s == NULL || (strcmp(on_s, "1") != 0 && strcmp(on_s, "0") != 0)) {
		page_error(r, 400, "Bad request", "Say on=1 (provider sign-in only) or on=0.");
		return;
	}
	on = on_s[0] == '1';
again:
	if ((rc = db_begin(r->db)) != DB_OK) {
		page_db_error(r, rc, "The change could not be made");
		return;
	}
	/* The last-admin guard counts admins with a password, so that one
	 * can always sign in when no provider can be reached: its rows are
	 * locked first, then the person's. */
	if (on)
		rc = people_last_admin(r->db, r->arena, uid, &last);
	if (rc == DB_OK && person_lock(r, uid, &rc) < 0 && rc == DB_OK)
		return;
	if (rc == DB_OK && last) {
		db_rollback(r->db);
		person_page(r, 409, uid, NULL, "This is the only admin who can sign in with a "
		    "password: make someone else an admin first. labeld keeps one, for the day "
		    "no provider can be reached.");
		return;
	}
	if (rc == DB_OK)
		rc = people_provider_only_set(r->db, uid, on);
	/* Without a password, the sessions it made end too (the acting
	 * admin's own current one stays). */
	if (rc == DB_OK && on)
		rc = access_sessions_end(r->db, uid,
		    uid == r->session->user_id ? r->session->hash : NULL);
	if (person_change_end(r, uid, rc, &tries, "The change could not be made",
	    on ? "provider-only" : "password-allowed"))
		goto again;
}

void handle_person_identity_unbind(struct request *r)
{
	long long uid = param_uid(r), iid = catalog_parse_id(route_param(&r->params, "iid"));
	int rc, found = 0, tries = 0;

again:
	if ((rc = db_begin(r->db)) != DB_OK) {
		page_db_error(r, rc, "The sign-in could not be unbound");
		return;
	}
	if (person_lock(r, uid, &rc) < 0 && rc == DB_OK)
		return;
	if (rc == DB_OK)
		rc = oidc_identity_unbind(r->db, uid, iid, &found);
	if (rc == DB_OK && !found) {
		db_rollback(r->db);
		page_error(r, 404, "No such sign-in", "This person has no sign-in at this address.");
		return;
	}
	if (person_change_end(r, uid, rc, &tries, "The sign-in could not be unbound",
	    "unbound"))
		goto again;
}

/* ------------------------------------------------------------ the invitation */

/* The invitation of token (any string) if it can be used: *res has one
 * row (invitation id, user id, email, display name, provider_only); else
 * *res is NULL
 * (not a token) or has no row.  FOR UPDATE when lock.  DB_OK or DB_*. */
static int invitation_find(struct request *r, const char *token, int lock,
    struct db_result **res)
{
	unsigned char h[32];

	*res = NULL;
	if (!token_syntax_ok(token))
		return DB_OK;
	token_hash(token, h);
	return db_query(r->db, r->arena, res, lock ?
	    "SELECT i.id, i.user_id, u.email, u.display_name, u.provider_only FROM invitations i "
	    "JOIN users u ON u.id = i.user_id WHERE i.token_hash = ? AND i.used_at IS NULL "
	    "AND i.voided_at IS NULL AND i.expires_at > NOW(6) AND u.removed_at IS NULL "
	    "AND u.is_disabled = 0 FOR UPDATE" :
	    "SELECT i.id, i.user_id, u.email, u.display_name, u.provider_only FROM invitations i "
	    "JOIN users u ON u.id = i.user_id WHERE i.token_hash = ? AND i.used_at IS NULL "
	    "AND i.voided_at IS NULL AND i.expires_at > NOW(6) AND u.removed_at IS NULL "
	    "AND u.is_disabled = 0", "b", h, sizeof(h));
}

/* The set-password page of an invitation (res row 0), with what was
 * typed (the name, never the passwords) and a message. */
static void invite_page(struct request *r, int status, const struct db_result *res,
    const char *name, const char *message)
{
	struct json_object *v = view_new(r, "Set your password");
	const char *csrf = login_token(r);

	if (v == NULL || csrf == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	view_str(v, "login_csrf", csrf);
	view_str(v, "token", route_param(&r->params, "token"));
	view_str(v, "email", db_value(res, 0, 2));
	view_str(v, "name", name != NULL ? name : db_value(res, 0, 3));
	view_int(v, "min", PASSWORD_MIN);
	/* Someone who signs in through a provider only sets no password:
	 * the page says so instead of showing the form (provider-only
	 * voids open invitations, so this is a link made just before). */
	view_bool(v, "provider_only", db_int(res, 0, 4) != 0);
	json_object_object_add(v, "providers", oidc_providers_view(r));
	if (message != NULL)
		view_str(v, "message", message);
	page_render(r, status, "invite", v);
}

/* The usable invitation of :token into *res (invitation_find); 0, or -1
 * with the answer made (the one 404 page for every link that cannot be
 * used). */
static int invitation_open(struct request *r, struct db_result **res)
{
	int rc = invitation_find(r, route_param(&r->params, "token"), 0, res);

	if (rc != DB_OK) {
		page_db_error(r, rc, "The invitation could not be read");
		return -1;
	}
	if (*res == NULL || (*res)->nrows != 1) {
		page_error(r, 404, INVITE_BAD_TITLE, INVITE_BAD_TEXT);
		return -1;
	}
	return 0;
}

void handle_invite_form(struct request *r)
{
	struct db_result *res;

	if (invitation_open(r, &res) == 0)
		invite_page(r, 200, res, NULL, NULL);
}

void handle_invite_accept(struct request *r)
{
	const char *token = route_param(&r->params, "token");
	const char *pw = req_form(r, "password"), *pw2 = req_form(r, "password2");
	const char *name = field(r, "name"), *problem;
	char hash[256];
	struct db_result *res;
	long long uid;
	int rc;

	if (invitation_open(r, &res) < 0)
		return;
	if (db_int(res, 0, 4) != 0) {
		invite_page(r, 409, res, NULL, NULL);
		return;
	}
	if (name == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	if (name[0] == '\0')
		name = db_value(res, 0, 3);   /* the name the admin gave */
	if ((problem = name_problem(name)) != NULL ||
	    (problem = people_password_problem(pw, pw2)) != NULL) {
		invite_page(r, 422, res, name, problem);
		return;
	}
	/* Hashing takes a while: before the transaction. */
	if (auth_hash_password(pw, r->app->cfg.password_cost, hash, sizeof(hash)) < 0) {
		page_error(r, 500, "Internal error", "The password could not be hashed.");
		return;
	}
	if ((rc = db_begin(r->db)) == DB_OK)
		rc = invitation_find(r, token, 1, &res);
	if (rc == DB_OK && (res == NULL || res->nrows != 1)) {
		/* Used by a request that came in at the same time. */
		db_rollback(r->db);
		explicit_bzero(hash, sizeof(hash));
		page_error(r, 404, INVITE_BAD_TITLE, INVITE_BAD_TEXT);
		return;
	}
	if (rc == DB_OK && db_int(res, 0, 4) != 0) {
		/* Made provider-only meanwhile. */
		db_rollback(r->db);
		explicit_bzero(hash, sizeof(hash));
		invite_page(r, 409, res, NULL, NULL);
		return;
	}
	uid = rc == DB_OK ? db_int(res, 0, 1) : 0;
	if (rc == DB_OK)
		rc = db_exec(r->db, 0, NULL, NULL,
		    "UPDATE users SET password_hash = ?, display_name = ?, "
		    "activated_at = COALESCE(activated_at, NOW(6)), last_login_at = NOW(6) "
		    "WHERE id = ?", "ssi", hash, name, uid);
	if (rc == DB_OK)
		rc = db_exec(r->db, 0, NULL, NULL,
		    "UPDATE invitations SET used_at = IF(id = ?, NOW(6), used_at), "
		    "voided_at = IF(id = ?, voided_at, NOW(6)) "
		    "WHERE user_id = ? AND used_at IS NULL AND voided_at IS NULL",
		    "iii", db_int(res, 0, 0), db_int(res, 0, 0), uid);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	explicit_bzero(hash, sizeof(hash));
	if (rc != DB_OK) {
		db_rollback(r->db);
		page_db_error(r, rc, "The password could not be set");
		return;
	}
	/* Signed in as sign-in does: a new session, the old one (if any)
	 * ends. */
	log_info("invitation accepted: %s from %s", db_value(res, 0, 2), r->remote_addr);
	signin_session_start(r, uid, db_value(res, 0, 2), "invitation", NULL);
}

/* ------------------------------------------------------------ the account */

/* The Account page of the signed-in person, with the name as typed (NULL:
 * the stored one) and a message; error 1 shows it as a refusal. */
static void account_page(struct request *r, int status, const char *name,
    const char *message, int error)
{
	struct json_object *v = view_new(r, "Account");
	struct db_result *res;
	int rc;

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	/* A provider-only person has no password to change (docs/signin.md). */
	rc = db_query(r->db, r->arena, &res, "SELECT provider_only FROM users WHERE id = ?", "i",
	    r->session->user_id);
	if (rc != DB_OK) {
		page_db_error(r, rc, "Your account could not be read");
		return;
	}
	view_bool(v, "provider_only", res->nrows == 1 && db_int(res, 0, 0) != 0);
	view_str(v, "email", r->session->email);
	view_str(v, "name", name != NULL ? name : r->session->display_name);
	view_str(v, "role", r->session->is_admin ? "admin" : "labeler");
	view_int(v, "min", PASSWORD_MIN);
	if (message != NULL)
		view_str(v, error ? "message" : "flash", message);
	page_render(r, status, "account", v);
}

void handle_account(struct request *r)
{
	const char *done = req_query(r, "done");

	account_page(r, 200, NULL, done == NULL ? NULL :
	    strcmp(done, "name") == 0 ? "Your display name was changed." :
	    strcmp(done, "password") == 0 ? "Your password was changed; your other sessions ended." :
	    NULL, 0);
}

void handle_account_name(struct request *r)
{
	const char *name = field(r, "name"), *problem;
	int rc;

	if (name == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	if ((problem = name_problem(name)) != NULL) {
		account_page(r, 422, name, problem, 1);
		return;
	}
	rc = db_exec(r->db, DB_IDEMPOTENT, NULL, NULL,
	    "UPDATE users SET display_name = ? WHERE id = ?", "si", name, r->session->user_id);
	if (rc != DB_OK) {
		page_db_error(r, rc, "The name could not be changed");
		return;
	}
	resp_redirect(r, 303, "/account?done=name");
}

void handle_account_password(struct request *r)
{
	const char *current = req_form(r, "current"), *problem;
	const char *pw = req_form(r, "password"), *pw2 = req_form(r, "password2");
	struct db_result *res = NULL;
	char hash[256], retry[32];
	unsigned wait = 0;
	int rc;

	if ((problem = people_password_problem(pw, pw2)) != NULL) {
		account_page(r, 422, NULL, problem, 1);
		return;
	}
	/* Guesses of the current password count as sign-in tries do
	 * (auth.h), so a session left open does not let anyone try them all. */
	rc = auth_throttle_begin(r->db, r->arena, &r->app->cfg, r->session->email, r->remote_addr,
	    1, &wait);
	if (rc == DB_OK && wait == 0)
		rc = db_query(r->db, r->arena, &res, "SELECT password_hash FROM users WHERE id = ?",
		    "i", r->session->user_id);
	if (rc != DB_OK) {
		page_db_error(r, rc, "The password could not be changed");
		return;
	}
	if (wait > 0) {
		snprintf(retry, sizeof(retry), "%u", wait);
		resp_header(r, "Retry-After", retry);
		account_page(r, 429, NULL, "Too many wrong passwords. Wait a few minutes, then try "
		    "again.", 1);
		return;
	}
	if (current == NULL || res->nrows != 1 || !auth_verify_password(current, db_value(res, 0, 0))) {
		log_info("password change refused for %s: wrong current password", r->session->email);
		account_page(r, 403, NULL, "Your current password is not right: the password was "
		    "not changed.", 1);
		return;
	}
	rc = auth_throttle_success(r->db, r->arena, r->session->email, r->remote_addr,
	    r->session->user_id);
	if (rc != DB_OK) {
		page_db_error(r, rc, "The password could not be changed");
		return;
	}
	if (auth_hash_password(pw, r->app->cfg.password_cost, hash, sizeof(hash)) < 0) {
		page_error(r, 500, "Internal error", "The password could not be hashed.");
		return;
	}
	/* The new password and the end of the other sessions: together. */
	if ((rc = db_begin(r->db)) == DB_OK)
		rc = db_exec(r->db, 0, NULL, NULL, "UPDATE users SET password_hash = ? WHERE id = ?",
		    "si", hash, r->session->user_id);
	if (rc == DB_OK)
		rc = access_sessions_end(r->db, r->session->user_id, r->session->hash);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	explicit_bzero(hash, sizeof(hash));
	if (rc != DB_OK) {
		db_rollback(r->db);
		page_db_error(r, rc, "The password could not be changed");
		return;
	}
	log_info("password changed by %s", r->session->email);
	resp_redirect(r, 303, "/account?done=password");
}
