/*
 * event_json.c - the event's JSON written directly (events/cache.c) is, byte
 * for byte, what jansson dumps of events_serialize(): tricky strings
 * (quotes, backslashes, every control character, '/', DEL, two- to
 * four-byte UTF-8), images, empty nested lists, extreme numbers and times,
 * then thousands of random events.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "events/cache.h"
#include "events/serializers.h"

static void
expect_same_json(const struct event *e, const char *base)
{
  json_t *obj = events_serialize(e, base);
  char *reference = json_dumps(obj, JSON_COMPACT);
  json_decref(obj);
  cr_assert_not_null(reference);
  struct strbuf written = {0};
  cr_assert(events_cache_json(e, base, &written));
  cr_assert(!written.failed);
  cr_expect(written.len == strlen(reference) && memcmp(written.data, reference, written.len) == 0,
            "written:\n%s\njansson:\n%s", written.data, reference);
  strbuf_free(&written);
  free(reference);
}

static struct session sessions[3];
static struct ticket_type types[3];

static struct event
sample(void)
{
  sessions[0] = (struct session){1, 7, "Keynote", "Grace \"Amazing\" Hopper",
                                 1948000000000000, 1948000003600000, "Opening\tkeynote\n"};
  sessions[1] = (struct session){2, 7, "Back\\slash", "", 1948000007200000, 1948000010800000,
                                 ""};
  types[0] = (struct ticket_type){3, 7, "General", 4900, 400, 12};
  types[1] = (struct ticket_type){4, 7, "VIP / Gold", 0, 0, 0};
  types[2] = (struct ticket_type){5, 7, "Max", 99999999, 2147483647, 0};
  return (struct event){
    .id = 7, .title = "Systems \"Day\"", .description = "Kernels, compilers & databases",
    .date_time = 1948000000000000, .location = "Congress Center, Berlin", .capacity = 300,
    .created_at = 1764000000123456, .organizer_id = 2, .visibility = VISIBILITY_PUBLIC,
    .image = NULL, .category_id = 0, .version = 1,
    .sessions = sessions, .nsessions = 2, .ticket_types = types, .nticket_types = 3,
  };
}

Test(event_json, a_plain_event)
{
  struct event e = sample();
  expect_same_json(&e, "http://127.0.0.1:8000");
  e.nsessions = 0;
  e.nticket_types = 0;
  e.category_id = 12;
  e.visibility = VISIBILITY_PRIVATE;
  expect_same_json(&e, "");
}

Test(event_json, images_take_the_base_url)
{
  struct event e = sample();
  e.image = "3f2a1b.png";
  expect_same_json(&e, "http://127.0.0.1:8000");
  expect_same_json(&e, "https://events.example.com");
  expect_same_json(&e, "");
  e.image = "odd \"name\"\\with/slashes\x01.png";
  expect_same_json(&e, "http://[::1]:8000");
}

Test(event_json, every_character_that_needs_escaping)
{
  char all[128];
  for (int c = 1; c < 128; c++)
    all[c - 1] = (char)c;
  all[127] = '\0';
  struct event e = sample();
  e.title = all;
  e.description = "\xc3\xbc\xe2\x82\xac\xf0\x9f\x8e\xb8 \xe2\x80\xa8 \xef\xbf\xbf / \x7f";
  sessions[0].speaker = all;
  types[0].name = "\x1f\"\\";
  expect_same_json(&e, "http://x");
}

Test(event_json, extreme_numbers_and_times)
{
  struct event e = sample();
  e.id = INT64_MAX;
  e.capacity = 0;
  e.organizer_id = 1;
  e.date_time = -1;                 /* 1969-12-31T23:59:59.999999Z */
  e.created_at = 253402300799999999; /* 9999-12-31T23:59:59.999999Z */
  sessions[0].start_time = 0;
  types[0].price_cents = 1;
  expect_same_json(&e, "http://x");
}

/* A random valid UTF-8 string, control characters and quotes included. */
static char *
random_text(unsigned *seed)
{
  size_t n = (size_t)(rand_r(seed) % 40);
  char *out = malloc(4 * n + 1), *p = out;
  cr_assert_not_null(out);
  for (size_t i = 0; i < n; i++) {
    unsigned kind = (unsigned)rand_r(seed) % 6;
    uint32_t cp = kind == 0 ? (uint32_t)(rand_r(seed) % 0x20 + 1)
                : kind == 1 ? (uint32_t)"\"\\/\x7f"[rand_r(seed) % 4]
                : kind == 2 ? (uint32_t)(rand_r(seed) % 0x780 + 0x80)
                : kind == 3 ? (uint32_t)(rand_r(seed) % 0xD000 + 0x800)
                : kind == 4 ? (uint32_t)(rand_r(seed) % 0xFFFFF + 0x10000)
                            : (uint32_t)(rand_r(seed) % 0x5F + 0x20);
    if (cp < 0x80) {
      *p++ = (char)cp;
    } else if (cp < 0x800) {
      *p++ = (char)(0xC0 | cp >> 6);
      *p++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *p++ = (char)(0xE0 | cp >> 12);
      *p++ = (char)(0x80 | ((cp >> 6) & 0x3F));
      *p++ = (char)(0x80 | (cp & 0x3F));
    } else {
      *p++ = (char)(0xF0 | cp >> 18);
      *p++ = (char)(0x80 | ((cp >> 12) & 0x3F));
      *p++ = (char)(0x80 | ((cp >> 6) & 0x3F));
      *p++ = (char)(0x80 | (cp & 0x3F));
    }
  }
  *p = '\0';
  return out;
}

Test(event_json, random_events)
{
  unsigned seed = 20261206;
  for (int round = 0; round < 3000; round++) {
    char *texts[8];
    for (int i = 0; i < 8; i++)
      texts[i] = random_text(&seed);
    struct event e = sample();
    e.title = texts[0];
    e.description = texts[1];
    e.location = texts[2];
    e.image = round % 3 == 0 ? texts[3] : NULL;
    sessions[0].title = texts[4];
    sessions[1].speaker = texts[5];
    types[1].name = texts[6];
    e.nsessions = (size_t)(round % 3);
    e.nticket_types = (size_t)(round % 4);
    e.date_time = (int64_t)rand_r(&seed) * 1000003;
    /* The base URL is a sane host (http_base_url), never escaped. */
    expect_same_json(&e, round % 2 ? "http://127.0.0.1:8000" : "https://a.example");
    for (int i = 0; i < 8; i++)
      free(texts[i]);
  }
}

Test(event_json, invalid_utf8_is_left_to_jansson)
{
  struct event e = sample();
  e.title = "bad \xff byte";
  expect_same_json(&e, "http://x");
}
