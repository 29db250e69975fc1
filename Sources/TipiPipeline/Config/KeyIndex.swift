/// The positions of the keys of a large ``ConfigTable``, by key: an open-addressing hash table that keeps
/// (part of) each key's hash, so that growing it hashes no key again (a `[String: Int]` rehashes every key
/// each time it doubles, which for a table of 20,000 processes costs as much as filling it).
///
/// Keys are hashed with the standard library's seeded hasher (`String.hashValue`), so a hostile config cannot
/// choose colliding keys. The index holds positions only; the keys themselves stay in the table's entries,
/// which every look-up is given.
struct KeyIndex: Sendable {
    /// Slot `i` is `slots[i]`: a position in the entries plus one in the low 32 bits (0: empty), and the low
    /// 32 bits of its key's hash in the high ones (which place the key: a table has at most 2³¹ slots). A
    /// power of two slots, at most half full; 8 bytes a slot, one buffer, so that a table (and every
    /// ``ConfigNode``) stays as small as with no index.
    private var slots: [UInt64]

    /// Where a key is, or where it would go: found by ``find(_:in:)`` and given to ``insert(_:at:)``, so that
    /// a key looked up and then added is hashed once.
    struct Probe {
        var position: Int?
        fileprivate var hash: UInt32
        fileprivate var slot: Int
    }

    /// An index of `entries` (a key there twice: the first).
    init(_ entries: [(key: String, value: ConfigNode)]) {
        var capacity = 16
        while capacity < entries.count * 2 { capacity *= 2 }
        slots = Array(repeating: 0, count: capacity)
        for (position, entry) in entries.enumerated() {
            let probe = find(entry.key, in: entries)
            if probe.position == nil { place(probe, at: position) }
        }
    }

    /// The position of `key` in `entries` (the entries this index was made for), and where it would go.
    func find(_ key: String, in entries: [(key: String, value: ConfigNode)]) -> Probe {
        let hash = UInt32(truncatingIfNeeded: key.hashValue)
        let mask = slots.count - 1
        var slot = Int(hash) & mask
        while true {
            let stored = slots[slot]
            if stored == 0 { return Probe(position: nil, hash: hash, slot: slot) }
            if UInt32(truncatingIfNeeded: stored >> 32) == hash {
                let position = Int(UInt32(truncatingIfNeeded: stored)) - 1
                if entries[position].key == key { return Probe(position: position, hash: hash, slot: slot) }
            }
            slot = (slot + 1) & mask
        }
    }

    /// Records the key `probe` was found missing for at `position`, the new last position of the entries
    /// (nothing else changed since the probe).
    mutating func insert(_ probe: Probe, at position: Int) {
        precondition(probe.position == nil && slots[probe.slot] == 0, "KeyIndex.insert: not a fresh probe")
        place(probe, at: position)
        if (position + 1) * 2 > slots.count { grow() }
    }

    private mutating func place(_ probe: Probe, at position: Int) {
        precondition(position < Int(UInt32.max), "KeyIndex: more than 2³² − 2 keys")
        slots[probe.slot] = UInt64(probe.hash) << 32 | UInt64(position + 1)
    }

    /// Room for `count` keys without growing (at most half the slots full).
    mutating func reserve(_ count: Int) {
        while count * 2 > slots.count { grow() }
    }

    /// Twice the slots, each key placed again by its kept hash (the index holds each key once: ``init(_:)``
    /// indexes the first of a key there twice, ``insert(_:at:)`` only missing keys).
    private mutating func grow() {
        let capacity = slots.count * 2
        precondition(capacity <= 1 << 32, "KeyIndex: more than 2³¹ keys")
        let mask = capacity - 1
        var grown = [UInt64](repeating: 0, count: capacity)
        grown.withUnsafeMutableBufferPointer { grown in
            slots.withUnsafeBufferPointer { slots in
                for stored in slots where stored != 0 {
                    var slot = Int(stored >> 32) & mask
                    while grown[slot] != 0 { slot = (slot + 1) & mask }
                    grown[slot] = stored
                }
            }
        }
        slots = grown
    }
}
