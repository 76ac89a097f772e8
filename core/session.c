/*
 * session.c: token generation and hashing, CSRF comparison, the safe-next
 * rule, and the sessions table.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "arena.h"
#include "buf.h"
#include "combine.h"
#include "db.h"
#include "log.h"
#include "session.h"

/* Combined lookups (below): batches at once per process, jobs per batch. */
#define SESSION_LOOKUP_LEADERS 2
#define SESSION_LOOKUP_BATCH 32

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

/* SHA-256, fetched from OpenSSL's provider once: the one-shot SHA256()
 * looks the algorithm up on every call, and every request hashes its
 * session cookie. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void token_hash(const char *token, unsigned char out[32])
{
	unsigned int len = 32;

	pthread_once(&sha256_once, sha256_fetch);
	if (sha256_md == NULL ||
	    EVP_Digest(token, strlen(token), out, &len, sha256_md, NULL) != 1 || len != 32)
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

/*
 * Lookups are combined (combine.h): the sessions of the requests that
 * arrive while another lookup runs are checked together, in one statement
 * over a JSON array of their token hashes.  Every request is still checked
 * against the sessions table by a statement that ran after it arrived.
 */

struct lookup_job {
	struct combine_job cj;     /* first: the combiner's part */
	struct arena *arena;       /* the owner's: results are copied here */
	unsigned char hash[32];
	unsigned idle_timeout, lifetime;
	struct session *out;       /* NULL: no valid session */
	long long age;             /* seconds since last_seen_at */
	int rc;
};

static struct combiner lookup_combiner;
static pthread_once_t lookup_once = PTHREAD_ONCE_INIT;

void session_hash_hex(const unsigned char hash[32], char out[65])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t k = 0; k < 32; k++) {
		out[2 * k] = hex[hash[k] >> 4];
		out[2 * k + 1] = hex[hash[k] & 15];
	}
	out[64] = '\0';
}

struct session *session_from_row(struct arena *a, const struct db_result *res, size_t row,
    size_t col, const unsigned char hash[32], long long *age)
{
	struct session *se = arena_alloc(a, sizeof(*se));

	if (se == NULL)
		return NULL;
	se->user_id = db_int(res, row, col);
	se->email = arena_strdup(a, db_value(res, row, col + 1));
	se->display_name = db_value(res, row, col + 2) ?
	    arena_strdup(a, db_value(res, row, col + 2)) : NULL;
	se->is_admin = db_int(res, row, col + 3) != 0;
	se->csrf = arena_strdup(a, db_value(res, row, col + 4));
	memcpy(se->hash, hash, sizeof(se->hash));
	*age = db_int(res, row, col + 5);
	return se->email != NULL && se->csrf != NULL ? se : NULL;
}

int session_touch(struct db *db, const struct session *s, long long age)
{
	if (age < 60)
		return DB_OK;
	/* Idempotent: a retry after a lost connection is harmless. */
	return db_exec(db, DB_IDEMPOTENT, NULL, NULL,
	    "UPDATE sessions SET last_seen_at = NOW(6) WHERE token_hash = ?",
	    "b", s->hash, sizeof(s->hash));
}

static void lookup_batch(void *ctx, struct combine_job **cjobs, size_t n)
{
	struct combine_ctx *lc = ctx;
	struct lookup_job **jobs = (struct lookup_job **)cjobs;
	struct db_result *res;
	struct buf b;
	int rc;

	buf_init(&b, lc->arena);
	buf_addc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		char h[65];
		session_hash_hex(jobs[i]->hash, h);
		buf_printf(&b, "%s{\"k\":%zu,\"h\":\"%s\"}", i > 0 ? "," : "", i, h);
		jobs[i]->out = NULL;
	}
	buf_addc(&b, ']');
	if (b.failed) {
		for (size_t i = 0; i < n; i++)
			jobs[i]->rc = DB_ERR;
		return;
	}
	/* One idle timeout and lifetime per batch (the job's group). */
	rc = db_query(lc->db, lc->arena, &res,
	    "SELECT j.k, " SESSION_COLUMNS " FROM " SESSION_JSON_TABLE SESSION_JOIN
	    "WHERE " SESSION_VALID,
	    "suu", b.data, (unsigned long long)jobs[0]->idle_timeout,
	    (unsigned long long)jobs[0]->lifetime);
	for (size_t i = 0; i < n; i++)
		jobs[i]->rc = rc;
	if (rc != DB_OK)
		return;
	for (size_t r = 0; r < res->nrows; r++) {
		long long k = db_int(res, r, 0);
		if (k < 0 || (size_t)k >= n)
			continue;
		jobs[k]->out = session_from_row(jobs[k]->arena, res, r, 1, jobs[k]->hash, &jobs[k]->age);
		if (jobs[k]->out == NULL)
			jobs[k]->rc = DB_ERR;
	}
}

static void lookup_init(void)
{
	combiner_init(&lookup_combiner, SESSION_LOOKUP_LEADERS, SESSION_LOOKUP_BATCH, 4, lookup_batch);
}

int session_lookup(struct db *db, struct arena *a, const char *token,
    unsigned idle_timeout, unsigned lifetime, struct session **out)
{
	struct lookup_job j = {
		.cj = { .kind = 1, .group = (long long)idle_timeout << 32 | lifetime },
		.arena = a, .idle_timeout = idle_timeout, .lifetime = lifetime,
	};
	struct combine_ctx lc = { .db = db, .arena = a };
	int rc;

	*out = NULL;
	if (!token_syntax_ok(token))
		return DB_OK;
	token_hash(token, j.hash);
	pthread_once(&lookup_once, lookup_init);
	combine_submit(&lookup_combiner, &j.cj, &lc);
	if (j.rc != DB_OK || j.out == NULL)
		return j.rc;
	rc = session_touch(db, j.out, j.age);
	if (rc != DB_OK)
		return rc;
	*out = j.out;
	return DB_OK;
}

void session_lookup_stats(unsigned long long *batches, unsigned long long *lookups)
{
	pthread_once(&lookup_once, lookup_init);
	combine_stats(&lookup_combiner, batches, lookups);
}

int session_destroy(struct db *db, const unsigned char hash[32])
{
	return db_exec(db, DB_IDEMPOTENT, NULL, NULL,
	    "DELETE FROM sessions WHERE token_hash = ?", "b", hash, (size_t)32);
}
