/*
 * routes.h: labeld's one route table.
 */
#ifndef LABELD_ROUTES_H
#define LABELD_ROUTES_H

#include <stddef.h>

#include "router.h"

extern const struct route routes[];
extern const size_t routes_count;

/* Templates the core renders itself; start-up fails when one is missing. */
extern const char *const routes_required_templates[7];

#endif
