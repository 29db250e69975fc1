/// The committed batches of a run waiting for its writer, and the emptied ones the writer gave back.
///
/// `log` fills one batch (``StepState/committed``). Once it holds ``Run/roundValues`` values it joins the
/// waiting ones and `log` goes on in a batch from the pool, whose memory is already in place: a batch that
/// grew instead would copy itself into fresh memory at each doubling, and a fresh page faults on its first
/// write (2–3 µs here, which is more than 30 `log` calls). The writer takes every waiting batch at each
/// round, writes them, and gives them back emptied, so a loop that the writer keeps up with fills the same
/// two batches in turn, and one that outruns it takes new batches for its backlog (bounded by
/// ``Run/maximumBufferedValues``, the back-pressure), of which the pool keeps ``maximumPooled``.
struct BatchQueue {
    /// Full batches, oldest first; they come before the batch being filled.
    private(set) var waiting: [MetricBatch] = []
    /// The values in `waiting`.
    private(set) var waitingValues = 0
    /// Emptied batches, with their memory.
    private var pool: [MetricBatch] = []
    /// How many emptied batches wait to be filled again.
    var pooledCount: Int { pool.count }

    /// Emptied batches kept for `log` to fill again (about 1.5 MB each); more go back to the system.
    static let maximumPooled = 8

    /// Room for a new batch's values beyond ``Run/roundValues`` (one call's worth, so that it rarely regrows).
    static let slack = 4_096

    /// Moves the full `current` to the waiting batches and gives it an empty one in its place.
    mutating func rotate(_ current: inout MetricBatch) {
        waitingValues += current.valueCount
        var next = pool.popLast() ?? Self.newBatch()
        swap(&next, &current)
        waiting.append(next)
    }

    /// Every waiting batch and `current` (when it holds rows), oldest first; `current` is left empty.
    mutating func takeAll(_ current: inout MetricBatch) -> [MetricBatch] {
        var taken = waiting
        waiting = []
        waitingValues = 0
        if !current.isEmpty {
            var next = pool.popLast() ?? MetricBatch()
            swap(&next, &current)
            taken.append(next)
        }
        return taken
    }

    /// Takes back batches the writer is done with (emptied, their memory kept).
    mutating func recycle(_ batches: inout [MetricBatch]) {
        for index in batches.indices where pool.count < Self.maximumPooled {
            batches[index].removeAll()
            pool.append(batches[index])
        }
        batches = []
    }

    /// Gives every pooled batch's memory back (a finished run).
    mutating func releasePool() {
        pool = []
    }

    private static func newBatch() -> MetricBatch {
        var batch = MetricBatch()
        batch.entries.reserveCapacity(Run.roundValues + slack)
        batch.rows.reserveCapacity(Run.roundValues / 4)
        return batch
    }
}
