import CLibUV
import Foundation
import Testing
@testable import OTP

@Suite("Embedding modes")
struct EmbeddingTests {
    @Test("mode 2: the host waits on the backend descriptor with poll(2) and steps the loop")
    func hostDrivenPoll() throws {
        let node = Node(configuration: NodeConfiguration(report: Reports().handler))
        let log = Log<String>()
        let target = try node.spawn(of: String.self) { _ in
            .receive(timeout: .milliseconds(15), after: { process in
                log.append("timeout")
                return .receive { envelope, _ in
                    log.append(envelope.message!)
                    return .exit(.normal)
                }
            }) { _, _ in .same }
        }
        let fd = node.backendFileDescriptor
        var info = stat()
        #expect(fstat(fd, &info) == 0)  // an open descriptor of this process (libuv's epoll instance)
        var iterations = 0
        var posted = false
        while node.isAlive(target.pid) && iterations < 1_000 {
            iterations += 1
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let timeout = node.backendTimeout
            _ = poll(&descriptor, 1, timeout)
            node.runOnce(blocking: false)
            if log.entries == ["timeout"] && !posted {
                posted = true
                // A post from another thread must wake the host's poll through the descriptor.
                let thread = Thread { node.post("from another thread", to: target) }
                thread.start()
            }
        }
        #expect(log.entries == ["timeout", "from another thread"])
        #expect(iterations < 50)  // the host slept in poll(2) instead of spinning
        #expect(node.close() == 0)
    }

    @Test("mode 3: a node attached to a host-owned uv_loop_t runs beside the host's handles and detaches cleanly")
    func attachToHostLoop() throws {
        let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        defer { loop.deallocate() }
        #expect(uv_loop_init(loop) == 0)
        // The host's own timer, counting ticks.
        final class HostState { var ticks = 0 }
        let state = HostState()
        let timer = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
        uv_timer_init(loop, timer)
        timer.pointee.data = Unmanaged.passUnretained(state).toOpaque()
        uv_timer_start(timer, { handle in
            let state = Unmanaged<HostState>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
            state.ticks += 1
            if state.ticks == 3 { uv_timer_stop(handle) }
        }, 5, 5)

        let node = Node(attachingTo: UnsafeMutableRawPointer(loop), configuration: NodeConfiguration(report: Reports().handler))
        let log = Log<String>()
        let counter = try node.start(Counter.self, 40)
        try node.spawn(of: String.self) { process in
            try process.call(counter, .add(2)) { result, _ in
                log.append("answer \(try result.get())")
                return .exit(.normal)
            }
        }
        // The host runs its loop as it always does.
        uv_run(loop, UV_RUN_DEFAULT)
        #expect(state.ticks == 3)
        #expect(log.entries == ["answer 42"])
        node.detach()
        uv_close(UnsafeMutableRawPointer(timer).assumingMemoryBound(to: uv_handle_t.self)) { UnsafeMutableRawPointer($0)?.deallocate() }
        uv_run(loop, UV_RUN_DEFAULT)
        #expect(uv_loop_close(loop) == 0)
    }
}
