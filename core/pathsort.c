/*
 * pathsort.c: an external merge sort of paths (see pathsort.h).
 *
 * Added paths go into one chunk (their bytes, NUL-terminated, and an offset
 * per path).  A full chunk is sorted and written to the temporary file as a
 * run of NUL-terminated paths, without duplicates.  Reading merges the runs
 * through a binary heap of cursors, each reading its run through a small
 * buffer with pread.  Without a run the chunk is sorted and read in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pathsort.h"

/* Read buffers of all cursors together, and the bounds of one. */
#define MERGE_BUDGET (2u << 20)
#define CURSOR_MIN 4096u
#define CURSOR_MAX 65536u
#define WRITE_BUF 65536u

struct run {
	off_t start, end;
};

struct cursor {
	off_t pos, end;       /* what is left of the run in the file */
	char *buf;
	size_t cap, len, at;  /* buf[at..] starts with the current path */
};

struct pathsort {
	char *tmp_dir;
	size_t chunk_cap;     /* bytes of paths per chunk */
	size_t off_max;       /* paths per chunk */
	char *chunk;
	size_t used;
	uint32_t *off;
	size_t n, off_cap;
	char *wbuf;
	size_t wlen;
	int fd;               /* the temporary file, -1 until the first run */
	off_t fsize;
	struct run *runs;
	size_t nruns, runs_cap;
	int finished;
	/* reading: in memory */
	size_t mi;
	const char *prev;
	/* reading: merging */
	struct cursor *cur;
	size_t *heap, nheap;
	char *last;
	size_t last_cap;
	int have_last;
	unsigned long long added, dropped;
};

struct pathsort *pathsort_new(const char *tmp_dir, size_t mem_bytes)
{
	struct pathsort *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if (mem_bytes < 65536)
		mem_bytes = 65536;
	/* Three quarters for the paths, a quarter for their offsets. */
	s->chunk_cap = mem_bytes / 4 * 3;
	s->off_max = mem_bytes / 4 / sizeof(uint32_t);
	s->fd = -1;
	s->tmp_dir = strdup(tmp_dir != NULL && tmp_dir[0] != '\0' ? tmp_dir : "/tmp");
	if (s->tmp_dir == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

static int path_cmp(const void *a, const void *b, void *chunk)
{
	return strcmp((const char *)chunk + *(const uint32_t *)a, (const char *)chunk + *(const uint32_t *)b);
}

/* An unnamed file in tmp_dir (or a named one, unlinked at once, where the
 * file system has no O_TMPFILE).  0 or -1 with err. */
static int tmp_open(struct pathsort *s, char *err, size_t errlen)
{
	s->fd = open(s->tmp_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->fd < 0) {
		char name[4096];
		snprintf(name, sizeof(name), "%s/labeld-paths-XXXXXX", s->tmp_dir);
		s->fd = mkostemp(name, O_CLOEXEC);
		if (s->fd >= 0)
			unlink(name);
	}
	if (s->fd < 0) {
		snprintf(err, errlen, "cannot create a temporary file in %s: %s", s->tmp_dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_all(struct pathsort *s, const char *p, size_t n, char *err, size_t errlen)
{
	while (n > 0) {
		ssize_t w = write(s->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "cannot write the temporary file in %s: %s", s->tmp_dir,
			    w < 0 ? strerror(errno) : "nothing written");
			return -1;
		}
		p += w;
		n -= (size_t)w;
		s->fsize += w;
	}
	return 0;
}

static int out(struct pathsort *s, const char *p, size_t n, char *err, size_t errlen)
{
	if (s->wlen + n > WRITE_BUF) {
		if (write_all(s, s->wbuf, s->wlen, err, errlen) < 0)
			return -1;
		s->wlen = 0;
	}
	if (n > WRITE_BUF)
		return write_all(s, p, n, err, errlen);
	memcpy(s->wbuf + s->wlen, p, n);
	s->wlen += n;
	return 0;
}

/* Sort the chunk and write it as the next run; the chunk is then empty.
 * 0 or -1 with err. */
static int run_write(struct pathsort *s, char *err, size_t errlen)
{
	const char *prev = NULL;

	if (s->fd < 0 && tmp_open(s, err, errlen) < 0)
		return -1;
	if (s->wbuf == NULL && (s->wbuf = malloc(WRITE_BUF)) == NULL)
		goto oom;
	if (s->nruns == s->runs_cap) {
		size_t cap = s->runs_cap ? s->runs_cap * 2 : 16;
		struct run *r = realloc(s->runs, cap * sizeof(*r));
		if (r == NULL)
			goto oom;
		s->runs = r;
		s->runs_cap = cap;
	}
	qsort_r(s->off, s->n, sizeof(*s->off), path_cmp, s->chunk);
	s->runs[s->nruns].start = s->fsize;
	s->wlen = 0;
	for (size_t i = 0; i < s->n; i++) {
		const char *p = s->chunk + s->off[i];
		if (prev != NULL && strcmp(prev, p) == 0) {
			s->dropped++;
			continue;
		}
		if (out(s, p, strlen(p) + 1, err, errlen) < 0)
			return -1;
		prev = p;
	}
	if (write_all(s, s->wbuf, s->wlen, err, errlen) < 0)
		return -1;
	s->runs[s->nruns++].end = s->fsize;
	s->n = 0;
	s->used = 0;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

int pathsort_add(struct pathsort *s, const char *path, char *err, size_t errlen)
{
	size_t len = strlen(path) + 1;

	if (s->finished) {
		snprintf(err, errlen, "pathsort_add after pathsort_finish");
		return -1;
	}
	if (s->n > 0 && (s->used + len > s->chunk_cap || s->n == s->off_max) &&
	    run_write(s, err, errlen) < 0)
		return -1;
	if (s->chunk == NULL || len > s->chunk_cap) {
		/* The first path, or one longer than a whole chunk (the chunk
		 * is empty then): room for it. */
		size_t cap = len > s->chunk_cap ? len : s->chunk_cap;
		char *c = realloc(s->chunk, cap);
		if (c == NULL)
			goto oom;
		s->chunk = c;
		s->chunk_cap = cap;
	}
	if (s->n == s->off_cap) {
		size_t cap = s->off_cap ? s->off_cap * 2 : 1024;
		uint32_t *o;
		if (cap > s->off_max)
			cap = s->off_max;
		o = realloc(s->off, cap * sizeof(*o));
		if (o == NULL)
			goto oom;
		s->off = o;
		s->off_cap = cap;
	}
	memcpy(s->chunk + s->used, path, len);
	s->off[s->n++] = (uint32_t)s->used;
	s->used += len;
	s->added++;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* Make c->buf[c->at..] hold a whole path.  1, 0 when the run has ended,
 * -1 with err. */
static int cursor_load(struct pathsort *s, struct cursor *c, char *err, size_t errlen)
{
	for (;;) {
		if (c->at < c->len && memchr(c->buf + c->at, '\0', c->len - c->at) != NULL)
			return 1;
		if (c->pos >= c->end) {
			if (c->at < c->len)
				break;
			return 0;
		}
		memmove(c->buf, c->buf + c->at, c->len - c->at);
		c->len -= c->at;
		c->at = 0;
		if (c->len == c->cap) {
			char *b = realloc(c->buf, c->cap * 2);
			if (b == NULL) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			c->buf = b;
			c->cap *= 2;
		}
		size_t want = c->cap - c->len;
		if ((off_t)want > c->end - c->pos)
			want = (size_t)(c->end - c->pos);
		ssize_t r = pread(s->fd, c->buf + c->len, want, c->pos);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "cannot read the temporary file in %s: %s", s->tmp_dir,
			    r < 0 ? strerror(errno) : "it ended early");
			return -1;
		}
		c->len += (size_t)r;
		c->pos += r;
	}
	snprintf(err, errlen, "the temporary file in %s ends inside a path", s->tmp_dir);
	return -1;
}

static int heap_less(const struct pathsort *s, size_t a, size_t b)
{
	const struct cursor *x = &s->cur[s->heap[a]], *y = &s->cur[s->heap[b]];

	return strcmp(x->buf + x->at, y->buf + y->at) < 0;
}

static void heap_down(struct pathsort *s, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->nheap && heap_less(s, l, m))
			m = l;
		if (r < s->nheap && heap_less(s, r, m))
			m = r;
		if (m == i)
			return;
		size_t t = s->heap[i];
		s->heap[i] = s->heap[m];
		s->heap[m] = t;
		i = m;
	}
}

int pathsort_finish(struct pathsort *s, char *err, size_t errlen)
{
	size_t per;

	if (s->finished)
		return 0;
	s->finished = 1;
	if (s->fd < 0) {
		if (s->n > 0)   /* nothing added: no array to sort */
			qsort_r(s->off, s->n, sizeof(*s->off), path_cmp, s->chunk);
		return 0;
	}
	if (s->n > 0 && run_write(s, err, errlen) < 0)
		return -1;
	free(s->chunk);
	free(s->off);
	free(s->wbuf);
	s->chunk = NULL;
	s->off = NULL;
	s->wbuf = NULL;
	s->n = 0;
	per = MERGE_BUDGET / s->nruns;
	per = per < CURSOR_MIN ? CURSOR_MIN : per > CURSOR_MAX ? CURSOR_MAX : per;
	s->cur = calloc(s->nruns, sizeof(*s->cur));
	s->heap = calloc(s->nruns, sizeof(*s->heap));
	if (s->cur == NULL || s->heap == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < s->nruns; i++) {
		struct cursor *c = &s->cur[i];
		int rc;
		c->pos = s->runs[i].start;
		c->end = s->runs[i].end;
		c->cap = per;
		c->buf = malloc(per);
		if (c->buf == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		rc = cursor_load(s, c, err, errlen);
		if (rc < 0)
			return -1;
		if (rc > 0)
			s->heap[s->nheap++] = i;
	}
	for (size_t i = s->nheap / 2; i-- > 0;)
		heap_down(s, i);
	return 0;
}

int pathsort_next(struct pathsort *s, const char **path, char *err, size_t errlen)
{
	if (!s->finished && pathsort_finish(s, err, errlen) < 0)
		return -1;
	if (s->cur == NULL) {
		/* Everything was in memory. */
		while (s->mi < s->n) {
			const char *p = s->chunk + s->off[s->mi++];
			if (s->prev != NULL && strcmp(s->prev, p) == 0) {
				s->dropped++;
				continue;
			}
			s->prev = p;
			*path = p;
			return 1;
		}
		return 0;
	}
	while (s->nheap > 0) {
		struct cursor *c = &s->cur[s->heap[0]];
		const char *p = c->buf + c->at;
		size_t len = strlen(p) + 1;
		int dup = s->have_last && strcmp(p, s->last) == 0, rc;
		if (!dup) {
			if (len > s->last_cap) {
				char *l = realloc(s->last, len);
				if (l == NULL) {
					snprintf(err, errlen, "out of memory");
					return -1;
				}
				s->last = l;
				s->last_cap = len;
			}
			memcpy(s->last, p, len);
			s->have_last = 1;
		}
		c->at += len;
		rc = cursor_load(s, c, err, errlen);
		if (rc < 0)
			return -1;
		if (rc == 0)
			s->heap[0] = s->heap[--s->nheap];
		heap_down(s, 0);
		if (dup) {
			s->dropped++;
			continue;
		}
		*path = s->last;
		return 1;
	}
	return 0;
}

unsigned long long pathsort_added(const struct pathsort *s)
{
	return s->added;
}

unsigned long long pathsort_dropped(const struct pathsort *s)
{
	return s->dropped;
}

size_t pathsort_runs(const struct pathsort *s)
{
	return s->nruns;
}

void pathsort_free(struct pathsort *s)
{
	if (s == NULL)
		return;
	if (s->cur != NULL)
		for (size_t i = 0; i < s->nruns; i++)
			free(s->cur[i].buf);
	free(s->cur);
	free(s->heap);
	free(s->runs);
	free(s->chunk);
	free(s->off);
	free(s->wbuf);
	free(s->last);
	free(s->tmp_dir);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}
