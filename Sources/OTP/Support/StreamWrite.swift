import CLibUV

/// Writes a copy of `bytes` to a libuv stream: the copy and the write request are freed in the write's
/// callback, which then calls `written` (if any) with the stream. Returns 0, or a libuv error (then nothing
/// was queued, nothing is left allocated and `written` is not called).
///
/// Thread: the stream's loop thread. Cost: one allocation for the copy and the request together.
func writeCopy(_ bytes: UnsafeRawBufferPointer, to stream: UnsafeMutablePointer<uv_stream_t>,
               written: (@convention(c) (UnsafeMutablePointer<uv_stream_t>?) -> Void)? = nil) -> Int32 {
    let count = bytes.count
    let context = UnsafeMutablePointer<WriteContext>.allocate(capacity: 1)
    let storage = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 1)
    if count > 0 { storage.copyMemory(from: bytes.baseAddress!, byteCount: count) }
    context.initialize(to: WriteContext(request: uv_write_t(), storage: storage, written: written))
    context.pointee.request.data = UnsafeMutableRawPointer(context)
    var buffer = uv_buf_init(storage.assumingMemoryBound(to: CChar.self), UInt32(count))
    let status = uv_write(&context.pointee.request, stream, &buffer, 1) { request, _ in
        let context = request!.pointee.data.assumingMemoryBound(to: WriteContext.self)
        let stream = request!.pointee.handle
        let written = context.pointee.written
        context.pointee.storage.deallocate()
        context.deallocate()
        written?(stream)
    }
    if status != 0 {
        storage.deallocate()
        context.deallocate()
    }
    return status
}

/// A write request and what its callback frees and calls.
private struct WriteContext {
    var request: uv_write_t
    let storage: UnsafeMutableRawPointer
    let written: (@convention(c) (UnsafeMutablePointer<uv_stream_t>?) -> Void)?
}
