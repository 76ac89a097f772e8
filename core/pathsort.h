/*
 * pathsort.h: sort a dataset's file paths in bounded memory.
 *
 * Paths are added one at a time (as a walk or a blob listing finds them)
 * and read back in byte order (strcmp), each distinct path once.  At most
 * about mem_bytes of paths are held in memory: when that much has been
 * added, it is sorted and written as one run to an unnamed temporary file
 * in tmp_dir (O_TMPFILE: nothing is left behind, even after a crash), and
 * the runs are merged while reading.  A listing that fits in memory never
 * touches the disk.
 *
 * One thread per sorter; not thread-safe.
 */
#ifndef LABELD_PATHSORT_H
#define LABELD_PATHSORT_H

#include <stddef.h>

struct pathsort;

/* A new, empty sorter; tmp_dir is copied.  NULL when out of memory. */
struct pathsort *pathsort_new(const char *tmp_dir, size_t mem_bytes);

/* Add a path (any bytes but NUL, any length).  0, or -1 with err (out of
 * memory, or the temporary file could not be written). */
int pathsort_add(struct pathsort *s, const char *path, char *err, size_t errlen);

/* No more paths: make them readable.  0, or -1 with err. */
int pathsort_finish(struct pathsort *s, char *err, size_t errlen);

/* The next path in order, duplicates skipped: 1 with *path (owned by the
 * sorter, valid until the next call), 0 at the end, -1 with err. */
int pathsort_next(struct pathsort *s, const char **path, char *err, size_t errlen);

/* Paths added (with duplicates); duplicates dropped so far. */
unsigned long long pathsort_added(const struct pathsort *s);
unsigned long long pathsort_dropped(const struct pathsort *s);

/* Runs written to the temporary file so far (0: all in memory). */
size_t pathsort_runs(const struct pathsort *s);

/* Free everything; the temporary file goes with it.  NULL is allowed. */
void pathsort_free(struct pathsort *s);

#endif
