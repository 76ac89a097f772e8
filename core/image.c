/*
 * image.c: recognising PNG, JPEG, GIF, BMP and WebP files by their first
 * bytes and reading width and height from the header.  No pixel is decoded,
 * nothing is allocated, and every read is checked against len first.
 *
 * Conventions of image_probe beyond image.h:
 * - info->format says which format the magic bytes claim, also when the
 *   status is not IMAGE_OK (IMAGE_UNKNOWN for IMAGE_NOT_IMAGE); width and
 *   height are 0 unless the status is IMAGE_OK.
 * - A non-empty input that is a proper prefix of a known magic (say the
 *   5 bytes "\x89PNG\r") is IMAGE_TRUNCATED; an empty input is
 *   IMAGE_NOT_IMAGE.
 * - Only JPEG answers IMAGE_NEED_MORE, and then *need > len always, so a
 *   caller that grows its prefix to *need makes progress every time.  *need
 *   asks for a whole marker with its length field, which a damaged file may
 *   not have: a caller whose file is shorter than *need probes once more
 *   with all of it, and only IMAGE_NEED_MORE then means truncated.
 *   *need is left alone for every other status.
 * - info and need may be NULL.
 *
 * image_read_header is the loop around image_probe that every caller uses;
 * its reads go through the caller's reader, so this file still does no I/O
 * of its own.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "image.h"

/* Bytes the fixed-layout headers need, counted from the start of the file. */
#define PNG_HEAD   24	/* signature 8, IHDR length 4, "IHDR" 4, width 4, height 4 */
#define GIF_HEAD   10	/* "GIF8?a" 6, width 2, height 2 */
#define BMP_MAGIC  18	/* "BM" 2, file size 4, reserved 4, pixel offset 4, DIB size 4 */
#define BMP_CORE   24	/* ... width 2, height 2, planes 2 */
#define BMP_INFO   28	/* ... width 4, height 4, planes 2 */
#define WEBP_CHUNK 20	/* "RIFF" size "WEBP", chunk fourcc 4, chunk size 4 */

/* image_read_header reads at least this much at a time (a page). */
#define READ_MIN 4096

/* JPEG: the smallest SOF segment length (2 length bytes, precision, height,
 * width, component count, and one component of 3 bytes). */
#define JPEG_SOF_MIN 11

static const unsigned char png_magic[8] = {
	0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
};
static const unsigned char jpeg_magic[3] = { 0xff, 0xd8, 0xff };

static uint32_t be16(const unsigned char *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[1] << 8 | p[0];
}

static uint32_t le24(const unsigned char *p)
{
	return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[1] << 8 | p[0];
}

/*
 * Compare data[0..len) with magic[0..mlen) at offset off of the file.
 * 1: data holds the whole magic; 0: data holds a proper, non-empty prefix
 * of it (or ends before off); -1: a byte differs.
 */
static int magic_match(const unsigned char *data, size_t len, size_t off,
    const void *magic, size_t mlen)
{
	size_t have;

	if (len <= off)
		return 0;
	have = len - off < mlen ? len - off : mlen;
	if (memcmp(data + off, magic, have) != 0)
		return -1;
	return have == mlen ? 1 : 0;
}

/* Store the dimensions; 0 in either is a damaged header. */
static enum image_status image_set_size(struct image_info *info,
    uint32_t width, uint32_t height)
{
	if (width == 0 || height == 0)
		return IMAGE_BAD_HEADER;
	info->width = width;
	info->height = height;
	return IMAGE_OK;
}

static enum image_status image_probe_png(const unsigned char *d, size_t len,
    struct image_info *info)
{
	uint32_t w, h;

	if (len < PNG_HEAD)
		return IMAGE_TRUNCATED;
	/* The first chunk must be IHDR with its fixed 13 bytes of data. */
	if (be32(d + 8) != 13 || memcmp(d + 12, "IHDR", 4) != 0)
		return IMAGE_BAD_HEADER;
	w = be32(d + 16);
	h = be32(d + 20);
	/* PNG limits both to 2^31 - 1. */
	if (w > INT32_MAX || h > INT32_MAX)
		return IMAGE_BAD_HEADER;
	return image_set_size(info, w, h);
}

static enum image_status image_probe_gif(const unsigned char *d, size_t len,
    struct image_info *info)
{
	if (len < GIF_HEAD)
		return IMAGE_TRUNCATED;
	/* The logical screen descriptor follows the 6-byte signature. */
	return image_set_size(info, le16(d + 6), le16(d + 8));
}

static enum image_status image_probe_bmp(const unsigned char *d, size_t len,
    struct image_info *info)
{
	uint32_t dib, w, h;
	int32_t sw, sh;

	if (len < BMP_MAGIC)
		return IMAGE_TRUNCATED;
	dib = le32(d + 14);
	if (dib == 12) {
		/* BITMAPCOREHEADER: unsigned 16-bit width and height. */
		if (len < BMP_CORE)
			return IMAGE_TRUNCATED;
		if (le16(d + 22) != 1)
			return IMAGE_BAD_HEADER;	/* planes must be 1 */
		return image_set_size(info, le16(d + 18), le16(d + 20));
	}
	if (dib < 40)
		return IMAGE_BAD_HEADER;
	/* BITMAPINFOHEADER and its successors: signed 32-bit width and
	 * height; a negative height means rows run top-down. */
	if (len < BMP_INFO)
		return IMAGE_TRUNCATED;
	if (le16(d + 26) != 1)
		return IMAGE_BAD_HEADER;
	sw = (int32_t)le32(d + 18);
	sh = (int32_t)le32(d + 22);
	if (sw <= 0 || sh == INT32_MIN)
		return IMAGE_BAD_HEADER;
	w = (uint32_t)sw;
	h = sh < 0 ? (uint32_t)-sh : (uint32_t)sh;
	return image_set_size(info, w, h);
}

static enum image_status image_probe_webp(const unsigned char *d, size_t len,
    struct image_info *info)
{
	const unsigned char *c = d + 12;	/* the first chunk */
	const unsigned char *p = d + WEBP_CHUNK;	/* its payload */
	uint32_t size, bits;

	if (len < WEBP_CHUNK)
		return IMAGE_TRUNCATED;
	size = le32(c + 4);
	if (memcmp(c, "VP8 ", 4) == 0) {
		/* Lossy: 3-byte frame tag, start code 9d 01 2a, then 14-bit
		 * width and height (the top 2 bits of each are a scale). */
		if (size < 10)
			return IMAGE_BAD_HEADER;
		if (len < WEBP_CHUNK + 10)
			return IMAGE_TRUNCATED;
		if ((p[0] & 1) != 0)
			return IMAGE_BAD_HEADER;	/* not a key frame */
		if (p[3] != 0x9d || p[4] != 0x01 || p[5] != 0x2a)
			return IMAGE_BAD_HEADER;
		return image_set_size(info, le16(p + 6) & 0x3fff,
		    le16(p + 8) & 0x3fff);
	}
	if (memcmp(c, "VP8L", 4) == 0) {
		/* Lossless: signature 0x2f, then 14 bits width - 1, 14 bits
		 * height - 1, 1 bit alpha, 3 bits version (0). */
		if (size < 5)
			return IMAGE_BAD_HEADER;
		if (len < WEBP_CHUNK + 5)
			return IMAGE_TRUNCATED;
		if (p[0] != 0x2f)
			return IMAGE_BAD_HEADER;
		bits = le32(p + 1);
		if ((bits >> 29) != 0)
			return IMAGE_BAD_HEADER;
		return image_set_size(info, (bits & 0x3fff) + 1,
		    ((bits >> 14) & 0x3fff) + 1);
	}
	if (memcmp(c, "VP8X", 4) == 0) {
		/* Extended: flags 1, reserved 3, canvas width - 1 and
		 * height - 1 as 24-bit numbers. */
		if (size < 10)
			return IMAGE_BAD_HEADER;
		if (len < WEBP_CHUNK + 10)
			return IMAGE_TRUNCATED;
		return image_set_size(info, le24(p + 4) + 1, le24(p + 7) + 1);
	}
	return IMAGE_BAD_HEADER;
}

/* Ask for data[0..n) (n > len) when the JPEG needs more of itself. */
static enum image_status jpeg_need(size_t n, size_t *need)
{
	if (need != NULL)
		*need = n;
	return IMAGE_NEED_MORE;
}

/* SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share
 * the range but are not frames. */
static int jpeg_is_sof(unsigned char m)
{
	return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

/*
 * Walk the JPEG's segments from offset 2 to the first SOF.  Each turn of the
 * loop moves pos forward by at least one byte, so the walk ends.
 */
static enum image_status image_probe_jpeg(const unsigned char *d, size_t len,
    struct image_info *info, size_t *need)
{
	size_t pos = 2;

	for (;;) {
		unsigned char m;
		size_t seg;

		/* A marker comes next; ask for it with its length field. */
		if (pos >= len)
			return jpeg_need(pos + 4, need);
		if (d[pos] != 0xff)
			return IMAGE_BAD_HEADER;
		while (pos < len && d[pos] == 0xff)
			pos++;	/* fill bytes */
		if (pos >= len)
			return jpeg_need(pos + 3, need);
		m = d[pos++];
		if (m == 0x01 || (m >= 0xd0 && m <= 0xd8))
			continue;	/* TEM, RSTn, SOI: no length */
		if (m == 0x00 || m == 0xd9 || m == 0xda)
			return IMAGE_BAD_HEADER;	/* stuffing, EOI or SOS before a frame */
		if (len - pos < 2)
			return jpeg_need(pos + 2, need);
		seg = be16(d + pos);
		if (seg < 2)
			return IMAGE_BAD_HEADER;
		if (jpeg_is_sof(m)) {
			/* length 2, precision 1, height 2, width 2 */
			if (seg < JPEG_SOF_MIN)
				return IMAGE_BAD_HEADER;
			if (len - pos < 7)
				return jpeg_need(pos + 7, need);
			return image_set_size(info, be16(d + pos + 5),
			    be16(d + pos + 3));
		}
		pos += seg;
	}
}

enum image_status image_probe(const unsigned char *data, size_t len,
    struct image_info *info, size_t *need)
{
	struct image_info dummy;
	int gif87, gif89, riff, webp, m;

	if (info == NULL)
		info = &dummy;
	info->format = IMAGE_UNKNOWN;
	info->width = 0;
	info->height = 0;
	if (data == NULL || len == 0)
		return IMAGE_NOT_IMAGE;

	if ((m = magic_match(data, len, 0, png_magic, sizeof(png_magic))) >= 0) {
		info->format = IMAGE_PNG;
		return m ? image_probe_png(data, len, info) : IMAGE_TRUNCATED;
	}
	if ((m = magic_match(data, len, 0, jpeg_magic, sizeof(jpeg_magic))) >= 0) {
		info->format = IMAGE_JPEG;
		return m ? image_probe_jpeg(data, len, info, need) : IMAGE_TRUNCATED;
	}
	gif87 = magic_match(data, len, 0, "GIF87a", 6);
	gif89 = magic_match(data, len, 0, "GIF89a", 6);
	if (gif87 >= 0 || gif89 >= 0) {
		info->format = IMAGE_GIF;
		return gif87 == 1 || gif89 == 1 ?
		    image_probe_gif(data, len, info) : IMAGE_TRUNCATED;
	}
	if ((m = magic_match(data, len, 0, "BM", 2)) >= 0) {
		info->format = IMAGE_BMP;
		return m ? image_probe_bmp(data, len, info) : IMAGE_TRUNCATED;
	}
	/* "RIFF", a 4-byte size, "WEBP"; other RIFF files (WAV, AVI) are not
	 * images. */
	riff = magic_match(data, len, 0, "RIFF", 4);
	webp = magic_match(data, len, 8, "WEBP", 4);
	if (riff == 1 && webp == 1) {
		info->format = IMAGE_WEBP;
		return image_probe_webp(data, len, info);
	}
	if (riff >= 0 && webp == 0) {
		info->format = IMAGE_WEBP;
		return IMAGE_TRUNCATED;
	}
	return IMAGE_NOT_IMAGE;
}

enum image_status image_read_header(const struct image_reader *rd,
    unsigned char *buf, size_t cap, size_t *len, int whole,
    struct image_info *info, char *err, size_t errlen)
{
	struct image_info dummy;
	size_t need = IMAGE_HEAD_BYTES;
	enum image_status st;

	if (info == NULL)
		info = &dummy;
	if (*len > cap)
		*len = cap;
	for (;;) {
		size_t want = need < cap ? need : cap;

		/* Read until buf holds what the probe asked for, the cap or
		 * the whole file; each read asks for a good deal more. */
		if (!whole && *len < want) {
			size_t target = *len < cap / 2 ? 2 * *len : cap;
			if (target < READ_MIN)
				target = READ_MIN < cap ? READ_MIN : cap;
			if (target < want)
				target = want;
			while (*len < want) {
				size_t got = 0;
				if (rd->read(rd->ctx, *len, buf + *len, target - *len, &got,
				    err, errlen) < 0) {
					info->format = IMAGE_UNKNOWN;
					info->width = info->height = 0;
					return IMAGE_READ_ERROR;
				}
				if (got == 0) {
					whole = 1;
					break;
				}
				*len += got < target - *len ? got : target - *len;
			}
		}
		st = image_probe(buf, *len, info, &need);
		if (st != IMAGE_NEED_MORE)
			return st;
		/* A file that ends before the marker the probe asked for. */
		if (whole)
			return IMAGE_TRUNCATED;
		if (*len >= cap)
			return IMAGE_TOO_LARGE;
		if (need <= *len)	/* image_probe promises more; never loop */
			return IMAGE_BAD_HEADER;
	}
}

const char *image_format_name(enum image_format f)
{
	switch (f) {
	case IMAGE_PNG:
		return "png";
	case IMAGE_JPEG:
		return "jpeg";
	case IMAGE_GIF:
		return "gif";
	case IMAGE_BMP:
		return "bmp";
	case IMAGE_WEBP:
		return "webp";
	case IMAGE_UNKNOWN:
		break;
	}
	return "";
}

enum image_format image_format_from_name(const char *filename)
{
	static const struct {
		const char *ext;
		enum image_format format;
	} exts[] = {
		{ "png", IMAGE_PNG },
		{ "jpg", IMAGE_JPEG },
		{ "jpeg", IMAGE_JPEG },
		{ "jpe", IMAGE_JPEG },
		{ "jfif", IMAGE_JPEG },
		{ "gif", IMAGE_GIF },
		{ "bmp", IMAGE_BMP },
		{ "dib", IMAGE_BMP },
		{ "webp", IMAGE_WEBP },
	};
	const char *base, *dot, *p;
	size_t i;

	if (filename == NULL)
		return IMAGE_UNKNOWN;
	base = filename;
	for (p = filename; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	dot = strrchr(base, '.');
	if (dot == NULL)
		return IMAGE_UNKNOWN;
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (strcasecmp(dot + 1, exts[i].ext) == 0)
			return exts[i].format;
	return IMAGE_UNKNOWN;
}

const char *image_media_type(enum image_format f)
{
	switch (f) {
	case IMAGE_PNG:
		return "image/png";
	case IMAGE_JPEG:
		return "image/jpeg";
	case IMAGE_GIF:
		return "image/gif";
	case IMAGE_BMP:
		return "image/bmp";
	case IMAGE_WEBP:
		return "image/webp";
	case IMAGE_UNKNOWN:
		break;
	}
	return "application/octet-stream";
}

const char *image_status_text(enum image_status s)
{
	switch (s) {
	case IMAGE_OK:
		return "the image header was read";
	case IMAGE_NOT_IMAGE:
		return "not a PNG, JPEG, GIF, BMP or WebP image";
	case IMAGE_TRUNCATED:
		return "the file ends inside its image header";
	case IMAGE_BAD_HEADER:
		return "the image header is damaged or gives a size of zero";
	case IMAGE_NEED_MORE:
		return "more of the file is needed to find the image size";
	case IMAGE_TOO_LARGE:
		return "the image header is larger than 1 MiB";
	case IMAGE_READ_ERROR:
		return "the file could not be read";
	}
	return "unknown image status";
}
