/*
 * auth.h: passwords (yescrypt through libcrypt), sign-in throttling, and
 * creating users.
 */
#ifndef LABELD_AUTH_H
#define LABELD_AUTH_H

#include <stddef.h>

struct arena;
struct db;
struct config;

/* yescrypt hash of password at the given cost into out.  0 or -1. */
int auth_hash_password(const char *password, unsigned cost, char *out, size_t outlen);

/* 1 when password matches hash, 0 otherwise (also for a malformed hash). */
int auth_verify_password(const char *password, const char *hash);

/* Spend the time one verification takes, for unknown accounts, so a
 * response's timing does not tell whether an email exists. */
void auth_verify_dummy(const char *password, unsigned cost);

/* One sign-in try of email from addr, counted BEFORE its password is
 * checked, so that parallel guesses each see their own count: against the
 * pair (email, addr) (hard limit login_max_failures_account), the address
 * (login_max_failures_address) and the account (the slow brake past
 * login_account_backoff, skipped when known_address: the account has
 * signed in from addr before).  On DB_OK *retry_after is 0 (go on and check
 * the password) or the seconds to wait (answer 429, check nothing). */
int auth_throttle_begin(struct db *db, struct arena *a, const struct config *cfg,
    const char *email, const char *addr, int known_address, unsigned *retry_after);
/* The password was right: forget the pair's tries, take this try back from
 * the address and the account, and remember addr as known for user_id. */
int auth_throttle_success(struct db *db, struct arena *a, const char *email,
    const char *addr, long long user_id);

/* Normalise an email for storage and lookup: trimmed, lower-case.  NULL
 * when it is not plausibly an address (no '@', spaces, too long). */
char *auth_email_normalize(struct arena *a, const char *email);

/* Create a user.  DB_OK with *id set, DB_DUPLICATE when the email exists, or
 * another DB_* error. */
int auth_user_create(struct db *db, struct arena *a, const char *email,
    const char *display_name, const char *password, int is_admin,
    unsigned cost, long long *id);

#endif
