#include "notifications/serializers.h"

#include "core/jsonutil.h"
#include "core/timefmt.h"
#include "notifications/templates.h"

json_t *
notifications_serialize(const struct notification *n, arena_t *arena)
{
  struct notification_text words;
  if (notification_render(n, arena, &words) < 0)
    return NULL;
  char created[TIME_ISO_MAX];
  time_format_iso(n->due_at, created);
  return json_pack("{s:I, s:s, s:I, s:s, s:s, s:b, s:s}",
                   "id", (json_int_t)n->id,
                   "type", notification_kind_name(n->kind),
                   "event", (json_int_t)n->event_id,
                   "title", words.subject,
                   "message", words.message,
                   "is_read", n->read_at != 0,
                   "created_at", created);
}
