#!/bin/sh
# The yardstick for bench/list.sh, which runs it: nginx serving the bytes
# of FILE (the event list's body) with the same wrk load.
set -eu
file=${FILE:?set FILE to a saved list body}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-32}
port=${PORT:-8098}
command -v nginx >/dev/null || { echo "bench: installing nginx-light"; apt-get install -y -qq nginx-light >/dev/null; }
command -v wrk >/dev/null || { echo "bench: installing wrk"; apt-get install -y -qq wrk >/dev/null; }
dir=$(mktemp -d)
cp "$file" "$dir/events.json"
cat > "$dir/nginx.conf" <<CONF
daemon off;
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  server { listen 127.0.0.1:$port; root $dir; }
}
CONF
nginx -c "$dir/nginx.conf" &
pid=$!
trap 'kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
sleep 0.5
echo "== nginx: $(wc -c < "$file") bytes from a file"
wrk -t2 -c"$connections" -d"$duration" "http://127.0.0.1:$port/events.json"
