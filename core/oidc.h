/*
 * oidc.h: signing in through OpenID Connect providers (docs/signin.md):
 * the providers of labeld.conf (oidc.NAME.*), their discovery documents and
 * key sets (fetched with libcurl under the blob datastores' address rules,
 * cached per process), and the authorization code flow with PKCE whose
 * state lives in MariaDB (oidc_flows), so any labeld process can finish a
 * flow another one started.  The pages are in handlers/oidc.c.
 */
#ifndef LABELD_OIDC_H
#define LABELD_OIDC_H

#include <stddef.h>

struct arena;
struct config;
struct db;

/* One provider of labeld.conf. */
struct oidc_provider {
	char *name;            /* [a-z0-9_-]{1,32}: the URL segment */
	char *issuer;
	char *client_id;
	char *client_secret;   /* from client_secret or the first line of client_secret_file */
	char *display_name;    /* "Sign in with <display_name>" */
	char *scopes;          /* "openid email profile" */
	char **tenants;        /* NULL-terminated allowed tid values; NULL: any */
};

/* Process-wide: the discovery/JWKS cache.  Call once before threads start
 * (after blob_global_init and blob_policy_set). */
int oidc_global_init(void);
void oidc_global_free(void);

/* The origin ("https://login.example.com", "http://127.0.0.1:8080") of
 * an absolute http(s) URL, lower-case, the port only when the URL names
 * one, into out.  0, or -1 when url has no such origin or out is too
 * small. */
int oidc_origin(const char *url, char *out, size_t outlen);

/* Whether origin is one of the space-separated list's (each entry after
 * a space, as oidc_signin_origins writes them). */
int oidc_origin_listed(const char *list, const char *origin);

/* The origins of the configured providers' issuers, each after a space
 * (" https://a.example https://b.example"; "" without providers), for the
 * sign-in page's form-action: a browser checks the redirect that follows a
 * form against the page's policy.  malloc'd; NULL when out of memory. */
char *oidc_signin_origins(const struct config *cfg);

/* The provider called name in the configuration, or NULL. */
const struct oidc_provider *oidc_provider_find(const struct config *cfg, const char *name);

enum oidc_result {
	OIDC_OK = 0,
	OIDC_DB_ERROR,         /* MariaDB failed: 503 */
	OIDC_PROVIDER_DOWN,    /* unreachable, 5xx, or an answer that is not what the
	                          protocol says (discovery, JWKS, token endpoint): 502 */
	OIDC_BAD_STATE,        /* unknown, used, expired, or another browser's: 400 */
	OIDC_CANCELLED,        /* the person cancelled at the provider (access_denied): 400 */
	OIDC_PROVIDER_ERROR,   /* the provider sent another error to the callback: 400 */
	OIDC_CODE_REFUSED,     /* the token endpoint refused the code (expired, used): 400 */
	OIDC_TOKEN_REFUSED,    /* the ID token failed a check (alg, signature, claims): 401 */
	OIDC_UNKNOWN_KEY,      /* signed with a key the provider does not publish: 401 */
	OIDC_NO_VERIFIED_EMAIL,/* first sign-in without an email the provider vouches for: 403 */
	OIDC_UNKNOWN_PERSON,   /* no person with that email (or removed): 403 */
	OIDC_DISABLED,         /* the person is disabled: 403 */
	OIDC_BOUND_ELSEWHERE,  /* the person is bound to another (issuer, subject): 403 */
};

/* The HTTP status and one sentence for the error page of a result. */
int oidc_result_status(enum oidc_result r);
const char *oidc_result_message(enum oidc_result r);

/* Start a flow: make state, nonce and code_verifier, store the flow
 * (with redirect_uri, next and the SHA-256 of a new browser token), and
 * build the provider's authorization URL.  On OIDC_OK *authorize_url and
 * browser_token (TOKEN_LEN + 1 bytes, for the labeld_oidc cookie) are set. */
enum oidc_result oidc_flow_start(struct db *db, struct arena *a, const struct config *cfg,
    const struct oidc_provider *p, const char *redirect_uri, const char *next,
    char **authorize_url, char *browser_token, char *detail, size_t detaillen);

/* What came back to the callback. */
struct oidc_callback {
	const char *state;
	const char *code;
	const char *error;               /* the provider's error parameter, or NULL */
	const char *browser_token;       /* the labeld_oidc cookie, or NULL */
};

/* Finish a flow: consume its state (single use), exchange the code at the
 * token endpoint (with the code_verifier and the stored redirect_uri),
 * verify the ID token, then find or bind the person (one transaction).
 * On OIDC_OK *user_id, *email and *next (the flow's, may be "") are set;
 * on OIDC_UNKNOWN_PERSON *email is the address the provider gave.
 * detail gets a sentence for the log (never a token, code or secret). */
enum oidc_result oidc_flow_finish(struct db *db, struct arena *a, const struct config *cfg,
    const struct oidc_callback *cb, long long *user_id, const char **email,
    const char **next, const char **provider_name, char *detail, size_t detaillen);

/* Check the providers' issuers against the outbound address rules
 * (blob_endpoint_check: http:// only for a host in blob_allow_hosts):
 * call after blob_policy_set, at start-up and in --check.  0, or -1 with
 * "oidc.NAME.issuer: why" in err. */
int oidc_config_check(const struct config *cfg, char *err, size_t errlen);

/* Find or bind the person of a verified ID token's claims (the binding
 * rule, docs/signin.md), in one transaction: a bound (iss, sub) gives its
 * person (refused when disabled or removed; last_used_at set); else the
 * address (email with email_verified JSON true, or, for a provider with
 * tenants, email or preferred_username when tid is on the list) must be a
 * person's, not removed, not disabled, without any identity yet, and the
 * identity is inserted.  users.last_login_at and activated_at are set.
 * On OIDC_OK *user_id and *email (the person's, arena-owned); otherwise
 * OIDC_TOKEN_REFUSED (no iss/sub), OIDC_NO_VERIFIED_EMAIL,
 * OIDC_UNKNOWN_PERSON (*email: the address given, when there was one),
 * OIDC_DISABLED, OIDC_BOUND_ELSEWHERE or
 * OIDC_DB_ERROR, with detail for the log.  Called by oidc_flow_finish;
 * public for the tests. */
struct json_object;
enum oidc_result oidc_bind(struct db *db, struct arena *a, const struct oidc_provider *p,
    struct json_object *claims, long long *user_id, const char **email,
    char *detail, size_t detaillen);

/* For the admin's person page.  oidc_identities_list: DB_OK with *res
 * (arena-owned), one row per identity of the person, oldest first: id,
 * provider, issuer, subject, tenant ('' when none), email, created_at and
 * last_used_at ('YYYY-MM-DD HH:MM' UTC, '' when never). */
struct db_result;
int oidc_identities_list(struct db *db, struct arena *a, long long user_id,
    struct db_result **res);
/* Unbind: delete identity identity_id of user_id (the person's next
 * sign-in through a provider binds again by email).  DB_OK with *found 0
 * when there was no such identity of that person, or DB_*. */
int oidc_identity_unbind(struct db *db, long long user_id, long long identity_id, int *found);

#endif
