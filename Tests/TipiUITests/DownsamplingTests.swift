import Foundation
import Testing
import Tipi
import TipiTestSupport

@testable import TipiUI

@Suite("Downsampling: min/max buckets keep every spike")
struct DownsamplingTests {
    @Test("200,000 noisy points with planted spikes: at most N points, in step order, every spike and both extremes kept")
    func spikesSurvive() {
        // (A million points, timed, is Benchmarks/dashboard_benchmark.py; a debug build draws them slowly.)
        var generator = SeededRandomNumberGenerator(seed: 12)
        let count = 200_000
        let steps = Array(0..<count)
        var values = (0..<count).map { _ in Double.random(in: 0...1, using: &generator) }
        let spikes = [3, 77_777, 100_000, 199_998]
        for (index, step) in spikes.enumerated() { values[step] = index.isMultiple(of: 2) ? 50 + Double(index) : -50 - Double(index) }
        for limit in [2, 3, 100, 2000] {
            let points = Downsampling.minMax(steps: steps, values: values, maxPoints: limit)
            #expect(points.count <= max(limit, 2))
            #expect(points.count >= max(limit, 2) - 1)
            #expect(zip(points, points.dropFirst()).allSatisfy { $0.step < $1.step })
            #expect(points.contains { $0.value == values.max() }, "the largest value was lost at \(limit) points")
            #expect(points.contains { $0.value == values.min() }, "the smallest value was lost at \(limit) points")
            if limit >= 100 {
                for step in spikes { #expect(points.contains { $0.step == step && $0.value == values[step] }, "spike at \(step) lost") }
            }
        }
    }

    @Test("fewer points than asked come back as they are; NaN is never an extreme but an all-NaN bucket keeps a point")
    func smallAndNaN() {
        let small = Downsampling.minMax(steps: [0, 5, 9], values: [1, .nan, 3], maxPoints: 10)
        #expect(small.count == 3 && small[1].value.isNaN && small[2] == .init(step: 9, value: 3))
        let steps = Array(0..<100)
        var values = steps.map(Double.init)
        // 10 points: 5 buckets of 20; the first is all NaN.
        for index in 0..<20 { values[index] = .nan }
        values[25] = .nan
        values[60] = .infinity
        let points = Downsampling.minMax(steps: steps, values: values, maxPoints: 10)
        #expect(points.count <= 10)
        #expect(points.first?.step == 0 && points.first?.value.isNaN == true)
        #expect(points.contains { $0.step == 60 && $0.value == .infinity })
        #expect(Downsampling.json(points).contains("\"NaN\"") && Downsampling.json(points).contains("\"Infinity\""))
    }

    @Test("an empty metric and mismatched lengths give no crash")
    func degenerate() {
        #expect(Downsampling.minMax(steps: [], values: [], maxPoints: 2000).isEmpty)
        #expect(Downsampling.minMax(steps: [1, 2, 3], values: [1], maxPoints: 2).count == 1)
        #expect(Downsampling.json([]) == "[]")
    }
}
