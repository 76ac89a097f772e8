/*
 * image.h: recognising image files by their first bytes and reading their
 * dimensions from the header, without decoding any pixels.
 *
 * Formats: PNG, JPEG, GIF, BMP, WebP (VP8, VP8L, VP8X).  Everything here is a
 * pure function of the bytes given: no I/O, no allocation, safe on any input
 * (fuzzed: tests/fuzz/fuzz_image.c).
 */
#ifndef LABELD_IMAGE_H
#define LABELD_IMAGE_H

#include <stddef.h>
#include <stdint.h>

enum image_format {
	IMAGE_UNKNOWN = 0,
	IMAGE_PNG,
	IMAGE_JPEG,
	IMAGE_GIF,
	IMAGE_BMP,
	IMAGE_WEBP
};

/* How many leading bytes image_probe wants to see to be sure of the
 * dimensions for PNG, GIF, BMP and WebP.  JPEG keeps its size in a SOF
 * marker that can come after large EXIF/ICC segments: image_probe says
 * IMAGE_NEED_MORE with the offset it needs next (see below). */
#define IMAGE_HEAD_BYTES 64

enum image_status {
	IMAGE_OK = 0,
	IMAGE_NOT_IMAGE,      /* no known magic bytes */
	IMAGE_TRUNCATED,      /* the header ends before the dimensions */
	IMAGE_BAD_HEADER,     /* known magic, but the header is inconsistent */
	IMAGE_NEED_MORE       /* JPEG: call again with more bytes (*need says how many) */
};

struct image_info {
	enum image_format format;
	uint32_t width;
	uint32_t height;
};

/* Identify the image in data[0..len) and read its dimensions.  For JPEG,
 * when the SOF marker lies beyond len, returns IMAGE_NEED_MORE and sets
 * *need to the total number of leading bytes required (callers read up to a
 * sane cap, e.g. 1 MiB, then give up with IMAGE_TRUNCATED).  Width and height
 * of 0 are IMAGE_BAD_HEADER. */
enum image_status image_probe(const unsigned char *data, size_t len,
    struct image_info *info, size_t *need);

/* The format's canonical name: "png", "jpeg", "gif", "bmp", "webp"; "" for
 * unknown. */
const char *image_format_name(enum image_format f);

/* The format a file name's extension claims (case-insensitive: .png .jpg
 * .jpeg .jpe .jfif .gif .bmp .dib .webp), or IMAGE_UNKNOWN. */
enum image_format image_format_from_name(const char *filename);

/* The media type for the format ("image/png", ...); "application/octet-stream"
 * for unknown. */
const char *image_media_type(enum image_format f);

/* A sentence for a person about a status ("not a PNG, JPEG, GIF, BMP or WebP
 * image", ...). */
const char *image_status_text(enum image_status s);

#endif
