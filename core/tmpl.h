/*
 * tmpl.h: logic-less, mustache-like HTML templates rendered from json-c views.
 *
 * Syntax (inside a template file):
 *   {{name}}  {{a.b.c}}  {{.}}   a value, HTML-escaped (quotes too)
 *   {{name|url}}                 a value percent-encoded for a URL component
 *                                (also HTML-safe)
 *   {{#name}}...{{/name}}        section: once per element of an array, once
 *                                with the object pushed as context, once for
 *                                any other truthy value; skipped when falsy
 *   {{^name}}...{{/name}}        inverted section: rendered when falsy
 *   {{>partial}}                 another template of the same set
 *   {{>*name}}                   the template of the set named by the view's
 *                                value `name` (nothing when it is missing)
 *   {{>content}}                 in a layout only: the page being rendered
 *   {{! comment }}               dropped
 * Falsy: missing, null, false, 0, "", empty array.  Names are looked up in the
 * context stack innermost first; a dotted name resolves its first part that
 * way, the rest inside it.  There is no raw-output syntax: {{{x}}} and {{&x}}
 * are syntax errors.
 *
 * A set is parsed once (start-up, SIGHUP) and is read-only afterwards, so
 * any number of threads may render from it at once.
 */
#ifndef LABELD_TMPL_H
#define LABELD_TMPL_H

#include <stddef.h>

struct json_object;
struct buf;
struct tmpl_set;

/* An empty set; NULL when out of memory. */
struct tmpl_set *tmpl_set_new(void);
void tmpl_set_free(struct tmpl_set *set);

/* Parse one template from memory under `name`; `file` is used in messages.
 * On error returns -1 and writes "file:line: message" into err. */
int tmpl_add(struct tmpl_set *set, const char *name, const char *file,
    const char *text, size_t len, char *err, size_t errlen);

/* Parse every *.html file in dir (not recursive); the name is
 * prefix + basename without ".html" (prefix may be "" or e.g. "bbox/").
 * Returns 0 or -1 with "file:line: message" in err. */
int tmpl_add_dir(struct tmpl_set *set, const char *dir, const char *prefix,
    char *err, size_t errlen);

/* Check that every {{>partial}} names a template of the set ("content" is
 * allowed only in templates whose name is "layout").  Returns 0 or -1 with
 * "file:line: unknown partial 'x'" in err. */
int tmpl_link(struct tmpl_set *set, char *err, size_t errlen);

int tmpl_exists(const struct tmpl_set *set, const char *name);

/* Render template `name` with `view` appended to out.  Returns 0, or -1 when
 * the template does not exist, partials nest deeper than 32, or out failed. */
int tmpl_render(const struct tmpl_set *set, const char *name,
    struct json_object *view, struct buf *out);

/* Render layout `layout` where {{>content}} renders `page`; both see `view`. */
int tmpl_render_page(const struct tmpl_set *set, const char *layout,
    const char *page, struct json_object *view, struct buf *out);

#endif
