#!/usr/bin/env bash
# `make valgrind`, distribution part: otp-demo joins a cluster under valgrind (EPMD registration, a
# listening socket, an Erlang node connecting, the handshake, ping, calls and a cast over libuv TCP, leaving
# the cluster), while a real Erlang node drives it. Fails on any valgrind error or a wrong answer.
set -euo pipefail
export ERL_CRASH_DUMP_SECONDS=0  # a failing Erlang client writes no erl_crash.dump into the tree
demo="$1"; valgrind_cmd="$2"; out="$3"
tag=$$
node="valgrind_$tag@localhost"
$valgrind_cmd "$demo" --node "$node" --cookie valgrind-cookie --node-seconds 15 > "$out" 2>&1 &
demo_pid=$!
for _ in $(seq 1 600); do
    grep -q "is in the cluster" "$out" && break
    kill -0 $demo_pid 2>/dev/null || { cat "$out"; exit 1; }
    sleep 0.2
done
answer=$(erl -sname "vgclient_$tag@localhost" -setcookie valgrind-cookie -noshell -eval "
    Pong = net_adm:ping('$node'),
    Five = gen_server:call({counter, '$node'}, {add, 5}, 10000),
    Seven = gen_server:call({counter, '$node'}, {add, 2}, 10000),
    ok = gen_server:cast({counter, '$node'}, reset),
    Zero = gen_server:call({counter, '$node'}, get, 10000),
    io:format(\"~p ~p ~p ~p~n\", [Pong, Five, Seven, Zero]), halt().")
echo "erlang saw: $answer"
wait $demo_pid
[ "$answer" = "pong 5 7 0" ] || { echo "unexpected answers"; exit 1; }
grep -q "left the cluster" "$out"
