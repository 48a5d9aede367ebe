/// A bounded FIFO ring buffer: the storage behind every process mailbox and the scheduler's run queue.
///
/// The buffer is allocated lazily on the first push and grows by doubling up to the capacity limit, so an
/// idle process with an empty mailbox costs no buffer at all; `releaseStorage()` gives it back (used on
/// exit, and by `Node.hibernate` when the mailbox is empty). Elements are moved in and out, never copied, so a push and a pop cost
/// no reference counting of their own and, in steady state, no allocation.
///
/// Selective receive removes an element from the middle with `remove(at:)`, shifting the shorter side.
///
/// Thread: not thread-safe; a mailbox belongs to one process and is touched only on the loop thread.
@usableFromInline
struct RingBuffer<Element> {
    @usableFromInline var storage: UnsafeMutablePointer<Element>?
    @usableFromInline var head = 0
    @usableFromInline var count = 0
    @usableFromInline var allocated = 0
    /// The most elements the mailbox may hold; a push beyond it is refused.
    @usableFromInline var limit: Int

    @usableFromInline
    init(limit: Int) {
        self.limit = limit
    }

    @inlinable
    var isEmpty: Bool { count == 0 }
    /// Bytes of buffer currently allocated (for process info and memory estimates).
    var allocatedBytes: Int { allocated * MemoryLayout<Element>.stride }

    @inlinable @inline(__always)
    func slot(_ logical: Int) -> UnsafeMutablePointer<Element> {
        // `allocated` is a power of two.
        storage.unsafelyUnwrapped + ((head &+ logical) & (allocated &- 1))
    }

    /// Appends `element`; returns `false` (and leaves `element` unconsumed by the caller's accounting) when
    /// the mailbox is full.
    @inlinable @inline(__always)
    mutating func push(_ element: consuming Element) -> Bool {
        guard count < limit else { return false }
        if count == allocated { grow() }
        slot(count).initialize(to: element)
        count &+= 1
        return true
    }

    /// Appends `element` even beyond the limit (for notifications that must never be lost).
    @inlinable
    mutating func forcePush(_ element: consuming Element) {
        if count == allocated { grow() }
        slot(count).initialize(to: element)
        count &+= 1
    }

    /// Removes and returns the oldest element.
    @inlinable @inline(__always)
    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = slot(0).move()
        head = (head &+ 1) & (allocated &- 1)
        count &-= 1
        return element
    }

    /// Removes and returns the oldest element; the buffer must not be empty. Returns the element itself
    /// (not an optional), so a caller can move it on without a copy.
    @inlinable @inline(__always)
    mutating func removeFirst() -> Element {
        // Moved last, straight into the caller's destination (moving it first copied it through a temporary).
        let first = slot(0)
        head = (head &+ 1) & (allocated &- 1)
        count &-= 1
        return first.move()
    }

    /// The newest element, if any.
    @inlinable
    var last: Element? { count == 0 ? nil : slot(count &- 1).pointee }

    /// Removes the newest element; the buffer must not be empty.
    @inlinable
    mutating func removeLast() {
        count &-= 1
        slot(count).deinitialize(count: 1)
    }

    /// Removes and returns the element at `logical` position; the others keep their order.
    @inlinable
    mutating func remove(at logical: Int) -> Element {
        precondition(logical >= 0 && logical < count, "mailbox index out of range")
        if logical == 0 { return removeFirst() }
        let element = slot(logical).move()
        if logical < count / 2 {
            // Shift the older part one step towards the tail.
            var i = logical
            while i > 0 {
                slot(i).initialize(to: slot(i - 1).move())
                i -= 1
            }
            head = (head &+ 1) & (allocated &- 1)
        } else {
            var i = logical
            while i < count - 1 {
                slot(i).initialize(to: slot(i + 1).move())
                i += 1
            }
        }
        count -= 1
        return element
    }

    /// Removes every element for which `shouldRemove` is true; returns how many were removed.
    mutating func removeAll(where shouldRemove: (borrowing Element) -> Bool) -> Int {
        var removed = 0
        var i = 0
        while i < count {
            if shouldRemove(slot(i).pointee) {
                _ = remove(at: i)
                removed += 1
            } else {
                i += 1
            }
        }
        return removed
    }

    /// Destroys every element and frees the buffer.
    mutating func releaseStorage() {
        guard let storage else { return }
        while count > 0 { _ = popFirst() }
        storage.deallocate()
        self.storage = nil
        head = 0
        allocated = 0
    }

    @usableFromInline
    mutating func grow() {
        let newSize = allocated == 0 ? 4 : allocated * 2
        let newStorage = UnsafeMutablePointer<Element>.allocate(capacity: newSize)
        for i in 0..<count {
            (newStorage + i).initialize(to: slot(i).move())
        }
        storage?.deallocate()
        storage = newStorage
        head = 0
        allocated = newSize
    }
}
