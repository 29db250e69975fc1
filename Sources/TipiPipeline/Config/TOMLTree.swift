/// The tables ``TOMLParser`` keeps open while it reads: a table that a later line may still add to (one made
/// by a header `[a]`, as the parent of one, or by a dotted key) stays mutable until the whole file is read.
///
/// Values that TOML makes complete as written — scalars, arrays, inline tables — are finished
/// ``ConfigNode``s from the start, stored in place in their table's ``ConfigTable``; an open table holds a
/// placeholder there, filled in (moved, not copied) when the file is read.
///
/// The open tables are values in one array (``TableID`` is a position there), not an object each: a config
/// of 20,000 `[processes.x]` sections makes no object per section. The keys of the table of the last
/// header (while it is small and had no keys before) are collected on a scratch stack and stored at their
/// exact count when the next header starts, so that such a table is one allocation of its final size.
struct TOMLTree {
    /// One part of a dotted key, with where it was written (a line and column, without the file: a key's
    /// position is needed only for a message or a table a dotted key makes).
    struct KeyPart {
        var name: String
        var line: Int
        var column: Int
    }

    /// An open table: its position in the tree's tables.
    struct TableID: Equatable {
        fileprivate var position: Int
    }

    /// The `[[name]]` sections of one name: its position in the tree's lists.
    struct ListID: Equatable {
        fileprivate var position: Int
    }

    /// A value of a table, as the parser sees it.
    enum Value {
        /// Complete as written: a scalar, an array or an inline table (the only finished tables).
        case finished(ConfigNode)
        /// A table a later line may add to.
        case table(TableID)
        /// `[[name]]` sections, in file order, located at the first.
        case tableArray(ListID)

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

    /// A table being read: its keys in file order, finished values in place.
    private struct Table {
        var kind: Kind
        var location: SourceLocation?
        /// The finished values, and a placeholder (an empty table or array) at each open child.
        var table: ConfigTable
        /// The open child at each position of `table` (0: none; `n > 0`: table `n - 1`; `n < 0`: list
        /// `-n - 1`), up to the last open child (empty, without a buffer, for most tables).
        var open: [Int] = []
    }

    /// The tables of the `[[name]]` sections of one name, in file order.
    private struct List {
        var location: SourceLocation
        var tables: [TableID]
    }

    private var tables: [Table] = []
    private var lists: [List] = []
    /// The table whose keys are on ``entries`` (from its bottom), if any: the table of the last header while
    /// it had no keys of its own before and has at most ``collectLimit``.
    private var current: TableID?
    /// The keys of ``current``, and above them those of the inline tables being read (see ``entries``).
    let entries = ScratchStack<(key: String, value: ConfigNode)>()

    /// The most keys a table collects on the scratch stack, each looked up by a scan (a few string
    /// comparisons cost less than hashing): a table with more goes into its own ``ConfigTable``, indexed.
    static let collectLimit = 32

    /// The document's table, which collects the keys before the first header.
    static let root = TableID(position: 0)

    /// The table headers (`[…]` and `[[…]]` lines) not read yet, about: a table that many headers add to
    /// takes room for them at once (see ``addOpen(_:code:placeholder:to:after:)``).
    var headersLeft = 0

    /// A table given children by this many headers takes room for all of ``headersLeft`` (at most one
    /// slot per header line of the file), instead of growing step by step (each step copies the table
    /// and touches fresh pages). Only the first such table (``tookRoomForHeaders``): room taken and never
    /// used stays within one slot per header line, whatever the file (many tables of 64 headers each grow
    /// step by step).
    static let manyChildren = 64
    private var tookRoomForHeaders = false

    /// `headers`: how many header lines the text has, at most (room for their tables is taken at once).
    init(headers: Int = 0) {
        headersLeft = headers
        tables.reserveCapacity(max(16, headers + 1))
        tables.append(Table(kind: .implicit, location: nil, table: ConfigTable()))
        current = Self.root
    }

    /// A new open table (added to no table yet).
    mutating func makeTable(kind: Kind, location: SourceLocation?, finished: ConfigTable = ConfigTable()) -> TableID {
        tables.append(Table(kind: kind, location: location, table: finished))
        return TableID(position: tables.count - 1)
    }

    func kind(of id: TableID) -> Kind { tables[id.position].kind }

    /// Marks an implicit table as defined by its own header at `location`.
    mutating func define(_ id: TableID, at location: SourceLocation) {
        tables[id.position].kind = .header
        tables[id.position].location = location
    }

    /// The last table of `list`.
    func last(of list: ListID) -> TableID? { lists[list.position].tables.last }

    /// Appends a `[[name]]` section's table to `list`.
    mutating func append(_ table: TableID, to list: ListID) {
        lists[list.position].tables.append(table)
    }

    // MARK: - The table of the last header

    /// Makes `id` the table the following keys go to: collected on the scratch stack if it has no keys yet.
    /// The keys of the table before are stored first (``closeCurrent()``).
    mutating func begin(_ id: TableID) {
        closeCurrent()
        if tables[id.position].table.count == 0 { current = id }
    }

    /// Stores the keys of the table of the last header (at their exact count) and ends its collection.
    mutating func closeCurrent() {
        guard let id = current else { return }
        current = nil
        precondition(tables[id.position].table.count == 0, "TOMLTree: the collected table has keys of its own")
        tables[id.position].table = ConfigTable(entries: entries.pop(from: 0))
    }

    // MARK: - Reading and adding keys

    /// The value of `key` in `id`, if the table has it, and the look-up, to add `key` (with nothing added
    /// between) without hashing it again.
    func lookUp(_ key: String, in id: TableID) -> (value: Value?, lookup: ConfigTable.Lookup) {
        // The table is read in place (through the buffer: `tables[i].table` would copy it, a retain and a
        // release of its storage).
        tables.withUnsafeBufferPointer { tables in
            let position: Int
            let lookup: ConfigTable.Lookup
            if id == current {
                guard let found = entries.position(of: key, from: 0) else { return (nil, ConfigTable.Lookup(position: nil)) }
                position = found
                lookup = ConfigTable.Lookup(position: found)
            } else {
                lookup = tables[id.position].table.lookUp(key)
                guard let found = lookup.position else { return (nil, lookup) }
                position = found
            }
            let code = position < tables[id.position].open.count ? tables[id.position].open[position] : 0
            if code != 0 {
                return (code > 0 ? .table(TableID(position: code - 1)) : .tableArray(ListID(position: -code - 1)), lookup)
            }
            return (.finished(id == current ? entries.value(at: position) : tables[id.position].table.value(at: position)), lookup)
        }
    }

    /// Adds a finished value under a key the table does not have (the caller checked).
    mutating func add(_ key: String, _ node: ConfigNode, to id: TableID, after lookup: ConfigTable.Lookup? = nil) {
        if id == current {
            if entries.count < Self.collectLimit {
                entries.push((key, node))
                return
            }
            // A large table: indexed from now on, in its own storage.
            current = nil
            tables[id.position].table = ConfigTable(entries: entries.pop(from: 0))
            tables[id.position].table.append(newKey: key, node)
            return
        }
        tables[id.position].table.append(newKey: key, node, after: lookup)
    }

    /// Adds an open table under a key `id` does not have (the caller checked).
    mutating func add(_ key: String, _ child: TableID, to id: TableID, after lookup: ConfigTable.Lookup? = nil) {
        addOpen(key, code: child.position + 1, placeholder: .table(ConfigTable(), nil), to: id, after: lookup)
    }

    /// Adds `[[key]]` sections, starting with `first`, under a key `id` does not have (the caller checked).
    mutating func addList(_ key: String, first: TableID, location: SourceLocation, to id: TableID, after lookup: ConfigTable.Lookup? = nil) {
        lists.append(List(location: location, tables: [first]))
        addOpen(key, code: -lists.count, placeholder: .array([], nil), to: id, after: lookup)
    }

    /// Adds `placeholder` (an empty table or array without a location: never read, replaced by ``finish(_:)``)
    /// under `key`, for the open child `code`.
    private mutating func addOpen(_ key: String, code: Int, placeholder: ConfigNode, to id: TableID, after lookup: ConfigTable.Lookup?) {
        var lookup = lookup
        if !tookRoomForHeaders, id != current, tables[id.position].table.count >= Self.manyChildren,
            tables[id.position].table.count == tables[id.position].table.capacity, headersLeft > 0
        {
            tookRoomForHeaders = true
            let wanted = tables[id.position].table.count + headersLeft + 1
            tables[id.position].table.reserveCapacity(wanted)
            tables[id.position].open.reserveCapacity(wanted)
            lookup = nil  // the index was rebuilt: look the key up again
        }
        add(key, placeholder, to: id, after: lookup)
        let position = (id == current ? entries.count : tables[id.position].table.count) - 1
        if tables[id.position].open.count < position {
            tables[id.position].open.append(contentsOf: repeatElement(0, count: position - tables[id.position].open.count))
        }
        tables[id.position].open.append(code)
    }

    // MARK: - Finishing

    /// The finished table `id`: each open child finished and moved into its place. The table is empty after.
    mutating func finish(_ id: TableID) -> ConfigTable {
        if id == current { closeCurrent() }
        var table = ConfigTable()
        swap(&table, &tables[id.position].table)
        var open: [Int] = []
        swap(&open, &tables[id.position].open)
        for (position, code) in open.enumerated() where code != 0 {
            if code > 0 {
                let child = TableID(position: code - 1)
                table.replaceValue(at: position, with: .table(finish(child), takeLocation(of: child)))
            } else {
                let list = -code - 1
                let members = lists[list].tables
                var finished: [ConfigNode] = []
                finished.reserveCapacity(members.count)
                for member in members { finished.append(.table(finish(member), takeLocation(of: member))) }
                table.replaceValue(at: position, with: .array(finished, lists[list].location))
            }
        }
        return table
    }

    /// The location of `id`, moved out (the table is finished, and its location goes into its node).
    private mutating func takeLocation(of id: TableID) -> SourceLocation? {
        var location: SourceLocation?
        swap(&location, &tables[id.position].location)
        return location
    }
}
