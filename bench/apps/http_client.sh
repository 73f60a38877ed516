#!/bin/sh
# wrk (1 thread, 4 connections) against http://ADDR:8765/FILE for SECS seconds, retried while
# the server starts. Usage: http_client.sh METRIC ADDR SECS FILE.
# Prints "RESULT METRIC <requests/s> req/s" or "FAIL METRIC <reason>".
metric=$1
out=
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
  out=$(wrk -t1 -c4 -d"${3}s" "http://$2:8765/${4:-}" 2>&1)
  case "$out" in *Requests/sec*) break ;; esac
  sleep 0.2
done
rate=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ { print $2 }')
errors=$(printf '%s\n' "$out" | awk '/Non-2xx|Socket errors/')
if [ -n "$rate" ] && [ -z "$errors" ]; then
  echo "RESULT $metric $rate req/s"
else
  echo "FAIL $metric $(printf '%s\n' "$out" | grep -v '^ *$' | tail -1)"
  exit 1
fi
