/// Records, per table path, the keys a table has and the keys a decoded type asked for, so that unknown keys
/// can be reported with a near-miss suggestion.
///
/// A process's params are one or two tables, so the tables are kept in a list, searched from the last one
/// (the one being decoded); beyond ``indexedAbove`` tables a dictionary by path finds them. A table's
/// container holds its ``Record`` and records each key asked for there directly. One tracker serves one
/// decoding at a time, on one thread; ``reset()`` readies it for the next (the pipeline builder decodes
/// every process with one tracker, reusing its records).
final class KeyTracker {
    /// One table: the keys it has and the keys asked for there.
    final class Record {
        fileprivate(set) var path: [String]
        /// The table (`nil` until the decoder visited it).
        fileprivate(set) var table: ConfigTable?
        /// The keys asked for, in the order first asked (a set finds them once there are more than ``setAbove``).
        private var asked: [String] = []
        private var askedSet: Set<String>?

        static let setAbove = 12

        init(path: [String]) { self.path = path }

        /// Records that `key` was asked for.
        func ask(_ key: String) {
            if askedSet != nil {
                if askedSet!.insert(key).inserted { asked.append(key) }
                return
            }
            if asked.contains(key) { return }
            asked.append(key)
            if asked.count > Self.setAbove { askedSet = Set(asked) }
        }

        /// Whether `key` was asked for.
        func wasAsked(_ key: String) -> Bool {
            askedSet?.contains(key) ?? asked.contains(key)
        }

        /// The keys asked for, sorted.
        var sortedAsked: [String] { asked.sorted() }

        /// The record, emptied, for the table at `path`.
        fileprivate func reuse(for path: [String]) {
            self.path = path
            table = nil
            asked.removeAll(keepingCapacity: true)
            askedSet = nil
        }
    }

    private static let indexedAbove = 8
    /// The records in use (the first `used`), then records kept for reuse.
    private var records: [Record] = []
    private var used = 0
    private var positions: [[String]: Int] = [:]

    /// The records in use.
    private var tables: ArraySlice<Record> { records[..<used] }

    /// Forgets every table, to track another decoding.
    func reset() {
        used = 0
        if !positions.isEmpty { positions = [:] }
    }

    /// The record of the table at `path`, added when new.
    func record(_ path: [String]) -> Record {
        if used <= Self.indexedAbove {
            var position = used - 1
            while position >= 0 {
                if records[position].path == path { return records[position] }
                position -= 1
            }
        } else if let position = positions[path] {
            return records[position]
        }
        // A kept record is reused unless something still holds it (a container kept by a decoded value).
        if used < records.count, isKnownUniquelyReferenced(&records[used]) {
            records[used].reuse(for: path)
        } else if used < records.count {
            records[used] = Record(path: path)
        } else {
            records.append(Record(path: path))
        }
        used += 1
        if used > Self.indexedAbove {
            if positions.isEmpty {
                for (position, table) in tables.enumerated() where positions[table.path] == nil { positions[table.path] = position }
            } else {
                positions[path] = used - 1
            }
        }
        return records[used - 1]
    }

    /// Records the keys of the table at `path`; answers where to record the keys asked for there.
    func visit(_ path: [String], table: ConfigTable) -> Record {
        let record = self.record(path)
        record.table = table
        return record
    }

    /// Records that `key` was asked for in the table at `path`.
    func access(_ path: [String], _ key: String) {
        record(path).ask(key)
    }

    /// The keys asked for in the table at `path` (present or not: a default's key too), sorted.
    func asked(_ path: [String]) -> [String] {
        tables.first { $0.path == path }?.sortedAsked ?? []
    }

    /// Keys present but never asked for: (table path, key, the keys that were asked for there).
    func unknownKeys() -> [(path: [String], key: String, known: [String])] {
        // Usually every key was asked for: found without sorting or copying anything.
        let hasUnknown = tables.contains { record in
            record.table?.entries.contains { !record.wasAsked($0.key) } ?? false
        }
        guard hasUnknown else { return [] }
        var result: [(path: [String], key: String, known: [String])] = []
        var visited = tables.filter { $0.table != nil }
        if visited.count > 1 { visited.sort { $0.path.joined(separator: ".") < $1.path.joined(separator: ".") } }
        for record in visited {
            for (key, _) in record.table?.entries ?? [] where !record.wasAsked(key) {
                result.append((record.path, key, record.sortedAsked))
            }
        }
        return result
    }
}
