/*
 * media.c - storing, removing and serving files under MEDIA_ROOT.
 *
 * Every path is MEDIA_ROOT + "/" + a name that media_name_valid() accepted,
 * so no name can climb out of the folder or point at a temporary file.
 */
#include "http/media.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"

#define MEDIA_HEX 32
#define MEDIA_SERVE_MAX (64 * 1024 * 1024) /* far above any upload */

static const struct {
  const char *ext;
  const char *type;
} media_types[] = {
  {"png", "image/png"},
  {"jpg", "image/jpeg"},
  {"gif", "image/gif"},
  {"webp", "image/webp"},
};

static const char *
type_of_ext(const char *ext)
{
  for (size_t i = 0; i < sizeof media_types / sizeof media_types[0]; i++)
    if (strcmp(ext, media_types[i].ext) == 0)
      return media_types[i].type;
  return NULL;
}

bool
media_name_valid(const char *name)
{
  return media_content_type(name) != NULL;
}

const char *
media_content_type(const char *name)
{
  if (name == NULL)
    return NULL;
  for (int i = 0; i < MEDIA_HEX; i++)
    if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
      return NULL; /* also stops at a short name's NUL */
  if (name[MEDIA_HEX] != '.')
    return NULL;
  return type_of_ext(name + MEDIA_HEX + 1);
}

/* root + "/" + name into path; false when it does not fit. */
static bool
join(char *path, size_t size, const char *root, const char *name)
{
  int n = snprintf(path, size, "%s/%s", root, name);
  return n > 0 && (size_t)n < size;
}

/* The code of a failed file operation: full storage is not an I/O fault. */
static int
storage_error(int error)
{
  return error == ENOSPC || error == EDQUOT ? EVENTAPI_EFULL : EVENTAPI_EIO;
}

/* mkdir -p root, each level 0750. */
static int
make_root(const char *root)
{
  char path[PATH_MAX];
  size_t len = strlen(root);
  if (len == 0 || len >= sizeof path)
    return EVENTAPI_EIO;
  memcpy(path, root, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (path[i] != '/' && path[i] != '\0')
      continue;
    char saved = path[i];
    path[i] = '\0';
    if (mkdir(path, 0750) != 0 && errno != EEXIST) {
      int error = errno;
      log_error("media: cannot create %s: %s", path, strerror(error));
      return storage_error(error);
    }
    path[i] = saved;
  }
  struct stat st;
  if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
    log_error("media: MEDIA_ROOT %s is not a folder", root);
    return EVENTAPI_EIO;
  }
  return 0;
}

static void
random_hex(char out[MEDIA_HEX + 1])
{
  unsigned char bytes[MEDIA_HEX / 2];
  randombytes_buf(bytes, sizeof bytes);
  sodium_bin2hex(out, MEDIA_HEX + 1, bytes, sizeof bytes);
}

static int
write_all(int fd, const unsigned char *data, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

static int
fsync_dir(const char *root)
{
  int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

int
media_store(const char *root, const void *data, size_t len, const char *ext,
            char name[MEDIA_NAME_SIZE])
{
  if (type_of_ext(ext) == NULL)
    return EVENTAPI_EINVAL;
  int rc = make_root(root);
  if (rc < 0)
    return rc;

  char hex[MEDIA_HEX + 1], tmp_hex[MEDIA_HEX + 1];
  char tmp_path[PATH_MAX], final_path[PATH_MAX], tmp_name[64];
  random_hex(hex);
  random_hex(tmp_hex);
  snprintf(name, MEDIA_NAME_SIZE, "%s.%s", hex, ext);
  snprintf(tmp_name, sizeof tmp_name, ".upload-%s.tmp", tmp_hex);
  if (!join(tmp_path, sizeof tmp_path, root, tmp_name) ||
      !join(final_path, sizeof final_path, root, name)) {
    log_error("media: MEDIA_ROOT path too long");
    return EVENTAPI_EIO;
  }

  int fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd < 0) {
    int error = errno;
    log_error("media: cannot create %s: %s", tmp_path, strerror(error));
    return storage_error(error);
  }
  const char *failed = NULL;
  if (fchmod(fd, 0640) != 0) /* whatever the umask */
    failed = "chmod";
  else if (write_all(fd, data, len) != 0)
    failed = "write";
  else if (fsync(fd) != 0)
    failed = "fsync";
  int error = errno;
  if (close(fd) != 0 && failed == NULL)
    failed = "close", error = errno;
  if (failed == NULL && rename(tmp_path, final_path) != 0)
    failed = "rename", error = errno;
  if (failed) {
    log_error("media: cannot store %s (%s): %s", final_path, failed, strerror(error));
    unlink(tmp_path);
    return storage_error(error);
  }
  if (fsync_dir(root) != 0) {
    /* The file is complete but its name may not survive a crash: fail. */
    log_error("media: cannot fsync %s: %s", root, strerror(errno));
    unlink(final_path);
    return EVENTAPI_EIO;
  }
  return 0;
}

int
media_remove(const char *root, const char *name)
{
  char path[PATH_MAX];
  if (!media_name_valid(name))
    return 0;
  if (!join(path, sizeof path, root, name))
    return EVENTAPI_EIO;
  if (unlink(path) != 0 && errno != ENOENT) {
    log_error("media: cannot remove %s: %s", path, strerror(errno));
    return EVENTAPI_EIO;
  }
  return 0;
}

/*
 * Whether an If-None-Match header names etag (quoted): "*", or a list of
 * entity tags compared weakly (RFC 9110 13.1.2), W/ prefixes ignored.
 */
bool
media_etag_listed(const char *header, const char *etag)
{
  size_t etag_len = strlen(etag);
  const char *p = header;
  while (*p) {
    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    if (*p == '*')
      return true;
    if (p[0] == 'W' && p[1] == '/')
      p += 2;
    if (*p == '"') {
      const char *close = strchr(p + 1, '"');
      if (close == NULL)
        return false;
      if ((size_t)(close + 1 - p) == etag_len && memcmp(p, etag, etag_len) == 0)
        return true;
      p = close + 1;
    }
    while (*p && *p != ',')
      p++; /* the rest of this element, well formed or not */
  }
  return false;
}

/* Only on 200 and 304: an error must not be cached for a year. */
/* The size bytes of the open file fd, read whole (malloc'd), or NULL. */
static char *
read_all(int fd, size_t size)
{
  size_t got = 0;
  char *data = malloc(size ? size : 1);
  while (data && got < size) {
    ssize_t n = pread(fd, data + got, size - got, (off_t)got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  if (data && got != size) {
    free(data);
    data = NULL;
  }
  return data;
}

static void
add_cache_headers(struct http_request *req, const char *etag, const char *cache_control)
{
  http_add_header(req, "ETag", etag);
  http_add_header(req, "Cache-Control", cache_control);
  http_add_header(req, "X-Content-Type-Options", "nosniff");
}

void
media_send_file(struct http_request *req, const char *path, const char *type,
                const char *etag, const char *cache_control, off_t max)
{
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT && errno != ELOOP) /* ELOOP: a link, refused */
      log_warn("rid=%s: cannot open %s: %s", req->request_id, path, strerror(errno));
    http_reply_not_found(req);
    return;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > max) {
    close(fd);
    http_reply_not_found(req);
    return;
  }
  if (etag == NULL)
    etag = arena_printf(&req->arena, "\"%llx-%llx\"", (unsigned long long)st.st_size,
                        (unsigned long long)st.st_mtime);
  if (etag == NULL) {
    close(fd);
    http_reply_internal(req, "out of memory");
    return;
  }
  const char *if_none_match = http_header(req, "If-None-Match");
  if (if_none_match && media_etag_listed(if_none_match, etag)) {
    close(fd);
    add_cache_headers(req, etag, cache_control);
    http_reply_not_modified(req, (uint64_t)st.st_size);
    return;
  }
  size_t size = (size_t)st.st_size;
  char *data = read_all(fd, size);
  close(fd);
  if (data == NULL) {
    http_reply_internal(req, "cannot read the file");
    return;
  }
  add_cache_headers(req, etag, cache_control);
  http_reply_bytes(req, 200, type, data, size);
}

void
media_view(struct http_request *req)
{
  const char *name = req->nparams > 0 ? req->params[0] : NULL;
  const char *type = media_content_type(name);
  char path[PATH_MAX];
  if (type == NULL || !join(path, sizeof path, config->media_root, name)) {
    http_reply_not_found(req);
    return;
  }
  /* A stored name is never reused for other bytes: it is its own tag. */
  const char *etag = arena_printf(&req->arena, "\"%s\"", name);
  if (etag == NULL) {
    http_reply_internal(req, "out of memory");
    return;
  }
  media_send_file(req, path, type, etag, "public, max-age=31536000, immutable", MEDIA_SERVE_MAX);
}
