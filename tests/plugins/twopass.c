/*
 * twopass.c: an export plugin for labeld's tests that asks for two passes
 * (passes = 2, as a format that lists every item twice does) and writes
 * "<pass>\t<item id>\t<label ids>\n" per item and pass, then the line
 * "end\t<items of pass 1>\t<items of pass 2>\t<project->items>\n".  It
 * fails when pass 2 hands over the items in another order than pass 1.
 *
 * It needs the answers in pass 2 only (answer_passes, ABI 3.1), so its
 * pass-1 lines carry label 0.  Built with -DTWOPASS_ABI_3_0 it is
 * "twopass30", a plugin of ABI 3.0 (its ops end before answer_passes),
 * which labeld must hand the answers in both passes.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <labeld/plugin.h>

static const struct labeld_host *host;

struct twopass_state {
	struct labeld_export_sink *out;
	uint64_t items;                 /* project->items */
	uint64_t n[3];                  /* items seen per pass */
	int64_t first, last;            /* first and last id of pass 1 */
	int64_t prev;                   /* the previous id of pass 2 */
};

static int twopass_put(struct twopass_state *st, const char *s, size_t len, const char **error)
{
	if (st->out->write(st->out->opaque, s, len) != 0) {
		*error = "Could not write the export file.";
		return -1;
	}
	return 0;
}

static int twopass_begin(struct labeld_ctx *ctx, void **state,
    const struct labeld_export_project *project,
    struct labeld_export_sink *out, const char **error)
{
	struct twopass_state *st = host->alloc(ctx, sizeof(*st));

	if (st == NULL) {
		*error = "Out of memory.";
		return -1;
	}
	st->out = out;
	st->items = project->items;
	*state = st;
	return 0;
}

static int twopass_item(struct labeld_ctx *ctx, void *state, uint32_t pass,
    const struct labeld_export_item *it, const char **error)
{
	struct twopass_state *st = state;
	char line[128];
	int n;

	if (pass < 1 || pass > 2) {
		*error = "twopass: a pass other than 1 or 2.";
		return -1;
	}
	if (pass == 1) {
		if (st->n[1] == 0)
			st->first = it->item->id;
		st->last = it->item->id;
	} else if ((st->n[2] == 0 && it->item->id != st->first) ||
	    (st->n[2] > 0 && it->item->id <= st->prev)) {
		*error = "twopass: pass 2 is not in the order of pass 1.";
		return -1;
	}
	st->prev = it->item->id;
	st->n[pass]++;
	n = snprintf(line, sizeof(line), "%" PRIu32 "\t%" PRId64 "\t%" PRId64 "\n", pass, it->item->id,
	    it->nlabel_ids > 0 ? it->label_ids[0] : 0);
	return twopass_put(st, line, (size_t)n, error);
}

static int twopass_end(struct labeld_ctx *ctx, void *state, const char **error)
{
	struct twopass_state *st = state;
	char line[128];
	int n = snprintf(line, sizeof(line), "end\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n", st->n[1],
	    st->n[2], st->items);

	if (st->n[2] > 0 && st->prev != st->last) {
		*error = "twopass: pass 2 ended elsewhere than pass 1.";
		return -1;
	}
	return twopass_put(st, line, (size_t)n, error);
}

#ifdef TWOPASS_ABI_3_0
#define TWOPASS_NAME "twopass30"
#define TWOPASS_OPS_SIZE (offsetof(struct labeld_export_ops, end) + \
	sizeof(((struct labeld_export_ops *)0)->end))
#else
#define TWOPASS_NAME "twopass"
#define TWOPASS_OPS_SIZE sizeof(struct labeld_export_ops)
#endif

static const struct labeld_export_ops twopass_ops = {
	.struct_size = TWOPASS_OPS_SIZE,
	.description = "Every item twice (tests)",
	.file_extension = "tsv",
	.media_type = "text/tab-separated-values",
	.passes = 2,
	.begin = twopass_begin,
	.item = twopass_item,
	.end = twopass_end,
#ifndef TWOPASS_ABI_3_0
	.answer_passes = LABELD_PASS(2),
#endif
};

static const struct labeld_plugin twopass_plugin = {
	LABELD_PLUGIN_HEADER,
	.kind = LABELD_EXPORT,
	.name = TWOPASS_NAME,
	.title = "Two-pass export",
	.version = "1.0",
	.export = &twopass_ops,
};

#ifdef TWOPASS_ABI_3_0
/* The constant a plugin built with the 3.0 header has. */
LABELD_PLUGIN_EXPORT const struct labeld_abi labeld_plugin_abi = {
	.major = 3, .minor = 0, .plugin_size = sizeof(struct labeld_plugin),
	.task_ops_size = sizeof(struct labeld_task_ops), .export_ops_size = TWOPASS_OPS_SIZE,
};
LABELD_PLUGIN_EXPORT const struct labeld_plugin *labeld_plugin_init(const struct labeld_host *h)
#else
LABELD_PLUGIN_INIT(h)
#endif
{
	if (!LABELD_HOST_USABLE(h))
		return NULL;
	host = h;
	return &twopass_plugin;
}
