import Foundation
import Tipi

/// A Tree-structured Parzen Estimator, in the spirit of Optuna's default sampler (univariate TPE).
///
/// The first `startup` points are random. After that the finished points are split by a quantile into
/// good (the best `gamma(n) = min(⌈n/10⌉, 25)`) and bad; for each parameter, a Parzen estimator
/// (a mixture of truncated Gaussians around the observed values, plus a wide prior) is fitted to each
/// group, `candidates` values are drawn from the good one, and the value with the highest ratio
/// `l(x) / g(x)` — the expected-improvement criterion of TPE — is taken. Lists of values use a
/// categorical estimator (counts plus a prior weight). Every draw comes from a generator seeded by the
/// sweep's seed and the point's index, so a sweep with the same seed and results replays exactly.
struct TPESampler: SweepSampler {
    let domains: [SweepDomain]
    let count: Int
    let seed: UInt64
    /// `true` when larger metric values are better.
    let maximize: Bool
    var startup = 10
    var candidates = 24
    var priorWeight = 1.0

    var isUpfront: Bool { false }

    func point(_ index: Int, after observations: [SweepObservation]) -> [ConfigNode] {
        var generator = RandomSampler.generator(seed: seed, index: index)
        let usable = observations.filter { !$0.value.isNaN && $0.values.count == domains.count }
        guard usable.count >= startup else { return domains.map { $0.sample(using: &generator) } }
        let sorted = usable.sorted { maximize ? $0.value > $1.value : $0.value < $1.value }
        let goodCount = min(Int((Double(sorted.count) * 0.1).rounded(.up)), 25)
        let good = Array(sorted.prefix(max(goodCount, 1)))
        let bad = Array(sorted.dropFirst(max(goodCount, 1)))
        return domains.indices.map { position in
            let domain = domains[position]
            switch domain {
            case .values(let values):
                return values[categorical(values, good: good.map { $0.values[position] }, bad: bad.map { $0.values[position] }, using: &generator)]
            case .uniform(let low, let high, let step):
                let x = numeric(low: low, high: high, good: good.map { number($0.values[position]) }, bad: bad.map { number($0.values[position]) }, using: &generator)
                return .double(SweepDomain.snap(x, min: low, max: high, step: step), nil)
            case .logUniform(let low, let high):
                let x = numeric(
                    low: log(low), high: log(high), good: good.map { log(max(number($0.values[position]), low)) },
                    bad: bad.map { log(max(number($0.values[position]), low)) }, using: &generator)
                return .double(min(max(exp(x), low), high), nil)
            case .intUniform(let low, let high, let step):
                // Optuna widens an integer range by half a step on each side, so the ends are as likely.
                let x = numeric(
                    low: Double(low) - Double(step) / 2, high: Double(high) + Double(step) / 2,
                    good: good.map { number($0.values[position]) }, bad: bad.map { number($0.values[position]) }, using: &generator)
                let snapped = Double(low) + ((x - Double(low)) / Double(step)).rounded() * Double(step)
                return .int(Int(min(max(snapped, Double(low)), Double(high))), nil)
            }
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

    private func number(_ node: ConfigNode) -> Double {
        switch node {
        case .int(let value, _): return Double(value)
        case .double(let value, _): return value
        default: return .nan
        }
    }

    /// The index of the category with the best ratio among draws from the good estimator.
    private func categorical(_ values: [ConfigNode], good: [ConfigNode], bad: [ConfigNode], using generator: inout SeededRandomNumberGenerator) -> Int {
        func weights(_ observed: [ConfigNode]) -> [Double] {
            var counts = [Double](repeating: priorWeight / Double(values.count), count: values.count)
            for value in observed { if let index = values.firstIndex(where: { $0.configValue == value.configValue }) { counts[index] += 1 } }
            let total = counts.reduce(0, +)
            return counts.map { $0 / total }
        }
        let l = weights(good)
        let g = weights(bad)
        var best = 0
        var bestScore = -Double.infinity
        for _ in 0..<candidates {
            let choice = Self.draw(l, using: &generator)
            let score = log(l[choice]) - log(g[choice])
            if score > bestScore {
                bestScore = score
                best = choice
            }
        }
        return best
    }

    /// A Parzen estimator on `low…high`: truncated Gaussians at the observations and one wide prior.
    struct Parzen {
        var means: [Double]
        var sigmas: [Double]
        var weights: [Double]
        let low: Double
        let high: Double

        init(_ observed: [Double], low: Double, high: Double, priorWeight: Double) {
            self.low = low
            self.high = high
            let range = high - low
            let points = observed.filter { $0.isFinite }.map { min(max($0, low), high) }
            let prior = (low + high) / 2
            // Bandwidths from the distances to the neighbours (the prior among them), clipped as Optuna's
            // "magic clip" does: at least range / min(100, 1 + n), at most the range.
            var all = points + [prior]
            all.sort()
            let minimum = range / min(100, 1 + Double(all.count))
            func sigma(at index: Int) -> Double {
                let left = index > 0 ? all[index] - all[index - 1] : all[index] - low
                let right = index + 1 < all.count ? all[index + 1] - all[index] : high - all[index]
                return min(max(max(left, right), minimum), range)
            }
            means = []
            sigmas = []
            weights = []
            var priorTaken = false
            for (index, mean) in all.enumerated() {
                if !priorTaken, mean == prior {
                    priorTaken = true
                    means.append(prior)
                    sigmas.append(range)
                    weights.append(priorWeight)
                } else {
                    means.append(mean)
                    sigmas.append(sigma(at: index))
                    weights.append(1)
                }
            }
            let total = weights.reduce(0, +)
            weights = weights.map { $0 / total }
        }

        static func cdf(_ x: Double) -> Double { 0.5 * (1 + erf(x / 2.0.squareRoot())) }

        /// The log density at `x`.
        func logDensity(_ x: Double) -> Double {
            var total = 0.0
            for index in means.indices {
                let (mean, sigma) = (means[index], sigmas[index])
                let mass = max(Self.cdf((high - mean) / sigma) - Self.cdf((low - mean) / sigma), 1e-12)
                let z = (x - mean) / sigma
                total += weights[index] * exp(-0.5 * z * z) / (sigma * (2 * Double.pi).squareRoot() * mass)
            }
            return log(max(total, 1e-300))
        }

        /// A draw: a component by weight, then its Gaussian truncated to the range.
        func sample(using generator: inout SeededRandomNumberGenerator) -> Double {
            let component = TPESampler.draw(weights, using: &generator)
            for _ in 0..<100 {
                // Box–Muller.
                let u1 = Double.random(in: Double.ulpOfOne..<1, using: &generator)
                let u2 = Double.random(in: 0..<1, using: &generator)
                let x = means[component] + sigmas[component] * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
                if x >= low, x <= high { return x }
            }
            return min(max(means[component], low), high)
        }
    }

    private func numeric(low: Double, high: Double, good: [Double], bad: [Double], using generator: inout SeededRandomNumberGenerator) -> Double {
        guard high > low else { return low }
        let l = Parzen(good, low: low, high: high, priorWeight: priorWeight)
        let g = Parzen(bad, low: low, high: high, priorWeight: priorWeight)
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
        return best
    }
}
