/*
 * labeld/plugin-util.h: small helpers for plugins, as static inline
 * functions (nothing to link; unused ones cost nothing).  Optional: a plugin
 * needs only <labeld/plugin.h>.  Uses json-c (`pkg-config --cflags json-c`,
 * which `pkg-config --cflags labeld-plugin` includes).
 *
 * They cover what every task plugin does: read label ids from form fields,
 * find a label or a field, and build a json tree where any failed step only
 * sets an error flag, checked once at the end (labeld_json_finish); and what
 * every export plugin does: write text, JSON strings and numbers through the
 * export's sink (labeld_write_*).
 *
 * Part of the plugin contract: a change here follows the ABI rules at the
 * top of <labeld/plugin.h> (a plugin built against an older copy keeps its
 * own copy of these functions, so they may change only compatibly).
 */
#ifndef LABELD_PLUGIN_UTIL_H
#define LABELD_PLUGIN_UTIL_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include <labeld/plugin.h>

/* A label id is 1..18 decimal digits (fits int64 without overflow checks). */
#define LABELD_ID_MAX_DIGITS 18
#define LABELD_MSG_OOM "Out of memory."

/* True when an error message is LABELD_MSG_OOM (compared by content: the
 * literal may have several copies). */
static inline int labeld_msg_is_oom(const char *msg)
{
	return msg != NULL && strcmp(msg, LABELD_MSG_OOM) == 0;
}

/* Parse a label id from the len bytes at s: 1..18 decimal digits without
 * sign, spaces or leading zeros (so greater than 0).  Returns 0 with *id
 * set, or -1. */
static inline int labeld_parse_id_n(const char *s, size_t len, int64_t *id)
{
	int64_t v = 0;

	if (s == NULL || len == 0 || len > LABELD_ID_MAX_DIGITS || s[0] < '1' || s[0] > '9')
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*id = v;
	return 0;
}

/* The same for a NUL-terminated string (NULL gives -1). */
static inline int labeld_parse_id(const char *s, int64_t *id)
{
	if (s == NULL)
		return -1;
	return labeld_parse_id_n(s, strnlen(s, LABELD_ID_MAX_DIGITS + 1), id);
}

/* qsort/bsearch order of int64_t ids, ascending. */
static inline int labeld_cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Index of the label with this id, or -1. */
static inline long labeld_label_index(const struct labeld_label *labels, size_t nlabels,
    int64_t id)
{
	for (size_t i = 0; i < nlabels; i++)
		if (labels[i].id == id)
			return (long)i;
	return -1;
}

/* How many fields are named name. */
static inline size_t labeld_field_count(const struct labeld_field *fields, size_t nfields,
    const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < nfields; i++)
		if (fields[i].name != NULL && strcmp(fields[i].name, name) == 0)
			n++;
	return n;
}

/*
 * The value of the next field named name at or after *pos, with *pos moved
 * past it; NULL when there is none.  Walks repeated fields in form order:
 *   for (size_t pos = 0; (v = labeld_field_next(fields, nfields, "label", &pos)); )
 */
static inline const char *labeld_field_next(const struct labeld_field *fields, size_t nfields,
    const char *name, size_t *pos)
{
	for (size_t i = *pos; i < nfields; i++) {
		if (fields[i].name != NULL && strcmp(fields[i].name, name) == 0) {
			*pos = i + 1;
			return fields[i].value != NULL ? fields[i].value : "";
		}
	}
	*pos = nfields;
	return NULL;
}

/* Add val to obj under key, a string literal (kept by pointer, not
 * copied).  val may be NULL (a failed json_object_new_*): then, or when
 * adding fails, val is put and *bad set. */
static inline void labeld_json_add(struct json_object *obj, const char *key,
    struct json_object *val, int *bad)
{
	if (val == NULL) {
		*bad = 1;
		return;
	}
	if (json_object_object_add_ex(obj, key, val, JSON_C_OBJECT_ADD_CONSTANT_KEY) != 0) {
		json_object_put(val);
		*bad = 1;
	}
}

/* Append val (may be NULL) to arr; on failure puts val and sets *bad. */
static inline void labeld_json_append(struct json_object *arr, struct json_object *val,
    int *bad)
{
	if (val == NULL) {
		*bad = 1;
		return;
	}
	if (json_object_array_add(arr, val) != 0) {
		json_object_put(val);
		*bad = 1;
	}
}

/*
 * Append {id, name, key, checked} for a label to arr, the shape the editor
 * templates use (key 1..9 or 0).  On failure sets *bad.
 */
static inline void labeld_json_label(struct json_object *arr, const struct labeld_label *label,
    int checked, int *bad)
{
	struct json_object *o = json_object_new_object();

	labeld_json_append(arr, o, bad);
	if (*bad)
		return;
	labeld_json_add(o, "id", json_object_new_int64(label->id), bad);
	labeld_json_add(o, "name", json_object_new_string(label->name ? label->name : ""), bad);
	labeld_json_add(o, "key", json_object_new_int(label->key >= 1 && label->key <= 9 ?
	    label->key : 0), bad);
	labeld_json_add(o, "checked", json_object_new_boolean(checked), bad);
}

/*
 * Hand a finished tree to the ctx (host->json_own).  Returns it, or NULL
 * with *error = LABELD_MSG_OOM when building it failed (root NULL or bad
 * set) or the ctx could not take it; the tree is put either way on failure.
 */
static inline struct json_object *labeld_json_finish(const struct labeld_host *host,
    struct labeld_ctx *ctx, struct json_object *root, int bad, const char **error)
{
	if (root != NULL && bad) {
		json_object_put(root);
		root = NULL;
	}
	if (root != NULL)
		root = host->json_own(ctx, root);
	if (root == NULL)
		*error = LABELD_MSG_OOM;
	return root;
}

/* ------------------------------------------------------------ exports */

/*
 * Writing an export file through its sink (struct labeld_export_sink).
 * Every labeld_write_* function returns 0, or -1 when the sink refused the
 * bytes (then the op fails: return -1 with *error = LABELD_MSG_WRITE, or a
 * sentence of the plugin's own).  What was written before a failure stays
 * written; labeld removes the partial file when the op fails.  Output is
 * the same in every locale (no locale-dependent decimal point, no digit
 * grouping).
 */
#define LABELD_MSG_WRITE "Could not write the export file."

/* Write len bytes (len 0 writes nothing and succeeds). */
static inline int labeld_write(struct labeld_export_sink *out, const void *data, size_t len)
{
	if (len == 0)
		return 0;
	return out->write(out->opaque, data, len) == 0 ? 0 : -1;
}

/* Write the NUL-terminated string s as it is (NULL writes nothing). */
static inline int labeld_write_str(struct labeld_export_sink *out, const char *s)
{
	return s == NULL ? 0 : labeld_write(out, s, strlen(s));
}

/*
 * The length of the valid UTF-8 sequence at s (1..4 bytes, at most n), or 0
 * when the bytes there are not one: a stray continuation byte, a truncated
 * sequence, an overlong form, a surrogate (U+D800..U+DFFF) or a code point
 * above U+10FFFF.
 */
static inline size_t labeld_utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Write s as a JSON string, quotes included (NULL writes "").  Escaped: the
 * quote, the backslash, every control character (U+0000..U+001F and U+007F:
 * \b \f \n \r \t or \u00XX), and <, >, & and U+2028/U+2029 as \u003c,
 * \u003e, \u0026, \u2028, \u2029, so the string is safe inside an HTML
 * <script> block and in JavaScript too.  Other Unicode stays UTF-8 as it
 * is; a byte that is not part of valid UTF-8 is written as U+FFFD (\ufffd),
 * so the output is always valid JSON.
 */
static inline int labeld_write_json_string(struct labeld_export_sink *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	const unsigned char *run = p;
	size_t left = strlen((const char *)p);

	if (labeld_write(out, "\"", 1) != 0)
		return -1;
	while (left > 0) {
		char esc[8];
		const char *e = esc;
		size_t elen = 6, len = labeld_utf8_len(p, left);

		if (len == 1 && *p >= 0x20 && *p != 0x7f && *p != '"' && *p != '\\' &&
		    *p != '<' && *p != '>' && *p != '&') {
			p++;
			left--;
			continue;
		}
		if (len > 1 && !(len == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
		    (p[2] == 0xa8 || p[2] == 0xa9))) {
			p += len;
			left -= len;
			continue;
		}
		/* p needs an escape: write the run before it, then the escape. */
		if (labeld_write(out, run, (size_t)(p - run)) != 0)
			return -1;
		if (len == 0) {
			e = "\\ufffd";
			len = 1;
		} else if (len == 3) {
			e = p[2] == 0xa8 ? "\\u2028" : "\\u2029";
		} else if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			elen = 2;
		} else if (*p == '\n' || *p == '\r' || *p == '\t' || *p == '\b' || *p == '\f') {
			esc[0] = '\\';
			esc[1] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : *p == '\t' ? 't' :
			    *p == '\b' ? 'b' : 'f';
			elen = 2;
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 0x0f];
		}
		if (labeld_write(out, e, elen) != 0)
			return -1;
		p += len;
		left -= len;
		run = p;
	}
	if (labeld_write(out, run, (size_t)(p - run)) != 0)
		return -1;
	return labeld_write(out, "\"", 1);
}

/* Exact powers of ten as doubles, 10^0..10^17. */
static inline double labeld_pow10(unsigned k)
{
	static const double p[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
		1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17 };

	return p[k < 17 ? k : 17];
}

/* Integers below this are exact doubles and fit the fixed-point paths. */
#define LABELD_FIXED_MAX 9e15

/*
 * Write m / 10^decimals in decimal into num (at least 32 bytes): the
 * integer part, then, when the rest is not 0, "." and the rest without
 * trailing zeros; "-" first when neg.  Returns the length.
 */
static inline size_t labeld_format_scaled(char *num, uint64_t m, unsigned decimals, int neg)
{
	char digits[24];
	size_t n = 0, lo = 0, len = 0;

	do {
		digits[n++] = (char)('0' + m % 10);
		m /= 10;
	} while (m > 0 || n <= decimals);
	/* digits[lo..n): at least decimals + 1 digits, lowest first.  Drop
	 * the fraction's trailing zeros (the lowest digits). */
	while (decimals > 0 && digits[lo] == '0') {
		lo++;
		decimals--;
	}
	if (neg && !(n - lo == 1 && digits[lo] == '0'))
		num[len++] = '-';
	while (n > lo + decimals)
		num[len++] = digits[--n];
	if (decimals > 0)
		num[len++] = '.';
	while (n > lo)
		num[len++] = digits[--n];
	num[len] = '\0';
	return len;
}

/* Write v in decimal (a JSON number). */
static inline int labeld_write_int(struct labeld_export_sink *out, int64_t v)
{
	char num[32];
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	return labeld_write(out, num, labeld_format_scaled(num, u, 0, v < 0));
}

/*
 * Format a finite v as a JSON number into num (at least 32 bytes), exactly:
 * the text reads back (strtod, any JSON parser) as v itself.  Short when v
 * has a short decimal form: integers and numbers of up to 17 decimals
 * within +-9e15 are written as fixed point ("640", "12.5", "0.1",
 * "0.0000001"); anything else with 17 significant digits ("1e+21",
 * "0.041666666666666664").  "." is the decimal point whatever the locale;
 * -0 is "0".  Returns the length, or 0 when v is NaN or infinite (JSON has
 * no such numbers; num is then "").
 */
static inline size_t labeld_format_double(char num[32], double v)
{
	char raw[40];
	double a = fabs(v);
	size_t n = 0;

	num[0] = '\0';
	if (!isfinite(v))
		return 0;
	/* The fewest decimals k with m / 10^k == |v| (both exact doubles and
	 * the division correctly rounded, so "m e-k" reads back as |v|). */
	for (unsigned k = 0; k <= 17 && a * labeld_pow10(k) < LABELD_FIXED_MAX; k++) {
		uint64_t m = (uint64_t)(a * labeld_pow10(k) + 0.5);
		if ((double)m / labeld_pow10(k) == a)
			return labeld_format_scaled(num, m, k, v < 0);
	}
	/* 17 significant digits always read back exactly.  Keep sign, digits
	 * and exponent; whatever else there is, the locale's decimal point
	 * (perhaps several bytes), becomes one ".". */
	snprintf(raw, sizeof(raw), "%.17g", v);
	for (const char *r = raw; *r != '\0' && n < 31; r++) {
		if ((*r >= '0' && *r <= '9') || *r == '-' || *r == '+' || *r == 'e')
			num[n++] = *r;
		else if (n == 0 || num[n - 1] != '.')
			num[n++] = '.';
	}
	num[n] = '\0';
	return n;
}

/*
 * Format a finite v rounded to decimals places (0..15) into num (at least
 * 32 bytes), trailing zeros dropped: (0.0416666666666667, 10) gives
 * "0.0416666667", (0.5, 10) "0.5", (1, 10) "1".  Fast (integer arithmetic
 * only) and the same in every locale; for numbers whose digits would not
 * fit (|v| * 10^decimals of 9e15 or more) it is labeld_format_double.
 * Returns the length, or 0 for NaN and infinities.
 */
static inline size_t labeld_format_fixed(char num[32], double v, unsigned decimals)
{
	double a = fabs(v);

	num[0] = '\0';
	if (!isfinite(v))
		return 0;
	if (decimals > 15)
		decimals = 15;
	if (a * labeld_pow10(decimals) >= LABELD_FIXED_MAX)
		return labeld_format_double(num, v);
	return labeld_format_scaled(num, (uint64_t)(a * labeld_pow10(decimals) + 0.5), decimals,
	    v < 0);
}

/* Write a finite v as a JSON number (labeld_format_double).  NaN and
 * infinities write nothing and return -1 too: check isfinite() first when
 * the two failures need telling apart. */
static inline int labeld_write_double(struct labeld_export_sink *out, double v)
{
	char num[32];
	size_t n = labeld_format_double(num, v);

	return n > 0 ? labeld_write(out, num, n) : -1;
}

/* Write a finite v rounded to decimals places (labeld_format_fixed); NaN
 * and infinities write nothing and return -1. */
static inline int labeld_write_fixed(struct labeld_export_sink *out, double v, unsigned decimals)
{
	char num[32];
	size_t n = labeld_format_fixed(num, v, decimals);

	return n > 0 ? labeld_write(out, num, n) : -1;
}

/*
 * A project's label classes, kept by an export plugin for the whole export
 * (the labels begin gets are valid during that call only): each label's id,
 * its place in label order (0..n-1) and its name, copied.  labeld_label_map_find
 * looks an id up in O(log n).
 */
struct labeld_label_entry {
	int64_t id;
	size_t index;       /* place in label order */
	const char *name;   /* copied with host->strdup */
};

struct labeld_label_map {
	struct labeld_label_entry *v;   /* sorted by id */
	size_t n;
};

/* qsort/bsearch order of struct labeld_label_entry by id. */
static inline int labeld_cmp_label_entry(const void *a, const void *b)
{
	return labeld_cmp_id(&((const struct labeld_label_entry *)a)->id,
	    &((const struct labeld_label_entry *)b)->id);
}

/* Fill map from labels (in label order) with memory of ctx (give it the
 * export's ctx, the one begin got).  Returns 0, or -1 with *error =
 * LABELD_MSG_OOM. */
static inline int labeld_label_map_init(const struct labeld_host *host, struct labeld_ctx *ctx,
    struct labeld_label_map *map, const struct labeld_label *labels, size_t nlabels,
    const char **error)
{
	map->v = NULL;
	map->n = 0;
	if (nlabels == 0)
		return 0;
	map->v = host->alloc(ctx, nlabels * sizeof(*map->v));
	if (map->v == NULL) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	for (size_t i = 0; i < nlabels; i++) {
		map->v[i].id = labels[i].id;
		map->v[i].index = i;
		map->v[i].name = host->strdup(ctx, labels[i].name != NULL ? labels[i].name : "");
		if (map->v[i].name == NULL) {
			*error = LABELD_MSG_OOM;
			return -1;
		}
	}
	map->n = nlabels;
	qsort(map->v, map->n, sizeof(*map->v), labeld_cmp_label_entry);
	return 0;
}

/* The label with this id, or NULL. */
static inline const struct labeld_label_entry *labeld_label_map_find(
    const struct labeld_label_map *map, int64_t id)
{
	struct labeld_label_entry key = { .id = id };

	if (map->n == 0)
		return NULL;
	return bsearch(&key, map->v, map->n, sizeof(*map->v), labeld_cmp_label_entry);
}

/* qsort order of label entries (pointers) by their place in label order. */
static inline int labeld_cmp_label_index(const void *a, const void *b)
{
	size_t x = (*(const struct labeld_label_entry *const *)a)->index;
	size_t y = (*(const struct labeld_label_entry *const *)b)->index;

	return (x > y) - (x < y);
}

/*
 * An item's label ids as label entries in label order, each once (for
 * classification: what describe gave an exported item).  *out is an array
 * of ctx (the item's own ctx will do) with *nout entries.  Returns 0; -1
 * with *error = LABELD_MSG_OOM; or -2 when an id is not one of the
 * project's labels (*unknown set to it; nothing allocated is kept).
 */
static inline int labeld_label_map_sorted(const struct labeld_host *host, struct labeld_ctx *ctx,
    const struct labeld_label_map *map, const int64_t *ids, size_t nids,
    const struct labeld_label_entry ***out, size_t *nout, int64_t *unknown, const char **error)
{
	const struct labeld_label_entry **v;
	size_t n = 0;

	*out = NULL;
	*nout = 0;
	if (nids == 0)
		return 0;
	v = host->alloc(ctx, nids * sizeof(*v));
	if (v == NULL) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	for (size_t i = 0; i < nids; i++) {
		v[i] = labeld_label_map_find(map, ids[i]);
		if (v[i] == NULL) {
			*unknown = ids[i];
			return -2;
		}
	}
	qsort(v, nids, sizeof(*v), labeld_cmp_label_index);
	for (size_t i = 0; i < nids; i++)
		if (n == 0 || v[n - 1] != v[i])
			v[n++] = v[i];
	*out = v;
	*nout = n;
	return 0;
}

/*
 * A sentence for *error, formatted (printf) into memory of ctx.  In an
 * export's item op give it the export's ctx (begin's): the item's own ctx
 * is released when item returns, before labeld reads the message.  Returns
 * fallback (a static string) when formatting or memory fails.
 */
static inline const char *labeld_sentence(const struct labeld_host *host, struct labeld_ctx *ctx,
    const char *fallback, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static inline const char *labeld_sentence(const struct labeld_host *host, struct labeld_ctx *ctx,
    const char *fallback, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (msg = host->alloc(ctx, (size_t)n + 1)) == NULL)
		return fallback;
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return msg;
}

#endif
