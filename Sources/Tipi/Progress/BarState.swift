import Synchronization

/// The shared state of one bar: a lock-free counter for the hot path, and the rarely changed fields behind a lock.
/// Owned by a ``ProgressBar``; read by the ``ProgressDisplay`` that draws it.
@usableFromInline
final class BarState: Sendable {
    @usableFromInline let count: Atomic<Int>
    let fields: Mutex<BarFields>
    let unit: String
    let unitScale: Bool
    let unitDivisor: Int
    let smoothing: Double

    init(
        description: String, total: Int?, initial: Int, unit: String, unitScale: Bool, unitDivisor: Int,
        smoothing: Double, startTime: Double
    ) {
        count = Atomic(initial)
        fields = Mutex(
            BarFields(
                description: ProgressFormat.sanitize(description), total: total, postfix: "", status: "",
                startTime: startTime, generation: 0, closed: false))
        self.unit = ProgressFormat.sanitize(unit)
        self.unitScale = unitScale
        self.unitDivisor = unitDivisor
        self.smoothing = smoothing
    }

    /// Copies what a renderer needs; `rate` is filled in by the display, which owns the estimator.
    func snapshot(now: Double) -> (ProgressSnapshot, generation: Int) {
        let count = self.count.load(ordering: .relaxed)
        return fields.withLock { fields in
            (
                ProgressSnapshot(
                    description: fields.description, count: count, total: fields.total,
                    elapsed: max(0, now - fields.startTime), rate: nil, unit: unit, unitScale: unitScale,
                    unitDivisor: unitDivisor, postfix: fields.postfix, status: fields.status,
                    finished: fields.closed), fields.generation
            )
        }
    }
}

struct BarFields: Sendable {
    var description: String
    var total: Int?
    var postfix: String
    var status: String
    var startTime: Double
    /// Bumped by `reset`, so the display restarts its rate estimate.
    var generation: Int
    var closed: Bool
}
