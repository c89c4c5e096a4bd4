/*
 * commands.h - the delivery layer's management commands: `eventapi worker`
 * and `eventapi outbox`. main.c parses the options and calls these.
 *
 * Each first brings the database up to date through migrate, which the
 * caller passes in (main.c gives app_migrate): the layer below the apps
 * does not call back up into them.
 */
#ifndef EVENTAPI_DELIVERY_COMMANDS_H
#define EVENTAPI_DELIVERY_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"

/* Opens cfg's database and applies its pending migrations: 0, or a
 * negative code with why in err (one line, naming the setting or part). */
typedef int (*delivery_migrate_fn)(const struct config *cfg, int verbose, char *err,
                                   size_t errlen);

/*
 * Checks the settings, migrates, then runs a worker until SIGINT or
 * SIGTERM (once: until nothing is due). Returns the exit status.
 */
int delivery_cmd_worker(const struct config *cfg, bool once, delivery_migrate_fn migrate);

/*
 * Prints the counts by state and the pending and dead messages (at most
 * limit of each) to out. Returns the exit status.
 */
int delivery_cmd_outbox_list(const struct config *cfg, int64_t limit, FILE *out,
                             delivery_migrate_fn migrate);

/* Requeues dead message id (0: all dead ones). Returns the exit status. */
int delivery_cmd_outbox_requeue(const struct config *cfg, int64_t id, FILE *out,
                                delivery_migrate_fn migrate);

#endif
