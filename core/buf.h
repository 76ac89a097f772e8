/*
 * buf.h: a growable byte buffer whose storage belongs to an arena.
 *
 * Errors are sticky: after an allocation failure every further append is a
 * no-op and buf->failed stays set, so a long rendering checks once at the end.
 * data is always NUL-terminated when len > 0 and the buffer has not failed.
 */
#ifndef LABELD_BUF_H
#define LABELD_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

struct buf {
	struct arena *arena;
	char *data;
	size_t len;
	size_t cap;
	int failed;
};

void buf_init(struct buf *b, struct arena *a);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Forget the contents, keep the storage. */
void buf_clear(struct buf *b);

/* Append s HTML-escaped: & < > " ' ` = become entities (safe in text and in
 * quoted attribute values). */
void buf_add_html(struct buf *b, const char *s, size_t len);
/* Append s percent-encoded for a URL component (unreserved characters kept);
 * the result is also safe inside HTML text and attributes. */
void buf_add_url(struct buf *b, const char *s, size_t len);

#endif
