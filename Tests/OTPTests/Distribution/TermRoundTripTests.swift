import PropertyBased
import Testing
@testable import OTP

/// The External Term Format against Erlang's own `term_to_binary`/`binary_to_term`, both directions.
@Suite("Term round trip against Erlang", .serialized)
struct TermRoundTripTests {
    @Test("Terms Erlang encodes decode in Swift and re-encode to the same bytes")
    func erlangToSwift() async throws {
        let (peer, node) = try await connectedPair("terms_peer", "swift_terms")
        defer { stop(peer, node) }
        var checked = 0
        for seed in 1...5 {
            let answer = try await command(node, peer, .tuple([.atom("random_terms"), .integer(seed), .integer(200)]))
            guard case .list(let pairs) = answer else {
                Issue.record("random_terms answered \(answer)")
                return
            }
            for pair in pairs {
                guard case .tuple(let e) = pair, e.count == 2, case .binary(let bytes) = e[1] else { continue }
                let decoded = try ExternalTermFormat.decode(bytes)
                #expect(decoded == e[0], "seed \(seed): \(bytes)")
                #expect(ExternalTermFormat.encode(decoded) == bytes, "seed \(seed): \(decoded)")
                checked += 1
            }
        }
        #expect(checked == 1000)
    }

    @Test("Terms Swift encodes decode in Erlang to the term sent, and Erlang re-encodes them to the same bytes")
    func swiftToErlang() async throws {
        let (peer, node) = try await connectedPair("terms_back_peer", "swift_terms_back")
        defer { stop(peer, node) }
        await propertyCheck(count: 40, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            var generator = TermGenerator(seed: UInt64(seed), withMaps: seed % 2 == 0)
            let terms = (0..<25).map { _ in generator.term() }
            let pairs = terms.map { Term.tuple([.binary(ExternalTermFormat.encode($0)), $0]) }
            guard let answer = try? await command(node, peer, .tuple([.atom("check_all"), .list(pairs)])),
                  case .list(let results) = answer, results.count == terms.count else {
                Issue.record("check_all failed for seed \(seed)")
                return
            }
            for (term, result) in zip(terms, results) {
                guard case .tuple(let e) = result, e.count == 2, case .binary(let reencoded) = e[1] else { continue }
                #expect(e[0] == .true, "Erlang decoded something else for \(term)")
                if !generator.withMaps {
                    #expect(reencoded == ExternalTermFormat.encode(term), "bytes differ for \(term)")
                }
            }
        }
    }
}
