/*
 * config.h: labeld.conf, "key = value" lines, every key overridable by the
 * environment (LABELD_<KEY>).  The defaults and the meaning of every key are
 * in conf/labeld.conf.example; config_keys[] in config.c is the one table.
 */
#ifndef LABELD_CONFIG_H
#define LABELD_CONFIG_H

#include <stddef.h>

struct oidc_provider;

struct config {
	char *socket;
	unsigned socket_mode;
	unsigned socket_backlog;
	unsigned workers;

	char *db_socket;
	char *db_host;
	unsigned db_port;
	char *db_user;
	char *db_password;
	char *db_name;
	unsigned db_connect_timeout;
	unsigned db_rw_timeout;
	int migrate;

	char *templates_dir;
	char *plugins_dir;
	char *sql_dir;
	char *datastore_dir;
	char *tmp_dir;
	char *datastore_roots;

	size_t max_body_size;
	unsigned max_fields;
	unsigned max_field_name;
	unsigned max_field_value;
	unsigned max_parts;
	unsigned long long max_image_pixels;
	unsigned max_labels;
	unsigned label_lease_seconds;
	unsigned review_lease_seconds;   /* an item under review stays the reviewer's */
	int combine;                     /* batch leases and answers (on) or not (off) */

	unsigned session_idle_timeout;
	unsigned session_lifetime;
	unsigned login_max_failures_account;
	unsigned login_max_failures_address;
	unsigned login_window;
	unsigned login_account_backoff;  /* failures per account after which each try waits */
	unsigned password_cost;
	unsigned invitation_lifetime;     /* seconds an invitation link stays good */
	unsigned cleanup_interval;       /* seconds between deletions of expired rows */

	char *public_url;                /* "https://labels.example.com": Secure cookies, HSTS */

	char *blob_allow_hosts;          /* hosts (or host:port) exempt from the address rules */
	unsigned blob_max_fetches;       /* image fetches from blob storage at once, per process */
	unsigned blob_connect_timeout;   /* seconds */
	size_t blob_block_size;          /* bytes of each block an upload sends to a container */
	unsigned max_dataset_files;      /* most files one dataset may list */
	unsigned job_takeover_seconds;   /* a running job without a heartbeat this long is taken over */

	unsigned oidc_flow_seconds;      /* a started provider sign-in must come back within this */
	unsigned oidc_cache_seconds;     /* discovery documents and key sets kept this long */
	unsigned oidc_clock_skew;        /* seconds of leeway for an ID token's exp, iat, nbf */

	char *log_level;
	char *metrics_allow;             /* addresses and networks that may read /metrics */

	/* "plugin.<name>.<key> = value" lines, for plugins (host->config). */
	struct config_extra {
		char *key;
		char *value;
	} *extra;
	size_t nextra;

	/* "oidc.<name>.<key> = value" lines: the OpenID Connect providers
	 * (core/oidc.h), in the order their first line came.  oidc_src[i]
	 * is what config.c keeps of provider i while it reads: the line of its
	 * first key (0: set through config_set), for the errors config_load
	 * finds once the file is read, and which secret key was set. */
	struct oidc_provider *oidc;
	size_t noidc;
	struct config_oidc_src {
		unsigned line;
		int secret_key;          /* 0 none, 1 client_secret, 2 client_secret_file */
	} *oidc_src;

	char *path;   /* the file it was read from, or NULL */
};

/* The name of the i-th key of the table and its default (*def), or NULL
 * past the last: for the test that keeps the documentation in step. */
const char *config_key_at(size_t i, const char **def);

/* Defaults for every key (compiled in; match conf/labeld.conf.example). */
void config_defaults(struct config *c);

/* Read `path` (a missing file is an error only when must_exist), then apply
 * LABELD_* environment overrides and validate.  On error returns -1 with
 * "file:line: problem" (or "LABELD_X: problem") in err; c keeps what was
 * read so far and must still be released with config_free. */
int config_load(struct config *c, const char *path, int must_exist,
    char *err, size_t errlen);

/* Parse one "key = value" line's key and value into c (used by the loader and
 * the tests).  Returns 0, or -1 with a message in err.  An
 * oidc.<name>.client_secret_file is read here (its first line). */
int config_set(struct config *c, const char *key, const char *value,
    char *err, size_t errlen);

/* Value of a "plugin.<name>.<key>" line, or NULL. */
const char *config_get_extra(const struct config *c, const char *key);

void config_free(struct config *c);

/* "64m" -> 67108864.  Returns 0 or -1. */
int config_parse_size(const char *s, size_t *out);

#endif
