import Testing
@testable import OTP

/// The table of monitors processes of other loops hold on a loop's processes (`SiblingWatches`), on its
/// own: its own hash, so every lookup and removal is checked against what was inserted.
@Suite("Sibling watches: monitors held from other loops")
struct SiblingWatchesTests {
    @Test("A watch is removed once; removing it again, or one never made, finds nothing")
    func removeOnce() {
        let watches = SiblingWatches()
        let server = PID(node: 7, index: 3, serial: 1), caller = PID(node: 8, index: 5, serial: 2)
        #expect(watches.isEmpty)
        var found = watches.remove(caller, ref: Ref(rawValue: 1), on: server)
        #expect(!found)
        watches.insert(caller, ref: Ref(rawValue: 1), on: server)
        watches.insert(caller, ref: Ref(rawValue: 2), on: server)
        #expect(watches.count == 2)
        found = watches.remove(caller, ref: Ref(rawValue: 3), on: server)  // another reference
        #expect(!found)
        found = watches.remove(caller, ref: Ref(rawValue: 1), on: caller)  // another target
        #expect(!found)
        found = watches.remove(caller, ref: Ref(rawValue: 1), on: server)
        #expect(found)
        found = watches.remove(caller, ref: Ref(rawValue: 1), on: server)
        #expect(!found)
        #expect(watches.count == 1)
        let fired = watches.removeAll(on: server)
        #expect(fired.map(\.ref) == [Ref(rawValue: 2)])
        #expect(watches.isEmpty && watches.count == 0)
    }

    @Test("Many targets and watchers that differ in one field only: each found, removed and fired exactly")
    func manyKeys() {
        let watches = SiblingWatches()
        // Pids and references that differ in the node, the index or the serial alone, and sequential
        // references: keys a weak hash would put together.
        let targets = (0..<64).map { PID(node: 1, index: UInt32($0), serial: 0) }
        let watchers = (0..<16).flatMap { i in
            [PID(node: 2, index: UInt32(i), serial: 0), PID(node: 3, index: UInt32(i), serial: 0),
             PID(node: 2, index: UInt32(i), serial: 1)]
        }
        var ref: UInt64 = 0
        for target in targets {
            for watcher in watchers {
                ref += 1
                watches.insert(watcher, ref: Ref(rawValue: ref), on: target)
            }
        }
        #expect(watches.count == 64 * 48)
        // Every other watch removed, by its exact key.
        ref = 0
        var removed = 0
        for target in targets {
            for watcher in watchers {
                ref += 1
                if ref % 2 == 0 {
                    let found = watches.remove(watcher, ref: Ref(rawValue: ref), on: target)
                    #expect(found)
                    removed += 1
                }
            }
        }
        #expect(watches.count == 64 * 48 - removed)
        // A target's exit takes its own watches, sorted, and only them.
        let fired = watches.removeAll(on: targets[5])
        let again = watches.removeAll(on: targets[5])
        #expect(fired.count == 24 && fired == fired.sorted())
        #expect(fired.allSatisfy { $0.ref.rawValue % 2 == 1 && $0.ref.rawValue > 5 * 48 && $0.ref.rawValue <= 6 * 48 })
        #expect(again.isEmpty)
        #expect(watches.count == 64 * 24 - 24)
        #expect(watches.all.allSatisfy { $0.target != targets[5] })
    }

    @Test("Concurrent calls' watches hash apart: callers and references that count up together")
    func spread() {
        // A server called from another loop by caller i, whose call's monitor is slot i of its loop's table
        // (pid and reference both `serial << 32 | index`): sequential in step. Their hashes must differ,
        // in the low bits the table indexes by too.
        let server = PID(node: 1, index: 9, serial: 0)
        let keys = (0..<4_096).map { i in
            SiblingWatches.Watch(watcher: PID(node: 2, index: UInt32(i), serial: 1),
                                 ref: Ref(rawValue: 1 << 32 | UInt64(i)))
        }
        #expect(Set(keys.map { Mixed.hash($0, on: server) }).count == keys.count)
        let buckets = Set(keys.map { Mixed.hash($0, on: server) & 8_191 })  // 8,192 slots, half full
        #expect(buckets.count > 3_000)  // a uniform hash fills about 3,220; the keys' xor would fill 1
        // Targets that count up (a loop's processes) spread too.
        let targets = (0..<4_096).map { PID(node: 1, index: UInt32($0), serial: 0) }
        #expect(Set(targets.map { Mixed.hash($0) & 8_191 }).count > 3_000)
    }

    @Test("Watches come and go in every order, against a model: each found, removed and fired exactly once")
    func againstModel() {
        // Seeded, so a failure names its seed and replays. Few targets and watchers, so chains are long,
        // the tables grow and shrink their clusters, and removals shift indices back across the wrap.
        for seed in UInt64(1)...20 {
            var random = SplitMix64(seed: seed)
            let watches = SiblingWatches()
            var model: [PID: Set<SiblingWatches.Watch>] = [:]
            let targets = (0..<5).map { PID(node: 1, index: UInt32($0), serial: 0) }
            let watchers = (0..<7).map { PID(node: 2, index: UInt32($0), serial: 0) }
            for _ in 0..<3_000 {
                let target = targets[Int(random.next() % 5)]
                let watch = SiblingWatches.Watch(watcher: watchers[Int(random.next() % 7)],
                                                 ref: Ref(rawValue: random.next() % 40 + 1))
                switch random.next() % 10 {
                case 0..<5:
                    watches.insert(watch.watcher, ref: watch.ref, on: target)
                    model[target, default: []].insert(watch)
                case 5..<9:
                    let found = watches.remove(watch.watcher, ref: watch.ref, on: target)
                    let expected = model[target]?.remove(watch) != nil
                    #expect(found == expected, "seed \(seed)")
                default:
                    let fired = watches.removeAll(on: target)
                    #expect(fired == (model.removeValue(forKey: target) ?? []).sorted(), "seed \(seed)")
                }
                #expect(watches.count == model.values.reduce(0) { $0 + $1.count }, "seed \(seed)")
            }
            let held = Set(watches.all.map { "\($0.target) \($0.watch.watcher) \($0.watch.ref)" })
            let modelled = Set(model.flatMap { target, set in set.map { "\(target) \($0.watcher) \($0.ref)" } })
            #expect(held == modelled, "seed \(seed)")
        }
    }
}
