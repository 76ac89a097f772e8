/*
 * people.h: the people side of labeld (issue 13): invitations, the
 * password rule, the last-admin guard and the mailto: links that carry an
 * invitation.  The pages are in handlers/people.c.
 *
 * A person is invited (activated_at NULL, no password: password_hash ''
 * never verifies), active, disabled (is_disabled) or removed (removed_at
 * and is_disabled; the row stays so their answers stay attributed).  A
 * provider-only person (users.provider_only, docs/signin.md) has no
 * password and gets no invitation: they sign in through a provider.
 */
#ifndef LABELD_PEOPLE_H
#define LABELD_PEOPLE_H

#include <stddef.h>

struct arena;
struct db;

/* The password rule of every form that sets one (invitation, account):
 * at least PASSWORD_MIN characters (bytes), at most PASSWORD_MAX. */
#define PASSWORD_MIN 8
#define PASSWORD_MAX 1024

/* What is wrong with a new password typed twice (a sentence for the
 * form), or NULL when it may be used. */
const char *people_password_problem(const char *password, const char *again);

/* A mailto: URI for one address with a subject and a body, every part
 * percent-encoded (RFC 6068: only unreserved characters are kept, and '@'
 * in the address; a line break in body becomes %0D%0A).  Arena-owned;
 * NULL when out of memory. */
char *people_mailto(struct arena *a, const char *to, const char *subject, const char *body);

/* The status of a person from their row: "removed", "disabled", "invited"
 * or "active". */
const char *people_status(int removed, int disabled, int activated);

/* A new invitation for user_id, made by created_by (0: nobody), good for
 * lifetime seconds; every older open invitation of the person is voided.
 * Call inside a transaction (one with the change that needs the link).
 * The token (TOKEN_LEN + 1 bytes) goes to token_out; only its SHA-256 is
 * stored.  DB_OK or DB_*. */
int people_invite(struct db *db, long long user_id, long long created_by,
    unsigned lifetime, char *token_out);

/* The last-admin guard, inside a transaction: locks the rows of every
 * admin who can sign in (enabled, not removed, with a password; FOR
 * UPDATE, so two admins demoting each other at once are served one after
 * the other) and sets *last to 1 when user_id is the only one.  DB_OK or
 * DB_*. */
int people_last_admin(struct db *db, struct arena *a, long long user_id, int *last);

/* Make user_id sign in through a provider only (on) or not, inside the
 * caller's transaction (with the person's row locked).  On: the password
 * goes (password_hash '', which never verifies) and every open invitation
 * is voided (an invitation sets a password).  Off: the flag only; the
 * person has no password until an admin sends an invitation and they set
 * one.  Their identities stay either way.  DB_OK or DB_*. */
int people_provider_only_set(struct db *db, long long user_id, int on);

#endif
