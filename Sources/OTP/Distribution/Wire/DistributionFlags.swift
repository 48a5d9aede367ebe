/// Capability flags exchanged in the handshake (Erlang's `DFLAG_*`, erts/doc erl_dist_protocol).
///
/// A swift-otp node sends `DistributionFlags.ours`: every flag that OTP 25, 26 and 27 make mandatory, and
/// the optional ones it implements. It refuses a peer that lacks one of `DistributionFlags.required`, as
/// Erlang does. Thread: a plain value.
public struct DistributionFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let published = Self(rawValue: 0x1)
    public static let extendedReferences = Self(rawValue: 0x4)
    public static let distMonitor = Self(rawValue: 0x8)
    public static let funTags = Self(rawValue: 0x10)
    public static let distMonitorName = Self(rawValue: 0x20)
    public static let newFunTags = Self(rawValue: 0x80)
    public static let extendedPIDsPorts = Self(rawValue: 0x100)
    public static let exportPointerTag = Self(rawValue: 0x200)
    public static let bitBinaries = Self(rawValue: 0x400)
    public static let newFloats = Self(rawValue: 0x800)
    public static let unicodeIO = Self(rawValue: 0x1000)
    public static let distHeaderAtomCache = Self(rawValue: 0x2000)
    public static let smallAtomTags = Self(rawValue: 0x4000)
    public static let utf8Atoms = Self(rawValue: 0x10000)
    public static let mapTag = Self(rawValue: 0x20000)
    public static let bigCreation = Self(rawValue: 0x40000)
    public static let sendSender = Self(rawValue: 0x80000)
    public static let bigSeqTraceLabels = Self(rawValue: 0x100000)
    public static let exitPayload = Self(rawValue: 0x400000)
    public static let fragments = Self(rawValue: 0x800000)
    public static let handshake23 = Self(rawValue: 0x100_0000)
    public static let unlinkID = Self(rawValue: 0x200_0000)
    public static let spawn = Self(rawValue: 1 << 32)
    public static let nameMe = Self(rawValue: 1 << 33)
    public static let v4NodeContainers = Self(rawValue: 1 << 34)
    public static let alias = Self(rawValue: 1 << 35)

    /// What OTP 25 requires of a peer, plus what OTP 26 added (the new link protocol, v4 node containers).
    public static let required: Self = [
        .extendedReferences, .funTags, .newFunTags, .extendedPIDsPorts, .exportPointerTag, .bitBinaries,
        .newFloats, .utf8Atoms, .mapTag, .bigCreation, .handshake23, .distMonitor, .distMonitorName,
        .unlinkID, .v4NodeContainers,
    ]

    /// What this node announces. Not announced: atom caches (every message carries its atoms) and dynamic
    /// names. Spawn requests are taken for erpc (`SpawnRequests.swift`); fragments make frames carry
    /// distribution headers and let big messages go in pieces (`DistributionHeader`).
    public static let ours: Self = required.union([
        .published, .unicodeIO, .smallAtomTags, .sendSender, .bigSeqTraceLabels, .exitPayload, .alias, .spawn,
        .fragments,
    ])

    /// Names of the `required` flags missing from `self`, for the log line of a refused peer.
    var missingRequired: [String] {
        let names: [(Self, String)] = [
            (.extendedReferences, "EXTENDED_REFERENCES"), (.funTags, "FUN_TAGS"), (.newFunTags, "NEW_FUN_TAGS"),
            (.extendedPIDsPorts, "EXTENDED_PIDS_PORTS"), (.exportPointerTag, "EXPORT_PTR_TAG"),
            (.bitBinaries, "BIT_BINARIES"), (.newFloats, "NEW_FLOATS"), (.utf8Atoms, "UTF8_ATOMS"),
            (.mapTag, "MAP_TAG"), (.bigCreation, "BIG_CREATION"), (.handshake23, "HANDSHAKE_23"),
            (.distMonitor, "DIST_MONITOR"), (.distMonitorName, "DIST_MONITOR_NAME"), (.unlinkID, "UNLINK_ID"),
            (.v4NodeContainers, "V4_NC"),
        ]
        return names.filter { !contains($0.0) }.map(\.1)
    }
}
