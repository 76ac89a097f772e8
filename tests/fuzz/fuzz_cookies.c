/*
 * fuzz_cookies.c: libFuzzer target for hp_parse_cookies.  The input is the
 * Cookie header (cut at its first NUL byte, as a C string would be).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct arena *arena;

static void check(int ok)
{
	if (!ok)
		abort();
}

static void run(const char *header, const struct hp_limits *l)
{
	struct hp_field *c = NULL;
	size_t n = 99, i;
	const char *msg = NULL;
	enum hp_err e = hp_parse_cookies(arena, header, l, &c, &n, &msg);

	if (e != HP_OK) {
		check(msg != NULL && msg[0] != '\0');
		check(e == HP_TOO_MANY || e == HP_TOO_LONG);
		check(c == NULL && n == 0);
		return;
	}
	check(msg == NULL);
	check(n <= l->max_fields);
	check((n == 0) == (c == NULL));
	for (i = 0; i < n; i++) {
		size_t nl;

		check(c[i].name != NULL && c[i].value != NULL);
		nl = strlen(c[i].name);
		check(nl > 0 && nl <= l->max_name);
		check(c[i].value_len == strlen(c[i].value));
		check(c[i].value_len <= l->max_value);
		/* names and values come from the header, trimmed */
		check(strstr(header, c[i].name) != NULL);
		check(strchr(c[i].name, ';') == NULL && strchr(c[i].name, '=') == NULL);
		check(strchr(c[i].value, ';') == NULL);
		check(hp_cookie_get(c, n, c[i].name) != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_limits l;
	char *header;

	if (arena == NULL) {
		arena = arena_new();
		if (arena == NULL)
			abort();
	}
	header = arena_strndup(arena, (const char *)data, size);
	if (header == NULL)
		abort();

	hp_limits_default(&l);
	run(header, &l);
	l.max_fields = 3;
	l.max_name = 5;
	l.max_value = 8;
	run(header, &l);

	arena_reset(arena);
	return 0;
}
