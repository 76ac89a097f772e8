/*
 * project_cache.h: each labeld process's copy of the facts of a project that
 * every labeling page shows but only an admin's edit changes: its name, task
 * type, instructions link and label classes.  An entry is keyed by the
 * project's id and its meta_version (sql/004_labeling_reads.sql), which
 * every such edit raises in the same transaction; the labeling page reads
 * the version with the facts that change per request (state, counters, the
 * lease) and uses an entry only when it holds exactly that version, so a
 * copy is never older than what the page's own query saw.
 *
 * Thread-safe; bounded (one entry per slot of a small table: a project that
 * hashes to a busy slot replaces the older entry and is loaded again when
 * next asked for).
 */
#ifndef LABELD_PROJECT_CACHE_H
#define LABELD_PROJECT_CACHE_H

#include <stddef.h>

struct arena;
struct queue_label;

struct project_meta {
	long long id;
	long long version;
	const char *name, *task, *instructions_url;
	struct queue_label *labels;   /* in position order */
	size_t nlabels;
};

/* Copy the entry of project `id` at `version` into *out (strings and
 * labels in the arena).  1 when found, 0 when not cached (or cached at
 * another version), -1 when out of memory. */
int project_cache_get(struct arena *a, long long id, long long version,
    struct project_meta *out);

/* Remember *m (copied; the caller keeps its own).  An entry of the same
 * project at a newer version is kept instead.  Out of memory only means
 * nothing is cached. */
void project_cache_put(const struct project_meta *m);

/* Forget everything (tests; freed memory at exit for leak checkers). */
void project_cache_clear(void);

#endif
