/// What a loop of a `NodeGroup` asks another to spawn for one of its processes: the spawn itself, built
/// by the requesting loop and run by the destination loop (`Transit.Kind.spawn`), which answers the
/// request with the new pid or the spawn's error.
///
/// Thread: made on the requesting loop, run once on the destination loop. `@unchecked Sendable`: `run`
/// captures only `Sendable` values (the behaviour or the server's argument, the options).
struct SpawnOrder: @unchecked Sendable {
    let run: (Node) -> Result<PID, ProcessError>
}
