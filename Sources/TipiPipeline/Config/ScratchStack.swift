/// A stack of values being collected (the keys of a table, the elements of an array) until their count is
/// known, then moved out as an array of exactly that count: one allocation of the final size per table or
/// array, instead of a growing buffer (4, 8, 16, … elements) for each.
///
/// Collections nest (an array in an inline table in an array): each takes the elements above the count it
/// started at (``pop(from:)``). A class, so that one buffer serves a whole parse and a parser's methods can
/// share it; its elements are moved out, never copied (no retain and release of each).
final class ScratchStack<Element> {
    private var base: UnsafeMutablePointer<Element>
    private var capacity: Int
    /// The number of elements on the stack.
    private(set) var count = 0

    init(capacity: Int = 16) {
        self.capacity = max(capacity, 1)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    /// Pushes `element`.
    func push(_ element: __owned Element) {
        if count == capacity { grow() }
        (base + count).initialize(to: element)
        count += 1
    }

    /// The element at `position` (counted from the bottom of the stack).
    subscript(position: Int) -> Element {
        precondition(position >= 0 && position < count, "ScratchStack: position out of range")
        return base[position]
    }

    /// The elements from `start` (a count the stack had) to the top, moved into an array of their exact
    /// count; the stack then has `start` elements.
    func pop(from start: Int) -> [Element] {
        precondition(start >= 0 && start <= count, "ScratchStack.pop: start out of range")
        let taken = count - start
        guard taken > 0 else { return [] }
        let source = base + start
        count = start
        // A few elements (most tables and arrays of a config) go into an array literal: its buffer's type is
        // found through an accessor cached in this module, while `Array(unsafeUninitializedCapacity:)` asks
        // the runtime's metadata cache for it at each call (a locked hash look-up, about 30 ns).
        switch taken {
        case 1: return [source.move()]
        case 2: return [source.move(), (source + 1).move()]
        case 3: return [source.move(), (source + 1).move(), (source + 2).move()]
        case 4: return [source.move(), (source + 1).move(), (source + 2).move(), (source + 3).move()]
        default: break
        }
        return Array(unsafeUninitializedCapacity: taken) { buffer, initialized in
            buffer.baseAddress!.moveInitialize(from: source, count: taken)
            initialized = taken
        }
    }

    private func grow() {
        let grown = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        grown.moveInitialize(from: base, count: count)
        base.deallocate()
        base = grown
        capacity *= 2
    }
}

extension ScratchStack where Element == (key: String, value: ConfigNode) {
    /// The position of the first entry from `start` on whose key is `key` (a scan: the caller keeps a segment
    /// to at most ``TOMLTree/collectLimit`` entries).
    func position(of key: String, from start: Int) -> Int? {
        var position = start
        while position < count {
            if base[position].key == key { return position }
            position += 1
        }
        return nil
    }

    /// The value of the entry at `position`.
    func value(at position: Int) -> ConfigNode {
        precondition(position >= 0 && position < count, "ScratchStack: position out of range")
        return base[position].value
    }
}
