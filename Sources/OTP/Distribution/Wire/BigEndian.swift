/// Big-endian integers at a byte offset of a fixed layout (handshake and EPMD messages, frame lengths).
/// Writing goes through `TermWriter`'s `u16`/`u32`/`u64`. The caller has checked the length.
extension Array where Element == UInt8 {
    func uint16(at offset: Int) -> UInt16 { UInt16(self[offset]) << 8 | UInt16(self[offset + 1]) }

    func uint32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16 | UInt32(self[offset + 2]) << 8
            | UInt32(self[offset + 3])
    }

    func uint64(at offset: Int) -> UInt64 { UInt64(uint32(at: offset)) << 32 | UInt64(uint32(at: offset + 4)) }
}

extension UnsafeRawBufferPointer {
    /// The big-endian 64-bit integer at `offset` (fragment headers).
    func uint64(at offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in offset..<offset + 8 { value = value << 8 | UInt64(self[i]) }
        return value
    }
}
