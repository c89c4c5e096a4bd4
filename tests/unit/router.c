#include <criterion/criterion.h>
#include <string.h>

#include "http/router.h"

static void view_a(struct http_request *req) { (void)req; }
static void view_b(struct http_request *req) { (void)req; }

static const struct route routes[] = {
  {HTTP_GET, "/api/users/me/", view_a, 0},
  {HTTP_PUT | HTTP_PATCH, "/api/users/me/", view_b, 0},
  {HTTP_GET, "/api/users/<int:id>/", view_a, 0},
  {HTTP_DELETE, "/api/users/<int:id>/", view_b, 0},
  {HTTP_GET, "/api/tickets/<str:code>/qr.svg", view_a, 0},
  {HTTP_POST, "/api/events/<int:id>/sessions/<int:sid>/", view_b, 0},
};

static struct http_request req;

static void
setup(void)
{
  router_reset();
  cr_assert_eq(http_routes_add(routes, sizeof routes / sizeof routes[0]), 0);
}

static void
teardown(void)
{
  arena_free(&req.arena);
}

static enum router_result
route(enum http_method method, const char *path, unsigned *allowed)
{
  arena_free(&req.arena);
  memset(&req, 0, sizeof req);
  req.method = method;
  req.path = path;
  return router_match(&req, allowed);
}

TestSuite(router, .init = setup, .fini = teardown);

Test(router, matches_with_and_without_trailing_slash)
{
  unsigned allowed;
  cr_assert_eq(route(HTTP_GET, "/api/users/me/", &allowed), ROUTER_FOUND);
  cr_assert_eq(req.route->handler, view_a);
  cr_assert_eq(route(HTTP_GET, "/api/users/me", &allowed), ROUTER_FOUND);
  cr_assert_eq(req.route->handler, view_a);
  cr_assert_eq(route(HTTP_PATCH, "/api/users/me", &allowed), ROUTER_FOUND);
  cr_assert_eq(req.route->handler, view_b);
}

Test(router, head_is_served_by_get)
{
  unsigned allowed;
  cr_assert_eq(route(HTTP_HEAD, "/api/users/me/", &allowed), ROUTER_FOUND);
  cr_assert_eq(req.route->handler, view_a);
}

Test(router, integer_parameters)
{
  unsigned allowed;
  cr_assert_eq(route(HTTP_GET, "/api/users/42/", &allowed), ROUTER_FOUND);
  cr_assert_eq(req.nparams, 1);
  cr_assert_eq(req.ids[0], 42);
  cr_assert_str_eq(req.params[0], "42");
  cr_assert_eq(route(HTTP_POST, "/api/events/7/sessions/9", &allowed), ROUTER_FOUND);
  cr_assert_eq(req.nparams, 2);
  cr_assert_eq(req.ids[0], 7);
  cr_assert_eq(req.ids[1], 9);
}

Test(router, bad_integers_are_unknown_paths)
{
  unsigned allowed;
  cr_assert_eq(route(HTTP_GET, "/api/users/abc/", &allowed), ROUTER_NO_PATH);
  cr_assert_eq(route(HTTP_GET, "/api/users/-1/", &allowed), ROUTER_NO_PATH);
  cr_assert_eq(route(HTTP_GET, "/api/users/1e3/", &allowed), ROUTER_NO_PATH);
  cr_assert_eq(route(HTTP_GET, "/api/users/9999999999999999999/", &allowed), ROUTER_NO_PATH);
  cr_assert_eq(route(HTTP_GET, "/api/users//", &allowed), ROUTER_NO_PATH);
}

Test(router, string_parameters_and_literal_tails)
{
  unsigned allowed;
  cr_assert_eq(route(HTTP_GET, "/api/tickets/ab-cd/qr.svg", &allowed), ROUTER_FOUND);
  cr_assert_str_eq(req.params[0], "ab-cd");
  cr_assert_eq(route(HTTP_GET, "/api/tickets/ab-cd/qr.png", &allowed), ROUTER_NO_PATH);
}

Test(router, unknown_paths)
{
  unsigned allowed;
  cr_assert_eq(route(HTTP_GET, "/", &allowed), ROUTER_NO_PATH);
  cr_assert_eq(route(HTTP_GET, "/api/users/me//", &allowed), ROUTER_NO_PATH);
  cr_assert_eq(route(HTTP_GET, "/api/users/me/extra/", &allowed), ROUTER_NO_PATH);
  cr_assert_eq(route(HTTP_GET, "/api/users", &allowed), ROUTER_NO_PATH);
  cr_assert_eq(route(HTTP_GET, "/API/users/me/", &allowed), ROUTER_NO_PATH);
}

Test(router, known_path_other_method)
{
  unsigned allowed;
  cr_assert_eq(route(HTTP_DELETE, "/api/users/me/", &allowed), ROUTER_NO_METHOD);
  cr_assert_eq(allowed, HTTP_GET | HTTP_HEAD | HTTP_PUT | HTTP_PATCH | HTTP_OPTIONS);
  char header[64];
  router_allow_header(allowed, header, sizeof header);
  cr_assert_str_eq(header, "GET, HEAD, PUT, PATCH, OPTIONS");
  cr_assert_eq(route(HTTP_OTHER, "/api/users/3/", &allowed), ROUTER_NO_METHOD);
  cr_assert_eq(allowed, HTTP_GET | HTTP_HEAD | HTTP_DELETE | HTTP_OPTIONS);
}

Test(router, method_names)
{
  cr_assert_eq(router_method("GET"), HTTP_GET);
  cr_assert_eq(router_method("PATCH"), HTTP_PATCH);
  cr_assert_eq(router_method("get"), HTTP_OTHER);
  cr_assert_eq(router_method("BREW"), HTTP_OTHER);
}

/*
 * A path that does not begin with '/' (the target "?a=b" decodes to "",
 * "*" stays "*") matches no route, and nothing past its end is read: here
 * the bytes after the empty path would match if they were. Found by
 * fuzz/router.c.
 */
Test(router, a_path_without_its_leading_slash_is_no_path)
{
  static const char memory[] = "\0api/users/me/";
  unsigned allowed;
  cr_assert_eq(route(HTTP_GET, memory, &allowed), ROUTER_NO_PATH);
  cr_assert_eq(allowed, 0);
  cr_assert_eq(route(HTTP_GET, "*", &allowed), ROUTER_NO_PATH);
  cr_assert_eq(route(HTTP_OPTIONS, "api/users/me/", &allowed), ROUTER_NO_PATH);
}
