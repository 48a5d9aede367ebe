%% The comparison workloads, written for Erlang/OTP (the project's own code).
%% Run: erl -noshell [+S 1:1] -pa . -eval 'otp_bench:main([quick|full])' -s init stop
%% Prints one JSON object: {"workload": {"unit": ..., "value": ...}, ...}.
-module(otp_bench).
-behaviour(gen_server).
-export([main/1, group/1, selective_receive/2, init/1, handle_call/3, handle_cast/2, handle_info/2]).

%% A counter server: calls answer the count, casts add.
init(_) -> {ok, 0}.
handle_call(get, _From, N) -> {reply, N, N};
handle_call(never, _From, N) -> {noreply, N}.
handle_cast({add, K}, N) -> {noreply, N + K}.
handle_info(_, N) -> {noreply, N}.

now_ns() -> erlang:monotonic_time(nanosecond).

main([Mode]) ->
    Scale = case Mode of quick -> 10; _ -> 1 end,
    Results = [
        call(200000 div Scale),
        call_queued(call_queued_0, 0, 100000 div Scale),
        call_queued(call_queued_10k, 10000, 100000 div Scale),
        call_queued(call_queued_100k, 100000, 100000 div Scale),
        selective_receive(10000, 1000 div Scale),
        cast(1000000 div Scale),
        ping_pong(1000000 div Scale),
        spawn_waiting(1000000 div Scale),
        start(100000 div Scale),
        ring(10000, 1000000 div Scale),
        fan_in(1000, 1000 div Scale),
        timeouts(100000 div Scale),
        timers(1000000 div Scale)
    ],
    io:format("~s~n", [json(lists:append(Results))]).

%% 1. gen_server:call round trip from a process, default 5 s timeout.
call(N) -> call_queued(call_round_trip, 0, N).

%% 1b. gen_server:call round trips from a process with Q unrelated messages in its mailbox (OTP 24's
%% receive marker lets each call skip them).
call_queued(Name, Q, N) ->
    {ok, S} = gen_server:start(?MODULE, [], []),
    Self = self(),
    spawn(fun() ->
        [self() ! {unrelated, I} || I <- lists:seq(1, Q)],
        T0 = now_ns(),
        loop_calls(S, N),
        Self ! {done, now_ns() - T0}
    end),
    receive {done, T} -> ok end,
    gen_server:stop(S),
    [{Name, <<"ns/call">>, T / N}].

loop_calls(_, 0) -> ok;
loop_calls(S, K) -> gen_server:call(S, get), loop_calls(S, K - 1).

%% 1c. a selective receive that passes over Q queued messages, K times (the queueing is not timed).
selective_receive(Q, K) ->
    Self = self(),
    spawn(fun() ->
        [self() ! {unrelated, I} || I <- lists:seq(1, Q)],
        T0 = now_ns(),
        selective_rounds(K),
        Self ! {done, now_ns() - T0}
    end),
    receive {done, T} -> ok end,
    [{selective_receive, <<"ns/skipped message">>, T / (Q * K)}].

selective_rounds(0) -> ok;
selective_rounds(K) -> self() ! {match, K}, receive {match, K} -> selective_rounds(K - 1) end.

%% 2. cast throughput: N casts, then one call to sync.
cast(N) ->
    {ok, S} = gen_server:start(?MODULE, [], []),
    T0 = now_ns(),
    loop_casts(S, N),
    gen_server:call(S, get, infinity),
    T = now_ns() - T0,
    gen_server:stop(S),
    [{cast, <<"ns/cast">>, T / N}].

loop_casts(_, 0) -> ok;
loop_casts(S, K) -> gen_server:cast(S, {add, 1}), loop_casts(S, K - 1).

%% 3. raw send/receive ping-pong between two processes.
ping_pong(N) ->
    Self = self(),
    Pong = spawn(fun pong/0),
    spawn(fun() ->
        T0 = now_ns(),
        ping(Pong, N),
        Self ! {done, now_ns() - T0}
    end),
    receive {done, T} -> ok end,
    exit(Pong, kill),
    [{ping_pong, <<"ns/round trip">>, T / N}].

pong() -> receive {ping, From} -> From ! pong, pong() end.
ping(_, 0) -> ok;
ping(Pong, K) -> Pong ! {ping, self()}, receive pong -> ping(Pong, K - 1) end.

%% 4. spawn N processes that wait in receive: time and memory each.
spawn_waiting(N) ->
    erlang:garbage_collect(),
    M0 = erlang:memory(total),
    T0 = now_ns(),
    Pids = spawn_many(N, []),
    T = now_ns() - T0,
    M = erlang:memory(total) - M0,
    [exit(P, kill) || P <- Pids],
    [{spawn, <<"ns/process">>, T / N}, {spawn_memory, <<"bytes/process">>, M / N}].

spawn_many(0, Acc) -> Acc;
spawn_many(K, Acc) -> spawn_many(K - 1, [spawn(fun() -> receive stop -> ok end end) | Acc]).

%% 5. start N gen_servers (synchronous init): time and memory each.
start(N) ->
    erlang:garbage_collect(),
    M0 = erlang:memory(total),
    T0 = now_ns(),
    Servers = [begin {ok, S} = gen_server:start(?MODULE, [], []), S end || _ <- lists:seq(1, N)],
    T = now_ns() - T0,
    M = erlang:memory(total) - M0,
    [exit(S, kill) || S <- Servers],
    [{genserver_start, <<"ns/server">>, T / N}, {genserver_memory, <<"bytes/server">>, M / N}].

%% 6. a ring of P processes passing a token H hops.
ring(P, H) ->
    Self = self(),
    First = lists:foldl(fun(_, Next) -> spawn(fun() -> ring_member(Next) end) end, Self, lists:seq(1, P)),
    T0 = now_ns(),
    First ! {token, H},
    wait_token(First),
    T = now_ns() - T0,
    [{ring, <<"ns/hop">>, T / H}].

ring_member(Next) ->
    receive
        {token, 0} -> Next ! done, ring_member(Next);
        {token, K} -> Next ! {token, K - 1}, ring_member(Next);
        done -> Next ! done
    end.

wait_token(First) ->
    receive
        {token, 0} -> ok;
        {token, K} -> First ! {token, K - 1}, wait_token(First);
        done -> ok
    end.

%% 7. fan-in: C clients, each making K calls to one server.
fan_in(C, K) ->
    {ok, S} = gen_server:start(?MODULE, [], []),
    Self = self(),
    T0 = now_ns(),
    [spawn(fun() -> loop_calls(S, K), Self ! done end) || _ <- lists:seq(1, C)],
    [receive done -> ok end || _ <- lists:seq(1, C)],
    T = now_ns() - T0,
    gen_server:stop(S),
    [{fan_in, <<"calls/s">>, C * K / (T / 1.0e9)}].

%% 8. N callers with a 1 ms timeout against a server that never replies.
timeouts(N) ->
    {ok, S} = gen_server:start(?MODULE, [], []),
    Self = self(),
    T0 = now_ns(),
    [spawn(fun() ->
        R = (catch gen_server:call(S, never, 1)),
        receive Stray -> Self ! {stray, Stray} after 30 -> Self ! {timed_out, R} end
     end) || _ <- lists:seq(1, N)],
    Strays = collect(N, 0),
    T = now_ns() - T0,
    exit(S, kill),
    [{timeouts, <<"ms until all timed out">>, T / 1.0e6 - 30}, {timeouts_stray, <<"stray messages">>, Strays}].

collect(0, Strays) -> Strays;
collect(K, Strays) ->
    receive
        {stray, _} -> collect(K - 1, Strays + 1);
        {timed_out, _} -> collect(K - 1, Strays)
    end.

%% 9. N timers armed then cancelled; N timers fired.
timers(N) ->
    T0 = now_ns(),
    Refs = [erlang:send_after(60000, self(), tick) || _ <- lists:seq(1, N)],
    [erlang:cancel_timer(R) || R <- Refs],
    T1 = now_ns() - T0,
    T2 = now_ns(),
    [erlang:send_after(1, self(), tock) || _ <- lists:seq(1, N)],
    [receive tock -> ok end || _ <- lists:seq(1, N)],
    T3 = now_ns() - T2,
    [{timers_arm_cancel, <<"ns/timer">>, T1 / N}, {timers_fire, <<"ns/timer">>, T3 / N}].

%% The multi-core workloads (`make compare`'s "every core" rows), run once with one scheduler and once
%% with the default (one per core): the same work as Benchmarks/Workloads/GroupForms.swift. The cross_*
%% workloads bind their two processes to schedulers 1 and 2 (`{scheduler, N}`), as swift-otp's are on two
%% loops; the others leave placement to Erlang's balancer.
%% Run: erl -noshell [+S 1:1] -pa . -eval 'otp_bench:group([quick|full])' -s init stop
group([Mode]) ->
    Scale = case Mode of quick -> 10; _ -> 1 end,
    Results = [
        cross_ping_pong(200000 div Scale),
        cross_call(200000 div Scale),
        cross_send(2000000 div Scale),
        scale_pairs(16, 300000 div Scale),
        scale_servers(16, 150000 div Scale),
        scale_partitioned(64, 60000 div Scale),
        scale_routed(64, 60000 div Scale),
        skynet(1000000 div Scale)
    ],
    io:format("~s~n", [json(lists:append(Results))]).

%% Scheduler K (1-based) when there is one, else the last.
sched(K) -> min(K, erlang:system_info(schedulers)).

on(K, F) -> spawn_opt(F, [{scheduler, sched(K)}]).

cross_ping_pong(N) ->
    Self = self(),
    Pong = on(2, fun pong/0),
    on(1, fun() -> T0 = now_ns(), ping(Pong, N), Self ! {done, now_ns() - T0} end),
    receive {done, T} -> ok end,
    exit(Pong, kill),
    [{cross_ping_pong, <<"ns/round trip">>, T / N}].

cross_call(N) ->
    {ok, S} = gen_server:start(?MODULE, [], [{spawn_opt, [{scheduler, sched(2)}]}]),
    Self = self(),
    on(1, fun() -> T0 = now_ns(), loop_calls(S, N), Self ! {done, now_ns() - T0} end),
    receive {done, T} -> ok end,
    gen_server:stop(S),
    [{cross_call, <<"ns/call">>, T / N}].

cross_send(N) ->
    Self = self(),
    Sink = on(2, fun() -> T = sink(N, undefined), Self ! {done, T} end),
    on(1, fun() -> Sink ! {start, now_ns()}, [Sink ! I || I <- lists:seq(1, N)] end),
    receive {done, T} -> ok end,
    [{cross_send, <<"ns/message">>, T / N}].

sink(0, T0) -> now_ns() - T0;
sink(K, T0) -> receive {start, T} -> sink(K, T); _ -> sink(K - 1, T0) end.

scale_pairs(P, N) ->
    Self = self(),
    T0 = now_ns(),
    [spawn(fun() -> Pong = spawn(fun pong/0), ping(Pong, N), exit(Pong, kill), Self ! done end)
     || _ <- lists:seq(1, P)],
    [receive done -> ok end || _ <- lists:seq(1, P)],
    T = now_ns() - T0,
    [{scale_pairs, <<"round trips/s">>, P * N / (T / 1.0e9)}].

scale_servers(K, N) ->
    Servers = [begin {ok, S} = gen_server:start(?MODULE, [], []), S end || _ <- lists:seq(1, K)],
    Self = self(),
    T0 = now_ns(),
    [spawn(fun() -> loop_calls(S, N), Self ! done end) || S <- Servers],
    [receive done -> ok end || _ <- Servers],
    T = now_ns() - T0,
    [gen_server:stop(S) || S <- Servers],
    [{scale_servers, <<"calls/s">>, K * N / (T / 1.0e9)}].

%% A server per key, started where the balancer puts it; one caller per key.
scale_partitioned(Keys, N) ->
    {{scale_servers, _, V}} = {hd(scale_servers(Keys, N))},
    [{scale_partitioned, <<"calls/s">>, V}].

%% The same on Erlang's side: its schedulers balance processes, so no placement makes calls cross or not.
scale_routed(Keys, N) ->
    {{scale_servers, _, V}} = {hd(scale_servers(Keys, N))},
    [{scale_routed, <<"calls/s">>, V}].

skynet(Size) ->
    Self = self(),
    T0 = now_ns(),
    spawn(fun() -> skynet_node(Self, 0, Size) end),
    receive {sum, Sum} -> ok end,
    T = now_ns() - T0,
    Expected = Size * (Size - 1) div 2,
    Expected = Sum,
    [{skynet, <<"ms">>, T / 1.0e6}].

skynet_node(Parent, Start, 1) -> Parent ! {sum, Start};
skynet_node(Parent, Start, Size) ->
    Part = Size div 10,
    Self = self(),
    [spawn(fun() -> skynet_node(Self, Start + I * Part, Part) end) || I <- lists:seq(0, 9)],
    Parent ! {sum, skynet_sum(10, 0)}.

skynet_sum(0, Acc) -> Acc;
skynet_sum(K, Acc) -> receive {sum, S} -> skynet_sum(K - 1, Acc + S) end.

json(Pairs) ->
    Items = [io_lib:format("\"~s\": {\"unit\": \"~s\", \"value\": ~.3f}", [Name, Unit, float(Value)])
             || {Name, Unit, Value} <- Pairs],
    ["{", lists:join(", ", Items), "}"].
