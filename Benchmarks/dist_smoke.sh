#!/usr/bin/env bash
# `make bench-smoke`: the distribution benchmark's swift-otp side, once, briefly (a server node and a client
# node on 127.0.0.1; EPMD must run). Fails unless the client prints its figures.
set -euo pipefail
dist_bench="$1"
tag=$$
"$dist_bench" serve "smoke_server_$tag@localhost" smoke-cookie 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
output=$("$dist_bench" client "smoke_client_$tag@localhost" smoke-cookie "smoke_server_$tag@localhost" 100 1000 2>/dev/null)
echo "$output" | grep -q '"call_ns"' || { echo "DistBench printed: $output"; exit 1; }
