/*
 * http_parse.c: query strings, urlencoded and multipart/form-data bodies, and
 * the Cookie header (the contract is in http_parse.h).
 *
 * Choices made here:
 * - Errors leave the caller's form (or cookie list) as it was: results are
 *   collected in new arrays and published only when the whole input parsed.
 *   Temp files of a failed multipart body are unlinked at arena reset.
 * - Limit messages are static strings, so they name the number only when the
 *   default limit is in force ("too many form fields (limit 256)"); a caller
 *   with other limits gets the same wording without the number.
 * - urlencoded: a name that decodes to something containing a NUL byte is
 *   refused (names are C strings); values may hold NUL bytes (value_len).
 *   A pair "=v" gives a field with an empty name, as browsers parse it.
 * - multipart: the body is read into one MP_BUFSZ buffer and scanned for the
 *   delimiter "\r\n--boundary"; only the bytes that might start a delimiter
 *   are carried over between reads, so a file is never held whole in memory.
 *   A delimiter counts only when "--" (the close delimiter) or optional
 *   spaces/tabs (at most 64) and a line end follow it; otherwise its bytes
 *   are data.
 *   The delimiter must be preceded by CRLF (RFC 2046), but the boundary line
 *   and the part header lines may end in a bare LF too.  Obsolete header
 *   folding is not supported: continuation lines are ignored.  In quoted
 *   parameter values \" and \\ are unescaped and any other backslash is kept
 *   (old browsers send Windows paths unescaped).  filename*=UTF-8''... (RFC
 *   5987) is decoded and wins over filename.  Parts with a filename (even an
 *   empty one) are files; max_parts counts all parts, max_fields the non-file
 *   ones.  Field names and filenames are kept as sent: the %22, %0D and %0A
 *   that browsers put there for '"', CR and LF are not decoded.  After the
 *   close delimiter the epilogue is read and discarded.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "arena.h"
#include "http_parse.h"

#define DEF_FIELDS	256
#define DEF_NAME	128
#define DEF_VALUE	65536
#define DEF_PARTS	1024
#define DEF_FILE_MIB	64
#define DEF_FILE	((size_t)DEF_FILE_MIB * 1024 * 1024)
#define DEF_HEADER	8192

#define STR_(x)	#x
#define STR(x)	STR_(x)

/* The message naming the number when the default limit is in force. */
#define LIMIT_MSG(val, def, with, without) ((val) == (def) ? (with) : (without))

#define MSG_NOMEM	"out of memory"
#define MSG_ESCAPE	"bad percent-escape in form data"
#define MSG_NAME_NUL	"form field name contains a NUL byte"
#define MSG_TOOMANY_FIELDS(l) LIMIT_MSG((l)->max_fields, DEF_FIELDS, \
	"too many form fields (limit " STR(DEF_FIELDS) ")", "too many form fields")
#define MSG_LONG_NAME(l) LIMIT_MSG((l)->max_name, DEF_NAME, \
	"form field name too long (limit " STR(DEF_NAME) " bytes)", "form field name too long")
#define MSG_LONG_VALUE(l) LIMIT_MSG((l)->max_value, DEF_VALUE, \
	"form field value too long (limit " STR(DEF_VALUE) " bytes)", "form field value too long")
#define MSG_TOOMANY_COOKIES(l) LIMIT_MSG((l)->max_fields, DEF_FIELDS, \
	"too many cookies (limit " STR(DEF_FIELDS) ")", "too many cookies")
#define MSG_LONG_COOKIE_NAME(l) LIMIT_MSG((l)->max_name, DEF_NAME, \
	"cookie name too long (limit " STR(DEF_NAME) " bytes)", "cookie name too long")
#define MSG_LONG_COOKIE_VALUE(l) LIMIT_MSG((l)->max_value, DEF_VALUE, \
	"cookie value too long (limit " STR(DEF_VALUE) " bytes)", "cookie value too long")
#define MSG_TOOMANY_PARTS(l) LIMIT_MSG((l)->max_parts, DEF_PARTS, \
	"too many parts in multipart body (limit " STR(DEF_PARTS) ")", "too many parts in multipart body")
#define MSG_LONG_FILE(l) LIMIT_MSG((l)->max_file, DEF_FILE, \
	"uploaded file too large (limit " STR(DEF_FILE_MIB) " MiB)", "uploaded file too large")
#define MSG_LONG_HEADER(l) LIMIT_MSG((l)->max_header, DEF_HEADER, \
	"multipart part headers too large (limit " STR(DEF_HEADER) " bytes)", \
	"multipart part headers too large")

/* Fills l with the defaults documented in http_parse.h. */
void hp_limits_default(struct hp_limits *l)
{
	l->max_fields = DEF_FIELDS;
	l->max_name = DEF_NAME;
	l->max_value = DEF_VALUE;
	l->max_parts = DEF_PARTS;
	l->max_file = DEF_FILE;
	l->max_header = DEF_HEADER;
}

/* Stores msg in *errmsg (when given) and returns e. */
static enum hp_err hp_fail(const char **errmsg, enum hp_err e, const char *msg)
{
	if (errmsg != NULL)
		*errmsg = msg;
	return e;
}

static int is_ows(int c)
{
	return c == ' ' || c == '\t';
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decodes s[0..len) into dst (room for len bytes).  Returns 0 with
 * the decoded length in *outlen, or -1 on a bad or truncated escape. */
static int url_decode_into(char *dst, const char *s, size_t len, int plus_is_space,
    size_t *outlen)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (len - i < 3)
				return -1;
			hi = hex_value((unsigned char)s[i + 1]);
			lo = hex_value((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			dst[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			dst[o++] = ' ';
		} else {
			dst[o++] = (char)c;
		}
	}
	*outlen = o;
	return 0;
}

/* Percent-decodes s[0..len) into a new NUL-terminated arena string.  Returns
 * NULL on a bad escape or out of memory; *outlen gets the decoded length
 * (0 on failure).  The result belongs to the arena. */
char *hp_url_decode(struct arena *a, const char *s, size_t len, int plus_is_space, size_t *outlen)
{
	char *out;
	size_t n;

	if (outlen != NULL)
		*outlen = 0;
	if ((s == NULL && len > 0) || len == SIZE_MAX)
		return NULL;
	out = arena_alloc(a, len + 1);
	if (out == NULL)
		return NULL;
	if (url_decode_into(out, s, len, plus_is_space, &n) < 0)
		return NULL;
	out[n] = '\0';
	if (outlen != NULL)
		*outlen = n;
	return out;
}

/* Decodes one urlencoded name or value, at most max bytes once decoded,
 * into a new arena string. */
static enum hp_err decode_component(struct arena *a, const char *s, size_t len, size_t max,
    const char *toolong, char **out, size_t *outlen, const char **errmsg)
{
	/* Each byte of output takes at most three bytes of input, so an input
	 * this long is too long decoded: refuse before copying it. */
	if (len / 3 > max)
		return hp_fail(errmsg, HP_TOO_LONG, toolong);
	*out = arena_alloc(a, len + 1);
	if (*out == NULL)
		return hp_fail(errmsg, HP_NOMEM, MSG_NOMEM);
	if (url_decode_into(*out, s, len, 1, outlen) < 0)
		return hp_fail(errmsg, HP_MALFORMED, MSG_ESCAPE);
	(*out)[*outlen] = '\0';
	if (*outlen > max)
		return hp_fail(errmsg, HP_TOO_LONG, toolong);
	return HP_OK;
}

/* Parses a=1&b=2 and appends the fields to form (see http_parse.h).  On error
 * form is unchanged and *errmsg says what was wrong.  Everything allocated
 * belongs to the arena. */
enum hp_err hp_parse_urlencoded(struct arena *a, const char *data, size_t len,
    const struct hp_limits *lim, struct hp_form *form, const char **errmsg)
{
	struct hp_limits defaults;
	struct hp_field *fields;
	size_t count = 0, start = 0, i, n;

	if (errmsg != NULL)
		*errmsg = NULL;
	if (lim == NULL) {
		hp_limits_default(&defaults);
		lim = &defaults;
	}
	if (data == NULL)
		len = 0;

	/* Count the non-empty pairs first: too many is refused before any
	 * work, and the array is allocated once. */
	for (i = 0; i <= len; i++) {
		if (i == len || data[i] == '&') {
			if (i > start)
				count++;
			start = i + 1;
		}
	}
	if (count == 0)
		return HP_OK;
	if (count > lim->max_fields)
		return hp_fail(errmsg, HP_TOO_MANY, MSG_TOOMANY_FIELDS(lim));
	if (form->nfields > SIZE_MAX / sizeof(*fields) - count)
		return hp_fail(errmsg, HP_NOMEM, MSG_NOMEM);
	fields = arena_calloc(a, form->nfields + count, sizeof(*fields));
	if (fields == NULL)
		return hp_fail(errmsg, HP_NOMEM, MSG_NOMEM);
	if (form->nfields > 0)
		memcpy(fields, form->fields, form->nfields * sizeof(*fields));
	n = form->nfields;

	start = 0;
	while (start < len) {
		const char *pair = data + start;
		const char *amp = memchr(pair, '&', len - start);
		size_t plen = amp != NULL ? (size_t)(amp - pair) : len - start;
		const char *eq = memchr(pair, '=', plen);
		size_t nlen = eq != NULL ? (size_t)(eq - pair) : plen;
		size_t vlen = eq != NULL ? plen - nlen - 1 : 0;
		const char *val = eq != NULL ? eq + 1 : pair + plen;
		char *dname, *dvalue;
		size_t dnlen, dvlen;
		enum hp_err e;

		start += plen + 1;
		if (plen == 0)
			continue;
		e = decode_component(a, pair, nlen, lim->max_name, MSG_LONG_NAME(lim),
		    &dname, &dnlen, errmsg);
		if (e != HP_OK)
			return e;
		if (memchr(dname, '\0', dnlen) != NULL)
			return hp_fail(errmsg, HP_MALFORMED, MSG_NAME_NUL);
		e = decode_component(a, val, vlen, lim->max_value, MSG_LONG_VALUE(lim),
		    &dvalue, &dvlen, errmsg);
		if (e != HP_OK)
			return e;
		fields[n].name = dname;
		fields[n].value = dvalue;
		fields[n].value_len = dvlen;
		n++;
	}
	form->fields = fields;
	form->nfields = n;
	return HP_OK;
}

/* ------------------------------------------------------------ cookies */

/* A cookie name byte: anything but controls, space, DEL and the separators
 * that would make the header ambiguous. */
static int cookie_name_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f || c == '"' || c == ',' || c == '\\')
			return 0;
	}
	return 1;
}

static int cookie_value_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

/* Parses the Cookie header into *out (an arena array of *nout pairs; NULL
 * and 0 when there are none).  Malformed pairs are skipped; exceeding a limit
 * is an error, with *out NULL and *nout 0. */
enum hp_err hp_parse_cookies(struct arena *a, const char *header,
    const struct hp_limits *lim, struct hp_field **out, size_t *nout, const char **errmsg)
{
	struct hp_limits defaults;
	struct hp_field *cookies = NULL;
	const char *p, *end;
	size_t segments = 1, cap, n = 0;

	*out = NULL;
	*nout = 0;
	if (errmsg != NULL)
		*errmsg = NULL;
	if (header == NULL)
		return HP_OK;
	if (lim == NULL) {
		hp_limits_default(&defaults);
		lim = &defaults;
	}
	for (p = header; *p != '\0'; p++)
		if (*p == ';')
			segments++;
	end = p;
	/* One more slot than allowed would be useless: the limit check comes
	 * before a pair is stored. */
	cap = segments < lim->max_fields ? segments : lim->max_fields;
	if (cap > 0) {
		cookies = arena_calloc(a, cap, sizeof(*cookies));
		if (cookies == NULL)
			return hp_fail(errmsg, HP_NOMEM, MSG_NOMEM);
	}

	for (p = header; p < end; ) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *s = p, *e = semi != NULL ? semi : end;
		const char *eq, *ne, *vs;
		char *name, *value;

		p = semi != NULL ? semi + 1 : end;
		while (s < e && is_ows((unsigned char)*s))
			s++;
		while (e > s && is_ows((unsigned char)e[-1]))
			e--;
		eq = memchr(s, '=', (size_t)(e - s));
		if (eq == NULL)
			continue;
		ne = eq;
		while (ne > s && is_ows((unsigned char)ne[-1]))
			ne--;
		vs = eq + 1;
		while (vs < e && is_ows((unsigned char)*vs))
			vs++;
		if (ne == s || !cookie_name_ok(s, (size_t)(ne - s)))
			continue;
		if (e - vs >= 2 && *vs == '"' && e[-1] == '"') {
			vs++;
			e--;
		}
		if (!cookie_value_ok(vs, (size_t)(e - vs)))
			continue;
		if (n >= lim->max_fields)
			return hp_fail(errmsg, HP_TOO_MANY, MSG_TOOMANY_COOKIES(lim));
		if ((size_t)(ne - s) > lim->max_name)
			return hp_fail(errmsg, HP_TOO_LONG, MSG_LONG_COOKIE_NAME(lim));
		if ((size_t)(e - vs) > lim->max_value)
			return hp_fail(errmsg, HP_TOO_LONG, MSG_LONG_COOKIE_VALUE(lim));
		name = arena_strndup(a, s, (size_t)(ne - s));
		value = arena_strndup(a, vs, (size_t)(e - vs));
		if (name == NULL || value == NULL)
			return hp_fail(errmsg, HP_NOMEM, MSG_NOMEM);
		cookies[n].name = name;
		cookies[n].value = value;
		cookies[n].value_len = (size_t)(e - vs);
		n++;
	}
	if (n > 0) {
		*out = cookies;
		*nout = n;
	}
	return HP_OK;
}

/* ------------------------------------------------------------ header parameters */

/* One parameter of a header value: name=value, the value raw (still quoted
 * when quoted is set, without the quotes themselves). */
struct hdr_param {
	const char *name;
	size_t nlen;
	const char *value;
	size_t vlen;
	int quoted;
};

/* Reads the next "; name=value" parameter from [*pp, end).  Returns 1 with
 * *pm filled and *pp moved past it, or 0 when there are no more.  Malformed
 * parameters (no '=', empty name, unterminated quote) are skipped. */
static int hdr_param_next(const char **pp, const char *end, struct hdr_param *pm)
{
	const char *p = *pp;

	for (;;) {
		while (p < end && (*p == ';' || is_ows((unsigned char)*p)))
			p++;
		if (p >= end) {
			*pp = p;
			return 0;
		}
		pm->name = p;
		while (p < end && *p != '=' && *p != ';' && !is_ows((unsigned char)*p))
			p++;
		pm->nlen = (size_t)(p - pm->name);
		while (p < end && is_ows((unsigned char)*p))
			p++;
		if (p >= end || *p != '=') {
			/* No value: skip to the next parameter. */
			while (p < end && *p != ';')
				p++;
			continue;
		}
		p++;
		while (p < end && is_ows((unsigned char)*p))
			p++;
		if (p < end && *p == '"') {
			pm->value = ++p;
			while (p < end && *p != '"') {
				if (*p == '\\' && end - p >= 2)
					p += 2;
				else
					p++;
			}
			if (p >= end) {
				*pp = end;
				return 0;
			}
			pm->vlen = (size_t)(p - pm->value);
			pm->quoted = 1;
			p++;
		} else {
			pm->value = p;
			while (p < end && *p != ';' && !is_ows((unsigned char)*p))
				p++;
			pm->vlen = (size_t)(p - pm->value);
			pm->quoted = 0;
		}
		/* Whatever follows the value up to the next ';' is ignored. */
		while (p < end && *p != ';')
			p++;
		if (pm->nlen == 0)
			continue;
		*pp = p;
		return 1;
	}
}

/* Copies a parameter value into dst (room for pm->vlen bytes, or NULL to
 * only count), undoing \" and \\ in quoted values.  Returns the length. */
static size_t hdr_param_unquote(char *dst, const struct hdr_param *pm)
{
	size_t i, o = 0;

	for (i = 0; i < pm->vlen; i++) {
		char c = pm->value[i];

		if (pm->quoted && c == '\\' && i + 1 < pm->vlen &&
		    (pm->value[i + 1] == '"' || pm->value[i + 1] == '\\'))
			c = pm->value[++i];
		if (dst != NULL)
			dst[o] = c;
		o++;
	}
	return o;
}

/* The unquoted value as a new arena string, or NULL when out of memory. */
static char *hdr_param_dup(struct arena *a, const struct hdr_param *pm, size_t *len)
{
	char *s = arena_alloc(a, pm->vlen + 1);

	if (s == NULL)
		return NULL;
	*len = hdr_param_unquote(s, pm);
	s[*len] = '\0';
	return s;
}

static int hdr_name_is(const struct hdr_param *pm, const char *name)
{
	size_t n = strlen(name);

	return pm->nlen == n && strncasecmp(pm->name, name, n) == 0;
}

static int token_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* ------------------------------------------------------------ multipart */

#define MP_BUFSZ	16384
#define MP_MAXBOUNDARY	70
#define MP_HDRINIT	1024
#define MP_MAXPAD	64	/* spaces/tabs allowed after a boundary */

#define MSG_NOBOUNDARY	"multipart body without a boundary"
#define MSG_TRUNCATED	"multipart body ends before its closing boundary"
#define MSG_READ	"could not read the request body"
#define MSG_STORE	"could not store the uploaded file"

enum mp_state { MP_PREAMBLE, MP_HEADERS, MP_BODY, MP_DONE };

/* A temp file holding one uploaded file; the arena cleanup closes and
 * unlinks it. */
struct mp_upload {
	int fd;
	char *path;
};

struct mp {
	struct arena *a;
	const struct hp_limits *lim;
	const char *tmpdir;
	const char **errmsg;
	char delim[4 + MP_MAXBOUNDARY];   /* "\r\n--" boundary */
	size_t dlen;
	enum mp_state state;

	char *buf;                        /* MP_BUFSZ bytes; [pos, len) unread */
	size_t pos, len;
	int eof;

	char *hdr;                        /* the current part's header block */
	size_t hdrcap, hdrlen, line_start;

	/* the current part */
	const char *name, *filename, *ctype;
	int is_file;
	struct mp_upload *up;
	size_t fsize;
	char *val;
	size_t vallen, valcap;

	size_t nparts, nfields;           /* in this body */

	/* results, published in the form at the end */
	struct hp_field *fields;
	size_t nf, fcap;
	struct hp_file *files;
	size_t nfi, ficap;
};

static enum hp_err mp_fail(struct mp *m, enum hp_err e, const char *msg)
{
	return hp_fail(m->errmsg, e, msg);
}

/* An arena array of n elements with room for one more: *arr is copied into
 * a bigger array when full (the old one stays in the arena). */
static int mp_reserve(struct arena *a, void **arr, size_t n, size_t *cap, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap < 8 ? 8 : *cap;
	if (ncap > SIZE_MAX / 2 / size)
		return -1;
	ncap *= 2;
	p = arena_calloc(a, ncap, size);
	if (p == NULL)
		return -1;
	if (n > 0)
		memcpy(p, *arr, n * size);
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Takes the boundary from the Content-Type header into m->delim. */
static enum hp_err mp_boundary(struct mp *m, const char *ct)
{
	struct hdr_param pm;
	const char *p, *end, *type;
	size_t blen, i;
	int found = 0;

	if (ct == NULL)
		return mp_fail(m, HP_MALFORMED, MSG_NOBOUNDARY);
	p = ct;
	end = ct + strlen(ct);
	while (p < end && is_ows((unsigned char)*p))
		p++;
	type = p;
	while (p < end && *p != ';' && !is_ows((unsigned char)*p))
		p++;
	if (!token_is(type, (size_t)(p - type), "multipart/form-data"))
		return mp_fail(m, HP_MALFORMED, "not a multipart/form-data body");
	while (hdr_param_next(&p, end, &pm)) {
		if (hdr_name_is(&pm, "boundary")) {
			found = 1;
			break;
		}
	}
	if (!found)
		return mp_fail(m, HP_MALFORMED, MSG_NOBOUNDARY);
	blen = hdr_param_unquote(NULL, &pm);
	if (blen == 0)
		return mp_fail(m, HP_MALFORMED, MSG_NOBOUNDARY);
	if (blen > MP_MAXBOUNDARY)
		return mp_fail(m, HP_MALFORMED, "multipart boundary longer than 70 characters");
	memcpy(m->delim, "\r\n--", 4);
	hdr_param_unquote(m->delim + 4, &pm);
	m->dlen = 4 + blen;
	for (i = 4; i < m->dlen; i++) {
		unsigned char c = (unsigned char)m->delim[i];

		if (c < 0x20 || c == 0x7f)
			return mp_fail(m, HP_MALFORMED, "bad character in multipart boundary");
	}
	return HP_OK;
}

static void mp_upload_cleanup(void *ptr)
{
	struct mp_upload *up = ptr;

	if (up->fd >= 0) {
		(void)close(up->fd);
		up->fd = -1;
	}
	(void)unlink(up->path);
}

/* Creates the temp file for the current part. */
static enum hp_err mp_upload_open(struct mp *m)
{
	struct mp_upload *up = arena_alloc(m->a, sizeof(*up));

	if (up == NULL)
		return mp_fail(m, HP_NOMEM, MSG_NOMEM);
	up->fd = -1;
	up->path = arena_printf(m->a, "%s/labeld-upload-XXXXXX", m->tmpdir);
	if (up->path == NULL)
		return mp_fail(m, HP_NOMEM, MSG_NOMEM);
	up->fd = mkostemp(up->path, O_CLOEXEC);
	if (up->fd < 0)
		return mp_fail(m, HP_IO, MSG_STORE);
	if (arena_cleanup_add(m->a, mp_upload_cleanup, up) < 0)
		return mp_fail(m, HP_NOMEM, MSG_NOMEM);
	m->up = up;
	m->fsize = 0;
	return HP_OK;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Decodes filename*=UTF-8''%e2%82%ac.txt; NULL when it is not UTF-8, badly
 * escaped or decodes to something with a NUL byte. */
static char *mp_ext_filename(struct arena *a, const struct hdr_param *pm)
{
	size_t len, dlen;
	char *raw = hdr_param_dup(a, pm, &len), *q1, *q2, *s;

	if (raw == NULL)
		return NULL;
	q1 = memchr(raw, '\'', len);
	if (q1 == NULL || !token_is(raw, (size_t)(q1 - raw), "utf-8"))
		return NULL;
	q2 = memchr(q1 + 1, '\'', len - (size_t)(q1 + 1 - raw));
	if (q2 == NULL)
		return NULL;
	s = hp_url_decode(a, q2 + 1, len - (size_t)(q2 + 1 - raw), 0, &dlen);
	if (s == NULL || memchr(s, '\0', dlen) != NULL)
		return NULL;
	return s;
}

/* Parses the header block of a part (hdr[0..hlen), without the empty line)
 * and gets ready for its body: a temp file or a field value. */
static enum hp_err mp_part_begin(struct mp *m, const char *h, size_t hlen)
{
	const char *p = h, *end = h + hlen;
	const char *disp = NULL, *dend = NULL, *ct = NULL, *ctend = NULL;
	const char *type;
	struct hdr_param pm;
	char *name = NULL, *filename = NULL, *extname = NULL;
	size_t nlen = 0, flen;

	if (memchr(h, '\0', hlen) != NULL)
		return mp_fail(m, HP_MALFORMED, "NUL byte in multipart part headers");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *ls = p, *le = nl != NULL ? nl : end, *colon, *ne, *vs;

		p = nl != NULL ? nl + 1 : end;
		if (le > ls && le[-1] == '\r')
			le--;
		if (le == ls || is_ows((unsigned char)*ls))
			continue;
		colon = memchr(ls, ':', (size_t)(le - ls));
		if (colon == NULL)
			continue;
		ne = colon;
		while (ne > ls && is_ows((unsigned char)ne[-1]))
			ne--;
		vs = colon + 1;
		while (vs < le && is_ows((unsigned char)*vs))
			vs++;
		while (le > vs && is_ows((unsigned char)le[-1]))
			le--;
		if (disp == NULL && token_is(ls, (size_t)(ne - ls), "content-disposition")) {
			disp = vs;
			dend = le;
		} else if (ct == NULL && token_is(ls, (size_t)(ne - ls), "content-type")) {
			ct = vs;
			ctend = le;
		}
	}
	if (disp == NULL)
		return mp_fail(m, HP_MALFORMED,
		    "multipart part without a Content-Disposition header");
	p = disp;
	type = p;
	while (p < dend && *p != ';' && !is_ows((unsigned char)*p))
		p++;
	if (!token_is(type, (size_t)(p - type), "form-data"))
		return mp_fail(m, HP_MALFORMED, "multipart part is not form-data");

	m->is_file = 0;
	while (hdr_param_next(&p, dend, &pm)) {
		if (name == NULL && hdr_name_is(&pm, "name")) {
			name = hdr_param_dup(m->a, &pm, &nlen);
			if (name == NULL)
				return mp_fail(m, HP_NOMEM, MSG_NOMEM);
		} else if (filename == NULL && hdr_name_is(&pm, "filename")) {
			filename = hdr_param_dup(m->a, &pm, &flen);
			if (filename == NULL)
				return mp_fail(m, HP_NOMEM, MSG_NOMEM);
			m->is_file = 1;
		} else if (extname == NULL && hdr_name_is(&pm, "filename*")) {
			/* An undecodable filename* still makes a file part. */
			extname = mp_ext_filename(m->a, &pm);
			m->is_file = 1;
		}
	}
	if (name == NULL)
		return mp_fail(m, HP_MALFORMED, "multipart part without a field name");
	if (nlen > m->lim->max_name)
		return mp_fail(m, HP_TOO_LONG, MSG_LONG_NAME(m->lim));
	m->name = name;
	m->filename = extname != NULL ? extname : filename != NULL ? filename : "";
	m->ctype = ct != NULL ? arena_strndup(m->a, ct, (size_t)(ctend - ct)) : "";
	if (m->ctype == NULL)
		return mp_fail(m, HP_NOMEM, MSG_NOMEM);

	if (m->is_file)
		return mp_upload_open(m);
	if (m->nfields >= m->lim->max_fields)
		return mp_fail(m, HP_TOO_MANY, MSG_TOOMANY_FIELDS(m->lim));
	m->nfields++;
	m->vallen = 0;
	return HP_OK;
}

/* Ends the current part: closes its file or stores its value. */
static enum hp_err mp_part_end(struct mp *m)
{
	if (m->is_file) {
		struct hp_file *f;
		int fd = m->up->fd;

		m->up->fd = -1;
		if (close(fd) < 0)
			return mp_fail(m, HP_IO, MSG_STORE);
		if (mp_reserve(m->a, (void **)&m->files, m->nfi, &m->ficap, sizeof(*m->files)) < 0)
			return mp_fail(m, HP_NOMEM, MSG_NOMEM);
		f = &m->files[m->nfi++];
		f->field = m->name;
		f->filename = m->filename;
		f->content_type = m->ctype;
		f->path = m->up->path;
		f->size = m->fsize;
		m->up = NULL;
	} else {
		struct hp_field *fl;
		char *v = arena_alloc(m->a, m->vallen + 1);

		if (v == NULL)
			return mp_fail(m, HP_NOMEM, MSG_NOMEM);
		if (m->vallen > 0)
			memcpy(v, m->val, m->vallen);
		v[m->vallen] = '\0';
		if (mp_reserve(m->a, (void **)&m->fields, m->nf, &m->fcap, sizeof(*m->fields)) < 0)
			return mp_fail(m, HP_NOMEM, MSG_NOMEM);
		fl = &m->fields[m->nf++];
		fl->name = m->name;
		fl->value = v;
		fl->value_len = m->vallen;
		m->vallen = 0;
	}
	return HP_OK;
}

/* Body bytes of the current part (dropped in the preamble). */
static enum hp_err mp_emit(struct mp *m, const char *p, size_t n)
{
	if (m->state != MP_BODY || n == 0)
		return HP_OK;
	if (m->is_file) {
		if (n > m->lim->max_file - m->fsize)
			return mp_fail(m, HP_TOO_LONG, MSG_LONG_FILE(m->lim));
		if (write_all(m->up->fd, p, n) < 0)
			return mp_fail(m, HP_IO, MSG_STORE);
		m->fsize += n;
		return HP_OK;
	}
	if (n > m->lim->max_value - m->vallen)
		return mp_fail(m, HP_TOO_LONG, MSG_LONG_VALUE(m->lim));
	if (m->vallen + n > m->valcap) {
		/* One scratch buffer for every value of the body, doubled as
		 * needed; each value is copied out at the end of its part. */
		size_t ncap = m->valcap < 256 ? 256 : m->valcap;
		char *nv;

		while (ncap < m->vallen + n)
			ncap = ncap > SIZE_MAX / 2 ? m->vallen + n : ncap * 2;
		nv = arena_alloc(m->a, ncap);
		if (nv == NULL)
			return mp_fail(m, HP_NOMEM, MSG_NOMEM);
		if (m->vallen > 0)
			memcpy(nv, m->val, m->vallen);
		m->val = nv;
		m->valcap = ncap;
	}
	memcpy(m->val + m->vallen, p, n);
	m->vallen += n;
	return HP_OK;
}

/* Collects header bytes until the empty line that ends the block. */
static enum hp_err mp_step_headers(struct mp *m, const char *p, size_t n, size_t *used)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (m->hdrlen >= m->lim->max_header)
			return mp_fail(m, HP_TOO_LONG, MSG_LONG_HEADER(m->lim));
		if (m->hdrlen == m->hdrcap) {
			size_t ncap = m->hdrcap == 0 ? MP_HDRINIT : m->hdrcap * 2;
			char *nh;

			if (ncap > m->lim->max_header)
				ncap = m->lim->max_header;
			nh = arena_alloc(m->a, ncap);
			if (nh == NULL)
				return mp_fail(m, HP_NOMEM, MSG_NOMEM);
			if (m->hdrlen > 0)
				memcpy(nh, m->hdr, m->hdrlen);
			m->hdr = nh;
			m->hdrcap = ncap;
		}
		m->hdr[m->hdrlen++] = p[i];
		if (p[i] == '\n') {
			size_t ll = m->hdrlen - m->line_start;

			if (ll == 1 || (ll == 2 && m->hdr[m->line_start] == '\r')) {
				*used = i + 1;
				m->state = MP_BODY;
				return mp_part_begin(m, m->hdr, m->line_start);
			}
			m->line_start = m->hdrlen;
		}
	}
	*used = n;
	return HP_OK;
}

enum { AD_NEED, AD_DATA, AD_PART, AD_CLOSE };

/* What follows "\r\n--boundary" in p[0..n): the close delimiter "--", a
 * boundary line (padding and a line end; *skip gets its length), something
 * else (so this was data), or too few bytes to tell. */
static int mp_after_delim(const char *p, size_t n, size_t *skip)
{
	size_t i = 0;

	if (n >= 1 && p[0] == '-') {
		if (n < 2)
			return AD_NEED;
		if (p[1] != '-')
			return AD_DATA;
		*skip = 2;
		return AD_CLOSE;
	}
	while (i < n && is_ows((unsigned char)p[i]))
		i++;
	if (i > MP_MAXPAD)
		return AD_DATA;
	if (i == n)
		return AD_NEED;
	if (p[i] == '\n') {
		*skip = i + 1;
		return AD_PART;
	}
	if (p[i] == '\r') {
		if (i + 1 == n)
			return AD_NEED;
		if (p[i + 1] == '\n') {
			*skip = i + 2;
			return AD_PART;
		}
	}
	return AD_DATA;
}

/* One step over the unread bytes; *used says how many it consumed (0: it
 * needs more input). */
static enum hp_err mp_step(struct mp *m, size_t *used)
{
	const char *p = m->buf + m->pos, *hit;
	size_t n = m->len - m->pos, skip = 0;
	enum hp_err e;
	int r;

	*used = 0;
	if (m->state == MP_HEADERS)
		return mp_step_headers(m, p, n, used);
	if (m->state == MP_DONE) {
		*used = n;
		return HP_OK;
	}
	hit = memmem(p, n, m->delim, m->dlen);
	if (hit == NULL) {
		/* Keep what could be the start of a delimiter. */
		size_t keep = m->dlen - 1;

		if (n <= keep)
			return HP_OK;
		*used = n - keep;
		return mp_emit(m, p, *used);
	}
	if (hit > p) {
		*used = (size_t)(hit - p);
		return mp_emit(m, p, *used);
	}
	r = mp_after_delim(p + m->dlen, n - m->dlen, &skip);
	if (r == AD_NEED) {
		if (!m->eof && n < MP_BUFSZ)
			return HP_OK;
		r = AD_DATA;
	}
	if (r == AD_DATA) {
		*used = 1;
		return mp_emit(m, p, 1);
	}
	if (m->state == MP_BODY) {
		e = mp_part_end(m);
		if (e != HP_OK)
			return e;
	}
	*used = m->dlen + skip;
	if (r == AD_CLOSE) {
		m->state = MP_DONE;
		return HP_OK;
	}
	if (m->nparts >= m->lim->max_parts)
		return mp_fail(m, HP_TOO_MANY, MSG_TOOMANY_PARTS(m->lim));
	m->nparts++;
	m->state = MP_HEADERS;
	m->hdrlen = 0;
	m->line_start = 0;
	return HP_OK;
}

/* Reads into the free end of the buffer. */
static enum hp_err mp_fill(struct mp *m, hp_read_fn rd, void *rdctx)
{
	size_t room = MP_BUFSZ - m->len;
	ssize_t r = rd(rdctx, m->buf + m->len, room);

	if (r < 0 || (size_t)r > room)
		return mp_fail(m, HP_IO, MSG_READ);
	if (r == 0)
		m->eof = 1;
	m->len += (size_t)r;
	return HP_OK;
}

/* Parses a multipart/form-data body read through rd and appends its fields
 * and files to form (see http_parse.h).  On error form is unchanged and
 * *errmsg says what was wrong; temp files already written are unlinked when
 * the arena is reset.  Everything allocated belongs to the arena. */
enum hp_err hp_parse_multipart(struct arena *a, const char *content_type,
    hp_read_fn rd, void *rdctx, const char *tmpdir,
    const struct hp_limits *lim, struct hp_form *form, const char **errmsg)
{
	struct hp_limits defaults;
	struct mp m;
	enum hp_err e;

	if (errmsg != NULL)
		*errmsg = NULL;
	if (lim == NULL) {
		hp_limits_default(&defaults);
		lim = &defaults;
	}
	memset(&m, 0, sizeof(m));
	m.a = a;
	m.lim = lim;
	m.tmpdir = tmpdir != NULL && *tmpdir != '\0' ? tmpdir : "/tmp";
	m.errmsg = errmsg;
	e = mp_boundary(&m, content_type);
	if (e != HP_OK)
		return e;
	m.buf = arena_alloc(a, MP_BUFSZ);
	if (m.buf == NULL)
		return mp_fail(&m, HP_NOMEM, MSG_NOMEM);
	/* The first delimiter may open the body without a CRLF before it. */
	memcpy(m.buf, "\r\n", 2);
	m.len = 2;
	m.fields = form->fields;
	m.nf = m.fcap = form->nfields;
	m.files = form->files;
	m.nfi = m.ficap = form->nfiles;
	m.state = MP_PREAMBLE;

	for (;;) {
		if (!m.eof && m.len < MP_BUFSZ) {
			e = mp_fill(&m, rd, rdctx);
			if (e != HP_OK)
				return e;
		}
		for (;;) {
			size_t used;

			e = mp_step(&m, &used);
			if (e != HP_OK)
				return e;
			if (used == 0)
				break;
			m.pos += used;
			if (m.state == MP_DONE)
				break;
		}
		memmove(m.buf, m.buf + m.pos, m.len - m.pos);
		m.len -= m.pos;
		m.pos = 0;
		if (m.state == MP_DONE)
			break;
		if (m.eof)
			return mp_fail(&m, HP_MALFORMED, MSG_TRUNCATED);
	}
	/* Read and drop the epilogue, so the body is consumed. */
	while (!m.eof) {
		m.len = 0;
		e = mp_fill(&m, rd, rdctx);
		if (e != HP_OK)
			return e;
	}
	form->fields = m.fields;
	form->nfields = m.nf;
	form->files = m.files;
	form->nfiles = m.nfi;
	return HP_OK;
}

/* ------------------------------------------------------------ lookups */

/* First value of field name in f, or NULL. */
const char *hp_form_get(const struct hp_form *f, const char *name)
{
	size_t i;

	if (f == NULL || name == NULL)
		return NULL;
	for (i = 0; i < f->nfields; i++)
		if (strcmp(f->fields[i].name, name) == 0)
			return f->fields[i].value;
	return NULL;
}

/* First file uploaded in field name, or NULL. */
const struct hp_file *hp_form_file(const struct hp_form *f, const char *name)
{
	size_t i;

	if (f == NULL || name == NULL)
		return NULL;
	for (i = 0; i < f->nfiles; i++)
		if (strcmp(f->files[i].field, name) == 0)
			return &f->files[i];
	return NULL;
}

/* First value of cookie name, or NULL. */
const char *hp_cookie_get(const struct hp_field *cookies, size_t n, const char *name)
{
	size_t i;

	if (cookies == NULL || name == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strcmp(cookies[i].name, name) == 0)
			return cookies[i].value;
	return NULL;
}
