#include "events/cache.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "events/serializers.h"

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
};

static struct answer_shard answer_shards[ANSWER_SHARDS];
static atomic_size_t answer_budget; /* per shard; 0: nothing stored */

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

/* Stores entry, replacing the event's older version; clears a full shard. */
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
  if (s->bytes + size > budget)
    clear_shard(s); /* simple and bounded: a full shard starts over */
  entry->next = s->buckets[bucket_of(entry->id)];
  s->buckets[bucket_of(entry->id)] = entry;
  s->bytes += size;
  pthread_mutex_unlock(&s->lock);
}

bool
events_cache_render(const struct event *e, const char *base_url, struct strbuf *out)
{
  /* Serialised with an empty base, the image is "/media/..."; the base URL
   * goes right before it. The key's quotes cannot occur unescaped inside a
   * string value, so the first match is the key. */
  json_t *obj = events_serialize(e, "");
  char *json = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
  json_decref(obj);
  if (json == NULL)
    return false;
  size_t len = strlen(json);
  size_t image_at = len + 1;
  if (e->image) {
    const char key[] = "\"image\":\"";
    char *at = strstr(json, key);
    if (at)
      image_at = (size_t)(at - json) + sizeof key - 1;
  }
  emit(json, len, image_at, base_url, out);
  struct entry *entry;
  if (atomic_load(&shard_budget) > 0 && (entry = malloc(sizeof *entry + len + 1))) {
    entry->id = e->id;
    entry->version = e->version;
    entry->len = len;
    entry->image_at = image_at;
    memcpy(entry->json, json, len + 1);
    store(entry);
  }
  free(json);
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
  if (s->bytes + a->size > budget)
    answers_clear_shard(s); /* simple and bounded: a full shard starts over */
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
