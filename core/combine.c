/*
 * combine.c: see combine.h.
 */
#include <sched.h>

#include "combine.h"

void combiner_init(struct combiner *c, unsigned leaders, size_t max_batch, combine_run_fn run)
{
	pthread_mutex_init(&c->mu, NULL);
	c->head = NULL;
	c->tail = &c->head;
	c->running = 0;
	c->leaders = leaders > 0 ? leaders : 1;
	c->max_batch = max_batch == 0 ? 1 : max_batch > COMBINE_MAX_BATCH ?
	    COMBINE_MAX_BATCH : max_batch;
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

void combine_submit(struct combiner *c, struct combine_job *job, void *ctx)
{
	struct combine_job *batch[COMBINE_MAX_BATCH];

	atomic_store_explicit(&job->done, 0, memory_order_relaxed);
	job->next = NULL;
	sem_init(&job->wake, 0, 0);
	pthread_mutex_lock(&c->mu);
	*c->tail = job;
	c->tail = &job->next;
	for (;;) {
		/* The mutex is held here. */
		if (job_done(job)) {
			pthread_mutex_unlock(&c->mu);
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
			/* Wake each owner once, and only them.  Post first, then
			 * mark done, and touch the job no more: an owner that sees
			 * done may return (its job lives on its stack) at once. */
			for (size_t i = 0; i < n; i++) {
				if (batch[i] != job)
					sem_post(&batch[i]->wake);
				atomic_store_explicit(&batch[i]->done, 1, memory_order_release);
			}
			/* Hand the lead to the owner of the oldest job still queued. */
			if (c->head != NULL && c->running < c->leaders && c->head != job)
				sem_post(&c->head->wake);
			continue;
		}
		pthread_mutex_unlock(&c->mu);
		while (sem_wait(&job->wake) != 0)
			;   /* EINTR */
		/* Done is set right after the post that woke us, while the
		 * leader still holds the mutex: give it a moment rather than
		 * queueing on that mutex. */
		for (int spin = 0; spin < 20 && !job_done(job); spin++)
			sched_yield();
		if (job_done(job))
			break;
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
