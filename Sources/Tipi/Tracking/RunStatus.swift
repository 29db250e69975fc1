/// Where a run stands.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    /// Logging now (its process is alive).
    case running
    /// Ended normally (`finish()`, or the program exited).
    case finished
    /// Ended with an error (`finish(status: .failed)`, or a pipeline process failed).
    case failed
    /// Stopped by SIGINT or SIGTERM; everything logged before the signal was kept.
    case interrupted
    /// Never ended: its process is gone (killed, crashed). Readers report this; writers never write it.
    case crashed
    /// Its `run.json` is missing or unreadable: what is shown comes from the folder name and the metric
    /// file. Readers report this; writers never write it.
    case damaged
}

/// The summary of one metric: its last value and the extremes seen (NaN is left out of min and max).
public struct MetricSummary: Sendable, Codable, Equatable {
    public var last: Double
    public var min: Double?
    public var max: Double?
    public var count: Int
    /// The step of the last value.
    public var step: Int

    mutating func add(_ value: Double, step: Int) {
        last = value
        self.step = step
        count += 1
        guard !value.isNaN else { return }
        min = Swift.min(min ?? value, value)
        max = Swift.max(max ?? value, value)
    }

    enum CodingKeys: String, CodingKey { case last, min, max, count, step }

    /// A summary with the given fields.
    public init(last: Double, min: Double?, max: Double?, count: Int, step: Int) {
        self.last = last
        self.min = min
        self.max = max
        self.count = count
        self.step = step
    }

    init(value: Double, step: Int) {
        last = value
        self.step = step
        count = 1
        min = value.isNaN ? nil : value
        max = value.isNaN ? nil : value
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        last = try container.decodeFlexibleDouble(forKey: .last) ?? .nan
        min = try container.decodeFlexibleDouble(forKey: .min)
        max = try container.decodeFlexibleDouble(forKey: .max)
        count = try container.decode(Int.self, forKey: .count)
        step = try container.decode(Int.self, forKey: .step)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeFlexibleDouble(last, forKey: .last)
        if let min { try container.encodeFlexibleDouble(min, forKey: .min) }
        if let max { try container.encodeFlexibleDouble(max, forKey: .max) }
        try container.encode(count, forKey: .count)
        try container.encode(step, forKey: .step)
    }
}

extension KeyedDecodingContainer {
    /// A double that may be written as `"NaN"`, `"inf"`, `"-inf"` (JSON has no such numbers).
    func decodeFlexibleDouble(forKey key: Key) throws -> Double? {
        if let value = try? decodeIfPresent(Double.self, forKey: key) { return value }
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        switch text.lowercased() {
        case "nan": return .nan
        case "inf", "infinity", "+inf": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: return Double(text)
        }
    }
}

extension KeyedEncodingContainer {
    mutating func encodeFlexibleDouble(_ value: Double, forKey key: Key) throws {
        if value.isFinite {
            try encode(value, forKey: key)
        } else {
            try encode(value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf"), forKey: key)
        }
    }
}
