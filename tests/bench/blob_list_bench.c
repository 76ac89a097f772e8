/*
 * blob_list_bench: fill an Azure Blob container (or Azurite) with many tiny
 * images, or time a full listing of it.
 *
 *   blob_list_bench CONTAINER --populate N [--threads T]
 *       create the container and upload N 1x1 PNGs named
 *       img/NNN/NNNNNNN.png (1000 per folder), T uploads at a time (16)
 *   blob_list_bench CONTAINER [N] [--maxresults M]
 *       list every blob (pages of M, default the service's 5000) and print
 *       "listed N blobs in S seconds: R blobs/s"; with N, exit 1 unless
 *       exactly N blobs were listed
 *
 * Environment: LABELD_BENCH_AZURITE (the endpoint, e.g.
 * http://127.0.0.1:10000/devstoreaccount1), LABELD_BENCH_AZURITE_ACCOUNT
 * and LABELD_BENCH_AZURITE_KEY (default: Azurite's development account).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blob.h"

#define DEV_ACCOUNT "devstoreaccount1"
#define DEV_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define THREADS_MAX 128

/* A valid 1x1 greyscale PNG (67 bytes). */
static const unsigned char tiny_png[] = {
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
	0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b, 0x55, 0x00, 0x00, 0x00,
	0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00,
	0x02, 0x00, 0x01, 0x48, 0xaf, 0xa4, 0x71, 0x00, 0x00, 0x00, 0x00, 0x49,
	0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

struct populate {
	struct blob_account acc;
	unsigned long total;
	atomic_ulong next;
	atomic_ulong done;
	atomic_int failed;
	pthread_mutex_t lock;
	char first_err[64 + 256 + 8];   /* name, ": ", err */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: blob_list_bench CONTAINER --populate N [--threads T]\n"
	    "       blob_list_bench CONTAINER [N] [--maxresults M]\n"
	    "environment: LABELD_BENCH_AZURITE (endpoint), LABELD_BENCH_AZURITE_ACCOUNT, "
	    "LABELD_BENCH_AZURITE_KEY\n");
}

static int parse_count(const char *s, unsigned long *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -1;
	unsigned long v = strtoul(s, &end, 10);
	if (*end)
		return -1;
	*out = v;
	return 0;
}

/* One uploader: takes the next index until all are done or one fails. */
static void *populate_thread(void *arg)
{
	struct populate *p = arg;
	struct blob_client *c = blob_client_new(&p->acc, NULL);
	char name[64], err[256];
	if (!c) {
		atomic_store(&p->failed, 1);
		return NULL;
	}
	for (;;) {
		unsigned long i = atomic_fetch_add(&p->next, 1);
		if (i >= p->total || atomic_load(&p->failed))
			break;
		snprintf(name, sizeof(name), "img/%03lu/%07lu.png", i / 1000, i);
		if (blob_put(c, name, tiny_png, sizeof(tiny_png), "image/png", err, sizeof(err)) < 0) {
			pthread_mutex_lock(&p->lock);
			if (!p->first_err[0])
				snprintf(p->first_err, sizeof(p->first_err), "%s: %s", name, err);
			pthread_mutex_unlock(&p->lock);
			atomic_store(&p->failed, 1);
			break;
		}
		unsigned long d = atomic_fetch_add(&p->done, 1) + 1;
		if (d % 10000 == 0)
			fprintf(stderr, "  %lu / %lu\n", d, p->total);
	}
	blob_client_free(c);
	return NULL;
}

static int run_populate(const struct blob_account *acc, unsigned long n, unsigned long threads)
{
	char err[256];
	struct blob_client *c = blob_client_new(acc, NULL);
	if (!c || blob_container_create(c, err, sizeof(err)) < 0) {
		fprintf(stderr, "blob_list_bench: creating the container: %s\n", c ? err : "out of memory");
		blob_client_free(c);
		return 1;
	}
	blob_client_free(c);

	static struct populate p;
	p.acc = *acc;
	p.total = n;
	atomic_init(&p.next, 0);
	atomic_init(&p.done, 0);
	atomic_init(&p.failed, 0);
	pthread_mutex_init(&p.lock, NULL);
	pthread_t tid[THREADS_MAX];
	unsigned long started = 0;
	double t0 = now_s();
	for (; started < threads; started++) {
		if (pthread_create(&tid[started], NULL, populate_thread, &p) != 0) {
			fprintf(stderr, "blob_list_bench: could not start thread %lu\n", started);
			atomic_store(&p.failed, 1);
			break;
		}
	}
	for (unsigned long i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	double dt = now_s() - t0;
	pthread_mutex_destroy(&p.lock);
	if (atomic_load(&p.failed)) {
		fprintf(stderr, "blob_list_bench: upload failed: %s\n",
		    p.first_err[0] ? p.first_err : "out of memory");
		return 1;
	}
	unsigned long done = atomic_load(&p.done);
	printf("populated %lu blobs in %.2f seconds: %.0f blobs/s (%lu threads)\n",
	    done, dt, dt > 0 ? (double)done / dt : 0.0, threads);
	return 0;
}

static int count_blob(void *ctx, const char *name, uint64_t size, int is_prefix)
{
	unsigned long *n = ctx;
	if (!is_prefix)
		(*n)++;
	return 0;
}

static int run_list(const struct blob_account *acc, int want_set, unsigned long want,
    unsigned long maxresults)
{
	char err[256];
	unsigned long n = 0;
	struct blob_client *c = blob_client_new(acc, NULL);
	if (!c) {
		fprintf(stderr, "blob_list_bench: out of memory\n");
		return 1;
	}
	double t0 = now_s();
	int rc = blob_list(c, "", NULL, (unsigned)maxresults, count_blob, &n, err, sizeof(err));
	double dt = now_s() - t0;
	blob_client_free(c);
	if (rc < 0) {
		fprintf(stderr, "blob_list_bench: listing failed after %lu blobs: %s\n", n, err);
		return 1;
	}
	printf("listed %lu blobs in %.2f seconds: %.0f blobs/s\n", n, dt, dt > 0 ? (double)n / dt : 0.0);
	if (want_set && n != want) {
		fprintf(stderr, "blob_list_bench: expected %lu blobs\n", want);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *container = NULL;
	unsigned long populate = 0, threads = 16, maxresults = 0, want = 0;
	int do_populate = 0, want_set = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--populate") == 0 && i + 1 < argc) {
			if (parse_count(argv[++i], &populate) < 0) {
				usage();
				return 2;
			}
			do_populate = 1;
		} else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
			if (parse_count(argv[++i], &threads) < 0 || threads == 0 || threads > THREADS_MAX) {
				usage();
				return 2;
			}
		} else if (strcmp(argv[i], "--maxresults") == 0 && i + 1 < argc) {
			if (parse_count(argv[++i], &maxresults) < 0 || maxresults > 5000) {
				usage();
				return 2;
			}
		} else if (argv[i][0] == '-') {
			usage();
			return 2;
		} else if (!container) {
			container = argv[i];
		} else if (!want_set && parse_count(argv[i], &want) == 0) {
			want_set = 1;
		} else {
			usage();
			return 2;
		}
	}
	const char *endpoint = getenv("LABELD_BENCH_AZURITE");
	if (!container || !endpoint || !*endpoint) {
		usage();
		return 2;
	}
	const char *account = getenv("LABELD_BENCH_AZURITE_ACCOUNT");
	const char *key = getenv("LABELD_BENCH_AZURITE_KEY");
	struct blob_account acc = {
		.endpoint = endpoint,
		.account = account && *account ? account : DEV_ACCOUNT,
		.container = container,
		.key = key && *key ? key : DEV_KEY,
	};
	char err[256], host[256];
	if (blob_global_init() < 0) {
		fprintf(stderr, "blob_list_bench: could not initialise libcurl\n");
		return 1;
	}
	/* The endpoint is Azurite on a loopback port: its host:port is on the
	 * allow list, as in the bench labeld's configuration. */
	const char *hp = strstr(endpoint, "://");
	hp = hp ? hp + 3 : endpoint;
	snprintf(host, sizeof(host), "%.*s", (int)strcspn(hp, "/"), hp);
	if (blob_policy_set(host, 0, err, sizeof(err)) < 0 ||
	    blob_endpoint_check(endpoint, err, sizeof(err)) < 0) {
		fprintf(stderr, "blob_list_bench: LABELD_BENCH_AZURITE: %s\n", err);
		return 2;
	}
	if (do_populate)
		return run_populate(&acc, populate, threads);
	return run_list(&acc, want_set, want, maxresults);
}
