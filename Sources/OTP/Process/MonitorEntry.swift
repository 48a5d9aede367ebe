/// One monitor: `watcher` receives a `DOWN` when `target` exits. Kept in the node's monitor table by
/// reference, and in both processes' `ProcessExtras` sets, so either side's exit or a demonitor removes it in O(1).
///
/// A request (`call`, `sendRequest`) is a monitor whose reference doubles as the request tag, as in
/// Erlang: `awaitingReply` is true until the first reply is delivered. A reply finds no entry (or one no
/// longer awaiting) once the request was answered, timed out, cancelled, or its caller exited: it is then
/// dropped and counted, so a late reply never reaches a mailbox.
struct MonitorEntry {
    let watcher: PID
    let target: PID
    var awaitingReply = false
}
