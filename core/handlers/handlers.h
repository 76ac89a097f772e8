/*
 * handlers.h: one handler per route; one file per page group.
 */
#ifndef LABELD_HANDLERS_H
#define LABELD_HANDLERS_H

struct request;

/* health.c */
void handle_healthz(struct request *r);
/* auth.c */
void handle_home(struct request *r);
void handle_login_form(struct request *r);
void handle_login(struct request *r);
void handle_logout(struct request *r);
/* projects.c */
void handle_projects(struct request *r);
/* admin.c */
void handle_admin_plugins(struct request *r);

#endif
