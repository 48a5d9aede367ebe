%% The Erlang side of `make compare`'s distribution workloads, on loopback.
%%   serve(): registers `bench_echo`, a gen_server that answers `ping` with `pong`, counts other messages
%%            and answers `count` with how many arrived since the last `count`.
%%   ping(): `pong`, the function rpc workloads call (`rpc:call(Node, dist_bench, ping, [])`).
%%   client([Node, Calls, Messages]): from this node to `bench_echo` on Node: Calls sequential
%%            gen_server:call round trips, Calls sequential rpc:call round trips to dist_bench:ping/0, then
%%            Messages plain sends followed by one `count` call; prints
%%            {"call_ns": ..., "rpc_ns": ..., "messages_per_s": ...} as JSON and stops the node.
-module(dist_bench).
-behaviour(gen_server).
-export([serve/0, client/1, ping/0, init/1, handle_call/3, handle_cast/2, handle_info/2]).

serve() ->
    {ok, _} = gen_server:start({local, bench_echo}, ?MODULE, 0, []),
    ok.

ping() -> pong.

init(Count) -> {ok, Count}.

handle_call(ping, _From, Count) -> {reply, pong, Count};
handle_call(count, _From, Count) -> {reply, Count, 0}.

handle_cast(_, Count) -> {noreply, Count + 1}.

handle_info(_, Count) -> {noreply, Count + 1}.

client([NodeAtom, CallsAtom, MessagesAtom]) ->
    Node = NodeAtom,
    Calls = list_to_integer(atom_to_list(CallsAtom)),
    Messages = list_to_integer(atom_to_list(MessagesAtom)),
    Server = {bench_echo, Node},
    wait_for(Server, 200),
    [pong = gen_server:call(Server, ping) || _ <- lists:seq(1, 1000)],  % warm up
    {CallMicros, _} = timer:tc(fun() -> calls(Server, Calls) end),
    [pong = rpc:call(Node, dist_bench, ping, []) || _ <- lists:seq(1, 100)],  % warm up
    {RpcMicros, _} = timer:tc(fun() -> rpcs(Node, Calls) end),
    _ = gen_server:call(Server, count),
    {SendMicros, Received} = timer:tc(fun() -> sends(Server, Messages), gen_server:call(Server, count, 60000) end),
    Received = Messages,
    io:format("{\"call_ns\": ~.3f, \"rpc_ns\": ~.3f, \"messages_per_s\": ~.3f}~n",
              [CallMicros * 1000 / Calls, RpcMicros * 1000 / Calls, Messages / (SendMicros / 1.0e6)]),
    init:stop().

wait_for(_, 0) -> exit(server_not_found);
wait_for(Server, N) ->
    try gen_server:call(Server, ping, 1000) of pong -> ok
    catch exit:_ -> timer:sleep(50), wait_for(Server, N - 1) end.

calls(_, 0) -> ok;
calls(Server, N) -> pong = gen_server:call(Server, ping), calls(Server, N - 1).

rpcs(_, 0) -> ok;
rpcs(Node, N) -> pong = rpc:call(Node, dist_bench, ping, []), rpcs(Node, N - 1).

sends(_, 0) -> ok;
sends(Server, N) -> Server ! {message, N}, sends(Server, N - 1).
