import Foundation
import Tipi

/// The config a pipeline run records: every param of every process and permanence — defaults included —
/// and where each value came from.
///
/// `values` keeps the shape of the file, with params always under `params` (the flat form is moved
/// there), so that `tipi runs compare` compares like with like whichever form a config used:
/// `{"processes": {"training": {"type": "train", "params": {"epochs": 40, "learningRate": 0.5, "data": "data"}}}, …}`.
/// `sources` has one entry per leaf, by dotted key: `file PATH:LINE:COLUMN`, `--set KEY=VALUE`, `sweep KEY=VALUE`
/// (the value of a sweep's point), or `default` — the text of `config-sources.json`, written as the config
/// is walked. `valuesText` is `values` as `run.json` holds it, also written along (a pipeline has an entry
/// per process: writing it from the finished dictionaries cost more than making them).
struct ResolvedConfig {
    /// The resolved config, as the run records it: its text, and the values made only when asked for.
    let config: RunConfig
    var sources: ConfigSourcesText
    /// `values` as ``PrettyJSONWriter/table(_:indent:)`` writes it at indent 1 (`run.json`'s `config`): the
    /// text ``config`` holds.
    var valuesText: [UInt8] { config.text }

    /// The values (made on first use: a pipeline that records only into the store never needs them).
    var values: [String: ConfigValue] { config.values }

    /// The resolved config of a built pipeline.
    init(_ pipeline: BuiltPipeline) {
        var walk = Self.walk(pipeline, keepingValues: false)
        if walk.repeatedKeys {
            // Two processes (or permanences) of one key: written from the dictionaries (rare).
            walk = Self.walk(pipeline, keepingValues: true)
        }
        sources = walk.sources
        var text = walk.text
        if text == nil {
            var writer = PrettyJSONWriter()
            writer.table(walk.values, indent: 1)
            text = writer.bytes
        }
        config = RunConfig(text: text ?? [], values: { Self.values(of: pipeline) })
    }

    /// The values of a built pipeline's resolved config (``values``, without the texts' use).
    static func values(of pipeline: BuiltPipeline) -> [String: ConfigValue] {
        walk(pipeline, keepingValues: true).values
    }

    /// What walking a pipeline's config gives: the sources' text, the values' text (when they are not kept),
    /// and the values themselves when kept (else only the small sections, `pipeline` and `permanences`;
    /// `processes` is then left empty).
    private struct Walk {
        var values: [String: ConfigValue]
        var sources: ConfigSourcesText
        /// `values` as ``PrettyJSONWriter/table(_:indent:)`` writes it at indent 1, written along when the
        /// values are not kept; `nil` when they are (then written from them, if needed), or after repeated keys.
        var text: [UInt8]?
        /// Whether two processes or permanences have one key (their sources' keys are the same then).
        var repeatedKeys: Bool
    }

    /// Walks a built pipeline's config: every param of every process and permanence, defaults included.
    ///
    /// Without keeping the values, the processes are walked in `JSONEncoder`'s order of their keys, their
    /// text written straight into the config's (``ProcessesText``): a key met twice ends the walk (the
    /// caller walks again, keeping the values). Keeping them, the processes are walked in their order (the
    /// last of one key is the one kept).
    private static func walk(_ pipeline: BuiltPipeline, keepingValues keep: Bool) -> Walk {
        var values: [String: ConfigValue] = [:]
        var sources = ConfigSourcesText()
        sources.reserveCapacity(entries: 3 * (pipeline.processes.count + pipeline.permanences.count))
        let document = pipeline.document
        if let settings = document["pipeline"] {
            values["pipeline"] = settings.configValue
            let mark = sources.push("pipeline")
            sources.add(settings)
            sources.pop(to: mark)
        }
        var permanences: [String: ConfigValue] = [:]
        let section = sources.push("permanences")
        for entry in pipeline.permanences {
            let base = sources.push(entry.key)
            let node = document["permanences"]?.table?[entry.key]
            let written = Self.params(of: node)
            var params: [String: ConfigValue] = [:]
            let fields = Self.fields(of: entry.permanence)
            let paramsMark = sources.push(literal: "params")
            for name in Set(entry.params).union(written?.keys ?? []).sorted() {
                let mark = sources.push(name)
                if let value = written?[name] {
                    params[name] = value.configValue
                    sources.add(value)
                } else if let field = fields[name] ?? fields[Self.camelCase(name)], let value = Self.value(of: field) {
                    params[name] = value
                    sources.add(nil as SourceLocation?)
                }
                sources.pop(to: mark)
            }
            sources.pop(to: paramsMark)
            permanences[entry.key] = .table(["type": .string(entry.typeName), "params": .table(params)])
            if let type = node?.table?["type"] {
                let mark = sources.push(literal: "type")
                sources.add(type)
                sources.pop(to: mark)
            }
            sources.pop(to: base)
        }
        sources.pop(to: section)
        if !permanences.isEmpty || document["permanences"] != nil { values["permanences"] = .table(permanences) }

        var processes: [String: ConfigValue] = [:]
        if keep { processes.reserveCapacity(pipeline.processes.count) }
        let hasProcesses = !pipeline.processes.isEmpty || document["processes"] != nil
        // The order the processes are walked in: their keys' order (the text's), or theirs when keeping values.
        let order =
            keep
            ? Array(pipeline.processes.indices)
            : PrettyJSONWriter.sortedOrder(of: pipeline.processes.indices.map { pipeline.processes[$0].key })
        var repeatedKeys = false
        if !keep {
            for position in order.indices.dropFirst() where pipeline.processes[order[position]].key == pipeline.processes[order[position - 1]].key {
                // Two processes of one key: their text is written from the dictionaries (the caller walks again).
                return Walk(values: values, sources: sources, text: nil, repeatedKeys: true)
            }
        }
        // The config's text up to the processes: the sections before `processes` in `JSONEncoder`'s order.
        var text: ProcessesText?
        var sectionsText = PrettyJSONWriter()
        var sectionNames: [String] = []
        if !keep {
            sectionNames = Array(values.keys)
            if hasProcesses { sectionNames.append("processes") }
            sectionNames.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            var writer = PrettyJSONWriter()
            writer.bytes.append(UInt8(ascii: "{"))
            for (position, name) in sectionNames.enumerated() {
                if position > 0 { writer.bytes.append(UInt8(ascii: ",")) }
                writer.key(name, indent: 2)
                if name == "processes" { break }
                if let value = values[name] { writer.value(value, indent: 2) }
            }
            if hasProcesses { text = ProcessesText(after: writer, count: pipeline.processes.count) } else { sectionsText = writer }
        }
        let processTables = document["processes"]?.table
        // The builder keeps the document's order: each process's table is the one at its position, looked up otherwise.
        let processNodes = processTables?.entries ?? []
        // Each type's parameter names, asked once (a pipeline often repeats a type many times).
        var declaredNames: [ObjectIdentifier: [String]] = [:]
        var lastType: (id: ObjectIdentifier, names: [String])?
        // One process's params in the order they come, then sorted for the text (reused: no array per process).
        var list: [(name: String, value: ConfigValue)] = []
        let processesMark = sources.push("processes")
        // Each process's fields are read in place (`pipeline.processes[index].key`): a copy of its whole entry
        // would retain and release its process too.
        for index in order {
            let key = pipeline.processes[index].key
            let typeName = pipeline.processes[index].typeName
            let base = sources.push(key)
            let node: ConfigNode?
            if index < processNodes.count, processNodes[index].key == key {
                node = processNodes[index].value
            } else {
                node = processTables?[key]
            }
            // The table's `type`, `force` and `params` in one pass (the rest are params written beside `type`).
            var typeNode: ConfigNode?
            var forceNode: ConfigNode?
            var explicit: ConfigTable?
            var flatCount = 0
            let table = node?.table
            for (name, value) in table?.entries ?? [] {
                switch name {
                case "type" where typeNode == nil: typeNode = value
                case "force" where forceNode == nil: forceNode = value
                case "params" where explicit == nil: explicit = value.table
                default: flatCount += 1
                }
            }
            let processType = type(of: pipeline.processes[index].process)
            let typeID = ObjectIdentifier(processType)
            let declared: [String]
            if let lastType, lastType.id == typeID {
                declared = lastType.names
            } else {
                declared = declaredNames[typeID] ?? processType.parameters.map(\.name)
                declaredNames[typeID] = declared
                lastType = (typeID, declared)
            }
            // Reflection only when a param is left to its default (or the type lists none).
            var reflected: [String: Any]?
            func fields() -> [String: Any] {
                if let reflected { return reflected }
                let fields = Self.fields(of: pipeline.processes[index].process)
                reflected = fields
                return fields
            }
            var params: [String: ConfigValue] = [:]
            list.removeAll(keepingCapacity: true)
            let paramsMark = sources.push(literal: "params")
            func addWritten(_ name: String, _ node: ConfigNode) {
                let value = node.configValue
                if keep { params[name] = value }
                list.append((name, value))
                let mark = sources.push(name)
                sources.add(node)
                sources.pop(to: mark)
            }
            // The params written: `params = { … }` (or a `[….params]` table), or the keys beside `type`.
            if let explicit {
                for (name, node) in explicit.entries { addWritten(name, node) }
            } else if flatCount > 0, let table {
                for (name, node) in table.entries where name != "type" && name != "params" && name != "force" { addWritten(name, node) }
            }
            // The others, left to their defaults.
            for name in (declared.isEmpty ? Array(fields().keys) : declared) where !list.contains(where: { $0.name == name }) {
                guard let field = fields()[name] else { continue }
                let value: ConfigValue
                if let permanence = Self.permanence(in: field), let key = pipeline.permanences.first(where: { $0.permanence === permanence })?.key {
                    value = .string(key)
                } else if let reflected = Self.value(of: field) {
                    value = reflected
                } else {
                    continue
                }
                if keep { params[name] = value }
                list.append((name, value))
                let mark = sources.push(name)
                sources.add(nil as SourceLocation?)
                sources.pop(to: mark)
            }
            sources.pop(to: paramsMark)
            if let typeNode {
                let mark = sources.push(literal: "type")
                sources.add(typeNode)
                sources.pop(to: mark)
            }
            var force: ConfigValue?
            if let node = forceNode {
                force = node.configValue
                let mark = sources.push(literal: "force")
                sources.add(node)
                sources.pop(to: mark)
            }
            sources.pop(to: base)
            if keep {
                var resolved: [String: ConfigValue] = ["type": .string(typeName), "params": .table(params)]
                if let force { resolved["force"] = force }
                processes[key] = .table(resolved)
            }
            text?.add(key: key, type: typeName, params: &list, force: force)
        }
        sources.pop(to: processesMark)
        // In the walk that keeps values, a key met twice is one entry of `processes`.
        if keep, processes.count != pipeline.processes.count { repeatedKeys = true }
        if permanences.count != pipeline.permanences.count { repeatedKeys = true }
        if repeatedKeys { sources.noteRepeatedKeys() }
        if hasProcesses { values["processes"] = .table(processes) }
        guard !keep, !repeatedKeys else { return Walk(values: values, sources: sources, text: nil, repeatedKeys: repeatedKeys) }
        // The sections after `processes` (none in a pipeline's config: kept general), and the closing line.
        var writer = text?.finish() ?? sectionsText
        if let processes = sectionNames.firstIndex(of: "processes") {
            for name in sectionNames[(processes + 1)...] {
                writer.bytes.append(UInt8(ascii: ","))
                writer.key(name, indent: 2)
                if let value = values[name] { writer.value(value, indent: 2) }
            }
        }
        if sectionNames.isEmpty { writer.newline(indent: 0) }
        writer.newline(indent: 1)
        writer.bytes.append(UInt8(ascii: "}"))
        return Walk(values: values, sources: sources, text: writer.bytes, repeatedKeys: false)
    }

    /// One process's or permanence's resolved table (`type`, `params`, `force`), to tell what a `--set` changed.
    static func entry(_ section: String, _ key: String, in values: [String: ConfigValue]) -> ConfigValue? {
        guard case .table(let entries)? = values[section] else { return nil }
        return entries[key]
    }

    /// The params table of a `[permanences.<key>]` node: `params = { … }`, or the keys beside `type` (the
    /// builder refused anything else).
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
