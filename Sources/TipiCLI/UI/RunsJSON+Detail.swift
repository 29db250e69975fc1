import Foundation
import Tipi

extension RunsJSON {
    /// One run as `tipi runs show RUN --json` prints it, without the histories (the dashboard's
    /// `/api/runs/RUN`), plus `"metrics": {"loss": {"points": 120, "lastStep": 119}}` and every other
    /// top-level field of `run.json` that the show object does not have (a pipeline record, artifacts or a
    /// resolved config written by newer versions), copied as they are.
    static func detail(_ run: RunStore.StoredRun, history: MetricHistory) throws -> String {
        let object = DetailedRunObject(run: RunObject(run), metadata: run.metadata, damage: history.damage)
        let encoded = try encoder().encode(object)
        guard var fields = try JSONSerialization.jsonObject(with: encoded) as? [String: Any] else {
            return String(decoding: encoded, as: UTF8.self)
        }
        var metrics: [String: Any] = [:]
        for (name, series) in history.series {
            metrics[name] = ["points": series.values.count, "lastStep": series.steps.last ?? 0]
        }
        fields["metrics"] = metrics
        let file = run.folder.appendingPathComponent("run.json")
        if run.damage == nil, let data = try? Data(contentsOf: file),
            let stored = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        {
            for (key, value) in stored where fields[key] == nil { fields[key] = value }
        }
        let output = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        return String(decoding: output, as: UTF8.self)
    }
}
