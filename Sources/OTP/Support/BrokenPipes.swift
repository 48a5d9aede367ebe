#if canImport(Glibc)
import Glibc
#endif

/// Keeps a closed socket from ending the OS process. libuv writes to sockets with `write(2)`, which raises
/// `SIGPIPE` when the other end has gone; its default action kills the process — every node in it — for
/// what is only a connection that ended (a peer node that reset, a browser that closed otp-top's page).
/// So the first node ignores `SIGPIPE`, as the Erlang VM does; the write then fails with `EPIPE`, and that
/// connection alone closes. A handler the host installed is kept (only the default action is replaced).
///
/// Thread: any (once per OS process, with the first node).
enum BrokenPipes {
    private static let ignored: Bool = {
        var current = sigaction()
        guard sigaction(SIGPIPE, nil, &current) == 0 else { return false }
        // The default action (SIG_DFL is a null handler): nothing the host chose is replaced.
        guard current.__sigaction_handler.sa_handler == nil else { return false }
        var ignore = sigaction()
        ignore.__sigaction_handler.sa_handler = SIG_IGN
        return sigaction(SIGPIPE, &ignore, nil) == 0
    }()

    static func ignore() { _ = ignored }
}
