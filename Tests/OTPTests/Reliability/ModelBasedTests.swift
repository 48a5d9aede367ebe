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
    static let sequences = ProcessInfo.processInfo.environment["OTP_PROPERTY_SEQUENCES"].flatMap(Int.init) ?? 3_000

    @Test("the runtime behaves as the reference model over random step sequences")
    func runtimeMatchesModel() async {
        await propertyCheck(count: Self.sequences, input: Step.scenario()) { steps in
            let actual = RuntimeDriver().run(steps)
            let expected = ReferenceModel().run(steps)
            #expect(actual == expected, "steps: \(steps)\nruntime:\n\(actual)\nmodel:\n\(expected)")
        }
    }

    @Test("every call in a scenario ends exactly once")
    func everyCallEndsOnce() async {
        await propertyCheck(count: Self.sequences / 3, input: Step.scenario(steps: 10...60)) { steps in
            let observation = RuntimeDriver().run(steps)
            for (index, outcomes) in observation.calls {
                #expect(outcomes.count == 1, "call \(index): \(outcomes) in \(steps)")
            }
        }
    }
}
