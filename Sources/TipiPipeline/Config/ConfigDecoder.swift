import Foundation

extension CodingUserInfoKey {
    /// The permanences a process's parameters may refer to.
    static let tipiPermanences = CodingUserInfoKey(rawValue: "tipi.permanences")!
}

/// Decodes any `Decodable` from a ``ConfigNode``: a TOML integer is accepted where a floating-point number
/// is expected, errors are ``ConfigProblem``s with the file position and dotted key path, and the keys a
/// type asked for are recorded so that unknown keys can be reported with a near-miss suggestion.
final class ConfigDecoder: Decoder {
    let node: ConfigNode
    let path: [String]
    let tracker: KeyTracker
    let userInfo: [CodingUserInfoKey: Any]

    init(node: ConfigNode, path: [String], tracker: KeyTracker = KeyTracker(), userInfo: [CodingUserInfoKey: Any] = [:]) {
        self.node = node
        self.path = path
        self.tracker = tracker
        self.userInfo = userInfo
    }

    var codingPath: [any CodingKey] { path.map { AnyKey(stringValue: $0) } }
    var dottedPath: String { path.joined(separator: ".") }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .table(let table, _) = node else {
            throw ConfigProblem(
                code: "INS001", location: node.location, path: dottedPath,
                message: "expected a table, found \(node.typeName) \(node.text)",
                help: "write it as a table: { key = value, … }")
        }
        tracker.visit(path, keys: table.keys)
        return KeyedDecodingContainer(KeyedContainer<Key>(decoder: self, table: table))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let values, _) = node else {
            throw ConfigProblem(
                code: "INS001", location: node.location, path: dottedPath,
                message: "expected an array, found \(node.typeName) \(node.text)", help: "write a list: [a, b, c]")
        }
        return UnkeyedContainer(decoder: self, values: values)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleContainer(decoder: self)
    }

    func child(_ node: ConfigNode, key: String) -> ConfigDecoder {
        ConfigDecoder(node: node, path: path + [key], tracker: tracker, userInfo: userInfo)
    }

    /// Decodes a value of type `T` from this decoder's node.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if let value = try scalar(type) { return value }
        if type == URL.self {
            guard case .string(let text, _) = node else { throw mismatch("a path or URL string") }
            let url = text.contains("://") ? URL(string: text) : URL(fileURLWithPath: text)
            guard let url, let result = url as? T else { throw mismatch("a path or URL string") }
            return result
        }
        do {
            return try T(from: self)
        } catch DecodingError.dataCorrupted(let context) {
            // A RawRepresentable enum refusing a value ("adamw" for an Optimizer), or a type's own check.
            let cases = (T.self as? any CaseIterable.Type).map { "one of: " + $0.allCasesDescription }
            throw ConfigProblem(
                code: "INS001", location: node.location, path: dottedPath,
                message: "\(node.text) is not a valid \(T.self)", help: cases ?? context.debugDescription)
        } catch let DecodingError.typeMismatch(expected, _) {
            throw mismatch("\(expected)")
        }
    }

    /// Numbers, strings and booleans, with integer → floating-point coercion and range checks.
    func scalar<T>(_ type: T.Type) throws -> T? {
        switch type {
        case is Bool.Type:
            guard case .bool(let value, _) = node else { throw mismatch("Bool (true or false)") }
            return value as? T
        case is String.Type:
            switch node {
            case .string(let value, _), .date(let value, _): return value as? T
            default: throw mismatch("String (text in quotes)")
            }
        case is Double.Type:
            switch node {
            case .double(let value, _): return value as? T
            case .int(let value, _): return Double(value) as? T
            default: throw mismatch("Double (a number)")
            }
        case is Float.Type:
            switch node {
            case .double(let value, _):
                guard !value.isFinite || Float(value).isFinite else {
                    throw ConfigProblem(
                        code: "INS001", location: node.location, path: dottedPath,
                        message: "\(value) does not fit in Float (at most about 3.4e38)")
                }
                return Float(value) as? T
            case .int(let value, _): return Float(value) as? T
            default: throw mismatch("Float (a number)")
            }
        case is Int.Type: return try integer(Int.self) as? T
        case is Int64.Type: return try integer(Int64.self) as? T
        case is Int32.Type: return try integer(Int32.self) as? T
        case is Int16.Type: return try integer(Int16.self) as? T
        case is Int8.Type: return try integer(Int8.self) as? T
        case is UInt.Type: return try integer(UInt.self) as? T
        case is UInt64.Type: return try integer(UInt64.self) as? T
        case is UInt32.Type: return try integer(UInt32.self) as? T
        case is UInt16.Type: return try integer(UInt16.self) as? T
        case is UInt8.Type: return try integer(UInt8.self) as? T
        default: return nil
        }
    }

    private func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        switch node {
        case .int(let value, _):
            guard let result = I(exactly: value) else {
                throw ConfigProblem(
                    code: "INS001", location: node.location, path: dottedPath,
                    message: "\(value) does not fit in \(I.self) (\(I.min)…\(I.max))")
            }
            return result
        case .double(let value, _) where value == value.rounded() && abs(value) < 9e15:
            throw ConfigProblem(
                code: "INS001", location: node.location, path: dottedPath,
                message: "expected \(I.self), found float \(value)", help: "write it without a decimal point: \(Int(value))")
        default:
            throw mismatch("\(I.self) (a whole number)")
        }
    }

    func mismatch(_ expected: String) -> ConfigProblem {
        var help: String?
        if case .string(let text, _) = node {
            // Suggest the unquoted value only when TOML would read it as one.
            do throws(TOMLParser.SyntaxError) {
                switch try TOMLScalar.classify(text, location: SourceLocation(file: "", line: 0, column: 0)) {
                case .int?, .double?, .bool?: help = "remove the quotes: \(TerminalText.excerpt(text, limit: 40))"
                default: break
                }
            } catch {
                help = error.message
            }
        }
        return ConfigProblem(
            code: "INS001", location: node.location, path: dottedPath,
            message: "expected \(expected), found \(node.typeName) \(node.text)", help: help)
    }

    struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let decoder: ConfigDecoder
        let table: ConfigTable

        var codingPath: [any CodingKey] { decoder.codingPath }
        var allKeys: [Key] { table.keys.compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool {
            decoder.tracker.access(decoder.path, key.stringValue)
            return table[key.stringValue] != nil
        }

        func decodeNil(forKey key: Key) throws -> Bool {
            decoder.tracker.access(decoder.path, key.stringValue)
            return table[key.stringValue] == nil
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            decoder.tracker.access(decoder.path, key.stringValue)
            guard let node = table[key.stringValue] else {
                throw ConfigProblem(
                    code: "INS001", location: decoder.node.location, path: decoder.dottedPath,
                    message: "missing required key '\(key.stringValue)' (\(T.self))",
                    help: "add \(key.stringValue) = … to this table")
            }
            return try decoder.child(node, key: key.stringValue).decode(type)
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            try child(key).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try child(key).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder { decoder }
        func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }

        private func child(_ key: Key) throws -> ConfigDecoder {
            decoder.tracker.access(decoder.path, key.stringValue)
            guard let node = table[key.stringValue] else {
                throw ConfigProblem(
                    code: "INS001", location: decoder.node.location, path: decoder.dottedPath,
                    message: "missing required key '\(key.stringValue)'")
            }
            return decoder.child(node, key: key.stringValue)
        }
    }

    struct UnkeyedContainer: UnkeyedDecodingContainer {
        let decoder: ConfigDecoder
        let values: [ConfigNode]
        var currentIndex = 0

        init(decoder: ConfigDecoder, values: [ConfigNode]) {
            self.decoder = decoder
            self.values = values
        }

        var codingPath: [any CodingKey] { decoder.codingPath }
        var count: Int? { values.count }
        var isAtEnd: Bool { currentIndex >= values.count }

        mutating func decodeNil() throws -> Bool { false }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            guard !isAtEnd else {
                throw ConfigProblem(code: "INS001", location: decoder.node.location, path: decoder.dottedPath, message: "too few elements")
            }
            defer { currentIndex += 1 }
            return try decoder.child(values[currentIndex], key: "[\(currentIndex)]").decode(type)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            defer { currentIndex += 1 }
            return try decoder.child(values[currentIndex], key: "[\(currentIndex)]").container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            defer { currentIndex += 1 }
            return try decoder.child(values[currentIndex], key: "[\(currentIndex)]").unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Decoder { decoder }
    }

    struct SingleContainer: SingleValueDecodingContainer {
        let decoder: ConfigDecoder
        var codingPath: [any CodingKey] { decoder.codingPath }
        func decodeNil() -> Bool { false }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decode(type) }
    }
}

/// Records, per table path, the keys a table has and the keys a decoded type asked for.
///
/// A process's params are one or two tables, so the tables are kept in a list, searched from the last one
/// (the one being decoded); beyond ``indexedAbove`` tables a dictionary by path finds them.
final class KeyTracker: @unchecked Sendable {
    private struct Table {
        var path: [String]
        /// The keys the table has (`nil` until the decoder visited it).
        var keys: [String]?
        var asked: Set<String> = []
    }

    private static let indexedAbove = 8
    private let lock = NSLock()
    private var tables: [Table] = []
    private var positions: [[String]: Int] = [:]

    /// The position of the table at `path`, added when new.
    private func position(_ path: [String]) -> Int {
        if tables.count <= Self.indexedAbove {
            var position = tables.count - 1
            while position >= 0 {
                if tables[position].path == path { return position }
                position -= 1
            }
        } else if let position = positions[path] {
            return position
        }
        tables.append(Table(path: path))
        if tables.count > Self.indexedAbove {
            if positions.isEmpty {
                for (position, table) in tables.enumerated() where positions[table.path] == nil { positions[table.path] = position }
            } else {
                positions[path] = tables.count - 1
            }
        }
        return tables.count - 1
    }

    func visit(_ path: [String], keys: [String]) {
        lock.lock()
        defer { lock.unlock() }
        tables[position(path)].keys = keys
    }

    func access(_ path: [String], _ key: String) {
        lock.lock()
        defer { lock.unlock() }
        tables[position(path)].asked.insert(key)
    }

    /// The keys asked for in the table at `path` (present or not: a default's key too), sorted.
    func asked(_ path: [String]) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return tables.first { $0.path == path }?.asked.sorted() ?? []
    }

    /// Keys present but never asked for: (table path, key, the keys that were asked for there).
    func unknownKeys() -> [(path: [String], key: String, known: [String])] {
        lock.lock()
        defer { lock.unlock() }
        var result: [(path: [String], key: String, known: [String])] = []
        var visited = tables.filter { $0.keys != nil }
        if visited.count > 1 { visited.sort { $0.path.joined(separator: ".") < $1.path.joined(separator: ".") } }
        for table in visited {
            for key in table.keys ?? [] where !table.asked.contains(key) { result.append((table.path, key, table.asked.sorted())) }
        }
        return result
    }
}

/// A coding key made from any string.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension CaseIterable {
    static var allCasesDescription: String {
        allCases.map { value in
            if let raw = (value as? any RawRepresentable)?.rawValue { return "\"\(raw)\"" }
            return "\(value)"
        }.joined(separator: ", ")
    }
}
