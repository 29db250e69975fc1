/// The positions of the keys of a large ``ConfigTable``, by key: an open-addressing hash table that keeps
/// each key's hash, so that growing it hashes no key again (a `[String: Int]` rehashes every key each time it
/// doubles, which for a table of 20,000 processes costs as much as filling it).
///
/// Keys are hashed with the standard library's seeded hasher (`String.hashValue`), so a hostile config cannot
/// choose colliding keys. The index holds positions only; the keys themselves stay in the table's entries,
/// which every look-up is given.
struct KeyIndex: Sendable {
    /// Slot `i` is `slots[2i]`, a position in the entries plus one (0: empty), and `slots[2i + 1]`, the hash
    /// of its key. A power of two slots, at most half full. One buffer, so that a table (and every
    /// ``ConfigNode``) stays as small as with no index.
    private var slots: [Int]

    /// Where a key is, or where it would go: found by ``find(_:in:)`` and given to ``insert(_:at:)``, so that
    /// a key looked up and then added is hashed once.
    struct Probe {
        var position: Int?
        fileprivate var hash: Int
        fileprivate var slot: Int
    }

    /// An index of `entries` (a key there twice: the first).
    init(_ entries: [(key: String, value: ConfigNode)]) {
        var capacity = 16
        while capacity < entries.count * 2 { capacity *= 2 }
        slots = Array(repeating: 0, count: capacity * 2)
        for (position, entry) in entries.enumerated() {
            let probe = find(entry.key, in: entries)
            if probe.position == nil { place(probe, at: position) }
        }
    }

    /// The position of `key` in `entries` (the entries this index was made for), and where it would go.
    func find(_ key: String, in entries: [(key: String, value: ConfigNode)]) -> Probe {
        let hash = key.hashValue
        let mask = slots.count / 2 - 1
        var slot = hash & mask
        while true {
            let stored = slots[2 * slot]
            if stored == 0 { return Probe(position: nil, hash: hash, slot: slot) }
            if slots[2 * slot + 1] == hash, entries[stored - 1].key == key { return Probe(position: stored - 1, hash: hash, slot: slot) }
            slot = (slot + 1) & mask
        }
    }

    /// Records the key `probe` was found missing for at `position`, the new last position of the entries
    /// (nothing else changed since the probe).
    mutating func insert(_ probe: Probe, at position: Int) {
        precondition(probe.position == nil && slots[2 * probe.slot] == 0, "KeyIndex.insert: not a fresh probe")
        place(probe, at: position)
        if (position + 1) * 4 > slots.count { grow() }
    }

    private mutating func place(_ probe: Probe, at position: Int) {
        slots[2 * probe.slot] = position + 1
        slots[2 * probe.slot + 1] = probe.hash
    }

    /// Twice the slots, each key placed again by its kept hash (the index holds each key once: ``init(_:)``
    /// indexes the first of a key there twice, ``insert(_:at:)`` only missing keys).
    private mutating func grow() {
        let capacity = slots.count  // twice the old number of slots
        let mask = capacity - 1
        var grown = Array(repeating: 0, count: capacity * 2)
        grown.withUnsafeMutableBufferPointer { grown in
            slots.withUnsafeBufferPointer { slots in
                for old in 0..<(slots.count / 2) where slots[2 * old] != 0 {
                    let hash = slots[2 * old + 1]
                    var slot = hash & mask
                    while grown[2 * slot] != 0 { slot = (slot + 1) & mask }
                    grown[2 * slot] = slots[2 * old]
                    grown[2 * slot + 1] = hash
                }
            }
        }
        slots = grown
    }
}
