/// The tables ``TOMLParser`` keeps open while it reads: a table that a later line may still add to (one made
/// by a header `[a]`, as the parent of one, or by a dotted key) stays mutable until the whole file is read.
///
/// Values that TOML makes complete as written — scalars, arrays, inline tables — are finished
/// ``ConfigNode``s from the start, stored in place in their table's ``ConfigTable``; an open table holds a
/// placeholder there, filled in (moved, not copied) when the file is read.
enum TOMLTree {
    /// One part of a dotted key, with where it was written (a line and column, without the file: a key's
    /// position is needed only for a message or a table a dotted key makes).
    struct KeyPart {
        var name: String
        var line: Int
        var column: Int
    }

    /// A value of a table, as the parser sees it.
    enum Value {
        /// Complete as written: a scalar, an array or an inline table (the only finished tables).
        case finished(ConfigNode)
        /// A table a later line may add to.
        case table(Table)
        /// `[[name]]` sections, in file order, located at the first.
        case tableArray(TableList)

        /// The TOML type name, for messages.
        var typeName: String {
            switch self {
            case .finished(let node): return node.typeName
            case .table: return "table"
            case .tableArray: return "array of tables"
            }
        }
    }

    /// How a table came to be, which decides what may still be added to it.
    enum Kind {
        /// Made as the parent of a header (`[a]` by `[a.b]`): a later `[a]` may still define it.
        case implicit
        /// Defined by its own header `[a]` (or `[[a]]`).
        case header
        /// Made by a dotted key (`a.b = 1`), or an inline table being read: further dotted keys may add to
        /// it. (A finished inline table is a ``Value/finished(_:)`` table, which nothing may extend.)
        case dotted
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

    /// A table that is still open, as its parent keeps it.
    enum Open {
        case table(Table)
        case tableArray(TableList)
    }

    /// A table being read: its keys in file order, finished values in place.
    final class Table {
        var kind: Kind
        var location: SourceLocation?
        /// The finished values, and a placeholder (an empty table or array) at each open child.
        private var table = ConfigTable()
        /// The open children by position in `table` (`nil` until the first; most tables have none).
        private var open: [Open?]?

        init(kind: Kind, location: SourceLocation?) {
            self.kind = kind
            self.location = location
        }

        /// A table that starts with the finished values of `finished`.
        init(kind: Kind, location: SourceLocation?, finished: ConfigTable) {
            self.kind = kind
            self.location = location
            self.table = finished
        }

        /// Whether the table has `key`.
        func contains(_ key: String) -> Bool {
            table.position(of: key) != nil
        }

        /// The value of `key`, if the table has it.
        subscript(key: String) -> Value? {
            lookUp(key).value
        }

        /// The value of `key`, if the table has it, and the look-up, to add `key` (with nothing added
        /// between) without hashing it again.
        func lookUp(_ key: String) -> (value: Value?, lookup: ConfigTable.Lookup) {
            let lookup = table.lookUp(key)
            guard let position = lookup.position else { return (nil, lookup) }
            if let open, position < open.count, let child = open[position] {
                switch child {
                case .table(let table): return (.table(table), lookup)
                case .tableArray(let list): return (.tableArray(list), lookup)
                }
            }
            return (.finished(table.value(at: position)), lookup)
        }

        /// Adds a finished value under a key the table does not have (the caller checked).
        func add(_ key: String, _ node: ConfigNode, after lookup: ConfigTable.Lookup? = nil) {
            table.append(newKey: key, node, after: lookup)
        }

        /// Adds an open table under a key the table does not have (the caller checked).
        func add(_ key: String, _ child: Table, after lookup: ConfigTable.Lookup? = nil) {
            addOpen(key, .table(child), placeholder: .table(ConfigTable(), child.location), after: lookup)
        }

        /// Adds `[[key]]` sections under a key the table does not have (the caller checked).
        func add(_ key: String, _ list: TableList, after lookup: ConfigTable.Lookup? = nil) {
            addOpen(key, .tableArray(list), placeholder: .array([], list.location), after: lookup)
        }

        private func addOpen(_ key: String, _ child: Open, placeholder: ConfigNode, after lookup: ConfigTable.Lookup?) {
            let position = table.count
            table.append(newKey: key, placeholder, after: lookup)
            if open == nil { open = [] }
            while open!.count < position { open!.append(nil) }
            open!.append(child)
        }

        /// The finished table: each open child finished and moved into its place. The table is empty after.
        func finish() -> ConfigTable {
            if let open {
                self.open = nil
                for (position, child) in open.enumerated() {
                    switch child {
                    case nil: continue
                    case .table(let table)?:
                        self.table.replaceValue(at: position, with: .table(table.finish(), table.location))
                    case .tableArray(let list)?:
                        var tables: [ConfigNode] = []
                        tables.reserveCapacity(list.tables.count)
                        for table in list.tables { tables.append(.table(table.finish(), table.location)) }
                        self.table.replaceValue(at: position, with: .array(tables, list.location))
                    }
                }
            }
            var finished = ConfigTable()
            swap(&finished, &table)
            return finished
        }
    }
}
