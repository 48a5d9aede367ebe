%% The Erlang side of `make compare`'s distribution workloads, on loopback.
%%   serve(): registers `bench_echo`, a gen_server that answers `ping` with `pong`, counts other messages
%%            and answers `count` with how many arrived since the last `count`; and `bench_sink`, another
%%            of the same, which the 10 MB calls go to.
%%   ping(): `pong`, the function rpc workloads call (`rpc:call(Node, dist_bench, ping, [])`).
%%   client([Node, Calls, Messages]): from this node to `bench_echo` on Node: Calls sequential
%%            gen_server:call round trips, Calls sequential rpc:call round trips to dist_bench:ping/0, then
%%            Messages plain sends followed by one `count` call, then 2,000 timed small calls alone and
%%            calls carrying 10 MB (10, or 3 for a quick run) while another process keeps making small
%%            calls; prints {"call_ns": ..., "rpc_ns": ..., "messages_per_s": ..., "big_ms": ...,
%%            "small_p99_us": ..., "idle_p99_us": ...} as JSON and stops the node.
-module(dist_bench).
-behaviour(gen_server).
-export([serve/0, client/1, ping/0, init/1, handle_call/3, handle_cast/2, handle_info/2]).

serve() ->
    {ok, _} = gen_server:start({local, bench_echo}, ?MODULE, 0, []),
    {ok, _} = gen_server:start({local, bench_sink}, ?MODULE, 0, []),
    ok.

ping() -> pong.

init(Count) -> {ok, Count}.

handle_call(ping, _From, Count) -> {reply, pong, Count};
handle_call({big, _}, _From, Count) -> {reply, pong, Count};
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
    Rounds = case Calls >= 10000 of true -> 10; false -> 3 end,
    {BigNs, SmallP99Ns, IdleP99Ns} = big_calls(Server, {bench_sink, Node}, Rounds),
    io:format("{\"call_ns\": ~.3f, \"rpc_ns\": ~.3f, \"messages_per_s\": ~.3f, "
              "\"big_ms\": ~.3f, \"small_p99_us\": ~.3f, \"idle_p99_us\": ~.3f}~n",
              [CallMicros * 1000 / Calls, RpcMicros * 1000 / Calls, Messages / (SendMicros / 1.0e6),
               BigNs / 1.0e6, SmallP99Ns / 1.0e3, IdleP99Ns / 1.0e3]),
    init:stop().

%% Small calls to Server alone, then Rounds calls carrying 10 MB to Sink while another process keeps making
%% small calls to Server on the same connection: the big calls' median and the small calls' p99 beside
%% them and alone (ns).
big_calls(Server, Sink, Rounds) ->
    Idle = [timed_call(Server, ping) || _ <- lists:seq(1, 2000)],
    Big = {big, binary:copy(<<1>>, 10 * 1024 * 1024)},
    Self = self(),
    Small = spawn_link(fun() -> Self ! {small, small_calls(Server, [])} end),
    Bigs = [timed_call(Sink, Big) || _ <- lists:seq(1, Rounds)],
    Small ! stop,
    During = receive {small, Times} -> Times end,
    {median(Bigs), p99(During), p99(Idle)}.

small_calls(Server, Times) ->
    receive stop -> Times
    after 0 -> small_calls(Server, [timed_call(Server, ping) | Times])
    end.

timed_call(Server, Request) ->
    Start = erlang:monotonic_time(nanosecond),
    pong = gen_server:call(Server, Request, 60000),
    erlang:monotonic_time(nanosecond) - Start.

median(Values) -> lists:nth(length(Values) div 2 + 1, lists:sort(Values)).
p99(Values) -> lists:nth(trunc((length(Values) - 1) * 0.99) + 1, lists:sort(Values)).

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
