/*
 * commands.h - the notifications app's management commands, as Django keeps
 * them in an app's management/commands: `eventapi worker` and
 * `eventapi outbox`. main.c parses the options and calls these.
 */
#ifndef EVENTAPI_NOTIFICATIONS_COMMANDS_H
#define EVENTAPI_NOTIFICATIONS_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"

/*
 * Runs a worker until SIGINT or SIGTERM (once: until nothing is due).
 * Returns the exit status.
 */
int notifications_cmd_worker(const struct config *cfg, bool once);

/*
 * Prints the counts by state and the pending and dead rows (at most limit
 * of each) to out. Returns the exit status.
 */
int notifications_cmd_outbox_list(const struct config *cfg, int64_t limit, FILE *out);

/* Requeues dead row id (0: all dead rows). Returns the exit status. */
int notifications_cmd_outbox_requeue(const struct config *cfg, int64_t id, FILE *out);

#endif
