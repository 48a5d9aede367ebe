#if canImport(Glibc)
import Glibc
#endif

/// Numbers for the nodes of this OS process: every `Node` takes the next one when it is created, and no
/// number is given twice while the OS process lives, so a pid of a closed node never matches a process of
/// a later one. Numbers have the top bit clear (`PID.remoteBit` marks nodes of the cluster).
///
/// Thread: any (a mutex around a counter; taken once per node created).
enum NodeNumbers {
    private static let state = Counter()

    /// The next number (from 1). Traps after 2^31 − 1 nodes in one OS process.
    static func next() -> UInt32 { state.next(1) }

    /// The first of `count` consecutive numbers (the loops of a `NodeGroup`, so a pid's loop is one
    /// subtraction away).
    static func next(_ count: Int) -> UInt32 { state.next(UInt32(count)) }

    private final class Counter: @unchecked Sendable {
        private var mutex = pthread_mutex_t()
        private var value: UInt32 = 0

        init() { pthread_mutex_init(&mutex, nil) }

        func next(_ count: UInt32) -> UInt32 {
            pthread_mutex_lock(&mutex)
            defer { pthread_mutex_unlock(&mutex) }
            precondition(count >= 1 && value < PID.remoteBit - count, "node numbers exhausted in this OS process")
            value += count
            return value - count + 1
        }
    }
}
