/*
 * router.c: segment-wise matching of request paths against route patterns.
 */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "router.h"

/* Match path against pattern; captures go to params (arena copies).
 * Returns 1 on a match, 0 otherwise, -1 out of memory. */
static int pattern_match(const char *pattern, const char *path, struct arena *a,
    struct route_params *params)
{
	const char *p = pattern, *s = path;

	params->n = 0;
	while (*p != '\0' && *s != '\0') {
		if (*p == ':') {
			const char *pe = strchr(p, '/'), *se = strchr(s, '/');
			size_t plen = pe ? (size_t)(pe - p) : strlen(p);
			size_t slen = se ? (size_t)(se - s) : strlen(s);
			if (slen == 0 || params->n >= ROUTE_MAX_PARAMS)
				return 0;
			if (a != NULL) {
				params->name[params->n] = arena_strndup(a, p + 1, plen - 1);
				params->value[params->n] = arena_strndup(a, s, slen);
				if (params->name[params->n] == NULL || params->value[params->n] == NULL)
					return -1;
			}
			params->n++;
			p += plen;
			s += slen;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return *p == '\0' && *s == '\0';
}

static int method_matches(const char *route_method, const char *method)
{
	if (strcmp(route_method, method) == 0)
		return 1;
	return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

static void allow_add(char *allow, size_t allowlen, const char *m)
{
	size_t len = strlen(allow);

	if (strstr(allow, m) != NULL)
		return;
	snprintf(allow + len, allowlen - len, "%s%s", len ? ", " : "", m);
}

const struct route *router_match(const struct route *table, size_t n,
    const char *method, const char *path, struct arena *a,
    struct route_params *params, enum route_status *status,
    char *allow, size_t allowlen)
{
	struct route_params scratch;
	int path_known = 0;

	if (allowlen > 0)
		allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!method_matches(table[i].method, method))
			continue;
		int m = pattern_match(table[i].pattern, path, a, params);
		if (m < 0)
			break;
		if (m == 1) {
			*status = ROUTE_FOUND;
			return &table[i];
		}
	}
	/* Not found for this method: is the path known under another one? */
	for (size_t i = 0; i < n; i++) {
		if (pattern_match(table[i].pattern, path, NULL, &scratch) == 1) {
			path_known = 1;
			allow_add(allow, allowlen, table[i].method);
			if (strcmp(table[i].method, "GET") == 0)
				allow_add(allow, allowlen, "HEAD");
		}
	}
	params->n = 0;
	*status = path_known ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
	return NULL;
}

const char *route_param(const struct route_params *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->name[i], name) == 0)
			return p->value[i];
	return NULL;
}

void router_need_names(unsigned needs, char *out, size_t outlen)
{
	/* In bit order (router.h). */
	static const char *const names[] = {
		"login", "csrf", "admin", "db", "files", "image", "metrics-addr", "project",
		"path-secret", "review",
	};
	const size_t known = sizeof(names) / sizeof(names[0]);
	size_t used = 0;

	out[0] = '\0';
	for (unsigned bit = 0; bit < 32; bit++) {
		char unknown[16];
		const char *name;
		int w;
		if (!(needs & (1u << bit)))
			continue;
		if (bit < known) {
			name = names[bit];
		} else {
			snprintf(unknown, sizeof(unknown), "0x%x", 1u << bit);
			name = unknown;
		}
		w = snprintf(out + used, outlen - used, "%s%s", used > 0 ? "," : "", name);
		if (w < 0 || (size_t)w >= outlen - used) {
			out[used] = '\0';   /* whole names only */
			return;
		}
		used += (size_t)w;
	}
	if (used == 0)
		snprintf(out, outlen, "-");
}

void router_print(const struct route *table, size_t n, FILE *f)
{
	char needs[160];

	for (size_t i = 0; i < n; i++) {
		router_need_names(table[i].needs, needs, sizeof(needs));
		fprintf(f, "%s\t%s\t%s\n", table[i].method, table[i].pattern, needs);
	}
}

int router_check(const struct route *table, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = table[i].pattern;
		size_t captures = 0;
		if (p[0] != '/' || table[i].handler == NULL || table[i].method == NULL) {
			snprintf(err, errlen, "route %zu (%s): bad pattern or no handler", i, p);
			return -1;
		}
		for (const char *c = p; *c; c++) {
			if (c[0] == '/' && c[1] == '/') {
				snprintf(err, errlen, "route %s: empty segment", p);
				return -1;
			}
			if (*c == ':') {
				if (c[-1] != '/' || c[1] == '\0' || c[1] == '/') {
					snprintf(err, errlen, "route %s: a capture must be a whole named segment", p);
					return -1;
				}
				captures++;
			}
		}
		if (captures > ROUTE_MAX_PARAMS) {
			snprintf(err, errlen, "route %s: too many captures", p);
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(table[j].method, table[i].method) == 0 &&
			    strcmp(table[j].pattern, p) == 0) {
				snprintf(err, errlen, "route %s %s listed twice", table[i].method, p);
				return -1;
			}
	}
	return 0;
}
