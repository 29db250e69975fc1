import Foundation
import Tipi

/// The JSON of `tipi sweeps --json` and `tipi sweeps show SWEEP --json` (documented in docs/sweeps.md).
enum SweepsJSON {
    /// A point: `index`, `params`, `run` (or null), `status`, `value` (or null), `stopped`.
    struct PointObject: Encodable {
        var point: SweepRecord.Point

        enum Key: String, CodingKey { case index, params, run, status, value, stopped }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(point.index, forKey: .index)
            try container.encode(point.params, forKey: .params)
            try container.encode(point.run, forKey: .run)
            try container.encode(point.status, forKey: .status)
            try container.encode(point.value, forKey: .value)
            try container.encode(point.stopped ?? false, forKey: .stopped)
        }
    }

    /// A sweep: `id`, `project`, `method`, `metric`, `goal`, `status`, `launcher`, `parallel`, `trials`,
    /// `seed`, `parameters`, `created`, `folder`, `points` (best first) and `best` (or null).
    struct SweepObject: Encodable {
        var record: SweepRecord
        var folder: String
        var withPoints: Bool

        enum Key: String, CodingKey {
            case id, project, method, metric, goal, status, launcher, parallel, trials, seed, parameters, created, folder, points, best
            case counts
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(record.id, forKey: .id)
            try container.encode(record.project, forKey: .project)
            try container.encode(record.method, forKey: .method)
            try container.encode(record.metric.isEmpty ? nil : record.metric, forKey: .metric)
            try container.encode(record.goal, forKey: .goal)
            try container.encode(record.status, forKey: .status)
            try container.encode(record.launcher, forKey: .launcher)
            try container.encode(record.parallel, forKey: .parallel)
            try container.encode(record.trials, forKey: .trials)
            try container.encode(record.seed, forKey: .seed)
            try container.encode(record.parameters, forKey: .parameters)
            try container.encode(RunsTable.timestamp(record.createdTime), forKey: .created)
            try container.encode(folder, forKey: .folder)
            try container.encode(SweepsTable.counts(record), forKey: .counts)
            if withPoints { try container.encode(record.ranked.map(PointObject.init), forKey: .points) }
            try container.encode(record.best.map(PointObject.init), forKey: .best)
        }
    }

    static func list(_ records: [SweepRecord], store: RunStore) throws -> String {
        String(decoding: try RunsJSON.encoder().encode(records.map { SweepObject(record: $0, folder: store.sweepFolder($0.id).path, withPoints: false) }), as: UTF8.self)
    }

    static func show(_ record: SweepRecord, store: RunStore) throws -> String {
        String(decoding: try RunsJSON.encoder().encode(SweepObject(record: record, folder: store.sweepFolder(record.id).path, withPoints: true)), as: UTF8.self)
    }
}

/// The tables of `tipi sweeps` and `tipi sweeps show`.
enum SweepsTable {
    /// Points per state: `finished`, `running`, `failed`, `stopped`, `pending`, `interrupted`.
    static func counts(_ record: SweepRecord) -> [String: Int] {
        var counts: [String: Int] = [:]
        for point in record.points {
            let key = point.stopped == true ? "stopped" : (point.status == "crashed" || point.status == "damaged" ? "failed" : point.status)
            counts[key, default: 0] += 1
        }
        return counts
    }

    static func list(_ records: [SweepRecord]) -> [String] {
        var rows = [["SWEEP", "PROJECT", "METHOD", "STATUS", "POINTS", "METRIC", "BEST"]]
        for record in records {
            let counts = counts(record)
            let done = (counts["finished"] ?? 0) + (counts["stopped"] ?? 0)
            let best = record.best?.value.map { "\(RunsTable.number($0)) (#\(record.best?.index ?? 0))" } ?? "-"
            rows.append([
                record.id, record.project, record.method, record.status, "\(done)/\(record.trials)",
                record.metric.isEmpty ? "-" : "\(record.metric) (\(record.goal == "maximize" ? "max" : "min"))", best,
            ])
        }
        return RunsTable.table(rows)
    }

    static func show(_ record: SweepRecord) -> [String] {
        let counts = counts(record)
        var lines = [
            "sweep:      \(record.id) (\(record.status))",
            "project:    \(record.project)",
            "method:     \(record.method), \(record.launcher), \(record.parallel) at once, seed \(record.seed)",
            "metric:     " + (record.metric.isEmpty ? "-" : "\(record.metric) (\(record.goal))"),
            "points:     " + counts.keys.sorted().map { "\(counts[$0] ?? 0) \($0)" }.joined(separator: ", "),
        ]
        if let best = record.best, let value = best.value {
            lines.append("best:       #\(best.index) \(record.metric) = \(RunsTable.number(value)) (run \(best.run ?? "-"))")
        }
        lines.append("")
        var rows = [["#"] + record.parameters.map { String($0.split(separator: ".").last ?? Substring($0)) } + ["RUN", "STATUS", record.metric.isEmpty ? "VALUE" : record.metric]]
        for point in record.ranked {
            let status = point.stopped == true ? "stopped early" : point.status
            rows.append(
                ["\(point.index)"] + record.parameters.map { TerminalText.excerpt(point.params[$0]?.description ?? "-", limit: 40) }
                    + [point.run ?? "-", status, point.value.map(RunsTable.number) ?? "-"])
        }
        return lines + RunsTable.table(rows)
    }
}
