/*
 * people.c: invitations, the password rule, the last-admin guard and
 * mailto: links, and making people provider-only (people.h).
 */
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "db.h"
#include "people.h"
#include "session.h"

const char *people_password_problem(const char *password, const char *again)
{
	if (password == NULL || password[0] == '\0')
		return "Enter a password.";
	if (strlen(password) < PASSWORD_MIN)
		return "The password is too short: use at least 8 characters.";
	if (strlen(password) > PASSWORD_MAX)
		return "The password is too long: use at most 1024 characters.";
	if (again == NULL || strcmp(password, again) != 0)
		return "The two passwords are not the same: type the same password twice.";
	return NULL;
}

/* Append s percent-encoded, line breaks ("\n", "\r\n" or "\r") as
 * %0D%0A. */
static void add_text(struct buf *b, const char *s)
{
	while (*s != '\0') {
		size_t n = strcspn(s, "\r\n");
		buf_add_url(b, s, n);
		s += n;
		if (*s == '\0')
			break;
		buf_adds(b, "%0D%0A");
		if (s[0] == '\r' && s[1] == '\n')
			s++;
		s++;
	}
}

char *people_mailto(struct arena *a, const char *to, const char *subject, const char *body)
{
	struct buf b;
	const char *at = strrchr(to, '@');

	buf_init(&b, a);
	buf_adds(&b, "mailto:");
	if (at != NULL) {
		buf_add_url(&b, to, (size_t)(at - to));
		buf_addc(&b, '@');
		buf_add_url(&b, at + 1, strlen(at + 1));
	} else {
		buf_add_url(&b, to, strlen(to));
	}
	buf_adds(&b, "?subject=");
	add_text(&b, subject);
	buf_adds(&b, "&body=");
	add_text(&b, body);
	buf_addc(&b, '\0');
	return b.failed ? NULL : b.data;
}

const char *people_status(int removed, int disabled, int activated)
{
	if (removed)
		return "removed";
	if (disabled)
		return "disabled";
	return activated ? "active" : "invited";
}

int people_invite(struct db *db, long long user_id, long long created_by,
    unsigned lifetime, char *token_out)
{
	unsigned char h[32];
	int rc;

	if (token_new(token_out) < 0)
		return DB_ERR;
	token_hash(token_out, h);
	rc = db_exec(db, 0, NULL, NULL,
	    "UPDATE invitations SET voided_at = NOW(6) "
	    "WHERE user_id = ? AND used_at IS NULL AND voided_at IS NULL", "i", user_id);
	if (rc == DB_OK)
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT INTO invitations (user_id, token_hash, created_by, expires_at) "
		    "VALUES (?, ?, NULLIF(?, 0), NOW(6) + INTERVAL ? SECOND)",
		    "ibiu", user_id, h, sizeof(h), created_by, (unsigned long long)lifetime);
	return rc;
}

int people_last_admin(struct db *db, struct arena *a, long long user_id, int *last)
{
	struct db_result *res;
	int rc;

	*last = 0;
	rc = db_query(db, a, &res,
	    "SELECT id FROM users WHERE is_admin = 1 AND is_disabled = 0 AND removed_at IS NULL "
	    "AND password_hash <> '' ORDER BY id FOR UPDATE", "");
	if (rc != DB_OK)
		return rc;
	*last = res->nrows == 1 && db_int(res, 0, 0) == user_id;
	return DB_OK;
}

int people_provider_only_set(struct db *db, long long user_id, int on)
{
	int rc;

	if (!on)
		return db_exec(db, 0, NULL, NULL,
		    "UPDATE users SET provider_only = 0 WHERE id = ?", "i", user_id);
	rc = db_exec(db, 0, NULL, NULL,
	    "UPDATE users SET provider_only = 1, password_hash = '' WHERE id = ?", "i", user_id);
	if (rc == DB_OK)
		rc = db_exec(db, 0, NULL, NULL,
		    "UPDATE invitations SET voided_at = NOW(6) "
		    "WHERE user_id = ? AND used_at IS NULL AND voided_at IS NULL", "i", user_id);
	return rc;
}
