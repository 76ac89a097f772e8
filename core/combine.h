/*
 * combine.h: batching of small database transactions by the threads that
 * wait for them ("flat combining").  A worker that has a job (a lease to
 * take, an answer to store) queues it; while fewer than `leaders` batches
 * run, a waiting worker becomes a leader, takes every queued job of the
 * same group as the oldest one (up to `max_batch`) and runs them in one
 * transaction on its own database connection; everyone else sleeps until
 * their job is done.  Under load the jobs that queue up while a batch runs
 * form the next batch, so the per-statement cost of the database is paid
 * once per batch instead of once per request; with a single request in
 * flight a batch is just that request and nothing waits.
 *
 * The leader writes a job's results into the job (and into the job owner's
 * arena: its owner is asleep until done is set, under the mutex).  Each
 * owner sleeps on its own semaphore and is woken once, when its job is done
 * (or when it should lead the next batch): no thundering herd.
 *
 * The job, its semaphore with it, lives on its owner's stack, so no post
 * may reach it after the owner returned.  An owner returns only once it
 * has taken every post it is owed: one when another leader finished its
 * job (done is set first, then the post), and one for each time it was
 * asked to lead (posted under the mutex and counted in lead_posts).
 */
#ifndef LABELD_COMBINE_H
#define LABELD_COMBINE_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stddef.h>

struct arena;
struct db;

/* What a leader runs a batch with: its own connection and request arena. */
struct combine_ctx {
	struct db *db;
	struct arena *arena;
};

struct combine_job {
	int kind;                  /* jobs batch together when kind and group match */
	long long group;
	atomic_int done;           /* set by the leader, read without the mutex */
	unsigned lead_posts;       /* posts asking the owner to lead (under the
	                              mutex, and only while the job is queued) */
	struct combine_job *next;
	sem_t wake;                /* posted when done, or when it may lead */
};

/* Run jobs[0..n-1] (same kind and group) on ctx, the leader's context;
 * must finish every job (set its results) before returning. */
typedef void (*combine_run_fn)(void *ctx, struct combine_job **jobs, size_t n);

struct combiner {
	pthread_mutex_t mu;
	struct combine_job *head, **tail;
	unsigned running;          /* batches being run now */
	unsigned leaders;          /* at most this many at once */
	size_t max_batch;
	unsigned extra;            /* batches a leader runs after its own job's */
	combine_run_fn run;
	unsigned long long batches, jobs;   /* counters (combine_stats) */
};

#define COMBINE_MAX_BATCH 64

/* Initialise c (leaders >= 1, 1 <= max_batch <= COMBINE_MAX_BATCH).  A
 * leader whose own job is done runs up to `extra` more batches while jobs
 * wait (it is on a CPU already; waking a sleeping owner to lead leaves the
 * queue idle until that thread gets one), then wakes the oldest waiting
 * owner to lead.  Its own request waits for those batches: keep `extra`
 * small for slow batches. */
void combiner_init(struct combiner *c, unsigned leaders, size_t max_batch, unsigned extra,
    combine_run_fn run);

/* Queue job and return once it was run (by this thread or another);
 * ctx is used if this thread becomes a leader. */
void combine_submit(struct combiner *c, struct combine_job *job, void *ctx);

/* Batches run and jobs done since start. */
void combine_stats(struct combiner *c, unsigned long long *batches, unsigned long long *jobs);

#endif
