#if canImport(Glibc)
import Glibc
#endif
import CLibUV

/// What a `TCPStream` reports to its owner. Thread: loop thread.
protocol TCPStreamDelegate: AnyObject {
    /// An outgoing connection is established (`nil`) or failed (the libuv error text).
    func streamConnected(_ stream: TCPStream, error: String?)
    /// Bytes arrived; they are valid only during the call.
    func streamReceived(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer)
    /// The peer closed, the connection failed, or `close` was called; the last event of a stream.
    func streamClosed(_ stream: TCPStream, reason: String)
    /// The socket took what it was given and holds less than `TCPStream.writableThreshold` (only while
    /// `wantsWritable` is set): room for more.
    func streamWritable(_ stream: TCPStream)
}

extension TCPStreamDelegate {
    func streamWritable(_ stream: TCPStream) {}
}

/// One TCP connection on a libuv loop: connect (resolving the host without blocking), read, write, close.
///
/// Writes are gathered: `write` appends to an output buffer and the owner's `TCPFlusher` sends every dirty
/// stream's buffer in one `uv_write` per loop iteration (before libuv polls), so a burst of messages costs
/// one system call, as Erlang's distribution ports do.
///
/// A stream given a `SecureChannel` (`secure(with:)`, before it connects or reads) carries everything through
/// it: received bytes are decrypted before the delegate sees them, and output is encrypted when it is flushed
/// — held back until the channel is established (the delegate writes as if the stream were plain).
///
/// Thread: loop thread only. Memory: the handle and the output buffer (reads go through the flusher's one
/// shared 64 KiB buffer: a thousand idle peers cost no read buffers); the handle is freed in its close
/// callback, and the object lives until then (it retains itself through `handle.data`).
final class TCPStream {
    weak var delegate: (any TCPStreamDelegate)?
    let handle: UnsafeMutablePointer<uv_tcp_t>
    private(set) var output: [UInt8] = []
    private(set) var isClosed = false
    fileprivate let flusher: TCPFlusher
    private var queuedForFlush = false
    /// The owner has more to write once the socket takes what it has (`streamWritable`).
    var wantsWritable = false
    /// Below this many queued bytes a stream that `wantsWritable` hears `streamWritable`: two fragments of a
    /// big message (`DistributionHeader.fragmentSize`).
    static let writableThreshold = 2 * DistributionHeader.fragmentSize
    /// Bytes written and read on the socket, for statistics.
    private(set) var bytesOut: UInt64 = 0
    private(set) var bytesIn: UInt64 = 0
    /// Encrypts and authenticates the connection, when set.
    private(set) var channel: (any SecureChannel)?
    /// Ciphertext ready for the socket (secure streams only).
    private var wire: [UInt8] = []
    /// Why the secure channel ended the stream, when it did.
    private(set) var securityFailure: SecureChannelError?

    init(loop: UnsafeMutablePointer<uv_loop_t>, flusher: TCPFlusher) {
        self.flusher = flusher
        handle = .allocate(capacity: 1)
        uv_tcp_init(loop, handle)
        uv_tcp_nodelay(handle, 1)
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()  // released in the close callback
        flusher.openHandles += 1
    }

    /// Runs the stream through `channel` (before `connect` or `startReading`).
    func secure(with channel: any SecureChannel) {
        self.channel = channel
    }

    fileprivate static func from(_ pointer: UnsafeMutableRawPointer?) -> TCPStream {
        Unmanaged<TCPStream>.fromOpaque(pointer!.assumingMemoryBound(to: uv_handle_t.self).pointee.data)
            .takeUnretainedValue()
    }

    /// Connects to `host`:`port`. A host that is not an IP address is resolved with `uv_getaddrinfo`.
    func connect(host: String, port: UInt16) {
        let address = host == "localhost" ? "127.0.0.1" : host
        if Self.isNumeric(address) { return connect(ip: address, port: port) }
        let request = UnsafeMutablePointer<uv_getaddrinfo_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(ResolveContext(stream: self, port: port)).toOpaque()
        let status = uv_getaddrinfo(handle.pointee.loop, request, { request, status, info in
            let context = Unmanaged<ResolveContext>.fromOpaque(request!.pointee.data).takeRetainedValue()
            defer { uv_freeaddrinfo(info); request!.deallocate() }
            var text = [CChar](repeating: 0, count: 64)
            let result = status == 0 ? otp_addrinfo_text(info, &text, 64) : status
            guard result == 0 else {
                return context.stream.fail("cannot resolve host: \(String(cString: uv_strerror(result)))")
            }
            context.stream.connect(ip: String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                                   port: context.port)
        }, host, nil, nil)
        if status != 0 {
            Unmanaged<ResolveContext>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            fail("cannot resolve host: \(String(cString: uv_strerror(status)))")
        }
    }

    private final class ResolveContext {
        let stream: TCPStream
        let port: UInt16
        init(stream: TCPStream, port: UInt16) { self.stream = stream; self.port = port }
    }

    private static func isNumeric(_ host: String) -> Bool {
        host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
    }

    private func connect(ip: String, port: UInt16) {
        guard !isClosed else { return }
        let request = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(self).toOpaque()
        let status = otp_tcp_connect(request, handle, ip, Int32(port)) { request, status in
            let stream = Unmanaged<TCPStream>.fromOpaque(request!.pointee.data).takeRetainedValue()
            request!.deallocate()
            guard !stream.isClosed else { return }
            if status != 0 { return stream.fail(String(cString: uv_strerror(status))) }
            stream.startReading()
            if let channel = stream.channel {
                do throws(SecureChannelError) {
                    try channel.advance()  // the client's first flight
                } catch {
                    return stream.failSecurity(error)
                }
                stream.markDirty()
            }
            stream.delegate?.streamConnected(stream, error: nil)
        }
        if status != 0 {
            Unmanaged<TCPStream>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            fail(String(cString: uv_strerror(status)))
        }
    }

    private func fail(_ reason: String) {
        delegate?.streamConnected(self, error: reason)
        close(reason: reason)
    }

    /// Starts delivering received bytes to the delegate.
    func startReading() {
        uv_read_start(otp_uv_stream(handle), { handle, _, buffer in
            let stream = TCPStream.from(UnsafeMutableRawPointer(handle))
            buffer!.pointee = uv_buf_init(stream.flusher.readBuffer, UInt32(TCPFlusher.readSize))
        }, { handle, count, _ in
            let stream = TCPStream.from(UnsafeMutableRawPointer(handle))
            guard count >= 0 else {
                return stream.close(reason: count == Int(UV_EOF.rawValue) ? "closed by peer"
                                    : String(cString: uv_strerror(Int32(count))))
            }
            stream.bytesIn &+= UInt64(count)
            let bytes = UnsafeRawBufferPointer(start: stream.flusher.readBuffer, count: count)
            if stream.channel != nil { return stream.receiveSecure(bytes) }
            stream.delegate?.streamReceived(stream, bytes)
        })
    }

    /// Feeds ciphertext to the channel and hands the plaintext it yields to the delegate, a read buffer at a
    /// time (the ciphertext was copied into the channel: the shared buffer is free for the plaintext).
    private func receiveSecure(_ bytes: UnsafeRawBufferPointer) {
        guard let channel else { return }
        do throws(SecureChannelError) {
            try channel.receive(bytes)
            let buffer = UnsafeMutableRawBufferPointer(start: flusher.readBuffer, count: TCPFlusher.readSize)
            while !isClosed {
                let count = try channel.readPlaintext(into: buffer)
                guard count > 0 else { break }
                delegate?.streamReceived(self, UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            }
        } catch {
            return failSecurity(error)
        }
        if channel.isClosedByPeer { return close(reason: "closed by peer") }
        // Handshake records to answer, or output held until the channel was established.
        if !isClosed, channel.hasCiphertext || (channel.isEstablished && !output.isEmpty) { markDirty() }
    }

    private func failSecurity(_ error: SecureChannelError) {
        guard !isClosed else { return }
        securityFailure = error
        close(reason: "secure channel: \(error)")
    }

    /// Stops delivering received bytes (backpressure: the peer's sends fill the socket buffers).
    func stopReading() {
        guard !isClosed else { return }
        uv_read_stop(otp_uv_stream(handle))
    }

    /// Bytes written but not yet taken by the socket: this iteration's output and libuv's write queue.
    var queuedBytes: Int {
        isClosed ? 0 : output.count + wire.count + Int(uv_stream_get_write_queue_size(otp_uv_stream(handle)))
    }

    /// Queues `bytes`; they go out before the loop next waits for I/O.
    func write(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        output.append(contentsOf: bytes)
        markDirty()
    }

    /// Caps the bytes the kernel holds unsent for this socket (`TCP_NOTSENT_LOWAT`; `nil`: the system's
    /// default, no cap). A write past it stays in libuv's queue until the kernel has sent enough, so what
    /// is written next waits behind at most that much — not behind megabytes of socket buffer.
    func limitUnsentBytes(to limit: Int?) {
        var fd: uv_os_fd_t = -1
        guard !isClosed, uv_fileno(otp_uv_handle(handle), &fd) == 0 else { return }
        var value = UInt32(clamping: limit ?? 0)
        _ = setsockopt(fd, Int32(IPPROTO_TCP), 25 /* TCP_NOTSENT_LOWAT */, &value, socklen_t(MemoryLayout<UInt32>.size))
    }

    /// Queues a slice of a larger buffer (a fragment of a big message).
    func write(_ bytes: ArraySlice<UInt8>) {
        guard !isClosed else { return }
        output.append(contentsOf: bytes)
        markDirty()
    }

    private func markDirty() {
        if !queuedForFlush {
            queuedForFlush = true
            flusher.schedule(self)
        }
    }

    /// Hands the output buffer to libuv in one write (encrypted first on a secure stream). Called by the
    /// flusher.
    fileprivate func flush() {
        queuedForFlush = false
        guard !isClosed else { return }
        guard let channel else { return finishWrite(status: transmit(&output)) }
        do throws(SecureChannelError) {
            if channel.isEstablished, !output.isEmpty {
                let failure = output.withUnsafeBytes { bytes -> SecureChannelError? in
                    do throws(SecureChannelError) { try channel.send(bytes) } catch { return error }
                    return nil
                }
                if let failure { throw failure }
                output.removeAll(keepingCapacity: output.capacity <= 1 << 20)
            }
            channel.takeCiphertext(into: &wire)
        } catch {
            return failSecurity(error)
        }
        finishWrite(status: transmit(&wire))
    }

    /// Writes `bytes` to the socket and empties it; libuv's status (0: written or queued).
    private func transmit(_ bytes: inout [UInt8]) -> Int32? {
        guard !bytes.isEmpty else { return nil }
        // Straight into the socket when it takes it all (the common case: no request, no copy, no callback,
        // no change to the epoll set); what it does not take goes through a queued uv_write.
        let status = bytes.withUnsafeBytes { bytes -> Int32 in
            var written = 0
            if let result = tryWrite(bytes) {
                if result >= 0 {
                    written = Int(result)
                } else if result != UV_EAGAIN.rawValue {
                    return result
                }
            }
            guard written < bytes.count else { return 0 }
            return writeCopy(UnsafeRawBufferPointer(rebasing: bytes[written...]), to: otp_uv_stream(handle)) { handle in
                // The handle outlives its write requests (libuv cancels them before the close callback).
                TCPStream.from(UnsafeMutableRawPointer(handle)).notifyIfWritable()
            }
        }
        bytesOut &+= UInt64(bytes.count)
        bytes.removeAll(keepingCapacity: bytes.capacity <= 1 << 20)
        return status
    }

    /// Writes what the socket takes of `bytes` at once, when nothing is queued before them (`nil` otherwise):
    /// libuv's count of bytes written, or its error.
    private func tryWrite(_ bytes: UnsafeRawBufferPointer) -> Int32? {
        guard let base = bytes.baseAddress, uv_stream_get_write_queue_size(otp_uv_stream(handle)) == 0 else { return nil }
        var buffer = uv_buf_init(UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: CChar.self)), UInt32(bytes.count))
        return uv_try_write(otp_uv_stream(handle), &buffer, 1)
    }

    /// After `transmit` (`nil`: nothing was written): closes on a failed write, else tells a delegate that
    /// wants to write more. Outside `transmit`'s access to the buffer: the delegate writes into it.
    private func finishWrite(status: Int32?) {
        guard let status else { return }
        if status != 0 { return close(reason: String(cString: uv_strerror(status))) }
        notifyIfWritable()
    }

    private func notifyIfWritable() {
        guard wantsWritable, !isClosed, queuedBytes < Self.writableThreshold else { return }
        delegate?.streamWritable(self)
    }

    /// Sends what is queued, then closes (`uv_shutdown` waits for the write): for a last word such as a
    /// refusal status.
    func closeAfterWriting(reason: String) {
        guard !isClosed else { return }
        flush()
        if let channel, !isClosed {
            channel.shutdown()
            channel.takeCiphertext(into: &wire)
            if let status = transmit(&wire), status != 0 { return close(reason: reason) }
        }
        guard !isClosed else { return }  // the last write failed
        let request = UnsafeMutablePointer<uv_shutdown_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(ShutdownContext(stream: self, reason: reason)).toOpaque()
        let status = uv_shutdown(request, otp_uv_stream(handle)) { request, _ in
            let context = Unmanaged<ShutdownContext>.fromOpaque(request!.pointee.data).takeRetainedValue()
            request!.deallocate()
            context.stream.close(reason: context.reason)
        }
        if status != 0 {
            Unmanaged<ShutdownContext>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            close(reason: reason)
        }
    }

    private final class ShutdownContext {
        let stream: TCPStream
        let reason: String
        init(stream: TCPStream, reason: String) { self.stream = stream; self.reason = reason }
    }

    /// Closes the connection (queued output is dropped; a secure stream's peer is sent a close notification
    /// if the socket takes it at once); the delegate hears `streamClosed` once.
    func close(reason: String) {
        guard !isClosed else { return }
        if let channel, channel.isEstablished, !channel.isClosedByPeer {
            var notification: [UInt8] = []
            channel.shutdown()
            channel.takeCiphertext(into: &notification)
            _ = notification.withUnsafeBytes { tryWrite($0) }  // best effort: the socket is closing
        }
        isClosed = true
        output = []
        wire = []
        let delegate = self.delegate
        self.delegate = nil
        uv_close(otp_uv_handle(handle)) { handle in
            let stream = Unmanaged<TCPStream>.fromOpaque(handle!.pointee.data)
            stream.takeUnretainedValue().flusher.openHandles -= 1
            stream.release()
            UnsafeMutableRawPointer(handle)?.deallocate()
        }
        delegate?.streamClosed(self, reason: reason)
    }
}

/// Sends the gathered output of every stream written to since the last flush, from a `uv_prepare_t`
/// that is active only while some stream has output (libuv runs prepare callbacks right before it polls).
///
/// It also owns the read buffer all its streams share: libuv asks for a buffer right before each read
/// callback, and the bytes are consumed within it, so one buffer per loop serves every connection.
///
/// Thread: loop thread only. The handle is freed in its close callback.
final class TCPFlusher {
    private let handle: UnsafeMutablePointer<uv_prepare_t>
    static let readSize = 64 * 1024
    let readBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: TCPFlusher.readSize)
    private var dirty: [TCPStream] = []
    private var active = false
    /// libuv handles of the distribution still open or closing (streams, listener, this one): closing the
    /// node runs the loop until it is 0.
    var openHandles = 1

    init(loop: UnsafeMutablePointer<uv_loop_t>) {
        handle = .allocate(capacity: 1)
        uv_prepare_init(loop, handle)
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()  // released in the close callback
    }

    deinit { readBuffer.deallocate() }

    func schedule(_ stream: TCPStream) {
        dirty.append(stream)
        guard !active else { return }
        active = true
        uv_prepare_start(handle) { handle in
            Unmanaged<TCPFlusher>.fromOpaque(handle!.pointee.data).takeUnretainedValue().flushAll()
        }
    }

    /// Flushes now (also called before the flusher closes). A stream that `wantsWritable` may write again
    /// while it is flushed: that goes out in the same pass (until the socket stops taking it all).
    func flushAll() {
        while !dirty.isEmpty {
            let streams = dirty
            dirty.removeAll(keepingCapacity: true)
            for stream in streams { stream.flush() }
        }
        active = false
        uv_prepare_stop(handle)
    }

    func close() {
        flushAll()
        uv_close(otp_uv_handle(handle)) { handle in
            let flusher = Unmanaged<TCPFlusher>.fromOpaque(handle!.pointee.data)
            flusher.takeUnretainedValue().openHandles -= 1
            flusher.release()
            UnsafeMutableRawPointer(handle)?.deallocate()
        }
    }
}

/// A listening TCP socket that hands each accepted connection to `onAccept`. Thread: loop thread only.
final class TCPListener {
    private let handle: UnsafeMutablePointer<uv_tcp_t>
    private let flusher: TCPFlusher
    private let onAccept: (TCPStream) -> Void
    /// The port actually bound (the one asked for, or the one the system chose for 0).
    let port: UInt16

    init(loop: UnsafeMutablePointer<uv_loop_t>, address: String, port: UInt16, flusher: TCPFlusher,
         onAccept: @escaping (TCPStream) -> Void) throws(DistributionError) {
        self.flusher = flusher
        self.onAccept = onAccept
        handle = .allocate(capacity: 1)
        uv_tcp_init(loop, handle)
        var status = otp_tcp_bind(handle, address, Int32(port))
        if status == 0 {
            status = uv_listen(otp_uv_stream(handle), 128) { server, status in
                guard status == 0, let server else { return }
                Unmanaged<TCPListener>.fromOpaque(server.pointee.data).takeUnretainedValue().accept()
            }
        }
        let bound = otp_tcp_local_port(handle)
        self.port = UInt16(clamping: max(bound, 0))
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()  // released in the close callback
        flusher.openHandles += 1
        if status != 0 || bound < 0 {
            let reason = String(cString: uv_strerror(status != 0 ? status : UV_EINVAL.rawValue))
            close()
            throw .listen("\(address):\(port): \(reason)")
        }
    }

    private func accept() {
        let stream = TCPStream(loop: handle.pointee.loop, flusher: flusher)
        guard uv_accept(otp_uv_stream(handle), otp_uv_stream(stream.handle)) == 0 else {
            return stream.close(reason: "accept failed")
        }
        onAccept(stream)
    }

    func close() {
        uv_close(otp_uv_handle(handle)) { handle in
            let listener = Unmanaged<TCPListener>.fromOpaque(handle!.pointee.data)
            listener.takeUnretainedValue().flusher.openHandles -= 1
            listener.release()
            UnsafeMutableRawPointer(handle)?.deallocate()
        }
    }
}
