import Testing
@testable import OTP

/// The node's cross-thread queue on its own: when it wakes the loop, and which buffer it reuses.
@Suite("The inbox")
struct InboxTests {
    @Test("Only the post that finds the inbox empty wakes the loop; the next post after a take wakes it again")
    func wakesOncePerDrain() {
        let inbox = Inbox()
        let wakes = Log<Int>()
        inbox.setWake { wakes.append(1) }
        let ran = Log<Int>()
        for i in 0..<5 { #expect(inbox.post(Inbox.Job(run: { _ in ran.append(i) }, cancel: nil))) }
        #expect(wakes.entries.count == 1)
        let node = Node(configuration: NodeConfiguration(clock: .manual, report: { _ in }, logger: quietLogger))
        inbox.drain { job in job.run(node) }
        #expect(ran.entries == [0, 1, 2, 3, 4])
        #expect(inbox.post(Inbox.Job(run: { _ in ran.append(5) }, cancel: nil)))
        #expect(wakes.entries.count == 2)
        inbox.drain { job in job.run(node) }
        #expect(ran.entries == [0, 1, 2, 3, 4, 5])
        _ = inbox.close()
        #expect(!inbox.post(Inbox.Job(run: { _ in }, cancel: nil)))
        #expect(wakes.entries.count == 2)
    }

    @Test("Jobs posted before the wake-up was set wake the loop when it is set")
    func wakeSetLate() {
        let inbox = Inbox()
        #expect(inbox.post(Inbox.Job(run: { _ in }, cancel: nil)))
        let wakes = Log<Int>()
        inbox.setWake { wakes.append(1) }
        #expect(wakes.entries.count == 1)
        let empty = Inbox()
        empty.setWake { wakes.append(2) }
        #expect(wakes.entries == [1])
    }

    @Test("A drained buffer is the next queue, unless a burst made it larger than the cap")
    func recyclesItsBuffer() {
        let inbox = Inbox()
        var count = 0
        for _ in 0..<100 { _ = inbox.post(Inbox.Job(run: { _ in }, cancel: nil)) }
        #expect(inbox.spareCapacity == 0)
        inbox.drain { _ in count += 1 }
        let capacity = inbox.spareCapacity
        #expect(count == 100 && capacity >= 100)
        // That buffer is the queue after the next drain, and comes back from the drain after: two buffers
        // take turns.
        _ = inbox.post(Inbox.Job(run: { _ in }, cancel: nil))
        inbox.drain { _ in count += 1 }
        #expect(count == 101 && inbox.spareCapacity < capacity)
        _ = inbox.post(Inbox.Job(run: { _ in }, cancel: nil))
        inbox.drain { _ in count += 1 }
        #expect(count == 102 && inbox.spareCapacity == capacity)
        for _ in 0...Inbox.recycledCapacity { _ = inbox.post(Inbox.Job(run: { _ in }, cancel: nil)) }
        inbox.drain { _ in count += 1 }
        #expect(count == 103 + Inbox.recycledCapacity)
        #expect(inbox.spareCapacity == 0)
    }
}
