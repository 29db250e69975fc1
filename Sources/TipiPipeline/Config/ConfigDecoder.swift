import Foundation

extension CodingUserInfoKey {
    /// The permanences a process's parameters may refer to.
    static let tipiPermanences = CodingUserInfoKey(rawValue: "tipi.permanences")!
}

/// Decodes any `Decodable` from a ``ConfigNode``: a TOML integer is accepted where a floating-point number
/// is expected, errors are ``ConfigProblem``s with the file position and dotted key path, and the keys a
/// type asked for are recorded so that unknown keys can be reported with a near-miss suggestion.
///
/// A value's key path is made only when something needs it (a message, a nested table): a scalar is
/// decoded in place by its table's container, without a decoder or a path of its own.
final class ConfigDecoder: Decoder {
    let node: ConfigNode
    /// The path of the table holding this node (shared with its decoder, not copied), and this node's key in it
    /// (`nil` for the decoder decoding started with, whose path is `parentPath`).
    private let parentPath: [String]
    private let key: String?
    let tracker: KeyTracker
    let userInfo: [CodingUserInfoKey: Any]

    init(node: ConfigNode, path: [String], tracker: KeyTracker = KeyTracker(), userInfo: [CodingUserInfoKey: Any] = [:]) {
        self.node = node
        self.parentPath = path
        self.key = nil
        self.tracker = tracker
        self.userInfo = userInfo
    }

    private init(node: ConfigNode, parentPath: [String], key: String, tracker: KeyTracker, userInfo: [CodingUserInfoKey: Any]) {
        self.node = node
        self.parentPath = parentPath
        self.key = key
        self.tracker = tracker
        self.userInfo = userInfo
    }

    /// The key path of this node.
    private(set) lazy var path: [String] = key.map { parentPath + [$0] } ?? parentPath

    var codingPath: [any CodingKey] { path.map { AnyKey(stringValue: $0) } }
    var dottedPath: String { path.joined(separator: ".") }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(try keyedContainer(Key.self))
    }

    /// The container of this node's table, as it is (without the type-erasing box of
    /// ``container(keyedBy:)``, for ``ProcessParameterDecoder``).
    func keyedContainer<Key: CodingKey>(_ type: Key.Type) throws -> KeyedContainer<Key> {
        guard case .table(let table, _) = node else {
            throw ConfigProblem(
                code: "INS001", location: node.location, path: dottedPath,
                message: "expected a table, found \(node.typeName) \(node.text)",
                help: "write it as a table: { key = value, … }")
        }
        let record = tracker.visit(path, table: table)
        return KeyedContainer<Key>(decoder: self, table: table, record: record)
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
        ConfigDecoder(node: node, parentPath: path, key: key, tracker: tracker, userInfo: userInfo)
    }

    /// Decodes a value of type `T` from this decoder's node.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if let value = try Self.scalar(type, node, path: dottedPath) { return value }
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
        try Self.scalar(type, node, path: dottedPath)
    }

    /// `node` as a number, string or boolean of type `T` (`nil` when `T` is none of these); `path` is made
    /// for a message only.
    static func scalar<T>(_ type: T.Type, _ node: ConfigNode, path: @autoclosure () -> String) throws -> T? {
        // Exact metatype comparisons (and a cast known to hold), cheaper than `is` and `as?` on each case.
        func result<V>(_ value: V) -> T { unsafeBitCast(value, to: T.self) }
        if type == Bool.self {
            guard case .bool(let value, _) = node else { throw mismatch("Bool (true or false)", node, path: path()) }
            return result(value)
        }
        if type == String.self {
            switch node {
            case .string(let value, _), .date(let value, _): return result(value)
            default: throw mismatch("String (text in quotes)", node, path: path())
            }
        }
        if type == Double.self {
            switch node {
            case .double(let value, _): return result(value)
            case .int(let value, _): return result(Double(value))
            default: throw mismatch("Double (a number)", node, path: path())
            }
        }
        if type == Float.self {
            switch node {
            case .double(let value, _):
                guard !value.isFinite || Float(value).isFinite else {
                    throw ConfigProblem(
                        code: "INS001", location: node.location, path: path(),
                        message: "\(value) does not fit in Float (at most about 3.4e38)")
                }
                return result(Float(value))
            case .int(let value, _): return result(Float(value))
            default: throw mismatch("Float (a number)", node, path: path())
            }
        }
        if type == Int.self { return result(try integer(Int.self, node, path: path())) }
        if type == Int64.self { return result(try integer(Int64.self, node, path: path())) }
        if type == Int32.self { return result(try integer(Int32.self, node, path: path())) }
        if type == Int16.self { return result(try integer(Int16.self, node, path: path())) }
        if type == Int8.self { return result(try integer(Int8.self, node, path: path())) }
        if type == UInt.self { return result(try integer(UInt.self, node, path: path())) }
        if type == UInt64.self { return result(try integer(UInt64.self, node, path: path())) }
        if type == UInt32.self { return result(try integer(UInt32.self, node, path: path())) }
        if type == UInt16.self { return result(try integer(UInt16.self, node, path: path())) }
        if type == UInt8.self { return result(try integer(UInt8.self, node, path: path())) }
        return nil
    }

    private static func integer<I: FixedWidthInteger>(_ type: I.Type, _ node: ConfigNode, path: @autoclosure () -> String) throws -> I {
        switch node {
        case .int(let value, _):
            guard let result = I(exactly: value) else {
                throw ConfigProblem(
                    code: "INS001", location: node.location, path: path(),
                    message: "\(value) does not fit in \(I.self) (\(I.min)…\(I.max))")
            }
            return result
        case .double(let value, _) where value == value.rounded() && abs(value) < 9e15:
            throw ConfigProblem(
                code: "INS001", location: node.location, path: path(),
                message: "expected \(I.self), found float \(value)", help: "write it without a decimal point: \(Int(value))")
        default:
            throw mismatch("\(I.self) (a whole number)", node, path: path())
        }
    }

    func mismatch(_ expected: String) -> ConfigProblem {
        Self.mismatch(expected, node, path: dottedPath)
    }

    static func mismatch(_ expected: String, _ node: ConfigNode, path: String) -> ConfigProblem {
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
            code: "INS001", location: node.location, path: path,
            message: "expected \(expected), found \(node.typeName) \(node.text)", help: help)
    }

    struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let decoder: ConfigDecoder
        let table: ConfigTable
        /// Where the keys asked for are recorded.
        let record: KeyTracker.Record

        var codingPath: [any CodingKey] { decoder.codingPath }
        var allKeys: [Key] { table.keys.compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool {
            record.ask(key.stringValue)
            return table[key.stringValue] != nil
        }

        func decodeNil(forKey key: Key) throws -> Bool {
            record.ask(key.stringValue)
            return table[key.stringValue] == nil
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            guard let value = try decodeIfPresent(type, key: key) else {
                throw ConfigProblem(
                    code: "INS001", location: decoder.node.location, path: decoder.dottedPath,
                    message: "missing required key '\(key.stringValue)' (\(T.self))",
                    help: "add \(key.stringValue) = … to this table")
            }
            return value
        }

        /// The value of `key`, or `nil` when the table does not have it (asked for either way): one look-up,
        /// where `contains` then `decode` make two.
        func decodeIfPresent<T: Decodable>(_ type: T.Type, key: Key) throws -> T? {
            record.ask(key.stringValue)
            guard let node = table[key.stringValue] else { return nil }
            // A scalar needs no decoder of its own (nor its path, unless it is wrong).
            if let value = try ConfigDecoder.scalar(type, node, path: (decoder.path + [key.stringValue]).joined(separator: ".")) {
                return value
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
            record.ask(key.stringValue)
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
            let index = currentIndex
            if let value = try ConfigDecoder.scalar(type, values[index], path: (decoder.path + ["[\(index)]"]).joined(separator: ".")) {
                return value
            }
            return try decoder.child(values[index], key: "[\(index)]").decode(type)
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
