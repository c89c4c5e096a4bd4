/*
 * checkin_page.c - docs/api.md "The door's page": /checkin/ in a real
 * browser, and what it leaves on the server.
 *
 * Headless Chromium (tests/support/checkin_browser.py drives it with its
 * DevTools protocol) signs in as a member of the event's staff, picks the
 * event and scans tickets with a fake camera fed a video of each ticket's
 * own QR PNG: green, yellow when scanned again, red for a code typed that
 * no ticket has; then offline, two tickets decided by the page and kept,
 * the page reloaded from its service worker, and back online. Screenshots
 * of each answer are kept in test-artifacts/checkin_page/ of the build.
 * The server must then hold every check-in, made by that device, the
 * offline ones at the time they were scanned.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support/api.h"
#include "support/browser.h"

TestSuite(checkin_page, .init = api_server_start, .fini = api_server_stop);

/* A file in the test's folder holding the QR PNG of code, as its holder gets it. */
static const char *qr_png(const char *token, const char *code, const char *name)
{
  struct api_resp *r = api_get(api_printf("/api/tickets/%s/qr.png/", code), token);
  expect_status(r, 200);
  cr_assert_str_eq(api_header(r, "Content-Type"), "image/png");
  const char *path = api_printf("%s/%s.png", api_server_dir(), name);
  FILE *f = fopen(path, "wb");
  cr_assert(f != NULL);
  cr_assert_eq(fwrite(r->body, 1, r->len, f), r->len);
  cr_assert_eq(fclose(f), 0);
  return path;
}

static const char *registered(const struct api_user *who, long long event, long long type)
{
  struct api_resp *r = api_post(api_printf("/api/registrations/%lld/register/", event),
                                who->access, api_jsonf("{\"ticket_type\":%lld}", type));
  expect_status(r, 200);
  return api_ticket_code(r);
}

/* The audit rows of ticket code, oldest first (the audit is newest first). */
static json_t *audit_of(json_t *audit, const char *code)
{
  json_t *rows = api_keep_json(json_array());
  for (size_t i = json_array_size(audit); i-- > 0;) {
    json_t *row = json_array_get(audit, i);
    if (strcmp(json_string_value(json_object_get(row, "ticket")), code) == 0)
      json_array_append(rows, row);
  }
  return rows;
}

Test(checkin_page, staff_scan_online_and_offline_and_the_server_has_every_check_in,
     .timeout = 300)
{
  const char *browser = api_chromium();
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user vera = api_signup("vera", NULL);
  struct api_event e = api_create_event(olga.access, api_json(
      "{'title':'Door night','capacity':0,'ticket_types':[{'name':'General','price':'10',"
      "'quantity':0},{'name':'VIP','price':'50','quantity':0}]}"));
  expect_status(api_post(api_printf("/api/events/%lld/staff/", e.id), olga.access,
                         api_jsonf("{\"user\":%lld}", vera.id)), 201);
  struct api_user ada = api_signup("ada", NULL), bob = api_signup("bob", NULL),
                  cyd = api_signup("cyd", NULL);
  const char *a = registered(&ada, e.id, e.ticket_types[0]);
  const char *b = registered(&bob, e.id, e.ticket_types[1]);
  const char *c = registered(&cyd, e.id, e.ticket_types[0]);
  const char *pngs = api_printf("'%s' '%s' '%s'", qr_png(ada.access, a, "a"),
                                qr_png(bob.access, b, "b"), qr_png(cyd.access, c, "c"));
  const char *work = api_artifacts("checkin_page");
  long long started = api_now_us();

  const char *out = api_run(api_printf(
      "timeout 240 python3 '%s' '%s' '%s' '%s' vera '%s' %lld %s 2>&1",
      api_source_file("tests/support/checkin_browser.py"), browser, api_url(""), work,
      API_PASSWORD, e.id, pngs));

  /* What the page showed. */
  json_t *seen = api_keep_json(json_loads(strrchr(out, '{') ? strrchr(out, '{') : out, 0, NULL));
  cr_assert_not_null(seen, "the driver's answer is not JSON:\n%s", out);
  const char *device = json_string_value(json_object_get(seen, "device"));
  cr_assert(device && strncmp(device, "scanner-", 8) == 0, "device %s", out);
  const char *green = json_string_value(json_object_get(seen, "green"));
  cr_assert(strstr(green, "ada") && strstr(green, "General"), "green: %s", green);
  const char *yellow = json_string_value(json_object_get(seen, "yellow"));
  cr_assert(strstr(yellow, "Already checked in") && strstr(yellow, "ada") &&
            strstr(yellow, device), "yellow: %s", yellow);
  cr_assert(strstr(json_string_value(json_object_get(seen, "red")), "Unknown ticket"), "%s", out);
  json_t *offline = json_object_get(seen, "offline");
  cr_assert(strstr(json_string_value(json_array_get(offline, 0)), "bob") &&
            strstr(json_string_value(json_array_get(offline, 0)), "VIP"), "%s", out);
  cr_assert(strstr(json_string_value(json_array_get(offline, 1)), "cyd"), "%s", out);
  cr_assert_eq(json_array_size(json_object_get(seen, "screenshots")), 5, "%s", out);

  /* What the server holds: every ticket in, once, by vera on that device. */
  struct api_resp *r = api_get(api_printf("/api/events/%lld/registrations/", e.id), olga.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 3);
  for (size_t i = 0; i < 3; i++) {
    json_t *ticket = json_object_get(json_array_get(r->json, i), "ticket");
    cr_assert(json_is_true(json_object_get(ticket, "is_checked_in")), "%s", r->body);
  }
  struct api_resp *audit = api_get(api_printf("/api/events/%lld/check-ins/audit/", e.id),
                                   olga.access);
  expect_status(audit, 200);
  const char *codes[] = {a, b, c};
  long long scanned[3];
  for (size_t i = 0; i < 3; i++) {
    json_t *rows = audit_of(audit->json, codes[i]);
    cr_assert_eq(json_array_size(rows), 1, "ticket %zu: %s", i, audit->body);
    json_t *row = json_array_get(rows, 0);
    cr_assert_str_eq(json_string_value(json_object_get(row, "action")), "check_in");
    cr_assert_str_eq(json_string_value(json_object_get(row, "username")), "vera");
    cr_assert_str_eq(json_string_value(json_object_get(row, "device")), device);
    scanned[i] = api_parse_iso_us(json_string_value(json_object_get(row, "at")));
    cr_assert_geq(scanned[i], started - 1000000, "%s", audit->body);
  }
  /* The scans happened in the order the camera saw them; the offline
   * ones are dated when they were scanned, not when they were sent. */
  cr_assert_lt(scanned[0], scanned[1]);
  cr_assert_lt(scanned[1], scanned[2]);
  struct api_resp *stats = api_get(api_printf("/api/events/%lld/check-ins/stats/", e.id),
                                   vera.access);
  expect_status(stats, 200);
  expect_int(stats, "checked_in", 3);
}

/* The page and its files: no script from elsewhere, no inline script, a
 * strong ETag for every file, and the QR reader served locally. */
Test(checkin_page, the_page_and_its_files_are_served_from_the_server)
{
  struct api_resp *page = api_get("/checkin/", NULL);
  expect_status(page, 200);
  cr_assert_str_eq(api_header(page, "Content-Type"), "text/html; charset=utf-8");
  const char *policy = api_header(page, "Content-Security-Policy");
  cr_assert(policy && strstr(policy, "script-src 'self';") && strstr(policy, "default-src 'self'"),
            "%s", policy ? policy : "(none)");
  cr_assert_null(strstr(page->body, "http://"));
  cr_assert_null(strstr(page->body, "https://"));
  cr_assert_null(strstr(page->body, "<script>"), "no inline script: the policy forbids it");
  expect_status(api_get("/checkin", NULL), 200);

  const char *files[][2] = {
    {"/checkin/checkin.js", "text/javascript; charset=utf-8"},
    {"/checkin/checkin.css", "text/css; charset=utf-8"},
    {"/checkin/sw.js", "text/javascript; charset=utf-8"},
    {"/checkin/checkin.webmanifest", "application/manifest+json"},
    {"/checkin/jsQR.js", "text/javascript; charset=utf-8"},
  };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    struct api_resp *r = api_get(files[i][0], NULL);
    expect_status(r, 200);
    cr_assert_str_eq(api_header(r, "Content-Type"), files[i][1], "%s", files[i][0]);
    cr_assert_str_eq(api_header(r, "X-Content-Type-Options"), "nosniff");
    const char *etag = api_header(r, "ETag");
    cr_assert(etag && etag[0] == '"', "%s: ETag %s", files[i][0], etag ? etag : "(none)");
    const char *const if_none_match[] = {api_printf("If-None-Match: %s", etag), NULL};
    struct api_resp *again = api_request("GET", files[i][0], NULL, NULL, NULL, 0, if_none_match);
    expect_status(again, 304);
    cr_assert_eq(again->len, 0);
  }
  /* The page itself is /checkin/; nothing else is served from the folder. */
  expect_status(api_get("/checkin/index.html", NULL), 404);
  expect_status(api_get("/checkin/..%2Fapp.c", NULL), 404);
  expect_status(api_get("/checkin/nothing.js", NULL), 404);
}
