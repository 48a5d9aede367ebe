import CLibUV

/// Writes a copy of `bytes` to a libuv stream: the copy and the write request are freed in the write's
/// callback. Returns 0, or a libuv error (then nothing was queued and nothing is left allocated).
///
/// Thread: the stream's loop thread. Cost: one allocation for the copy, one for the request.
func writeCopy(_ bytes: UnsafeRawBufferPointer, to stream: UnsafeMutablePointer<uv_stream_t>) -> Int32 {
    let count = bytes.count
    let storage = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 1)
    if count > 0 { storage.copyMemory(from: bytes.baseAddress!, byteCount: count) }
    let request = UnsafeMutablePointer<uv_write_t>.allocate(capacity: 1)
    request.pointee.data = storage
    var buffer = uv_buf_init(storage.assumingMemoryBound(to: CChar.self), UInt32(count))
    let status = uv_write(request, stream, &buffer, 1) { request, _ in
        request!.pointee.data.deallocate()
        request!.deallocate()
    }
    if status != 0 {
        storage.deallocate()
        request.deallocate()
    }
    return status
}
