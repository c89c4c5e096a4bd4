#include "events/serializers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/decimal.h"
#include "core/error.h"
#include "core/jsonutil.h"
#include "core/text.h"
#include "core/timefmt.h"
#include "events/timezone.h"
#include "registrations/serializers.h"
#include "users/models.h"

#define INT32_MAXIMUM 2147483647

/* ---- output ---- */

void
events_money_format(int64_t cents, char *out, size_t len)
{
  snprintf(out, len, "%s%lld.%02lld", cents < 0 ? "-" : "",
           (long long)(cents < 0 ? -cents : cents) / 100,
           (long long)(cents < 0 ? -cents : cents) % 100);
}

json_t *
events_sessions_serialize(const struct session *s)
{
  json_t *obj = json_object();
  json_object_set_new(obj, "id", json_integer(s->id));
  json_object_set_new(obj, "title", json_string(s->title));
  json_object_set_new(obj, "speaker", json_string(s->speaker));
  json_object_set_new(obj, "start_time", json_time(s->start_time));
  json_object_set_new(obj, "end_time", json_time(s->end_time));
  json_object_set_new(obj, "description", json_string(s->description));
  return obj;
}

json_t *
events_ticket_types_serialize(const struct ticket_type *t)
{
  char price[32];
  events_money_format(t->price_cents, price, sizeof price);
  json_t *obj = json_object();
  json_object_set_new(obj, "id", json_integer(t->id));
  json_object_set_new(obj, "name", json_string(t->name));
  json_object_set_new(obj, "price", json_string(price));
  json_object_set_new(obj, "quantity", json_integer(t->quantity));
  return obj;
}

json_t *
events_categories_serialize(const struct category *c)
{
  return json_pack("{s:I, s:s, s:s}", "id", (json_int_t)c->id, "name", c->name,
                   "slug", c->slug);
}

json_t *
events_serialize(const struct event *e, const char *base_url)
{
  json_t *obj = json_object();
  json_object_set_new(obj, "id", json_integer(e->id));
  json_object_set_new(obj, "title", json_string(e->title));
  json_object_set_new(obj, "description", json_string(e->description));
  json_object_set_new(obj, "date_time", json_time(e->date_time));
  json_object_set_new(obj, "location", json_string(e->location));
  json_object_set_new(obj, "capacity", json_integer(e->capacity));
  json_object_set_new(obj, "created_at", json_time(e->created_at));
  json_object_set_new(obj, "organizer", json_integer(e->organizer_id));
  json_object_set_new(obj, "visibility", json_string(events_visibility_name(e->visibility)));
  if (e->image) {
    size_t len = strlen(base_url) + strlen(e->image) + 16;
    char *url = malloc(len);
    if (url)
      snprintf(url, len, "%s/media/%s", base_url, e->image);
    json_object_set_new(obj, "image", url ? json_string(url) : json_null());
    free(url);
  } else {
    json_object_set_new(obj, "image", json_null());
  }
  json_object_set_new(obj, "category", e->category_id ? json_integer(e->category_id) : json_null());
  json_t *sessions = json_array();
  for (size_t i = 0; i < e->nsessions; i++)
    json_array_append_new(sessions, events_sessions_serialize(&e->sessions[i]));
  json_object_set_new(obj, "sessions", sessions);
  json_t *types = json_array();
  for (size_t i = 0; i < e->nticket_types; i++)
    json_array_append_new(types, events_ticket_types_serialize(&e->ticket_types[i]));
  json_object_set_new(obj, "ticket_types", types);
  const char *zone = e->timezone ? e->timezone : "UTC";
  char local[EVENTS_LOCAL_ISO_MAX];
  json_object_set_new(obj, "timezone", json_string(zone));
  json_object_set_new(obj, "local_date_time",
                      events_local_iso(e->date_time, zone, local) ? json_string(local)
                                                                  : json_null());
  json_object_set_new(obj, "waitlist_offer_hours", e->waitlist_offer_hours
                                                       ? json_integer(e->waitlist_offer_hours)
                                                       : json_null());
  return obj;
}

/* ---- money ---- */

/*
 * DRF DecimalField(max_digits=8, decimal_places=2, min_value=0,
 * max_value=999999.99) on str() of the value: a string as it is, an integer
 * in digits, a float as Python writes it (shortest text that reads back),
 * so 0.30000000000000004 has 17 places as in DRF, not the 2 of 0.3.
 */
int
events_money_parse(const json_t *value, int64_t *cents, char message[DECIMAL_MESSAGE_MAX])
{
  static const struct decimal_rules price = {.max_digits = 8, .decimal_places = 2};
  char text[DECIMAL_REPR_MAX];
  const char *input = text;
  if (json_is_string(value))
    input = json_string_value(value);
  else if (json_is_integer(value))
    snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
  else if (json_is_real(value))
    decimal_repr(json_real_value(value), text);
  else { /* str() of a bool, a list, ...: never a number */
    snprintf(message, DECIMAL_MESSAGE_MAX, "A valid number is required.");
    return EVENTAPI_EINVAL;
  }
  int rc = decimal_parse(input, &price, cents, message);
  if (rc == 0 && *cents < 0) {
    snprintf(message, DECIMAL_MESSAGE_MAX, "Ensure this value is greater than or equal to 0.");
    rc = EVENTAPI_EINVAL;
  }
  return rc;
}

/* ---- input ---- */

static void
choice_error(json_t *errors, const char *field, json_t *value, arena_t *arena)
{
  const char *shown = json_is_string(value) ? json_string_value(value) : "";
  char *text = json_is_string(value) ? NULL : json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
  if (text)
    shown = text;
  /* At most 100 bytes of it, never half a character. */
  json_error_add(errors, field, arena_printf(arena, "\"%.*s\" is not a valid choice.",
                                             (int)text_utf8_prefix(shown, 100), shown));
  free(text);
}

int
events_sessions_validate(json_t *item, bool partial, arena_t *arena, struct session *s,
                         json_t *errors)
{
  static const struct string_rules title = {.required = true, .max_length = SESSION_TITLE_MAX};
  static const struct string_rules speaker = {.allow_blank = true, .max_length = SESSION_SPEAKER_MAX};
  static const struct string_rules description = {.allow_blank = true};
  struct string_rules title_rules = title;
  title_rules.required = !partial;
  const char *text;
  if (json_field_string(item, "title", &title_rules, errors, arena, &text) == FIELD_SET)
    s->title = text;
  if (json_field_string(item, "speaker", &speaker, errors, arena, &text) == FIELD_SET)
    s->speaker = text;
  if (json_field_string(item, "description", &description, errors, arena, &text) == FIELD_SET)
    s->description = text;
  int64_t when;
  bool times_ok = true;
  enum field_result got = json_field_datetime(item, "start_time", !partial, errors, &when);
  if (got == FIELD_SET)
    s->start_time = when;
  times_ok &= got != FIELD_INVALID;
  got = json_field_datetime(item, "end_time", !partial, errors, &when);
  if (got == FIELD_SET)
    s->end_time = when;
  times_ok &= got != FIELD_INVALID;
  /* API.md: session times must lie in order. */
  if (times_ok && s->start_time >= s->end_time)
    json_error_add(errors, "non_field_errors", "start_time must be before end_time.");
  return json_errors_any(errors) ? EVENTAPI_EINVAL : 0;
}

int
events_ticket_types_validate(json_t *item, bool partial, arena_t *arena, struct ticket_type *t,
                      json_t *errors)
{
  struct string_rules name = {.required = !partial, .max_length = TICKET_NAME_MAX};
  const char *text;
  if (json_field_string(item, "name", &name, errors, arena, &text) == FIELD_SET)
    t->name = text;
  json_t *price = json_object_get(item, "price");
  if (price == NULL) {
    if (!partial)
      json_error_add(errors, "price", "This field is required.");
  } else if (json_is_null(price)) {
    json_error_add(errors, "price", "This field may not be null.");
  } else {
    char message[DECIMAL_MESSAGE_MAX];
    int64_t cents;
    if (events_money_parse(price, &cents, message) < 0)
      json_error_add(errors, "price", message);
    else
      t->price_cents = cents;
  }
  int64_t quantity;
  if (json_field_int(item, "quantity", !partial, 0, INT32_MAXIMUM, errors, &quantity) == FIELD_SET)
    t->quantity = quantity;
  return json_errors_any(errors) ? EVENTAPI_EINVAL : 0;
}

/*
 * Reads a nested list field: absent, an empty list (nothing given) or a list
 * whose items go to validate(). Returns the number of items, or -1 when the
 * field is not a list (error added).
 */
static long
nested_list(json_t *body, const char *field, json_t *errors, json_t **items)
{
  json_t *value = json_object_get(body, field);
  *items = NULL;
  if (value == NULL)
    return 0;
  if (json_is_null(value)) {
    json_error_add(errors, field, "This field may not be null.");
    return -1;
  }
  if (!json_is_array(value)) {
    json_t *inner = json_object();
    char msg[96];
    snprintf(msg, sizeof msg, "Expected a list of items but got type \"%s\".",
             json_python_type(value));
    json_error_add(inner, "non_field_errors", msg);
    json_object_set_new(errors, field, inner);
    return -1;
  }
  if (json_array_size(value) > EVENT_NESTED_MAX) {
    json_t *inner = json_object();
    char msg[96];
    snprintf(msg, sizeof msg, "Ensure this field has no more than %d elements.", EVENT_NESTED_MAX);
    json_error_add(inner, "non_field_errors", msg);
    json_object_set_new(errors, field, inner);
    return -1;
  }
  *items = value;
  return (long)json_array_size(value);
}

/* The id an item names ({"id": 3}), or 0. */
static int64_t
item_id(json_t *item)
{
  json_t *id = json_object_get(item, "id");
  return json_is_integer(id) && json_integer_value(id) > 0 ? json_integer_value(id) : 0;
}

/*
 * Validates each item of a nested list into a new arena array; the list's
 * errors are one object per item, as DRF reports them.
 */
static void
nested_items(json_t *items, bool sessions, arena_t *arena, struct event_nested *nested,
             json_t *errors)
{
  size_t count = json_array_size(items);
  json_t *item_errors = json_array();
  bool any = false;
  void *list = arena_calloc(arena, count, sessions ? sizeof(struct session) : sizeof(struct ticket_type));
  if (list == NULL) {
    json_decref(item_errors);
    return;
  }
  for (size_t i = 0; i < count; i++) {
    json_t *item = json_array_get(items, i);
    json_t *errs = json_object();
    if (!json_is_object(item)) {
      json_error_add(errs, "non_field_errors", arena_printf(arena,
          "Invalid data. Expected a dictionary, but got %s.", json_python_type(item)));
    } else if (sessions) {
      struct session *s = &((struct session *)list)[i];
      s->id = item_id(item);
      s->speaker = "";
      s->description = "";
      events_sessions_validate(item, false, arena, s, errs);
    } else {
      struct ticket_type *t = &((struct ticket_type *)list)[i];
      t->id = item_id(item);
      events_ticket_types_validate(item, false, arena, t, errs);
      /* API.md: names are unique within the event. */
      for (size_t j = 0; t->name && j < i; j++) {
        const struct ticket_type *other = &((struct ticket_type *)list)[j];
        if (other->name && strcmp(other->name, t->name) == 0) {
          json_error_add(errs, "name", "Ticket type names must be unique within an event.");
          break;
        }
      }
    }
    any |= json_object_size(errs) > 0;
    json_array_append_new(item_errors, errs);
  }
  if (any)
    json_object_set(errors, sessions ? "sessions" : "ticket_types", item_errors);
  json_decref(item_errors);
  if (sessions) {
    nested->sessions = list;
    nested->nsessions = count;
    nested->sessions_given = count > 0;
  } else {
    nested->ticket_types = list;
    nested->nticket_types = count;
    nested->ticket_types_given = count > 0;
  }
}

int
events_validate(json_t *body, bool partial, bool creating, db_t *db, int64_t now,
                arena_t *arena, struct event *e, struct event_nested *nested, json_t *errors)
{
  struct string_rules title = {.required = !partial, .max_length = EVENT_TITLE_MAX};
  struct string_rules location = {.required = !partial, .max_length = EVENT_LOCATION_MAX};
  static const struct string_rules description = {.allow_blank = true};
  const char *text;
  if (json_field_string(body, "title", &title, errors, arena, &text) == FIELD_SET)
    e->title = text;
  if (json_field_string(body, "description", &description, errors, arena, &text) == FIELD_SET)
    e->description = text;
  int64_t when;
  if (json_field_datetime(body, "date_time", !partial, errors, &when) == FIELD_SET) {
    /* API.md: in the future on create, and on update when it changes. */
    if ((creating || when != e->date_time) && when <= now)
      json_error_add(errors, "date_time", "Event date/time must be in the future.");
    else
      e->date_time = when;
  }
  if (json_field_string(body, "location", &location, errors, arena, &text) == FIELD_SET)
    e->location = text;
  int64_t capacity;
  if (json_field_int(body, "capacity", !partial, 0, INT32_MAXIMUM, errors, &capacity) == FIELD_SET)
    e->capacity = capacity;
  json_t *visibility = json_object_get(body, "visibility");
  if (visibility) {
    enum visibility v;
    if (json_is_null(visibility))
      json_error_add(errors, "visibility", "This field may not be null.");
    else if (!json_is_string(visibility) ||
             events_visibility_parse(json_string_value(visibility), &v) < 0)
      choice_error(errors, "visibility", visibility, arena);
    else
      e->visibility = v;
  }
  /* An IANA zone of the system's tz database; the setting TIME_ZONE when new. */
  json_t *zone = json_object_get(body, "timezone");
  if (creating && e->timezone == NULL)
    e->timezone = config && config->time_zone ? config->time_zone : "UTC";
  if (zone) {
    if (json_is_null(zone))
      json_error_add(errors, "timezone", "This field may not be null.");
    else if (!json_is_string(zone) || !events_timezone_known(json_string_value(zone)))
      choice_error(errors, "timezone", zone, arena);
    else
      e->timezone = arena_strdup(arena, json_string_value(zone));
  }
  /* Hours a freed place is held for the next in line; null: none. */
  json_t *hours = json_object_get(body, "waitlist_offer_hours");
  int64_t offer_hours;
  if (hours && json_is_null(hours))
    e->waitlist_offer_hours = 0;
  else if (json_field_int(body, "waitlist_offer_hours", false, 1, EVENT_OFFER_HOURS_MAX, errors,
                          &offer_hours) == FIELD_SET)
    e->waitlist_offer_hours = offer_hours;
  int rc = 0;
  json_t *category = json_object_get(body, "category");
  /* DRF's RelatedField reads a blank as null (forms send blanks). */
  if (category && (json_is_null(category) ||
                   (json_is_string(category) && json_string_length(category) == 0))) {
    e->category_id = 0;
  } else if (category) {
    int64_t id = 0;
    bool parsed = false;
    if (json_is_integer(category)) {
      id = json_integer_value(category);
      parsed = true;
    } else if (json_is_string(category)) {
      char *end;
      const char *digits = json_string_value(category);
      long long n = strtoll(digits, &end, 10);
      parsed = *end == '\0' && end != digits;
      if (parsed)
        id = n;
      else
        json_error_add(errors, "category", "Incorrect type. Expected pk value, received str.");
    } else {
      json_error_add(errors, "category", arena_printf(arena,
          "Incorrect type. Expected pk value, received %s.", json_python_type(category)));
    }
    if (parsed) {
      struct category found;
      rc = id > 0 ? events_categories_get(db, id, arena, &found) : EVENTAPI_ENOTFOUND;
      if (rc == 0)
        e->category_id = id;
      else if (rc == EVENTAPI_ENOTFOUND)
        json_error_add(errors, "category", arena_printf(arena,
            "Invalid pk \"%lld\" - object does not exist.", (long long)id));
      rc = rc == EVENTAPI_ENOTFOUND ? 0 : rc;
    }
  }
  json_t *items;
  memset(nested, 0, sizeof *nested);
  if (nested_list(body, "sessions", errors, &items) > 0)
    nested_items(items, true, arena, nested, errors);
  if (nested_list(body, "ticket_types", errors, &items) > 0)
    nested_items(items, false, arena, nested, errors);
  return rc < 0 ? rc : json_errors_any(errors) ? EVENTAPI_EINVAL : 0;
}

/* ---- categories ---- */

/*
 * What Unicode's compatibility decomposition (NFKD) leaves in ASCII of the
 * Latin-1 and Latin Extended-A letters, U+00C0 to U+017F: the base letter,
 * '-' for none (Æ, ß, Ø... do not decompose and are dropped, as in Django),
 * '#' for the ligatures IJ and ij.
 */
static const char latin_ascii[] =
    "AAAAAA-CEEEEIIII-NOOOOO--UUUUY--aaaaaa-ceeeeiiii-nooooo--uuuuy-y"
    "AaAaAaCcCcCcCcDd--EeEeEeEeEeGgGgGgGgHh--IiIiIiIiI-##JjKk-LlLlLlLl--"
    "NnNnNnn--OoOoOo--RrRrRrSsSsSsSsTtTt--UuUuUuUuUuUuWwYyYZzZzZzs";

/* Decodes one UTF-8 sequence at *p (valid input), advancing *p. */
static unsigned
next_code_point(const unsigned char **p)
{
  const unsigned char *s = *p;
  unsigned cp;
  int extra;
  if (s[0] < 0x80) {
    cp = s[0];
    extra = 0;
  } else if ((s[0] & 0xe0) == 0xc0) {
    cp = s[0] & 0x1f;
    extra = 1;
  } else if ((s[0] & 0xf0) == 0xe0) {
    cp = s[0] & 0x0f;
    extra = 2;
  } else {
    cp = s[0] & 0x07;
    extra = 3;
  }
  int i;
  for (i = 1; i <= extra && (s[i] & 0xc0) == 0x80; i++)
    cp = (cp << 6) | (s[i] & 0x3f);
  *p = s + i;
  return cp;
}

char *
events_categories_slugify(arena_t *arena, const char *name)
{
  size_t len = strlen(name);
  char *slug = arena_alloc(arena, 2 * len + 1);
  if (slug == NULL)
    return NULL;
  size_t n = 0;
  bool dash = false;
  const unsigned char *p = (const unsigned char *)name;
  while (*p) {
    unsigned cp = next_code_point(&p);
    char ascii[3] = {0};
    if (cp < 0x80) {
      ascii[0] = (char)cp;
    } else if (cp >= 0xc0 && cp < 0xc0 + sizeof latin_ascii - 1) {
      char c = latin_ascii[cp - 0xc0];
      if (c == '#') {
        ascii[0] = cp == 0x132 ? 'I' : 'i';
        ascii[1] = cp == 0x132 ? 'J' : 'j';
      } else if (c != '-') {
        ascii[0] = c;
      }
    }
    for (int i = 0; ascii[i]; i++) {
      char c = ascii[i];
      if (c >= 'A' && c <= 'Z')
        c = (char)(c - 'A' + 'a');
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
        if (dash && n > 0)
          slug[n++] = '-';
        dash = false;
        slug[n++] = c;
      } else if (c == '-' || c == ' ' || (c >= '\t' && c <= '\r')) {
        dash = true;
      }
      /* Other punctuation is dropped, as Django's slugify does. */
    }
  }
  slug[n] = '\0';
  while (n > 0 && (slug[n - 1] == '-' || slug[n - 1] == '_'))
    slug[--n] = '\0';
  size_t start = 0;
  while (slug[start] == '-' || slug[start] == '_')
    start++;
  return slug + start;
}

static bool
slug_valid(const char *slug)
{
  if (*slug == '\0')
    return false;
  for (; *slug; slug++) {
    char c = *slug;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '_'))
      return false;
  }
  return true;
}

int
events_categories_validate(json_t *body, bool partial, arena_t *arena, struct category *c,
                    json_t *errors)
{
  struct string_rules name = {.required = !partial, .max_length = CATEGORY_NAME_MAX};
  static const struct string_rules slug = {.max_length = CATEGORY_SLUG_MAX};
  const char *text;
  if (json_field_string(body, "name", &name, errors, arena, &text) == FIELD_SET)
    c->name = text;
  enum field_result got = json_field_string(body, "slug", &slug, errors, arena, &text);
  if (got == FIELD_SET && !slug_valid(text))
    json_error_add(errors, "slug", "Enter a valid \"slug\" consisting of letters, numbers, "
                                   "underscores or hyphens."); /* DRF's SlugField */
  else if (got == FIELD_SET)
    c->slug = text;
  return json_errors_any(errors) ? EVENTAPI_EINVAL : 0;
}

/* ---- staff ------------------------------------------------------------------ */

const char EVENTS_STAFF_TWICE[] = "The fields event, user must make a unique set.";

json_t *
events_door_serialize(const struct event_door *d)
{
  json_t *obj = json_object();
  json_object_set_new(obj, "id", json_integer(d->id));
  json_set_string(obj, "title", d->title);
  json_object_set_new(obj, "date_time", json_time(d->date_time));
  json_set_string(obj, "location", d->location);
  json_set_string(obj, "role", d->organizer ? "organizer" : "staff");
  json_object_set_new(obj, "can_export", json_boolean(d->can_export));
  return obj;
}

json_t *
events_staff_serialize(const struct event_staff *s)
{
  json_t *obj = json_object();
  json_object_set_new(obj, "id", json_integer(s->id));
  json_object_set_new(obj, "event", json_integer(s->event_id));
  json_object_set_new(obj, "user", json_integer(s->user_id));
  json_set_string(obj, "username", s->username);
  json_set_string(obj, "email", s->email);
  json_object_set_new(obj, "can_export", json_boolean(s->can_export));
  json_object_set_new(obj, "added_by", json_id_or_null(s->added_by));
  json_object_set_new(obj, "created_at", json_time(s->created_at));
  return obj;
}

/* The user of body's "user" or "email" into *u: 0, EVENTAPI_EINVAL, or a database error. */
static int
staff_user(json_t *body, db_t *db, arena_t *arena, struct user *u, json_t *errors)
{
  int64_t id = 0;
  enum field_result got = registrations_pk_field(body, "user", errors, arena, &id);
  if (got == FIELD_INVALID)
    return EVENTAPI_EINVAL;
  if (got == FIELD_SET) {
    int rc = users_get(db, id, arena, u);
    if (rc == EVENTAPI_ENOTFOUND)
      registrations_invalid_pk(errors, "user", id, arena);
    return rc == EVENTAPI_ENOTFOUND ? EVENTAPI_EINVAL : rc;
  }
  const struct string_rules email_rules = {.max_length = 254};
  const char *email = NULL;
  got = json_field_string(body, "email", &email_rules, errors, arena, &email);
  if (got == FIELD_INVALID)
    return EVENTAPI_EINVAL;
  if (got == FIELD_ABSENT) {
    json_error_add(errors, "user", "This field is required.");
    return EVENTAPI_EINVAL;
  }
  int rc = users_get_by_email(db, email, arena, u);
  if (rc == EVENTAPI_ENOTFOUND)
    /* DRF's SlugRelatedField */
    json_error_add(errors, "email",
                   arena_printf(arena, "Object with email=%s does not exist.", email));
  return rc == EVENTAPI_ENOTFOUND ? EVENTAPI_EINVAL : rc;
}

int
events_staff_validate(json_t *body, db_t *db, const struct event *e, arena_t *arena,
                      struct event_staff *s, json_t *errors)
{
  struct user u;
  bool can_export = false;
  int rc = staff_user(body, db, arena, &u, errors);
  if (json_field_bool(body, "can_export", false, errors, &can_export) == FIELD_SET)
    s->can_export = can_export;
  if (rc == 0 && u.id == e->organizer_id)
    json_error_add(errors, "user", "The event's organizer cannot be its staff.");
  struct event_staff already;
  if (rc == 0 && u.id != e->organizer_id &&
      (rc = events_staff_get(db, e->id, u.id, arena, &already)) == 0)
    json_error_add(errors, "non_field_errors", EVENTS_STAFF_TWICE);
  if (rc == EVENTAPI_ENOTFOUND)
    rc = 0;
  if (rc == 0) {
    s->event_id = e->id;
    s->user_id = u.id;
    s->username = u.username;
    s->email = u.email;
  }
  return rc < 0 && rc != EVENTAPI_EINVAL ? rc : json_errors_any(errors) ? EVENTAPI_EINVAL : 0;
}
