/// The positions of the keys of a large ``ConfigTable``, by key: an open-addressing hash table that keeps
/// each key's hash, so that growing it hashes no key again (a `[String: Int]` rehashes every key each time it
/// doubles, which for a table of 20,000 processes costs as much as filling it).
///
/// Keys are hashed with the standard library's seeded hasher (`String.hashValue`), so a hostile config cannot
/// choose colliding keys. The index holds positions only; the keys themselves stay in the table's entries,
/// which every look-up is given.
struct KeyIndex: Sendable {
    /// Each slot: a position in the entries plus one, or 0 when empty. A power of two long, at most half full.
    private var slots: [Int]
    /// The hash of the key at each position of the entries.
    private var hashes: [Int]

    /// Where a key is, or where it would go: found by ``find(_:in:)`` and given to ``insert(_:)``, so that a
    /// key looked up and then added is hashed once.
    struct Probe {
        var position: Int?
        fileprivate var hash: Int
        fileprivate var slot: Int
    }

    /// An index of `entries` (a key there twice: the first).
    init(_ entries: [(key: String, value: ConfigNode)]) {
        var capacity = 16
        while capacity < entries.count * 2 { capacity *= 2 }
        slots = Array(repeating: 0, count: capacity)
        hashes = []
        hashes.reserveCapacity(entries.count)
        for (position, entry) in entries.enumerated() {
            let probe = find(entry.key, in: entries)
            hashes.append(probe.hash)
            if probe.position == nil { slots[probe.slot] = position + 1 }
        }
    }

    /// The position of `key` in `entries` (the entries this index was made for), and where it would go.
    func find(_ key: String, in entries: [(key: String, value: ConfigNode)]) -> Probe {
        let hash = key.hashValue
        let mask = slots.count - 1
        var slot = hash & mask
        while true {
            let stored = slots[slot]
            if stored == 0 { return Probe(position: nil, hash: hash, slot: slot) }
            let position = stored - 1
            if hashes[position] == hash, entries[position].key == key { return Probe(position: position, hash: hash, slot: slot) }
            slot = (slot + 1) & mask
        }
    }

    /// Records the key `probe` was found missing for at `position` (the next position of the entries, which
    /// nothing changed since the probe).
    mutating func insert(_ probe: Probe, at position: Int) {
        precondition(probe.position == nil && position == hashes.count, "KeyIndex.insert: not a fresh probe of a new last key")
        hashes.append(probe.hash)
        if hashes.count * 2 > slots.count {
            grow()
        } else {
            slots[probe.slot] = position + 1
        }
    }

    /// Twice the slots, every position placed again by its kept hash, in order (a key there twice, which only
    /// ``init(_:)`` sees, is placed after its first along the probe sequence, so look-ups still find the first).
    private mutating func grow() {
        let capacity = slots.count * 2
        let mask = capacity - 1
        var grown = Array(repeating: 0, count: capacity)
        grown.withUnsafeMutableBufferPointer { grown in
            for (position, hash) in hashes.enumerated() {
                var slot = hash & mask
                while grown[slot] != 0 { slot = (slot + 1) & mask }
                grown[slot] = position + 1
            }
        }
        slots = grown
    }
}
