import Foundation
import PropertyBased
import Testing
@testable import OTP

/// Random step sequences run against the real runtime (deterministic node, manual clock) and against
/// `ReferenceModel`; what each actor received (per sender, in order), exit reasons, call outcomes, step
/// results, the registry, the alive set and the count of messages dropped at dead pids must agree.
/// A failure prints its seed (`.fixedSeed(...)` replays it) and the sequence shrunk to a minimal one.
/// `OTP_PROPERTY_SEQUENCES` sets how many sequences run (`make soak` runs far more).
@Suite("Model-based properties")
struct ModelBasedTests {
    static let sequences = ProcessInfo.processInfo.environment["OTP_PROPERTY_SEQUENCES"].flatMap(Int.init) ?? 5_000

    @Test("the runtime behaves as the reference model over random step sequences")
    func runtimeMatchesModel() async {
        let totals = Totals()
        await propertyCheck(count: Self.sequences, input: Op.scenario()) { steps in
            let actual = RuntimeDriver().run(steps)
            let expected = ReferenceModel().run(steps)
            #expect(actual == expected, "steps: \(steps)\nruntime:\n\(actual)\nmodel:\n\(expected)")
            totals.add(steps, actual)
        }
        print("model-based: \(totals)")
    }

    @Test("every call in a scenario ends exactly once")
    func everyCallEndsOnce() async {
        await propertyCheck(count: Self.sequences / 3, input: Op.scenario(steps: 10...60)) { steps in
            let observation = RuntimeDriver().run(steps)
            for (index, outcomes) in observation.calls {
                #expect(outcomes.count == 1, "call \(index): \(outcomes) in \(steps)")
            }
        }
    }
}

/// What the sequences exercised, for docs/reliability.md.
final class Totals: @unchecked Sendable, CustomStringConvertible {
    private let lock = NSLock()
    private var sequences = 0, steps = 0, entries = 0, exits = 0, calls = 0
    private var kinds: [String: Int] = [:]

    func add(_ steps: [Op], _ observation: Observation) {
        lock.withLock {
            sequences += 1
            self.steps += steps.count
            exits += observation.exits.count
            calls += observation.calls.count
            for entry in observation.logs.values.flatMap(\.values).joined() {
                entries += 1
                kinds[String("\(entry)".prefix { $0.isLetter }), default: 0] += 1
            }
            for outcome in observation.calls.values.joined() {
                kinds["call " + String(outcome.prefix { $0.isLetter }), default: 0] += 1
            }
        }
    }

    var description: String {
        lock.withLock {
            "\(sequences) sequences, \(steps) steps, \(entries) received entries, \(exits) exits, \(calls) calls; "
                + kinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
    }
}
