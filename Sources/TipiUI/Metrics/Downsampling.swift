/// Fewer points for a chart, without losing a spike: min/max buckets.
///
/// The points are cut into buckets of consecutive steps; each bucket keeps its smallest and its largest
/// value (in step order), so every local extreme that a chart of that width can show survives, which
/// averaging or picking every k-th point would not guarantee. NaN never counts as an extreme; a bucket of
/// NaN only keeps its first point, so a chart can still show where values were missing.
package enum Downsampling {
    /// One kept point.
    package struct Point: Sendable, Equatable {
        /// The step.
        package var step: Int
        /// The value (NaN and infinities as logged).
        package var value: Double
    }

    /// At most `maxPoints` of the points (`steps[i]`, `values[i]`), in their order; all of them when there
    /// are no more than `maxPoints`. `maxPoints` below 2 is taken as 2.
    package static func minMax(steps: [Int], values: [Double], maxPoints: Int) -> [Point] {
        let count = min(steps.count, values.count)
        let limit = max(maxPoints, 2)
        guard count > limit else {
            return (0..<count).map { Point(step: steps[$0], value: values[$0]) }
        }
        let buckets = limit / 2
        var result: [Point] = []
        result.reserveCapacity(buckets * 2)
        values.withUnsafeBufferPointer { values in
            steps.withUnsafeBufferPointer { steps in
                for bucket in 0..<buckets {
                    // Integer bounds that cover every index exactly once.
                    let start = bucket * count / buckets
                    let end = (bucket + 1) * count / buckets
                    guard start < end else { continue }
                    var low = -1
                    var high = -1
                    for index in start..<end {
                        let value = values[index]
                        if value.isNaN { continue }
                        if low < 0 || value < values[low] { low = index }
                        if high < 0 || value > values[high] { high = index }
                    }
                    if low < 0 {
                        result.append(Point(step: steps[start], value: values[start]))
                    } else if low == high {
                        result.append(Point(step: steps[low], value: values[low]))
                    } else {
                        let (first, second) = low < high ? (low, high) : (high, low)
                        result.append(Point(step: steps[first], value: values[first]))
                        result.append(Point(step: steps[second], value: values[second]))
                    }
                }
            }
        }
        return result
    }

    /// The points as a JSON array of `{"step": …, "value": …}`; NaN and infinities as the strings
    /// `"NaN"`, `"Infinity"`, `"-Infinity"` (as `tipi runs show --json` writes them).
    package static func json(_ points: [Point]) -> String {
        var text = "["
        text.reserveCapacity(points.count * 32)
        for (index, point) in points.enumerated() {
            if index > 0 { text += "," }
            text += "{\"step\":\(point.step),\"value\":\(number(point.value))}"
        }
        return text + "]"
    }

    static func number(_ value: Double) -> String {
        if value.isNaN { return "\"NaN\"" }
        if value.isInfinite { return value > 0 ? "\"Infinity\"" : "\"-Infinity\"" }
        return "\(value)"
    }
}
