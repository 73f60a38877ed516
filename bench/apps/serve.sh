#!/bin/sh
# A server for a client on the host: python3 http.server serving DIR on port 8765 (KIND=http)
# or iperf3 -s on port 5201 (KIND=iperf3). Prints "READY <address>" once started, then serves
# until SIGTERM. Usage: serve.sh KIND loopback|net DIR. With "net" the address is the
# sandbox's first non-loopback IPv4 address (ip(8), else busybox ip).
kind=$1
cd "${3:-/}" || exit 1
case "$kind" in
  http) python3 -m http.server 8765 --bind 0.0.0.0 >/dev/null 2>&1 & ;;
  iperf3) iperf3 -s -p 5201 >/dev/null 2>&1 & ;;
  *) echo "FAIL serve unknown kind $kind"; exit 2 ;;
esac
server=$!
trap 'kill $server 2>/dev/null; exit 0' TERM INT
if [ "$2" = loopback ]; then
  addr=127.0.0.1
else
  addrs=$(ip -4 addr show 2>/dev/null || busybox ip -4 addr show 2>/dev/null)
  addr=$(printf '%s\n' "$addrs" | awk '$1 == "inet" { split($2, a, "/"); if (a[1] !~ /^127\./) { print a[1]; exit } }')
fi
if [ -z "$addr" ]; then
  echo "FAIL serve no IPv4 address in the sandbox"
  kill $server
  exit 1
fi
echo "READY $addr"
wait $server
