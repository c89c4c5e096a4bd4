/*
 * users.c - API.md "Users and auth": sign-up and its validation, the
 * caller's own account (me, password), the admin's user management, and
 * sign-ups racing each other.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "support/api.h"
#include "users/models.h"

#define REGISTER "/api/users/register/"
#define ME "/api/users/me/"

TestSuite(users, .init = api_server_start, .fini = api_server_stop);

static struct api_resp *sign_up(const char *single_quoted_json)
{
  return api_post(REGISTER, NULL, api_json(single_quoted_json));
}

/* A sign-up of username with a good password and email, plus extra fields
 * (single-quoted JSON members, or ""). */
static struct api_resp *sign_up_as(const char *username, const char *extra)
{
  return api_post(REGISTER, NULL,
                  api_jsonf("{'username':'%s','email':'%s@example.com',"
                            "'password':'" API_PASSWORD "'%s%s}",
                            username, username, extra[0] ? "," : "", extra));
}

/* A sign-up of a fresh user with the password given, and its attributes. */
static struct api_resp *sign_up_with_password(const char *password,
                                              const char *attributes)
{
  return api_post(REGISTER, NULL,
                  api_jsonf("{'password':'%s',%s}", password, attributes));
}

static struct api_resp *log_in(const char *username, const char *password)
{
  return api_post("/auth/token/", NULL,
                  api_jsonf("{'username':'%s','password':'%s'}", username, password));
}

/* ---- sign-up ------------------------------------------------------------ */

Test(users, sign_up_answers_the_user_and_never_the_password)
{
  struct api_resp *r = sign_up("{'username':'alice','email':'alice@example.com',"
                               "'password':'" API_PASSWORD "',"
                               "'first_name':'Alice','last_name':'Liddell'}");
  expect_status(r, 201);
  expect_json_response(r);
  expect_keys(r, USER_KEYS);
  expect_that(json_integer_value(json_object_get(r->json, "id")) > 0,
              "the id is a positive integer: %s", r->body);
  expect_str(r, "username", "alice");
  expect_str(r, "email", "alice@example.com");
  expect_str(r, "first_name", "Alice");
  expect_str(r, "last_name", "Liddell");
  expect_str(r, "role", "attendee");
  expect_that(strstr(r->body, API_PASSWORD) == NULL, "the password leaked: %s", r->body);
}

Test(users, sign_up_defaults_names_to_empty_and_role_to_attendee)
{
  struct api_resp *r = sign_up_as("bob", "");
  expect_status(r, 201);
  expect_str(r, "first_name", "");
  expect_str(r, "last_name", "");
  expect_str(r, "role", "attendee");
}

Test(users, sign_up_as_organizer)
{
  struct api_resp *r = sign_up_as("olga", "'role':'organizer'");
  expect_status(r, 201);
  expect_str(r, "role", "organizer");

  struct api_user olga = api_login("olga", API_PASSWORD);
  expect_str(api_get(ME, olga.access), "role", "organizer");
}

Test(users, sign_up_refuses_the_admin_role)
{
  struct api_resp *r = sign_up_as("mallory", "'role':'admin'");
  expect_status(r, 400);
  expect_keys(r, "role", NULL);
  expect_field_errors(r, "role", "\"admin\" is not a valid choice.", NULL);
  expect_status(log_in("mallory", API_PASSWORD), 401);
}

Test(users, sign_up_refuses_an_unknown_role)
{
  struct api_resp *r = sign_up_as("mallory", "'role':'superuser'");
  expect_status(r, 400);
  expect_field_errors(r, "role", "\"superuser\" is not a valid choice.", NULL);
}

Test(users, sign_up_alias_shares_the_same_users)
{
  struct api_resp *r = api_post("/api/auth/register/", NULL,
                                api_json("{'username':'carol','email':'carol@example.com',"
                                         "'password':'" API_PASSWORD "'}"));
  expect_status(r, 201);
  expect_keys(r, USER_KEYS);
  expect_str(r, "username", "carol");

  r = sign_up_as("carol", "");
  expect_status(r, 400);
  expect_field_errors(r, "username", "A user with that username already exists.", NULL);
}

Test(users, sign_up_requires_username_email_and_password_at_once)
{
  struct api_resp *r = sign_up("{}");
  expect_status(r, 400);
  expect_body(r, "{'username':['This field is required.'],"
                 "'email':['This field is required.'],"
                 "'password':['This field is required.']}");
}

Test(users, sign_up_refuses_nulls)
{
  struct api_resp *r = sign_up("{'username':null,'email':null,'password':null}");
  expect_status(r, 400);
  expect_body(r, "{'username':['This field may not be null.'],"
                 "'email':['This field may not be null.'],"
                 "'password':['This field may not be null.']}");
}

Test(users, sign_up_refuses_blanks)
{
  struct api_resp *r = sign_up("{'username':'','email':'','password':''}");
  expect_status(r, 400);
  expect_body(r, "{'username':['This field may not be blank.'],"
                 "'email':['This field may not be blank.'],"
                 "'password':['This field may not be blank.']}");
}

Test(users, sign_up_refuses_values_that_are_not_strings)
{
  struct api_resp *r = sign_up("{'username':true,'email':{'a':1},'password':['x'],"
                               "'first_name':false}");
  expect_status(r, 400);
  expect_body(r, "{'username':['Not a valid string.'],"
                 "'email':['Not a valid string.'],"
                 "'password':['Not a valid string.'],"
                 "'first_name':['Not a valid string.']}");
}

Test(users, sign_up_accepts_a_username_of_150_characters)
{
  const char *name = api_repeat('u', 150);
  struct api_resp *r = sign_up_as(name, "");
  expect_status(r, 201);
  expect_str(r, "username", name);
}

Test(users, sign_up_refuses_a_username_of_151_characters)
{
  struct api_resp *r = sign_up_as(api_repeat('u', 151), "");
  expect_status(r, 400);
  expect_field_error(r, "username", "Ensure this field has no more than 150 characters.");
}

Test(users, sign_up_refuses_names_over_150_characters)
{
  struct api_resp *r = sign_up_as("dave", api_jsonf("'first_name':'%s','last_name':'%s'",
                                                    api_repeat('f', 151),
                                                    api_repeat('l', 151)));
  expect_status(r, 400);
  expect_body(r, "{'first_name':['Ensure this field has no more than 150 characters.'],"
                 "'last_name':['Ensure this field has no more than 150 characters.']}");
}

Test(users, sign_up_refuses_an_email_over_254_characters)
{
  /* 64 + 1 + 63 + 1 + 63 + 1 + 58 + 4 = 255 characters, otherwise valid. */
  const char *email = api_printf("%s@%s.%s.%s.com", api_repeat('a', 64),
                                 api_repeat('b', 63), api_repeat('c', 63),
                                 api_repeat('d', 58));
  cr_assert_eq(strlen(email), 255);
  struct api_resp *r = sign_up(api_jsonf("{'username':'erin','email':'%s',"
                                         "'password':'" API_PASSWORD "'}", email));
  expect_status(r, 400);
  expect_keys(r, "email", NULL);
  expect_field_error(r, "email", "Ensure this field has no more than 254 characters.");
}

Test(users, sign_up_refuses_usernames_with_other_characters)
{
  const char *bad[] = { "bad name", "semi;colon", "slash/", "quote\\\"", "tab\\tinside", "a#b" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    struct api_resp *r = sign_up(api_jsonf("{'username':'%s','email':'x%zu@example.com',"
                                           "'password':'" API_PASSWORD "'}", bad[i], i));
    expect_status(r, 400);
    expect_field_errors(r, "username",
                        "Enter a valid username. This value may contain only letters, "
                        "numbers, and @/./+/-/_ characters.", NULL);
  }
}

Test(users, sign_up_accepts_usernames_with_at_dot_plus_dash_underscore)
{
  struct api_resp *r = sign_up("{'username':'a.b+c-d_e@f','email':'punct@example.com',"
                               "'password':'" API_PASSWORD "'}");
  expect_status(r, 201);
  expect_str(r, "username", "a.b+c-d_e@f");
}

Test(users, sign_up_accepts_unicode_letters_in_usernames)
{
  struct api_resp *r = sign_up("{'username':'jos\u00e9','email':'jose@example.com',"
                               "'password':'" API_PASSWORD "'}");
  expect_status(r, 201);
  expect_str(r, "username", "jos\u00e9");
}

Test(users, sign_up_refuses_a_taken_username_in_any_case)
{
  expect_status(sign_up_as("alice", ""), 201);
  struct api_resp *r = sign_up("{'username':'Alice','email':'other@example.com',"
                               "'password':'" API_PASSWORD "'}");
  expect_status(r, 400);
  expect_keys(r, "username", NULL);
  expect_field_errors(r, "username", "A user with that username already exists.", NULL);
}

Test(users, sign_up_refuses_a_taken_email_in_any_case)
{
  expect_status(sign_up_as("alice", ""), 201);
  struct api_resp *r = sign_up("{'username':'alicia','email':'ALICE@Example.COM',"
                               "'password':'" API_PASSWORD "'}");
  expect_status(r, 400);
  expect_keys(r, "email", NULL);
  expect_field_errors(r, "email", "A user with that email already exists.", NULL);
}

Test(users, sign_up_refuses_invalid_emails)
{
  const char *bad[] = { "not-an-email", "alice@", "@example.com", "a b@example.com",
                        "alice@@example.com" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    struct api_resp *r = sign_up(api_jsonf("{'username':'user%zu','email':'%s',"
                                           "'password':'" API_PASSWORD "'}", i, bad[i]));
    expect_status(r, 400);
    expect_field_errors(r, "email", "Enter a valid email address.", NULL);
  }
}

Test(users, sign_up_refuses_a_password_like_the_username)
{
  struct api_resp *r = sign_up_with_password(
      "marmaduke7", "'username':'marmaduke','email':'m@example.com'");
  expect_status(r, 400);
  expect_keys(r, "password", NULL);
  expect_field_errors(r, "password", "The password is too similar to the username.", NULL);
}

Test(users, sign_up_refuses_a_password_like_the_email)
{
  struct api_resp *r = sign_up_with_password(
      "bartholomew5", "'username':'zed','email':'bartholomew@example.com'");
  expect_status(r, 400);
  expect_field_errors(r, "password", "The password is too similar to the email address.",
                      NULL);
}

Test(users, sign_up_refuses_a_password_like_the_first_name)
{
  struct api_resp *r = sign_up_with_password(
      "hildegard42",
      "'username':'zed2','email':'zed2@example.com','first_name':'Hildegard'");
  expect_status(r, 400);
  expect_field_errors(r, "password", "The password is too similar to the first name.",
                      NULL);
}

Test(users, sign_up_refuses_a_password_like_the_last_name)
{
  struct api_resp *r = sign_up_with_password(
      "featherstonehaugh1",
      "'username':'zed3','email':'zed3@example.com','last_name':'Featherstonehaugh'");
  expect_status(r, 400);
  expect_field_errors(r, "password", "The password is too similar to the last name.",
                      NULL);
}

Test(users, sign_up_refuses_a_short_password)
{
  struct api_resp *r = sign_up_with_password("Xk7#", "'username':'fay','email':'fay@example.com'");
  expect_status(r, 400);
  expect_field_errors(r, "password",
                      "This password is too short. It must contain at least 8 characters.",
                      NULL);
}

Test(users, sign_up_refuses_a_common_password)
{
  struct api_resp *r = sign_up_with_password("password", "'username':'gus','email':'gus@example.com'");
  expect_status(r, 400);
  expect_field_errors(r, "password", "This password is too common.", NULL);
}

Test(users, sign_up_refuses_an_entirely_numeric_password)
{
  struct api_resp *r = sign_up_with_password("5820193746", "'username':'hal','email':'hal@example.com'");
  expect_status(r, 400);
  expect_field_errors(r, "password", "This password is entirely numeric.", NULL);
}

Test(users, sign_up_lists_every_password_problem_in_django_order)
{
  struct api_resp *r = sign_up_with_password(
      "marmadu", "'username':'marmaduke','email':'m@example.com'");
  expect_status(r, 400);
  expect_field_errors(r, "password", "The password is too similar to the username.",
                      "This password is too short. It must contain at least 8 characters.",
                      NULL);
}

Test(users, sign_up_reports_every_field_at_once)
{
  struct api_resp *r = sign_up("{'username':'bad name','email':'nope','password':'Xk7#',"
                               "'role':'root'}");
  expect_status(r, 400);
  expect_keys(r, "username", "email", "password", "role", NULL);
  expect_field_error(r, "email", "Enter a valid email address.");
  expect_field_error(r, "password",
                     "This password is too short. It must contain at least 8 characters.");
}

Test(users, sign_up_ignores_unknown_and_read_only_fields)
{
  struct api_resp *r = sign_up_as("ivan", "'id':999,'is_staff':true,'is_active':false,"
                                          "'is_superuser':true,'colour':'blue'");
  expect_status(r, 201);
  expect_keys(r, USER_KEYS);
  expect_that(json_integer_value(json_object_get(r->json, "id")) != 999,
              "the id was taken from the body: %s", r->body);
  expect_str(r, "role", "attendee");

  struct api_user ivan = api_login("ivan", API_PASSWORD); /* still active */
  expect_status(api_get("/api/users/", ivan.access), 403);  /* not staff */
}

/* ---- me ----------------------------------------------------------------- */

Test(users, me_answers_the_caller)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = api_get(ME, alice.access);
  expect_status(r, 200);
  expect_json_response(r);
  expect_keys(r, USER_KEYS);
  expect_int(r, "id", alice.id);
  expect_str(r, "username", "alice");
  expect_str(r, "email", "alice@example.com");
  expect_str(r, "role", "attendee");
}

Test(users, me_alias_answers_the_same)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = api_get("/api/auth/me/", alice.access);
  expect_status(r, 200);
  expect_keys(r, USER_KEYS);
  expect_int(r, "id", alice.id);
  expect_str(r, "username", "alice");
}

Test(users, me_needs_a_token)
{
  struct api_resp *r = api_get(ME, NULL);
  expect_status(r, 401);
  expect_detail(r, "Authentication credentials were not provided.");
  expect_header(r, "WWW-Authenticate", "Bearer realm=\"api\"");
}

Test(users, me_patch_changes_only_what_is_sent)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = api_patch(ME, alice.access, api_json("{'first_name':'Alice'}"));
  expect_status(r, 200);
  expect_keys(r, USER_KEYS);
  expect_str(r, "first_name", "Alice");
  expect_str(r, "last_name", "");
  expect_str(r, "email", "alice@example.com");

  r = api_get(ME, alice.access);
  expect_str(r, "first_name", "Alice");
}

Test(users, me_put_without_email_keeps_the_email)
{
  /* As the original: email may be blank on the model, so PUT does not require it. */
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = api_put(ME, alice.access,
                               api_json("{'first_name':'Alice','last_name':'Liddell'}"));
  expect_status(r, 200);
  expect_keys(r, USER_KEYS);
  expect_str(r, "email", "alice@example.com");
  expect_str(r, "first_name", "Alice");
  expect_str(r, "last_name", "Liddell");
  expect_str(r, "role", "attendee");

  r = api_get(ME, alice.access);
  expect_str(r, "email", "alice@example.com");
  expect_str(r, "first_name", "Alice");

  r = api_put("/api/auth/me/", alice.access, api_json("{'role':'organizer'}"));
  expect_status(r, 200);
  expect_str(r, "email", "alice@example.com");
  expect_str(r, "first_name", "Alice");
  expect_str(r, "role", "organizer");
}

Test(users, me_put_still_checks_an_email_that_is_sent)
{
  struct api_user alice = api_signup("alice", NULL);
  api_signup("bob", NULL);
  struct api_resp *r = api_put(ME, alice.access, api_json("{'email':null,'first_name':'A'}"));
  expect_status(r, 400);
  expect_body(r, "{'email':['This field may not be null.']}");
  r = api_put(ME, alice.access, api_json("{'email':'','first_name':'A'}"));
  expect_status(r, 400);
  expect_body(r, "{'email':['This field may not be blank.']}");
  r = api_put(ME, alice.access, api_json("{'email':'Bob@Example.com'}"));
  expect_status(r, 400);
  expect_body(r, "{'email':['A user with that email already exists.']}");
  r = api_get(ME, alice.access);
  expect_str(r, "email", "alice@example.com");
  expect_str(r, "first_name", "");
}

Test(users, me_put_replaces_the_profile)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = api_put(ME, alice.access,
                               api_json("{'email':'liddell@example.com','first_name':'Alice',"
                                        "'last_name':'Liddell','role':'organizer'}"));
  expect_status(r, 200);
  expect_keys(r, USER_KEYS);
  expect_int(r, "id", alice.id);
  expect_str(r, "username", "alice");
  expect_str(r, "email", "liddell@example.com");
  expect_str(r, "first_name", "Alice");
  expect_str(r, "last_name", "Liddell");
  expect_str(r, "role", "organizer");

  r = api_get(ME, alice.access);
  expect_str(r, "email", "liddell@example.com");
  expect_str(r, "role", "organizer");
}

Test(users, me_switches_between_attendee_and_organizer)
{
  struct api_user alice = api_signup("alice", NULL);
  expect_str(api_patch(ME, alice.access, api_json("{'role':'organizer'}")), "role", "organizer");
  expect_str(api_get(ME, alice.access), "role", "organizer");
  expect_str(api_patch(ME, alice.access, api_json("{'role':'attendee'}")), "role", "attendee");
  expect_str(api_get(ME, alice.access), "role", "attendee");
}

Test(users, me_cannot_make_itself_admin)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = api_patch(ME, olga.access, api_json("{'role':'admin'}"));
  expect_status(r, 400);
  expect_keys(r, "role", NULL);
  expect_field_errors(r, "role", "\"admin\" is not a valid choice.", NULL);
  expect_str(api_get(ME, olga.access), "role", "organizer");
  expect_status(api_get("/api/users/", olga.access), 403);
}

Test(users, me_ignores_username_id_and_password)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = api_patch(ME, alice.access,
                                 api_json("{'username':'queen','id':4242,"
                                          "'password':'An0ther-Secret-Pw','last_name':'L'}"));
  expect_status(r, 200);
  expect_str(r, "username", "alice");
  expect_int(r, "id", alice.id);
  expect_str(r, "last_name", "L");

  expect_status(log_in("alice", API_PASSWORD), 200);
  expect_status(log_in("alice", "An0ther-Secret-Pw"), 401);
  expect_status(log_in("queen", "An0ther-Secret-Pw"), 401);
}

Test(users, me_refuses_an_email_taken_by_another_user)
{
  api_signup("bob", NULL);
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = api_patch(ME, alice.access, api_json("{'email':'BOB@example.com'}"));
  expect_status(r, 400);
  expect_body(r, "{'email':['A user with that email already exists.']}");
  expect_str(api_get(ME, alice.access), "email", "alice@example.com");
}

Test(users, me_keeps_its_own_email)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = api_put(ME, alice.access,
                               api_json("{'email':'alice@example.com','first_name':'A'}"));
  expect_status(r, 200);
  expect_str(r, "email", "alice@example.com");
  expect_str(r, "first_name", "A");
}

Test(users, me_refuses_an_invalid_email_and_long_names)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = api_patch(ME, alice.access,
                                 api_jsonf("{'email':'nope','first_name':'%s'}",
                                           api_repeat('f', 151)));
  expect_status(r, 400);
  expect_body(r, "{'email':['Enter a valid email address.'],"
                 "'first_name':['Ensure this field has no more than 150 characters.']}");
}

/* ---- password ----------------------------------------------------------- */

#define PASSWORD "/api/users/me/password/"

Test(users, password_change_swaps_the_password)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = api_post(PASSWORD, alice.access,
                                api_json("{'old_password':'" API_PASSWORD "',"
                                         "'new_password':'Brand-New-Passw0rd'}"));
  expect_status(r, 204);
  expect_empty_body(r);
  expect_status(log_in("alice", "Brand-New-Passw0rd"), 200);
  struct api_resp *old = log_in("alice", API_PASSWORD);
  expect_status(old, 401);
  expect_detail(old, "No active account found with the given credentials");
}

Test(users, password_change_checks_the_old_password)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = api_post(PASSWORD, alice.access,
                                api_json("{'old_password':'not-my-password',"
                                         "'new_password':'Brand-New-Passw0rd'}"));
  expect_status(r, 400);
  expect_body(r, "{'old_password':['Wrong password.']}");
  expect_status(log_in("alice", API_PASSWORD), 200);
  expect_status(log_in("alice", "Brand-New-Passw0rd"), 401);
}

Test(users, password_change_validates_the_new_password)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = api_post(PASSWORD, alice.access,
                                api_json("{'old_password':'" API_PASSWORD "',"
                                         "'new_password':'Xk7#'}"));
  expect_status(r, 400);
  expect_body(r, "{'new_password':['This password is too short. "
                 "It must contain at least 8 characters.']}");

  r = api_post(PASSWORD, alice.access,
               api_json("{'old_password':'" API_PASSWORD "','new_password':'5820193746'}"));
  expect_status(r, 400);
  expect_field_errors(r, "new_password", "This password is entirely numeric.", NULL);
  expect_status(log_in("alice", API_PASSWORD), 200);
}

Test(users, password_change_compares_the_new_password_with_the_user)
{
  struct api_user marmaduke = api_signup("marmaduke", NULL);
  struct api_resp *r = api_post(PASSWORD, marmaduke.access,
                                api_json("{'old_password':'" API_PASSWORD "',"
                                         "'new_password':'marmaduke7'}"));
  expect_status(r, 400);
  expect_field_errors(r, "new_password", "The password is too similar to the username.",
                      NULL);
}

Test(users, password_change_requires_both_fields)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = api_post(PASSWORD, alice.access, "{}");
  expect_status(r, 400);
  expect_body(r, "{'old_password':['This field is required.'],"
                 "'new_password':['This field is required.']}");
}

Test(users, password_change_needs_a_token)
{
  struct api_resp *r = api_post(PASSWORD, NULL,
                                api_json("{'old_password':'a','new_password':'b'}"));
  expect_status(r, 401);
  expect_detail(r, "Authentication credentials were not provided.");
}

/* ---- ending tokens ------------------------------------------------------ */

#define BLACKLISTED "{'detail':'Token is blacklisted','code':'token_not_valid'}"
#define NO_ACTIVE_ACCOUNT_FOR_TOKEN \
  "{'detail':'No active account found for the given token.','code':'no_active_account'}"

static struct api_resp *post_token(const char *path, const char *field, const char *token)
{
  return api_post(path, NULL, api_jsonf("{'%s':'%s'}", field, token));
}

/* Every use of u's tokens is refused: they were ended. */
static void expect_tokens_ended(struct api_user u)
{
  struct api_resp *r = post_token("/auth/token/refresh/", "refresh", u.refresh);
  expect_status(r, 401);
  expect_body(r, BLACKLISTED);
  r = post_token("/api/token/refresh/", "refresh", u.refresh);
  expect_status(r, 401);
  expect_body(r, BLACKLISTED);
  r = api_get(ME, u.access);
  expect_status(r, 401);
  expect_body(r, NOT_VALID_FOR_ANY_TYPE);
  expect_header(r, "WWW-Authenticate", "Bearer realm=\"api\"");
  r = post_token("/auth/token/verify/", "token", u.access);
  expect_status(r, 401);
  expect_body(r, INVALID_OR_EXPIRED);
  r = post_token("/auth/token/verify/", "token", u.refresh);
  expect_status(r, 401);
  expect_body(r, BLACKLISTED);
  r = post_token("/auth/token/blacklist/", "refresh", u.refresh);
  expect_status(r, 401);
  expect_body(r, BLACKLISTED);
}

/* Every use of u's tokens works. */
static void expect_tokens_work(struct api_user u)
{
  expect_int(api_get(ME, u.access), "id", u.id);
  struct api_resp *r = post_token("/auth/token/refresh/", "refresh", u.refresh);
  expect_status(r, 200);
  expect_int(api_get(ME, json_string_value(json_object_get(r->json, "access"))), "id", u.id);
  expect_status(post_token("/auth/token/verify/", "token", u.access), 200);
  expect_status(post_token("/auth/token/verify/", "token", u.refresh), 200);
}

Test(users, password_change_ends_every_earlier_token)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_user phone = api_login("alice", API_PASSWORD);
  struct api_user bob = api_signup("bob", NULL);
  expect_status(api_post(PASSWORD, alice.access,
                         api_json("{'old_password':'" API_PASSWORD "',"
                                  "'new_password':'Brand-New-Passw0rd'}")), 204);
  expect_tokens_ended(alice);
  expect_tokens_ended(phone);
  expect_tokens_work(bob);

  /* Tokens issued after the change work, within the same second too. */
  struct api_user again = api_login("alice", "Brand-New-Passw0rd");
  cr_assert_eq(again.id, alice.id);
  expect_tokens_work(again);
  /* A second change ends those in turn. */
  expect_status(api_post(PASSWORD, again.access,
                         api_json("{'old_password':'Brand-New-Passw0rd',"
                                  "'new_password':'Third-Passw0rd-Here'}")), 204);
  expect_tokens_ended(again);
  expect_tokens_work(api_login("alice", "Third-Passw0rd-Here"));
}

Test(users, refused_password_change_keeps_the_tokens)
{
  struct api_user alice = api_signup("alice", NULL);
  expect_status(api_post(PASSWORD, alice.access,
                         api_json("{'old_password':'not-my-password',"
                                  "'new_password':'Brand-New-Passw0rd'}")), 400);
  expect_status(api_post(PASSWORD, alice.access,
                         api_json("{'old_password':'" API_PASSWORD "',"
                                  "'new_password':'123'}")), 400);
  expect_tokens_work(alice);
}

/* ---- admin -------------------------------------------------------------- */

Test(users, admin_is_an_admin_on_me)
{
  struct api_user root = api_admin("root");
  struct api_resp *r = api_get(ME, root.access);
  expect_status(r, 200);
  expect_keys(r, USER_KEYS);
  expect_str(r, "username", "root");
  expect_str(r, "role", "admin");
}

Test(users, user_list_is_for_admins_only)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_user olga = api_signup("olga", "organizer");

  struct api_resp *r = api_get("/api/users/", NULL);
  expect_status(r, 401);
  expect_detail(r, "Authentication credentials were not provided.");
  r = api_get("/api/users/", alice.access);
  expect_status(r, 403);
  expect_detail(r, "You do not have permission to perform this action.");
  r = api_get("/api/users/", olga.access);
  expect_status(r, 403);
  expect_detail(r, "You do not have permission to perform this action.");
}

Test(users, user_list_answers_every_user_by_id)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_user root = api_admin("root");
  struct api_user olga = api_signup("olga", "organizer");

  struct api_resp *r = api_get("/api/users/", root.access);
  expect_status(r, 200);
  expect_json_response(r);
  cr_assert(json_is_array(r->json), "expected an array: %s", r->body);
  cr_assert_eq(json_array_size(r->json), 3, "%s", r->body);

  json_t *first = json_array_get(r->json, 0);
  json_t *second = json_array_get(r->json, 1);
  json_t *third = json_array_get(r->json, 2);
  expect_keys(first, ADMIN_USER_KEYS);
  expect_int(first, "id", alice.id);
  expect_str(first, "username", "alice");
  expect_str(first, "role", "attendee");
  expect_bool(first, "is_active", true);
  expect_int(second, "id", root.id);
  expect_str(second, "role", "admin");
  expect_int(third, "id", olga.id);
  expect_str(third, "role", "organizer");
  cr_assert(alice.id < root.id && root.id < olga.id);
}

Test(users, user_detail_answers_one_user)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_user root = api_admin("root");

  struct api_resp *r = api_get(api_user_path(alice.id), root.access);
  expect_status(r, 200);
  expect_keys(r, ADMIN_USER_KEYS);
  expect_int(r, "id", alice.id);
  expect_str(r, "username", "alice");
  expect_str(r, "email", "alice@example.com");
  expect_bool(r, "is_active", true);
}

Test(users, user_detail_of_a_missing_user_is_404)
{
  struct api_user root = api_admin("root");
  struct api_resp *r = api_get("/api/users/987654/", root.access);
  expect_status(r, 404);
  expect_detail(r, "No User matches the given query.");
}

Test(users, user_detail_is_for_admins_only)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  const char *path = api_user_path(bob.id);

  struct api_resp *r = api_get(path, alice.access);
  expect_status(r, 403);
  expect_detail(r, "You do not have permission to perform this action.");
  expect_status(api_get(api_user_path(alice.id), alice.access), 403);
  expect_status(api_patch(path, alice.access, api_json("{'role':'organizer'}")), 403);
  expect_status(api_delete(path, alice.access), 403);
  expect_status(api_get(path, NULL), 401);
  expect_status(api_delete(path, NULL), 401);
  expect_status(api_get(ME, bob.access), 200);
}

Test(users, admin_can_grant_the_admin_role)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_user root = api_admin("root");

  struct api_resp *r = api_patch(api_user_path(alice.id), root.access,
                                 api_json("{'role':'admin'}"));
  expect_status(r, 200);
  expect_keys(r, ADMIN_USER_KEYS);
  expect_str(r, "role", "admin");
  expect_str(api_get(ME, alice.access), "role", "admin");
  expect_status(api_get("/api/users/", alice.access), 200);
}

Test(users, admin_can_edit_the_profile)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_user root = api_admin("root");

  struct api_resp *r = api_patch(api_user_path(alice.id), root.access,
                                 api_json("{'email':'a2@example.com','first_name':'Al',"
                                          "'last_name':'Lid','role':'organizer'}"));
  expect_status(r, 200);
  expect_str(r, "email", "a2@example.com");
  expect_str(r, "first_name", "Al");
  expect_str(r, "last_name", "Lid");
  expect_str(r, "role", "organizer");
  expect_str(r, "username", "alice");

  r = api_get(ME, alice.access);
  expect_str(r, "email", "a2@example.com");
  expect_str(r, "role", "organizer");
}

Test(users, admin_patch_refuses_a_non_boolean_is_active)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_user root = api_admin("root");

  struct api_resp *r = api_patch(api_user_path(alice.id), root.access,
                                 api_json("{'is_active':'maybe'}"));
  expect_status(r, 400);
  expect_body(r, "{'is_active':['Must be a valid boolean.']}");
  expect_status(api_get(ME, alice.access), 200);
}

#define FORM "application/x-www-form-urlencoded"

static struct api_resp *send_form(const char *method, const char *path, const char *token,
                                  const char *form)
{
  return api_request(method, path, token, FORM, form, strlen(form), NULL);
}

Test(users, profile_and_password_take_form_bodies)
{
  struct api_user alice = api_signup("alice", "organizer");
  /* A blank role is not given in a form; a blank name is blank. */
  struct api_resp *r = send_form("PATCH", ME, alice.access, "first_name=Alice&last_name=&role=");
  expect_status(r, 200);
  expect_str(r, "first_name", "Alice");
  expect_str(r, "last_name", "");
  expect_str(r, "role", "organizer");
  r = send_form("PUT", ME, alice.access, "email=alice%2Bnew%40example.com&role=attendee");
  expect_status(r, 200);
  expect_str(r, "email", "alice+new@example.com");
  expect_str(r, "role", "attendee");
  r = send_form("PUT", ME, alice.access, "email=&role=boss");
  expect_status(r, 400);
  expect_body(r, "{'email':['This field may not be blank.'],"
                 "'role':['\\\"boss\\\" is not a valid choice.']}");

  r = send_form("POST", "/api/users/me/password/", alice.access,
                "old_password=" API_PASSWORD "&new_password=n3w-pass-for-alice%21");
  expect_status(r, 204);
  api_login("alice", "n3w-pass-for-alice!");
}

Test(users, admin_patch_takes_form_booleans)
{
  struct api_user root = api_admin("root");
  struct api_user bob = api_signup("bob", NULL);
  const char *path = api_user_path(bob.id);
  struct api_resp *r = send_form("PATCH", path, root.access, "is_active=off&role=organizer");
  expect_status(r, 200);
  expect_bool(r, "is_active", false);
  expect_str(r, "role", "organizer");
  r = send_form("PATCH", path, root.access, "is_active=");
  expect_status(r, 200);
  expect_bool(r, "is_active", false); /* blank: not given */
  r = send_form("PATCH", path, root.access, "is_active=1");
  expect_bool(r, "is_active", true);
  r = send_form("PATCH", path, root.access, "is_active=maybe");
  expect_status(r, 400);
  expect_body(r, "{'is_active':['Must be a valid boolean.']}");
}

Test(users, deactivated_user_is_locked_out)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_user root = api_admin("root");

  struct api_resp *r = api_patch(api_user_path(alice.id), root.access,
                                 api_json("{'is_active':false}"));
  expect_status(r, 200);
  expect_bool(r, "is_active", false);

  r = api_get(ME, alice.access);
  expect_status(r, 401);
  expect_body(r, "{'detail':'User is inactive','code':'user_inactive'}");
  expect_header(r, "WWW-Authenticate", "Bearer realm=\"api\"");

  r = log_in("alice", API_PASSWORD);
  expect_status(r, 401);
  expect_detail(r, "No active account found with the given credentials");

  /* The deactivation ended the refresh token too (docs/api.md, Token errors). */
  r = api_post("/auth/token/refresh/", NULL, api_jsonf("{'refresh':'%s'}", alice.refresh));
  expect_status(r, 401);
  expect_body(r, BLACKLISTED);

  expect_bool(api_get(api_user_path(alice.id), root.access), "is_active", false);
}

Test(users, deactivation_ends_the_tokens_for_good)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_user root = api_admin("root");
  const char *path = api_user_path(alice.id);

  expect_status(api_patch(path, root.access, api_json("{'is_active':false}")), 200);
  struct api_resp *r = post_token("/auth/token/refresh/", "refresh", alice.refresh);
  expect_status(r, 401);
  expect_body(r, BLACKLISTED);

  /* Reactivated, the user logs in again; the tokens from before stay dead. */
  r = api_patch(path, root.access, api_json("{'is_active':true}"));
  expect_status(r, 200);
  expect_bool(r, "is_active", true);
  expect_tokens_ended(alice);
  expect_tokens_work(api_login("alice", API_PASSWORD));
}

Test(users, admin_edits_that_keep_the_user_active_keep_the_tokens)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_user root = api_admin("root");
  const char *path = api_user_path(alice.id);
  expect_status(api_patch(path, root.access,
                          api_json("{'first_name':'Alice','role':'organizer'}")), 200);
  expect_status(api_patch(path, root.access, api_json("{'is_active':true}")), 200);
  expect_status(api_patch(path, root.access, api_json("{'is_active':'maybe'}")), 400);
  expect_status(api_patch(ME, alice.access, api_json("{'last_name':'Liddell'}")), 200);
  expect_tokens_work(alice);
  expect_tokens_work(root);
}

Test(users, deleted_user_is_gone)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_user root = api_admin("root");
  const char *path = api_user_path(alice.id);

  struct api_resp *r = api_delete(path, root.access);
  expect_status(r, 204);
  expect_empty_body(r);

  r = api_get(ME, alice.access);
  expect_status(r, 401);
  expect_body(r, "{'detail':'User not found','code':'user_not_found'}");
  expect_header(r, "WWW-Authenticate", "Bearer realm=\"api\"");

  r = log_in("alice", API_PASSWORD);
  expect_status(r, 401);
  expect_detail(r, "No active account found with the given credentials");

  r = api_post("/auth/token/refresh/", NULL, api_jsonf("{'refresh':'%s'}", alice.refresh));
  expect_status(r, 401);
  expect_body(r, NO_ACTIVE_ACCOUNT_FOR_TOKEN);

  r = api_get(path, root.access);
  expect_status(r, 404);
  expect_detail(r, "No User matches the given query.");
  expect_status(api_delete(path, root.access), 404);
}

Test(users, deleted_username_can_sign_up_again)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_user root = api_admin("root");
  expect_status(api_delete(api_user_path(alice.id), root.access), 204);

  struct api_resp *r = sign_up_as("alice", "");
  expect_status(r, 201);
  expect_that(json_integer_value(json_object_get(r->json, "id")) != alice.id,
              "a deleted id was reused: %s", r->body);
  /* The old token names the old id, which is gone. */
  expect_status(api_get(ME, alice.access), 401);
}

/* ---- sign-ups racing ---------------------------------------------------- */

#define RACERS 50

/* A racing sign-up with body. */
static struct api_call sign_up_call(const char *body)
{
  return (struct api_call){ .method = "POST", .path = REGISTER, .body = body };
}

Test(users, one_username_signed_up_by_fifty_at_once_is_taken_once)
{
  struct api_call racers[RACERS];
  for (size_t i = 0; i < RACERS; i++)
    racers[i] = sign_up_call(api_jsonf("{'username':'popular','email':'fan%zu@example.com',"
                                       "'password':'" API_PASSWORD "'}", i));
  api_race(racers, RACERS);

  /* One sign-up of the username succeeds; the others are told it is taken. */
  struct api_resp *signed_up = api_race_winner(
      racers, RACERS, 201, "{'username':['A user with that username already exists.']}");
  expect_str(signed_up, "username", "popular");
  expect_status(log_in("popular", API_PASSWORD), 200);
}

static int compare_ids(const void *a, const void *b)
{
  long long x = *(const long long *)a, y = *(const long long *)b;
  return (x > y) - (x < y);
}

Test(users, fifty_different_sign_ups_at_once_all_succeed)
{
  struct api_call racers[RACERS];
  long long ids[RACERS];
  for (size_t i = 0; i < RACERS; i++)
    racers[i] = sign_up_call(api_jsonf("{'username':'guest%zu','email':'guest%zu@example.com',"
                                       "'password':'" API_PASSWORD "'}", i, i));
  api_race(racers, RACERS);

  for (size_t i = 0; i < RACERS; i++) {
    struct api_resp *r = racers[i].resp;
    expect_status(r, 201);
    expect_str(r, "username", api_printf("guest%zu", i));
    ids[i] = api_id(r);
  }
  qsort(ids, RACERS, sizeof *ids, compare_ids);
  for (size_t i = 1; i < RACERS; i++)
    cr_assert_neq(ids[i], ids[i - 1], "two sign-ups got id %lld", ids[i]);

  struct api_user root = api_admin("root");
  struct api_resp *r = api_get("/api/users/", root.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), RACERS + 1, "%s", r->body);
}
