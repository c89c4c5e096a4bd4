/*
 * mail_console.c - the console:// mail transport: each message in the log,
 * one info record per message (see delivery_mailer_send() in mailer.h).
 */
#include <stdio.h>

#include "core/log.h"
#include "delivery/mail_transport.h"

/* The record: log_write's 4096-byte line less its timestamp and level. */
#define CONSOLE_MAX 4000
#define CONSOLE_TRAILER 48

/* Appends the message to record: see delivery_mailer_send() in mailer.h. */
static size_t
append_message(char *record, size_t used, const char *message, size_t len)
{
  size_t i = 0;
  for (; i < len && used < CONSOLE_MAX - CONSOLE_TRAILER; i++) {
    unsigned char c = (unsigned char)message[i];
    if (c == '\r' && i + 1 < len && message[i + 1] == '\n')
      continue;
    if (c == '\n') {
      if (i + 1 < len) /* no empty indented line after the last one */
        used += (size_t)snprintf(record + used, CONSOLE_MAX - used, "\n  ");
    } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
      used += (size_t)snprintf(record + used, CONSOLE_MAX - used, "\\x%02x", c);
    } else {
      record[used++] = (char)c;
    }
  }
  if (i < len)
    used += (size_t)snprintf(record + used, CONSOLE_MAX - used, "\n  [... %zu more bytes]",
                             len - i);
  record[used] = '\0';
  return used;
}

static int
console_open(const struct delivery_mail_url *url, void **state, char *err, size_t errlen)
{
  (void)url, (void)err, (void)errlen;
  *state = NULL;
  return 0;
}

static int
console_send(void *state, const char *from, const char *rcpt, const char *message, size_t len,
             const char *hint, char *err, size_t errlen)
{
  (void)state, (void)from, (void)hint, (void)err, (void)errlen;
  char record[CONSOLE_MAX];
  int used = snprintf(record, sizeof record, "email to %s:\n  ", rcpt);
  append_message(record, (size_t)used, message, len);
  log_info("%s", record);
  return 0;
}

static void
console_close(void *state)
{
  (void)state;
}

const struct delivery_mail_transport delivery_mail_console = {
  .open = console_open,
  .send = console_send,
  .close = console_close,
};
