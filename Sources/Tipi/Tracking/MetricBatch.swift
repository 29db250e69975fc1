/// Committed steps in a flat layout (no allocation per step): the unit that moves from `log` to the
/// writer, and from the writer to every backend.
///
/// Row `i` has its step, wall time (Unix seconds) and the values `entries[start..<rows[i].end]`, where
/// `start` is the previous row's end (0 for the first row). One append per step and one per value keeps
/// `log` cheap.
struct MetricBatch: Sendable {
    struct Row: Sendable {
        var step: Int
        var time: Double
        var end: Int
    }

    struct Entry: Sendable {
        var key: Int32
        var value: Double
    }

    var rows: [Row] = []
    var entries: [Entry] = []

    var rowCount: Int { rows.count }
    var valueCount: Int { entries.count }
    var isEmpty: Bool { rows.isEmpty }

    func range(ofRow row: Int) -> Range<Int> {
        (row == 0 ? 0 : rows[row - 1].end)..<rows[row].end
    }

    mutating func appendRow(step: Int, time: Double, keys rowKeys: [Int32], values rowValues: [Double]) {
        for index in rowKeys.indices { entries.append(Entry(key: rowKeys[index], value: rowValues[index])) }
        rows.append(Row(step: step, time: time, end: entries.count))
    }

    mutating func removeAll() {
        rows.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
    }

    mutating func append(_ other: MetricBatch) {
        let offset = entries.count
        entries += other.entries
        rows += other.rows.map { Row(step: $0.step, time: $0.time, end: $0.end + offset) }
    }

    /// Rows `range` as a batch of their own.
    func slice(rows range: Range<Int>) -> MetricBatch {
        guard !range.isEmpty else { return MetricBatch() }
        let start = range.lowerBound == 0 ? 0 : rows[range.lowerBound - 1].end
        let end = rows[range.upperBound - 1].end
        var result = MetricBatch()
        result.entries = Array(entries[start..<end])
        result.rows = rows[range].map { Row(step: $0.step, time: $0.time, end: $0.end - start) }
        return result
    }
}
