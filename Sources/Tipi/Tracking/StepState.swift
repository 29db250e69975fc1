/// W&B's step model, applied to one run's incoming values (see `Run.log(_:step:commit:)`), and the rows it
/// committed, waiting for the writer.
///
/// - a call without `step` adds its values to the open row and commits it: steps 0, 1, 2, …;
/// - `commit: false` adds values to the open row without committing it;
/// - `step: N` above the current step commits the open row, then opens row N and leaves it open until a call
///   with another step or without one (W&B's behaviour, verified against wandb 0.31);
/// - `step: N` below the current step is dropped, as W&B does.
struct StepState: Sendable {
    /// The step of the open row.
    var current = 0
    var openKeys: [Int32] = []
    var openValues: [Double] = []
    /// Positions in `openKeys` by key, once the open row holds ``indexedWidth`` keys or more (a search of
    /// `openKeys` would make a staged call of 100,000 keys take minutes); empty below that.
    var openIndex: [Int32: Int] = [:]
    static let indexedWidth = 32
    /// Steps dropped because they went backwards.
    var dropped = 0
    /// Rows committed and not yet taken by the writer.
    var committed = MetricBatch()

    enum Outcome: Equatable {
        case accepted
        case dropped(requested: Int, current: Int)
    }

    /// Puts a value into the open row (a key given twice keeps the last value).
    mutating func set(_ key: Int32, _ value: Double) {
        if openKeys.count < Self.indexedWidth {
            if let index = openKeys.firstIndex(of: key) {
                openValues[index] = value
                return
            }
        } else {
            if openIndex.isEmpty {
                for (index, known) in openKeys.enumerated() { openIndex[known] = index }
            }
            if let index = openIndex[key] {
                openValues[index] = value
                return
            }
            openIndex[key] = openKeys.count
        }
        openKeys.append(key)
        openValues.append(value)
    }

    /// Moves to `step` before values are added; commits the open row when the step moves forward.
    mutating func prepare(step: Int?, time: Double) -> Outcome {
        guard let step else { return .accepted }
        if step < current {
            dropped += 1
            return .dropped(requested: step, current: current)
        }
        if step > current {
            commitOpenRow(time: time)
            current = step
        }
        return .accepted
    }

    /// Commits the open row (if it has values) at the current step and moves to the next step.
    mutating func commitOpenRow(time: Double) {
        guard !openKeys.isEmpty else { return }
        committed.appendRow(step: current, time: time, keys: openKeys, values: openValues)
        openKeys.removeAll(keepingCapacity: true)
        openValues.removeAll(keepingCapacity: true)
        if !openIndex.isEmpty { openIndex = [:] }
        advance()
    }

    /// Moves to the next step. At `Int.max` it stays there (later rows share that step) rather than trap:
    /// a program that logged `step: Int.max` keeps running and keeps its values.
    mutating func advance() {
        if current < Int.max { current += 1 }
    }
}
