/*
 * image.h: recognising image files by their first bytes and reading their
 * dimensions from the header, without decoding any pixels.
 *
 * Formats: PNG, JPEG, GIF, BMP, WebP (VP8, VP8L, VP8X).  Everything here is a
 * pure function of the bytes given: no allocation, safe on any input
 * (fuzzed: tests/fuzz/fuzz_image.c).  The only I/O is image_read_header's,
 * and it goes through the caller's reader.
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

/* The most leading bytes read to find an image's size: a JPEG whose frame
 * header lies further in is refused (IMAGE_TOO_LARGE). */
#define IMAGE_HEADER_CAP (1024 * 1024)

enum image_status {
	IMAGE_OK = 0,
	IMAGE_NOT_IMAGE,      /* no known magic bytes */
	IMAGE_TRUNCATED,      /* the header ends before the dimensions */
	IMAGE_BAD_HEADER,     /* known magic, but the header is inconsistent */
	IMAGE_NEED_MORE,      /* JPEG: call again with more bytes (*need says how many) */
	IMAGE_TOO_LARGE,      /* image_read_header: the header goes on past the cap */
	IMAGE_READ_ERROR      /* image_read_header: the reader failed (err says why) */
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

/* Where image_read_header gets a file's bytes: read at most len bytes at
 * offset off of the file into buf and set *got to the count (fewer than len
 * is fine; 0 only at the end of the file).  0, or -1 with a sentence in err. */
struct image_reader {
	int (*read)(void *ctx, uint64_t off, unsigned char *buf, size_t len,
	    size_t *got, char *err, size_t errlen);
	void *ctx;
};

/*
 * Read a file's header through rd and probe it: the one loop every path
 * that looks at a file's size uses (uploads, local files, blobs).
 *
 * buf has room for cap bytes (at least IMAGE_HEAD_BYTES), and buf[0..*len)
 * holds the leading bytes read so far (*len may be 0); whole is non-zero
 * when they are the whole file.
 * The loop makes sure buf holds IMAGE_HEAD_BYTES (or the whole file), probes,
 * and while the probe answers IMAGE_NEED_MORE reads on from offset *len
 * until buf holds what the probe asked for, then probes again.  So that a
 * header of many small segments costs few reads, each read asks for at
 * least twice what buf holds (and at least 4 KiB), never past cap; a reader
 * that returns less is called again until the probe's ask is met.
 *
 * Returns the probe's answer (IMAGE_OK with *info filled, IMAGE_NOT_IMAGE,
 * IMAGE_BAD_HEADER, or IMAGE_TRUNCATED when the file ends inside its
 * header), IMAGE_TOO_LARGE when the header goes on past cap bytes, or
 * IMAGE_READ_ERROR with rd's sentence in err; never IMAGE_NEED_MORE.  *len
 * is how many bytes buf holds at the end.
 */
enum image_status image_read_header(const struct image_reader *rd,
    unsigned char *buf, size_t cap, size_t *len, int whole,
    struct image_info *info, char *err, size_t errlen);

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
