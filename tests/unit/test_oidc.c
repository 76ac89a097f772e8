/*
 * test_oidc.c: the sign-in flow's database side and the binding rule
 * (core/oidc.c), against a scratch MariaDB database, and the discovery
 * document against a small HTTP server on loopback (this file's): a flow
 * start stores hashes, not the state or the browser's token; a flow is
 * consumed once, not after it expired, not from another browser; the
 * binding rule's branches; the admin's identities, unbind and
 * provider-only; the cleanup of expired flows.  The token exchange and the
 * ID token checks run against a real provider in the integration tests.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arena.h"
#include "blob.h"
#include "cleanup.h"
#include "config.h"
#include "db.h"
#include "oidc.h"
#include "session.h"
#include "unit_db.h"

#define OIDC_DB "labeld_unit_oidc"

/* ------------------------------------------------------------ a loopback provider */

static int srv_fd = -1, srv_port;
static pthread_t srv_thread;

/* Discovery documents by path: /good (its own issuer), /organizations/v2.0
 * (Entra's {tenantid} template), /bad (another issuer); 404 otherwise. */
static void *srv_main(void *unused)
{
	(void)unused;
	for (;;) {
		char req[4096], body[1024], head[256], path[256] = "", base[64];
		size_t got = 0;
		ssize_t n = 0;
		int c = accept(srv_fd, NULL, NULL);

		if (c < 0)
			return NULL;
		while (got < sizeof(req) - 1 && (n = read(c, req + got, sizeof(req) - 1 - got)) > 0) {
			got += (size_t)n;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		req[got] = '\0';
		sscanf(req, "GET %255s", path);
		snprintf(base, sizeof(base), "http://127.0.0.1:%d", srv_port);
		body[0] = '\0';
		if (strcmp(path, "/good/.well-known/openid-configuration") == 0)
			snprintf(body, sizeof(body), "{\"issuer\": \"%s/good\", \"authorization_endpoint\": "
			    "\"%s/auth?x=1\", \"token_endpoint\": \"%s/token\", \"jwks_uri\": \"%s/jwks\"}",
			    base, base, base, base);
		else if (strcmp(path, "/organizations/v2.0/.well-known/openid-configuration") == 0)
			snprintf(body, sizeof(body), "{\"issuer\": \"%s/{tenantid}/v2.0\", "
			    "\"authorization_endpoint\": \"%s/auth\", \"token_endpoint\": \"%s/token\", "
			    "\"jwks_uri\": \"%s/jwks\"}", base, base, base, base);
		else if (strcmp(path, "/bad/.well-known/openid-configuration") == 0)
			snprintf(body, sizeof(body), "{\"issuer\": \"https://elsewhere.example\", "
			    "\"authorization_endpoint\": \"%s/auth\", \"token_endpoint\": \"%s/token\", "
			    "\"jwks_uri\": \"%s/jwks\"}", base, base, base);
		snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		    body[0] ? "200 OK" : "404 Not Found", strlen(body));
		if (write(c, head, strlen(head)) > 0 && body[0] != '\0')
			n = write(c, body, strlen(body));
		(void)n;
		close(c);
	}
}

static void srv_start(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	char allow[64], err[256];

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv_fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(srv_fd, 0);
	ck_assert_int_eq(bind(srv_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(srv_fd, 8), 0);
	ck_assert_int_eq(getsockname(srv_fd, (struct sockaddr *)&sa, &len), 0);
	srv_port = ntohs(sa.sin_port);
	snprintf(allow, sizeof(allow), "127.0.0.1:%d", srv_port);
	ck_assert_int_eq(blob_policy_set(allow, 2000, err, sizeof(err)), 0);
	ck_assert_int_eq(pthread_create(&srv_thread, NULL, srv_main, NULL), 0);
}

static void srv_stop(void)
{
	shutdown(srv_fd, SHUT_RDWR);
	pthread_join(srv_thread, NULL);
	close(srv_fd);
	srv_fd = -1;
}

/* ------------------------------------------------------------ helpers */

static struct db *oidc_db(void)
{
	struct db *db = unit_db_fresh(OIDC_DB);

	unit_db_exec(db, "INSERT INTO users (id, email, password_hash, is_disabled, activated_at, "
	    "removed_at) VALUES "
	    "(1, 'alice@example.com', 'x', 0, NOW(6), NULL), (2, 'bob@example.com', 'x', 0, NOW(6), NULL), "
	    "(3, 'carol@example.com', 'x', 1, NOW(6), NULL), (4, 'dave@example.com', '', 0, NULL, NULL), "
	    "(5, 'erin@example.com', 'x', 0, NOW(6), NULL), (6, 'gone@example.com', 'x', 1, NOW(6), NOW(6))");
	return db;
}

static const char *const tenant_list[] = { "tenant-a", NULL };
static struct oidc_provider prov_test = {
	.name = "test", .issuer = "https://id.example.com", .client_id = "labeld-test",
	.client_secret = "s", .display_name = "Test ID", .scopes = "openid email profile",
};
static struct oidc_provider prov_tenant = {
	.name = "tenant", .issuer = "https://id.example.com", .client_id = "labeld-test",
	.client_secret = "s", .display_name = "Tenant ID", .scopes = "openid email profile",
	.tenants = (char **)tenant_list,
};

/* oidc_bind with claims given as JSON text; *uid gets the user. */
static enum oidc_result bind_json(struct db *db, struct arena *a, const struct oidc_provider *p,
    const char *json, long long *uid)
{
	struct json_object *claims = json_tokener_parse(json);
	const char *email;
	char detail[512];
	enum oidc_result r;

	ck_assert_ptr_nonnull(claims);
	r = oidc_bind(db, a, p, claims, uid, &email, detail, sizeof(detail));
	if (r == OIDC_OK)
		ck_assert_ptr_nonnull(email);
	else
		ck_assert_msg(detail[0] != '\0', "no detail for result %d", r);
	json_object_put(claims);
	return r;
}

#define ISS "\"iss\": \"https://id.example.com\""

/* ------------------------------------------------------------ tests */

static const struct {
	const struct oidc_provider *p;
	const char *claims;
	enum oidc_result want;
} refusals[] = {
	{ &prov_test, "{" ISS ", \"sub\": \"bob\", \"email\": \"bob@example.com\", "
	  "\"email_verified\": false}", OIDC_NO_VERIFIED_EMAIL },
	{ &prov_test, "{" ISS ", \"sub\": \"bob\", \"email\": \"bob@example.com\", "
	  "\"email_verified\": \"true\"}", OIDC_NO_VERIFIED_EMAIL },
	{ &prov_test, "{" ISS ", \"sub\": \"bob\", \"email\": \"bob@example.com\"}",
	  OIDC_NO_VERIFIED_EMAIL },
	{ &prov_tenant, "{" ISS ", \"sub\": \"erin\", \"preferred_username\": \"erin@example.com\", "
	  "\"tid\": \"tenant-b\"}", OIDC_NO_VERIFIED_EMAIL },
	{ &prov_test, "{" ISS ", \"sub\": \"erin\", \"preferred_username\": \"erin@example.com\", "
	  "\"tid\": \"tenant-a\"}", OIDC_NO_VERIFIED_EMAIL },
	{ &prov_test, "{" ISS ", \"sub\": \"stranger\", \"email\": \"stranger@example.com\", "
	  "\"email_verified\": true}", OIDC_UNKNOWN_PERSON },
	{ &prov_test, "{" ISS ", \"sub\": \"gone\", \"email\": \"gone@example.com\", "
	  "\"email_verified\": true}", OIDC_UNKNOWN_PERSON },
	{ &prov_test, "{" ISS ", \"sub\": \"carol\", \"email\": \"carol@example.com\", "
	  "\"email_verified\": true}", OIDC_DISABLED },
	/* No subject, or no issuer. */
	{ &prov_test, "{" ISS ", \"email\": \"alice@example.com\", \"email_verified\": true}",
	  OIDC_TOKEN_REFUSED },
	{ &prov_test, "{\"sub\": \"alice\"}", OIDC_TOKEN_REFUSED },
};

START_TEST(binding_rule)
{
	struct arena *a = arena_new();
	struct db *db = oidc_db();
	long long uid;

	/* First sign-in by a verified email binds; activated and signed in. */
	ck_assert_int_eq(bind_json(db, a, &prov_test, "{" ISS ", \"sub\": \"dave\", "
	    "\"email\": \"Dave@Example.com\", \"email_verified\": true, \"tid\": \"tenant-a\"}", &uid),
	    OIDC_OK);
	ck_assert_int_eq(uid, 4);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT user_id, provider, issuer, subject, tenant, email, "
	    "last_used_at IS NOT NULL FROM user_identities"),
	    "4 test https://id.example.com dave tenant-a dave@example.com 1");
	ck_assert_str_eq(unit_db_row(db, a, "SELECT activated_at IS NOT NULL, last_login_at IS NOT NULL "
	    "FROM users WHERE id = 4"), "1 1");
	/* From then on (iss, sub) alone: another email in the token changes
	 * nothing, and no email at all is fine. */
	ck_assert_int_eq(bind_json(db, a, &prov_test, "{" ISS ", \"sub\": \"dave\"}", &uid), OIDC_OK);
	ck_assert_int_eq(uid, 4);
	ck_assert_int_eq(bind_json(db, a, &prov_test, "{" ISS ", \"sub\": \"dave\", "
	    "\"email\": \"alice@example.com\", \"email_verified\": true}", &uid), OIDC_OK);
	ck_assert_int_eq(uid, 4);
	/* Another subject with the bound person's address: refused, from
	 * this issuer or another. */
	ck_assert_int_eq(bind_json(db, a, &prov_test, "{" ISS ", \"sub\": \"mallory\", "
	    "\"email\": \"dave@example.com\", \"email_verified\": true}", &uid), OIDC_BOUND_ELSEWHERE);
	ck_assert_int_eq(bind_json(db, a, &prov_test, "{\"iss\": \"https://other.example.com\", "
	    "\"sub\": \"dave\", \"email\": \"dave@example.com\", \"email_verified\": true}", &uid),
	    OIDC_BOUND_ELSEWHERE);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT COUNT(*) FROM user_identities"), "1");

	/* Refused, and nothing bound: not verified (false, the string
	 * "true", missing), a tenant not on the list or a provider without
	 * one, no such person, removed, disabled. */
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		ck_assert_msg(bind_json(db, a, refusals[i].p, refusals[i].claims, &uid) == refusals[i].want,
		    "%s", refusals[i].claims);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT COUNT(*) FROM user_identities"), "1");
	/* The tenant rule: an allowed tenant's email or preferred_username. */
	ck_assert_int_eq(bind_json(db, a, &prov_tenant, "{" ISS ", \"sub\": \"erin\", "
	    "\"preferred_username\": \"erin@example.com\", \"tid\": \"tenant-a\"}", &uid), OIDC_OK);
	ck_assert_int_eq(uid, 5);
	ck_assert_int_eq(bind_json(db, a, &prov_tenant, "{" ISS ", \"sub\": \"bob\", "
	    "\"email\": \"bob@example.com\", \"email_verified\": false, \"tid\": \"tenant-a\"}", &uid),
	    OIDC_OK);
	ck_assert_int_eq(uid, 2);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT provider, tenant FROM user_identities "
	    "WHERE subject = 'erin'"), "tenant tenant-a");

	ck_assert_str_eq(unit_db_row(db, a, "SELECT COUNT(*) FROM user_identities"), "3");
	/* A bound person disabled, then removed. */
	unit_db_exec(db, "UPDATE users SET is_disabled = 1 WHERE id = 4");
	ck_assert_int_eq(bind_json(db, a, &prov_test, "{" ISS ", \"sub\": \"dave\"}", &uid), OIDC_DISABLED);
	unit_db_exec(db, "UPDATE users SET removed_at = NOW(6) WHERE id = 4");
	ck_assert_int_eq(bind_json(db, a, &prov_test, "{" ISS ", \"sub\": \"dave\"}", &uid),
	    OIDC_UNKNOWN_PERSON);

	unit_db_exec(db, "DROP DATABASE " OIDC_DB);
	db_free(db);
	arena_free(a);
}
END_TEST

START_TEST(admin_identities)
{
	struct arena *a = arena_new();
	struct db *db = oidc_db();
	struct db_result *res;
	long long uid;
	int found;

	ck_assert_int_eq(bind_json(db, a, &prov_test, "{" ISS ", \"sub\": \"alice\", "
	    "\"email\": \"alice@example.com\", \"email_verified\": true}", &uid), OIDC_OK);
	ck_assert_int_eq(oidc_identities_list(db, a, 1, &res), DB_OK);
	ck_assert_uint_eq(res->nrows, 1);
	ck_assert_str_eq(db_value(res, 0, 1), "test");
	ck_assert_str_eq(db_value(res, 0, 3), "alice");
	ck_assert_str_eq(db_value(res, 0, 4), "");
	ck_assert_str_eq(db_value(res, 0, 5), "alice@example.com");
	ck_assert_int_eq(strlen(db_value(res, 0, 7)), 16);
	/* Unbinding needs the right person; then the next sign-in binds again
	 * (here: another subject). */
	ck_assert_int_eq(oidc_identity_unbind(db, 2, db_int(res, 0, 0), &found), DB_OK);
	ck_assert_int_eq(found, 0);
	ck_assert_int_eq(oidc_identity_unbind(db, 1, db_int(res, 0, 0), &found), DB_OK);
	ck_assert_int_eq(found, 1);
	ck_assert_int_eq(bind_json(db, a, &prov_test, "{" ISS ", \"sub\": \"alice2\", "
	    "\"email\": \"alice@example.com\", \"email_verified\": true}", &uid), OIDC_OK);
	ck_assert_int_eq(uid, 1);

	/* Provider-only: the password goes, and open invitations with it. */
	unit_db_exec(db, "INSERT INTO invitations (user_id, token_hash, expires_at) VALUES "
	    "(1, REPEAT('a', 32), NOW(6) + INTERVAL 1 DAY)");
	ck_assert_int_eq(oidc_provider_only_set(db, 1, 1, &found), DB_OK);
	ck_assert_int_eq(found, 1);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT provider_only, password_hash FROM users WHERE id = 1"),
	    "1 ");
	ck_assert_str_eq(unit_db_row(db, a, "SELECT voided_at IS NOT NULL FROM invitations"), "1");
	ck_assert_int_eq(oidc_provider_only_set(db, 1, 0, &found), DB_OK);
	ck_assert_int_eq(found, 1);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT provider_only FROM users WHERE id = 1"), "0");
	ck_assert_int_eq(oidc_provider_only_set(db, 99, 1, &found), DB_OK);
	ck_assert_int_eq(found, 0);

	unit_db_exec(db, "DROP DATABASE " OIDC_DB);
	db_free(db);
	arena_free(a);
}
END_TEST

/* A flow row for state and browser token, expiring in `seconds`. */
static void flow_insert(struct db *db, const char *provider, const char *state, const char *browser,
    int seconds)
{
	unsigned char sh[32], bh[32];

	token_hash(state, sh);
	token_hash(browser, bh);
	ck_assert_int_eq(db_exec(db, 0, NULL, NULL, "INSERT INTO oidc_flows (state_hash, browser_hash, "
	    "provider, nonce, code_verifier, redirect_uri, next_url, expires_at) VALUES (?, ?, ?, "
	    "'n', 'v', 'https://labels.example.com/signin/oidc/callback', '/projects/3', "
	    "NOW(6) + INTERVAL ? SECOND)", "bbsi", sh, sizeof(sh), bh, sizeof(bh), provider,
	    (long long)seconds), DB_OK);
}

static enum oidc_result finish(struct db *db, struct arena *a, const struct config *cfg,
    const char *state, const char *code, const char *error, const char *browser, const char **next)
{
	struct oidc_callback cb = { .state = state, .code = code, .error = error, .browser_token = browser };
	const char *email, *provider;
	long long uid;
	char detail[512];
	enum oidc_result r;

	r = oidc_flow_finish(db, a, cfg, &cb, &uid, &email, next, &provider, detail, sizeof(detail));
	ck_assert_msg(r == OIDC_OK || detail[0] != '\0', "no detail");
	/* The log's sentence never carries the code or the state. */
	ck_assert_ptr_null(strstr(detail, state ? state : "\x01"));
	ck_assert_ptr_null(strstr(detail, code ? code : "\x01"));
	return r;
}

/* The end of a test with the loopback provider. */
static void flow_test_end(struct db *db, struct arena *a, struct config *cfg)
{
	oidc_global_free();
	config_free(cfg);
	srv_stop();
	unit_db_exec(db, "DROP DATABASE " OIDC_DB);
	db_free(db);
	arena_free(a);
}

START_TEST(flow_single_use)
{
	struct arena *a = arena_new();
	struct db *db = oidc_db();
	struct config cfg;
	char s1[TOKEN_LEN + 1], s2[TOKEN_LEN + 1], s3[TOKEN_LEN + 1], b1[TOKEN_LEN + 1], b2[TOKEN_LEN + 1];
	char err[256];
	const char *next;
	unsigned long long deleted;

	srv_start();
	config_defaults(&cfg);
	/* "down": a port where nothing listens, allowed for http. */
	ck_assert_int_eq(config_set(&cfg, "oidc.down.issuer", "http://127.0.0.1:1", err, sizeof(err)), 0);
	ck_assert_int_eq(config_set(&cfg, "oidc.down.client_id", "c", err, sizeof(err)), 0);
	ck_assert_int_eq(config_set(&cfg, "oidc.down.client_secret", "s", err, sizeof(err)), 0);
	ck_assert_msg(config_load(&cfg, NULL, 0, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(blob_policy_set(arena_printf(a, "127.0.0.1:1 127.0.0.1:%d", srv_port), 2000,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(oidc_global_init(), 0);
	ck_assert_int_eq(token_new(s1), 0);
	ck_assert_int_eq(token_new(s2), 0);
	ck_assert_int_eq(token_new(s3), 0);
	ck_assert_int_eq(token_new(b1), 0);
	ck_assert_int_eq(token_new(b2), 0);
	flow_insert(db, "down", s1, b1, 600);
	flow_insert(db, "down", s2, b1, 600);
	flow_insert(db, "down", s3, b1, -1);
	flow_insert(db, "down", b1, b1, 600);

	/* Unknown or malformed state. */
	ck_assert_int_eq(finish(db, a, &cfg, b2, "code1", NULL, b1, &next), OIDC_BAD_STATE);
	ck_assert_int_eq(finish(db, a, &cfg, "short", "code1", NULL, b1, &next), OIDC_BAD_STATE);
	ck_assert_int_eq(finish(db, a, &cfg, NULL, "code1", NULL, b1, &next), OIDC_BAD_STATE);
	/* The right browser: the flow is consumed and the provider asked
	 * (down here); the second time the state is spent. */
	ck_assert_int_eq(finish(db, a, &cfg, s1, "code1", NULL, b1, &next), OIDC_PROVIDER_DOWN);
	ck_assert_str_eq(next, "/projects/3");
	ck_assert_int_eq(finish(db, a, &cfg, s1, "code1", NULL, b1, &next), OIDC_BAD_STATE);
	/* Another browser (or none): refused, and the flow is spent. */
	ck_assert_int_eq(finish(db, a, &cfg, s2, "code2", NULL, b2, &next), OIDC_BAD_STATE);
	ck_assert_int_eq(finish(db, a, &cfg, s2, "code2", NULL, b1, &next), OIDC_BAD_STATE);
	ck_assert_int_eq(finish(db, a, &cfg, b1, "code4", NULL, NULL, &next), OIDC_BAD_STATE);
	ck_assert_int_eq(finish(db, a, &cfg, b1, "code4", NULL, b1, &next), OIDC_BAD_STATE);
	/* Expired. */
	ck_assert_int_eq(finish(db, a, &cfg, s3, "code3", NULL, b1, &next), OIDC_BAD_STATE);
	/* The provider's error: cancelled, or another error; the flow is spent. */
	flow_insert(db, "down", b2, b1, 600);
	ck_assert_int_eq(finish(db, a, &cfg, b2, NULL, "access_denied", b1, &next), OIDC_CANCELLED);
	ck_assert_int_eq(finish(db, a, &cfg, b2, NULL, NULL, b1, &next), OIDC_BAD_STATE);
	ck_assert_int_eq(finish(db, a, &cfg, s1, NULL, "server_error", b1, &next), OIDC_PROVIDER_ERROR);

	/* The cleanup deletes expired flows only. */
	ck_assert_str_eq(unit_db_row(db, a, "SELECT COUNT(*) FROM oidc_flows"), "5");
	ck_assert_int_eq(cleanup_run(db, &cfg, &deleted), DB_OK);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT COUNT(*) FROM oidc_flows"), "4");

	flow_test_end(db, a, &cfg);
}
END_TEST

START_TEST(flow_start_stores_hashes)
{
	struct arena *a = arena_new();
	struct db *db = oidc_db();
	struct config cfg;
	struct oidc_provider p = prov_test, entra = prov_test, bad = prov_test, down = prov_test;
	char browser[TOKEN_LEN + 1], detail[512], *url, state[TOKEN_LEN + 1];
	unsigned char h[32];
	char hex[65];
	const char *s;

	srv_start();
	config_defaults(&cfg);
	ck_assert_int_eq(oidc_global_init(), 0);
	p.issuer = arena_printf(a, "http://127.0.0.1:%d/good", srv_port);
	ck_assert_int_eq(oidc_flow_start(db, a, &cfg, &p, "https://labels.example.com/signin/oidc/callback",
	    "/projects/7", &url, browser, detail, sizeof(detail)), OIDC_OK);
	/* The authorization URL: the endpoint's own query kept, then ours. */
	ck_assert_msg(strncmp(url, arena_printf(a, "http://127.0.0.1:%d/auth?x=1&response_type=code&"
	    "client_id=labeld-test&redirect_uri=https%%3A%%2F%%2Flabels.example.com%%2Fsignin%%2Foidc"
	    "%%2Fcallback&scope=openid%%20email%%20profile&state=", srv_port), 150) == 0, "%s", url);
	ck_assert_ptr_nonnull(strstr(url, "&code_challenge_method=S256"));
	ck_assert_ptr_nonnull(strstr(url, "&nonce="));
	ck_assert_ptr_nonnull(strstr(url, "&code_challenge="));
	ck_assert(token_syntax_ok(browser));
	/* Stored: the hashes of the state and of the browser's token, never
	 * the tokens themselves. */
	s = strstr(url, "&state=") + 7;
	snprintf(state, sizeof(state), "%.*s", TOKEN_LEN, s);
	ck_assert(token_syntax_ok(state));
	token_hash(state, h);
	session_hash_hex(h, hex);
	ck_assert_str_eq(unit_db_row(db, a, arena_printf(a, "SELECT provider, next_url, redirect_uri, "
	    "TIMESTAMPDIFF(SECOND, NOW(6), expires_at) BETWEEN 595 AND 600, used_at IS NULL "
	    "FROM oidc_flows WHERE state_hash = UNHEX('%s')", hex)),
	    "test /projects/7 https://labels.example.com/signin/oidc/callback 1 1");
	token_hash(browser, h);
	session_hash_hex(h, hex);
	ck_assert_str_eq(unit_db_row(db, a, arena_printf(a, "SELECT COUNT(*) FROM oidc_flows "
	    "WHERE browser_hash = UNHEX('%s')", hex)), "1");
	ck_assert_str_eq(unit_db_row(db, a, arena_printf(a, "SELECT COUNT(*) FROM oidc_flows WHERE "
	    "LOCATE('%s', CONCAT(nonce, code_verifier, redirect_uri, next_url, state_hash, browser_hash)) "
	    "OR LOCATE('%s', CONCAT(nonce, code_verifier, redirect_uri, next_url, state_hash, "
	    "browser_hash))", state, browser)), "0");
	/* An unsafe next is dropped. */
	ck_assert_int_eq(oidc_flow_start(db, a, &cfg, &p, "https://l/cb", "//evil.example.com/",
	    &url, browser, detail, sizeof(detail)), OIDC_OK);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT COUNT(*) FROM oidc_flows WHERE next_url = ''"), "1");

	/* Entra's multi-tenant document ({tenantid} in its issuer) is taken;
	 * another issuer, or none reachable, is a provider that is down. */
	entra.name = "entra";
	entra.issuer = arena_printf(a, "http://127.0.0.1:%d/organizations/v2.0", srv_port);
	ck_assert_int_eq(oidc_flow_start(db, a, &cfg, &entra, "https://l/cb", "", &url, browser,
	    detail, sizeof(detail)), OIDC_OK);
	bad.name = "bad";
	bad.issuer = arena_printf(a, "http://127.0.0.1:%d/bad", srv_port);
	ck_assert_int_eq(oidc_flow_start(db, a, &cfg, &bad, "https://l/cb", "", &url, browser,
	    detail, sizeof(detail)), OIDC_PROVIDER_DOWN);
	ck_assert_msg(strstr(detail, "is not the configured") != NULL, "%s", detail);
	down.name = "down";
	down.issuer = arena_printf(a, "http://127.0.0.1:%d/nothing", srv_port);
	ck_assert_int_eq(oidc_flow_start(db, a, &cfg, &down, "https://l/cb", "", &url, browser,
	    detail, sizeof(detail)), OIDC_PROVIDER_DOWN);
	ck_assert_msg(strstr(detail, "HTTP 404") != NULL, "%s", detail);
	/* Not on the allow list: http is refused. */
	down.name = "down2";
	down.issuer = "http://127.0.0.2:9/x";
	ck_assert_int_eq(oidc_flow_start(db, a, &cfg, &down, "https://l/cb", "", &url, browser,
	    detail, sizeof(detail)), OIDC_PROVIDER_DOWN);
	ck_assert_msg(strstr(detail, "blob_allow_hosts") != NULL, "%s", detail);
	ck_assert_str_eq(unit_db_row(db, a, "SELECT COUNT(*) FROM oidc_flows"), "3");

	flow_test_end(db, a, &cfg);
}
END_TEST

START_TEST(results_have_pages)
{
	for (int r = OIDC_OK; r <= OIDC_BOUND_ELSEWHERE; r++) {
		int st = oidc_result_status((enum oidc_result)r);
		const char *m = oidc_result_message((enum oidc_result)r);
		ck_assert(st == 200 || st == 400 || st == 401 || st == 403 || st == 502 || st == 503);
		ck_assert_ptr_nonnull(m);
		ck_assert_int_gt(strlen(m), 10);
	}
	ck_assert_int_eq(oidc_result_status(OIDC_BAD_STATE), 400);
	ck_assert_int_eq(oidc_result_status(OIDC_TOKEN_REFUSED), 401);
	ck_assert_int_eq(oidc_result_status(OIDC_BOUND_ELSEWHERE), 403);
	ck_assert_int_eq(oidc_result_status(OIDC_PROVIDER_DOWN), 502);
	ck_assert_ptr_nonnull(strstr(oidc_result_message(OIDC_BOUND_ELSEWHERE), "bound to another sign-in"));
}
END_TEST

START_TEST(issuer_rules_at_start)
{
	struct config cfg;
	char err[256];

	config_defaults(&cfg);
	ck_assert_int_eq(config_set(&cfg, "oidc.t.issuer", "http://id.example.com", err, sizeof(err)), 0);
	ck_assert_int_eq(blob_policy_set("", 0, err, sizeof(err)), 0);
	ck_assert_int_eq(oidc_config_check(&cfg, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "oidc.t.issuer: ") != NULL, "%s", err);
	ck_assert_int_eq(blob_policy_set("id.example.com", 0, err, sizeof(err)), 0);
	ck_assert_int_eq(oidc_config_check(&cfg, err, sizeof(err)), 0);
	ck_assert_ptr_eq(oidc_provider_find(&cfg, "t"), &cfg.oidc[0]);
	ck_assert_ptr_null(oidc_provider_find(&cfg, "u"));
	ck_assert_ptr_null(oidc_provider_find(&cfg, NULL));
	config_free(&cfg);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("oidc");
	TCase *t = tcase_create("core");
	const char *sock = getenv("LABELD_TEST_DB_SOCKET");

	if (blob_global_init() != 0)
		abort();
	tcase_add_test(t, results_have_pages);
	tcase_add_test(t, issuer_rules_at_start);
	suite_add_tcase(s, t);
	if (sock != NULL && sock[0] != '\0' && db_library_init() == 0) {
		TCase *d = tcase_create("database");
		tcase_set_timeout(d, 120);
		tcase_add_test(d, binding_rule);
		tcase_add_test(d, admin_identities);
		tcase_add_test(d, flow_single_use);
		tcase_add_test(d, flow_start_stores_hashes);
		suite_add_tcase(s, d);
	}
	return s;
}

#include "unit.h"
