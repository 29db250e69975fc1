import Tipi

/// A pipeline ready to run: settings, permanences created from their params, processes decoded.
struct BuiltPipeline: @unchecked Sendable {
    struct PermanenceEntry {
        var key: String
        var typeName: String
        var permanence: any Permanence
        /// The params its `init(from:)` asked for (written in the config or left to their defaults).
        var params: [String] = []
    }

    struct ProcessEntry {
        var key: String
        var typeName: String
        var process: any PipelineProcess
        var force: Bool
    }

    var settings: PipelineSettings
    var permanences: [PermanenceEntry]
    var processes: [ProcessEntry]
    var document: ConfigTable
}

/// Pre-flight: checks the whole config before anything runs — every `type` exists, every param decodes to
/// its declared type, no unknown keys, referenced permanences exist — and reports *all* problems at once.
enum PipelineBuilder {
    /// `sweep` is read by the `sweep` command (``SweepSpec``); a run ignores it.
    static let sections = ["pipeline", "permanences", "processes", "sweep"]
    /// Unknown params (per process or permanence) and unknown sections listed one by one; more are
    /// counted in one line.
    static let maximumUnknownKeys = 20

    /// Checks `document` and creates its permanences and processes. `throughDecodable` makes every process
    /// through its `init(from:)` rather than ``PipelineProcess/make(params:)`` (for tests comparing the two).
    static func build(
        _ document: ConfigTable, definition: PipelineDefinition, throughDecodable: Bool = false
    ) -> Result<BuiltPipeline, ConfigProblems> {
        var problems: [ConfigProblem] = []
        let unknownSections = document.entries.filter { !sections.contains($0.key) }
        for (key, value) in unknownSections.prefix(maximumUnknownKeys) {
            problems.append(
                ConfigProblem(
                    code: "CFG004", location: value.location, path: key, message: "unknown section",
                    help: Suggestion.nearest(to: key, in: sections).map { "did you mean [\($0)]?" }
                        ?? "a config has [pipeline], [permanences.<key>] and [processes.<key>] tables"))
        }
        if unknownSections.count > maximumUnknownKeys {
            problems.append(
                ConfigProblem(code: "CFG004", message: "\(unknownSections.count - maximumUnknownKeys) more unknown sections (not listed)"))
        }
        if document["permanences"] == nil, document["processes"] == nil {
            problems.append(
                ConfigProblem(
                    code: "CFG004", message: "the config has no [processes.<key>] table, so there is nothing to run",
                    help: "add [processes.training] with type = \"train\""))
        }
        let settings = PipelineSettings.read(document["pipeline"], problems: &problems)

        var permanences: [BuiltPipeline.PermanenceEntry] = []
        var broken: [(key: String, typeName: String)] = []
        for (key, node) in entries(of: "permanences", in: document, problems: &problems) {
            guard let header = header(key: key, node: node, section: "permanences", problems: &problems) else { continue }
            let typeName = header.typeName
            let params = header.node(isParam: { $0 != "type" && $0 != "params" })
            guard let type = definition.permanence(named: typeName) else {
                problems.append(unknownType(typeName, section: "permanences", key: key, node: node, known: definition.allPermanences.map { $0.permanenceName }))
                continue
            }
            let tracker = KeyTracker()
            if let permanence = makePermanence(type, params: params, path: ["permanences", key, "params"], tracker: tracker, problems: &problems) {
                permanences.append(
                    .init(key: key, typeName: typeName, permanence: permanence, params: tracker.asked(["permanences", key, "params"])))
            } else {
                broken.append((key, type.permanenceName))
            }
        }
        let resolver = PermanenceResolver(permanences.map { .init(key: $0.key, permanence: $0.permanence) }, broken: broken)

        let processEntries = entries(of: "processes", in: document, problems: &problems)
        var processes: [BuiltPipeline.ProcessEntry] = []
        processes.reserveCapacity(processEntries.count)
        // What decoding needs of each process type, asked once per type (a pipeline often repeats a type).
        var facts: [ObjectIdentifier: DecodingFacts] = [:]
        // The type of the previous process, found again by its name alone (consecutive processes often
        // share a type: one comparison instead of a search of the definition and of `facts`).
        var previous: (name: String, type: any PipelineProcess.Type, facts: DecodingFacts)?
        // What every process shares (the permanences, one tracker for nested tables, reset for each).
        let context = ProcessParams.Context(resolver: resolver)
        for (key, node) in processEntries {
            guard let header = header(key: key, node: node, section: "processes", problems: &problems) else { continue }
            let typeName = header.typeName
            var force = false
            if case .table(let table, _) = node, let value = table["force"] {
                if case .bool(let flag, _) = value {
                    force = flag
                } else {
                    problems.append(
                        ConfigProblem(code: "CFG004", location: value.location, path: "processes.\(key).force", message: "expected true or false, found \(value.typeName) \(value.text)"))
                }
            }
            let type: any PipelineProcess.Type
            let typeFacts: DecodingFacts
            if let previous, previous.name == typeName {
                (type, typeFacts) = (previous.type, previous.facts)
            } else {
                guard let found = definition.process(named: typeName) else {
                    problems.append(unknownType(typeName, section: "processes", key: key, node: node, known: definition.processes.map { $0.processName }))
                    continue
                }
                type = found
                if let known = facts[ObjectIdentifier(type)] {
                    typeFacts = known
                } else {
                    typeFacts = DecodingFacts(type)
                    facts[ObjectIdentifier(type)] = typeFacts
                }
                previous = (typeName, type, typeFacts)
            }
            var params = ProcessParams(
                table: header.table, location: header.location, key: key, besideType: header.besideType, context: context, facts: typeFacts)
            if let process = makeProcess(type, params: &params, throughDecodable: throughDecodable, problems: &problems) {
                processes.append(.init(key: key, typeName: typeName, process: process, force: force))
            }
        }
        guard problems.isEmpty else { return .failure(ConfigProblems(problems)) }
        return .success(BuiltPipeline(settings: settings, permanences: permanences, processes: processes, document: document))
    }

    /// The tables of a section, in file order (the section's own entries, not a copy, when all are tables).
    private static func entries(of section: String, in document: ConfigTable, problems: inout [ConfigProblem]) -> [(key: String, value: ConfigNode)] {
        guard let node = document[section] else { return [] }
        guard case .table(let table, _) = node else {
            problems.append(ConfigProblem(code: "CFG004", location: node.location, path: section, message: "must be a table of tables ([\(section).<key>])"))
            return []
        }
        let entries = table.entries
        // Read in place (iterating the array would copy each entry: a retain and a release of its table).
        let allTables = entries.withUnsafeBufferPointer { entries in
            for position in entries.indices where !(entries[position].value.isTable && isPrintable(entries[position].key)) { return false }
            return true
        }
        if allTables { return entries }
        var result: [(key: String, value: ConfigNode)] = []
        for (key, value) in entries {
            guard isPrintable(key) else {
                // It would be printed in tables and messages, and may hold escape sequences.
                problems.append(
                    ConfigProblem(
                        code: "CFG004", location: value.location, path: "\(section).\(key)",
                        message: "a \(section == "processes" ? "process" : "permanence") key cannot hold control characters",
                        help: "use letters, digits, `_` and `-`"))
                continue
            }
            guard case .table = value else {
                problems.append(
                    ConfigProblem(
                        code: "CFG004", location: value.location, path: "\(section).\(key)",
                        message: "must be a table with a type, found \(value.typeName) \(value.text)",
                        help: "write [\(section).\(key)] with type = \"…\" on the next line"))
                continue
            }
            result.append((key, value))
        }
        return result
    }

    /// Whether `key` is printed as it is (``TerminalText/printable(_:allowNewlines:)`` leaves it alone): at
    /// once for printable ASCII (the usual key), else by asking it.
    private static func isPrintable(_ key: String) -> Bool {
        if key.utf8.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }) { return true }
        return TerminalText.printable(key) == key
    }

    /// The `type` and the params of a permanence or process, as the config wrote them.
    struct Header {
        var typeName: String
        /// The params table, or — params beside `type` — the permanence's or process's own table.
        var table: ConfigTable
        var location: SourceLocation?
        /// Whether the params are the keys beside `type` (Python tipi's form).
        var besideType: Bool

        /// The params as one table node, without the keys that are not params when they are beside `type`.
        func node(isParam: (String) -> Bool) -> ConfigNode {
            besideType ? .table(ConfigTable(entries: table.entries.filter { isParam($0.key) }), location) : .table(table, location)
        }
    }

    /// The `type` and the params of a permanence or process: `params = { … }` (the seed's form) or keys beside
    /// `type` (Python tipi's form; a process's `force` is not a param), not both.
    private static func header(key: String, node: ConfigNode, section: String, problems: inout [ConfigProblem]) -> Header? {
        guard case .table(let table, let location) = node else { return nil }
        guard let typeNode = table["type"] else {
            problems.append(
                ConfigProblem(code: "CFG004", location: location, path: "\(section).\(key)", message: "missing `type`", help: "add type = \"…\" naming a \(section == "processes" ? "process" : "permanence")"))
            return nil
        }
        guard case .string(let typeName, _) = typeNode else {
            problems.append(ConfigProblem(code: "CFG004", location: typeNode.location, path: "\(section).\(key).type", message: "expected a string, found \(typeNode.typeName) \(typeNode.text)"))
            return nil
        }
        if let params = table["params"] {
            guard case .table(let paramsTable, let paramsLocation) = params else {
                problems.append(ConfigProblem(code: "CFG004", location: params.location, path: "\(section).\(key).params", message: "expected a table, found \(params.typeName) \(params.text)"))
                return nil
            }
            let isProcess = section == "processes"
            if table.count > 2, let first = table.entries.first(where: { $0.key != "type" && $0.key != "params" && !(isProcess && $0.key == "force") }) {
                problems.append(
                    ConfigProblem(
                        code: "CFG004", location: first.value.location, path: "\(section).\(key).\(first.key)",
                        message: "params are given both in `params = { … }` and beside `type`",
                        help: "move `\(first.key)` into params, or drop the params table"))
                return nil
            }
            return Header(typeName: typeName, table: paramsTable, location: paramsLocation, besideType: false)
        }
        return Header(typeName: typeName, table: table, location: location, besideType: true)
    }

    private static func unknownType(_ name: String, section: String, key: String, node: ConfigNode, known: [String]) -> ConfigProblem {
        let kind = section == "processes" ? "process" : "permanence"
        return ConfigProblem(
            code: "REG001", location: node.table?["type"]?.location ?? node.location, path: "\(section).\(key).type",
            message: "no \(kind) type \"\(name)\"",
            help: Suggestion.nearest(to: name, in: known).map { "did you mean \"\($0)\"?" }
                ?? "available: \(known.isEmpty ? "none" : known.joined(separator: ", "))")
    }

    private static func makePermanence<P: Permanence>(
        _ type: P.Type, params: ConfigNode, path: [String], tracker: KeyTracker, problems: inout [ConfigProblem]
    ) -> (any Permanence)? {
        let permanence: P? = decode(type, params: params, path: path, userInfo: [:], tracker: tracker, problems: &problems)
        return permanence
    }

    /// Makes a process of `type` from `params` (through ``PipelineProcess/make(params:)``), adding every
    /// problem — the params' own, values out of range, unknown params — to `problems` in the order
    /// ``decode(_:params:path:userInfo:tracker:facts:problems:)`` reports them.
    private static func makeProcess(
        _ type: any PipelineProcess.Type, params: inout ProcessParams, throughDecodable: Bool, problems: inout [ConfigProblem]
    ) -> (any PipelineProcess)? {
        func decodable<P: PipelineProcess>(_ type: P.Type, _ params: inout ProcessParams) -> (any PipelineProcess)? {
            params.decodeThroughDecodable(type)
        }
        let process = throughDecodable ? decodable(type, &params) : type.make(params: &params)
        if params.isComplete {
            if !params.problems.isEmpty { problems += params.problems }
            return process
        }
        let constraints = params.facts.constraints
        let failed = process == nil || !params.problems.isEmpty
        // Values out of their declared range first, as when decoding through `Decodable`.
        if !constraints.isEmpty {
            problems += constraintProblems(constraints, params: params.node, path: params.paramsPath, owner: type)
        }
        if !params.problems.isEmpty { problems += params.problems }
        if process == nil, params.problems.isEmpty {
            problems.append(
                ConfigProblem(
                    code: "INS001", location: params.location, path: params.paramsPath.joined(separator: "."),
                    message: "\(type.processName) could not be made from its params"))
        }
        if params.mayHaveUnknownKeys {
            let unknown = params.unknownKeys()
            if !unknown.isEmpty {
                problems += unknownKeyProblems(unknown, path: params.paramsPath, known: params.facts.known, params: params.node)
            }
        }
        if !failed, let process, !constraints.isEmpty {
            problems += constraintProblems(constraints, params: params.node, defaultsOf: process, path: params.paramsPath, owner: type)
        }
        return failed ? nil : process
    }

    /// What ``decode(_:params:path:userInfo:tracker:facts:problems:)`` needs of a type, found by casts that
    /// cost more than decoding a small table: asked once per type. An object, so that each process's
    /// ``ProcessParams`` holds it by one reference (a struct of a dictionary and an array would be two).
    final class DecodingFacts {
        let constraints: [String: ParameterConstraint]
        /// The declared param names of a process type (`nil` for other types).
        let known: [String]?
        let isPermanence: Bool

        init(_ type: Any.Type) {
            let process = type as? any PipelineProcess.Type
            constraints = process?.constraints ?? (type as? any Permanence.Type)?.constraints ?? [:]
            known = process?.parameters.map(\.name)
            isPermanence = type is any Permanence.Type
        }
    }

    /// Decodes a permanence or process from its params, adding every problem (and unknown keys) to `problems`.
    static func decode<T>(
        _ type: T.Type, params: ConfigNode, path: [String], userInfo: [CodingUserInfoKey: Any], tracker: KeyTracker = KeyTracker(),
        facts: DecodingFacts? = nil, problems: inout [ConfigProblem]
    ) -> T? where T: Decodable {
        let facts = facts ?? DecodingFacts(type)
        // Values out of their declared range are found before decoding: a permanence's init(from:) may
        // already use them (a negative count would stop the program), so it is not called with them.
        let constraints = facts.constraints
        let outOfRange = constraintProblems(constraints, params: params, path: path, owner: type)
        problems += outOfRange
        if !outOfRange.isEmpty, facts.isPermanence { return nil }
        let decoder = ConfigDecoder(node: params, path: path, tracker: tracker, userInfo: userInfo)
        var result: T?
        var failed = false
        do {
            result = try T(from: decoder)
        } catch let error as ConfigProblems {
            problems += error.problems
            failed = true
        } catch let error as ConfigProblem {
            problems.append(error)
            failed = true
        } catch {
            problems.append(ConfigProblem(code: "INS001", location: params.location, path: path.joined(separator: "."), message: "\(error)"))
            failed = true
        }
        // Unknown keys can only be told apart when every key was asked for: after success, or for
        // @PipelineProcess types, which ask for every parameter before reporting.
        let known = facts.known
        if !failed || known != nil {
            problems += unknownKeyProblems(tracker.unknownKeys(), path: path, known: known, params: params)
        }
        if !failed, let result {
            problems += constraintProblems(constraints, params: params, defaultsOf: result, path: path, owner: type)
        }
        return failed ? nil : result
    }

    /// The problems of unknown params: `unknown` as ``KeyTracker/unknownKeys()`` lists them, `path` the
    /// params table's, `known` the declared params (suggested for keys of the params table itself).
    static func unknownKeyProblems(
        _ unknown: [(path: [String], key: String, known: [String])], path: [String], known: [String]?, params: ConfigNode
    ) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        for (tablePath, key, asked) in unknown.prefix(maximumUnknownKeys) {
            let candidates = tablePath == path ? (known ?? asked) : asked
            if tablePath == path, known?.contains(key) == true { continue }
            problems.append(
                ConfigProblem(
                    code: "INS001", location: location(of: key, in: params, tablePath: tablePath, base: path),
                    path: (tablePath + [key]).joined(separator: "."), message: "unknown param",
                    help: Suggestion.nearest(to: key, in: candidates).map { "did you mean `\($0)`?" }
                        ?? (candidates.isEmpty ? "this takes no params" : "params: \(candidates.joined(separator: ", "))")))
        }
        if unknown.count > maximumUnknownKeys {
            problems.append(
                ConfigProblem(
                    code: "INS001", location: params.location, path: path.joined(separator: "."),
                    message: "\(unknown.count - maximumUnknownKeys) more unknown params (not listed)"))
        }
        return problems
    }

    /// The params outside their declared range: values in the config (located), or — with `defaultsOf`,
    /// the decoded value — defaults that the config left alone (located at the params table). In the
    /// order the params are declared.
    static func constraintProblems(
        _ constraints: [String: ParameterConstraint], params: ConfigNode, defaultsOf decoded: Any? = nil, path: [String], owner: Any.Type
    ) -> [ConfigProblem] {
        guard !constraints.isEmpty else { return [] }
        let declared = (owner as? any PipelineProcess.Type)?.parameters.map(\.name) ?? []
        let names = declared.filter { constraints[$0] != nil } + constraints.keys.filter { !declared.contains($0) }.sorted()
        let fields = decoded.map { Array(Mirror(reflecting: $0).children) } ?? []
        var problems: [ConfigProblem] = []
        for name in names {
            guard let constraint = constraints[name] else { continue }
            func problem(_ value: Double, at location: SourceLocation?, isDefault: Bool) -> ConfigProblem {
                ConfigProblem(
                    code: "INS001", location: location, path: (path + [name]).joined(separator: "."),
                    message: "\(isDefault ? "the default " : "")\(ParameterConstraint.format(value)) is out of range: must be \(constraint)",
                    help: isDefault ? "set \(name) to a value \(constraint) in the config" : "write a value \(constraint)")
            }
            if let node = params.table?[name] {
                guard decoded == nil else { continue }
                for (value, location) in ParameterConstraint.numbers(in: node) ?? [] where !constraint.contains(value) {
                    problems.append(problem(value, at: location ?? params.location, isDefault: false))
                }
            } else if let field = fields.first(where: { $0.label == name }), let values = ParameterConstraint.numbers(in: field.value) {
                for value in values where !constraint.contains(value) {
                    problems.append(problem(value, at: params.location, isDefault: true))
                }
            }
        }
        return problems
    }

    private static func location(of key: String, in params: ConfigNode, tablePath: [String], base: [String]) -> SourceLocation? {
        var node: ConfigNode? = params
        for part in tablePath.dropFirst(base.count) { node = node?.table?[part] }
        return node?.table?[key]?.location ?? params.location
    }
}
