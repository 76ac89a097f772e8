/*
 * projects_model.c: creating projects and editing their label classes and
 * instructions, each change in one transaction.
 */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "project_rules.h"
#include "projects_model.h"
#include "teams_model.h"

/* The trimmed copy of s in the arena ("" for NULL); NULL when out of memory. */
static char *trimmed(struct arena *a, const char *s)
{
	size_t n;
	const char *t = rules_trim(s, s ? strlen(s) : 0, &n);

	return arena_strndup(a, t, n);
}

int project_create(struct db *db, struct arena *a, const char *name, const char *task,
    long long dataset_id, const char *description, const char *instructions_url,
    const char *const *labels, size_t nlabels, long long created_by, long long *project_id)
{
	char err[256];
	char *n = trimmed(a, name), *d = trimmed(a, description), *u = trimmed(a, instructions_url);
	const char **l = arena_calloc(a, nlabels ? nlabels : 1, sizeof(*l));
	uint64_t pid = 0;
	int own, rc;

	if (n == NULL || d == NULL || u == NULL || l == NULL)
		return DB_ERR;
	for (size_t i = 0; i < nlabels; i++)
		if ((l[i] = trimmed(a, labels[i])) == NULL)
			return DB_ERR;
	if (project_name_check(n, strlen(n), err, sizeof(err)) < 0 ||
	    project_description_check(d, strlen(d), err, sizeof(err)) < 0 ||
	    project_url_check(u, strlen(u), err, sizeof(err)) < 0 ||
	    project_labels_check(l, nlabels, nlabels ? nlabels : 1, NULL, err, sizeof(err)) < 0 ||
	    task == NULL || task[0] == '\0' || strlen(task) > 32 || dataset_id <= 0) {
		log_info("project_create: refused: %s", task == NULL || task[0] == '\0' ?
		    "no task type" : err);
		return PROJECT_INVALID;
	}

	own = !db_in_transaction(db);
	if (own && (rc = db_begin(db)) != DB_OK)
		return rc;
	rc = db_exec(db, 0, NULL, &pid,
	    "INSERT INTO projects (name, task, dataset_id, description, instructions_url, state, created_by) "
	    "VALUES (?, ?, ?, ?, ?, 'initializing', ?)",
	    "ssissi", n, task, dataset_id, d, u, created_by);
	for (size_t i = 0; rc == DB_OK && i < nlabels; i++)
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT INTO labels (project_id, name, position) VALUES (?, ?, ?)",
		    "isi", (long long)pid, l[i], (long long)(i + 1));
	if (rc == DB_OK)
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT INTO project_counters (project_id) VALUES (?)", "i", (long long)pid);
	if (rc == DB_OK)
		rc = team_default_create(db, a, n, (long long)pid, created_by, NULL);
	if (rc == DB_OK)
		rc = jobs_enqueue(db, "init", (long long)pid, NULL);
	if (!own) {
		if (rc == DB_OK)
			*project_id = (long long)pid;
		return rc;
	}
	if (rc == DB_OK)
		rc = db_commit(db);
	if (rc != DB_OK) {
		db_rollback(db);
		return rc;
	}
	*project_id = (long long)pid;
	jobs_wake();
	log_info("project %llu created: %s (%s)", (unsigned long long)pid, n, task);
	return DB_OK;
}

int project_labels_apply(struct db *db, struct arena *a, long long project_id,
    const struct label_edit *edits, size_t n)
{
	struct db_result *res;
	long long next_pos = 1;
	int rc, *changed;

	changed = arena_calloc(a, n ? n : 1, sizeof(*changed));
	if (changed == NULL)
		return DB_ERR;
	if ((rc = db_begin(db)) != DB_OK)
		return rc;
	rc = db_query(db, a, &res,
	    "SELECT id, name, position FROM labels WHERE project_id = ? ORDER BY position FOR UPDATE",
	    "i", project_id);
	if (rc != DB_OK)
		goto fail;
	for (size_t r = 0; r < res->nrows; r++)
		if (db_int(res, r, 2) >= next_pos)
			next_pos = db_int(res, r, 2) + 1;
	for (size_t i = 0; i < n; i++) {
		size_t r;
		if (edits[i].id == 0)
			continue;
		for (r = 0; r < res->nrows && db_int(res, r, 0) != edits[i].id; r++)
			;
		if (r == res->nrows) {
			rc = PROJECT_INVALID;
			goto fail;
		}
		changed[i] = strcmp(db_value(res, r, 1), edits[i].name) != 0;
	}
	/* Renames go through a temporary name first (one no real label can
	 * have: it starts with a control character), so swapping two names
	 * never trips the unique key half-way. */
	for (size_t i = 0; i < n; i++) {
		if (!changed[i])
			continue;
		char tmp[32];
		snprintf(tmp, sizeof(tmp), "\x01rename-%lld", edits[i].id);
		rc = db_exec(db, 0, NULL, NULL, "UPDATE labels SET name = ? WHERE id = ? AND project_id = ?",
		    "sii", tmp, edits[i].id, project_id);
		if (rc != DB_OK)
			goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if (edits[i].id != 0 && changed[i])
			rc = db_exec(db, 0, NULL, NULL,
			    "UPDATE labels SET name = ? WHERE id = ? AND project_id = ?",
			    "sii", edits[i].name, edits[i].id, project_id);
		else if (edits[i].id == 0)
			rc = db_exec(db, 0, NULL, NULL,
			    "INSERT INTO labels (project_id, name, position) VALUES (?, ?, ?)",
			    "isi", project_id, edits[i].name, next_pos++);
		if (rc != DB_OK)
			goto fail;
	}
	/* Labeling pages cache the labels per process under this version. */
	rc = db_exec(db, 0, NULL, NULL,
	    "UPDATE projects SET meta_version = meta_version + 1 WHERE id = ?", "i", project_id);
	if (rc != DB_OK)
		goto fail;
	rc = db_commit(db);
	if (rc != DB_OK)
		goto fail;
	return DB_OK;
fail:
	db_rollback(db);
	return rc;
}

int project_instructions_set(struct db *db, long long project_id, const char *url,
    const char *description)
{
	return db_exec(db, DB_IDEMPOTENT, NULL, NULL,
	    "UPDATE projects SET instructions_url = ?, description = ?, "
	    "meta_version = meta_version + 1 WHERE id = ?",
	    "ssi", url, description, project_id);
}

const char *project_state_title(const char *state)
{
	static const char *const names[][2] = {
		{ "initializing", "Initializing" }, { "running", "Running" },
		{ "paused", "Paused" }, { "failed", "Failed" },
	};

	if (state == NULL)
		return "";
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(state, names[i][0]) == 0)
			return names[i][1];
	return state;
}
