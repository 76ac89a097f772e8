/*
 * test_combine.c: the batching of core/combine.c under real threads (every
 * job is run exactly once, by one leader, in a batch of its own group only,
 * never more leaders at once than allowed, and batches of more than one job
 * do form while a leader is busy), and the per-process project cache of
 * core/project_cache.c (versions, copies, replacement).
 */
#include <check.h>

#include <pthread.h>
#include <semaphore.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "combine.h"
#include "project_cache.h"
#include "queue.h"

#define THREADS 8
#define JOBS_PER_THREAD 400
#define GROUPS 3

struct test_job {
	struct combine_job cj;
	int runs;                  /* times a leader ran it */
	int owner;
	sem_t at_return;           /* its semaphore's bytes when submit returned */
};

static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned active, max_active;
static size_t biggest_batch, mixed_batches;
static struct combiner comb;

static void run_batch(void *ctx, struct combine_job **jobs, size_t n)
{
	struct timespec pause = { 0, 200000 };   /* 0.2 ms: a commit's worth */

	(void)ctx;
	pthread_mutex_lock(&stats_mu);
	active++;
	if (active > max_active)
		max_active = active;
	if (n > biggest_batch)
		biggest_batch = n;
	for (size_t i = 1; i < n; i++)
		if (jobs[i]->kind != jobs[0]->kind || jobs[i]->group != jobs[0]->group)
			mixed_batches++;
	pthread_mutex_unlock(&stats_mu);
	nanosleep(&pause, NULL);
	for (size_t i = 0; i < n; i++)
		((struct test_job *)jobs[i])->runs++;
	pthread_mutex_lock(&stats_mu);
	active--;
	pthread_mutex_unlock(&stats_mu);
}

static struct test_job all_jobs[THREADS][JOBS_PER_THREAD];

static void *submitter(void *arg)
{
	int t = (int)(long)arg;

	for (int i = 0; i < JOBS_PER_THREAD; i++) {
		struct test_job *j = &all_jobs[t][i];
		j->cj.kind = 1 + i % 2;
		j->cj.group = (t + i) % GROUPS;
		j->owner = t;
		combine_submit(&comb, &j->cj, NULL);
		memcpy(&j->at_return, &j->cj.wake, sizeof(j->at_return));
		/* Every post it was sent, it took. */
		int owed;
		sem_getvalue(&j->at_return, &owed);
		ck_assert_int_eq(owed, 0);
		/* Done means run, by whoever led. */
		ck_assert_int_eq(j->runs, 1);
		ck_assert_int_eq(j->cj.done, 1);
	}
	return NULL;
}

START_TEST(every_job_runs_once_in_its_own_group)
{
	pthread_t th[THREADS];
	unsigned long long batches, jobs;

	combiner_init(&comb, 2, 16, 2, run_batch);
	for (long t = 0; t < THREADS; t++)
		ck_assert_int_eq(pthread_create(&th[t], NULL, submitter, (void *)t), 0);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	/* No post reached a job after its owner returned (in labeld the job
	 * lives on the owner's stack: a late post would write into whatever
	 * the stack holds by then). */
	for (int t = 0; t < THREADS; t++)
		for (int i = 0; i < JOBS_PER_THREAD; i++) {
			ck_assert_int_eq(all_jobs[t][i].runs, 1);
			ck_assert_msg(memcmp(&all_jobs[t][i].at_return, &all_jobs[t][i].cj.wake,
			    sizeof(sem_t)) == 0, "job %d/%d was posted after submit returned", t, i);
		}
	combine_stats(&comb, &batches, &jobs);
	ck_assert_uint_eq(jobs, THREADS * JOBS_PER_THREAD);
	ck_assert_uint_lt(batches, jobs);        /* some batches held several jobs */
	ck_assert_uint_le(max_active, 2);        /* never more leaders than allowed */
	ck_assert_uint_gt(biggest_batch, 1);
	ck_assert_uint_le(biggest_batch, 16);
	ck_assert_uint_eq(mixed_batches, 0);
}
END_TEST

static size_t single_n;

static void run_single(void *ctx, struct combine_job **jobs, size_t n)
{
	*(int *)ctx += 1;
	single_n = n;
	((struct test_job *)jobs[0])->runs++;
}

START_TEST(alone_the_caller_leads_its_own_job)
{
	struct combiner c;
	struct test_job j = { .cj = { .kind = 1, .group = 5 } };
	int led = 0;

	combiner_init(&c, 1, 8, 0, run_single);
	combine_submit(&c, &j.cj, &led);
	ck_assert_int_eq(led, 1);               /* run with this caller's context */
	ck_assert_uint_eq(single_n, 1);
	ck_assert_int_eq(j.runs, 1);
}
END_TEST

START_TEST(project_cache_versions)
{
	struct arena *a = arena_new();
	struct queue_label labels[2] = { { 11, "cat" }, { 12, "dog \xc3\xa9" } };
	struct project_meta m = {
		.id = 42, .version = 3, .name = "Pets", .task = "multiclass",
		.instructions_url = "https://example.com/guide", .labels = labels, .nlabels = 2,
	}, got;
	char name[8] = "Pets";

	project_cache_clear();
	ck_assert_int_eq(project_cache_get(a, 42, 3, &got), 0);
	m.name = name;
	project_cache_put(&m);
	name[0] = 'X';                          /* the cache holds its own copy */
	ck_assert_int_eq(project_cache_get(a, 42, 3, &got), 1);
	ck_assert_str_eq(got.name, "Pets");
	ck_assert_str_eq(got.task, "multiclass");
	ck_assert_str_eq(got.instructions_url, "https://example.com/guide");
	ck_assert_uint_eq(got.nlabels, 2);
	ck_assert_int_eq(got.labels[1].id, 12);
	ck_assert_str_eq(got.labels[1].name, "dog \xc3\xa9");
	/* Another version is a miss, never the old copy. */
	ck_assert_int_eq(project_cache_get(a, 42, 4, &got), 0);
	ck_assert_int_eq(project_cache_get(a, 42, 2, &got), 0);
	/* A newer copy replaces it; an older one never replaces a newer. */
	m.version = 5;
	m.name = "Pets 2";
	project_cache_put(&m);
	m.version = 4;
	m.name = "Pets old";
	project_cache_put(&m);
	ck_assert_int_eq(project_cache_get(a, 42, 5, &got), 1);
	ck_assert_str_eq(got.name, "Pets 2");
	ck_assert_int_eq(project_cache_get(a, 42, 4, &got), 0);
	/* A project in the same slot replaces it (bounded memory). */
	m.id = 42 + 256;
	m.version = 1;
	project_cache_put(&m);
	ck_assert_int_eq(project_cache_get(a, 42, 5, &got), 0);
	ck_assert_int_eq(project_cache_get(a, 42 + 256, 1, &got), 1);
	project_cache_clear();
	ck_assert_int_eq(project_cache_get(a, 42 + 256, 1, &got), 0);
	arena_free(a);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("combine");
	TCase *t = tcase_create("combine");

	tcase_set_timeout(t, 60);
	tcase_add_test(t, every_job_runs_once_in_its_own_group);
	tcase_add_test(t, alone_the_caller_leads_its_own_job);
	tcase_add_test(t, project_cache_versions);
	suite_add_tcase(s, t);
	return s;
}

#include "unit.h"
