/*
 * fault_vfs.h - a SQLite VFS that fails on purpose, for the I/O fault
 * tests (SQLite's own test suite does the same with its "crash" and
 * "devsym" VFSes).
 *
 * fault_vfs_install() registers, as the default VFS, a wrapper of the
 * default one that passes every call through, except that once armed it
 * fails the Nth write, or the Nth sync, of a database file (the main file
 * or its write-ahead log): a write with SQLITE_IOERR_WRITE, a sync with
 * SQLITE_IOERR_FSYNC. Call it before the in-process server starts, so
 * that every connection the server opens uses it.
 *
 * The server's writer does not fsync the log through SQLite: a thread of
 * its own calls fdatasync(2) on it (src/db/write.c). So that those syncs
 * fail too, the program that links this file also gets its fdatasync():
 * the executable's definition is the one the server's code calls. A sync
 * made by SQLite itself is counted once, at the VFS.
 *
 * Counters and switches are atomic: the server's writer and syncer threads
 * meet them while the test's thread arms and reads them.
 */
#ifndef EVENTAPI_TESTS_FAULT_VFS_H
#define EVENTAPI_TESTS_FAULT_VFS_H

#include <stdbool.h>

enum fault_kind { FAULT_NONE, FAULT_WRITE, FAULT_SYNC };

/* Registers the VFS as the default one (once; later calls do nothing). */
void fault_vfs_install(void);

/*
 * From now on, counts the writes (FAULT_WRITE) or syncs (FAULT_SYNC) of
 * database files and fails the nth of them (n >= 1); with every_one, that
 * one and every one after it, until fault_disarm().
 */
void fault_arm(enum fault_kind kind, long n, bool every_one);

/* Stops failing and counting. */
void fault_disarm(void);

/* How many operations failed since the last fault_arm(). */
long fault_failures(void);

/* Syncs of the main database file (not its log) that succeeded since
 * fault_vfs_install(): each is the end of a checkpoint. */
long fault_database_syncs(void);

#endif
