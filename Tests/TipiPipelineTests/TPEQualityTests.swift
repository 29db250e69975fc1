import Foundation
import Testing
import TipiTestSupport

@testable import TipiPipeline

/// A measurement rather than a check: with `TIPI_TPE_SEEDS=FIRST-LAST` set, prints the median best Branin
/// value (40 trials) of tpe and random over those seeds, the in-process side of the comparison with
/// Optuna (`Benchmarks/SweepBenchmark/peers.py`). Without it, it does nothing.
@Suite("TPE quality measurement")
struct TPEQualityTests {
    @Test("tpe and random on Branin: median best over TIPI_TPE_SEEDS (printed only)")
    func braninMedians() {
        guard let range = ProcessInfo.processInfo.environment["TIPI_TPE_SEEDS"] else { return }
        let bounds = range.split(separator: "-").compactMap { Int($0) }
        guard bounds.count == 2, bounds[0] <= bounds[1] else { return }
        let seeds = bounds[0]...bounds[1]
        let environment = ProcessInfo.processInfo.environment
        let tpe = seeds.map { seed in
            var sampler = TPESampler(domains: SweepSpecTests.braninDomains, count: 40, seed: UInt64(seed), maximize: false)
            if let candidates = environment["TIPI_TPE_CANDIDATES"].flatMap(Int.init) { sampler.candidates = candidates }
            if let startup = environment["TIPI_TPE_STARTUP"].flatMap(Int.init) { sampler.startup = startup }
            if let prior = environment["TIPI_TPE_PRIOR"].flatMap(Double.init) { sampler.priorWeight = prior }
            return SweepSpecTests.best(sampler, trials: 40)
        }
        let random = seeds.map { seed in
            SweepSpecTests.best(RandomSampler(domains: SweepSpecTests.braninDomains, count: 40, seed: UInt64(seed)), trials: 40)
        }
        let mean = tpe.map { log($0 - Branin.minimum + 1e-9) }.reduce(0, +) / Double(tpe.count)
        print("seeds \(range): mean log regret \(mean), tpe median \(Self.median(tpe)), random median \(Self.median(random))")
        print("tpe bests: \(tpe.map { ($0 * 1000).rounded() / 1000 })")
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
