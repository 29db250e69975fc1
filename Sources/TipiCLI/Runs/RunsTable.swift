import Foundation
import Tipi

/// The text tables of `tipi runs`.
enum RunsTable {
    static func list(_ runs: [RunStore.StoredRun], now: Double) -> [String] {
        // A SWEEP column only when a listed run belongs to a sweep.
        let sweeps = runs.contains { $0.metadata.sweep != nil }
        var rows = [["NAME", "ID", "PROJECT", "STATUS", "STARTED", "DURATION"] + (sweeps ? ["SWEEP"] : []) + ["METRICS"]]
        for run in runs {
            let metadata = run.metadata
            let end = metadata.endTime ?? (run.status == .running ? now : (metadata.heartbeat ?? metadata.startTime))
            let sweep = metadata.sweep.map { "\($0.id)\($0.index.map { " #\($0)" } ?? "")" } ?? "-"
            rows.append(
                [
                    metadata.name, metadata.id, metadata.project, statusText(run), age(now - metadata.startTime),
                    duration(end - metadata.startTime),
                ] + (sweeps ? [sweep] : []) + [mainMetrics(metadata.summary)])
        }
        return table(rows)
    }

    /// The status column: `finished`, `crashed`, `damaged`, and `(incomplete)` when the store could not
    /// write every value.
    static func statusText(_ run: RunStore.StoredRun) -> String {
        run.status.rawValue + (run.metadata.unwritten != nil ? " (incomplete)" : "")
    }

    /// Up to three metrics, losses and accuracies first: `loss=0.31 acc=0.91`.
    static func mainMetrics(_ summary: [String: MetricSummary], limit: Int = 3) -> String {
        func rank(_ key: String) -> Int {
            let lowered = key.lowercased()
            if lowered.contains("loss") { return 0 }
            if lowered.contains("acc") { return 1 }
            return 2
        }
        let keys = summary.keys.sorted { (rank($0), $0) < (rank($1), $1) }.prefix(limit)
        return keys.map { "\($0)=\(number(summary[$0]?.last ?? .nan))" }.joined(separator: " ")
    }

    static func show(_ run: RunStore.StoredRun, history: MetricHistory) -> [String] {
        let metadata = run.metadata
        var lines = [
            "\(metadata.name)  (\(metadata.id), project \(metadata.project))",
            "status:     \(run.status.rawValue)" + (run.status == .crashed ? " (its process is gone and it never ended)" : ""),
            "started:    \(timestamp(metadata.startTime))",
        ]
        if let damage = run.damage {
            lines.append("damaged:    \(damage); what is shown comes from the folder name and the metric file")
        }
        if let unwritten = metadata.unwritten {
            lines.append(
                "unwritten:  \(unwritten.values) values (\(unwritten.steps) steps) could not be written to the store "
                    + "(\(unwritten.reason)); the summary counts them, the history does not have them")
        }
        if let end = metadata.endTime { lines.append("ended:      \(timestamp(end))  (\(duration(end - metadata.startTime)))") }
        if !metadata.host.isEmpty { lines.append("host:       \(metadata.host), pid \(metadata.pid)") }
        if !metadata.command.isEmpty { lines.append("command:    \(metadata.command.joined(separator: " "))") }
        if !metadata.workingDirectory.isEmpty { lines.append("directory:  \(metadata.workingDirectory)") }
        if let git = metadata.git { lines.append("git:        \(git.commit.prefix(12))\(git.dirty ? " (uncommitted changes)" : "")") }
        if let device = metadata.device {
            lines.append("device:     \(device) \(device.name)" + (metadata.deviceFallback.map { " — \($0)" } ?? ""))
        }
        if !metadata.swiftVersion.isEmpty {
            lines.append("built with: Swift \(metadata.swiftVersion), Tipi \(metadata.tipiVersion)" + (metadata.os.map { ", on \($0)" } ?? ""))
        }
        if let packages = metadata.packages, !packages.isEmpty {
            lines.append("packages:   " + packages.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if let previous = metadata.resumedFrom { lines.append("resumes:    run \(previous)") }
        if !metadata.tags.isEmpty { lines.append("tags:       \(metadata.tags.joined(separator: ", "))") }
        if let notes = metadata.notes { lines.append("notes:      \(notes)") }
        if let sweep = metadata.sweep { lines.append("sweep:      \(sweep.id)\(sweep.index.map { " #\($0)" } ?? "")") }
        lines.append("folder:     \(run.folder.path)")
        lines += RunsArtifacts.lines(run)
        for (name, state) in metadata.backends.sorted(by: { $0.key < $1.key }) {
            var text = "backend:    \(name)"
            if let location = state.location { text += " → \(location)" }
            if let remote = state.remoteID, name == "mlflow" { text += " (run \(remote))" }
            if state.complete == false { text += " — incomplete (\(state.sentSteps ?? 0) steps sent): \(state.error ?? "")" }
            lines.append(text)
        }
        if let dropped = metadata.droppedSteps { lines.append("dropped:    \(dropped) steps whose step number went backwards") }
        if let pipeline = metadata.pipeline { lines += RunsPipeline.lines(pipeline, running: run.status == .running) }
        if !metadata.config.isEmpty {
            lines.append("")
            lines.append("config")
            let sources = metadata.configSources ?? [:]
            for (key, value) in ConfigFlattening.flatten(metadata.config) {
                lines.append("  \(key) = \(value)" + (sources[key].map { "    (\($0))" } ?? ""))
            }
        }
        if !metadata.summary.isEmpty || !history.series.isEmpty {
            lines.append("")
            var rows = [["METRIC", "LAST", "MIN", "MAX", "POINTS", "LAST STEP"]]
            for key in Set(metadata.summary.keys).union(history.series.keys).sorted() {
                let series = history.series[key]
                let finite = series?.values.filter { !$0.isNaN } ?? []
                let last = series?.values.last ?? metadata.summary[key]?.last ?? .nan
                rows.append([
                    key, number(last), (finite.min() ?? metadata.summary[key]?.min).map(number) ?? "-",
                    (finite.max() ?? metadata.summary[key]?.max).map(number) ?? "-",
                    String(series?.values.count ?? metadata.summary[key]?.count ?? 0),
                    String(series?.steps.last ?? metadata.summary[key]?.step ?? 0),
                ])
            }
            lines += table(rows)
        }
        if !history.damage.isEmpty {
            lines.append("")
            for description in history.damage.descriptions { lines.append("note: \(description)") }
        }
        lines.append("")
        lines.append("plot a metric: \(ToolCommand.tipi("runs plot \(metadata.id) METRIC"))      all points: \(ToolCommand.tipi("runs show \(metadata.id) --json"))")
        return lines.map { TerminalText.printable($0) }
    }

    // MARK: - Formatting

    /// Aligned columns; every cell goes through `TerminalText.printable` (names, keys and values come
    /// from users and files and may hold escape sequences).
    static func table(_ rows: [[String]]) -> [String] {
        let rows = rows.map { $0.map { TerminalText.printable($0) } }
        guard let columns = rows.map(\.count).max() else { return [] }
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, text in
                column == row.count - 1 ? text : text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").replacing(#/ +$/#, with: "")
        }
    }

    static func number(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == value.rounded(), abs(value) < 1e9 { return String(Int(value)) }
        let magnitude = abs(value)
        if magnitude >= 1e-3, magnitude < 1e6 { return String(format: "%.4g", value) }
        return String(format: "%.3e", value)
    }

    /// How long ago, from seconds; `-` when unknown (a start or end time that is not a number in run.json).
    static func age(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "-" }
        let seconds = max(seconds, 0)
        if seconds < 60 { return "\(Int(seconds))s ago" }
        if seconds < 3600 { return "\(Int(seconds / 60))m ago" }
        if seconds < 86400 { return "\(Int(seconds / 3600))h ago" }
        // Days past Int's range (a start time of -1e308 in a hand-edited run.json) in exponent form.
        let days = seconds / 86400
        return days < 1e15 ? "\(Int(days))d ago" : String(format: "%.3gd ago", days)
    }

    /// A duration, from seconds; `-` when unknown.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "-" }
        if seconds >= 1e15 { return String(format: "%.3gh", seconds / 3600) }
        let total = Int(max(seconds, 0))
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
        return "\(total / 3600)h\(String(format: "%02d", (total % 3600) / 60))m"
    }

    static func timestamp(_ seconds: Double) -> String {
        // gmtime_r for the usual years (an ISO8601DateFormatter per call cost ~0.3 ms: `tipi runs --json`
        // over 10,000 runs took seconds); the formatter for anything else, as before.
        if seconds.isFinite, seconds >= 0, seconds < 253_402_300_800 {
            var time = time_t(seconds.rounded(.down))
            var parts = tm()
            if gmtime_r(&time, &parts) != nil {
                return String(
                    format: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                    parts.tm_hour, parts.tm_min, parts.tm_sec)
            }
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}

/// Config tables flattened to `optimizer.lr = 0.01` lines.
enum ConfigFlattening {
    /// The config as sorted `(dotted key, value text)` pairs.
    static func flatten(_ config: [String: ConfigValue]) -> [(String, String)] {
        flattenValues(config).map { ($0.0, $0.1.description) }
    }

    /// The config as sorted `(dotted key, value)` pairs: tables are opened, lists are values.
    static func flattenValues(_ config: [String: ConfigValue], prefix: String = "") -> [(String, ConfigValue)] {
        config.keys.sorted().flatMap { key -> [(String, ConfigValue)] in
            let name = prefix.isEmpty ? key : "\(prefix).\(key)"
            guard let value = config[key] else { return [] }
            if case .table(let inner) = value { return flattenValues(inner, prefix: name) }
            return [(name, value)]
        }
    }
}
