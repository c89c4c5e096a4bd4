/*
 * Tests of the tests' SMTP support (tests/support/smtp.c and smtpd.py):
 * messages sent with libcurl come back decoded; rejected recipients, failed
 * DATA, a server that is down and one that stops and comes back behave as
 * a real one would, and a restarted server is on the same port.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../support/smtp.h"

#define SENDER "noreply@example.com"

static void setup(void)
{
  cr_assert(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK,
            "curl_global_init");
}

static void teardown(void)
{
  smtp_cleanup();
  curl_global_cleanup();
}

TestSuite(smtp_support, .init = setup, .fini = teardown);

struct upload {
  const char *data;
  size_t len;
  size_t sent;
};

static size_t read_message(char *buffer, size_t size, size_t nitems,
                           void *userp)
{
  struct upload *upload = userp;
  size_t n = upload->len - upload->sent;
  if (n > size * nitems)
    n = size * nitems;
  memcpy(buffer, upload->data + upload->sent, n);
  upload->sent += n;
  return n;
}

/*
 * Sends message (a whole RFC 5322 text) from SENDER to the NULL-terminated
 * recipients over smtp_url(). Returns curl's result; *reply is the last SMTP
 * reply code, error curl's message (CURL_ERROR_SIZE bytes).
 */
static CURLcode send_mail(const char *const *recipients, const char *message,
                          long *reply, char *error)
{
  struct upload upload = { message, strlen(message), 0 };
  struct curl_slist *rcpt = NULL;
  for (const char *const *r = recipients; *r; r++)
    rcpt = curl_slist_append(rcpt, *r);
  CURL *curl = curl_easy_init();
  cr_assert(curl != NULL, "curl_easy_init");
  error[0] = '\0';
  curl_easy_setopt(curl, CURLOPT_URL, smtp_url());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, "<" SENDER ">");
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_message);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  CURLcode rc = curl_easy_perform(curl);
  *reply = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, reply);
  curl_easy_cleanup(curl);
  curl_slist_free_all(rcpt);
  return rc;
}

/* Sends and asserts the server took the message. */
static void send_ok(const char *const *recipients, const char *message)
{
  char error[CURL_ERROR_SIZE];
  long reply;
  CURLcode rc = send_mail(recipients, message, &reply, error);
  cr_assert(rc == CURLE_OK, "send failed: %s (%s, reply %ld)",
            curl_easy_strerror(rc), error, reply);
}

static const char *str(json_t *message, const char *key)
{
  json_t *value = json_object_get(message, key);
  cr_assert(json_is_string(value), "%s is not a string", key);
  return json_string_value(value);
}

/* The array's strings equal the NULL-terminated list. */
static void expect_strings(json_t *message, const char *key,
                           const char *const *expected)
{
  json_t *array = json_object_get(message, key);
  cr_assert(json_is_array(array), "%s is not an array", key);
  size_t n = 0;
  while (expected[n])
    n++;
  cr_assert_eq(json_array_size(array), n, "%s has %zu items, not %zu", key,
               json_array_size(array), n);
  for (size_t i = 0; i < n; i++)
    cr_assert_str_eq(json_string_value(json_array_get(array, i)), expected[i],
                     "%s[%zu]", key, i);
}

static const char *message_with_subject(const char *subject)
{
  static char text[512];
  snprintf(text, sizeof text,
           "From: <" SENDER ">\r\n"
           "To: <carol@example.com>\r\n"
           "Subject: %s\r\n"
           "\r\n"
           "Sent as %s.\r\n", subject, subject);
  return text;
}

/* A message whose body is one line of length octets, its subject the
 * length. The caller frees it. */
static char *line_of(size_t length)
{
  char *text = malloc(length + 64);
  cr_assert(text != NULL);
  int n = sprintf(text, "Subject: %zu\r\n\r\n", length);
  memset(text + n, 'x', length);
  strcpy(text + n + length, "\r\n");
  return text;
}

Test(smtp_support, stores_what_it_receives_decoded)
{
  unsigned port = smtp_start();
  char url[64];
  snprintf(url, sizeof url, "smtp://127.0.0.1:%u", port);
  cr_assert_str_eq(smtp_url(), url);
  cr_assert_eq(smtp_port(), port);
  cr_assert_eq(smtp_count(), 0);

  send_ok((const char *[]){ "<alice@example.com>", "<bob@example.com>", NULL },
          "From: Event API <" SENDER ">\r\n"
          "To: alice@example.com, bob@example.com\r\n"
          "Subject: Plain\r\n"
          "Message-ID: <1@example.com>\r\n"
          "Date: Mon, 02 Jun 2025 10:00:00 +0000\r\n"
          "Auto-Submitted: auto-generated\r\n"
          "\r\n"
          "First line.\r\n"
          ".A line that starts with a dot.\r\n");
  send_ok((const char *[]){ "<carol@example.com>", NULL },
          "From: <" SENDER ">\r\n"
          "To: =?UTF-8?B?Q2Fmw6k=?= <carol@example.com>\r\n"
          "Subject: =?UTF-8?B?Q2Fmw6kg8J+OiQ==?=\r\n"
          "MIME-Version: 1.0\r\n"
          "Content-Type: text/plain; charset=utf-8\r\n"
          "Content-Transfer-Encoding: quoted-printable\r\n"
          "\r\n"
          "Caf=C3=A9 =F0=9F=8E=89\r\n");

  json_t *messages = smtp_wait(2, 5000);
  cr_assert_eq(json_array_size(messages), 2);
  cr_assert_eq(smtp_count(), 2);

  json_t *plain = json_array_get(messages, 0);
  cr_assert_str_eq(str(plain, "mail_from"), SENDER);
  expect_strings(plain, "rcpt_tos", (const char *[]){
                   "alice@example.com", "bob@example.com", NULL });
  cr_assert_str_eq(str(plain, "subject"), "Plain");
  cr_assert_str_eq(str(plain, "from"), "Event API <" SENDER ">");
  cr_assert_str_eq(str(plain, "to"), "alice@example.com, bob@example.com");
  cr_assert_str_eq(str(plain, "message_id"), "<1@example.com>");
  cr_assert_str_eq(str(plain, "date"), "Mon, 02 Jun 2025 10:00:00 +0000");
  cr_assert_str_eq(str(plain, "auto_submitted"), "auto-generated");
  cr_assert_str_eq(str(plain, "content_type"), "text/plain");
  /* SMTP's dot-stuffing is undone. */
  cr_assert_str_eq(str(plain, "text"),
                   "First line.\n.A line that starts with a dot.\n");
  cr_assert(json_is_null(json_object_get(plain, "html")));
  expect_strings(plain, "header_names", (const char *[]){
                   "From", "To", "Subject", "Message-ID", "Date",
                   "Auto-Submitted", NULL });
  expect_strings(plain, "defects", (const char *[]){ NULL });
  cr_assert(json_is_true(json_object_get(plain, "raw_ok")));
  cr_assert(strstr(str(plain, "raw"), "\r\n.A line") != NULL);

  json_t *utf8 = json_array_get(messages, 1);
  expect_strings(utf8, "rcpt_tos",
                 (const char *[]){ "carol@example.com", NULL });
  cr_assert_str_eq(str(utf8, "subject"), "Café 🎉");
  cr_assert_str_eq(str(utf8, "to"), "Café <carol@example.com>");
  cr_assert_str_eq(str(utf8, "text"), "Café 🎉\n");
  expect_strings(utf8, "parts", (const char *[]){ "text/plain", NULL });
  cr_assert(json_is_null(json_object_get(utf8, "date")));
  cr_assert(json_is_true(json_object_get(utf8, "raw_ok")));
}

Test(smtp_support, decodes_multipart_and_flags_bad_lines)
{
  smtp_start();
  const char *const to[] = { "<dave@example.com>", NULL };
  send_ok(to,
          "From: <" SENDER ">\r\n"
          "To: <dave@example.com>\r\n"
          "Subject: Both\r\n"
          "MIME-Version: 1.0\r\n"
          "Content-Type: multipart/alternative; boundary=\"b1\"\r\n"
          "\r\n"
          "--b1\r\n"
          "Content-Type: text/plain; charset=utf-8\r\n"
          "\r\n"
          "Text part.\r\n"
          "--b1\r\n"
          "Content-Type: text/html; charset=utf-8\r\n"
          "Content-Transfer-Encoding: base64\r\n"
          "\r\n"
          "PHA+SFRNTCBwYXJ0LjwvcD4=\r\n"
          "--b1--\r\n");
  /* RFC 5322 2.1.1, 2.3: lines end with CRLF and hold at most 998 octets. */
  send_ok(to, "Subject: Bare LF\r\n\r\none\ntwo\r\n");
  const size_t lengths[] = { 998, 999, 5000 };
  for (size_t i = 0; i < 3; i++) {
    char *text = line_of(lengths[i]);
    send_ok(to, text);
    free(text);
  }

  json_t *messages = smtp_wait(5, 5000);
  cr_assert_eq(json_array_size(messages), 5);

  json_t *both = json_array_get(messages, 0);
  cr_assert_str_eq(str(both, "content_type"), "multipart/alternative");
  expect_strings(both, "parts",
                 (const char *[]){ "text/plain", "text/html", NULL });
  /* The CRLF before a boundary belongs to the boundary. */
  cr_assert_str_eq(str(both, "text"), "Text part.");
  cr_assert_str_eq(str(both, "html"), "<p>HTML part.</p>");
  cr_assert(json_is_true(json_object_get(both, "raw_ok")));

  const struct {
    const char *subject;
    bool raw_ok;
  } expected[] = {
    { "Bare LF", false }, { "998", true }, { "999", false }, { "5000", false },
  };
  for (size_t i = 0; i < 4; i++) {
    json_t *message = json_array_get(messages, i + 1);
    cr_assert_str_eq(str(message, "subject"), expected[i].subject);
    cr_assert_eq(json_is_true(json_object_get(message, "raw_ok")),
                 expected[i].raw_ok, "raw_ok of %s", expected[i].subject);
  }
}

Test(smtp_support, rejected_recipients_fail_the_send)
{
  smtp_start();
  const long codes[] = { 550, 451 };
  for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
    char code[8];
    snprintf(code, sizeof code, "%ld", codes[i]);
    smtp_restart((const char *[]){ "--reject-rcpt", code, NULL });
    char error[CURL_ERROR_SIZE];
    long reply;
    CURLcode rc = send_mail((const char *[]){ "<erin@example.com>", NULL },
                            message_with_subject("Rejected"), &reply, error);
    cr_assert(rc != CURLE_OK, "a rejected recipient was accepted");
    cr_assert_eq(reply, codes[i], "reply %ld (%s)", reply, error);
  }
  /* The server stores a message before it answers: nothing came. */
  cr_assert_eq(smtp_count(), 0);
}

Test(smtp_support, a_restarted_server_fails_first_then_keeps_counting)
{
  const char *const to[] = { "<frank@example.com>", NULL };
  char error[CURL_ERROR_SIZE];
  long reply;

  unsigned port = smtp_start();
  send_ok(to, message_with_subject("Before"));
  cr_assert_eq(smtp_count(), 1);

  /* Down: every connection is greeted with 421, on the same port. */
  smtp_restart((const char *[]){ "--refuse", NULL });
  cr_assert_eq(smtp_port(), port);
  CURLcode rc = send_mail(to, message_with_subject("Down"), &reply, error);
  cr_assert(rc != CURLE_OK, "sent to a server that is down");
  cr_assert_eq(reply, 421, "reply %ld (%s)", reply, error);

  const char *const fail_first[] = { "--fail-first", "1", NULL };
  smtp_restart(fail_first);
  cr_assert_eq(smtp_port(), port);
  rc = send_mail(to, message_with_subject("Refused"), &reply, error);
  cr_assert(rc != CURLE_OK, "the first DATA after the restart was accepted");
  cr_assert_eq(reply, 451, "reply %ld (%s)", reply, error);
  cr_assert_eq(smtp_count(), 1);

  send_ok(to, message_with_subject("After"));
  /* Numbered 000002, so 000001 from before the restart is still there. */
  json_t *messages = smtp_messages();
  cr_assert_eq(json_array_size(messages), 2);
  cr_assert_str_eq(str(json_array_get(messages, 0), "subject"), "Before");
  cr_assert_str_eq(str(json_array_get(messages, 1), "subject"), "After");
  cr_assert_str_eq(str(json_array_get(messages, 1), "text"),
                   "Sent as After.\n");
}

/* The greeting on a new connection to smtp_port(), or "" when none came
 * within timeout_ms (up to 63 bytes). */
static const char *greeting(int fd, int timeout_ms, char *buffer)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  buffer[0] = '\0';
  if (poll(&pfd, 1, timeout_ms) == 1) {
    ssize_t n = recv(fd, buffer, 63, 0);
    buffer[n > 0 ? n : 0] = '\0';
  }
  return buffer;
}

static int connect_to(unsigned port)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cr_assert(fd >= 0);
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0, "connect: %s",
               strerror(errno));
  return fd;
}

Test(smtp_support, a_stopped_server_keeps_its_port_for_the_next)
{
  unsigned port = smtp_start();
  smtp_stop();
  /* The socket is still this test's: a connection waits in its backlog,
   * unanswered, and nobody else can have the port. */
  int fd = connect_to(port);
  char buffer[64];
  cr_assert_str_eq(greeting(fd, 0, buffer), "");
  smtp_restart(NULL);
  cr_assert_eq(smtp_port(), port);
  /* The new server takes the waiting connection. */
  cr_assert(strncmp(greeting(fd, 10000, buffer), "220 ", 4) == 0, "greeting: %s", buffer);
  close(fd);
  send_ok((const char *[]){ "<gina@example.com>", NULL }, message_with_subject("Again"));
  cr_assert_eq(smtp_count(), 1);
}
