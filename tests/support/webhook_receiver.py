#!/usr/bin/python3
"""
webhook_receiver.py - an HTTP server that receives webhooks for the tests
(tests/support/receiver.c starts it) and checks every signature with the
code that docs/api.md gives its readers.

  /usr/bin/python3 tests/support/webhook_receiver.py --dir SPOOL --docs API_MD
      [--node NODE]

Listens on a free port of 127.0.0.1 and, once accepting, writes the port to
SPOOL/port. Every request it gets becomes SPOOL/NNNNNN.json, numbered in
order of arrival from 1, written to a temporary name and renamed (so a
reader never sees half of one) before the request is answered:

  method, path      as received
  headers           every header, its name in lower case
  body              the body as UTF-8 text (invalid bytes become U+FFFD)
  answered          what the receiver did: {"status": 200}, {"hang": s}, ...
  python            for each secret the test gave for the path, in order,
                    whether verify_webhook() of docs/api.md's Python example
                    accepts the request; [] when none was given
  node              the same with verifyWebhook() of its JavaScript example,
                    run by Node.js (NODE, "node" by default); null when no
                    Node.js can be started
  errors            what either example raised, if anything

What it answers, and which secrets it checks with, the test writes to
SPOOL/control.json (written whole and renamed), read at each request:

  {"secrets": {PATH: [SECRET, ...]},
   "answers": {PATH: [ANSWER, ...]},
   "offset": SECONDS}

The answers of PATH's list are taken in turn, one by each request to PATH
that finds one not taken yet (so the test may add more later); a request
that finds none gets 200 "ok". An answer is {"status": CODE} (with "body" and "location",
for a redirect, if given), {"hang": SECONDS} (reads the request, then
waits that long and closes the connection without an answer), or
{"close": true} (closes the connection without an answer). offset is the
server's clock minus the real one (the tests move the server's clock), so
that the examples check the webhook-timestamp against the server's now.

The examples are the first ```python block of docs/api.md that defines
verify_webhook and the first ```js block that defines verifyWebhook, run as
they are written there: what the documentation tells receivers to do is
what checks every webhook the tests receive.

SIGTERM and SIGINT stop the server (exit status 0). Errors go to stderr.
"""
import argparse
import base64
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

NODE_DRIVER = r"""
const readline = require("node:readline");
const lines = readline.createInterface({input: process.stdin});
lines.on("line", (line) => {
  const q = JSON.parse(line);
  let answer;
  try {
    answer = {ok: verifyWebhook(q.secret, q.headers, Buffer.from(q.body, "base64"), 300, q.now)};
  } catch (e) {
    answer = {ok: false, error: String(e)};
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});
"""


def example(markdown, fence, defines):
    """The first fenced block of kind fence in markdown whose text defines
    the name given."""
    for match in re.finditer(r"^```" + fence + r"\n(.*?)^```", markdown, re.M | re.S):
        if defines in match.group(1):
            return match.group(1)
    sys.exit("webhook_receiver.py: docs/api.md has no ```%s block with %s" % (fence, defines))


class Node:
    """verifyWebhook() of the JavaScript example, in one Node.js process."""

    def __init__(self, program, code):
        self.lock = threading.Lock()
        try:
            self.process = subprocess.Popen(
                [program, "-e", code + "\n" + NODE_DRIVER], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True, bufsize=1)
        except OSError as e:
            print("webhook_receiver.py: no Node.js (%s): JavaScript not checked" % e,
                  file=sys.stderr)
            self.process = None

    def verify(self, secret, headers, body, now):
        if self.process is None:
            return None, None
        query = {"secret": secret, "headers": headers,
                 "body": base64.b64encode(body).decode(), "now": now}
        with self.lock:
            self.process.stdin.write(json.dumps(query) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        if not line:
            return False, "Node.js ended"
        answer = json.loads(line)
        return answer["ok"], answer.get("error")


class State:
    def __init__(self, spool, python_example, node):
        self.spool = spool
        self.lock = threading.Lock()
        self.number = 0
        self.taken = {}  # answers taken so far, by path
        namespace = {}
        exec(compile(python_example, "docs/api.md (Python)", "exec"), namespace)
        self.verify_webhook = namespace["verify_webhook"]
        self.node = node

    def control(self):
        try:
            with open(os.path.join(self.spool, "control.json"), encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def store(self, record):
        with self.lock:
            self.number += 1
            name = "%06d.json" % self.number
        path = os.path.join(self.spool, name)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "receiver"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        self.receive()

    def do_GET(self):
        self.receive()

    def receive(self):
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        control = state.control()
        answers = control.get("answers", {}).get(self.path, [])
        with state.lock:
            n = state.taken.get(self.path, 0)
            if n < len(answers):
                state.taken[self.path] = n + 1
        answer = answers[n] if n < len(answers) else {"status": 200}
        now = time.time() + control.get("offset", 0)
        headers = {name.lower(): value for name, value in self.headers.items()}
        python, errors = [], []
        node = [] if state.node.process is not None else None
        for secret in control.get("secrets", {}).get(self.path, []):
            try:
                python.append(bool(state.verify_webhook(secret, self.headers, body, now=now)))
            except Exception as e:  # a malformed header: the example raises
                python.append(False)
                errors.append("python: %r" % e)
            if node is not None:
                ok, error = state.node.verify(secret, headers, body, now)
                node.append(bool(ok))
                if error:
                    errors.append("node: " + error)
        state.store({"method": self.command, "path": self.path, "headers": headers,
                     "body": body.decode("utf-8", "replace"), "answered": answer,
                     "python": python, "node": node, "errors": errors})
        if "hang" in answer:
            time.sleep(answer["hang"])
            self.close_connection = True
            return
        if answer.get("close"):
            self.close_connection = True
            return
        reply = answer.get("body", "ok").encode()
        self.send_response(answer.get("status", 200))
        if "location" in answer:
            self.send_header("Location", answer["location"])
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--docs", required=True)
    parser.add_argument("--node", default="node")
    args = parser.parse_args()
    with open(args.docs, encoding="utf-8") as f:
        markdown = f.read()
    node = Node(args.node, example(markdown, "js", "function verifyWebhook("))
    state = State(args.dir, example(markdown, "python", "def verify_webhook("), node)
    server = Server(("127.0.0.1", 0), Handler)
    server.state = state

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port_file = os.path.join(args.dir, "port")
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()
    server.server_close()
    if node.process is not None:
        node.process.stdin.close()
        node.process.wait()


if __name__ == "__main__":
    main()
