/*
 * arena.c: bump allocation in chained blocks, plus a cleanup list.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define ARENA_BLOCK 65536u
#define ARENA_ALIGN 16u
/* Standard blocks kept for the next request after a reset (a busy page
 * needs a few; malloc and free of them per request showed in profiles). */
#define ARENA_SPARE_MAX 16u

struct arena_block {
	struct arena_block *next;
	size_t cap;
	size_t used;
	/* data follows, aligned */
	max_align_t data[];
};

struct arena_cleanup {
	struct arena_cleanup *next;
	arena_cleanup_fn fn;
	void *ptr;
};

struct arena {
	struct arena_block *first;   /* kept across resets */
	struct arena_block *cur;     /* bump allocations come from here */
	struct arena_block *extra;   /* every other block, freed at reset */
	struct arena_block *spare;   /* standard blocks kept by reset */
	unsigned nspare;
	struct arena_cleanup *cleanups;
	size_t used;
};

static struct arena_block *block_new(size_t cap)
{
	struct arena_block *b;

	if (cap > SIZE_MAX - sizeof(*b))
		return NULL;
	b = malloc(sizeof(*b) + cap);
	if (b == NULL)
		return NULL;
	b->next = NULL;
	b->cap = cap;
	b->used = 0;
	return b;
}

struct arena *arena_new(void)
{
	struct arena *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->first = block_new(ARENA_BLOCK);
	if (a->first == NULL) {
		free(a);
		return NULL;
	}
	a->cur = a->first;
	return a;
}

static void run_cleanups(struct arena *a)
{
	/* Newest first: later resources may depend on earlier ones. */
	while (a->cleanups != NULL) {
		struct arena_cleanup *c = a->cleanups;
		a->cleanups = c->next;
		c->fn(c->ptr);
	}
}

void arena_reset(struct arena *a)
{
	if (a == NULL)
		return;
	run_cleanups(a);
	while (a->extra != NULL) {
		struct arena_block *b = a->extra;
		a->extra = b->next;
		if (b->cap == ARENA_BLOCK && a->nspare < ARENA_SPARE_MAX) {
			b->next = a->spare;
			a->spare = b;
			a->nspare++;
		} else {
			free(b);
		}
	}
	a->cur = a->first;
	a->first->used = 0;
	a->used = 0;
}

void arena_free(struct arena *a)
{
	if (a == NULL)
		return;
	arena_reset(a);
	while (a->spare != NULL) {
		struct arena_block *b = a->spare;
		a->spare = b->next;
		free(b);
	}
	free(a->first);
	free(a);
}

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_block *b = a->cur;
	size_t need;
	void *p;

	if (size == 0)
		size = 1;
	if (size > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (need > b->cap - b->used) {
		/* A large request gets a block of its own and leaves the
		 * current block in use; a small one starts a new current block. */
		int large = need > ARENA_BLOCK / 4;
		struct arena_block *nb;
		if (!large && a->spare != NULL) {
			nb = a->spare;
			a->spare = nb->next;
			a->nspare--;
			nb->used = 0;
		} else {
			nb = block_new(large ? need : ARENA_BLOCK);
		}
		if (nb == NULL)
			return NULL;
		nb->next = a->extra;
		a->extra = nb;
		if (!large)
			a->cur = nb;
		b = nb;
	}
	p = (char *)b->data + b->used;
	b->used += need;
	a->used += need;
	memset(p, 0, size);
	return p;
}

void *arena_calloc(struct arena *a, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	return arena_alloc(a, n * size);
}

void *arena_memdup(struct arena *a, const void *p, size_t n)
{
	void *d = arena_alloc(a, n);

	if (d != NULL && n > 0)
		memcpy(d, p, n);
	return d;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *d;

	if (s == NULL || n == SIZE_MAX)
		return NULL;
	d = arena_alloc(a, n + 1);
	if (d == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *arena_strdup(struct arena *a, const char *s)
{
	if (s == NULL)
		return NULL;
	return arena_strndup(a, s, strlen(s));
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	char small[256];
	va_list ap2;
	int n;
	char *d;

	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	d = arena_alloc(a, (size_t)n + 1);
	if (d == NULL)
		return NULL;
	if ((size_t)n < sizeof(small))
		memcpy(d, small, (size_t)n + 1);
	else
		vsnprintf(d, (size_t)n + 1, fmt, ap);
	return d;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *d;

	va_start(ap, fmt);
	d = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return d;
}

int arena_cleanup_add(struct arena *a, arena_cleanup_fn fn, void *ptr)
{
	struct arena_cleanup *c = arena_alloc(a, sizeof(*c));

	if (c == NULL) {
		fn(ptr);
		return -1;
	}
	c->fn = fn;
	c->ptr = ptr;
	c->next = a->cleanups;
	a->cleanups = c;
	return 0;
}

size_t arena_used(const struct arena *a)
{
	return a->used;
}
