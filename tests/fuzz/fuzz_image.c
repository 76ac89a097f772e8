/*
 * fuzz_image.c: libFuzzer target for image_probe.  The input is the start of
 * a file.  The target reads it the way a caller does: IMAGE_HEAD_BYTES
 * first, then as many leading bytes as *need asks for (or all there are,
 * when that is less), until the answer is not IMAGE_NEED_MORE or the input
 * has no more.  Every prefix is probed from a buffer of exactly its size,
 * so a read past len is caught by ASan.
 *
 * Aborts when an answer breaks the contract in core/image.h: a size of 0
 * with IMAGE_OK, a size left behind by a failure, a format named for a
 * non-image or none for an image, a *need that does not ask for more,
 * IMAGE_NEED_MORE for a format other than JPEG, an answer that changes when
 * more bytes follow although IMAGE_HEAD_BYTES were said to be enough, or a
 * reading loop that ends otherwise than probing the whole input at once.
 *
 * Then the same input goes through image_read_header, the loop every caller
 * uses, with a reader that hands out 1 to 64 bytes at a time (or all that
 * is asked for) into a buffer of exactly its cap (below or above the input's
 * size): it must agree with the loop above, stop at the cap only when the
 * header goes on past it, and never ask for bytes it already has.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

/* image_probe on a copy of data[0..len) that ends where the buffer does. */
static enum image_status probe(const uint8_t *data, size_t len,
    struct image_info *info, size_t *need)
{
	unsigned char *copy = malloc(len > 0 ? len : 1);
	enum image_status s;

	if (copy == NULL)
		abort();
	memcpy(copy, data, len);
	*need = 0;
	s = image_probe(copy, len, info, need);
	free(copy);

	check(image_status_text(s)[0] != '\0');
	if (s == IMAGE_OK) {
		check(info->format != IMAGE_UNKNOWN);
		check(info->width > 0 && info->height > 0);
		check(image_format_name(info->format)[0] != '\0');
	} else {
		check(info->width == 0 && info->height == 0);
	}
	if (s == IMAGE_NOT_IMAGE)
		check(info->format == IMAGE_UNKNOWN);
	else
		check(info->format != IMAGE_UNKNOWN);
	if (s == IMAGE_NEED_MORE) {
		check(info->format == IMAGE_JPEG);
		check(*need > len);
	} else {
		check(*need == 0);
	}
	if (len == 0)
		check(s == IMAGE_NOT_IMAGE);
	return s;
}

/* The input as a file, read at most chunk bytes at a time. */
struct mem_file {
	const uint8_t *data;
	size_t size, chunk;
	uint64_t next;
};

static int mem_read(void *ctx, uint64_t off, unsigned char *buf, size_t len,
    size_t *got, char *err, size_t errlen)
{
	struct mem_file *f = ctx;
	size_t n;

	(void)err;
	(void)errlen;
	check(off == f->next && len > 0);
	n = off < f->size ? f->size - (size_t)off : 0;
	if (n > len)
		n = len;
	if (n > f->chunk)
		n = f->chunk;
	memcpy(buf, f->data + off, n);
	f->next = off + n;
	*got = n;
	return 0;
}

static int same(const struct image_info *a, const struct image_info *b)
{
	return a->format == b->format && a->width == b->width &&
	    a->height == b->height;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_info info, whole, head;
	enum image_status s, s_whole, s_head;
	size_t len, need, rounds = 0;
	char *name;

	/* The caller's loop. */
	len = size < IMAGE_HEAD_BYTES ? size : IMAGE_HEAD_BYTES;
	s_head = probe(data, len, &head, &need);
	s = s_head;
	info = head;
	while (s == IMAGE_NEED_MORE && len < size) {
		len = need < size ? need : size;
		s = probe(data, len, &info, &need);
		check(++rounds <= size);
	}

	/* The whole input at once agrees. */
	s_whole = probe(data, size, &whole, &need);
	check(s_whole == s && same(&info, &whole));
	/* For all formats but JPEG, IMAGE_HEAD_BYTES decide. */
	if (s_head != IMAGE_NEED_MORE)
		check(s_whole == s_head && same(&head, &whole));

	/* The reading loop of the callers.  The input's last byte picks
	 * the reader's chunk and whether the cap cuts the input in half. */
	{
		uint8_t pick = size > 0 ? data[size - 1] : 0;
		struct mem_file f = { data, size, pick % 65 == 0 ? SIZE_MAX : pick % 65, 0 };
		struct image_reader rd = { mem_read, &f };
		size_t cap = (pick & 0x80) && size >= 2 * IMAGE_HEAD_BYTES ? size / 2 : size + 1;
		unsigned char *buf = malloc(cap);
		struct image_info got;
		enum image_status s_rd;
		char err[64];

		if (buf == NULL)
			abort();
		len = 0;
		s_rd = image_read_header(&rd, buf, cap, &len, 0, &got, err, sizeof(err));
		check(len <= cap && len <= size && memcmp(buf, data, len) == 0);
		check(s_rd != IMAGE_NEED_MORE && s_rd != IMAGE_READ_ERROR);
		if (s_rd == IMAGE_TOO_LARGE) {
			/* Only a JPEG whose header goes on past the cap. */
			check(len == cap && cap < size);
			check(probe(data, cap, &whole, &need) == IMAGE_NEED_MORE);
		} else if (cap > size) {
			check(s_rd == (s == IMAGE_NEED_MORE ? IMAGE_TRUNCATED : s));
			check(same(&got, &info) || s == IMAGE_NEED_MORE);
		} else {
			/* Decided within the cap: as the whole input says. */
			check(s_rd == s && same(&got, &info));
		}
		free(buf);
	}

	/* The input as a file name. */
	name = malloc(size + 1);
	if (name == NULL)
		abort();
	memcpy(name, data, size);
	name[size] = '\0';
	check(image_media_type(image_format_from_name(name))[0] != '\0');
	free(name);
	return 0;
}
