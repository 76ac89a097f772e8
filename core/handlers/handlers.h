/*
 * handlers.h: one handler per route; one file per page group.
 */
#ifndef LABELD_HANDLERS_H
#define LABELD_HANDLERS_H

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
/* projects.c: the projects home, a project's tabs, label and instruction edits */
void handle_projects(struct request *r);
void handle_project_details(struct request *r);
void handle_project_tab(struct request *r);
void handle_project_labels(struct request *r);
void handle_project_instructions(struct request *r);
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
/* datastores.c */
void handle_datastores(struct request *r);
void handle_datastore_create(struct request *r);
void handle_datastore_new(struct request *r);
void handle_datastore_details(struct request *r);
/* datasets.c */
void handle_datasets(struct request *r);
void handle_dataset_details(struct request *r);
/* admin.c */
void handle_admin_plugins(struct request *r);

#endif
