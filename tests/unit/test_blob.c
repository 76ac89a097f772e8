/*
 * Unit tests: the Azure Blob client against a real Azurite (endpoint in
 * LABELD_TEST_AZURITE, e.g. http://127.0.0.1:10000/devstoreaccount1) and
 * against tests/unit/badhttp.js, a server that misbehaves on purpose.
 * Without LABELD_TEST_AZURITE the whole program is skipped (exit 77).
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "blob.h"
#include "datastore.h"
#include "unit_sink.h"
#include "image.h"

#define DEV_ACCOUNT "devstoreaccount1"
#define DEV_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define SECRET "SECRET-BODY-TEXT"
#define MANY 250

static const char *az_endpoint;
static const char *az_account;
static const char *az_key;
static char az_container[64];
static char az_setup_err[512];

static const char *const fixture_names[] = {
	"a/1.png", "a/b/2.png", "a/b/c/3.png", "top.png",
	"sp ace/x y.png", "\xc3\xbcn\xc3\xaf \xe6\xbc\xa2\xe5\xad\x97.png",
};

/* ------------------------------------------------------------ helpers */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void content_of(const char *name, char *out, size_t outlen)
{
	snprintf(out, outlen, "content of <%s> padded to be longer than sixteen bytes", name);
}

static struct blob_account az_acc(const char *key, const char *sas)
{
	struct blob_account a = {
		.endpoint = az_endpoint, .account = az_account, .container = az_container,
		.sas = sas, .key = key,
	};
	return a;
}

static struct blob_client *az_client(void)
{
	struct blob_account a = az_acc(az_key, NULL);
	struct blob_client *c = blob_client_new(&a, NULL);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* Collected listing results. */
struct seen {
	char names[600][256];
	uint64_t sizes[600];
	int prefix[600];
	int n;
	int stop_after;
};

static int collect(void *ctx, const char *name, uint64_t size, int is_prefix)
{
	struct seen *s = ctx;
	if (s->n < 600) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
		s->sizes[s->n] = size;
		s->prefix[s->n] = is_prefix;
	}
	s->n++;
	return s->stop_after && s->n >= s->stop_after;
}

static int seen_find(const struct seen *s, const char *name, int is_prefix)
{
	int found = -1;
	for (int i = 0; i < s->n && i < 600; i++) {
		if (strcmp(s->names[i], name) == 0 && s->prefix[i] == is_prefix) {
			ck_assert_msg(found < 0, "listed twice: %s", name);
			found = i;
		}
	}
	return found;
}

/* A container SAS (service SAS, version 2021-08-06) signed with the key. */
static void make_sas(const char *perms, char *out, size_t outlen, int tamper)
{
	unsigned char key[128], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	int kl = EVP_DecodeBlock(key, (const unsigned char *)az_key, (int)strlen(az_key));
	ck_assert_int_gt(kl, 0);
	size_t klen = (size_t)kl;
	for (const char *p = az_key + strlen(az_key); p > az_key && p[-1] == '='; p--)
		klen--;
	char expiry[32];
	time_t t = time(NULL) + 3600;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(expiry, sizeof(expiry), "%Y-%m-%dT%H:%M:%SZ", &tm);
	char sts[512];
	/* permissions, start, expiry, resource, identifier, IP, protocol,
	 * version, signed resource, snapshot, encryption scope, rscc, rscd,
	 * rsce, rscl, rsct */
	snprintf(sts, sizeof(sts), "%s\n\n%s\n/blob/%s/%s\n\n\n\n2021-08-06\nc\n\n\n\n\n\n\n",
	    perms, expiry, az_account, az_container);
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)sts,
	    strlen(sts), mac, &maclen));
	if (tamper)
		mac[0] ^= 1;
	char sig[128], enc[256], *o = enc;
	EVP_EncodeBlock((unsigned char *)sig, mac, (int)maclen);
	for (const char *p = sig; *p; p++) {
		if (*p == '+' || *p == '/' || *p == '=')
			o += sprintf(o, "%%%02X", (unsigned char)*p);
		else
			*o++ = *p;
	}
	*o = '\0';
	snprintf(out, outlen, "sv=2021-08-06&sr=c&sp=%s&se=%s&sig=%s", perms, expiry, enc);
}

/* ------------------------------------------------------------ the allow list */

static int bad_port;

/* Azurite's host:port, from its endpoint URL. */
static const char *az_hostport(void)
{
	static char hp[128];
	const char *p = strstr(az_endpoint, "://");
	p = p ? p + 3 : az_endpoint;
	snprintf(hp, sizeof(hp), "%.*s", (int)strcspn(p, "/"), p);
	return hp;
}

/* Set blob_allow_hosts to `list`; the test fails when it is refused. */
static void allow(const char *list)
{
	char err[256] = "";
	ck_assert_msg(blob_policy_set(list, 0, err, sizeof(err)) == 0, "%s: %s", list, err);
}

/* The clients of these tests talk to Azurite (and to badhttp.js): its
 * exact host:port is allowed, as ./stack's test configuration does for
 * labeld.  Run before every test (a checked fixture), so a test that
 * changes the list changes it for itself only. */
static void allow_test_servers(void)
{
	char list[256];
	if (bad_port > 0)
		snprintf(list, sizeof(list), "%s,127.0.0.1:%d", az_hostport(), bad_port);
	else
		snprintf(list, sizeof(list), "%s", az_hostport());
	allow(list);
}

/* ------------------------------------------------------------ Azurite fixture */

static void az_setup(void)
{
	char err[256];
	az_setup_err[0] = '\0';
	allow_test_servers();
	snprintf(az_container, sizeof(az_container), "labeld-test-%ld-%ld",
	    (long)getpid(), (long)time(NULL));
	struct blob_account a = az_acc(az_key, NULL);
	struct blob_client *c = blob_client_new(&a, NULL);
	if (!c) {
		snprintf(az_setup_err, sizeof(az_setup_err), "blob_client_new failed");
		return;
	}
	if (blob_container_create(c, err, sizeof(err)) < 0) {
		snprintf(az_setup_err, sizeof(az_setup_err),
		    "creating the test container at %s failed: %s", az_endpoint, err);
		goto out;
	}
	char body[256], name[64];
	for (size_t i = 0; i < sizeof(fixture_names) / sizeof(fixture_names[0]); i++) {
		content_of(fixture_names[i], body, sizeof(body));
		if (blob_put(c, fixture_names[i], body, strlen(body), "image/png", err, sizeof(err)) < 0) {
			snprintf(az_setup_err, sizeof(az_setup_err), "put %s: %s", fixture_names[i], err);
			goto out;
		}
	}
	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "many/%03d.png", i);
		content_of(name, body, sizeof(body));
		if (blob_put(c, name, body, strlen(body), NULL, err, sizeof(err)) < 0) {
			snprintf(az_setup_err, sizeof(az_setup_err), "put %s: %s", name, err);
			goto out;
		}
	}
	if (blob_put(c, "empty.bin", "", 0, NULL, err, sizeof(err)) < 0)
		snprintf(az_setup_err, sizeof(az_setup_err), "put empty.bin: %s", err);
out:
	blob_client_free(c);
}

#define AZ_READY() ck_assert_msg(az_setup_err[0] == '\0', "%s", az_setup_err)

/* ------------------------------------------------------------ Azurite tests */

START_TEST(container_create_twice)
{
	AZ_READY();
	char err[256], name[80];
	snprintf(name, sizeof(name), "%s-second", az_container);
	struct blob_account a = az_acc(az_key, NULL);
	a.container = name;
	struct blob_client *c = blob_client_new(&a, NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_msg(blob_container_create(c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(blob_container_create(c, err, sizeof(err)) == 0, "%s", err);
	blob_client_free(c);
}
END_TEST

START_TEST(list_flat_under_prefix)
{
	AZ_READY();
	char err[256] = "", body[256];
	static struct seen s;
	memset(&s, 0, sizeof(s));
	struct blob_client *c = az_client();
	ck_assert_msg(blob_list(c, "a/", NULL, 0, collect, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(s.n, 3);
	const char *want[] = { "a/1.png", "a/b/2.png", "a/b/c/3.png" };
	for (int i = 0; i < 3; i++) {
		int at = seen_find(&s, want[i], 0);
		ck_assert_msg(at >= 0, "missing %s", want[i]);
		content_of(want[i], body, sizeof(body));
		ck_assert_uint_eq(s.sizes[at], strlen(body));
	}
	/* Everything, flat. */
	memset(&s, 0, sizeof(s));
	ck_assert_msg(blob_list(c, "", NULL, 0, collect, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(s.n, 6 + MANY + 1);
	ck_assert_int_ge(seen_find(&s, "sp ace/x y.png", 0), 0);
	ck_assert_int_ge(seen_find(&s, fixture_names[5], 0), 0);
	ck_assert_int_ge(seen_find(&s, "empty.bin", 0), 0);
	blob_client_free(c);
}
END_TEST

START_TEST(list_one_level)
{
	AZ_READY();
	char err[256] = "";
	static struct seen s;
	memset(&s, 0, sizeof(s));
	struct blob_client *c = az_client();
	ck_assert_msg(blob_list(c, "", "/", 0, collect, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(s.n, 6);
	ck_assert_int_ge(seen_find(&s, "a/", 1), 0);
	ck_assert_int_ge(seen_find(&s, "many/", 1), 0);
	ck_assert_int_ge(seen_find(&s, "sp ace/", 1), 0);
	ck_assert_int_ge(seen_find(&s, "top.png", 0), 0);
	ck_assert_int_ge(seen_find(&s, fixture_names[5], 0), 0);
	ck_assert_int_ge(seen_find(&s, "empty.bin", 0), 0);

	memset(&s, 0, sizeof(s));
	ck_assert_msg(blob_list(c, "a/", "/", 0, collect, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_ge(seen_find(&s, "a/1.png", 0), 0);
	ck_assert_int_ge(seen_find(&s, "a/b/", 1), 0);

	/* One level, one entry per page. */
	memset(&s, 0, sizeof(s));
	ck_assert_msg(blob_list(c, "", "/", 1, collect, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(s.n, 6);
	ck_assert_int_ge(seen_find(&s, "sp ace/", 1), 0);
	blob_client_free(c);
}
END_TEST

START_TEST(list_paging)
{
	AZ_READY();
	char err[256] = "", name[64], body[256];
	static struct seen s;
	memset(&s, 0, sizeof(s));
	struct blob_client *c = az_client();
	/* Two per page: two pages. */
	ck_assert_msg(blob_list(c, "a/", NULL, 2, collect, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(s.n, 3);
	ck_assert_int_ge(seen_find(&s, "a/b/c/3.png", 0), 0);

	/* 250 blobs, 100 per page: three pages, none lost or repeated. */
	memset(&s, 0, sizeof(s));
	ck_assert_msg(blob_list(c, "many/", NULL, 100, collect, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(s.n, MANY);
	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "many/%03d.png", i);
		int at = seen_find(&s, name, 0);
		ck_assert_msg(at >= 0, "missing %s", name);
		content_of(name, body, sizeof(body));
		ck_assert_uint_eq(s.sizes[at], strlen(body));
	}

	/* Seven per page with a small prefix: still all of them. */
	memset(&s, 0, sizeof(s));
	ck_assert_msg(blob_list(c, "many/1", NULL, 7, collect, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(s.n, 100);

	/* The callback stops the listing early; that is not an error. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 5;
	ck_assert_msg(blob_list(c, "many/", NULL, 2, collect, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(s.n, 5);
	blob_client_free(c);
}
END_TEST

START_TEST(get_full_and_ranged)
{
	AZ_READY();
	char err[256] = "", body[256];
	unsigned char *out = NULL;
	size_t len = 0;
	uint64_t total = 0;
	struct blob_client *c = az_client();
	for (size_t i = 0; i < sizeof(fixture_names) / sizeof(fixture_names[0]); i++) {
		const char *n = fixture_names[i];
		content_of(n, body, sizeof(body));
		/* Whole. */
		ck_assert_msg(blob_get(c, n, 0, &out, &len, &total, err, sizeof(err)) == 0, "%s: %s", n, err);
		ck_assert_uint_eq(len, strlen(body));
		ck_assert_uint_eq(total, strlen(body));
		ck_assert(memcmp(out, body, len) == 0);
		free(out);
		/* The first 16 bytes; the total is still reported. */
		ck_assert_msg(blob_get(c, n, 16, &out, &len, &total, err, sizeof(err)) == 0, "%s: %s", n, err);
		ck_assert_uint_eq(len, 16);
		ck_assert_uint_eq(total, strlen(body));
		ck_assert(memcmp(out, body, 16) == 0);
		free(out);
		/* More than there is. */
		ck_assert_msg(blob_get(c, n, 4096, &out, &len, &total, err, sizeof(err)) == 0, "%s", err);
		ck_assert_uint_eq(len, strlen(body));
		ck_assert_uint_eq(total, strlen(body));
		free(out);
	}
	/* An empty blob, whole and ranged. */
	ck_assert_msg(blob_get(c, "empty.bin", 0, &out, &len, &total, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(len, 0);
	ck_assert_uint_eq(total, 0);
	free(out);
	ck_assert_msg(blob_get(c, "empty.bin", 16, &out, &len, &total, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(len, 0);
	ck_assert_uint_eq(total, 0);
	free(out);
	blob_client_free(c);
}
END_TEST

/* Ranged reads from an offset: the bytes there, fewer at the end, none
 * from the end on; an offset needs a length. */
START_TEST(get_from_offset)
{
	AZ_READY();
	char err[256] = "", body[256];
	unsigned char *out = NULL;
	size_t len = 0, blen;
	uint64_t total = 0;
	struct blob_client *c = az_client();
	for (size_t i = 0; i < sizeof(fixture_names) / sizeof(fixture_names[0]); i++) {
		const char *n = fixture_names[i];
		content_of(n, body, sizeof(body));
		blen = strlen(body);
		ck_assert_msg(blob_get_range(c, n, 10, 16, &out, &len, &total, err, sizeof(err)) == 0,
		    "%s: %s", n, err);
		ck_assert_uint_eq(len, 16);
		ck_assert_uint_eq(total, blen);
		ck_assert(memcmp(out, body + 10, 16) == 0);
		free(out);
		/* Across the end: what there is. */
		ck_assert_msg(blob_get_range(c, n, blen - 5, 4096, &out, &len, &total, err,
		    sizeof(err)) == 0, "%s: %s", n, err);
		ck_assert_uint_eq(len, 5);
		ck_assert(memcmp(out, body + blen - 5, 5) == 0);
		free(out);
		/* At and past the end: nothing. */
		ck_assert_msg(blob_get_range(c, n, blen, 64, &out, &len, NULL, err, sizeof(err)) == 0,
		    "%s: %s", n, err);
		ck_assert_uint_eq(len, 0);
		free(out);
		ck_assert_msg(blob_get_range(c, n, blen + 1000, 64, &out, &len, NULL, err,
		    sizeof(err)) == 0, "%s: %s", n, err);
		ck_assert_uint_eq(len, 0);
		free(out);
	}
	out = (unsigned char *)"x";
	ck_assert_int_eq(blob_get_range(c, "top.png", 10, 0, &out, &len, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_null(out);
	blob_client_free(c);
}
END_TEST

/* The whole file of tests/fixtures/images/rel, malloc'd. */
static unsigned char *fixture_load(const char *rel, size_t *size)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/tests/fixtures/images/%s", TEST_SRCDIR, rel);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	ck_assert_int_gt(n, 0);
	rewind(f);
	unsigned char *d = malloc((size_t)n);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(fread(d, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*size = (size_t)n;
	return d;
}

/* Photos whose size comes late, read through a blob datastore's reader
 * (ranged GETs) by image_read_header: from nothing, and after the 64 KiB the
 * init job reads ahead.  A missing blob is a read error. */
START_TEST(reader_reads_headers)
{
	AZ_READY();
	static const struct {
		const char *rel;
		unsigned w, h;
	} photos[] = {
		{ "hubble_deep_field.jpg", 1000, 872 },
		{ "formats/ten_segments.jpg", 40, 30 },
		{ "formats/exif_big.jpg", 40, 30 },
		{ "coins.png", 384, 303 },
	};
	struct datastore ds = { .id = 1, .name = "az", .kind = DATASTORE_AZUREBLOB };
	unsigned char *buf = malloc(IMAGE_HEADER_CAP);
	char err[256] = "", name[128];
	struct blob_client *c = az_client();

	ck_assert_ptr_nonnull(buf);
	ds.blob = az_acc(az_key, NULL);
	for (size_t i = 0; i < sizeof(photos) / sizeof(photos[0]); i++) {
		size_t size, len, ahead;
		unsigned char *d = fixture_load(photos[i].rel, &size), *head = NULL;
		struct datastore_reader r;
		struct image_info info;
		snprintf(name, sizeof(name), "photos/%zu-%s", i, strrchr(photos[i].rel, '/') ?
		    strrchr(photos[i].rel, '/') + 1 : photos[i].rel);
		ck_assert_msg(blob_put(c, name, d, size, "image/jpeg", err, sizeof(err)) == 0, "%s", err);

		datastore_reader_init(&r, &ds, name);
		len = 0;
		ck_assert_msg(image_read_header(&r.rd, buf, IMAGE_HEADER_CAP, &len, 0, &info, err,
		    sizeof(err)) == IMAGE_OK, "%s: %s", name, err);
		ck_assert_uint_eq(info.width, photos[i].w);
		ck_assert_uint_eq(info.height, photos[i].h);
		ck_assert(memcmp(buf, d, len) == 0);
		if (size > 131072)	/* the photo: its header, not all of it */
			ck_assert_uint_lt(len, 65536);
		datastore_reader_close(&r);

		ck_assert_int_eq(blob_get(c, name, 65536, &head, &ahead, NULL, err, sizeof(err)), 0);
		memcpy(buf, head, ahead);
		free(head);
		len = ahead;
		datastore_reader_init(&r, &ds, name);
		ck_assert_msg(image_read_header(&r.rd, buf, IMAGE_HEADER_CAP, &len, ahead < 65536,
		    &info, err, sizeof(err)) == IMAGE_OK, "%s: %s", name, err);
		ck_assert_uint_eq(info.width, photos[i].w);
		ck_assert(memcmp(buf, d, len) == 0);
		datastore_reader_close(&r);
		free(d);
	}
	struct datastore_reader r;
	size_t len = 0;
	datastore_reader_init(&r, &ds, "photos/missing.jpg");
	err[0] = '\0';
	ck_assert_int_eq(image_read_header(&r.rd, buf, IMAGE_HEADER_CAP, &len, 0, NULL, err,
	    sizeof(err)), IMAGE_READ_ERROR);
	ck_assert_msg(strstr(err, "404") != NULL, "%s", err);
	datastore_reader_close(&r);
	blob_client_free(c);
	free(buf);
}
END_TEST

START_TEST(get_missing_is_404)
{
	AZ_READY();
	char err[256] = "";
	unsigned char *out = (unsigned char *)"x";
	size_t len = 1;
	struct blob_client *c = az_client();
	ck_assert_int_eq(blob_get(c, "no/such blob.png", 16, &out, &len, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_null(out);
	ck_assert_msg(strstr(err, "404") != NULL, "%s", err);
	ck_assert_str_eq(err, "the blob service answered HTTP 404 (BlobNotFound)");
	blob_client_free(c);
}
END_TEST

/* A block blob uploaded in blocks: nothing is there until the block list
 * is committed, then the blocks in order; Delete removes it, and deleting
 * what is not there is no error. */
START_TEST(put_blocks_commit_delete)
{
	AZ_READY();
	char err[256] = "";
	unsigned char *out = NULL;
	size_t len = 0;
	static char block[3][70000];
	struct blob_client *c = az_client();
	const char *name = "exports/test/1-2.tsv";
	for (int i = 0; i < 3; i++)
		memset(block[i], 'a' + i, sizeof(block[i]));
	for (uint32_t i = 0; i < 3; i++)
		ck_assert_msg(blob_put_block(c, name, 77, i, block[i], sizeof(block[i]) - (i == 2 ? 100 : 0),
		    err, sizeof(err)) == 0, "block %u: %s", i, err);
	/* Another upload of the same name (run 78) does not mix in. */
	ck_assert_msg(blob_put_block(c, name, 78, 0, "zzz", 3, err, sizeof(err)) == 0, "%s", err);
	/* Uploaded blocks are not a blob yet. */
	ck_assert_int_eq(blob_get(c, name, 16, &out, &len, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "404") != NULL, "%s", err);
	ck_assert_msg(blob_put_block_list(c, name, 77, 3, "text/tab-separated-values", err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_msg(blob_get(c, name, 0, &out, &len, NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(len, 3 * sizeof(block[0]) - 100);
	for (int i = 0; i < 3; i++)
		ck_assert(memcmp(out + i * sizeof(block[0]), block[i],
		    sizeof(block[0]) - (i == 2 ? 100 : 0)) == 0);
	free(out);
	/* A list naming a block that was never uploaded is refused. */
	ck_assert_int_eq(blob_put_block_list(c, name, 77, 4, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "400") != NULL, "%s", err);
	ck_assert_msg(blob_delete(c, name, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(blob_get(c, name, 16, &out, &len, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "404") != NULL, "%s", err);
	ck_assert_msg(blob_delete(c, name, err, sizeof(err)) == 0, "%s", err);
	blob_client_free(c);
}
END_TEST

START_TEST(wrong_key_is_403)
{
	AZ_READY();
	char err[256] = "";
	static struct seen s;
	memset(&s, 0, sizeof(s));
	/* A valid base64 key that is not the account's. */
	struct blob_account a = az_acc("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", NULL);
	struct blob_client *c = blob_client_new(&a, NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(blob_list(c, "", NULL, 0, collect, &s, err, sizeof(err)), -1);
	/* Azure says AuthenticationFailed, Azurite AuthorizationFailure. */
	ck_assert_msg(strstr(err, "HTTP 403 (") && (strstr(err, "AuthenticationFailed") ||
	    strstr(err, "AuthorizationFailure")), "%s", err);
	ck_assert_int_eq(s.n, 0);
	ck_assert_int_eq(blob_put(c, "x.png", "x", 1, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "403"), "%s", err);
	blob_client_free(c);

	/* A key that is not base64 at all is refused before any request. */
	a = az_acc("not base64!", NULL);
	c = blob_client_new(&a, NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(blob_list(c, "", NULL, 0, collect, &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the account key is not valid base64");
	blob_client_free(c);
}
END_TEST

START_TEST(sas_token)
{
	AZ_READY();
	char err[256] = "", sas[512], sasq[520], body[256];
	static struct seen s;
	memset(&s, 0, sizeof(s));
	make_sas("rcwl", sas, sizeof(sas), 0);
	struct blob_account a = az_acc(NULL, sas);
	struct blob_client *c = blob_client_new(&a, NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_msg(blob_list(c, "a/", NULL, 2, collect, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(s.n, 3);
	ck_assert_msg(blob_put(c, "sas/written.png", "via sas", 7, "image/png", err, sizeof(err)) == 0, "%s", err);
	unsigned char *out;
	size_t len;
	uint64_t total;
	content_of("top.png", body, sizeof(body));
	ck_assert_msg(blob_get(c, "top.png", 16, &out, &len, &total, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(len, 16);
	ck_assert_uint_eq(total, strlen(body));
	free(out);
	blob_client_free(c);

	/* With a leading '?', as copied from the portal. */
	snprintf(sasq, sizeof(sasq), "?%s", sas);
	a = az_acc(NULL, sasq);
	c = blob_client_new(&a, NULL);
	ck_assert_msg(blob_get(c, "sas/written.png", 0, &out, &len, NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(len, 7);
	ck_assert(memcmp(out, "via sas", 7) == 0);
	free(out);
	blob_client_free(c);

	/* A read-only SAS cannot write; a tampered one cannot read. */
	make_sas("rl", sas, sizeof(sas), 0);
	a = az_acc(NULL, sas);
	c = blob_client_new(&a, NULL);
	ck_assert_int_eq(blob_put(c, "sas/denied.png", "x", 1, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "403"), "%s", err);
	blob_client_free(c);
	make_sas("rl", sas, sizeof(sas), 1);
	a = az_acc(NULL, sas);
	c = blob_client_new(&a, NULL);
	ck_assert_int_eq(blob_list(c, "", NULL, 0, collect, &s, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "403"), "%s", err);
	blob_client_free(c);
}
END_TEST

struct heads {
	int calls[MANY + 2];
	int errors;
	char last_err[256];
	size_t bytes;
};

static void on_head(void *ctx, size_t index, const unsigned char *data, size_t len, const char *error)
{
	struct heads *h = ctx;
	char name[64], body[256];
	h->calls[index]++;
	if (error) {
		h->errors++;
		snprintf(h->last_err, sizeof(h->last_err), "%s", error);
		ck_assert_ptr_null(data);
		return;
	}
	snprintf(name, sizeof(name), "many/%03zu.png", index);
	content_of(name, body, sizeof(body));
	ck_assert_uint_eq(len, h->bytes);
	ck_assert(memcmp(data, body, len) == 0);
}

START_TEST(get_heads_many)
{
	AZ_READY();
	char err[256] = "";
	static char names[MANY + 1][64];
	const char *ptrs[MANY + 1];
	for (int i = 0; i < MANY; i++) {
		snprintf(names[i], sizeof(names[i]), "many/%03d.png", i);
		ptrs[i] = names[i];
	}
	snprintf(names[MANY], sizeof(names[MANY]), "many/missing.png");
	ptrs[MANY] = names[MANY];
	struct blob_account a = az_acc(az_key, NULL);
	static struct heads h;

	/* 100 blobs, 8 at a time. */
	memset(&h, 0, sizeof(h));
	h.bytes = 12;
	ck_assert_msg(blob_get_heads(&a, NULL, ptrs, 100, 12, 8, on_head, &h, err, sizeof(err)) == 0, "%s", err);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(h.calls[i], 1);
	ck_assert_int_eq(h.errors, 0);

	/* All of them plus a missing one, 32 at a time. */
	memset(&h, 0, sizeof(h));
	h.bytes = 12;
	ck_assert_msg(blob_get_heads(&a, NULL, ptrs, MANY + 1, 12, 32, on_head, &h, err, sizeof(err)) == 0, "%s", err);
	for (int i = 0; i <= MANY; i++)
		ck_assert_int_eq(h.calls[i], 1);
	ck_assert_int_eq(h.errors, 1);
	ck_assert_msg(strstr(h.last_err, "404"), "%s", h.last_err);

	/* One at a time works too. */
	memset(&h, 0, sizeof(h));
	h.bytes = 3;
	ck_assert_msg(blob_get_heads(&a, NULL, ptrs, 10, 3, 1, on_head, &h, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(h.errors, 0);
}
END_TEST

/* A batch's leading bytes through the datastore: each blob's whole body
 * (they are short), and a missing one refused with the service's words
 * kept apart for the log. */
START_TEST(datastore_heads_blob)
{
	AZ_READY();
	struct datastore ds = { .id = 1, .name = "az", .kind = DATASTORE_AZUREBLOB,
		.blob = az_acc(az_key, NULL) };
	const char *paths[] = { "many/000.png", "many/missing.png", "many/249.png" };
	struct datastore_heads *h;
	const unsigned char *data;
	const char *reason, *detail;
	char err[256] = "", body[256];
	size_t len;
	int whole;

	ck_assert_msg(datastore_heads_read(&ds, paths, 3, NULL, NULL, &h, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(datastore_heads_get(h, 0, &data, &len, &whole, &reason, &detail), 0);
	content_of("many/000.png", body, sizeof(body));
	ck_assert_uint_eq(len, strlen(body));
	ck_assert_int_eq(memcmp(data, body, len), 0);
	ck_assert_int_eq(whole, 1);
	ck_assert_int_eq(datastore_heads_get(h, 1, &data, &len, &whole, &reason, &detail), -1);
	ck_assert_str_eq(reason, "the blob could not be read (see the server log)");
	ck_assert_msg(detail != NULL && strstr(detail, "404") != NULL, "%s", detail ? detail : "NULL");
	ck_assert_int_eq(datastore_heads_get(h, 2, &data, &len, &whole, &reason, &detail), 0);
	datastore_heads_free(h);
}
END_TEST

START_TEST(url_encoding)
{
	struct blob_account a = {
		.endpoint = "http://127.0.0.1:10000/devstoreaccount1/", .container = "c1",
		.sas = "sig=secret",
	};
	char *u = blob_url(&a, "a b/\xc3\xbc#?%.png");
	ck_assert_ptr_nonnull(u);
	ck_assert_str_eq(u, "http://127.0.0.1:10000/devstoreaccount1/c1/a%20b/%C3%BC%23%3F%25.png");
	free(u);
	a.endpoint = "https://acct.blob.core.windows.net";
	u = blob_url(&a, "x/y.png");
	ck_assert_str_eq(u, "https://acct.blob.core.windows.net/c1/x/y.png");
	free(u);
}
END_TEST

START_TEST(endpoint_check)
{
	char err[256];
	const char *bad[] = {
		"ftp://host/x", "file:///etc/passwd", "gopher://host/", "javascript:x",
		"http://user:pw@host", "http://user@host/", "", "http://", "http:///path",
		"http://host/x?sig=1", "http://host/#f", "http://ho st/", "HTTP//host",
		"dict://host", "//host/path", "host:10000",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(blob_endpoint_check(bad[i], err, sizeof(err)) == -1, "accepted %s", bad[i]);
		ck_assert_msg(err[0] != '\0', "no message for %s", bad[i]);
	}
	ck_assert_int_eq(blob_endpoint_check(NULL, err, sizeof(err)), -1);
	allow("127.0.0.1:10000 [::1]:10000");
	const char *good[] = {
		"http://127.0.0.1:10000/devstoreaccount1", "https://acct.blob.core.windows.net",
		"https://acct.blob.core.windows.net/", "HTTPS://Acct.Blob.Core.Windows.Net",
		"http://[::1]:10000/devstoreaccount1",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(blob_endpoint_check(good[i], err, sizeof(err)) == 0, "%s: %s", good[i], err);

	/* A client with a bad endpoint fails every call with the reason. */
	static struct seen s;
	struct blob_account a = { .endpoint = "file:///etc", .account = "x", .container = "c" };
	struct blob_client *c = blob_client_new(&a, NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(blob_list(c, "", NULL, 0, collect, &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the endpoint must be an http:// or https:// URL");
	blob_client_free(c);
}
END_TEST

/* ------------------------------------------------------------ the misbehaving server */

static pid_t bad_pid;
static char bad_setup_err[256];
static char bad_endpoint[64];

static void bad_setup(void)
{
	char portfile[] = "/tmp/labeld-badhttp-XXXXXX";
	int fd = mkstemp(portfile);
	bad_port = 0;
	bad_setup_err[0] = '\0';
	if (fd < 0) {
		snprintf(bad_setup_err, sizeof(bad_setup_err), "mkstemp: %s", strerror(errno));
		return;
	}
	close(fd);
	unlink(portfile);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(bad_setup_err, sizeof(bad_setup_err), "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		execlp("node", "node", TEST_SRCDIR "/tests/unit/badhttp.js", portfile, (char *)NULL);
		_exit(127);
	}
	bad_pid = pid;
	for (int i = 0; i < 200 && !bad_port; i++) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			bad_pid = 0;
			snprintf(bad_setup_err, sizeof(bad_setup_err),
			    "node could not run tests/unit/badhttp.js (exit %d); node is a project "
			    "dependency: is it installed and on PATH?",
			    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			return;
		}
		FILE *f = fopen(portfile, "r");
		if (f) {
			if (fscanf(f, "%d", &bad_port) != 1)
				bad_port = 0;
			fclose(f);
		}
		if (!bad_port)
			usleep(50 * 1000);
	}
	unlink(portfile);
	if (!bad_port)
		snprintf(bad_setup_err, sizeof(bad_setup_err),
		    "tests/unit/badhttp.js did not start within 10 s");
	snprintf(bad_endpoint, sizeof(bad_endpoint), "http://127.0.0.1:%d/acct", bad_port);
}

static void bad_teardown(void)
{
	if (bad_pid > 0) {
		kill(bad_pid, SIGTERM);
		waitpid(bad_pid, NULL, 0);
		bad_pid = 0;
	}
}

#define BAD_READY() ck_assert_msg(bad_port > 0, "%s", bad_setup_err)

static struct blob_limits bad_limits(void)
{
	struct blob_limits l;
	blob_limits_default(&l);
	l.connect_timeout_ms = 2000;
	l.total_timeout_ms = 1500;
	l.max_response = 256 * 1024;
	return l;
}

/* blob_list on container `route` of the bad server; returns its result. */
static int bad_list(const char *route, const char *key, const char *sas, const char *prefix,
    struct seen *s, char *err, size_t errlen)
{
	struct blob_account a = {
		.endpoint = bad_endpoint, .account = "acct", .container = route, .sas = sas, .key = key,
	};
	struct blob_limits l = bad_limits();
	struct blob_client *c = blob_client_new(&a, &l);
	ck_assert_ptr_nonnull(c);
	memset(s, 0, sizeof(*s));
	err[0] = '\0';
	int rc = blob_list(c, prefix, NULL, 0, collect, s, err, errlen);
	blob_client_free(c);
	return rc;
}

static int bad_get(const char *route, unsigned char **out, size_t *len, char *err, size_t errlen)
{
	struct blob_account a = { .endpoint = bad_endpoint, .account = "acct", .container = route,
		.key = DEV_KEY };
	struct blob_limits l = bad_limits();
	struct blob_client *c = blob_client_new(&a, &l);
	ck_assert_ptr_nonnull(c);
	err[0] = '\0';
	int rc = blob_get(c, "x.png", 0, out, len, NULL, err, errlen);
	blob_client_free(c);
	return rc;
}

/* blob_list of a container at any endpoint (Shared Key, the bad server's
 * limits); returns its result. */
static int list_at(const char *endpoint, const char *container, struct seen *s, char *err,
    size_t errlen)
{
	struct blob_account a = { .endpoint = endpoint, .account = "acct", .container = container,
		.key = DEV_KEY };
	struct blob_limits l = bad_limits();
	struct blob_client *c = blob_client_new(&a, &l);
	ck_assert_ptr_nonnull(c);
	memset(s, 0, sizeof(*s));
	err[0] = '\0';
	int rc = blob_list(c, "", NULL, 0, collect, s, err, errlen);
	blob_client_free(c);
	return rc;
}

#define NO_SECRET(e) ck_assert_msg(strstr((e), SECRET) == NULL && strstr((e), "AccountKey") == NULL, \
	"the remote body leaked: %s", (e))

START_TEST(bad_redirect)
{
	BAD_READY();
	char err[256];
	static struct seen s;
	ck_assert_int_eq(bad_list("redirect", DEV_KEY, NULL, "", &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the endpoint answered with a redirect (HTTP 302); labeld does not follow redirects");
}
END_TEST

START_TEST(bad_error_bodies)
{
	BAD_READY();
	char err[256];
	static struct seen s;
	unsigned char *out;
	size_t len;
	ck_assert_int_eq(bad_list("error", DEV_KEY, NULL, "", &s, err, sizeof(err)), -1);
	NO_SECRET(err);
	ck_assert_str_eq(err, "the blob service answered HTTP 500");
	ck_assert_int_eq(bad_get("error", &out, &len, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the blob service answered HTTP 500");
	/* A <Code> that is not a plain word is left out. */
	ck_assert_int_eq(bad_list("errcode", DEV_KEY, NULL, "", &s, err, sizeof(err)), -1);
	NO_SECRET(err);
	ck_assert_str_eq(err, "the blob service answered HTTP 403");
	/* A plain-word <Code> is shown, the <Message> is not. */
	ck_assert_int_eq(bad_list("errxml", DEV_KEY, NULL, "", &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the blob service answered HTTP 403 (AuthenticationFailed)");
	ck_assert_int_eq(bad_list("nosuchroute", DEV_KEY, NULL, "", &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the blob service answered HTTP 404 (ContainerNotFound)");
}
END_TEST

START_TEST(bad_endless_and_big)
{
	BAD_READY();
	char err[256];
	static struct seen s;
	unsigned char *out;
	size_t len;
	/* Cut at the cap, well before the 1500 ms total timeout would fire. */
	ck_assert_int_eq(bad_get("endless", &out, &len, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the response was larger than 262144 bytes");
	ck_assert_int_eq(bad_list("endless", DEV_KEY, NULL, "", &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the response was larger than 262144 bytes");
	ck_assert_int_eq(bad_list("bigxml", DEV_KEY, NULL, "", &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the response was larger than 262144 bytes");
	ck_assert_int_eq(s.n, 0);
}
END_TEST

START_TEST(bad_slow)
{
	BAD_READY();
	char err[256];
	static struct seen s;
	double t0 = now_s();
	ck_assert_int_eq(bad_list("slow", DEV_KEY, NULL, "", &s, err, sizeof(err)), -1);
	double dt = now_s() - t0;
	ck_assert_msg(dt > 1.3 && dt < 5.0, "the total timeout took %.2f s", dt);
	ck_assert_msg(strncmp(err, "the blob service did not answer within 1500 ms", 46) == 0, "%s", err);
}
END_TEST

START_TEST(bad_xml)
{
	BAD_READY();
	char err[256];
	static struct seen s;
	ck_assert_int_eq(bad_list("doctype", DEV_KEY, NULL, "", &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the listing was not valid blob-service XML");
	ck_assert_int_eq(s.n, 0);
	ck_assert_int_eq(bad_list("notxml", DEV_KEY, NULL, "", &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the listing was not valid blob-service XML");
	ck_assert_int_eq(bad_list("loop", DEV_KEY, NULL, "", &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the listing did not advance (the same NextMarker twice)");
}
END_TEST

START_TEST(bad_paged_markers)
{
	BAD_READY();
	char err[256];
	static struct seen s;
	ck_assert_msg(bad_list("paged", DEV_KEY, NULL, "", &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(s.n, 3);
	ck_assert_str_eq(s.names[0], "p1");
	ck_assert_str_eq(s.names[1], "p2");
	ck_assert_str_eq(s.names[2], "p3");
	ck_assert_uint_eq(s.sizes[2], 2);
}
END_TEST

/* Counts its calls; asks to stop at call stop_at (0: never). */
struct pages {
	int calls, stop_at;
};

static int page_hook(void *ctx)
{
	struct pages *p = ctx;
	return ++p->calls == p->stop_at;
}

START_TEST(bad_paged_page_hook)
{
	BAD_READY();
	char err[256] = "";
	static struct seen s;
	struct blob_account a = { .endpoint = bad_endpoint, .account = "acct", .container = "paged",
		.key = DEV_KEY };
	struct blob_limits l = bad_limits();
	struct pages p = { 0, 0 };
	struct blob_client *c = blob_client_new(&a, &l);
	ck_assert_ptr_nonnull(c);
	/* Called before each of the three pages. */
	blob_client_on_page(c, page_hook, &p);
	ck_assert_msg(blob_list(c, "", NULL, 0, collect, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(p.calls, 3);
	ck_assert_int_eq(s.n, 3);
	/* Stopping before the second page: only the first page's blob. */
	memset(&s, 0, sizeof(s));
	p = (struct pages){ 0, 2 };
	ck_assert_msg(blob_list(c, "", NULL, 0, collect, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(p.calls, 2);
	ck_assert_int_eq(s.n, 1);
	ck_assert_str_eq(s.names[0], "p1");
	blob_client_free(c);
}
END_TEST

/* The request line and headers as the echo route saw them. */
static const char *echo_header(const struct seen *s, const char *prefix)
{
	for (int i = 1; i < s->n; i++)
		if (strncmp(s->names[i], prefix, strlen(prefix)) == 0)
			return s->names[i];
	return NULL;
}

START_TEST(bad_echo_sas)
{
	BAD_READY();
	char err[256];
	static struct seen s;
	const char *sas = "sv=2021-08-06&sr=c&sp=rl&se=2099-01-01T00%3A00%3A00Z&sig=abc%2Bdef%3D";
	ck_assert_msg(bad_list("echo", NULL, sas, "a b/\xc3\xbc", &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(s.names[0], "GET /acct/echo?restype=container&comp=list&prefix=a%20b%2F%C3%BC"
	    "&sv=2021-08-06&sr=c&sp=rl&se=2099-01-01T00%3A00%3A00Z&sig=abc%2Bdef%3D");
	ck_assert_ptr_null(echo_header(&s, "authorization:"));
	ck_assert_str_eq(echo_header(&s, "x-ms-version:"), "x-ms-version: 2021-08-06");
	const char *d = echo_header(&s, "x-ms-date:");
	ck_assert_ptr_nonnull(d);
	ck_assert_msg(strlen(d) == strlen("x-ms-date: Sun, 06 Nov 1994 08:49:37 GMT") &&
	    strcmp(d + strlen(d) - 4, " GMT") == 0, "%s", d);

	/* A SAS wins over a key when both are given; '?' is dropped. */
	ck_assert_msg(bad_list("echo", DEV_KEY, "?sig=x", "", &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(s.names[0], "GET /acct/echo?restype=container&comp=list&sig=x");
	ck_assert_ptr_null(echo_header(&s, "authorization:"));

	/* A SAS that would break the URL is refused. */
	ck_assert_int_eq(bad_list("echo", NULL, "sig=a b#c", "", &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the SAS token contains characters that do not belong in a URL query");
}
END_TEST

START_TEST(bad_echo_shared_key)
{
	BAD_READY();
	char err[256];
	static struct seen s;
	ck_assert_msg(bad_list("echo", DEV_KEY, NULL, "", &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(s.names[0], "GET /acct/echo?restype=container&comp=list");
	const char *auth = echo_header(&s, "authorization:");
	ck_assert_ptr_nonnull(auth);
	ck_assert_int_eq(strncmp(auth, "authorization: SharedKey acct:", 30), 0);
	ck_assert_uint_eq(strlen(auth + 30), 44);   /* base64 of 32 bytes */
	ck_assert_ptr_null(echo_header(&s, "x-ms-range:"));
	/* No key, no SAS: anonymous (a public container). */
	ck_assert_msg(bad_list("echo", NULL, NULL, "", &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_null(echo_header(&s, "authorization:"));
}
END_TEST

struct bad_heads {
	int ok, failed;
	char err[256];
	int saw_range;
};

static void on_bad_head(void *ctx, size_t index, const unsigned char *data, size_t len,
    const char *error)
{
	struct bad_heads *h = ctx;
	if (error) {
		h->failed++;
		snprintf(h->err, sizeof(h->err), "%s", error);
		return;
	}
	h->ok++;
	if (memmem(data, len, "x-ms-range: bytes=0-99999", 25))
		h->saw_range = 1;
}

START_TEST(bad_heads)
{
	BAD_READY();
	char err[256];
	const char *names[] = { "one.png", "two.png", "three.png" };
	struct blob_limits l = bad_limits();
	struct bad_heads h = { 0 };
	struct blob_account a = { .endpoint = bad_endpoint, .account = "acct", .container = "echo",
		.key = DEV_KEY };
	ck_assert_msg(blob_get_heads(&a, &l, names, 3, 100000, 2, on_bad_head, &h, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(h.ok, 3);
	ck_assert_int_eq(h.saw_range, 1);

	memset(&h, 0, sizeof(h));
	a.container = "error";
	ck_assert_int_eq(blob_get_heads(&a, &l, names, 3, 64, 3, on_bad_head, &h, err, sizeof(err)), 0);
	ck_assert_int_eq(h.failed, 3);
	NO_SECRET(h.err);
	ck_assert_str_eq(h.err, "the blob service answered HTTP 500");

	memset(&h, 0, sizeof(h));
	a.container = "slow";
	double t0 = now_s();
	ck_assert_int_eq(blob_get_heads(&a, &l, names, 3, 64, 3, on_bad_head, &h, err, sizeof(err)), 0);
	ck_assert_int_eq(h.failed, 3);
	ck_assert_msg(now_s() - t0 < 5.0, "heads did not time out");

	/* The endless body is cut at `bytes` and counts as read. */
	memset(&h, 0, sizeof(h));
	a.container = "endless";
	ck_assert_int_eq(blob_get_heads(&a, &l, names, 3, 64, 3, on_bad_head, &h, err, sizeof(err)), 0);
	ck_assert_int_eq(h.ok, 3);

	/* A setup error stops the whole batch. */
	a.endpoint = "ftp://x/";
	ck_assert_int_eq(blob_get_heads(&a, &l, names, 3, 64, 3, on_bad_head, &h, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the endpoint must be an http:// or https:// URL");
}
END_TEST

/* A service that answers a ranged read from an offset with the whole blob
 * (200) gives the wrong bytes: refused. */
START_TEST(bad_range_ignored)
{
	BAD_READY();
	char err[256] = "";
	unsigned char *out = NULL;
	size_t len = 0;
	struct blob_account a = { .endpoint = bad_endpoint, .account = "acct", .container = "endless",
		.key = DEV_KEY };
	struct blob_limits l = bad_limits();
	struct blob_client *c = blob_client_new(&a, &l);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(blob_get_range(c, "x.png", 100, 64, &out, &len, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the blob service ignored the byte range asked for");
	ck_assert_ptr_null(out);
	/* From 0 the same answer is the blob's start. */
	ck_assert_int_eq(blob_get_range(c, "x.png", 0, 64, &out, &len, NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(len, 64);
	free(out);
	blob_client_free(c);
}
END_TEST

/* What datastore_walk found. */
struct walked {
	char names[8][64];
	int n;
};

static int walked_add(void *ctx, const char *path, uint64_t size)
{
	struct walked *w = ctx;
	(void)size;
	if (w->n < 8)
		snprintf(w->names[w->n++], sizeof(w->names[0]), "%s", path);
	return 0;
}

/* A name the service sends percent-encoded (Encoded="true": it holds a
 * character XML cannot carry) reaches the walk decoded, and the path rules
 * the init job applies refuse it. */
START_TEST(bad_encoded_names)
{
	BAD_READY();
	struct datastore ds = { .id = 1, .name = "bad", .kind = DATASTORE_AZUREBLOB };
	struct walked w = { .n = 0 };
	char err[256] = "";

	ds.blob = (struct blob_account){ .endpoint = bad_endpoint, .account = "acct",
		.container = "encoded", .key = DEV_KEY };
	ck_assert_msg(datastore_walk(&ds, "", 1, walked_add, &w, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(w.n, 2);
	ck_assert_str_eq(w.names[0], "ctl/x\x01y.png");
	ck_assert_str_eq(w.names[1], "plain.png");
	ck_assert_int_eq(datastore_path_check(w.names[0], err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the path may not contain control characters");
	ck_assert_int_eq(datastore_path_check(w.names[1], err, sizeof(err)), 0);
}
END_TEST

START_TEST(unreachable)
{
	char err[256];
	static struct seen s;
	allow("127.0.0.1:1");
	ck_assert_int_eq(list_at("http://127.0.0.1:1/acct", "c", &s, err, sizeof(err)), -1);
	ck_assert_msg(strncmp(err, "could not reach the blob service", 32) == 0, "%s", err);
}
END_TEST

/* A datastore listing that cannot reach the service says so apart from a
 * broken local folder: the init job tries it again later. */
START_TEST(walk_unreachable)
{
	struct datastore ds = { .id = 1, .name = "gone", .kind = DATASTORE_AZUREBLOB };
	struct walked w = { .n = 0 };
	char err[256] = "";

	allow("127.0.0.1:1");
	ds.blob = (struct blob_account){ .endpoint = "http://127.0.0.1:1/acct", .account = "acct",
		.container = "c", .key = DEV_KEY };
	ck_assert_int_eq(datastore_walk(&ds, "", 1, walked_add, &w, err, sizeof(err)), DATASTORE_UNREACHABLE);
	ck_assert_int_eq(w.n, 0);
}
END_TEST

/* ------------------------------------------------------------ where requests may go */

/* The sockaddr of a numeric IPv4 or IPv6 address; its length. */
static size_t addr_of(const char *text, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		return sizeof(*in);
	}
	ck_assert_msg(inet_pton(AF_INET6, text, &in6->sin6_addr) == 1, "not an address: %s", text);
	in6->sin6_family = AF_INET6;
	return sizeof(*in6);
}

START_TEST(address_classes)
{
	static const struct {
		const char *addr;
		const char *why;   /* NULL: may be reached */
	} cases[] = {
		{ "0.0.0.0", "an unspecified (0.0.0.0/8)" }, { "0.1.2.3", "an unspecified (0.0.0.0/8)" },
		{ "127.0.0.1", "a loopback" }, { "127.255.255.254", "a loopback" },
		{ "10.0.0.0", "a private" }, { "10.255.255.255", "a private" },
		{ "172.16.0.1", "a private" }, { "172.31.255.255", "a private" },
		{ "192.168.0.1", "a private" }, { "192.168.255.255", "a private" },
		{ "100.64.0.1", "a shared (carrier-grade NAT, 100.64.0.0/10)" },
		{ "100.127.255.255", "a shared (carrier-grade NAT, 100.64.0.0/10)" },
		{ "169.254.169.254", "a link-local" }, { "169.254.0.1", "a link-local" },
		{ "192.0.0.170", "an IETF protocol (192.0.0.0/24)" },
		{ "198.18.0.1", "a benchmarking (198.18.0.0/15)" },
		{ "224.0.0.1", "a multicast" }, { "239.255.255.255", "a multicast" },
		{ "240.0.0.1", "a reserved or broadcast" }, { "255.255.255.255", "a reserved or broadcast" },
		/* the neighbours of every range may be reached */
		{ "1.1.1.1", NULL }, { "8.8.8.8", NULL }, { "9.255.255.255", NULL }, { "11.0.0.0", NULL },
		{ "126.255.255.255", NULL }, { "128.0.0.0", NULL }, { "172.15.255.255", NULL },
		{ "172.32.0.0", NULL }, { "192.167.255.255", NULL }, { "192.169.0.0", NULL },
		{ "100.63.255.255", NULL }, { "100.128.0.0", NULL }, { "169.253.255.255", NULL },
		{ "169.255.0.0", NULL }, { "198.17.255.255", NULL }, { "198.20.0.0", NULL },
		{ "223.255.255.255", NULL }, { "20.60.40.4", NULL }, { "52.239.0.1", NULL },
		/* IPv6 */
		{ "::", "an unspecified" }, { "::1", "a loopback" },
		{ "fc00::1", "a unique-local (fc00::/7)" }, { "fdff:ffff::1", "a unique-local (fc00::/7)" },
		{ "fe80::1", "a link-local" }, { "febf:ffff::1", "a link-local" },
		{ "fec0::1", "a site-local" }, { "ff02::1", "a multicast" }, { "ff0e::1", "a multicast" },
		{ "2001:4860:4860::8888", NULL }, { "2603:1030:20e:3::23c", NULL }, { "fbff::1", NULL },
		{ "fe00::1", NULL },
		/* IPv6 that carries IPv4: judged by the IPv4 address */
		{ "::ffff:127.0.0.1", "a loopback" }, { "::ffff:7f00:1", "a loopback" },
		{ "::ffff:10.1.2.3", "a private" }, { "::ffff:169.254.169.254", "a link-local" },
		{ "::ffff:0.0.0.0", "an unspecified (0.0.0.0/8)" }, { "::ffff:8.8.8.8", NULL },
		{ "::127.0.0.1", "a loopback" }, { "::192.168.1.1", "a private" }, { "::8.8.8.8", NULL },
		{ "64:ff9b::127.0.0.1", "a loopback" }, { "64:ff9b::a9fe:a9fe", "a link-local" },
		{ "64:ff9b::8.8.8.8", NULL },
		{ "2002:7f00:1::1", "a loopback" }, { "2002:c0a8:101::", "a private" },
		{ "2002:808:808::1", NULL },
	};
	struct sockaddr_storage ss;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = addr_of(cases[i].addr, &ss);
		const char *why = blob_address_refusal((struct sockaddr *)&ss, n);
		if (cases[i].why == NULL)
			ck_assert_msg(why == NULL, "%s refused as %s address", cases[i].addr, why);
		else
			ck_assert_msg(why != NULL && strcmp(why, cases[i].why) == 0, "%s: \"%s\", want \"%s\"",
			    cases[i].addr, why ? why : "(allowed)", cases[i].why);
	}
	/* Not IP at all, or cut short. */
	ss.ss_family = AF_UNIX;
	ck_assert_ptr_nonnull(blob_address_refusal((struct sockaddr *)&ss, sizeof(ss)));
	addr_of("8.8.8.8", &ss);
	ck_assert_ptr_nonnull(blob_address_refusal((struct sockaddr *)&ss, 4));
	ck_assert_ptr_nonnull(blob_address_refusal(NULL, 0));
}
END_TEST

/* The spellings of 127.0.0.1 and other refused addresses, as the C
 * library's resolver reads them (what curl gets for a host name it does
 * not parse itself): every one is refused. */
START_TEST(address_spellings_resolved)
{
	static const char *const names[] = {
		"127.0.0.1", "127.1", "127.0.1", "2130706433", "0x7f000001", "0x7F.0.0.1",
		"0177.0.0.1", "0177.0.0.01", "017700000001", "0", "0.0.0.0", "localhost",
		"::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::",
		"169.254.169.254", "2852039166", "0xa9fea9fe", "10.1", "167772161", "0xa000001",
		"192.168.1", "3232235777", "0300.0250.01.01", "172.16.1", "100.64.0.1",
		"fd00::1", "fe80::1", "ff02::1", "224.0.0.251", "::ffff:169.254.169.254",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
		int rc = getaddrinfo(names[i], "443", &hints, &res);
		ck_assert_msg(rc == 0, "%s: %s", names[i], gai_strerror(rc));
		for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
			ck_assert_msg(blob_address_refusal(ai->ai_addr, ai->ai_addrlen) != NULL,
			    "%s resolved to an address that is not refused", names[i]);
		freeaddrinfo(res);
	}
}
END_TEST

START_TEST(allow_list_entries)
{
	char err[256];
	static const char *const good[] = {
		"", "  ", "example.com", "a.example.com:443 b.example.com", "127.0.0.1:10000",
		"127.0.0.1:10000,localhost ,[::1]:10000", "[::1]", "azurite:10000, ,azurite2",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(blob_policy_set(good[i], 0, err, sizeof(err)) == 0, "\"%s\": %s", good[i], err);
	}
	static const char *const bad[] = {
		"http://example.com", "example.com/x", "user@example.com", "example.com:0",
		"example.com:x", "example.com:99999", ":443", "::1", "fe80::1", "a?b", "a#b",
		"host:", "[::1", "a%2fb",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(blob_policy_set(bad[i], 0, err, sizeof(err)) == -1, "accepted \"%s\"", bad[i]);
		ck_assert_msg(strstr(err, "blob_allow_hosts") != NULL, "\"%s\": %s", bad[i], err);
	}
	/* A refused list leaves the rules as they were. */
	allow("kept.example:8080");
	ck_assert_int_eq(blob_policy_set("good.example bad/", 0, err, sizeof(err)), -1);
	ck_assert_int_eq(blob_endpoint_check("http://kept.example:8080/acct", err, sizeof(err)), 0);
	ck_assert_int_eq(blob_endpoint_check("http://good.example/acct", err, sizeof(err)), -1);
}
END_TEST

/* http:// only for a host on the list (with its port, when the entry has
 * one); https:// for any host. */
START_TEST(http_only_for_allowed)
{
	char err[256];
	allow("");
	static const struct {
		const char *list, *url;
		int ok;
	} cases[] = {
		{ "", "https://acct.blob.core.windows.net", 1 },
		{ "", "http://acct.blob.core.windows.net", 0 },
		{ "", "http://127.0.0.1:10000/devstoreaccount1", 0 },
		{ "azurite:10000 Store.Example", "http://azurite:10000/devstoreaccount1", 1 },
		{ "azurite:10000 Store.Example", "http://AZURITE:10000/devstoreaccount1", 1 },
		{ "azurite:10000 Store.Example", "http://azurite:10001/devstoreaccount1", 0 },
		{ "azurite:10000 Store.Example", "http://azurite/devstoreaccount1", 0 },
		{ "azurite:10000 Store.Example", "http://store.example:1234/x", 1 },
		{ "azurite:10000 Store.Example", "http://store.example/x", 1 },
		{ "azurite:10000 Store.Example", "http://store.example.evil/x", 0 },
		{ "azurite:10000 Store.Example", "http://evil.store.example/x", 0 },
		/* The same host in another spelling is the same host (curl's
		 * URL parser writes both alike); another address is not. */
		{ "127.0.0.1:10000", "http://127.1:10000/x", 1 },
		{ "127.0.0.1:10000", "http://2130706433:10000/x", 1 },
		{ "127.0.0.1:10000", "http://127.0.0.2:10000/x", 0 },
		{ "127.0.0.1:10000", "http://[::ffff:127.0.0.1]:10000/x", 0 },
		{ "127.0.0.1:10000", "http://localhost:10000/x", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		allow(cases[i].list);
		err[0] = '\0';
		ck_assert_msg(blob_endpoint_check(cases[i].url, err, sizeof(err)) == (cases[i].ok ? 0 : -1),
		    "allowed \"%s\", %s: \"%s\"", cases[i].list, cases[i].url, err);
		if (!cases[i].ok)
			ck_assert_str_eq(err, "the endpoint must be an https:// URL (http:// is only for "
			    "hosts in the blob_allow_hosts setting)");
	}

	/* A client with such an endpoint fails every call before connecting. */
	static struct seen s;
	allow("");
	ck_assert_int_eq(list_at("http://127.0.0.1:10000/acct", "c", &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the endpoint must be an https:// URL (http:// is only for hosts in "
	    "the blob_allow_hosts setting)");
}
END_TEST

/* With nothing allowed, every spelling of the address of a server that
 * answers (badhttp.js on 127.0.0.1) is refused at the moment of
 * connecting (https), or before (http: not an allowed host).  Without the
 * address rules the https requests would reach the server (and fail in
 * TLS) and the http ones would list its container. */
START_TEST(spellings_refused_at_connect)
{
	BAD_READY();
	static const char *const hosts[] = {
		"127.0.0.1", "127.1", "127.0.1", "2130706433", "0x7f000001", "0x7F.0.0.1",
		"0177.0.0.1", "0177.0.0.01", "127.000.000.001", "0", "0.0.0.0", "localhost",
		"LocalHost", "[::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
		"[::127.0.0.1]", "[::]",
	};
	char err[256], url[128];
	static struct seen s;
	allow("");
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		for (int https = 0; https < 2; https++) {
			snprintf(url, sizeof(url), "%s://%s:%d/acct", https ? "https" : "http", hosts[i], bad_port);
			ck_assert_msg(list_at(url, "paged", &s, err, sizeof(err)) == -1, "%s was reached", url);
			ck_assert_int_eq(s.n, 0);
			if (https)
				ck_assert_msg(strncmp(err, "refused to connect to ", 22) == 0 &&
				    strstr(err, "blob_allow_hosts") != NULL, "%s: %s", url, err);
			else
				ck_assert_msg(strncmp(err, "the endpoint must be an https:// URL", 36) == 0,
				    "%s: %s", url, err);
		}
	}
}
END_TEST

/* An allowed host is reached over http and without the address check;
 * by its exact host:port, by any spelling curl writes alike, or by name. */
START_TEST(allowed_hosts_work)
{
	BAD_READY();
	char err[256], url[128], list[64];
	static struct seen s;
	static const char *const ok[] = { "127.0.0.1", "127.1", "2130706433", "localhost" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(list, sizeof(list), "%s:%d", strcmp(ok[i], "localhost") == 0 ? "localhost" :
		    "127.0.0.1", bad_port);
		allow(list);
		snprintf(url, sizeof(url), "http://%s:%d/acct", ok[i], bad_port);
		ck_assert_msg(list_at(url, "paged", &s, err, sizeof(err)) == 0, "%s: %s", url, err);
		ck_assert_int_eq(s.n, 3);
	}
	/* Another port of the same host is not on the list. */
	snprintf(list, sizeof(list), "127.0.0.1:%d", bad_port + 1);
	allow(list);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/acct", bad_port);
	ck_assert_int_eq(list_at(url, "paged", &s, err, sizeof(err)), -1);
	ck_assert_msg(strncmp(err, "refused to connect to 127.0.0.1 (a loopback address)", 52) == 0, "%s", err);
}
END_TEST

/* ------------------------------------------------------------ streaming */

struct sink {
	int begun;
	int64_t size;
	unsigned char *data;
	size_t len, cap;
	int writes;
	int stop_after;          /* > 0: stop on this write */
};

static int sink_begin(void *ctx, int64_t size)
{
	struct sink *k = ctx;
	ck_assert_int_eq(k->begun, 0);
	ck_assert_int_eq(k->len, 0);
	k->begun = 1;
	k->size = size;
	return 0;
}

static int sink_write(void *ctx, const void *data, size_t len)
{
	struct sink *k = ctx;
	ck_assert_int_eq(k->begun, 1);
	if (k->len + len > k->cap) {
		k->cap = (k->len + len) * 2;
		k->data = realloc(k->data, k->cap);
		ck_assert_ptr_nonnull(k->data);
	}
	memcpy(k->data + k->len, data, len);
	k->len += len;
	k->writes++;
	return k->stop_after > 0 && k->writes >= k->stop_after;
}

START_TEST(get_stream)
{
	AZ_READY();
	char err[256] = "", name[96];
	size_t big = (size_t)3 << 20;
	unsigned char *blob = malloc(big);
	int started = -1;
	ck_assert_ptr_nonnull(blob);
	for (size_t i = 0; i < big; i++)
		blob[i] = (unsigned char)(i * 131 + (i >> 12));
	snprintf(name, sizeof(name), "%s-stream", az_container);
	struct blob_account a = az_acc(az_key, NULL);
	a.container = name;
	struct blob_client *c = blob_client_new(&a, NULL);
	ck_assert_msg(blob_container_create(c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(blob_put(c, "big.bmp", blob, big, "image/bmp", err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(blob_put(c, "empty.bmp", "", 0, NULL, err, sizeof(err)) == 0, "%s", err);

	/* The whole blob, in pieces, with its size first. */
	struct sink k = { 0 };
	ck_assert_msg(blob_get_stream(c, "big.bmp", (uint64_t)64 << 20, sink_begin, sink_write, &k,
	    &started, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(started, 1);
	ck_assert_int_eq(k.size, (int64_t)big);
	ck_assert_uint_eq(k.len, big);
	ck_assert_msg(k.writes > 1, "one piece of %zu bytes", k.len);
	ck_assert(memcmp(k.data, blob, big) == 0);
	free(k.data);

	/* An empty blob: begin(0), no piece. */
	memset(&k, 0, sizeof(k));
	ck_assert_msg(blob_get_stream(c, "empty.bmp", 0, sink_begin, sink_write, &k, &started,
	    err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(started, 1);
	ck_assert_int_eq(k.begun, 1);
	ck_assert_int_eq(k.size, 0);
	ck_assert_uint_eq(k.len, 0);

	/* Missing: no begin, the service's status in err. */
	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(blob_get_stream(c, "missing.bmp", 0, sink_begin, sink_write, &k, &started,
	    err, sizeof(err)), -1);
	ck_assert_int_eq(started, 0);
	ck_assert_int_eq(k.begun, 0);
	ck_assert_str_eq(err, "the blob service answered HTTP 404 (BlobNotFound)");

	/* Larger than allowed: refused before begin (Content-Length). */
	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(blob_get_stream(c, "big.bmp", (uint64_t)1 << 20, sink_begin, sink_write, &k,
	    &started, err, sizeof(err)), -1);
	ck_assert_int_eq(started, 0);
	ck_assert_uint_eq(k.len, 0);
	ck_assert_str_eq(err, "the blob is larger than 1048576 bytes");

	/* The reader stops: the transfer ends there. */
	memset(&k, 0, sizeof(k));
	k.stop_after = 1;
	ck_assert_int_eq(blob_get_stream(c, "big.bmp", 0, sink_begin, sink_write, &k, &started,
	    err, sizeof(err)), -1);
	ck_assert_int_eq(started, 1);
	ck_assert_int_eq(k.writes, 1);
	ck_assert_str_eq(err, "the transfer was stopped by its reader");
	free(k.data);
	blob_client_free(c);
	free(blob);
}
END_TEST

/* ------------------------------------------------------------ uploads (datastore_sink) */

/* The blob holds exactly len bytes of data. */
static void blob_is(struct blob_client *c, const char *name, const unsigned char *data, size_t len)
{
	char err[256] = "";
	unsigned char *out = NULL;
	size_t outlen = 0;
	ck_assert_msg(blob_get(c, name, 0, &out, &outlen, NULL, err, sizeof(err)) == 0, "%s: %s",
	    name, err);
	ck_assert_uint_eq(outlen, len);
	ck_assert_msg(len == 0 || memcmp(out, data, len) == 0, "%s: other bytes", name);
	free(out);
}

/* Into a nested folder in blocks of 64 KiB: a file smaller than a block, one
 * of four blocks, the same name three times (name, name-2, name-3; the
 * first never overwritten), a name without extension, an empty file; the
 * folder holds exactly those; the container's root as the folder. */
START_TEST(sink_blob_blocks_and_clashes)
{
	AZ_READY();
	struct datastore ds = { .id = 1, .name = "az", .kind = DATASTORE_AZUREBLOB };
	struct datastore_sink *s = NULL;
	struct blob_client *c = az_client();
	unsigned char *small, *big[3], *readme[2], *empty, *top;
	static struct seen seen;
	const size_t bigsize = 3 * 65536 + 17;
	char err[256] = "";

	datastore_sink_block_size(64 << 10);
	ds.blob = az_acc(az_key, NULL);
	ck_assert_msg(datastore_sink_open(&ds, "up/nested/deep", &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(sink_put_ok(s, 1000, 1, "small.png", &small), "small.png");
	blob_is(c, "up/nested/deep/small.png", small, 1000);
	ck_assert_str_eq(sink_put_ok(s, bigsize, 2, "big.jpg", &big[0]), "big.jpg");
	ck_assert_str_eq(sink_put_ok(s, bigsize - 5, 3, "big.jpg", &big[1]), "big-2.jpg");
	ck_assert_str_eq(sink_put_ok(s, 70000, 4, "big.jpg", &big[2]), "big-3.jpg");
	blob_is(c, "up/nested/deep/big.jpg", big[0], bigsize);
	blob_is(c, "up/nested/deep/big-2.jpg", big[1], bigsize - 5);
	blob_is(c, "up/nested/deep/big-3.jpg", big[2], 70000);
	ck_assert_str_eq(sink_put_ok(s, 10, 5, "README", &readme[0]), "README");
	ck_assert_str_eq(sink_put_ok(s, 11, 6, "README", &readme[1]), "README-2");
	blob_is(c, "up/nested/deep/README", readme[0], 10);
	blob_is(c, "up/nested/deep/README-2", readme[1], 11);
	ck_assert_str_eq(sink_put_ok(s, 0, 7, "empty.gif", &empty), "empty.gif");
	blob_is(c, "up/nested/deep/empty.gif", empty, 0);
	datastore_sink_close(s);

	memset(&seen, 0, sizeof(seen));
	ck_assert_msg(blob_list(c, "up/", NULL, 0, collect, &seen, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(seen.n, 7);
	static const char *const want[] = { "small.png", "big.jpg", "big-2.jpg", "big-3.jpg",
		"README", "README-2", "empty.gif" };
	for (size_t i = 0; i < 7; i++) {
		char full[128];
		snprintf(full, sizeof(full), "up/nested/deep/%s", want[i]);
		ck_assert_msg(seen_find(&seen, full, 0) >= 0, "%s is missing", full);
	}

	ck_assert_msg(datastore_sink_open(&ds, "", &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(sink_put_ok(s, 300, 8, "sink-top.bmp", &top), "sink-top.bmp");
	blob_is(c, "sink-top.bmp", top, 300);
	datastore_sink_close(s);
	free(small);
	free(big[0]);
	free(big[1]);
	free(big[2]);
	free(readme[0]);
	free(readme[1]);
	free(empty);
	free(top);
	blob_client_free(c);
	datastore_sink_block_size(0);
}
END_TEST

/* What is refused: folders that break the path rules (no sink), names that
 * are not one plain segment, a file shorter than its size (nothing is
 * committed under its name). */
START_TEST(sink_blob_refusals)
{
	AZ_READY();
	static const char *const folders[] = { "../up", "/up", "up//x", "up/./x", "up/../x", "a\\b" };
	struct datastore ds = { .id = 1, .name = "az", .kind = DATASTORE_AZUREBLOB };
	struct datastore_sink *s = NULL;
	struct blob_client *c = az_client();
	char err[256], stored[64];
	unsigned char *data, *out = NULL;
	size_t outlen;
	int fd;

	ds.blob = az_acc(az_key, NULL);
	for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		s = (struct datastore_sink *)1;
		err[0] = '\0';
		ck_assert_int_eq(datastore_sink_open(&ds, folders[i], &s, err, sizeof(err)), -1);
		ck_assert_ptr_null(s);
		ck_assert_msg(err[0] != '\0', "%s", folders[i]);
	}
	ck_assert_msg(datastore_sink_open(&ds, "refused", &s, err, sizeof(err)) == 0, "%s", err);
	fd = sink_file(100, 9, &data);
	sink_names_refused(s, fd);
	/* 100 bytes in the file, 200 claimed. */
	ck_assert_int_eq(datastore_sink_put(s, fd, 200, "short.png", stored, sizeof(stored), err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "the upload could not be read");
	ck_assert_int_eq(blob_get(c, "refused/short.png", 0, &out, &outlen, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "404"), "%s", err);
	/* The stored name must fit the caller's buffer. */
	ck_assert_int_eq(datastore_sink_put(s, fd, 100, "a-rather-long-name.png", stored, 8, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(blob_get(c, "refused/a-rather-long-name.png", 0, &out, &outlen, NULL, err,
	    sizeof(err)), -1);
	close(fd);
	free(data);
	datastore_sink_close(s);
	blob_client_free(c);
}
END_TEST

/* A SAS with create and write ('cw') is enough to upload; a read-only one
 * is refused by the service: DATASTORE_UNREACHABLE, the service's answer in
 * err (for the log). */
START_TEST(sink_blob_sas)
{
	AZ_READY();
	struct datastore ds = { .id = 1, .name = "az", .kind = DATASTORE_AZUREBLOB };
	struct datastore_sink *s = NULL;
	struct blob_client *c = az_client();
	char sas[512], err[256] = "", stored[64];
	unsigned char *data;
	int fd;

	datastore_sink_block_size(64 << 10);
	make_sas("cw", sas, sizeof(sas), 0);
	ds.blob = az_acc(NULL, sas);
	ck_assert_msg(datastore_sink_open(&ds, "sas-up", &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(sink_put_ok(s, 100000, 10, "p.webp", &data), "p.webp");
	blob_is(c, "sas-up/p.webp", data, 100000);
	free(data);
	ck_assert_str_eq(sink_put_ok(s, 100, 11, "p.webp", &data), "p-2.webp");
	blob_is(c, "sas-up/p-2.webp", data, 100);
	free(data);
	datastore_sink_close(s);

	make_sas("rl", sas, sizeof(sas), 0);
	ds.blob = az_acc(NULL, sas);
	ck_assert_msg(datastore_sink_open(&ds, "sas-up", &s, err, sizeof(err)) == 0, "%s", err);
	fd = sink_file(100, 12, &data);
	ck_assert_int_eq(datastore_sink_put(s, fd, 100, "denied.png", stored, sizeof(stored), err,
	    sizeof(err)), DATASTORE_UNREACHABLE);
	ck_assert_msg(strstr(err, "403"), "%s", err);
	close(fd);
	free(data);
	datastore_sink_close(s);
	blob_client_free(c);
	datastore_sink_block_size(0);
}
END_TEST

/* The counters of the flaky store of badhttp.js. */
static void flaky_stats(int *puts, int *commits)
{
	struct blob_account a = { .endpoint = bad_endpoint, .account = "acct",
		.container = "flakystats", .sas = "sv=x" };
	struct blob_client *c = blob_client_new(&a, NULL);
	unsigned char *out = NULL;
	size_t len = 0;
	char err[256] = "";
	ck_assert_ptr_nonnull(c);
	ck_assert_msg(blob_get(c, "x", 0, &out, &len, NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(sscanf((const char *)out, "{\"puts\":%d,\"commits\":%d}", puts, commits) == 2,
	    "%s", out);
	free(out);
	blob_client_free(c);
}

/* Each block whose first Put Block answers 503 is sent once more (each
 * carries its Content-MD5, which the store checks), and the file arrives
 * whole; a clash at the commit (409 BlobAlreadyExists) sends the file again
 * under the next name.  A service that answers 500 every time gets each
 * block twice at most: DATASTORE_UNREACHABLE, nothing committed. */
START_TEST(sink_blob_retry_and_clash)
{
	BAD_READY();
	struct datastore ds = { .id = 1, .name = "bad", .kind = DATASTORE_AZUREBLOB };
	struct datastore_sink *s = NULL;
	struct blob_limits l = bad_limits();
	struct blob_account a = { .endpoint = bad_endpoint, .account = "acct", .container = "flaky",
		.sas = "sv=x" };
	struct blob_client *c = blob_client_new(&a, &l);
	char err[256] = "", stored[64];
	unsigned char *data;
	int puts0, commits0, puts, commits, fd;

	ck_assert_ptr_nonnull(c);
	datastore_sink_block_size(64 << 10);
	ds.blob = a;
	flaky_stats(&puts0, &commits0);
	ck_assert_msg(datastore_sink_open(&ds, "f", &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(sink_put_ok(s, 150000, 13, "three.png", &data), "three.png");
	flaky_stats(&puts, &commits);
	ck_assert_int_eq(puts - puts0, 6);      /* 3 blocks, each twice */
	ck_assert_int_eq(commits - commits0, 1);
	blob_is(c, "f/three.png", data, 150000);
	free(data);
	/* Taken: the blocks again for three-2.png (new ids: each fails once). */
	ck_assert_str_eq(sink_put_ok(s, 150000, 14, "three.png", &data), "three-2.png");
	flaky_stats(&puts0, &commits0);
	ck_assert_int_eq(puts0 - puts, 12);
	ck_assert_int_eq(commits0 - commits, 2);
	blob_is(c, "f/three-2.png", data, 150000);
	free(data);
	datastore_sink_close(s);

	ds.blob.container = "blockfail";
	ck_assert_msg(datastore_sink_open(&ds, "", &s, err, sizeof(err)) == 0, "%s", err);
	fd = sink_file(150000, 15, &data);
	ck_assert_int_eq(datastore_sink_put(s, fd, 150000, "never.png", stored, sizeof(stored), err,
	    sizeof(err)), DATASTORE_UNREACHABLE);
	ck_assert_msg(strstr(err, "HTTP 500"), "%s", err);
	ck_assert(strstr(err, "SECRET") == NULL);
	flaky_stats(&puts, &commits);
	ck_assert_int_eq(puts - puts0, 2);
	ck_assert_int_eq(commits - commits0, 0);
	close(fd);
	free(data);
	datastore_sink_close(s);
	blob_client_free(c);
	datastore_sink_block_size(0);
}
END_TEST

static void allow_nothing(void)
{
	allow("");
}

static Suite *suite(void)
{
	az_endpoint = getenv("LABELD_TEST_AZURITE");
	if (!az_endpoint || !*az_endpoint) {
		fprintf(stderr, "test_blob: LABELD_TEST_AZURITE is not set; skipped\n");
		printf("0 passed, 0 failed\n");
		exit(77);
	}
	az_account = getenv("LABELD_TEST_AZURITE_ACCOUNT");
	if (!az_account || !*az_account)
		az_account = DEV_ACCOUNT;
	az_key = getenv("LABELD_TEST_AZURITE_KEY");
	if (!az_key || !*az_key)
		az_key = DEV_KEY;

	if (blob_global_init() < 0) {
		fprintf(stderr, "test_blob: blob_global_init failed\n");
		exit(EXIT_FAILURE);
	}
	Suite *s = suite_create("blob");
	TCase *az = tcase_create("azurite");
	tcase_add_unchecked_fixture(az, az_setup, NULL);
	tcase_set_timeout(az, 120);
	tcase_add_test(az, container_create_twice);
	tcase_add_test(az, list_flat_under_prefix);
	tcase_add_test(az, list_one_level);
	tcase_add_test(az, list_paging);
	tcase_add_test(az, get_full_and_ranged);
	tcase_add_test(az, get_from_offset);
	tcase_add_test(az, reader_reads_headers);
	tcase_add_test(az, get_missing_is_404);
	tcase_add_test(az, put_blocks_commit_delete);
	tcase_add_test(az, wrong_key_is_403);
	tcase_add_test(az, sas_token);
	tcase_add_test(az, get_heads_many);
	tcase_add_test(az, datastore_heads_blob);
	tcase_add_test(az, get_stream);
	tcase_add_test(az, sink_blob_blocks_and_clashes);
	tcase_add_test(az, sink_blob_refusals);
	tcase_add_test(az, sink_blob_sas);
	tcase_add_checked_fixture(az, allow_test_servers, NULL);
	suite_add_tcase(s, az);

	TCase *local = tcase_create("local");
	tcase_add_checked_fixture(local, allow_nothing, NULL);
	tcase_add_test(local, url_encoding);
	tcase_add_test(local, endpoint_check);
	tcase_add_test(local, unreachable);
	tcase_add_test(local, walk_unreachable);
	tcase_add_test(local, address_classes);
	tcase_add_test(local, address_spellings_resolved);
	tcase_add_test(local, allow_list_entries);
	tcase_add_test(local, http_only_for_allowed);
	suite_add_tcase(s, local);

	TCase *bad = tcase_create("badhttp");
	tcase_add_unchecked_fixture(bad, bad_setup, bad_teardown);
	tcase_add_checked_fixture(bad, allow_test_servers, NULL);
	tcase_add_test(bad, spellings_refused_at_connect);
	tcase_add_test(bad, allowed_hosts_work);
	tcase_set_timeout(bad, 60);
	tcase_add_test(bad, bad_redirect);
	tcase_add_test(bad, bad_error_bodies);
	tcase_add_test(bad, bad_endless_and_big);
	tcase_add_test(bad, bad_slow);
	tcase_add_test(bad, bad_xml);
	tcase_add_test(bad, bad_paged_markers);
	tcase_add_test(bad, bad_paged_page_hook);
	tcase_add_test(bad, bad_echo_sas);
	tcase_add_test(bad, bad_echo_shared_key);
	tcase_add_test(bad, bad_heads);
	tcase_add_test(bad, bad_range_ignored);
	tcase_add_test(bad, bad_encoded_names);
	tcase_add_test(bad, sink_blob_retry_and_clash);
	suite_add_tcase(s, bad);
	return s;
}

#include "unit.h"
