/*
 * auth.c - API.md "Users and auth": the token endpoints (SimpleJWT's
 * obtain, refresh, verify, blacklist), what a Bearer token must be to be
 * let in, forged and expired tokens, and the login throttle.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "support/api.h"
#include "support/db.h"

#define ME "/api/users/me/"
#define TOKEN "/auth/token/"
#define REFRESH "/auth/token/refresh/"
#define VERIFY "/auth/token/verify/"
#define BLACKLIST "/auth/token/blacklist/"

#define NO_ACTIVE_ACCOUNT "No active account found with the given credentials"

TestSuite(auth, .init = api_server_start, .fini = api_server_stop);

static struct api_resp *log_in(const char *path, const char *username,
                               const char *password)
{
  return api_post(path, NULL, api_jsonf("{'username':'%s','password':'%s'}",
                                        username, password));
}

static struct api_resp *refresh(const char *path, const char *token)
{
  return api_post(path, NULL, api_jsonf("{'refresh':'%s'}", token));
}

static struct api_resp *verify(const char *token)
{
  return api_post(VERIFY, NULL, api_jsonf("{'token':'%s'}", token));
}

/* The request went through the auth layer and was refused as a bad token. */
static void expect_bad_token(struct api_resp *r)
{
  expect_status(r, 401);
  expect_body(r, NOT_VALID_FOR_ANY_TYPE);
  expect_header(r, "WWW-Authenticate", "Bearer realm=\"api\"");
}

/* ---- obtaining tokens --------------------------------------------------- */

Test(auth, login_answers_a_refresh_and_an_access_token)
{
  api_signup("alice", NULL);
  struct api_resp *r = log_in(TOKEN, "alice", API_PASSWORD);
  expect_status(r, 200);
  expect_json_response(r);
  expect_keys(r, "refresh", "access", NULL);

  const char *access = json_string_value(json_object_get(r->json, "access"));
  expect_status(api_get(ME, access), 200);
}

Test(auth, tokens_carry_simplejwt_claims)
{
  struct api_user alice = api_signup("alice", NULL);
  long long now = api_now();

  json_t *header = api_jwt_header(alice.access);
  cr_assert(header != NULL, "access token header does not decode: %s", alice.access);
  expect_str(header, "alg", "HS256");

  json_t *access = api_jwt_payload(alice.access);
  json_t *refresh_claims = api_jwt_payload(alice.refresh);
  cr_assert(access && refresh_claims, "tokens do not decode");
  expect_str(access, "token_type", "access");
  expect_str(refresh_claims, "token_type", "refresh");
  expect_int(access, "user_id", alice.id);
  expect_int(refresh_claims, "user_id", alice.id);

  long long iat = api_jwt_claim(alice.access, "iat");
  cr_assert(llabs(iat - now) < 60, "iat %lld is not now (%lld)", iat, now);
  cr_assert_eq(api_jwt_claim(alice.access, "exp") - iat, 1800);
  cr_assert_eq(api_jwt_claim(alice.refresh, "exp") - api_jwt_claim(alice.refresh, "iat"),
               604800);

  const char *access_jti = json_string_value(json_object_get(access, "jti"));
  const char *refresh_jti = json_string_value(json_object_get(refresh_claims, "jti"));
  cr_assert(access_jti && refresh_jti && access_jti[0] && refresh_jti[0],
            "tokens need a jti");
  cr_assert_str_neq(access_jti, refresh_jti);
}

Test(auth, each_login_gets_new_tokens)
{
  api_signup("alice", NULL);
  struct api_user first = api_login("alice", API_PASSWORD);
  struct api_user second = api_login("alice", API_PASSWORD);
  cr_assert_str_neq(json_string_value(json_object_get(api_jwt_payload(first.refresh), "jti")),
                    json_string_value(json_object_get(api_jwt_payload(second.refresh), "jti")));
}

#define FORM "application/x-www-form-urlencoded"

static struct api_resp *post_form(const char *path, const char *form)
{
  return api_request("POST", path, NULL, FORM, form, strlen(form), NULL);
}

/* requests.post(url, data={...}) and HTML forms send this. */
Test(auth, token_endpoints_take_form_bodies)
{
  api_signup("alice", NULL);
  struct api_resp *r = post_form(TOKEN, "username=alice&password=" API_PASSWORD);
  expect_status(r, 200);
  expect_json_response(r);
  expect_keys(r, "refresh", "access", NULL);
  const char *access = api_strdup(json_string_value(json_object_get(r->json, "access")));
  const char *refresh_token = api_strdup(json_string_value(json_object_get(r->json, "refresh")));
  expect_status(api_get(ME, access), 200);

  r = post_form(TOKEN, "username=alice&password=wrong");
  expect_status(r, 401);
  expect_detail(r, NO_ACTIVE_ACCOUNT);
  r = post_form(TOKEN, "username=&password");
  expect_status(r, 400);
  expect_body(r, "{'username':['This field may not be blank.'],"
                 "'password':['This field may not be blank.']}");

  r = post_form(REFRESH, api_printf("refresh=%s", refresh_token));
  expect_status(r, 200);
  expect_keys(r, "access", NULL);
  r = post_form(VERIFY, api_printf("token=%s", access));
  expect_status(r, 200);
  expect_body(r, "{}");
  r = post_form(VERIFY, "token=garbage");
  expect_status(r, 401);
  expect_body(r, INVALID_OR_EXPIRED);

  /* Multipart, as a browser's FormData sends it. */
  const char *body = api_printf("--b0undary\r\nContent-Disposition: form-data; name=\"refresh\"\r\n"
                                "\r\n%s\r\n--b0undary--\r\n", refresh_token);
  r = api_request("POST", BLACKLIST, NULL, "multipart/form-data; boundary=b0undary", body,
                  strlen(body), NULL);
  expect_status(r, 200);
  expect_body(r, "{}");
  r = post_form(REFRESH, api_printf("refresh=%s", refresh_token));
  expect_status(r, 401);
  expect_body(r, "{'detail':'Token is blacklisted','code':'token_not_valid'}");

  body = "--b0undary\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n"
         "--b0undary\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n"
         API_PASSWORD "\r\n--b0undary--\r\n";
  r = api_request("POST", "/api/token/", NULL, "multipart/form-data; boundary=b0undary", body,
                  strlen(body), NULL);
  expect_status(r, 200);
  expect_keys(r, "refresh", "access", NULL);
}

Test(auth, login_aliases_answer_the_same)
{
  struct api_user alice = api_signup("alice", NULL);
  const char *aliases[] = { "/api/token/", "/api/auth/token/", "/api/users/token/" };
  for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++) {
    struct api_resp *r = log_in(aliases[i], "alice", API_PASSWORD);
    expect_status(r, 200);
    expect_keys(r, "refresh", "access", NULL);
    const char *access = json_string_value(json_object_get(r->json, "access"));
    expect_int(api_get(ME, access), "id", alice.id);

    r = log_in(aliases[i], "alice", "wrong-password");
    expect_status(r, 401);
    expect_detail(r, NO_ACTIVE_ACCOUNT);
  }
}

Test(auth, login_matches_the_username_in_any_case)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = log_in(TOKEN, "ALICE", API_PASSWORD);
  expect_status(r, 200);
  const char *access = json_string_value(json_object_get(r->json, "access"));
  cr_assert_eq(api_jwt_claim(access, "user_id"), alice.id);
}

Test(auth, login_requires_username_and_password)
{
  struct api_resp *r = api_post(TOKEN, NULL, "{}");
  expect_status(r, 400);
  expect_body(r, "{'username':['This field is required.'],'password':['This field is required.']}");

  r = api_post(TOKEN, NULL, api_json("{'username':'alice'}"));
  expect_status(r, 400);
  expect_body(r, "{'password':['This field is required.']}");
}

/*
 * Users moved from the original Django system keep their passwords: the
 * hash Django stored is verified at login, then replaced by argon2id
 * (docs/api.md, "Passwords from the original system"). Hashes made by
 * Django 3.2 from DJANGO_PASSWORD.
 */
#define DJANGO_PASSWORD "correct horse ünïcode"

static void expect_django_hash_upgraded(const char *django_hash)
{
  struct api_user alice = api_signup("alice", NULL);
  long long id = api_db_int(api_printf("UPDATE users SET password = '%s' WHERE id = ?"
                                       " RETURNING id", django_hash), alice.id);
  cr_assert_eq(id, alice.id);
  expect_status(log_in(TOKEN, "alice", API_PASSWORD), 401);
  expect_status(log_in(TOKEN, "alice", "correct horse unicode"), 401);
  cr_expect_str_eq(api_db_text(api_printf("SELECT password FROM users WHERE id = %lld", id)),
                   django_hash, "a wrong password changes nothing");

  struct api_resp *r = log_in(TOKEN, "alice", DJANGO_PASSWORD);
  expect_status(r, 200);
  expect_keys(r, "refresh", "access", NULL);
  expect_status(api_get(ME, json_string_value(json_object_get(r->json, "access"))), 200);
  const char *now = api_db_text(api_printf("SELECT password FROM users WHERE id = %lld", id));
  cr_expect_eq(strncmp(now, "$argon2id$", 10), 0, "stored again as argon2id: %s", now);
  /* The same password, so the tokens issued before stay good. */
  expect_status(api_get(ME, alice.access), 200);
  expect_status(log_in(TOKEN, "alice", DJANGO_PASSWORD), 200);
  expect_status(log_in(TOKEN, "alice", "correct horse unicode"), 401);
  cr_expect_str_eq(api_db_text(api_printf("SELECT password FROM users WHERE id = %lld", id)), now,
                   "hashed once");
}

Test(auth, a_django_pbkdf2_password_logs_in_and_is_rehashed)
{
  expect_django_hash_upgraded(
      "pbkdf2_sha256$260000$VEfNTDVBF3OfNK4rBwwYSL$Sg16OCO6arl5vHVRdyMWkzjoz/G8mHIO1tkTw5+HFfs=");
}

Test(auth, a_django_bcrypt_sha256_password_logs_in_and_is_rehashed)
{
  expect_django_hash_upgraded(
      "bcrypt_sha256$$2b$12$f/f37izVCICu/oEWqddbZeYW4XlmdIlX11LWC96mPJdyXkOufGURi");
}

/* Django told usernames apart by case; users moved from it that differ
 * only in case get a key of their own (importer/django.c) and log in with
 * the name exactly as written. */
Test(auth, imported_names_that_differ_only_in_case_each_log_in_as_written)
{
  struct api_user alice = api_signup("alice", NULL);
  long long id = api_db_int(api_printf(
      "INSERT INTO users (username, username_key, email, email_key, password, role, is_active,"
      " date_joined) VALUES ('Alice', '#same-name-99', 'big@example.com', 'big@example.com', '%s',"
      " 'attendee', 1, 0) RETURNING id",
      "pbkdf2_sha256$260000$VEfNTDVBF3OfNK4rBwwYSL$Sg16OCO6arl5vHVRdyMWkzjoz/G8mHIO1tkTw5+HFfs="),
      0);
  struct api_resp *r = log_in(TOKEN, "Alice", DJANGO_PASSWORD);
  expect_status(r, 200);
  const char *token = json_string_value(json_object_get(r->json, "access"));
  cr_expect_eq(api_int(api_get(ME, token)->json, "id"), id);
  r = log_in(TOKEN, "ALICE", API_PASSWORD);
  expect_status(r, 200);
  token = json_string_value(json_object_get(r->json, "access"));
  cr_expect_eq(api_int(api_get(ME, token)->json, "id"), alice.id, "any other case: alice");
  expect_status(log_in(TOKEN, "Alice", API_PASSWORD), 401);
  expect_status(log_in(TOKEN, "alice", DJANGO_PASSWORD), 401);
}

Test(auth, login_with_a_wrong_password_is_401)
{
  api_signup("alice", NULL);
  struct api_resp *r = log_in(TOKEN, "alice", "Not-The-Passw0rd");
  expect_status(r, 401);
  expect_json_response(r);
  expect_detail(r, NO_ACTIVE_ACCOUNT);
}

Test(auth, login_of_an_unknown_user_is_401)
{
  struct api_resp *r = log_in(TOKEN, "nobody", API_PASSWORD);
  expect_status(r, 401);
  expect_detail(r, NO_ACTIVE_ACCOUNT);
}

Test(auth, login_with_the_password_in_another_case_is_401)
{
  api_signup("alice", NULL);
  expect_status(log_in(TOKEN, "alice", "vq8-lantern-tide"), 401);
}

/* ---- refresh ------------------------------------------------------------ */

Test(auth, refresh_answers_only_a_new_access_token)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = refresh(REFRESH, alice.refresh);
  expect_status(r, 200);
  expect_json_response(r);
  expect_keys(r, "access", NULL);

  const char *access = json_string_value(json_object_get(r->json, "access"));
  expect_str(api_jwt_payload(access), "token_type", "access");
  cr_assert_eq(api_jwt_claim(access, "user_id"), alice.id);
  expect_int(api_get(ME, access), "id", alice.id);
}

Test(auth, refresh_aliases_answer_the_same)
{
  struct api_user alice = api_signup("alice", NULL);
  const char *aliases[] = { "/api/token/refresh/", "/api/auth/token/refresh/",
                            "/api/users/token/refresh/" };
  for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++) {
    struct api_resp *r = refresh(aliases[i], alice.refresh);
    expect_status(r, 200);
    expect_keys(r, "access", NULL);

    r = refresh(aliases[i], alice.access);
    expect_status(r, 401);
    expect_body(r, INVALID_OR_EXPIRED);
  }
}

Test(auth, refresh_requires_the_refresh_token)
{
  struct api_resp *r = api_post(REFRESH, NULL, "{}");
  expect_status(r, 400);
  expect_body(r, "{'refresh':['This field is required.']}");
}

Test(auth, refresh_refuses_an_access_token)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = refresh(REFRESH, alice.access);
  expect_status(r, 401);
  expect_body(r, INVALID_OR_EXPIRED);
}

Test(auth, refresh_refuses_garbage)
{
  const char *garbage[] = { "garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30." };
  for (size_t i = 0; i < sizeof garbage / sizeof *garbage; i++) {
    struct api_resp *r = refresh(REFRESH, garbage[i]);
    expect_status(r, 401);
    expect_body(r, INVALID_OR_EXPIRED);
  }
}

Test(auth, refresh_refuses_a_blank_token)
{
  struct api_resp *r = refresh(REFRESH, "");
  expect_status(r, 400);
  expect_body(r, "{'refresh':['This field may not be blank.']}");
}

Test(auth, refresh_refuses_a_forged_refresh_token)
{
  struct api_user alice = api_signup("alice", NULL);
  const char *payload = json_dumps(api_jwt_payload(alice.refresh), JSON_COMPACT);
  api_keep((void *)payload, free);

  struct api_resp *r = refresh(REFRESH, api_jwt_sign("HS256", payload, "not-the-secret-key"));
  expect_status(r, 401);
  expect_body(r, INVALID_OR_EXPIRED);
  r = refresh(REFRESH, api_jwt_sign("none", payload, ""));
  expect_status(r, 401);
  expect_body(r, INVALID_OR_EXPIRED);
}

/* ---- verify ------------------------------------------------------------- */

Test(auth, verify_accepts_access_and_refresh_tokens)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = verify(alice.access);
  expect_status(r, 200);
  expect_body(r, "{}");
  r = verify(alice.refresh);
  expect_status(r, 200);
  expect_body(r, "{}");
}

Test(auth, verify_refuses_invalid_tokens)
{
  struct api_user alice = api_signup("alice", NULL);
  const char *payload = json_dumps(api_jwt_payload(alice.access), JSON_COMPACT);
  api_keep((void *)payload, free);
  const char *bad[] = {
    "garbage",
    api_jwt_sign("HS256", payload, "not-the-secret-key"),
    api_jwt_sign("none", payload, ""),
    api_jwt_sign("HS512", payload, api_server_secret()),
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    struct api_resp *r = verify(bad[i]);
    expect_status(r, 401);
    expect_body(r, INVALID_OR_EXPIRED);
  }
}

Test(auth, verify_requires_the_token)
{
  struct api_resp *r = api_post(VERIFY, NULL, "{}");
  expect_status(r, 400);
  expect_body(r, "{'token':['This field is required.']}");
}

/* ---- blacklist (logout) ------------------------------------------------- */

Test(auth, blacklisted_refresh_token_is_refused)
{
  struct api_user alice = api_signup("alice", NULL);
  expect_status(refresh(REFRESH, alice.refresh), 200);

  struct api_resp *r = refresh(BLACKLIST, alice.refresh);
  expect_status(r, 200);
  expect_json_response(r);
  expect_body(r, "{}");

  r = refresh(REFRESH, alice.refresh);
  expect_status(r, 401);
  expect_body(r, "{'detail':'Token is blacklisted','code':'token_not_valid'}");
}

Test(auth, blacklisting_one_refresh_token_keeps_the_others)
{
  api_signup("alice", NULL);
  struct api_user phone = api_login("alice", API_PASSWORD);
  struct api_user laptop = api_login("alice", API_PASSWORD);
  expect_status(refresh(BLACKLIST, phone.refresh), 200);
  expect_status(refresh(REFRESH, phone.refresh), 401);
  expect_status(refresh(REFRESH, laptop.refresh), 200);
}

Test(auth, blacklist_refuses_invalid_tokens)
{
  struct api_resp *r = refresh(BLACKLIST, "garbage");
  expect_status(r, 401);
  expect_body(r, INVALID_OR_EXPIRED);

  r = api_post(BLACKLIST, NULL, "{}");
  expect_status(r, 400);
  expect_body(r, "{'refresh':['This field is required.']}");
}

Test(auth, token_endpoints_ignore_the_authorization_header)
{
  struct api_user alice = api_signup("alice", NULL);
  const char *const garbage[] = { "Authorization: Bearer garbage", NULL };
  const char *const bare[] = { "Authorization: Bearer", NULL };
  const char *const *headers[] = { garbage, bare };

  for (size_t i = 0; i < 2; i++) {
    const char *body = api_jsonf("{'username':'alice','password':'%s'}", API_PASSWORD);
    struct api_resp *r = api_request("POST", TOKEN, NULL, "application/json", body,
                                     strlen(body), headers[i]);
    expect_status(r, 200);
    expect_keys(r, "refresh", "access", NULL);
    const char *fresh = json_string_value(json_object_get(r->json, "refresh"));

    body = api_jsonf("{'refresh':'%s'}", alice.refresh);
    r = api_request("POST", REFRESH, NULL, "application/json", body, strlen(body), headers[i]);
    expect_status(r, 200);
    expect_keys(r, "access", NULL);

    body = api_jsonf("{'token':'%s'}", alice.access);
    r = api_request("POST", VERIFY, NULL, "application/json", body, strlen(body), headers[i]);
    expect_status(r, 200);

    body = api_jsonf("{'refresh':'%s'}", fresh);
    r = api_request("POST", BLACKLIST, NULL, "application/json", body, strlen(body), headers[i]);
    expect_status(r, 200);
  }
}

Test(auth, token_endpoints_ignore_a_token_of_a_deleted_user)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_user root = api_admin("root");
  expect_status(api_delete(api_user_path(alice.id), root.access), 204);

  /* root logs in again while sending alice's dead token along. */
  struct api_resp *r = api_post(TOKEN, alice.access,
                                api_jsonf("{'username':'root','password':'%s'}", API_PASSWORD));
  expect_status(r, 200);
}

/* ---- Bearer tokens on other endpoints ----------------------------------- */

Test(auth, missing_token_is_401_with_www_authenticate)
{
  struct api_resp *r = api_get(ME, NULL);
  expect_status(r, 401);
  expect_json_response(r);
  expect_detail(r, "Authentication credentials were not provided.");
  expect_header(r, "WWW-Authenticate", "Bearer realm=\"api\"");
}

Test(auth, invalid_token_is_refused_on_me)
{
  api_signup("alice", NULL);
  expect_bad_token(api_get(ME, "garbage"));
  expect_bad_token(api_get(ME, "a.b.c"));
  expect_bad_token(api_get("/api/auth/me/", "garbage"));
}

Test(auth, invalid_token_is_refused_on_public_endpoints_too)
{
  struct api_resp *r = api_post("/api/users/register/", "garbage",
                                api_json("{'username':'alice','email':'alice@example.com',"
                                         "'password':'" API_PASSWORD "'}"));
  expect_bad_token(r);
  /* and nobody was signed up */
  expect_status(api_post("/auth/token/", NULL,
                         api_json("{'username':'alice','password':'" API_PASSWORD "'}")),
                401);
}

Test(auth, refresh_token_is_not_an_access_token)
{
  struct api_user alice = api_signup("alice", NULL);
  expect_bad_token(api_get(ME, alice.refresh));
}

Test(auth, bearer_without_a_token_is_a_bad_header)
{
  const char *const headers[] = { "Authorization: Bearer", NULL };
  struct api_resp *r = api_request("GET", ME, NULL, NULL, NULL, 0, headers);
  expect_status(r, 401);
  expect_body(r, "{'detail':'Authorization header must contain two space-delimited values',"
                 "'code':'bad_authorization_header'}");
  expect_header(r, "WWW-Authenticate", "Bearer realm=\"api\"");
}

Test(auth, bearer_with_three_parts_is_a_bad_header)
{
  struct api_user alice = api_signup("alice", NULL);
  const char *const headers[] = {
    api_printf("Authorization: Bearer %s extra", alice.access), NULL
  };
  struct api_resp *r = api_request("GET", ME, NULL, NULL, NULL, 0, headers);
  expect_status(r, 401);
  expect_body(r, "{'detail':'Authorization header must contain two space-delimited values',"
                 "'code':'bad_authorization_header'}");
}

Test(auth, other_schemes_are_anonymous)
{
  const char *const headers[] = { "Authorization: Basic eHl6OnB3", NULL };
  struct api_resp *r = api_request("GET", ME, NULL, NULL, NULL, 0, headers);
  expect_status(r, 401);
  expect_detail(r, "Authentication credentials were not provided.");

  const char *body = api_json("{'username':'alice','email':'alice@example.com',"
                              "'password':'" API_PASSWORD "'}");
  r = api_request("POST", "/api/users/register/", NULL, "application/json", body,
                  strlen(body), headers);
  expect_status(r, 201);
}

/* ---- forged tokens ------------------------------------------------------ */

/* The payload of a real access token of the user, as JSON text. */
static const char *payload_of(const char *token)
{
  char *text = json_dumps(api_jwt_payload(token), JSON_COMPACT);
  api_keep(text, free);
  return text;
}

Test(auth, hand_made_token_with_the_right_key_is_accepted)
{
  /* The control for the forgeries below: the harness signs like the server. */
  struct api_user alice = api_signup("alice", NULL);
  const char *token = api_jwt_sign("HS256", payload_of(alice.access), api_server_secret());
  expect_int(api_get(ME, token), "id", alice.id);
}

Test(auth, token_signed_with_another_key_is_refused)
{
  struct api_user alice = api_signup("alice", NULL);
  const char *token = api_jwt_sign("HS256", payload_of(alice.access),
                                   "a-different-secret-key-of-fifty-characters-long!!");
  expect_bad_token(api_get(ME, token));
}

Test(auth, token_with_alg_none_is_refused)
{
  struct api_user alice = api_signup("alice", NULL);
  expect_bad_token(api_get(ME, api_jwt_sign("none", payload_of(alice.access), "")));
}

Test(auth, token_with_hs512_is_refused)
{
  struct api_user alice = api_signup("alice", NULL);
  const char *token = api_jwt_sign("HS512", payload_of(alice.access), api_server_secret());
  expect_bad_token(api_get(ME, token));
}

Test(auth, token_with_a_tampered_payload_is_refused)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  json_t *claims = json_deep_copy(api_jwt_payload(alice.access));
  api_keep_json(claims);
  json_object_set_new(claims, "user_id", json_integer(bob.id));
  char *tampered = json_dumps(claims, JSON_COMPACT);
  api_keep(tampered, free);

  expect_bad_token(api_get(ME, api_jwt_with_payload(alice.access, tampered)));
  expect_int(api_get(ME, alice.access), "id", alice.id);
}

Test(auth, token_claiming_to_be_another_type_is_refused)
{
  struct api_user alice = api_signup("alice", NULL);
  /* An access token relabelled "refresh" and signed with the right key is
   * a refresh token, which is no access token. */
  json_t *claims = json_deep_copy(api_jwt_payload(alice.access));
  api_keep_json(claims);
  json_object_set_new(claims, "token_type", json_string("refresh"));
  char *relabelled = json_dumps(claims, JSON_COMPACT);
  api_keep(relabelled, free);
  expect_bad_token(api_get(ME, api_jwt_sign("HS256", relabelled, api_server_secret())));
}

Test(auth, token_without_claims_is_refused)
{
  api_signup("alice", NULL);
  const char *key = api_server_secret();
  expect_bad_token(api_get(ME, api_jwt_sign("HS256", "{}", key)));
  expect_bad_token(api_get(ME, api_jwt_sign("HS256", "{\"token_type\":\"access\",\"user_id\":1}",
                                             key)));
  expect_bad_token(api_get(ME, api_jwt_sign("HS256", "[1,2,3]", key)));
  expect_bad_token(api_get(ME, api_jwt_sign("HS256", "not json", key)));
}

Test(auth, token_of_a_deactivated_user_is_refused)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_user root = api_admin("root");
  expect_status(api_patch(api_user_path(alice.id), root.access,
                          api_json("{'is_active':false}")), 200);

  struct api_resp *r = api_get(ME, alice.access);
  expect_status(r, 401);
  expect_body(r, "{'detail':'User is inactive','code':'user_inactive'}");
  r = log_in(TOKEN, "alice", API_PASSWORD);
  expect_status(r, 401);
  expect_detail(r, NO_ACTIVE_ACCOUNT);
  r = refresh(REFRESH, alice.refresh);
  expect_status(r, 401);
  expect_body(r, "{'detail':'Token is blacklisted','code':'token_not_valid'}");
}

Test(auth, token_of_a_deleted_user_is_refused)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_user root = api_admin("root");
  expect_status(api_delete(api_user_path(alice.id), root.access), 204);

  struct api_resp *r = api_get(ME, alice.access);
  expect_status(r, 401);
  expect_body(r, "{'detail':'User not found','code':'user_not_found'}");
  r = refresh(REFRESH, alice.refresh);
  expect_status(r, 401);
  expect_body(r, "{'detail':'No active account found for the given token.',"
                 "'code':'no_active_account'}");
}

/* ---- expiry ------------------------------------------------------------- */

static void start_short_lived(void)
{
  static const char *const env[] = {
    "ACCESS_TOKEN_LIFETIME", "1", "REFRESH_TOKEN_LIFETIME", "1", NULL
  };
  api_server_start_with(env);
}

Test(auth_expiry, expired_tokens_are_refused, .init = start_short_lived,
     .fini = api_server_stop)
{
  struct api_user alice = api_signup("alice", NULL);
  cr_assert_eq(api_jwt_claim(alice.access, "exp") - api_jwt_claim(alice.access, "iat"), 1);
  cr_assert_eq(api_jwt_claim(alice.refresh, "exp") - api_jwt_claim(alice.refresh, "iat"), 1);

  api_clock_advance(2);

  expect_bad_token(api_get(ME, alice.access));
  struct api_resp *r = refresh(REFRESH, alice.refresh);
  expect_status(r, 401);
  expect_body(r, INVALID_OR_EXPIRED);
  r = verify(alice.access);
  expect_status(r, 401);
  expect_body(r, INVALID_OR_EXPIRED);
  /* A new login still works. */
  expect_status(log_in(TOKEN, "alice", API_PASSWORD), 200);
}

/* ---- throttling failed logins ------------------------------------------- */

static void start_strict(void)
{
  static const char *const env[] = { "LOGIN_MAX_FAILURES", "3", NULL };
  api_server_start_with(env);
}

/* Asserts r is the throttle's 429 and returns its Retry-After. */
static long expect_throttled(struct api_resp *r)
{
  expect_status(r, 429);
  const char *retry_after = api_header(r, "Retry-After");
  cr_assert(retry_after != NULL, "a 429 needs Retry-After: %s", r->body);
  char *end;
  long seconds = strtol(retry_after, &end, 10);
  cr_assert(*end == '\0' && seconds > 0 && seconds <= 300,
            "Retry-After: %s", retry_after);
  expect_detail(r, api_printf("Request was throttled. Expected available in %ld seconds.",
                              seconds));
  return seconds;
}

Test(auth_throttle, failed_logins_are_throttled_even_with_the_right_password,
     .init = start_strict, .fini = api_server_stop)
{
  struct api_user alice = api_signup("alice", NULL);
  for (int i = 0; i < 3; i++) {
    struct api_resp *r = log_in(TOKEN, "alice", "Not-The-Passw0rd");
    expect_status(r, 401);
    expect_detail(r, NO_ACTIVE_ACCOUNT);
  }
  expect_throttled(log_in(TOKEN, "alice", API_PASSWORD));
  expect_throttled(log_in("/api/token/", "alice", API_PASSWORD));

  /* Only logging in is throttled. */
  expect_int(api_get(ME, alice.access), "id", alice.id);
  expect_status(refresh(REFRESH, alice.refresh), 200);
  expect_status(api_post("/api/users/register/", NULL,
                         api_json("{'username':'bob','email':'bob@example.com',"
                                  "'password':'" API_PASSWORD "'}")), 201);
}

Test(auth_throttle, another_account_from_the_same_client_still_logs_in,
     .init = start_strict, .fini = api_server_stop)
{
  api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  for (int i = 0; i < 3; i++)
    expect_status(log_in(TOKEN, "alice", "Not-The-Passw0rd"), 401);
  expect_throttled(log_in(TOKEN, "alice", API_PASSWORD));

  /* Whoever shares alice's address (a proxy, an office) is not locked out. */
  struct api_resp *r = log_in(TOKEN, "bob", API_PASSWORD);
  expect_status(r, 200);
  expect_keys(r, "refresh", "access", NULL);
  cr_assert_eq(api_jwt_claim(json_string_value(json_object_get(r->json, "access")),
                             "user_id"), bob.id);
  expect_status(log_in(TOKEN, "bob", "Not-The-Passw0rd"), 401);
  expect_status(log_in(TOKEN, "bob", API_PASSWORD), 200);
  expect_throttled(log_in(TOKEN, "alice", API_PASSWORD));
}

Test(auth_throttle, failures_count_per_username_in_any_case, .init = start_strict,
     .fini = api_server_stop)
{
  api_signup("alice", NULL);
  expect_status(log_in(TOKEN, "alice", "Not-The-Passw0rd"), 401);
  expect_status(log_in(TOKEN, "ALICE", "Not-The-Passw0rd"), 401);
  expect_status(log_in(TOKEN, " Alice ", "Not-The-Passw0rd"), 401);
  expect_throttled(log_in(TOKEN, "aLiCe", API_PASSWORD));
}

Test(auth_throttle, successful_logins_are_not_counted, .init = start_strict,
     .fini = api_server_stop)
{
  api_signup("alice", NULL);
  for (int i = 0; i < 6; i++)
    expect_status(log_in(TOKEN, "alice", API_PASSWORD), 200);
  for (int i = 0; i < 2; i++)
    expect_status(log_in(TOKEN, "alice", "Not-The-Passw0rd"), 401);
  expect_status(log_in(TOKEN, "alice", API_PASSWORD), 200);
  expect_status(log_in(TOKEN, "alice", "Not-The-Passw0rd"), 401);
  expect_throttled(log_in(TOKEN, "alice", API_PASSWORD));
}

Test(auth_throttle, unknown_users_count_as_failures, .init = start_strict,
     .fini = api_server_stop)
{
  for (int i = 0; i < 3; i++)
    expect_status(log_in(TOKEN, "ghost", API_PASSWORD), 401);
  expect_throttled(log_in(TOKEN, "ghost", API_PASSWORD));
  /* Signing the name up now does not clear the failures made before. */
  expect_status(api_post("/api/users/register/", NULL,
                         api_json("{'username':'ghost','email':'ghost@example.com',"
                                  "'password':'" API_PASSWORD "'}")), 201);
  expect_throttled(log_in(TOKEN, "ghost", API_PASSWORD));
}

Test(auth_throttle, malformed_logins_are_not_counted, .init = start_strict,
     .fini = api_server_stop)
{
  api_signup("alice", NULL);
  for (int i = 0; i < 5; i++) {
    expect_status(api_post(TOKEN, NULL, api_json("{'username':'alice'}")), 400);
    expect_status(api_post(TOKEN, NULL, "{not json"), 400);
  }
  expect_status(log_in(TOKEN, "alice", API_PASSWORD), 200);
}

static void start_with_a_client_ceiling(void)
{
  static const char *const env[] = {
    "LOGIN_MAX_FAILURES", "3", "LOGIN_MAX_CLIENT_FAILURES", "5", NULL
  };
  api_server_start_with(env);
}

Test(auth_throttle, the_client_ceiling_stops_password_spraying,
     .init = start_with_a_client_ceiling, .fini = api_server_stop)
{
  struct api_user alice = api_signup("alice", NULL);
  /* One guess at each of five names: no name reaches its own limit. */
  for (int i = 0; i < 5; i++)
    expect_status(log_in(TOKEN, api_printf("user%d", i), "Summer2024!"), 401);

  /* Past the client's ceiling every login from it is refused, right ones too. */
  expect_throttled(log_in(TOKEN, "user5", "Summer2024!"));
  expect_throttled(log_in(TOKEN, "alice", API_PASSWORD));
  expect_throttled(log_in("/api/users/token/", "alice", API_PASSWORD));
  /* Tokens already issued still work. */
  expect_int(api_get(ME, alice.access), "id", alice.id);
}

Test(auth_throttle, successes_do_not_count_toward_the_client_ceiling,
     .init = start_with_a_client_ceiling, .fini = api_server_stop)
{
  api_signup("alice", NULL);
  for (int i = 0; i < 4; i++)
    expect_status(log_in(TOKEN, api_printf("user%d", i), "Summer2024!"), 401);
  for (int i = 0; i < 10; i++)
    expect_status(log_in(TOKEN, "alice", API_PASSWORD), 200);
  expect_status(log_in(TOKEN, "user4", "Summer2024!"), 401);
  expect_throttled(log_in(TOKEN, "alice", API_PASSWORD));
}

Test(auth, logins_are_throttled_after_ten_failures_by_default)
{
  api_signup("alice", NULL);
  for (int i = 0; i < 10; i++) {
    struct api_resp *r = log_in(TOKEN, "alice", "Not-The-Passw0rd");
    expect_status(r, 401);
  }
  expect_throttled(log_in(TOKEN, "alice", API_PASSWORD));
}

/* ---- throttling under parallel load ------------------------------------- */

#define PARALLEL_LOGINS 40

struct login_racer {
  const char *username;
  const char *password;
};

/* Sends every login at once (api_race()), each from its own thread, and
 * counts the answers: *unauthorized 401s and *throttled 429s. */
static void race_logins(struct login_racer *racers, size_t count, int *unauthorized,
                        int *throttled)
{
  struct api_call calls[PARALLEL_LOGINS];
  cr_assert(count <= PARALLEL_LOGINS);
  for (size_t i = 0; i < count; i++)
    calls[i] = (struct api_call){
      .method = "POST", .path = TOKEN,
      .body = api_jsonf("{'username':'%s','password':'%s'}", racers[i].username,
                        racers[i].password),
    };
  api_race(calls, count);

  *unauthorized = *throttled = 0;
  for (size_t i = 0; i < count; i++) {
    struct api_resp *r = calls[i].resp;
    if (r->status == 401) {
      expect_detail(r, NO_ACTIVE_ACCOUNT);
      ++*unauthorized;
    } else {
      expect_throttled(r);
      ++*throttled;
    }
  }
}

Test(auth_throttle, parallel_wrong_logins_get_exactly_the_limit_of_tries,
     .init = api_server_start, .fini = api_server_stop)
{
  api_signup("alice", NULL);
  struct login_racer racers[PARALLEL_LOGINS] = { 0 };
  for (size_t i = 0; i < PARALLEL_LOGINS; i++) {
    racers[i].username = "alice";
    racers[i].password = api_printf("Wrong-Guess-%zu", i);
  }
  int unauthorized, throttled;
  race_logins(racers, PARALLEL_LOGINS, &unauthorized, &throttled);
  cr_assert_eq(unauthorized, 10, "%d wrong passwords were tried, not 10", unauthorized);
  cr_assert_eq(throttled, PARALLEL_LOGINS - 10);
  expect_throttled(log_in(TOKEN, "alice", API_PASSWORD));
}

Test(auth_throttle, parallel_spraying_gets_exactly_the_client_ceiling,
     .init = start_with_a_client_ceiling, .fini = api_server_stop)
{
  api_signup("alice", NULL);
  struct login_racer racers[PARALLEL_LOGINS] = { 0 };
  for (size_t i = 0; i < PARALLEL_LOGINS; i++) {
    racers[i].username = api_printf("user%zu", i);
    racers[i].password = "Summer2024!";
  }
  int unauthorized, throttled;
  race_logins(racers, PARALLEL_LOGINS, &unauthorized, &throttled);
  cr_assert_eq(unauthorized, 5, "%d guesses got through, not 5", unauthorized);
  cr_assert_eq(throttled, PARALLEL_LOGINS - 5);
  expect_throttled(log_in(TOKEN, "alice", API_PASSWORD));
}

/* ---- tokens from before the generation claim ---------------------------- */

/* token re-signed with the server's key, its payload without claim. */
static const char *without_claim(const char *token, const char *claim)
{
  json_t *payload = json_deep_copy(api_jwt_payload(token));
  cr_assert(json_object_get(payload, claim) != NULL, "%s has no %s", token, claim);
  json_object_del(payload, claim);
  char *text = json_dumps(payload, JSON_COMPACT);
  json_decref(payload);
  api_keep(text, free);
  return api_jwt_sign("HS256", text, api_server_secret());
}

Test(auth, tokens_without_a_generation_work_until_the_password_changes)
{
  struct api_user alice = api_signup("alice", NULL);
  const char *access = without_claim(alice.access, "token_generation");
  const char *refresh_token = without_claim(alice.refresh, "token_generation");
  expect_int(api_get(ME, access), "id", alice.id);
  expect_status(refresh(REFRESH, refresh_token), 200);
  expect_status(verify(access), 200);
  expect_status(verify(refresh_token), 200);

  expect_status(api_post("/api/users/me/password/", access,
                         api_json("{'old_password':'" API_PASSWORD "',"
                                  "'new_password':'Brand-New-Passw0rd'}")), 204);
  expect_bad_token(api_get(ME, access));
  struct api_resp *r = refresh(REFRESH, refresh_token);
  expect_status(r, 401);
  expect_body(r, "{'detail':'Token is blacklisted','code':'token_not_valid'}");
}

Test(auth, token_with_another_generation_is_refused)
{
  struct api_user alice = api_signup("alice", NULL);
  cr_assert_eq(api_jwt_claim(alice.access, "token_generation"), 0);
  cr_assert_eq(api_jwt_claim(alice.refresh, "token_generation"), 0);
  const char *key = api_server_secret();
  long long now = api_now();
  const char *ahead = api_jwt_sign("HS256", api_jsonf(
      "{'token_type':'access','exp':%lld,'iat':%lld,'jti':'0123456789abcdef0123456789abcdef',"
      "'user_id':%lld,'token_generation':1}", now + 600, now, alice.id), key);
  expect_bad_token(api_get(ME, ahead));
  const char *mistyped = api_jwt_sign("HS256", api_jsonf(
      "{'token_type':'access','exp':%lld,'iat':%lld,'jti':'0123456789abcdef0123456789abcdef',"
      "'user_id':%lld,'token_generation':'0'}", now + 600, now, alice.id), key);
  expect_bad_token(api_get(ME, mistyped));
  const char *same = api_jwt_sign("HS256", api_jsonf(
      "{'token_type':'access','exp':%lld,'iat':%lld,'jti':'0123456789abcdef0123456789abcdef',"
      "'user_id':%lld,'token_generation':0}", now + 600, now, alice.id), key);
  expect_int(api_get(ME, same), "id", alice.id);
}
