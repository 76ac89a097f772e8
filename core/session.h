/*
 * session.h: session tokens, CSRF tokens, and the sessions table.
 *
 * A session token is 256 random bits from getrandom(), sent to the browser
 * base64url-encoded (43 characters) in the labeld_session cookie.  MariaDB
 * keeps only its SHA-256, so a copy of the database does not let anyone sign
 * in, and any labeld process can serve any request.  Each session has its own
 * CSRF token (also 256 random bits) that every POST form carries.
 */
#ifndef LABELD_SESSION_H
#define LABELD_SESSION_H

#include <stddef.h>

struct arena;
struct db_result;
struct db;

#define SESSION_COOKIE "labeld_session"
#define LOGIN_COOKIE "labeld_login"
#define TOKEN_LEN 43            /* base64url of 32 bytes, no padding */

struct session {
	long long user_id;
	const char *email;
	const char *display_name;
	int is_admin;
	const char *csrf;           /* TOKEN_LEN characters */
	unsigned char hash[32];
};

/* 32 random bytes as base64url into out (TOKEN_LEN + 1 bytes).  0 or -1
 * when getrandom fails. */
int token_new(char *out);
/* 1 when s is exactly TOKEN_LEN base64url characters. */
int token_syntax_ok(const char *s);
/* SHA-256 of the token text. */
void token_hash(const char *token, unsigned char out[32]);
/* Constant-time comparison of two NUL-terminated strings (time depends only
 * on the length of b, the expected value).  1 when equal. */
int secure_equal(const char *a, const char *b);
/* base64url without padding of n bytes into out (4*ceil(n/3) + 1 bytes). */
void base64url_encode(const unsigned char *in, size_t n, char *out);

/* 1 when `next` is a safe local redirect target: starts with exactly one
 * '/', the second character is neither '/' nor '\', and there are no control
 * characters, backslashes or spaces anywhere. */
int next_is_safe(const char *next);

/* Create a session for user_id; writes the new token into token_out
 * (TOKEN_LEN + 1 bytes).  Also removes the user's sessions that have
 * expired under idle_timeout / lifetime.
 * DB_OK or a DB_* error. */
int session_create(struct db *db, long long user_id, const char *remote_addr,
    const char *user_agent, unsigned idle_timeout, unsigned lifetime, char *token_out);

/* Look up a token (any string: junk simply finds nothing).  On DB_OK *out is
 * the session (arena-owned) or NULL when none is valid: unknown, idle for
 * more than idle_timeout seconds, older than lifetime, or its user disabled.
 * last_seen_at is refreshed at most once a minute, so a busy labeler costs
 * one read per request, not a write. */
/* The pieces of the one rule for a valid session, for statements that
 * check a session together with other data (a route's preload, see
 * router.h).  SESSION_JSON_TABLE is a JSON array of {"k": n, "h": hex of
 * the token's hash} (session_hash_hex) as table j; SESSION_JOIN joins the
 * session and its user; SESSION_VALID (two parameters: idle timeout and
 * lifetime, seconds) keeps valid sessions of enabled users only;
 * SESSION_COLUMNS are the six columns session_from_row reads. */
#define SESSION_JSON_TABLE \
	"JSON_TABLE(?, '$[*]' COLUMNS (k INT UNSIGNED PATH '$.k', " \
	"h CHAR(64) CHARACTER SET ascii PATH '$.h')) j "
#define SESSION_JOIN \
	"STRAIGHT_JOIN sessions s ON s.token_hash = UNHEX(j.h) " \
	"STRAIGHT_JOIN users u ON u.id = s.user_id "
#define SESSION_VALID \
	"u.is_disabled = 0 AND s.last_seen_at > NOW(6) - INTERVAL ? SECOND " \
	"AND s.created_at > NOW(6) - INTERVAL ? SECOND"
#define SESSION_COLUMNS \
	"s.user_id, u.email, u.display_name, u.is_admin, s.csrf_token, " \
	"TIMESTAMPDIFF(SECOND, s.last_seen_at, NOW(6))"

/* The 64 hex digits of a token hash (out: 65 bytes). */
void session_hash_hex(const unsigned char hash[32], char out[65]);

/* The session in SESSION_COLUMNS from column col of a row (strings in a);
 * *age gets the seconds since it was last seen.  NULL when out of memory. */
struct session *session_from_row(struct arena *a, const struct db_result *res, size_t row,
    size_t col, const unsigned char hash[32], long long *age);

/* Refresh last_seen_at when age (seconds) reached a minute.  DB_OK or DB_*. */
int session_touch(struct db *db, const struct session *s, long long age);

/* Lookups done, and the statements (batches) they took, since start. */
void session_lookup_stats(unsigned long long *batches, unsigned long long *lookups);

int session_lookup(struct db *db, struct arena *a, const char *token,
    unsigned idle_timeout, unsigned lifetime, struct session **out);

/* Delete the session with this hash.  DB_OK even when it did not exist. */
int session_destroy(struct db *db, const unsigned char hash[32]);

#endif
