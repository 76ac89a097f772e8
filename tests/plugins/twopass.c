/*
 * twopass.c: an export plugin for labeld's tests that asks for two passes
 * (passes = 2, as a format that lists every item twice does) and writes
 * "<pass>\t<item id>\t<label ids>\n" per item and pass, then the line
 * "end\t<items of pass 1>\t<items of pass 2>\t<project->items>\n".  It
 * fails when pass 2 hands over the items in another order than pass 1.
 */
#include <inttypes.h>
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

static const struct labeld_export_ops twopass_ops = {
	LABELD_EXPORT_OPS_HEADER,
	.description = "Every item twice (tests)",
	.file_extension = "tsv",
	.media_type = "text/tab-separated-values",
	.passes = 2,
	.begin = twopass_begin,
	.item = twopass_item,
	.end = twopass_end,
};

static const struct labeld_plugin twopass_plugin = {
	LABELD_PLUGIN_HEADER,
	.kind = LABELD_EXPORT,
	.name = "twopass",
	.title = "Two-pass export",
	.version = "1.0",
	.export = &twopass_ops,
};

LABELD_PLUGIN_INIT(h)
{
	if (!LABELD_HOST_USABLE(h))
		return NULL;
	host = h;
	return &twopass_plugin;
}
