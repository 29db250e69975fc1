import Tipi

/// A config value with the place it was written: the tree every pipeline check and decoder works on.
///
/// Not `indirect`: arrays and ``ConfigTable`` hold their elements in their own buffers already, so a node is
/// stored inline (no box of its own), and copying one retains at most its text and its location's origin.
public enum ConfigNode: Sendable, Equatable {
    case int(Int, SourceLocation?)
    case double(Double, SourceLocation?)
    case string(String, SourceLocation?)
    case bool(Bool, SourceLocation?)
    /// Dates and times, kept as their TOML text.
    case date(String, SourceLocation?)
    case array([ConfigNode], SourceLocation?)
    case table(ConfigTable, SourceLocation?)

    public var location: SourceLocation? {
        switch self {
        case .int(_, let location), .double(_, let location), .string(_, let location), .bool(_, let location),
            .date(_, let location), .array(_, let location), .table(_, let location):
            return location
        }
    }

    /// The TOML type name, for messages: `integer`, `float`, `string`, `boolean`, `date`, `array`, `table`.
    public var typeName: String {
        switch self {
        case .int: return "integer"
        case .double: return "float"
        case .string: return "string"
        case .bool: return "boolean"
        case .date: return "date"
        case .array: return "array"
        case .table: return "table"
        }
    }

    /// The value as written, for messages: `"ten"`, `3`, `[1, 2]`. Control characters are escaped and the
    /// text is cut at about 120 characters (`…`), so a huge or hostile value is never echoed whole.
    public var text: String { rendered(limit: 120) }

    /// The value as written, cut at about `limit` characters (`Int.max`: whole).
    func rendered(limit: Int) -> String {
        switch self {
        case .int(let value, _): return String(value)
        case .double(let value, _): return "\(value)"
        case .string(let value, _): return "\"" + TerminalText.excerpt(value, limit: limit) + "\""
        case .bool(let value, _): return String(value)
        case .date(let value, _): return TerminalText.excerpt(value, limit: limit)
        case .array(let values, _): return Self.join(values.lazy.map { ($0, nil) }, open: "[", close: "]", limit: limit)
        case .table(let table, _): return Self.join(table.entries.lazy.map { ($0.value, $0.key) }, open: "{", close: "}", limit: limit)
        }
    }

    /// Elements (with their keys, in a table) until `limit` characters are used, then `…`.
    private static func join(_ elements: some Sequence<(ConfigNode, String?)>, open: String, close: String, limit: Int) -> String {
        var parts: [String] = []
        var used = 0
        for (value, key) in elements {
            guard used < limit else {
                parts.append("…")
                break
            }
            let part = (key.map { TerminalText.excerpt($0, limit: limit - used) + " = " } ?? "") + value.rendered(limit: max(limit - used, 8))
            used += part.count + 2
            parts.append(part)
        }
        return open + parts.joined(separator: ", ") + close
    }

    /// Whether the value is a table (without copying it).
    var isTable: Bool {
        if case .table = self { return true }
        return false
    }

    public var table: ConfigTable? {
        if case .table(let table, _) = self { return table }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value, _) = self { return value }
        return nil
    }

    /// The same value as a run's config value (for recording the resolved config in the run).
    public var configValue: ConfigValue {
        switch self {
        case .int(let value, _): return .int(value)
        case .double(let value, _): return .double(value)
        case .string(let value, _), .date(let value, _): return .string(value)
        case .bool(let value, _): return .bool(value)
        case .array(let values, _): return .array(values.map(\.configValue))
        case .table(let table, _):
            return .table(Dictionary(table.entries.map { ($0.key, $0.value.configValue) }, uniquingKeysWith: { a, _ in a }))
        }
    }
}

/// A table whose keys keep the order they were written in. Looking a key up does not scan the entries, so
/// a table of a million keys is as quick to check as a small one (a small table — at most ``linearLimit``
/// keys, the usual params table — is scanned, which is quicker than hashing the key).
public struct ConfigTable: Sendable, Equatable {
    private var storage: [(key: String, value: ConfigNode)]
    /// The position of each key in `storage` (the first, should a key be there twice); `nil` for a small table.
    private var index: KeyIndex?

    /// The entries in the order they were written. Changing them re-indexes the table.
    public var entries: [(key: String, value: ConfigNode)] {
        get { storage }
        set {
            storage = newValue
            index = Self.index(of: storage)
        }
        _modify {
            defer { index = Self.index(of: storage) }
            yield &storage
        }
    }

    /// Tables with at most this many keys are scanned rather than indexed.
    static let linearLimit = 8

    public init(entries: [(key: String, value: ConfigNode)] = []) {
        self.storage = entries
        self.index = Self.index(of: entries)
    }

    private static func index(of entries: [(key: String, value: ConfigNode)]) -> KeyIndex? {
        entries.count > linearLimit ? KeyIndex(entries) : nil
    }

    /// The number of keys.
    var count: Int { storage.count }

    /// The position of `key` in ``entries``.
    func position(of key: String) -> Int? {
        // `index?.` reads the index in place (`if let index` could copy it: a retain and a release).
        if let probe = index?.find(key, in: storage) { return probe.position }
        return storage.firstIndex { $0.key == key }
    }

    /// Where `key` is in ``entries`` (``Lookup/position``), kept for ``append(newKey:_:after:)``: a key looked
    /// up and then added is hashed once.
    struct Lookup {
        var position: Int?
        fileprivate var probe: KeyIndex.Probe?

        /// A look-up made elsewhere (no probe: ``append(newKey:_:after:)`` looks the key up again if indexed).
        init(position: Int?) { self.position = position }

        fileprivate init(position: Int?, probe: KeyIndex.Probe?) {
            self.position = position
            self.probe = probe
        }
    }

    /// Looks `key` up, for ``append(newKey:_:after:)`` should the table not have it.
    func lookUp(_ key: String) -> Lookup {
        if let probe = index?.find(key, in: storage) { return Lookup(position: probe.position, probe: probe) }
        return Lookup(position: storage.firstIndex { $0.key == key }, probe: nil)
    }

    /// The value at `position` of ``entries``.
    func value(at position: Int) -> ConfigNode { storage[position].value }

    /// Appends a key the table does not have (the caller checked), keeping the index up to date.
    mutating func append(newKey key: String, _ value: ConfigNode) {
        append(newKey: key, value, after: nil)
    }

    /// Appends `key`, which `lookup` (the last look-up, with nothing added since) found missing.
    mutating func append(newKey key: String, _ value: ConfigNode, after lookup: Lookup?) {
        let probe = index == nil ? nil : (lookup?.probe ?? index!.find(key, in: storage))
        if storage.capacity == 0 { storage.reserveCapacity(4) }
        storage.append((key, value))
        if let probe {
            index!.insert(probe, at: storage.count - 1)
        } else if storage.count > Self.linearLimit {
            index = Self.index(of: storage)
        }
    }

    /// The number of keys the table holds without allocating.
    var capacity: Int { storage.capacity }

    /// Room for `count` keys, index included, so that adding up to that many allocates nothing.
    mutating func reserveCapacity(_ count: Int) {
        storage.reserveCapacity(count)
        if index == nil, count > Self.linearLimit { index = KeyIndex(storage) }
        index?.reserve(count)
    }

    /// Replaces the value at `position` of ``entries`` (the key stays).
    mutating func replaceValue(at position: Int, with value: ConfigNode) {
        storage[position].value = value
    }

    public subscript(key: String) -> ConfigNode? {
        get { position(of: key).map { storage[$0].value } }
        set {
            if let position = position(of: key) {
                if let newValue {
                    storage[position].value = newValue
                } else {
                    storage.remove(at: position)
                    index = Self.index(of: storage)
                }
            } else if let newValue {
                append(newKey: key, newValue)
            }
        }
    }

    public var keys: [String] { storage.map(\.key) }

    public static func == (lhs: ConfigTable, rhs: ConfigTable) -> Bool {
        lhs.storage.count == rhs.storage.count && zip(lhs.storage, rhs.storage).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
