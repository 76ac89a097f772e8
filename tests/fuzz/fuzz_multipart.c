/*
 * fuzz_multipart.c: libFuzzer target for hp_parse_multipart.
 *
 * Input: the first line (up to '\n', at most 200 bytes) is the Content-Type
 * header; the rest is the body.  An input that starts with '-', or has no
 * newline in its first 200 bytes, is all body, under the Content-Type
 * "multipart/form-data; boundary=B".  The body
 * is fed through a reader whose chunk sizes vary with the input, so chunk
 * edges fall everywhere.  A hash of the input picks default or tight limits.
 * Temp files go to $TMPDIR (or /tmp) and must be gone after arena_reset.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CT_LINE 200

static struct arena *arena;
static int base_fd = -1;

static void check(int ok)
{
	if (!ok)
		abort();
}

struct reader {
	const char *data;
	size_t len, pos;
	uint32_t rng;
	int calls_after_end;
};

static ssize_t fuzz_read(void *ctx, char *buf, size_t len)
{
	struct reader *r = ctx;
	size_t n = r->len - r->pos, k;

	if (n == 0) {
		/* the parser stops asking once it saw the end */
		check(++r->calls_after_end == 1);
		return 0;
	}
	r->rng = r->rng * 1103515245u + 12345u;
	switch ((r->rng >> 16) % 4) {
	case 0:
		k = 1;
		break;
	case 1:
		k = 1 + (r->rng >> 20) % 16;
		break;
	case 2:
		k = 1 + (r->rng >> 20) % 300;
		break;
	default:
		k = len;
		break;
	}
	if (n > k)
		n = k;
	if (n > len)
		n = len;
	memcpy(buf, r->data + r->pos, n);
	r->pos += n;
	return (ssize_t)n;
}

static uint32_t hash(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ *p++) * 16777619u;
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *tmpdir = getenv("TMPDIR");
	const uint8_t *nl = memchr(data, '\n', size < MAX_CT_LINE ? size : MAX_CT_LINE);
	struct hp_form f = { 0 };
	struct hp_limits l;
	struct reader r;
	const char *ct, *msg = NULL;
	char *first_path = NULL;
	enum hp_err e;
	uint32_t h = hash(data, size);
	size_t i;
	int fd;

	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	if (arena == NULL) {
		arena = arena_new();
		if (arena == NULL)
			abort();
	}
	if (nl != NULL && data[0] != '-') {
		ct = arena_strndup(arena, (const char *)data, (size_t)(nl - data));
		if (ct == NULL)
			abort();
		size -= (size_t)(nl + 1 - data);
		data = nl + 1;
	} else {
		ct = "multipart/form-data; boundary=B";
	}
	r.data = (const char *)data;
	r.len = size;
	r.pos = 0;
	r.rng = h;
	r.calls_after_end = 0;

	hp_limits_default(&l);
	if (h & 1) {
		l.max_fields = 4;
		l.max_name = 8;
		l.max_value = 32;
		l.max_parts = 6;
		l.max_file = 64;
		l.max_header = 128;
	}
	e = hp_parse_multipart(arena, ct, fuzz_read, &r, tmpdir, &l, &f, &msg);
	if (e == HP_OK) {
		check(msg == NULL);
		check(r.pos == r.len);
		check(f.nfields <= l.max_fields && f.nfields + f.nfiles <= l.max_parts);
		for (i = 0; i < f.nfields; i++) {
			check(f.fields[i].name != NULL && f.fields[i].value != NULL);
			check(strlen(f.fields[i].name) <= l.max_name);
			check(f.fields[i].value_len <= l.max_value);
			check(f.fields[i].value[f.fields[i].value_len] == '\0');
			check(hp_form_get(&f, f.fields[i].name) != NULL);
		}
		for (i = 0; i < f.nfiles; i++) {
			const struct hp_file *hf = &f.files[i];
			struct stat st;

			check(hf->field != NULL && hf->filename != NULL);
			check(hf->content_type != NULL && hf->path != NULL);
			check(hf->size <= l.max_file);
			check(stat(hf->path, &st) == 0 && (size_t)st.st_size == hf->size);
			check(hp_form_file(&f, hf->field) != NULL);
		}
		if (f.nfiles > 0) {
			first_path = strdup(f.files[0].path);
			check(first_path != NULL);
		}
	} else {
		check(msg != NULL && msg[0] != '\0');
		check(f.nfields == 0 && f.nfiles == 0);
	}

	arena_reset(arena);

	/* The temp files are unlinked and their descriptors closed. */
	if (first_path != NULL) {
		check(access(first_path, F_OK) != 0);
		free(first_path);
	}
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	check(fd >= 0);
	if (base_fd < 0)
		base_fd = fd;
	check(fd <= base_fd + 32);
	close(fd);
	return 0;
}
