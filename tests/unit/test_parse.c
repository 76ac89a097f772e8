/*
 * test_parse.c: unit tests of core/http_parse.c (query strings, urlencoded
 * and multipart bodies, cookies).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "arena.h"
#include "http_parse.h"

static struct arena *A;
static struct hp_limits L;
static char tmpdir[] = "/tmp/labeld-test-parse-XXXXXX";
static char tmpdir_buf[sizeof(tmpdir)];

/* Entries in the temp dir other than . and .. */
static int tmpdir_count(void)
{
	DIR *d = opendir(tmpdir_buf);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Per test case, in the parent process: the directory for temp files. */
static void tmpdir_make(void)
{
	memcpy(tmpdir_buf, tmpdir, sizeof(tmpdir));
	if (mkdtemp(tmpdir_buf) == NULL) {
		perror("mkdtemp");
		abort();
	}
}

/* Removes the directory, and whatever a failed test left in it. */
static void tmpdir_remove(void)
{
	DIR *d = opendir(tmpdir_buf);
	struct dirent *de;

	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			char path[sizeof(tmpdir_buf) + 256];

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", tmpdir_buf, de->d_name);
			(void)unlink(path);
		}
		closedir(d);
	}
	(void)rmdir(tmpdir_buf);
}

/* Per test: a fresh arena and the default limits. */
static void setup(void)
{
	A = arena_new();
	ck_assert_ptr_nonnull(A);
	hp_limits_default(&L);
}

static void teardown(void)
{
	arena_free(A);
	A = NULL;
	/* Every temp file is gone once the arena is. */
	ck_assert_int_eq(tmpdir_count(), 0);
}

/* ------------------------------------------------------------ url decoding */

START_TEST(decode_basic)
{
	size_t n = 99;
	char *s = hp_url_decode(A, "a%20b+c%2Bd%2f%2F", 17, 1, &n);

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "a b c+d//");
	ck_assert_uint_eq(n, 9);
	s = hp_url_decode(A, "a+b", 3, 0, &n);
	ck_assert_str_eq(s, "a+b");
	s = hp_url_decode(A, "", 0, 1, &n);
	ck_assert_str_eq(s, "");
	ck_assert_uint_eq(n, 0);
	s = hp_url_decode(A, NULL, 0, 1, &n);
	ck_assert_str_eq(s, "");
	s = hp_url_decode(A, "%41%62%C3%a9", 12, 1, &n);
	ck_assert_str_eq(s, "Ab\xc3\xa9");
	/* only len bytes are read */
	s = hp_url_decode(A, "abc%zz", 3, 1, &n);
	ck_assert_str_eq(s, "abc");
}
END_TEST

START_TEST(decode_bad)
{
	size_t n = 99;

	ck_assert_ptr_null(hp_url_decode(A, "%zz", 3, 1, &n));
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(hp_url_decode(A, "%", 1, 1, &n));
	ck_assert_ptr_null(hp_url_decode(A, "ab%4", 4, 1, &n));
	ck_assert_ptr_null(hp_url_decode(A, "%4g", 3, 1, &n));
	ck_assert_ptr_null(hp_url_decode(A, "%g4", 3, 1, &n));
	/* the escape is cut by len */
	ck_assert_ptr_null(hp_url_decode(A, "%41", 2, 1, &n));
}
END_TEST

START_TEST(decode_nul)
{
	size_t n;
	char *s = hp_url_decode(A, "a%00b", 5, 1, &n);

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(memcmp(s, "a\0b", 4), 0);
}
END_TEST

/* ------------------------------------------------------------ urlencoded */

static enum hp_err ue(const char *s, struct hp_form *f, const char **msg)
{
	return hp_parse_urlencoded(A, s, s != NULL ? strlen(s) : 0, &L, f, msg);
}

START_TEST(ue_basic)
{
	struct hp_form f = { 0 };
	const char *msg = "x";

	ck_assert_int_eq(ue("a=1&b=two&c=x+y%21", &f, &msg), HP_OK);
	ck_assert_ptr_null(msg);
	ck_assert_uint_eq(f.nfields, 3);
	ck_assert_str_eq(f.fields[0].name, "a");
	ck_assert_str_eq(f.fields[0].value, "1");
	ck_assert_uint_eq(f.fields[0].value_len, 1);
	ck_assert_str_eq(f.fields[1].name, "b");
	ck_assert_str_eq(f.fields[1].value, "two");
	ck_assert_str_eq(hp_form_get(&f, "c"), "x y!");
	ck_assert_ptr_null(hp_form_get(&f, "d"));
	ck_assert_ptr_null(hp_form_file(&f, "a"));
	ck_assert_uint_eq(f.nfiles, 0);
}
END_TEST

START_TEST(ue_plus_and_names)
{
	struct hp_form f = { 0 };
	const char *msg;

	ck_assert_int_eq(ue("first+name=J+R%2BR&a%5Bb%5D=%2b", &f, &msg), HP_OK);
	ck_assert_str_eq(hp_form_get(&f, "first name"), "J R+R");
	ck_assert_str_eq(hp_form_get(&f, "a[b]"), "+");
}
END_TEST

START_TEST(ue_empty)
{
	struct hp_form f = { 0 };
	const char *msg;

	ck_assert_int_eq(ue("", &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfields, 0);
	ck_assert_int_eq(hp_parse_urlencoded(A, NULL, 0, &L, &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfields, 0);
	ck_assert_int_eq(ue("&&&", &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfields, 0);

	ck_assert_int_eq(ue("&&a=&&b&c=3&=v&", &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfields, 4);
	ck_assert_str_eq(f.fields[0].name, "a");
	ck_assert_str_eq(f.fields[0].value, "");
	ck_assert_uint_eq(f.fields[0].value_len, 0);
	ck_assert_str_eq(f.fields[1].name, "b");
	ck_assert_str_eq(f.fields[1].value, "");
	ck_assert_str_eq(f.fields[2].value, "3");
	ck_assert_str_eq(f.fields[3].name, "");
	ck_assert_str_eq(f.fields[3].value, "v");
	/* only the first '=' separates */
	ck_assert_int_eq(ue("x=a=b", &f, &msg), HP_OK);
	ck_assert_str_eq(hp_form_get(&f, "x"), "a=b");
}
END_TEST

START_TEST(ue_repeated_and_append)
{
	struct hp_form f = { 0 };
	const char *msg;

	ck_assert_int_eq(ue("tag=a&tag=b", &f, &msg), HP_OK);
	ck_assert_int_eq(ue("tag=c&id=7", &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfields, 4);
	ck_assert_str_eq(hp_form_get(&f, "tag"), "a");
	ck_assert_str_eq(f.fields[2].value, "c");
	ck_assert_str_eq(hp_form_get(&f, "id"), "7");
}
END_TEST

START_TEST(ue_bad_escape)
{
	static const char *bad[] = { "a=%zz", "a=%", "a=1&b=%4", "%x1=v", "a=%%41", "a=b%" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hp_form f = { 0 };
		const char *msg = NULL;

		ck_assert_int_eq(ue("keep=1", &f, &msg), HP_OK);
		ck_assert_int_eq(ue(bad[i], &f, &msg), HP_MALFORMED);
		ck_assert_str_eq(msg, "bad percent-escape in form data");
		/* the form is as it was */
		ck_assert_uint_eq(f.nfields, 1);
		ck_assert_str_eq(hp_form_get(&f, "keep"), "1");
	}
}
END_TEST

START_TEST(ue_embedded_nul)
{
	struct hp_form f = { 0 };
	const char *msg;

	ck_assert_int_eq(ue("v=x%00y&w=%00", &f, &msg), HP_OK);
	ck_assert_uint_eq(f.fields[0].value_len, 3);
	ck_assert_int_eq(memcmp(f.fields[0].value, "x\0y\0", 4), 0);
	ck_assert_uint_eq(f.fields[1].value_len, 1);
	/* raw NUL bytes in the data (len counts them) */
	ck_assert_int_eq(hp_parse_urlencoded(A, "r=a\0b", 5, &L, &f, &msg), HP_OK);
	ck_assert_uint_eq(f.fields[2].value_len, 3);
	/* names are C strings: a NUL in one is refused */
	ck_assert_int_eq(ue("a%00b=1", &f, &msg), HP_MALFORMED);
	ck_assert_str_eq(msg, "form field name contains a NUL byte");
}
END_TEST

/* "f0=&f1=&..." with n fields. */
static char *many_fields(size_t n)
{
	char *s = arena_alloc(A, n * 12 + 1), *p = s;
	size_t i;

	for (i = 0; i < n; i++)
		p += sprintf(p, "%sf%zu=", i ? "&" : "", i);
	return s;
}

/* n bytes of c, NUL-terminated, in the arena. */
static char *repeat(char c, size_t n)
{
	char *s = arena_alloc(A, n + 1);

	memset(s, c, n);
	return s;
}

START_TEST(ue_limit_fields)
{
	struct hp_form f = { 0 };
	const char *msg;

	ck_assert_int_eq(ue(many_fields(256), &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfields, 256);
	f = (struct hp_form){ 0 };
	ck_assert_int_eq(ue(many_fields(257), &f, &msg), HP_TOO_MANY);
	ck_assert_str_eq(msg, "too many form fields (limit 256)");
	ck_assert_uint_eq(f.nfields, 0);
	/* empty pairs do not count */
	L.max_fields = 2;
	ck_assert_int_eq(ue("&&a=1&&&b=2&&", &f, &msg), HP_OK);
	ck_assert_int_eq(ue("a=1&b=2&c", &f, &msg), HP_TOO_MANY);
	ck_assert_str_eq(msg, "too many form fields");
	/* the limit is per call */
	ck_assert_uint_eq(f.nfields, 2);
	ck_assert_int_eq(ue("c=3&d=4", &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfields, 4);
}
END_TEST

START_TEST(ue_limit_name_value)
{
	struct hp_form f = { 0 };
	const char *msg;
	char *s;

	s = arena_printf(A, "%s=1", repeat('n', 128));
	ck_assert_int_eq(ue(s, &f, &msg), HP_OK);
	s = arena_printf(A, "%s=1", repeat('n', 129));
	ck_assert_int_eq(ue(s, &f, &msg), HP_TOO_LONG);
	ck_assert_str_eq(msg, "form field name too long (limit 128 bytes)");

	s = arena_printf(A, "v=%s", repeat('v', 65536));
	ck_assert_int_eq(ue(s, &f, &msg), HP_OK);
	ck_assert_uint_eq(f.fields[f.nfields - 1].value_len, 65536);
	s = arena_printf(A, "v=%s", repeat('v', 65537));
	ck_assert_int_eq(ue(s, &f, &msg), HP_TOO_LONG);
	ck_assert_str_eq(msg, "form field value too long (limit 65536 bytes)");

	/* the limit applies to decoded bytes */
	L.max_value = 3;
	L.max_name = 2;
	ck_assert_int_eq(ue("ab=%41%42%43", &f, &msg), HP_OK);
	ck_assert_str_eq(hp_form_get(&f, "ab"), "ABC");
	ck_assert_int_eq(ue("ab=%41%42%43%44", &f, &msg), HP_TOO_LONG);
	ck_assert_str_eq(msg, "form field value too long");
	ck_assert_int_eq(ue("%61%62=1", &f, &msg), HP_OK);
	ck_assert_int_eq(ue("%61%62c=1", &f, &msg), HP_TOO_LONG);
	ck_assert_str_eq(msg, "form field name too long");
	/* a pair without '=' has an empty value: always within the limit */
	L.max_value = 0;
	ck_assert_int_eq(ue("fl", &f, &msg), HP_OK);
	ck_assert_str_eq(hp_form_get(&f, "fl"), "");
}
END_TEST

START_TEST(ue_null_limits)
{
	struct hp_form f = { 0 };

	ck_assert_int_eq(hp_parse_urlencoded(A, "a=1", 3, NULL, &f, NULL), HP_OK);
	ck_assert_int_eq(hp_parse_urlencoded(A, "a=%", 3, NULL, &f, NULL), HP_MALFORMED);
	ck_assert_uint_eq(f.nfields, 1);
	{
		struct hp_field *c;
		size_t n;

		ck_assert_int_eq(hp_parse_cookies(A, "a=1", NULL, &c, &n, NULL), HP_OK);
		ck_assert_uint_eq(n, 1);
	}
}
END_TEST

START_TEST(limits_default)
{
	struct hp_limits l;

	memset(&l, 0xff, sizeof(l));
	hp_limits_default(&l);
	ck_assert_uint_eq(l.max_fields, 256);
	ck_assert_uint_eq(l.max_name, 128);
	ck_assert_uint_eq(l.max_value, 65536);
	ck_assert_uint_eq(l.max_parts, 1024);
	ck_assert_uint_eq(l.max_file, 64u * 1024 * 1024);
	ck_assert_uint_eq(l.max_header, 8192);
}
END_TEST

/* ------------------------------------------------------------ cookies */

START_TEST(ck_basic)
{
	struct hp_field *c = (void *)1;
	size_t n = 99;
	const char *msg = "x";

	ck_assert_int_eq(hp_parse_cookies(A, "a=1; b=2;c=three", &L, &c, &n, &msg), HP_OK);
	ck_assert_ptr_null(msg);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(c[0].name, "a");
	ck_assert_str_eq(c[0].value, "1");
	ck_assert_uint_eq(c[0].value_len, 1);
	ck_assert_str_eq(hp_cookie_get(c, n, "b"), "2");
	ck_assert_str_eq(hp_cookie_get(c, n, "c"), "three");
	ck_assert_ptr_null(hp_cookie_get(c, n, "d"));
	ck_assert_ptr_null(hp_cookie_get(c, n, "A"));
}
END_TEST

START_TEST(ck_whitespace_quotes)
{
	struct hp_field *c;
	size_t n;
	const char *msg;

	ck_assert_int_eq(hp_parse_cookies(A, "  sid = abc ;\tq=\"x y\"; e=; lone=\"z; dq=\"\"",
	    &L, &c, &n, &msg), HP_OK);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(hp_cookie_get(c, n, "sid"), "abc");
	ck_assert_str_eq(hp_cookie_get(c, n, "q"), "x y");
	ck_assert_uint_eq(c[1].value_len, 3);
	ck_assert_str_eq(hp_cookie_get(c, n, "e"), "");
	ck_assert_str_eq(hp_cookie_get(c, n, "lone"), "\"z");
	ck_assert_str_eq(hp_cookie_get(c, n, "dq"), "");
	/* values are not percent-decoded; '=' in a value is kept */
	ck_assert_int_eq(hp_parse_cookies(A, "t=a%20b==", &L, &c, &n, &msg), HP_OK);
	ck_assert_str_eq(hp_cookie_get(c, n, "t"), "a%20b==");
}
END_TEST

START_TEST(ck_junk)
{
	struct hp_field *c;
	size_t n;
	const char *msg;

	ck_assert_int_eq(hp_parse_cookies(A,
	    "junk; =nameless; ;; ok=1; sp ace=2; ctl=a\x01z; q\"n=3; ,c=4; ;=;=;x",
	    &L, &c, &n, &msg), HP_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(c[0].name, "ok");
	ck_assert_str_eq(c[0].value, "1");

	ck_assert_int_eq(hp_parse_cookies(A, ";;; ;", &L, &c, &n, &msg), HP_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(hp_parse_cookies(A, "", &L, &c, &n, &msg), HP_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(hp_parse_cookies(A, NULL, &L, &c, &n, &msg), HP_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(hp_cookie_get(c, n, "ok"));
	/* duplicate names: the first wins */
	ck_assert_int_eq(hp_parse_cookies(A, "d=1; d=2", &L, &c, &n, &msg), HP_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(hp_cookie_get(c, n, "d"), "1");
}
END_TEST

START_TEST(ck_limits)
{
	struct hp_field *c;
	size_t n;
	const char *msg;

	L.max_fields = 3;
	ck_assert_int_eq(hp_parse_cookies(A, "a=1; b=2; junk; c=3", &L, &c, &n, &msg), HP_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(hp_parse_cookies(A, "a=1; b=2; c=3; d=4", &L, &c, &n, &msg),
	    HP_TOO_MANY);
	ck_assert_str_eq(msg, "too many cookies");
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(c);

	L.max_name = 3;
	L.max_value = 4;
	ck_assert_int_eq(hp_parse_cookies(A, "abc=1234", &L, &c, &n, &msg), HP_OK);
	ck_assert_int_eq(hp_parse_cookies(A, "abcd=1", &L, &c, &n, &msg), HP_TOO_LONG);
	ck_assert_str_eq(msg, "cookie name too long");
	ck_assert_int_eq(hp_parse_cookies(A, "a=12345", &L, &c, &n, &msg), HP_TOO_LONG);
	ck_assert_str_eq(msg, "cookie value too long");
	/* the quotes do not count */
	ck_assert_int_eq(hp_parse_cookies(A, "a=\"1234\"", &L, &c, &n, &msg), HP_OK);

	L.max_fields = 0;
	ck_assert_int_eq(hp_parse_cookies(A, "junk", &L, &c, &n, &msg), HP_OK);
	ck_assert_int_eq(hp_parse_cookies(A, "a=1", &L, &c, &n, &msg), HP_TOO_MANY);

	hp_limits_default(&L);
	{
		char *hdr = arena_alloc(A, 257 * 8 + 1), *p = hdr;
		int i;

		for (i = 0; i < 257; i++)
			p += sprintf(p, "c%d=v; ", i);
		ck_assert_int_eq(hp_parse_cookies(A, hdr, &L, &c, &n, &msg), HP_TOO_MANY);
		ck_assert_str_eq(msg, "too many cookies (limit 256)");
	}
}
END_TEST

/* ------------------------------------------------------------ multipart */

enum { RD_ALL, RD_BYTE, RD_RANDOM, RD_FAIL };

struct reader {
	const char *data;
	size_t len, pos;
	int mode;
	unsigned rng;
	size_t fail_after;
};

static ssize_t test_read(void *ctx, char *buf, size_t len)
{
	struct reader *r = ctx;
	size_t n = r->len - r->pos;

	if (r->mode == RD_FAIL && r->pos >= r->fail_after)
		return -1;
	if (n > len)
		n = len;
	if (r->mode == RD_BYTE && n > 1)
		n = 1;
	if (r->mode == RD_RANDOM && n > 0) {
		size_t k;

		r->rng = r->rng * 1103515245u + 12345u;
		k = (r->rng >> 8) % 4 == 0 ? 1 + (r->rng >> 12) % 5000 : 1 + (r->rng >> 12) % 9;
		if (n > k)
			n = k;
	}
	if (r->mode == RD_FAIL && r->pos + n > r->fail_after)
		n = r->fail_after - r->pos;
	memcpy(buf, r->data + r->pos, n);
	r->pos += n;
	return (ssize_t)n;
}

#define CT "multipart/form-data; boundary=XyZ"

static enum hp_err mp_mode(const char *ct, const char *body, size_t len, int mode,
    unsigned seed, struct hp_form *f, const char **msg)
{
	struct reader r = { body, len, 0, mode, seed, 0 };
	enum hp_err e = hp_parse_multipart(A, ct, test_read, &r, tmpdir_buf, &L, f, msg);

	/* A successful parse has read the whole body. */
	if (e == HP_OK)
		ck_assert_uint_eq(r.pos, r.len);
	return e;
}

static enum hp_err mp(const char *ct, const char *body, struct hp_form *f, const char **msg)
{
	return mp_mode(ct, body, strlen(body), RD_ALL, 0, f, msg);
}

/* The bytes of a file, in the arena; *len gets the size. */
static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	struct stat st;
	char *d;

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fstat(fileno(fp), &st), 0);
	d = arena_alloc(A, (size_t)st.st_size + 1);
	ck_assert_uint_eq(fread(d, 1, (size_t)st.st_size, fp), (size_t)st.st_size);
	fclose(fp);
	*len = (size_t)st.st_size;
	return d;
}

static void assert_file(const struct hp_file *file, const char *bytes, size_t len)
{
	size_t got;
	char *d;

	ck_assert_ptr_nonnull(file);
	ck_assert_uint_eq(file->size, len);
	d = slurp(file->path, &got);
	ck_assert_uint_eq(got, len);
	ck_assert_int_eq(memcmp(d, bytes, len), 0);
}

static const char basic_body[] =
	"--XyZ\r\n"
	"Content-Disposition: form-data; name=\"title\"\r\n"
	"\r\n"
	"Cats & dogs\r\n"
	"--XyZ\r\n"
	"Content-Disposition: form-data; name=\"image\"; filename=\"cat.png\"\r\n"
	"Content-Type: image/png\r\n"
	"\r\n"
	"\x89PNG\r\n\x1a\n\0\0data\r\n"
	"--XyZ\r\n"
	"content-disposition: FORM-DATA; name=empty\r\n"
	"\r\n"
	"\r\n"
	"--XyZ--\r\n";

static void check_basic(const struct hp_form *f)
{
	const struct hp_file *file;

	ck_assert_uint_eq(f->nfields, 2);
	ck_assert_uint_eq(f->nfiles, 1);
	ck_assert_str_eq(hp_form_get(f, "title"), "Cats & dogs");
	ck_assert_uint_eq(f->fields[0].value_len, 11);
	ck_assert_str_eq(hp_form_get(f, "empty"), "");
	ck_assert_uint_eq(f->fields[1].value_len, 0);
	ck_assert_ptr_null(hp_form_get(f, "image"));
	file = hp_form_file(f, "image");
	ck_assert_ptr_nonnull(file);
	ck_assert_str_eq(file->field, "image");
	ck_assert_str_eq(file->filename, "cat.png");
	ck_assert_str_eq(file->content_type, "image/png");
	assert_file(file, "\x89PNG\r\n\x1a\n\0\0data", 14);
	ck_assert_ptr_null(hp_form_file(f, "title"));
}

START_TEST(mp_basic)
{
	struct hp_form f = { 0 };
	const char *msg = "x";
	struct stat st;
	char path[256];

	ck_assert_int_eq(mp_mode(CT, basic_body, sizeof(basic_body) - 1, RD_ALL, 0, &f, &msg), HP_OK);
	ck_assert_ptr_null(msg);
	check_basic(&f);
	ck_assert_int_eq(tmpdir_count(), 1);
	ck_assert_int_eq(strncmp(f.files[0].path, tmpdir_buf, strlen(tmpdir_buf)), 0);
	ck_assert_int_eq(stat(f.files[0].path, &st), 0);
	ck_assert_int_eq(st.st_mode & 077, 0);
	snprintf(path, sizeof(path), "%s", f.files[0].path);
	arena_reset(A);
	ck_assert_int_eq(stat(path, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(tmpdir_count(), 0);
}
END_TEST

START_TEST(mp_readers)
{
	unsigned seed;

	{
		struct hp_form f = { 0 };
		const char *msg;

		ck_assert_int_eq(mp_mode(CT, basic_body, sizeof(basic_body) - 1, RD_BYTE, 0,
		    &f, &msg), HP_OK);
		check_basic(&f);
		arena_reset(A);
	}
	for (seed = 1; seed <= 200; seed++) {
		struct hp_form f = { 0 };
		const char *msg;

		ck_assert_int_eq(mp_mode(CT, basic_body, sizeof(basic_body) - 1, RD_RANDOM,
		    seed, &f, &msg), HP_OK);
		check_basic(&f);
		arena_reset(A);
	}
}
END_TEST

/* Text that looks like the boundary but is data. */
static const char tricky_data[] =
	"line1\r\nline2\r\n\r\n"
	"--XyZ in the middle\r\n"
	"\r\n--XyZa not a delimiter\r\n"
	"\r\n--XyZ-x\r\n"
	"\r\n--Xy\r\n"
	"\r\n-\r\n--\r\n\r\n--XyZ\t \tz\r\n"
	"\n--XyZ\r\n"
	"\r\r\n--XyZ\rz";

START_TEST(mp_tricky_data)
{
	char *body = malloc(4096);
	size_t len;
	int mode;

	ck_assert_ptr_nonnull(body);
	len = (size_t)sprintf(body,
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"f\"; filename=\"t.txt\"\r\n"
	    "\r\n%s\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"v\"\r\n"
	    "\r\n%s\r\n"
	    "--XyZ--", tricky_data, tricky_data);
	for (mode = RD_ALL; mode <= RD_RANDOM; mode++) {
		struct hp_form f = { 0 };
		const char *msg;

		ck_assert_int_eq(mp_mode(CT, body, len, mode, 7, &f, &msg), HP_OK);
		ck_assert_uint_eq(f.nfiles, 1);
		ck_assert_uint_eq(f.nfields, 1);
		assert_file(&f.files[0], tricky_data, sizeof(tricky_data) - 1);
		ck_assert_uint_eq(f.fields[0].value_len, sizeof(tricky_data) - 1);
		ck_assert_str_eq(f.fields[0].value, tricky_data);
		arena_reset(A);
	}
	free(body);
}
END_TEST

/* Files whose closing delimiter straddles the reader's buffer edge at every
 * offset, and a file several buffers long. */
START_TEST(mp_buffer_edges)
{
	static const char head[] =
		"--XyZ\r\n"
		"Content-Disposition: form-data; name=\"f\"; filename=\"big.bin\"\r\n"
		"\r\n";
	static const char tail[] = "\r\n--XyZ\r\n"
		"Content-Disposition: form-data; name=\"after\"\r\n\r\nyes\r\n--XyZ--\r\n";
	size_t base = 16384 - 2 - (sizeof(head) - 1);
	size_t sizes[80 + 3], ns = 0, i;

	for (i = 0; i < 80; i++)
		sizes[ns++] = base - 40 + i;
	sizes[ns++] = 3 * 16384 + 17;
	sizes[ns++] = 200000;
	sizes[ns++] = 0;
	for (i = 0; i < ns; i++) {
		size_t size = sizes[i], len = sizeof(head) - 1 + size + sizeof(tail) - 1, k;
		char *body = arena_alloc(A, len), *data = body + sizeof(head) - 1;
		unsigned rng = (unsigned)size;
		int mode;

		memcpy(body, head, sizeof(head) - 1);
		for (k = 0; k < size; k++) {
			rng = rng * 1103515245u + 12345u;
			/* plenty of CR, LF and '-' to tempt the scanner */
			data[k] = "\r\n-X"[(rng >> 16) % 4];
			if ((rng >> 20) % 3 == 0)
				data[k] = (char)(rng >> 24);
		}
		memcpy(data + size, tail, sizeof(tail) - 1);
		for (mode = RD_ALL; mode <= RD_RANDOM; mode++) {
			struct hp_form f = { 0 };
			const char *msg;

			if (mode == RD_BYTE && size > 20000)
				continue;
			ck_assert_int_eq(mp_mode(CT, body, len, mode, (unsigned)i, &f, &msg), HP_OK);
			ck_assert_uint_eq(f.nfiles, 1);
			assert_file(&f.files[0], data, size);
			ck_assert_str_eq(hp_form_get(&f, "after"), "yes");
		}
		arena_reset(A);
	}
}
END_TEST

START_TEST(mp_truncated)
{
	static const char *bodies[] = {
		"",
		"just a preamble\r\n",
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n",
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ",
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ-",
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ\r\n",
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n",
		"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\nabc",
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ-x--",
		"--XyZ--x",
	};
	size_t i;
	int mode;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		for (mode = RD_ALL; mode <= RD_RANDOM; mode++) {
			struct hp_form f = { 0 };
			const char *msg = NULL;
			enum hp_err e = mp_mode(CT, bodies[i], strlen(bodies[i]), mode, 3, &f, &msg);

			if (i == sizeof(bodies) / sizeof(bodies[0]) - 1) {
				/* "--XyZ--" then epilogue "x": a valid empty body */
				ck_assert_int_eq(e, HP_OK);
				continue;
			}
			ck_assert_int_eq(e, HP_MALFORMED);
			ck_assert_str_eq(msg, "multipart body ends before its closing boundary");
			ck_assert_uint_eq(f.nfields, 0);
			ck_assert_uint_eq(f.nfiles, 0);
			arena_reset(A);
		}
	}
}
END_TEST

START_TEST(mp_boundary_param)
{
	struct hp_form f = { 0 };
	const char *msg;
	char *ct, *body;
	char b70[71], b71[72];

	ck_assert_int_eq(mp("multipart/form-data", "--XyZ--", &f, &msg), HP_MALFORMED);
	ck_assert_str_eq(msg, "multipart body without a boundary");
	ck_assert_int_eq(mp("multipart/form-data; charset=utf-8", "--XyZ--", &f, &msg),
	    HP_MALFORMED);
	ck_assert_str_eq(msg, "multipart body without a boundary");
	ck_assert_int_eq(mp("multipart/form-data; boundary=", "--XyZ--", &f, &msg), HP_MALFORMED);
	ck_assert_str_eq(msg, "multipart body without a boundary");
	ck_assert_int_eq(mp("multipart/form-data; boundary=\"\"", "----", &f, &msg), HP_MALFORMED);
	ck_assert_str_eq(msg, "multipart body without a boundary");
	ck_assert_int_eq(mp(NULL, "--XyZ--", &f, &msg), HP_MALFORMED);
	ck_assert_str_eq(msg, "multipart body without a boundary");
	ck_assert_int_eq(mp("multipart/form-data; boundary=\"unterminated", "--XyZ--", &f, &msg),
	    HP_MALFORMED);
	ck_assert_str_eq(msg, "multipart body without a boundary");
	ck_assert_int_eq(mp("text/plain; boundary=XyZ", "--XyZ--", &f, &msg), HP_MALFORMED);
	ck_assert_str_eq(msg, "not a multipart/form-data body");
	ck_assert_int_eq(mp("multipart/mixed; boundary=XyZ", "--XyZ--", &f, &msg), HP_MALFORMED);
	ck_assert_int_eq(mp("multipart/form-data; boundary=\"a\tb\"", "--XyZ--", &f, &msg),
	    HP_MALFORMED);
	ck_assert_str_eq(msg, "bad character in multipart boundary");

	memset(b70, 'b', 70);
	b70[70] = '\0';
	memset(b71, 'b', 71);
	b71[71] = '\0';
	ct = arena_printf(A, "multipart/form-data; boundary=%s", b71);
	ck_assert_int_eq(mp(ct, "", &f, &msg), HP_MALFORMED);
	ck_assert_str_eq(msg, "multipart boundary longer than 70 characters");
	ct = arena_printf(A, "multipart/form-data; boundary=%s", b70);
	body = arena_printf(A, "--%s\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--%s--",
	    b70, b70);
	ck_assert_int_eq(mp(ct, body, &f, &msg), HP_OK);
	ck_assert_str_eq(hp_form_get(&f, "a"), "1");

	/* quoted (with spaces and an escape), upper case, other parameters */
	f = (struct hp_form){ 0 };
	ck_assert_int_eq(mp("Multipart/Form-Data ; charset=\"x;y\"; BOUNDARY=\"a b\\\"c\" ; x=1",
	    "--a b\"c\r\nContent-Disposition: form-data; name=q\r\n\r\nok\r\n--a b\"c--",
	    &f, &msg), HP_OK);
	ck_assert_str_eq(hp_form_get(&f, "q"), "ok");
	/* the first boundary parameter wins */
	f = (struct hp_form){ 0 };
	ck_assert_int_eq(mp("multipart/form-data; boundary=one; boundary=two",
	    "--one\r\nContent-Disposition: form-data; name=q\r\n\r\n1\r\n--one--", &f, &msg),
	    HP_OK);
	ck_assert_uint_eq(f.nfields, 1);
}
END_TEST

START_TEST(mp_preamble_epilogue)
{
	struct hp_form f = { 0 };
	const char *msg;

	ck_assert_int_eq(mp(CT,
	    "This is a preamble.\r\n--XyZ is not it\r\n"
	    "--XyZ  \t\r\n"
	    "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
	    "1\r\n"
	    "--XyZ--  \r\n"
	    "epilogue\r\n--XyZ\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n--XyZ--\r\n",
	    &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfields, 1);
	ck_assert_str_eq(hp_form_get(&f, "a"), "1");
	ck_assert_ptr_null(hp_form_get(&f, "b"));

	/* transport padding is bounded: past 64 blanks it is not a boundary line */
	f = (struct hp_form){ 0 };
	ck_assert_int_eq(mp(CT, arena_printf(A, "--XyZ%s\r\nContent-Disposition: form-data; "
	    "name=a\r\n\r\n1\r\n--XyZ--", repeat(' ', 64)), &f, &msg), HP_OK);
	ck_assert_str_eq(hp_form_get(&f, "a"), "1");
	ck_assert_int_eq(mp(CT, arena_printf(A, "--XyZ%s\r\nContent-Disposition: form-data; "
	    "name=b\r\n\r\n1\r\n--XyZ--", repeat(' ', 65)), &f, &msg), HP_OK);
	/* ... so the part was preamble, and the close delimiter ended the body */
	ck_assert_ptr_null(hp_form_get(&f, "b"));
	ck_assert_uint_eq(f.nfields, 1);

	/* a body with no parts at all */
	f = (struct hp_form){ 0 };
	ck_assert_int_eq(mp(CT, "--XyZ--", &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfields, 0);
	ck_assert_int_eq(mp(CT, "\r\n--XyZ--\r\n", &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfields, 0);
}
END_TEST

START_TEST(mp_bare_lf_headers)
{
	struct hp_form f = { 0 };
	const char *msg;

	ck_assert_int_eq(mp(CT,
	    "--XyZ\n"
	    "Content-Disposition: form-data; name=\"a\"\n"
	    "X-Other: 1\n"
	    " folded continuation\n"
	    "junk line without colon\n"
	    "x\n"
	    "\n"
	    "1\n2\r\n"
	    "--XyZ--", &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfields, 1);
	ck_assert_str_eq(hp_form_get(&f, "a"), "1\n2");
}
END_TEST

START_TEST(mp_disposition)
{
	struct hp_form f = { 0 };
	const char *msg;

	ck_assert_int_eq(mp(CT, "--XyZ\r\nContent-Type: text/plain\r\n\r\n1\r\n--XyZ--", &f, &msg),
	    HP_MALFORMED);
	ck_assert_str_eq(msg, "multipart part without a Content-Disposition header");
	ck_assert_int_eq(mp(CT, "--XyZ\r\n\r\n1\r\n--XyZ--", &f, &msg), HP_MALFORMED);
	ck_assert_str_eq(msg, "multipart part without a Content-Disposition header");
	ck_assert_int_eq(mp(CT, "--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\n1\r\n"
	    "--XyZ--", &f, &msg), HP_MALFORMED);
	ck_assert_str_eq(msg, "multipart part is not form-data");
	ck_assert_int_eq(mp(CT, "--XyZ\r\nContent-Disposition: form-data; filename=x\r\n\r\n1\r\n"
	    "--XyZ--", &f, &msg), HP_MALFORMED);
	ck_assert_str_eq(msg, "multipart part without a field name");
	{
		static const char nul[] = "--XyZ\r\nContent-Disposition: form-data; name=\"a\0b\"\r\n"
			"\r\n1\r\n--XyZ--";

		ck_assert_int_eq(mp_mode(CT, nul, sizeof(nul) - 1, RD_ALL, 0, &f, &msg),
		    HP_MALFORMED);
		ck_assert_str_eq(msg, "NUL byte in multipart part headers");
	}
	ck_assert_uint_eq(f.nfields, 0);
	ck_assert_uint_eq(f.nfiles, 0);
}
END_TEST

START_TEST(mp_filenames)
{
	struct hp_form f = { 0 };
	const char *msg;

	ck_assert_int_eq(mp(CT,
	    "--XyZ\r\nContent-Disposition: form-data; name=\"e\"; filename=\"\"\r\n\r\n\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"q\"; filename=\"a\\\"b;c.txt\"\r\n\r\nq\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"w\"; filename=\"C:\\dir\\f.txt\"\r\n"
	    "Content-Type:   text/plain; charset=utf-8  \r\n\r\nw\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"u\"; filename=\"euro.txt\"; "
	    "filename*=UTF-8''%e2%82%ac%20rates.txt\r\n\r\nu\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"v\"; filename=\"plain.txt\"; "
	    "filename*=iso-8859-1'en'%a3.txt\r\n\r\nv\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"s\"; filename*=utf-8''a%2Fb\r\n\r\ns\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"z\"; filename*=utf-8''bad%zz\r\n\r\nz\r\n"
	    "--XyZ--", &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfiles, 7);
	ck_assert_uint_eq(f.nfields, 0);
	ck_assert_str_eq(hp_form_file(&f, "e")->filename, "");
	ck_assert_uint_eq(hp_form_file(&f, "e")->size, 0);
	ck_assert_str_eq(hp_form_file(&f, "e")->content_type, "");
	ck_assert_str_eq(hp_form_file(&f, "q")->filename, "a\"b;c.txt");
	ck_assert_str_eq(hp_form_file(&f, "w")->filename, "C:\\dir\\f.txt");
	ck_assert_str_eq(hp_form_file(&f, "w")->content_type, "text/plain; charset=utf-8");
	ck_assert_str_eq(hp_form_file(&f, "u")->filename, "\xe2\x82\xac rates.txt");
	ck_assert_str_eq(hp_form_file(&f, "v")->filename, "plain.txt");
	ck_assert_str_eq(hp_form_file(&f, "s")->filename, "a/b");
	ck_assert_str_eq(hp_form_file(&f, "z")->filename, "");
	assert_file(hp_form_file(&f, "w"), "w", 1);
	ck_assert_int_eq(tmpdir_count(), 7);
	arena_reset(A);
	ck_assert_int_eq(tmpdir_count(), 0);
}
END_TEST

/* Odd but parseable header syntax, and parameters that are skipped. */
START_TEST(mp_params)
{
	struct hp_form f = { 0 };
	const char *msg;

	ck_assert_int_eq(mp(" \tmultipart/form-data;; junk; =x; boundary = \"XyZ\"",
	    "--XyZ\r\n"
	    "Content-Disposition : form-data ; junk ; =v; name = \"a\" ; name=ignored\r\n\r\n"
	    "1\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"f\"; filename*=utf-8'no-second-quote\r\n"
	    "Content-Type: text/plain\r\ncontent-type: ignored/second\r\n\r\n"
	    "2\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"g\"; filename=\"x\"; filename*=\"UTF-8''q%41\"\r\n"
	    "\r\n3\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"h\"; filename=\"unterminated\r\n"
	    "\r\n4\r\n"
	    "--XyZ--", &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfields, 2);
	ck_assert_str_eq(hp_form_get(&f, "a"), "1");
	ck_assert_str_eq(hp_form_get(&f, "h"), "4");
	ck_assert_uint_eq(f.nfiles, 2);
	ck_assert_str_eq(hp_form_file(&f, "f")->filename, "");
	ck_assert_str_eq(hp_form_file(&f, "f")->content_type, "text/plain");
	ck_assert_str_eq(hp_form_file(&f, "g")->filename, "qA");
	/* a browser's escaped quote is kept as sent */
	f = (struct hp_form){ 0 };
	ck_assert_int_eq(mp(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a%22b\"\r\n\r\n"
	    "1\r\n--XyZ--", &f, &msg), HP_OK);
	ck_assert_str_eq(hp_form_get(&f, "a%22b"), "1");
}
END_TEST

/* NULL limits mean the defaults, NULL errmsg is allowed, NULL tmpdir is /tmp. */
START_TEST(mp_null_args)
{
	struct hp_form f = { 0 };
	struct reader r = { "--B--", 5, 0, RD_ALL, 0, 0 };
	static const char body[] = "--B\r\nContent-Disposition: form-data; name=f; filename=x\r\n"
		"\r\nfile\r\n--B--";
	char path[256];

	ck_assert_int_eq(hp_parse_multipart(A, "multipart/form-data; boundary=B", test_read,
	    &r, tmpdir_buf, NULL, &f, NULL), HP_OK);
	r.pos = 0;
	ck_assert_int_eq(hp_parse_multipart(A, "multipart/form-data; boundary=C", test_read,
	    &r, tmpdir_buf, NULL, &f, NULL), HP_MALFORMED);
	r = (struct reader){ body, sizeof(body) - 1, 0, RD_ALL, 0, 0 };
	ck_assert_int_eq(hp_parse_multipart(A, "multipart/form-data; boundary=B", test_read,
	    &r, NULL, NULL, &f, NULL), HP_OK);
	ck_assert_int_eq(strncmp(f.files[0].path, "/tmp/labeld-upload-", 19), 0);
	assert_file(&f.files[0], "file", 4);
	snprintf(path, sizeof(path), "%s", f.files[0].path);
	arena_reset(A);
	ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

START_TEST(mp_file_limit)
{
	struct hp_form f = { 0 };
	const char *msg;

	L.max_file = 10;
	ck_assert_int_eq(mp(CT, "--XyZ\r\nContent-Disposition: form-data; name=f; filename=a\r\n\r\n"
	    "0123456789\r\n--XyZ--", &f, &msg), HP_OK);
	ck_assert_uint_eq(f.files[0].size, 10);
	ck_assert_int_eq(mp(CT, "--XyZ\r\nContent-Disposition: form-data; name=g; filename=a\r\n\r\n"
	    "0123456789A\r\n--XyZ--", &f, &msg), HP_TOO_LONG);
	ck_assert_str_eq(msg, "uploaded file too large");
	ck_assert_uint_eq(f.nfiles, 1);
	ck_assert_int_eq(tmpdir_count(), 2);
	arena_reset(A);
	ck_assert_int_eq(tmpdir_count(), 0);

	/* default limit message; a file over 64 MiB is never written whole */
	hp_limits_default(&L);
	{
		static const char head[] =
			"--XyZ\r\nContent-Disposition: form-data; name=f; filename=big\r\n\r\n";
		size_t len = sizeof(head) - 1 + 64u * 1024 * 1024 + 100;
		char *body = malloc(len);
		struct hp_form g = { 0 };

		ck_assert_ptr_nonnull(body);
		memcpy(body, head, sizeof(head) - 1);
		memset(body + sizeof(head) - 1, 'x', len - (sizeof(head) - 1));
		ck_assert_int_eq(mp_mode(CT, body, len, RD_ALL, 0, &g, &msg), HP_TOO_LONG);
		ck_assert_str_eq(msg, "uploaded file too large (limit 64 MiB)");
		free(body);
	}
}
END_TEST

START_TEST(mp_value_limit)
{
	struct hp_form f = { 0 };
	const char *msg;

	L.max_value = 5;
	L.max_name = 3;
	{
		static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=abc\r\n\r\n"
			"12\0" "45\r\n--XyZ--";

		ck_assert_int_eq(mp_mode(CT, body, sizeof(body) - 1, RD_BYTE, 0, &f, &msg), HP_OK);
		ck_assert_uint_eq(f.fields[0].value_len, 5);
		ck_assert_int_eq(memcmp(f.fields[0].value, "12\0" "45", 6), 0);
	}
	ck_assert_int_eq(mp(CT, "--XyZ\r\nContent-Disposition: form-data; name=abc\r\n\r\n"
	    "123456\r\n--XyZ--", &f, &msg), HP_TOO_LONG);
	ck_assert_str_eq(msg, "form field value too long");
	ck_assert_int_eq(mp(CT, "--XyZ\r\nContent-Disposition: form-data; name=abcd\r\n\r\n"
	    "1\r\n--XyZ--", &f, &msg), HP_TOO_LONG);
	ck_assert_str_eq(msg, "form field name too long");
	/* file names are not field values */
	ck_assert_int_eq(mp(CT, "--XyZ\r\nContent-Disposition: form-data; name=abc; filename=f\r\n\r\n"
	    "123456789\r\n--XyZ--", &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfields, 1);
	ck_assert_uint_eq(f.nfiles, 1);

	hp_limits_default(&L);
	{
		char *v = repeat('v', 65537);
		char *body = arena_printf(A, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n"
		    "%s\r\n--XyZ--", v);

		ck_assert_int_eq(mp(CT, body, &f, &msg), HP_TOO_LONG);
		ck_assert_str_eq(msg, "form field value too long (limit 65536 bytes)");
		v[65536] = '\0';
		body = arena_printf(A, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n"
		    "%s\r\n--XyZ--", v);
		ck_assert_int_eq(mp(CT, body, &f, &msg), HP_OK);
		ck_assert_uint_eq(f.fields[1].value_len, 65536);
	}
}
END_TEST

START_TEST(mp_header_limit)
{
	struct hp_form f = { 0 };
	const char *msg;
	/* The header block counted with its CRLFs and the empty line. */
	static const char hdr[] = "Content-Disposition: form-data; name=a\r\n\r\n";
	char *body;

	L.max_header = sizeof(hdr) - 1;
	body = arena_printf(A, "--XyZ\r\n%s1\r\n--XyZ--", hdr);
	ck_assert_int_eq(mp(CT, body, &f, &msg), HP_OK);
	L.max_header = sizeof(hdr) - 2;
	ck_assert_int_eq(mp(CT, body, &f, &msg), HP_TOO_LONG);
	ck_assert_str_eq(msg, "multipart part headers too large");

	hp_limits_default(&L);
	body = arena_printf(A, "--XyZ\r\nX-Pad: %s\r\n%s1\r\n--XyZ--", repeat('p', 9000), hdr);
	ck_assert_int_eq(mp_mode(CT, body, strlen(body), RD_RANDOM, 5, &f, &msg), HP_TOO_LONG);
	ck_assert_str_eq(msg, "multipart part headers too large (limit 8192 bytes)");
	/* a header block that never ends */
	body = arena_printf(A, "--XyZ\r\nX-Pad: %s", repeat('p', 100000));
	ck_assert_int_eq(mp(CT, body, &f, &msg), HP_TOO_LONG);
	ck_assert_uint_eq(f.nfields, 1);
}
END_TEST

START_TEST(mp_part_limits)
{
	struct hp_form f = { 0 };
	const char *msg;
	static const char three[] =
		"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
		"--XyZ\r\nContent-Disposition: form-data; name=f; filename=x\r\n\r\n2\r\n"
		"--XyZ\r\nContent-Disposition: form-data; name=c\r\n\r\n3\r\n"
		"--XyZ--\r\n";

	L.max_parts = 3;
	ck_assert_int_eq(mp(CT, three, &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfields, 2);
	ck_assert_uint_eq(f.nfiles, 1);
	L.max_parts = 2;
	ck_assert_int_eq(mp(CT, three, &f, &msg), HP_TOO_MANY);
	ck_assert_str_eq(msg, "too many parts in multipart body");
	ck_assert_uint_eq(f.nfields, 2);

	/* files do not count as fields */
	L.max_parts = 1024;
	L.max_fields = 2;
	ck_assert_int_eq(mp(CT, three, &f, &msg), HP_OK);
	L.max_fields = 1;
	ck_assert_int_eq(mp(CT, three, &f, &msg), HP_TOO_MANY);
	ck_assert_str_eq(msg, "too many form fields");
	ck_assert_uint_eq(f.nfields, 4);
	ck_assert_uint_eq(f.nfiles, 2);

	hp_limits_default(&L);
	{
		char *body = arena_alloc(A, 1025 * 64 + 16), *p = body;
		int i;

		for (i = 0; i < 1025; i++)
			p += sprintf(p, "--XyZ\r\nContent-Disposition: form-data; name=f%d\r\n\r\n\r\n", i);
		strcpy(p, "--XyZ--");
		f = (struct hp_form){ 0 };
		L.max_fields = 2000;
		ck_assert_int_eq(mp(CT, body, &f, &msg), HP_TOO_MANY);
		ck_assert_str_eq(msg, "too many parts in multipart body (limit 1024)");
		L.max_fields = 256;
		L.max_parts = 2000;
		ck_assert_int_eq(mp(CT, body, &f, &msg), HP_TOO_MANY);
		ck_assert_str_eq(msg, "too many form fields (limit 256)");
	}
}
END_TEST

START_TEST(mp_append_to_form)
{
	struct hp_form f = { 0 };
	const char *msg;

	ck_assert_int_eq(ue("q=1&r=2", &f, &msg), HP_OK);
	ck_assert_int_eq(mp_mode(CT, basic_body, sizeof(basic_body) - 1, RD_ALL, 0, &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfields, 4);
	ck_assert_str_eq(f.fields[0].name, "q");
	ck_assert_str_eq(f.fields[2].name, "title");
	ck_assert_int_eq(mp_mode(CT, basic_body, sizeof(basic_body) - 1, RD_ALL, 0, &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfields, 6);
	ck_assert_uint_eq(f.nfiles, 2);
	ck_assert_str_ne(f.files[0].path, f.files[1].path);
	ck_assert_int_eq(ue("s=3", &f, &msg), HP_OK);
	ck_assert_uint_eq(f.nfields, 7);
	ck_assert_str_eq(hp_form_get(&f, "s"), "3");
	ck_assert_str_eq(hp_form_get(&f, "title"), "Cats & dogs");
}
END_TEST

START_TEST(mp_io_errors)
{
	struct hp_form f = { 0 };
	const char *msg;
	struct reader r = { basic_body, sizeof(basic_body) - 1, 0, RD_FAIL, 0, 150 };

	ck_assert_int_eq(hp_parse_multipart(A, CT, test_read, &r, tmpdir_buf, &L, &f, &msg), HP_IO);
	ck_assert_str_eq(msg, "could not read the request body");
	ck_assert_uint_eq(f.nfiles, 0);
	/* failing in the epilogue is still an error */
	r = (struct reader){ basic_body, sizeof(basic_body) - 1, 0, RD_FAIL, 0,
		sizeof(basic_body) - 1 };
	ck_assert_int_eq(hp_parse_multipart(A, CT, test_read, &r, tmpdir_buf, &L, &f, &msg), HP_IO);

	r = (struct reader){ basic_body, sizeof(basic_body) - 1, 0, RD_ALL, 0, 0 };
	ck_assert_int_eq(hp_parse_multipart(A, CT, test_read, &r, "/nonexistent/dir", &L, &f,
	    &msg), HP_IO);
	ck_assert_str_eq(msg, "could not store the uploaded file");
	ck_assert_uint_eq(f.nfields, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("http_parse");
	TCase *tc = tcase_create("decode");

	tcase_add_unchecked_fixture(tc, tmpdir_make, tmpdir_remove);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, decode_basic);
	tcase_add_test(tc, decode_bad);
	tcase_add_test(tc, decode_nul);
	tcase_add_test(tc, limits_default);
	suite_add_tcase(s, tc);

	tc = tcase_create("urlencoded");
	tcase_add_unchecked_fixture(tc, tmpdir_make, tmpdir_remove);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ue_basic);
	tcase_add_test(tc, ue_plus_and_names);
	tcase_add_test(tc, ue_empty);
	tcase_add_test(tc, ue_repeated_and_append);
	tcase_add_test(tc, ue_bad_escape);
	tcase_add_test(tc, ue_embedded_nul);
	tcase_add_test(tc, ue_limit_fields);
	tcase_add_test(tc, ue_limit_name_value);
	tcase_add_test(tc, ue_null_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("cookies");
	tcase_add_unchecked_fixture(tc, tmpdir_make, tmpdir_remove);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ck_basic);
	tcase_add_test(tc, ck_whitespace_quotes);
	tcase_add_test(tc, ck_junk);
	tcase_add_test(tc, ck_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("multipart");
	tcase_add_unchecked_fixture(tc, tmpdir_make, tmpdir_remove);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, mp_basic);
	tcase_add_test(tc, mp_readers);
	tcase_add_test(tc, mp_tricky_data);
	tcase_add_test(tc, mp_buffer_edges);
	tcase_add_test(tc, mp_truncated);
	tcase_add_test(tc, mp_boundary_param);
	tcase_add_test(tc, mp_preamble_epilogue);
	tcase_add_test(tc, mp_bare_lf_headers);
	tcase_add_test(tc, mp_disposition);
	tcase_add_test(tc, mp_filenames);
	tcase_add_test(tc, mp_params);
	tcase_add_test(tc, mp_null_args);
	tcase_add_test(tc, mp_file_limit);
	tcase_add_test(tc, mp_value_limit);
	tcase_add_test(tc, mp_header_limit);
	tcase_add_test(tc, mp_part_limits);
	tcase_add_test(tc, mp_append_to_form);
	tcase_add_test(tc, mp_io_errors);
	suite_add_tcase(s, tc);
	return s;
}

#include "unit.h"
