/*
 * auth.c: yescrypt hashing, throttling of failed sign-ins, user creation.
 */
#include <ctype.h>
#include <crypt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "log.h"

int auth_hash_password(const char *password, unsigned cost, char *out, size_t outlen)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	int rc = -1;

	/* NULL random bytes: libcrypt draws them from the kernel itself. */
	if (crypt_gensalt_rn("$y$", cost, NULL, 0, setting, sizeof(setting)) == NULL) {
		log_error("auth_hash_password: crypt_gensalt_rn failed");
		return -1;
	}
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return -1;
	if (crypt_rn(password, setting, cd, sizeof(*cd)) != NULL &&
	    cd->output[0] == '$' && strlen(cd->output) < outlen) {
		strcpy(out, cd->output);
		rc = 0;
	} else {
		log_error("auth_hash_password: crypt_rn failed");
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

int auth_verify_password(const char *password, const char *hash)
{
	struct crypt_data *cd;
	int ok = 0;

	if (hash == NULL || hash[0] != '$')
		return 0;
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return 0;
	if (crypt_rn(password, hash, cd, sizeof(*cd)) != NULL && cd->output[0] == '$') {
		size_t n = strlen(hash);
		unsigned char diff = (unsigned char)(strlen(cd->output) != n);
		for (size_t i = 0; i < n; i++)
			diff |= (unsigned char)(cd->output[i] ^ hash[i]);
		ok = diff == 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

void auth_verify_dummy(const char *password, unsigned cost)
{
	char hash[256];

	/* Hashing costs the same as verifying at the same cost. */
	if (auth_hash_password(password, cost, hash, sizeof(hash)) == 0)
		explicit_bzero(hash, sizeof(hash));
}

char *auth_email_normalize(struct arena *a, const char *email)
{
	const char *s = email, *e;
	char *out;
	size_t n;

	if (email == NULL)
		return NULL;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - s);
	if (n < 3 || n > 254)
		return NULL;
	out = arena_strndup(a, s, n);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"')
			return NULL;
		out[i] = (char)tolower(c);
	}
	const char *at = strchr(out, '@');
	if (at == NULL || at == out || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return NULL;
	return out;
}

/* Throttle keys (see sql/008_signin_throttle.sql). */
static char *key_pair(struct arena *a, const char *email, const char *addr)
{
	return arena_printf(a, "pair:%s %s", email, addr);
}

static char *key_address(struct arena *a, const char *addr)
{
	return arena_printf(a, "address:%s", addr);
}

static char *key_account(struct arena *a, const char *email)
{
	return arena_printf(a, "account:%s", email);
}

/* Count one try against key in one statement and return the count in the
 * current window (a window older than login_window starts again at 1):
 * LAST_INSERT_ID(expr) hands the new value back with the statement's own
 * answer, so parallel tries each see their own count.  DB_OK or DB_*. */
static int throttle_count(struct db *db, const char *key, unsigned window, uint64_t *count)
{
	/* MariaDB applies the assignments left to right: failures is
	 * computed while window_start still holds the old window. */
	return db_exec(db, 0, NULL, count,
	    "INSERT INTO login_failures (throttle_key, window_start, failures, last_try) "
	    "VALUES (?, NOW(6), LAST_INSERT_ID(1), NOW(6)) ON DUPLICATE KEY UPDATE "
	    "failures = LAST_INSERT_ID(IF(window_start <= NOW(6) - INTERVAL ? SECOND, 1, failures + 1)), "
	    "window_start = IF(window_start <= NOW(6) - INTERVAL ? SECOND, NOW(6), window_start), "
	    "last_try = NOW(6)",
	    "suu", key, (unsigned long long)window, (unsigned long long)window);
}

/* Seconds until key's window ends (at least 1). */
static int throttle_wait(struct db *db, struct arena *a, const char *key, unsigned window,
    unsigned *wait)
{
	struct db_result *res;
	int rc = db_query(db, a, &res,
	    "SELECT GREATEST(1, TIMESTAMPDIFF(SECOND, NOW(6), window_start + INTERVAL ? SECOND)) "
	    "FROM login_failures WHERE throttle_key = ?", "us", (unsigned long long)window, key);

	if (rc != DB_OK)
		return rc;
	*wait = res->nrows == 1 ? (unsigned)db_int(res, 0, 0) : 1;
	return DB_OK;
}

/* The account's slow brake: past `backoff` tries in the window, a try is
 * counted (and allowed) only when (tries - backoff + 1) seconds have passed
 * since the account's last try.  One conditional statement, so parallel
 * tries cannot pass together.  Sets *wait to 0 (allowed) or the seconds
 * left. */
static int throttle_brake(struct db *db, struct arena *a, const char *key,
    const struct config *cfg, unsigned *wait)
{
	uint64_t affected = 0;
	struct db_result *res;
	int rc;

	*wait = 0;
	for (int tries = 0; tries < 2; tries++) {
		rc = db_exec(db, 0, &affected, NULL,
		    "UPDATE login_failures SET "
		    "failures = IF(window_start <= NOW(6) - INTERVAL ? SECOND, 1, failures + 1), "
		    "window_start = IF(window_start <= NOW(6) - INTERVAL ? SECOND, NOW(6), window_start), "
		    "last_try = NOW(6) "
		    "WHERE throttle_key = ? AND (window_start <= NOW(6) - INTERVAL ? SECOND "
		    "OR failures < ? OR last_try IS NULL "
		    "OR last_try <= NOW(6) - INTERVAL (CAST(failures AS SIGNED) - ? + 1) SECOND)",
		    "uusuuu", (unsigned long long)cfg->login_window,
		    (unsigned long long)cfg->login_window, key,
		    (unsigned long long)cfg->login_window,
		    (unsigned long long)cfg->login_account_backoff,
		    (unsigned long long)cfg->login_account_backoff);
		if (rc != DB_OK || affected == 1)
			return rc;
		/* No row yet (the first try), or the brake holds. */
		rc = db_exec(db, 0, &affected, NULL,
		    "INSERT IGNORE INTO login_failures (throttle_key, window_start, failures, last_try) "
		    "VALUES (?, NOW(6), 1, NOW(6))", "s", key);
		if (rc != DB_OK || affected == 1)
			return rc;
	}
	rc = db_query(db, a, &res,
	    "SELECT GREATEST(1, CEIL((CAST(failures AS SIGNED) - ? + 1) - "
	    "TIMESTAMPDIFF(MICROSECOND, last_try, NOW(6)) / 1e6)) "
	    "FROM login_failures WHERE throttle_key = ?",
	    "us", (unsigned long long)cfg->login_account_backoff, key);
	if (rc != DB_OK)
		return rc;
	*wait = res->nrows == 1 ? (unsigned)db_int(res, 0, 0) : 1;
	return DB_OK;
}

int auth_throttle_begin(struct db *db, struct arena *a, const struct config *cfg,
    const char *email, const char *addr, int known_address, unsigned *retry_after)
{
	char *kpair = key_pair(a, email, addr), *kaddr = key_address(a, addr);
	char *kacct = key_account(a, email);
	uint64_t n = 0;
	int rc;

	*retry_after = 0;
	if (kpair == NULL || kaddr == NULL || kacct == NULL)
		return DB_ERR;
	rc = throttle_count(db, kpair, cfg->login_window, &n);
	if (rc != DB_OK)
		return rc;
	if (n > cfg->login_max_failures_account)
		return throttle_wait(db, a, kpair, cfg->login_window, retry_after);
	rc = throttle_count(db, kaddr, cfg->login_window, &n);
	if (rc != DB_OK)
		return rc;
	if (n > cfg->login_max_failures_address)
		return throttle_wait(db, a, kaddr, cfg->login_window, retry_after);
	if (known_address)
		return throttle_count(db, kacct, cfg->login_window, &n);
	return throttle_brake(db, a, kacct, cfg, retry_after);
}

/* One try fewer on key (not below zero). */
static int throttle_take_back(struct db *db, const char *key)
{
	return db_exec(db, 0, NULL, NULL,
	    "UPDATE login_failures SET failures = IF(failures > 0, failures - 1, 0) "
	    "WHERE throttle_key = ?", "s", key);
}

int auth_throttle_success(struct db *db, struct arena *a, const char *email,
    const char *addr, long long user_id)
{
	char *kpair = key_pair(a, email, addr), *kaddr = key_address(a, addr);
	char *kacct = key_account(a, email);
	int rc;

	if (kpair == NULL || kaddr == NULL || kacct == NULL)
		return DB_ERR;
	rc = db_exec(db, DB_IDEMPOTENT, NULL, NULL,
	    "DELETE FROM login_failures WHERE throttle_key = ?", "s", kpair);
	if (rc == DB_OK)
		rc = throttle_take_back(db, kaddr);
	if (rc == DB_OK)
		rc = throttle_take_back(db, kacct);
	if (rc == DB_OK)
		rc = db_exec(db, DB_IDEMPOTENT, NULL, NULL,
		    "INSERT INTO login_known (user_id, address, last_success) VALUES (?, ?, NOW(6)) "
		    "ON DUPLICATE KEY UPDATE last_success = NOW(6)", "is", user_id, addr);
	return rc;
}

int auth_user_create(struct db *db, struct arena *a, const char *email,
    const char *display_name, const char *password, int is_admin,
    unsigned cost, long long *id)
{
	char hash[256];
	uint64_t insert_id = 0;
	char *norm = auth_email_normalize(a, email);
	int rc;

	if (norm == NULL)
		return DB_ERR;
	if (auth_hash_password(password, cost, hash, sizeof(hash)) < 0)
		return DB_ERR;
	rc = db_exec(db, 0, NULL, &insert_id,
	    "INSERT INTO users (email, display_name, password_hash, is_admin, activated_at) "
	    "VALUES (?, ?, ?, ?, NOW(6))",
	    "sssi", norm, display_name ? display_name : "", hash, (long long)(is_admin != 0));
	explicit_bzero(hash, sizeof(hash));
	if (rc == DB_OK && id != NULL)
		*id = (long long)insert_id;
	return rc;
}
