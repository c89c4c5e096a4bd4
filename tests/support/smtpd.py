#!/usr/bin/python3
"""
smtpd.py - a capturing SMTP server for the tests (tests/support/smtp.c
starts it).

  /usr/bin/python3 tests/support/smtpd.py --dir SPOOL (--port PORT | --fd FD)
      [--reject-rcpt CODE] [--fail-first N] [--refuse]
      [--hold-after N --hold-until PATH]

Listens on 127.0.0.1:PORT (0 picks a free port), or serves the listening
socket it inherited as descriptor FD (tests/support/smtp.c keeps one socket
for every server it starts), and, once accepting, writes the port to
SPOOL/port. Every message accepted becomes SPOOL/NNNNNN.json,
numbered in order of arrival from one more than the highest number already in
the spool, so a server restarted on the same spool keeps counting. Both files
are written to a temporary name and renamed, so a reader never sees half of
one.

A message is decoded with Python's email package (email.policy.default), an
implementation independent of the C code under test:

  mail_from, rcpt_tos  the envelope
  raw                  the message as received, as UTF-8 (invalid bytes
                       become U+FFFD)
  subject, from, to, message_id, date, auto_submitted
                       the decoded header, or null when it is absent
  content_type         the top-level content type
  parts                the content type of every leaf part, in order
  text, html           the decoded text/plain and text/html body, as
                       get_body() picks it, with CRLF made LF (so it reads
                       the same whatever the transfer encoding), or null
  header_names         the top-level header names, in order
  defects              every defect the parser found on the message, its
                       parts and their headers, as "Class: message"
                       ("Name: Class: message" for a header's)
  raw_ok               every line ends with CRLF and none is longer than
                       998 octets (RFC 5322 2.1.1, 2.3)

Lines longer than 998 octets are accepted (a real MTA accepts them too) so
that raw_ok can report them rather than the message going missing.

--reject-rcpt CODE answers every RCPT TO with CODE, so no message is
accepted. --refuse greets every connection with 421 and closes it, as a mail
server that is down for maintenance does (RFC 5321 3.8). --fail-first N answers the end of DATA of the first N messages this
process sees with 451 (nothing is stored); later ones are accepted.

SIGTERM and SIGINT stop the server cleanly (exit status 0). Nothing is
written to stdout; errors go to stderr.
"""
import argparse
import asyncio
import email
import email.policy
import json
import logging
import os
import re
import signal
import socket
import sys

from aiosmtpd.smtp import SMTP

SPOOL_NAME = re.compile(r"^([0-9]+)\.json$")


class CapturingSMTP(SMTP):
    # aiosmtpd refuses lines longer than 1001 octets with "500 Line too
    # long"; accept them so raw_ok can say so.
    line_length_limit = 1 << 20


def clean(text):
    """text with any lone surrogate made U+FFFD, so it encodes as UTF-8."""
    if text is None:
        return None
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")
    return data.decode("utf-8", "replace")


def header(msg, name):
    value = msg.get(name)
    return None if value is None else clean(str(value))


def defect_text(defect):
    message = str(defect)
    name = type(defect).__name__
    return f"{name}: {message}" if message else name


def body_of(msg, subtype, defects):
    part = msg.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    try:
        content = clean(part.get_content())
    except (LookupError, ValueError, KeyError) as error:
        defects.append(f"get_content text/{subtype}: {error!r}")
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", "replace")
    return content.replace("\r\n", "\n")


def raw_ok(data):
    if not data:
        return True
    if not data.endswith(b"\r\n"):
        return False
    for line in data[:-2].split(b"\r\n"):
        if b"\r" in line or b"\n" in line or len(line) > 998:
            return False
    return True


def describe(envelope):
    data = envelope.original_content or b""
    msg = email.message_from_bytes(data, policy=email.policy.default)
    defects = []
    for part in msg.walk():
        defects.extend(defect_text(d) for d in part.defects)
        for name, value in part.items():
            for d in getattr(value, "defects", ()):
                defects.append(f"{name}: {defect_text(d)}")
    text = body_of(msg, "plain", defects)
    html = body_of(msg, "html", defects)
    return {
        "mail_from": clean(envelope.mail_from),
        "rcpt_tos": [clean(r) for r in envelope.rcpt_tos],
        "raw": data.decode("utf-8", "replace"),
        "subject": header(msg, "Subject"),
        "from": header(msg, "From"),
        "to": header(msg, "To"),
        "message_id": header(msg, "Message-ID"),
        "date": header(msg, "Date"),
        "auto_submitted": header(msg, "Auto-Submitted"),
        "content_type": msg.get_content_type(),
        "parts": [p.get_content_type() for p in msg.walk()
                  if not p.is_multipart()],
        "text": text,
        "html": html,
        "header_names": [clean(n) for n in msg.keys()],
        "defects": [clean(d) for d in defects],
        "raw_ok": raw_ok(data),
    }


def write_atomically(path, text):
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, f".{name}.tmp")
    with open(temporary, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)


class Handler:
    def __init__(self, spool, reject_rcpt, fail_first, hold_after=0, hold_until=None):
        self.spool = spool
        self.reject_rcpt = reject_rcpt
        self.fail_first = fail_first
        self.hold_after = hold_after
        self.hold_until = hold_until
        self.seen = 0
        names = map(SPOOL_NAME.match, os.listdir(spool))
        numbers = [int(m.group(1)) for m in names if m]
        self.last = max(numbers, default=0)

    async def handle_RCPT(self, server, session, envelope, address, options):
        if self.reject_rcpt:
            code = self.reject_rcpt
            return f"{code} {code // 100}.1.1 <{address}>: recipient rejected"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.seen <= self.fail_first:
            return "451 4.3.0 try again later"
        # A sender caught in the middle of a message: the DATA of every
        # message after the first N waits for the file hold_until, and
        # hold_until.held says one waits.
        if self.hold_until and self.seen > self.hold_after:
            write_atomically(self.hold_until + ".held", f"{self.seen}\n")
            while not os.path.exists(self.hold_until):
                await asyncio.sleep(0.02)
        try:
            record = describe(envelope)
        except Exception as error:  # store what we can rather than lose it
            data = envelope.original_content or b""
            record = {
                "mail_from": clean(envelope.mail_from),
                "rcpt_tos": [clean(r) for r in envelope.rcpt_tos],
                "raw": data.decode("utf-8", "replace"),
                "defects": [f"smtpd.py could not decode: {error!r}"],
                "raw_ok": raw_ok(data),
            }
            print(f"smtpd.py: decoding message: {error!r}", file=sys.stderr)
        self.last += 1
        path = os.path.join(self.spool, f"{self.last:06d}.json")
        text = json.dumps(record, ensure_ascii=False, indent=1)
        write_atomically(path, text)
        return "250 2.0.0 OK stored"


class Refusing(asyncio.Protocol):
    """Greets with 421 and closes: the server is not available."""

    def connection_made(self, transport):
        transport.write(b"421 4.3.2 smtpd.test Service not available\r\n")
        transport.close()


async def serve(args):
    loop = asyncio.get_running_loop()
    handler = Handler(args.dir, args.reject_rcpt, args.fail_first, args.hold_after,
                      args.hold_until)
    sessions = set()

    def session():
        smtp = CapturingSMTP(handler, hostname="smtpd.test",
                             enable_SMTPUTF8=True, loop=loop)
        sessions.add(smtp)
        return smtp

    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)

    factory = Refusing if args.refuse else session
    if args.fd is not None:
        listening = socket.socket(fileno=args.fd)
        server = await loop.create_server(factory, sock=listening)
    else:
        server = await loop.create_server(factory, "127.0.0.1", args.port)
    port = server.sockets[0].getsockname()[1]
    port_file = os.path.join(args.dir, "port")
    write_atomically(port_file, f"{port}\n")

    await stopping.wait()
    server.close()
    await server.wait_closed()
    for smtp in sessions:
        if smtp.transport is not None:
            smtp.transport.close()
    try:
        os.unlink(port_file)
    except FileNotFoundError:
        pass


def main():
    parser = argparse.ArgumentParser(description="A capturing SMTP server.")
    parser.add_argument("--dir", required=True, help="the spool directory")
    parser.add_argument("--port", type=int, default=0,
                        help="0 for a free port")
    parser.add_argument("--fd", type=int, default=None,
                        help="serve this inherited listening socket instead")
    parser.add_argument("--refuse", action="store_true",
                        help="greet every connection with 421 and close it")
    parser.add_argument("--reject-rcpt", type=int, default=0, metavar="CODE",
                        help="answer every RCPT TO with CODE")
    parser.add_argument("--fail-first", type=int, default=0, metavar="N",
                        help="answer DATA of the first N messages with 451")
    parser.add_argument("--hold-after", type=int, default=0, metavar="N",
                        help="with --hold-until: hold DATA of every message after N")
    parser.add_argument("--hold-until", default=None, metavar="PATH",
                        help="held DATA is answered once PATH exists;"
                             " PATH.held is written when one is held")
    args = parser.parse_args()
    if args.reject_rcpt and not 400 <= args.reject_rcpt <= 599:
        parser.error("--reject-rcpt takes a 4xx or 5xx code")
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    try:
        asyncio.run(serve(args))
    except OSError as error:  # the port is taken, the spool is missing...
        sys.exit(f"smtpd.py: {error}")


if __name__ == "__main__":
    main()
