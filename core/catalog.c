/*
 * catalog.c: datastores and datasets in the database (the built-in and the
 * default datastore, loading a datastore for handlers and jobs, creating dataset
 * rows) and the pure checks behind the datastore forms.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arena.h"
#include "catalog.h"
#include "config.h"
#include "db.h"
#include "log.h"

/* The name the built-in datastore gets when labeld creates it. */
#define BUILTIN_NAME "default"

/* ------------------------------------------------------------ checks */

/* Length of the UTF-8 sequence at s (at most n bytes), or 0 when it is not
 * valid (overlong, surrogate, above U+10FFFF, truncated). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len, i;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int catalog_name_check(const char *name, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t i = 0, chars = 0;

	if (name == NULL || len == 0) {
		snprintf(err, errlen, "Enter a name.");
		return -1;
	}
	while (i < len) {
		size_t n = utf8_seq(p + i, len - i);
		if (n == 0) {
			snprintf(err, errlen, "The name is not valid UTF-8 text.");
			return -1;
		}
		if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f)) {
			snprintf(err, errlen, "The name may not contain control characters or NUL bytes.");
			return -1;
		}
		/* C1 controls (U+0080..U+009F) are as invisible as C0 ones. */
		if (n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
			snprintf(err, errlen, "The name may not contain control characters or NUL bytes.");
			return -1;
		}
		i += n;
		chars++;
	}
	if (chars > CATALOG_NAME_MAX) {
		snprintf(err, errlen, "The name is longer than %d characters.", CATALOG_NAME_MAX);
		return -1;
	}
	return 0;
}

int catalog_blob_account_check(const char *name, char *err, size_t errlen)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 3 || n > 24) {
		snprintf(err, errlen, "The account name must have 3 to 24 characters.");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9'))) {
			snprintf(err, errlen, "The account name may only contain lowercase letters and digits.");
			return -1;
		}
	}
	return 0;
}

int catalog_blob_container_check(const char *name, char *err, size_t errlen)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 3 || n > 63) {
		snprintf(err, errlen, "The container name must have 3 to 63 characters.");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
			snprintf(err, errlen, "The container name may only contain lowercase letters, "
			    "digits and hyphens.");
			return -1;
		}
		if (c == '-' && (i == 0 || i == n - 1)) {
			snprintf(err, errlen, "The container name must start and end with a letter or digit.");
			return -1;
		}
		if (c == '-' && name[i + 1] == '-') {
			snprintf(err, errlen, "The container name may not contain two hyphens in a row.");
			return -1;
		}
	}
	return 0;
}

static int is_b64(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '+' || c == '/';
}

int catalog_blob_key_check(const char *key, size_t len, char *err, size_t errlen)
{
	size_t pad = 0;

	if (key == NULL || len == 0) {
		snprintf(err, errlen, "Enter the account key.");
		return -1;
	}
	if (strlen(key) != len) {
		snprintf(err, errlen, "The account key may not contain NUL bytes.");
		return -1;
	}
	if (len < 16 || len > CATALOG_SECRET_MAX || len % 4 != 0)
		goto bad;
	while (pad < 2 && key[len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++)
		if (!is_b64((unsigned char)key[i]))
			goto bad;
	return 0;
bad:
	snprintf(err, errlen, "The account key is not valid base64: copy key1 or key2 from the "
	    "storage account's \"Access keys\" page.");
	return -1;
}

int catalog_blob_sas_check(const char *sas, size_t len, char *err, size_t errlen)
{
	const char *p;

	if (sas == NULL || len == 0) {
		snprintf(err, errlen, "Enter the SAS token.");
		return -1;
	}
	if (strlen(sas) != len) {
		snprintf(err, errlen, "The SAS token may not contain NUL bytes.");
		return -1;
	}
	if (len > CATALOG_SECRET_MAX) {
		snprintf(err, errlen, "The SAS token is longer than %d bytes.", CATALOG_SECRET_MAX);
		return -1;
	}
	for (p = sas; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    strchr("-._~%&=+:,/;!*'()$@", c) != NULL)) {
			snprintf(err, errlen, "The SAS token contains characters that do not belong "
			    "in a URL query.");
			return -1;
		}
	}
	/* "sig=" at the start or after '&'. */
	for (p = sas; p != NULL; p = strchr(p, '&')) {
		if (*p == '&')
			p++;
		if (strncmp(p, "sig=", 4) == 0 && p[4] != '\0' && p[4] != '&')
			return 0;
	}
	snprintf(err, errlen, "The SAS token has no signature (sig=...); paste the whole token.");
	return -1;
}

int catalog_local_dir_check(const char *dir, size_t len, char *err, size_t errlen)
{
	const char *seg;

	if (dir == NULL || len == 0) {
		snprintf(err, errlen, "Enter the directory.");
		return -1;
	}
	if (strlen(dir) != len) {
		snprintf(err, errlen, "The directory may not contain NUL bytes.");
		return -1;
	}
	if (len >= PATH_MAX) {
		snprintf(err, errlen, "The directory path is too long.");
		return -1;
	}
	if (dir[0] != '/') {
		snprintf(err, errlen, "The directory must be an absolute path (starting with '/').");
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)dir; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "The directory may not contain control characters.");
			return -1;
		}
	}
	for (seg = dir + 1; ; ) {
		size_t n = strcspn(seg, "/");
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
			snprintf(err, errlen, "The directory may not contain '.' or '..' segments.");
			return -1;
		}
		if (seg[n] == '\0')
			break;
		seg += n + 1;
	}
	return 0;
}

void catalog_secret_hint(const char *secret, char *out, size_t outlen)
{
	size_t n = secret ? strlen(secret) : 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (n < 12)
		return;
	snprintf(out, outlen, "\xe2\x80\xa6%s", secret + n - 4);
}

int catalog_pick_check(const char *pick)
{
	static const char prefix[] = "/projects/drafts/";
	size_t n;

	if (pick == NULL)
		return 0;
	n = strlen(pick);
	if (n > 200 || strncmp(pick, prefix, sizeof(prefix) - 1) != 0 || n == sizeof(prefix) - 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = pick[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '/' || c == '-' || c == '_'))
			return 0;
		if (c == '/' && i > 0 && pick[i - 1] == '/')
			return 0;
	}
	return 1;
}

char *catalog_local_roots(struct arena *a, const struct config *cfg)
{
	const char *roots = cfg->datastore_roots ? cfg->datastore_roots : "";
	const char *dir = cfg->datastore_dir ? cfg->datastore_dir : "";

	if (*roots == '\0')
		return arena_strdup(a, dir);
	if (*dir == '\0')
		return arena_strdup(a, roots);
	return arena_printf(a, "%s:%s", roots, dir);
}

long long catalog_parse_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	long long v;

	if (n == 0 || n > 18)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	v = strtoll(s, NULL, 10);
	return v > 0 ? v : 0;
}

/* ------------------------------------------------------------ database */

/* mkdir -p dir (mode 0750 for what is created).  0 or -1 with errno. */
static int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, dir, n + 1);
	for (char *p = tmp + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
				return -1;
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

/* One attempt: find the built-in row (locked) and insert or update it;
 * make it the default only when no datastore is. */
static int builtin_ensure_once(struct db *db, struct arena *a, const char *path)
{
	struct db_result *res, *def;
	uint64_t id = 0;
	int rc;

	if ((rc = db_begin(db)) != DB_OK)
		return rc;
	rc = db_query(db, a, &res,
	    "SELECT id, kind, local_path FROM datastores WHERE builtin_one = 1 FOR UPDATE", "");
	if (rc != DB_OK)
		goto fail;
	rc = db_query(db, a, &def,
	    "SELECT id FROM datastores WHERE default_one = 1 FOR UPDATE", "");
	if (rc != DB_OK)
		goto fail;
	if (res->nrows == 0) {
		rc = db_exec(db, 0, NULL, &id,
		    "INSERT INTO datastores (name, kind, local_path, is_builtin, is_default) "
		    "VALUES (?, 'local', ?, 1, ?)", "ssi", BUILTIN_NAME, path,
		    (long long)(def->nrows == 0));
		if (rc == DB_OK)
			log_info("built-in datastore created: %s", path);
	} else {
		id = (uint64_t)db_int(res, 0, 0);
		if (strcmp(db_value(res, 0, 1), "local") != 0 || db_value(res, 0, 2) == NULL ||
		    strcmp(db_value(res, 0, 2), path) != 0) {
			log_info("built-in datastore moved: %s -> %s",
			    db_value(res, 0, 2) ? db_value(res, 0, 2) : "(none)", path);
			rc = db_exec(db, 0, NULL, NULL,
			    "UPDATE datastores SET kind = 'local', local_path = ?, blob_endpoint = NULL, "
			    "blob_account = NULL, blob_container = NULL, blob_sas = NULL, blob_key = NULL "
			    "WHERE id = ?", "si", path, (long long)id);
		}
		/* Never over an admin's choice: only when there is no default. */
		if (rc == DB_OK && def->nrows == 0) {
			rc = db_exec(db, 0, NULL, NULL,
			    "UPDATE datastores SET is_default = 1 WHERE id = ?", "i", (long long)id);
			if (rc == DB_OK)
				log_info("no datastore was the default: the built-in one (%s) is now", path);
		}
	}
	if (rc != DB_OK)
		goto fail;
	return db_commit(db);
fail:
	db_rollback(db);
	return rc;
}

int catalog_default_datastore_ensure(struct db *db, struct arena *a, const struct config *cfg)
{
	char real[PATH_MAX];
	int rc = DB_ERR;

	if (cfg->datastore_dir == NULL || cfg->datastore_dir[0] != '/') {
		log_error("datastore_dir must be an absolute path");
		return DB_ERR;
	}
	if (mkdir_p(cfg->datastore_dir) < 0) {
		log_error("cannot create datastore_dir %s: %s", cfg->datastore_dir, strerror(errno));
		return DB_ERR;
	}
	if (realpath(cfg->datastore_dir, real) == NULL) {
		log_error("cannot resolve datastore_dir %s: %s", cfg->datastore_dir, strerror(errno));
		return DB_ERR;
	}
	/* Two processes starting at once may both try to insert: the loser
	 * gets a duplicate or a deadlock and looks again. */
	for (int attempt = 0; attempt < 5; attempt++) {
		rc = builtin_ensure_once(db, a, real);
		if (rc != DB_DUPLICATE && rc != DB_RETRY)
			break;
	}
	if (rc == DB_DUPLICATE)
		log_error("the built-in datastore cannot be created: a datastore named '%s' "
		    "already exists and is not the built-in one", BUILTIN_NAME);
	else if (rc != DB_OK)
		log_error("the built-in datastore cannot be set up: %s", db_errmsg(db));
	return rc;
}

int catalog_datastore_make_default(struct db *db, struct arena *a, long long id)
{
	struct db_result *res;
	int rc;

	if (id <= 0)
		return CATALOG_NO_DATASTORE;
	if ((rc = db_begin(db)) != DB_OK)
		return rc;
	rc = db_query(db, a, &res, "SELECT is_default FROM datastores WHERE id = ? FOR UPDATE",
	    "i", id);
	if (rc != DB_OK)
		goto fail;
	if (res->nrows == 0) {
		rc = CATALOG_NO_DATASTORE;
		goto fail;
	}
	if (db_int(res, 0, 0) == 0) {
		/* The old default is cleared first: the unique key on
		 * default_one holds one row at a time (sql/014_default_datastore.sql). */
		rc = db_exec(db, 0, NULL, NULL, "UPDATE datastores SET is_default = 0 "
		    "WHERE default_one = 1", "");
		if (rc == DB_OK)
			rc = db_exec(db, 0, NULL, NULL, "UPDATE datastores SET is_default = 1 "
			    "WHERE id = ?", "i", id);
		if (rc != DB_OK)
			goto fail;
	}
	return db_commit(db);
fail:
	db_rollback(db);
	return rc;
}

#define DATASTORE_COLUMNS \
	"SELECT id, name, kind, local_path, blob_endpoint, blob_account, blob_container, " \
	"blob_sas, blob_key FROM datastores "

/* Fill ds from row 0 of res (DATASTORE_COLUMNS), or ds->id = 0 when empty. */
static void datastore_from_row(const struct db_result *res, struct datastore *ds)
{
	memset(ds, 0, sizeof(*ds));
	if (res->nrows == 0)
		return;
	ds->id = db_int(res, 0, 0);
	ds->name = db_value(res, 0, 1);
	ds->kind = datastore_kind_from_name(db_value(res, 0, 2));
	ds->local_path = db_value(res, 0, 3);
	ds->blob.endpoint = db_value(res, 0, 4);
	ds->blob.account = db_value(res, 0, 5);
	ds->blob.container = db_value(res, 0, 6);
	ds->blob.sas = db_value(res, 0, 7);
	ds->blob.key = db_value(res, 0, 8);
}

/* Load the datastore of the query `sql` (DATASTORE_COLUMNS and a WHERE
 * clause with one "i" parameter) into *ds; ds->id == 0 when none. */
static int datastore_query(struct db *db, struct arena *a, const char *sql, long long arg,
    struct datastore *ds)
{
	struct db_result *res;
	int rc;

	memset(ds, 0, sizeof(*ds));
	rc = db_query(db, a, &res, sql, "i", arg);
	if (rc != DB_OK)
		return rc;
	datastore_from_row(res, ds);
	return DB_OK;
}

int catalog_datastore_load(struct db *db, struct arena *a, long long id, struct datastore *ds)
{
	if (id <= 0) {
		memset(ds, 0, sizeof(*ds));
		return DB_OK;
	}
	return datastore_query(db, a, DATASTORE_COLUMNS "WHERE id = ?", id, ds);
}

int catalog_datastore_default(struct db *db, struct arena *a, struct datastore *ds)
{
	return datastore_query(db, a, DATASTORE_COLUMNS "WHERE default_one = ?", 1, ds);
}

int catalog_datastore_builtin(struct db *db, struct arena *a, struct datastore *ds)
{
	return datastore_query(db, a, DATASTORE_COLUMNS "WHERE builtin_one = ?", 1, ds);
}

int catalog_dataset_create(struct db *db, const char *name, const char *description,
    long long datastore_id, const char *path, int recursive, const char *source,
    long long created_by, long long *id)
{
	uint64_t insert_id = 0;
	int rc;

	*id = 0;
	if (name == NULL || path == NULL || source == NULL ||
	    (strcmp(source, "upload") != 0 && strcmp(source, "datastore") != 0)) {
		log_error("catalog_dataset_create: bad arguments");
		return DB_ERR;
	}
	rc = db_exec(db, 0, NULL, &insert_id,
	    "INSERT INTO datasets (name, description, datastore_id, path, is_recursive, source, "
	    "created_by) VALUES (?, ?, ?, ?, ?, ?, NULLIF(?, 0))", "ssisisi",
	    name, description ? description : "", datastore_id, path, (long long)(recursive != 0),
	    source, created_by > 0 ? created_by : 0);
	if (rc == DB_OK)
		*id = (long long)insert_id;
	return rc;
}
