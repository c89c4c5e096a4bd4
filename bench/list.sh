#!/bin/sh
# Benchmark of the hottest endpoint: GET /api/events/ answering 100 events
# (each with two sessions and two ticket types, about 84 KB), loaded by wrk
# from a second process over loopback. Runs the server built in BUILD
# (default build/) on a throwaway database: the list with the event JSON
# cache, one event's detail, the list without the cache, and nginx serving
# the list's bytes from a file as the yardstick. Stops by itself.
#
#   bench/list.sh            # prints wrk's reports
#   DURATION=30s bench/list.sh
#   scripts/with-postgres sh -c 'DATABASE_URL=$EVENTAPI_TEST_POSTGRES bench/list.sh'
#                            # the same on PostgreSQL (an empty database)
set -eu
cd "$(dirname "$0")/.."
build=${BUILD:-build}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-32}
port=${PORT:-8099}
base=http://127.0.0.1:$port

command -v wrk >/dev/null || { echo "bench: installing wrk"; apt-get install -y -qq wrk >/dev/null; }
[ -x "$build/eventapi" ] || { echo "bench: build first (make build)"; exit 1; }

dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

start() {
  SECRET_KEY=bench-secret-key-0123456789-abcdefghijklmnop \
  DATABASE_URL="${DATABASE_URL:-sqlite:///$dir/db.sqlite3}" MEDIA_ROOT="$dir/media" \
  PORT=$port LOG_LEVEL=warn EVENT_CACHE_MB=$1 "$build/eventapi" serve &
  pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "$base/api/events/" && return; sleep 0.1; done
  echo "bench: server did not start" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

start 64
json='Content-Type: application/json'
curl -sf -X POST "$base/api/users/register/" -H "$json" \
  -d '{"username":"bench","email":"bench@example.com","password":"bench-password-1","role":"organizer"}' >/dev/null
token=$(curl -sf -X POST "$base/auth/token/" -H "$json" \
  -d '{"username":"bench","password":"bench-password-1"}' | sed 's/.*"access":"\([^"]*\)".*/\1/')
for i in $(seq 1 100); do
  day=$(printf '%02d' $(( (i % 28) + 1 )))
  curl -sf -o /dev/null -X POST "$base/api/events/create/" -H "$json" -H "Authorization: Bearer $token" -d "{
    \"title\": \"Conference day $i\", \"description\": \"A day of talks and workshops on systems programming, number $i.\",
    \"date_time\": \"2031-03-${day}T09:00:00Z\", \"location\": \"Congress Center Hall $i, Berlin\", \"capacity\": 500,
    \"sessions\": [
      {\"title\": \"Keynote\", \"speaker\": \"Grace Hopper\", \"start_time\": \"2031-03-${day}T09:00:00Z\", \"end_time\": \"2031-03-${day}T10:00:00Z\", \"description\": \"Opening keynote\"},
      {\"title\": \"Workshop\", \"speaker\": \"Ken Thompson\", \"start_time\": \"2031-03-${day}T10:30:00Z\", \"end_time\": \"2031-03-${day}T12:00:00Z\", \"description\": \"Hands-on session\"}],
    \"ticket_types\": [{\"name\": \"General\", \"price\": \"49.00\", \"quantity\": 400}, {\"name\": \"VIP\", \"price\": \"199.00\", \"quantity\": 100}]}"
done
curl -s "$base/api/events/" > "$dir/events.json"
bytes=$(wc -c < "$dir/events.json")
echo "== GET /api/events/ (100 events, $bytes bytes), cache on"
wrk -t2 -c"$connections" -d"$duration" "$base/api/events/"
echo "== GET /api/events/1/"
wrk -t2 -c"$connections" -d"$duration" "$base/api/events/1/"
stop

start 0
echo "== GET /api/events/ (100 events), cache off"
wrk -t2 -c"$connections" -d"$duration" "$base/api/events/"
stop

# The yardstick: nginx serving the same bytes from a file.
FILE="$dir/events.json" DURATION=$duration CONNECTIONS=$connections bench/nginx.sh
