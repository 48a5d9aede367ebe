#!/usr/bin/env bash
# `make bench-smoke`: the distribution benchmark's swift-otp side, once, briefly (a server node and a client
# node on 127.0.0.1; EPMD must run). Fails unless the client prints its figures.
set -euo pipefail
dist_bench="$1"
tag=$$
"$dist_bench" serve "smoke_server_$tag@localhost" smoke-cookie 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
# The client's first call needs the server registered with EPMD: wait for it (10 s at most).
for _ in $(seq 1 100); do
    epmd -names 2>/dev/null | grep -q "name smoke_server_$tag at" && break
    sleep 0.1
done
errors=$(mktemp)
trap 'kill $server 2>/dev/null || true; rm -f "$errors"' EXIT
output=$("$dist_bench" client "smoke_client_$tag@localhost" smoke-cookie "smoke_server_$tag@localhost" 100 1000 2>"$errors") \
    || { echo "DistBench client failed:"; grep -v " info " "$errors" | tail -5; exit 1; }
echo "$output" | grep -q '"rpc_ns"' || { echo "DistBench printed: $output"; exit 1; }
echo "$output" | grep -q '"small_p99_us"' || { echo "DistBench printed: $output"; exit 1; }
echo "$output" | grep -q '"pg_broadcast_ns"' || { echo "DistBench printed: $output"; exit 1; }
