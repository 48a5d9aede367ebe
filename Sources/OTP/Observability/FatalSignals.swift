#if canImport(Glibc)
import Glibc
#endif
import CLibUV

/// Makes a death diagnosable. A Swift trap (`fatalError`, overflow, an index out of range, a nil unwrap) or
/// a stack overflow in any handler kills the whole OS process, every node in it: Swift cannot isolate it
/// as Erlang isolates a crashing process (docs/errors.md). What it can do is say who died: on SIGILL,
/// SIGTRAP, SIGSEGV, SIGBUS, SIGFPE or SIGABRT on a node's loop thread, one line goes to standard error
/// first —
///
///     swift-otp: fatal signal SIGILL on the loop thread of node 1, in the turn of process <0.5.3> (name: worker, type: Command)
///
/// — then the signal takes its course (the previous handler, such as Swift's backtracer, or the default
/// action). Each loop thread gets an alternate signal stack, so a stack overflow is reported too.
///
/// Thread: `install` once per OS process (with the first node); `enter` on each thread that runs a node's
/// turns, when it first does. Cost: nothing per message; one `pthread_getspecific` per drain.
enum FatalSignals {
    static let signals: [Int32] = [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT]

    /// The node whose turns run on the calling thread (an unretained `Node`).
    nonisolated(unsafe) static var key = pthread_key_t()
    /// The actions that were in place, by signal number.
    nonisolated(unsafe) static var previous = UnsafeMutablePointer<Glibc.sigaction>.allocate(capacity: 65)

    private static let installed: Bool = {
        pthread_key_create(&key, nil)
        for signal in signals {
            otp_install_fatal_handler(signal, { signal in FatalSignals.report(signal) }, previous + Int(signal))
        }
        return true
    }()

    /// Installs the handlers (once per OS process).
    static func install() { _ = installed }

    /// The calling thread runs `node`'s turns: remembered for a fatal signal, and the thread gets an
    /// alternate signal stack if it has none (so a stack overflow can still be reported).
    static func enter(_ node: Node) {
        _ = installed
        pthread_setspecific(key, Unmanaged.passUnretained(node).toOpaque())
        otp_ensure_alternate_stack(64 * 1024)
    }

    /// Whether `node` is the one remembered for the calling thread.
    @inline(__always)
    static func isCurrent(_ node: Node) -> Bool {
        pthread_getspecific(key) == Unmanaged.passUnretained(node).toOpaque()
    }

    /// Writes the line, then lets the signal take its course: the previous action is restored, and the
    /// faulting instruction (or `abort`'s second raise) meets it.
    private static func report(_ signal: Int32) {
        otp_restore_handler(signal, previous + Int(signal))
        alarm(2)  // should anything below hang (a crash inside malloc), the process still ends
        var line = "swift-otp: fatal signal \(name(of: signal))"
        if let raw = pthread_getspecific(key) {
            let node = Unmanaged<Node>.fromOpaque(raw).takeUnretainedValue()
            line += " on the loop thread of node \(node.number)"
            let pid = otp_watch_pid(node.turnWatch)
            if pid != UInt64.max {
                let process = PID(node: node.number, rawValue: pid)
                line += ", in the turn of process \(process)"
                if let core = node.core(process) {
                    line += " (name: \(core.extras?.name.map { LogText($0).description } ?? "none"), type: \(core.kind.1))"
                }
            } else {
                line += ", outside any process turn"
            }
        } else {
            line += " on a thread that runs no node"
        }
        line += "\n"
        line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
        if signal == SIGABRT || signal == SIGTRAP { raise(signal) }
    }

    private static func name(of signal: Int32) -> String {
        switch signal {
        case SIGILL: return "SIGILL (a Swift trap: fatalError, overflow, out of range, nil unwrap)"
        case SIGTRAP: return "SIGTRAP (a Swift trap)"
        case SIGSEGV: return "SIGSEGV (a bad memory access or a stack overflow)"
        case SIGBUS: return "SIGBUS"
        case SIGFPE: return "SIGFPE"
        case SIGABRT: return "SIGABRT"
        default: return "\(signal)"
        }
    }
}
