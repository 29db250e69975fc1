import Foundation
import Tipi

/// What `tipi runs compare` shows, as text or JSON: the config keys that differ between runs, those that
/// are the same in all, and each metric's last, min and max per run.
struct RunsComparison: Encodable {
    /// The runs, in the order given, as `tipi runs --json` prints them.
    var runs: [RunsJSON.RunObject]
    /// Each run's status as the tables show it (`finished (incomplete)`); not in the JSON.
    var statuses: [String]
    /// Config keys (dotted) whose value differs, with the value per run (`nil` where a run lacks the key).
    var configDifferences: [String: [ConfigValue?]]
    /// Config keys (dotted) with the same value in every run.
    var configSame: [String: ConfigValue]
    /// Each metric any run logged: its summary per run, `nil` where a run did not log it.
    var metrics: [String: [MetricSummary?]]

    enum CodingKeys: String, CodingKey { case runs, configDifferences, configSame, metrics }

    init(_ stored: [RunStore.StoredRun]) {
        runs = stored.map(RunsJSON.RunObject.init)
        statuses = stored.map(RunsTable.statusText)
        let configs = stored.map { Dictionary(ConfigFlattening.flattenValues($0.metadata.config), uniquingKeysWith: { first, _ in first }) }
        var differences: [String: [ConfigValue?]] = [:]
        var same: [String: ConfigValue] = [:]
        for key in Set(configs.flatMap(\.keys)) {
            let values = configs.map { $0[key] }
            if let first = values[0], values.allSatisfy({ $0 == first }) {
                same[key] = first
            } else {
                differences[key] = values
            }
        }
        configDifferences = differences
        configSame = same
        var metrics: [String: [MetricSummary?]] = [:]
        for key in Set(stored.flatMap { $0.metadata.summary.keys }) {
            metrics[key] = stored.map { $0.metadata.summary[key] }
        }
        self.metrics = metrics
    }

    /// The comparison as one JSON object (sorted keys; NaN and infinities as strings, as in `runs --json`).
    func json() throws -> String {
        String(decoding: try RunsJSON.encoder().encode(self), as: UTF8.self)
    }

    /// The comparison as text: the differences as a table, the keys the same in all wrapped to `width`
    /// columns, and a table of last, min and max per metric and run.
    func lines(width: Int = 100) -> [String] {
        let labels = runs.map { "\($0.name) (\($0.id))" }
        var lines: [String] = []
        lines.append("config differences" + (configDifferences.isEmpty ? ": none" : ""))
        if !configDifferences.isEmpty {
            lines += RunsTable.table(
                [[""] + labels] + configDifferences.keys.sorted().map { key in [key] + (configDifferences[key] ?? []).map { $0?.description ?? "—" } })
        }
        if !configSame.isEmpty {
            lines.append("")
            lines.append("same in all runs (\(configSame.count) keys)")
            lines += Self.wrap(configSame.keys.sorted().map { "\($0)=\(configSame[$0]?.description ?? "")" }, width: width, indent: "  ")
        }
        lines.append("")
        if metrics.isEmpty {
            lines.append("metrics: none")
        } else {
            var rows = [["METRIC", "RUN", "LAST", "MIN", "MAX"]]
            for key in metrics.keys.sorted() {
                for (index, entry) in (metrics[key] ?? []).enumerated() {
                    rows.append([
                        index == 0 ? key : "", labels[index], entry.map { RunsTable.number($0.last) } ?? "—",
                        entry?.min.map(RunsTable.number) ?? "—", entry?.max.map(RunsTable.number) ?? "—",
                    ])
                }
            }
            lines += RunsTable.table(rows)
        }
        lines.append("")
        lines += RunsTable.table([
            ["status"] + statuses, ["duration"] + runs.map { RunsTable.duration($0.durationSeconds) },
        ])
        return lines.map { TerminalText.printable($0) }
    }

    /// `items` joined by ", " into lines of at most `width` characters (an item longer than that gets a
    /// line of its own), each starting with `indent`.
    static func wrap(_ items: [String], width: Int, indent: String) -> [String] {
        var lines: [String] = []
        var current = ""
        for item in items {
            let printable = TerminalText.printable(item)
            if current.isEmpty {
                current = indent + printable
            } else if current.count + 2 + printable.count <= width {
                current += ", " + printable
            } else {
                lines.append(current + ",")
                current = indent + printable
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
