/// The values of one `log` call as the run's buffer takes them: each usable key's id in the run, and its
/// value. `Run.record` is generic over it, so a dictionary and prepared keys each get code of their own,
/// with nothing wrapped (and retained) per call.
protocol LogValueSource {
    /// Whether a key may come twice (then the last value wins, as in one dictionary).
    var mayRepeatKeys: Bool { get }

    /// Calls `body` with the id and value of each value (keys that cannot be used are left out, with a
    /// warning set once per key).
    func forEachValue(_ state: inout Run.LogState, _ warning: inout String?, _ body: (inout Run.LogState, Int32, Double) -> Void)
}

/// `log([…])`: a dictionary's keys, matched by position against the keys of the previous calls.
extension Dictionary: LogValueSource where Key == String, Value == Double {
    var mayRepeatKeys: Bool { false }

    @inline(__always)
    func forEachValue(_ state: inout Run.LogState, _ warning: inout String?, _ body: (inout Run.LogState, Int32, Double) -> Void) {
        // By index: an iterator would retain (and release) the dictionary's storage on every call.
        var position = 0
        var index = startIndex
        while index != endIndex {
            let (key, value) = self[index]
            if let id = state.keyID(key, position: position, warning: &warning) { body(&state, id, value) }
            position += 1
            formIndex(after: &index)
        }
    }
}

/// `log(keys, values…)`: ``MetricKeys`` and one value per key, in order.
struct PreparedValues: LogValueSource {
    let keys: MetricKeys
    let values: UnsafeBufferPointer<Double>

    var mayRepeatKeys: Bool { keys.hasRepeats }

    @inline(__always)
    func forEachValue(_ state: inout Run.LogState, _ warning: inout String?, _ body: (inout Run.LogState, Int32, Double) -> Void) {
        for index in values.indices {
            if let id = state.keyID(prepared: keys, index, warning: &warning) { body(&state, id, values[index]) }
        }
    }
}
