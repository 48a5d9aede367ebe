%% The Erlang side of `make compare`'s distribution workloads, on loopback.
%%   serve(): registers `bench_echo`, a gen_server that answers `ping` with `pong`, counts other messages
%%            and answers `count` with how many arrived since the last `count`; and `bench_sink`, another
%%            of the same, which the 10 MB calls go to; starts pg's default scope with 100 members of
%%            `bench_group`, each answering {bcast, From, Round} with {ack, Round}.
%%   spawned(): what remote spawns run (it returns at once).
%%   ping(): `pong`, the function rpc workloads call (`rpc:call(Node, dist_bench, ping, [])`).
%%   client([Node, Calls, Messages]): from this node to `bench_echo` on Node: Calls sequential
%%            gen_server:call round trips, Calls sequential rpc:call round trips to dist_bench:ping/0, then
%%            Messages plain sends followed by one `count` call, then 2,000 timed small calls alone and
%%            calls carrying 10 MB (10, or 3 for a quick run) while another process keeps making small
%%            calls; then Calls/10 sequential spawn_monitor(Node, dist_bench, spawned, []) each waited for
%%            to end, and Calls/100 pg broadcasts to the 100 members of `bench_group` on Node, each waited
%%            for all acks; prints {"call_ns": ..., "rpc_ns": ..., "messages_per_s": ..., "big_ms": ...,
%%            "small_p99_us": ..., "idle_p99_us": ..., "spawn_ns": ..., "pg_broadcast_ns": ...} as JSON and
%%            stops the node.
-module(dist_bench).
-behaviour(gen_server).
-export([serve/0, client/1, ping/0, spawned/0, init/1, handle_call/3, handle_cast/2, handle_info/2]).

-define(MEMBERS, 100).

serve() ->
    {ok, _} = gen_server:start({local, bench_echo}, ?MODULE, 0, []),
    {ok, _} = gen_server:start({local, bench_sink}, ?MODULE, 0, []),
    {ok, _} = pg:start(pg),
    [spawn(fun() -> ok = pg:join(bench_group, self()), member() end) || _ <- lists:seq(1, ?MEMBERS)],
    ok.

%% What remote spawns run: a process that ends at once.
spawned() -> ok.

%% A member of `bench_group`: answers each {bcast, From, Round} with {ack, Round}.
member() ->
    receive {bcast, From, Round} -> From ! {ack, Round} end,
    member().

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
    Spawns = max(Calls div 10, 10),
    _ = spawns(Node, 10),  % warm up
    {SpawnMicros, ok} = timer:tc(fun() -> spawns(Node, Spawns) end),
    {ok, _} = pg:start(pg),
    Members = wait_for_members(200),
    Broadcasts = max(Calls div 100, 10),
    {BroadcastMicros, ok} = timer:tc(fun() -> broadcasts(Members, Broadcasts) end),
    io:format("{\"call_ns\": ~.3f, \"rpc_ns\": ~.3f, \"messages_per_s\": ~.3f, "
              "\"big_ms\": ~.3f, \"small_p99_us\": ~.3f, \"idle_p99_us\": ~.3f, "
              "\"spawn_ns\": ~.3f, \"pg_broadcast_ns\": ~.3f}~n",
              [CallMicros * 1000 / Calls, RpcMicros * 1000 / Calls, Messages / (SendMicros / 1.0e6),
               BigNs / 1.0e6, SmallP99Ns / 1.0e3, IdleP99Ns / 1.0e3,
               SpawnMicros * 1000 / Spawns, BroadcastMicros * 1000 / Broadcasts]),
    init:stop().

%% Sequential remote spawns, each monitored until it ends.
spawns(_, 0) -> ok;
spawns(Node, N) ->
    {_, Ref} = spawn_monitor(Node, dist_bench, spawned, []),
    receive {'DOWN', Ref, process, _, normal} -> spawns(Node, N - 1) end.

%% The members of `bench_group` once pg has learnt all of them from the other node.
wait_for_members(0) -> exit(members_not_found);
wait_for_members(N) ->
    case pg:get_members(bench_group) of
        Members when length(Members) =:= ?MEMBERS -> Members;
        _ -> timer:sleep(50), wait_for_members(N - 1)
    end.

%% Rounds of one message to every member, each round ending when every member has answered.
broadcasts(_, 0) -> ok;
broadcasts(Members, Round) ->
    Self = self(),
    [Member ! {bcast, Self, Round} || Member <- Members],
    acks(length(Members), Round),
    broadcasts(Members, Round - 1).

acks(0, _) -> ok;
acks(N, Round) -> receive {ack, Round} -> acks(N - 1, Round) end.

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
