import Tipi

/// `[sweep.early_stop]`: asynchronous successive halving (ASHA).
///
/// Rungs are at steps `min_step × reduction_factor^k` of the sweep's metric. When a point reaches a rung,
/// its value there is compared with the values every other point had at that rung; a point outside the
/// best `1 / reduction_factor` of them (once at least `reduction_factor` points reached the rung) is
/// stopped. Its run is interrupted, not failed, and the point is recorded as stopped early.
///
/// ```toml
/// [sweep.early_stop]
/// type = "asha"
/// min_step = 1            # the first rung
/// reduction_factor = 3    # keep the best third at each rung
/// ```
struct EarlyStopRule: Sendable, Equatable {
    var minStep = 1
    var reductionFactor = 3

    static let keys = ["type", "min_step", "reduction_factor"]

    /// Reads the table, collecting every problem.
    static func read(_ node: ConfigNode, problems: inout [ConfigProblem]) -> EarlyStopRule? {
        guard case .table(let table, _) = node else {
            problems.append(ConfigProblem(code: "SWP004", location: node.location, path: "sweep.early_stop", message: "must be a table"))
            return nil
        }
        var rule = EarlyStopRule()
        for (key, value) in table.entries where !keys.contains(key) {
            problems.append(
                ConfigProblem(
                    code: "SWP004", location: value.location, path: "sweep.early_stop.\(key)", message: "unknown key",
                    help: Suggestion.nearest(to: key, in: keys).map { "did you mean `\($0)`?" } ?? "known keys: \(keys.joined(separator: ", "))"))
        }
        guard let type = table["type"] else {
            problems.append(ConfigProblem(code: "SWP004", location: node.location, path: "sweep.early_stop", message: "missing `type`", help: "add type = \"asha\""))
            return nil
        }
        guard type.stringValue == "asha" else {
            problems.append(
                ConfigProblem(
                    code: "SWP004", location: type.location, path: "sweep.early_stop.type", message: "unknown early stopping \(type.text)",
                    help: "the one known type is \"asha\""))
            return nil
        }
        for (key, minimum) in [("min_step", 1), ("reduction_factor", 2)] {
            guard let value = table[key] else { continue }
            guard case .int(let number, _) = value, number >= minimum else {
                problems.append(
                    ConfigProblem(
                        code: "SWP004", location: value.location, path: "sweep.early_stop.\(key)",
                        message: "expected a whole number from \(minimum), found \(value.typeName) \(value.text)"))
                continue
            }
            if key == "min_step" { rule.minStep = number } else { rule.reductionFactor = number }
        }
        return rule
    }

    /// The rungs up to `step`.
    func rungs(upTo step: Int) -> [Int] {
        var result: [Int] = []
        var rung = minStep
        while rung <= step {
            result.append(rung)
            let (next, overflow) = rung.multipliedReportingOverflow(by: reductionFactor)
            if overflow { break }
            rung = next
        }
        return result
    }

    /// A point's value at `rung`: its last value at a step no later than the rung, once it has gone past it.
    static func value(at rung: Int, steps: [Int], values: [Double]) -> Double? {
        guard let last = steps.last, last >= rung else { return nil }
        var found: Double?
        for (step, value) in zip(steps, values) {
            if step > rung { break }
            if !value.isNaN { found = value }
        }
        return found
    }

    /// Whether a point whose history is `candidate` should stop, given its peers' histories (steps and
    /// values of the metric): at its highest rung reached, it is outside the best `1/reductionFactor`.
    func shouldStop(
        candidate: (steps: [Int], values: [Double]), peers: [(steps: [Int], values: [Double])], better: (Double, Double) -> Bool
    ) -> Bool {
        guard let last = candidate.steps.last, let rung = rungs(upTo: last).last,
            let own = Self.value(at: rung, steps: candidate.steps, values: candidate.values)
        else { return false }
        let others = peers.compactMap { Self.value(at: rung, steps: $0.steps, values: $0.values) }
        let all = others + [own]
        guard all.count >= reductionFactor else { return false }
        let keep = max(all.count / reductionFactor, 1)
        let ahead = others.filter { better($0, own) }.count
        return ahead >= keep
    }

    /// The sweep metric's history (steps and values) of each point of `record` whose run is in `runs`, by
    /// point index: what ``shouldStop(_:histories:record:)`` compares.
    static func histories(of record: SweepRecord, runs: [RunStore.StoredRun]) -> [Int: (steps: [Int], values: [Double])] {
        var histories: [Int: (steps: [Int], values: [Double])] = [:]
        for point in record.points {
            guard let id = point.run, let run = runs.first(where: { $0.metadata.id == id }),
                let series = (try? RunStore.history(of: run))?.series[record.metric]
            else { continue }
            histories[point.index] = (series.steps, series.values)
        }
        return histories
    }

    /// Whether point `index` should stop, given every point's history: its peers are all the other points.
    func shouldStop(_ index: Int, histories: [Int: (steps: [Int], values: [Double])], record: SweepRecord) -> Bool {
        guard let own = histories[index] else { return false }
        let peers = histories.filter { $0.key != index }.map(\.value)
        return shouldStop(candidate: own, peers: peers, better: { record.isBetter($0, than: $1) })
    }
}
