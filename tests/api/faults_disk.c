/*
 * faults_disk.c - a full disk. The database (on SQLite) and the uploaded
 * media live on a small tmpfs that the test mounts, then fills: every
 * write is answered 503 with a message that says the storage is full,
 * reads go on being served, nothing is corrupted (`PRAGMA
 * integrity_check`, counters equal rows), and once space is freed writes
 * work again. On PostgreSQL only the media are on the small disk.
 *
 * Mounting needs root (CI runs the suite as root); without it the test
 * fails, saying so, rather than skip. The mount is made in a mount
 * namespace of the test process's own, so that it goes with the process
 * whatever happens to it; the teardown unmounts it all the same.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "support/api.h"
#include "support/db.h"

#define FULL "{'detail':'The server is out of storage space. Please retry later.'}"

/* Room for the database and a few images, little enough to fill at once. */
#define DISK_SIZE "size=4m"

static char disk[64];         /* the small filesystem's mount point */
static bool mounted;

static void
unmount_disk(void)
{
  if (mounted && umount2(disk, 0) != 0)
    umount2(disk, MNT_DETACH); /* still in use: gone once it is not */
  mounted = false;
  if (disk[0])
    rmdir(disk);
  disk[0] = '\0';
}

static void
mount_disk(void)
{
  /* Not a skip: CI runs the suite as root, and a skipped fault test
   * proves nothing. */
  cr_assert_eq(geteuid(), 0, "mounting a small filesystem for the full-disk test needs root"
               " (run the suite as root, as CI does)");
  /* A mount namespace of this process's own (and its children's): the
   * mount cannot outlive the test, nor be seen by anything else. */
  if (unshare(CLONE_NEWNS) == 0)
    cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0,
                 "make the mounts private: %s", strerror(errno));
  snprintf(disk, sizeof disk, "/tmp/eventapi-disk-XXXXXX");
  cr_assert(mkdtemp(disk) != NULL, "mkdtemp: %s", strerror(errno));
  if (mount("eventapi-test", disk, "tmpfs", MS_NOSUID | MS_NODEV, DISK_SIZE ",mode=0700") != 0) {
    int error = errno;
    rmdir(disk);
    disk[0] = '\0';
    cr_assert_fail("cannot mount a 4 MiB tmpfs for the full-disk test: %s (the suite must run "
                   "as root where mounting is allowed, as CI does)", strerror(error));
  }
  mounted = true;
}

static void
start(void)
{
  mount_disk();
  const char *media = api_printf("%s/media", disk);
  const char *database = api_printf("sqlite:///%s/db.sqlite3", disk);
  const char *sqlite_env[] = {"WORKER", "off", "MEDIA_ROOT", media, "DATABASE_URL", database, NULL};
  const char *postgres_env[] = {"WORKER", "off", "MEDIA_ROOT", media, NULL};
  api_server_start_with(api_on_postgres() ? postgres_env : sqlite_env);
}

static void
stop(void)
{
  api_server_stop();
  unmount_disk();
}

TestSuite(disk, .init = start, .fini = stop, .timeout = 300);

/* ---- filling and freeing ------------------------------------------------------ */

static const char *
filler(void)
{
  return api_printf("%s/filler", disk);
}

/* Writes a file until the filesystem has not one byte left. */
static void
fill_disk(void)
{
  int fd = open(filler(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  cr_assert(fd >= 0, "open %s: %s", filler(), strerror(errno));
  static char block[64 * 1024];
  size_t chunk = sizeof block;
  while (chunk > 0) {
    ssize_t n = write(fd, block, chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      cr_assert_eq(errno, ENOSPC, "write %s: %s", filler(), strerror(errno));
      chunk /= 2; /* the last bytes, in smaller and smaller pieces */
    }
  }
  close(fd);
}

static void
free_disk(void)
{
  cr_assert_eq(unlink(filler()), 0, "unlink %s: %s", filler(), strerror(errno));
}

/* The files in the media folder, temporary ones included. */
static int
media_files(void)
{
  const char *media = api_printf("%s/media", disk);
  DIR *dir = opendir(media);
  cr_assert(dir != NULL, "opendir %s: %s", media, strerror(errno));
  int files = 0;
  for (struct dirent *d; (d = readdir(dir)) != NULL;)
    files += strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
  closedir(dir);
  return files;
}

static void
expect_full(struct api_resp *r)
{
  expect_status(r, 503);
  expect_body(r, FULL);
  expect_header(r, "Retry-After", "1");
}

/* ---- the story ---------------------------------------------------------------- */

static struct api_resp *
upload(long long event, const char *token, size_t size)
{
  size_t len;
  const unsigned char *png = api_png(size, &len);
  return api_attempt("PUT", api_printf("/api/events/%lld/image/", event), token, "image/png", png,
                     len);
}

Test(disk, a_full_disk_refuses_writes_with_503_serves_reads_and_recovers)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user ann = api_signup("ann", NULL);
  struct api_user bob = api_signup("bob", NULL);
  struct api_event e = api_create_event(olga.access, "{'capacity':1}");
  const char *register_path = api_printf("/api/registrations/%lld/register/", e.id);
  expect_status(api_post(register_path, ann.access, "{}"), 200);
  struct api_resp *r = upload(e.id, olga.access, 0);
  expect_status(r, 200);
  const char *image = api_strdup(json_string_value(json_object_get(r->json, "image")));

  fill_disk();

  /* Writes: 503, saying why. */
  expect_full(upload(e.id, olga.access, 64 * 1024));
  cr_assert_eq(media_files(), 1, "a refused upload left a file behind");
  if (!api_on_postgres()) {
    expect_full(api_attempt_json("POST", "/api/users/register/", NULL, api_json(
        "{'username':'late','email':'late@example.com','password':'" API_PASSWORD "'}")));
    expect_full(api_attempt_json("POST", register_path, bob.access, "{}"));
    expect_full(api_attempt_json("PATCH", api_printf("/api/events/%lld/update/", e.id),
                                 olga.access, api_json("{'location':'Elsewhere'}")));
    expect_full(api_attempt_json("POST", "/api/events/create/", olga.access,
                                 api_event_json(NULL)));
  }

  /* Reads: served, as before. */
  r = api_get(api_printf("/api/events/%lld/", e.id), NULL);
  expect_status(r, 200);
  expect_str(r, "location", "Berlin");
  expect_str(r, "image", image);
  expect_status(api_get("/api/events/", NULL), 200);
  expect_status(api_get("/api/registrations/me/", ann.access), 200);
  expect_status(api_get(image, NULL), 200);
  expect_status(api_get("/healthz", NULL), 200);
  api_expect_database_consistent();

  free_disk();

  /* Writes again, each as if the disk had never been full. */
  expect_status(upload(e.id, olga.access, 64 * 1024), 200);
  cr_assert_eq(media_files(), 1, "the new image, and not the one it replaced");
  if (!api_on_postgres()) {
    api_signup("late", NULL);
    r = api_post(register_path, bob.access, "{}");
    expect_status(r, 200);
    expect_bool(r, "is_waitlisted", true);
    r = api_patch(api_printf("/api/events/%lld/update/", e.id), olga.access,
                  api_json("{'location':'Elsewhere'}"));
    expect_status(r, 200);
    expect_str(r, "location", "Elsewhere");
    api_create_event(olga.access, NULL);
  }
  cr_assert_eq(api_db_int("SELECT COUNT(*) FROM registrations WHERE event_id = ?", e.id),
               api_on_postgres() ? 1 : 2);
  api_expect_database_consistent();
}
