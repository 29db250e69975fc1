import Foundation
import Tipi

/// The JSON of `tipi runs --json` and `tipi runs show --json` (documented in docs/tracking.md).
enum RunsJSON {
    /// One run, as `tipi runs --json` lists it.
    struct RunObject: Encodable {
        var id: String
        var project: String
        var name: String
        var status: String
        var startTime: String
        var endTime: String?
        var durationSeconds: Double
        var config: [String: ConfigValue]
        /// Where each value of `config` came from (pipelines; JSON key `config_sources`).
        var configSources: [String: String]?
        var summary: [String: MetricSummary]
        var tags: [String]
        var host: String
        var folder: String
        var sweep: RunMetadata.SweepMembership?
        /// Why `run.json` could not be read (status `damaged`); absent for a sound run.
        var damage: String?
        /// What the store could not write (a full disk); absent when everything was written.
        var unwritten: RunMetadata.UnwrittenMetrics?

        enum CodingKeys: String, CodingKey {
            case id, project, name, status, startTime, endTime, durationSeconds, config, summary, tags, host, folder, sweep
            case damage, unwritten
            case configSources = "config_sources"
        }

        init(_ run: RunStore.StoredRun) {
            let metadata = run.metadata
            id = metadata.id
            project = metadata.project
            name = metadata.name
            status = run.status.rawValue
            startTime = RunsTable.timestamp(metadata.startTime)
            endTime = metadata.endTime.map(RunsTable.timestamp)
            durationSeconds = ((metadata.endTime ?? metadata.heartbeat ?? metadata.startTime) - metadata.startTime)
            config = metadata.config
            configSources = metadata.configSources
            summary = metadata.summary
            tags = metadata.tags
            host = metadata.host
            folder = run.folder.path
            sweep = metadata.sweep
            damage = run.damage
            unwritten = metadata.unwritten
        }
    }

    /// `show` adds the rest of the metadata.
    struct DetailedRunObject: Encodable {
        var run: RunObject
        var metadata: RunMetadata
        var damage: MetricLogDamage
        /// The run's saved files.
        var artifacts: [Artifact] = []
        /// The path of the run's kept console output, if any.
        var outputLog: String?

        func encode(to encoder: any Encoder) throws {
            try run.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(metadata.command, forKey: Key("command"))
            try container.encode(metadata.workingDirectory, forKey: Key("workingDirectory"))
            try container.encode(metadata.pid, forKey: Key("pid"))
            try container.encodeIfPresent(metadata.git, forKey: Key("git"))
            try container.encodeIfPresent(metadata.device, forKey: Key("device"))
            try container.encodeIfPresent(metadata.notes, forKey: Key("notes"))
            try container.encodeIfPresent(metadata.group, forKey: Key("group"))
            try container.encode(metadata.backends, forKey: Key("backends"))
            try container.encode(metadata.swiftVersion, forKey: Key("swiftVersion"))
            try container.encode(metadata.tipiVersion, forKey: Key("tipiVersion"))
            try container.encodeIfPresent(metadata.os, forKey: Key("os"))
            try container.encodeIfPresent(metadata.packages, forKey: Key("packages"))
            try container.encodeIfPresent(metadata.packagesFile, forKey: Key("packagesFile"))
            try container.encodeIfPresent(metadata.deviceFallback, forKey: Key("deviceFallback"))
            try container.encodeIfPresent(metadata.pipeline, forKey: Key("pipeline"))
            try container.encodeIfPresent(metadata.resumedFrom, forKey: Key("resumed_from"))
            // What the reader of metrics.tipilog skipped: {"skippedRecords": 1, "skippedBytes": 53, …}.
            try container.encode(damage, forKey: Key("metricFile"))
            // Saved files: [{"name", "size", "sha256", "step", "time", "version"}], and the kept console output.
            try container.encode(artifacts, forKey: Key("artifacts"))
            try container.encodeIfPresent(outputLog, forKey: Key("outputLog"))
        }

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ string: String) { stringValue = string }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
    }

    /// Sorted keys; a non-finite number anywhere is written as a string instead of failing the output.
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }

    /// The array of `tipi runs --json` (written by ``writeList(_:)``, the bytes `encoder()` would write).
    static func list(_ runs: [RunStore.StoredRun]) -> String {
        writeList(runs)
    }

    /// The run object plus `"history": {"loss": [{"step": 0, "value": 0.9, "time": 1795912192.9}, …]}`;
    /// NaN and infinities are written as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
    static func show(_ run: RunStore.StoredRun, history: MetricHistory) throws -> String {
        let object = DetailedRunObject(
            run: RunObject(run), metadata: run.metadata, damage: history.damage, artifacts: run.artifacts, outputLog: run.outputLog?.path)
        var text = String(decoding: try encoder().encode(object), as: UTF8.self)
        guard text.hasSuffix("}") else { return text }
        text.removeLast()
        var parts: [String] = []
        for key in history.series.keys.sorted() {
            guard let series = history.series[key] else { continue }
            var points = ""
            points.reserveCapacity(series.values.count * 56)
            for index in series.values.indices {
                if index > 0 { points += "," }
                points += "{\"step\":\(series.steps[index]),\"value\":\(value(series.values[index])),\"time\":\(series.times[index])}"
            }
            parts.append("\(try quote(key)):[\(points)]")
        }
        text += ",\"history\":{" + parts.joined(separator: ",") + "}}"
        return text
    }

    static func value(_ number: Double) -> String {
        if number.isNaN { return "\"NaN\"" }
        if number.isInfinite { return number > 0 ? "\"Infinity\"" : "\"-Infinity\"" }
        return "\(number)"
    }

    static func quote(_ text: String) throws -> String {
        String(decoding: try JSONEncoder().encode(text), as: UTF8.self)
    }
}
