/// The number a key places by, the one rule of `NodeGroup.loop(forKey:)` and `ChildSpec.onLoop(forKey:)`
/// (the loop is this number modulo the loop count), chosen as Elixir's `PartitionSupervisor` routes:
///
/// - an integer key by its magnitude, so keys `0, 1, 2, …` take the loops in turn (Elixir: `rem(abs(key),
///   partitions)`), and a run of consecutive keys is spread exactly evenly;
/// - a `String` key by a fixed hash of its UTF-8 bytes (64-bit FNV-1a, then a finaliser that mixes the high
///   bits into the low ones), the same in every run and on every machine, as `:erlang.phash2/2` is;
/// - any other key by its `hashValue`, which Swift seeds per OS process: the same loop for equal keys for
///   the process's life, a different spread in the next run.
///
/// Thread: any. Cost: a dynamic cast or two and, for a string, one pass over its bytes (placement happens
/// when a process is spawned or a child specified, never per message).
enum PlacementKey {
    static func number(of key: some Hashable) -> UInt {
        if let integer = key as? any BinaryInteger { return magnitude(of: integer) }
        if let string = key as? String { return fixedHash(string) }
        if let string = key as? Substring { return fixedHash(String(string)) }
        return UInt(bitPattern: key.hashValue)
    }

    private static func magnitude<I: BinaryInteger>(of integer: I) -> UInt {
        UInt(truncatingIfNeeded: integer.magnitude)
    }

    /// FNV-1a over the UTF-8 bytes, finalised with MurmurHash3's 64-bit mixer (`Mixed.mix`: FNV's low bits
    /// alone spread keys that differ only in their last byte poorly over a power-of-two count of loops).
    static func fixedHash(_ string: String) -> UInt {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in string.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return UInt(truncatingIfNeeded: Mixed.mix(hash))
    }
}
