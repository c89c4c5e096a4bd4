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

static void
init_locks(void)
{
  for (int i = 0; i < SHARDS; i++)
    pthread_mutex_init(&shards[i].lock, NULL);
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

void
events_cache_configure(size_t max_bytes)
{
  pthread_once(&once, init_locks);
  atomic_store(&shard_budget, max_bytes / SHARDS);
  events_cache_clear();
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
