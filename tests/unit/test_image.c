/*
 * test_image.c: unit tests of core/image.c (format recognition and header
 * sizes), on the images in tests/fixtures/images/ (their true sizes are in
 * formats/EXPECTED), on every truncation of them, on hostile headers, and
 * through the reading loop image_read_header with readers of every chunk size.
 */
#include <check.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

#define FIXTURES TEST_SRCDIR "/tests/fixtures/images/"

/* Prefixes up to this long are probed from a buffer of exactly their size,
 * so that ASan sees any read past the end; longer ones in place. */
#define EXACT_COPY_MAX 1024

struct expected {
	char name[256];
	unsigned width, height;
	char format[16];
};

/* The whole file in a malloc'd buffer of exactly its size (1 byte for an
 * empty file); fails the test when it cannot be read. */
static unsigned char *file_load(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	unsigned char *d;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	ck_assert_int_eq(fseek(f, 0, SEEK_SET), 0);
	d = malloc(n > 0 ? (size_t)n : 1);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(fread(d, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*size = (size_t)n;
	return d;
}

/* The lines of formats/EXPECTED; *count gets their number. */
static struct expected *expected_load(size_t *count)
{
	static struct expected e[64];
	FILE *f = fopen(FIXTURES "formats/EXPECTED", "r");
	char line[512];
	size_t n = 0;

	ck_assert_msg(f != NULL, "cannot open formats/EXPECTED");
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		ck_assert_uint_lt(n, sizeof(e) / sizeof(e[0]));
		ck_assert_int_eq(sscanf(line, "%255s %u %u %15s", e[n].name,
		    &e[n].width, &e[n].height, e[n].format), 4);
		n++;
	}
	fclose(f);
	ck_assert_uint_ge(n, 20);
	*count = n;
	return e;
}

/* Probe a copy of data[0..len) in a buffer of exactly len bytes. */
static enum image_status probe_exact(const unsigned char *data, size_t len,
    struct image_info *info, size_t *need)
{
	unsigned char *copy = malloc(len > 0 ? len : 1);
	enum image_status s;

	if (copy == NULL)
		ck_abort_msg("out of memory");
	if (len > 0)
		memcpy(copy, data, len);
	s = image_probe(len > 0 ? copy : NULL, len, info, need);
	free(copy);
	return s;
}

/* Probe bytes given inline (the status, and info/need for the caller). */
static enum image_status probe_bytes(const void *bytes, size_t len,
    struct image_info *info, size_t *need)
{
	return probe_exact(bytes, len, info, need);
}

static const char *fixture_path(const char *name)
{
	static char path[1024];

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s%s", FIXTURES, name),
	    (int)sizeof(path));
	return path;
}

/* Every fixture, read whole, gives its true size and format, and its file
 * name claims the same format. */
START_TEST(test_fixtures_whole)
{
	size_t n, i;
	struct expected *e = expected_load(&n);

	for (i = 0; i < n; i++) {
		size_t size, need = 0;
		unsigned char *d = file_load(fixture_path(e[i].name), &size);
		struct image_info info;
		enum image_status s = image_probe(d, size, &info, &need);

		ck_assert_msg(s == IMAGE_OK, "%s: status %d", e[i].name, (int)s);
		ck_assert_str_eq(image_format_name(info.format), e[i].format);
		ck_assert_msg(info.width == e[i].width && info.height == e[i].height,
		    "%s: %ux%u, expected %ux%u", e[i].name, info.width,
		    info.height, e[i].width, e[i].height);
		ck_assert_int_eq(image_format_from_name(e[i].name), info.format);
		free(d);
	}
}
END_TEST

/* The way a caller reads: IMAGE_HEAD_BYTES first, then as much as *need
 * says; each round asks for more, never past the end of a valid file, and
 * all formats but JPEG are done with the first read. */
START_TEST(test_fixtures_need_more)
{
	size_t n, i;
	struct expected *e = expected_load(&n);

	for (i = 0; i < n; i++) {
		size_t size, len, need, rounds = 0;
		unsigned char *d = file_load(fixture_path(e[i].name), &size);
		struct image_info info;
		enum image_status s;

		len = size < IMAGE_HEAD_BYTES ? size : IMAGE_HEAD_BYTES;
		while ((s = probe_exact(d, len, &info, &need)) == IMAGE_NEED_MORE) {
			ck_assert_int_eq(info.format, IMAGE_JPEG);
			ck_assert_msg(need > len && need <= size,
			    "%s: need %zu at %zu of %zu", e[i].name, need, len, size);
			len = need;
			rounds++;
		}
		ck_assert_msg(s == IMAGE_OK, "%s: status %d", e[i].name, (int)s);
		ck_assert_uint_eq(info.width, e[i].width);
		ck_assert_uint_eq(info.height, e[i].height);
		if (info.format != IMAGE_JPEG)
			ck_assert_uint_eq(rounds, 0);
		else
			ck_assert_uint_lt(rounds, 40);
		free(d);
	}
}
END_TEST

/*
 * What is wrong with the answer for the prefix data[0..len) of the fixture
 * e (file size `size`), or NULL when it is right.  *ok_seen says whether a
 * shorter prefix was already OK.  (Plain checks, not ck_assert: Check
 * reports every assertion to its parent process, too slow for millions.)
 */
static const char *prefix_problem(const struct expected *e, size_t size,
    size_t len, enum image_status s, const struct image_info *info,
    size_t need, int *ok_seen)
{
	if (len == 0)
		return s == IMAGE_NOT_IMAGE && info->format == IMAGE_UNKNOWN ?
		    NULL : "empty input is not NOT_IMAGE";
	if (strcmp(image_format_name(info->format), e->format) != 0)
		return "wrong format";
	if (len == IMAGE_HEAD_BYTES && info->format != IMAGE_JPEG &&
	    s != IMAGE_OK)
		return "IMAGE_HEAD_BYTES is not enough";
	switch (s) {
	case IMAGE_OK:
		if (info->width != e->width || info->height != e->height)
			return "OK with a wrong size";
		*ok_seen = 1;
		return NULL;
	case IMAGE_TRUNCATED:
		if (*ok_seen)
			return "TRUNCATED after a shorter prefix was OK";
		return info->width == 0 && info->height == 0 ? NULL :
		    "TRUNCATED with a size";
	case IMAGE_NEED_MORE:
		if (*ok_seen)
			return "NEED_MORE after a shorter prefix was OK";
		if (info->format != IMAGE_JPEG)
			return "NEED_MORE for a format other than JPEG";
		return need > len && need <= size ? NULL :
		    "NEED_MORE asks for no more, or for more than the file";
	default:
		return "neither OK, TRUNCATED nor NEED_MORE";
	}
}

/* Every prefix of every fixture: never OK with a wrong size, never a wrong
 * format, OK from some length on and then for good. */
START_TEST(test_fixtures_truncated)
{
	size_t n, i;
	struct expected *e = expected_load(&n);

	for (i = 0; i < n; i++) {
		size_t size, len, need;
		unsigned char *d = file_load(fixture_path(e[i].name), &size);
		struct image_info info;
		enum image_status s;
		const char *problem;
		int ok_seen = 0;

		for (len = 0; len <= size; len++) {
			need = 0;
			if (len <= EXACT_COPY_MAX)
				s = probe_exact(d, len, &info, &need);
			else
				s = image_probe(d, len, &info, &need);
			problem = prefix_problem(&e[i], size, len, s, &info,
			    need, &ok_seen);
			if (problem != NULL)
				ck_abort_msg("%s, first %zu bytes: %s (status %d, "
				    "format %d, %ux%u, need %zu)", e[i].name,
				    len, problem, (int)s, (int)info.format,
				    info.width, info.height, need);
		}
		ck_assert_msg(ok_seen, "%s: never OK", e[i].name);
		free(d);
	}
}
END_TEST

START_TEST(test_png_hostile)
{
	static const unsigned char ok[] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
		0, 0, 0, 13, 'I', 'H', 'D', 'R',
		0, 0, 0x01, 0x2c, 0, 0, 0, 0x11,	/* 300 x 17 */
		8, 2, 0, 0, 0
	};
	unsigned char d[sizeof(ok)];
	struct image_info info;
	size_t need = 12345;

	ck_assert_int_eq(probe_bytes(ok, sizeof(ok), &info, &need), IMAGE_OK);
	ck_assert_uint_eq(info.width, 300);
	ck_assert_uint_eq(info.height, 17);
	ck_assert_uint_eq(need, 12345);	/* untouched */
	ck_assert_int_eq(probe_bytes(ok, 24, &info, NULL), IMAGE_OK);
	ck_assert_int_eq(probe_bytes(ok, 23, &info, NULL), IMAGE_TRUNCATED);
	ck_assert_int_eq(info.format, IMAGE_PNG);
	ck_assert_int_eq(probe_bytes(ok, 5, &info, NULL), IMAGE_TRUNCATED);

	/* IHDR length other than 13 */
	memcpy(d, ok, sizeof(d));
	d[11] = 12;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_BAD_HEADER);
	ck_assert_int_eq(info.format, IMAGE_PNG);
	ck_assert_uint_eq(info.width, 0);
	d[11] = 14;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_BAD_HEADER);
	d[11] = 13;
	d[8] = 1;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_BAD_HEADER);

	/* a first chunk other than IHDR */
	memcpy(d, ok, sizeof(d));
	memcpy(d + 12, "CgBI", 4);
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_BAD_HEADER);

	/* zero and out-of-range sizes */
	memcpy(d, ok, sizeof(d));
	memset(d + 16, 0, 4);
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_BAD_HEADER);
	memcpy(d, ok, sizeof(d));
	memset(d + 20, 0, 4);
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_BAD_HEADER);
	memcpy(d, ok, sizeof(d));
	d[16] = 0x80;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_BAD_HEADER);
	memcpy(d, ok, sizeof(d));
	d[20] = 0xff;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_BAD_HEADER);
	memcpy(d, ok, sizeof(d));
	memcpy(d + 16, "\x7f\xff\xff\xff\x7f\xff\xff\xff", 8);
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_OK);
	ck_assert_uint_eq(info.width, INT32_MAX);

	/* a damaged signature */
	memcpy(d, ok, sizeof(d));
	d[4] = '\n';
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_NOT_IMAGE);
	ck_assert_int_eq(info.format, IMAGE_UNKNOWN);
}
END_TEST

/* The huge claim is read as it is: the pixel limit is the caller's. */
START_TEST(test_png_huge_claim)
{
	size_t size;
	unsigned char *d = file_load(fixture_path("formats/huge_claim.png"), &size);
	struct image_info info;

	ck_assert_uint_eq(size, 33);
	ck_assert_int_eq(image_probe(d, size, &info, NULL), IMAGE_OK);
	ck_assert_int_eq(info.format, IMAGE_PNG);
	ck_assert_uint_eq(info.width, 65535);
	ck_assert_uint_eq(info.height, 65535);
	free(d);
}
END_TEST

/* SOI, APP0 of length 16 (14 bytes of payload), SOF0 of length 17 giving
 * 640 x 480, then the start of DHT. */
static const unsigned char jpeg_ok[] = {
	0xff, 0xd8,
	0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
	0xff, 0xc0, 0x00, 0x11, 8, 0x01, 0xe0, 0x02, 0x80, 3,
	1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
	0xff, 0xc4
};
#define JPEG_SOF_AT 20

START_TEST(test_jpeg_walk)
{
	struct image_info info;
	size_t need, len;

	ck_assert_int_eq(probe_bytes(jpeg_ok, sizeof(jpeg_ok), &info, &need), IMAGE_OK);
	ck_assert_int_eq(info.format, IMAGE_JPEG);
	ck_assert_uint_eq(info.width, 640);
	ck_assert_uint_eq(info.height, 480);

	/* The APP0 runs past the end: come back with more. */
	ck_assert_int_eq(probe_bytes(jpeg_ok, 10, &info, &need), IMAGE_NEED_MORE);
	ck_assert_int_eq(info.format, IMAGE_JPEG);
	ck_assert_uint_eq(info.width, 0);
	ck_assert_uint_eq(need, JPEG_SOF_AT + 4);
	/* The SOF marker is there, its size not yet. */
	ck_assert_int_eq(probe_bytes(jpeg_ok, need, &info, &need), IMAGE_NEED_MORE);
	ck_assert_uint_eq(need, JPEG_SOF_AT + 9);
	ck_assert_int_eq(probe_bytes(jpeg_ok, need, &info, &need), IMAGE_OK);
	ck_assert_uint_eq(info.width, 640);

	/* Only SOI, or SOI and a lone 0xff. */
	ck_assert_int_eq(probe_bytes(jpeg_ok, 2, &info, &need), IMAGE_TRUNCATED);
	ck_assert_int_eq(info.format, IMAGE_JPEG);
	ck_assert_int_eq(probe_bytes(jpeg_ok, 1, &info, &need), IMAGE_TRUNCATED);
	ck_assert_int_eq(probe_bytes(jpeg_ok, 3, &info, &need), IMAGE_NEED_MORE);
	ck_assert_uint_gt(need, 3);

	/* Every prefix asks for more than it has, or is done. */
	for (len = 3; len < sizeof(jpeg_ok); len++) {
		enum image_status s = probe_bytes(jpeg_ok, len, &info, &need);

		if (s == IMAGE_OK) {
			ck_assert_uint_ge(len, JPEG_SOF_AT + 9);
			continue;
		}
		ck_assert_int_eq(s, IMAGE_NEED_MORE);
		ck_assert_uint_gt(need, len);
		ck_assert_uint_le(need, JPEG_SOF_AT + 9);
	}
}
END_TEST

START_TEST(test_jpeg_markers)
{
	/* fill bytes, TEM, RST0, RST7, a second SOI, DHT, JPG and DAC (not
	 * frames), then SOF15 */
	static const unsigned char odd[] = {
		0xff, 0xd8, 0xff, 0xff, 0xff, 0x01, 0xff, 0xd0, 0xff, 0xd7,
		0xff, 0xd8,
		0xff, 0xc4, 0x00, 0x04, 0xaa, 0xbb,
		0xff, 0xc8, 0x00, 0x02,
		0xff, 0xcc, 0x00, 0x03, 0x00,
		0xff, 0xff, 0xcf, 0x00, 0x0b, 8, 0x00, 0x07, 0x01, 0x2c, 1, 1, 0x11, 0
	};
	static const unsigned char sofs[] = {
		0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb,
		0xcd, 0xce, 0xcf
	};
	unsigned char d[sizeof(jpeg_ok)];
	struct image_info info;
	size_t need, i;

	ck_assert_int_eq(probe_bytes(odd, sizeof(odd), &info, &need), IMAGE_OK);
	ck_assert_uint_eq(info.width, 300);
	ck_assert_uint_eq(info.height, 7);

	for (i = 0; i < sizeof(sofs); i++) {
		memcpy(d, jpeg_ok, sizeof(d));
		d[JPEG_SOF_AT + 1] = sofs[i];
		ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, &need), IMAGE_OK);
		ck_assert_uint_eq(info.width, 640);
	}
	/* not frames: the walk goes on past the "SOF" and runs out */
	memcpy(d, jpeg_ok, sizeof(d));
	d[JPEG_SOF_AT + 1] = 0xc4;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, &need), IMAGE_NEED_MORE);
	ck_assert_uint_eq(need, JPEG_SOF_AT + 2 + 17 + 4);
	d[JPEG_SOF_AT + 1] = 0xc8;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, &need), IMAGE_NEED_MORE);
	d[JPEG_SOF_AT + 1] = 0xcc;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, &need), IMAGE_NEED_MORE);
}
END_TEST

START_TEST(test_jpeg_hostile)
{
	unsigned char d[sizeof(jpeg_ok)];
	struct image_info info;
	size_t need;
	int len;

	/* segment lengths 0 and 1 */
	for (len = 0; len < 2; len++) {
		memcpy(d, jpeg_ok, sizeof(d));
		d[4] = 0;
		d[5] = (unsigned char)len;
		ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, &need),
		    IMAGE_BAD_HEADER);
		ck_assert_int_eq(info.format, IMAGE_JPEG);
	}
	/* A segment length that runs far past the end. */
	memcpy(d, jpeg_ok, sizeof(d));
	d[4] = 0xff;
	d[5] = 0xff;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, &need), IMAGE_NEED_MORE);
	ck_assert_uint_eq(need, 4 + 0xffff + 4);

	/* SOF shorter than one component, and zero sizes */
	memcpy(d, jpeg_ok, sizeof(d));
	d[JPEG_SOF_AT + 3] = 10;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, &need), IMAGE_BAD_HEADER);
	memcpy(d, jpeg_ok, sizeof(d));
	d[JPEG_SOF_AT + 5] = 0;
	d[JPEG_SOF_AT + 6] = 0;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, &need), IMAGE_BAD_HEADER);
	memcpy(d, jpeg_ok, sizeof(d));
	d[JPEG_SOF_AT + 7] = 0;
	d[JPEG_SOF_AT + 8] = 0;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, &need), IMAGE_BAD_HEADER);

	/* garbage where a marker should be; stuffing; EOI and SOS before a frame */
	memcpy(d, jpeg_ok, sizeof(d));
	d[JPEG_SOF_AT] = 0x00;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, &need), IMAGE_BAD_HEADER);
	memcpy(d, jpeg_ok, sizeof(d));
	d[JPEG_SOF_AT + 1] = 0x00;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, &need), IMAGE_BAD_HEADER);
	d[JPEG_SOF_AT + 1] = 0xd9;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, &need), IMAGE_BAD_HEADER);
	d[JPEG_SOF_AT + 1] = 0xda;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, &need), IMAGE_BAD_HEADER);
}
END_TEST

/* A long run of fill bytes and standalone markers ends the walk too. */
START_TEST(test_jpeg_long_walk)
{
	size_t n = 200000, i, need;
	unsigned char *d = malloc(n);
	struct image_info info;

	ck_assert_ptr_nonnull(d);
	d[0] = 0xff;
	d[1] = 0xd8;
	for (i = 2; i < n; i += 2) {
		d[i] = 0xff;
		d[i + 1] = (i / 2) % 3 == 0 ? 0xff : 0xd0 + (i / 2) % 8;
	}
	ck_assert_int_eq(image_probe(d, n, &info, &need), IMAGE_NEED_MORE);
	ck_assert_uint_gt(need, n);
	free(d);
}
END_TEST

START_TEST(test_gif)
{
	unsigned char d[] = { 'G', 'I', 'F', '8', '9', 'a', 0x2c, 0x01, 0x07, 0x00, 0, 0, 0 };
	struct image_info info;

	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_OK);
	ck_assert_int_eq(info.format, IMAGE_GIF);
	ck_assert_uint_eq(info.width, 300);
	ck_assert_uint_eq(info.height, 7);
	ck_assert_int_eq(probe_bytes(d, 10, &info, NULL), IMAGE_OK);
	ck_assert_int_eq(probe_bytes(d, 9, &info, NULL), IMAGE_TRUNCATED);
	ck_assert_int_eq(info.format, IMAGE_GIF);
	ck_assert_int_eq(probe_bytes(d, 4, &info, NULL), IMAGE_TRUNCATED);
	d[4] = '7';
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_OK);
	/* zero width, zero height */
	d[6] = d[7] = 0;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_BAD_HEADER);
	ck_assert_int_eq(info.format, IMAGE_GIF);
	d[6] = 1;
	d[8] = 0;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_BAD_HEADER);
	/* no such versions */
	d[4] = '8';
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_NOT_IMAGE);
	ck_assert_int_eq(probe_bytes(d, 5, &info, NULL), IMAGE_NOT_IMAGE);
	d[4] = '9';
	d[5] = 'b';
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_NOT_IMAGE);
	ck_assert_int_eq(info.format, IMAGE_UNKNOWN);
}
END_TEST

/* A BMP file header and a BITMAPINFOHEADER for width x height. */
static void bmp_make(unsigned char *d, int32_t width, int32_t height)
{
	uint32_t w = (uint32_t)width, h = (uint32_t)height;

	memset(d, 0, 54);
	d[0] = 'B';
	d[1] = 'M';
	d[10] = 54;
	d[14] = 40;
	d[18] = w & 0xff;
	d[19] = (w >> 8) & 0xff;
	d[20] = (w >> 16) & 0xff;
	d[21] = w >> 24;
	d[22] = h & 0xff;
	d[23] = (h >> 8) & 0xff;
	d[24] = (h >> 16) & 0xff;
	d[25] = h >> 24;
	d[26] = 1;	/* planes */
	d[28] = 24;
}

START_TEST(test_bmp)
{
	unsigned char d[54];
	static const unsigned char core[] = {
		'B', 'M', 0, 0, 0, 0, 0, 0, 0, 0, 26, 0, 0, 0,
		12, 0, 0, 0, 0x2c, 0x01, 0x07, 0x00, 1, 0, 24, 0
	};
	unsigned char c[sizeof(core)];
	struct image_info info;

	bmp_make(d, 300, 7);
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_OK);
	ck_assert_int_eq(info.format, IMAGE_BMP);
	ck_assert_uint_eq(info.width, 300);
	ck_assert_uint_eq(info.height, 7);
	ck_assert_int_eq(probe_bytes(d, 28, &info, NULL), IMAGE_OK);
	ck_assert_int_eq(probe_bytes(d, 27, &info, NULL), IMAGE_TRUNCATED);
	ck_assert_int_eq(probe_bytes(d, 1, &info, NULL), IMAGE_TRUNCATED);
	ck_assert_int_eq(info.format, IMAGE_BMP);

	/* top-down */
	bmp_make(d, 300, -7);
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_OK);
	ck_assert_uint_eq(info.height, 7);
	bmp_make(d, 1, -INT32_MAX);
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_OK);
	ck_assert_uint_eq(info.height, INT32_MAX);
	/* INT32_MIN has no absolute value; negative or zero sizes */
	bmp_make(d, 300, INT32_MIN);
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_BAD_HEADER);
	ck_assert_int_eq(info.format, IMAGE_BMP);
	ck_assert_uint_eq(info.height, 0);
	bmp_make(d, -300, 7);
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_BAD_HEADER);
	bmp_make(d, 0, 7);
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_BAD_HEADER);
	bmp_make(d, 300, 0);
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_BAD_HEADER);
	/* planes other than 1; DIB header sizes that are neither 12 nor >= 40 */
	bmp_make(d, 300, 7);
	d[26] = 0;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_BAD_HEADER);
	bmp_make(d, 300, 7);
	d[14] = 39;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_BAD_HEADER);
	d[14] = 0;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_BAD_HEADER);
	d[14] = 124;
	ck_assert_int_eq(probe_bytes(d, sizeof(d), &info, NULL), IMAGE_OK);

	/* BITMAPCOREHEADER */
	ck_assert_int_eq(probe_bytes(core, sizeof(core), &info, NULL), IMAGE_OK);
	ck_assert_uint_eq(info.width, 300);
	ck_assert_uint_eq(info.height, 7);
	ck_assert_int_eq(probe_bytes(core, 23, &info, NULL), IMAGE_TRUNCATED);
	memcpy(c, core, sizeof(c));
	c[18] = c[19] = 0;
	ck_assert_int_eq(probe_bytes(c, sizeof(c), &info, NULL), IMAGE_BAD_HEADER);
	memcpy(c, core, sizeof(c));
	c[22] = 2;
	ck_assert_int_eq(probe_bytes(c, sizeof(c), &info, NULL), IMAGE_BAD_HEADER);

	/* text that starts with "BM" */
	ck_assert_int_eq(probe_bytes("BMW made this car in 1972, said the text file.", 46,
	    &info, NULL), IMAGE_BAD_HEADER);
}
END_TEST

START_TEST(test_webp)
{
	static const unsigned char vp8[] = {
		'R', 'I', 'F', 'F', 0x30, 0, 0, 0, 'W', 'E', 'B', 'P',
		'V', 'P', '8', ' ', 0x24, 0, 0, 0,
		0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x2c, 0x41, 0x11, 0x80
	};
	static const unsigned char vp8l[] = {
		'R', 'I', 'F', 'F', 0x30, 0, 0, 0, 'W', 'E', 'B', 'P',
		'V', 'P', '8', 'L', 0x24, 0, 0, 0,
		/* 17 x 300: (16) | (299 << 14) */
		0x2f, 0x10, 0xc0, 0x4a, 0x00
	};
	static const unsigned char vp8x[] = {
		'R', 'I', 'F', 'F', 0x30, 0, 0, 0, 'W', 'E', 'B', 'P',
		'V', 'P', '8', 'X', 0x0a, 0, 0, 0,
		0x10, 0, 0, 0, 0xff, 0xff, 0xff, 0x00, 0x00, 0x01
	};
	unsigned char d[32];
	struct image_info info;

	ck_assert_int_eq(probe_bytes(vp8, sizeof(vp8), &info, NULL), IMAGE_OK);
	ck_assert_int_eq(info.format, IMAGE_WEBP);
	ck_assert_uint_eq(info.width, 300);	/* scale bits dropped */
	ck_assert_uint_eq(info.height, 17);
	ck_assert_int_eq(probe_bytes(vp8, sizeof(vp8) - 1, &info, NULL), IMAGE_TRUNCATED);
	ck_assert_int_eq(probe_bytes(vp8l, sizeof(vp8l), &info, NULL), IMAGE_OK);
	ck_assert_uint_eq(info.width, 17);
	ck_assert_uint_eq(info.height, 300);
	ck_assert_int_eq(probe_bytes(vp8l, sizeof(vp8l) - 1, &info, NULL), IMAGE_TRUNCATED);
	ck_assert_int_eq(probe_bytes(vp8x, sizeof(vp8x), &info, NULL), IMAGE_OK);
	ck_assert_uint_eq(info.width, 1u << 24);
	ck_assert_uint_eq(info.height, 65537);
	ck_assert_int_eq(probe_bytes(vp8x, sizeof(vp8x) - 1, &info, NULL), IMAGE_TRUNCATED);
	ck_assert_int_eq(probe_bytes(vp8x, 11, &info, NULL), IMAGE_TRUNCATED);
	ck_assert_int_eq(info.format, IMAGE_WEBP);

	/* VP8: not a key frame, a wrong start code, a zero size, a short chunk */
	memcpy(d, vp8, sizeof(vp8));
	d[20] |= 1;
	ck_assert_int_eq(probe_bytes(d, sizeof(vp8), &info, NULL), IMAGE_BAD_HEADER);
	memcpy(d, vp8, sizeof(vp8));
	d[24] = 0x02;
	ck_assert_int_eq(probe_bytes(d, sizeof(vp8), &info, NULL), IMAGE_BAD_HEADER);
	memcpy(d, vp8, sizeof(vp8));
	d[25] = 0x2b;
	ck_assert_int_eq(probe_bytes(d, sizeof(vp8), &info, NULL), IMAGE_BAD_HEADER);
	memcpy(d, vp8, sizeof(vp8));
	d[26] = 0;
	d[27] = 0xc0;	/* only scale bits */
	ck_assert_int_eq(probe_bytes(d, sizeof(vp8), &info, NULL), IMAGE_BAD_HEADER);
	memcpy(d, vp8, sizeof(vp8));
	d[16] = 9;
	ck_assert_int_eq(probe_bytes(d, sizeof(vp8), &info, NULL), IMAGE_BAD_HEADER);
	/* VP8L: a wrong signature, a version other than 0, a short chunk */
	memcpy(d, vp8l, sizeof(vp8l));
	d[20] = 0x2e;
	ck_assert_int_eq(probe_bytes(d, sizeof(vp8l), &info, NULL), IMAGE_BAD_HEADER);
	memcpy(d, vp8l, sizeof(vp8l));
	d[24] = 0x20;
	ck_assert_int_eq(probe_bytes(d, sizeof(vp8l), &info, NULL), IMAGE_BAD_HEADER);
	memcpy(d, vp8l, sizeof(vp8l));
	d[16] = 4;
	ck_assert_int_eq(probe_bytes(d, sizeof(vp8l), &info, NULL), IMAGE_BAD_HEADER);
	/* VP8X: a chunk too short for the canvas size */
	memcpy(d, vp8x, sizeof(vp8x));
	d[16] = 9;
	ck_assert_int_eq(probe_bytes(d, sizeof(vp8x), &info, NULL), IMAGE_BAD_HEADER);
	/* an unknown first chunk */
	memcpy(d, vp8x, sizeof(vp8x));
	d[15] = 'Y';
	ck_assert_int_eq(probe_bytes(d, sizeof(vp8x), &info, NULL), IMAGE_BAD_HEADER);
	ck_assert_int_eq(info.format, IMAGE_WEBP);

	/* RIFF files that are not WebP */
	memcpy(d, vp8, sizeof(vp8));
	memcpy(d + 8, "WAVE", 4);
	ck_assert_int_eq(probe_bytes(d, sizeof(vp8), &info, NULL), IMAGE_NOT_IMAGE);
	ck_assert_int_eq(info.format, IMAGE_UNKNOWN);
	ck_assert_int_eq(probe_bytes(d, 10, &info, NULL), IMAGE_NOT_IMAGE);
	ck_assert_int_eq(probe_bytes(d, 9, &info, NULL), IMAGE_TRUNCATED);	/* "W" could be WEBP */
	ck_assert_int_eq(probe_bytes(d, 8, &info, NULL), IMAGE_TRUNCATED);
	memcpy(d + 8, "AVI ", 4);
	ck_assert_int_eq(probe_bytes(d, 12, &info, NULL), IMAGE_NOT_IMAGE);
}
END_TEST

START_TEST(test_not_images)
{
	static const char text[] = "This is a text file that someone named photo.png.\n";
	struct image_info info;
	size_t need = 7;
	unsigned char one = 0;

	ck_assert_int_eq(image_format_from_name("photo.png"), IMAGE_PNG);
	ck_assert_int_eq(probe_bytes(text, sizeof(text) - 1, &info, &need), IMAGE_NOT_IMAGE);
	ck_assert_int_eq(info.format, IMAGE_UNKNOWN);
	ck_assert_uint_eq(info.width, 0);
	ck_assert_uint_eq(need, 7);
	/* empty input, a NULL pointer, a NULL info */
	ck_assert_int_eq(image_probe(&one, 0, &info, &need), IMAGE_NOT_IMAGE);
	ck_assert_int_eq(image_probe(NULL, 0, &info, &need), IMAGE_NOT_IMAGE);
	ck_assert_int_eq(image_probe(NULL, 0, NULL, NULL), IMAGE_NOT_IMAGE);
	ck_assert_int_eq(image_probe(&one, 1, &info, NULL), IMAGE_NOT_IMAGE);
	ck_assert_int_eq(image_probe(jpeg_ok, sizeof(jpeg_ok), NULL, NULL), IMAGE_OK);
	ck_assert_int_eq(image_probe(jpeg_ok, 10, NULL, NULL), IMAGE_NEED_MORE);
	/* other formats */
	ck_assert_int_eq(probe_bytes("%PDF-1.7\n", 9, &info, NULL), IMAGE_NOT_IMAGE);
	ck_assert_int_eq(probe_bytes("II*\0\x08\0\0\0", 8, &info, NULL), IMAGE_NOT_IMAGE);
	ck_assert_int_eq(probe_bytes("\0\0\0\x0cjP  \r\n\x87\n", 12, &info, NULL),
	    IMAGE_NOT_IMAGE);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_int_eq(image_format_from_name("a.png"), IMAGE_PNG);
	ck_assert_int_eq(image_format_from_name("A.PNG"), IMAGE_PNG);
	ck_assert_int_eq(image_format_from_name("x.jpg"), IMAGE_JPEG);
	ck_assert_int_eq(image_format_from_name("x.JPeG"), IMAGE_JPEG);
	ck_assert_int_eq(image_format_from_name("x.jpe"), IMAGE_JPEG);
	ck_assert_int_eq(image_format_from_name("x.jfif"), IMAGE_JPEG);
	ck_assert_int_eq(image_format_from_name("x.gif"), IMAGE_GIF);
	ck_assert_int_eq(image_format_from_name("x.bmp"), IMAGE_BMP);
	ck_assert_int_eq(image_format_from_name("x.DIB"), IMAGE_BMP);
	ck_assert_int_eq(image_format_from_name("x.webp"), IMAGE_WEBP);
	ck_assert_int_eq(image_format_from_name("dir/sub.d/x.y.gif"), IMAGE_GIF);
	ck_assert_int_eq(image_format_from_name("C:\\photos.jpg\\x.webp"), IMAGE_WEBP);
	ck_assert_int_eq(image_format_from_name("photos.jpg/readme"), IMAGE_UNKNOWN);
	ck_assert_int_eq(image_format_from_name("photos.jpg\\readme"), IMAGE_UNKNOWN);
	ck_assert_int_eq(image_format_from_name("x.png.txt"), IMAGE_UNKNOWN);
	ck_assert_int_eq(image_format_from_name("x.pngx"), IMAGE_UNKNOWN);
	ck_assert_int_eq(image_format_from_name("x.jp"), IMAGE_UNKNOWN);
	ck_assert_int_eq(image_format_from_name("png"), IMAGE_UNKNOWN);
	ck_assert_int_eq(image_format_from_name("x."), IMAGE_UNKNOWN);
	ck_assert_int_eq(image_format_from_name("dir/"), IMAGE_UNKNOWN);
	ck_assert_int_eq(image_format_from_name(""), IMAGE_UNKNOWN);
	ck_assert_int_eq(image_format_from_name(NULL), IMAGE_UNKNOWN);

	ck_assert_str_eq(image_format_name(IMAGE_PNG), "png");
	ck_assert_str_eq(image_format_name(IMAGE_JPEG), "jpeg");
	ck_assert_str_eq(image_format_name(IMAGE_GIF), "gif");
	ck_assert_str_eq(image_format_name(IMAGE_BMP), "bmp");
	ck_assert_str_eq(image_format_name(IMAGE_WEBP), "webp");
	ck_assert_str_eq(image_format_name(IMAGE_UNKNOWN), "");
	ck_assert_str_eq(image_format_name((enum image_format)99), "");

	ck_assert_str_eq(image_media_type(IMAGE_PNG), "image/png");
	ck_assert_str_eq(image_media_type(IMAGE_JPEG), "image/jpeg");
	ck_assert_str_eq(image_media_type(IMAGE_GIF), "image/gif");
	ck_assert_str_eq(image_media_type(IMAGE_BMP), "image/bmp");
	ck_assert_str_eq(image_media_type(IMAGE_WEBP), "image/webp");
	ck_assert_str_eq(image_media_type(IMAGE_UNKNOWN), "application/octet-stream");
	ck_assert_str_eq(image_media_type((enum image_format)99), "application/octet-stream");
}
END_TEST

/* ------------------------------------------------------------ reading */

/*
 * A file in memory as an image_reader: at most `chunk` bytes per read.  It
 * counts the reads and notes (in `bad`, plain checks: Check is too slow for
 * a million assertions) a read that does not start where the last one
 * ended or that asks for nothing.  Read number fail_at fails (0: none).
 */
struct mem_file {
	const unsigned char *data;
	size_t size, chunk;
	unsigned reads, fail_at;
	uint64_t next;
	const char *bad;
};

static int mem_read(void *ctx, uint64_t off, unsigned char *buf, size_t len,
    size_t *got, char *err, size_t errlen)
{
	struct mem_file *f = ctx;
	size_t n;

	f->reads++;
	if (f->fail_at != 0 && f->reads == f->fail_at) {
		snprintf(err, errlen, "the disk is on fire");
		return -1;
	}
	if (off != f->next && f->bad == NULL)
		f->bad = "a read does not start where the last one ended";
	if (len == 0 && f->bad == NULL)
		f->bad = "a read asks for no bytes";
	n = off < f->size ? f->size - (size_t)off : 0;
	if (n > len)
		n = len;
	if (n > f->chunk)
		n = f->chunk;
	if (n > 0)
		memcpy(buf, f->data + off, n);
	f->next = off + n;
	*got = n;
	return 0;
}

/* image_read_header over data[0..size) read `chunk` bytes at a time into a
 * buffer of exactly cap bytes, after `pre` bytes already there (whole when
 * they are all of it).  *len, *reads and info for the caller. */
static enum image_status read_mem(const unsigned char *data, size_t size, size_t chunk,
    size_t pre, size_t cap, size_t *len, unsigned *reads, struct image_info *info)
{
	struct mem_file f = { .data = data, .size = size, .chunk = chunk, .next = pre };
	struct image_reader rd = { mem_read, &f };
	unsigned char *buf = malloc(cap);
	char err[64] = "";
	enum image_status s;

	ck_assert_ptr_nonnull(buf);
	if (pre > size)
		pre = size;
	memcpy(buf, data, pre);
	*len = pre;
	s = image_read_header(&rd, buf, cap, len, pre == size, info, err, sizeof(err));
	ck_assert_msg(f.bad == NULL, "%s", f.bad ? f.bad : "");
	ck_assert_uint_le(*len, cap);
	ck_assert_uint_le(*len, size);
	/* buf holds the file's first *len bytes, each where it belongs. */
	ck_assert(memcmp(buf, data, *len) == 0);
	free(buf);
	*reads = f.reads;
	return s;
}

/* Offset of the SOF marker of a JPEG fixture (its 0xff). */
static size_t sof_at(const unsigned char *d, size_t size)
{
	size_t pos = 2;

	while (pos + 4 <= size) {
		unsigned char m = d[pos + 1];
		if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc)
			return pos;
		pos += 2 + ((size_t)d[pos + 2] << 8 | d[pos + 3]);
	}
	ck_abort_msg("no SOF");
	return 0;
}

/* Every fixture through the reading loop: whatever the reader's chunk size
 * and however much was read ahead, the true size; a reader that gives one
 * byte at a time is asked for exactly what the probe needs and no more. */
START_TEST(test_read_header_fixtures)
{
	static const size_t chunks[] = { 1, 3, 1000, 4096, SIZE_MAX };
	size_t n, i, c, p;
	struct expected *e = expected_load(&n);

	for (i = 0; i < n; i++) {
		size_t size, len;
		unsigned char *d = file_load(fixture_path(e[i].name), &size);
		size_t pres[] = { 0, 10, 4096, size };
		struct image_info info;
		unsigned reads;
		enum image_status s;

		for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
			for (p = 0; p < sizeof(pres) / sizeof(pres[0]); p++) {
				s = read_mem(d, size, chunks[c], pres[p], IMAGE_HEADER_CAP, &len,
				    &reads, &info);
				ck_assert_msg(s == IMAGE_OK, "%s, chunk %zu, %zu read ahead: status %d",
				    e[i].name, chunks[c], pres[p], (int)s);
				ck_assert_str_eq(image_format_name(info.format), e[i].format);
				ck_assert_msg(info.width == e[i].width && info.height == e[i].height,
				    "%s: %ux%u", e[i].name, info.width, info.height);
				if (pres[p] == size)
					ck_assert_uint_eq(reads, 0);
			}
		}
		/* One byte at a time from nothing: IMAGE_HEAD_BYTES, and for a
		 * JPEG up to the end of its SOF's width field. */
		s = read_mem(d, size, 1, 0, IMAGE_HEADER_CAP, &len, &reads, &info);
		ck_assert_int_eq(s, IMAGE_OK);
		if (info.format == IMAGE_JPEG)
			ck_assert_uint_eq(len, sof_at(d, size) + 9 > IMAGE_HEAD_BYTES ?
			    sof_at(d, size) + 9 : IMAGE_HEAD_BYTES);
		else
			ck_assert_uint_eq(len, size < IMAGE_HEAD_BYTES ? size : IMAGE_HEAD_BYTES);
		ck_assert_uint_eq(reads, len + (len < IMAGE_HEAD_BYTES ? 1 : 0));
		free(d);
	}
}
END_TEST

/* The photo that uploads refused, and ten segments before the SOF: read
 * ahead 4 KiB (as the init job does), then as much as the probe asks. */
START_TEST(test_read_header_late_sof)
{
	static const char *const names[] = { "hubble_deep_field.jpg", "formats/ten_segments.jpg" };
	static const size_t sofs[] = { 15638, 10254 };

	for (size_t i = 0; i < 2; i++) {
		size_t size, len;
		unsigned char *d = file_load(fixture_path(names[i]), &size);
		struct image_info info;
		unsigned reads;

		ck_assert_uint_eq(sof_at(d, size), sofs[i]);
		/* The first 4 KiB alone do not say the size. */
		ck_assert_int_eq(image_probe(d, 4096, &info, NULL), IMAGE_NEED_MORE);
		ck_assert_int_eq(read_mem(d, size, SIZE_MAX, 4096, IMAGE_HEADER_CAP, &len,
		    &reads, &info), IMAGE_OK);
		ck_assert_uint_eq(info.width, i == 0 ? 1000 : 40);
		ck_assert_uint_ge(len, sofs[i] + 9);
		/* Two reads, each at least twice what was there (hubble:
		 * to 12 330, the end of the Exif segment, then 24 660), and
		 * far from the whole file. */
		ck_assert_uint_le(reads, 2);
		ck_assert_uint_le(len, 32768);
		/* One byte at a time: exactly to the SOF's width. */
		ck_assert_int_eq(read_mem(d, size, 1, 4096, IMAGE_HEADER_CAP, &len, &reads, &info),
		    IMAGE_OK);
		ck_assert_uint_eq(len, sofs[i] + 9);
		ck_assert_uint_eq(reads, sofs[i] + 9 - 4096);
		free(d);
	}
}
END_TEST

/* The cap: a header that goes on past it is IMAGE_TOO_LARGE after exactly
 * cap bytes; one that ends at it is read; a file that ends first is
 * IMAGE_TRUNCATED. */
START_TEST(test_read_header_cap)
{
	size_t size, len;
	unsigned char *d = file_load(fixture_path("formats/exif_big.jpg"), &size);
	size_t sof = sof_at(d, size);
	struct image_info info;
	unsigned reads;

	ck_assert_uint_eq(sof, 69699);
	ck_assert_int_eq(read_mem(d, size, SIZE_MAX, 0, 65536, &len, &reads, &info), IMAGE_TOO_LARGE);
	ck_assert_uint_eq(len, 65536);
	ck_assert_uint_eq(info.width, 0);
	ck_assert_int_eq(read_mem(d, size, 1, 0, sof + 8, &len, &reads, &info), IMAGE_TOO_LARGE);
	ck_assert_uint_eq(len, sof + 8);
	ck_assert_int_eq(read_mem(d, size, 1, 0, sof + 9, &len, &reads, &info), IMAGE_OK);
	ck_assert_uint_eq(info.width, 40);
	ck_assert_int_eq(read_mem(d, size, 4096, 4096, sof + 9, &len, &reads, &info), IMAGE_OK);
	ck_assert_int_eq(read_mem(d, size, SIZE_MAX, 65536, 65536, &len, &reads, &info),
	    IMAGE_TOO_LARGE);
	ck_assert_uint_eq(reads, 0);
	/* The file ends inside its header, before the cap. */
	ck_assert_int_eq(read_mem(d, 60000, SIZE_MAX, 0, 65536, &len, &reads, &info),
	    IMAGE_TRUNCATED);
	ck_assert_uint_eq(len, 60000);
	ck_assert_int_eq(read_mem(d, sof + 8, 1, 0, IMAGE_HEADER_CAP, &len, &reads, &info),
	    IMAGE_TRUNCATED);
	ck_assert_int_eq(read_mem(d, sof + 8, 7, sof + 8, IMAGE_HEADER_CAP, &len, &reads, &info),
	    IMAGE_TRUNCATED);
	ck_assert_uint_eq(reads, 0);
	/* A cap of IMAGE_HEADER_CAP reads all of it. */
	ck_assert_int_eq(read_mem(d, size, SIZE_MAX, 0, IMAGE_HEADER_CAP, &len, &reads, &info),
	    IMAGE_OK);
	free(d);
}
END_TEST

/* A header of a quarter million empty segments up to the cap and beyond
 * costs a handful of reads (each asks for twice what came before). */
START_TEST(test_read_header_few_reads)
{
	size_t n = 2 * IMAGE_HEADER_CAP, i, len;
	unsigned char *d = malloc(n);
	struct image_info info;
	unsigned reads;

	ck_assert_ptr_nonnull(d);
	d[0] = 0xff;
	d[1] = 0xd8;
	for (i = 2; i + 4 <= n; i += 4) {
		d[i] = 0xff;
		d[i + 1] = 0xfe;
		d[i + 2] = 0;
		d[i + 3] = 2;
	}
	ck_assert_int_eq(read_mem(d, n, SIZE_MAX, 0, IMAGE_HEADER_CAP, &len, &reads, &info),
	    IMAGE_TOO_LARGE);
	ck_assert_uint_eq(len, IMAGE_HEADER_CAP);
	ck_assert_uint_le(reads, 9);	/* 4 KiB, 8 KiB, ... 1 MiB */
	/* The same, ending at 300 000 bytes: truncated, as few reads. */
	ck_assert_int_eq(read_mem(d, 300000, SIZE_MAX, 0, IMAGE_HEADER_CAP, &len, &reads, &info),
	    IMAGE_TRUNCATED);
	ck_assert_uint_eq(len, 300000);
	ck_assert_uint_le(reads, 9);
	free(d);
}
END_TEST

/* A reader that fails, a file that is not an image, an empty file, and a
 * whole file that needs no reader at all. */
START_TEST(test_read_header_errors)
{
	static const char text[] = "This is a text file that someone named photo.png.\n";
	size_t size, len;
	unsigned char *d = file_load(fixture_path("hubble_deep_field.jpg"), &size);
	struct mem_file f = { .data = d, .size = size, .chunk = SIZE_MAX, .fail_at = 2 };
	struct image_reader rd = { mem_read, &f };
	unsigned char *buf = malloc(IMAGE_HEADER_CAP);
	struct image_info info;
	char err[64] = "";
	unsigned reads;

	ck_assert_ptr_nonnull(buf);
	len = 0;
	ck_assert_int_eq(image_read_header(&rd, buf, IMAGE_HEADER_CAP, &len, 0, &info, err,
	    sizeof(err)), IMAGE_READ_ERROR);
	ck_assert_str_eq(err, "the disk is on fire");
	ck_assert_uint_eq(f.reads, 2);
	ck_assert_uint_eq(info.width, 0);
	/* The first read fails. */
	f = (struct mem_file){ .data = d, .size = size, .chunk = SIZE_MAX, .fail_at = 1 };
	len = 0;
	err[0] = '\0';
	ck_assert_int_eq(image_read_header(&rd, buf, IMAGE_HEADER_CAP, &len, 0, NULL, err,
	    sizeof(err)), IMAGE_READ_ERROR);
	ck_assert_str_eq(err, "the disk is on fire");
	/* Enough read ahead: the failing reader is never called. */
	f = (struct mem_file){ .data = d, .size = size, .chunk = SIZE_MAX, .fail_at = 1 };
	memcpy(buf, d, 20000);
	len = 20000;
	ck_assert_int_eq(image_read_header(&rd, buf, IMAGE_HEADER_CAP, &len, 0, &info, err,
	    sizeof(err)), IMAGE_OK);
	ck_assert_uint_eq(f.reads, 0);
	ck_assert_uint_eq(len, 20000);
	free(buf);

	ck_assert_int_eq(read_mem((const unsigned char *)text, sizeof(text) - 1, SIZE_MAX, 0,
	    IMAGE_HEADER_CAP, &len, &reads, &info), IMAGE_NOT_IMAGE);
	ck_assert_int_eq(info.format, IMAGE_UNKNOWN);
	/* An empty file, known to be whole: nothing to read. */
	ck_assert_int_eq(read_mem(d, 0, SIZE_MAX, 0, IMAGE_HEADER_CAP, &len, &reads, &info),
	    IMAGE_NOT_IMAGE);
	ck_assert_uint_eq(len, 0);
	ck_assert_uint_eq(reads, 0);
	/* An empty file read from the start: one read says so. */
	f = (struct mem_file){ .data = d, .size = 0, .chunk = SIZE_MAX };
	buf = malloc(IMAGE_HEADER_CAP);
	ck_assert_ptr_nonnull(buf);
	len = 0;
	ck_assert_int_eq(image_read_header(&rd, buf, IMAGE_HEADER_CAP, &len, 0, &info, err,
	    sizeof(err)), IMAGE_NOT_IMAGE);
	ck_assert_uint_eq(f.reads, 1);
	free(buf);
	ck_assert_int_eq(read_mem(d, 2, 1, 0, IMAGE_HEADER_CAP, &len, &reads, &info),
	    IMAGE_TRUNCATED);
	ck_assert_int_eq(info.format, IMAGE_JPEG);
	free(d);
}
END_TEST

START_TEST(test_status_text)
{
	int s;

	ck_assert_str_eq(image_status_text(IMAGE_NOT_IMAGE),
	    "not a PNG, JPEG, GIF, BMP or WebP image");
	ck_assert_str_eq(image_status_text(IMAGE_TRUNCATED),
	    "the file ends inside its image header");
	ck_assert_str_eq(image_status_text(IMAGE_BAD_HEADER),
	    "the image header is damaged or gives a size of zero");
	ck_assert_str_eq(image_status_text(IMAGE_TOO_LARGE),
	    "the image header is larger than 1 MiB");
	ck_assert_str_eq(image_status_text(IMAGE_READ_ERROR), "the file could not be read");
	for (s = IMAGE_OK; s <= IMAGE_READ_ERROR + 1; s++) {
		const char *t = image_status_text((enum image_status)s);

		ck_assert_ptr_nonnull(t);
		ck_assert_uint_gt(strlen(t), 10);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("image");
	TCase *fx = tcase_create("fixtures");
	TCase *tc = tcase_create("headers");

	/* every prefix of every photo, under sanitizers too */
	tcase_set_timeout(fx, 300);
	tcase_add_test(fx, test_fixtures_whole);
	tcase_add_test(fx, test_fixtures_need_more);
	tcase_add_test(fx, test_fixtures_truncated);
	tcase_add_test(fx, test_read_header_fixtures);
	tcase_add_test(fx, test_read_header_late_sof);
	tcase_add_test(fx, test_read_header_cap);
	tcase_add_test(fx, test_read_header_few_reads);
	tcase_add_test(fx, test_read_header_errors);
	suite_add_tcase(s, fx);

	tcase_add_test(tc, test_png_hostile);
	tcase_add_test(tc, test_png_huge_claim);
	tcase_add_test(tc, test_jpeg_walk);
	tcase_add_test(tc, test_jpeg_markers);
	tcase_add_test(tc, test_jpeg_hostile);
	tcase_add_test(tc, test_jpeg_long_walk);
	tcase_add_test(tc, test_gif);
	tcase_add_test(tc, test_bmp);
	tcase_add_test(tc, test_webp);
	tcase_add_test(tc, test_not_images);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_status_text);
	suite_add_tcase(s, tc);
	return s;
}

#include "unit.h"
