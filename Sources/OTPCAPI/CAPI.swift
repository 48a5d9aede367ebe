import OTP

/// The C API (`include/otp.h`): a node for hosts written in C — on its own loop or attached to the host's
/// `uv_loop_t` — that sends binaries to named processes, calls them, and runs processes written in C.
///
/// The node handle is an opaque pointer to a retained `Node`. Thread: loop thread for everything but
/// `otp_post` and `otp_node_stop`. Errors are `OTP_*` codes, never crashes: every name and buffer a host
/// passes is checked. Binaries are copied on the way in and lent (valid during the callback) on the way out.

// MARK: Codes and conversions

let otpOK: Int32 = 0
let otpUnknownName: Int32 = 1
let otpMailboxFull: Int32 = 2
let otpNameTaken: Int32 = 3
let otpFailed: Int32 = 4
let otpTimeout: Int32 = 5
let otpNoProcess: Int32 = 6
let otpServerExited: Int32 = 7
let otpWrongType: Int32 = 8
let otpNodeStopped: Int32 = 9
let otpInvalid: Int32 = 10

/// `otp_reply_cb`.
public typealias ReplyCallback = @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafeRawPointer?, Int) -> Void
/// `otp_message_cb`.
public typealias MessageCallback = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeRawPointer?,
                                            Int, UnsafeMutableRawPointer?) -> Void

@inline(__always)
private func node(_ handle: UnsafeMutableRawPointer) -> Node {
    Unmanaged<Node>.fromOpaque(handle).takeUnretainedValue()
}

/// A C string as a name; `nil` for a NULL pointer.
private func name(_ cName: UnsafePointer<CChar>?) -> String? { cName.map { String(cString: $0) } }

/// A copy of a C buffer; `nil` when `data` is NULL with a non-zero size.
private func bytes(_ data: UnsafeRawPointer?, _ size: Int) -> [UInt8]? {
    guard size > 0 else { return [] }
    guard let data else { return nil }
    return Array(UnsafeRawBufferPointer(start: data, count: size))
}

private func code(_ error: ProcessError) -> Int32 {
    switch error {
    case .unknownName: return otpUnknownName
    case .mailboxFull: return otpMailboxFull
    case .nameTaken, .alreadyRegistered: return otpNameTaken
    case .noProcess: return otpNoProcess
    case .wrongMessageType: return otpWrongType
    case .nodeStopped: return otpNodeStopped
    case .invalidName, .invalidTimeout, .invalidCapacity: return otpInvalid
    default: return otpFailed
    }
}

private func code(_ error: CallError) -> Int32 {
    switch error {
    case .unknownName: return otpUnknownName
    case .noProcess: return otpNoProcess
    case .timeout: return otpTimeout
    case .serverExited: return otpServerExited
    case .mailboxFull: return otpMailboxFull
    case .wrongServerType, .wrongReplyType: return otpWrongType
    case .nodeStopped, .cancelled: return otpNodeStopped
    case .invalidTimeout: return otpInvalid
    default: return otpFailed
    }
}

// MARK: Processes written in C

/// A process C hosts reach by name: a GenServer whose calls, and plain messages (`Info`), are binaries.
/// Its handler is a C callback (`otp_register_process`; a call is handed over with a `CallerBox` the
/// callback answers through `otp_reply`) or Swift code of the host app (`Node.spawnBinaryServer`).
public struct CProcess: GenServer, @unchecked Sendable {  // C pointers; it lives and runs on the loop thread only
    public typealias Call = [UInt8]
    public typealias Info = [UInt8]
    public typealias Reply = [UInt8]

    enum Handler {
        case c(MessageCallback, context: UnsafeMutableRawPointer?, node: UnsafeMutableRawPointer)
        case swift(call: ([UInt8]) throws -> [UInt8], message: ([UInt8]) throws -> Void)
    }
    let handler: Handler

    public mutating func handleCall(_ request: [UInt8], from caller: Caller<[UInt8]>,
                                    _ server: ServerContext<CProcess>) throws -> ServerResult<CProcess> {
        switch handler {
        case .c(let onMessage, let context, let node):
            let pending = Unmanaged.passRetained(CallerBox(caller)).toOpaque()
            request.withUnsafeBytes { onMessage(context, node, $0.baseAddress, $0.count, pending) }
            return .noReply
        case .swift(let call, _):
            return .reply(try call(request))
        }
    }

    public mutating func handleInfo(_ message: InfoMessage<[UInt8]>, _ server: ServerContext<CProcess>) throws
        -> ServerResult<CProcess>
    {
        guard case .message(let data) = message else { return .noReply }
        switch handler {
        case .c(let onMessage, let context, let node):
            data.withUnsafeBytes { onMessage(context, node, $0.baseAddress, $0.count, nil) }
        case .swift(_, let receive):
            try receive(data)
        }
        return .noReply
    }
}

extension Node {
    /// Starts a server, registered as `name`, that C code reaches with `otp_call` (and `otp_send`): Swift code
    /// of a host app answering C. `call` answers each binary request; `message` takes each plain binary
    /// (ignored by default). A thrown error ends the server with that reason (a waiting caller gets
    /// `OTP_SERVER_EXITED`). Spawned without waiting (`spawnServer`): it holds the name when this returns.
    ///
    /// Thread: loop thread. - Throws: `ProcessError` (`nameTaken`, `invalidName`, `nodeStopped`).
    @discardableResult
    public func spawnBinaryServer(named name: String, call: @escaping ([UInt8]) throws -> [UInt8],
                                  message: @escaping ([UInt8]) throws -> Void = { _ in }) throws(ProcessError)
        -> ServerRef<CProcess>
    {
        try spawnServer(CProcess(handler: .swift(call: call, message: message)), options: SpawnOptions(name: name))
    }
}

/// A call a C process has not answered yet (`otp_caller_t`).
final class CallerBox {
    let caller: Caller<[UInt8]>
    init(_ caller: Caller<[UInt8]>) { self.caller = caller }
}

// MARK: The node

/// Creates a node with its own libuv loop; the calling thread drives it.
@c(otp_node_create)
public func otpNodeCreate() -> UnsafeMutableRawPointer {
    Unmanaged.passRetained(Node()).toOpaque()
}

/// Creates a node on the host's initialised `uv_loop_t`, which the host runs.
@c(otp_node_attach)
public func otpNodeAttach(_ loop: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
    Unmanaged.passRetained(Node(attachingTo: loop)).toOpaque()
}

/// Detaches an attached node and frees it.
@c(otp_node_detach)
public func otpNodeDetach(_ handle: UnsafeMutableRawPointer) -> Int32 {
    let node = node(handle)
    guard node.isAttached else { return otpInvalid }
    node.detach()
    Unmanaged<Node>.fromOpaque(handle).release()
    return otpOK
}

/// Closes a node of its own and frees it. Returns `uv_loop_close`'s result (0: nothing left open).
@c(otp_node_destroy)
public func otpNodeDestroy(_ handle: UnsafeMutableRawPointer) -> Int32 {
    Unmanaged<Node>.fromOpaque(handle).takeRetainedValue().close()
}

/// Runs one loop iteration (`blocking` != 0 waits for work). Returns 1 while work is pending.
@c(otp_node_run_once)
public func otpNodeRunOnce(_ handle: UnsafeMutableRawPointer, _ blocking: Int32) -> Int32 {
    node(handle).runOnce(blocking: blocking != 0) ? 1 : 0
}

/// Runs the loop until `otp_node_stop`.
@c(otp_node_run)
public func otpNodeRun(_ handle: UnsafeMutableRawPointer) {
    node(handle).run(until: .stopped)
}

/// Makes `otp_node_run` return. Thread-safe.
@c(otp_node_stop)
public func otpNodeStop(_ handle: UnsafeMutableRawPointer) {
    node(handle).stopLoop()
}

/// The node's own loop's backend file descriptor.
@c(otp_node_backend_fd)
public func otpNodeBackendFD(_ handle: UnsafeMutableRawPointer) -> Int32 {
    node(handle).backendFileDescriptor
}

/// Milliseconds until the node's own loop has work due (-1: none).
@c(otp_node_backend_timeout)
public func otpNodeBackendTimeout(_ handle: UnsafeMutableRawPointer) -> Int32 {
    node(handle).backendTimeout
}

// MARK: Messages and calls

/// Sends a copy of `data` to the process registered as `name`: a C process (as its `Info`), or a Swift
/// process that takes `[UInt8]`.
@c(otp_send)
public func otpSend(_ handle: UnsafeMutableRawPointer, _ cName: UnsafePointer<CChar>?, _ data: UnsafeRawPointer?,
                    _ size: Int) -> Int32 {
    guard let target = name(cName), let message = bytes(data, size) else { return otpInvalid }
    return send(message, to: target, on: node(handle))
}

private func send(_ message: [UInt8], to target: String, on node: Node) -> Int32 {
    do {
        try node.send(message, to: ServerRef<CProcess>.named(target))
        return otpOK
    } catch .wrongMessageType {
        do {
            try node.send(message, to: target)  // a Swift process of [UInt8]
            return otpOK
        } catch {
            return code(error)
        }
    } catch {
        return code(error)
    }
}

/// `otp_send` from any thread; the outcome is not reported.
@c(otp_post)
public func otpPost(_ handle: UnsafeMutableRawPointer, _ cName: UnsafePointer<CChar>?, _ data: UnsafeRawPointer?,
                    _ size: Int) -> Int32 {
    guard let target = name(cName), let message = bytes(data, size) else { return otpInvalid }
    return node(handle).execute { node in _ = send(message, to: target, on: node) } ? otpOK : otpNodeStopped
}

/// Calls the process registered as `name` (a C process, or a Swift one from `Node.spawnBinaryServer`);
/// `done` runs once, on the loop thread, with the outcome.
@c(otp_call)
public func otpCall(_ handle: UnsafeMutableRawPointer, _ cName: UnsafePointer<CChar>?, _ data: UnsafeRawPointer?,
                    _ size: Int, _ timeoutMilliseconds: Int64, _ done: ReplyCallback?,
                    _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let done, let target = name(cName), let request = bytes(data, size),
          timeoutMilliseconds >= -1 else { return otpInvalid }
    let timeout: Timeout = timeoutMilliseconds == -1 ? .infinity : .milliseconds(timeoutMilliseconds)
    let contextBits = UInt(bitPattern: context)  // handed back untouched, on this thread
    do {
        try node(handle).spawn(of: Never.self) { process in
            try process.call(ServerRef<CProcess>.named(target), request, timeout: timeout) { result, _ in
                let context = UnsafeMutableRawPointer(bitPattern: contextBits)
                switch result {
                case .success(let reply): reply.withUnsafeBytes { done(context, otpOK, $0.baseAddress, $0.count) }
                case .failure(let error): done(context, code(error), nil, 0)
                }
                return .exit(.normal)
            }
        }
        return otpOK
    } catch {
        return code(error)
    }
}

// MARK: Processes written in C

/// Starts a process registered as `name` whose messages go to `onMessage`.
@c(otp_register_process)
public func otpRegisterProcess(_ handle: UnsafeMutableRawPointer, _ cName: UnsafePointer<CChar>?,
                               _ onMessage: MessageCallback?, _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let target = name(cName), let onMessage else { return otpInvalid }
    let process = CProcess(handler: .c(onMessage, context: context, node: handle))
    // Spawned, not started: nothing to wait for (its initialisation cannot fail), and a host's callback
    // cannot run the loop it is called from.
    do {
        try node(handle).spawnServer(process, options: SpawnOptions(name: target))
        return otpOK
    } catch {
        return code(error)
    }
}

/// Stops the C process registered as `name`.
@c(otp_unregister_process)
public func otpUnregisterProcess(_ handle: UnsafeMutableRawPointer, _ cName: UnsafePointer<CChar>?) -> Int32 {
    guard let target = name(cName) else { return otpInvalid }
    let node = node(handle)
    guard let pid = node.whereis(target) else { return otpUnknownName }
    node.exit(pid, reason: .shutdown)
    return otpOK
}

/// Answers a call a C process was handed, and frees the caller.
@c(otp_reply)
public func otpReply(_ handle: UnsafeMutableRawPointer, _ caller: UnsafeMutableRawPointer?, _ data: UnsafeRawPointer?,
                     _ size: Int) -> Int32 {
    guard let caller else { return otpInvalid }
    let box = Unmanaged<CallerBox>.fromOpaque(caller).takeRetainedValue()
    guard let reply = bytes(data, size) else { return otpInvalid }
    return node(handle).reply(to: box.caller, reply) ? otpOK : otpNoProcess
}
