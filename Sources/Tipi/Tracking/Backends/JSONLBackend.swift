import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Python tipi's BasicLogger file: `metrics.jsonl`, one JSON object per value, fields in the order
/// `name, value, pattern, stage, split, step, step_policy`, written as Python's `json.dumps` writes them,
/// so existing tipi tooling reads Tipi runs.
///
/// `train/loss` becomes `"pattern": "loss", "split": "train"`; a key without `/` has `"pattern"` equal to
/// the key and no split. NaN and infinities are written as Python writes them (`NaN`, `Infinity`).
final class JSONLBackend: TrackingBackend {
    private var descriptor: Int32 = -1
    private var path = ""
    private(set) var state = RunMetadata.BackendState()
    private let explicitPath: String?

    /// - Parameter path: Where to write; `metrics.jsonl` in the run folder by default.
    init(path: String? = nil) {
        explicitPath = path
    }

    func start(_ run: RunDescription) throws {
        path = explicitPath ?? run.folder.appendingPathComponent("metrics.jsonl").path
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        // A backend that cannot start is recorded as incomplete, with the reason (run.json, one warning).
        func fail(_ reason: String) -> RunStoreProblem {
            state = RunMetadata.BackendState(location: path, complete: false, error: reason)
            return RunStoreProblem(text: reason)
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw fail("cannot create \(directory) for \(path): \(RunStore.reason(error))")
        }
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw fail("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        state = RunMetadata.BackendState(location: path, complete: true)
    }

    func write(_ batch: MetricBatch, keys: [String]) throws {
        var text = ""
        text.reserveCapacity(batch.valueCount * 110)
        let described = keys.map(Self.describe)
        for row in 0..<batch.rowCount {
            let step = String(batch.rows[row].step)
            for position in batch.range(ofRow: row) {
                let key = described[Int(batch.entries[position].key)]
                text += "{\"name\": \(key.name), \"value\": \(JSONNumber.text(batch.entries[position].value)), "
                text += "\"pattern\": \(key.pattern), \"stage\": null, \"split\": \(key.split), "
                text += "\"step\": \(step), \"step_policy\": \"advance\"}\n"
            }
        }
        let (_, failure) = writeFully(Array(text.utf8), to: descriptor)
        if let failure {
            // A full disk or a closed file: the backend stops (the worker warns once), and run.json says
            // the JSONL file is incomplete. The run store still has every value.
            state.complete = false
            state.error = "cannot write \(path): \(failure)"
            close(descriptor)
            descriptor = -1
            throw RunStoreProblem(text: "cannot write \(path): \(failure)")
        }
    }

    func finish(status: RunStatus, summary: [String: MetricSummary], deadline: Double) throws {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    /// JSON fragments for a key: its name, pattern and split.
    static func describe(_ key: String) -> (name: String, pattern: String, split: String) {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        let pattern = parts.last.map(String.init) ?? key
        let split = parts.count > 1 ? JSONNumber.quote(String(parts[0])) : "null"
        return (JSONNumber.quote(key), JSONNumber.quote(pattern), split)
    }
}
