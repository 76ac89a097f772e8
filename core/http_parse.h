/*
 * http_parse.h: parsers for what a browser sends: query strings,
 * application/x-www-form-urlencoded bodies, multipart/form-data bodies
 * (file parts streamed to temp files, never held whole in memory), and
 * the Cookie header.
 *
 * All results live in the caller's arena.  Every parser enforces the limits
 * it is given and returns HP_OK or an error code with a human-readable
 * message (a static string, safe to show to the user) in *errmsg.  A parser
 * never crashes or reads out of bounds on any input: they are fuzzed
 * (tests/fuzz/).
 */
#ifndef LABELD_HTTP_PARSE_H
#define LABELD_HTTP_PARSE_H

#include <stddef.h>
#include <sys/types.h>

struct arena;

enum hp_err {
	HP_OK = 0,
	HP_MALFORMED,      /* syntax error: answered 400 */
	HP_TOO_MANY,       /* more fields/parts/cookies than allowed: 400 */
	HP_TOO_LONG,       /* a name, value or file larger than allowed: 400 (413 for files) */
	HP_NOMEM,          /* out of memory: 500 */
	HP_IO              /* reading the body or writing a temp file failed: 500 */
};

struct hp_limits {
	size_t max_fields;      /* fields (or parts) in one body/query; default 256 */
	size_t max_name;        /* bytes in a field name; default 128 */
	size_t max_value;       /* bytes in one non-file value; default 65536 */
	size_t max_parts;       /* multipart parts; default 1024 */
	size_t max_file;        /* bytes in one uploaded file; default 64 MiB */
	size_t max_header;      /* bytes in one part's header block; default 8192 */
};

/* Fills l with the defaults listed above. */
void hp_limits_default(struct hp_limits *l);

/* One name=value pair.  value is NUL-terminated and also carries its length
 * (it may contain NUL bytes after percent-decoding; value_len tells). */
struct hp_field {
	const char *name;
	const char *value;
	size_t value_len;
};

/* One uploaded file.  The bytes are in the temp file `path` (created with
 * mkstemp in the tmpdir given; an arena cleanup unlinks it).  filename is as
 * the browser sent it (untrusted: may be empty, contain slashes, anything). */
struct hp_file {
	const char *field;
	const char *filename;
	const char *content_type;   /* "" when the part gave none */
	const char *path;
	size_t size;
};

struct hp_form {
	struct hp_field *fields;
	size_t nfields;
	struct hp_file *files;
	size_t nfiles;
};

/* Percent-decode in place-free form: s[0..len) into the arena, '+' becomes
 * space when plus_is_space.  Returns NULL on a bad escape (%zz, truncated %)
 * or out of memory; *outlen gets the decoded length. */
char *hp_url_decode(struct arena *a, const char *s, size_t len, int plus_is_space, size_t *outlen);

/* a=1&b=2 (query string or urlencoded body).  Empty input gives an empty
 * form.  Pairs without '=' get an empty value.  Appends to `form`, which the
 * caller zero-initialises. */
enum hp_err hp_parse_urlencoded(struct arena *a, const char *data, size_t len,
    const struct hp_limits *lim, struct hp_form *form, const char **errmsg);

/* Cookie header: "a=1; b=2".  Malformed pairs are skipped, not fatal (browsers
 * send junk); only limits are errors. */
enum hp_err hp_parse_cookies(struct arena *a, const char *header,
    const struct hp_limits *lim, struct hp_field **out, size_t *nout, const char **errmsg);

/* Reads up to len bytes of the body into buf; returns bytes read, 0 at the end
 * of the body, -1 on error. */
typedef ssize_t (*hp_read_fn)(void *ctx, char *buf, size_t len);

/* multipart/form-data.  content_type is the whole Content-Type header (the
 * boundary is taken from it).  The body is read through `rd` in chunks; file
 * parts (those with a filename parameter) go to temp files in tmpdir, other
 * parts become fields.  Appends to `form`. */
enum hp_err hp_parse_multipart(struct arena *a, const char *content_type,
    hp_read_fn rd, void *rdctx, const char *tmpdir,
    const struct hp_limits *lim, struct hp_form *form, const char **errmsg);

/* First value of a field, or NULL. */
const char *hp_form_get(const struct hp_form *f, const char *name);
/* First file of a field, or NULL. */
const struct hp_file *hp_form_file(const struct hp_form *f, const char *name);
/* First value of a cookie, or NULL. */
const char *hp_cookie_get(const struct hp_field *cookies, size_t n, const char *name);

#endif
