/*
 * handlers.h: one handler per route; one file per page group.
 */
#ifndef LABELD_HANDLERS_H
#define LABELD_HANDLERS_H

#include <stddef.h>

struct json_object;
struct request;

/* health.c */
void handle_healthz(struct request *r);
/* metrics.c */
void handle_metrics(struct request *r);
/* auth.c */
void handle_home(struct request *r);
void handle_login_form(struct request *r);
void handle_login(struct request *r);
void handle_logout(struct request *r);
/* The double-submit token for forms of signed-out visitors (sign-in, the
 * invitation): the labeld_login cookie's value, or a new one (set as a
 * cookie) when there is none.  NULL when out of memory. */
const char *login_token(struct request *r);
/* The sign-in page (status, the email typed, next, a message or NULL):
 * the password form and one "Sign in with ..." form per provider. */
void login_page(struct request *r, int status, const char *email, const char *next,
    const char *message);
/* Sign person uid in, the one way every kind of sign-in does it (email
 * and how, "password", "invitation" or a provider's name, for the log):
 * end the browser's old session if any, make a new one, record the
 * sign-in (last_login_at, activated_at the first time), set the session
 * cookie, drop the labeld_login cookie, and redirect (303) to next when
 * next_is_safe, else home.  On a database failure the error page instead
 * (nobody is signed in). */
void signin_session_start(struct request *r, long long uid, const char *email, const char *how,
    const char *next);
/* oidc.c: sign-in through an OpenID Connect provider (docs/signin.md) */
void handle_oidc_start(struct request *r);
void handle_oidc_callback(struct request *r);
/* The providers of labeld.conf for the sign-in page: [{name,
 * display_name}] in the configuration's order (a new array; the caller
 * adds it to a view), and how many there are. */
struct json_object *oidc_providers_view(struct request *r);
size_t oidc_providers_count(struct request *r);
/* projects.c: the projects home, a project's tabs, label and instruction edits */
void handle_projects(struct request *r);
void handle_project_details(struct request *r);
void handle_project_tab(struct request *r);
void handle_project_labels(struct request *r);
void handle_project_instructions(struct request *r);
/* The tab bar of project id with tab `current` marked: [{href, title,
 * current}] (Details, Dashboard, Data, Review, Team, Exports; Dashboard,
 * Data and Review only for admins and the project's reviewers, as the
 * dispatcher found in r->project_reviewer). */
struct json_object *project_tabs_view(struct request *r, long long id, const char *current);
/* A project tab's view: title, "project" (project_view_load) and "tabs"
 * with `tab` marked; NULL with the error page set (404 for no such
 * project, a database failure, out of memory). */
struct json_object *project_tab_view(struct request *r, long long id, const char *title,
    const char *tab);
/* The sentence to show after Pause or Start (?saved=paused or started), or
 * NULL. */
const char *project_state_saved(const char *saved);
/* Load project id into view object v as "project" (and *state_out, may be
 * NULL, an arena copy of its state); 0 found, 1 not found, or DB_* (< 0). */
int project_view_load(struct request *r, long long id, struct json_object *v,
    const char **state_out);
/* dashboard.c: a project's Dashboard tab */
void handle_project_dashboard(struct request *r);
/* wizard.c: the create-project wizard */
void handle_draft_new(struct request *r);
void handle_draft_step(struct request *r);
void handle_draft_step_post(struct request *r);
/* labeling.c: the queue, the labeling page, item images, pause/start */
void handle_label_next(struct request *r);
void handle_label_submit(struct request *r);
int label_preload(struct request *r, const char *token);
void label_thread_end(void);
void handle_item_image(struct request *r);
void handle_project_state(struct request *r);

/* The editor of a labeler's stored answer (mine.c): the item it answers,
 * the annotation (the form goes to /projects/:id/mine/:aid) and the page
 * to return to (a path, sent back as the form's field "back"). */
struct labeld_field;
struct answer_edit {
	long long item_id, annotation_id;
	const char *back;
};
/* Show the task plugin's editor for e's item of project id, the one the
 * labeling page shows (label_render), in the page answer_edit, with
 * fields/nfields (the stored answer as the plugin's form fields).  Answers
 * 404 when there is no such item, 503 when the task type is not loaded. */
void label_edit_show(struct request *r, long long id, const struct answer_edit *e,
    const struct labeld_field *fields, size_t nfields);
/* Read the answer the editor page's form sends through the task plugin
 * (parse_form, validate, describe as for the labeling page): 0 with *json
 * (the annotation) and *classes (review_classes), arena-owned; 1 when a
 * response was made: the editor again for a step (field action other than
 * "submit", or a step the plugin finds, e.g. a box corner without
 * JavaScript) or a refused answer (422), or an error page. */
int label_edit_read(struct request *r, long long id, const struct answer_edit *e,
    const char **json, const char **classes);

/* mine.c: Back, My answers and the editor of one's own answers */
void handle_label_back(struct request *r);
void handle_mine(struct request *r);
void handle_mine_edit(struct request *r);
void handle_mine_save(struct request *r);
/* datastores.c */
void handle_datastores(struct request *r);
void handle_datastore_create(struct request *r);
void handle_datastore_new(struct request *r);
void handle_datastore_details(struct request *r);
void handle_datastore_make_default(struct request *r);
/* datasets.c */
void handle_datasets(struct request *r);
void handle_dataset_details(struct request *r);
/* exports.c: a project's Exports tab, queueing, downloading and deleting
 * exports, and the labeled datasets */
void handle_project_exports(struct request *r);
void handle_export_create(struct request *r);
void handle_export_download(struct request *r);
void handle_export_delete(struct request *r);
void handle_labeled_dataset(struct request *r);
/* Add the labeled datasets (finished exports) to the Datasets page's view
 * as "labeled"; DB_* status. */
int labeled_datasets_view(struct request *r, struct json_object *v);
/* teams.c: /admin/teams, one team's page, and a project's Team tab */
void handle_teams(struct request *r);
void handle_team_create(struct request *r);
void handle_team_details(struct request *r);
void handle_team_members_add(struct request *r);
void handle_team_members_remove(struct request *r);
void handle_team_rename(struct request *r);
void handle_team_member_reviewer(struct request *r);
void handle_team_delete(struct request *r);
void handle_project_team(struct request *r);
void handle_project_team_assign(struct request *r);
void handle_project_team_unassign(struct request *r);
/* data.c: the Data tab, an item's page, Reject and Approve of both */
void handle_project_data(struct request *r);
void handle_data_review(struct request *r);
void handle_item_page(struct request *r);
void handle_item_review(struct request *r);
/* review.c: the review queue (the next answered item under a review
 * lease; approve, reject, skip) */
void handle_review_next(struct request *r);
void handle_review_verdict(struct request *r);
/* admin.c */
void handle_admin_plugins(struct request *r);
/* people.c: the People pages, invitations, the account page */
void handle_people(struct request *r);
void handle_person_add(struct request *r);
void handle_person(struct request *r);
void handle_person_invite(struct request *r);
void handle_person_disable(struct request *r);
void handle_person_enable(struct request *r);
void handle_person_remove(struct request *r);
void handle_person_role(struct request *r);
void handle_person_provider_only(struct request *r);
void handle_person_identity_unbind(struct request *r);
void handle_invite_form(struct request *r);
void handle_invite_accept(struct request *r);
void handle_account(struct request *r);
void handle_account_name(struct request *r);
void handle_account_password(struct request *r);

#endif
