/*
 * Unit tests: the Azure Blob client against a real Azurite (endpoint in
 * LABELD_TEST_AZURITE, e.g. http://127.0.0.1:10000/devstoreaccount1) and
 * against tests/unit/badhttp.js, a server that misbehaves on purpose.
 * Without LABELD_TEST_AZURITE the whole program is skipped (exit 77).
 */
#include <check.h>
#include <errno.h>
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

/* ------------------------------------------------------------ Azurite fixture */

static void az_setup(void)
{
	char err[256];
	az_setup_err[0] = '\0';
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
static int bad_port;
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

START_TEST(unreachable)
{
	char err[256];
	static struct seen s;
	struct blob_account a = { .endpoint = "http://127.0.0.1:1/acct", .account = "acct",
		.container = "c", .key = DEV_KEY };
	struct blob_limits l = bad_limits();
	struct blob_client *c = blob_client_new(&a, &l);
	ck_assert_int_eq(blob_list(c, "", NULL, 0, collect, &s, err, sizeof(err)), -1);
	ck_assert_msg(strncmp(err, "could not reach the blob service", 32) == 0, "%s", err);
	blob_client_free(c);
}
END_TEST

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
	tcase_add_test(az, get_missing_is_404);
	tcase_add_test(az, wrong_key_is_403);
	tcase_add_test(az, sas_token);
	tcase_add_test(az, get_heads_many);
	suite_add_tcase(s, az);

	TCase *local = tcase_create("local");
	tcase_add_test(local, url_encoding);
	tcase_add_test(local, endpoint_check);
	tcase_add_test(local, unreachable);
	suite_add_tcase(s, local);

	TCase *bad = tcase_create("badhttp");
	tcase_add_unchecked_fixture(bad, bad_setup, bad_teardown);
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
	suite_add_tcase(s, bad);
	return s;
}

#include "unit.h"
