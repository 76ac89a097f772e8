/*
 * project_cache.c: see project_cache.h.  A table of PROJECT_CACHE_SLOTS
 * entries under one mutex; a lookup copies its entry into the request's
 * arena while holding it (a few hundred bytes), so an entry can be replaced
 * at any time without reference counts.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "project_cache.h"
#include "queue.h"

#define PROJECT_CACHE_SLOTS 256

/* One entry: the struct, then the labels, then every string, in one
 * allocation. */
struct entry {
	struct project_meta m;
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry *slots[PROJECT_CACHE_SLOTS];

static size_t slot_of(long long id)
{
	return (size_t)((unsigned long long)id % PROJECT_CACHE_SLOTS);
}

/* Copy s to *p and move *p past it. */
static const char *put_str(char **p, const char *s)
{
	size_t n = strlen(s) + 1;
	char *out = *p;

	memcpy(out, s, n);
	*p += n;
	return out;
}

/* A malloc'd entry holding a copy of *m, or NULL. */
static struct entry *entry_new(const struct project_meta *m)
{
	size_t size = sizeof(struct entry) + m->nlabels * sizeof(struct queue_label);
	struct entry *e;
	char *p;

	size += strlen(m->name) + strlen(m->task) + strlen(m->instructions_url) + 3;
	for (size_t i = 0; i < m->nlabels; i++)
		size += strlen(m->labels[i].name) + 1;
	e = malloc(size);
	if (e == NULL)
		return NULL;
	e->m = *m;
	e->m.labels = (struct queue_label *)(e + 1);
	p = (char *)(e->m.labels + m->nlabels);
	e->m.name = put_str(&p, m->name);
	e->m.task = put_str(&p, m->task);
	e->m.instructions_url = put_str(&p, m->instructions_url);
	for (size_t i = 0; i < m->nlabels; i++) {
		e->m.labels[i].id = m->labels[i].id;
		e->m.labels[i].name = put_str(&p, m->labels[i].name);
	}
	return e;
}

/* Copy an entry's contents into the arena.  0, or -1. */
static int entry_copy(struct arena *a, const struct entry *e, struct project_meta *out)
{
	*out = e->m;
	out->name = arena_strdup(a, e->m.name);
	out->task = arena_strdup(a, e->m.task);
	out->instructions_url = arena_strdup(a, e->m.instructions_url);
	out->labels = arena_calloc(a, e->m.nlabels + 1, sizeof(*out->labels));
	if (out->name == NULL || out->task == NULL || out->instructions_url == NULL ||
	    out->labels == NULL)
		return -1;
	for (size_t i = 0; i < e->m.nlabels; i++) {
		out->labels[i].id = e->m.labels[i].id;
		out->labels[i].name = arena_strdup(a, e->m.labels[i].name);
		if (out->labels[i].name == NULL)
			return -1;
	}
	return 0;
}

int project_cache_get(struct arena *a, long long id, long long version,
    struct project_meta *out)
{
	const struct entry *e;
	int rc = 0;

	pthread_mutex_lock(&cache_mu);
	e = slots[slot_of(id)];
	if (e != NULL && e->m.id == id && e->m.version == version)
		rc = entry_copy(a, e, out) < 0 ? -1 : 1;
	pthread_mutex_unlock(&cache_mu);
	return rc;
}

void project_cache_put(const struct project_meta *m)
{
	struct entry *e = entry_new(m), *old;
	size_t s = slot_of(m->id);

	if (e == NULL)
		return;
	pthread_mutex_lock(&cache_mu);
	old = slots[s];
	if (old != NULL && old->m.id == m->id && old->m.version > m->version) {
		/* Another request already stored a newer copy. */
		pthread_mutex_unlock(&cache_mu);
		free(e);
		return;
	}
	slots[s] = e;
	pthread_mutex_unlock(&cache_mu);
	free(old);
}

void project_cache_clear(void)
{
	pthread_mutex_lock(&cache_mu);
	for (size_t i = 0; i < PROJECT_CACHE_SLOTS; i++) {
		free(slots[i]);
		slots[i] = NULL;
	}
	pthread_mutex_unlock(&cache_mu);
}
