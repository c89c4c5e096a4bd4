/*
 * receiver.c - webhook_receiver.py as a child process of the test
 * (script.h), told what to answer through its control file, and the
 * requests it recorded read back from its spool (see receiver.h).
 */
#include "receiver.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "script.h"

static struct {
  struct script script; /* webhook_receiver.py */
  bool exit_hook;
  unsigned port;
  json_t *control;      /* what control.json says */
  struct script_kept kept; /* handed out, released by cleanup */
  char **strings;
  size_t nstrings, capstrings;
} rx = { .script = { .name = "webhook_receiver.py", .cleanup = receiver_cleanup } };

static const char *keep_string(char *s)
{
  if (!s)
    abort();
  if (rx.nstrings == rx.capstrings) {
    size_t cap = rx.capstrings ? rx.capstrings * 2 : 16;
    char **grown = realloc(rx.strings, cap * sizeof *grown);
    if (!grown)
      abort();
    rx.strings = grown;
    rx.capstrings = cap;
  }
  rx.strings[rx.nstrings++] = s;
  return s;
}

static void at_exit(void)
{
  if (rx.script.owner == getpid())
    receiver_cleanup();
}

/* Writes rx.control to the spool's control.json, whole, then renamed. */
static void write_control(void)
{
  char path[PATH_MAX + 32], temporary[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/control.json", rx.script.dir);
  snprintf(temporary, sizeof temporary, "%s/control.json.tmp", rx.script.dir);
  cr_assert_eq(json_dump_file(rx.control, temporary, JSON_COMPACT), 0, "write %s", temporary);
  cr_assert_eq(rename(temporary, path), 0, "rename %s: %s", path, strerror(errno));
}

unsigned receiver_start(void)
{
  receiver_cleanup();
  if (!rx.exit_hook) {
    atexit(at_exit);
    rx.exit_hook = true;
  }
  char script[PATH_MAX], docs[PATH_MAX];
  script_path(&rx.script, "tests/support/webhook_receiver.py", script);
  script_path(&rx.script, "docs/api.md", docs);
  script_spool(&rx.script, "eventapi-receiver");
  rx.control = json_pack("{s:{}, s:{}, s:i}", "secrets", "answers", "offset", 0);
  write_control();
  char *argv[] = { SCRIPT_PYTHON, script, "--dir", rx.script.dir, "--docs", docs, NULL };
  script_start(&rx.script, argv, -1);
  rx.port = script_wait_port(&rx.script);
  return rx.port;
}

void receiver_cleanup(void)
{
  script_stop(&rx.script);
  script_remove_spool(&rx.script);
  rx.port = 0;
  json_decref(rx.control);
  rx.control = NULL;
  script_kept_free(&rx.kept);
  for (size_t i = 0; i < rx.nstrings; i++)
    free(rx.strings[i]);
  free(rx.strings);
  rx.strings = NULL;
  rx.nstrings = rx.capstrings = 0;
}

const char *receiver_url(const char *path)
{
  cr_assert(rx.port != 0, "the receiver is not running");
  char *url = NULL;
  if (asprintf(&url, "http://127.0.0.1:%u%s", rx.port, path) < 0)
    abort();
  return keep_string(url);
}

void receiver_secrets_list(const char *path, const char *const *secrets)
{
  cr_assert(rx.control != NULL, "the receiver is not running");
  json_t *list = json_array();
  for (const char *const *s = secrets; *s; s++)
    json_array_append_new(list, json_string(*s));
  json_object_set_new(json_object_get(rx.control, "secrets"), path, list);
  write_control();
}

void receiver_secrets(const char *path, const char *secret)
{
  const char *one[] = { secret, NULL };
  receiver_secrets_list(path, one);
}

void receiver_answer(const char *path, const char *answer)
{
  cr_assert(rx.control != NULL, "the receiver is not running");
  char *text = strdup(answer);
  if (!text)
    abort();
  for (char *c = text; *c; c++)
    if (*c == '\'')
      *c = '"';
  json_error_t error;
  json_t *value = json_loads(text, 0, &error);
  free(text);
  cr_assert(value != NULL, "receiver_answer(%s): %s", answer, error.text);
  json_t *answers = json_object_get(rx.control, "answers");
  json_t *list = json_object_get(answers, path);
  if (list == NULL) {
    list = json_array();
    json_object_set_new(answers, path, list);
  }
  json_array_append_new(list, value);
  write_control();
}

void receiver_clock(long long server_now)
{
  cr_assert(rx.control != NULL, "the receiver is not running");
  json_object_set_new(rx.control, "offset", json_integer(server_now - (long long)time(NULL)));
  write_control();
}

size_t receiver_count(void)
{
  return script_count(&rx.script);
}

json_t *receiver_requests(void)
{
  return script_keep(&rx.kept, script_records(&rx.script));
}

json_t *receiver_requests_to(const char *path)
{
  json_t *all = receiver_requests();
  json_t *out = script_keep(&rx.kept, json_array());
  size_t i;
  json_t *request;
  json_array_foreach(all, i, request) {
    const char *to = json_string_value(json_object_get(request, "path"));
    if (to && strcmp(to, path) == 0)
      json_array_append(out, request);
  }
  return out;
}

json_t *receiver_wait(size_t n, int timeout_ms)
{
  long long deadline = script_now_ms() + timeout_ms;
  while (receiver_count() < n && script_now_ms() < deadline)
    script_sleep_ms(SCRIPT_POLL_MS);
  return receiver_requests();
}
