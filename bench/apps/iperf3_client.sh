#!/bin/sh
# iperf3 -c ADDR for SECS seconds (TCP, port 5201), retried while the server starts.
# Usage: iperf3_client.sh METRIC ADDR SECS.
# Prints "RESULT METRIC <Mbit/s> Mbit/s" or "FAIL METRIC <reason>".
metric=$1
out=
for _ in 1 2 3 4 5 6 7 8 9 10; do
  out=$(iperf3 -c "$2" -p 5201 -t "$3" -f m --connect-timeout 3000 2>&1) && break
  sleep 0.2
done
rate=$(printf '%s\n' "$out" | awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") print $i }')
# A connection that moved no data is a failure, not a throughput of 0.
if [ -n "$rate" ] && awk -v r="$rate" 'BEGIN { exit !(r > 0) }'; then
  echo "RESULT $metric $rate Mbit/s"
else
  echo "FAIL $metric $(printf '%s\n' "$out" | awk '/receiver/ { r = $0 } END { if (r == "") print "no transfer completed"; else print "receiver:", r }' | tr -s ' ')"
  exit 1
fi
