import Foundation

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
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigProblems([ConfigProblem(code: "CFG002", message: "cannot read \(path) (check its permissions)")])
        }
        if let (line, column) = firstInvalidUTF8(data) {
            throw ConfigProblems([
                ConfigProblem(
                    code: "CFG002", location: SourceLocation(file: path, line: line, column: column),
                    message: "not UTF-8 text: an invalid byte sequence", help: "save the config as UTF-8")
            ])
        }
        return try parse(text: String(decoding: data, as: UTF8.self), file: path)
    }

    /// The line and column of the first byte that is not UTF-8, if any.
    static func firstInvalidUTF8(_ data: Data) -> (line: Int, column: Int)? {
        var iterator = data.makeIterator()
        var decoder = UTF8()
        var line = 1
        var column = 1
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            case .emptyInput: return nil
            case .error: return (line, column)
            }
        }
    }

    /// Parses TOML text; `file` names it in messages.
    public static func parse(text: String, file: String) throws(ConfigProblems) -> ConfigTable {
        do throws(TOMLParser.SyntaxError) {
            return try TOMLParser.parse(text, file: file)
        } catch {
            throw ConfigProblems([
                ConfigProblem(
                    code: "CFG003", location: SourceLocation(file: file, line: error.line, column: error.column),
                    message: "invalid TOML: \(error.message)", help: error.help ?? "check the line for a missing quote, bracket or `=`")
            ])
        }
    }

    /// Applies `--set a.b.c=value` overrides. The value is read as TOML (`3`, `0.5`, `true`, `"text"`,
    /// `[1, 2]`); a bare word that is not TOML is taken as a string (`--set processes.train.params.opt=adam`).
    /// The key is a TOML dotted key (`processes."odd key".params.x`); a process or permanence it names must
    /// exist. Every malformed override is reported, together. `origin` says what gave them: `--set`, or
    /// `sweep` for the values of a sweep's point (recorded as the values' source).
    public static func apply(overrides: [String], to table: ConfigTable, origin: String = "--set") throws(ConfigProblems) -> ConfigTable {
        var result = table
        var problems: [ConfigProblem] = []
        for override in overrides {
            do throws(ConfigProblem) {
                let location = SourceLocation(
                    file: "", line: 0, column: 0, override: TerminalText.excerpt(override, limit: 200), overrideOrigin: origin)
                let (path, node) = try parse(override: override, location: location)
                try checkNamedEntry(path, in: result, location: location)
                try set(node, at: path[...], in: &result, full: path, location: location)
            } catch {
                problems.append(error)
            }
        }
        guard problems.isEmpty else { throw ConfigProblems(problems) }
        return result
    }

    /// The key path and value of one `--set KEY=VALUE` argument.
    private static func parse(override: String, location: SourceLocation) throws(ConfigProblem) -> ([String], ConfigNode) {
        func problem(_ message: String, help: String? = "for example --set processes.training.params.epochs=3") -> ConfigProblem {
            ConfigProblem(code: "CFG005", location: location, message: message, help: help)
        }
        guard let equals = override.firstIndex(of: "=") else { throw problem("expected KEY=VALUE, found no `=`") }
        let keyText = String(override[..<equals])
        let text = String(override[override.index(after: equals)...])
        guard !keyText.trimmingCharacters(in: .whitespaces).isEmpty else { throw problem("expected a key before `=`") }
        if !keyText.contains("\""), !keyText.contains("'"),
            keyText.split(separator: ".", omittingEmptySubsequences: false).contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty })
        {
            throw problem("empty key segment in '\(TerminalText.excerpt(keyText))'", help: "name every part: processes.training.params.epochs")
        }
        let path: [String]
        do throws(TOMLParser.SyntaxError) {
            path = try TOMLParser.parseKey(keyText)
        } catch {
            throw problem(
                "'\(TerminalText.excerpt(keyText))' is not a dotted key: \(error.message)",
                help: "keys are letters, digits, `_` and `-` separated by dots; quote other parts: processes.\"my key\".type")
        }
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw problem("no value after `=`", help: "write a value, or \(keyText)=\"\" for an empty string")
        }
        do throws(TOMLParser.SyntaxError) {
            return (path, relocate(try TOMLParser.parseValue(text), to: location))
        } catch {
            // A word that is not TOML is a string (`adam`, `2024-run`); a quoted, bracketed or braced value
            // must be valid TOML, and a number must fit.
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            var isOverflow = false
            do throws(TOMLParser.SyntaxError) {
                _ = try TOMLScalar.classify(trimmed, location: location)
            } catch {
                isOverflow = true
            }
            let startsLikeValue = trimmed.first.map { "\"'[{".contains($0) } ?? false
            guard startsLikeValue || isOverflow else { return (path, .string(text, location)) }
            throw problem(
                "the value is not valid TOML: \(error.message)",
                help: error.help ?? "quote text: \(keyText)='\"\(TerminalText.excerpt(text, limit: 40))\"'")
        }
    }

    /// An override below `processes.<key>` or `permanences.<key>` must name one that the config has.
    private static func checkNamedEntry(_ path: [String], in table: ConfigTable, location: SourceLocation) throws(ConfigProblem) {
        guard path.count > 2, let kind = ["processes": "process", "permanences": "permanence"][path[0]] else { return }
        let configured = table[path[0]]?.table?.keys ?? []
        guard !configured.contains(path[1]) else { return }
        throw ConfigProblem(
            code: "CFG005", location: location, path: "\(path[0]).\(TerminalText.printable(path[1]))",
            message: "no \(kind) '\(TerminalText.printable(path[1]))' in the config",
            help: Suggestion.nearest(to: path[1], in: configured).map { "did you mean `\(path[0]).\($0)`?" }
                ?? (configured.isEmpty ? "the config has no [\(path[0]).…] table" : "configured: \(configured.map { TerminalText.printable($0) }.joined(separator: ", "))"))
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
