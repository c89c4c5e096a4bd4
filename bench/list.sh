#!/bin/sh
# Benchmark of the hottest endpoints: GET /api/events/ answering 100 events
# (each with two sessions and two ticket types, about 78 KB) and GET
# /api/events/{id}/, loaded by wrk from a second process over loopback,
# against nginx serving the same bytes from files in the same run (the
# yardstick), ROUNDS times in turn; then the list with the caches off.
# Runs the server built in BUILD (default build/), or the binary BIN, on a
# throwaway database, and stops by itself. Prints wrk's figures and a
# summary: the median of the rounds, and the ratio to nginx.
#
#   bench/list.sh                         # 3 rounds of 10 s, 64 connections
#   ROUNDS=5 DURATION=5s bench/list.sh
#   scripts/with-postgres sh -c 'DATABASE_URL=$EVENTAPI_TEST_POSTGRES bench/list.sh'
#                            # the same on PostgreSQL (an empty database)
set -eu
cd "$(dirname "$0")/.."
bin=${BIN:-${BUILD:-build}/eventapi}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-64}
rounds=${ROUNDS:-3}
port=${PORT:-8099}
nginx_port=${NGINX_PORT:-8098}
base=http://127.0.0.1:$port

command -v wrk >/dev/null || { echo "bench: installing wrk"; apt-get install -y -qq wrk >/dev/null; }
command -v nginx >/dev/null || { echo "bench: installing nginx-light"; apt-get install -y -qq nginx-light >/dev/null; }
[ -x "$bin" ] || { echo "bench: build first (make build)"; exit 1; }

dir=$(mktemp -d)
pid=
nginx_pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
  wait 2>/dev/null; rm -rf "$dir"
}
trap cleanup EXIT INT TERM

start() {
  SECRET_KEY=bench-secret-key-0123456789-abcdefghijklmnop \
  DATABASE_URL="${DATABASE_URL:-sqlite:///$dir/db.sqlite3}" MEDIA_ROOT="$dir/media" \
  PORT=$port LOG_LEVEL=warn PER_IP_CONNECTION_LIMIT=1024 WORKER=off EVENT_CACHE_MB=$1 \
  "$bin" serve &
  pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "$base/api/events/" && return; sleep 0.1; done
  echo "bench: server did not start" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

# CPU time (clock ticks) of the server's, or nginx's workers', processes.
cpu_ticks() {
  for p in "$@"; do awk '{ print $14 + $15 }' "/proc/$p/stat"; done | awk '{ s += $1 } END { print s }'
}

# One wrk run against the processes pids: its report, and "name requests/s
# p99-ms CPU-us-per-request" appended to results. CPU time per request is
# what a busy machine changes least.
measure() {
  name=$1 url=$2 pids=$3
  cpu0=$(cpu_ticks $pids)
  wrk -t2 -c"$connections" -d"$duration" --latency "$url" > "$dir/wrk.txt"
  cpu1=$(cpu_ticks $pids)
  cat "$dir/wrk.txt"
  if grep -q 'Non-2xx' "$dir/wrk.txt"; then
    echo "bench: $name answered errors; its figure would mean nothing" >&2; exit 1
  fi
  awk -v name="$name" -v ticks=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" '
    /requests in/ { n = $1 }
    /Requests\/sec/ { rps = $2 }
    $1 == "99%" { v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
                  p99 = unit == "us" ? v / 1000 : unit == "s" ? v * 1000 : v }
    END { printf "%s %.0f %.2f %.1f\n", name, rps, p99, ticks * 1e6 / hz / n }' \
    "$dir/wrk.txt" >> "$dir/results"
}

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

# The yardstick: nginx serving the same bytes from files. Its workers run as
# an unprivileged user, who must be able to read them (mktemp's folder is
# private).
chmod 755 "$dir"
mkdir -p "$dir/www/api/events/1"
curl -s "$base/api/events/" > "$dir/www/api/events/index.json"
curl -s "$base/api/events/1/" > "$dir/www/api/events/1/index.json"
cat > "$dir/nginx.conf" <<CONF
daemon off;
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  index index.json;
  server { listen 127.0.0.1:$nginx_port; root $dir/www; }
}
CONF
nginx -c "$dir/nginx.conf" &
nginx_pid=$!
sleep 0.5
nginx_workers=$(pgrep -P "$nginx_pid" | tr '\n' ' ')
list_bytes=$(wc -c < "$dir/www/api/events/index.json")
detail_bytes=$(wc -c < "$dir/www/api/events/1/index.json")

for round in $(seq "$rounds"); do
  echo "== round $round: GET /api/events/ (100 events, $list_bytes bytes), caches on"
  measure list "$base/api/events/" "$pid"
  echo "== round $round: nginx, the same $list_bytes bytes from a file"
  measure nginx_list "http://127.0.0.1:$nginx_port/api/events/" "$nginx_workers"
  echo "== round $round: GET /api/events/1/ ($detail_bytes bytes)"
  measure detail "$base/api/events/1/" "$pid"
  echo "== round $round: nginx, the same $detail_bytes bytes from a file"
  measure nginx_detail "http://127.0.0.1:$nginx_port/api/events/1/" "$nginx_workers"
done
stop

start 0
echo "== GET /api/events/ (100 events), caches off"
measure list_uncached "$base/api/events/" "$pid"
stop

echo "== summary: median of $rounds rounds (requests/s, p99, server CPU per request), wrk -t2 -c$connections -d$duration"
sort -k1,1 -k2,2n "$dir/results" | awk '
  { n[$1]++; rps[$1, n[$1]] = $2; p99[$1, n[$1]] = $3; cpu[$1, n[$1]] = $4 }
  END {
    for (k in n) { m = int((n[k] + 1) / 2); med[k] = rps[k, m]; lat[k] = p99[k, m]; us[k] = cpu[k, m] }
    split("list nginx_list detail nginx_detail list_uncached", order, " ")
    for (i = 1; i <= 5; i++) { k = order[i]; if (!(k in n)) continue
      line = sprintf("%-14s %8d/s  p99 %6.2f ms  CPU %6.1f us", k, med[k], lat[k], us[k])
      if (k == "list") line = line sprintf("  %.2fx nginx", med[k] / med["nginx_list"])
      if (k == "detail") line = line sprintf("  %.2fx nginx", med[k] / med["nginx_detail"])
      print line } }'
