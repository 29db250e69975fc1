import Foundation

extension RunStore {
    /// A run whose `run.json` is missing or unreadable, rebuilt from what is left: the id and start time
    /// from the folder name (`YYYYMMDD-HHMMSS-<id>`), the project from its folder, the fields of a
    /// damaged `run.json` that still parse, and the summary from the metric file.
    static func damagedRun(_ folder: URL, reason: String, partial: Data?) -> StoredRun {
        let folderName = folder.lastPathComponent
        let parts = folderName.split(separator: "-", omittingEmptySubsequences: false)
        let id = parts.count >= 3 ? String(parts[parts.count - 1]) : folderName
        var startTime = parts.count >= 3 ? folderTime(String(parts[0]), String(parts[1])) : nil
        var name = folderName
        var project = folder.deletingLastPathComponent().lastPathComponent
        var host = ""
        var pid: Int32 = 0
        if let partial, let object = try? JSONSerialization.jsonObject(with: partial) as? [String: Any] {
            // A run.json that is valid JSON but misses or mistypes some field: keep what it still says.
            if let value = object["name"] as? String { name = value }
            if let value = object["project"] as? String { project = value }
            if let value = object["startTime"] as? Double { startTime = value }
            if let value = object["host"] as? String { host = value }
            if let value = object["pid"] as? Int, let narrow = Int32(exactly: value) { pid = narrow }
        }
        var reasons = [reason]
        var summary: [String: MetricSummary] = [:]
        do {
            let history = MetricHistory(contents: try MetricLog.read(folder.appendingPathComponent(metricsFile).path))
            for (key, series) in history.series {
                guard var item = series.values.first.map({ MetricSummary(value: $0, step: series.steps[0]) }) else { continue }
                for index in series.values.indices.dropFirst() { item.add(series.values[index], step: series.steps[index]) }
                summary[key] = item
            }
        } catch {
            reasons.append("the metric file cannot be read either: \(error)")
        }
        let metadata = RunMetadata(
            id: id, project: project, name: name, status: .damaged, startTime: startTime ?? 0, endTime: nil, config: [:],
            tags: [], notes: nil, group: nil, host: host, pid: pid, processStart: nil, command: [], workingDirectory: "",
            git: nil, swiftVersion: "", tipiVersion: "", device: nil, sweep: nil, backends: [:], summary: summary,
            heartbeat: nil, droppedSteps: nil, pipeline: nil)
        return StoredRun(metadata: metadata, folder: folder, status: .damaged, damage: reasons.joined(separator: "; "))
    }

    /// Unix seconds of a folder name's `YYYYMMDD` and `HHMMSS` (UTC), or `nil`.
    static func folderTime(_ day: String, _ time: String) -> Double? {
        guard day.count == 8, time.count == 6, day.allSatisfy(\.isASCII), time.allSatisfy(\.isASCII) else { return nil }
        var components = DateComponents()
        components.timeZone = TimeZone(identifier: "UTC")
        components.year = Int(day.prefix(4))
        components.month = Int(day.dropFirst(4).prefix(2))
        components.day = Int(day.suffix(2))
        components.hour = Int(time.prefix(2))
        components.minute = Int(time.dropFirst(2).prefix(2))
        components.second = Int(time.suffix(2))
        guard components.year != nil, components.month != nil, components.day != nil, components.hour != nil,
            components.minute != nil, components.second != nil
        else { return nil }
        return Calendar(identifier: .gregorian).date(from: components)?.timeIntervalSince1970
    }

    /// A decoding error in one short phrase: which field, and what was wrong.
    static func describe(_ error: any Error) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            return "no field '\(path(context.codingPath + [key]))'"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
            return "field '\(path(context.codingPath))' has the wrong type"
        case .dataCorrupted(let context)?:
            return context.codingPath.isEmpty ? "not JSON" : "field '\(path(context.codingPath))' is invalid"
        default:
            return "\(error)"
        }
    }
}
