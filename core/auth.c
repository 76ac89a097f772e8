/*
 * auth.c: yescrypt hashing, throttling of failed sign-ins, user creation.
 */
#include <ctype.h>
#include <crypt.h>
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

int auth_throttle_check(struct db *db, struct arena *a, const struct config *cfg,
    const char *email, const char *addr, unsigned *retry_after)
{
	char *kacct = arena_printf(a, "account:%s", email ? email : "");
	char *kaddr = arena_printf(a, "address:%s", addr ? addr : "");
	struct db_result *res;
	int rc;

	*retry_after = 0;
	if (kacct == NULL || kaddr == NULL)
		return DB_ERR;
	rc = db_query(db, a, &res,
	    "SELECT throttle_key, failures, "
	    "GREATEST(1, TIMESTAMPDIFF(SECOND, NOW(6), window_start + INTERVAL ? SECOND)) "
	    "FROM login_failures WHERE throttle_key IN (?, ?) "
	    "AND window_start > NOW(6) - INTERVAL ? SECOND",
	    "ussu", (unsigned long long)cfg->login_window, kacct, kaddr,
	    (unsigned long long)cfg->login_window);
	if (rc != DB_OK)
		return rc;
	for (size_t i = 0; i < res->nrows; i++) {
		const char *key = db_value(res, i, 0);
		long long failures = db_int(res, i, 1);
		long long wait = db_int(res, i, 2);
		unsigned limit = strncmp(key, "account:", 8) == 0 ?
		    cfg->login_max_failures_account : cfg->login_max_failures_address;
		if (failures >= (long long)limit && (unsigned)wait > *retry_after)
			*retry_after = (unsigned)wait;
	}
	return DB_OK;
}

static int throttle_bump(struct db *db, const char *key, unsigned window)
{
	/* MariaDB applies the assignments left to right: failures is computed
	 * while window_start still holds the old window. */
	return db_exec(db, 0, NULL, NULL,
	    "INSERT INTO login_failures (throttle_key, window_start, failures) "
	    "VALUES (?, NOW(6), 1) ON DUPLICATE KEY UPDATE "
	    "failures = IF(window_start <= NOW(6) - INTERVAL ? SECOND, 1, failures + 1), "
	    "window_start = IF(window_start <= NOW(6) - INTERVAL ? SECOND, NOW(6), window_start)",
	    "suu", key, (unsigned long long)window, (unsigned long long)window);
}

int auth_throttle_fail(struct db *db, const struct config *cfg,
    const char *email, const char *addr)
{
	char key[320];
	int rc;

	snprintf(key, sizeof(key), "account:%s", email ? email : "");
	rc = throttle_bump(db, key, cfg->login_window);
	if (rc != DB_OK)
		return rc;
	snprintf(key, sizeof(key), "address:%s", addr ? addr : "");
	return throttle_bump(db, key, cfg->login_window);
}

int auth_throttle_clear(struct db *db, const char *email)
{
	char key[320];

	snprintf(key, sizeof(key), "account:%s", email ? email : "");
	return db_exec(db, DB_IDEMPOTENT, NULL, NULL,
	    "DELETE FROM login_failures WHERE throttle_key = ?", "s", key);
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
	    "INSERT INTO users (email, display_name, password_hash, is_admin) VALUES (?, ?, ?, ?)",
	    "sssi", norm, display_name ? display_name : "", hash, (long long)(is_admin != 0));
	explicit_bzero(hash, sizeof(hash));
	if (rc == DB_OK && id != NULL)
		*id = (long long)insert_id;
	return rc;
}
