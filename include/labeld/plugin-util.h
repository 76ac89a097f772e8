/*
 * labeld/plugin-util.h: small helpers for task plugins, as static inline
 * functions (nothing to link; unused ones cost nothing).  Optional: a plugin
 * needs only <labeld/plugin.h>.  Uses json-c (`pkg-config --cflags json-c`,
 * which `pkg-config --cflags labeld-plugin` includes).
 *
 * They cover what every task plugin does: read label ids from form fields,
 * find a label or a field, and build a json tree where any failed step only
 * sets an error flag, checked once at the end (labeld_json_finish).
 *
 * Part of the plugin contract: a change here follows the ABI rules at the
 * top of <labeld/plugin.h> (a plugin built against an older copy keeps its
 * own copy of these functions, so they may change only compatibly).
 */
#ifndef LABELD_PLUGIN_UTIL_H
#define LABELD_PLUGIN_UTIL_H

#include <stdint.h>
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

#endif
