import Testing
@testable import OTP
import OTPCAPI

/// The C API's entry points called as C calls them (C-convention callbacks, raw buffers), on the manual clock.
@Suite("C API")
struct CAPITests {
    /// What a reply callback saw: its context is a pointer to one of these.
    final class Outcome {
        var status: Int32 = -1
        var reply: [UInt8] = []
    }

    static let record: ReplyCallback = { context, status, reply, size in
        let outcome = Unmanaged<Outcome>.fromOpaque(context!).takeUnretainedValue()
        outcome.status = status
        outcome.reply = reply.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
    }

    func call(_ node: Node, _ name: String, _ request: [UInt8], timeout: Int64 = 1_000) -> Outcome {
        let outcome = Outcome()
        let handle = Unmanaged.passUnretained(node).toOpaque()
        let context = Unmanaged.passUnretained(outcome).toOpaque()
        let started = request.withUnsafeBytes { bytes in
            name.withCString { otpCall(handle, $0, bytes.baseAddress, bytes.count, timeout, Self.record, context) }
        }
        #expect(started == 0)
        node.runUntilIdle()
        return outcome
    }

    @Test("a Swift server of the host app answers otp_call; otp_send reaches it; errors are the OTP_ codes")
    func swiftServerCalledFromC() throws {
        let node = Node(configuration: NodeConfiguration(clock: .manual, report: { _ in }, logger: quietLogger))
        let seen = Log<[UInt8]>()
        try node.spawnBinaryServer(named: "reverse", call: { Array($0.reversed()) }, message: { seen.append($0) })
        let answered = call(node, "reverse", [1, 2, 3])
        #expect(answered.status == 0 && answered.reply == [3, 2, 1])
        let sent: Int32 = [UInt8(9)].withUnsafeBytes { bytes in
            otpSend(Unmanaged.passUnretained(node).toOpaque(), "reverse", bytes.baseAddress, bytes.count)
        }
        node.runUntilIdle()
        #expect(sent == 0 && seen.entries == [[9]])
        #expect(call(node, "nobody", [1]).status == 1)             // OTP_UNKNOWN_NAME
        try spawnIdler(node, options: SpawnOptions(name: "plain"))  // a process that takes no binaries
        #expect(call(node, "plain", [1]).status == 8)              // OTP_WRONG_TYPE
        #expect(throws: ProcessError.nameTaken("reverse", by: node.whereis("reverse")!)) {
            try node.spawnBinaryServer(named: "reverse", call: { $0 })
        }
    }

    /// Where the silent C process keeps the caller it was handed.
    final class Kept { var caller: UnsafeMutableRawPointer? }

    @Test("a call answered too late: the caller gets OTP_TIMEOUT, the late otp_reply OTP_NO_PROCESS (manual clock)")
    func timeout() throws {
        let node = Node(configuration: NodeConfiguration(clock: .manual, report: { _ in }, logger: quietLogger))
        let handle = Unmanaged.passUnretained(node).toOpaque()
        let kept = Kept()
        // A C process that keeps its caller instead of answering.
        let register: Int32 = "silent".withCString { name in
            otpRegisterProcess(handle, name, { context, _, _, _, caller in
                Unmanaged<Kept>.fromOpaque(context!).takeUnretainedValue().caller = caller
            }, Unmanaged.passUnretained(kept).toOpaque())
        }
        #expect(register == 0)
        let outcome = Outcome()
        let started = "silent".withCString { name in
            otpCall(handle, name, nil, 0, 50, Self.record, Unmanaged.passUnretained(outcome).toOpaque())
        }
        #expect(started == 0)
        node.runUntilIdle()
        #expect(outcome.status == -1 && kept.caller != nil)  // still waiting
        node.advance(by: 50)
        #expect(outcome.status == 5)   // OTP_TIMEOUT
        #expect(otpReply(handle, kept.caller, nil, 0) == 6)  // OTP_NO_PROCESS: the caller gave up; freed
    }
}
