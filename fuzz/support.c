/*
 * support.c - what the fuzz targets share (see support.h).
 */
#include "db/migrate.h"
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "delivery/worker.h"
#include "http/query.h"
#include "users/common_passwords.h"

#define DJANGO_COMMON_PASSWORDS \
  "/usr/lib/python3/dist-packages/django/contrib/auth/common-passwords.txt.gz"

char *
fuzz_text(const uint8_t *data, size_t size)
{
  char *text = malloc(size + 1);
  if (text == NULL)
    abort();
  if (size > 0)
    memcpy(text, data, size);
  text[size] = '\0';
  return text;
}

size_t
fuzz_fields(char *text, char **fields, size_t max)
{
  size_t found = 0;
  char *p = text;
  while (found < max) {
    fields[found++] = p;
    if (found == max)
      break;
    char *newline = strchr(p, '\n');
    if (newline == NULL)
      break;
    *newline = '\0';
    p = newline + 1;
  }
  for (size_t i = found; i < max; i++)
    fields[i] = text + strlen(text); /* "" */
  return found;
}

static struct config settings = {
  .bind = "127.0.0.1",
  .port = 8000,
  .public_url = "https://events.example.com/",
  .media_root = "media",
  .cors_allowed_origins = "",
  .create_status = 200,
};

void
fuzz_setup(void)
{
  config = &settings;
  log_set_level(LOG_ERROR);
  if (users_common_passwords_load(DJANGO_COMMON_PASSWORDS) < 0)
    users_common_passwords_load(NULL);
}

void
fuzz_setup_delivery(void)
{
  fuzz_setup();
  if (delivery_global_init() < 0)
    abort();
}

db_t *
fuzz_database(const char *target, const char *rows)
{
  db_t *db = NULL;
  char err[512] = "";
  if (db_configure("sqlite::memory:", NULL) < 0 || db_connect(&db, err, sizeof err) < 0 ||
      db_migrate(db, 0, err, sizeof err) < 0 || db_exec_script(db, rows) < 0) {
    fprintf(stderr, "fuzz_%s: cannot set up the database: %s\n", target, err);
    abort();
  }
  return db;
}

void
fuzz_check_printable(const char *s)
{
  for (const char *c = s; *c; c++)
    FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
}

void
fuzz_request_init(struct http_request *req, const char *target)
{
  memset(req, 0, sizeof *req);
  req->method = HTTP_GET;
  req->method_name = "GET";
  snprintf(req->request_id, sizeof req->request_id, "fuzz");
  req->target = target ? target : "/";
  req->path = "/";
  req->query = "";
  if (target != NULL) {
    const char *question = strchr(target, '?');
    req->query = question ? question + 1 : "";
    req->target_error = http_target_parse(&req->arena, target, &req->path, &req->query_params,
                                          &req->nquery_params);
  }
}

void
fuzz_request_free(struct http_request *req)
{
  json_decref(req->json_body);
  free(req->reply);
  free(req->body);
  arena_free(&req->arena);
}

json_t *
fuzz_body(const uint8_t *data, size_t size, arena_t *arena)
{
  const uint8_t *newline = memchr(data, '\n', size);
  size_t type_len = newline ? (size_t)(newline - data) : size;
  char *type = fuzz_text(data, type_len);
  size_t body_len = newline ? size - type_len - 1 : 0;
  /* The server's body buffer is NUL-terminated; so is this one. */
  char *body = fuzz_text(newline ? newline + 1 : data, body_len);
  unsigned status;
  json_t *error;
  json_t *value = http_body_parse(type_len ? type : NULL, body, body_len, arena, &status,
                                  &error);
  FUZZ_CHECK((value != NULL) == (status == 0));
  FUZZ_CHECK(value == NULL || json_is_object(value));
  FUZZ_CHECK(status == 0 || status == 400 || status == 415);
  FUZZ_CHECK((status == 400 || status == 415) == (error != NULL));
  json_decref(error);
  free(body);
  free(type);
  return value;
}

static void
check_messages(const json_t *value)
{
  if (json_is_object(value)) {
    const char *field;
    json_t *member;
    json_object_foreach((json_t *)value, field, member) {
      FUZZ_CHECK(json_is_array(member) || json_is_object(member));
      check_messages(member);
    }
  } else {
    FUZZ_CHECK(json_is_array(value) && json_array_size(value) > 0);
    size_t i;
    json_t *item;
    json_array_foreach((json_t *)value, i, item) {
      FUZZ_CHECK(json_is_string(item) || json_is_object(item));
      if (json_is_object(item))
        check_messages(item);
    }
  }
}

void
fuzz_check_errors(const json_t *errors)
{
  FUZZ_CHECK(json_is_object(errors));
  check_messages(errors);
}

void
fuzz_fail(const char *file, int line, const char *what)
{
  fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
  abort();
}
