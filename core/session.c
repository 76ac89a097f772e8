/*
 * session.c: token generation and hashing, CSRF comparison, the safe-next
 * rule, and the sessions table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/sha.h>

#include "arena.h"
#include "db.h"
#include "log.h"
#include "session.h"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void base64url_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
	}
	out[o] = '\0';
}

int token_new(char *out)
{
	unsigned char raw[32];
	size_t got = 0;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("token_new: getrandom: %s", strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	base64url_encode(raw, sizeof(raw), out);
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

int token_syntax_ok(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];
		if (i >= TOKEN_LEN)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return i == TOKEN_LEN;
}

void token_hash(const char *token, unsigned char out[32])
{
	SHA256((const unsigned char *)token, strlen(token), out);
}

int secure_equal(const char *a, const char *b)
{
	size_t la, lb, i;
	unsigned char diff;

	if (a == NULL || b == NULL)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	diff = (unsigned char)(la != lb);
	for (i = 0; i < lb; i++)
		diff |= (unsigned char)(b[i] ^ (i < la ? a[i] : 0));
	return diff == 0;
}

int next_is_safe(const char *next)
{
	if (next == NULL || next[0] != '/' || next[1] == '/' || next[1] == '\\')
		return 0;
	for (const unsigned char *p = (const unsigned char *)next; *p; p++)
		if (*p < 0x21 || *p == 0x7f || *p == '\\')
			return 0;
	return 1;
}

int session_create(struct db *db, long long user_id, const char *remote_addr,
    const char *user_agent, unsigned idle_timeout, unsigned lifetime, char *token_out)
{
	char csrf[TOKEN_LEN + 1];
	unsigned char hash[32];
	char ua[256];
	int rc;

	if (token_new(token_out) < 0 || token_new(csrf) < 0)
		return DB_ERR;
	token_hash(token_out, hash);
	/* Keep the stored user agent within its column, on a UTF-8 boundary. */
	snprintf(ua, sizeof(ua), "%s", user_agent ? user_agent : "");
	for (size_t n = strlen(ua); n > 0 && ((unsigned char)ua[n - 1] & 0xC0) == 0x80; n--)
		ua[n - 1] = '\0';
	rc = db_exec(db, 0, NULL, NULL,
	    "INSERT INTO sessions (token_hash, user_id, csrf_token, remote_addr, user_agent) "
	    "VALUES (?, ?, ?, ?, ?)",
	    "bisss", hash, sizeof(hash), user_id, csrf,
	    remote_addr ? remote_addr : "", ua);
	explicit_bzero(csrf, sizeof(csrf));
	if (rc != DB_OK)
		return rc;
	/* Housekeeping: this user's sessions that can no longer be used. */
	return db_exec(db, DB_IDEMPOTENT, NULL, NULL,
	    "DELETE FROM sessions WHERE user_id = ? AND "
	    "(last_seen_at < NOW(6) - INTERVAL ? SECOND OR created_at < NOW(6) - INTERVAL ? SECOND)",
	    "iuu", user_id, (unsigned long long)idle_timeout, (unsigned long long)lifetime);
}

int session_lookup(struct db *db, struct arena *a, const char *token,
    unsigned idle_timeout, unsigned lifetime, struct session **out)
{
	struct db_result *res;
	struct session *s;
	unsigned char hash[32];
	int rc;

	*out = NULL;
	if (!token_syntax_ok(token))
		return DB_OK;
	token_hash(token, hash);
	rc = db_query(db, a, &res,
	    "SELECT s.user_id, u.email, u.display_name, u.is_admin, s.csrf_token, "
	    "TIMESTAMPDIFF(SECOND, s.last_seen_at, NOW(6)) "
	    "FROM sessions s JOIN users u ON u.id = s.user_id "
	    "WHERE s.token_hash = ? AND u.is_disabled = 0 "
	    "AND s.last_seen_at > NOW(6) - INTERVAL ? SECOND "
	    "AND s.created_at > NOW(6) - INTERVAL ? SECOND",
	    "buu", hash, sizeof(hash), (unsigned long long)idle_timeout,
	    (unsigned long long)lifetime);
	if (rc != DB_OK)
		return rc;
	if (res->nrows == 0)
		return DB_OK;
	s = arena_alloc(a, sizeof(*s));
	if (s == NULL)
		return DB_ERR;
	s->user_id = db_int(res, 0, 0);
	s->email = db_value(res, 0, 1);
	s->display_name = db_value(res, 0, 2);
	s->is_admin = db_int(res, 0, 3) != 0;
	s->csrf = db_value(res, 0, 4);
	memcpy(s->hash, hash, sizeof(hash));
	if (db_int(res, 0, 5) >= 60) {
		/* Idempotent: a retry after a lost connection is harmless. */
		rc = db_exec(db, DB_IDEMPOTENT, NULL, NULL,
		    "UPDATE sessions SET last_seen_at = NOW(6) WHERE token_hash = ?",
		    "b", hash, sizeof(hash));
		if (rc != DB_OK)
			return rc;
	}
	*out = s;
	return DB_OK;
}

int session_destroy(struct db *db, const unsigned char hash[32])
{
	return db_exec(db, DB_IDEMPOTENT, NULL, NULL,
	    "DELETE FROM sessions WHERE token_hash = ?", "b", hash, (size_t)32);
}
