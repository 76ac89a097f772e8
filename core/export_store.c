/*
 * export_store.c: where an export's bytes go (export.h, "the file"): a
 * buffered sink into the default datastore, local or Azure Blob, that
 * leaves nothing under the final name until the file is whole; deleting an
 * export's file; sending it for a download.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "blob.h"
#include "datastore.h"
#include "export.h"
#include "log.h"

struct export_store {
	const struct datastore *ds;
	char *path;                  /* exports/<format>/<name> */
	char *media_type;
	unsigned char *buf;          /* EXPORT_BUFFER bytes */
	size_t used;
	unsigned long long bytes;    /* handed to write so far */
	char error[320];             /* the first failure; "" while none */
	int committed;
	/* local */
	int dirfd;                   /* <root>/exports/<format>, or -1 */
	int fd;                      /* the temporary file, or -1 */
	char tmp[300];               /* its name in dirfd */
	const char *name;            /* the final name in dirfd (points into path) */
	/* blob */
	struct blob_client *blob;
	uint32_t run, blocks;
};

char *export_file_path(struct arena *a, const char *format, long long project_id,
    long long export_id, const char *extension)
{
	return arena_printf(a, "%s/%s/%lld-%lld.%s", EXPORT_DIR, format, project_id, export_id,
	    extension);
}

/* Open (creating with mode 0755 where missing) the folder of path under
 * root, one component at a time, never following a symlink (O_NOFOLLOW on
 * every component below the root).  A descriptor, or -1 with err. */
static int folder_open(const char *root, const char *path, int create, char *err, size_t errlen)
{
	char part[1024];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	int fd;

	if (n >= sizeof(part) || datastore_path_check(path, err, errlen) < 0) {
		if (n >= sizeof(part))
			snprintf(err, errlen, "the export's path is too long");
		return -1;
	}
	memcpy(part, path, n);
	part[n] = '\0';
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "the datastore folder cannot be opened: %s", strerror(errno));
		return -1;
	}
	for (char *c = part, *next; n > 0 && c != NULL; c = next) {
		int sub;
		next = strchr(c, '/');
		if (next != NULL)
			*next++ = '\0';
		if (create && mkdirat(fd, c, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "the folder %s cannot be made: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		sub = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (sub < 0) {
			if (errno == ENOENT && !create)
				return -2;   /* no such folder: nothing in it */
			snprintf(err, errlen, "the folder of %s cannot be opened: %s", path,
			    errno == ELOOP || errno == ENOTDIR ? "a part of it is a symlink or a file" :
			    strerror(errno));
			return -1;
		}
		fd = sub;
	}
	return fd;
}

/* Remove the temporary files ".<name>.*.part" in dirfd (of runs that were
 * taken over or died). */
static void stale_remove(int dirfd, const char *name)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	size_t nl = strlen(name);

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		size_t el = strlen(e->d_name);
		if (e->d_name[0] == '.' && el > nl + 6 && strncmp(e->d_name + 1, name, nl) == 0 &&
		    e->d_name[nl + 1] == '.' && strcmp(e->d_name + el - 5, ".part") == 0) {
			if (unlinkat(dirfd, e->d_name, 0) == 0)
				log_info("export: removed the stale partial file %s", e->d_name);
		}
	}
	closedir(d);
}

static uint32_t run_number(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint32_t)(ts.tv_nsec ^ (ts.tv_sec << 10) ^ ((uint32_t)getpid() << 16));
}

static int local_open(struct export_store *st, char *err, size_t errlen)
{
	st->dirfd = folder_open(st->ds->local_path, st->path, 1, err, errlen);
	if (st->dirfd < 0)
		return -1;
	stale_remove(st->dirfd, st->name);
	for (int tries = 0; tries < 8; tries++) {
		snprintf(st->tmp, sizeof(st->tmp), ".%s.%08x.part", st->name, (unsigned)run_number());
		st->fd = openat(st->dirfd, st->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0644);
		if (st->fd >= 0 || errno != EEXIST)
			break;
	}
	if (st->fd < 0) {
		snprintf(err, errlen, "the export file cannot be created in datastore %s: %s",
		    st->ds->name, strerror(errno));
		return -1;
	}
	return 0;
}

struct export_store *export_store_open(const struct datastore *ds, const char *path,
    const char *media_type, char *err, size_t errlen)
{
	struct export_store *st = calloc(1, sizeof(*st));

	if (st == NULL || (st->path = strdup(path)) == NULL ||
	    (st->media_type = strdup(media_type ? media_type : "")) == NULL ||
	    (st->buf = malloc(EXPORT_BUFFER)) == NULL) {
		if (st != NULL) {
			free(st->path);
			free(st->media_type);
			free(st);
		}
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->ds = ds;
	st->dirfd = -1;
	st->fd = -1;
	st->name = strrchr(st->path, '/') ? strrchr(st->path, '/') + 1 : st->path;
	st->run = run_number();
	if (ds->kind == DATASTORE_LOCAL) {
		if (local_open(st, err, errlen) < 0) {
			export_store_abort(st);
			return NULL;
		}
	} else {
		st->blob = blob_client_new(&ds->blob, NULL);
		if (st->blob == NULL) {
			snprintf(err, errlen, "out of memory");
			export_store_abort(st);
			return NULL;
		}
	}
	return st;
}

/* Send the buffer on: a write of the local file, a block of the blob. */
static int store_flush(struct export_store *st)
{
	char berr[256];

	if (st->used == 0)
		return 0;
	if (st->ds->kind == DATASTORE_LOCAL) {
		size_t off = 0;
		while (off < st->used) {
			ssize_t n = write(st->fd, st->buf + off, st->used - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				snprintf(st->error, sizeof(st->error),
				    "The export file could not be written to datastore %s: %s.", st->ds->name,
				    n < 0 ? strerror(errno) : "nothing was written");
				return -1;
			}
			off += (size_t)n;
		}
	} else {
		if (blob_put_block(st->blob, st->path, st->run, st->blocks, st->buf, st->used, berr,
		    sizeof(berr)) < 0) {
			/* The service's words go to the log only (blob.h). */
			log_warn("export %s: block %u to datastore %s: %s", st->path, st->blocks,
			    st->ds->name, berr);
			snprintf(st->error, sizeof(st->error), "The export file could not be written "
			    "to datastore %s: %s", st->ds->name, BLOB_FAILED_SENTENCE);
			return -1;
		}
		st->blocks++;
	}
	st->used = 0;
	return 0;
}

int export_store_write(struct export_store *st, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (st->error[0] != '\0' || st->committed)
		return -1;
	while (len > 0) {
		size_t take = EXPORT_BUFFER - st->used;
		if (take > len)
			take = len;
		memcpy(st->buf + st->used, p, take);
		st->used += take;
		st->bytes += take;
		p += take;
		len -= take;
		if (st->used == EXPORT_BUFFER && store_flush(st) < 0)
			return -1;
	}
	return 0;
}

int export_store_commit(struct export_store *st, char *err, size_t errlen)
{
	char berr[256];

	if (st->error[0] == '\0' && store_flush(st) == 0) {
		if (st->ds->kind == DATASTORE_LOCAL) {
			if (fsync(st->fd) < 0 || close(st->fd) < 0) {
				st->fd = -1;
				snprintf(st->error, sizeof(st->error),
				    "The export file could not be written to datastore %s: %s.",
				    st->ds->name, strerror(errno));
			} else if (st->fd = -1, renameat(st->dirfd, st->tmp, st->dirfd, st->name) < 0) {
				snprintf(st->error, sizeof(st->error),
				    "The export file could not be given its name in datastore %s: %s.",
				    st->ds->name, strerror(errno));
			} else {
				st->tmp[0] = '\0';
				st->committed = 1;
				if (fsync(st->dirfd) < 0)
					log_warn("export %s: fsync of its folder: %s", st->path, strerror(errno));
			}
		} else if (blob_put_block_list(st->blob, st->path, st->run, st->blocks, st->media_type,
		    berr, sizeof(berr)) < 0) {
			log_warn("export %s: block list to datastore %s: %s", st->path, st->ds->name, berr);
			snprintf(st->error, sizeof(st->error), "The export file could not be written "
			    "to datastore %s: %s", st->ds->name, BLOB_FAILED_SENTENCE);
		} else {
			st->committed = 1;
		}
	}
	if (!st->committed) {
		snprintf(err, errlen, "%s", st->error);
		return -1;
	}
	return 0;
}

void export_store_abort(struct export_store *st)
{
	if (st == NULL)
		return;
	if (st->fd >= 0)
		close(st->fd);
	if (st->dirfd >= 0) {
		if (st->tmp[0] != '\0' && unlinkat(st->dirfd, st->tmp, 0) < 0 && errno != ENOENT)
			log_warn("export %s: the partial file %s cannot be removed: %s", st->path, st->tmp,
			    strerror(errno));
		close(st->dirfd);
	}
	/* A blob's uncommitted blocks are never part of a blob; the service
	 * drops them. */
	blob_client_free(st->blob);
	free(st->buf);
	free(st->media_type);
	free(st->path);
	free(st);
}

unsigned long long export_store_bytes(const struct export_store *st)
{
	return st->bytes;
}

const char *export_store_error(const struct export_store *st)
{
	return st->error;
}

int export_file_delete(const struct datastore *ds, const char *path, char *err, size_t errlen)
{
	if (ds->kind == DATASTORE_LOCAL) {
		const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		int dirfd = folder_open(ds->local_path, path, 0, err, errlen);
		if (dirfd == -2)
			return 0;
		if (dirfd < 0)
			return -1;
		stale_remove(dirfd, name);
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
			snprintf(err, errlen, "the export file cannot be removed from datastore %s: %s",
			    ds->name, strerror(errno));
			close(dirfd);
			return -1;
		}
		close(dirfd);
		return 0;
	}
	struct blob_client *c = blob_client_new(&ds->blob, NULL);
	char berr[256];
	int rc;
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = blob_delete(c, path, berr, sizeof(berr));
	blob_client_free(c);
	if (rc < 0) {
		log_warn("export %s: delete from datastore %s: %s", path, ds->name, berr);
		snprintf(err, errlen, "%s", BLOB_FAILED_SENTENCE);
	}
	return rc;
}
