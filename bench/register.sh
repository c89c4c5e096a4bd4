#!/bin/sh
# The ticket rush: every request a new registration (POST
# /api/registrations/{id}/register/) of one of USERS attendees for one of
# EVENTS events without a capacity limit, no pair twice, loaded by wrk from
# a second process over loopback. Runs the server built in BUILD (default
# build/) on a throwaway database, synchronous=FULL unless the environment
# says otherwise, and stops by itself.
#
#   bench/register.sh
#   CONNECTIONS=64 DURATION=10s bench/register.sh
#   EMAIL_URL=console:// DURATION=3s bench/register.sh   (then how long the
#       confirmations still waiting after the rush take to go: the
#       worker's own pace, through a transport that costs next to nothing;
#       the default file:// transport fsyncs each message twice)
#   scripts/with-postgres sh -c 'DATABASE_URL=$EVENTAPI_TEST_POSTGRES bench/register.sh'
set -eu
cd "$(dirname "$0")/.."
build=${BUILD:-build}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-64}
users=${USERS:-256}
events=${EVENTS:-2000}
port=${PORT:-8097}
base=http://127.0.0.1:$port

command -v wrk >/dev/null || { echo "bench: installing wrk"; apt-get install -y -qq wrk >/dev/null; }
[ -x "$build/eventapi" ] || { echo "bench: build first (make build)"; exit 1; }

dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

# Cheap password hashes: the rush measures registrations, not sign-ups.
SECRET_KEY=bench-secret-key-0123456789-abcdefghijklmnop \
DATABASE_URL="${DATABASE_URL:-sqlite:///$dir/db.sqlite3}" MEDIA_ROOT="$dir/media" \
PORT=$port LOG_LEVEL=warn ARGON2_OPSLIMIT=1 ARGON2_MEMLIMIT_KIB=8192 \
EMAIL_URL="${EMAIL_URL:-file://$dir/mail/}" "$build/eventapi" serve > "$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "$base/healthz" && break; sleep 0.1; done

echo "bench: seeding $users attendees and $events events"
python3 bench/rush_seed.py "$base" "$users" "$events" "$dir/seed.lua"
echo "== POST /api/registrations/{id}/register/, $connections connections, $duration"
RUSH_SEED="$dir/seed.lua" RUSH_THREADS=2 \
  wrk -t2 -c"$connections" -d"$duration" -s bench/register.lua "$base"
# How the writer grouped them (SQLite: units a commit); KEEP_METRICS=FILE
# keeps the server's /metrics/ of the end of the run.
curl -s "$base/metrics/" > "$dir/metrics.txt"
[ -n "${KEEP_METRICS:-}" ] && cp "$dir/metrics.txt" "$KEEP_METRICS"
awk '/^eventapi_db_(write_(batches|units)|checkpoints)_total/ {v[$1] = $2}
  END { b = v["eventapi_db_write_batches_total"]; u = v["eventapi_db_write_units_total"];
        if (b > 0) printf "writer: %d units in %d batches, %.1f a batch; checkpoints: %d beside it, %d by it\n",
          u, b, u / b, v["eventapi_db_checkpoints_total{by=\"beside\"}"],
          v["eventapi_db_checkpoints_total{by=\"writer\"}"] }' \
  "$dir/metrics.txt"

# The confirmations the rush left waiting, and how long the outbox's worker
# takes to send them all (the gauge of /metrics/, read every 100 ms).
pending() {
  curl -s "$base/metrics/" | awk '/^eventapi_outbox_messages\{state="pending"\}/ {print $2}'
}
left=$(pending)
started=$(date +%s%N)
while [ "$(pending)" != 0 ]; do
  [ $(( ($(date +%s%N) - started) / 1000000000 )) -ge 600 ] && { echo "outbox: still $(pending) pending after 600 s"; exit 1; }
  sleep 0.1
done
ms=$(( ($(date +%s%N) - started) / 1000000 ))
echo "outbox: $left confirmations pending after the rush, all sent $ms ms later"
