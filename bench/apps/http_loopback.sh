#!/bin/sh
# An HTTP server (python3 -m http.server serving DIR) and wrk fetching DIR/FILE, both on the
# sandbox's own loopback. Usage: http_loopback.sh SECS DIR FILE. Prints "RESULT http_loopback <requests/s> req/s" or "FAIL http_loopback <reason>".
secs=${1:-1}
cd "${2:-/}" || exit 1
python3 -m http.server 8765 --bind 127.0.0.1 >/dev/null 2>&1 &
server=$!
out=
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
  sleep 0.2
  out=$(wrk -t1 -c4 -d"${secs}s" "http://127.0.0.1:8765/${3:-}" 2>&1)
  case "$out" in *Requests/sec*) break ;; esac
done
kill $server 2>/dev/null
wait $server 2>/dev/null
rate=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ { print $2 }')
errors=$(printf '%s\n' "$out" | awk '/Non-2xx|Socket errors/')
if [ -n "$rate" ] && [ -z "$errors" ]; then
  echo "RESULT http_loopback $rate req/s"
else
  echo "FAIL http_loopback $(printf '%s\n' "$out" | grep -v '^ *$' | tail -1)"
  exit 1
fi
