/*
 * gen_images: write many small, valid images for the initialisation
 * benchmark (./stack bench init-local-100k).  No library is needed: the
 * images are built byte by byte.
 *
 *   gen_images DIR N [FOLDERS]
 *
 * writes N images into FOLDERS leaf folders (default 100) laid out as
 * DIR/fNN/gNN/ (ten top folders of ten subfolders each for 100), named
 * iNNNNNNN.EXT.  About 80% are PNG, 10% JPEG and 10% GIF, each 8..64
 * pixels wide and high (deterministic: the same N gives the same files).
 *
 *   PNG   8-bit greyscale; IHDR, one IDAT holding a zlib stream of stored
 *         (uncompressed) deflate blocks, IEND; CRCs and Adler-32 correct.
 *   JPEG  baseline greyscale; every 8x8 block has DC difference 0 and no AC
 *         coefficients (a flat grey picture), with one-symbol Huffman tables.
 *   GIF   GIF89a, two-colour global palette, LZW with a clear code every two
 *         pixels so codes stay 3 bits wide.
 *
 * Exit status 0, or 1 with a message on the first error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_SIDE 64
#define MIN_SIDE 8

/* An output buffer large enough for any image written here. */
struct out {
	unsigned char b[64 * 1024];
	size_t n;
};

static void put8(struct out *o, unsigned v)
{
	o->b[o->n++] = (unsigned char)v;
}

static void put16be(struct out *o, unsigned v)
{
	put8(o, v >> 8);
	put8(o, v & 0xff);
}

static void put16le(struct out *o, unsigned v)
{
	put8(o, v & 0xff);
	put8(o, v >> 8);
}

static void put32be(struct out *o, uint32_t v)
{
	put8(o, v >> 24);
	put8(o, (v >> 16) & 0xff);
	put8(o, (v >> 8) & 0xff);
	put8(o, v & 0xff);
}

static void put_bytes(struct out *o, const void *p, size_t n)
{
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

/* ------------------------------------------------------------ PNG */

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[n] = c;
	}
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++)
		c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

/* Append a chunk: length, type, data, CRC over type and data. */
static void png_chunk(struct out *o, const char *type, const unsigned char *data, size_t len)
{
	size_t start;

	put32be(o, (uint32_t)len);
	start = o->n;
	put_bytes(o, type, 4);
	if (len)
		put_bytes(o, data, len);
	put32be(o, crc32_of(o->b + start, len + 4));
}

static void write_png(struct out *o, unsigned w, unsigned h, unsigned seed)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char raw[(MAX_SIDE + 1) * MAX_SIDE];
	unsigned char z[sizeof(raw) + 64];
	unsigned char ihdr[13];
	size_t rawlen = (size_t)(w + 1) * h, zn = 0;
	uint32_t a = 1, b = 0;
	struct out hdr = { .n = 0 };

	/* Rows: filter byte 0, then a gradient that depends on seed. */
	for (unsigned y = 0; y < h; y++) {
		raw[y * (w + 1)] = 0;
		for (unsigned x = 0; x < w; x++)
			raw[y * (w + 1) + 1 + x] = (unsigned char)(x * 4 + y * 2 + seed);
	}
	/* zlib: CMF/FLG, one stored block (rawlen < 65536), Adler-32. */
	z[zn++] = 0x78;
	z[zn++] = 0x01;
	z[zn++] = 0x01;                         /* BFINAL=1, BTYPE=00 */
	z[zn++] = rawlen & 0xff;
	z[zn++] = (rawlen >> 8) & 0xff;
	z[zn++] = ~rawlen & 0xff;
	z[zn++] = (~rawlen >> 8) & 0xff;
	memcpy(z + zn, raw, rawlen);
	zn += rawlen;
	for (size_t i = 0; i < rawlen; i++) {
		a = (a + raw[i]) % 65521;
		b = (b + a) % 65521;
	}
	z[zn++] = (unsigned char)(b >> 8);
	z[zn++] = (unsigned char)(b & 0xff);
	z[zn++] = (unsigned char)(a >> 8);
	z[zn++] = (unsigned char)(a & 0xff);

	put32be(&hdr, w);
	put32be(&hdr, h);
	memcpy(ihdr, hdr.b, 8);
	ihdr[8] = 8;    /* bit depth */
	ihdr[9] = 0;    /* greyscale */
	ihdr[10] = 0;   /* deflate */
	ihdr[11] = 0;   /* adaptive filtering */
	ihdr[12] = 0;   /* no interlace */

	put_bytes(o, sig, sizeof(sig));
	png_chunk(o, "IHDR", ihdr, sizeof(ihdr));
	png_chunk(o, "IDAT", z, zn);
	png_chunk(o, "IEND", NULL, 0);
}

/* ------------------------------------------------------------ JPEG */

static void write_jpeg(struct out *o, unsigned w, unsigned h, unsigned seed)
{
	unsigned blocks = ((w + 7) / 8) * ((h + 7) / 8);
	unsigned bits = blocks * 2, bytes = (bits + 7) / 8;

	put16be(o, 0xffd8);                     /* SOI */
	/* APP0 JFIF */
	put16be(o, 0xffe0);
	put16be(o, 16);
	put_bytes(o, "JFIF", 5);
	put16be(o, 0x0101);
	put8(o, 0);
	put16be(o, 1);
	put16be(o, 1);
	put8(o, 0);
	put8(o, 0);
	/* DQT: table 0, 8-bit, all ones. */
	put16be(o, 0xffdb);
	put16be(o, 67);
	put8(o, 0x00);
	for (int i = 0; i < 64; i++)
		put8(o, 1 + (i == 0 ? seed % 8 : 0));
	/* SOF0: 8-bit, h x w, one component (id 1, 1x1 sampling, table 0). */
	put16be(o, 0xffc0);
	put16be(o, 11);
	put8(o, 8);
	put16be(o, h);
	put16be(o, w);
	put8(o, 1);
	put8(o, 1);
	put8(o, 0x11);
	put8(o, 0);
	/* DHT DC table 0: one code of length 1 for category 0. */
	put16be(o, 0xffc4);
	put16be(o, 2 + 1 + 16 + 1);
	put8(o, 0x00);
	put8(o, 1);
	for (int i = 1; i < 16; i++)
		put8(o, 0);
	put8(o, 0x00);
	/* DHT AC table 0: one code of length 1 for EOB (0x00). */
	put16be(o, 0xffc4);
	put16be(o, 2 + 1 + 16 + 1);
	put8(o, 0x10);
	put8(o, 1);
	for (int i = 1; i < 16; i++)
		put8(o, 0);
	put8(o, 0x00);
	/* SOS: one component, tables 0/0, spectral 0..63, no approximation. */
	put16be(o, 0xffda);
	put16be(o, 8);
	put8(o, 1);
	put8(o, 1);
	put8(o, 0x00);
	put8(o, 0);
	put8(o, 63);
	put8(o, 0);
	/* Entropy data: "00" per block (DC cat 0, EOB), padded with 1 bits.
	 * Only zero bits and a final partial byte of ones: never 0xff. */
	for (unsigned i = 0; i < bytes; i++) {
		unsigned used = bits - i * 8 >= 8 ? 8 : bits - i * 8;
		put8(o, used == 8 ? 0x00 : (0xffu >> used) & 0xff);
	}
	put16be(o, 0xffd9);                     /* EOI */
}

/* ------------------------------------------------------------ GIF */

/* LZW bit writer (least significant bit first) into GIF sub-blocks. */
struct lzw {
	unsigned char data[MAX_SIDE * MAX_SIDE];
	size_t n;
	uint32_t acc;
	unsigned nbits;
};

static void lzw_put(struct lzw *l, unsigned code, unsigned width)
{
	l->acc |= (uint32_t)code << l->nbits;
	l->nbits += width;
	while (l->nbits >= 8) {
		l->data[l->n++] = l->acc & 0xff;
		l->acc >>= 8;
		l->nbits -= 8;
	}
}

static void write_gif(struct out *o, unsigned w, unsigned h, unsigned seed)
{
	struct lzw l = { .n = 0 };
	unsigned npix = w * h;

	put_bytes(o, "GIF89a", 6);
	put16le(o, w);
	put16le(o, h);
	put8(o, 0x80);                          /* global table, 2 entries */
	put8(o, 0);
	put8(o, 0);
	put8(o, 0);
	put8(o, 0);
	put8(o, 0);
	put8(o, (seed * 37) & 0xff);
	put8(o, 0xff);
	put8(o, 0xff);
	/* Image descriptor. */
	put8(o, 0x2c);
	put16le(o, 0);
	put16le(o, 0);
	put16le(o, w);
	put16le(o, h);
	put8(o, 0);
	/* LZW minimum code size 2: clear = 4, end = 5, codes 3 bits wide.
	 * A clear code before every second pixel keeps the table from
	 * growing past 7 entries, so the width never changes. */
	put8(o, 2);
	for (unsigned i = 0; i < npix; i++) {
		if (i % 2 == 0)
			lzw_put(&l, 4, 3);
		lzw_put(&l, ((i / w + i % w + seed) / 4) & 1, 3);
	}
	lzw_put(&l, 5, 3);
	if (l.nbits)
		l.data[l.n++] = l.acc & 0xff;
	for (size_t off = 0; off < l.n; off += 255) {
		size_t len = l.n - off > 255 ? 255 : l.n - off;
		put8(o, (unsigned)len);
		put_bytes(o, l.data + off, len);
	}
	put8(o, 0);                             /* block terminator */
	put8(o, 0x3b);                          /* trailer */
}

/* ------------------------------------------------------------ main */

static int mkdir_one(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "gen_images: mkdir %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int parse_count(const char *s, unsigned long *v)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return (*end || errno) ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long n, folders = 100;
	static struct out o;
	char path[4096];

	if (argc < 3 || argc > 4 || parse_count(argv[2], &n) < 0 ||
	    (argc == 4 && (parse_count(argv[3], &folders) < 0 || folders == 0 || folders > 10000))) {
		fprintf(stderr, "usage: gen_images DIR N [FOLDERS]\n");
		return 2;
	}
	crc_init();
	if (mkdir_one(argv[1]) < 0)
		return 1;
	/* Leaf folder k is fA/gB with A = k / 10, B = k % 10 (more levels
	 * than needed are fine: the walk is recursive). */
	for (unsigned long k = 0; k < folders; k++) {
		snprintf(path, sizeof(path), "%s/f%02lu", argv[1], k / 10);
		if (mkdir_one(path) < 0)
			return 1;
		snprintf(path, sizeof(path), "%s/f%02lu/g%02lu", argv[1], k / 10, k % 10);
		if (mkdir_one(path) < 0)
			return 1;
	}
	uint32_t rng = 12345;
	for (unsigned long i = 0; i < n; i++) {
		unsigned long k = i % folders;
		const char *ext;
		rng = rng * 1103515245u + 12345u;
		unsigned w = MIN_SIDE + (rng >> 16) % (MAX_SIDE - MIN_SIDE + 1);
		rng = rng * 1103515245u + 12345u;
		unsigned h = MIN_SIDE + (rng >> 16) % (MAX_SIDE - MIN_SIDE + 1);
		unsigned kind = (unsigned)((i / folders) % 10);

		o.n = 0;
		if (kind == 3) {
			write_jpeg(&o, w, h, (unsigned)i);
			ext = "jpg";
		} else if (kind == 7) {
			write_gif(&o, w, h, (unsigned)i);
			ext = "gif";
		} else {
			write_png(&o, w, h, (unsigned)i);
			ext = "png";
		}
		snprintf(path, sizeof(path), "%s/f%02lu/g%02lu/i%07lu.%s", argv[1], k / 10, k % 10, i, ext);
		FILE *f = fopen(path, "wb");
		if (f == NULL) {
			fprintf(stderr, "gen_images: %s: %s\n", path, strerror(errno));
			return 1;
		}
		if (fwrite(o.b, 1, o.n, f) != o.n || fclose(f) != 0) {
			fprintf(stderr, "gen_images: writing %s failed\n", path);
			return 1;
		}
	}
	return 0;
}
