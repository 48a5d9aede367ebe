/// One monitor: `watcher` receives a `DOWN` when `target` exits. Kept in the node's monitor table by
/// reference, and in both processes' `ProcessExtras` lists, so either side's exit removes it in O(links).
struct MonitorEntry {
    let watcher: PID
    let target: PID
}
