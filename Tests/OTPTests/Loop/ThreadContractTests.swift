import Foundation
import Testing
@testable import OTP

/// A loop-thread-only call from another thread traps in every build, naming the call (docs/errors.md E26).
@Suite("Thread contract: loop-thread-only calls trap elsewhere, in release builds too")
struct ThreadContractTests {
    @Test("A typed send from a thread that is not the loop's traps, naming send(_:to:)")
    func typedSendFromAnotherThreadTraps() async throws {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let node = Node.deterministic()
            let address = try node.spawn(of: Int.self) { _ in .receive { _, _ in .same } }
            let done = DispatchSemaphore(value: 0)
            Thread {
                try? node.send(1, to: address)
                done.signal()
            }.start()
            done.wait()
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("Node.send(_:to:) must be called on the node's loop thread"))
    }
}
