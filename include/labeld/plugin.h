/*
 * labeld/plugin.h: the one public header for labeld plugin authors, in the
 * tree at include/labeld/plugin.h and installed as <labeld/plugin.h>
 * (`pkg-config --cflags labeld-plugin`).  docs/plugins.md walks through
 * writing, building, installing and upgrading a plugin.
 *
 * A plugin is a shared object in labeld's plugin directory that exports two
 * symbols, both defined by LABELD_PLUGIN_INIT below:
 *   labeld_plugin_abi   a constant: the ABI version and the struct sizes the
 *                       plugin was built with;
 *   labeld_plugin_init  the entry point, called with a table of host
 *                       services; it returns the plugin's descriptor.
 *
 * The rules a plugin lives by:
 *
 * 1. Versions.  labeld reads labeld_plugin_abi right after dlopen and calls
 *    no function of the plugin unless the major version is labeld's own, the
 *    minor version is not newer than labeld's and the sizes fit; otherwise
 *    the plugin is refused (and dlclose'd) with a clear message on the
 *    admin's Plugins page and in the log.  ELF constructors run inside
 *    dlopen, before any check: a plugin must not have any.
 *
 * 2. Struct sizes.  Every descriptor and ops struct starts with its own size
 *    (set by the LABELD_*_HEADER macros); labeld reads only the fields that
 *    size covers, so a plugin built for an older minor version sees the
 *    fields added since as NULL.  The host table (struct labeld_host)
 *    carries its size too: check it with LABELD_HOST_USABLE.
 *
 * 3. Required ops.  A task plugin must provide editor_view, parse_form,
 *    validate and describe (description, editor_template, input_mode are
 *    optional); an export plugin file_extension, media_type, begin, item and
 *    end (description is optional).  A plugin lacking one is refused at
 *    load; labeld checks the optional ones for NULL.
 *
 * 4. Threads.  labeld runs many worker threads (the `workers` setting, in
 *    each of several processes), and any op may run on several of them at
 *    once, also for the same item.  An op must be reentrant: keep no
 *    per-request state in globals, and treat whatever init set up as
 *    read-only afterwards (or guard it with a lock of the plugin's own).
 *    One export runs begin, item..., end in order on one thread (see
 *    "Exports" below); other exports may run at the same time with their
 *    own state.
 *
 * 5. What may be kept, and for how long.
 *    - The host table passed to init: until the plugin is unloaded (keep
 *      the pointer in a static; it is the same for every call).
 *    - Memory from host->alloc/strdup and json objects given to
 *      host->json_own: until the request (or job) whose ctx they came with
 *      ends.  Never free them, never keep them past the op's return in a
 *      place another request could reach.
 *    - Everything labeld passes in (item, labels, fields, annotation,
 *      project): during the call only; an export's sink until its end
 *      returns.  Copy what you need.
 *    - json-c reference counts are not atomic: never json_object_get or
 *      json_object_put an object labeld gave you, and never share a json
 *      object between requests (a json object built once in init and
 *      handed to several requests is a data race).  Build a fresh object
 *      per call and give it to host->json_own.
 *    - Strings the plugin returns (the descriptor's fields, *error) must be
 *      static or ctx-owned.
 *
 * 6. SIGHUP.  labeld loads the plugin directory again into a new set and
 *    calls init of every plugin in it again (init may run more than once in
 *    the same loaded object, so it must be idempotent); new requests use the
 *    new set while requests already running finish with the old one, which
 *    is closed (dlclose) when the last of them ends.  A file replaced on
 *    disk by a new one (install(1), mv: never written over in place, which
 *    would change code that is running) is loaded anew; an unchanged file
 *    is the same object in both sets: see docs/plugins.md.  A plugin that
 *    fails to load is refused alone; the others keep working.
 *
 * 7. Symbols.  Plugins never link against labeld's own symbols (labeld
 *    exports none to them): everything they need from the core comes
 *    through struct labeld_host.  Compile with -fvisibility=hidden so that
 *    only the two symbols above (marked LABELD_PLUGIN_EXPORT) are visible;
 *    a plugin's own helpers then never meet anything else's.
 *
 *   >>> Bump the ABI on ANY change to a struct, enum or constant here: appending a field at the
 *   >>> end of a struct (a new optional op, a new host service) bumps
 *   >>> LABELD_PLUGIN_ABI_MINOR; any other change bumps
 *   >>> LABELD_PLUGIN_ABI_MAJOR and resets the minor to 0.
 */
#ifndef LABELD_PLUGIN_H
#define LABELD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#define LABELD_PLUGIN_ABI_MAJOR 3u
#define LABELD_PLUGIN_ABI_MINOR 1u
#define LABELD_PLUGIN_ENTRY "labeld_plugin_init"
#define LABELD_PLUGIN_ABI_SYMBOL "labeld_plugin_abi"

/* Plugins build with -fvisibility=hidden; the two symbols stay visible. */
#define LABELD_PLUGIN_EXPORT __attribute__((visibility("default")))

struct json_object;     /* json-c */
struct labeld_ctx;      /* opaque: one request (or one job) on the host side */

enum labeld_plugin_kind {
	LABELD_TASK = 1,    /* a task type: how an item is labeled */
	LABELD_EXPORT = 2   /* an export format */
};

enum labeld_log_level { LABELD_LOG_ERROR = 0, LABELD_LOG_WARN = 1, LABELD_LOG_INFO = 2 };

/*
 * Services the host offers.  Memory from alloc/strdup belongs to the ctx and
 * is released when the request or job ends; plugins free nothing they got
 * from here.
 */
struct labeld_host {
	uint32_t abi_major;             /* LABELD_PLUGIN_ABI_MAJOR of the host */
	uint32_t abi_minor;             /* LABELD_PLUGIN_ABI_MINOR of the host */
	uint32_t struct_size;           /* sizeof(struct labeld_host) */
	void *(*alloc)(struct labeld_ctx *ctx, size_t size);          /* zeroed; NULL on OOM */
	char *(*strdup)(struct labeld_ctx *ctx, const char *s);
	/* json-c object owned by ctx (put when the ctx ends). */
	struct json_object *(*json_own)(struct labeld_ctx *ctx, struct json_object *obj);
	void (*log)(enum labeld_log_level level, const char *plugin, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
	/* Configuration value for this plugin ("plugin.<name>.<key>" in
	 * labeld.conf), or NULL. */
	const char *(*config)(const char *plugin, const char *key);
};

/* One label class of a project; key is 1..9 for the first nine, else 0. */
struct labeld_label {
	int64_t id;
	const char *name;
	int key;
};

/* The item being labeled (an image). */
struct labeld_item {
	int64_t id;
	const char *path;       /* inside the dataset */
	uint32_t width, height; /* pixels */
	const char *format;     /* "png", "jpeg", ... */
};

/* A submitted form, as name/value pairs (repeated names allowed). */
struct labeld_field {
	const char *name;
	const char *value;
};

/* One box for exports: pixels, origin top-left. */
struct labeld_box {
	int64_t label_id;
	double x, y, width, height;
};

/*
 * Task plugin operations.  Every function returns 0 on success or -1 with a
 * message for the person in *error (a static or ctx-owned string), except
 * where it says otherwise.
 *
 * Required (a task plugin without one is refused at load): editor_view,
 * parse_form, validate, describe.  Optional: description, editor_template
 * (default "editor"), input_mode (default "choose").
 *
 * The labeling page renders the plugin's editor template (a file in the
 * plugin's template folder, plugins_dir/<name>/, named "<name>/<file>" in the
 * template set) inside the core's page; the template sees the page's view:
 *   item {id, width, height, format, image_url}, labels [{id, name, key,
 *   key_hint}], lease, editor (what editor_view built), error, csrf,
 *   form_action (the URL the core's form posts to: the labeling page's, or
 *   the editor of a labeler's stored answer, which has no lease; a button
 *   with a formaction of its own uses it),
 * and must put its inputs inside the core's <form> (it does not open its own
 * form).  Fields the core reserves: csrf, lease, item, action, back.  A
 * stored answer is shown again (Back, My answers) by editor_view with the
 * fields that would have sent it: the core builds them for the annotation
 * shapes of the built-in task types (docs/review.md).
 */
struct labeld_task_ops {
	uint32_t struct_size;      /* sizeof(struct labeld_task_ops): LABELD_TASK_OPS_HEADER */
	const char *description;   /* one line shown in the create-project wizard */
	/* The editor template, relative to the plugin's folder: "editor"
	 * renders "<plugin name>/editor". */
	const char *editor_template;
	/* What number keys do in labeld.js: "choose" (pick one class and
	 * select it), "toggle" (switch classes on and off), "boxes" (set the
	 * class of the selected or next box). */
	const char *input_mode;
	/* The editor's view for an item.  fields/nfields: the form just
	 * submitted, when the page is shown again (an intermediate step or an
	 * error), else NULL/0.  *view is a json object (ctx-owned through
	 * host->json_own) that the template sees as "editor". */
	int (*editor_view)(struct labeld_ctx *ctx, const struct labeld_item *item,
	    const struct labeld_label *labels, size_t nlabels,
	    const struct labeld_field *fields, size_t nfields,
	    struct json_object **view, const char **error);
	/* Turn a submitted form into an annotation (a json object, ctx-owned).
	 * Returns 0 with *annotation set when the form is a complete answer,
	 * 1 when it is an intermediate step that changes only what the page
	 * shows (e.g. the first corner of a box clicked without JavaScript:
	 * the core shows the page again with editor_view(fields)), or -1 with
	 * *error. */
	int (*parse_form)(struct labeld_ctx *ctx, const struct labeld_item *item,
	    const struct labeld_label *labels, size_t nlabels,
	    const struct labeld_field *fields, size_t nfields,
	    struct json_object **annotation, const char **error);
	/* Check a stored annotation against the item and the labels. */
	int (*validate)(struct labeld_ctx *ctx, const struct labeld_item *item,
	    const struct labeld_label *labels, size_t nlabels,
	    struct json_object *annotation, const char **error);
	/* Describe an annotation for exports: the label ids it assigns and, for
	 * detection tasks, its boxes (either list may be empty).  Arrays are
	 * ctx-owned. */
	int (*describe)(struct labeld_ctx *ctx, struct json_object *annotation,
	    int64_t **label_ids, size_t *nlabel_ids,
	    struct labeld_box **boxes, size_t *nboxes, const char **error);
};

/*
 * Exports.  An export is a background job: labeld reads the project in one
 * consistent snapshot and hands it to the plugin as
 *
 *   begin(project, sink)
 *   item(pass 1, each exported item in item id order)
 *   [item(pass 2, the same items in the same order), when passes == 2]
 *   end()
 *
 * all on one thread.  The plugin writes its file only through the sink and
 * never holds the project in memory: a project may have millions of items.
 * A format whose file needs the items twice (COCO lists every image, then
 * every annotation) sets passes = 2 instead of keeping them.
 *
 * Memory: the ctx given to begin and end lives for the whole export (keep
 * the plugin's state there, from host->alloc); the ctx given to item lives
 * for that one call (everything from host->alloc/strdup/json_own with it is
 * released when item returns).  A failing op returns -1 with a sentence in
 * *error; labeld then stops, removes the partial file and shows the
 * sentence as the export's error.  A sentence item builds must therefore be
 * static or come from begin's ctx, never from item's own.
 * <labeld/plugin-util.h> has the writers every format needs (JSON strings,
 * numbers in any locale) and labeld_sentence.
 */

/* Where an export's bytes go (given to begin; valid until end returns). */
struct labeld_export_sink {
	void *opaque;
	/* Append len bytes to the export file (buffered by labeld); 0, or -1
	 * when the file cannot be written (the op then fails with its own
	 * sentence or passes on "Could not write the export file."). */
	int (*write)(void *opaque, const void *data, size_t len);
};

/* The project being exported (given to begin; valid during the call). */
struct labeld_export_project {
	uint32_t struct_size;              /* sizeof(struct labeld_export_project) */
	int64_t id;
	const char *name;
	const char *task;                  /* the task plugin's name: "multiclass", "bbox" ... */
	const struct labeld_label *labels; /* the project's label classes, in label order */
	size_t nlabels;
	const char *instructions_url;      /* "" when the project has none */
	int64_t export_id;                 /* the export's id in labeld */
	const char *created_at;            /* the snapshot's time, UTC: "2026-12-04T10:00:00Z" */
	const char *labeld_version;        /* e.g. "0.9.0" */
	/* Delta exports: 1 when only the items changed since an earlier export
	 * of this format are handed over (since: that export's created_at);
	 * else 0 and NULL. */
	int delta;
	const char *since;
	uint64_t items;                    /* how many items each pass hands over */
};

/* One exported item (given to item; valid during the call). */
struct labeld_export_item {
	uint32_t struct_size;              /* sizeof(struct labeld_export_item) */
	const struct labeld_item *item;    /* id, path in the dataset, width, height, format */
	/* The image's address: the blob's URL for an Azure Blob datastore, the
	 * path inside the datastore for a local one, or the Azure ML datastore
	 * URI (the prefix the export was given, then the path). */
	const char *image_url;
	/* Delta exports only: 1 when the item's answer was withdrawn (rejected)
	 * since the earlier export, so a training pipeline drops it; it then
	 * has no label ids and no boxes. */
	int removed;
	/* The current answer as the task plugin's describe gave it: the label
	 * ids it assigns (classification) and its boxes (detection).  Both
	 * empty: answered "nothing here". */
	const int64_t *label_ids;
	size_t nlabel_ids;
	const struct labeld_box *boxes;
	size_t nboxes;
};

/*
 * Export plugin operations.  Required (an export plugin without one is
 * refused at load): file_extension ([a-z0-9]{1,16}), media_type, begin,
 * item, end.  Optional: description, passes (0 means 1).
 */
struct labeld_export_ops {
	uint32_t struct_size;             /* sizeof(struct labeld_export_ops): LABELD_EXPORT_OPS_HEADER */
	const char *description;          /* one line shown in the Export form */
	const char *file_extension;       /* "json", "jsonl" */
	const char *media_type;           /* "application/json" */
	uint32_t passes;                  /* 1 or 2: how often item sees every item */
	/* Start: keep the plugin's state in *state (from host->alloc with this
	 * ctx) and the sink pointer in it. */
	int (*begin)(struct labeld_ctx *ctx, void **state,
	    const struct labeld_export_project *project,
	    struct labeld_export_sink *out, const char **error);
	/* One item in pass 1 or 2 (ctx: this call's own). */
	int (*item)(struct labeld_ctx *ctx, void *state, uint32_t pass,
	    const struct labeld_export_item *item, const char **error);
	/* Finish the file (after the last item of the last pass; also for an
	 * export without items). */
	int (*end)(struct labeld_ctx *ctx, void *state, const char **error);
	/* Since 3.1, optional.  The passes whose items need their answers, as
	 * a mask of LABELD_PASS(n); 0 means every pass.  In a pass left out,
	 * labeld neither reads nor describes the answers: its items come with
	 * no label ids and no boxes.  A two-pass format whose first pass lists
	 * only the images sets LABELD_PASS(2) and saves a parse of every
	 * answer. */
	uint32_t answer_passes;
};

/* Pass n (1 or 2) in labeld_export_ops.answer_passes. */
#define LABELD_PASS(n) (1u << ((n) - 1u))

/* Whether a struct labeld has handed over covers field (its struct_size is
 * at least the field's end): fields appended in later minor versions are
 * read only then. */
#define LABELD_HAS(ptr, field) ((ptr)->struct_size >= \
	offsetof(__typeof__(*(ptr)), field) + sizeof((ptr)->field))

struct labeld_plugin {
	uint32_t struct_size;      /* sizeof(struct labeld_plugin): LABELD_PLUGIN_HEADER */
	enum labeld_plugin_kind kind;
	const char *name;          /* [a-z0-9_-]{1,32}, unique in the directory */
	const char *title;         /* shown to people */
	const char *version;
	const struct labeld_task_ops *task;      /* kind == LABELD_TASK */
	const struct labeld_export_ops *export;  /* kind == LABELD_EXPORT */
};

/* The first initializers of each struct, so a plugin cannot get the sizes
 * wrong: { LABELD_PLUGIN_HEADER, .kind = ... }. */
#define LABELD_PLUGIN_HEADER .struct_size = sizeof(struct labeld_plugin)
#define LABELD_TASK_OPS_HEADER .struct_size = sizeof(struct labeld_task_ops)
#define LABELD_EXPORT_OPS_HEADER .struct_size = sizeof(struct labeld_export_ops)

/* The plugin's ABI constant (labeld_plugin_abi).  The first two fields keep
 * their place in every ABI version; the rest are read only when the major
 * version matches. */
struct labeld_abi {
	uint32_t major;            /* LABELD_PLUGIN_ABI_MAJOR the plugin was built with */
	uint32_t minor;            /* LABELD_PLUGIN_ABI_MINOR */
	uint32_t plugin_size;      /* sizeof(struct labeld_plugin) */
	uint32_t task_ops_size;    /* sizeof(struct labeld_task_ops) */
	uint32_t export_ops_size;  /* sizeof(struct labeld_export_ops) */
};

LABELD_PLUGIN_EXPORT extern const struct labeld_abi labeld_plugin_abi;
/* The entry point; returns the descriptor, or NULL to refuse loading (log
 * why through host->log).  Define it with LABELD_PLUGIN_INIT. */
LABELD_PLUGIN_EXPORT const struct labeld_plugin *labeld_plugin_init(const struct labeld_host *host);

/* Defines the ABI constant labeld_plugin_abi for this header's version. */
#define LABELD_PLUGIN_ABI_CONSTANT \
	LABELD_PLUGIN_EXPORT const struct labeld_abi labeld_plugin_abi = { \
		.major = LABELD_PLUGIN_ABI_MAJOR, \
		.minor = LABELD_PLUGIN_ABI_MINOR, \
		.plugin_size = sizeof(struct labeld_plugin), \
		.task_ops_size = sizeof(struct labeld_task_ops), \
		.export_ops_size = sizeof(struct labeld_export_ops), \
	}

/*
 * Defines the ABI constant and starts the entry point, so the one cannot be
 * written without the other:
 *
 *   LABELD_PLUGIN_INIT(host)
 *   {
 *           return &my_plugin;
 *   }
 */
#define LABELD_PLUGIN_INIT(host) \
	LABELD_PLUGIN_ABI_CONSTANT; \
	LABELD_PLUGIN_EXPORT const struct labeld_plugin *labeld_plugin_init( \
	    const struct labeld_host *host)

/* True when h is a host table this plugin can use: the same major version
 * and at least the services this header knows (the table only grows with
 * the minor version).  labeld checks the ABI before it calls init; a plugin
 * may check again (tests call init directly). */
#define LABELD_HOST_USABLE(h) ((h) != NULL && \
	(h)->abi_major == LABELD_PLUGIN_ABI_MAJOR && \
	(h)->struct_size >= sizeof(struct labeld_host))

#endif
