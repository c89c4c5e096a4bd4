#!/usr/bin/env python3
"""Seeds a running eventapi for bench/register.sh: one organizer, EVENTS
events without a capacity limit, USERS attendees, and a Lua file with the
attendees' access tokens and the event ids for wrk. Standard library only.

    bench/rush_seed.py BASE_URL USERS EVENTS OUT.lua
"""
import http.client
import json
import sys
import threading
import urllib.parse
from datetime import datetime, timedelta, timezone

base, users, events, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
url = urllib.parse.urlparse(base)
local = threading.local()


def call(method, path, body=None, token=None):
    if not hasattr(local, "conn"):
        local.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    local.conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    answer = local.conn.getresponse()
    data = answer.read()
    if answer.status >= 300:
        raise SystemExit(f"{method} {path}: {answer.status} {data[:200]!r}")
    return json.loads(data) if data else None


def sign_up(name, role):
    call("POST", "/api/users/register/",
         {"username": name, "email": f"{name}@example.com", "password": "Rush-Hour-2031",
          "role": role})
    return call("POST", "/auth/token/", {"username": name, "password": "Rush-Hour-2031"})["access"]


def in_parallel(fn, items, threads=8):
    results = [None] * len(items)

    def work(k):
        for i in range(k, len(items), threads):
            results[i] = fn(items[i])

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


organizer = sign_up("organizer", "organizer")
when = (datetime.now(timezone.utc) + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
event_ids = in_parallel(lambda i: call("POST", "/api/events/create/", {
    "title": f"Opening night {i}", "date_time": when, "location": "Berlin",
    "capacity": 0}, organizer)["id"], list(range(events)))
tokens = in_parallel(lambda i: sign_up(f"fan{i}", "attendee"), list(range(users)))
with open(out, "w") as f:
    f.write("return {\n  tokens = {\n")
    f.writelines(f'    "{t}",\n' for t in tokens)
    f.write("  },\n  events = {" + ", ".join(str(e) for e in event_ids) + "},\n}\n")
