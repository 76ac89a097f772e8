/*
 * catalog.h: datastores and datasets in the database: loading them for
 * handlers and jobs, the built-in and the default datastore, and creating
 * datasets.
 */
#ifndef LABELD_CATALOG_H
#define LABELD_CATALOG_H

#include <stddef.h>

#include "datastore.h"

struct arena;
struct config;
struct db;

/* Make sure the built-in datastore row (is_builtin: the local store at
 * cfg->datastore_dir, where uploads land) exists and points at
 * cfg->datastore_dir (created at start-up; the directory is created too,
 * an older row is moved there).  It becomes the default only when no
 * datastore is the default: an admin's choice is never taken back.
 * DB_* status. */
int catalog_default_datastore_ensure(struct db *db, struct arena *a, const struct config *cfg);

/* Load datastore `id` into *ds (strings arena-owned).  DB_OK with
 * ds->id == 0 when there is no such datastore. */
int catalog_datastore_load(struct db *db, struct arena *a, long long id, struct datastore *ds);

/* The default datastore, where new exports are written and the wizard's
 * uploads go unless the admin chooses another (DB_OK with ds->id == 0 if
 * missing).  It may be any datastore, local or Azure Blob. */
int catalog_datastore_default(struct db *db, struct arena *a, struct datastore *ds);

/* The built-in datastore: local, at datastore_dir, served by nginx; the
 * demo project's images go there (DB_OK with ds->id == 0 if missing). */
int catalog_datastore_builtin(struct db *db, struct arena *a, struct datastore *ds);

/* catalog_datastore_make_default: there is no datastore `id`. */
#define CATALOG_NO_DATASTORE 1

/* Make datastore `id` the default one (the old default loses it) in one
 * transaction; a no-op when it is the default already.  DB_OK,
 * CATALOG_NO_DATASTORE when there is no such datastore, or DB_* (rolled
 * back). */
int catalog_datastore_make_default(struct db *db, struct arena *a, long long id);

/* A new dataset row; DB_DUPLICATE when the name is taken.  Meant to run in
 * the caller's transaction. */
int catalog_dataset_create(struct db *db, const char *name, const char *description,
    long long datastore_id, const char *path, int recursive, const char *source,
    long long created_by, long long *id);

/* ------------------------------------------------------------ checks
 * Pure functions (no I/O, no allocation) behind the datastore forms; they
 * are unit-tested in tests/unit/test_catalog.c.  Each returns 0, or -1 with
 * a sentence for the admin in err (which never repeats a secret). */

#define CATALOG_NAME_MAX 100        /* characters in a datastore/dataset name */
#define CATALOG_SECRET_MAX 2048     /* bytes in a SAS token or account key */

/* A datastore or dataset name as typed (the caller trims it first): 1 to
 * CATALOG_NAME_MAX characters of valid UTF-8, no control characters.  len is
 * the field's length, so an embedded NUL byte is caught. */
int catalog_name_check(const char *name, size_t len, char *err, size_t errlen);

/* An Azure storage account name: 3 to 24 lowercase letters and digits. */
int catalog_blob_account_check(const char *name, char *err, size_t errlen);

/* An Azure container name: 3 to 63 characters, lowercase letters, digits
 * and single hyphens, starting and ending with a letter or digit. */
int catalog_blob_container_check(const char *name, char *err, size_t errlen);

/* An account key: base64 (with its '=' padding), 16 to CATALOG_SECRET_MAX
 * bytes.  len catches NUL bytes. */
int catalog_blob_key_check(const char *key, size_t len, char *err, size_t errlen);

/* A SAS token without its leading '?': characters that belong in a URL
 * query, with a "sig=" parameter, at most CATALOG_SECRET_MAX bytes. */
int catalog_blob_sas_check(const char *sas, size_t len, char *err, size_t errlen);

/* The syntax of a local datastore directory as typed, before it is resolved
 * (datastore_local_check): absolute, no NUL or control characters, no "."
 * or ".." segments, shorter than PATH_MAX. */
int catalog_local_dir_check(const char *dir, size_t len, char *err, size_t errlen);

/* What may be shown of a secret: "…" and its last 4 characters, or "" when
 * it is shorter than 12 bytes (too short to show any of it).  out gets at
 * most outlen bytes, NUL-terminated. */
void catalog_secret_hint(const char *secret, char *out, size_t outlen);

/* 1 when pick is a safe local link back to a wizard step: it starts with
 * "/projects/drafts/", has only letters, digits, '/', '-' and '_', no "//",
 * and at most 200 bytes.  The Browse page links to
 * PICK?datastore=ID&path=FOLDER and PICK?datastore=ID&path=FOLDER%2F** ("**"
 * alone for the root). */
int catalog_pick_check(const char *pick);

/* The allowed roots for local datastores: cfg->datastore_roots plus
 * cfg->datastore_dir, ':'-separated, in the arena (NULL when out of memory). */
char *catalog_local_roots(struct arena *a, const struct config *cfg);

/* An id from a URL: digits only (at most 18), greater than 0; anything else
 * gives 0 (the caller answers 404). */
long long catalog_parse_id(const char *s);

#endif
