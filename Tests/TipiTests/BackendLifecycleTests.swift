import Foundation
import Synchronization
import Testing

@testable import Tipi

/// Backends' lifecycle: what a network backend receives after it fell behind, and that every backend is
/// released at the end, failed or not.
@Suite("Backend lifecycle")
struct BackendLifecycleTests {
    /// Records the steps it receives; its first `write` waits for the test, so batches queue up behind it.
    final class RecordingBackend: TrackingBackend, @unchecked Sendable {
        let gate = DispatchSemaphore(value: 0)
        let steps = Mutex<[Int]>([])
        let released = Atomic<Int>(0)
        let failWrites: Bool

        init(failWrites: Bool = false) {
            self.failWrites = failWrites
        }

        func start(_ run: RunDescription) throws {}
        func write(_ batch: MetricBatch, keys: [String]) throws {
            if steps.withLock({ $0.isEmpty }) { gate.wait() }
            steps.withLock { steps in
                for row in 0..<batch.rowCount { steps.append(batch.rows[row].step) }
            }
            if failWrites { throw TrackingError.storeNotWritable(path: "/dev/full", reason: "No space left on device") }
        }
        func finish(status: RunStatus, summary: [String: MetricSummary], deadline: Double) throws {}
        var state: RunMetadata.BackendState { RunMetadata.BackendState(complete: true) }
        func release() { released.add(1, ordering: .relaxed) }
    }

    func batch(step: Int, values: Int) -> MetricBatch {
        var batch = MetricBatch()
        batch.appendRow(step: step, time: 0, keys: [Int32](repeating: 0, count: values), values: [Double](repeating: 1, count: values))
        return batch
    }

    @Test("a network backend that missed rows gets none after them: what it has stays the first sentSteps rows")
    func contiguousAfterDrop() {
        let backend = RecordingBackend()
        let warnings = Mutex<[String]>([])
        let worker = BackendWorker(kind: .mlflow, backend: backend, warn: { message in warnings.withLock { $0.append(message) } })
        worker.send(.batch(batch(step: 0, values: 1), ["loss"]))
        usleep(100_000)  // the worker is now inside the first write
        worker.send(.batch(batch(step: 1, values: BackendWorker.maximumQueuedValues), ["loss"]))  // does not fit: dropped
        worker.send(.batch(batch(step: 2, values: 1), ["loss"]))
        backend.gate.signal()
        worker.send(.finish(.finished, [:], Date().timeIntervalSince1970 + 5))
        #expect(worker.waitForFinish(deadline: Date().timeIntervalSince1970 + 10))
        #expect(backend.steps.withLock { $0 } == [0])  // not [0, 2]: a gap would make `runs sync` resume from the wrong row
        #expect(worker.state.complete == false)
        #expect(warnings.withLock { $0 }.contains { $0.contains("missed 2 steps") })
    }

    @Test("a backend whose writes failed is still released at the end (its files closed)")
    func failedBackendReleased() {
        let backend = RecordingBackend(failWrites: true)
        backend.gate.signal()
        let worker = BackendWorker(kind: .tensorboard, backend: backend, warn: { _ in })
        worker.send(.batch(batch(step: 0, values: 1), ["loss"]))
        worker.send(.finish(.finished, [:], Date().timeIntervalSince1970 + 5))
        #expect(worker.waitForFinish(deadline: Date().timeIntervalSince1970 + 10))
        #expect(backend.released.load(ordering: .relaxed) == 1)
    }

    @Test("the backends of a run that cannot start are released and their threads end")
    func abandonedWorker() {
        let backend = RecordingBackend()
        let worker = BackendWorker(kind: .jsonl, backend: backend, warn: { _ in })
        worker.abandon()
        #expect(worker.waitForFinish(deadline: Date().timeIntervalSince1970 + 10))
        #expect(backend.released.load(ordering: .relaxed) == 1)
    }
}
