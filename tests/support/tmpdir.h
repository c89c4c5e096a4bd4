/*
 * tmpdir.h - a temporary folder for each test, and the files in it.
 *
 * Criterion runs every test in its own process, so the folder is one global
 * of that process: tmpdir_create() makes it (as a suite's .init, or from
 * one) and tmpdir_remove() removes it with all it holds (as the .fini).
 *
 *   TestSuite(qr, .init = tmpdir_create, .fini = tmpdir_remove);
 *
 * The API tests' server keeps a folder of its own (api_server_dir()).
 */
#ifndef EVENTAPI_TESTS_TMPDIR_H
#define EVENTAPI_TESTS_TMPDIR_H

#include <stddef.h>

/*
 * Makes the test's folder, /tmp/eventapi-<suite>-XXXXXX (<suite> the name
 * of the Criterion suite running); fails the test when it cannot.
 */
void tmpdir_create(void);

/* The folder's path; "" before tmpdir_create() and after tmpdir_remove(). */
const char *tmpdir_path(void);

/* Removes the folder and all it holds, and expects that nothing of it is
 * left. Does nothing when there is no folder. */
void tmpdir_remove(void);

/*
 * Removes path and everything below it, never following a symbolic link:
 * for a folder made by other means (the test server's, the mail server's
 * spool). 0, or -1 when something could not be removed.
 */
int tmpdir_remove_tree(const char *path);

/* Writes text to the file name of the folder (made, or emptied first);
 * fails the test when it cannot. */
void tmpdir_write(const char *name, const char *text);

/*
 * The whole file at path (any path; at most 1 MiB is read), NUL-terminated,
 * its length in *len unless len is NULL. The caller frees it. Fails the
 * test when the file cannot be read.
 */
char *tmpdir_read(const char *path, size_t *len);

/*
 * The names in folder (any folder) but . and .., sorted, into names; more
 * than max fails the test. Returns how many; 0 when folder does not exist.
 */
size_t tmpdir_list(const char *folder, char names[][256], size_t max);

#endif
