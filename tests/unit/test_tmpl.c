/*
 * test_tmpl.c: the template engine.  Most cases are data files in
 * tests/unit/tmpl/ (see its README); the rest checks the API edges, the
 * partial depth limit, tmpl_add_dir, threads, and feeds truncated and
 * mutated templates to the parser (run under ASan to make that count).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>

#include "arena.h"
#include "buf.h"
#include "tmpl.h"

#define DATA_DIR TEST_SRCDIR "/tests/unit/tmpl"
#define PARTIALS_DIR DATA_DIR "/partials"

/* ------------------------------------------------------------ helpers */

/* The whole file, NUL-terminated (len excludes the NUL); NULL if absent. */
static char *file_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			data = realloc(data, cap);
			ck_assert_ptr_nonnull(data);
		}
		size_t got = fread(data + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	data[n] = '\0';
	*len = n;
	return data;
}

static char *path_join(const char *name, const char *ext)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/%s%s", DATA_DIR, name, ext), 0);
	return p;
}

/* Case names (basenames without ".html") of the data directory, sorted;
 * want_errors selects the "-error-" ones or the others. */
static char **case_list(int want_errors, size_t *count)
{
	DIR *d = opendir(DATA_DIR);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;

	ck_assert_msg(d != NULL, "%s: %s", DATA_DIR, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l <= 5 || strcmp(de->d_name + l - 5, ".html") != 0)
			continue;
		if ((strstr(de->d_name, "-error-") != NULL) != want_errors)
			continue;
		v = realloc(v, (n + 1) * sizeof(*v));
		ck_assert_ptr_nonnull(v);
		v[n] = strndup(de->d_name, l - 5);
		ck_assert_ptr_nonnull(v[n]);
		n++;
	}
	closedir(d);
	for (size_t i = 1; i < n; i++) {     /* insertion sort: few names */
		for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			char *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	}
	*count = n;
	return v;
}

static void case_list_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A set holding every template of tests/unit/tmpl/partials. */
static struct tmpl_set *base_set(void)
{
	struct tmpl_set *set = tmpl_set_new();
	char err[512] = "";

	ck_assert_ptr_nonnull(set);
	ck_assert_msg(tmpl_add_dir(set, PARTIALS_DIR, "", err,
	    sizeof(err)) == 0, "partials: %s", err);
	return set;
}

/* Add a case template from the data directory under its own name. */
static int case_add(struct tmpl_set *set, const char *name, char *err,
    size_t errlen)
{
	char *path = path_join(name, ".html"), *file;
	size_t len;
	char *text = file_slurp(path, &len);
	int rc;

	ck_assert_msg(text != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_ge(asprintf(&file, "%s.html", name), 0);
	rc = tmpl_add(set, name, file, text, len, err, errlen);
	free(file);
	free(text);
	free(path);
	return rc;
}

/* A buffer that starts with room for nothing but the NUL, so every append
 * goes through the growth path. */
static void buf_init_tiny(struct buf *b, struct arena *a)
{
	buf_init(b, a);
	b->data = arena_alloc(a, 1);
	ck_assert_ptr_nonnull(b->data);
	b->data[0] = '\0';
	b->cap = 1;
}

static int case_render(const struct tmpl_set *set, const char *name,
    struct json_object *view, struct buf *b)
{
	if (strstr(name, "-page-") != NULL)
		return tmpl_render_page(set, "layout", name, view, b);
	return tmpl_render(set, name, view, b);
}

/* Render src (a whole template) with view; "" when the render failed. */
static char *render_str(struct tmpl_set *set, const char *name,
    struct json_object *view, struct arena *a)
{
	struct buf b;

	buf_init(&b, a);
	if (tmpl_render(set, name, view, &b) < 0)
		return NULL;
	return b.len ? b.data : "";
}

static void add_ok(struct tmpl_set *set, const char *name, const char *text)
{
	char err[512] = "";

	ck_assert_msg(tmpl_add(set, name, NULL, text, strlen(text), err,
	    sizeof(err)) == 0, "%s: %s", name, err);
}

/* ------------------------------------------------------------ data cases */

START_TEST(test_pairs)
{
	size_t n, i;
	char **names = case_list(0, &n);

	ck_assert_uint_ge(n, 25);
	for (i = 0; i < n; i++) {
		const char *name = names[i];
		struct tmpl_set *set = base_set();
		struct arena *a = arena_new();
		char err[512] = "", *jpath, *epath, *expected;
		struct json_object *view;
		struct buf b, tiny;
		size_t elen;

		ck_assert_ptr_nonnull(a);
		ck_assert_msg(case_add(set, name, err, sizeof(err)) == 0,
		    "%s: %s", name, err);
		ck_assert_msg(tmpl_link(set, err, sizeof(err)) == 0,
		    "%s: link: %s", name, err);
		jpath = path_join(name, ".json");
		epath = path_join(name, ".expected");
		view = json_object_from_file(jpath);
		ck_assert_msg(view != NULL, "%s: bad view", jpath);
		expected = file_slurp(epath, &elen);
		ck_assert_msg(expected != NULL, "%s missing", epath);

		buf_init(&b, a);
		ck_assert_msg(case_render(set, name, view, &b) == 0,
		    "%s: render failed", name);
		ck_assert_msg(b.len == elen && (elen == 0 ||
		    memcmp(b.data, expected, elen) == 0),
		    "%s: got (%zu bytes)\n[%s]\nexpected (%zu bytes)\n[%s]",
		    name, b.len, b.len ? b.data : "", elen, expected);

		/* Again from a one-byte buffer, appended after a prefix. */
		buf_init_tiny(&tiny, a);
		buf_adds(&tiny, "PREFIX");
		ck_assert_msg(case_render(set, name, view, &tiny) == 0,
		    "%s: tiny render failed", name);
		ck_assert_uint_eq(tiny.len, 6 + elen);
		ck_assert_msg(memcmp(tiny.data, "PREFIX", 6) == 0 &&
		    memcmp(tiny.data + 6, expected, elen) == 0,
		    "%s: tiny buffer output differs", name);
		ck_assert_int_eq(tiny.data[tiny.len], '\0');

		json_object_put(view);
		free(expected);
		free(epath);
		free(jpath);
		arena_free(a);
		tmpl_set_free(set);
	}
	case_list_free(names, n);
}
END_TEST

START_TEST(test_error_cases)
{
	size_t n, i;
	char **names = case_list(1, &n);

	ck_assert_uint_ge(n, 15);
	for (i = 0; i < n; i++) {
		struct tmpl_set *set = base_set();
		char err[512] = "", *epath = path_join(names[i], ".err");
		size_t elen;
		char *want = file_slurp(epath, &elen);
		int rc;

		ck_assert_msg(want != NULL, "%s missing", epath);
		while (elen > 0 && (want[elen - 1] == '\n' ||
		    want[elen - 1] == '\r'))
			want[--elen] = '\0';
		ck_assert_uint_gt(elen, 0);
		rc = case_add(set, names[i], err, sizeof(err));
		if (rc == 0)
			rc = tmpl_link(set, err, sizeof(err));
		ck_assert_msg(rc == -1, "%s: accepted", names[i]);
		ck_assert_msg(strncmp(err, want, elen) == 0,
		    "%s: got error\n  %s\nwant prefix\n  %s", names[i], err,
		    want);
		/* A failed add leaves the set without the template. */
		if (strstr(want, "partial") == NULL &&
		    strstr(want, "content") == NULL)
			ck_assert(!tmpl_exists(set, names[i]));
		free(want);
		free(epath);
		tmpl_set_free(set);
	}
	case_list_free(names, n);
}
END_TEST

/* ------------------------------------------------------------ partials */

START_TEST(test_depth_limit)
{
	struct tmpl_set *set = tmpl_set_new();
	struct arena *a = arena_new();
	struct json_object *view = json_object_new_object();
	struct buf b;
	char name[16], text[64], *out;
	int i;

	add_ok(set, "self", "x{{>self}}");
	buf_init(&b, a);
	buf_adds(&b, "keep");
	ck_assert_int_eq(tmpl_render(set, "self", view, &b), -1);
	/* Nothing of the failed render stays. */
	ck_assert_uint_eq(b.len, 4);
	ck_assert_str_eq(b.data, "keep");
	ck_assert(!b.failed);

	/* c00 includes c01 ... includes c33: 32 nested partials from c00 to
	 * c32 render; 33 (from c00 to c33) fail. */
	for (i = 0; i <= 33; i++) {
		snprintf(name, sizeof(name), "c%02d", i);
		if (i == 33)
			snprintf(text, sizeof(text), "end");
		else
			snprintf(text, sizeof(text), "%d,{{>c%02d}}", i, i + 1);
		add_ok(set, name, text);
	}
	ck_assert_ptr_null(render_str(set, "c00", view, a));
	out = render_str(set, "c01", view, a);
	ck_assert_ptr_nonnull(out);
	ck_assert(strncmp(out, "1,2,3,", 6) == 0);
	ck_assert(strstr(out, "32,end") != NULL);

	/* The page of a layout counts as one level. */
	add_ok(set, "layout", "[{{>content}}]");
	buf_init(&b, a);
	ck_assert_int_eq(tmpl_render_page(set, "layout", "c02", view, &b), 0);
	buf_init(&b, a);
	ck_assert_int_eq(tmpl_render_page(set, "layout", "c01", view, &b), -1);
	ck_assert_uint_eq(b.len, 0);

	/* Recursion that stops in time is fine.  The innermost level needs
	 * its own falsy "n": a missing one would find the parent's. */
	add_ok(set, "count", "{{#n}}<{{>count}}>{{/n}}");
	json_object_put(view);
	view = json_tokener_parse("{\"n\":{\"n\":{\"n\":{\"n\":false}}}}");
	ck_assert_ptr_nonnull(view);
	out = render_str(set, "count", view, a);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "<<<>>>");

	json_object_put(view);
	arena_free(a);
	tmpl_set_free(set);
}
END_TEST

START_TEST(test_layout)
{
	struct tmpl_set *set = tmpl_set_new();
	struct arena *a = arena_new();
	struct json_object *view = json_tokener_parse(
	    "{\"title\":\"T<\",\"user\":{\"name\":\"Ann\"}}");
	char err[256];
	struct buf b;

	add_ok(set, "layout", "<h1>{{title}}</h1>{{#user}}<main>{{>content}}"
	    "</main>{{/user}}");
	add_ok(set, "page", "hi {{name}}, {{title}}");
	ck_assert_int_eq(tmpl_link(set, err, sizeof(err)), 0);

	buf_init(&b, a);
	ck_assert_int_eq(tmpl_render_page(set, "layout", "page", view, &b), 0);
	ck_assert_str_eq(b.data, "<h1>T&lt;</h1><main>hi Ann, T&lt;</main>");

	/* Rendered on its own, the layout leaves the slot empty. */
	buf_clear(&b);
	ck_assert_int_eq(tmpl_render(set, "layout", view, &b), 0);
	ck_assert_str_eq(b.data, "<h1>T&lt;</h1><main></main>");

	buf_clear(&b);
	ck_assert_int_eq(tmpl_render_page(set, "layout", "nosuch", view, &b),
	    -1);
	ck_assert_int_eq(tmpl_render_page(set, "nosuch", "page", view, &b),
	    -1);
	ck_assert_int_eq(tmpl_render_page(set, "layout", NULL, view, &b), -1);
	ck_assert_uint_eq(b.len, 0);

	/* A partial that includes the content slot is refused by link. */
	add_ok(set, "chrome", "{{>content}}");
	ck_assert_int_eq(tmpl_link(set, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "chrome:1: '{{>content}}' is allowed only in "
	    "the layout");

	json_object_put(view);
	arena_free(a);
	tmpl_set_free(set);
}
END_TEST

/* ------------------------------------------------------------ API edges */

START_TEST(test_api_edges)
{
	struct tmpl_set *set = tmpl_set_new();
	struct arena *a = arena_new();
	struct json_object *view = json_tokener_parse("{\"x\":\"y\"}");
	char err[256];
	struct buf b;

	add_ok(set, "t", "<{{x}}>");
	ck_assert(tmpl_exists(set, "t"));
	ck_assert(!tmpl_exists(set, "u"));
	ck_assert(!tmpl_exists(NULL, "t"));
	ck_assert(!tmpl_exists(set, NULL));

	/* Duplicate names are refused; the first stays. */
	ck_assert_int_eq(tmpl_add(set, "t", "t2.html", "z", 1, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "t2.html: template 't' is already defined");
	ck_assert_int_eq(tmpl_add(NULL, "v", NULL, "z", 1, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(tmpl_add(set, NULL, NULL, "z", 1, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(tmpl_add(set, "w", NULL, NULL, 1, err, sizeof(err)),
	    -1);
	/* An empty template from NULL text, and no error buffer at all. */
	ck_assert_int_eq(tmpl_add(set, "empty", NULL, NULL, 0, NULL, 0), 0);
	ck_assert_int_eq(tmpl_add(set, "bad", NULL, "{{{x}}}", 7, NULL, 0), -1);
	/* A tiny error buffer is truncated, not overrun. */
	ck_assert_int_eq(tmpl_add(set, "bad", "f", "{{&x}}", 6, err, 5), -1);
	ck_assert_str_eq(err, "f:1:");

	buf_init(&b, a);
	ck_assert_int_eq(tmpl_render(set, "nosuch", view, &b), -1);
	ck_assert_int_eq(tmpl_render(NULL, "t", view, &b), -1);
	ck_assert_int_eq(tmpl_render(set, NULL, view, &b), -1);
	ck_assert_int_eq(tmpl_render(set, "t", view, NULL), -1);
	ck_assert_int_eq(tmpl_render(set, "empty", view, &b), 0);
	ck_assert_uint_eq(b.len, 0);

	/* A NULL view renders like an empty one. */
	ck_assert_int_eq(tmpl_render(set, "t", NULL, &b), 0);
	ck_assert_str_eq(b.data, "<>");

	/* A failed buffer fails the render. */
	buf_clear(&b);
	b.failed = 1;
	ck_assert_int_eq(tmpl_render(set, "t", view, &b), -1);

	/* An unknown partial (link never called) fails the render. */
	add_ok(set, "p", "a{{>nosuch}}b");
	buf_init(&b, a);
	ck_assert_int_eq(tmpl_render(set, "p", view, &b), -1);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(tmpl_link(set, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "p:1: unknown partial 'nosuch'");
	ck_assert_int_eq(tmpl_link(NULL, err, sizeof(err)), -1);

	tmpl_set_free(NULL);
	json_object_put(view);
	arena_free(a);
	tmpl_set_free(set);
}
END_TEST

/* A view built in code (not parsed) with every kind of value. */
START_TEST(test_view_from_code)
{
	struct tmpl_set *set = tmpl_set_new();
	struct arena *a = arena_new();
	struct json_object *view = json_object_new_object(), *arr;
	char *out;

	json_object_object_add(view, "d", json_object_new_double(2.25));
	json_object_object_add(view, "i", json_object_new_int64(-5));
	json_object_object_add(view, "u",
	    json_object_new_uint64(UINT64_MAX));
	json_object_object_add(view, "s",
	    json_object_new_string_len("a\"b", 3));
	json_object_object_add(view, "n", NULL);
	arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_string("x"));
	json_object_array_add(arr, NULL);
	json_object_object_add(view, "a", arr);
	add_ok(set, "t", "{{d}} {{i}} {{u}} {{s}} [{{n}}] {{#n}}X{{/n}}"
	    "{{#a}}({{.}}){{/a}}{{#d}}{{.|url}}{{/d}}");
	out = render_str(set, "t", view, a);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "2.25 -5 18446744073709551615 a&quot;b [] "
	    "(x)()2.25");
	json_object_put(view);
	arena_free(a);
	tmpl_set_free(set);
}
END_TEST

/* ------------------------------------------------------------ add_dir */

static char *tmpdir_make(void)
{
	char *dir;

	ck_assert_int_ge(asprintf(&dir, "%s/tmpl-test-XXXXXX",
	    access(TEST_BUILDDIR, W_OK) == 0 ? TEST_BUILDDIR : "/tmp"), 0);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static void file_write(const char *dir, const char *name, const char *data,
    size_t len)
{
	char *path;
	FILE *f;

	ck_assert_int_ge(asprintf(&path, "%s/%s", dir, name), 0);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	free(path);
}

static void file_remove(const char *dir, const char *name)
{
	char *path;

	ck_assert_int_ge(asprintf(&path, "%s/%s", dir, name), 0);
	unlink(path);
	free(path);
}

START_TEST(test_add_dir)
{
	struct tmpl_set *set = tmpl_set_new();
	char err[1024] = "", *dir = tmpdir_make(), *big, *want;
	size_t mib = 1024 * 1024;

	/* The partials directory under a prefix. */
	ck_assert_int_eq(tmpl_add_dir(set, PARTIALS_DIR, "p/", err,
	    sizeof(err)), 0);
	ck_assert(tmpl_exists(set, "p/layout"));
	ck_assert(tmpl_exists(set, "p/user"));
	ck_assert(!tmpl_exists(set, "layout"));
	/* Twice: duplicates. */
	ck_assert_int_eq(tmpl_add_dir(set, PARTIALS_DIR "/", "p/", err,
	    sizeof(err)), -1);
	ck_assert(strstr(err, "already defined") != NULL);
	ck_assert_int_eq(tmpl_add_dir(set, DATA_DIR "/nosuch", "", err,
	    sizeof(err)), -1);
	ck_assert(strstr(err, "/nosuch: ") != NULL);
	tmpl_set_free(set);

	/* Only *.html, no dot files; exactly 1 MiB is fine. */
	big = malloc(mib + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', mib + 1);
	file_write(dir, "a.html", "A{{x}}", 6);
	file_write(dir, "b.txt", "{{{", 3);
	file_write(dir, ".hidden.html", "{{{", 3);
	file_write(dir, ".html", "{{{", 3);
	file_write(dir, "mib.html", big, mib);
	set = tmpl_set_new();
	ck_assert_msg(tmpl_add_dir(set, dir, "", err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert(tmpl_exists(set, "a"));
	ck_assert(tmpl_exists(set, "mib"));
	ck_assert(!tmpl_exists(set, "b"));
	ck_assert(!tmpl_exists(set, ".hidden"));
	tmpl_set_free(set);

	/* One byte more is refused. */
	file_write(dir, "mib.html", big, mib + 1);
	set = tmpl_set_new();
	ck_assert_int_eq(tmpl_add_dir(set, dir, "", err, sizeof(err)), -1);
	ck_assert_int_ge(asprintf(&want, "%s/mib.html: larger than 1 MiB",
	    dir), 0);
	ck_assert_str_eq(err, want);
	free(want);
	tmpl_set_free(set);
	file_remove(dir, "mib.html");

	/* Files go in sorted order: the first broken one is reported, with
	 * its path and line. */
	file_write(dir, "z.html", "{{#a}}", 6);
	file_write(dir, "m.html", "ok\n{{/a}}", 9);
	set = tmpl_set_new();
	ck_assert_int_eq(tmpl_add_dir(set, dir, "x-", err, sizeof(err)), -1);
	ck_assert_int_ge(asprintf(&want, "%s/m.html:2: '{{/a}}' closes no "
	    "open section", dir), 0);
	ck_assert_str_eq(err, want);
	free(want);
	ck_assert(tmpl_exists(set, "x-a"));
	ck_assert(!tmpl_exists(set, "x-m"));
	tmpl_set_free(set);

	file_remove(dir, "a.html");
	file_remove(dir, "b.txt");
	file_remove(dir, ".hidden.html");
	file_remove(dir, ".html");
	file_remove(dir, "z.html");
	file_remove(dir, "m.html");
	ck_assert_int_eq(rmdir(dir), 0);
	free(dir);
	free(big);
}
END_TEST

/* ------------------------------------------------------------ threads */

struct thread_job {
	const struct tmpl_set *set;
	struct json_object *view;
	const char *expected;
	int bad;
};

static void *thread_render(void *arg)
{
	struct thread_job *job = arg;
	struct arena *a = arena_new();
	struct buf b;
	int i;

	if (a == NULL) {
		job->bad++;
		return NULL;
	}
	for (i = 0; i < 300; i++) {
		buf_init(&b, a);
		if (tmpl_render_page(job->set, "layout", "32-page-sections",
		    job->view, &b) != 0 || strcmp(b.data, job->expected) != 0)
			job->bad++;
		arena_reset(a);
	}
	arena_free(a);
	return NULL;
}

START_TEST(test_threads)
{
	struct tmpl_set *set = base_set();
	struct thread_job jobs[4];
	pthread_t th[4];
	char err[256], *expected, *epath;
	struct json_object *view;
	size_t len;
	int i;

	ck_assert_int_eq(case_add(set, "32-page-sections", err, sizeof(err)),
	    0);
	epath = path_join("32-page-sections", ".expected");
	expected = file_slurp(epath, &len);
	ck_assert_ptr_nonnull(expected);
	free(epath);
	epath = path_join("32-page-sections", ".json");
	view = json_object_from_file(epath);
	ck_assert_ptr_nonnull(view);
	free(epath);
	/* All threads share one view too: rendering must not write to it. */
	for (i = 0; i < 4; i++) {
		jobs[i] = (struct thread_job){ set, view, expected, 0 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, thread_render,
		    &jobs[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_int_eq(jobs[i].bad, 0);
	}
	json_object_put(view);
	free(expected);
	tmpl_set_free(set);
}
END_TEST

/* ------------------------------------------------------------ robustness */

/* Parse (and when it parses, render) text held in memory of exactly len
 * bytes, so ASan sees any read past the end. */
static void try_parse(struct tmpl_set *set, const char *name,
    const char *text, size_t len, struct json_object *view, struct arena *a)
{
	char *copy = malloc(len ? len : 1), err[256] = "";
	struct buf b;
	int rc;

	ck_assert_ptr_nonnull(copy);
	if (len > 0)
		memcpy(copy, text, len);
	rc = tmpl_add(set, name, "fuzz.html", copy, len, err, sizeof(err));
	free(copy);
	if (rc != 0) {
		ck_assert_msg(strncmp(err, "fuzz.html:", 10) == 0 &&
		    strchr(err + 10, ':') != NULL, "bad message '%s'", err);
		return;
	}
	buf_init(&b, a);
	rc = tmpl_render(set, name, view, &b);
	ck_assert(rc == 0 || rc == -1);
	arena_reset(a);
}

START_TEST(test_truncated)
{
	size_t n[2], k, i, len, count = 0;
	char **names[2] = { case_list(0, &n[0]), case_list(1, &n[1]) };
	struct tmpl_set *set = base_set();
	struct arena *a = arena_new();
	struct json_object *view = json_object_new_object();
	char tname[32];

	for (k = 0; k < 2; k++) {
		for (i = 0; i < n[k]; i++) {
			char *path = path_join(names[k][i], ".html");
			char *text = file_slurp(path, &len);
			ck_assert_ptr_nonnull(text);
			for (size_t l = 0; l <= len; l++) {
				snprintf(tname, sizeof(tname), "t%zu", count++);
				try_parse(set, tname, text, l, view, a);
			}
			free(text);
			free(path);
		}
		case_list_free(names[k], n[k]);
	}
	json_object_put(view);
	arena_free(a);
	tmpl_set_free(set);
}
END_TEST

static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

START_TEST(test_mutations)
{
	static const char *const pieces[] = { "{{", "}}", "{{#a}}", "{{/a}}",
		"{{^b}}", "{{/b}}", "{{>user}}", "{{>m0}}", "{{!", "{{.}}",
		"{{a.b}}", "|url", "{", "}", "#", "/", "^", "&", ">", "!", ".",
		"|", "=", " ", "\n", "\r\n", "\t", "\0", "\xff", "a" };
	const size_t npieces = sizeof(pieces) / sizeof(pieces[0]);
	size_t n, i, len, count = 0;
	char **names = case_list(0, &n);
	struct tmpl_set *set = base_set();
	struct arena *a = arena_new();
	struct json_object *view = json_tokener_parse(
	    "{\"a\":[{\"b\":\"<x>\"},{\"a\":1}],\"b\":[],\"user\":{}}");
	uint32_t seed = 0x9e3779b9u;
	char tname[32], *work = malloc(4096);

	ck_assert_ptr_nonnull(work);
	add_ok(set, "m0", "{{#a}}{{b}}{{/a}}");
	for (i = 0; i < 3000; i++) {
		char *path = path_join(names[i % n], ".html");
		char *text = file_slurp(path, &len);
		int edits = 1 + (int)(rng_next(&seed) % 4);

		ck_assert_ptr_nonnull(text);
		if (len > 2048)
			len = 2048;
		memcpy(work, text, len);
		while (edits-- > 0) {
			size_t at = len ? rng_next(&seed) % (len + 1) : 0;
			const char *p = pieces[rng_next(&seed) % npieces];
			size_t pl = p[0] == '\0' ? 1 : strlen(p);
			switch (rng_next(&seed) % 3) {
			case 0:         /* insert */
				if (len + pl > 4096)
					break;
				memmove(work + at + pl, work + at, len - at);
				memcpy(work + at, p, pl);
				len += pl;
				break;
			case 1:         /* delete a few bytes */
				if (at < len) {
					size_t d = 1 + rng_next(&seed) % 3;
					if (d > len - at)
						d = len - at;
					memmove(work + at, work + at + d,
					    len - at - d);
					len -= d;
				}
				break;
			default:        /* overwrite one byte */
				if (at < len)
					work[at] = p[0];
				break;
			}
		}
		snprintf(tname, sizeof(tname), "f%zu", count++);
		try_parse(set, tname, work, len, view, a);
		free(text);
		free(path);
	}
	free(work);
	case_list_free(names, n);
	json_object_put(view);
	arena_free(a);
	tmpl_set_free(set);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tmpl");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_pairs);
	tcase_add_test(tc, test_error_cases);
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_api_edges);
	tcase_add_test(tc, test_view_from_code);
	tcase_add_test(tc, test_add_dir);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_mutations);
	suite_add_tcase(s, tc);
	return s;
}

#include "unit.h"
