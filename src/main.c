/*
 * main.c - the eventapi command line, as Django's manage.py: one word per
 * command, each with its own help (`eventapi COMMAND --help`, or `eventapi
 * help COMMAND`), and `eventapi help` listing them all.
 *
 * Exit status: 0 done; 1 failed, with one line `eventapi: <what>: <why>`
 * on stderr (a bad setting, an unreachable database, a refused password);
 * 2 a usage error (an unknown command or option, a missing argument), with
 * the way to the help. Settings are read only once the options are known
 * to be right, so that help needs no settings.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "app.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "db/db.h"
#include "db/migrate.h"
#include "delivery/commands.h"
#include "events/demo.h"
#include "importer/django.h"
#include "ops/schema.h"
#include "users/commands.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

struct command {
  const char *name;
  const char *summary;                /* one line of `eventapi help` */
  const char *help;                   /* `eventapi help NAME` */
  const char *short_options;          /* getopt's, without the leading ':' and 'h' */
  const struct option *long_options;  /* ended by a zero entry; --help is added */
  int (*run)(const struct command *cmd, int argc, char **argv);
};

static const struct command *find_command(const char *name);

/* ---- usage errors and options ------------------------------------------- */

/* Reports a usage error of cmd (NULL: of the command line) and returns 2. */
static int __attribute__((format(printf, 2, 3)))
usage_error(const struct command *cmd, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "eventapi: %s%s", cmd ? cmd->name : "", cmd ? ": " : "");
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  if (cmd)
    fprintf(stderr, "\nTry 'eventapi help %s'.\n", cmd->name);
  else
    fprintf(stderr, "\nTry 'eventapi help'.\n");
  return EXIT_USAGE;
}

/* Reports a failure (`eventapi: <what>: <why>`) and returns 1. */
static int
failed(const char *err)
{
  fprintf(stderr, "eventapi: %s\n", err);
  return EXIT_FAILED;
}

static void
print_help(const struct command *cmd, FILE *out)
{
  fputs(cmd->help, out);
}

#define OPTIONS_MAX 8
#define OPT_END (-1)  /* no option left */
#define OPT_STOP (-2) /* help shown or a usage error: return *status */

/*
 * The next option of cmd's argv, as getopt_long gives it: its short name
 * (or long option's value), or OPT_END. -h and --help print cmd's help
 * (status 0); an unknown option or a missing value is a usage error
 * (status 2): both give OPT_STOP with *status set, which the caller
 * returns.
 */
static int
next_option(const struct command *cmd, int argc, char **argv, int *status)
{
  struct option options[OPTIONS_MAX + 2];
  size_t n = 0;
  for (const struct option *o = cmd->long_options; o && o->name && n < OPTIONS_MAX; o++)
    options[n++] = *o;
  options[n++] = (struct option){"help", no_argument, NULL, 'h'};
  options[n] = (struct option){0, 0, 0, 0};
  char shorts[32];
  snprintf(shorts, sizeof shorts, ":h%s", cmd->short_options ? cmd->short_options : "");
  opterr = 0;
  int opt = getopt_long(argc, argv, shorts, options, NULL);
  if (opt == 'h') {
    print_help(cmd, stdout);
    *status = EXIT_OK;
    return OPT_STOP;
  }
  if (opt == '?' || opt == ':') {
    /* optopt names a short option; for a long one, the word just read does. */
    char name[64];
    if (optopt && optopt < 128 && !(optind > 0 && strncmp(argv[optind - 1], "--", 2) == 0))
      snprintf(name, sizeof name, "-%c", optopt);
    else
      snprintf(name, sizeof name, "%.*s", (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
    *status = opt == '?' ? usage_error(cmd, "unknown option \"%s\"", name)
                         : usage_error(cmd, "option \"%s\" needs a value", name);
    return OPT_STOP;
  }
  return opt == -1 ? OPT_END : opt;
}

/* Takes only options; any word left over is a usage error. */
static int
no_arguments(const struct command *cmd, int argc, char **argv, int *status)
{
  int opt;
  while ((opt = next_option(cmd, argc, argv, status)) != OPT_END) {
    if (opt == OPT_STOP)
      return OPT_STOP;
  }
  if (optind < argc) {
    *status = usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
    return OPT_STOP;
  }
  return 0;
}

/* Parses an unsigned option value in [min, max]. */
static int
parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
    return -1;
  *out = (unsigned)v;
  return 0;
}

/* ---- settings ------------------------------------------------------------- */

/* Reads the settings; on an error says which (`eventapi: PORT: ...`). */
static int
load_config(struct config *cfg)
{
  char err[512];
  if (config_load(cfg, NULL, err, sizeof err) < 0)
    return failed(err);
  return 0;
}

/* Reads the settings and prepares what every command shares (app_setup). */
static int
load_and_setup(struct config *cfg)
{
  if (load_config(cfg) != 0)
    return EXIT_FAILED;
  app_setup(cfg);
  return 0;
}

/* Reads the settings, prepares, and migrates the database quietly. */
static int
load_and_migrate(struct config *cfg)
{
  char err[APP_ERROR_MAX];
  if (load_and_setup(cfg) != 0)
    return EXIT_FAILED;
  if (app_migrate(cfg, 0, err, sizeof err) < 0) {
    config_free(cfg);
    return failed(err);
  }
  return 0;
}

/* ---- serve ------------------------------------------------------------------ */

static int
cmd_serve(const struct command *cmd, int argc, char **argv)
{
  const char *bind = NULL;
  unsigned port = 0, threads = 0;
  bool port_set = false, threads_set = false, no_worker = false;
  int opt, status = 0;
  while ((opt = next_option(cmd, argc, argv, &status)) != OPT_END) {
    switch (opt) {
    case OPT_STOP:
      return status;
    case 'b':
      bind = optarg;
      break;
    case 'p':
      if (parse_uint(optarg, 0, 65535, &port) < 0)
        return usage_error(cmd, "--port: expected a number from 0 to 65535, got \"%s\"", optarg);
      port_set = true;
      break;
    case 't':
      if (parse_uint(optarg, 1, 1024, &threads) < 0)
        return usage_error(cmd, "--threads: expected a number from 1 to 1024, got \"%s\"",
                           optarg);
      threads_set = true;
      break;
    case 'W':
      no_worker = true;
      break;
    }
  }
  if (optind < argc)
    return usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);

  struct config cfg;
  if (load_config(&cfg) != 0)
    return EXIT_FAILED;
  if (bind) {
    free(cfg.bind);
    cfg.bind = strdup(bind);
  }
  if (port_set)
    cfg.port = port;
  if (threads_set)
    cfg.threads = threads;
  if (no_worker)
    cfg.worker = false;

  /* Signals are taken by this thread alone, with sigwait, after start-up. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);

  struct app *app;
  char err[APP_ERROR_MAX];
  if (cfg.bind == NULL || app_start(&cfg, &app, err, sizeof err) < 0) {
    status = failed(cfg.bind ? err : "out of memory");
    config_free(&cfg);
    return status;
  }
  log_info("eventapi %s serving http://%s%s%s:%u/ with %u threads",
           EVENTAPI_VERSION, strchr(cfg.bind, ':') ? "[" : "", cfg.bind,
           strchr(cfg.bind, ':') ? "]" : "", app_port(app), cfg.threads);
  int sig = 0;
  sigwait(&stop, &sig);
  log_info("received %s: finishing requests in flight", sig == SIGINT ? "SIGINT" : "SIGTERM");
  app_stop(app);
  log_info("stopped");
  config_free(&cfg);
  return EXIT_OK;
}

/* ---- mail ------------------------------------------------------------------- */

static int
cmd_worker(const struct command *cmd, int argc, char **argv)
{
  bool once = false;
  int opt, status = 0;
  while ((opt = next_option(cmd, argc, argv, &status)) != OPT_END) {
    if (opt == OPT_STOP)
      return status;
    if (opt == 'o')
      once = true;
  }
  if (optind < argc)
    return usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
  struct config cfg;
  if (load_and_setup(&cfg) != 0)
    return EXIT_FAILED;
  status = delivery_cmd_worker(&cfg, once, app_migrate);
  config_free(&cfg);
  return status;
}

static int
cmd_outbox(const struct command *cmd, int argc, char **argv)
{
  unsigned limit = 50;
  bool all = false;
  int opt, status = 0;
  while ((opt = next_option(cmd, argc, argv, &status)) != OPT_END) {
    if (opt == OPT_STOP)
      return status;
    if (opt == 'l' && parse_uint(optarg, 1, 1000000, &limit) < 0)
      return usage_error(cmd, "--limit: expected a number from 1 to 1000000, got \"%s\"", optarg);
    if (opt == 'a')
      all = true;
  }
  bool requeue = optind < argc && strcmp(argv[optind], "requeue") == 0;
  unsigned id = 0;
  if (requeue) {
    if (all == (optind + 1 < argc))
      return usage_error(cmd, "requeue: give one ID or --all");
    if (!all && (optind + 2 < argc || parse_uint(argv[optind + 1], 1, UINT32_MAX, &id) < 0))
      return usage_error(cmd, "requeue: expected a message id, got \"%s\"",
                         argv[optind + 1]);
  } else if (optind < argc) {
    return usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
  } else if (all) {
    return usage_error(cmd, "--all goes with requeue");
  }
  struct config cfg;
  if (load_and_setup(&cfg) != 0)
    return EXIT_FAILED;
  status = requeue ? delivery_cmd_outbox_requeue(&cfg, id, stdout, app_migrate)
                   : delivery_cmd_outbox_list(&cfg, limit, stdout, app_migrate);
  config_free(&cfg);
  return status;
}

/* ---- the database ------------------------------------------------------------ */

static int
cmd_migrate(const struct command *cmd, int argc, char **argv)
{
  int status = 0;
  if (no_arguments(cmd, argc, argv, &status) == OPT_STOP)
    return status;
  struct config cfg;
  if (load_and_setup(&cfg) != 0)
    return EXIT_FAILED;
  printf("Applying migrations\n"); /* not the URL: it may hold a password */
  char err[APP_ERROR_MAX];
  if (app_migrate(&cfg, 1, err, sizeof err) < 0)
    status = failed(err);
  else
    printf("Database is up to date.\n");
  config_free(&cfg);
  return status;
}

#define MIGRATIONS_MAX 256

/* As Django's showmigrations: the app's label, then [X] or [ ] and each name. */
static int
cmd_showmigrations(const struct command *cmd, int argc, char **argv)
{
  int status = 0;
  if (no_arguments(cmd, argc, argv, &status) == OPT_STOP)
    return status;
  struct config cfg;
  if (load_and_setup(&cfg) != 0)
    return EXIT_FAILED;
  db_t *db;
  char err[APP_ERROR_MAX];
  const struct migration *list = NULL;
  bool applied[MIGRATIONS_MAX];
  int rc = app_database(&cfg, &db, err, sizeof err);
  if (rc == 0) {
    rc = db_migrations_status(db, &list, applied, MIGRATIONS_MAX);
    if (rc < 0)
      snprintf(err, sizeof err, "database: cannot read schema_migrations: %s",
               eventapi_strerror(rc));
    db_close(db);
  }
  if (rc < 0) {
    status = failed(err);
  } else {
    printf("eventapi\n");
    for (size_t i = 0; list[i].version; i++)
      printf(" [%c] %04d_%s\n", applied[i] ? 'X' : ' ', list[i].version, list[i].name);
  }
  config_free(&cfg);
  return status;
}

/* ---- users ------------------------------------------------------------------- */

/*
 * Reads a line from the terminal without echo, as getpass does: echo goes
 * off before the prompt shows, so that nothing typed after it is echoed.
 * Returns 0, or -1 when there is no terminal.
 */
static int
prompt_password(const char *prompt, char *buf, size_t len)
{
  FILE *tty = fopen("/dev/tty", "r+");
  if (tty == NULL)
    return -1;
  struct termios old, quiet;
  int fd = fileno(tty);
  int have_termios = tcgetattr(fd, &old) == 0;
  if (have_termios) {
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  fputs(prompt, tty);
  fflush(tty);
  char *got = fgets(buf, (int)len, tty);
  if (have_termios)
    tcsetattr(fd, TCSAFLUSH, &old);
  fputs("\n", tty);
  fclose(tty);
  if (got == NULL)
    return -1;
  buf[strcspn(buf, "\r\n")] = '\0';
  return 0;
}

static int
cmd_createsuperuser(const struct command *cmd, int argc, char **argv)
{
  const char *username = NULL, *email = NULL, *password = NULL;
  int opt, status = 0;
  while ((opt = next_option(cmd, argc, argv, &status)) != OPT_END) {
    switch (opt) {
    case OPT_STOP: return status;
    case 'u': username = optarg; break;
    case 'e': email = optarg; break;
    case 'p': password = optarg; break;
    }
  }
  if (optind < argc)
    return usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
  if (username == NULL || email == NULL)
    return usage_error(cmd, "--username and --email are required");
  if (password == NULL)
    password = getenv("EVENTAPI_PASSWORD");
  struct config cfg;
  if (load_and_migrate(&cfg) != 0)
    return EXIT_FAILED;
  status = users_cmd_createsuperuser(username, email, password, prompt_password, stdout);
  db_close_all();
  config_free(&cfg);
  return status;
}

static int
cmd_changepassword(const struct command *cmd, int argc, char **argv)
{
  const char *password = NULL;
  int opt, status = 0;
  while ((opt = next_option(cmd, argc, argv, &status)) != OPT_END) {
    if (opt == OPT_STOP)
      return status;
    if (opt == 'p')
      password = optarg;
  }
  if (optind == argc)
    return usage_error(cmd, "the USERNAME is missing");
  if (optind + 1 < argc)
    return usage_error(cmd, "unexpected argument \"%s\"", argv[optind + 1]);
  const char *username = argv[optind];
  if (password == NULL)
    password = getenv("EVENTAPI_PASSWORD");
  struct config cfg;
  if (load_and_migrate(&cfg) != 0)
    return EXIT_FAILED;
  status = users_cmd_changepassword(username, password, prompt_password, stdout);
  db_close_all();
  config_free(&cfg);
  return status;
}

/* ---- the rest ----------------------------------------------------------------- */

static int
cmd_demo(const struct command *cmd, int argc, char **argv)
{
  int status = 0;
  if (no_arguments(cmd, argc, argv, &status) == OPT_STOP)
    return status;
  struct config cfg;
  if (load_and_migrate(&cfg) != 0)
    return EXIT_FAILED;
  int rc = events_demo(stdout);
  db_close_all();
  config_free(&cfg);
  return rc < 0 ? EXIT_FAILED : EXIT_OK;
}

static int
cmd_import_django(const struct command *cmd, int argc, char **argv)
{
  struct importer_options opt = {0};
  int opt_char, status = 0;
  while ((opt_char = next_option(cmd, argc, argv, &status)) != OPT_END) {
    if (opt_char == OPT_STOP)
      return status;
    if (opt_char == 'm')
      opt.media = optarg;
    else if (opt_char == 'n')
      opt.dry_run = true;
    else if (opt_char == 'M')
      opt.merge = true;
  }
  if (optind == argc)
    return usage_error(cmd, "the SOURCE is missing");
  if (optind + 1 < argc)
    return usage_error(cmd, "unexpected argument \"%s\"", argv[optind + 1]);
  opt.source = argv[optind];
  struct config cfg;
  if (load_and_migrate(&cfg) != 0)
    return EXIT_FAILED;
  opt.media_root = cfg.media_root;
  status = importer_django_run(&opt, stdout, stderr) == 0 ? EXIT_OK : EXIT_FAILED;
  db_close_all();
  config_free(&cfg);
  return status;
}

/* Prints the OpenAPI document; needs no settings and no database. */
static int
cmd_schema(const struct command *cmd, int argc, char **argv)
{
  enum ops_schema_format format = OPS_SCHEMA_JSON_PRETTY;
  int opt, status = 0;
  while ((opt = next_option(cmd, argc, argv, &status)) != OPT_END) {
    if (opt == OPT_STOP)
      return status;
    if (strcmp(optarg, "json") == 0)
      format = OPS_SCHEMA_JSON_PRETTY;
    else if (strcmp(optarg, "yaml") == 0)
      format = OPS_SCHEMA_YAML;
    else
      return usage_error(cmd, "--format: expected json or yaml, got \"%s\"", optarg);
  }
  if (optind < argc)
    return usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
  size_t len;
  const char *text = ops_schema_text(format, &len);
  if (text == NULL)
    return failed("schema: cannot assemble the OpenAPI document");
  return fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}

static const char global_help[] =
    "usage: eventapi COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  serve            migrate the database, then serve the API (and send mail)\n"
    "  worker           send the outbox's mail until stopped\n"
    "  outbox           show pending and dead mail; send dead mail again\n"
    "  migrate          apply pending database migrations\n"
    "  showmigrations   list the migrations, applied [X] or not [ ]\n"
    "  createsuperuser  create an admin\n"
    "  changepassword   set a user's password\n"
    "  demo             add demo events, and an organizer to try them with\n"
    "  import-django    move the original Django system's data here\n"
    "  schema           print the OpenAPI document of the API\n"
    "  help             list the commands, or show one's help\n"
    "\n"
    "Options:\n"
    "  -h, --help       show this list\n"
    "  -V, --version    show the version\n"
    "\n"
    "'eventapi help COMMAND' (or 'eventapi COMMAND --help') shows a command's\n"
    "options. Settings come from the environment and from .env in the working\n"
    "directory (the environment wins); README.md lists them all.\n"
    "\n"
    "Exit status: 0 done; 1 failed, with the reason on stderr; 2 a usage error.\n";

/* `eventapi help [COMMAND]`, as Django's `manage.py help [subcommand]`. */
static int
cmd_help(const struct command *cmd, int argc, char **argv)
{
  int opt, status = 0;
  while ((opt = next_option(cmd, argc, argv, &status)) != OPT_END) {
    if (opt == OPT_STOP)
      return status;
  }
  if (optind == argc) {
    fputs(global_help, stdout);
    return EXIT_OK;
  }
  if (optind + 1 < argc)
    return usage_error(cmd, "unexpected argument \"%s\"", argv[optind + 1]);
  const struct command *topic = find_command(argv[optind]);
  if (topic == NULL)
    return usage_error(NULL, "unknown command \"%s\"", argv[optind]);
  print_help(topic, stdout);
  return EXIT_OK;
}

/* ---- the table ------------------------------------------------------------------ */

static const struct option serve_options[] = {
  {"bind", required_argument, NULL, 'b'},
  {"port", required_argument, NULL, 'p'},
  {"threads", required_argument, NULL, 't'},
  {"no-worker", no_argument, NULL, 'W'},
  {0, 0, 0, 0},
};
static const struct option worker_options[] = {
  {"once", no_argument, NULL, 'o'},
  {0, 0, 0, 0},
};
static const struct option outbox_options[] = {
  {"limit", required_argument, NULL, 'l'},
  {"all", no_argument, NULL, 'a'},
  {0, 0, 0, 0},
};
static const struct option createsuperuser_options[] = {
  {"username", required_argument, NULL, 'u'},
  {"email", required_argument, NULL, 'e'},
  {"password", required_argument, NULL, 'p'},
  {0, 0, 0, 0},
};
static const struct option changepassword_options[] = {
  {"password", required_argument, NULL, 'p'},
  {0, 0, 0, 0},
};
static const struct option import_django_options[] = {
  {"media", required_argument, NULL, 'm'},
  {"dry-run", no_argument, NULL, 'n'},
  {"merge", no_argument, NULL, 'M'},
  {0, 0, 0, 0},
};
static const struct option schema_options[] = {
  {"format", required_argument, NULL, 'f'},
  {0, 0, 0, 0},
};

static const struct command commands[] = {
  {"serve", "migrate the database, then serve the API",
   "usage: eventapi serve [--bind ADDR] [--port N] [--threads N] [--no-worker]\n"
   "\n"
   "Applies pending migrations, then serves the API until SIGINT (Ctrl-C) or\n"
   "SIGTERM: then the requests in flight finish and it exits. A thread of it\n"
   "sends the outbox's mail, unless --no-worker or WORKER=off.\n"
   "\n"
   "Options:\n"
   "  --bind ADDR      the IPv4 or IPv6 address to listen on (BIND, 127.0.0.1)\n"
   "  --port N         the port, 0 for any free one (PORT, 8000)\n"
   "  --threads N      server threads, 1 to 1024 (THREADS, twice the CPU cores)\n"
   "  --no-worker      send no mail from this process (as WORKER=off)\n"
   "  -h, --help       show this help\n",
   "b:p:t:", serve_options, cmd_serve},
  {"worker", "send the outbox's mail until stopped",
   "usage: eventapi worker [--once]\n"
   "\n"
   "Sends the outbox's mail until SIGINT or SIGTERM, trying failures again with\n"
   "back-off (EMAIL_URL, EMAIL_FROM, EMAIL_MAX_ATTEMPTS, ...), and writes the\n"
   "reminders as they fall due. Any number may run, beside `eventapi serve\n"
   "--no-worker`: a mail is taken by one worker at a time.\n"
   "\n"
   "Options:\n"
   "  --once           send what is due now, then exit\n"
   "  -h, --help       show this help\n",
   "o", worker_options, cmd_worker},
  {"outbox", "show pending and dead mail; send dead mail again",
   "usage: eventapi outbox [--limit N]\n"
   "       eventapi outbox requeue (ID | --all)\n"
   "\n"
   "Shows the outbox: how many mails are pending, sent and dead, then the\n"
   "pending and the dead ones with their last error. `requeue` sends dead\n"
   "mail again: the one with this id, or every dead one with --all.\n"
   "\n"
   "Options:\n"
   "  --limit N        list at most N mails of each state, 1 to 1000000 (50)\n"
   "  --all            with requeue: every dead mail\n"
   "  -h, --help       show this help\n",
   "l:a", outbox_options, cmd_outbox},
  {"migrate", "apply pending database migrations",
   "usage: eventapi migrate\n"
   "\n"
   "Applies the migrations that the database (DATABASE_URL) lacks, each in\n"
   "its own transaction, and names them. `serve` does the same at start.\n"
   "Several processes may run it at once.\n"
   "\n"
   "Options:\n"
   "  -h, --help       show this help\n",
   "", NULL, cmd_migrate},
  {"showmigrations", "list the migrations, applied [X] or not [ ]",
   "usage: eventapi showmigrations\n"
   "\n"
   "Lists every migration of this version for the database (DATABASE_URL),\n"
   "as Django's showmigrations does: [X] applied, [ ] not yet (`eventapi\n"
   "migrate` applies them). Changes nothing.\n"
   "\n"
   "Options:\n"
   "  -h, --help       show this help\n",
   "", NULL, cmd_showmigrations},
  {"createsuperuser", "create an admin",
   "usage: eventapi createsuperuser --username NAME --email ADDRESS [--password PASSWORD]\n"
   "\n"
   "Creates an admin. The username and email are checked as sign-up checks\n"
   "them, the password by sign-up's validators: at least 8 characters, not\n"
   "too similar to the username or email, not a common password\n"
   "(COMMON_PASSWORDS_FILE), not entirely numeric. Without --password, the\n"
   "password is EVENTAPI_PASSWORD's, or is asked twice on the terminal,\n"
   "without echo.\n"
   "\n"
   "Options:\n"
   "  --username NAME      the admin's username (required)\n"
   "  --email ADDRESS      the admin's email address (required)\n"
   "  --password PASSWORD  the password (other users of the machine can see\n"
   "                       it in the process list: prefer EVENTAPI_PASSWORD\n"
   "                       or the prompt)\n"
   "  -h, --help           show this help\n",
   "u:e:p:", createsuperuser_options, cmd_createsuperuser},
  {"changepassword", "set a user's password",
   "usage: eventapi changepassword USERNAME [--password PASSWORD]\n"
   "\n"
   "Sets a new password for the user USERNAME (any role: the way back in for\n"
   "an admin who lost theirs), without asking for the old one. The password is\n"
   "checked by sign-up's validators against the user's own username, names\n"
   "and email. Without --password, it is EVENTAPI_PASSWORD's, or is asked\n"
   "twice on the terminal without echo (three tries).\n"
   "\n"
   "Options:\n"
   "  --password PASSWORD  the new password (other users of the machine can see\n"
   "                       it in the process list: prefer EVENTAPI_PASSWORD\n"
   "                       or the prompt)\n"
   "  -h, --help           show this help\n",
   "p:", changepassword_options, cmd_changepassword},
  {"demo", "add demo events, and an organizer to try them with",
   "usage: eventapi demo\n"
   "\n"
   "Adds demo data beside what the database holds: the organizer \"demo\"\n"
   "(demo@example.com) with a random password shown once, the categories\n"
   "Conferences, Workshops, Meetups, Concerts and Sports (those that exist are\n"
   "used), and 12 upcoming events of \"demo\" with sessions and ticket types.\n"
   "Run again, it changes nothing: the demo data is there already (`eventapi\n"
   "changepassword demo` sets a new password for it).\n"
   "\n"
   "Options:\n"
   "  -h, --help       show this help\n",
   "", NULL, cmd_demo},
  {"import-django", "move the original Django system's data here",
   "usage: eventapi import-django SOURCE [--media DIR] [--dry-run] [--merge]\n"
   "\n"
   "Imports the original Django Event Management API's users, categories,\n"
   "events with their sessions and ticket types, registrations and tickets\n"
   "from SOURCE, its SQLite file or a postgresql:// URL, which is only read.\n"
   "Ids, ticket codes and password hashes are kept: users log in with their\n"
   "passwords. One transaction: all of it, or nothing. What eventapi would\n"
   "refuse today (an oversold event, blank or repeated emails) is imported\n"
   "as it is and listed (docs/migrating.md).\n"
   "\n"
   "Options:\n"
   "  --media DIR      the original's MEDIA_ROOT: event images are copied\n"
   "  --dry-run        check and report; write nothing\n"
   "  --merge          import beside users or events already here (ids\n"
   "                   must not collide)\n"
   "  -h, --help       show this help\n",
   "", import_django_options, cmd_import_django},
  {"schema", "print the OpenAPI document of the API",
   "usage: eventapi schema [--format json|yaml]\n"
   "\n"
   "Prints the OpenAPI 3.1 document of the API, as GET /api/schema/ serves\n"
   "it. Needs no settings and no database.\n"
   "\n"
   "Options:\n"
   "  --format FORMAT  json (the default) or yaml\n"
   "  -h, --help       show this help\n",
   "f:", schema_options, cmd_schema},
  {"help", "list the commands, or show one's help",
   "usage: eventapi help [COMMAND]\n"
   "\n"
   "Lists the commands, or shows the help of one (as `eventapi COMMAND\n"
   "--help` does).\n"
   "\n"
   "Options:\n"
   "  -h, --help       show this help\n",
   "", NULL, cmd_help},
};

static const struct command *
find_command(const char *name)
{
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

int
main(int argc, char **argv)
{
  /* Line by line, so that what stdout says comes before a later error on
   * stderr when both go to one file or pipe. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) {
    fputs(global_help, stderr);
    return EXIT_USAGE;
  }
  const char *name = argv[1];
  if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
    fputs(global_help, stdout);
    return EXIT_OK;
  }
  if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) {
    printf("eventapi %s\n", EVENTAPI_VERSION);
    return EXIT_OK;
  }
  const struct command *cmd = find_command(name);
  if (cmd == NULL)
    return usage_error(NULL, name[0] == '-' ? "unknown option \"%s\"" : "unknown command \"%s\"",
                       name);
  return cmd->run(cmd, argc - 1, argv + 1);
}
