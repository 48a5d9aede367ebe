%% The Erlang side of swift-otp's distribution tests: a real node that the Swift tests drive through the
%% distribution protocol itself. `control` is a gen_server; each call runs one command and answers its
%% result, so every interaction under test crosses the wire the way user code does.
-module(interop_peer).
-behaviour(gen_server).
-export([start/0, start/1, init/1, handle_call/3, handle_cast/2, handle_info/2, watcher/2, linker/2, random_term/1,
         spawned/2]).

start() ->
    {ok, _} = pg:start(pg),
    {ok, _} = gen_server:start({local, control}, ?MODULE, control, []),
    {ok, _} = gen_server:start({local, echo}, ?MODULE, echo, []),
    ok.

%% As start/0, and halts this node once the OS process Owner (the test run) has ended (gone, or a zombie
%% its parent has not reaped yet), so a test run that crashed leaves no Erlang node behind.
start(Owner) ->
    ok = start(),
    spawn(fun() -> watch_owner("/proc/" ++ integer_to_list(Owner) ++ "/stat") end),
    ok.

watch_owner(Stat) ->
    timer:sleep(500),
    case file:read_file(Stat) of
        {ok, Bin} ->
            [_, Rest] = binary:split(Bin, <<") ">>),
            case Rest of
                <<"Z", _/binary>> -> erlang:halt(0);
                _ -> watch_owner(Stat)
            end;
        {error, _} -> erlang:halt(0)
    end.

init(control) ->
    ets:new(node_events, [named_table, public, bag]),
    ets:new(reports, [named_table, public, ordered_set]),
    ets:new(sunk, [named_table, public, ordered_set]),
    register(sink, spawn(fun sink/0)),
    {ok, control};
init(Role) -> {ok, Role}.

%% echo: the Erlang gen_server that Swift processes call.
handle_call({echo, X}, _From, echo) -> {reply, X, echo};
handle_call({sleep, Ms}, _From, echo) -> timer:sleep(Ms), {reply, slept, echo};
handle_call(crash, _From, echo) -> exit(crashed_on_request);
handle_call(Command, _From, control) -> {reply, run(Command), control}.

handle_cast({forward, To, Msg}, State) -> To ! Msg, {noreply, State};
handle_cast(_, State) -> {noreply, State}.

handle_info(_, State) -> {noreply, State}.

run({call, Server, Request, Timeout}) ->
    try {ok, gen_server:call(Server, Request, Timeout)}
    catch exit:Reason -> {exit, strip(Reason)} end;
run({cast, Server, Msg}) -> gen_server:cast(Server, Msg);
run({send, To, Msg}) -> To ! Msg, ok;
run({ping, Node}) -> net_adm:ping(Node);
run(nodes) -> lists:sort(nodes());
run({whereis, Name}) -> whereis(Name);
%% A process that joins pg group Group (scope pg) and waits; its pid.
run({pg_join, Group}) ->
    Self = self(),
    Pid = spawn(fun() -> ok = pg:join(pg, Group, self()), Self ! joined, receive stop -> ok end end),
    receive joined -> Pid end;
run({pg_members, Group}) -> lists:sort(pg:get_members(pg, Group));
%% A process that monitor_node's Node and records {nodedown, Node} in the node_events table.
run({watch_node, Node}) ->
    Self = self(),
    spawn(fun() ->
              monitor_node(Node, true),
              Self ! watching,
              receive {nodedown, N} -> ets:insert(node_events, {nodedown, N}) end
          end),
    receive watching -> ok end;
run(node_events) -> lists:sort(ets:tab2list(node_events));
run({rpc, Node, M, F, A, Timeout}) -> rpc:call(Node, M, F, A, Timeout);
run({rpc_cast, Node, M, F, A}) -> rpc:cast(Node, M, F, A);
run({erpc, Node, M, F, A, Timeout}) ->
    try {ok, erpc:call(Node, M, F, A, Timeout)} catch Class:Reason -> {Class, Reason} end;
run({spawn_monitor, Node, M, F, A}) ->
    {_, Ref} = spawn_monitor(Node, M, F, A),
    receive {'DOWN', Ref, process, _, Reason} -> {down, Reason} after 5000 -> timeout end;
%% Spawns M:F(A) on Node, sends it {self(), Msg}, and answers its {reply, R} with the reason it exits with.
run({spawn_call, Node, M, F, A, Msg}) ->
    Pid = spawn(Node, M, F, A),
    Ref = monitor(process, Pid),
    Pid ! {self(), Msg},
    receive
        {reply, R} -> receive {'DOWN', Ref, process, _, Reason} -> {R, Reason} after 5000 -> {R, timeout} end;
        {'DOWN', Ref, process, _, Reason} -> {down, Reason}
    after 5000 -> timeout
    end;
%% On an Elixir node: evaluates Elixir code (a binary) and answers its value.
run({elixir, Code}) -> {Value, _} = 'Elixir.Code':eval_string(Code), Value;
run({disconnect, Node}) -> erlang:disconnect_node(Node);
%% A process that monitors Target and reports {down, Ref, Reason} to ReportTo.
run({watch, Target, ReportTo}) -> Pid = spawn(?MODULE, watcher, [Target, ReportTo]), {ok, Pid};
%% A process that links to Target, traps exits and reports {linked_exit, From, Reason} to ReportTo; it
%% exits with `Reason` when sent {exit_with, Reason}.
run({link_to, Target, ReportTo}) -> Pid = spawn(?MODULE, linker, [Target, ReportTo]), {ok, Pid};
run({kill, Pid}) -> exit(Pid, kill), ok;
run({exit, Pid, Reason}) -> exit(Pid, Reason), ok;
run({is_alive, Pid}) -> is_process_alive(Pid);
run({links, Pid}) -> {links, Links} = process_info(Pid, links), lists:sort(Links);
run({term_to_binary, Term}) -> term_to_binary(Term, [{minor_version, 2}]);
run({reencode, Binary}) -> term_to_binary(binary_to_term(Binary), [{minor_version, 2}]);
run({same, Binary, Term}) -> binary_to_term(Binary) =:= Term;
%% For each {Binary, Term} Swift encoded: does the binary decode to the term that travelled with it, and
%% how does Erlang encode what it decoded?
run({check_all, Pairs}) ->
    [{binary_to_term(B) =:= T, term_to_binary(binary_to_term(B), [{minor_version, 2}])} || {B, T} <- Pairs];
run({random_terms, Seed, Count}) ->
    rand:seed(exsss, {Seed, Seed * 7 + 1, Seed * 13 + 5}),
    [begin T = random_term(4), {T, term_to_binary(T, [{minor_version, 2}])} end || _ <- lists:seq(1, Count)];
run({binary, Size}) -> binary:copy(<<7>>, Size);
run({deep, Depth}) -> lists:foldl(fun(_, Acc) -> [Acc] end, [], lists:seq(1, Depth));
run({size, Term}) -> erlang:external_size(Term);
%% What `sink` received, in order, and what watchers and linkers told `ets` (below), in order.
run(sunk) -> [M || {_, M} <- ets:tab2list(sunk)];
run(reports) -> [M || {_, M} <- ets:tab2list(reports)];
run(Other) -> {unknown_command, Other}.

%% `sink`: keeps every message it receives (a test on another node reads them with `sunk`, whatever
%% happened to the connection meanwhile).
sink() ->
    receive M -> ets:insert(sunk, {erlang:unique_integer([monotonic]), M}) end,
    sink().

%% A report to a process, or (ReportTo = ets) into the `reports` table, which outlives the connection.
report(ets, Message) -> ets:insert(reports, {erlang:unique_integer([monotonic]), Message});
report(ReportTo, Message) -> ReportTo ! Message.

strip({Reason, {gen_server, call, _}}) -> Reason;
strip(Reason) -> Reason.

%% What a Swift node spawns here (spawn_request): reports {spawned, self(), IsGroupLeaderRemote} to
%% ReportTo, prints Text through its group leader (the Swift node's) and reports {printed, io:format's
%% result}, then echoes {echo, X} as {echoed, X} and exits with Reason on {exit_with, Reason}.
spawned(ReportTo, Text) ->
    ReportTo ! {spawned, self(), node(group_leader()) =/= node()},
    ReportTo ! {printed, io:format("~s~n", [Text])},
    spawned_loop(ReportTo).

spawned_loop(ReportTo) ->
    receive
        {echo, X} -> ReportTo ! {echoed, X}, spawned_loop(ReportTo);
        {exit_with, Reason} -> exit(Reason)
    end.

watcher(Target, ReportTo) ->
    Ref = erlang:monitor(process, Target),
    report(ReportTo, {watching, self(), Ref}),
    receive {'DOWN', Ref, process, _, Reason} -> report(ReportTo, {down, self(), Reason}) end.

linker(Target, ReportTo) ->
    process_flag(trap_exit, true),
    link(Target),
    report(ReportTo, {linked, self()}),
    linker_loop(ReportTo).

linker_loop(ReportTo) ->
    receive
        {'EXIT', From, Reason} -> report(ReportTo, {linked_exit, self(), From, Reason}), linker_loop(ReportTo);
        {exit_with, Reason} -> exit(Reason)
    end.

%% Random terms of every kind a node sends, nested up to Depth.
random_term(0) -> leaf();
random_term(Depth) ->
    case rand:uniform(8) of
        1 -> list_to_tuple([random_term(Depth - 1) || _ <- lists:seq(1, rand:uniform(4) - 1)]);
        2 -> [random_term(Depth - 1) || _ <- lists:seq(1, rand:uniform(4) - 1)];
        3 -> maps:from_list([{leaf(), random_term(Depth - 1)} || _ <- lists:seq(1, rand:uniform(3))]);
        4 -> [leaf() | leaf()];
        _ -> leaf()
    end.

leaf() ->
    case rand:uniform(16) of
        1 -> rand:uniform(256) - 1;
        2 -> rand:uniform(1 bsl 31) - (1 bsl 30);
        3 -> rand:uniform(1 bsl 62) * (rand:uniform(3) - 2);
        4 -> (rand:uniform(1 bsl 200) + (1 bsl 70)) * (2 * rand:uniform(2) - 3);
        5 -> rand:normal() * 1.0e6;
        6 -> list_to_atom("a" ++ integer_to_list(rand:uniform(1000)));
        7 -> 'ünïcødé';
        8 -> list_to_binary([rand:uniform(256) - 1 || _ <- lists:seq(1, rand:uniform(8) - 1)]);
        9 -> <<(rand:uniform(127)):7>>;
        10 -> "string" ++ integer_to_list(rand:uniform(99));
        11 -> self();
        12 -> make_ref();
        13 -> fun lists:map/2;
        14 -> [];
        15 -> fun(X) -> {X, self()} end;
        16 -> hd(erlang:ports())
    end.
