/// The tree ``TOMLParser`` builds while it reads: tables stay mutable (and remember how they were
/// defined, which decides what TOML lets a later line add to them) until the whole file is read, then
/// become a ``ConfigTable``.
enum TOMLTree {
    /// One part of a dotted key, with where it was written.
    struct KeyPart {
        var name: String
        var location: SourceLocation
    }

    /// A value being read.
    enum Value {
        case scalar(ConfigNode)
        case array([Value], SourceLocation)
        case table(Table)
        /// `[[name]]` sections, in file order, located at the first.
        case tableArray(TableList)

        /// The TOML type name, for messages.
        var typeName: String {
            switch self {
            case .scalar(let node): return node.typeName
            case .array: return "array"
            case .table: return "table"
            case .tableArray: return "array of tables"
            }
        }

        /// The finished value.
        func node() -> ConfigNode {
            switch self {
            case .scalar(let node): return node
            case .array(let values, let location): return .array(values.map { $0.node() }, location)
            case .table(let table): return .table(table.configTable(), table.location)
            case .tableArray(let list):
                return .array(list.tables.map { .table($0.configTable(), $0.location) }, list.location)
            }
        }
    }

    /// How a table came to be, which decides what may still be added to it.
    enum Kind {
        /// Made as the parent of a header (`[a]` by `[a.b]`): a later `[a]` may still define it.
        case implicit
        /// Defined by its own header `[a]` (or `[[a]]`).
        case header
        /// Made by a dotted key (`a.b = 1`): further dotted keys may add to it.
        case dotted
        /// An inline table `{ … }`: complete as written.
        case inline
    }

    /// The tables of `[[name]]` sections (a class, so that each section appends in place).
    final class TableList {
        let location: SourceLocation
        private(set) var tables: [Table]

        init(_ first: Table, location: SourceLocation) {
            self.location = location
            tables = [first]
        }

        func append(_ table: Table) { tables.append(table) }
    }

    /// A table being read: its keys in file order.
    ///
    /// Keys and values are kept side by side in file order, so that the finished ``ConfigTable`` is made
    /// without looking each key up again; a dictionary finds a key once the table has more than
    /// ``ConfigTable/linearLimit`` keys (a process's tables have two or three, which a scan finds sooner).
    final class Table {
        var kind: Kind
        var location: SourceLocation?
        private(set) var keys: [String] = []
        private var entries: [Value] = []
        private var positions: [String: Int]?

        init(kind: Kind, location: SourceLocation?) {
            self.kind = kind
            self.location = location
        }

        private func position(of key: String) -> Int? {
            if let positions { return positions[key] }
            return keys.firstIndex(of: key)
        }

        /// The value of `key`, if the table has it.
        subscript(key: String) -> Value? {
            position(of: key).map { entries[$0] }
        }

        /// Adds or replaces `key` (a new key goes last).
        func set(_ key: String, _ value: Value) {
            if let position = position(of: key) {
                entries[position] = value
                return
            }
            keys.append(key)
            entries.append(value)
            if positions != nil {
                positions?[key] = keys.count - 1
            } else if keys.count > ConfigTable.linearLimit {
                var index: [String: Int] = [:]
                index.reserveCapacity(keys.count * 2)
                for (position, key) in keys.enumerated() { index[key] = position }
                positions = index
            }
        }

        /// Marks this inline table and the tables its dotted keys made as complete.
        func freeze() {
            kind = .inline
            for case .table(let table) in entries { table.freeze() }
        }

        /// The finished table.
        func configTable() -> ConfigTable {
            var finished: [(key: String, value: ConfigNode)] = []
            finished.reserveCapacity(keys.count)
            for (key, value) in zip(keys, entries) { finished.append((key, value.node())) }
            // The keys are unique (TOML refuses a key defined twice): the positions are the table's index.
            return ConfigTable(uniqueEntries: finished, index: positions)
        }
    }
}
