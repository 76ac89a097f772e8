/*
 * combine.c: see combine.h.
 */
#include "combine.h"

void combiner_init(struct combiner *c, unsigned leaders, size_t max_batch, unsigned extra,
    combine_run_fn run)
{
	pthread_mutex_init(&c->mu, NULL);
	c->head = NULL;
	c->tail = &c->head;
	c->running = 0;
	c->leaders = leaders > 0 ? leaders : 1;
	c->max_batch = max_batch == 0 ? 1 : max_batch > COMBINE_MAX_BATCH ?
	    COMBINE_MAX_BATCH : max_batch;
	c->extra = extra;
	c->run = run;
	c->batches = c->jobs = 0;
}

/* Unlink the oldest job and every later one of its kind and group, up to
 * max_batch, into jobs[].  Called with the mutex held and a job queued. */
static size_t take_batch(struct combiner *c, struct combine_job **jobs)
{
	struct combine_job *first = c->head, **pp = &c->head;
	size_t n = 0;

	while (*pp != NULL && n < c->max_batch) {
		struct combine_job *j = *pp;
		if (j->kind == first->kind && j->group == first->group) {
			*pp = j->next;
			j->next = NULL;
			jobs[n++] = j;
		} else {
			pp = &j->next;
		}
	}
	/* The tail pointer: the last remaining job's next, or head. */
	c->tail = &c->head;
	while (*c->tail != NULL)
		c->tail = &(*c->tail)->next;
	return n;
}

/* 1 once the job is done (read without the mutex: see below). */
static int job_done(struct combine_job *job)
{
	return atomic_load_explicit(&job->done, memory_order_acquire);
}

/* Finish jobs[0..n-1]: mark each done, then wake its owner (not the
 * caller's own job, self).  Called without the mutex.  The post is the
 * last touch of a job: its owner may return as soon as it has it. */
static void finish(struct combine_job **jobs, size_t n, struct combine_job *self)
{
	for (size_t i = 0; i < n; i++) {
		atomic_store_explicit(&jobs[i]->done, 1, memory_order_release);
		if (jobs[i] != self)
			sem_post(&jobs[i]->wake);
	}
}

/* Take the posts still owed to a job that is done, before its owner
 * returns: `expected` in all, `taken` so far (see combine.h).  A leader
 * that set done may not have posted yet: this waits for that post. */
static void take_owed(struct combine_job *job, unsigned taken, unsigned expected)
{
	for (; taken < expected; taken++)
		while (sem_wait(&job->wake) != 0)
			;   /* EINTR */
}

void combine_submit(struct combiner *c, struct combine_job *job, void *ctx)
{
	struct combine_job *batch[COMBINE_MAX_BATCH];
	unsigned taken = 0;        /* posts this owner has taken */
	int ran_own = 0;           /* its job was in a batch it led: no done post */

	atomic_store_explicit(&job->done, 0, memory_order_relaxed);
	job->lead_posts = 0;
	job->next = NULL;
	sem_init(&job->wake, 0, 0);
	pthread_mutex_lock(&c->mu);
	*c->tail = job;
	c->tail = &job->next;
	for (unsigned led = 0;;) {
		/* The mutex is held here.  A leader whose own job is done runs
		 * up to c->extra more batches while jobs wait (combiner_init). */
		if (job_done(job) && (led == 0 || led > c->extra || c->head == NULL ||
		    c->running >= c->leaders)) {
			unsigned expected;
			/* Leaving with jobs queued and no leader: wake the owner
			 * of the oldest one to lead.  Posted under the mutex, so
			 * that owner, reading lead_posts under it, never leaves
			 * while the post is on its way. */
			if (led > 0 && c->head != NULL && c->running < c->leaders) {
				c->head->lead_posts++;
				sem_post(&c->head->wake);
			}
			expected = job->lead_posts + (ran_own ? 0 : 1);
			pthread_mutex_unlock(&c->mu);
			take_owed(job, taken, expected);
			break;
		}
		if (c->running < c->leaders && c->head != NULL) {
			size_t n = take_batch(c, batch);
			c->running++;
			pthread_mutex_unlock(&c->mu);
			c->run(ctx, batch, n);
			pthread_mutex_lock(&c->mu);
			c->running--;
			c->batches++;
			c->jobs += n;
			led++;
			pthread_mutex_unlock(&c->mu);
			for (size_t i = 0; i < n; i++)
				if (batch[i] == job)
					ran_own = 1;
			finish(batch, n, job);
			pthread_mutex_lock(&c->mu);
			continue;
		}
		pthread_mutex_unlock(&c->mu);
		while (sem_wait(&job->wake) != 0)
			;   /* EINTR */
		taken++;
		if (job_done(job)) {
			/* Done by another leader (an owner sleeps only while
			 * others lead).  Lead posts come only while the job is
			 * queued, before its batch is taken: lead_posts is final,
			 * and visible once done is. */
			take_owed(job, taken, job->lead_posts + (ran_own ? 0 : 1));
			break;
		}
		/* Asked to lead (or the post of a call to lead that came late):
		 * look again under the mutex. */
		pthread_mutex_lock(&c->mu);
	}
	sem_destroy(&job->wake);
}

void combine_stats(struct combiner *c, unsigned long long *batches, unsigned long long *jobs)
{
	pthread_mutex_lock(&c->mu);
	*batches = c->batches;
	*jobs = c->jobs;
	pthread_mutex_unlock(&c->mu);
}
