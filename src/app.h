/*
 * app.h - the whole server as one object: what `eventapi serve` runs and
 * what the API tests start in-process.
 */
#ifndef EVENTAPI_APP_H
#define EVENTAPI_APP_H

#include "core/config.h"
#include "db/db.h"

#include <stddef.h>

struct app;

/* Room enough for why start-up failed. */
#define APP_ERROR_MAX 512

/*
 * Prepares the process-wide state that every command shares, from cfg
 * (which must outlive its use; it becomes the global `config`): the log
 * level, the password hashing cost, and the password validators with the
 * common-password list of COMMON_PASSWORDS_FILE (a warning, and the short
 * built-in list, when it cannot be read). Every command that sets a
 * password validates it exactly as sign-up does because of this one call.
 * Call before any thread starts; calling again reloads.
 */
void app_setup(const struct config *cfg);

/*
 * Fills the router's table with the application's routes, app by app,
 * replacing what it held (app_start does; so do the fuzz targets, which
 * route without a server). Reads config (set before). Returns 0 or a
 * negative code.
 */
int app_routes_register(void);

/*
 * Prepares process-wide state from cfg (app_setup), checks the secret key
 * and the mail settings, opens and migrates the database, and starts the
 * HTTP server on cfg->bind:cfg->port (port 0 picks a free one). Returns 0
 * with *out set, or a negative code with why in err, one line naming what
 * is wrong first: "PORT: cannot listen on 127.0.0.1 port 8000: Address
 * already in use".
 */
int app_start(const struct config *cfg, struct app **out, char *err, size_t errlen);

/* The port the server listens on. */
unsigned app_port(const struct app *app);

/*
 * Stops accepting connections, lets requests in flight finish (up to a few
 * seconds), closes every database connection and frees the app.
 */
void app_stop(struct app *app);

/*
 * Opens the database of cfg and applies pending migrations, printing what it
 * applies when verbose. Used by `eventapi migrate`, the other commands and
 * app_start. Returns 0, or a negative code with why in err
 * ("database: cannot create the folder /srv/x: No such file or directory").
 */
int app_migrate(const struct config *cfg, int verbose, char *err, size_t errlen);

/*
 * Points the storage layer at cfg's database and opens a connection of its
 * own (the caller closes it with db_close()), without migrating. Returns 0,
 * or a negative code with why in err, as app_migrate.
 */
int app_database(const struct config *cfg, db_t **out, char *err, size_t errlen);

#endif
