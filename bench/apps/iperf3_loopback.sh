#!/bin/sh
# iperf3 server and client on the sandbox's own loopback (its netstack): TCP throughput.
# Prints "RESULT iperf3_loopback <Mbit/s> Mbit/s" or "FAIL iperf3_loopback <reason>".
secs=${1:-1}
iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
server=$!
out=
for _ in 1 2 3 4 5 6 7 8 9 10; do
  sleep 0.2
  out=$(iperf3 -c 127.0.0.1 -p 5201 -t "$secs" -f m 2>&1) && break
done
wait $server
rate=$(printf '%s\n' "$out" | awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") print $i }')
# A connection that moved no data is a failure, not a throughput of 0.
if [ -n "$rate" ] && awk -v r="$rate" 'BEGIN { exit !(r > 0) }'; then
  echo "RESULT iperf3_loopback $rate Mbit/s"
else
  echo "FAIL iperf3_loopback $(printf '%s\n' "$out" | awk '/receiver/ { r = $0 } END { if (r == "") print "no transfer completed"; else print "receiver:", r }' | tr -s ' ')"
  exit 1
fi
