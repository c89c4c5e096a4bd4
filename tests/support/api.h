/*
 * api.h - support for the API tests: a real server started in-process for
 * each test, an HTTP client whose calls read like the contract, and
 * assertions on what the server answers.
 *
 * Criterion runs every test in its own process, so the harness keeps one
 * server and its state in globals. Everything the harness hands out
 * (responses, strings, json values, curl handles) is owned by the harness
 * and freed by api_server_stop(), so a test never frees anything.
 *
 * A suite reads:
 *
 *   TestSuite(users, .init = api_server_start, .fini = api_server_stop);
 *
 *   Test(users, register_returns_the_user)
 *   {
 *     struct api_resp *r = api_post("/api/users/register/", NULL,
 *         api_json("{'username':'alice','email':'alice@example.com',"
 *                  "'password':'" API_PASSWORD "'}"));
 *     expect_status(r, 201);
 *     expect_keys(r, USER_KEYS);
 *     expect_str(r, "username", "alice");
 *   }
 */
#ifndef EVENTAPI_TESTS_API_H
#define EVENTAPI_TESTS_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct api_resp;

/* ---- the server (server.c) ---------------------------------------------- */

/*
 * Starts a server on a free port of 127.0.0.1, with a fresh SQLite database
 * and media folder in a new temporary directory, a random SECRET_KEY, fast
 * password hashing and 4 threads. Any failure fails the test. Use as a
 * Criterion .init.
 *
 * The server's environment is the harness's alone: every variable of the
 * developer's shell is removed first except those the tools need (PATH,
 * HOME, TMPDIR, the locale, the sanitizers' options, CI and the suite's own
 * EVENTAPI_BIN, EVENTAPI_SOURCE_ROOT, EVENTAPI_TEST_POSTGRES), so no setting
 * of the shell (and no proxy) changes what is tested. Child processes
 * (process.h, command.h) inherit the same.
 */
void api_server_start(void);

/*
 * Like api_server_start(), after setting extra environment variables:
 * env is a NULL-terminated list of name, value pairs, e.g.
 *   { "LOGIN_MAX_FAILURES", "3", "ACCESS_TOKEN_LIFETIME", "1", NULL }.
 * Call it from a test's own .init function.
 */
void api_server_start_with(const char *const *env);

/*
 * Like api_server_start_with(), on a database first migrated only up to
 * migration version (as an older eventapi left it) and given fill's rows
 * (fill writes them through api_db_int(), "INSERT ... RETURNING id");
 * the server then applies the later migrations as it starts: a test of
 * what an upgrade does to the data it finds.
 */
void api_server_start_upgrading(const char *const *env, int version, void (*fill)(void));

/*
 * Closes the client's connections, stops the server, frees everything the
 * harness handed out and removes the temporary directory. Use as .fini.
 */
void api_server_stop(void);

/*
 * Points the client at another server on 127.0.0.1:port (an `eventapi
 * serve` child process, see process.h); api_url() and every request follow.
 */
void api_server_attach(unsigned port);

unsigned api_server_port(void);
const char *api_server_secret(void);     /* the SECRET_KEY in use */
/* Whether this pass runs on PostgreSQL (scripts/with-postgres sets
 * EVENTAPI_TEST_POSTGRES) rather than SQLite. */
bool api_on_postgres(void);
const char *api_server_dir(void);        /* the temporary directory */
/* "http://127.0.0.1:<port>" + path; an absolute "http://..." path as it is. */
const char *api_url(const char *path);

/* Harness-owned memory, freed by api_server_stop(); safe from any thread. */
void api_keep(void *p, void (*release)(void *));
char *api_strdup(const char *s);
char *api_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
json_t *api_keep_json(json_t *json);     /* steals the reference */
char *api_repeat(char c, size_t n);      /* n times c, NUL-terminated */

/* Creates an admin through the model (as `eventapi createsuperuser` does). */
void api_create_superuser(const char *username, const char *email,
                          const char *password);

/*
 * Delivers the outbox of the in-process server as `eventapi worker --once`
 * does, in the calling thread: every notification due now is sent through
 * the server's EMAIL_URL (or given up) before it returns, so a test asserts
 * what was sent, and what was not, without waiting. The suites that use it
 * start their server with WORKER=off, so that nothing else sends.
 */
void api_deliver_mail(void);

/* Points the in-process server's mail at another EMAIL_URL (for
 * api_deliver_mail()). */
void api_server_set_email_url(const char *url);

/* ---- the test clock and the tests' dates (clock.c) ----------------------- */

/*
 * The clock the in-process server reads (time_now_us() of
 * src/core/timefmt.h): the real clock, moved forward by the test. A test
 * never waits for time to pass: it moves the clock. Child processes
 * (process.h) keep the real clock.
 */
long long api_now_us(void);
long long api_now(void);                     /* in whole seconds */

/* Moves the server's clock (and the test's) forward by seconds. */
void api_clock_advance(long long seconds);

/* Back to the real clock (api_server_stop() does it). */
void api_clock_reset(void);

/* Sleeps ms milliseconds of real time: for what the test waits on outside
 * the server's clock (a child process, a restarted database, the kernel). */
void api_pause_ms(long ms);

/* An answer's timestamp ("2031-05-01T18:00:00.25Z", UTC with Z) in
 * microseconds, read with libc's calendar; fails the test on anything else. */
long long api_parse_iso_us(const char *text);

/* The string member key of x is a timestamp within [from_us, to_us]. */
#define expect_time_within(x, key, from_us, to_us) \
  expect_time_within_at(__FILE__, __LINE__, API_RESP_OF(x), API_JSON_OF(x), (key), (from_us), \
                        (to_us))
void expect_time_within_at(const char *file, int line, const struct api_resp *r,
                           const json_t *json, const char *key, long long from_us,
                           long long to_us);

/* The ISO 8601 UTC time seconds from the test clock's now, to the second
 * ("2031-05-01T18:00:00Z"; seconds < 0 is in the past). Harness-owned. */
const char *api_iso_from_now(long long seconds);

/*
 * The year a test's dates are in. A test never names a year: it writes {Y}
 * where the year goes, and api_json(), api_jsonf() and api_date() put in
 * api_year(): the first year at least two years after the test clock's
 * whose calendar is the one the tests were written against, a common year
 * that begins on a Wednesday. So every date is in the future whenever the
 * suite runs, and keeps its weekday (1 May is a Thursday) and Europe's
 * daylight-saving Sundays (30 March and 26 October). {Y+1}, {Y+2}, {Y-1}
 * are the years around it (still in the future, calendars of their own).
 */
int api_year(void);

/* text with every {Y} (and {Y+n}, {Y-n}) replaced as above. Harness-owned. */
const char *api_date(const char *text);

/* ---- what many tests make (fixtures.c) ------------------------------------ */

/* The positive integer "id" of r's JSON object; fails the test otherwise. */
long long api_id(const struct api_resp *r);

/* The integer member key of json; fails the test otherwise. */
long long api_int(const json_t *json, const char *key);

/* json (any value) as compact text, for a message; "(null)" for none.
 * Harness-owned. */
const char *api_dump(const json_t *json);

/* The default date_time of api_event_json(): Thursday 1 May, 18:00 UTC. */
#define API_EVENT_WHEN "{Y}-05-01T18:00:00Z"

/*
 * A valid body for POST /api/events/create/: {"title": "Jazz Night",
 * "description": "", "date_time": API_EVENT_WHEN, "location": "Berlin",
 * "capacity": 100} with the members of overrides (a single-quoted JSON
 * object as api_json() takes, or NULL) put over them. Harness-owned.
 */
const char *api_event_json(const char *overrides);

/* An event as created, with the ids of its nested items in order (0 past
 * the last). */
struct api_event {
  long long id;
  long long ticket_types[8];
  long long sessions[8];
  struct api_resp *resp;        /* the answer to the create */
};

/* Creates api_event_json(overrides) as token, asserting 200. */
struct api_event api_create_event(const char *token, const char *overrides);

/* Creates the category name as token, asserting 201; its id. */
long long api_create_category(const char *token, const char *name);

/* The code of the ticket in a registration's answer r; fails the test
 * when r holds no ticket. Harness-owned. */
const char *api_ticket_code(const struct api_resp *r);

/*
 * A 1x1 grey PNG of exactly size bytes (0: as small as it gets), padded
 * with an ancillary chunk that nothing decodes: an image upload of any
 * size. Harness-owned; *len gets its size.
 */
const unsigned char *api_png(size_t size, size_t *len);

/* The same, declaring width x height pixels (it holds the data of one). */
const unsigned char *api_png_declaring(size_t size, uint32_t width, uint32_t height,
                                       size_t *len);

/* ---- races (race.c) ---------------------------------------------------------- */

/* One request of a race, and what came of it. */
struct api_call {
  const char *method;           /* "POST", "PUT", "DELETE", ... */
  const char *path;             /* as api_request() takes it */
  const char *token;            /* or NULL */
  const char *body;             /* JSON; NULL sends "{}" (a race needs a body) */
  size_t body_len;              /* 0: strlen(body) (for bodies with NUL bytes) */
  const char *content_type;     /* NULL: application/json */
  const char *const *headers;   /* more request headers ("Name: value", NULL-ended), or NULL */
  struct api_resp *resp;        /* the answer, once api_race() returns */
  long long held_us;            /* when all but its last byte had gone (monotonic) */
  long long answered_us;        /* when its answer was read (monotonic) */
  bool held;                    /* it reached the gate (its last byte waited) */
};

/*
 * Sends the calls at once, each from a thread and a connection of its own,
 * and proves that they raced: every request goes out but for the last byte
 * of its body, and the last bytes go only once every request has got that
 * far. A server answers a request only when it has all of it, so every
 * request is in flight before any is answered. Then it asserts that every
 * call got an answer and that the timestamps agree (every answer read after
 * the last request reached the gate): a race that did not overlap fails the
 * test. Threads never assert; the test checks the answers afterwards.
 */
void api_race(struct api_call *calls, size_t count);

/*
 * After api_race() of calls that only one may win (a name, a username
 * taken once): fails the test unless exactly one call was answered won and
 * every other 400 with exactly lost_body (single-quoted JSON, as
 * expect_body() takes it). Returns the winner's answer.
 */
struct api_resp *api_race_winner(struct api_call *calls, size_t count, long won,
                                 const char *lost_body);

/* api_request() whose body's last byte waits until hold(arg) returns (the
 * building block of api_race()). */
struct api_resp *api_request_held(const char *method, const char *path, const char *token,
                                  const char *content_type, const void *body, size_t len,
                                  const char *const *headers, void (*hold)(void *), void *arg);

/* ---- the HTTP client (client.c) ----------------------------------------- */

struct api_header {
  char *name;
  char *value;
};

/* One answer; owned by the harness. */
struct api_resp {
  const char *method;
  const char *path;
  long status;                  /* 0 when no answer came (see error) */
  char *body;                   /* always NUL-terminated */
  size_t len;
  json_t *json;                 /* the body parsed, or NULL if not JSON */
  struct api_header *headers;   /* of the final answer, in order */
  size_t nheaders;
  long num_connects;            /* new connections this request opened */
  char error[256];              /* why status is 0 */
};

/*
 * Sends one request over this thread's own curl handle (connections are kept
 * alive between a thread's requests). token, if not NULL, goes out as
 * "Authorization: Bearer <token>". content_type NULL sends no Content-Type.
 * body NULL sends no body (POST, PUT and PATCH then send Content-Length: 0).
 * headers is a NULL-terminated list of extra "Name: value" lines, or NULL.
 * A 5xx answer fails the test at once when it happens on the test's thread.
 */
struct api_resp *api_request(const char *method, const char *path,
                             const char *token, const char *content_type,
                             const void *body, size_t len,
                             const char *const *headers);

/* The same with the body sent with Transfer-Encoding: chunked. */
struct api_resp *api_request_chunked(const char *method, const char *path,
                                     const char *token,
                                     const char *content_type,
                                     const void *body, size_t len);

/* JSON requests: json is a JSON text (or NULL for no body). */
struct api_resp *api_get(const char *path, const char *token);
struct api_resp *api_delete(const char *path, const char *token);
struct api_resp *api_options(const char *path, const char *token);
struct api_resp *api_post(const char *path, const char *token, const char *json);
struct api_resp *api_put(const char *path, const char *token, const char *json);
struct api_resp *api_patch(const char *path, const char *token, const char *json);

/*
 * api_request() sent from a thread of its own and joined: a request whose
 * 5xx answer the test reads rather than fails on (the client fails the
 * test on a 5xx only on the test's own thread). Fails the test when no
 * answer came at all.
 */
struct api_resp *api_attempt(const char *method, const char *path, const char *token,
                             const char *content_type, const void *body, size_t len);

/* The same with a JSON body (NULL: none), as api_post() sends it. */
struct api_resp *api_attempt_json(const char *method, const char *path, const char *token,
                                  const char *json);

/*
 * Sends bytes as they are on a new connection and reads one answer: until
 * its Content-Length is complete, the server closes, or 30 seconds pass.
 * status is 0 when nothing parsable came back.
 */
struct api_resp *api_raw(const void *bytes, size_t len);

/* Sends bytes on a new connection and closes it at once, without reading. */
void api_raw_abort(const void *bytes, size_t len);

/*
 * A new TCP connection to the server (127.0.0.1, api_server_port()) from
 * the loopback address source ("127.0.0.2", as another host would; NULL:
 * the kernel's choice), with its receive buffer set to rcvbuf bytes first
 * unless 0 (a client that reads little). Fails the test when it cannot
 * connect; the caller closes it.
 */
int api_connect_from(const char *source, int rcvbuf);

/* The same, to port on 127.0.0.1 (another `eventapi serve` of the test's). */
int api_connect_to(unsigned port, const char *source, int rcvbuf);

/* The value of one sample of GET /metrics ("name" or "name{labels}");
 * fails the test when there is none. */
double api_metric(const char *sample);

/* The value of the answer's header name (case-insensitive), or NULL. */
const char *api_header(const struct api_resp *r, const char *name);

/*
 * JSON written with single quotes, for readable tests: every ' becomes ",
 * and every {Y} the tests' year (api_date()).
 * api_json("{'username':'alice'}") is {"username":"alice"}. Harness-owned.
 */
const char *api_json(const char *single_quoted);
const char *api_jsonf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- users and tokens (client.c) ---------------------------------------- */

/* A password that passes every validator for the users the tests make. */
#define API_PASSWORD "Vq8-Lantern-Tide"

struct api_user {
  long long id;
  const char *username;
  const char *email;            /* <username>@example.com */
  const char *access;
  const char *refresh;
};

/*
 * Signs username up (role NULL for the default) with API_PASSWORD and logs
 * in; asserts both succeed.
 */
struct api_user api_signup(const char *username, const char *role);

/* Logs in at /auth/token/ and asserts 200. id comes from the token. */
struct api_user api_login(const char *username, const char *password);

/* Creates an admin with API_PASSWORD and logs in. */
struct api_user api_admin(const char *username);

/* "/api/users/<id>/" */
const char *api_user_path(long long id);

/* The decoded header and payload of a JWT (harness-owned), or NULL. */
json_t *api_jwt_header(const char *token);
json_t *api_jwt_payload(const char *token);

/* An integer claim of token's payload; fails the test if it has none. */
long long api_jwt_claim(const char *token, const char *claim);

/*
 * Builds a JWT by hand: header {"alg":alg,"typ":"JWT"}, the payload given,
 * signed with key by alg ("HS256", "HS512"; "none" leaves the signature
 * empty). Harness-owned.
 */
const char *api_jwt_sign(const char *alg, const char *payload_json,
                         const char *key);

/* token with its payload replaced and its header and signature kept. */
const char *api_jwt_with_payload(const char *token, const char *payload_json);

/* ---- assertions (expect.c) ---------------------------------------------- */

/*
 * Each macro fails the test at the caller's line with the request and the
 * answer's body in the message. Those taking `x` accept a struct api_resp *
 * (its parsed body) or a json_t * (e.g. an element of an array).
 */

#define USER_KEYS "id", "username", "email", "first_name", "last_name", "role", NULL
#define ADMIN_USER_KEYS "id", "username", "email", "first_name", "last_name", \
    "role", "is_active", NULL
#define EVENT_KEYS "id", "title", "description", "date_time", "location", "capacity", \
    "created_at", "organizer", "visibility", "image", "category", "sessions", \
    "ticket_types", "timezone", "local_date_time", "waitlist_offer_hours", NULL

/* What many answers say (API.md), in more than one test file. */
#define REQUIRED "This field is required."
#define NO_CREDENTIALS "Authentication credentials were not provided."
#define NO_PERMISSION "You do not have permission to perform this action."
#define NO_EVENT "No Event matches the given query."
#define NO_REGISTRATION "No Registration matches the given query."
#define ALREADY "You are already registered for this event."
/* The bodies that refuse a token (single-quoted JSON, for expect_body()). */
#define INVALID_OR_EXPIRED \
  "{'detail':'Token is invalid or expired','code':'token_not_valid'}"
#define NOT_VALID_FOR_ANY_TYPE \
  "{'detail':'Given token not valid for any token type','code':'token_not_valid'," \
  "'messages':[{'token_class':'AccessToken','token_type':'access'," \
  "'message':'Token is invalid or expired'}]}"

#define API_JSON_OF(x) _Generic((x), \
    struct api_resp *: expect_json_of_resp, \
    json_t *: expect_json_of_json)(x)
#define API_RESP_OF(x) _Generic((x), \
    struct api_resp *: expect_resp_of_resp, \
    json_t *: expect_resp_of_json)(x)

/* r->status == status. */
#define expect_status(r, status) expect_status_at(__FILE__, __LINE__, (r), (status))
/* The object's keys are exactly these (any order); NULL-terminated. */
#define expect_keys(x, ...) \
  expect_keys_at(__FILE__, __LINE__, API_RESP_OF(x), API_JSON_OF(x), __VA_ARGS__)
#define expect_str(x, key, value) \
  expect_str_at(__FILE__, __LINE__, API_RESP_OF(x), API_JSON_OF(x), (key), (value))
#define expect_str_prefix(x, key, prefix) \
  expect_str_prefix_at(__FILE__, __LINE__, API_RESP_OF(x), API_JSON_OF(x), (key), (prefix))
#define expect_int(x, key, value) \
  expect_int_at(__FILE__, __LINE__, API_RESP_OF(x), API_JSON_OF(x), (key), (value))
#define expect_bool(x, key, value) \
  expect_bool_at(__FILE__, __LINE__, API_RESP_OF(x), API_JSON_OF(x), (key), (value))
#define expect_null(x, key) \
  expect_null_at(__FILE__, __LINE__, API_RESP_OF(x), API_JSON_OF(x), (key))
#define expect_no_key(x, key) \
  expect_no_key_at(__FILE__, __LINE__, API_RESP_OF(x), API_JSON_OF(x), (key))
/* The body equals this JSON (single-quoted JSON as api_json() takes). */
#define expect_body(r, json) expect_body_at(__FILE__, __LINE__, (r), (json))
#define expect_empty_body(r) expect_empty_body_at(__FILE__, __LINE__, (r))
/* The body is exactly {"detail": detail}. */
#define expect_detail(r, detail) expect_detail_at(__FILE__, __LINE__, (r), (detail))
/* The body is an object whose field holds a list that contains message. */
#define expect_field_error(r, field, message) \
  expect_field_error_at(__FILE__, __LINE__, (r), (field), (message))
/* The field's list is exactly these messages, in order; NULL-terminated. */
#define expect_field_errors(r, field, ...) \
  expect_field_errors_at(__FILE__, __LINE__, (r), (field), __VA_ARGS__)
#define expect_header(r, name, value) \
  expect_header_at(__FILE__, __LINE__, (r), (name), (value))
/* The comma-separated header (e.g. Allow) lists each of these; NULL-terminated. */
#define expect_header_lists(r, name, ...) \
  expect_header_lists_at(__FILE__, __LINE__, (r), (name), __VA_ARGS__)
#define expect_header_not_lists(r, name, item) \
  expect_header_not_lists_at(__FILE__, __LINE__, (r), (name), (item))
/* Content-Type is application/json; charset=utf-8 and the body parses. */
#define expect_json_response(r) expect_json_response_at(__FILE__, __LINE__, (r))
/* The server still answers: GET /api/users/me/ anonymously is 401. */
#define expect_alive() expect_alive_at(__FILE__, __LINE__)
/* A plain condition, with a message. */
#define expect_that(cond, ...) expect_that_at(__FILE__, __LINE__, !!(cond), __VA_ARGS__)

json_t *expect_json_of_resp(struct api_resp *r);
json_t *expect_json_of_json(json_t *json);
struct api_resp *expect_resp_of_resp(struct api_resp *r);
struct api_resp *expect_resp_of_json(json_t *json);

void expect_status_at(const char *file, int line, const struct api_resp *r, long status);
void expect_keys_at(const char *file, int line, const struct api_resp *r,
                    const json_t *json, ...);
void expect_str_at(const char *file, int line, const struct api_resp *r,
                   const json_t *json, const char *key, const char *value);
void expect_str_prefix_at(const char *file, int line, const struct api_resp *r,
                          const json_t *json, const char *key, const char *prefix);
void expect_int_at(const char *file, int line, const struct api_resp *r,
                   const json_t *json, const char *key, long long value);
void expect_bool_at(const char *file, int line, const struct api_resp *r,
                    const json_t *json, const char *key, bool value);
void expect_null_at(const char *file, int line, const struct api_resp *r,
                    const json_t *json, const char *key);
void expect_no_key_at(const char *file, int line, const struct api_resp *r,
                      const json_t *json, const char *key);
void expect_body_at(const char *file, int line, const struct api_resp *r,
                    const char *json);
void expect_empty_body_at(const char *file, int line, const struct api_resp *r);
void expect_detail_at(const char *file, int line, const struct api_resp *r,
                      const char *detail);
void expect_field_error_at(const char *file, int line, const struct api_resp *r,
                           const char *field, const char *message);
void expect_field_errors_at(const char *file, int line, const struct api_resp *r,
                            const char *field, ...);
void expect_header_at(const char *file, int line, const struct api_resp *r,
                      const char *name, const char *value);
void expect_header_lists_at(const char *file, int line, const struct api_resp *r,
                            const char *name, ...);
void expect_header_not_lists_at(const char *file, int line,
                                const struct api_resp *r, const char *name,
                                const char *item);
void expect_json_response_at(const char *file, int line, const struct api_resp *r);
void expect_alive_at(const char *file, int line);
void expect_that_at(const char *file, int line, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fails the test at file:line with a formatted message (never returns). */
_Noreturn void expect_fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
