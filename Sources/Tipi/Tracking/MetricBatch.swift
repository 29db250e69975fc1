/// Committed steps in a flat layout (no allocation per step): the unit that moves from `log` to the
/// writer, and from the writer to every backend.
///
/// Row `i` has step `steps[i]`, wall time `times[i]` (Unix seconds) and the values
/// `keys[start..<ends[i]]` / `values[start..<ends[i]]`, where `start` is `ends[i - 1]` (0 for the first row).
struct MetricBatch: Sendable {
    var steps: [Int] = []
    var times: [Double] = []
    var ends: [Int] = []
    var keys: [Int32] = []
    var values: [Double] = []

    var rowCount: Int { steps.count }
    var valueCount: Int { values.count }
    var isEmpty: Bool { steps.isEmpty }

    func range(ofRow row: Int) -> Range<Int> {
        (row == 0 ? 0 : ends[row - 1])..<ends[row]
    }

    mutating func appendRow(step: Int, time: Double, keys rowKeys: [Int32], values rowValues: [Double]) {
        steps.append(step)
        times.append(time)
        keys.append(contentsOf: rowKeys)
        values.append(contentsOf: rowValues)
        ends.append(values.count)
    }

    mutating func removeAll() {
        steps.removeAll(keepingCapacity: true)
        times.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        keys.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
    }

    mutating func append(_ other: MetricBatch) {
        let offset = values.count
        steps += other.steps
        times += other.times
        keys += other.keys
        values += other.values
        ends += other.ends.map { $0 + offset }
    }

    /// Rows `range` as a batch of their own.
    func slice(rows: Range<Int>) -> MetricBatch {
        guard !rows.isEmpty else { return MetricBatch() }
        let start = rows.lowerBound == 0 ? 0 : ends[rows.lowerBound - 1]
        let end = ends[rows.upperBound - 1]
        var result = MetricBatch()
        result.steps = Array(steps[rows])
        result.times = Array(times[rows])
        result.keys = Array(keys[start..<end])
        result.values = Array(values[start..<end])
        result.ends = ends[rows].map { $0 - start }
        return result
    }
}
