/*
 * wizard_steps.h: what the tests of the create-project wizard share
 * (t_projects.c, t_upload.c): request bodies, urlencoded or multipart with
 * files; walking the wizard's steps; waiting for a project to initialise;
 * fixture images; Azurite containers and datastores.  Everything a function
 * returns is owned by the running test.
 */
#ifndef LABELD_WIZARD_STEPS_H
#define LABELD_WIZARD_STEPS_H

#include <stddef.h>

#include "itest.h"

#define ADMIN_EMAIL ENV("LABELD_TEST_ADMIN_EMAIL")
#define ADMIN_PASSWORD ENV("LABELD_TEST_ADMIN_PASSWORD")
#define USER_EMAIL ENV("LABELD_TEST_USER_EMAIL")
#define USER_PASSWORD ENV("LABELD_TEST_USER_PASSWORD")

#define MP_BOUNDARY "----labeld-projects-4f1c9e2ab7"
#define FORM_TYPE "application/x-www-form-urlencoded"
#define INIT_WAIT_MS 60000

/* A body under construction: urlencoded or multipart.  Its bytes live in
 * a heap cell that the running test frees when it ends. */
struct body {
	char **cell;
	char *data;
	size_t len, cap;
	int multipart;
};

/* A name no earlier run or test used. */
const char *uniq(const char *prefix);

/* A signed-in admin. */
struct client *admin(void);

/* The CSRF token of the client's session (from any page's sign-out form). */
char *csrf_of(struct client *c);

/* The number a one-value query answers. */
long sql_long(const char *q);

/* A file of tests/fixtures/images/ (owned by the running test). */
char *fixture(const char *rel, size_t *len);

/* Append bytes, or a string, to a body. */
void body_add(struct body *b, const void *p, size_t n);
void body_adds(struct body *b, const char *s);

/* One field (value may hold any bytes up to its NUL). */
void field(struct body *b, const char *name, const char *value);

/* One file part of a multipart body; filename is sent as is (quoted). */
void file_part(struct body *b, const char *filename, const void *data, size_t len);

/* POST the body (a multipart one is ended first). */
struct resp *body_post(struct client *c, const char *path, struct body *b);

/* The Location of a 303 that must point under prefix; returns it. */
const char *see_other(struct resp *r, const char *prefix);

/* POST /projects/drafts: a new draft; returns "/projects/drafts/N". */
char *draft_new(struct client *c);

/* POST one step with name/value pairs (NULL-terminated); returns the response. */
#define STEP(c, draft, step, ...) step_post((c), (draft), (step), __VA_ARGS__, (const char *)NULL)
struct resp *step_post(struct client *c, const char *draft, const char *step, ...);

/* The step must answer 303 to the given next step. */
void step_ok(struct resp *r, const char *draft, const char *next);

/* The flash error of a re-rendered page. */
const char *page_message(struct resp *r);

/* The re-rendered step has status and a message containing needle. */
void refused_with(struct resp *r, long status, const char *needle);

/* Labels as a urlencoded body for the labels step. */
struct resp *labels_post(struct client *c, const char *draft, const char *go,
    const char *const *labels, size_t n);

/* Name step + choosing "upload": leaves the draft at the upload step. */
char *draft_to_upload(struct client *c, const char *name);

/* From the confirm step through labels and instructions to a project;
 * returns its id. */
long finish_project(struct client *c, const char *d, const char *const *labels, size_t n);

/* Poll the details page until the project leaves Initializing; returns
 * the last page.  Fails after INIT_WAIT_MS. */
struct resp *wait_initialized(struct client *c, long id, int *saw_initializing);

/* The text of a Details fact ("Items", "Dataset", ...); "" when missing. */
char *fact(struct resp *r, const char *dt);

/* The item count shown on the details page. */
long items_shown(struct resp *r);

/* The default upload folder of a dataset named name, for the names uniq
 * makes (ASCII letters, digits, spaces and '-'): lower case, runs of
 * anything else as one '-'. */
char *folder_named_after(const char *name);

/* The built-in datastore's directory (where uploads land). */
char *default_datastore_dir(void);

/* The test stack's Azurite account URL, path style. */
const char *azurite_endpoint(void);

/* A datastore row for an Azurite container (SQL); returns its id. */
long azurite_datastore(const char *container);

/* Upload blobs named names[i] with the bytes of fixture rels[i] into a new
 * container, with tests/integration/azurite-seed.js --blobs (node, no shell:
 * the names hold tabs and other bytes a shell would mangle). */
void azurite_put(const char *container, const char *const *names, const char *const *rels,
    size_t n);

#endif
