#!/usr/bin/env python3
"""Seed inputs for the fuzz targets, taken from the test suite's own requests.

    fuzz/seeds.py OUT_DIR

writes OUT_DIR/<target>/<sha1> files: the bodies, paths and values that
tests/api/*.c and tests/unit/*.c send, in each target's input format (see
the comment at the top of each fuzz/<target>.c), plus a few inputs written
here for formats the tests build in C (images, multipart bodies). Nothing
here needs to be exact: `scripts/fuzz merge` keeps only the seeds that add
coverage to the corpus in fuzz/corpus/<target>/.
"""

import hashlib
import json
import os
import re
import struct
import sys
import urllib.parse
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---- reading C string literals with the calls they are arguments of ----

ESCAPES = {"n": 10, "t": 9, "r": 13, "0": 0, "a": 7, "b": 8, "f": 12, "v": 11,
           "\\": 92, "'": 39, '"': 34, "?": 63}


def c_string(body):
    """The bytes of a C string literal's inside (escapes undone)."""
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        e = body[i + 1]
        if e == "x":
            j = i + 2
            while j < len(body) and body[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(body[i + 2:j], 16) & 0xFF)
            i = j
        elif e in "01234567":
            j = i + 1
            while j < len(body) and j < i + 4 and body[j] in "01234567":
                j += 1
            out.append(int(body[i + 1:j], 8) & 0xFF)
            i = j
        else:
            out.append(ESCAPES.get(e, ord(e)))
            i += 2
    return bytes(out)


TOKEN = re.compile(r'''
    (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<char>'(?:[^'\\\n]|\\.)*')
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[(),;{}\[\]])
  | (?P<other>\S)
''', re.S | re.X)


def literals(path, macros):
    """Yields (calls, bytes): each string literal (adjacent ones joined,
    string macros expanded) with the names of the calls around it,
    innermost last."""
    text = open(path, encoding="utf-8", errors="replace").read()
    for name, value in re.findall(r'^#define\s+(\w+)\s+"((?:[^"\\]|\\.)*)"\s*$', text, re.M):
        macros[name] = c_string(value)
    text = re.sub(r"^#.*$", "", text, flags=re.M)
    stack = []
    pending = None  # the literal being joined
    last_ident = None
    for m in TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "comment":
            continue
        if kind == "string" or (kind == "ident" and m.group() in macros and pending is not None):
            piece = c_string(m.group()[1:-1]) if kind == "string" else macros[m.group()]
            pending = (pending or b"") + piece
            last_ident = None
            continue
        if kind == "ident" and m.group() in macros:
            pending = macros[m.group()]
            continue
        if pending is not None:
            yield [s for s in stack if s], pending
            pending = None
        if kind == "ident":
            last_ident = m.group()
            continue
        if kind == "punct" and m.group() == "(":
            stack.append(last_ident)
        elif kind == "punct" and m.group() == ")" and stack:
            stack.pop()
        last_ident = None


def printf_filled(fmt):
    """A printf format with plausible values in place of its conversions."""
    def fill(m):
        conv = m.group(0)
        if conv == "%%":
            return "%"
        if conv.endswith("s"):
            return "x"
        return "1"
    return re.sub(r"%%|%[-+ #0-9.*]*(?:hh|h|ll|l|z|j|t|L)?[diouxXeEfgGcsp]", fill, fmt)


# ---- the seeds ----

class Seeds:
    def __init__(self, out):
        self.out = out
        self.count = {}

    def add(self, target, data):
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        if len(data) > 65536:
            return
        folder = os.path.join(self.out, target)
        os.makedirs(folder, exist_ok=True)
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
        self.count[target] = self.count.get(target, 0) + 1


BODY_TARGETS = ["json_body", "users", "events", "sessions", "ticket_types", "categories",
                "registrations", "webhooks", "door", "keys"]
METHODS = {"api_get": "GET", "api_delete": "DELETE", "api_options": "OPTIONS",
           "api_post": "POST", "api_put": "PUT", "api_patch": "PATCH"}
EVENT_DEFAULTS = {"title": "Jazz Night", "description": "", "date_time": "2031-05-01T18:00:00Z",
                  "location": "Berlin", "capacity": 100}


def multipart(fields, boundary="XyZ"):
    parts = []
    for name, value in fields.items():
        value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        parts.append("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                     % (boundary, name, value))
    return "".join(parts) + "--%s--\r\n" % boundary


def add_body(seeds, obj):
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    for target in BODY_TARGETS:
        seeds.add(target, "application/json\n" + text)
    if isinstance(obj, dict) and all(isinstance(v, (str, int, float, bool)) for v in obj.values()):
        flat = {k: (json.dumps(v) if isinstance(v, bool) else str(v)) for k, v in obj.items()}
        for target in BODY_TARGETS:
            seeds.add(target, "application/x-www-form-urlencoded\n" + urllib.parse.urlencode(flat, errors="surrogatepass"))
            seeds.add(target, "multipart/form-data; boundary=XyZ\n" + multipart(flat))


def from_api_tests(seeds):
    macros = {}
    api = os.path.join(ROOT, "tests", "api")
    literals(os.path.join(ROOT, "tests", "support", "api.h"), macros)  # API_PASSWORD
    for name in sorted(os.listdir(api)):
        if not name.endswith(".c"):
            continue
        for calls, value in literals(os.path.join(api, name), dict(macros)):
            text = value.decode("utf-8", "replace")
            inner = calls[-1] if calls else ""
            if inner.startswith("cr_") or inner.startswith("expect"):
                continue
            if inner in ("api_json", "api_jsonf") or text.startswith("{"):
                text = printf_filled(text) if "%" in text else text
                try:
                    obj = json.loads(text)
                except ValueError:
                    obj = None
                if obj is None and "'" in text:  # api_json's single quotes, or overrides
                    text = text.replace("'", '"')
                    try:
                        obj = json.loads(text)
                    except ValueError:
                        pass
                if obj is None:
                    for target in BODY_TARGETS:
                        seeds.add(target, "application/json\n" + text)
                    continue
                add_body(seeds, obj)
                if isinstance(obj, dict) and ("event_json" in calls or "create" in calls):
                    add_body(seeds, dict(EVENT_DEFAULTS, **obj))
            elif text.startswith("/") and " " not in text:
                path = printf_filled(text) if "%" in text else text
                seeds.add("target", path)
                seeds.add("filters", path)
                method = next((METHODS[c] for c in reversed(calls) if c in METHODS), "GET")
                seeds.add("router", method + " " + path)
            elif "=" in text and "&" in text and "{" not in text:
                seeds.add("form", text)
                for target in BODY_TARGETS:
                    seeds.add(target, "application/x-www-form-urlencoded\n" + text)
            elif text.count(".") == 2 and text.startswith("eyJ"):
                seeds.add("jwt", text + "\0")


UNIT_TARGETS = {
    "timefmt.c": ["timefmt"], "decimal.c": ["decimal"], "money.c": ["decimal"],
    "dotenv.c": ["dotenv", "config"], "config.c": ["config"], "query.c": ["target", "filters"],
    "router.c": ["router"], "form.c": ["form"], "multipart.c": ["multipart"],
    "jwt.c": ["jwt"], "mail_url.c": ["email_url"], "mailer.c": ["email_url"],
    "address.c": ["address"],
    "hosts.c": ["hosts"], "validators.c": ["users"], "text.c": ["categories"],
    "webhook.c": ["webhook_url"],
}


def from_unit_tests(seeds):
    unit = os.path.join(ROOT, "tests", "unit")
    for name, targets in sorted(UNIT_TARGETS.items()):
        path = os.path.join(unit, name)
        if not os.path.exists(path):
            continue
        for calls, value in literals(path, {}):
            inner = calls[-1] if calls else ""
            if inner.startswith("cr_") or len(value) > 4096:
                continue
            text = value.decode("utf-8", "replace")
            for target in targets:
                if target == "router":
                    if value.startswith(b"/"):
                        seeds.add(target, b"GET " + value)
                elif target == "multipart":
                    seeds.add(target, b"multipart/form-data; boundary=XyZ\n" + value)
                    if value.startswith(b"multipart/"):
                        seeds.add(target, value + b"\n--XyZ\r\n\r\n--XyZ--\r\n")
                elif target == "address":
                    seeds.add(target, b"10.0.0.0/8\n10.0.0.1\n" + value)
                    seeds.add(target, value + b"\n" + value + b"\n1.2.3.4")
                elif target == "hosts":
                    seeds.add(target, b"localhost,.example.com\n" + value)
                    seeds.add(target, value + b"\n" + value)
                elif target == "webhook_url":
                    if b"://" in value:
                        seeds.add(target, b"\n" + value)
                        seeds.add(target, b"127.0.0.0/8, fd00::/8\n" + value)
                    elif value[:1] == b"[" or value[:1].isdigit():
                        seeds.add(target, b"\nhttps://" + value + b"/in")
                elif target == "jwt":
                    if value.startswith(b"{"):
                        seeds.add(target, value + b"\n" + value + b"\0")
                    else:
                        seeds.add(target, value + b"\0")
                elif target == "users":
                    seeds.add(target, "application/json\n" + json.dumps(
                        {"username": text, "email": text, "password": text}))
                elif target == "categories":
                    seeds.add(target, "application/json\n" + json.dumps({"name": text}))
                elif target == "config":
                    seeds.add(target, value)
                    if b"=" not in value:
                        seeds.add(target, b"REMINDER_OFFSETS=" + value + b"\nACCESS_TOKEN_LIFETIME="
                                  + value)
                else:
                    seeds.add(target, value)


# ---- written here: what the tests build in C ----

def png(width=1, height=1):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\0" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def gif():
    return (b"GIF89a" + struct.pack("<HH", 1, 1) + b"\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"
            + b"\x21\xf9\x04\x00\x00\x00\x00\x00"
            + b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00" + b"\x02\x02\x44\x01\x00" + b"\x3b")


def jpeg():
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 1, 1, 1) + b"\x01\x11\x00"
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes(range(1, 65))
    dht = b"\xff\xc4" + struct.pack(">H", 20) + b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + app0 + dqt + sof + dht + sos + b"\x00\x00" + b"\xff\xd9"


def webp(kind=b"VP8L"):
    if kind == b"VP8L":
        payload = b"\x2f\x00\x00\x00\x00\x07\x00\x00\x00"  # 1x1
    elif kind == b"VP8 ":
        payload = b"\x30\x01\x00\x9d\x01\x2a\x01\x00\x01\x00" + b"\x00" * 8
    else:
        payload = b"\x10\x00\x00\x00" + b"\x00\x00\x00" + b"\x00\x00\x00"  # VP8X 1x1
    chunk = kind + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) % 2 else b"")
    body = b"WEBP" + chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body


def written_here(seeds):
    for image in (png(), png(3, 2), gif(), jpeg(), webp(), webp(b"VP8 "), webp(b"VP8X")):
        seeds.add("images", image)
    ct = "multipart/form-data; boundary=XyZ"
    seeds.add("multipart", ct + "\n" + multipart({"title": "Jazz", "capacity": "5"}))
    seeds.add("multipart", ct + "\n--XyZ\r\nContent-Disposition: form-data; name=\"image\"; "
              "filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--XyZ--\r\n")
    seeds.add("multipart", 'multipart/form-data; boundary="a b:c"\n--a b:c\r\nContent-Disposition:'
              ' form-data; name="x\\"y"\r\nContent-Transfer-Encoding: 8bit\r\n\r\nv\r\n--a b:c--')
    for url in ("sqlite:///data/eventapi.sqlite3", "sqlite:////var/lib/eventapi/db.sqlite3",
                "sqlite:db.sqlite3", "postgres://user:pass@localhost:5432/eventapi",
                "postgresql:///eventapi", "host=localhost dbname=eventapi user=eventapi"):
        seeds.add("database_url", url)
    for url in ("console://", "file:///var/mail/out", "file://out%20dir/", "smtp://mail.example.com",
                "smtp://user:p%40ss@mail.example.com:587?starttls=required",
                "smtps://user@[2001:db8::1]:465", "smtp://@127.0.0.1:25/?starttls=never",
                "SMTP://a:b@h", "smtp://[fe80::1%25eth0]:25", "file://rel/dir/",
                "smtp://u;AUTH=PLAIN@h"):
        seeds.add("email_url", url)
    for text in ("10.0.0.0/8, 192.168.0.0/16\n10.1.2.3\n203.0.113.7, 10.0.0.5",
                 "::1,fd00::/8\n::1\n2001:db8::1, [fd00::2]:443",
                 "::ffff:10.0.0.0/104\n::ffff:10.0.0.1\n1.2.3.4:5678,unknown, 10.0.0.9",
                 "\n127.0.0.1\n1.2.3.4"):
        seeds.add("address", text)
    for text in ("\nhttps://hooks.example.com/in?token=abc", "\nhttp://2130706433:8080/",
                 "127.0.0.0/8\nhttp://127.0.0.1:8080/hook", "\nhttps://[::ffff:127.0.0.1]/",
                 "\nhttps://[64:ff9b::a9fe:a9fe]/", "10.0.0.0/8, fd00::/8\nhttps://[fd00::1]:8443/x",
                 "\nhttps://user:pass@example.com/", "\nhttps://[fe80::1%25eth0]/",
                 "\nHTTPS://0x7f.1/", "\nhttps:///in", "10.0.0.1/8\nhttps://example.com/",
                 "\nftp://example.com/", "\nhttps://169.254.169.254/latest/meta-data/",
                 "::ffff:10.0.0.0/104\nhttps://[::10.1.2.3]/", "\nhttps://h%7f.example/",
                 "\nhttps://example.com/a b\nc"):
        seeds.add("webhook_url", text)
    for text in ("localhost,.localhost,127.0.0.1,[::1]\napp.localhost:8000",
                 "*\n[2001:db8::1]:443", ".Example.com\nwww.EXAMPLE.com.", "api.test\nbad host'"):
        seeds.add("hosts", text)
    for text in ("GET /api/events/?search=jazz&category=2&limit=10&offset=20&ordering=-date_time",
                 "HEAD /api/events/3/calendar.ics", "OPTIONS /api/users/me/",
                 "POST /api/registrations/3/register/", "DELETE /api/events/3/sessions/4/",
                 "GET /api/tickets/0123456789abcdef/qr.png", "BREW /healthz"):
        seeds.add("router", text)
    for text in ("/api/events/?search=kernels,c%20lang&location=Berlin&start_date=2031-01-01"
                 "&end_date=2031-12-31T23:59:59Z&upcoming=false&organizer=7&visibility=private"
                 "&ordering=-title&limit=1000&offset=0",
                 "/api/events/?limit=&offset=5&category=conferences&upcoming=1",
                 "/api/notifications/?limit=2&offset=4&format=csv"):
        seeds.add("filters", text)
        seeds.add("target", text)
    header = '{"alg":"HS256","typ":"JWT"}'
    for payload in ('{"token_type":"access","exp":4102444800,"iat":1700000000,'
                    '"jti":"0123456789abcdef0123456789abcdef","user_id":5,"token_generation":0}',
                    '{"token_type":"refresh","exp":4102444800,"iat":1700000000,'
                    '"jti":"0123456789abcdef0123456789abcdef","user_id":5,"nbf":1}'):
        seeds.add("jwt", header + "\n" + payload + "\0")
        seeds.add("jwt", header + "\n" + payload + "\1")
    seeds.add("config", "SECRET_KEY=0123456789abcdef0123456789abcdef\nPORT=8000\n"
              "TRUSTED_PROXIES=10.0.0.0/8\nPUBLIC_URL=https://user@api.example.com:8443/x\n"
              "CORS_ALLOWED_ORIGINS=https://a.example,https://b.example\n"
              "REMINDER_OFFSETS=24h,3h,30m\nHEADER_TIMEOUT=250ms\nWORKER=off\n")
    seeds.add("config", "30m")
    for value in ("2031-03-14T09:00:00+01:00", "2031-03-14 09:00:00.123456789Z", "2031-03-14",
                  "2024-02-29T23:59:59-0530", "0001-01-01T00:00+00"):
        seeds.add("timefmt", value)
    for value in ("49.00", " -1_000.5e-2 ", "1E+3", "NaN", "0.30000000000000004"):
        seeds.add("decimal", value)
    seeds.add("dotenv", "# settings\nexport PORT=8000\nSECRET_KEY='a b#c'\nEMAIL_FROM=\"x\\n\\$y\" # c\n")
    seeds.add("form", "username=ada&password=a%20b+c&x&=y&&z=%zz")
    seeds.add("json_body", "application/vnd.api+json; charset=utf-8\n{\"a\":[1,2.5,null,true]}")
    seeds.add("json_body", "text/plain\nx")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: fuzz/seeds.py OUT_DIR")
    seeds = Seeds(sys.argv[1])
    from_api_tests(seeds)
    from_unit_tests(seeds)
    written_here(seeds)
    for target in sorted(seeds.count):
        print("%-14s %5d seeds" % (target, seeds.count[target]))


if __name__ == "__main__":
    main()
