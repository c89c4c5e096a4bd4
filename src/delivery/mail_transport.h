/*
 * mail_transport.h - what each mail transport (mail_console.c,
 * mail_file.c, mail_smtp.c) gives mailer.c, which picks one by EMAIL_URL.
 * Internal to src/delivery/: the rest of the program speaks mailer.h.
 *
 * A transport's state is its own, made by open and freed by close; the
 * contract of send is delivery_mailer_send()'s (mailer.h), addresses
 * already checked.
 */
#ifndef EVENTAPI_DELIVERY_MAIL_TRANSPORT_H
#define EVENTAPI_DELIVERY_MAIL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "delivery/mail_url.h"

struct delivery_mail_transport {
  /* Prepares *state from the parsed URL (borrowed). 0 or a negative code,
   * with a reason in err; nothing to close on failure. */
  int (*open)(const struct delivery_mail_url *url, void **state, char *err, size_t errlen);
  int (*send)(void *state, const char *from, const char *rcpt, const char *message,
              size_t len, const char *hint, char *err, size_t errlen);
  void (*set_timeout)(void *state, int64_t ms); /* NULL: no server to wait for */
  long (*reply_code)(const void *state);        /* NULL: no replies */
  void (*close)(void *state);
};

extern const struct delivery_mail_transport delivery_mail_console;
extern const struct delivery_mail_transport delivery_mail_file;
extern const struct delivery_mail_transport delivery_mail_smtp;

#endif
