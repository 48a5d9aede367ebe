import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import OTP

@Suite("A closed socket does not end the OS process")
struct BrokenPipeTests {
    @Test("Once a node exists, SIGPIPE is ignored: a write to a socket whose peer is gone fails with EPIPE")
    func sigpipeIgnored() {
        _ = Node()
        var current = sigaction()
        #expect(sigaction(SIGPIPE, nil, &current) == 0)
        #expect(unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == 1)  // SIG_IGN
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        close(pair[1])
        var byte: UInt8 = 1
        #expect(write(pair[0], &byte, 1) == -1 && errno == EPIPE)  // without the ignore, the process would end here
        close(pair[0])
    }
}
