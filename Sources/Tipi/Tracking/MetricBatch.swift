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

    /// How much a batch holds and has room for: what the writer makes room for in the batch it hands to the run.
    struct Size: Equatable {
        var rows = 0
        var values = 0
        var rowCapacity = 0
        var valueCapacity = 0
    }

    var size: Size {
        Size(rows: rows.count, values: entries.count, rowCapacity: rows.capacity, valueCapacity: entries.capacity)
    }

    /// Empties the batch and, where it has less room than `other` held, gives it `other`'s room with the part
    /// `other` filled written once now: filling this batch then writes to pages already in place (a fresh page
    /// faults on its first write, which costs much more than the write). A batch with room for what `other`
    /// held is only emptied, so two batches traded back and forth settle at the same room.
    mutating func removeAllAndPrepare(for other: Size) {
        if rows.capacity < other.rows {
            rows = []  // released before the new room is taken, so that both are never held at once
            rows.reserveCapacity(other.rowCapacity)
            rows.append(contentsOf: repeatElement(Row(step: 0, time: 0, end: 0), count: other.rows))
        }
        if entries.capacity < other.values {
            entries = []
            entries.reserveCapacity(other.valueCapacity)
            entries.append(contentsOf: repeatElement(Entry(key: 0, value: 0), count: other.values))
        }
        removeAll()
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
