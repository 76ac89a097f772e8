/*
 * fuzz_urlencoded.c: libFuzzer target for hp_parse_urlencoded and
 * hp_url_decode.  The input is the query string or body; it is parsed once
 * with the default limits and once with tight ones, and the results are
 * checked against the contract in http_parse.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct arena *arena;

/* Crash (for the fuzzer to report) when a promise is broken. */
static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_form(const struct hp_form *f, const struct hp_limits *l, size_t before)
{
	size_t i;

	check(f->nfields >= before);
	check(f->nfields - before <= l->max_fields);
	check(f->nfiles == 0);
	for (i = 0; i < f->nfields; i++) {
		const struct hp_field *fl = &f->fields[i];

		check(fl->name != NULL && fl->value != NULL);
		check(strlen(fl->name) <= l->max_name);
		check(fl->value_len <= l->max_value);
		check(fl->value[fl->value_len] == '\0');
		check(hp_form_get(f, fl->name) != NULL);
	}
}

static void run(const char *s, size_t len, const struct hp_limits *l)
{
	struct hp_form f = { 0 };
	const char *msg = NULL;
	enum hp_err e;

	/* A first, known-good call, so the second one appends. */
	e = hp_parse_urlencoded(arena, "x=1", 3, l, &f, &msg);
	check(e == HP_OK && f.nfields == 1 && msg == NULL);
	e = hp_parse_urlencoded(arena, s, len, l, &f, &msg);
	if (e == HP_OK) {
		check(msg == NULL);
		check_form(&f, l, 1);
	} else {
		check(msg != NULL && msg[0] != '\0');
		check(e == HP_MALFORMED || e == HP_TOO_MANY || e == HP_TOO_LONG);
		/* a failed parse leaves the form as it was */
		check(f.nfields == 1 && strcmp(f.fields[0].name, "x") == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_limits l;
	const char *s = (const char *)data;
	size_t n1, n2;
	char *d1, *d2;

	if (arena == NULL) {
		arena = arena_new();
		if (arena == NULL)
			abort();
	}

	hp_limits_default(&l);
	run(s, size, &l);
	l.max_fields = 3;
	l.max_name = 4;
	l.max_value = 6;
	run(s, size, &l);

	/* Both decodings agree on validity and length; '+' only differs. */
	d1 = hp_url_decode(arena, s, size, 1, &n1);
	d2 = hp_url_decode(arena, s, size, 0, &n2);
	check((d1 == NULL) == (d2 == NULL));
	if (d1 != NULL) {
		check(n1 == n2 && n1 <= size);
		check(d1[n1] == '\0' && d2[n2] == '\0');
	}

	arena_reset(arena);
	return 0;
}
