import Foundation
import TOMLKit

/// Reads a TOML config into a ``ConfigTable`` whose values know their file, line and column, keeping the
/// order keys were written in (process order is file order), and applies `--set` overrides.
public enum ConfigLoader {
    /// Reads and parses a config file.
    public static func load(file path: String) throws(ConfigProblems) -> ConfigTable {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            let nearby = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.filter { $0.hasSuffix(".toml") } ?? []
            let suggestion = Suggestion.nearest(to: URL(fileURLWithPath: path).lastPathComponent, in: nearby)
            throw ConfigProblems([
                ConfigProblem(
                    code: "CFG001", message: "configuration file not found: \(path)",
                    help: suggestion.map { "did you mean \(directory)/\($0)?" }
                        ?? (nearby.isEmpty ? "pass the config's path, e.g. `run configs/pipeline.toml`" : "configs there: \(nearby.joined(separator: ", "))"))
            ])
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigProblems([
                ConfigProblem(code: "CFG002", message: "cannot read \(path) as UTF-8 text (check its permissions and encoding)")
            ])
        }
        return try parse(text: text, file: path)
    }

    /// Parses TOML text; `file` names it in messages.
    public static func parse(text: String, file: String) throws(ConfigProblems) -> ConfigTable {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigProblems([
                ConfigProblem(
                    code: "CFG003",
                    location: SourceLocation(file: file, line: error.source.begin.line, column: error.source.begin.column),
                    message: "invalid TOML: \(error.description)",
                    help: "check the line for a missing quote, bracket or `=`")
            ])
        } catch {
            throw ConfigProblems([ConfigProblem(code: "CFG003", message: "invalid TOML in \(file): \(error)")])
        }
        let locator = TOMLLocator(text: text, file: file)
        return convert(table, path: [], locator: locator)
    }

    private static func convert(_ table: TOMLTable, path: [String], locator: TOMLLocator) -> ConfigTable {
        var entries: [(key: String, value: ConfigNode, order: Int)] = []
        for key in table.keys {
            guard let value = table[key] else { continue }
            let place = locator.place(path + [key])
            entries.append((key, convert(value, path: path + [key], locator: locator), place?.order ?? Int.max))
        }
        entries.sort { $0.order < $1.order }
        return ConfigTable(entries: entries.map { ($0.key, $0.value) })
    }

    private static func convert(_ value: TOMLValueConvertible, path: [String], locator: TOMLLocator) -> ConfigNode {
        let location = locator.place(path)?.value
        switch value.type {
        case .table:
            guard let table = value.table else { return .table(ConfigTable(), location) }
            return .table(convert(table, path: path, locator: locator), location)
        case .array:
            guard let array = value.array else { return .array([], location) }
            return .array(array.map { convert($0, path: path, locator: locator) }, location)
        case .string: return .string(value.string ?? "", location)
        case .int: return .int(value.int ?? 0, location)
        case .double: return .double(value.double ?? 0, location)
        case .bool: return .bool(value.bool ?? false, location)
        case .date, .time, .dateTime: return .date(value.debugDescription, location)
        }
    }

    /// Applies `--set a.b.c=value` overrides. The value is read as TOML (`3`, `0.5`, `true`, `"text"`,
    /// `[1, 2]`); anything that is not TOML is taken as a string (`--set processes.train.params.opt=adam`).
    public static func apply(overrides: [String], to table: ConfigTable) throws(ConfigProblems) -> ConfigTable {
        var result = table
        var problems: [ConfigProblem] = []
        for override in overrides {
            guard let equals = override.firstIndex(of: "="), equals != override.startIndex else {
                problems.append(
                    ConfigProblem(
                        code: "CFG005", location: SourceLocation(file: "", line: 0, column: 0, override: override),
                        message: "expected KEY=VALUE", help: "for example --set processes.training.params.epochs=3"))
                continue
            }
            let path = override[..<equals].split(separator: ".").map(String.init)
            let text = String(override[override.index(after: equals)...])
            let location = SourceLocation(file: "", line: 0, column: 0, override: override)
            let node: ConfigNode
            if let parsed = try? TOMLTable(string: "value = \(text)"), let value = parsed["value"] {
                node = relocate(convert(value, path: [], locator: TOMLLocator(text: "", file: "")), to: location)
            } else {
                node = .string(text, location)
            }
            do throws(ConfigProblem) {
                try set(node, at: path[...], in: &result, full: path, location: location)
            } catch {
                problems.append(error)
            }
        }
        guard problems.isEmpty else { throw ConfigProblems(problems) }
        return result
    }

    private static func set(
        _ node: ConfigNode, at path: ArraySlice<String>, in table: inout ConfigTable, full: [String], location: SourceLocation
    ) throws(ConfigProblem) {
        guard let first = path.first else { return }
        if path.count == 1 {
            table[first] = node
            return
        }
        var inner: ConfigTable
        switch table[first] {
        case nil: inner = ConfigTable()
        case .table(let existing, _)?: inner = existing
        case let other?:
            let prefix = full.prefix(full.count - path.count + 1).joined(separator: ".")
            throw ConfigProblem(
                code: "CFG005", location: location, path: prefix,
                message: "is a \(other.typeName) (\(other.text)), not a table, so it has no key '\(path.dropFirst().first ?? "")'")
        }
        try set(node, at: path.dropFirst(), in: &inner, full: full, location: location)
        table[first] = .table(inner, table[first]?.location ?? location)
    }

    private static func relocate(_ node: ConfigNode, to location: SourceLocation) -> ConfigNode {
        switch node {
        case .int(let value, _): return .int(value, location)
        case .double(let value, _): return .double(value, location)
        case .string(let value, _): return .string(value, location)
        case .bool(let value, _): return .bool(value, location)
        case .date(let value, _): return .date(value, location)
        case .array(let values, _): return .array(values.map { relocate($0, to: location) }, location)
        case .table(let table, _):
            return .table(ConfigTable(entries: table.entries.map { ($0.key, relocate($0.value, to: location)) }), location)
        }
    }
}
