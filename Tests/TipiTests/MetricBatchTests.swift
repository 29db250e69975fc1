import Foundation
import Testing

@testable import Tipi

/// The batch the writer hands to the run: emptied, with as much room as the run's batch had (its pages
/// faulted in on the writer's thread), and the two batches settling at the same room.
@Suite("The run's metric batches")
struct MetricBatchTests {
    /// A batch of `rows` rows of `width` values each.
    func filled(rows: Int, width: Int) -> MetricBatch {
        var batch = MetricBatch()
        for step in 0..<rows {
            batch.appendRow(step: step, time: Double(step), keys: (0..<width).map { Int32($0) }, values: (0..<width).map { Double(step * width + $0) })
        }
        return batch
    }

    @Test("a batch prepared for another is empty, has at least its room, and fills like a new one")
    func prepareGivesRoom() {
        let run = filled(rows: 5_000, width: 3)
        var spare = filled(rows: 7, width: 2)
        spare.removeAllAndPrepare(for: run.size)
        #expect(spare.isEmpty && spare.valueCount == 0)
        #expect(spare.size.rowCapacity >= run.size.rowCapacity)
        #expect(spare.size.valueCapacity >= run.size.valueCapacity)
        for step in 0..<3 { spare.appendRow(step: step, time: 1, keys: [0, 1], values: [Double(step), -Double(step)]) }
        #expect(spare.rows.map(\.step) == [0, 1, 2])
        #expect(spare.range(ofRow: 0) == 0..<2 && spare.range(ofRow: 2) == 4..<6)
        #expect(spare.entries.map(\.value) == [0, -0, 1, -1, 2, -2])
    }

    @Test("a batch with room enough is only emptied; two batches traded back and forth keep their room")
    func tradedBatchesSettle() {
        var first = filled(rows: 3_000, width: 4)
        var second = MetricBatch()
        second.removeAllAndPrepare(for: first.size)
        let rowRooms = Set([first.size.rowCapacity, second.size.rowCapacity])
        let valueRooms = Set([first.size.valueCapacity, second.size.valueCapacity])
        for _ in 0..<4 {
            // The run fills one while the writer empties the other, as in `RunWriter.flush`.
            for step in 0..<3_000 { second.appendRow(step: step, time: 0, keys: [0, 1, 2, 3], values: [1, 2, 3, 4]) }
            first.removeAllAndPrepare(for: second.size)
            swap(&first, &second)
        }
        #expect(Set([first.size.rowCapacity, second.size.rowCapacity]) == rowRooms)
        #expect(Set([first.size.valueCapacity, second.size.valueCapacity]) == valueRooms)
    }

    @Test("preparing for an empty batch, or a smaller one, takes no memory")
    func prepareForLess() {
        var empty = MetricBatch()
        empty.removeAllAndPrepare(for: MetricBatch().size)
        #expect(empty.size == MetricBatch.Size())
        var large = filled(rows: 100, width: 3)
        let before = large.size
        large.removeAllAndPrepare(for: filled(rows: 10, width: 3).size)
        #expect(large.isEmpty && large.size.rowCapacity == before.rowCapacity && large.size.valueCapacity == before.valueCapacity)
    }

    @Test("after a flush the run fills a batch with room for what it logged; every value is written; finish frees it")
    func runGetsPreparedBatch() throws {
        let run = try startRun(temporaryStore())
        for step in 0..<20_000 { run.log(["a": Double(step), "b": 1, "c": -Double(step)]) }
        run.flush()
        let size = run.buffer.committedSize()
        #expect(size.rows == 0 && size.rowCapacity >= 20_000 && size.valueCapacity >= 60_000)
        for step in 20_000..<45_000 { run.log(["a": Double(step), "b": 1, "c": -Double(step)]) }
        run.flush()
        for step in 45_000..<50_000 { run.log(["a": Double(step), "b": 1, "c": -Double(step)]) }
        run.finish()
        #expect(run.buffer.committedSize() == MetricBatch.Size())
        let rows = try rows(run)
        #expect(rows.count == 50_000)
        #expect(rows.map(\.0) == Array(0..<50_000))
        #expect(rows.allSatisfy { $0.1 == ["a": Double($0.0), "b": 1, "c": -Double($0.0)] })
    }
}
