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
        let tpe = seeds.map { seed in
            SweepSpecTests.best(TPESampler(domains: SweepSpecTests.braninDomains, count: 40, seed: UInt64(seed), maximize: false), trials: 40)
        }
        let random = seeds.map { seed in
            SweepSpecTests.best(RandomSampler(domains: SweepSpecTests.braninDomains, count: 40, seed: UInt64(seed)), trials: 40)
        }
        print("seeds \(range): tpe median \(Self.median(tpe)), random median \(Self.median(random))")
        print("tpe bests: \(tpe.map { ($0 * 1000).rounded() / 1000 })")
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
