/*
 * datastore.c: local directories and Azure Blob containers behind one small
 * interface, with the path rules that keep every access inside its root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "datastore.h"
#include "log.h"

#define PATH_MAX_REL 1024

enum datastore_kind datastore_kind_from_name(const char *name)
{
	return strcmp(name, "azureblob") == 0 ? DATASTORE_AZUREBLOB : DATASTORE_LOCAL;
}

int datastore_path_check(const char *path, char *err, size_t errlen)
{
	size_t len;
	const char *seg;

	if (path == NULL) {
		snprintf(err, errlen, "no path given");
		return -1;
	}
	len = strlen(path);
	if (len > PATH_MAX_REL) {
		snprintf(err, errlen, "the path is longer than %d bytes", PATH_MAX_REL);
		return -1;
	}
	if (path[0] == '/') {
		snprintf(err, errlen, "the path must be relative to the datastore (no leading '/')");
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "the path may not contain control characters");
			return -1;
		}
		if (*p == '\\') {
			snprintf(err, errlen, "the path may not contain backslashes; use '/'");
			return -1;
		}
	}
	/* Segment by segment: no "." or ".." and no empty segments inside. */
	seg = path;
	while (*seg != '\0') {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
			snprintf(err, errlen, "the path may not contain '.' or '..' segments");
			return -1;
		}
		if (n == 0 && end != NULL) {
			snprintf(err, errlen, "the path may not contain empty segments ('//')");
			return -1;
		}
		if (end == NULL)
			break;
		seg = end + 1;
	}
	return 0;
}

int datastore_path_split(const char *in, char *out, size_t outlen, int *recursive)
{
	size_t n = strlen(in);

	*recursive = 0;
	if (n >= 3 && strcmp(in + n - 3, "/**") == 0) {
		*recursive = 1;
		n -= 3;
	} else if (n == 2 && strcmp(in, "**") == 0) {
		*recursive = 1;
		n = 0;
	}
	while (n > 0 && in[n - 1] == '/')
		n--;
	if (n >= outlen)
		return -1;
	memcpy(out, in, n);
	out[n] = '\0';
	return 0;
}

int datastore_local_check(const char *dir, const char *roots, char *resolved,
    char *err, size_t errlen)
{
	char real[PATH_MAX], root[PATH_MAX];
	const char *r = roots;
	struct stat st;

	if (dir == NULL || dir[0] != '/') {
		snprintf(err, errlen, "a local datastore must be an absolute directory path");
		return -1;
	}
	if (strlen(dir) >= PATH_MAX) {
		snprintf(err, errlen, "the directory path is too long");
		return -1;
	}
	if (realpath(dir, real) == NULL || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not an existing directory", dir);
		return -1;
	}
	while (r != NULL && *r != '\0') {
		const char *end = strchr(r, ':');
		size_t n = end ? (size_t)(end - r) : strlen(r);
		char want[PATH_MAX];
		if (n > 0 && n < sizeof(want)) {
			memcpy(want, r, n);
			want[n] = '\0';
			if (realpath(want, root) != NULL) {
				size_t rl = strlen(root);
				if (strncmp(real, root, rl) == 0 &&
				    (real[rl] == '\0' || real[rl] == '/' || (rl == 1 && root[0] == '/'))) {
					strcpy(resolved, real);
					return 0;
				}
			}
		}
		r = end ? end + 1 : NULL;
	}
	snprintf(err, errlen, "%s is not under an allowed datastore root (datastore_roots in labeld.conf)", dir);
	return -1;
}

/* openat2 beneath dirfd: symlinks may be followed only while they stay
 * inside; "/proc/self/..."-style magic links never. */
static int open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, dirfd, path[0] ? path : ".", &how, sizeof(how));
}

int datastore_local_open(const char *root, const char *path, char *err, size_t errlen)
{
	int rootfd, fd;

	if (datastore_path_check(path, err, errlen) < 0)
		return -1;
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		snprintf(err, errlen, "the datastore directory cannot be opened: %s", strerror(errno));
		return -1;
	}
	fd = open_beneath(rootfd, path, O_RDONLY | O_NOCTTY);
	if (fd < 0)
		snprintf(err, errlen, errno == EXDEV ? "the path leads outside the datastore" :
		    "cannot open %s: %s", path, strerror(errno));
	close(rootfd);
	return fd;
}

int datastore_local_plain(const char *root, const char *path)
{
	struct open_how how;
	int rootfd, fd;

	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return 0;
	memset(&how, 0, sizeof(how));
	how.flags = O_PATH | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	close(rootfd);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

struct walk {
	int rootfd;
	datastore_file_fn fn;
	datastore_tick_fn tick;
	void *ctx;
	int recursive;
	char path[PATH_MAX_REL + 256];
	char *err;
	size_t errlen;
};

/* Walk the directory open on dirfd, whose path relative to the root is
 * w->path[0..plen).  Takes ownership of dirfd.  0, 1 (stopped) or -1. */
static int walk_dir(struct walk *w, int fd, size_t plen, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;
	int rc = 0;

	if (d == NULL) {
		close(fd);
		snprintf(w->err, w->errlen, "cannot read folder '%s': %s", w->path, strerror(errno));
		return -1;
	}
	while (rc == 0 && (errno = 0, e = readdir(d)) != NULL) {
		size_t nlen = strlen(e->d_name);
		unsigned char type = e->d_type;
		struct stat st;
		if (w->tick != NULL && w->tick(w->ctx) != 0) {
			rc = 1;
			break;
		}
		if (e->d_name[0] == '.')
			continue;
		if (plen + 1 + nlen >= sizeof(w->path))
			continue;   /* longer than any path we accept */
		size_t at = plen;
		if (plen > 0)
			w->path[at++] = '/';
		memcpy(w->path + at, e->d_name, nlen + 1);
		if (type == DT_UNKNOWN || type == DT_LNK) {
			/* Resolve through openat2 so a symlink leaving the root
			 * is refused, not followed. */
			int pfd = open_beneath(w->rootfd, w->path, O_PATH);
			if (pfd < 0 || fstat(pfd, &st) < 0) {
				if (pfd >= 0)
					close(pfd);
				w->path[plen] = '\0';
				continue;
			}
			close(pfd);
			if (S_ISREG(st.st_mode))
				type = DT_REG;
			else if (S_ISDIR(st.st_mode) && e->d_type != DT_LNK)
				type = DT_DIR;   /* directory symlinks are not walked: no loops */
			else
				type = DT_UNKNOWN;
		} else if (type == DT_REG) {
			if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				w->path[plen] = '\0';
				continue;
			}
		}
		if (type == DT_REG) {
			if (w->fn(w->ctx, w->path, (uint64_t)st.st_size) != 0)
				rc = 1;
		} else if (type == DT_DIR && w->recursive && depth < 64) {
			int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				rc = walk_dir(w, sub, strlen(w->path), depth + 1);
		}
		w->path[plen] = '\0';
	}
	if (rc == 0 && errno != 0) {
		snprintf(w->err, w->errlen, "cannot read folder '%s': %s", w->path, strerror(errno));
		rc = -1;
	}
	closedir(d);
	return rc;
}

struct blob_walk {
	datastore_file_fn fn;
	datastore_tick_fn tick;
	void *ctx;
};

static int blob_walk_cb(void *ctx, const char *name, uint64_t size, int is_prefix)
{
	struct blob_walk *bw = ctx;

	if (bw->tick != NULL && bw->tick(bw->ctx) != 0)
		return 1;
	if (is_prefix)
		return 0;
	return bw->fn(bw->ctx, name, size);
}

static int blob_walk_page(void *ctx)
{
	struct blob_walk *bw = ctx;

	return bw->tick(bw->ctx);
}

/* "a/b" -> "a/b/" for use as a blob prefix ("" stays ""). */
static int blob_prefix(const char *path, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s%s", path, path[0] ? "/" : "");
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int datastore_walk(const struct datastore *ds, const char *path, int recursive,
    datastore_file_fn fn, void *ctx, char *err, size_t errlen)
{
	return datastore_walk_ticking(ds, path, recursive, fn, NULL, ctx, err, errlen);
}

int datastore_walk_ticking(const struct datastore *ds, const char *path, int recursive,
    datastore_file_fn fn, datastore_tick_fn tick, void *ctx, char *err, size_t errlen)
{
	if (datastore_path_check(path, err, errlen) < 0)
		return -1;
	if (ds->kind == DATASTORE_AZUREBLOB) {
		struct blob_walk bw = { fn, tick, ctx };
		struct blob_client *c = blob_client_new(&ds->blob, NULL);
		char prefix[PATH_MAX_REL + 2];
		int rc;
		if (c == NULL || blob_prefix(path, prefix, sizeof(prefix)) < 0) {
			blob_client_free(c);
			snprintf(err, errlen, "out of memory");
			return DATASTORE_UNREACHABLE;
		}
		if (tick != NULL)
			blob_client_on_page(c, blob_walk_page, &bw);
		rc = blob_list(c, prefix, recursive ? NULL : "/", 0, blob_walk_cb, &bw, err, errlen);
		blob_client_free(c);
		return rc < 0 ? DATASTORE_UNREACHABLE : 0;
	}
	struct walk *w = calloc(1, sizeof(*w));
	int fd, rc;
	if (w == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w->rootfd = open(ds->local_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->rootfd < 0) {
		snprintf(err, errlen, "the datastore directory cannot be opened: %s", strerror(errno));
		free(w);
		return -1;
	}
	fd = open_beneath(w->rootfd, path, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		snprintf(err, errlen, errno == EXDEV ? "the folder leads outside the datastore" :
		    "the folder '%s' cannot be opened: %s", path, strerror(errno));
		close(w->rootfd);
		free(w);
		return -1;
	}
	w->fn = fn;
	w->tick = tick;
	w->ctx = ctx;
	w->recursive = recursive;
	w->err = err;
	w->errlen = errlen;
	snprintf(w->path, sizeof(w->path), "%s", path);
	rc = walk_dir(w, fd, strlen(w->path), 0);
	close(w->rootfd);
	free(w);
	return rc < 0 ? -1 : 0;
}

struct blob_folders {
	datastore_dir_fn fn;
	void *ctx;
};

static int blob_folder_cb(void *ctx, const char *name, uint64_t size, int is_prefix)
{
	struct blob_folders *bf = ctx;
	char path[PATH_MAX_REL + 2], err[160];
	size_t n = strlen(name);

	(void)size;
	if (!is_prefix || n == 0 || n >= sizeof(path))
		return 0;
	memcpy(path, name, n - 1);   /* without the trailing '/' */
	path[n - 1] = '\0';
	/* A virtual folder whose name breaks the path rules could never be
	 * opened: not offered ("a/../" gives "a/..", "a//" gives "a/"). */
	if (n >= 2 && name[n - 2] == '/')
		return 0;
	if (datastore_path_check(path, err, sizeof(err)) < 0)
		return 0;
	return bf->fn(bf->ctx, path);
}

int datastore_folders(const struct datastore *ds, const char *path,
    datastore_dir_fn fn, void *ctx, char *err, size_t errlen)
{
	if (datastore_path_check(path, err, errlen) < 0)
		return -1;
	if (ds->kind == DATASTORE_AZUREBLOB) {
		struct blob_folders bf = { fn, ctx };
		struct blob_client *c = blob_client_new(&ds->blob, NULL);
		char prefix[PATH_MAX_REL + 2];
		int rc;
		if (c == NULL || blob_prefix(path, prefix, sizeof(prefix)) < 0) {
			blob_client_free(c);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		rc = blob_list(c, prefix, "/", 0, blob_folder_cb, &bf, err, errlen);
		blob_client_free(c);
		return rc < 0 ? -1 : 0;
	}
	int rootfd = open(ds->local_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;
	DIR *d;
	struct dirent *e;
	char sub[PATH_MAX_REL + 256];
	int rc = 0;
	if (rootfd < 0) {
		snprintf(err, errlen, "the datastore directory cannot be opened: %s", strerror(errno));
		return -1;
	}
	fd = open_beneath(rootfd, path, O_RDONLY | O_DIRECTORY);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		snprintf(err, errlen, errno == EXDEV ? "the folder leads outside the datastore" :
		    "the folder '%s' cannot be opened: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		close(rootfd);
		return -1;
	}
	while (rc == 0 && (errno = 0, e = readdir(d)) != NULL) {
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "/" : "", e->d_name) >= (int)sizeof(sub))
			continue;
		rc = fn(ctx, sub);
	}
	if (rc == 0 && errno != 0) {
		snprintf(err, errlen, "cannot read folder '%s': %s", path, strerror(errno));
		rc = -1;
	}
	closedir(d);
	close(rootfd);
	return rc < 0 ? -1 : 0;
}

/* image_reader.read over r->fd (opened beneath the root when not yet). */
static int reader_read_fd(struct datastore_reader *r, uint64_t off, unsigned char *buf,
    size_t len, size_t *got, char *err, size_t errlen)
{
	ssize_t n;

	if (r->fd < 0) {
		r->fd = datastore_local_open(r->ds->local_path, r->path, err, errlen);
		if (r->fd < 0)
			return -1;
		r->own_fd = 1;
	}
	if (off > (uint64_t)INT64_MAX)
		return 0;
	do
		n = pread(r->fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		snprintf(err, errlen, "cannot read %s: %s", r->path ? r->path : "the file",
		    strerror(errno));
		return -1;
	}
	*got = (size_t)n;
	return 0;
}

/* image_reader.read over a blob: one ranged GET. */
static int reader_read_blob(struct datastore_reader *r, uint64_t off, unsigned char *buf,
    size_t len, size_t *got, char *err, size_t errlen)
{
	unsigned char *data = NULL;
	size_t n = 0;

	if (r->blob == NULL && (r->blob = blob_client_new(&r->ds->blob, NULL)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (blob_get_range(r->blob, r->path, off, len, &data, &n, NULL, err, errlen) < 0)
		return -1;
	if (n > len)
		n = len;
	memcpy(buf, data, n);
	free(data);
	*got = n;
	return 0;
}

static int reader_read(void *ctx, uint64_t off, unsigned char *buf, size_t len,
    size_t *got, char *err, size_t errlen)
{
	struct datastore_reader *r = ctx;

	*got = 0;
	if (len == 0)
		return 0;
	if (r->fd < 0 && r->ds != NULL && r->ds->kind == DATASTORE_AZUREBLOB)
		return reader_read_blob(r, off, buf, len, got, err, errlen);
	return reader_read_fd(r, off, buf, len, got, err, errlen);
}

void datastore_reader_init(struct datastore_reader *r, const struct datastore *ds,
    const char *path)
{
	memset(r, 0, sizeof(*r));
	r->rd.read = reader_read;
	r->rd.ctx = r;
	r->ds = ds;
	r->path = path;
	r->fd = -1;
}

void datastore_reader_fd(struct datastore_reader *r, int fd)
{
	datastore_reader_init(r, NULL, NULL);
	r->fd = fd;
}

void datastore_reader_close(struct datastore_reader *r)
{
	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	blob_client_free(r->blob);
	r->fd = -1;
	r->own_fd = 0;
	r->blob = NULL;
}

int datastore_read_head(const struct datastore *ds, const char *path,
    unsigned char *buf, size_t max, size_t *got, char *err, size_t errlen)
{
	struct datastore_reader r;
	int rc = 0;

	*got = 0;
	datastore_reader_init(&r, ds, path);
	while (*got < max) {
		size_t n = 0;
		rc = reader_read(&r, *got, buf + *got, max - *got, &n, err, errlen);
		if (rc < 0 || n == 0)
			break;
		*got += n;
	}
	datastore_reader_close(&r);
	return rc;
}

/* A local file's read ahead: more is read with pread when its header asks. */
#define HEADS_LOCAL 4096
/* A blob's: one GET that covers a JPEG's usual metadata segments. */
#define HEADS_BLOB 65536
/* With files that are not in the page cache the reads of a few threads
 * overlap, which is most of the time a local batch takes. */
#define HEADS_LOCAL_READERS 4
#define HEADS_BLOB_PARALLEL 16

struct datastore_heads {
	const struct datastore *ds;
	size_t n;
	size_t asked;                    /* bytes asked for per file */
	unsigned char **data;            /* file i's bytes, NULL when not read */
	size_t *len;
	const char **reason;             /* why file i was not read, or NULL */
	char **detail;                   /* blob: what the service said (malloc'd) */
	unsigned char *buf;              /* local: n * asked bytes */
	char (*err)[160];                /* local: the reasons' text */
	/* While reading. */
	const char *const *paths;
	datastore_tick_fn tick;
	void *ctx;
	pthread_t caller;
	int stop;                        /* tick asked to stop (atomic) */
	size_t next;                     /* local: the next index to read (atomic) */
};

/* Ticks only from the calling thread: the caller's state (a job's database
 * connection) is not shared with the readers. */
static void heads_tick(struct datastore_heads *h)
{
	if (h->tick != NULL && pthread_equal(pthread_self(), h->caller) && h->tick(h->ctx) != 0)
		__atomic_store_n(&h->stop, 1, __ATOMIC_RELAXED);
}

static void *heads_local_worker(void *p)
{
	struct datastore_heads *h = p;
	size_t i;

	while (!__atomic_load_n(&h->stop, __ATOMIC_RELAXED) &&
	    (i = __atomic_fetch_add(&h->next, 1, __ATOMIC_RELAXED)) < h->n) {
		unsigned char *at = h->buf + i * h->asked;
		if (datastore_read_head(h->ds, h->paths[i], at, h->asked, &h->len[i],
		    h->err[i], sizeof(h->err[i])) < 0) {
			if (h->err[i][0] == '\0')
				snprintf(h->err[i], sizeof(h->err[i]), "the file could not be read");
			h->reason[i] = h->err[i];
		} else {
			h->data[i] = at;
		}
		heads_tick(h);
	}
	return NULL;
}

/* Read in this thread and HEADS_LOCAL_READERS - 1 more (fewer when threads
 * cannot start).  0, or -1 when out of memory. */
static int heads_local_read(struct datastore_heads *h)
{
	pthread_t t[HEADS_LOCAL_READERS];
	int started = 0;

	h->asked = HEADS_LOCAL;
	h->buf = malloc(h->n * h->asked);
	h->err = calloc(h->n, sizeof(*h->err));
	if (h->buf == NULL || h->err == NULL)
		return -1;
	for (int k = 0; k < HEADS_LOCAL_READERS - 1; k++)
		if (pthread_create(&t[k], NULL, heads_local_worker, h) == 0)
			started++;
	heads_local_worker(h);
	for (int k = 0; k < started; k++)
		pthread_join(t[k], NULL);
	return 0;
}

static void heads_blob_cb(void *ctx, size_t i, const unsigned char *data, size_t len,
    const char *error)
{
	struct datastore_heads *h = ctx;

	if (data != NULL && (h->data[i] = malloc(len ? len : 1)) != NULL) {
		memcpy(h->data[i], data, len);
		h->len[i] = len;
	} else {
		h->reason[i] = "the blob could not be read (see the server log)";
		h->detail[i] = data == NULL && error != NULL ? strdup(error) : NULL;
	}
	/* A batch that must stop still runs to its end: curl's transfers are
	 * not cut short from here. */
	heads_tick(h);
}

/* 0, -1 when out of memory, or DATASTORE_UNREACHABLE with err. */
static int heads_blob_read(struct datastore_heads *h, char *err, size_t errlen)
{
	struct blob_limits lim;

	h->asked = HEADS_BLOB;
	h->detail = calloc(h->n, sizeof(*h->detail));
	if (h->detail == NULL)
		return -1;
	blob_limits_default(&lim);
	err[0] = '\0';
	if (blob_get_heads(&h->ds->blob, &lim, h->paths, h->n, h->asked, HEADS_BLOB_PARALLEL,
	    heads_blob_cb, h, err, errlen) < 0)
		return err[0] == '\0' ? -1 : DATASTORE_UNREACHABLE;
	return 0;
}

int datastore_heads_read(const struct datastore *ds, const char *const *paths, size_t n,
    datastore_tick_fn tick, void *ctx, struct datastore_heads **out, char *err, size_t errlen)
{
	struct datastore_heads *h = calloc(1, sizeof(*h));
	int rc = -1;

	*out = NULL;
	if (h == NULL)
		goto oom;
	h->ds = ds;
	h->n = n;
	h->paths = paths;
	h->tick = tick;
	h->ctx = ctx;
	h->caller = pthread_self();
	h->data = calloc(n, sizeof(*h->data));
	h->len = calloc(n, sizeof(*h->len));
	h->reason = calloc(n, sizeof(*h->reason));
	if (h->data == NULL || h->len == NULL || h->reason == NULL)
		goto oom;
	heads_tick(h);
	if (h->stop)
		rc = 0;
	else
		rc = ds->kind == DATASTORE_AZUREBLOB ? heads_blob_read(h, err, errlen) : heads_local_read(h);
	if (rc == -1)
		goto oom;
	if (rc < 0 || h->stop) {
		datastore_heads_free(h);
		return rc < 0 ? rc : 1;
	}
	*out = h;
	return 0;
oom:
	datastore_heads_free(h);
	snprintf(err, errlen, "out of memory");
	return -1;
}

int datastore_heads_get(const struct datastore_heads *h, size_t i, const unsigned char **data,
    size_t *len, int *whole, const char **reason, const char **detail)
{
	*data = h->data[i];
	*len = h->len[i];
	*whole = h->len[i] < h->asked;
	*reason = h->reason[i];
	*detail = NULL;
	if (*data != NULL)
		return 0;
	if (h->detail != NULL)
		*detail = h->detail[i] != NULL ? h->detail[i] : "no answer";
	if (*reason == NULL)
		*reason = "the file could not be read";
	return -1;
}

void datastore_heads_free(struct datastore_heads *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; h->data != NULL && h->buf == NULL && i < h->n; i++)
		free(h->data[i]);
	for (size_t i = 0; h->detail != NULL && i < h->n; i++)
		free(h->detail[i]);
	free(h->data);
	free(h->len);
	free(h->reason);
	free(h->detail);
	free(h->buf);
	free(h->err);
	free(h);
}

int datastore_local_mkdirs(const char *root, const char *path, char *err, size_t errlen)
{
	char part[PATH_MAX_REL + 1];
	int rootfd;

	if (datastore_path_check(path, err, errlen) < 0)
		return -1;
	if (mkdir(root, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", root, strerror(errno));
		return -1;
	}
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", root, strerror(errno));
		return -1;
	}
	for (const char *p = path; ; p++) {
		if (*p == '/' || *p == '\0') {
			size_t n = (size_t)(p - path);
			if (n > 0) {
				memcpy(part, path, n);
				part[n] = '\0';
				/* The parent must resolve beneath the root; the last
				 * component is created with mkdirat, which never
				 * follows a symlink. */
				char *slash = strrchr(part, '/');
				int parent = slash ? (*slash = '\0', open_beneath(rootfd, part, O_RDONLY | O_DIRECTORY)) :
				    dup(rootfd);
				const char *leaf = slash ? slash + 1 : part;
				if (parent < 0 || (mkdirat(parent, leaf, 0750) < 0 && errno != EEXIST)) {
					snprintf(err, errlen, "cannot create folder %s: %s", path, strerror(errno));
					if (parent >= 0)
						close(parent);
					close(rootfd);
					return -1;
				}
				close(parent);
			}
			if (*p == '\0')
				break;
		}
	}
	close(rootfd);
	return 0;
}

/* ------------------------------------------------------------ uploads */

#define SINK_SUFFIX_MAX 999              /* name-2 .. name-999 */
#define SINK_LOCAL_BUFFER ((size_t)256 << 10)
#define SINK_BLOCKS_MAX 50000u           /* the most blocks a block blob has */
#define BLOB_NAME_MAX 1024               /* the most characters of a blob name */

/* blob_block_size: written before threads start, only read afterwards. */
static size_t sink_block_size = DATASTORE_SINK_BLOCK_DEFAULT;

void datastore_sink_block_size(size_t bytes)
{
	if (bytes == 0)
		bytes = DATASTORE_SINK_BLOCK_DEFAULT;
	if (bytes < DATASTORE_SINK_BLOCK_MIN)
		bytes = DATASTORE_SINK_BLOCK_MIN;
	if (bytes > DATASTORE_SINK_BLOCK_MAX)
		bytes = DATASTORE_SINK_BLOCK_MAX;
	sink_block_size = bytes;
}

struct datastore_sink {
	const struct datastore *ds;
	char folder[PATH_MAX_REL + 1];   /* checked, without a trailing '/' */
	unsigned char *buf;
	size_t buflen;
	/* local */
	int dirfd;                       /* the folder, or -1 */
	int stored;                      /* a file was linked in: the folder is synced at close */
	/* blob */
	struct blob_client *blob;
};

/* Open (creating with mode 0750 where missing) folder beneath root one
 * segment at a time, never following a symlink (O_NOFOLLOW on every
 * segment).  A descriptor, or -1 with a sentence in err. */
static int sink_folder_open(const char *root, const char *folder, char *err, size_t errlen)
{
	char part[PATH_MAX_REL + 1];
	int fd;

	if (mkdir(root, 0750) < 0 && errno != EEXIST) {
		log_error("datastore: cannot create %s: %s", root, strerror(errno));
		snprintf(err, errlen, "the datastore's directory cannot be created (the log says why)");
		return -1;
	}
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		log_error("datastore: cannot open %s: %s", root, strerror(errno));
		snprintf(err, errlen, "the datastore's directory cannot be opened (the log says why)");
		return -1;
	}
	snprintf(part, sizeof(part), "%s", folder);
	for (char *seg = part, *next; *seg != '\0'; seg = next) {
		int sub;
		next = strchr(seg, '/');
		if (next != NULL)
			*next++ = '\0';
		else
			next = seg + strlen(seg);
		if (mkdirat(fd, seg, 0750) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "the folder '%s' cannot be created: %s", folder, strerror(errno));
			close(fd);
			return -1;
		}
		sub = openat(fd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (sub < 0) {
			snprintf(err, errlen, "the folder '%s' cannot be opened: %s", folder,
			    errno == ELOOP || errno == ENOTDIR ?
			    "a part of it is a symlink or a file" : strerror(errno));
			return -1;
		}
		fd = sub;
	}
	return fd;
}

int datastore_sink_open(const struct datastore *ds, const char *folder,
    struct datastore_sink **out, char *err, size_t errlen)
{
	struct datastore_sink *s;
	size_t n;

	*out = NULL;
	if (datastore_path_check(folder, err, errlen) < 0)
		return -1;
	n = strlen(folder);
	while (n > 0 && folder[n - 1] == '/')
		n--;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->ds = ds;
	s->dirfd = -1;
	memcpy(s->folder, folder, n);
	s->folder[n] = '\0';
	s->buflen = ds->kind == DATASTORE_AZUREBLOB ? sink_block_size : SINK_LOCAL_BUFFER;
	s->buf = malloc(s->buflen);
	if (s->buf == NULL) {
		snprintf(err, errlen, "out of memory");
		datastore_sink_close(s);
		return -1;
	}
	if (ds->kind == DATASTORE_AZUREBLOB) {
		/* Nothing is asked of the service yet: the first put finds out
		 * whether it is reachable (a SAS for uploads needs no 'r' or 'l'). */
		s->blob = blob_client_new(&ds->blob, NULL);
		if (s->blob == NULL) {
			snprintf(err, errlen, "out of memory");
			datastore_sink_close(s);
			return -1;
		}
	} else {
		if (ds->local_path == NULL) {
			snprintf(err, errlen, "the datastore has no directory");
			datastore_sink_close(s);
			return -1;
		}
		s->dirfd = sink_folder_open(ds->local_path, s->folder, err, errlen);
		if (s->dirfd < 0) {
			datastore_sink_close(s);
			return -1;
		}
	}
	*out = s;
	return 0;
}

/* name, or "stem-k.ext" for k >= 2 ("name-k" when there is no extension
 * or the name's only dot is its first character), into out.  0 or -1 (too
 * long). */
static int sink_suffixed(const char *name, int k, char *out, size_t outlen)
{
	const char *dot = strrchr(name, '.');
	int n;

	if (k == 1)
		n = snprintf(out, outlen, "%s", name);
	else if (dot == NULL || dot == name)
		n = snprintf(out, outlen, "%s-%d", name, k);
	else
		n = snprintf(out, outlen, "%.*s-%d%s", (int)(dot - name), name, k, dot);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* Read exactly len bytes of fd at off into buf.  0, or -1 (errno set; 0
 * when the file ended early). */
static int read_at(int fd, unsigned char *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

static const char *read_error(void)
{
	return errno ? strerror(errno) : "the file is shorter than its size";
}

/* Copy size bytes of fd into a hidden temporary file of the folder, then
 * give it the first free name of name, name-2, ... with linkat (which never
 * replaces a file), so that no half-written file is ever seen under a name. */
static int sink_put_local(struct datastore_sink *s, int fd, uint64_t size, const char *name,
    char *stored, size_t storedlen, char *err, size_t errlen)
{
	char tmp[NAME_MAX + 1], cand[NAME_MAX + 1];
	unsigned char rnd[4];
	uint64_t off = 0;
	int out = -1, rc = -1, linked = 0, made = 0;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	for (int tries = 0; tries < 8 && out < 0; tries++) {
		if (snprintf(tmp, sizeof(tmp), ".%s.%02x%02x%02x%02x.part", name, rnd[0], rnd[1],
		    rnd[2], (unsigned char)(rnd[3] + tries)) >= (int)sizeof(tmp)) {
			snprintf(err, errlen, "the file name is too long");
			return -1;
		}
		out = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
		if (out < 0 && errno != EEXIST)
			break;
	}
	made = out >= 0;
	if (out < 0) {
		log_error("datastore %s: cannot create %s in %s: %s", s->ds->name, tmp, s->folder,
		    strerror(errno));
		goto fail;
	}
	while (off < size) {
		size_t n = size - off < s->buflen ? (size_t)(size - off) : s->buflen;
		if (read_at(fd, s->buf, n, off) < 0) {
			log_error("datastore %s: reading the upload for %s: %s", s->ds->name, name,
			    read_error());
			snprintf(err, errlen, "the upload could not be read");
			goto out;
		}
		for (size_t w = 0; w < n; ) {
			ssize_t m = write(out, s->buf + w, n - w);
			if (m < 0 && errno == EINTR)
				continue;
			if (m <= 0) {
				log_error("datastore %s: writing %s/%s: %s", s->ds->name, s->folder, tmp,
				    m < 0 ? strerror(errno) : "nothing was written");
				goto fail;
			}
			w += (size_t)m;
		}
		off += n;
	}
	if (fsync(out) < 0 || close(out) < 0) {
		out = -1;
		log_error("datastore %s: writing %s/%s: %s", s->ds->name, s->folder, tmp, strerror(errno));
		goto fail;
	}
	out = -1;
	for (int k = 1; k <= SINK_SUFFIX_MAX && !linked; k++) {
		if (sink_suffixed(name, k, cand, sizeof(cand)) < 0) {
			snprintf(err, errlen, "the file name is too long");
			goto out;
		}
		if (linkat(s->dirfd, tmp, s->dirfd, cand, 0) == 0) {
			linked = 1;
		} else if (errno == EPERM || errno == EOPNOTSUPP || errno == ENOSYS) {
			/* A file system without hard links: a rename that never
			 * replaces does the same. */
			if (renameat2(s->dirfd, tmp, s->dirfd, cand, RENAME_NOREPLACE) == 0) {
				made = 0;
				linked = 1;
			} else if (errno != EEXIST) {
				log_error("datastore %s: naming %s/%s: %s", s->ds->name, s->folder, cand,
				    strerror(errno));
				goto fail;
			}
		} else if (errno != EEXIST) {
			log_error("datastore %s: naming %s/%s: %s", s->ds->name, s->folder, cand,
			    strerror(errno));
			goto fail;
		}
	}
	if (!linked) {
		snprintf(err, errlen, "%s and the names %s-2 to -%d are all taken in the folder", name,
		    name, SINK_SUFFIX_MAX);
		goto out;
	}
	if (strlen(cand) >= storedlen) {
		/* Named, but the caller could not be told which name: undone. */
		unlinkat(s->dirfd, cand, 0);
		snprintf(err, errlen, "the file name is too long");
		goto out;
	}
	memcpy(stored, cand, strlen(cand) + 1);
	s->stored = 1;
	rc = 0;
	goto out;
fail:
	snprintf(err, errlen, "the file could not be stored (the log says why)");
out:
	if (out >= 0)
		close(out);
	if (made && unlinkat(s->dirfd, tmp, 0) < 0 && errno != ENOENT)
		log_warn("datastore %s: the temporary file %s/%s cannot be removed: %s", s->ds->name,
		    s->folder, tmp, strerror(errno));
	return rc;
}

/* Put Block for each block of the file under the first free name of name,
 * name-2, ..., then Put Block List with If-None-Match: *; a name that turns
 * out to be taken costs the blocks sent for it (left uncommitted: the
 * service drops them after a week) and the file is sent again for the next
 * name. */
static int sink_put_blob(struct datastore_sink *s, int fd, uint64_t size, const char *name,
    char *stored, size_t storedlen, char *err, size_t errlen)
{
	enum image_format f = image_format_from_name(name);
	const char *type = f == IMAGE_UNKNOWN ? NULL : image_media_type(f);
	char cand[NAME_MAX + 1], full[BLOB_NAME_MAX + 1];
	uint64_t nblocks64 = (size + s->buflen - 1) / s->buflen;
	int held = 0;   /* the buffer holds the whole file (one block) */

	if (nblocks64 > SINK_BLOCKS_MAX) {
		snprintf(err, errlen, "the file is larger than %u blocks of %zu bytes (blob_block_size)",
		    SINK_BLOCKS_MAX, s->buflen);
		return -1;
	}
	for (int k = 1; k <= SINK_SUFFIX_MAX; k++) {
		uint32_t run, nblocks = 0;
		uint64_t off = 0;
		int n, rc;
		if (sink_suffixed(name, k, cand, sizeof(cand)) < 0 ||
		    (n = snprintf(full, sizeof(full), "%s%s%s", s->folder, s->folder[0] ? "/" : "",
		    cand)) < 0 || (size_t)n >= sizeof(full) || strlen(cand) >= storedlen) {
			snprintf(err, errlen, "the file name is too long");
			return -1;
		}
		if (getrandom(&run, sizeof(run), 0) != (ssize_t)sizeof(run))
			run = (uint32_t)time(NULL) ^ (uint32_t)getpid();
		while (off < size) {
			size_t len = size - off < s->buflen ? (size_t)(size - off) : s->buflen;
			if (!held && read_at(fd, s->buf, len, off) < 0) {
				log_error("datastore %s: reading the upload for %s: %s", s->ds->name, name,
				    read_error());
				snprintf(err, errlen, "the upload could not be read");
				return -1;
			}
			held = len == size;
			if (blob_put_block(s->blob, full, run, nblocks, s->buf, len, err, errlen) < 0)
				return DATASTORE_UNREACHABLE;
			nblocks++;
			off += len;
		}
		rc = blob_put_block_list_new(s->blob, full, run, nblocks, type, err, errlen);
		if (rc < 0)
			return DATASTORE_UNREACHABLE;
		if (rc == 0) {
			memcpy(stored, cand, strlen(cand) + 1);
			return 0;
		}
	}
	snprintf(err, errlen, "%s and the names %s-2 to -%d are all taken in the folder", name, name,
	    SINK_SUFFIX_MAX);
	return -1;
}

int datastore_sink_put(struct datastore_sink *s, int fd, uint64_t size,
    const char *name, char *stored, size_t storedlen, char *err, size_t errlen)
{
	if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL || name[0] == '.' ||
	    datastore_path_check(name, err, errlen) < 0) {
		snprintf(err, errlen, "the file name must be one name without '/' that does not start "
		    "with '.'");
		return -1;
	}
	if (size > (uint64_t)INT64_MAX) {
		snprintf(err, errlen, "the file is too large");
		return -1;
	}
	if (s->ds->kind == DATASTORE_AZUREBLOB)
		return sink_put_blob(s, fd, size, name, stored, storedlen, err, errlen);
	return sink_put_local(s, fd, size, name, stored, storedlen, err, errlen);
}

void datastore_sink_close(struct datastore_sink *s)
{
	if (s == NULL)
		return;
	if (s->dirfd >= 0) {
		/* The names given to the files: on the disk before the caller
		 * says they were stored. */
		if (s->stored && fsync(s->dirfd) < 0)
			log_warn("datastore %s: fsync of the folder %s: %s", s->ds->name, s->folder,
			    strerror(errno));
		close(s->dirfd);
	}
	blob_client_free(s->blob);
	free(s->buf);
	free(s);
}
