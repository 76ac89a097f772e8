/*
 * combine.c: see combine.h.
 */
#include <sched.h>

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

/* Finish jobs[0..n-1] (not the caller's own, self): wake each owner once.
 * Called without the mutex.  Post first, then mark done, and touch the job
 * no more: an owner that sees done returns at once (its job lives on its
 * stack), and an owner woken by the post waits the moment until done. */
static void finish(struct combine_job **jobs, size_t n, struct combine_job *self)
{
	for (size_t i = 0; i < n; i++) {
		if (jobs[i] != self)
			sem_post(&jobs[i]->wake);
		atomic_store_explicit(&jobs[i]->done, 1, memory_order_release);
	}
}

/* After a post that was not a call to lead: the job is done, or will be
 * marked done by the leader's very next store. */
static void await_done(struct combine_job *job)
{
	for (int spin = 0; !job_done(job); spin++)
		if (spin >= 64)
			sched_yield();   /* the leader was preempted in between */
}

void combine_submit(struct combiner *c, struct combine_job *job, void *ctx)
{
	struct combine_job *batch[COMBINE_MAX_BATCH];

	atomic_store_explicit(&job->done, 0, memory_order_relaxed);
	atomic_store_explicit(&job->lead, 0, memory_order_relaxed);
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
			struct combine_job *next = NULL;
			/* Leaving with jobs queued and no leader: wake the owner
			 * of the oldest one to lead. */
			if (led > 0 && c->head != NULL && c->running < c->leaders) {
				next = c->head;
				atomic_store_explicit(&next->lead, 1, memory_order_release);
			}
			pthread_mutex_unlock(&c->mu);
			if (next != NULL)
				sem_post(&next->wake);
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
			finish(batch, n, job);
			pthread_mutex_lock(&c->mu);
			continue;
		}
		pthread_mutex_unlock(&c->mu);
		while (sem_wait(&job->wake) != 0)
			;   /* EINTR */
		if (atomic_exchange_explicit(&job->lead, 0, memory_order_acq_rel) == 0) {
			await_done(job);
			break;
		}
		/* Asked to lead: look again under the mutex. */
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
