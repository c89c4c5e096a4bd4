/*
 * fault_vfs.c - a SQLite VFS that fails the Nth write or sync (fault_vfs.h).
 */
#include "support/fault_vfs.h"

#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <string.h>

static atomic_int armed_kind;          /* enum fault_kind */
static atomic_long armed_at;           /* the first to fail, counted from 1 */
static atomic_bool armed_every_one;
static atomic_long seen;               /* operations of armed_kind since armed */
static atomic_long failures;
static atomic_long database_syncs;

/* Set while SQLite syncs through this VFS: its own fdatasync() is not
 * counted a second time. */
static _Thread_local bool in_vfs_sync;

void
fault_arm(enum fault_kind kind, long n, bool every_one)
{
  cr_assert(n >= 1, "faults are counted from 1");
  atomic_store(&armed_kind, FAULT_NONE);
  atomic_store(&seen, 0);
  atomic_store(&failures, 0);
  atomic_store(&armed_at, n);
  atomic_store(&armed_every_one, every_one);
  atomic_store(&armed_kind, kind);
}

void
fault_disarm(void)
{
  atomic_store(&armed_kind, FAULT_NONE);
}

long
fault_failures(void)
{
  return atomic_load(&failures);
}

long
fault_database_syncs(void)
{
  return atomic_load(&database_syncs);
}

/* Whether this operation of kind is to fail. */
static bool
should_fail(enum fault_kind kind)
{
  if (atomic_load(&armed_kind) != (int)kind)
    return false;
  long n = atomic_fetch_add(&seen, 1) + 1;
  long at = atomic_load(&armed_at);
  bool fail = n == at || (n > at && atomic_load(&armed_every_one));
  if (fail)
    atomic_fetch_add(&failures, 1);
  return fail;
}

/* ---- the files ------------------------------------------------------------- */

struct fault_file {
  sqlite3_file base;
  bool counted;         /* the main database or its log */
  bool main_db;
  sqlite3_file *real;   /* the wrapped VFS's file, right after this struct */
};

#define REAL(f) (((struct fault_file *)(f))->real)

static int
f_close(sqlite3_file *f)
{
  return REAL(f)->pMethods->xClose(REAL(f));
}

static int
f_read(sqlite3_file *f, void *buf, int amount, sqlite3_int64 offset)
{
  return REAL(f)->pMethods->xRead(REAL(f), buf, amount, offset);
}

static int
f_write(sqlite3_file *f, const void *buf, int amount, sqlite3_int64 offset)
{
  if (((struct fault_file *)f)->counted && should_fail(FAULT_WRITE))
    return SQLITE_IOERR_WRITE;
  return REAL(f)->pMethods->xWrite(REAL(f), buf, amount, offset);
}

static int
f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
  return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int
f_sync(sqlite3_file *f, int flags)
{
  struct fault_file *file = (struct fault_file *)f;
  if (file->counted && should_fail(FAULT_SYNC))
    return SQLITE_IOERR_FSYNC;
  in_vfs_sync = true;
  int rc = REAL(f)->pMethods->xSync(REAL(f), flags);
  in_vfs_sync = false;
  if (rc == SQLITE_OK && file->main_db)
    atomic_fetch_add(&database_syncs, 1);
  return rc;
}

static int
f_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
  return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int
f_lock(sqlite3_file *f, int level)
{
  return REAL(f)->pMethods->xLock(REAL(f), level);
}

static int
f_unlock(sqlite3_file *f, int level)
{
  return REAL(f)->pMethods->xUnlock(REAL(f), level);
}

static int
f_check_reserved_lock(sqlite3_file *f, int *out)
{
  return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int
f_file_control(sqlite3_file *f, int op, void *arg)
{
  return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int
f_sector_size(sqlite3_file *f)
{
  return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int
f_device_characteristics(sqlite3_file *f)
{
  return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int
f_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **out)
{
  return REAL(f)->pMethods->xShmMap(REAL(f), region, size, extend, out);
}

static int
f_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
  return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

static void
f_shm_barrier(sqlite3_file *f)
{
  REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int
f_shm_unmap(sqlite3_file *f, int delete_flag)
{
  return REAL(f)->pMethods->xShmUnmap(REAL(f), delete_flag);
}

static int
f_fetch(sqlite3_file *f, sqlite3_int64 offset, int amount, void **out)
{
  return REAL(f)->pMethods->xFetch(REAL(f), offset, amount, out);
}

static int
f_unfetch(sqlite3_file *f, sqlite3_int64 offset, void *p)
{
  return REAL(f)->pMethods->xUnfetch(REAL(f), offset, p);
}

static const sqlite3_io_methods fault_io = {
  .iVersion = 3,
  .xClose = f_close,
  .xRead = f_read,
  .xWrite = f_write,
  .xTruncate = f_truncate,
  .xSync = f_sync,
  .xFileSize = f_file_size,
  .xLock = f_lock,
  .xUnlock = f_unlock,
  .xCheckReservedLock = f_check_reserved_lock,
  .xFileControl = f_file_control,
  .xSectorSize = f_sector_size,
  .xDeviceCharacteristics = f_device_characteristics,
  .xShmMap = f_shm_map,
  .xShmLock = f_shm_lock,
  .xShmBarrier = f_shm_barrier,
  .xShmUnmap = f_shm_unmap,
  .xFetch = f_fetch,
  .xUnfetch = f_unfetch,
};

/* ---- the VFS: the default one's calls, with files of ours ------------------ */

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;

static int
v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
  (void)vfs;
  struct fault_file *file = (struct fault_file *)f;
  file->real = (sqlite3_file *)(file + 1);
  file->main_db = (flags & SQLITE_OPEN_MAIN_DB) != 0;
  file->counted = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) != 0;
  int rc = real_vfs->xOpen(real_vfs, name, file->real, flags, out_flags);
  /* SQLite closes a file whose methods are set, even when it failed to
   * open: ours only over a real file's. */
  file->base.pMethods = rc == SQLITE_OK && file->real->pMethods ? &fault_io : NULL;
  return rc;
}

static int
v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
  (void)vfs;
  return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int
v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
  (void)vfs;
  return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int
v_full_pathname(sqlite3_vfs *vfs, const char *name, int size, char *out)
{
  (void)vfs;
  return real_vfs->xFullPathname(real_vfs, name, size, out);
}

static void *
v_dl_open(sqlite3_vfs *vfs, const char *name)
{
  (void)vfs;
  return real_vfs->xDlOpen(real_vfs, name);
}

static void
v_dl_error(sqlite3_vfs *vfs, int size, char *out)
{
  (void)vfs;
  real_vfs->xDlError(real_vfs, size, out);
}

static void (*v_dl_sym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void)
{
  (void)vfs;
  return real_vfs->xDlSym(real_vfs, handle, symbol);
}

static void
v_dl_close(sqlite3_vfs *vfs, void *handle)
{
  (void)vfs;
  real_vfs->xDlClose(real_vfs, handle);
}

static int
v_randomness(sqlite3_vfs *vfs, int size, char *out)
{
  (void)vfs;
  return real_vfs->xRandomness(real_vfs, size, out);
}

static int
v_sleep(sqlite3_vfs *vfs, int microseconds)
{
  (void)vfs;
  return real_vfs->xSleep(real_vfs, microseconds);
}

static int
v_current_time(sqlite3_vfs *vfs, double *out)
{
  (void)vfs;
  return real_vfs->xCurrentTime(real_vfs, out);
}

static int
v_get_last_error(sqlite3_vfs *vfs, int size, char *out)
{
  (void)vfs;
  return real_vfs->xGetLastError(real_vfs, size, out);
}

static int
v_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
  (void)vfs;
  return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void
install(void)
{
  real_vfs = sqlite3_vfs_find(NULL);
  if (real_vfs == NULL)
    return;
  fault_vfs = (sqlite3_vfs){
    .iVersion = 2,
    .szOsFile = (int)sizeof(struct fault_file) + real_vfs->szOsFile,
    .mxPathname = real_vfs->mxPathname,
    .zName = "faults",
    .xOpen = v_open,
    .xDelete = v_delete,
    .xAccess = v_access,
    .xFullPathname = v_full_pathname,
    .xDlOpen = v_dl_open,
    .xDlError = v_dl_error,
    .xDlSym = v_dl_sym,
    .xDlClose = v_dl_close,
    .xRandomness = v_randomness,
    .xSleep = v_sleep,
    .xCurrentTime = v_current_time,
    .xGetLastError = v_get_last_error,
    .xCurrentTimeInt64 = v_current_time_int64,
  };
  if (sqlite3_vfs_register(&fault_vfs, 1) != SQLITE_OK)
    real_vfs = NULL;
}

void
fault_vfs_install(void)
{
  pthread_once(&installed, install);
  cr_assert(real_vfs != NULL, "cannot register the fault-injecting VFS");
}

/* ---- the server's own syncs of the log -------------------------------------- */

/*
 * The writer's syncer (src/db/write.c) calls fdatasync() on the log
 * itself; this definition, in the test's executable, is the one it
 * reaches. Each call is a sync to count, unless SQLite made it through the
 * VFS (counted there).
 */
int
fdatasync(int fd)
{
  static int (*real)(int);
  if (real == NULL)
    real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  if (!in_vfs_sync && should_fail(FAULT_SYNC)) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}
