/* Unit tests: datastore path rules, the local walk (symlinks that leave
 * the root are never followed) and the readers image_read_header uses on
 * local files and open descriptors, and a batch's leading bytes. */
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datastore.h"
#include "unit_sink.h"

static char root[64], outside[64];

static void touch(const char *dir, const char *rel, const char *content)
{
	char p[PATH_MAX + 256];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	fclose(f);
}

static void mk(const char *dir, const char *rel)
{
	char p[PATH_MAX + 256];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	ck_assert_int_eq(mkdir(p, 0755), 0);
}

static void setup(void)
{
	char p[PATH_MAX], q[PATH_MAX];
	snprintf(root, sizeof(root), "/tmp/labeld-ds-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(outside, sizeof(outside), "/tmp/labeld-out-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(outside));
	touch(outside, "secret.png", "outside");
	mk(root, "a");
	mk(root, "a/b");
	mk(root, "a/b/c");
	mk(root, "z");
	touch(root, "top.png", "1");
	touch(root, "a/one.png", "22");
	touch(root, "a/b/two.jpg", "333");
	touch(root, "a/b/c/three.gif", "4444");
	touch(root, "a/.hidden.png", "h");
	/* A symlink inside the root to a file inside: followed. */
	snprintf(p, sizeof(p), "%s/a/link-in.png", root);
	ck_assert_int_eq(symlink("one.png", p), 0);
	/* Symlinks that leave the root: never followed. */
	snprintf(p, sizeof(p), "%s/a/link-out.png", root);
	snprintf(q, sizeof(q), "%s/secret.png", outside);
	ck_assert_int_eq(symlink(q, p), 0);
	snprintf(p, sizeof(p), "%s/a/dir-out", root);
	ck_assert_int_eq(symlink(outside, p), 0);
	snprintf(p, sizeof(p), "%s/a/rel-out.png", root);
	ck_assert_int_eq(symlink("../../../../../../../../../../../etc/hostname", p), 0);
}

static void teardown(void)
{
	char cmd[2 * PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", root, outside);
	ck_assert_int_eq(system(cmd), 0);
}

struct seen {
	char paths[32][256];
	unsigned long long sizes[32];
	int n;
};

static int record(void *ctx, const char *path, uint64_t size)
{
	struct seen *s = ctx;
	if (s->n < 32) {
		snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", path);
		s->sizes[s->n] = size;
		s->n++;
	}
	return 0;
}

static int has(const struct seen *s, const char *p)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->paths[i], p) == 0)
			return 1;
	return 0;
}

START_TEST(path_rules)
{
	char err[256];
	ck_assert_int_eq(datastore_path_check("", err, sizeof(err)), 0);
	ck_assert_int_eq(datastore_path_check("a/b/c.png", err, sizeof(err)), 0);
	ck_assert_int_eq(datastore_path_check("a/b/", err, sizeof(err)), 0);
	ck_assert_int_eq(datastore_path_check("..", err, sizeof(err)), -1);
	ck_assert_int_eq(datastore_path_check("a/../b", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ".."));
	ck_assert_int_eq(datastore_path_check("a/./b", err, sizeof(err)), -1);
	ck_assert_int_eq(datastore_path_check("/etc", err, sizeof(err)), -1);
	ck_assert_int_eq(datastore_path_check("a//b", err, sizeof(err)), -1);
	ck_assert_int_eq(datastore_path_check("a\\b", err, sizeof(err)), -1);
	ck_assert_int_eq(datastore_path_check("a\nb", err, sizeof(err)), -1);
	ck_assert_int_eq(datastore_path_check(NULL, err, sizeof(err)), -1);
	char longp[1100];
	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	ck_assert_int_eq(datastore_path_check(longp, err, sizeof(err)), -1);
	/* "..." is a name, not a parent reference. */
	ck_assert_int_eq(datastore_path_check("a/.../b", err, sizeof(err)), 0);
	/* The names a blob listing may bring, each with its reason. */
	ck_assert_int_eq(datastore_path_check("x\x01y.png", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the path may not contain control characters");
	ck_assert_int_eq(datastore_path_check("x\ty.png", err, sizeof(err)), -1);
	ck_assert_int_eq(datastore_path_check("x\x7fy.png", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the path may not contain control characters");
	ck_assert_int_eq(datastore_path_check("a//b.png", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the path may not contain empty segments ('//')");
	ck_assert_int_eq(datastore_path_check("/lead.png", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the path must be relative to the datastore (no leading '/')");
	ck_assert_int_eq(datastore_path_check("a/../b.png", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the path may not contain '.' or '..' segments");
	ck_assert_int_eq(datastore_path_check("./c.png", err, sizeof(err)), -1);
	ck_assert_int_eq(datastore_path_check("\xc3\xa9t\xc3\xa9 ok.png", err, sizeof(err)), 0);
}
END_TEST

START_TEST(path_split)
{
	char out[64];
	int rec;
	ck_assert_int_eq(datastore_path_split("a/b/**", out, sizeof(out), &rec), 0);
	ck_assert_str_eq(out, "a/b");
	ck_assert_int_eq(rec, 1);
	ck_assert_int_eq(datastore_path_split("a/b/", out, sizeof(out), &rec), 0);
	ck_assert_str_eq(out, "a/b");
	ck_assert_int_eq(rec, 0);
	ck_assert_int_eq(datastore_path_split("**", out, sizeof(out), &rec), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(rec, 1);
	ck_assert_int_eq(datastore_path_split("a", out, 1, &rec), -1);
}
END_TEST

START_TEST(walk_one_level_and_recursive)
{
	struct datastore ds = { .id = 1, .name = "t", .kind = DATASTORE_LOCAL, .local_path = root };
	struct seen s = { .n = 0 };
	char err[256];

	ck_assert_int_eq(datastore_walk(&ds, "a", 0, record, &s, err, sizeof(err)), 0);
	ck_assert(has(&s, "a/one.png"));
	ck_assert(has(&s, "a/link-in.png"));
	ck_assert(!has(&s, "a/b/two.jpg"));
	ck_assert(!has(&s, "a/.hidden.png"));
	ck_assert(!has(&s, "a/link-out.png"));
	ck_assert(!has(&s, "a/rel-out.png"));
	ck_assert_int_eq(s.n, 2);

	s.n = 0;
	ck_assert_int_eq(datastore_walk(&ds, "", 1, record, &s, err, sizeof(err)), 0);
	ck_assert(has(&s, "top.png"));
	ck_assert(has(&s, "a/b/two.jpg"));
	ck_assert(has(&s, "a/b/c/three.gif"));
	ck_assert(!has(&s, "a/dir-out/secret.png"));
	for (int i = 0; i < s.n; i++)
		ck_assert_msg(strstr(s.paths[i], "secret") == NULL, "walked outside: %s", s.paths[i]);
	ck_assert_int_eq(s.n, 5);

	s.n = 0;
	ck_assert_int_eq(datastore_walk(&ds, "a/dir-out", 1, record, &s, err, sizeof(err)), -1);
	ck_assert_int_eq(datastore_walk(&ds, "nope", 1, record, &s, err, sizeof(err)), -1);
	ck_assert_int_eq(datastore_walk(&ds, "../", 1, record, &s, err, sizeof(err)), -1);
}
END_TEST

/* The files seen and the ticks counted; a tick asks to stop at call
 * stop_at (0: never). */
struct ticked {
	struct seen s;      /* first: record() takes the same ctx */
	int ticks, stop_at;
};

static int tick(void *ctx)
{
	struct ticked *t = ctx;
	return ++t->ticks == t->stop_at;
}

START_TEST(walk_ticking)
{
	struct datastore ds = { .id = 1, .name = "t", .kind = DATASTORE_LOCAL, .local_path = root };
	struct ticked t = { .s = { .n = 0 } };
	char err[256];

	/* a/ holds seven names (one hidden) besides . and ..: each entry
	 * ticks, listed or skipped. */
	ck_assert_int_eq(datastore_walk_ticking(&ds, "a", 0, record, tick, &t, err, sizeof(err)), 0);
	ck_assert_int_eq(t.s.n, 2);
	ck_assert_int_ge(t.ticks, 7);
	/* Recursive: more ticks than files. */
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(datastore_walk_ticking(&ds, "", 1, record, tick, &t, err, sizeof(err)), 0);
	ck_assert_int_eq(t.s.n, 5);
	ck_assert_int_gt(t.ticks, 5);
	/* A tick that says stop stops the walk at once. */
	memset(&t, 0, sizeof(t));
	t.stop_at = 1;
	ck_assert_int_eq(datastore_walk_ticking(&ds, "", 1, record, tick, &t, err, sizeof(err)), 0);
	ck_assert_int_eq(t.ticks, 1);
	ck_assert_int_eq(t.s.n, 0);
}
END_TEST

START_TEST(open_and_read_stay_inside)
{
	struct datastore ds = { .id = 1, .name = "t", .kind = DATASTORE_LOCAL, .local_path = root };
	unsigned char buf[16];
	size_t got;
	char err[256];

	ck_assert_int_eq(datastore_read_head(&ds, "a/b/two.jpg", buf, sizeof(buf), &got, err, sizeof(err)), 0);
	ck_assert_uint_eq(got, 3);
	ck_assert_int_eq(datastore_read_head(&ds, "a/link-in.png", buf, sizeof(buf), &got, err, sizeof(err)), 0);
	ck_assert_uint_eq(got, 2);
	ck_assert_int_eq(datastore_read_head(&ds, "a/link-out.png", buf, sizeof(buf), &got, err, sizeof(err)), -1);
	ck_assert_int_eq(datastore_read_head(&ds, "a/rel-out.png", buf, sizeof(buf), &got, err, sizeof(err)), -1);
	ck_assert_int_eq(datastore_read_head(&ds, "a/dir-out/secret.png", buf, sizeof(buf), &got, err, sizeof(err)), -1);
	ck_assert_int_eq(datastore_local_open(root, "../x", err, sizeof(err)), -1);
}
END_TEST

/* A copy of a fixture image into the root. */
static void copy_fixture(const char *rel, const char *to)
{
	char src[PATH_MAX], dst[PATH_MAX + 64], buf[65536];
	snprintf(src, sizeof(src), "%s/tests/fixtures/images/%s", TEST_SRCDIR, rel);
	snprintf(dst, sizeof(dst), "%s/%s", root, to);
	FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
	size_t n;
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	ck_assert_int_eq(fclose(out), 0);
}

/* The readers: a local datastore file (opened beneath the root on the
 * first read), any open descriptor, and a path that leaves the root. */
START_TEST(readers_local_and_fd)
{
	struct datastore ds = { .id = 1, .name = "t", .kind = DATASTORE_LOCAL, .local_path = root };
	unsigned char *buf = malloc(IMAGE_HEADER_CAP);
	struct datastore_reader r;
	struct image_info info;
	char err[256] = "", p[PATH_MAX + 64];
	size_t len = 0;
	int fd;

	ck_assert_ptr_nonnull(buf);
	copy_fixture("formats/ten_segments.jpg", "a/ten.jpg");
	copy_fixture("hubble_deep_field.jpg", "a/b/hubble.jpg");

	datastore_reader_init(&r, &ds, "a/ten.jpg");
	ck_assert_int_eq(r.fd, -1);
	ck_assert_msg(image_read_header(&r.rd, buf, IMAGE_HEADER_CAP, &len, 0, &info, err,
	    sizeof(err)) == IMAGE_OK, "%s", err);
	ck_assert_uint_eq(info.width, 40);
	ck_assert_uint_eq(info.height, 30);
	ck_assert_int_ge(r.fd, 0);
	datastore_reader_close(&r);
	ck_assert_int_eq(r.fd, -1);

	/* From 4 KiB read ahead, as the init job reads. */
	ck_assert_int_eq(datastore_read_head(&ds, "a/b/hubble.jpg", buf, 4096, &len, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(len, 4096);
	datastore_reader_init(&r, &ds, "a/b/hubble.jpg");
	ck_assert_msg(image_read_header(&r.rd, buf, IMAGE_HEADER_CAP, &len, 0, &info, err,
	    sizeof(err)) == IMAGE_OK, "%s", err);
	ck_assert_uint_eq(info.width, 1000);
	ck_assert_uint_eq(info.height, 872);
	ck_assert_uint_lt(len, 65536);
	datastore_reader_close(&r);

	/* An open descriptor stays the caller's. */
	snprintf(p, sizeof(p), "%s/a/b/hubble.jpg", root);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	datastore_reader_fd(&r, fd);
	len = 0;
	ck_assert_int_eq(image_read_header(&r.rd, buf, IMAGE_HEADER_CAP, &len, 0, &info, err,
	    sizeof(err)), IMAGE_OK);
	ck_assert_uint_eq(info.width, 1000);
	datastore_reader_close(&r);
	ck_assert_int_eq(fcntl(fd, F_GETFD), FD_CLOEXEC);
	close(fd);

	/* Out of the root and missing: read errors with the reason. */
	datastore_reader_init(&r, &ds, "a/link-out.png");
	len = 0;
	ck_assert_int_eq(image_read_header(&r.rd, buf, IMAGE_HEADER_CAP, &len, 0, &info, err,
	    sizeof(err)), IMAGE_READ_ERROR);
	ck_assert_msg(strstr(err, "outside the datastore") != NULL, "%s", err);
	datastore_reader_close(&r);
	datastore_reader_init(&r, &ds, "a/none.jpg");
	ck_assert_int_eq(image_read_header(&r.rd, buf, IMAGE_HEADER_CAP, &len, 0, &info, err,
	    sizeof(err)), IMAGE_READ_ERROR);
	ck_assert_msg(strstr(err, "a/none.jpg") != NULL, "%s", err);
	datastore_reader_close(&r);
	free(buf);
}
END_TEST

/* A batch's leading bytes: what each file holds, whole when short, and
 * the reason for a file that leaves the root or is missing. */
START_TEST(heads_local)
{
	struct datastore ds = { .id = 1, .name = "t", .kind = DATASTORE_LOCAL, .local_path = root };
	const char *paths[] = { "a/b/two.jpg", "a/link-out.png", "a/b/hubble.jpg", "a/none.png" };
	struct datastore_heads *h;
	const unsigned char *data;
	const char *reason, *detail;
	struct ticked t = { .s = { .n = 0 } };
	char err[256] = "";
	size_t len;
	int whole;

	copy_fixture("hubble_deep_field.jpg", "a/b/hubble.jpg");
	ck_assert_int_eq(datastore_heads_read(&ds, paths, 4, tick, &t, &h, err, sizeof(err)), 0);
	ck_assert_int_ge(t.ticks, 1);
	ck_assert_int_eq(datastore_heads_get(h, 0, &data, &len, &whole, &reason, &detail), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(whole, 1);
	ck_assert_int_eq(memcmp(data, "333", 3), 0);
	ck_assert_int_eq(datastore_heads_get(h, 1, &data, &len, &whole, &reason, &detail), -1);
	ck_assert_msg(strstr(reason, "outside the datastore") != NULL, "%s", reason);
	ck_assert_ptr_null(detail);
	ck_assert_int_eq(datastore_heads_get(h, 2, &data, &len, &whole, &reason, &detail), 0);
	ck_assert_uint_eq(len, 4096);
	ck_assert_int_eq(whole, 0);
	ck_assert_int_eq(datastore_heads_get(h, 3, &data, &len, &whole, &reason, &detail), -1);
	ck_assert_msg(strstr(reason, "a/none.png") != NULL, "%s", reason);
	datastore_heads_free(h);

	/* A tick that says stop: no heads. */
	memset(&t, 0, sizeof(t));
	t.stop_at = 1;
	ck_assert_int_eq(datastore_heads_read(&ds, paths, 4, tick, &t, &h, err, sizeof(err)), 1);
	ck_assert_ptr_null(h);
}
END_TEST

struct dirs {
	char names[8][64];
	int n;
};

static int record_dir(void *ctx, const char *path)
{
	struct dirs *d = ctx;
	if (d->n < 8)
		snprintf(d->names[d->n++], 64, "%s", path);
	return 0;
}

START_TEST(folders_and_mkdirs)
{
	struct datastore ds = { .id = 1, .name = "t", .kind = DATASTORE_LOCAL, .local_path = root };
	struct dirs d = { .n = 0 };
	char err[256];

	ck_assert_int_eq(datastore_folders(&ds, "", record_dir, &d, err, sizeof(err)), 0);
	ck_assert_int_eq(d.n, 2);   /* a and z; dir-out is deeper, symlinks are not folders */
	d.n = 0;
	ck_assert_int_eq(datastore_folders(&ds, "a", record_dir, &d, err, sizeof(err)), 0);
	ck_assert_int_eq(d.n, 1);
	ck_assert_str_eq(d.names[0], "a/b");

	ck_assert_int_eq(datastore_local_mkdirs(root, "up/x/y", err, sizeof(err)), 0);
	ck_assert_int_eq(datastore_local_mkdirs(root, "up/x/y", err, sizeof(err)), 0);
	/* Through a symlink that leaves the root: refused. */
	ck_assert_int_eq(datastore_local_mkdirs(root, "a/dir-out/new", err, sizeof(err)), -1);
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/new", outside);
	ck_assert_int_ne(access(p, F_OK), 0);
}
END_TEST

START_TEST(local_check_roots)
{
	char resolved[PATH_MAX], err[256], roots[2 * PATH_MAX + 2], p[PATH_MAX];

	snprintf(roots, sizeof(roots), "/nonexistent:%s", root);
	snprintf(p, sizeof(p), "%s/a", root);
	ck_assert_int_eq(datastore_local_check(p, roots, resolved, err, sizeof(err)), 0);
	ck_assert_int_eq(datastore_local_check(root, roots, resolved, err, sizeof(err)), 0);
	ck_assert_int_eq(datastore_local_check(outside, roots, resolved, err, sizeof(err)), -1);
	snprintf(p, sizeof(p), "%s/a/dir-out", root);
	ck_assert_int_eq(datastore_local_check(p, roots, resolved, err, sizeof(err)), -1);
	snprintf(p, sizeof(p), "%s/a/../../", root);
	ck_assert_int_eq(datastore_local_check(p, roots, resolved, err, sizeof(err)), -1);
	ck_assert_int_eq(datastore_local_check("relative/dir", roots, resolved, err, sizeof(err)), -1);
	ck_assert_int_eq(datastore_local_check(p, "", resolved, err, sizeof(err)), -1);
	/* A root that is a prefix of another name is not that name's root. */
	snprintf(roots, sizeof(roots), "%.*s", (int)strlen(root) - 1, root);
	ck_assert_int_eq(datastore_local_check(root, roots, resolved, err, sizeof(err)), -1);
}
END_TEST

/* ------------------------------------------------------------ uploads */

/* The file rel of dir holds exactly len bytes of data (and, when stored by
 * a sink, is not readable by others: at most mode 0640). */
static void file_is_mode(const char *dir, const char *rel, const unsigned char *data, size_t len,
    int stored)
{
	char p[PATH_MAX + 256];
	struct stat st;
	unsigned char *got;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	ck_assert_msg(lstat(p, &st) == 0 && S_ISREG(st.st_mode), "%s is not a file", rel);
	ck_assert_uint_eq((uint64_t)st.st_size, len);
	if (stored)
		ck_assert_uint_eq(st.st_mode & 07137, 0);   /* at most 0640 */
	got = malloc(len ? len : 1);
	f = fopen(p, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(got, 1, len, f), len);
	fclose(f);
	ck_assert_msg(len == 0 || memcmp(got, data, len) == 0, "%s: other bytes", rel);
	free(got);
}

static void file_is(const char *dir, const char *rel, const unsigned char *data, size_t len)
{
	file_is_mode(dir, rel, data, len, 1);
}

/* The names in folder rel of dir, hidden ones too, sorted, joined by ' '. */
static void names_in(const char *dir, const char *rel, char *out, size_t outlen)
{
	char cmd[PATH_MAX + 300];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "ls -A '%s/%s' | LC_ALL=C sort | tr '\\n' ' '", dir, rel);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	pclose(p);
}

/* A folder created when missing (nested), files smaller and larger than
 * the copy buffer arriving whole, the same name three times (name, name-2,
 * name-3; a file that was there is never overwritten), a name without
 * extension, an empty file; no temporary file is left. */
START_TEST(sink_local_store_and_clashes)
{
	struct datastore ds = { .id = 1, .name = "t", .kind = DATASTORE_LOCAL, .local_path = root };
	struct datastore_sink *s = NULL;
	unsigned char *d[8];
	char err[256] = "", names[512];

	ck_assert_msg(datastore_sink_open(&ds, "up/new/deep", &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(sink_put_ok(s, 1000, 1, "photo.jpg", &d[0]), "photo.jpg");
	ck_assert_str_eq(sink_put_ok(s, 700001, 2, "photo.jpg", &d[1]), "photo-2.jpg");
	ck_assert_str_eq(sink_put_ok(s, 5, 3, "photo.jpg", &d[2]), "photo-3.jpg");
	ck_assert_str_eq(sink_put_ok(s, 10, 4, "README", &d[3]), "README");
	ck_assert_str_eq(sink_put_ok(s, 11, 5, "README", &d[4]), "README-2");
	ck_assert_str_eq(sink_put_ok(s, 0, 6, "empty.png", &d[5]), "empty.png");
	datastore_sink_close(s);
	file_is(root, "up/new/deep/photo.jpg", d[0], 1000);
	file_is(root, "up/new/deep/photo-2.jpg", d[1], 700001);
	file_is(root, "up/new/deep/photo-3.jpg", d[2], 5);
	file_is(root, "up/new/deep/README", d[3], 10);
	file_is(root, "up/new/deep/README-2", d[4], 11);
	file_is(root, "up/new/deep/empty.png", d[5], 0);
	names_in(root, "up/new/deep", names, sizeof(names));
	ck_assert_str_eq(names, "README README-2 empty.png photo-2.jpg photo-3.jpg photo.jpg ");

	/* An existing folder with a file of that name: the file stays. */
	ck_assert_msg(datastore_sink_open(&ds, "a", &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(sink_put_ok(s, 50, 7, "one.png", &d[6]), "one-2.png");
	datastore_sink_close(s);
	file_is(root, "a/one-2.png", d[6], 50);
	file_is_mode(root, "a/one.png", (const unsigned char *)"22", 2, 0);
	/* The root itself. */
	ck_assert_msg(datastore_sink_open(&ds, "", &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(sink_put_ok(s, 3, 8, "top.png", &d[7]), "top-2.png");
	datastore_sink_close(s);
	file_is(root, "top-2.png", d[7], 3);
	for (int i = 0; i < 8; i++)
		free(d[i]);
}
END_TEST

/* Folders that break the path rules, or lead through a symlink (leaving
 * the root or not) or a file, are refused, and nothing is created outside;
 * names that are not one plain segment are refused; a file shorter than
 * its size is refused and leaves nothing behind. */
START_TEST(sink_local_refusals)
{
	static const char *const folders[] = { "../up", "/tmp", "up//x", "up/./x", "a/../z",
		"a/dir-out", "a/dir-out/new", "link-in", "link-in/new", "top.png", "top.png/x" };
	struct datastore ds = { .id = 1, .name = "t", .kind = DATASTORE_LOCAL, .local_path = root };
	struct datastore_sink *s;
	char err[256], stored[64], p[PATH_MAX + 16], names_before[512], names_after[512];
	unsigned char *data;
	int fd;

	/* A symlink to a folder inside the root: not followed either. */
	snprintf(p, sizeof(p), "%s/link-in", root);
	ck_assert_int_eq(symlink("a/b", p), 0);
	for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		s = (struct datastore_sink *)1;
		err[0] = '\0';
		ck_assert_msg(datastore_sink_open(&ds, folders[i], &s, err, sizeof(err)) == -1,
		    "%s was accepted", folders[i]);
		ck_assert_ptr_null(s);
		ck_assert_msg(err[0] != '\0', "%s", folders[i]);
	}
	snprintf(p, sizeof(p), "%s/new", outside);
	ck_assert_int_ne(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/a/b/new", root);
	ck_assert_int_ne(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/up", root);
	ck_assert_int_ne(access(p, F_OK), 0);

	ck_assert_msg(datastore_sink_open(&ds, "z", &s, err, sizeof(err)) == 0, "%s", err);
	fd = sink_file(100, 9, &data);
	sink_names_refused(s, fd);
	names_in(root, "z", names_before, sizeof(names_before));
	ck_assert_int_eq(datastore_sink_put(s, fd, 200, "short.png", stored, sizeof(stored), err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "the upload could not be read");
	/* A stored name that does not fit the caller's buffer: undone. */
	ck_assert_int_eq(datastore_sink_put(s, fd, 100, "a-rather-long-name.png", stored, 8, err,
	    sizeof(err)), -1);
	names_in(root, "z", names_after, sizeof(names_after));
	ck_assert_str_eq(names_after, names_before);
	ck_assert_str_eq(names_after, "");
	close(fd);
	free(data);
	datastore_sink_close(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("datastore");
	TCase *t = tcase_create("datastore");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, path_rules);
	tcase_add_test(t, path_split);
	tcase_add_test(t, walk_one_level_and_recursive);
	tcase_add_test(t, walk_ticking);
	tcase_add_test(t, open_and_read_stay_inside);
	tcase_add_test(t, readers_local_and_fd);
	tcase_add_test(t, heads_local);
	tcase_add_test(t, folders_and_mkdirs);
	tcase_add_test(t, local_check_roots);
	tcase_add_test(t, sink_local_store_and_clashes);
	tcase_add_test(t, sink_local_refusals);
	suite_add_tcase(s, t);
	return s;
}

#include "unit.h"
