/*
 * browser.h - a real browser for the tests of the web pages: Debian's
 * chromium, found on PATH, and commands run to their end.
 */
#ifndef EVENTAPI_TESTS_BROWSER_H
#define EVENTAPI_TESTS_BROWSER_H

/*
 * The Chromium binary on PATH. Without one, the test is skipped, and under
 * CI (which installs it: scripts/install-deps --test) it fails instead.
 * Harness-owned.
 */
const char *api_chromium(void);

/* The absolute path of a file of the source tree (relative to its root). */
const char *api_source_file(const char *relative);

/*
 * Runs command with sh -c and returns everything it wrote on stdout
 * (harness-owned); fails the test, with that output, unless it exits 0.
 */
const char *api_run(const char *command);

/* The folder for what a test keeps for people to look at (screenshots):
 * $EVENTAPI_ARTIFACTS/name, created empty. Harness-owned. */
const char *api_artifacts(const char *name);

#endif
