/*
 * arena.h: the per-request memory arena.
 *
 * Everything a request allocates lives in one arena: strings, parsed forms,
 * json-c views, MYSQL_RES handles, temp files.  Memory comes from large
 * blocks; non-memory resources are registered as cleanups.  arena_reset()
 * runs the cleanups (last registered first) and releases the memory in one
 * call, keeping the first block for the next request.
 *
 * An arena is used by one thread at a time.  Allocation functions return
 * NULL when memory is exhausted and leave the arena usable.
 */
#ifndef LABELD_ARENA_H
#define LABELD_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

typedef void (*arena_cleanup_fn)(void *ptr);

/* A new, empty arena; NULL when out of memory.  Free with arena_free(). */
struct arena *arena_new(void);

/* Run every cleanup, release all memory, free the arena.  NULL is allowed. */
void arena_free(struct arena *a);

/* Run every cleanup (newest first) and release all memory but the first
 * block; the arena is then empty and ready for the next request. */
void arena_reset(struct arena *a);

/* size bytes aligned for any type, zero-filled; NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t size);

/* n * size bytes, zero-filled, with an overflow check. */
void *arena_calloc(struct arena *a, size_t n, size_t size);

/* Copies (NUL-terminated); NULL when out of memory or s is NULL. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void *arena_memdup(struct arena *a, const void *p, size_t n);

/* printf into the arena; NULL when out of memory. */
char *arena_printf(struct arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Register fn(ptr) to run at reset/free.  Returns 0, or -1 when out of
 * memory, in which case fn(ptr) has ALREADY been called so the resource is
 * never leaked. */
int arena_cleanup_add(struct arena *a, arena_cleanup_fn fn, void *ptr);

/* Bytes handed out since the last reset (for tests and the request log). */
size_t arena_used(const struct arena *a);

#endif
