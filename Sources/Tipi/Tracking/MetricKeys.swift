import Synchronization

/// Metric names prepared once, for `log` in a hot loop: no dictionary to build and no key to hash or
/// compare per call (each run maps the keys' process-wide ids to its own with one array lookup).
///
/// ```swift
/// let keys = MetricKeys("loss", "acc", "lr")
/// for step in 0..<steps {
///     let (loss, acc) = trainStep()
///     logger.log(keys, loss, acc, 0.001)      // one value per key, in order; any MetricValue types
/// }
/// ```
///
/// The values follow the same rules as `log([…])` (steps, `step:` and `commit:`, NaN kept, bad keys
/// refused with one warning). A call whose number of values differs from the number of keys is ignored,
/// with one warning. A name given twice keeps the last value, as in a dictionary.
public struct MetricKeys: Sendable, Hashable {
    /// The metric names, in the order the values are given.
    public let names: [String]
    /// Each name's process-wide id.
    let ids: [Int32]
    /// Whether a name is given more than once.
    let hasRepeats: Bool

    /// Prepares `names` (for example `MetricKeys("loss", "acc")`).
    public init(_ names: String...) {
        self.init(names)
    }

    /// Prepares `names`.
    public init(_ names: [String]) {
        self.names = names
        ids = Self.table.withLock { table in
            names.map { name in
                if let id = table[name] { return id }
                let id = Int32(table.count)
                table[name] = id
                return id
            }
        }
        hasRepeats = Set(names).count != names.count
    }

    public static func == (left: MetricKeys, right: MetricKeys) -> Bool { left.names == right.names }
    public func hash(into hasher: inout Hasher) { hasher.combine(names) }

    /// Every name prepared in this process and its id (names are few: a program's metric names).
    private static let table = Mutex<[String: Int32]>([:])
}

extension Run {
    /// Records one value per key of `keys`, in order: the fast path for hot loops (see ``MetricKeys``),
    /// with the step rules of ``log(_:step:commit:)-([String:Double],_,_)``.
    @inlinable
    public func log<each Value: MetricValue>(_ keys: MetricKeys, _ values: repeat each Value, step: Int? = nil, commit: Bool? = nil) {
        withMetricDoubles(repeat each values, body: { logPrepared(keys, $0, step: step, commit: commit) })
    }
}

extension ExperimentLogger {
    /// Records one value per key of `keys`, in order, into the current run (starting one on the first call,
    /// like `log([…])`): the fast path for hot loops, see ``MetricKeys``.
    @inlinable
    public func log<each Value: MetricValue>(_ keys: MetricKeys, _ values: repeat each Value, step: Int? = nil, commit: Bool? = nil) {
        withMetricDoubles(repeat each values, body: { logPrepared(keys, $0, step: step, commit: commit) })
    }
}

/// Calls `body` with `values` as `Double`s in a buffer on the stack (no allocation).
@inlinable
func withMetricDoubles<each Value: MetricValue>(_ values: repeat each Value, body: (UnsafeBufferPointer<Double>) -> Void) {
    var count = 0
    for _ in repeat each values { count += 1 }
    withUnsafeTemporaryAllocation(of: Double.self, capacity: count) { buffer in
        var index = 0
        for value in repeat each values {
            buffer[index] = value.metricValue
            index += 1
        }
        body(UnsafeBufferPointer(buffer))
    }
}
