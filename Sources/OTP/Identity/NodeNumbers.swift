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
    static func next() -> UInt32 { state.next(1, group: false) }

    /// The first of `count` consecutive numbers (the loops of a `NodeGroup`, so a pid's loop is one
    /// subtraction away), remembered as one group's (`loop(of:)`).
    static func next(_ count: Int) -> UInt32 { state.next(UInt32(count), group: true) }

    /// For a number of a `NodeGroup`'s loop: which loop of how many. Thread: any (the mutex; for printing
    /// pids, never on the message path).
    static func loop(of number: UInt32) -> (index: UInt32, count: UInt32)? { state.loop(of: number) }

    private final class Counter: @unchecked Sendable {
        private var mutex = pthread_mutex_t()
        private var value: UInt32 = 0
        /// The groups' ranges, (first, count), in order.
        private var groups: [(first: UInt32, count: UInt32)] = []

        init() { pthread_mutex_init(&mutex, nil) }

        func next(_ count: UInt32, group: Bool) -> UInt32 {
            pthread_mutex_lock(&mutex)
            defer { pthread_mutex_unlock(&mutex) }
            precondition(count >= 1 && value < PID.remoteBit - count, "node numbers exhausted in this OS process")
            value += count
            if group { groups.append((value - count + 1, count)) }
            return value - count + 1
        }

        func loop(of number: UInt32) -> (index: UInt32, count: UInt32)? {
            pthread_mutex_lock(&mutex)
            defer { pthread_mutex_unlock(&mutex) }
            guard !groups.isEmpty else { return nil }
            var low = 0, high = groups.count - 1  // ranges in increasing order
            while low <= high {
                let middle = (low + high) / 2
                let (first, count) = groups[middle]
                if number < first { high = middle - 1 } else if number >= first + count { low = middle + 1 } else {
                    return (number - first, count)
                }
            }
            return nil
        }
    }
}
