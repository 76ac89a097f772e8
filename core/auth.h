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

/* Is sign-in throttled for this account or this address?  On DB_OK sets
 * *retry_after to 0 (not throttled) or the seconds to wait. */
int auth_throttle_check(struct db *db, struct arena *a, const struct config *cfg,
    const char *email, const char *addr, unsigned *retry_after);
/* Count one failed sign-in against the account and the address. */
int auth_throttle_fail(struct db *db, const struct config *cfg,
    const char *email, const char *addr);
/* Forget the account's failures after a successful sign-in. */
int auth_throttle_clear(struct db *db, const char *email);

/* Normalise an email for storage and lookup: trimmed, lower-case.  NULL
 * when it is not plausibly an address (no '@', spaces, too long). */
char *auth_email_normalize(struct arena *a, const char *email);

/* Create a user.  DB_OK with *id set, DB_DUPLICATE when the email exists, or
 * another DB_* error. */
int auth_user_create(struct db *db, struct arena *a, const char *email,
    const char *display_name, const char *password, int is_admin,
    unsigned cost, long long *id);

#endif
