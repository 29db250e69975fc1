import Foundation
import Testing

@testable import Tipi

/// The batches between `log` and the writer: full ones wait, emptied ones come back and are filled again
/// (their memory in place), and nothing is lost or reordered on the way.
@Suite("The run's metric batches")
struct BatchQueueTests {
    /// A batch of `rows` rows of `width` values each, the first at step `first`.
    func filled(rows: Int, width: Int, first: Int = 0) -> MetricBatch {
        var batch = MetricBatch()
        for step in first..<(first + rows) {
            batch.appendRow(step: step, time: Double(step), keys: (0..<width).map { Int32($0) }, values: (0..<width).map { Double(step * width + $0) })
        }
        return batch
    }

    /// Where a batch's values live (to tell a reused batch from a new one).
    func address(_ batch: MetricBatch) -> UnsafeRawPointer? {
        batch.entries.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    @Test("a full batch waits, the next one has room, and taking all gives them back oldest first")
    func rotateAndTake() {
        var queue = BatchQueue()
        var current = filled(rows: 10, width: 3)
        queue.rotate(&current)
        #expect(current.isEmpty && current.entries.capacity >= Run.roundValues)
        #expect(queue.waiting.count == 1 && queue.waitingValues == 30)
        current = filled(rows: 5, width: 2, first: 10)
        let taken = queue.takeAll(&current)
        #expect(current.isEmpty && queue.waiting.isEmpty && queue.waitingValues == 0)
        #expect(taken.map(\.rowCount) == [10, 5])
        #expect(taken.flatMap { $0.rows.map(\.step) } == Array(0..<15))
        // An empty batch being filled is not taken.
        var empty = MetricBatch()
        #expect(queue.takeAll(&empty).isEmpty)
    }

    @Test("batches given back are emptied and filled again, with the memory they had")
    func recycledMemory() {
        var queue = BatchQueue()
        var current = filled(rows: 30_000, width: 3)
        let first = address(current)
        queue.rotate(&current)
        let second = address(current)
        current.appendRow(step: 0, time: 0, keys: [0], values: [1])
        var taken = queue.takeAll(&current)
        #expect(taken.count == 2)
        queue.recycle(&taken)
        #expect(taken.isEmpty)
        // Both come back, emptied, before any new memory is taken.
        var seen: Set<UnsafeRawPointer?> = []
        for _ in 0..<2 {
            current.appendRow(step: 0, time: 0, keys: [0], values: [1])
            queue.rotate(&current)
            #expect(current.isEmpty)
            seen.insert(address(current))
        }
        #expect(seen == [first, second])
        queue.releasePool()
        #expect(queue.pooledCount == 0)
    }

    @Test("after a backlog the pool keeps a few emptied batches, not all of them")
    func poolIsBounded() {
        var queue = BatchQueue()
        var current = MetricBatch()
        for _ in 0..<(BatchQueue.maximumPooled + 5) {
            current.appendRow(step: 0, time: 0, keys: [0], values: [1])
            queue.rotate(&current)
        }
        var taken = queue.takeAll(&current)
        #expect(taken.count == BatchQueue.maximumPooled + 5)
        queue.recycle(&taken)
        #expect(queue.pooledCount == BatchQueue.maximumPooled)
    }

    @Test("a tight loop fills batch after batch; each is written, in order, and given back once the writer is done")
    func tightLoopKeepsEverything() throws {
        let run = try startRun(temporaryStore())
        let calls = Run.roundValues + 50_000  // about 4 full batches of 3 values per call
        for step in 0..<calls { run.log(["a": Double(step), "b": 1, "c": -Double(step)]) }
        run.flush()
        // Every batch the writer took is back, emptied, for `log` to fill again.
        let (waiting, pooled, buffered) = run.buffer.withLock { ($0.batches.waiting.count, $0.batches.pooledCount, $0.steps.committed.valueCount) }
        #expect(waiting == 0 && buffered == 0 && pooled >= 1)
        for step in calls..<(2 * calls) { run.log(["a": Double(step), "b": 1, "c": -Double(step)]) }
        run.finish()
        #expect(run.buffer.withLock { $0.batches.pooledCount } == 0)
        let rows = try rows(run)
        #expect(rows.count == 2 * calls)
        #expect(rows.map(\.0) == Array(0..<(2 * calls)))
        #expect(rows.allSatisfy { $0.1 == ["a": Double($0.0), "b": 1, "c": -Double($0.0)] })
    }

    @Test("flush() writes run.json with the latest values even while full batches keep waking the writer")
    func flushWritesMetadata() throws {
        let run = try startRun(temporaryStore())
        for step in 0..<(2 * Run.roundValues) { run.log(["a": Double(step)]) }
        run.flush()
        let file = run.folder.appendingPathComponent(RunStore.metadataFile)
        let metadata = try JSONDecoder().decode(RunMetadata.self, from: Data(contentsOf: file))
        #expect(metadata.summary["a"]?.last == Double(2 * Run.roundValues - 1))
        #expect(metadata.summary["a"]?.count == 2 * Run.roundValues)
        run.finish()
    }
}
