/// The name a spawn or start asks for — a registered name, a registry key, or (refused at the spawn) both —
/// held by `SpawnOptions` and `StartOptions` behind one reference.
///
/// Why a box: an options value is built and copied on every spawn and start, and a `String?` beside a
/// `ViaName?` made each copy and destroy two reference-count operations through the type's value witnesses
/// (about 240 instructions a `ProcessContext.startServer` with default options, callgrind). Behind one
/// optional reference, the options of an unnamed process are plain data to copy.
///
/// Thread: immutable, `Sendable`. Cost: one allocation when a name is set.
@usableFromInline
final class RequestedName: Sendable {
    @usableFromInline let name: String?
    @usableFromInline let via: ViaName?

    init(name: String?, via: ViaName?) {
        self.name = name
        self.via = via
    }

    /// The box for `name` and `via`; `nil` when neither is set.
    static func make(name: String?, via: ViaName?) -> RequestedName? {
        name == nil && via == nil ? nil : RequestedName(name: name, via: via)
    }
}

extension RequestedName? {
    /// The name asked for, if any; setting it keeps `via`.
    var name: String? {
        get { self?.name }
        set { self = RequestedName.make(name: newValue, via: self?.via) }
    }

    /// The registry key asked for, if any; setting it keeps `name`.
    var via: ViaName? {
        get { self?.via }
        set { self = RequestedName.make(name: self?.name, via: newValue) }
    }
}
