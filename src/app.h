/*
 * app.h - the whole server as one object: what `eventapi serve` runs and
 * what the API tests start in-process.
 */
#ifndef EVENTAPI_APP_H
#define EVENTAPI_APP_H

#include "core/config.h"

struct app;

/*
 * Prepares process-wide state from cfg (which must outlive the app; it
 * becomes the global `config`): checks the secret key, opens and migrates the
 * database, loads the password validators, and starts the HTTP server on
 * cfg->bind:cfg->port (port 0 picks a free one). Returns 0 with *out set, or
 * a negative code after logging why.
 */
int app_start(const struct config *cfg, struct app **out);

/* The port the server listens on. */
unsigned app_port(const struct app *app);

/*
 * Stops accepting connections, lets requests in flight finish (up to a few
 * seconds), closes every database connection and frees the app.
 */
void app_stop(struct app *app);

/*
 * Opens the database of cfg and applies pending migrations, printing what it
 * applies. Used by `eventapi migrate` and by app_start.
 */
int app_migrate(const struct config *cfg, int verbose);

#endif
