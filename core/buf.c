/*
 * buf.c: arena-backed growable buffer with HTML and URL escaping.
 */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "buf.h"

void buf_init(struct buf *b, struct arena *a)
{
	memset(b, 0, sizeof(*b));
	b->arena = a;
}

/* Make room for n more bytes plus a NUL; 0 or -1 (sticky failure). */
static int buf_reserve(struct buf *b, size_t n)
{
	size_t want, cap;
	char *d;

	if (b->failed)
		return -1;
	if (n > SIZE_MAX - b->len - 1) {
		b->failed = 1;
		return -1;
	}
	want = b->len + n + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	/* The old storage stays in the arena until the request ends: cheap,
	 * since doubling bounds the waste by the final size. */
	d = arena_alloc(b->arena, cap);
	if (d == NULL) {
		b->failed = 1;
		return -1;
	}
	if (b->len > 0)
		memcpy(d, b->data, b->len);
	b->data = d;
	b->cap = cap;
	return 0;
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	if (len == 0 || buf_reserve(b, len) < 0)
		return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	if (s != NULL)
		buf_add(b, s, strlen(s));
}

void buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (b->failed)
		return;
	va_start(ap, fmt);
	s = arena_vprintf(b->arena, fmt, ap);
	va_end(ap);
	if (s == NULL) {
		b->failed = 1;
		return;
	}
	buf_adds(b, s);
}

void buf_clear(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void buf_add_html(struct buf *b, const char *s, size_t len)
{
	size_t i, run = 0;

	for (i = 0; i < len; i++) {
		const char *ent;
		switch (s[i]) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		case '`': ent = "&#96;"; break;
		case '=': ent = "&#61;"; break;
		default: continue;
		}
		buf_add(b, s + run, i - run);
		buf_adds(b, ent);
		run = i + 1;
	}
	buf_add(b, s + run, len - run);
}

void buf_add_url(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
			buf_addc(b, (char)c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			buf_add(b, e, 3);
		}
	}
}
