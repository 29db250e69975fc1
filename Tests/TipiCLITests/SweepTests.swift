import Foundation
import Testing
import TipiTestSupport

@testable import TipiCLI

/// Sweeps run for real: the fixture pipeline's `sweep` command launches its points as child processes,
/// and `tipi sweeps` / `tipi runs` read what they recorded.
@Suite("Sweeps, local launcher")
struct SweepTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)")

    var store: String { folder.appendingPathComponent("runs").path }

    func fixture() throws -> String {
        try #require(Executables.path(of: "TipiPipelineFixture"), "TipiPipelineFixture was not built: run `swift build`")
    }

    func tipi() throws -> String {
        try #require(Executables.path(of: "tipi"), "tipi was not built: run `swift build`")
    }

    var environment: [String: String] { ["TIPI_DIR": store, "TIPI_PROGRESS": "plain"] }
    let removing = ["TIPI_PROGRESS", "NO_COLOR", "TIPI_SWEEP_ID", "TIPI_SWEEP_INDEX", "TIPI_BACKENDS", "CUDA_VISIBLE_DEVICES", "TIPI_DEVICE"]

    /// A config of the `branin` process with `sweep` appended.
    func write(_ sweep: String, steps: Int = 1, delay: Double = 0, extra: String = "") throws -> String {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("sweep-\(UUID().uuidString.prefix(6)).toml").path
        let text = """
            [processes.opt]
            type = "branin"
            params = { x = 0.0, y = 0.0, steps = \(steps), delay = \(delay)\(extra) }

            \(sweep)
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func json(_ arguments: [String]) throws -> Any {
        let result = try Executables.run(try tipi(), arguments, environment: environment, removing: removing)
        #expect(result.status == 0, "\(arguments): \(result.standardError)")
        return try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))
    }

    func sweepID(_ output: String) throws -> String {
        let match = try #require(output.firstMatch(of: /sweep (sw-[a-z0-9]{8})/), "no sweep id in: \(output)")
        return String(match.1)
    }

    @Test("a grid from [sweep.params] and --sweep: every point a run with its values; sweeps show sorts best first; runs --sweep lists them")
    func grid() throws {
        let config = try write(
            """
            [sweep]
            metric = "branin"
            parallel = 2
            [sweep.params]
            "processes.opt.params.x" = [-3.0, 3.0]
            """)
        let result = try Executables.run(
            try fixture(), ["sweep", config, "--sweep", "processes.opt.params.y=2.0,12.0,7", "--set", "processes.opt.params.steps=2"],
            environment: environment, removing: removing)
        #expect(result.status == 0, "\(result.standardError)")
        let id = try sweepID(result.standardOutput)
        #expect(result.standardOutput.contains("6 points (grid over processes.opt.params.x, processes.opt.params.y), 6 to run, 2 at once"))
        #expect(result.standardOutput.split(separator: "\n").filter { $0.contains(" finished: x=") }.count == 6)
        #expect(result.standardOutput.contains("sweep \(id) finished: 6 of 6 points done"))

        let sweep = try #require(try json(["sweeps", "show", id, "--json"]) as? [String: Any])
        #expect(sweep["id"] as? String == id)
        #expect(sweep["project"] as? String == "fixture")
        #expect(sweep["method"] as? String == "grid")
        #expect(sweep["metric"] as? String == "branin")
        #expect(sweep["goal"] as? String == "minimize")
        #expect(sweep["status"] as? String == "finished")
        let points = try #require(sweep["points"] as? [[String: Any]])
        #expect(points.count == 6)
        var values: [Double] = []
        var runIDs: [String: Int] = [:]
        for point in points {
            let params = try #require(point["params"] as? [String: Any])
            let x = try #require(params["processes.opt.params.x"] as? Double)
            let y = try #require(params["processes.opt.params.y"] as? Double)
            let value = try #require(point["value"] as? Double)
            #expect(abs(value - Branin.value(x, y)) < 1e-9)
            #expect(point["status"] as? String == "finished")
            values.append(value)
            runIDs[try #require(point["run"] as? String)] = try #require(point["index"] as? Int)
        }
        #expect(values == values.sorted())
        let best = try #require(sweep["best"] as? [String: Any])
        #expect(best["value"] as? Double == values.first)
        #expect(best["index"] as? Int == points.first?["index"] as? Int)

        // Each point's run: its sweep and index, and the resolved config with the point's values.
        let runs = try #require(try json(["runs", "--json"]) as? [[String: Any]])
        #expect(runs.count == 6)
        for run in runs {
            let id = try #require(run["id"] as? String)
            let membership = try #require(run["sweep"] as? [String: Any])
            #expect(membership["index"] as? Int == runIDs[id])
            let config = try #require(run["config"] as? [String: Any])
            let params = ((config["processes"] as? [String: Any])?["opt"] as? [String: Any])?["params"] as? [String: Any]
            #expect(params?["steps"] as? Int == 2)
            // Where each value came from: the point's swept values are `sweep`, the sweep's --set is `--set`.
            let sources = try #require(run["config_sources"] as? [String: String])
            #expect(sources["processes.opt.params.steps"] == "--set processes.opt.params.steps=2")
            #expect(sources["processes.opt.params.x"]?.hasPrefix("sweep processes.opt.params.x=") == true, "\(sources)")
            #expect(sources["processes.opt.params.y"]?.hasPrefix("sweep processes.opt.params.y=") == true, "\(sources)")
        }
        // An unrelated run is not listed by --sweep.
        let plain = try write("")
        #expect(try Executables.run(try fixture(), ["run", plain], environment: environment, removing: removing).status == 0)
        let listed = try Executables.run(try tipi(), ["runs", "--sweep", id], environment: environment, removing: removing)
        #expect(listed.standardOutput.split(separator: "\n").count == 7)
        #expect(listed.standardOutput.contains("SWEEP"))
        #expect(listed.standardOutput.contains("\(id) #0"))
        let table = try Executables.run(try tipi(), ["sweeps"], environment: environment, removing: removing)
        #expect(table.standardOutput.contains("\(id)  fixture  grid    finished  6/6     branin (min)"))
        // The sweeps folder is not a project: tipi runs lists no damaged run.
        #expect(!(try Executables.run(try tipi(), ["runs"], environment: environment, removing: removing).standardOutput.contains("damaged")))
    }

    @Test("an invalid sweep: every problem located, exit 2, nothing recorded, no point runs")
    func invalid() throws {
        let config = try write(
            """
            [sweep]
            method = "random"
            [sweep.params]
            "processes.opt.params.z" = [1.0]
            "processes.opt.params.steps" = { distribution = "uniform", min = 1.0, max = 3.0 }
            "processes.opt.params.y" = []
            """)
        let result = try Executables.run(try fixture(), ["sweep", config], environment: environment, removing: removing)
        #expect(result.status == 2)
        #expect(result.standardError.contains("\(config):10:28: sweep.params.processes.opt.params.y: an empty list"), "\(result.standardError)")
        let second = try Executables.run(
            try fixture(), ["sweep", try write("[sweep.params]\n\"processes.opt.params.z\" = [1.0]\n\"processes.opt.params.steps\" = [1.5]\n")],
            environment: environment, removing: removing)
        #expect(second.status == 2)
        #expect(second.standardError.contains("processes.opt.params.z: unknown param"))
        #expect(second.standardError.contains("help: params: x, y, steps, delay, crashAt") || second.standardError.contains("help: did you mean"))
        #expect(second.standardError.contains("processes.opt.params.steps: expected Int"))
        #expect(!FileManager.default.fileExists(atPath: store + "/fixture"))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: store + "/sweeps")) ?? []).filter { $0.hasPrefix("sw-") }.isEmpty)
    }

    @Test("a point that crashes is a visible failed point; the others finish; exit 1")
    func crash() throws {
        let config = try write("[sweep]\nmetric = \"branin\"\nparallel = 2\n", extra: ", crashAt = 1.0")
        let result = try Executables.run(
            try fixture(), ["sweep", config, "--sweep", "processes.opt.params.x=0.0,1.0,2.0"], environment: environment, removing: removing)
        #expect(result.status == 1)
        let id = try sweepID(result.standardOutput)
        #expect(result.standardOutput.contains("point 1 failed (killed by signal 6); its output: \(store)/sweeps/\(id)/logs/point-1.log"))
        #expect(try String(contentsOfFile: "\(store)/sweeps/\(id)/logs/point-1.log", encoding: .utf8).contains("branin x=1.0"))
        let sweep = try #require(try json(["sweeps", "show", id, "--json"]) as? [String: Any])
        let points = try #require(sweep["points"] as? [[String: Any]])
        #expect(points.filter { $0["status"] as? String == "finished" }.count == 2)
        #expect(points.first { $0["index"] as? Int == 1 }?["status"] as? String == "crashed")
        #expect(sweep["status"] as? String == "failed")
    }

    @Test("Ctrl-C: running points interrupted, the sweep resumable, exit by SIGINT; --resume runs only the missing points")
    func interruptAndResume() throws {
        let config = try write("[sweep]\nmetric = \"branin\"\nparallel = 2\n", steps: 40, delay: 0.1)
        let process = try Executables.start(
            try fixture(), ["sweep", config, "--sweep", "processes.opt.params.x=0.0,1.0,2.0,3.0", "--sweep", "processes.opt.params.steps=1,40"],
            environment: environment, removing: removing)
        // Wait until a point with 40 steps runs (after the quick one-step points before it).
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !process.standardOutputSoFar.contains("point 0 finished") { usleep(20_000) }
        usleep(800_000)
        process.signal(SIGINT)
        let result = process.wait(timeout: 60)
        #expect(result.signal == SIGINT, "status \(result.status): \(result.standardError)")
        let id = try sweepID(result.standardOutput)
        #expect(result.standardOutput.contains("sweep \(id) interrupted"))
        #expect(result.standardOutput.contains("sweep --resume \(id)"))
        let sweep = try #require(try json(["sweeps", "show", id, "--json"]) as? [String: Any])
        #expect(sweep["status"] as? String == "interrupted")
        let points = try #require(sweep["points"] as? [[String: Any]])
        let finished = Set(points.filter { $0["status"] as? String == "finished" }.compactMap { $0["run"] as? String })
        #expect(points.contains { $0["status"] as? String == "interrupted" })
        #expect(!points.contains { $0["status"] as? String == "running" })

        let resumed = try Executables.run(try fixture(), ["sweep", "--resume", id], environment: environment, removing: removing, timeout: 180)
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(resumed.standardOutput.contains("\(8 - finished.count) to run"))
        let after = try #require(try json(["sweeps", "show", id, "--json"]) as? [String: Any])
        #expect(after["status"] as? String == "finished")
        let afterPoints = try #require(after["points"] as? [[String: Any]])
        #expect(afterPoints.allSatisfy { $0["status"] as? String == "finished" })
        // The points finished before the interruption kept their run.
        #expect(finished.isSubset(of: Set(afterPoints.compactMap { $0["run"] as? String })))
    }

    @Test("a metric that no process logs: said once, after the first point finishes, with the metrics it logged")
    func missingMetric() throws {
        let config = try write("[sweep]\nmetric = \"brannin\"\n", steps: 3, delay: 0.3)
        let process = try Executables.start(
            try fixture(), ["sweep", config, "--sweep", "processes.opt.params.x=0.0,1.0,2.0"], environment: environment, removing: removing)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !process.standardErrorSoFar.contains("not logged") { usleep(20_000) }
        // When it is said, the last point has not finished.
        #expect(!process.standardOutputSoFar.contains("point 2 finished"))
        let result = process.wait(timeout: 60)
        #expect(result.status == 0)
        let warnings = result.standardError.split(separator: "\n").filter { $0.contains("not logged") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("the sweep's metric 'brannin' was not logged by its first finished point") == true)
        #expect(warnings.first?.contains("it logged branin; did you mean 'branin'?") == true)
    }

    @Test("tpe: a seeded model-based sweep runs its trials and is replayed by the same seed")
    func tpe() throws {
        let config = try write(
            """
            [sweep]
            method = "tpe"
            metric = "branin"
            trials = 12
            parallel = 2
            seed = 5
            [sweep.params]
            "processes.opt.params.x" = { distribution = "uniform", min = -5.0, max = 10.0 }
            "processes.opt.params.y" = { distribution = "uniform", min = 0.0, max = 15.0 }
            """)
        let result = try Executables.run(try fixture(), ["sweep", config], environment: environment, removing: removing, timeout: 180)
        #expect(result.status == 0, "\(result.standardError)")
        let id = try sweepID(result.standardOutput)
        let sweep = try #require(try json(["sweeps", "show", id, "--json"]) as? [String: Any])
        #expect(sweep["method"] as? String == "tpe")
        #expect(sweep["seed"] as? Int == 5)
        let points = try #require(sweep["points"] as? [[String: Any]])
        #expect(points.count == 12)
        #expect(points.allSatisfy { $0["status"] as? String == "finished" && $0["value"] is Double })
    }

    /// A grid of four Branin points, one at its minimum and three far from it, with ASHA (rungs at steps 3,
    /// 6, 12, …, keeping the better half): the far points fall clearly behind at the first rungs.
    static func ashaSweep(parallel: Int, launcher: String = "local") -> String {
        """
        [sweep]
        metric = "branin"
        parallel = \(parallel)
        launcher = "\(launcher)"
        [sweep.params]
        "processes.opt.params.x" = [3.14159]
        "processes.opt.params.y" = [2.275, 14.0, 15.0, 13.0]
        [sweep.early_stop]
        type = "asha"
        min_step = 3
        reduction_factor = 2
        """
    }

    @Test("asha: points clearly worse than their peers at a rung are stopped early, visibly, their runs interrupted, not failed")
    func asha() throws {
        let config = try write(Self.ashaSweep(parallel: 4), steps: 60, delay: 0.1)
        let result = try Executables.run(try fixture(), ["sweep", config], environment: environment, removing: removing, timeout: 180)
        #expect(result.status == 0, "\(result.standardError)")
        let id = try sweepID(result.standardOutput)
        #expect(result.standardOutput.contains("stopped early at step"))
        let sweep = try #require(try json(["sweeps", "show", id, "--json"]) as? [String: Any])
        let points = try #require(sweep["points"] as? [[String: Any]])
        let stopped = points.filter { $0["stopped"] as? Bool == true }
        #expect(!stopped.isEmpty)
        #expect(stopped.allSatisfy { $0["status"] as? String == "interrupted" })
        // The best point (y = 2.275, at Branin's minimum) ran to the end.
        let best = try #require(sweep["best"] as? [String: Any])
        #expect((best["params"] as? [String: Any])?["processes.opt.params.y"] as? Double == 2.275)
        #expect(best["status"] as? String == "finished")
        #expect(best["stopped"] as? Bool == false)
        let table = try Executables.run(try tipi(), ["sweeps", "show", id], environment: environment, removing: removing)
        #expect(table.standardOutput.contains("stopped early"))
    }

    @Test("tipi sweeps: an unknown sweep is one line with a suggestion, exit 1; an empty store says so")
    func unknown() throws {
        let empty = try Executables.run(try tipi(), ["sweeps"], environment: environment, removing: removing)
        #expect(empty.status == 0)
        #expect(empty.standardOutput == "no sweeps in \(store)\n")
        let missing = try Executables.run(try tipi(), ["sweeps", "show", "sw-nothere"], environment: environment, removing: removing)
        #expect(missing.status == 1)
        #expect(missing.standardError.contains("no sweep 'sw-nothere' in \(store)"))
    }

    @Test("points claim their own GPU: three points at once on three GPUs, never two on one")
    func gpus() throws {
        let fake = try FakeNvidiaSMI(
            output: """
                0, GPU-aaaaaaaa-0000-0000-0000-000000000000, NVIDIA A100-SXM4-80GB, 81920, 1000, 80920, 0
                1, GPU-bbbbbbbb-1111-1111-1111-111111111111, NVIDIA A100-SXM4-80GB, 81920, 2000, 79920, 0
                2, GPU-cccccccc-2222-2222-2222-222222222222, NVIDIA A100-SXM4-80GB, 81920, 3000, 78920, 0
                """)
        defer { fake.remove() }
        let claims = folder.appendingPathComponent("claims").path
        let config = try write("[sweep]\nparallel = 3\n", steps: 15, delay: 0.1, extra: ", useDevice = true")
        let result = try Executables.run(
            try fixture(), ["sweep", config, "--sweep", "processes.opt.params.x=0.0,1.0,2.0"],
            environment: environment.merging(
                ["TIPI_NVIDIA_SMI": fake.path, "TIPI_CLAIMS_DIR": claims, "TIPI_NVML": "0", "TIPI_NVIDIA_SMI_TIMEOUT": "60"]) { _, new in new },
            removing: removing, timeout: 120)
        #expect(result.status == 0, "\(result.standardError)")
        let id = try sweepID(result.standardOutput)
        var devices: [String] = []
        for index in 0..<3 {
            let log = try String(contentsOfFile: "\(store)/sweeps/\(id)/logs/point-\(index).log", encoding: .utf8)
            let match = try #require(log.firstMatch(of: /device (\S+)/), "no device in point \(index)'s log: \(log)")
            devices.append(String(match.1))
        }
        #expect(Set(devices) == ["cuda:0", "cuda:1", "cuda:2"], "\(devices)")
    }

    @Test("tipi sweep NAME passes every sweep flag, in order, to the project's sweep command")
    func projectFlags() throws {
        let command = try #require(
            try TipiCommand.parseAsRoot(["sweep", "demo", "--set", "a.b=1", "--sweep", "x.y=1,2", "--parallel", "2", "--resume", "sw-1"])
                as? SweepCommand)
        #expect(command.options.overrides == ["a.b=1"])
        #expect(command.sweepArguments == ["--sweep", "x.y=1,2", "--parallel", "2", "--resume", "sw-1"])
    }

    @Test("level 5's sweep.toml: a TPE sweep with early stopping of the example pipeline, as the docs show it")
    func level5Example() throws {
        let level5 = try #require(Executables.path(of: "Level5"), "Level5 was not built: run `swift build`")
        var root = URL(fileURLWithPath: #filePath)
        while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) { root.deleteLastPathComponent() }
        let config = root.appendingPathComponent("Examples/Level5/configs/sweep.toml").path
        let result = try Executables.run(
            level5, ["sweep", config, "--trials", "3", "--parallel", "3"], environment: environment, removing: removing, timeout: 300)
        #expect(result.status == 0, "\(result.standardError)")
        let id = try sweepID(result.standardOutput)
        let sweep = try #require(try json(["sweeps", "show", id, "--json"]) as? [String: Any])
        #expect(sweep["method"] as? String == "tpe")
        #expect(sweep["metric"] as? String == "accuracy")
        #expect(sweep["goal"] as? String == "maximize")
        let points = try #require(sweep["points"] as? [[String: Any]])
        #expect(points.count == 3)
        #expect(points.allSatisfy { ($0["value"] as? Double).map { $0 > 0 && $0 <= 1 } ?? false })
    }

    @Test("hostile input: --parallel 0, --trials -1, a huge grid, an unknown or damaged sweep: one clear line each, never a crash")
    func hostile() throws {
        let config = try write("")
        let zero = try Executables.run(
            try fixture(), ["sweep", config, "--sweep", "processes.opt.params.x=1.0", "--parallel", "0", "--trials", "-1", "--method", "random"],
            environment: environment, removing: removing)
        #expect(zero.status == 2)
        #expect(zero.standardError.contains("--parallel: expected a whole number from 1, found 0"))
        #expect(zero.standardError.contains("--trials: expected a whole number from 1, found -1"))
        let values = (0..<400).map(String.init).joined(separator: ",")
        let huge = try Executables.run(
            try fixture(), ["sweep", config, "--sweep", "processes.opt.params.x=\(values)", "--sweep", "processes.opt.params.y=\(values)"],
            environment: environment, removing: removing)
        #expect(huge.status == 2)
        #expect(huge.standardError.contains("the grid has 160000 points, more than 100000"))
        let unknown = try Executables.run(try fixture(), ["sweep", "--resume", "sw-nothere"], environment: environment, removing: removing)
        #expect(unknown.status == 1)
        #expect(unknown.standardError.contains("no sweep 'sw-nothere'"))
        // A damaged record: listed as a problem, shown as one error line.
        let made = try Executables.run(
            try fixture(), ["sweep", config, "--sweep", "processes.opt.params.x=1.0"], environment: environment, removing: removing)
        let id = try sweepID(made.standardOutput)
        try Data("{\"id\": 3".utf8).write(to: URL(fileURLWithPath: "\(store)/sweeps/\(id)/sweep.json"))
        let list = try Executables.run(try tipi(), ["sweeps"], environment: environment, removing: removing)
        #expect(list.status == 0)
        #expect(list.standardError.contains("sweep.json: cannot be read"))
        let show = try Executables.run(try tipi(), ["sweeps", "show", id], environment: environment, removing: removing)
        #expect(show.status == 1)
        #expect(show.standardError.contains("sweep.json: cannot be read"))
        #expect(!show.standardError.contains("Fatal"))
    }

    @Test("validate checks [sweep] too: a bad sweep in a config is exit 2, located, before anything runs")
    func validateSweep() throws {
        let bad = try write("[sweep]\nmethod = \"rnadom\"\n[sweep.params]\n\"processes.opt.params.x\" = []\n")
        let result = try Executables.run(try fixture(), ["validate", bad], environment: environment, removing: removing)
        #expect(result.status == 2)
        #expect(result.standardError.contains("sweep.method: unknown value \"rnadom\"\n  help: did you mean \"random\"?"))
        #expect(result.standardError.contains("an empty list: nothing to sweep"))
        let good = try write("[sweep]\n[sweep.params]\n\"processes.opt.params.x\" = [1.0]\n")
        #expect(try Executables.run(try fixture(), ["validate", good], environment: environment, removing: removing).status == 0)
    }
}
