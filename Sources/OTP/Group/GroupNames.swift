#if canImport(Glibc)
import Glibc
#endif

/// The registered names of a `NodeGroup`: one table for all its loops, so a name refers to one process
/// wherever it lives and is unique across the group, with the rules of a single node's names.
///
/// A loop also keeps the names of its own processes in its `registry` (for its snapshots and metrics);
/// this table decides who holds a name. A name being spawned is held by a placeholder pid until the
/// process exists (`reserve`, then `bind`), so two loops spawning under one name cannot both win.
///
/// Thread: any; every method takes a `pthread_mutex_t` (ThreadSanitizer understands it) for one
/// dictionary operation. Cost of a lookup from any loop: the lock and one hash lookup.
final class GroupNames: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var names: [String: PID] = [:]

    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    private func locked<R>(_ body: (inout [String: PID]) -> R) -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body(&names)
    }

    /// The pid registered as `name` (never a placeholder).
    subscript(name: String) -> PID? {
        locked { names in names[name].flatMap { $0.index == GroupNames.placeholder ? nil : $0 } }
    }

    /// Gives `name` to `pid` unless someone holds it: returns the holder then (a placeholder for a name
    /// being spawned shows as itself).
    func claim(_ name: String, for pid: PID) -> PID? {
        locked { names in
            if let holder = names[name] { return holder }
            names[name] = pid
            return nil
        }
    }

    /// The index of the pid that holds a name while its process is being spawned.
    static let placeholder = UInt32.max

    /// Replaces the placeholder of `name` with the spawned process.
    func bind(_ name: String, to pid: PID) { locked { $0[name] = pid } }

    /// Removes `name` if `pid` holds it (a process exited, or a name given to a process that was gone).
    func release(_ name: String, heldBy pid: PID) {
        locked { names in if names[name] == pid { names[name] = nil } }
    }

    /// Removes `name`, returning its holder.
    func remove(_ name: String) -> PID? {
        locked { names in
            guard let pid = names[name], pid.index != GroupNames.placeholder else { return nil }
            names[name] = nil
            return pid
        }
    }

    /// Every registered name, sorted.
    func all() -> [String] {
        locked { names in names.filter { $0.value.index != GroupNames.placeholder }.keys.sorted() }
    }
}
