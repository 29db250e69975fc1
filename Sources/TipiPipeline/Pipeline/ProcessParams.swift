import Foundation

/// The params of one process, as the pipeline builder hands them to ``PipelineProcess/make(params:)``.
///
/// `@PipelineProcess` reads each parameter straight from the config's table with ``decode(_:_:default:)``:
/// numbers, strings and booleans without a decoder, anything else (arrays, structs, URLs, enums) through
/// `Decodable`, a ``Permanence`` from the pipeline's permanences. Every parameter is tried, so that one pass
/// records *all* problems of a process; the builder then adds unknown params (with a near-miss suggestion)
/// and values outside the process's ``PipelineProcess/constraints``, exactly as for a process decoded
/// through `Decodable`.
///
/// A value, not an object: making one per process costs no allocation. A process written by hand may
/// implement `make(params:)` the same way:
///
/// ```swift
/// struct Export: PipelineProcess {
///     var format: String
///     static func make(params: inout ProcessParams) -> Self? {
///         guard let format = params.decode(String.self, "format", default: { "onnx" }) else { return nil }
///         return Self(format: format)
///     }
///     func run() async throws { … }
/// }
/// ```
public struct ProcessParams {
    /// What every process of one pipeline shares: the permanences, and the tracker of nested tables.
    final class Context {
        let resolver: PermanenceResolver?
        let userInfo: [CodingUserInfoKey: Any]
        /// The keys asked for in tables nested in params (a struct parameter), for unknown-key reports; reset
        /// by the first process that decodes one.
        let tracker = KeyTracker()

        init(resolver: PermanenceResolver?) {
            self.resolver = resolver
            self.userInfo = resolver.map { [.tipiPermanences: $0] } ?? [:]
        }
    }

    /// The table the params are read from: the params table, or — params written beside `type` — the
    /// process's own table, whose ``reservedKeys`` are then not params.
    let table: ConfigTable
    /// Where the params table starts (the process's table, for params beside `type`).
    let location: SourceLocation?
    /// The process's key (`training` in `[processes.training]`).
    let key: String
    /// Whether the params are the keys beside `type`.
    let besideType: Bool
    let context: Context
    /// What decoding `Self` through `Decodable` needs of the process type (found once per type).
    let facts: PipelineBuilder.DecodingFacts

    /// The positions in `table` of the keys asked for: bit `i` for position `i` < 64, then a set.
    private var asked: UInt64 = 0
    private var askedBeyond: Set<Int>?
    /// Whether a nested table was decoded (then ``Context/tracker`` holds its keys).
    private(set) var usedTracker = false
    /// The problems found so far, in the order found.
    var problems: [ConfigProblem] = []
    /// Set when ``PipelineProcess/make(params:)`` decoded through `Decodable` (its default): the problems
    /// then include unknown keys and constraints already.
    var isComplete = false

    /// Keys of a process's table that are not params when the params are written beside `type`.
    static func isReserved(_ key: String) -> Bool { key == "type" || key == "params" || key == "force" }

    init(
        table: ConfigTable, location: SourceLocation?, key: String, besideType: Bool, context: Context,
        facts: PipelineBuilder.DecodingFacts
    ) {
        self.table = table
        self.location = location
        self.key = key
        self.besideType = besideType
        self.context = context
        self.facts = facts
    }

    // MARK: Reading parameters

    /// A parameter read from params (`default` when absent), or `nil` once its problem is recorded.
    public mutating func decode<T: Decodable>(_ type: T.Type, _ key: String, default fallback: (() -> T)?) -> T? {
        read(type, key, default: fallback)
    }

    /// An `Int` parameter, read straight from the table.
    public mutating func decode(_ type: Int.Type, _ key: String, default fallback: (() -> Int)?) -> Int? {
        read(type, key, default: fallback)
    }

    /// A `Double` parameter (an integer in the config is accepted), read straight from the table.
    public mutating func decode(_ type: Double.Type, _ key: String, default fallback: (() -> Double)?) -> Double? {
        read(type, key, default: fallback)
    }

    /// A `Float` parameter, read straight from the table.
    public mutating func decode(_ type: Float.Type, _ key: String, default fallback: (() -> Float)?) -> Float? {
        read(type, key, default: fallback)
    }

    /// A `String` parameter, read straight from the table.
    public mutating func decode(_ type: String.Type, _ key: String, default fallback: (() -> String)?) -> String? {
        read(type, key, default: fallback)
    }

    /// A `Bool` parameter, read straight from the table.
    public mutating func decode(_ type: Bool.Type, _ key: String, default fallback: (() -> Bool)?) -> Bool? {
        read(type, key, default: fallback)
    }

    /// A permanence parameter: the permanence named in params (`data = "train_set"`), else the only
    /// configured permanence of its type.
    public mutating func decode<T: Permanence>(_ type: T.Type, _ key: String, default fallback: (() -> T)?) -> T? {
        guard let resolver = context.resolver else {
            problems.append(
                ConfigProblem(
                    code: "PERMA002", path: dottedPath(key),
                    message: "needs a permanence of type \(T.permanenceName), which only a pipeline provides"))
            return nil
        }
        var named: String?
        if let position = position(of: key) {
            let node = table.value(at: position)
            do {
                named = try ConfigDecoder.scalar(String.self, node, path: dottedPath(key))
            } catch {
                problems.append(ProcessParameterDecoder.problem(from: error, path: paramsPath + [key]))
                return nil
            }
        }
        let location = self.location
        return resolver.parameter(
            T.self, named: named, key: key, path: dottedPath(key), fallback: fallback, location: { location }, problems: &problems)
    }

    /// A parameter of any decodable type: a number, string or boolean at once, anything else through its
    /// `init(from:)`, with the same checks and messages as a whole process decoded through `Decodable`.
    @inline(__always)
    private mutating func read<T: Decodable>(_ type: T.Type, _ key: String, default fallback: (() -> T)?) -> T? {
        guard let position = position(of: key) else {
            if let fallback { return fallback() }
            problems.append(
                ConfigProblem(
                    code: "INS001", location: location, path: paramsPath.joined(separator: "."),
                    message: "missing required key '\(key)' (\(T.self))", help: "add \(key) = … to this table"))
            return nil
        }
        let node = table.value(at: position)
        do {
            if let value = try ConfigDecoder.scalar(T.self, node, path: dottedPath(key)) { return value }
            return try nestedDecoder(node, key: key).decode(T.self)
        } catch {
            problems.append(ProcessParameterDecoder.problem(from: error, path: paramsPath + [key]))
            return nil
        }
    }

    /// A decoder for the value of `key` (not a number, string or boolean): its nested tables are tracked
    /// for unknown keys.
    private mutating func nestedDecoder(_ node: ConfigNode, key: String) -> ConfigDecoder {
        if !usedTracker {
            usedTracker = true
            context.tracker.reset()
        }
        return ConfigDecoder(node: node, path: paramsPath + [key], tracker: context.tracker, userInfo: context.userInfo)
    }

    /// The position of param `key` in `table`, recorded as asked for (`nil` when params do not have it).
    private mutating func position(of key: String) -> Int? {
        if besideType, Self.isReserved(key) { return nil }
        guard let position = table.position(of: key) else { return nil }
        if position < 64 {
            asked |= 1 << UInt64(position)
        } else {
            askedBeyond = (askedBeyond ?? []).union([position])
        }
        return position
    }

    private func wasAsked(position: Int) -> Bool {
        position < 64 ? asked & (1 << UInt64(position)) != 0 : askedBeyond?.contains(position) == true
    }

    // MARK: For the builder

    /// `processes.<key>.params`, as the path of messages.
    var paramsPath: [String] { ["processes", key, "params"] }

    private func dottedPath(_ key: String) -> String { "processes.\(self.key).params.\(key)" }

    /// The params as one table node (a copy without the reserved keys, for params beside `type`).
    var node: ConfigNode {
        besideType ? .table(ConfigTable(entries: table.entries.filter { !Self.isReserved($0.key) }), location) : .table(table, location)
    }

    /// Whether some param may never have been asked for (`false`: ``unknownKeys()`` is empty), found
    /// without listing anything.
    var mayHaveUnknownKeys: Bool {
        let count = table.count
        return usedTracker || besideType || count >= 64 || asked != (UInt64(1) << UInt64(count)) &- 1
    }

    /// The params never asked for (by ``decode(_:_:default:)``), in the layout of ``KeyTracker/unknownKeys()``:
    /// keys of the params table in file order, then keys of nested tables (by path).
    func unknownKeys() -> [(path: [String], key: String, known: [String])] {
        var result: [(path: [String], key: String, known: [String])] = []
        let entries = table.entries
        let unasked = entries.indices.filter { !wasAsked(position: $0) && !(besideType && Self.isReserved(entries[$0].key)) }
        if !unasked.isEmpty {
            // A key written twice is asked for with its first position.
            let askedKeys = entries.indices.filter { wasAsked(position: $0) }.map { entries[$0].key }
            for position in unasked where !askedKeys.contains(entries[position].key) {
                result.append((paramsPath, entries[position].key, askedKeys.sorted()))
            }
        }
        if usedTracker { result += context.tracker.unknownKeys() }
        return result
    }
}

extension ProcessParams {
    /// Decodes `P` through `Decodable` (its `init(from:)`), as ``PipelineProcess/make(params:)`` does by
    /// default: the problems recorded include unknown keys and constraints.
    mutating func decodeThroughDecodable<P: PipelineProcess>(_ type: P.Type) -> P? {
        isComplete = true
        context.tracker.reset()
        return PipelineBuilder.decode(
            P.self, params: node, path: paramsPath, userInfo: context.userInfo, tracker: context.tracker, facts: facts,
            problems: &problems)
    }
}
