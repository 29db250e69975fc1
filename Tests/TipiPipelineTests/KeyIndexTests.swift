import Testing

@testable import TipiPipeline

/// ``ConfigTable``'s index of a large table (``KeyIndex``) must find every key where a scan of the entries
/// finds it — the first of a key there twice — through appends that grow it, look-ups kept for an append,
/// replaced values, removals and whole new entries.
@Suite("Config table index")
struct KeyIndexTests {
    /// A scan of the entries: what the index must answer.
    func scanned(_ table: ConfigTable, _ key: String) -> Int? {
        table.entries.firstIndex { $0.key == key }
    }

    func check(_ table: ConfigTable, keys: [String], _ comment: Comment) {
        for key in keys {
            #expect(table.position(of: key) == scanned(table, key), comment)
            #expect(table.lookUp(key).position == scanned(table, key), comment)
            #expect(table[key] == scanned(table, key).map { table.entries[$0].value }, comment)
        }
    }

    @Test("random appends, look-ups, replacements and removals agree with a scan")
    func randomOperations() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<40 {
            let universe = (0..<Int.random(in: 1...400, using: &generator)).map { "k\($0)" } + ["", "é", "a.b", "\u{0}"]
            // Start from entries that may repeat a key (the index keeps the first).
            var table = ConfigTable(entries: (0..<Int.random(in: 0...30, using: &generator)).map { _ in
                (universe.randomElement(using: &generator)!, ConfigNode.int(Int.random(in: 0...9, using: &generator), nil))
            })
            for step in 0..<600 {
                let key = universe.randomElement(using: &generator)!
                switch Int.random(in: 0..<10, using: &generator) {
                case 0..<5:
                    // Look up, then append the key when missing, with or without the look-up.
                    let lookup = table.lookUp(key)
                    if lookup.position == nil {
                        table.append(newKey: key, .int(step, nil), after: Bool.random(using: &generator) ? lookup : nil)
                    }
                case 5..<7:
                    table[key] = .int(-step, nil)
                case 7:
                    table[key] = nil
                case 8:
                    if step % 50 == 0 { table.entries = table.entries.shuffled(using: &generator) }
                default:
                    break
                }
                if step % 37 == 0 { check(table, keys: universe, "round \(round), step \(step)") }
            }
            check(table, keys: universe + ["absent", "k-1"], "round \(round), end")
        }
    }

    @Test("a table of 20,000 keys finds each one, and not a missing one")
    func largeTable() {
        var table = ConfigTable()
        for position in 0..<20_000 {
            let lookup = table.lookUp("p\(position)")
            #expect(lookup.position == nil)
            table.append(newKey: "p\(position)", .int(position, nil), after: lookup)
        }
        for position in stride(from: 0, to: 20_000, by: 7) { #expect(table.position(of: "p\(position)") == position) }
        #expect(table.position(of: "p20000") == nil)
        #expect(table.count == 20_000)
    }
}
