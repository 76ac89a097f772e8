/*
 * projects_model.h: creating labeling projects and changing what may change
 * after creation (label classes, instructions link, description).  Used by
 * the wizard, the details page and `labeld --create-demo`.
 *
 * Return values are the DB_* codes of db.h, plus PROJECT_INVALID when the
 * input breaks a rule of project_rules.h (callers that want a sentence for
 * the person check with those functions first).
 */
#ifndef LABELD_PROJECTS_MODEL_H
#define LABELD_PROJECTS_MODEL_H

#include <stddef.h>

struct arena;
struct db;

#define PROJECT_INVALID (-10)

/* Create a project: the projects row (state initializing), its labels at
 * positions 1..nlabels, its project_counters row, its default team
 * ("<name> team" with created_by in it, serving it: teams_model.h) and an
 * "init" job.  name,
 * labels, description and instructions_url are trimmed and checked with
 * project_rules.h (the label count is not limited here: callers apply
 * max_labels from the configuration); task must be a task plugin's name.
 * When no transaction is open, project_create opens and commits its own and
 * wakes the job thread; inside the caller's transaction it only adds its
 * statements (the caller commits, then calls jobs_wake()).  On any error
 * nothing is left behind (its own transaction is rolled back; in the
 * caller's, the caller must roll back).  DB_DUPLICATE when the name is
 * taken, PROJECT_INVALID when a rule is broken; *project_id on DB_OK. */
int project_create(struct db *db, struct arena *a, const char *name, const char *task,
    long long dataset_id, const char *description, const char *instructions_url,
    const char *const *labels, size_t nlabels, long long created_by, long long *project_id);

/* One label edit: rename label `id` to `name` (id > 0), or add `name` at
 * the end (id == 0). */
struct label_edit {
	long long id;
	const char *name;
};

/* Apply label renames and additions to project_id in one transaction:
 * renamed labels keep their id (and so every annotation that uses them),
 * new ones get the next positions.  Labels are never removed.  Names must
 * already be checked (project_labels_check over the whole resulting list).
 * DB_DUPLICATE when the database finds two names the same (its collation
 * also ignores accents), PROJECT_INVALID when an id is not a label of the
 * project.  Nothing changes on any error. */
int project_labels_apply(struct db *db, struct arena *a, long long project_id,
    const struct label_edit *edits, size_t n);

/* Set the instructions link and the description (both already checked
 * and trimmed).  A DB_* status; DB_OK also when nothing changed. */
int project_instructions_set(struct db *db, long long project_id, const char *url,
    const char *description);

/* The word people see for a project state ("initializing" -> "Initializing");
 * unknown states are returned as they are, NULL as "". */
const char *project_state_title(const char *state);

#endif
