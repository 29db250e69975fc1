import Foundation
import Tipi

/// The config a pipeline run records: every param of every process and permanence — defaults included —
/// and where each value came from.
///
/// `values` keeps the shape of the file, with params always under `params` (the flat form is moved
/// there), so that `tipi runs compare` compares like with like whichever form a config used:
/// `{"processes": {"training": {"type": "train", "params": {"epochs": 40, "learningRate": 0.5, "data": "data"}}}, …}`.
/// `sources` has one entry per leaf, by dotted key: `file PATH:LINE:COLUMN`, `--set KEY=VALUE`, `sweep KEY=VALUE`
/// (the value of a sweep's point), or `default`.
struct ResolvedConfig: Equatable {
    var values: [String: ConfigValue]
    var sources: [String: String]

    /// The resolved config of a built pipeline.
    init(_ pipeline: BuiltPipeline) {
        var values: [String: ConfigValue] = [:]
        var sources: [String: String] = [:]
        // A type and a param or two per process, usually: grown once, not step by step.
        sources.reserveCapacity(3 * (pipeline.processes.count + pipeline.permanences.count))
        let document = pipeline.document
        if let settings = document["pipeline"] {
            values["pipeline"] = settings.configValue
            Self.addSources(of: settings, at: "pipeline", to: &sources)
        }
        var permanences: [String: ConfigValue] = [:]
        for entry in pipeline.permanences {
            let base = "permanences.\(entry.key)"
            let node = document["permanences"]?.table?[entry.key]
            let written = Self.params(of: node)
            var params: [String: ConfigValue] = [:]
            let fields = Self.fields(of: entry.permanence)
            for name in Set(entry.params).union(written?.keys ?? []).sorted() {
                if let value = written?[name] {
                    params[name] = value.configValue
                    Self.addSources(of: value, at: "\(base).params.\(name)", to: &sources)
                } else if let field = fields[name] ?? fields[Self.camelCase(name)], let value = Self.value(of: field) {
                    params[name] = value
                    sources["\(base).params.\(name)"] = "default"
                }
            }
            permanences[entry.key] = .table(["type": .string(entry.typeName), "params": .table(params)])
            if let type = node?.table?["type"] { Self.addSources(of: type, at: "\(base).type", to: &sources) }
        }
        if !permanences.isEmpty || document["permanences"] != nil { values["permanences"] = .table(permanences) }

        var processes: [String: ConfigValue] = [:]
        processes.reserveCapacity(pipeline.processes.count)
        let processTables = document["processes"]?.table
        // Each type's parameter names, asked once (a pipeline often repeats a type many times).
        var declaredNames: [ObjectIdentifier: [String]] = [:]
        for entry in pipeline.processes {
            let base = "processes." + entry.key
            let node = processTables?[entry.key]
            let written = Self.params(of: node)
            let processType = type(of: entry.process)
            let declared = declaredNames[ObjectIdentifier(processType)] ?? processType.parameters.map(\.name)
            declaredNames[ObjectIdentifier(processType)] = declared
            // Reflection only when a param is left to its default (or the type lists none).
            var reflected: [String: Any]?
            func fields() -> [String: Any] {
                if let reflected { return reflected }
                let fields = Self.fields(of: entry.process)
                reflected = fields
                return fields
            }
            var params: [String: ConfigValue] = [:]
            for name in (declared.isEmpty ? Array(fields().keys) : declared) + (written?.keys ?? []) where params[name] == nil {
                if let value = written?[name] {
                    params[name] = value.configValue
                    Self.addSources(of: value, at: "\(base).params.\(name)", to: &sources)
                } else if let field = fields()[name] {
                    if let permanence = Self.permanence(in: field), let key = pipeline.permanences.first(where: { $0.permanence === permanence })?.key {
                        params[name] = .string(key)
                    } else if let value = Self.value(of: field) {
                        params[name] = value
                    } else {
                        continue
                    }
                    sources["\(base).params.\(name)"] = "default"
                }
            }
            var table: [String: ConfigValue] = ["type": .string(entry.typeName), "params": .table(params)]
            if let type = node?.table?["type"] { Self.addSources(of: type, at: "\(base).type", to: &sources) }
            if let force = node?.table?["force"] {
                table["force"] = force.configValue
                Self.addSources(of: force, at: "\(base).force", to: &sources)
            }
            processes[entry.key] = .table(table)
        }
        if !processes.isEmpty || document["processes"] != nil { values["processes"] = .table(processes) }
        self.values = values
        self.sources = sources
    }

    /// One process's or permanence's resolved table (`type`, `params`, `force`), to tell what a `--set` changed.
    func entry(_ section: String, _ key: String) -> ConfigValue? {
        guard case .table(let entries)? = values[section] else { return nil }
        return entries[key]
    }

    /// Where a value came from: its file position, or the `--set` argument.
    static func source(_ location: SourceLocation?) -> String {
        guard let location else { return "default" }
        if let override = location.override { return "\(location.overrideOrigin) \(override)" }
        return "file " + location.file + ":" + String(location.line) + ":" + String(location.column)
    }

    private static func addSources(of node: ConfigNode, at path: String, to sources: inout [String: String]) {
        if case .table(let table, _) = node {
            for (key, value) in table.entries { addSources(of: value, at: path + "." + key, to: &sources) }
        } else {
            sources[path] = source(node.location)
        }
    }

    /// The params table of a `[processes.<key>]` or `[permanences.<key>]` node: `params = { … }`, or the
    /// keys beside `type` (the builder refused anything else).
    private static func params(of node: ConfigNode?) -> ConfigTable? {
        guard let table = node?.table else { return nil }
        if let params = table["params"]?.table { return params }
        return ConfigTable(entries: table.entries.filter { !["type", "params", "force"].contains($0.key) })
    }

    /// The stored properties of a value, by name.
    private static func fields(of subject: Any) -> [String: Any] {
        var fields: [String: Any] = [:]
        for child in Mirror(reflecting: subject).children {
            guard let label = child.label else { continue }
            fields[label.hasPrefix("_") ? String(label.dropFirst()) : label] = child.value
        }
        return fields
    }

    private static func camelCase(_ name: String) -> String {
        let parts = name.split(separator: "_")
        guard let first = parts.first, parts.count > 1 else { return name }
        return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    private static func permanence(in value: Any) -> (any Permanence)? {
        if let permanence = value as? any Permanence { return permanence }
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional, let wrapped = mirror.children.first?.value { return wrapped as? any Permanence }
        return nil
    }

    /// A param's value as a run's config value: numbers, strings, booleans, raw-value enums, URLs (as
    /// paths), arrays, string-keyed dictionaries and structs of those; `nil` for what a config cannot hold.
    static func value(of subject: Any) -> ConfigValue? {
        switch subject {
        case let value as Bool: return .bool(value)
        case let value as Int: return .int(value)
        case let value as Double: return .double(value)
        case let value as Float: return .double(Double(value))
        case let value as String: return .string(value)
        case let value as URL: return .string(value.isFileURL ? value.path : value.absoluteString)
        case let value as any BinaryInteger: return Int(exactly: value).map { .int($0) } ?? .string("\(value)")
        case let value as any RawRepresentable: return self.value(of: value.rawValue)
        case is any Permanence: return nil
        default: break
        }
        let mirror = Mirror(reflecting: subject)
        switch mirror.displayStyle {
        case .optional:
            return mirror.children.first.flatMap { value(of: $0.value) }
        case .collection, .set:
            let elements = mirror.children.map { value(of: $0.value) }
            return elements.contains { $0 == nil } ? nil : .array(elements.compactMap { $0 })
        case .dictionary:
            var table: [String: ConfigValue] = [:]
            for pair in mirror.children {
                let parts = Array(Mirror(reflecting: pair.value).children)
                guard parts.count == 2, let key = parts[0].value as? String, let value = value(of: parts[1].value) else { return nil }
                table[key] = value
            }
            return .table(table)
        case .struct:
            var table: [String: ConfigValue] = [:]
            for child in mirror.children {
                guard let label = child.label, let value = value(of: child.value) else { continue }
                table[label] = value
            }
            return .table(table)
        case .enum:
            return .string("\(subject)")
        default:
            return nil
        }
    }
}
