/*
 * bbox.c: the task type "Object detection (bounding boxes)".
 *
 * Zero or more boxes per image, each with one label and pixel coordinates
 * inside the image (origin top-left), or the explicit answer "no objects".
 * The annotation is
 *   {"boxes": [{"label": id, "x": X, "y": Y, "w": W, "h": H}, ...],
 *    "no_objects": false|true}
 *
 * Form fields (see docs/task-plugins.md):
 *   box        "x,y,w,h,label_id", one per box drawn so far (repeated)
 *   label      the class for the next box (radio buttons)
 *   noobjects  "1": the image shows none of the classes
 *   pt.x pt.y  a click on <input type="image" name="pt"> (no JavaScript),
 *              in CSS pixels of the image as the page showed it
 *   zoom       how the page showed the image: "fit" or a percentage
 *   zoomto     show the image at this zoom instead (the zoom buttons)
 *   corner     "x,y,w,h": the image pixels under the first click,
 *              waiting for the second ("x,y" is one pixel)
 *   remove     a box's index, or "corner" to forget the first corner
 * A click, a zoom or a remove is an intermediate step (parse_form returns 1
 * and editor_view shows the result); anything else is the answer.
 *
 * Without JavaScript the server chooses the displayed size (bbox_display):
 * "fit" shows the whole image within FIT_WIDTH x FIT_HEIGHT CSS pixels and
 * at most FIT_UPSCALE times its natural size; a click is mapped back to
 * the image pixels under it (bbox_unscale), so boxes are always image
 * pixels.  docs/labeling.md states the rules.
 *
 * Uses only <labeld/plugin.h> and json-c.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include <labeld/plugin.h>
#include <labeld/plugin-util.h>

#define PLUGIN_NAME "bbox"

#define DEFAULT_MIN_BOX_SIZE 4
#define DEFAULT_MAX_BOXES 500
#define CONFIG_MAX 100000

/* Longest accepted values: a box is five numbers and commas. */
#define BOX_VALUE_MAX 128
#define INT_MAX_DIGITS 10       /* pixel positions (uint32) */
#define FRAC_MAX_DIGITS 17
/* Slack for floating-point sums (x + w) only; no pixel tolerance. */
#define EPS 1e-6

/* The image as shown without JavaScript, in CSS pixels: "fit" within
 * FIT_WIDTH x FIT_HEIGHT (beside the class list in a 1280 x 900 window),
 * never more than FIT_UPSCALE times the natural size; the zoom levels are
 * percentages of the natural size, offered while the longer displayed side
 * stays within ZOOM_MAX_SIDE. */
#define FIT_WIDTH 800
#define FIT_HEIGHT 600
#define FIT_UPSCALE 2
#define ZOOM_MAX_SIDE 16384
#define ZOOM_FIT 0u
static const unsigned zoom_levels[] = { 50, 100, 200, 400 };
#define NZOOM (sizeof(zoom_levels) / sizeof(zoom_levels[0]))
/* Box captions are about this many CSS pixels high as shown. */
#define CAPTION_PX 14

#define REMOVE_NONE (-1L)
#define REMOVE_CORNER (-2L)

static const struct labeld_host *host;
/* Read from the configuration when labeld loads the plugin. */
static unsigned min_box_size = DEFAULT_MIN_BOX_SIZE;
static unsigned max_boxes = DEFAULT_MAX_BOXES;

static const char msg_shape[] =
    "The annotation is not {\"boxes\": [{\"label\", \"x\", \"y\", \"w\", \"h\"}], \"no_objects\"}.";
static const char msg_need_box[] = "Draw at least one box, or tick \u201cNo objects\u201d.";
static const char msg_box_and_none[] =
    "You ticked \u201cNo objects\u201d but drew boxes: remove the boxes or untick it.";
static const char msg_zoom[] = "That zoom is not one of the choices for this image.";

struct bbox_box {
	double x, y, w, h;
	int64_t label;
	/* The numbers as text, exactly as they are sent again and stored. */
	const char *sx, *sy, *sw, *sh;
};

/* A label id and its index in the project's labels, sorted by id. */
struct bbox_label_ref {
	int64_t id;
	size_t index;
};

struct bbox_labels {
	const struct labeld_label *labels;
	struct bbox_label_ref *byid;
	size_t n;
};

/* What a form says, and the editor's state after its step. */
struct bbox_form {
	struct bbox_box *boxes;
	size_t nboxes, cap;
	int64_t label;          /* class for the next box; 0: none chosen */
	int noobjects;
	int has_corner;
	uint32_t cx, cy, cw, ch; /* the image pixels under the first click */
	int has_pt;
	uint32_t px, py;        /* a click, in displayed pixels */
	unsigned zoom;          /* as the page showed it: ZOOM_FIT or a percentage */
	int has_zoomto;
	unsigned zoomto;        /* the zoom asked for */
	int made;               /* the step made the last box */
	long remove;            /* a box index, REMOVE_NONE or REMOVE_CORNER */
};

/* ------------------------------------------------------------ helpers */

/* A sentence in ctx memory; a fixed fallback when out of memory. */
static const char *bbox_msg(struct labeld_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *bbox_msg(struct labeld_ctx *ctx, const char *fmt, ...)
{
	char *s = host->alloc(ctx, 256);
	va_list ap;

	if (s == NULL)
		return "The boxes are not valid.";
	va_start(ap, fmt);
	vsnprintf(s, 256, fmt, ap);
	va_end(ap);
	return s;
}

/* Parse a pixel position: 1..10 digits, no leading zeros, at most
 * UINT32_MAX.  Returns 0 with *out set, or -1. */
static int bbox_parse_uint(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;

	if (s == NULL || len == 0 || len > INT_MAX_DIGITS || (len > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/*
 * Parse a plain decimal number of at least 0: digits (no leading zeros, at
 * most 10), optionally a point and 1..17 digits.  No sign, exponent, space,
 * "nan" or "inf".  Independent of the locale.  Returns 0 or -1.
 */
static int bbox_parse_number(const char *s, size_t len, double *out)
{
	uint64_t ip = 0, fp = 0, scale = 1;
	size_t i = 0, nint, nfrac;

	while (i < len && s[i] >= '0' && s[i] <= '9')
		ip = ip * 10 + (uint64_t)(s[i++] - '0');
	nint = i;
	if (nint == 0 || nint > INT_MAX_DIGITS || (nint > 1 && s[0] == '0'))
		return -1;
	if (i == len) {
		*out = (double)ip;
		return 0;
	}
	if (s[i++] != '.')
		return -1;
	for (nfrac = 0; i < len; i++, nfrac++) {
		if (s[i] < '0' || s[i] > '9' || nfrac == FRAC_MAX_DIGITS)
			return -1;
		fp = fp * 10 + (uint64_t)(s[i] - '0');
		scale *= 10;
	}
	if (nfrac == 0)
		return -1;
	*out = (double)ip + (double)fp / (double)scale;
	return 0;
}

/* A number as short text for the view: at most two decimals, no trailing
 * zeros.  ctx memory; NULL when out of memory. */
static const char *bbox_fmt(struct labeld_ctx *ctx, double v)
{
	char *s = host->alloc(ctx, 40), *e;

	if (s == NULL)
		return NULL;
	snprintf(s, 40, "%.2f", v);
	e = s + strlen(s);
	while (e > s && e[-1] == '0')
		*--e = '\0';
	if (e > s && e[-1] == '.')
		*--e = '\0';
	if (strcmp(s, "-0") == 0)
		strcpy(s, "0");
	return s;
}

static const char *bbox_fmt_uint(struct labeld_ctx *ctx, uint32_t v)
{
	char *s = host->alloc(ctx, 16);

	if (s != NULL)
		snprintf(s, 16, "%u", (unsigned)v);
	return s;
}

static int bbox_cmp_ref(const void *a, const void *b)
{
	int64_t x = ((const struct bbox_label_ref *)a)->id;
	int64_t y = ((const struct bbox_label_ref *)b)->id;

	return (x > y) - (x < y);
}

/* Index the labels by id (ctx memory).  Returns 0, or -1 out of memory. */
static int bbox_labels_index(struct labeld_ctx *ctx, const struct labeld_label *labels,
    size_t nlabels, struct bbox_labels *out)
{
	out->labels = labels;
	out->n = nlabels;
	out->byid = NULL;
	if (nlabels == 0)
		return 0;
	out->byid = host->alloc(ctx, nlabels * sizeof(*out->byid));
	if (out->byid == NULL)
		return -1;
	for (size_t i = 0; i < nlabels; i++) {
		out->byid[i].id = labels[i].id;
		out->byid[i].index = i;
	}
	qsort(out->byid, nlabels, sizeof(*out->byid), bbox_cmp_ref);
	return 0;
}

/* The label with this id, or NULL. */
static const struct labeld_label *bbox_labels_find(const struct bbox_labels *l, int64_t id)
{
	struct bbox_label_ref key = { .id = id }, *r;

	if (l->n == 0)
		return NULL;
	r = bsearch(&key, l->byid, l->n, sizeof(key), bbox_cmp_ref);
	return r != NULL ? &l->labels[r->index] : NULL;
}

/*
 * Check a box's geometry against the item: finite, x,y >= 0, w,h at least
 * min_box_size, inside the image.  n is the 1-based number for messages.
 * Returns 0, or -1 with *error.
 */
static int bbox_check_geometry(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct bbox_box *b, size_t n, const char **error)
{
	double W = item->width, H = item->height;

	if (!isfinite(b->x) || !isfinite(b->y) || !isfinite(b->w) || !isfinite(b->h) ||
	    b->x < 0 || b->y < 0 || b->w < 0 || b->h < 0) {
		*error = bbox_msg(ctx, "Box %zu has a coordinate that is not a number of at least 0.", n);
		return -1;
	}
	if (b->w + EPS < min_box_size || b->h + EPS < min_box_size) {
		*error = bbox_msg(ctx, "Box %zu is smaller than the minimum of %u \u00d7 %u pixels.",
		    n, min_box_size, min_box_size);
		return -1;
	}
	if (b->x + b->w > W + EPS || b->y + b->h > H + EPS) {
		*error = bbox_msg(ctx, "Box %zu reaches outside the image (%u \u00d7 %u pixels).",
		    n, (unsigned)item->width, (unsigned)item->height);
		return -1;
	}
	return 0;
}

/*
 * Parse a box field "x,y,w,h,label" into *b (number texts copied to ctx
 * memory) and check it against the item and the labels.  n is the 1-based
 * number for messages.  Returns 0, or -1 with *error.
 */
static int bbox_parse_box(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct bbox_labels *labels, const char *value, size_t n,
    struct bbox_box *b, const char **error)
{
	const char *part[5];
	size_t plen[5], len, k = 0;
	double *num[4] = { &b->x, &b->y, &b->w, &b->h };
	const char **txt[4] = { &b->sx, &b->sy, &b->sw, &b->sh };
	char *copy;

	len = value != NULL ? strnlen(value, BOX_VALUE_MAX + 1) : 0;
	if (len == 0 || len > BOX_VALUE_MAX)
		goto form;
	part[0] = value;
	for (size_t i = 0; i < len; i++) {
		if (value[i] != ',')
			continue;
		if (k == 4)
			goto form;
		plen[k] = (size_t)(value + i - part[k]);
		part[++k] = value + i + 1;
	}
	if (k != 4)
		goto form;
	plen[4] = (size_t)(value + len - part[4]);
	for (k = 0; k < 4; k++) {
		if (bbox_parse_number(part[k], plen[k], num[k]) != 0) {
			*error = bbox_msg(ctx,
			    "Box %zu has a coordinate that is not a number of at least 0.", n);
			return -1;
		}
	}
	if (labeld_parse_id_n(part[4], plen[4], &b->label) != 0 ||
	    bbox_labels_find(labels, b->label) == NULL) {
		*error = bbox_msg(ctx, "Box %zu has a label that is not one of this project's labels.", n);
		return -1;
	}
	if (bbox_check_geometry(ctx, item, b, n, error) != 0)
		return -1;
	copy = host->alloc(ctx, len + 1);
	if (copy == NULL) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	memcpy(copy, value, len + 1);
	for (k = 0; k < 4; k++) {
		copy[part[k] - value + plen[k]] = '\0';
		*txt[k] = copy + (part[k] - value);
	}
	return 0;
form:
	*error = bbox_msg(ctx, "Box %zu is not of the form x,y,width,height,label.", n);
	return -1;
}

/*
 * Parse a first corner "x,y,w,h" (the image pixels under a click: at least
 * one, all inside the image) or "x,y" (one pixel).  Returns 0 or -1.
 */
static int bbox_parse_corner(const struct labeld_item *item, const char *s,
    uint32_t v[4])
{
	size_t len = s != NULL ? strnlen(s, 48) : 0, k = 0, start = 0;

	if (len == 0 || len >= 48)
		return -1;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != ',')
			continue;
		if (k == 4 || bbox_parse_uint(s + start, i - start, &v[k++]) != 0)
			return -1;
		start = i + 1;
	}
	if (k == 2)
		v[2] = v[3] = 1;
	else if (k != 4 || v[2] == 0 || v[3] == 0)
		return -1;
	return v[0] < item->width && v[1] < item->height &&
	    v[2] <= item->width - v[0] && v[3] <= item->height - v[1] ? 0 : -1;
}

/*
 * The size in CSS pixels at which the editor shows the item with zoom
 * (ZOOM_FIT or a percentage of the natural size): each side rounded, at
 * least 1.  Fit: the whole image within FIT_WIDTH x FIT_HEIGHT, at most
 * FIT_UPSCALE times the natural size.
 */
static void bbox_display(const struct labeld_item *item, unsigned zoom,
    uint64_t *dw, uint64_t *dh)
{
	uint64_t w = item->width > 0 ? item->width : 1, h = item->height > 0 ? item->height : 1;
	uint64_t num = zoom, den = 100;

	if (zoom == ZOOM_FIT) {
		if (w * FIT_HEIGHT >= h * FIT_WIDTH) {
			num = FIT_WIDTH;        /* the width limits */
			den = w;
		} else {
			num = FIT_HEIGHT;
			den = h;
		}
		if (num > FIT_UPSCALE * den) {
			num = FIT_UPSCALE;
			den = 1;
		}
	}
	*dw = (w * num + den / 2) / den;
	*dh = (h * num + den / 2) / den;
	if (*dw == 0)
		*dw = 1;
	if (*dh == 0)
		*dh = 1;
}

/* Whether the editor offers zoom for this item: fit, or a level whose
 * longer displayed side is at most ZOOM_MAX_SIDE. */
static int bbox_zoom_offered(const struct labeld_item *item, unsigned zoom)
{
	uint64_t dw, dh;
	size_t i;

	if (zoom == ZOOM_FIT)
		return 1;
	for (i = 0; i < NZOOM && zoom_levels[i] != zoom; i++)
		;
	if (i == NZOOM)
		return 0;
	bbox_display(item, zoom, &dw, &dh);
	return dw <= ZOOM_MAX_SIDE && dh <= ZOOM_MAX_SIDE;
}

/* Parse a zoom: "fit" or a percentage the editor offers for this item.
 * Returns 0 with *zoom set, or -1. */
static int bbox_parse_zoom(const struct labeld_item *item, const char *s, unsigned *zoom)
{
	uint32_t v;

	if (s != NULL && strcmp(s, "fit") == 0) {
		*zoom = ZOOM_FIT;
		return 0;
	}
	if (s == NULL || bbox_parse_uint(s, strnlen(s, INT_MAX_DIGITS + 1), &v) != 0 ||
	    v == ZOOM_FIT || !bbox_zoom_offered(item, v))
		return -1;
	*zoom = v;
	return 0;
}

/*
 * The image pixels [*lo, *hi) under displayed pixel p (p < d) of a side of
 * n image pixels shown as d CSS pixels: every pixel the click touches, at
 * least one.  At 100 % and above that is the one pixel under the click.
 */
static void bbox_unscale(uint64_t p, uint64_t n, uint64_t d, uint32_t *lo, uint32_t *hi)
{
	*lo = (uint32_t)(p * n / d);
	*hi = (uint32_t)(((p + 1) * n + d - 1) / d);
}

/* ------------------------------------------------------------ the form */

/*
 * Read a form into *f.  strict: the first field that is malformed, out of
 * range, unknown or repeated where it may not be is an error (parse_form);
 * otherwise such fields are skipped (editor_view shows what it can).  Fields
 * of other names are ignored.  Returns 0, or -1 with *error.
 */
static int bbox_form_read(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct bbox_labels *labels, const struct labeld_field *fields, size_t nfields,
    int strict, struct bbox_form *f, const char **error)
{
	int seen_label = 0, seen_noobjects = 0, seen_corner = 0, seen_px = 0, seen_py = 0;
	int good_px = 0, good_py = 0, seen_zoom = 0, seen_zoomto = 0;
	const char *remove = NULL;
	size_t count;
	uint64_t dw, dh;
	uint32_t corner[4];

	memset(f, 0, sizeof(*f));
	f->remove = REMOVE_NONE;
	count = labeld_field_count(fields, nfields, "box");
	if (strict && count > max_boxes) {
		*error = bbox_msg(ctx, "At most %u boxes are allowed per image.", max_boxes);
		return -1;
	}
	if (count > max_boxes)
		count = max_boxes;
	/* One spare slot for the box a second click creates. */
	f->cap = count + 1;
	f->boxes = host->alloc(ctx, f->cap * sizeof(*f->boxes));
	if (f->boxes == NULL) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	for (size_t i = 0; i < nfields; i++) {
		const char *name = fields[i].name, *value = fields[i].value;
		uint32_t u;
		int64_t id;

		if (name == NULL)
			continue;
		if (value == NULL)
			value = "";
		if (strcmp(name, "box") == 0) {
			if (f->nboxes == count)
				continue;       /* lenient: beyond the limit */
			if (bbox_parse_box(ctx, item, labels, value, f->nboxes + 1,
			    &f->boxes[f->nboxes], error) == 0)
				f->nboxes++;
			else if (strict)
				return -1;
		} else if (strcmp(name, "label") == 0) {
			if (seen_label++ && strict) {
				*error = "Choose only one class.";
				return -1;
			}
			if (labeld_parse_id(value, &id) == 0 &&
			    bbox_labels_find(labels, id) != NULL)
				f->label = id;
			else if (strict) {
				*error = "That class is not one of this project's labels.";
				return -1;
			}
		} else if (strcmp(name, "noobjects") == 0) {
			if ((seen_noobjects++ || strcmp(value, "1") != 0) && strict) {
				*error = "The \u201cNo objects\u201d answer is not valid.";
				return -1;
			}
			if (strcmp(value, "1") == 0)
				f->noobjects = 1;
		} else if (strcmp(name, "corner") == 0) {
			if (seen_corner++ && strict) {
				*error = "The first corner was sent twice.";
				return -1;
			}
			if (bbox_parse_corner(item, value, corner) == 0) {
				f->has_corner = 1;
				f->cx = corner[0];
				f->cy = corner[1];
				f->cw = corner[2];
				f->ch = corner[3];
			} else if (strict) {
				*error = "The first corner is not a point of the image.";
				return -1;
			}
		} else if (strcmp(name, "zoom") == 0 || strcmp(name, "zoomto") == 0) {
			int to = name[4] == 't';
			unsigned z;
			int bad = (to ? seen_zoomto++ : seen_zoom++) != 0 ||
			    bbox_parse_zoom(item, value, &z) != 0;
			if (bad && strict) {
				*error = msg_zoom;
				return -1;
			}
			if (!bad && to) {
				f->zoomto = z;
				f->has_zoomto = 1;
			} else if (!bad) {
				f->zoom = z;
			}
		} else if (strcmp(name, "pt.x") == 0 || strcmp(name, "pt.y") == 0) {
			/* The range is checked below, against the zoom. */
			int is_x = name[3] == 'x';
			int bad = (is_x ? seen_px++ : seen_py++) != 0 ||
			    bbox_parse_uint(value, strnlen(value, INT_MAX_DIGITS + 1), &u) != 0;
			if (bad && strict) {
				*error = "The click was not on the image.";
				return -1;
			}
			if (!bad && is_x) {
				f->px = u;
				good_px = 1;
			} else if (!bad) {
				f->py = u;
				good_py = 1;
			}
		} else if (strcmp(name, "remove") == 0) {
			if (remove != NULL && strict) {
				*error = "Remove one box at a time.";
				return -1;
			}
			remove = value;
		}
	}
	bbox_display(item, f->zoom, &dw, &dh);
	f->has_pt = seen_px == 1 && seen_py == 1 && good_px && good_py && f->px < dw && f->py < dh;
	if (strict && (seen_px || seen_py) && !f->has_pt) {
		*error = "The click was not on the image.";
		return -1;
	}
	if (remove != NULL) {
		uint32_t idx;
		if (strcmp(remove, "corner") == 0)
			f->remove = REMOVE_CORNER;
		else if (bbox_parse_uint(remove, strnlen(remove, INT_MAX_DIGITS + 1), &idx) == 0 &&
		    idx < f->nboxes)
			f->remove = (long)idx;
		else if (strict) {
			*error = "There is no such box to remove.";
			return -1;
		}
	}
	if ((f->has_pt + f->has_zoomto + (f->remove != REMOVE_NONE)) > 1) {
		if (strict) {
			*error = "Make one change at a time.";
			return -1;
		}
		/* A remove first, then a zoom. */
		f->has_pt = 0;
		if (f->remove != REMOVE_NONE)
			f->has_zoomto = 0;
	}
	return 0;
}

/*
 * Apply the form's step (a click, a zoom or a remove) to its state.
 * Returns 0 when the form has no step (it is an answer), 1 when the step
 * was applied, or -1 with *error when the step is refused (the state is
 * then unchanged: boxes, the first corner and the zoom are kept).
 */
static int bbox_form_step(struct labeld_ctx *ctx, const struct labeld_item *item,
    struct bbox_form *f, const char **error)
{
	struct bbox_box *b;
	uint32_t x0, y0, x1, y1;
	uint64_t dw, dh;

	if (f->remove == REMOVE_CORNER) {
		f->has_corner = 0;
		return 1;
	}
	if (f->remove >= 0) {
		size_t i = (size_t)f->remove;
		memmove(&f->boxes[i], &f->boxes[i + 1], (f->nboxes - i - 1) * sizeof(*f->boxes));
		f->nboxes--;
		return 1;
	}
	if (f->has_zoomto) {
		f->zoom = f->zoomto;
		return 1;
	}
	if (!f->has_pt)
		return 0;
	if (f->nboxes >= max_boxes) {
		*error = bbox_msg(ctx, "At most %u boxes are allowed per image: remove one first.",
		    max_boxes);
		return -1;
	}
	/* The image pixels under the click: [x0, x1) x [y0, y1). */
	bbox_display(item, f->zoom, &dw, &dh);
	bbox_unscale(f->px, item->width, dw, &x0, &x1);
	bbox_unscale(f->py, item->height, dh, &y0, &y1);
	if (!f->has_corner) {
		f->has_corner = 1;
		f->cx = x0;
		f->cy = y0;
		f->cw = x1 - x0;
		f->ch = y1 - y0;
		return 1;
	}
	if (f->label == 0) {
		*error = "Choose the class of the box, then click its opposite corner again.";
		return -1;
	}
	/* The box covers every image pixel under both clicks. */
	x0 = f->cx < x0 ? f->cx : x0;
	y0 = f->cy < y0 ? f->cy : y0;
	x1 = f->cx + f->cw > x1 ? f->cx + f->cw : x1;
	y1 = f->cy + f->ch > y1 ? f->cy + f->ch : y1;
	if (x1 - x0 < min_box_size || y1 - y0 < min_box_size) {
		*error = bbox_msg(ctx, "A box must be at least %u \u00d7 %u pixels: "
		    "click its opposite corner again.", min_box_size, min_box_size);
		return -1;
	}
	b = &f->boxes[f->nboxes];
	b->x = x0;
	b->y = y0;
	b->w = x1 - x0;
	b->h = y1 - y0;
	b->label = f->label;
	b->sx = bbox_fmt_uint(ctx, x0);
	b->sy = bbox_fmt_uint(ctx, y0);
	b->sw = bbox_fmt_uint(ctx, x1 - x0);
	b->sh = bbox_fmt_uint(ctx, y1 - y0);
	if (b->sx == NULL || b->sy == NULL || b->sw == NULL || b->sh == NULL) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	f->nboxes++;
	f->has_corner = 0;
	f->made = 1;
	return 1;
}

/* ------------------------------------------------------------ json */

static struct json_object *bbox_json_str(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

/* The annotation for a form's boxes (ctx-owned); NULL with *error. */
static struct json_object *bbox_annotation_new(struct labeld_ctx *ctx,
    const struct bbox_form *f, const char **error)
{
	struct json_object *root = json_object_new_object(), *arr, *o;
	int bad = 0;

	if (root == NULL)
		return labeld_json_finish(host, ctx, NULL, 1, error);
	arr = json_object_new_array_ext((int)(f->nboxes < 1 ? 1 : f->nboxes));
	labeld_json_add(root, "boxes", arr, &bad);
	for (size_t i = 0; !bad && i < f->nboxes; i++) {
		const struct bbox_box *b = &f->boxes[i];
		o = json_object_new_object();
		labeld_json_append(arr, o, &bad);
		if (bad)
			break;
		/* The numbers serialise exactly as the form sent them. */
		labeld_json_add(o, "label", json_object_new_int64(b->label), &bad);
		labeld_json_add(o, "x", json_object_new_double_s(b->x, b->sx), &bad);
		labeld_json_add(o, "y", json_object_new_double_s(b->y, b->sy), &bad);
		labeld_json_add(o, "w", json_object_new_double_s(b->w, b->sw), &bad);
		labeld_json_add(o, "h", json_object_new_double_s(b->h, b->sh), &bad);
	}
	labeld_json_add(root, "no_objects", json_object_new_boolean(f->noobjects), &bad);
	return labeld_json_finish(host, ctx, root, bad, error);
}

/* A json number (integer or finite double) as a double; 0 or -1. */
static int bbox_json_number(struct json_object *v, double *out)
{
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);
		if (i < 0 || i == INT64_MAX)
			return -1;
		*out = (double)i;
		return 0;
	}
	if (json_object_is_type(v, json_type_double)) {
		*out = json_object_get_double(v);
		return isfinite(*out) ? 0 : -1;
	}
	return -1;
}

/*
 * The boxes of an annotation of the right shape (ctx memory): an object
 * with exactly "boxes" (an array of objects with exactly label, x, y, w, h)
 * and "no_objects" (a boolean); numbers finite and at least 0, label ids
 * > 0, at most max_boxes; "no objects" exactly when there is no box.
 * Geometry against an item is checked by the caller.  Returns 0, or -1
 * with *error.
 */
static int bbox_annotation_boxes(struct labeld_ctx *ctx, struct json_object *annotation,
    struct bbox_box **boxes, size_t *nboxes, const char **error)
{
	static const char *const keys[4] = { "x", "y", "w", "h" };
	struct json_object *arr, *none, *o, *v;
	struct bbox_box *bv;
	size_t n;

	*boxes = NULL;
	*nboxes = 0;
	if (!json_object_is_type(annotation, json_type_object) ||
	    json_object_object_length(annotation) != 2 ||
	    !json_object_object_get_ex(annotation, "boxes", &arr) ||
	    !json_object_is_type(arr, json_type_array) ||
	    !json_object_object_get_ex(annotation, "no_objects", &none) ||
	    !json_object_is_type(none, json_type_boolean)) {
		*error = msg_shape;
		return -1;
	}
	n = json_object_array_length(arr);
	if (n > max_boxes) {
		*error = bbox_msg(ctx, "The annotation has more than %u boxes.", max_boxes);
		return -1;
	}
	if (json_object_get_boolean(none) && n > 0) {
		*error = "The annotation says \u201cno objects\u201d but has boxes.";
		return -1;
	}
	if (!json_object_get_boolean(none) && n == 0) {
		*error = "The annotation has no boxes and does not say \u201cno objects\u201d.";
		return -1;
	}
	if (n == 0)
		return 0;
	bv = host->alloc(ctx, n * sizeof(*bv));
	if (bv == NULL) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		double *num[4] = { &bv[i].x, &bv[i].y, &bv[i].w, &bv[i].h };
		o = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(o, json_type_object) ||
		    json_object_object_length(o) != 5 ||
		    !json_object_object_get_ex(o, "label", &v) ||
		    !json_object_is_type(v, json_type_int) ||
		    (bv[i].label = json_object_get_int64(v)) <= 0 || bv[i].label == INT64_MAX) {
			*error = bbox_msg(ctx, "Box %zu of the annotation is not "
			    "{\"label\", \"x\", \"y\", \"w\", \"h\"}.", i + 1);
			return -1;
		}
		for (size_t k = 0; k < 4; k++) {
			if (!json_object_object_get_ex(o, keys[k], &v)) {
				*error = bbox_msg(ctx, "Box %zu of the annotation is not "
				    "{\"label\", \"x\", \"y\", \"w\", \"h\"}.", i + 1);
				return -1;
			}
			if (bbox_json_number(v, num[k]) != 0) {
				*error = bbox_msg(ctx, "Box %zu has a coordinate that is not a "
				    "number of at least 0.", i + 1);
				return -1;
			}
		}
	}
	*boxes = bv;
	*nboxes = n;
	return 0;
}

/* ------------------------------------------------------------ operations */

static int bbox_parse_form(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **annotation, const char **error)
{
	struct bbox_labels idx;
	struct bbox_form f;
	int rc;

	*annotation = NULL;
	if (bbox_labels_index(ctx, labels, nlabels, &idx) != 0) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	if (bbox_form_read(ctx, item, &idx, fields, nfields, 1, &f, error) != 0)
		return -1;
	rc = bbox_form_step(ctx, item, &f, error);
	if (rc != 0)
		return rc;
	if (f.has_corner) {
		*error = "Finish the box you started: click its opposite corner, or cancel it.";
		return -1;
	}
	if (f.noobjects && f.nboxes > 0) {
		*error = msg_box_and_none;
		return -1;
	}
	if (!f.noobjects && f.nboxes == 0) {
		*error = msg_need_box;
		return -1;
	}
	*annotation = bbox_annotation_new(ctx, &f, error);
	return *annotation != NULL ? 0 : -1;
}

static int bbox_validate(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    struct json_object *annotation, const char **error)
{
	struct bbox_labels idx;
	struct bbox_box *boxes;
	size_t n;

	if (bbox_annotation_boxes(ctx, annotation, &boxes, &n, error) != 0)
		return -1;
	if (bbox_labels_index(ctx, labels, nlabels, &idx) != 0) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (bbox_labels_find(&idx, boxes[i].label) == NULL) {
			*error = bbox_msg(ctx, "Box %zu names a label this project does not have.",
			    i + 1);
			return -1;
		}
		if (bbox_check_geometry(ctx, item, &boxes[i], i + 1, error) != 0)
			return -1;
	}
	return 0;
}

/* label_ids: the distinct labels of the boxes, ascending; boxes: every box
 * in the annotation's order.  "No objects" gives two empty lists. */
static int bbox_describe(struct labeld_ctx *ctx, struct json_object *annotation,
    int64_t **label_ids, size_t *nlabel_ids,
    struct labeld_box **boxes, size_t *nboxes, const char **error)
{
	struct bbox_box *bv;
	struct labeld_box *out;
	int64_t *ids;
	size_t n, nids = 0;

	*label_ids = NULL;
	*nlabel_ids = 0;
	*boxes = NULL;
	*nboxes = 0;
	if (bbox_annotation_boxes(ctx, annotation, &bv, &n, error) != 0)
		return -1;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (bv[i].w <= 0 || bv[i].h <= 0) {
			*error = bbox_msg(ctx, "Box %zu has no width or height.", i + 1);
			return -1;
		}
	}
	out = host->alloc(ctx, n * sizeof(*out));
	ids = host->alloc(ctx, n * sizeof(*ids));
	if (out == NULL || ids == NULL) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		out[i].label_id = bv[i].label;
		out[i].x = bv[i].x;
		out[i].y = bv[i].y;
		out[i].width = bv[i].w;
		out[i].height = bv[i].h;
		ids[i] = bv[i].label;
	}
	qsort(ids, n, sizeof(*ids), labeld_cmp_id);
	for (size_t i = 0; i < n; i++)
		if (nids == 0 || ids[nids - 1] != ids[i])
			ids[nids++] = ids[i];
	*label_ids = ids;
	*nlabel_ids = nids;
	*boxes = out;
	*nboxes = n;
	return 0;
}

/*
 * The editor's view (ctx-owned):
 *   width, height, font, min_box_size, max_boxes, noobjects, draws_image,
 *   show_width, show_height               the image's displayed size, CSS px
 *   zoom                                  "fit" or the percentage shown
 *   zooms  [{value, text, current}]       the zoom choices for this image
 *   step_error                            why a click or remove was refused
 *   labels [{id, name, key, checked}]     the class for the next box
 *   boxes  [{index, value, x, y, w, h, tx, ty, name, at}]  at: made by this step
 *   corner {value, x, y, cx, cy, r}       only while a first corner waits
 * font (the captions' size) and r (the corner's dot) are image pixels that
 * show as about CAPTION_PX and CAPTION_PX / 3 CSS pixels at this zoom.
 * For a form shown again it applies the form's step the way parse_form
 * does; a refused step leaves the boxes and the corner as they were and
 * says why in step_error (the template shows it when the page has no error
 * of its own, so it appears whether or not the core called parse_form for
 * the step).  Fields that are not valid are left out.
 */
static int bbox_editor_view(struct labeld_ctx *ctx, const struct labeld_item *item,
    const struct labeld_label *labels, size_t nlabels,
    const struct labeld_field *fields, size_t nfields,
    struct json_object **view, const char **error)
{
	struct json_object *root, *arr, *o;
	struct bbox_labels idx;
	struct bbox_form f;
	const char *step_error = NULL;
	uint64_t dw, dh, font;
	char text[32];
	int bad = 0;

	if (bbox_labels_index(ctx, labels, nlabels, &idx) != 0) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	if (bbox_form_read(ctx, item, &idx, fields, nfields, 0, &f, error) != 0)
		return -1;
	if (bbox_form_step(ctx, item, &f, &step_error) >= 0)
		step_error = NULL;
	else if (labeld_msg_is_oom(step_error)) {
		*error = LABELD_MSG_OOM;
		return -1;
	}
	/* With a single class there is nothing to choose. */
	if (f.label == 0 && nlabels == 1)
		f.label = labels[0].id;
	bbox_display(item, f.zoom, &dw, &dh);
	font = ((uint64_t)CAPTION_PX * item->width + dw / 2) / dw;
	if (font == 0)
		font = 1;

	root = json_object_new_object();
	if (root == NULL)
		return labeld_json_finish(host, ctx, NULL, 1, error) != NULL ? 0 : -1;
	labeld_json_add(root, "width", json_object_new_int64(item->width), &bad);
	labeld_json_add(root, "height", json_object_new_int64(item->height), &bad);
	labeld_json_add(root, "font", json_object_new_int64((int64_t)font), &bad);
	labeld_json_add(root, "show_width", json_object_new_int64((int64_t)dw), &bad);
	labeld_json_add(root, "show_height", json_object_new_int64((int64_t)dh), &bad);
	snprintf(text, sizeof(text), "%u", f.zoom);
	labeld_json_add(root, "zoom", json_object_new_string(f.zoom == ZOOM_FIT ? "fit" : text), &bad);
	labeld_json_add(root, "min_box_size", json_object_new_int64(min_box_size), &bad);
	labeld_json_add(root, "max_boxes", json_object_new_int64(max_boxes), &bad);
	labeld_json_add(root, "noobjects", json_object_new_boolean(f.noobjects), &bad);
	/* The core shows the image only when the editor does not. */
	labeld_json_add(root, "draws_image", json_object_new_boolean(1), &bad);
	if (step_error != NULL)
		labeld_json_add(root, "step_error", json_object_new_string(step_error), &bad);

	arr = json_object_new_array_ext((int)NZOOM + 1);
	labeld_json_add(root, "zooms", arr, &bad);
	for (size_t i = 0; !bad && i <= NZOOM; i++) {
		unsigned z = i == 0 ? ZOOM_FIT : zoom_levels[i - 1];
		if (!bbox_zoom_offered(item, z))
			continue;
		o = json_object_new_object();
		labeld_json_append(arr, o, &bad);
		if (bad)
			break;
		snprintf(text, sizeof(text), "%u", z);
		labeld_json_add(o, "value", json_object_new_string(z == ZOOM_FIT ? "fit" : text), &bad);
		snprintf(text, sizeof(text), "%u%%", z);
		labeld_json_add(o, "text", json_object_new_string(z == ZOOM_FIT ? "Fit" : text), &bad);
		labeld_json_add(o, "current", json_object_new_boolean(z == f.zoom), &bad);
	}

	arr = json_object_new_array_ext((int)(nlabels < 1 ? 1 : nlabels));
	labeld_json_add(root, "labels", arr, &bad);
	for (size_t i = 0; !bad && i < nlabels; i++)
		labeld_json_label(arr, &labels[i], labels[i].id == f.label, &bad);

	arr = bad ? NULL : json_object_new_array_ext((int)(f.nboxes < 1 ? 1 : f.nboxes));
	labeld_json_add(root, "boxes", arr, &bad);
	for (size_t i = 0; !bad && i < f.nboxes; i++) {
		const struct bbox_box *b = &f.boxes[i];
		const struct labeld_label *l = bbox_labels_find(&idx, b->label);
		char value[BOX_VALUE_MAX + 32];

		o = json_object_new_object();
		labeld_json_append(arr, o, &bad);
		if (bad)
			break;
		snprintf(value, sizeof(value), "%s,%s,%s,%s,%lld", b->sx, b->sy, b->sw, b->sh,
		    (long long)b->label);
		labeld_json_add(o, "index", json_object_new_int64((int64_t)i), &bad);
		labeld_json_add(o, "value", json_object_new_string(value), &bad);
		labeld_json_add(o, "x", bbox_json_str(b->sx), &bad);
		labeld_json_add(o, "y", bbox_json_str(b->sy), &bad);
		labeld_json_add(o, "w", bbox_json_str(b->sw), &bad);
		labeld_json_add(o, "h", bbox_json_str(b->sh), &bad);
		labeld_json_add(o, "tx", bbox_json_str(bbox_fmt(ctx, b->x + (double)font / 4)), &bad);
		labeld_json_add(o, "ty", bbox_json_str(bbox_fmt(ctx, b->y + (double)font)), &bad);
		labeld_json_add(o, "name", json_object_new_string(l && l->name ? l->name : ""), &bad);
		if (f.made && i + 1 == f.nboxes)
			labeld_json_add(o, "at", json_object_new_boolean(1), &bad);
	}

	if (!bad && f.has_corner) {
		char value[48];
		o = json_object_new_object();
		labeld_json_add(root, "corner", o, &bad);
		snprintf(value, sizeof(value), "%u,%u,%u,%u", (unsigned)f.cx, (unsigned)f.cy,
		    (unsigned)f.cw, (unsigned)f.ch);
		if (!bad) {
			labeld_json_add(o, "value", json_object_new_string(value), &bad);
			labeld_json_add(o, "x", json_object_new_int64(f.cx), &bad);
			labeld_json_add(o, "y", json_object_new_int64(f.cy), &bad);
			labeld_json_add(o, "cx", bbox_json_str(bbox_fmt(ctx, f.cx + f.cw / 2.0)), &bad);
			labeld_json_add(o, "cy", bbox_json_str(bbox_fmt(ctx, f.cy + f.ch / 2.0)), &bad);
			labeld_json_add(o, "r", json_object_new_int64(font / 3 > 1 ? (int64_t)font / 3 : 1),
			    &bad);
		}
	}
	*view = labeld_json_finish(host, ctx, root, bad, error);
	return *view != NULL ? 0 : -1;
}

/* ------------------------------------------------------------ loading */

/* A configuration value "plugin.bbox.<key>": an integer 1..CONFIG_MAX, or
 * def (with a warning in the log when the value is not valid). */
static unsigned bbox_config_uint(const char *key, unsigned def)
{
	const char *s = host->config != NULL ? host->config(PLUGIN_NAME, key) : NULL;
	uint32_t v;

	if (s == NULL)
		return def;
	if (bbox_parse_uint(s, strnlen(s, INT_MAX_DIGITS + 1), &v) != 0 || v < 1 ||
	    v > CONFIG_MAX) {
		host->log(LABELD_LOG_WARN, PLUGIN_NAME,
		    "plugin.bbox.%s = \"%.40s\" is not a whole number from 1 to %u; using %u",
		    key, s, (unsigned)CONFIG_MAX, def);
		return def;
	}
	return v;
}

static const struct labeld_task_ops bbox_ops = {
	LABELD_TASK_OPS_HEADER,
	.description = "Draw a box around each object and give it a label.",
	.editor_template = "editor",
	.input_mode = "boxes",
	.editor_view = bbox_editor_view,
	.parse_form = bbox_parse_form,
	.validate = bbox_validate,
	.describe = bbox_describe,
};

static const struct labeld_plugin bbox_plugin = {
	LABELD_PLUGIN_HEADER,
	.kind = LABELD_TASK,
	.name = PLUGIN_NAME,
	.title = "Object detection (bounding boxes)",
	.version = "1.0",
	.task = &bbox_ops,
};

/* The entry point: checks the host's ABI, keeps its service table and reads
 * plugin.bbox.min_box_size and plugin.bbox.max_boxes.  Returns the
 * descriptor, or NULL for a host this plugin was not built for. */
LABELD_PLUGIN_INIT(h)
{
	if (!LABELD_HOST_USABLE(h))
		return NULL;
	host = h;
	min_box_size = bbox_config_uint("min_box_size", DEFAULT_MIN_BOX_SIZE);
	max_boxes = bbox_config_uint("max_boxes", DEFAULT_MAX_BOXES);
	return &bbox_plugin;
}
