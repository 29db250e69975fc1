import Foundation
import Tipi

/// A finished point as a sampler sees it: its values (one per parameter, in spec order) and its metric.
struct SweepObservation: Sendable {
    var values: [ConfigNode]
    var value: Double
}

/// Decides the points of a sweep. Grid and random decide all of them at once; a model-based sampler
/// decides each from the points finished so far.
protocol SweepSampler: Sendable {
    /// How many points the sweep has in all.
    var count: Int { get }
    /// Whether every point can be decided before any runs (`point(_:after:)` ignores the observations).
    var isUpfront: Bool { get }
    /// The values (one per parameter, in spec order) of point `index`, given the points finished so far.
    func point(_ index: Int, after observations: [SweepObservation]) -> [ConfigNode]
}

/// Every combination of the parameters' values, the last parameter varying fastest.
struct GridSampler: SweepSampler {
    let axes: [[ConfigNode]]

    init(_ parameters: [SweepParameter]) {
        axes = parameters.map { $0.domain.gridValues ?? [] }
    }

    var count: Int { axes.reduce(1) { $0 * $1.count } }
    var isUpfront: Bool { true }

    func point(_ index: Int, after observations: [SweepObservation]) -> [ConfigNode] {
        var rest = index
        var values: [ConfigNode] = Array(repeating: .int(0, nil), count: axes.count)
        for axis in axes.indices.reversed() {
            values[axis] = axes[axis][rest % axes[axis].count]
            rest /= axes[axis].count
        }
        return values
    }
}

/// Points drawn independently at random; point `index` depends only on the seed and the index, so a
/// sweep replays exactly and a resumed sweep draws the same points.
struct RandomSampler: SweepSampler {
    let domains: [SweepDomain]
    let count: Int
    let seed: UInt64

    var isUpfront: Bool { true }

    func point(_ index: Int, after observations: [SweepObservation]) -> [ConfigNode] {
        var generator = Self.generator(seed: seed, index: index)
        return domains.map { $0.sample(using: &generator) }
    }

    /// The generator of point `index` of a sweep seeded `seed`.
    static func generator(seed: UInt64, index: Int) -> SeededRandomNumberGenerator {
        var mixer = SeededRandomNumberGenerator(seed: seed ^ (UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15))
        return SeededRandomNumberGenerator(seed: mixer.next())
    }
}
