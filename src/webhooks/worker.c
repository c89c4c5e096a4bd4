/*
 * worker.c - the webhooks app's tick (see worker.h).
 */
#include "webhooks/worker.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "db/db.h"
#include "delivery/mail.h"
#include "delivery/webhook.h"
#include "notifications/templates.h"
#include "users/models.h"
#include "webhooks/models.h"

#define BATCH 100

/* When this process last looked (0: never). */
static _Atomic int64_t last_look;

/* Whether w, failing since failing_since (0: not) with a dead delivery or
 * not, is to be turned off at now. */
static bool
to_disable(int64_t failing_since, bool dead, int64_t now)
{
  return failing_since != 0 && dead && now - failing_since >= WEBHOOKS_FAILING_LIMIT_US;
}

/* A batch of active webhooks and how each fares, as one read. */
struct look {
  int64_t after_id, now;
  arena_t *arena;
  struct webhook *hooks;
  size_t count;
  int64_t *failing;  /* per webhook: failing since (0: not) */
  bool *dead;
};

static int
look_unit(db_t *db, void *arg)
{
  struct look *l = arg;
  int rc = webhooks_list_active(db, l->after_id, BATCH, l->arena, &l->hooks, &l->count);
  if (rc < 0 || l->count == 0)
    return rc;
  l->failing = arena_calloc(l->arena, l->count, sizeof *l->failing);
  l->dead = arena_calloc(l->arena, l->count, sizeof *l->dead);
  if (l->failing == NULL || l->dead == NULL)
    return EVENTAPI_ENOMEM;
  for (size_t i = 0; rc == 0 && i < l->count; i++)
    rc = delivery_webhook_failing(db, l->hooks[i].id, l->hooks[i].active_since, &l->failing[i],
                                  &l->dead[i]);
  return rc;
}

/* The owner's email that a webhook was turned off. */
static int
mail_owner(db_t *db, const struct webhook *w, int64_t failing_since, int64_t now, arena_t *arena)
{
  struct user owner;
  int rc = users_get(db, w->owner_id, arena, &owner);
  if (rc < 0)
    return rc == EVENTAPI_ENOTFOUND ? 0 : rc;
  char since[TIME_ISO_MAX];
  time_format_iso(failing_since, since);
  /* The URL without its query, which may hold a token. */
  const char *url = arena_strndup(arena, w->url, strcspn(w->url, "?#"));
  const char *name = owner.first_name && owner.first_name[0] ? owner.first_name
                                                             : owner.username;
  const char *what = w->description && w->description[0]
                         ? arena_printf(arena, "\"%s\" (%s)", w->description, url)
                         : url;
  if (url == NULL || what == NULL)
    return EVENTAPI_ENOMEM;
  const char *text = arena_printf(arena,
      "Hello %s,\n\n"
      "Your webhook %lld, %s, has been turned off: every delivery to it has failed since %s.\n"
      "Nothing more is sent to it.\n\n"
      "Its deliveries, with the answers it gave, are listed at GET /api/webhooks/%lld/deliveries/,\n"
      "and each can be sent again from there once the receiver works. To turn it on again:\n"
      "PATCH /api/webhooks/%lld/ with {\"is_active\": true}.\n",
      name, (long long)w->id, what, since, (long long)w->id, (long long)w->id);
  const char *html = arena_printf(arena,
      "<p>Hello %s,</p>\n"
      "<p>Your webhook %lld, %s, has been turned off: every delivery to it has failed since "
      "%s. Nothing more is sent to it.</p>\n"
      "<p>Its deliveries, with the answers it gave, are listed at "
      "<code>GET /api/webhooks/%lld/deliveries/</code>, and each can be sent again from there "
      "once the receiver works. To turn it on again: <code>PATCH /api/webhooks/%lld/</code> "
      "with <code>{\"is_active\": true}</code>.</p>\n",
      notification_html_escape(name, arena), (long long)w->id,
      notification_html_escape(what, arena), since, (long long)w->id, (long long)w->id);
  const char *subject = arena_printf(arena, "Webhook turned off: %s",
                                     w->description && w->description[0] ? w->description
                                                                         : url);
  if (text == NULL || html == NULL || subject == NULL)
    return EVENTAPI_ENOMEM;
  struct delivery_mail mail = {
    .to = owner.email, .to_name = name, .subject = subject, .text = text, .html = html,
  };
  struct delivery_new m = {.kind = "webhook_disabled"};
  return delivery_mail_enqueue(db, &mail, &m, now, NULL);
}

/* One webhook looked at again under the write lock, and changed. */
struct settle {
  int64_t id, now;
  arena_t *arena;
  bool disabled;
};

static int
settle_unit(db_t *db, void *arg)
{
  struct settle *s = arg;
  s->disabled = false;
  struct webhook w;
  int rc = webhooks_get(db, s->id, s->arena, &w);
  if (rc == EVENTAPI_ENOTFOUND || (rc == 0 && !w.is_active))
    return 0; /* gone, or off, meanwhile */
  int64_t failing = 0;
  bool dead = false;
  if (rc == 0)
    rc = delivery_webhook_failing(db, w.id, w.active_since, &failing, &dead);
  if (rc == 0 && to_disable(failing, dead, s->now)) {
    rc = webhooks_disable(db, w.id, failing, s->now, &s->disabled);
    if (rc == 0 && s->disabled)
      rc = mail_owner(db, &w, failing, s->now, s->arena);
  } else if (rc == 0 && failing != w.failing_since) {
    rc = webhooks_set_failing(db, w.id, failing);
  }
  return rc;
}

int
webhooks_worker_tick(const struct config *cfg, int64_t now, bool *more)
{
  (void)cfg;
  *more = false;
  int64_t last = atomic_load(&last_look);
  if (last != 0 && now >= last && now - last < WEBHOOKS_CHECK_INTERVAL_US)
    return 0;
  if (!atomic_compare_exchange_strong(&last_look, &last, now))
    return 0; /* another thread of this process looks */
  int rc = 0;
  struct look l = {.now = now};
  do {
    arena_t arena = {0};
    l.arena = &arena;
    l.count = 0;
    rc = db_read(look_unit, &l);
    for (size_t i = 0; rc == 0 && i < l.count; i++) {
      const struct webhook *w = &l.hooks[i];
      if (l.failing[i] == w->failing_since && !to_disable(l.failing[i], l.dead[i], now))
        continue;
      struct settle s = {.id = w->id, .now = now, .arena = &arena};
      rc = db_write(settle_unit, &s);
      if (rc == 0 && s.disabled)
        log_info("webhook %lld turned off: every delivery failed for 5 days", (long long)w->id);
    }
    if (l.count > 0)
      l.after_id = l.hooks[l.count - 1].id;
    arena_free(&arena);
  } while (rc == 0 && l.count == BATCH);
  return rc;
}
