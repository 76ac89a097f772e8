/*
 * datastore.h: where images live.  A datastore is a local directory (under
 * one of the allowed roots from the configuration) or an Azure Blob
 * container.  Paths inside a datastore are relative, '/'-separated, and
 * checked by datastore_path_check before any use: no "..", no absolute
 * paths, no NUL or control characters, no backslashes.  Local access goes
 * through openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) from the
 * datastore's root, so a symlink that leaves the root is never followed.
 */
#ifndef LABELD_DATASTORE_H
#define LABELD_DATASTORE_H

#include <stddef.h>
#include <stdint.h>

#include "blob.h"
#include "image.h"

enum datastore_kind { DATASTORE_LOCAL = 1, DATASTORE_AZUREBLOB = 2 };

struct datastore {
	long long id;
	const char *name;
	enum datastore_kind kind;
	const char *local_path;          /* absolute, for local */
	struct blob_account blob;        /* for azureblob */
};

/* The kind stored in datastores.kind ("local" or "azureblob"). */
enum datastore_kind datastore_kind_from_name(const char *name);

/* What datastore_walk_ticking and datastore_heads_read return instead of -1
 * when a blob service could not be reached or answered with an error: a
 * failure that may pass by itself.  err then holds what the service or curl
 * said, for the log only; the person is shown BLOB_FAILED_SENTENCE (blob.h). */
#define DATASTORE_UNREACHABLE (-2)

/* Check a path inside a datastore ("" is the root).  A trailing "/ **" (written without the space) is not
 * part of the path (see datastore_path_split).  0, or -1 with a sentence
 * in err ("the path may not contain '..'", ...). */
int datastore_path_check(const char *path, char *err, size_t errlen);

/* Split "a/b/ **" (no space) into "a/b" + recursive=1; "a/b/" into "a/b" + 0.  The
 * result is written to out (at most outlen bytes).  0 or -1 (too long). */
int datastore_path_split(const char *in, char *out, size_t outlen, int *recursive);

/* Check a local directory for registration: absolute, exists, is a
 * directory, and after resolving symlinks lies under one of the roots
 * (a ':'-separated list).  On success the resolved path is written to
 * resolved (PATH_MAX bytes).  0, or -1 with err. */
int datastore_local_check(const char *dir, const char *roots, char *resolved, char *err, size_t errlen);

/* One file found by datastore_walk: path relative to the datastore root. */
typedef int (*datastore_file_fn)(void *ctx, const char *path, uint64_t size);

/* Every regular file under path (recursive or one level), in no particular
 * order; hidden files (names starting with '.') are skipped.  Return non-zero
 * from fn to stop.  0, or -1 with err. */
int datastore_walk(const struct datastore *ds, const char *path, int recursive,
    datastore_file_fn fn, void *ctx, char *err, size_t errlen);

/* datastore_walk that also calls tick(ctx) for every entry read (files,
 * folders and skipped names alike) and before each page of a blob listing,
 * so that the caller of a long walk can show it is alive; a non-zero return
 * from tick stops the walk as fn's does.  tick NULL: as datastore_walk.
 * Both return DATASTORE_UNREACHABLE when a blob listing fails. */
typedef int (*datastore_tick_fn)(void *ctx);
int datastore_walk_ticking(const struct datastore *ds, const char *path, int recursive,
    datastore_file_fn fn, datastore_tick_fn tick, void *ctx, char *err, size_t errlen);

/* The direct subfolders of path (for the Browse page): fn is called with each
 * folder's path relative to the root. */
typedef int (*datastore_dir_fn)(void *ctx, const char *path);
int datastore_folders(const struct datastore *ds, const char *path,
    datastore_dir_fn fn, void *ctx, char *err, size_t errlen);

/* Open a local file for reading, relative to the root, never leaving it.
 * Returns an fd (O_CLOEXEC) or -1 with err. */
int datastore_local_open(const char *root, const char *path, char *err, size_t errlen);

/* 1 when path (already checked) names a file beneath root that is reached
 * without following any symlink, 0 otherwise (a symlink on the way, or no
 * such file).  nginx serves datastore files with disable_symlinks on, so
 * the image route hands nginx only such paths and streams the others
 * itself. */
int datastore_local_plain(const char *root, const char *path);

/* Read up to `max` leading bytes of a file into buf; *got is the count.
 * 0 or -1 with err. */
int datastore_read_head(const struct datastore *ds, const char *path,
    unsigned char *buf, size_t max, size_t *got, char *err, size_t errlen);

/* A file as an image_reader (image.h) for image_read_header: the file path
 * of a datastore (datastore_reader_init: a local file is opened beneath the
 * root on the first read and read with pread, a blob with ranged GETs over
 * one connection), or an open descriptor of any file (datastore_reader_fd:
 * an upload's temp file; fd stays the caller's).  Pass &r->rd to
 * image_read_header; datastore_reader_close closes what the reads opened. */
struct datastore_reader {
	struct image_reader rd;
	const struct datastore *ds;
	const char *path;
	int fd;                          /* -1 until opened */
	int own_fd;                      /* 1: opened here, closed by _close */
	struct blob_client *blob;        /* NULL until the first blob read */
};
void datastore_reader_init(struct datastore_reader *r, const struct datastore *ds,
    const char *path);
void datastore_reader_fd(struct datastore_reader *r, int fd);
void datastore_reader_close(struct datastore_reader *r);

/* The leading bytes of many files at once (a batch of the init job): a local
 * datastore's files are read by a few threads, a blob container's fetched
 * over parallel connections.  tick(ctx) (NULL: none) is called from the
 * calling thread first and between the reads; a non-zero return stops the
 * batch (a blob batch that has begun still runs to its end).  0 with *out (free it with
 * datastore_heads_free; a file that could not be read is a per-file
 * failure, see datastore_heads_get), 1 when tick stopped it (*out NULL),
 * -1 with err (out of memory), or DATASTORE_UNREACHABLE with err. */
struct datastore_heads;
int datastore_heads_read(const struct datastore *ds, const char *const *paths, size_t n,
    datastore_tick_fn tick, void *ctx, struct datastore_heads **out, char *err, size_t errlen);

/* File i of the batch: 0 with its leading bytes in *data and *len (*whole:
 * fewer than were asked for, so they are the whole file), or -1 with a
 * reason for the person and, when there is one, a detail for the log only
 * (else NULL).  All valid until datastore_heads_free. */
int datastore_heads_get(const struct datastore_heads *h, size_t i, const unsigned char **data,
    size_t *len, int *whole, const char **reason, const char **detail);
void datastore_heads_free(struct datastore_heads *h);

/* Create the directories of a relative path under a local root (mode 0750),
 * never leaving the root.  0 or -1 with err. */
int datastore_local_mkdirs(const char *root, const char *path, char *err, size_t errlen);

/* Uploads into a folder of a datastore: a local folder (created when missing,
 * beneath the root, never following a symlink) or a "folder" (name prefix) of
 * an Azure Blob container, written as block blobs: Put Block for each
 * block_size bytes read from the file, then Put Block List with
 * If-None-Match: * so an existing blob is never overwritten.  A name that is
 * taken gets -2, -3, ... before its extension (photo.jpg -> photo-2.jpg), the
 * first free one, for local and blob alike.
 *
 * A local file is written to a hidden temporary file of the folder
 * (".<name>.<hex>.part", skipped by datastore_walk), synced, then given its
 * name with linkat, which never replaces a file: no half-written file is
 * ever seen under a name, and a failure leaves nothing behind (a crash may
 * leave a hidden .part file).  The folder is synced at close.  A blob
 * whose name turns out to be taken at the commit is sent again under the
 * next name; the blocks sent for the taken name stay uncommitted and the
 * service drops them after a week.  The sink keeps ds (the caller keeps it
 * alive until datastore_sink_close); one sink is used by one thread. */
struct datastore_sink;
/* folder: checked by datastore_path_check, "" is the root.  0, -1 with err,
 * or DATASTORE_UNREACHABLE (blob service down: err for the log).  A local
 * folder is created here (an error is a sentence for the person); a blob
 * container is not asked anything before the first put. */
int datastore_sink_open(const struct datastore *ds, const char *folder,
    struct datastore_sink **out, char *err, size_t errlen);
/* Store size bytes of fd (read from offset 0, never whole in memory: at most
 * one block buffered) as `name` (one path segment, already sanitized) in the
 * folder; the name used goes to stored (folder-relative, storedlen bytes).
 * 0, -1 with err (a sentence for the person), or DATASTORE_UNREACHABLE. */
int datastore_sink_put(struct datastore_sink *s, int fd, uint64_t size,
    const char *name, char *stored, size_t storedlen, char *err, size_t errlen);
void datastore_sink_close(struct datastore_sink *s);

/* The block size of uploads to blob containers (blob_block_size), which is
 * also the one buffer datastore_sink_put reads a file through: 0 means
 * the default; clamped to DATASTORE_SINK_BLOCK_MIN .. _MAX.  Process-wide:
 * set before threads start (main.c), as blob_policy_set. */
#define DATASTORE_SINK_BLOCK_DEFAULT ((size_t)4 << 20)
#define DATASTORE_SINK_BLOCK_MIN ((size_t)64 << 10)
#define DATASTORE_SINK_BLOCK_MAX ((size_t)100 << 20)
void datastore_sink_block_size(size_t bytes);

#endif
