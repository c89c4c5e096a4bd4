/*
 * mailer.h - the mail transports, chosen by the EMAIL_URL setting.
 *
 * A mailer hands one already rendered RFC 5322 message (see mail_message.h)
 * to one recipient, through one of (one file each: mail_console.c,
 * mail_file.c, mail_smtp.c):
 *
 *   console://   the message in the log, one info record per message (the
 *                default, for development)
 *   file://DIR   one .eml file per message in DIR
 *   smtp://      an SMTP server, STARTTLS when offered (or insisted on)
 *   smtps://     an SMTP server over implicit TLS
 *
 * A mailer is not thread-safe: each worker thread opens its own, and once
 * delivery_global_init() has run, mailers on different threads never touch
 * each other. The SMTP mailers keep their connection open between
 * messages; libcurl drops it when it has been idle for about two minutes or
 * the server closed it, and delivery_mailer_close() ends it with QUIT.
 *
 * No function ever writes the password into err, the log or
 * delivery_mailer_describe(). delivery_mailer_open() wipes its own decoded
 * copy once libcurl holds the password (libcurl's copy lives until
 * delivery_mailer_close()).
 */
#ifndef EVENTAPI_DELIVERY_MAILER_H
#define EVENTAPI_DELIVERY_MAILER_H

#include <stddef.h>
#include <stdint.h>

struct delivery_mailer;

/*
 * Parses email_url (see mail_url.h for its forms: console://, file://,
 * smtp://, smtps://; NULL and "" mean console://) and prepares a mailer in
 * *out, which the caller owns and frees with delivery_mailer_close().
 * email_url is borrowed. TLS certificates are always verified against the
 * system's CA store.
 *
 * Returns 0; EVENTAPI_EINVAL with a one-line reason in err (errlen bytes;
 * never quoting the URL, so never the password) for a malformed URL or a
 * scheme this libcurl was built without; EVENTAPI_ENOMEM. *out is NULL on
 * error. For smtp and smtps delivery_global_init() must have run first.
 */
int delivery_mailer_open(const char *email_url, struct delivery_mailer **out, char *err,
                         size_t errlen);

/*
 * Sends message (len bytes, CRLF line ends, borrowed) from envelope_from
 * (an addr-spec; NULL or "" is the null reverse path "<>") to rcpt (an
 * addr-spec). Neither address may hold CR, LF or a control character.
 *
 * message_id_hint (NULL is fine) only names the file of the file mailer:
 * DIR/<UTC yyyymmddThhmmss>-<hint>.eml, the hint stripped of enclosing
 * angle brackets, every byte outside [A-Za-z0-9._-] made '_', cut at 100
 * bytes, "message" when empty, and "-1", "-2", ... before ".eml" when the
 * name is taken: no file is ever overwritten. The file (mode 0600) is
 * written to DIR/.tmp-XXXXXX, fsynced, moved to its name and DIR fsynced;
 * DIR is created (0700, with its parents) when missing.
 *
 * The console mailer logs "email to <rcpt>:" and the message in one info
 * record: each line of the message on its own log line indented by two
 * spaces (so no message line can pass for a log record of its own), CRLF
 * shown as LF, other control characters as \xNN, and a message longer than
 * the log record allows (about 3.8 KB) cut with "[... N more bytes]". At a
 * LOG_LEVEL above info nothing is shown, and the send still succeeds.
 *
 * Returns 0 when the server accepted the message (the file is durably
 * written, the log record written); EVENTAPI_EUNAVAILABLE for a failure
 * worth retrying (connection refused, timeout, TLS failure or STARTTLS
 * required but not offered, authentication refused, any 4xx reply, a 5xx
 * reply to the greeting, HELO/EHLO or AUTH, a 530 "authentication
 * required", disk full or any other file error); EVENTAPI_EINVAL for a
 * permanent refusal (another 5xx reply to MAIL FROM, RCPT TO, DATA or the
 * end of the message) or bad addresses, so the caller can stop retrying.
 * On failure writes a one-line reason into err, with the server's reply
 * ("RCPT TO refused: 550 5.1.1 no such user") when there is one.
 */
int delivery_mailer_send(struct delivery_mailer *m, const char *envelope_from,
                         const char *rcpt, const char *message, size_t len,
                         const char *message_id_hint, char *err, size_t errlen);

/*
 * The mailer's URL for logs, normalised and with any password replaced by
 * "***": "smtp://user:***@mail.example.com:587?starttls=required",
 * "file://out/mail", "console://". The string belongs to the mailer and is
 * valid until delivery_mailer_close().
 */
const char *delivery_mailer_describe(const struct delivery_mailer *m);

/* Ends the SMTP connection if one is open and frees m. NULL is fine. */
void delivery_mailer_close(struct delivery_mailer *m);

/*
 * Bounds the time one send may take with the mail server (connecting
 * included), in milliseconds: EMAIL_TIMEOUT. Does nothing for the console
 * and file mailers.
 */
void delivery_mailer_set_timeout(struct delivery_mailer *m, int64_t ms);

/*
 * The code of the last reply the SMTP server gave in the last send (250,
 * 550, ...), or 0: none (console, file, no connection).
 */
long delivery_mailer_reply_code(const struct delivery_mailer *m);

#endif
