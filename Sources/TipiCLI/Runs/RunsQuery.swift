import Foundation
import Tipi

/// `tipi runs --columns lr,epochs,val/loss.min --where 'val/loss.min<0.3' --sort val/loss.min`: columns,
/// conditions and order over the runs' fields, config values and summary metrics (the same names as the
/// dashboard's runs table).
///
/// A name is, in this order: a field (`name`, `id`, `project`, `status`, `started`, `duration`, `tags`,
/// `host`, `sweep`), a metric (its last value), a metric's `.last`, `.min`, `.max`, `.count` or `.step`, or
/// a config key (dotted: `optimizer.lr`).
struct RunsQuery {
    /// A condition: `COLUMN OP VALUE`.
    struct Condition: Equatable {
        var column: String
        var operation: String
        var value: String
    }

    var columns: [String] = []
    var conditions: [Condition] = []
    /// The sort column and direction.
    var sort: (column: String, descending: Bool)?

    static let fields = ["name", "id", "project", "status", "started", "duration", "tags", "host", "sweep"]
    static let metricFields = ["last", "min", "max", "count", "step"]
    static let operations = ["<=", ">=", "!=", "==", "<", ">", "=", "~"]

    /// Parses the options; a malformed one is an error naming it, what was expected and an example.
    init(columns: String?, where condition: String?, sort: String?) throws {
        if let columns {
            self.columns = columns.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard !self.columns.isEmpty, !self.columns.contains("") else {
                throw CLIError(TerminalText.printable("--columns '\(columns)': give names separated by commas, for example --columns lr,epochs,val/loss.min"))
            }
        }
        if let condition { conditions = try Self.parse(condition) }
        if let sort {
            let trimmed = sort.trimmingCharacters(in: .whitespaces)
            let descending = trimmed.hasPrefix("-")
            let column = descending ? String(trimmed.dropFirst()) : trimmed
            guard !column.isEmpty else {
                throw CLIError(TerminalText.printable("--sort '\(sort)': give a column, for example --sort val/loss.min (or -val/loss.min for largest first)"))
            }
            self.sort = (column, descending)
        }
    }

    var isEmpty: Bool { columns.isEmpty && conditions.isEmpty && sort == nil }

    /// `a<1, b=x and c>=2` → its conditions.
    static func parse(_ text: String) throws -> [Condition] {
        let parts = text.replacing(#/\s+and\s+/#, with: ",").split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        var conditions: [Condition] = []
        for part in parts {
            guard !part.isEmpty else {
                throw CLIError(TerminalText.printable("--where '\(text)': an empty condition; separate conditions with ',' or 'and', for example --where 'lr=0.01, val/loss.min<0.3'"))
            }
            var found: (column: String, operation: String, value: String)?
            for operation in operations {
                if let range = part.range(of: operation) {
                    let column = part[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                    let value = part[range.upperBound...].trimmingCharacters(in: .whitespaces)
                    if found == nil || column.count < found?.column.count ?? 0 { found = (column, operation, value) }
                }
            }
            guard let found, !found.column.isEmpty, !found.value.isEmpty,
                !operations.contains(where: { found.value.hasPrefix($0) })
            else {
                throw CLIError(TerminalText.printable(
                    "--where '\(text)': '\(part)' is not COLUMN OP VALUE with OP one of <, <=, >, >=, =, !=, ~ (contains); "
                        + "for example --where 'val/loss.min<0.3'"))
            }
            let value = found.value.count >= 2 && (found.value.hasPrefix("'") && found.value.hasSuffix("'") || found.value.hasPrefix("\"") && found.value.hasSuffix("\""))
                ? String(found.value.dropFirst().dropLast()) : found.value
            conditions.append(Condition(column: found.column, operation: found.operation == "==" ? "=" : found.operation, value: value))
        }
        return conditions
    }

    /// A column's value for `run`: a number, a text, or `nil` when the run does not have it.
    enum Value: Equatable {
        case number(Double)
        case text(String)

        var description: String {
            switch self {
            case .number(let value): RunsTable.number(value)
            case .text(let text): text
            }
        }
    }

    static func value(_ column: String, of run: RunStore.StoredRun, now: Double) -> Value? {
        let metadata = run.metadata
        switch column {
        case "name": return .text(metadata.name)
        case "id": return .text(metadata.id)
        case "project": return .text(metadata.project)
        case "status": return .text(RunsTable.statusText(run))
        case "started": return .number(metadata.startTime)
        case "duration":
            let end = metadata.endTime ?? (run.status == .running ? now : (metadata.heartbeat ?? metadata.startTime))
            return .number(end - metadata.startTime)
        case "tags": return .text(metadata.tags.joined(separator: ","))
        case "host": return .text(metadata.host)
        case "sweep": return metadata.sweep.map { .text($0.id) }
        default: break
        }
        if let summary = metadata.summary[column] { return .number(summary.last) }
        if let dot = column.lastIndex(of: "."), let summary = metadata.summary[String(column[..<dot])] {
            switch column[column.index(after: dot)...] {
            case "last": return .number(summary.last)
            case "min": return summary.min.map { .number($0) }
            case "max": return summary.max.map { .number($0) }
            case "count": return .number(Double(summary.count))
            case "step": return .number(Double(summary.step))
            default: break
            }
        }
        let config = ConfigFlattening.flattenValues(metadata.config)
        guard let value = config.first(where: { $0.0 == column })?.1 else { return nil }
        switch value {
        case .int(let number): return .number(Double(number))
        case .double(let number): return .number(number)
        case .bool(let flag): return .text(flag ? "true" : "false")
        case .string(let text): return .text(text)
        default: return .text(value.description)
        }
    }

    /// Every name some run has, for suggestions.
    static func knownNames(_ runs: [RunStore.StoredRun]) -> [String] {
        var names = Set(fields)
        for run in runs {
            for key in run.metadata.summary.keys {
                names.insert(key)
                for field in metricFields { names.insert("\(key).\(field)") }
            }
            for (key, _) in ConfigFlattening.flattenValues(run.metadata.config) { names.insert(key) }
        }
        return names.sorted()
    }

    /// Checks that every name is known to some run (else an error with the nearest name).
    func check(_ runs: [RunStore.StoredRun]) throws {
        guard !runs.isEmpty else { return }
        let known = Set(Self.knownNames(runs))
        let used = columns.map { ("--columns", $0) } + conditions.map { ("--where", $0.column) } + (sort.map { [("--sort", $0.column)] } ?? [])
        for (option, name) in used where !known.contains(name) {
            let suggestion = Suggestion.nearest(to: name, in: Array(known))
            throw CLIError(TerminalText.printable(
                "\(option): no run has '\(name)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
                    + " (names: run fields such as name, status, duration; config keys such as lr; metrics such as loss, loss.min, loss.max)"))
        }
    }

    /// The runs that meet every condition, in the asked order (missing values last).
    func apply(_ runs: [RunStore.StoredRun], now: Double) -> [RunStore.StoredRun] {
        var selected = runs.filter { run in conditions.allSatisfy { Self.holds($0, for: Self.value($0.column, of: run, now: now)) } }
        if let sort {
            let keyed = selected.map { ($0, Self.value(sort.column, of: $0, now: now)) }
            selected = keyed.enumerated().sorted { left, right in
                switch (left.element.1, right.element.1) {
                case (nil, nil): return left.offset < right.offset
                case (nil, _): return false
                case (_, nil): return true
                case (let a?, let b?):
                    let order = Self.order(a, b)
                    if order == 0 { return left.offset < right.offset }
                    return sort.descending ? order > 0 : order < 0
                }
            }.map(\.element.0)
        }
        return selected
    }

    static func order(_ a: Value, _ b: Value) -> Int {
        switch (a, b) {
        case (.number(let x), .number(let y)):
            if x.isNaN || y.isNaN { return x.isNaN == y.isNaN ? 0 : (x.isNaN ? 1 : -1) }
            return x < y ? -1 : (x > y ? 1 : 0)
        default:
            let (x, y) = (a.description, b.description)
            return x < y ? -1 : (x > y ? 1 : 0)
        }
    }

    static func holds(_ condition: Condition, for value: Value?) -> Bool {
        guard let value else { return false }
        if condition.operation == "~" { return value.description.contains(condition.value) }
        let order: Int
        if case .number(let number) = value, let wanted = Double(condition.value) {
            if number.isNaN || wanted.isNaN { return condition.operation == "!=" }
            order = number < wanted ? -1 : (number > wanted ? 1 : 0)
        } else {
            order = Self.order(.text(value.description), .text(condition.value))
        }
        switch condition.operation {
        case "<": return order < 0
        case "<=": return order <= 0
        case ">": return order > 0
        case ">=": return order >= 0
        case "!=": return order != 0
        default: return order == 0
        }
    }

    /// The table: NAME and ID, then the asked columns.
    func table(_ runs: [RunStore.StoredRun], now: Double) -> [String] {
        var rows = [["NAME", "ID"] + columns]
        for run in runs {
            rows.append([run.metadata.name, run.metadata.id] + columns.map { column in
                guard let value = Self.value(column, of: run, now: now) else { return "—" }
                if column == "duration", case .number(let seconds) = value { return RunsTable.duration(seconds) }
                if column == "started", case .number(let seconds) = value { return RunsTable.timestamp(seconds) }
                return value.description
            })
        }
        return RunsTable.table(rows)
    }
}
