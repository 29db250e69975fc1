import Foundation
import Tipi

/// A Tree-structured Parzen Estimator, in the spirit of Optuna's default sampler (its multivariate TPE,
/// the default for one objective since Optuna 4).
///
/// The first `startup` points are random. After that the finished points are split by a quantile into
/// good (the best `min(⌈goodFraction · n⌉, 25)`) and bad, and a Parzen estimator is fitted to each: a
/// mixture with one kernel per point (a product, over the parameters, of a truncated Gaussian around its
/// value — bandwidths from the distances to the neighbours, clipped below as Optuna's "magic clip" does
/// but at `bandwidthFloor` times its floor — or,
/// for a list of values, a categorical concentrated on its value) plus one wide prior kernel.
/// `candidates` points are drawn from the good estimator `l` and the one with the highest ratio
/// `l(x) / g(x)` — TPE's expected-improvement criterion — is taken. Every draw comes from a generator
/// seeded by the sweep's seed and the point's index, so a sweep with the same seed and results replays.
struct TPESampler: SweepSampler {
    let domains: [SweepDomain]
    let count: Int
    let seed: UInt64
    /// `true` when larger metric values are better.
    let maximize: Bool
    var startup = 10
    var candidates = 24
    var priorWeight = 1.0
    /// The share of the finished points that counts as good. Optuna uses 0.1; 0.15 keeps a few more
    /// points in `l` early on (2 of 10 instead of 1), so it is less at the mercy of one lucky point.
    var goodFraction = 0.15
    /// The factor on Optuna's lower clip of the bandwidths, `range / min(100, 1 + kernels)`. That clip
    /// keeps `l`'s kernels at a sixth of the range or wider while it has 5 points, too wide to refine
    /// around the good ones within a budget of tens of points; half of it refines faster. (Chosen on
    /// Branin seeds 100–299; reported on seeds 0–19, see docs/benchmarks.md.)
    var bandwidthFloor = 0.5

    var isUpfront: Bool { false }

    func point(_ index: Int, after observations: [SweepObservation]) -> [ConfigNode] {
        var generator = RandomSampler.generator(seed: seed, index: index)
        let usable = observations.filter { !$0.value.isNaN && $0.values.count == domains.count }
        guard usable.count >= startup else { return domains.map { $0.sample(using: &generator) } }
        // The split is by value; each side keeps the order in which its points finished, which the
        // weights need (older points weigh less once a side has more than 25).
        let ranked = usable.indices.sorted { a, b in
            let (x, y) = (usable[a].value, usable[b].value)
            return x == y ? a < b : (maximize ? x > y : x < y)
        }
        let goodCount = max(min(Int((Double(usable.count) * goodFraction).rounded(.up)), 25), 1)
        let good = Set(ranked.prefix(goodCount))
        let goodPoints = usable.indices.filter { good.contains($0) }.map { internalValues(usable[$0]) }
        let badPoints = usable.indices.filter { !good.contains($0) }.map { internalValues(usable[$0]) }
        let l = Parzen(goodPoints, spaces: spaces, priorWeight: priorWeight, bandwidthFloor: bandwidthFloor)
        let g = Parzen(badPoints, spaces: spaces, priorWeight: priorWeight, bandwidthFloor: bandwidthFloor)
        var best = l.sample(using: &generator)
        var bestScore = -Double.infinity
        for _ in 0..<candidates {
            let x = l.sample(using: &generator)
            let score = l.logDensity(x) - g.logDensity(x)
            if score > bestScore {
                bestScore = score
                best = x
            }
        }
        return zip(domains, best).map { domain, x in node(x, in: domain) }
    }

    /// Where each parameter's estimator works: a numeric range (a log range for `log_uniform`; an integer
    /// range widened by half a step on each side, so its ends are as likely), or a number of categories.
    enum Space {
        case numeric(low: Double, high: Double)
        case categorical(Int)
    }

    var spaces: [Space] {
        domains.map { domain in
            switch domain {
            case .values(let values): return .categorical(values.count)
            case .uniform(let low, let high, _): return .numeric(low: low, high: high)
            case .logUniform(let low, let high): return .numeric(low: log(low), high: log(high))
            case .intUniform(let low, let high, let step):
                return .numeric(low: Double(low) - Double(step) / 2, high: Double(high) + Double(step) / 2)
            }
        }
    }

    /// A point's values in the estimators' spaces (a list value as its position).
    private func internalValues(_ observation: SweepObservation) -> [Double] {
        zip(domains, observation.values).map { domain, value in
            switch domain {
            case .values(let values):
                return Double(values.firstIndex { $0.configValue == value.configValue } ?? 0)
            case .logUniform(let low, _): return log(max(number(value), low))
            default: return number(value)
            }
        }
    }

    /// A value of the estimators' space as the parameter's config value.
    private func node(_ x: Double, in domain: SweepDomain) -> ConfigNode {
        switch domain {
        case .values(let values): return values[min(max(Int(x), 0), values.count - 1)]
        case .uniform(let low, let high, let step): return .double(SweepDomain.snap(min(max(x, low), high), min: low, max: high, step: step), nil)
        case .logUniform(let low, let high): return .double(min(max(exp(x), low), high), nil)
        case .intUniform(let low, let high, let step):
            let snapped = Double(low) + ((x - Double(low)) / Double(step)).rounded() * Double(step)
            return .int(Int(min(max(snapped, Double(low)), Double(high))), nil)
        }
    }

    private func number(_ node: ConfigNode) -> Double {
        switch node {
        case .int(let value, _): return Double(value)
        case .double(let value, _): return value
        default: return .nan
        }
    }

    /// An index drawn with probability `weights[index]` (the weights sum to 1).
    static func draw(_ weights: [Double], using generator: inout SeededRandomNumberGenerator) -> Int {
        var draw = Double.random(in: 0..<1, using: &generator)
        for (index, weight) in weights.enumerated() {
            if draw < weight { return index }
            draw -= weight
        }
        return weights.count - 1
    }

    /// A Parzen estimator over all parameters: one kernel per observation, and the prior last.
    struct Parzen {
        /// Per parameter, per kernel: a Gaussian (mean, sigma) or category probabilities.
        enum Dimension {
            case numeric(low: Double, high: Double, means: [Double], sigmas: [Double])
            case categorical([[Double]])
        }

        var dimensions: [Dimension]
        var weights: [Double]

        init(_ observations: [[Double]], spaces: [Space], priorWeight: Double, bandwidthFloor: Double) {
            let kernels = observations.count + 1
            weights = Self.recencyWeights(observations.count) + [priorWeight]
            let total = weights.reduce(0, +)
            weights = weights.map { $0 / total }
            dimensions = spaces.enumerated().map { position, space in
                let values = observations.map { $0[position] }
                switch space {
                case .categorical(let count):
                    let rows = values.map { value -> [Double] in
                        var row = [Double](repeating: priorWeight / Double(count), count: count)
                        row[min(max(Int(value), 0), count - 1)] += 1
                        let sum = row.reduce(0, +)
                        return row.map { $0 / sum }
                    }
                    return .categorical(rows + [[Double](repeating: 1 / Double(count), count: count)])
                case .numeric(let low, let high):
                    let range = high - low
                    let means = values.map { min(max($0.isFinite ? $0 : (low + high) / 2, low), high) }
                    // Bandwidths as Optuna's: the larger distance to a neighbour (the range's ends count
                    // only for a lone value), clipped to [floor · range / min(100, 1 + kernels), range].
                    let order = means.indices.sorted { means[$0] < means[$1] }
                    let sorted = order.map { means[$0] }
                    let minimum = bandwidthFloor * range / min(100, 1 + Double(kernels))
                    var sigmas = [Double](repeating: range, count: means.count)
                    for (rank, index) in order.enumerated() {
                        let left = rank > 0 ? sorted[rank] - sorted[rank - 1] : nil
                        let right = rank + 1 < sorted.count ? sorted[rank + 1] - sorted[rank] : nil
                        let width: Double
                        if left == nil, right == nil {
                            width = max(sorted[rank] - low, high - sorted[rank])
                        } else {
                            width = max(left ?? 0, right ?? 0)
                        }
                        sigmas[index] = min(max(width, minimum), range)
                    }
                    return .numeric(low: low, high: high, means: means + [(low + high) / 2], sigmas: sigmas + [range])
                }
            }
        }

        /// The kernels' weights for `count` points in the order they finished: all 1 up to 25 points;
        /// beyond, the 25 most recent weigh 1 and the older ones rise linearly from `1 / count` towards 1
        /// (Optuna's default), so the estimators follow where the search has moved.
        static func recencyWeights(_ count: Int) -> [Double] {
            guard count > 25 else { return [Double](repeating: 1, count: count) }
            let ramp = count - 25
            let start = 1 / Double(count)
            let ramped = (0..<ramp).map { index in
                ramp == 1 ? start : start + (1 - start) * Double(index) / Double(ramp - 1)
            }
            return ramped + [Double](repeating: 1, count: 25)
        }

        static func cdf(_ x: Double) -> Double { 0.5 * (1 + erf(x / 2.0.squareRoot())) }

        /// The log density at `x` (one value per parameter), summed over the kernels in log space so
        /// that far-off points keep their order instead of all underflowing to zero.
        func logDensity(_ x: [Double]) -> Double {
            var terms = [Double](repeating: 0, count: weights.count)
            for kernel in weights.indices {
                var term = log(weights[kernel])
                for (position, dimension) in dimensions.enumerated() {
                    switch dimension {
                    case .categorical(let rows):
                        term += log(rows[kernel][min(max(Int(x[position]), 0), rows[kernel].count - 1)])
                    case .numeric(let low, let high, let means, let sigmas):
                        let (mean, sigma) = (means[kernel], sigmas[kernel])
                        guard sigma > 0 else { continue }
                        let mass = max(Self.cdf((high - mean) / sigma) - Self.cdf((low - mean) / sigma), 1e-300)
                        let z = (x[position] - mean) / sigma
                        term += -0.5 * z * z - log(sigma * (2 * Double.pi).squareRoot() * mass)
                    }
                }
                terms[kernel] = term
            }
            guard let largest = terms.max(), largest.isFinite else { return terms.max() ?? -.infinity }
            return largest + log(terms.reduce(0) { $0 + exp($1 - largest) })
        }

        /// A draw: a kernel by weight, then each parameter from that kernel (Gaussians truncated to the range).
        func sample(using generator: inout SeededRandomNumberGenerator) -> [Double] {
            let kernel = TPESampler.draw(weights, using: &generator)
            return dimensions.map { dimension in
                switch dimension {
                case .categorical(let rows):
                    return Double(TPESampler.draw(rows[kernel], using: &generator))
                case .numeric(let low, let high, let means, let sigmas):
                    for _ in 0..<100 {
                        // Box–Muller.
                        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &generator)
                        let u2 = Double.random(in: 0..<1, using: &generator)
                        let x = means[kernel] + sigmas[kernel] * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
                        if x >= low, x <= high { return x }
                    }
                    return min(max(means[kernel], low), high)
                }
            }
        }
    }
}
