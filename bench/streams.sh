#!/bin/sh
# Benchmark of live availability (docs/api.md, "Live availability"):
# STREAMS Server-Sent Events streams of one event held open on one server,
# from SOURCES loopback addresses (bench/sse_load.c, a second process).
# Measures, in one run:
#   - ordinary requests (GET /api/events/1/, wrk -t2 -c64) without streams,
#     with every stream open, and without again: the ratio is "with" over
#     the mean of the two "without";
#   - the server's resident memory with the streams open (and its peak);
#   - CHANGES registrations, one at a time: how long until every stream
#     has the new state.
# Runs the server built in BUILD (default build/), or the binary BIN, on a
# throwaway SQLite database, with the caps raised to fit STREAMS and
# CONNECTION_MEMORY_KB at 8 (a stream holds its connection's buffer for
# its life; README, "Settings"), and stops by itself. Loopback only.
#
#   bench/streams.sh                               # 10,000 streams
#   STREAMS=2000 DURATION=5s bench/streams.sh
#   HOLD=40 CONNECTION_MEMORY_KB=32 bench/streams.sh  # held past the idle timeout, default buffers
set -eu
cd "$(dirname "$0")/.."
bin=${BIN:-${BUILD:-build}/eventapi}
streams=${STREAMS:-10000}
sources=${SOURCES:-50}
changes=${CHANGES:-5}
duration=${DURATION:-10s}
port=${PORT:-8097}
base=http://127.0.0.1:$port

command -v wrk >/dev/null || { echo "bench: installing wrk"; apt-get install -y -qq wrk >/dev/null; }
[ -x "$bin" ] || { echo "bench: build first (make build)"; exit 1; }
# Every stream is a descriptor in the server, and one in the load client
# (a process of its own, with its own limit).
need=$((streams + 4096))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$need" ]; then
  echo "bench: $need open files needed, the hard limit is $hard" >&2; exit 1
fi
ulimit -n "$need"

dir=$(mktemp -d)
pid=
load_pid=
cleanup() {
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null; rm -rf "$dir"
}
trap cleanup EXIT INT TERM

cc -std=c11 -O2 -Wall -Wextra -o "$dir/sse_load" bench/sse_load.c

per_source=$(( (streams + sources - 1) / sources ))
SECRET_KEY=bench-secret-key-0123456789-abcdefghijklmnop \
DATABASE_URL="sqlite:///$dir/db.sqlite3" MEDIA_ROOT="$dir/media" \
PORT=$port LOG_LEVEL=warn WORKER=off \
STREAMS_MAX=$((streams + 64)) STREAMS_PER_CLIENT=$per_source \
CONNECTION_LIMIT=$((streams * 2)) PER_IP_CONNECTION_LIMIT=$((per_source + 64)) \
CONNECTION_MEMORY_KB=${CONNECTION_MEMORY_KB:-8} \
"$bin" serve &
pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "$base/healthz" && break; sleep 0.1; done

json='Content-Type: application/json'
signup() { # name role -> access token
  curl -sf -X POST "$base/api/users/register/" -H "$json" \
    -d "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"bench-password-1\",\"role\":\"$2\"}" >/dev/null
  curl -sf -X POST "$base/auth/token/" -H "$json" -d "{\"username\":\"$1\",\"password\":\"bench-password-1\"}" |
    sed 's/.*"access":"\([^"]*\)".*/\1/'
}
organizer=$(signup olga organizer)
event=$(curl -sf -X POST "$base/api/events/create/" -H "$json" -H "Authorization: Bearer $organizer" -d '{
  "title": "The sale", "description": "Watched by many", "date_time": "2031-03-01T09:00:00Z",
  "location": "Berlin", "capacity": 1000}' | sed 's/.*"id":\([0-9]*\).*/\1/')
requests=
for i in $(seq "$changes"); do
  token=$(signup "fan$i" attendee)
  printf 'POST /api/registrations/%s/register/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}' \
    "$event" "$token" > "$dir/change-$i.http"
  requests="$requests $dir/change-$i.http"
done

rss() { awk -v k="$1" '$1 == k":" { printf "%.0f", $2 / 1024 }' "/proc/$pid/status"; }
rps() { # label -> requests/s of GET /api/events/{id}/
  wrk -t2 -c64 -d"$duration" --latency "$base/api/events/$event/" > "$dir/wrk-$1.txt"
  if grep -q 'Non-2xx' "$dir/wrk-$1.txt"; then
    echo "bench: $1 answered errors" >&2; cat "$dir/wrk-$1.txt" >&2; exit 1
  fi
  awk '/Requests\/sec/ { printf "%.0f", $2 }' "$dir/wrk-$1.txt"
}
p99() { awk '$1 == "99%" { print $2 }' "$dir/wrk-$1.txt"; }

# A first run warms the server (its caches, the allocator) and is not counted.
wrk -t2 -c64 -d3s "$base/api/events/$event/" > /dev/null
echo "== GET /api/events/$event/ without streams"
before=$(rps before); echo "$before/s, p99 $(p99 before)"
rss_before=$(rss VmRSS)

# Held through the wrk run, or HOLD seconds (past CONNECTION_TIMEOUT's 30 s,
# say, to see that idle streams outlive it).
hold=${HOLD:-$(( ${duration%s} + 5 ))}
echo "== opening $streams streams from $sources addresses, held ${hold} s"
"$dir/sse_load" "$port" "$event" "$streams" "$sources" "$hold" $requests > "$dir/load.out" &
load_pid=$!
for _ in $(seq 600); do grep -q '^ready' "$dir/load.out" && break
  kill -0 "$load_pid" 2>/dev/null || break; sleep 0.1; done
grep '^ready' "$dir/load.out" || { echo "bench: the streams did not open" >&2; cat "$dir/load.out"; exit 1; }
rss_open=$(rss VmRSS)
echo "server RSS with the streams open: $rss_open MB (without: $rss_before MB)"
echo "== GET /api/events/$event/ with $streams streams open"
during=$(rps during); echo "$during/s, p99 $(p99 during)"
rss_during=$(rss VmRSS)
echo "== $changes changes, each awaited on every stream"
status=0
wait "$load_pid" || status=$?
load_pid=
cat "$dir/load.out" | grep -v '^ready'
[ "$status" -eq 0 ] || { echo "bench: the load client failed ($status)" >&2; exit 1; }
echo "== GET /api/events/$event/ without streams, again"
after=$(rps after); echo "$after/s, p99 $(p99 after)"
peak=$(rss VmHWM)

echo "== summary: $streams streams from $sources addresses, wrk -t2 -c64 -d$duration"
awk -v b="$before" -v d="$during" -v a="$after" 'BEGIN {
  printf "ordinary requests: %d/s without, %d/s with the streams open, %d/s without again: %.2fx\n",
         b, d, a, d / ((b + a) / 2) }'
echo "server RSS: $rss_before MB before, $rss_open MB with the streams open, $rss_during MB after wrk beside them, peak $peak MB"
grep '^change' "$dir/load.out" | awk '{ if ($8 + 0 > worst) worst = $8 + 0 }
  END { printf "slowest change to reach every stream: %d ms\n", worst }'
