/*
 * main.c - the eventapi command line.
 *
 *   eventapi serve [--bind ADDR] [--port N] [--threads N] [--no-worker]
 *   eventapi worker [--once]
 *   eventapi outbox [--limit N] | outbox requeue (ID | --all)
 *   eventapi migrate
 *   eventapi createsuperuser --username U --email E [--password P]
 *   eventapi schema [--format json|yaml]
 *   eventapi --help | --version
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "app.h"
#include "auth/password.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "db/db.h"
#include "events/demo.h"
#include "notifications/commands.h"
#include "ops/schema.h"
#include "users/models.h"

static const char usage[] =
    "usage: eventapi <command> [options]\n"
    "\n"
    "Commands:\n"
    "  serve [--bind ADDR] [--port N] [--threads N] [--no-worker]\n"
    "                      migrate the database, then serve the API (with a\n"
    "                      thread that sends the outbox's mail, unless\n"
    "                      --no-worker or WORKER=off)\n"
    "  worker [--once]     send the outbox's mail until stopped (--once: until\n"
    "                      nothing is due); any number may run\n"
    "  outbox [--limit N]  show the outbox: counts, pending and dead mail\n"
    "  outbox requeue (ID | --all)\n"
    "                      send dead mail again\n"
    "  migrate             apply pending database migrations\n"
    "  createsuperuser --username U --email E [--password P]\n"
    "                      create an admin (password from --password, the\n"
    "                      EVENTAPI_PASSWORD variable, or a prompt)\n"
    "  demo                fill an empty database with demo events and print\n"
    "                      the demo organizer's credentials\n"
    "  schema [--format json|yaml]\n"
    "                      print the OpenAPI document of the API (JSON by\n"
    "                      default), as GET /api/schema/ serves it\n"
    "\n"
    "Options:\n"
    "  -h, --help          show this help\n"
    "  -V, --version       show the version\n"
    "\n"
    "Settings come from the environment and from .env in the working directory\n"
    "(the environment wins); README.md lists them all.\n";

/* Reports a usage error and returns the exit status for it. */
static int __attribute__((format(printf, 1, 2)))
fail(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "eventapi: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\nTry 'eventapi --help'.\n");
  va_end(ap);
  return 2;
}

static int
load_config(struct config *cfg)
{
  char err[512];
  if (config_load(cfg, NULL, err, sizeof err) < 0) {
    fprintf(stderr, "eventapi: configuration: %s\n", err);
    return -1;
  }
  config = cfg;
  log_set_level(cfg->log_level);
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

static int
cmd_serve(int argc, char **argv)
{
  static const struct option options[] = {
    {"bind", required_argument, NULL, 'b'},
    {"port", required_argument, NULL, 'p'},
    {"threads", required_argument, NULL, 't'},
    {"no-worker", no_argument, NULL, 'W'},
    {"help", no_argument, NULL, 'h'},
    {0, 0, 0, 0},
  };
  struct config cfg;
  if (load_config(&cfg) < 0)
    return 1;
  int opt, status = 0;
  while (status == 0 && (opt = getopt_long(argc, argv, "b:p:t:h", options, NULL)) != -1) {
    switch (opt) {
    case 'b':
      free(cfg.bind);
      cfg.bind = strdup(optarg);
      break;
    case 'p':
      if (parse_uint(optarg, 0, 65535, &cfg.port) < 0)
        status = fail("--port: expected a number from 0 to 65535, got \"%s\"", optarg);
      break;
    case 't':
      if (parse_uint(optarg, 1, 1024, &cfg.threads) < 0)
        status = fail("--threads: expected a number from 1 to 1024, got \"%s\"", optarg);
      break;
    case 'W':
      cfg.worker = false;
      break;
    case 'h':
      fputs(usage, stdout);
      config_free(&cfg);
      return 0;
    default:
      status = 2;
    }
  }
  if (status == 0 && optind < argc)
    status = fail("serve: unexpected argument \"%s\"", argv[optind]);
  if (status) {
    config_free(&cfg);
    return status;
  }

  /* Signals are taken by this thread alone, with sigwait, after start-up. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);

  struct app *app;
  if (app_start(&cfg, &app) < 0) {
    config_free(&cfg);
    return 1;
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
  return 0;
}

static int
cmd_worker(int argc, char **argv)
{
  static const struct option options[] = {
    {"once", no_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {0, 0, 0, 0},
  };
  bool once = false;
  int opt;
  while ((opt = getopt_long(argc, argv, "oh", options, NULL)) != -1) {
    if (opt == 'o')
      once = true;
    else if (opt == 'h') {
      fputs(usage, stdout);
      return 0;
    } else
      return 2;
  }
  if (optind < argc)
    return fail("worker: unexpected argument \"%s\"", argv[optind]);
  struct config cfg;
  if (load_config(&cfg) < 0)
    return 1;
  int status = notifications_cmd_worker(&cfg, once);
  config_free(&cfg);
  return status;
}

static int
cmd_outbox(int argc, char **argv)
{
  static const struct option options[] = {
    {"limit", required_argument, NULL, 'l'},
    {"all", no_argument, NULL, 'a'},
    {"help", no_argument, NULL, 'h'},
    {0, 0, 0, 0},
  };
  unsigned limit = 50;
  bool all = false;
  int opt;
  while ((opt = getopt_long(argc, argv, "l:ah", options, NULL)) != -1) {
    if (opt == 'l') {
      if (parse_uint(optarg, 1, 1000000, &limit) < 0)
        return fail("--limit: expected a number from 1 to 1000000, got \"%s\"", optarg);
    } else if (opt == 'a') {
      all = true;
    } else if (opt == 'h') {
      fputs(usage, stdout);
      return 0;
    } else {
      return 2;
    }
  }
  bool requeue = optind < argc && strcmp(argv[optind], "requeue") == 0;
  unsigned id = 0;
  if (requeue) {
    if (all == (optind + 1 < argc))
      return fail("outbox requeue: give one ID or --all");
    if (!all && (optind + 2 < argc || parse_uint(argv[optind + 1], 1, UINT32_MAX, &id) < 0))
      return fail("outbox requeue: expected a notification id, got \"%s\"", argv[optind + 1]);
  } else if (optind < argc) {
    return fail("outbox: unexpected argument \"%s\"", argv[optind]);
  } else if (all) {
    return fail("outbox: --all goes with requeue");
  }
  struct config cfg;
  if (load_config(&cfg) < 0)
    return 1;
  int status = requeue ? notifications_cmd_outbox_requeue(&cfg, id, stdout)
                       : notifications_cmd_outbox_list(&cfg, limit, stdout);
  config_free(&cfg);
  return status;
}

static int
cmd_migrate(int argc, char **argv)
{
  if (argc > 1)
    return fail("migrate: unexpected argument \"%s\"", argv[1]);
  struct config cfg;
  if (load_config(&cfg) < 0)
    return 1;
  printf("Applying migrations\n"); /* not the URL: it may hold a password */
  int rc = app_migrate(&cfg, 1);
  if (rc == 0)
    printf("Database is up to date.\n");
  config_free(&cfg);
  return rc < 0 ? 1 : 0;
}

/* Reads a line from the terminal without echo. Returns 0 or -1. */
static int
prompt_password(const char *prompt, char *buf, size_t len)
{
  FILE *tty = fopen("/dev/tty", "r+");
  if (tty == NULL)
    return -1;
  struct termios old, quiet;
  int fd = fileno(tty);
  int have_termios = tcgetattr(fd, &old) == 0;
  fputs(prompt, tty);
  fflush(tty);
  if (have_termios) {
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
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
cmd_createsuperuser(int argc, char **argv)
{
  static const struct option options[] = {
    {"username", required_argument, NULL, 'u'},
    {"email", required_argument, NULL, 'e'},
    {"password", required_argument, NULL, 'p'},
    {0, 0, 0, 0},
  };
  const char *username = NULL, *email = NULL, *password = NULL;
  int opt;
  while ((opt = getopt_long(argc, argv, "u:e:p:", options, NULL)) != -1) {
    switch (opt) {
    case 'u': username = optarg; break;
    case 'e': email = optarg; break;
    case 'p': password = optarg; break;
    default: return 2;
    }
  }
  if (optind < argc)
    return fail("createsuperuser: unexpected argument \"%s\"", argv[optind]);
  if (username == NULL || email == NULL)
    return fail("createsuperuser: --username and --email are required");
  char typed[1024], again[1024];
  if (password == NULL)
    password = getenv("EVENTAPI_PASSWORD");
  if (password == NULL) {
    if (prompt_password("Password: ", typed, sizeof typed) < 0 ||
        prompt_password("Password (again): ", again, sizeof again) < 0) {
      fprintf(stderr, "eventapi: no terminal to ask for the password: use --password or "
                      "EVENTAPI_PASSWORD\n");
      return 2;
    }
    if (strcmp(typed, again) != 0) {
      fprintf(stderr, "eventapi: the passwords do not match\n");
      return 1;
    }
    password = typed;
  }
  struct config cfg;
  if (load_config(&cfg) < 0)
    return 1;
  password_set_limits(cfg.argon2_opslimit, cfg.argon2_memlimit);
  int rc = app_migrate(&cfg, 0);
  char err[512] = "";
  if (rc == 0)
    rc = users_create_superuser(username, email, password, err, sizeof err);
  if (rc == 0)
    printf("Superuser \"%s\" created.\n", username);
  else if (err[0])
    fprintf(stderr, "eventapi: %s\n", err);
  explicit_bzero(typed, sizeof typed);
  explicit_bzero(again, sizeof again);
  db_close_all();
  config_free(&cfg);
  return rc < 0 ? 1 : 0;
}

static int
cmd_demo(int argc, char **argv)
{
  if (argc > 1)
    return fail("demo: unexpected argument \"%s\"", argv[1]);
  struct config cfg;
  if (load_config(&cfg) < 0)
    return 1;
  password_set_limits(cfg.argon2_opslimit, cfg.argon2_memlimit);
  int rc = app_migrate(&cfg, 0);
  if (rc == 0)
    rc = events_demo(stdout);
  db_close_all();
  config_free(&cfg);
  return rc < 0 ? 1 : 0;
}

/* Prints the OpenAPI document; needs no settings and no database. */
static int
cmd_schema(int argc, char **argv)
{
  static const struct option options[] = {
    {"format", required_argument, NULL, 'f'},
    {0, 0, 0, 0},
  };
  enum ops_schema_format format = OPS_SCHEMA_JSON_PRETTY;
  int opt;
  while ((opt = getopt_long(argc, argv, "f:", options, NULL)) != -1) {
    if (opt != 'f')
      return fail("schema: unknown option");
    if (strcmp(optarg, "json") == 0)
      format = OPS_SCHEMA_JSON_PRETTY;
    else if (strcmp(optarg, "yaml") == 0)
      format = OPS_SCHEMA_YAML;
    else
      return fail("schema: --format: expected json or yaml, got \"%s\"", optarg);
  }
  if (optind < argc)
    return fail("schema: unexpected argument \"%s\"", argv[optind]);
  size_t len;
  const char *text = ops_schema_text(format, &len);
  if (text == NULL)
    return 1;
  return fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
  if (argc < 2) {
    fputs(usage, stderr);
    return 2;
  }
  const char *command = argv[1];
  if (strcmp(command, "-h") == 0 || strcmp(command, "--help") == 0 ||
      strcmp(command, "help") == 0) {
    fputs(usage, stdout);
    return 0;
  }
  if (strcmp(command, "-V") == 0 || strcmp(command, "--version") == 0) {
    printf("eventapi %s\n", EVENTAPI_VERSION);
    return 0;
  }
  if (strcmp(command, "serve") == 0)
    return cmd_serve(argc - 1, argv + 1);
  if (strcmp(command, "migrate") == 0)
    return cmd_migrate(argc - 1, argv + 1);
  if (strcmp(command, "worker") == 0)
    return cmd_worker(argc - 1, argv + 1);
  if (strcmp(command, "outbox") == 0)
    return cmd_outbox(argc - 1, argv + 1);
  if (strcmp(command, "createsuperuser") == 0)
    return cmd_createsuperuser(argc - 1, argv + 1);
  if (strcmp(command, "demo") == 0)
    return cmd_demo(argc - 1, argv + 1);
  if (strcmp(command, "schema") == 0)
    return cmd_schema(argc - 1, argv + 1);
  return fail("unknown command \"%s\"", command);
}
