#include "events/cache.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "events/serializers.h"
#include "events/timezone.h"

#define SHARDS 64
#define BUCKETS 1024 /* per shard */

struct entry {
  struct entry *next;
  int64_t id, version;
  size_t len;
  size_t image_at; /* where the base URL goes; len + 1 when there is no image */
  char json[];
};

struct shard {
  pthread_mutex_t lock;
  struct entry *buckets[BUCKETS];
  size_t bytes;
  size_t hand;     /* the next bucket to evict from */
};

static struct shard shards[SHARDS];
static atomic_size_t shard_budget; /* 0: off */
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define ANSWER_SHARDS 16
#define ANSWER_BUCKETS 256 /* per shard */

/* A whole answer: the public part, then what the cache needs. */
struct answer {
  struct events_answer pub;
  atomic_uint refs;
  struct answer *next;     /* in its bucket */
  uint64_t version, hash;
  size_t size;             /* counted against the budget */
  char *body;              /* malloc'd */
  char key[];
};

struct answer_shard {
  pthread_mutex_t lock;
  struct answer *buckets[ANSWER_BUCKETS];
  size_t bytes;
  size_t hand;             /* the next bucket to evict from */
};

static struct answer_shard answer_shards[ANSWER_SHARDS];
static atomic_size_t answer_budget; /* per shard; 0: nothing stored */

/*
 * Admission: an entry is stored the second time it is made, not the first.
 * A key made once and never again (an event seen by one page, a query
 * with a parameter of its own) would only push a useful entry out, and its
 * allocation, made and freed at once, would scatter the memory of the
 * threads' heaps. A key's mark is a 32-bit fingerprint in a slot of a
 * direct-mapped table; a race or a collision only stores an entry early
 * or late.
 */
#define SEEN_SLOTS 65536

struct seen {
  _Atomic uint32_t marks[SEEN_SLOTS];
};

static struct seen seen_events, seen_answers;

/* Whether hash was marked before; marks it. */
static bool
seen_before(struct seen *seen, uint64_t hash)
{
  uint32_t mark = (uint32_t)(hash >> 32) | 1;
  _Atomic uint32_t *slot = &seen->marks[hash % SEEN_SLOTS];
  if (atomic_load_explicit(slot, memory_order_relaxed) == mark)
    return true;
  atomic_store_explicit(slot, mark, memory_order_relaxed);
  return false;
}

static void
init_locks(void)
{
  for (int i = 0; i < SHARDS; i++)
    pthread_mutex_init(&shards[i].lock, NULL);
  for (int i = 0; i < ANSWER_SHARDS; i++)
    pthread_mutex_init(&answer_shards[i].lock, NULL);
}

static void
clear_shard(struct shard *s)
{
  for (int b = 0; b < BUCKETS; b++) {
    struct entry *e = s->buckets[b];
    while (e) {
      struct entry *next = e->next;
      free(e);
      e = next;
    }
    s->buckets[b] = NULL;
  }
  s->bytes = 0;
}

static void answers_clear(void);

void
events_cache_configure(size_t max_bytes)
{
  pthread_once(&once, init_locks);
  /* Three quarters for the events' JSON, a quarter for whole answers. */
  atomic_store(&shard_budget, max_bytes / 4 * 3 / SHARDS);
  atomic_store(&answer_budget, max_bytes / 4 / ANSWER_SHARDS);
  events_cache_clear();
}

bool
events_cache_enabled(void)
{
  return atomic_load(&shard_budget) > 0;
}

void
events_cache_clear(void)
{
  pthread_once(&once, init_locks);
  for (int i = 0; i < SHARDS; i++) {
    pthread_mutex_lock(&shards[i].lock);
    clear_shard(&shards[i]);
    pthread_mutex_unlock(&shards[i].lock);
  }
  answers_clear();
}

static struct shard *
shard_of(int64_t id)
{
  return &shards[(uint64_t)id % SHARDS];
}

static size_t
bucket_of(int64_t id)
{
  return ((uint64_t)id / SHARDS) % BUCKETS;
}

/* Appends json with base_url inserted at image_at (none when > len). */
static void
emit(const char *json, size_t len, size_t image_at, const char *base_url, struct strbuf *out)
{
  if (image_at > len) {
    strbuf_append(out, json, len);
    return;
  }
  strbuf_append(out, json, image_at);
  strbuf_puts(out, base_url);
  strbuf_append(out, json + image_at, len - image_at);
}

static void
append_entry(const struct entry *e, const char *base_url, struct strbuf *out)
{
  emit(e->json, e->len, e->image_at, base_url, out);
}

/* Looks (id, version) up and, with out, appends it. */
static bool
lookup(int64_t id, int64_t version, const char *base_url, struct strbuf *out)
{
  if (atomic_load(&shard_budget) == 0)
    return false;
  struct shard *s = shard_of(id);
  bool hit = false;
  pthread_mutex_lock(&s->lock);
  for (struct entry *e = s->buckets[bucket_of(id)]; e; e = e->next) {
    if (e->id == id && e->version == version) {
      if (out)
        append_entry(e, base_url, out);
      hit = true;
      break;
    }
  }
  pthread_mutex_unlock(&s->lock);
  return hit;
}

bool
events_cache_has(int64_t id, int64_t version)
{
  return lookup(id, version, NULL, NULL);
}

bool
events_cache_append(int64_t id, int64_t version, const char *base_url, struct strbuf *out)
{
  return lookup(id, version, base_url, out);
}

/* Stores entry, replacing the event's older version, evicting others when full. */
static void
store(struct entry *entry)
{
  size_t budget = atomic_load(&shard_budget);
  struct shard *s = shard_of(entry->id);
  size_t size = sizeof *entry + entry->len;
  pthread_mutex_lock(&s->lock);
  struct entry **link = &s->buckets[bucket_of(entry->id)];
  for (; *link; link = &(*link)->next) {
    if ((*link)->id == entry->id) {
      struct entry *old = *link;
      *link = old->next;
      s->bytes -= sizeof *old + old->len;
      free(old);
      break;
    }
  }
  /* A full shard makes room by evicting entries bucket after bucket, as a
   * clock's hand goes round: what stays is a fair sample of what came, so
   * the share of hits falls with the budget rather than all at once. */
  for (size_t swept = 0; s->bytes + size > budget && swept < BUCKETS; ) {
    struct entry *victim = s->buckets[s->hand];
    if (victim == NULL) {
      s->hand = (s->hand + 1) % BUCKETS;
      swept++;
      continue;
    }
    s->buckets[s->hand] = victim->next;
    s->bytes -= sizeof *victim + victim->len;
    free(victim);
  }
  if (s->bytes + size > budget) { /* larger than the shard's budget */
    pthread_mutex_unlock(&s->lock);
    free(entry);
    return;
  }
  entry->next = s->buckets[bucket_of(entry->id)];
  s->buckets[bucket_of(entry->id)] = entry;
  s->bytes += size;
  pthread_mutex_unlock(&s->lock);
}

/* ---- an event's JSON, written directly ---- */

/* A JSON string as jansson's compact dump writes it: \" \\ and the control
 * characters escaped (\b \f \n \r \t, else \u00XX), everything else as it
 * is (UTF-8, '/' and DEL included). */
static void
put_string(struct strbuf *out, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  strbuf_append(out, "\"", 1);
  const char *run = s;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p >= 0x20 && *p != '"' && *p != '\\')
      continue;
    strbuf_append(out, run, (size_t)((const char *)p - run));
    char seq[6] = {'\\', 0};
    size_t n = 2;
    switch (*p) {
    case '"': seq[1] = '"'; break;
    case '\\': seq[1] = '\\'; break;
    case '\b': seq[1] = 'b'; break;
    case '\f': seq[1] = 'f'; break;
    case '\n': seq[1] = 'n'; break;
    case '\r': seq[1] = 'r'; break;
    case '\t': seq[1] = 't'; break;
    default:
      memcpy(seq + 1, "u00", 3);
      seq[4] = hex[*p >> 4];
      seq[5] = hex[*p & 15];
      n = 6;
    }
    strbuf_append(out, seq, n);
    run = (const char *)p + 1;
  }
  strbuf_puts(out, run);
  strbuf_append(out, "\"", 1);
}

static void
put_int(struct strbuf *out, int64_t value)
{
  char text[24];
  int n = snprintf(text, sizeof text, "%lld", (long long)value);
  strbuf_append(out, text, (size_t)n);
}

static void
put_time(struct strbuf *out, int64_t us)
{
  char text[TIME_ISO_MAX];
  size_t n = time_format_iso(us, text);
  strbuf_append(out, "\"", 1);
  strbuf_append(out, text, n);
  strbuf_append(out, "\"", 1);
}

/* Whether s is valid UTF-8 (what jansson insists on; the models store
 * nothing else). */
static bool
valid_utf8(const char *s)
{
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    int n = *p < 0x80 ? 0 : (*p >> 5) == 6 ? 1 : (*p >> 4) == 14 ? 2 : (*p >> 3) == 30 ? 3 : -1;
    if (n < 0 || (n == 1 && *p < 0xC2) || (n == 3 && *p > 0xF4))
      return false;
    uint32_t cp = *p & (0x7F >> n);
    for (int i = 1; i <= n; i++) {
      if ((p[i] & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
      return false;
    p += n + 1;
  }
  return true;
}

static bool
event_strings_valid(const struct event *e)
{
  bool ok = valid_utf8(e->title) && valid_utf8(e->description) && valid_utf8(e->location) &&
            (e->image == NULL || valid_utf8(e->image));
  for (size_t i = 0; ok && i < e->nsessions; i++)
    ok = valid_utf8(e->sessions[i].title) && valid_utf8(e->sessions[i].speaker) &&
         valid_utf8(e->sessions[i].description);
  for (size_t i = 0; ok && i < e->nticket_types; i++)
    ok = valid_utf8(e->ticket_types[i].name);
  return ok;
}

/*
 * Writes e's JSON with an empty base URL, byte for byte what
 * json_dumps(events_serialize(e, ""), JSON_COMPACT) gives, about ten times
 * faster; *image_at receives where the base URL goes (len + 1: nowhere).
 * False when e holds a string jansson would refuse (then it is the judge).
 */
static bool
write_event(const struct event *e, struct strbuf *out, size_t *image_at)
{
  if (!event_strings_valid(e))
    return false;
  size_t start = out->len;
  strbuf_puts(out, "{\"id\":");
  put_int(out, e->id);
  strbuf_puts(out, ",\"title\":");
  put_string(out, e->title);
  strbuf_puts(out, ",\"description\":");
  put_string(out, e->description);
  strbuf_puts(out, ",\"date_time\":");
  put_time(out, e->date_time);
  strbuf_puts(out, ",\"location\":");
  put_string(out, e->location);
  strbuf_puts(out, ",\"capacity\":");
  put_int(out, e->capacity);
  strbuf_puts(out, ",\"created_at\":");
  put_time(out, e->created_at);
  strbuf_puts(out, ",\"organizer\":");
  put_int(out, e->organizer_id);
  strbuf_puts(out, ",\"visibility\":");
  put_string(out, events_visibility_name(e->visibility));
  strbuf_puts(out, ",\"image\":");
  *image_at = SIZE_MAX;
  if (e->image) {
    strbuf_append(out, "\"", 1);
    *image_at = out->len - start;
    size_t quote = out->len;
    size_t len = strlen(e->image);
    char *path = malloc(len + sizeof "/media/");
    if (path == NULL) {
      out->failed = true;
      return true;
    }
    memcpy(path, "/media/", 7);
    memcpy(path + 7, e->image, len + 1);
    put_string(out, path); /* "/media/<image>", then drop its opening quote */
    free(path);
    if (!out->failed) {
      memmove(out->data + quote, out->data + quote + 1, out->len - quote - 1);
      out->len--;
      out->data[out->len] = '\0';
    }
  } else {
    strbuf_puts(out, "null");
  }
  strbuf_puts(out, ",\"category\":");
  if (e->category_id)
    put_int(out, e->category_id);
  else
    strbuf_puts(out, "null");
  strbuf_puts(out, ",\"sessions\":[");
  for (size_t i = 0; i < e->nsessions; i++) {
    const struct session *s = &e->sessions[i];
    strbuf_puts(out, i ? ",{\"id\":" : "{\"id\":");
    put_int(out, s->id);
    strbuf_puts(out, ",\"title\":");
    put_string(out, s->title);
    strbuf_puts(out, ",\"speaker\":");
    put_string(out, s->speaker);
    strbuf_puts(out, ",\"start_time\":");
    put_time(out, s->start_time);
    strbuf_puts(out, ",\"end_time\":");
    put_time(out, s->end_time);
    strbuf_puts(out, ",\"description\":");
    put_string(out, s->description);
    strbuf_puts(out, "}");
  }
  strbuf_puts(out, "],\"ticket_types\":[");
  for (size_t i = 0; i < e->nticket_types; i++) {
    const struct ticket_type *t = &e->ticket_types[i];
    char price[32];
    events_money_format(t->price_cents, price, sizeof price);
    strbuf_puts(out, i ? ",{\"id\":" : "{\"id\":");
    put_int(out, t->id);
    strbuf_puts(out, ",\"name\":");
    put_string(out, t->name);
    strbuf_puts(out, ",\"price\":");
    put_string(out, price);
    strbuf_puts(out, ",\"quantity\":");
    put_int(out, t->quantity);
    strbuf_puts(out, "}");
  }
  const char *zone = e->timezone ? e->timezone : "UTC";
  char local[EVENTS_LOCAL_ISO_MAX];
  strbuf_puts(out, "],\"timezone\":");
  put_string(out, zone);
  strbuf_puts(out, ",\"local_date_time\":");
  if (events_local_iso(e->date_time, zone, local))
    put_string(out, local);
  else
    strbuf_puts(out, "null");
  strbuf_puts(out, ",\"waitlist_offer_hours\":");
  if (e->waitlist_offer_hours)
    put_int(out, e->waitlist_offer_hours);
  else
    strbuf_puts(out, "null");
  strbuf_puts(out, "}");
  return true;
}

/* e's JSON by jansson, with an empty base URL: the reference. */
static bool
dump_event(const struct event *e, struct strbuf *out, size_t *image_at)
{
  /* Serialised with an empty base, the image is "/media/..."; the base URL
   * goes right before it. The key's quotes cannot occur unescaped inside a
   * string value, so the first match is the key. */
  json_t *obj = events_serialize(e, "");
  char *json = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
  json_decref(obj);
  if (json == NULL)
    return false;
  *image_at = SIZE_MAX;
  if (e->image) {
    const char key[] = "\"image\":\"";
    char *at = strstr(json, key);
    if (at)
      *image_at = (size_t)(at - json) + sizeof key - 1;
  }
  strbuf_puts(out, json);
  free(json);
  return true;
}

bool
events_cache_json(const struct event *e, const char *base_url, struct strbuf *out)
{
  struct strbuf json = {0};
  size_t image_at;
  if (!write_event(e, &json, &image_at) && !dump_event(e, &json, &image_at)) {
    strbuf_free(&json);
    return false;
  }
  if (!json.failed)
    emit(json.data, json.len, image_at, base_url, out);
  bool ok = !json.failed;
  strbuf_free(&json);
  return ok && !out->failed;
}

bool
events_cache_render(const struct event *e, const char *base_url, struct strbuf *out)
{
  struct strbuf json = {0};
  size_t image_at;
  if (!write_event(e, &json, &image_at) && !dump_event(e, &json, &image_at)) {
    strbuf_free(&json);
    return false;
  }
  if (json.failed) {
    strbuf_free(&json);
    return false;
  }
  size_t len = json.len;
  if (image_at > len)
    image_at = len + 1;
  emit(json.data, len, image_at, base_url, out);
  struct entry *entry;
  uint64_t key = ((uint64_t)e->id * 0x9E3779B97F4A7C15ull) ^ (uint64_t)e->version;
  if (atomic_load(&shard_budget) > 0 && seen_before(&seen_events, key * 0xBF58476D1CE4E5B9ull) &&
      (entry = malloc(sizeof *entry + len + 1))) {
    entry->id = e->id;
    entry->version = e->version;
    entry->len = len;
    entry->image_at = image_at;
    memcpy(entry->json, json.data, len + 1);
    store(entry);
  }
  strbuf_free(&json);
  return !out->failed;
}

/* ---- whole answers ---- */

static uint64_t
hash_key(const char *key)
{
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)key; *p; p++)
    h = (h ^ *p) * 1099511628211ull;
  return h;
}

void
events_answer_release(void *answer)
{
  struct answer *a = answer;
  if (a && atomic_fetch_sub(&a->refs, 1) == 1) {
    free(a->body);
    free(a);
  }
}

/* Unlinks *link, dropping the cache's reference. Under the shard's lock. */
static void
answer_unlink(struct answer_shard *s, struct answer **link)
{
  struct answer *a = *link;
  *link = a->next;
  s->bytes -= a->size;
  events_answer_release(a);
}

static void
answers_clear_shard(struct answer_shard *s)
{
  for (int b = 0; b < ANSWER_BUCKETS; b++)
    while (s->buckets[b])
      answer_unlink(s, &s->buckets[b]);
}

static void
answers_clear(void)
{
  for (int i = 0; i < ANSWER_SHARDS; i++) {
    pthread_mutex_lock(&answer_shards[i].lock);
    answers_clear_shard(&answer_shards[i]);
    pthread_mutex_unlock(&answer_shards[i].lock);
  }
}

const struct events_answer *
events_answer_get(uint64_t version, const char *key, int64_t now)
{
  if (atomic_load(&answer_budget) == 0)
    return NULL;
  uint64_t hash = hash_key(key);
  struct answer_shard *s = &answer_shards[hash % ANSWER_SHARDS];
  struct answer *found = NULL;
  pthread_mutex_lock(&s->lock);
  struct answer **link = &s->buckets[(hash / ANSWER_SHARDS) % ANSWER_BUCKETS];
  while (*link) {
    struct answer *a = *link;
    if (a->hash != hash || strcmp(a->key, key) != 0) {
      link = &a->next;
      continue;
    }
    if (a->version == version && now <= a->pub.valid_until) {
      atomic_fetch_add(&a->refs, 1);
      found = a;
    } else if (a->version <= version || now > a->pub.valid_until) {
      answer_unlink(s, link); /* old: it can never be given again */
    }
    break;
  }
  pthread_mutex_unlock(&s->lock);
  return found ? &found->pub : NULL;
}

/* Stores a (taking a reference of the cache's), replacing key's older answer. */
static void
answer_store(struct answer *a)
{
  size_t budget = atomic_load(&answer_budget);
  if (a->size > budget)
    return;
  struct answer_shard *s = &answer_shards[a->hash % ANSWER_SHARDS];
  pthread_mutex_lock(&s->lock);
  struct answer **bucket = &s->buckets[(a->hash / ANSWER_SHARDS) % ANSWER_BUCKETS];
  for (struct answer **link = bucket; *link; link = &(*link)->next) {
    if ((*link)->hash == a->hash && strcmp((*link)->key, a->key) == 0) {
      if ((*link)->version > a->version) { /* a newer one came first */
        pthread_mutex_unlock(&s->lock);
        return;
      }
      answer_unlink(s, link);
      break;
    }
  }
  /* Room is made as in the cache of events' JSON: bucket after bucket. */
  for (size_t swept = 0; s->bytes + a->size > budget && swept < ANSWER_BUCKETS; ) {
    if (s->buckets[s->hand] == NULL) {
      s->hand = (s->hand + 1) % ANSWER_BUCKETS;
      swept++;
    } else {
      answer_unlink(s, &s->buckets[s->hand]);
    }
  }
  atomic_fetch_add(&a->refs, 1);
  a->next = *bucket;
  *bucket = a;
  s->bytes += a->size;
  pthread_mutex_unlock(&s->lock);
}

const struct events_answer *
events_answer_make(uint64_t version, const char *key, bool store, char *body, size_t len,
                   const char *etag, int64_t total, int64_t valid_until, bool public_event)
{
  size_t key_len = strlen(key);
  struct answer *a = malloc(sizeof *a + key_len + 1);
  if (a == NULL) {
    free(body);
    return NULL;
  }
  store = store && atomic_load(&answer_budget) > 0 && seen_before(&seen_answers, hash_key(key));
  /* A body built by doubling may hold twice its length: kept, it would
   * count for less than it takes. */
  char *fitted = store && len ? realloc(body, len) : NULL;
  if (fitted)
    body = fitted;
  a->pub = (struct events_answer){
    .body = body, .len = len, .total = total, .valid_until = valid_until,
    .public_event = public_event,
  };
  snprintf(a->pub.etag, sizeof a->pub.etag, "%s", etag ? etag : "");
  atomic_init(&a->refs, 1);
  a->next = NULL;
  a->version = version;
  a->hash = hash_key(key);
  a->size = sizeof *a + key_len + 1 + len;
  a->body = body;
  memcpy(a->key, key, key_len + 1);
  if (store)
    answer_store(a);
  return &a->pub;
}
