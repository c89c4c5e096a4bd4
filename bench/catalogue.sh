#!/bin/sh
# Benchmark of the event list as the catalogue grows: pages of 20 among the
# first thousand results, with 100 events and with 100,000 (SIZES), for each
# kind of request (KINDS: plain, search with a selective word, location,
# location by descending date, category, another ordering, a date window),
# the offset, term and a nonce drawn at random request by request
# (bench/catalogue.lua), so that every request takes the database path.
# Then the page at offset 90,000 timed one request at a time, and the
# server's peak resident memory over the whole run. The catalogue is seeded
# straight into the database (bench/seed_catalogue.py). Runs the server
# built in BUILD (default build/), or the binary BIN, and stops by itself.
#
#   bench/catalogue.sh
#   SIZES=100000 KINDS="plain search" DURATION=5s bench/catalogue.sh
#   scripts/with-postgres sh -c 'DATABASE_URL=$EVENTAPI_TEST_POSTGRES bench/catalogue.sh'
set -eu
cd "$(dirname "$0")/.."
bin=${BIN:-${BUILD:-build}/eventapi}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-32}
sizes=${SIZES:-100 100000}
kinds=${KINDS:-plain search location location_desc category ordering dates}
port=${PORT:-8096}
base=http://127.0.0.1:$port

command -v wrk >/dev/null || { echo "bench: installing wrk"; apt-get install -y -qq wrk >/dev/null; }
[ -x "$bin" ] || { echo "bench: build first (make build)"; exit 1; }

dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# The database of one size: a file, or a PostgreSQL database of its own
# beside DATABASE_URL's.
database() {
  case "${DATABASE_URL:-}" in
    postgres://*|postgresql://*)
      name=eventapi_catalogue_$1
      psql -X -q "$DATABASE_URL" -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
      python3 -c 'import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); print(u.urlunparse(p._replace(path="/" + sys.argv[2])))' \
        "$DATABASE_URL" "$name" ;;
    *) echo "sqlite:///$dir/catalogue_$1.sqlite3" ;;
  esac
}

for size in $sizes; do
  url=$(database "$size")
  python3 bench/seed_catalogue.py --bin "$bin" --database "$url" --events "$size" > "$dir/seed.json"
  python3 - "$dir/seed.json" "$dir/params.lua" <<'PY'
import json, sys
seed = json.load(open(sys.argv[1]))
lua = lambda items: "{" + ", ".join(json.dumps(x) for x in items) + "}"
with open(sys.argv[2], "w") as f:
    f.write("return {\n  cities = %s,\n  categories = %s,\n  words = %s,\n"
            "  from_us = %d,\n  to_us = %d,\n}\n" % (lua(seed["cities"]), lua(seed["categories"]),
                                                     lua(seed["words"]), seed["from_us"], seed["to_us"]))
print("bench: seeded %d events in %.1f s" % (seed["events"], seed["seconds"]))
PY
  SECRET_KEY=bench-secret-key-0123456789-abcdefghijklmnop DATABASE_URL="$url" \
  MEDIA_ROOT="$dir/media" PORT=$port LOG_LEVEL=warn PER_IP_CONNECTION_LIMIT=1024 \
  WORKER=off "$bin" serve &
  pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null "$base/healthz" && break; sleep 0.1; done
  echo "== $size events, wrk -t2 -c$connections -d$duration, pages of 20 at random offsets 0..980"
  for kind in $kinds; do
    cpu0=$(cpu_ticks "$pid")
    CATALOGUE_PARAMS="$dir/params.lua" CATALOGUE_KIND=$kind \
      wrk -t2 -c"$connections" -d"$duration" -s bench/catalogue.lua "$base" > "$dir/wrk.txt"
    cpu1=$(cpu_ticks "$pid")
    # The server's own CPU time per request: what a busy machine changes least.
    awk -v ticks=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" '
      /requests in/ { n = $1 } END { line = last; sub(/\n$/, "", line)
        printf "%s, server CPU %.0f us/request\n", line, ticks * 1e6 / hz / n }
      { last = $0 }' "$dir/wrk.txt"
  done
  if [ "$size" -ge 90020 ]; then
    times=""
    for i in $(seq 20); do
      times="$times $(curl -s -o /dev/null -w '%{time_total}' "$base/api/events/?limit=20&offset=90000&nonce=$i")"
    done
    echo "$times" | tr ' ' '\n' | sort -n | awk 'NF { t[++n] = $1 * 1000 }
      END { printf "GET /api/events/?limit=20&offset=90000, one at a time: median %.2f ms, max %.2f ms\n", t[int((n + 1) / 2)], t[n] }'
  fi
  echo "peak resident memory of the server: $(awk '/VmHWM/ { printf "%.1f MB", $2 / 1024 }' /proc/$pid/status)"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  case "$url" in sqlite:*) rm -f "$dir"/catalogue_"$size".sqlite3* ;; esac
done
