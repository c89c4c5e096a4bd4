#include "users/urls.h"

#include "users/keys_views.h"
#include "users/views.h"

/* API.md: tokens are also served under the original's alias prefixes. */
#define TOKEN_ROUTES(prefix)                                                     \
  {HTTP_POST, prefix "token/", users_token_obtain_view, ROUTE_NO_AUTH},               \
  {HTTP_POST, prefix "token/refresh/", users_token_refresh_view, ROUTE_NO_AUTH}

static const struct route routes[] = {
  {HTTP_POST, "/api/users/register/", users_register_view, 0},
  {HTTP_POST, "/api/auth/register/", users_register_view, 0},
  TOKEN_ROUTES("/auth/"),
  TOKEN_ROUTES("/api/"),
  TOKEN_ROUTES("/api/auth/"),
  TOKEN_ROUTES("/api/users/"),
  {HTTP_POST, "/auth/token/verify/", users_token_verify_view, ROUTE_NO_AUTH},
  {HTTP_POST, "/auth/token/blacklist/", users_token_blacklist_view, ROUTE_NO_AUTH},
  {HTTP_GET, "/api/users/me/", users_me_get_view, 0},
  {HTTP_PUT | HTTP_PATCH, "/api/users/me/", users_me_update_view, 0},
  {HTTP_GET, "/api/auth/me/", users_me_get_view, 0},
  {HTTP_PUT | HTTP_PATCH, "/api/auth/me/", users_me_update_view, 0},
  {HTTP_POST, "/api/users/me/password/", users_me_password_view, 0},
  {HTTP_GET, "/api/users/", users_admin_list_view, 0},
  {HTTP_GET, "/api/users/<int:id>/", users_admin_get_view, 0},
  {HTTP_PATCH, "/api/users/<int:id>/", users_admin_update_view, 0},
  {HTTP_DELETE, "/api/users/<int:id>/", users_admin_delete_view, 0},
  {HTTP_GET, "/api/keys/", users_keys_list_view, 0},
  {HTTP_POST, "/api/keys/", users_keys_create_view, 0},
  {HTTP_DELETE, "/api/keys/<int:id>/", users_keys_delete_view, 0},
};

int
users_urls_register(void)
{
  return http_routes_add(routes, sizeof routes / sizeof routes[0]);
}
