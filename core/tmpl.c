/*
 * tmpl.c: logic-less, mustache-like templates (syntax in tmpl.h).
 *
 * A template is parsed once into a flat array of nodes plus one byte pool
 * that holds its text and names.  A section node records the index just past
 * its body, so rendering walks the array without pointers to chase.  The set
 * is never written while rendering: any number of threads may render from it.
 *
 * Choices the header leaves open:
 *  - whitespace is allowed around names and filters: {{ a.b | url }};
 *  - partial names may also hold '/' (plugin templates are "bbox/editor");
 *  - {{>*name}} renders the template whose name is the view's value `name`
 *    (a dynamic partial: nothing when missing or null, an error when it names
 *    no template of the set);
 *  - {{>content}} is the page slot; tmpl_render() of a layout leaves it empty;
 *  - an empty object is truthy; "0" (a string) is truthy;
 *  - a key that is present with null hides the same key further out;
 *  - doubles print as "%.15g", or "%.17g" when that would not read back the
 *    same value; numbers are formatted here, json-c's cached text unused;
 *  - a standalone partial tag loses its line's indentation and newline but
 *    does not indent the partial's lines;
 *  - sections nest at most TMPL_MAX_NESTING deep inside one template;
 *  - on failure nothing is left appended to the output buffer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "tmpl.h"

#define TMPL_MAX_DEPTH   32              /* partials nested while rendering */
#define TMPL_MAX_NESTING 32              /* sections nested in one template */
#define TMPL_MAX_NAME    200             /* bytes in one name */
#define TMPL_MAX_FILE    (1024 * 1024)   /* bytes in one template file */

enum node_kind {
	NODE_TEXT,       /* pool[off .. off+len) verbatim */
	NODE_VAR,        /* a value, HTML-escaped */
	NODE_URL,        /* a value, percent-encoded */
	NODE_SECTION,    /* body is nodes (index, end) */
	NODE_INVERTED,
	NODE_PARTIAL,    /* pool + off is the NUL-terminated template name */
	NODE_CONTENT,    /* {{>content}}: the page slot of a layout */
	NODE_DYNAMIC,    /* {{>*name}}: the partial the view's value names */
};

struct node {
	enum node_kind kind;
	unsigned line;
	unsigned nseg;   /* names: segment count, 0 for "." */
	size_t off;      /* into the pool */
	size_t len;      /* text: bytes */
	size_t end;      /* sections: index of the first node after the body */
};

struct tmpl {
	char *name;
	char *file;
	struct node *nodes;
	size_t nnodes;
	char *pool;      /* "" then text bytes; names stored as "a\0b\0c\0" */
	size_t poollen;
};

struct tmpl_set {
	struct tmpl **tmpls;   /* sorted by name */
	size_t n, cap;
};

/* ------------------------------------------------------------ the set */

/* An empty set; NULL when out of memory.  Free with tmpl_set_free(). */
struct tmpl_set *tmpl_set_new(void)
{
	return calloc(1, sizeof(struct tmpl_set));
}

static void tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->file);
	free(t->nodes);
	free(t->pool);
	free(t);
}

/* Free the set and every template in it; NULL is allowed. */
void tmpl_set_free(struct tmpl_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		tmpl_free(set->tmpls[i]);
	free(set->tmpls);
	free(set);
}

/* Binary search by name: the index of `name`, or -1 with *pos set to where
 * it would be inserted. */
static long set_search(const struct tmpl_set *set, const char *name,
    size_t *pos)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, set->tmpls[mid]->name);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (pos != NULL)
		*pos = lo;
	return -1;
}

static const struct tmpl *set_find(const struct tmpl_set *set,
    const char *name)
{
	long i = set_search(set, name, NULL);

	return i < 0 ? NULL : set->tmpls[i];
}

/* 1 when the set holds a template of that name, else 0 (also for NULL). */
int tmpl_exists(const struct tmpl_set *set, const char *name)
{
	return set != NULL && name != NULL && set_find(set, name) != NULL;
}

/* ------------------------------------------------------------ parsing */

enum tag_kind { TAG_VAR, TAG_SECTION, TAG_INVERTED, TAG_CLOSE, TAG_PARTIAL,
	TAG_COMMENT };

struct tag {
	enum tag_kind kind;
	const char *name;    /* into the source */
	size_t namelen;
	int url;             /* {{name|url}} */
	size_t end;          /* offset just past "}}" */
};

struct open_section {
	size_t node;
	const char *name;
	size_t namelen;
	unsigned line;
};

struct parser {
	const char *file;
	const char *src;
	size_t len;
	struct tmpl *t;
	size_t nodecap, poolcap;
	struct open_section open[TMPL_MAX_NESTING];
	size_t nopen;
	size_t line_pos;     /* line counted up to here */
	unsigned line;
	int joinable;        /* no tag but comments since the last text node */
	char *err;
	size_t errlen;
};

static int parse_fail(struct parser *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write "file:line: message" into the caller's error buffer; returns -1. */
static int parse_fail(struct parser *p, unsigned line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err != NULL && p->errlen > 0)
		snprintf(p->err, p->errlen, "%s:%u: %s", p->file, line, msg);
	return -1;
}

/* The line number of offset pos; offsets must be asked in increasing order. */
static unsigned line_at(struct parser *p, size_t pos)
{
	const char *s = p->src + p->line_pos, *e = p->src + pos;

	while (s < e && (s = memchr(s, '\n', (size_t)(e - s))) != NULL) {
		p->line++;
		s++;
	}
	p->line_pos = pos;
	return p->line;
}

/* Append n bytes to the pool; their offset, or (size_t)-1 out of memory. */
static size_t pool_add(struct parser *p, const char *data, size_t n)
{
	struct tmpl *t = p->t;
	size_t off = t->poollen;

	if (n > SIZE_MAX / 2 - t->poollen)
		return (size_t)-1;
	if (t->poollen + n > p->poolcap) {
		size_t cap = p->poolcap ? p->poolcap : 256;
		char *np;
		while (cap < t->poollen + n)
			cap *= 2;
		np = realloc(t->pool, cap);
		if (np == NULL)
			return (size_t)-1;
		t->pool = np;
		p->poolcap = cap;
	}
	memcpy(t->pool + off, data, n);
	t->poollen += n;
	return off;
}

/* A new zeroed node at the end of the array; NULL out of memory. */
static struct node *node_add(struct parser *p)
{
	struct tmpl *t = p->t;
	struct node *n;

	if (t->nnodes == p->nodecap) {
		size_t cap = p->nodecap ? p->nodecap * 2 : 16;
		struct node *nn;
		if (cap > SIZE_MAX / sizeof(*nn))
			return NULL;
		nn = realloc(t->nodes, cap * sizeof(*nn));
		if (nn == NULL)
			return NULL;
		t->nodes = nn;
		p->nodecap = cap;
	}
	n = &t->nodes[t->nnodes++];
	memset(n, 0, sizeof(*n));
	return n;
}

/* Add source bytes [from, to) as text, joined to a text node just before. */
static int emit_text(struct parser *p, size_t from, size_t to)
{
	struct tmpl *t = p->t;
	struct node *last = t->nnodes ? &t->nodes[t->nnodes - 1] : NULL;
	struct node *n;
	size_t off;

	if (to <= from)
		return 0;
	off = pool_add(p, p->src + from, to - from);
	if (off == (size_t)-1)
		return parse_fail(p, p->line, "out of memory");
	if (p->joinable && last != NULL && last->kind == NODE_TEXT &&
	    last->off + last->len == off) {
		last->len += to - from;
		return 0;
	}
	p->joinable = 1;
	if ((n = node_add(p)) == NULL)
		return parse_fail(p, p->line, "out of memory");
	n->kind = NODE_TEXT;
	n->line = p->line;
	n->off = off;
	n->len = to - from;
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_name_char(char c, int partial)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
	    (partial && c == '/');
}

/* A printable rendering of up to 40 source bytes for an error message. */
static const char *show(char *out, size_t outlen, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i == 40) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			snprintf(out + o, outlen - o, "\\x%02x", c);
			o += 4;
		}
	}
	out[o] = '\0';
	return out;
}

/* Check a name: [A-Za-z0-9_.-] ('/' too for partials), "." alone, or
 * dot-separated non-empty parts. */
static int name_check(struct parser *p, unsigned line, const struct tag *tag)
{
	int partial = tag->kind == TAG_PARTIAL;
	const char *s = tag->name;
	size_t i, n = tag->namelen;
	char sh[200];

	if (n == 0)
		return parse_fail(p, line, "empty name in tag");
	if (partial && s[0] == '*') {
		/* {{>*name}}: the rest is a value name. */
		struct tag sub = *tag;
		sub.kind = TAG_VAR;
		sub.name = s + 1;
		sub.namelen = n - 1;
		return name_check(p, line, &sub);
	}
	if (n > TMPL_MAX_NAME)
		return parse_fail(p, line, "name longer than %d bytes",
		    TMPL_MAX_NAME);
	for (i = 0; i < n; i++) {
		if (!is_name_char(s[i], partial))
			return parse_fail(p, line,
			    "invalid character '%s' in name '%s'",
			    show(sh, 20, s + i, 1), show(sh + 20, 180, s, n));
	}
	if (partial || (n == 1 && s[0] == '.'))
		return 0;
	if (s[0] == '.' || s[n - 1] == '.' || memmem(s, n, "..", 2) != NULL)
		return parse_fail(p, line, "empty part in name '%.*s'",
		    (int)n, s);
	return 0;
}

/* Read the tag whose "{{" is at offset t into *tag. */
static int tag_read(struct parser *p, size_t t, unsigned line,
    struct tag *tag)
{
	const char *src = p->src, *close, *bar;
	size_t b = t + 2, e;
	char sh[200];

	memset(tag, 0, sizeof(*tag));
	if (b < p->len && src[b] == '{')
		return parse_fail(p, line, "'{{{' is not supported: "
		    "every value is escaped");
	close = b < p->len ? memmem(src + b, p->len - b, "}}", 2) : NULL;
	if (close == NULL)
		return parse_fail(p, line, "unclosed tag: '{{' without '}}'");
	e = (size_t)(close - src);
	tag->end = e + 2;
	while (b < e && is_space(src[b]))
		b++;
	tag->kind = TAG_VAR;
	if (b < e) {
		switch (src[b]) {
		case '!':
			tag->kind = TAG_COMMENT;
			return 0;
		case '#': tag->kind = TAG_SECTION; b++; break;
		case '^': tag->kind = TAG_INVERTED; b++; break;
		case '/': tag->kind = TAG_CLOSE; b++; break;
		case '>': tag->kind = TAG_PARTIAL; b++; break;
		case '&':
			return parse_fail(p, line, "'{{&' is not supported: "
			    "every value is escaped");
		case '=':
			return parse_fail(p, line,
			    "delimiter changes '{{=' are not supported");
		default:
			break;
		}
	}
	while (b < e && is_space(src[b]))
		b++;
	while (e > b && is_space(src[e - 1]))
		e--;
	tag->name = src + b;
	tag->namelen = e - b;

	bar = memchr(src + b, '|', e - b);
	if (bar != NULL) {
		size_t fb = (size_t)(bar - src) + 1, nb = (size_t)(bar - src);
		if (tag->kind != TAG_VAR)
			return parse_fail(p, line,
			    "a filter is allowed only on a value");
		while (fb < e && is_space(src[fb]))
			fb++;
		while (nb > b && is_space(src[nb - 1]))
			nb--;
		if (fb == e)
			return parse_fail(p, line, "missing filter after '|'");
		if (e - fb != 3 || memcmp(src + fb, "url", 3) != 0)
			return parse_fail(p, line, "unknown filter '%s'",
			    show(sh, sizeof(sh), src + fb, e - fb));
		tag->url = 1;
		tag->namelen = nb - b;
	}
	return name_check(p, line, tag);
}

/* The node for a value or section name: its segments go to the pool. */
static int name_node(struct parser *p, unsigned line, enum node_kind kind,
    const struct tag *tag)
{
	struct node *n;
	size_t off, i;
	unsigned nseg = 0;

	if (!(tag->namelen == 1 && tag->name[0] == '.')) {
		off = pool_add(p, tag->name, tag->namelen);
		if (off == (size_t)-1 || pool_add(p, "", 1) == (size_t)-1)
			return parse_fail(p, line, "out of memory");
		nseg = 1;
		for (i = off; i < off + tag->namelen; i++) {
			if (p->t->pool[i] == '.') {
				p->t->pool[i] = '\0';
				nseg++;
			}
		}
	} else {
		off = 0;        /* the pool's leading "" */
	}
	if ((n = node_add(p)) == NULL)
		return parse_fail(p, line, "out of memory");
	n->kind = kind;
	n->line = line;
	n->nseg = nseg;
	n->off = off;
	n->len = tag->namelen;
	return 0;
}

/* Add what the tag means to the node array. */
static int tag_apply(struct parser *p, unsigned line, const struct tag *tag)
{
	struct open_section *o;
	struct node *n;
	size_t off;

	if (tag->kind != TAG_COMMENT)
		p->joinable = 0;
	switch (tag->kind) {
	case TAG_COMMENT:
		return 0;
	case TAG_VAR:
		return name_node(p, line, tag->url ? NODE_URL : NODE_VAR, tag);
	case TAG_SECTION:
	case TAG_INVERTED:
		if (p->nopen == TMPL_MAX_NESTING)
			return parse_fail(p, line,
			    "sections nested deeper than %d",
			    TMPL_MAX_NESTING);
		if (name_node(p, line, tag->kind == TAG_SECTION ?
		    NODE_SECTION : NODE_INVERTED, tag) < 0)
			return -1;
		o = &p->open[p->nopen++];
		o->node = p->t->nnodes - 1;
		o->name = tag->name;
		o->namelen = tag->namelen;
		o->line = line;
		return 0;
	case TAG_CLOSE:
		if (p->nopen == 0)
			return parse_fail(p, line,
			    "'{{/%.*s}}' closes no open section",
			    (int)tag->namelen, tag->name);
		o = &p->open[p->nopen - 1];
		if (o->namelen != tag->namelen ||
		    memcmp(o->name, tag->name, o->namelen) != 0)
			return parse_fail(p, line,
			    "'{{/%.*s}}' does not close '%.*s' opened on line %u",
			    (int)tag->namelen, tag->name,
			    (int)o->namelen, o->name, o->line);
		p->t->nodes[o->node].end = p->t->nnodes;
		p->nopen--;
		return 0;
	case TAG_PARTIAL:
		if (tag->name[0] == '*') {
			struct tag sub = *tag;
			sub.name = tag->name + 1;
			sub.namelen = tag->namelen - 1;
			return name_node(p, line, NODE_DYNAMIC, &sub);
		}
		off = pool_add(p, tag->name, tag->namelen);
		if (off == (size_t)-1 || pool_add(p, "", 1) == (size_t)-1 ||
		    (n = node_add(p)) == NULL)
			return parse_fail(p, line, "out of memory");
		n->kind = tag->namelen == 7 && memcmp(tag->name, "content", 7) == 0 ?
		    NODE_CONTENT : NODE_PARTIAL;
		n->line = line;
		n->off = off;
		n->len = tag->namelen;
		return 0;
	}
	return parse_fail(p, line, "internal error: tag kind %d", tag->kind);
}

/* The mustache "standalone" rule: when the tag at [t, end) is alone on its
 * line with blanks, the line's blanks and newline go too.  text is where the
 * pending text starts (just past the previous tag).  Sets *cut (end of the
 * text before the tag) and *resume (where text starts again). */
static void standalone(const struct parser *p, size_t text, size_t t,
    size_t end, size_t *cut, size_t *resume)
{
	const char *s = p->src;
	size_t ls = t, e = end;

	while (ls > text && (s[ls - 1] == ' ' || s[ls - 1] == '\t'))
		ls--;
	if (ls > 0 && s[ls - 1] != '\n')
		return;
	while (e < p->len && (s[e] == ' ' || s[e] == '\t'))
		e++;
	if (e < p->len) {
		if (s[e] == '\n')
			e++;
		else if (s[e] == '\r' && e + 1 < p->len && s[e + 1] == '\n')
			e += 2;
		else
			return;
	}
	*cut = ls;
	*resume = e;
}

static int parse(struct parser *p)
{
	size_t pos = 0, text = 0;
	struct tag tag;

	while (pos + 1 < p->len) {
		const char *o = memmem(p->src + pos, p->len - pos, "{{", 2);
		size_t t, cut, resume;
		unsigned line;

		if (o == NULL)
			break;
		t = (size_t)(o - p->src);
		line = line_at(p, t);
		if (tag_read(p, t, line, &tag) < 0)
			return -1;
		cut = t;
		resume = tag.end;
		if (tag.kind != TAG_VAR)
			standalone(p, text, t, tag.end, &cut, &resume);
		if (emit_text(p, text, cut) < 0 || tag_apply(p, line, &tag) < 0)
			return -1;
		text = pos = resume;
	}
	if (emit_text(p, text, p->len) < 0)
		return -1;
	if (p->nopen > 0) {
		struct open_section *o = &p->open[p->nopen - 1];
		return parse_fail(p, o->line, "unclosed section '%.*s'",
		    (int)o->namelen, o->name);
	}
	return 0;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Parse text[0..len) as template `name` and add it to the set; `file` names
 * it in messages (NULL: the name).  The text need not be NUL-terminated and
 * is copied.  On error returns -1, writes "file:line: message" (or
 * "file: message" when no line applies: duplicate name, out of memory) into
 * err, and leaves the set unchanged.
 */
int tmpl_add(struct tmpl_set *set, const char *name, const char *file,
    const char *text, size_t len, char *err, size_t errlen)
{
	struct parser p;
	struct tmpl *t, **v;
	size_t pos = 0;

	if (file == NULL)
		file = name != NULL ? name : "(template)";
	if (set == NULL || name == NULL || (text == NULL && len > 0)) {
		set_err(err, errlen, "%s: invalid arguments", file);
		return -1;
	}
	if (set_search(set, name, &pos) >= 0) {
		set_err(err, errlen, "%s: template '%s' is already defined",
		    file, name);
		return -1;
	}
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		v = realloc(set->tmpls, cap * sizeof(*v));
		if (v == NULL) {
			set_err(err, errlen, "%s: out of memory", file);
			return -1;
		}
		set->tmpls = v;
		set->cap = cap;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->name = strdup(name)) == NULL ||
	    (t->file = strdup(file)) == NULL) {
		tmpl_free(t);
		set_err(err, errlen, "%s: out of memory", file);
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p.file = file;
	p.src = text;
	p.len = len;
	p.t = t;
	p.line = 1;
	p.err = err;
	p.errlen = errlen;
	/* The pool starts with "" so that it exists even for a template
	 * without text or names, and "." has a name to point at. */
	if (pool_add(&p, "", 1) == (size_t)-1) {
		tmpl_free(t);
		set_err(err, errlen, "%s: out of memory", file);
		return -1;
	}
	if (parse(&p) < 0) {
		tmpl_free(t);
		return -1;
	}
	memmove(set->tmpls + pos + 1, set->tmpls + pos,
	    (set->n - pos) * sizeof(*set->tmpls));
	set->tmpls[pos] = t;
	set->n++;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read a regular file of at most TMPL_MAX_FILE bytes into malloc'd memory. */
static int file_read(const char *path, char **text, size_t *len,
    char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0, size;
	char *data;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > TMPL_MAX_FILE) {
		set_err(err, errlen, "%s: %s", path, S_ISREG(st.st_mode) ?
		    "larger than 1 MiB" : "not a regular file");
		close(fd);
		return -1;
	}
	size = (size_t)st.st_size;
	data = malloc(size ? size : 1);
	if (data == NULL) {
		set_err(err, errlen, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	while (got < size) {
		ssize_t n = read(fd, data + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_err(err, errlen, "%s: %s", path, strerror(errno));
			free(data);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*text = data;
	*len = got;
	return 0;
}

/*
 * Add every *.html file of dir (sorted by name, not recursive, dot files
 * skipped) as prefix + basename-without-".html".  Messages name the file as
 * dir/basename.  On the first error returns -1 with the message in err; the
 * templates added before it stay in the set.
 */
int tmpl_add_dir(struct tmpl_set *set, const char *dir, const char *prefix,
    char *err, size_t errlen)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	if (set == NULL || dir == NULL) {
		set_err(err, errlen, "tmpl_add_dir: invalid arguments");
		return -1;
	}
	if (prefix == NULL)
		prefix = "";
	if ((d = opendir(dir)) == NULL) {
		set_err(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l <= 5 ||
		    strcmp(de->d_name + l - 5, ".html") != 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			char **nn = realloc(names, nc * sizeof(*nn));
			if (nn == NULL)
				goto oom;
			names = nn;
			cap = nc;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto oom;
		n++;
	}
	closedir(d);
	d = NULL;
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);

	for (i = 0; i < n && rc == 0; i++) {
		size_t dl = strlen(dir), bl = strlen(names[i]) - 5;
		const char *sep = dl > 0 && dir[dl - 1] == '/' ? "" : "/";
		char *path = NULL, *tname = NULL, *text = NULL;
		size_t len = 0;

		if (asprintf(&path, "%s%s%s", dir, sep, names[i]) < 0) {
			path = NULL;
			goto oom;
		}
		if (asprintf(&tname, "%s%.*s", prefix, (int)bl, names[i]) < 0) {
			free(path);
			goto oom;
		}
		rc = file_read(path, &text, &len, err, errlen);
		if (rc == 0)
			rc = tmpl_add(set, tname, path, text, len, err, errlen);
		free(text);
		free(tname);
		free(path);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
oom:
	if (d != NULL)
		closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	set_err(err, errlen, "%s: out of memory", dir);
	return -1;
}

/*
 * Check every {{>partial}}: it must name a template of the set, and
 * {{>content}} may appear only in the template named "layout".  Returns 0,
 * or -1 with "file:line: message" for the first problem.
 */
int tmpl_link(struct tmpl_set *set, char *err, size_t errlen)
{
	size_t i, j;

	if (set == NULL) {
		set_err(err, errlen, "tmpl_link: invalid arguments");
		return -1;
	}
	for (i = 0; i < set->n; i++) {
		const struct tmpl *t = set->tmpls[i];
		for (j = 0; j < t->nnodes; j++) {
			const struct node *n = &t->nodes[j];
			const char *pname = t->pool + n->off;
			if (n->kind == NODE_CONTENT) {
				if (strcmp(t->name, "layout") == 0)
					continue;
				set_err(err, errlen, "%s:%u: '{{>content}}' is "
				    "allowed only in the layout", t->file,
				    n->line);
				return -1;
			}
			if (n->kind == NODE_PARTIAL &&
			    set_find(set, pname) == NULL) {
				set_err(err, errlen,
				    "%s:%u: unknown partial '%s'", t->file,
				    n->line, pname);
				return -1;
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------ rendering */

struct ctx {
	struct json_object *obj;
	const struct ctx *up;
};

struct render {
	const struct tmpl_set *set;
	const struct tmpl *page;    /* what {{>content}} renders; may be NULL */
	struct buf *out;
	unsigned depth;             /* partials entered */
};

/* Resolve a name: "." is the innermost context; otherwise the first part is
 * looked up innermost first and the rest inside what it found.  NULL when
 * missing (or json null). */
static struct json_object *ctx_lookup(const struct ctx *c, const char *name,
    unsigned nseg)
{
	struct json_object *v = NULL;
	unsigned i;

	if (nseg == 0)
		return c->obj;
	for (; c != NULL; c = c->up) {
		if (json_object_is_type(c->obj, json_type_object) &&
		    json_object_object_get_ex(c->obj, name, &v))
			break;
	}
	if (c == NULL)
		return NULL;
	for (i = 1; i < nseg; i++) {
		name += strlen(name) + 1;
		if (!json_object_is_type(v, json_type_object) ||
		    !json_object_object_get_ex(v, name, &v))
			return NULL;
	}
	return v;
}

/* Falsy: missing, null, false, 0, 0.0, "", empty array. */
static int value_truthy(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return 0;
	case json_type_boolean:
		return json_object_get_boolean(v);
	case json_type_int:
		return json_object_get_int64(v) != 0;
	case json_type_double:
		return json_object_get_double(v) != 0.0;
	case json_type_string:
		return json_object_get_string_len(v) > 0;
	case json_type_array:
		return json_object_array_length(v) > 0;
	case json_type_object:
		return 1;
	}
	return 0;
}

/* Decimal digits of u ending at end (exclusive); returns the first. */
static char *format_u64(char *end, uint64_t u)
{
	do {
		*--end = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	return end;
}

/* Append a value escaped for HTML (or a URL component).  Numbers are
 * formatted here, not by json-c, which would cache text in the object. */
static void value_write(struct buf *out, struct json_object *v, int url)
{
	char num[64], *q;
	const char *s;
	size_t len;
	int64_t i;
	double d;
	int k;

	switch (json_object_get_type(v)) {
	case json_type_string:
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		break;
	case json_type_boolean:
		s = json_object_get_boolean(v) ? "true" : "false";
		len = strlen(s);
		break;
	case json_type_int:
		i = json_object_get_int64(v);
		if (i == INT64_MAX)             /* maybe a larger uint64 */
			q = format_u64(num + sizeof(num),
			    json_object_get_uint64(v));
		else if (i < 0)
			q = format_u64(num + sizeof(num), 0 - (uint64_t)i);
		else
			q = format_u64(num + sizeof(num), (uint64_t)i);
		if (i < 0)
			*--q = '-';
		s = q;
		len = (size_t)(num + sizeof(num) - q);
		break;
	case json_type_double:
		d = json_object_get_double(v);
		k = snprintf(num, sizeof(num), "%.15g", d);
		if (k > 0 && strtod(num, NULL) != d)
			k = snprintf(num, sizeof(num), "%.17g", d);
		s = num;
		len = k > 0 ? (size_t)k : 0;
		break;
	default:
		return;
	}
	if (url)
		buf_add_url(out, s, len);
	else
		buf_add_html(out, s, len);
}

static int render_nodes(struct render *r, const struct tmpl *t, size_t from,
    size_t to, const struct ctx *c);

/* Render a whole template as a partial, one level deeper. */
static int render_partial(struct render *r, const struct tmpl *pt,
    const struct ctx *c)
{
	int rc;

	if (r->depth >= TMPL_MAX_DEPTH)
		return -1;
	r->depth++;
	rc = render_nodes(r, pt, 0, pt->nnodes, c);
	r->depth--;
	return rc;
}

static int render_nodes(struct render *r, const struct tmpl *t, size_t from,
    size_t to, const struct ctx *c)
{
	size_t i = from;

	while (i < to) {
		const struct node *n = &t->nodes[i];
		const char *str = t->pool + n->off;
		struct json_object *v;
		struct ctx sub;
		const struct tmpl *pt;

		if (r->out->failed)
			return -1;
		switch (n->kind) {
		case NODE_TEXT:
			buf_add(r->out, str, n->len);
			break;
		case NODE_VAR:
		case NODE_URL:
			value_write(r->out, ctx_lookup(c, str, n->nseg),
			    n->kind == NODE_URL);
			break;
		case NODE_SECTION:
			v = ctx_lookup(c, str, n->nseg);
			sub.up = c;
			if (!value_truthy(v)) {
				/* skipped */
			} else if (json_object_is_type(v, json_type_array)) {
				size_t k, len = json_object_array_length(v);
				for (k = 0; k < len; k++) {
					sub.obj = json_object_array_get_idx(v, k);
					if (render_nodes(r, t, i + 1, n->end,
					    &sub) < 0)
						return -1;
				}
			} else {
				sub.obj = v;
				if (render_nodes(r, t, i + 1, n->end, &sub) < 0)
					return -1;
			}
			i = n->end;
			continue;
		case NODE_INVERTED:
			if (!value_truthy(ctx_lookup(c, str, n->nseg)) &&
			    render_nodes(r, t, i + 1, n->end, c) < 0)
				return -1;
			i = n->end;
			continue;
		case NODE_PARTIAL:
			if ((pt = set_find(r->set, str)) == NULL ||
			    render_partial(r, pt, c) < 0)
				return -1;
			break;
		case NODE_CONTENT:
			if (r->page != NULL && render_partial(r, r->page, c) < 0)
				return -1;
			break;
		case NODE_DYNAMIC: {
			/* Missing or null: nothing.  A string: that template,
			 * which must exist.  Anything else is an error. */
			struct json_object *dn = ctx_lookup(c, str, n->nseg);
			if (dn == NULL)
				break;
			if (!json_object_is_type(dn, json_type_string) ||
			    (pt = set_find(r->set, json_object_get_string(dn))) == NULL ||
			    render_partial(r, pt, c) < 0)
				return -1;
			break;
		}
		}
		i++;
	}
	return r->out->failed ? -1 : 0;
}

/* Render `name` (with `page` in its content slot when not NULL).  On
 * failure the output is cut back to where it was. */
static int render_top(const struct tmpl_set *set, const char *name,
    const char *page, struct json_object *view, struct buf *out)
{
	const struct tmpl *t, *pt = NULL;
	struct render r;
	struct ctx root;
	size_t start;

	if (set == NULL || name == NULL || out == NULL || out->failed)
		return -1;
	if ((t = set_find(set, name)) == NULL)
		return -1;
	if (page != NULL && (pt = set_find(set, page)) == NULL)
		return -1;
	start = out->len;
	root.obj = view;
	root.up = NULL;
	r.set = set;
	r.page = pt;
	r.out = out;
	r.depth = 0;
	if (render_nodes(&r, t, 0, t->nnodes, &root) < 0 || out->failed) {
		out->len = start;
		if (out->data != NULL && start < out->cap)
			out->data[start] = '\0';
		return -1;
	}
	return 0;
}

/*
 * Render template `name` with `view` and append it to out.  Returns 0, or
 * -1 when the template (or a partial) does not exist, partials nest deeper
 * than 32, or out failed; then out is cut back to its length before the call
 * (a failed buffer stays failed).  The set is only read.
 */
int tmpl_render(const struct tmpl_set *set, const char *name,
    struct json_object *view, struct buf *out)
{
	return render_top(set, name, NULL, view, out);
}

/*
 * Render `layout` where {{>content}} renders template `page`, both with
 * `view`; the page counts as one partial level.  Errors as tmpl_render().
 */
int tmpl_render_page(const struct tmpl_set *set, const char *layout,
    const char *page, struct json_object *view, struct buf *out)
{
	if (page == NULL)
		return -1;
	return render_top(set, layout, page, view, out);
}
