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
    final class Table {
        var kind: Kind
        var location: SourceLocation?
        private(set) var keys: [String] = []
        private(set) var values: [String: Value] = [:]

        init(kind: Kind, location: SourceLocation?) {
            self.kind = kind
            self.location = location
        }

        /// Adds or replaces `key` (a new key goes last).
        func set(_ key: String, _ value: Value) {
            if values.updateValue(value, forKey: key) == nil { keys.append(key) }
        }

        /// Marks this inline table and the tables its dotted keys made as complete.
        func freeze() {
            kind = .inline
            for key in keys {
                if case .table(let table)? = values[key] { table.freeze() }
            }
        }

        /// The finished table.
        func configTable() -> ConfigTable {
            ConfigTable(entries: keys.compactMap { key in values[key].map { (key, $0.node()) } })
        }
    }
}
