import OTP

/// A small C API over a node, for hosts written in C (see `include/otp.h` and `Examples/Hosts/c-host`).
///
/// The node handle is an opaque pointer to a retained `Node`. Functions marked "loop thread" must be
/// called on the thread that drives the node (the thread that created it, while the host steps it with
/// `otp_node_run_once`); `otp_post_int` and `otp_node_stop` are thread-safe. Errors are small integer codes
/// (`OTP_OK`, `OTP_UNKNOWN_NAME`, ...), never crashes.

/// The accumulator behind `otp_spawn_accumulator`: casts add, a call reads the total.
struct Accumulator: GenServer {
    enum Call: Sendable { case total }
    typealias Cast = Int64
    typealias Reply = Int64
    var total: Int64 = 0

    mutating func handleCast(_ message: Int64, _ server: ServerContext<Accumulator>) throws -> ServerResult<Accumulator> {
        total &+= message
        return .noReply
    }

    mutating func handleCall(_ request: Call, from caller: Caller<Int64>, _ server: ServerContext<Accumulator>) throws
        -> ServerResult<Accumulator>
    {
        .reply(total)
    }
}

let otpOK: Int32 = 0
let otpUnknownName: Int32 = 1
let otpMailboxFull: Int32 = 2
let otpNameTaken: Int32 = 3
let otpFailed: Int32 = 4

@inline(__always)
private func node(_ handle: UnsafeMutableRawPointer) -> Node {
    Unmanaged<Node>.fromOpaque(handle).takeUnretainedValue()
}

private func name(_ cName: UnsafePointer<CChar>) -> String { String(cString: cName) }

/// Creates a node with its own libuv loop; the calling thread drives it.
@c(otp_node_create)
public func otpNodeCreate() -> UnsafeMutableRawPointer {
    Unmanaged.passRetained(Node()).toOpaque()
}

/// Closes the node and frees it. Returns `uv_loop_close`'s result (0: nothing left open). Loop thread.
@c(otp_node_destroy)
public func otpNodeDestroy(_ handle: UnsafeMutableRawPointer) -> Int32 {
    let node = Unmanaged<Node>.fromOpaque(handle).takeRetainedValue()
    return node.close()
}

/// Runs one loop iteration (`blocking` != 0 waits for work). Returns 1 while work is pending. Loop thread.
@c(otp_node_run_once)
public func otpNodeRunOnce(_ handle: UnsafeMutableRawPointer, _ blocking: Int32) -> Int32 {
    node(handle).runOnce(blocking: blocking != 0) ? 1 : 0
}

/// Runs the loop until `otp_node_stop`. Loop thread.
@c(otp_node_run)
public func otpNodeRun(_ handle: UnsafeMutableRawPointer) {
    node(handle).run(until: .stopped)
}

/// Makes `otp_node_run` return. Thread-safe.
@c(otp_node_stop)
public func otpNodeStop(_ handle: UnsafeMutableRawPointer) {
    node(handle).stopLoop()
}

/// Starts an accumulator server registered as `name`. Loop thread.
@c(otp_spawn_accumulator)
public func otpSpawnAccumulator(_ handle: UnsafeMutableRawPointer, _ cName: UnsafePointer<CChar>) -> Int32 {
    do {
        try node(handle).start(Accumulator(), options: StartOptions(name: name(cName)))
        return otpOK
    } catch .alreadyStarted {
        return otpNameTaken
    } catch {
        return otpFailed
    }
}

/// Adds `value` to the accumulator registered as `name` (a cast). Loop thread.
@c(otp_send_int)
public func otpSendInt(_ handle: UnsafeMutableRawPointer, _ cName: UnsafePointer<CChar>, _ value: Int64) -> Int32 {
    code(node(handle).cast(ServerRef<Accumulator>.named(name(cName)), value))
}

/// Like `otp_send_int`, from any thread; the outcome is not reported (it is counted by the node).
@c(otp_post_int)
public func otpPostInt(_ handle: UnsafeMutableRawPointer, _ cName: UnsafePointer<CChar>, _ value: Int64) -> Int32 {
    let target = name(cName)
    return node(handle).execute { node in node.cast(ServerRef<Accumulator>.named(target), value) } ? otpOK : otpFailed
}

/// Reads the total of the accumulator registered as `name` into `total`. Loop thread.
@c(otp_accumulator_total)
public func otpAccumulatorTotal(_ handle: UnsafeMutableRawPointer, _ cName: UnsafePointer<CChar>,
                                _ total: UnsafeMutablePointer<Int64>) -> Int32 {
    do {
        total.pointee = try node(handle).call(ServerRef<Accumulator>.named(name(cName)), .total)
        return otpOK
    } catch .unknownName {
        return otpUnknownName
    } catch {
        return otpFailed
    }
}

private func code(_ outcome: CastOutcome) -> Int32 {
    switch outcome {
    case .delivered: return otpOK
    case .unknownName, .noProcess, .wrongServerType: return otpUnknownName
    case .mailboxFull: return otpMailboxFull
    }
}
