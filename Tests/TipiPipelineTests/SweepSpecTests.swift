import Foundation
import Testing
import Tipi
import TipiTestSupport

@testable import TipiPipeline

/// `[sweep]` and `--sweep`: read, validated against the pipeline before any point runs, and sampled.
@Suite("Sweep specs and samplers")
struct SweepSpecTests {
    static let base = """
        [processes.training]
        type = "fit"
        params = { epochs = 2, rate = 0.1 }
        [permanences.data]
        type = "Points"
        count = 1
        """

    func spec(_ sweep: String, flags: SweepSpec.Flags = .init()) throws -> Result<SweepSpec, ConfigProblems> {
        let document = try ConfigLoader.parse(text: Self.base + "\n" + sweep, file: "c.toml")
        return SweepSpec.read(document, flags: flags)
    }

    /// Every problem of a sweep (spec and values against the pipeline), printed as the user sees them.
    func problems(_ sweep: String, flags: SweepSpec.Flags = .init()) throws -> String {
        let document = try ConfigLoader.parse(text: Self.base + "\n" + sweep, file: "c.toml")
        switch SweepSpec.read(document, flags: flags) {
        case .failure(let problems): return problems.description
        case .success(let spec): return ConfigProblems(spec.problems(in: document, definition: testDefinition)).description
        }
    }

    @Test("a grid over a [sweep.params] list and a --sweep flag: every combination, last varying fastest, as --set values")
    func grid() throws {
        let spec = try spec(
            "[sweep]\nmetric = \"loss\"\n[sweep.params]\n\"processes.training.params.epochs\" = [1, 2]\n",
            flags: .init(sweeps: ["processes.training.params.rate=0.1,1e-3,\"x,y\""])
        ).get()
        #expect(spec.method == .grid)
        let sampler = GridSampler(spec.parameters)
        #expect(sampler.count == 6)
        let points = (0..<6).map { SweepController.point($0, values: sampler.point($0, after: []), spec: spec).assignments }
        #expect(points[0] == ["processes.training.params.epochs=1", "processes.training.params.rate=0.1"])
        #expect(points[1] == ["processes.training.params.epochs=1", "processes.training.params.rate=0.001"])
        #expect(points[2] == ["processes.training.params.epochs=1", "processes.training.params.rate=\"x,y\""])
        #expect(points[5] == ["processes.training.params.epochs=2", "processes.training.params.rate=\"x,y\""])
    }

    @Test("a path that does not exist, an empty list, min > max, a type that does not fit: located, with suggestions")
    func invalid() throws {
        let text = try problems(
            """
            [sweep]
            method = "random"
            [sweep.params]
            "processes.training.params.epoch" = [1, 2]
            "processes.trainig.params.rate" = [0.1]
            "processes.training.params.rate" = []
            "permanences.data.params.count" = { distribution = "int_uniform", min = 10, max = 1 }
            """)
        #expect(text.contains("error[SWP002]: c.toml:12:36: sweep.params.processes.training.params.rate: an empty list: nothing to sweep"))
        #expect(text.contains("error[SWP002]: c.toml:13:73: sweep.params.permanences.data.params.count: min (10) is greater than max (1)"))
        let types = try problems(
            """
            [sweep]
            method = "random"
            [sweep.params]
            "processes.training.params.epoch" = [1, 2]
            "processes.trainig.params.rate" = [0.1]
            "processes.training.params.epochs" = { distribution = "uniform", min = 0.5, max = 4.0 }
            """)
        #expect(types.contains("c.toml:10:37: processes.training.params.epoch: unknown param (a value of sweep.params.\"processes.training.params.epoch\")"))
        #expect(types.contains("help: did you mean `epochs`?"))
        #expect(types.contains("no process 'trainig' in the config"))
        #expect(types.contains("help: did you mean `processes.training`?"))
        #expect(types.contains("processes.training.params.epochs: expected Int"))
        #expect(types.contains("c.toml:12:"))
    }

    @Test("--sweep: a value of the wrong type names the flag; an unknown method and goal are suggested")
    func flags() throws {
        let text = try problems("", flags: .init(sweeps: ["processes.training.params.epochs=1,two"]))
        #expect(text.contains("--sweep processes.training.params.epochs=1,two: "))
        #expect(text.contains("expected Int"))
        let method = try problems("", flags: .init(sweeps: ["processes.training.params.epochs=1"], method: "grdi", goal: "minimise"))
        #expect(method.contains("error[SWP001]: --method: unknown value \"grdi\"\n  help: did you mean \"grid\"?"))
        #expect(method.contains("--goal: unknown value \"minimise\"\n  help: did you mean \"minimize\"?"))
        let empty = try problems("", flags: .init(sweeps: ["processes.training.params.epochs=1,,2"]))
        #expect(empty.contains("an empty value in the list"))
        let nothing = try problems("")
        #expect(nothing.contains("nothing to sweep"))
    }

    @Test("a grid over a continuous range needs a step; tpe and asha need a metric; unknown keys are suggested")
    func structure() throws {
        let text = try problems(
            """
            [sweep]
            method = "tpe"
            trails = 3
            [sweep.params]
            "processes.training.params.rate" = { distribution = "log_uniform", min = 0.0, max = 1.0 }
            [sweep.early_stop]
            type = "hyperband"
            """)
        #expect(text.contains("sweep.trails: unknown key\n  help: did you mean `trials`?"))
        #expect(text.contains("log_uniform needs min > 0"))
        #expect(text.contains("the one known type is \"asha\""))
        #expect(text.contains("tpe needs the metric it optimises"))
        let grid = try problems("[sweep.params]\n\"processes.training.params.rate\" = { distribution = \"uniform\", min = 0.0, max = 1.0 }\n")
        #expect(grid.contains("a grid needs a list of values, or a range with a step"))
        let stepped = try spec("[sweep.params]\n\"processes.training.params.rate\" = { distribution = \"uniform\", min = 0.0, max = 1.0, step = 0.25 }\n").get()
        #expect(GridSampler(stepped.parameters).count == 5)
    }

    @Test("random: the same seed replays the same points, another seed draws others; values stay in their ranges")
    func random() throws {
        let spec = try spec(
            """
            [sweep]
            method = "random"
            trials = 50
            seed = 7
            [sweep.params]
            "processes.training.params.rate" = { distribution = "log_uniform", min = 1e-4, max = 1.0 }
            "processes.training.params.epochs" = { distribution = "int_uniform", min = 1, max = 9, step = 2 }
            """
        ).get()
        let first = RandomSampler(domains: spec.parameters.map(\.domain), count: 50, seed: 7)
        let again = RandomSampler(domains: spec.parameters.map(\.domain), count: 50, seed: 7)
        let other = RandomSampler(domains: spec.parameters.map(\.domain), count: 50, seed: 8)
        let points = (0..<50).map { first.point($0, after: []) }
        #expect(points == (0..<50).map { again.point($0, after: []) })
        #expect(points != (0..<50).map { other.point($0, after: []) })
        for point in points {
            guard case .double(let rate, _) = point[0], case .int(let epochs, _) = point[1] else {
                Issue.record("wrong types: \(point)")
                continue
            }
            #expect(rate >= 1e-4 && rate <= 1)
            #expect([1, 3, 5, 7, 9].contains(epochs))
        }
        #expect(Set(points.map { $0[1].configValue }).count == 5)
    }

    /// The best Branin value `sampler` finds in `trials` sequential trials.
    static func best(_ sampler: any SweepSampler, trials: Int) -> Double {
        var observations: [SweepObservation] = []
        for index in 0..<trials {
            let values = sampler.point(index, after: observations)
            guard case .double(let x, _) = values[0], case .double(let y, _) = values[1] else { return .infinity }
            observations.append(SweepObservation(values: values, value: Branin.value(x, y)))
        }
        return observations.map(\.value).min() ?? .infinity
    }

    static let braninDomains: [SweepDomain] = [.uniform(min: -5, max: 10, step: nil), .uniform(min: 0, max: 15, step: nil)]

    @Test("tpe on Branin (minimum 0.3979), 40 trials over 15 seeds: a lower median best than random; replayable")
    func tpeBranin() {
        var tpe: [Double] = []
        var random: [Double] = []
        for seed in 0..<15 {
            tpe.append(Self.best(TPESampler(domains: Self.braninDomains, count: 40, seed: UInt64(seed), maximize: false), trials: 40))
            random.append(Self.best(RandomSampler(domains: Self.braninDomains, count: 40, seed: UInt64(seed)), trials: 40))
        }
        if ProcessInfo.processInfo.environment["TIPI_PRINT_TPE"] == "1" {
            let first = Array(tpe.prefix(10)).sorted(), random10 = Array(random.prefix(10)).sorted()
            print("tpe median (seeds 0-9) \((first[4] + first[5]) / 2), random \((random10[4] + random10[5]) / 2)")
        }
        let medianTPE = tpe.sorted()[7]
        let medianRandom = random.sorted()[7]
        #expect(medianTPE < medianRandom, "tpe \(medianTPE) vs random \(medianRandom)")
        #expect(medianTPE < 1.5, "tpe's median best \(medianTPE)")
        #expect(tpe.allSatisfy { $0 >= Branin.minimum - 1e-6 })
        let again = Self.best(TPESampler(domains: Self.braninDomains, count: 40, seed: 3, maximize: false), trials: 40)
        #expect(again == tpe[3])
    }

    @Test("tpe maximizing, with a list of values: it prefers the category that scores best")
    func tpeCategorical() {
        let sampler = TPESampler(domains: [.values([.string("a", nil), .string("b", nil), .string("c", nil)])], count: 60, seed: 1, maximize: true)
        var observations: [SweepObservation] = []
        for index in 0..<60 {
            let values = sampler.point(index, after: observations)
            observations.append(SweepObservation(values: values, value: values[0] == .string("b", nil) ? 1 : 0))
        }
        let late = observations.suffix(30).filter { $0.values[0] == .string("b", nil) }.count
        #expect(late >= 20, "b chosen \(late) of the last 30 times")
    }

    @Test("asha: at a rung, a point outside the best third of its peers stops; the best goes on; too few peers: none stops")
    func asha() {
        let rule = EarlyStopRule(minStep: 1, reductionFactor: 3)
        #expect(rule.rungs(upTo: 30) == [1, 3, 9, 27])
        let better: (Double, Double) -> Bool = { $0 < $1 }
        let peers: [(steps: [Int], values: [Double])] = [([0, 1, 2, 3], [5, 4, 3, 2]), ([0, 1, 2, 3], [5, 4.5, 4, 3.5])]
        #expect(rule.shouldStop(candidate: ([0, 1, 2, 3], [9, 9, 9, 9]), peers: peers, better: better))
        #expect(!rule.shouldStop(candidate: ([0, 1, 2, 3], [1, 1, 1, 1]), peers: peers, better: better))
        #expect(!rule.shouldStop(candidate: ([0, 1, 2, 3], [9, 9, 9, 9]), peers: Array(peers.prefix(1)), better: better))
        // Before its first rung a point is never stopped.
        #expect(!rule.shouldStop(candidate: ([0], [99]), peers: peers, better: better))
    }

    @Test("values are written so that --set reads them back with the same type")
    func valueText() throws {
        let values: [ConfigNode] = [.int(3, nil), .double(1e-5, nil), .double(2, nil), .string("a\"b\\c\n\u{7F}\u{1}", nil), .bool(true, nil), .array([.int(1, nil)], nil)]
        for value in values {
            let read = try TOMLParser.parseValue(SweepValueText.toml(value))
            #expect(read.configValue == value.configValue)
        }
        #expect(SweepSpec.splitValues("1,[2,3],\"a,b\",'c,d'") == ["1", "[2,3]", "\"a,b\"", "'c,d'"])
    }
}
