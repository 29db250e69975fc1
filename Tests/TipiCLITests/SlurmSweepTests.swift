import Foundation
import Testing
import TipiTestSupport

/// Sweeps submitted to a real Slurm cluster (`scripts/slurm-local.sh start`, which `scripts/test.sh`
/// runs). Without one these tests are skipped — under `CI=true` they fail instead.
@Suite("Sweeps on Slurm", .serialized)
struct SlurmSweepTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slurm-sweep-\(UUID().uuidString)")
    var store: String { folder.appendingPathComponent("runs").path }
    var environment: [String: String] { ["TIPI_DIR": store, "TIPI_PROGRESS": "plain"] }
    let removing = ["TIPI_PROGRESS", "NO_COLOR", "TIPI_SWEEP_ID", "TIPI_SWEEP_INDEX", "TIPI_BACKENDS", "CUDA_VISIBLE_DEVICES", "TIPI_DEVICE"]

    /// Whether a Slurm cluster answers here; under CI it must.
    static let available: Bool = {
        guard let result = try? Executables.run("/bin/sh", ["-c", "sinfo -h -o %T"], timeout: 20) else { return false }
        return result.status == 0 && !result.standardOutput.isEmpty
    }()

    func requireSlurm() throws -> Bool {
        if Self.available { return true }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record("no Slurm cluster answers (sinfo): scripts/slurm-local.sh start should have started one")
        }
        return false
    }

    func fixture() throws -> String {
        try #require(Executables.path(of: "TipiPipelineFixture"), "TipiPipelineFixture was not built: run `swift build`")
    }

    func tipi() throws -> String {
        try #require(Executables.path(of: "tipi"), "tipi was not built: run `swift build`")
    }

    func write(_ sweep: String, steps: Int = 1, delay: Double = 0) throws -> String {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("sweep-\(UUID().uuidString.prefix(6)).toml").path
        try """
        [processes.opt]
        type = "branin"
        params = { x = 0.0, y = 0.0, steps = \(steps), delay = \(delay) }

        \(sweep)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func show(_ id: String) throws -> [String: Any] {
        let result = try Executables.run(try tipi(), ["sweeps", "show", id, "--json"], environment: environment, removing: removing)
        #expect(result.status == 0, "\(result.standardError)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    }

    func sweepID(_ output: String) throws -> String {
        String(try #require(output.firstMatch(of: /sweep (sw-[a-z0-9]{8})/), "no sweep id in: \(output)").1)
    }

    func record(_ id: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(store)/sweeps/\(id)/sweep.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Waits until no task of Slurm job `job` is left in `squeue` (or `deadline` passes).
    func waitForQueue(_ job: String, until deadline: Date) throws {
        while Date() < deadline {
            let queue = try Executables.run("/bin/sh", ["-c", "squeue -h -r -j \(job)"], timeout: 30)
            if queue.standardOutput.isEmpty { break }
            usleep(500_000)
        }
    }

    @Test("a grid is one sbatch call: one job array with a % limit; [sweep.slurm] in the batch script kept in the sweep's folder")
    func grid() throws {
        guard try requireSlurm() else { return }
        let config = try write(
            """
            [sweep]
            metric = "branin"
            parallel = 2
            launcher = "slurm"
            [sweep.params]
            "processes.opt.params.x" = [-3.0, 3.0]
            "processes.opt.params.y" = [2.0, 7.0, 12.0]
            [sweep.slurm]
            partition = "debug"
            time = "00:10:00"
            cpus_per_task = 1
            mem = "200M"
            extra = ["#SBATCH --comment=tipi-test"]
            """)
        let result = try Executables.run(try fixture(), ["sweep", config], environment: environment, removing: removing, timeout: 300)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
        let id = try sweepID(result.standardOutput)
        let jobs = try #require(try record(id)["slurmJobs"] as? [String])
        #expect(jobs.count == 1)
        let script = try String(contentsOfFile: "\(store)/sweeps/\(id)/batch.sh", encoding: .utf8)
        for line in [
            "#SBATCH --array=0-5%2", "#SBATCH --signal=B:INT@60", "#SBATCH --partition=debug", "#SBATCH --time=00:10:00",
            "#SBATCH --cpus-per-task=1", "#SBATCH --mem=200M", "#SBATCH --comment=tipi-test", "export TIPI_DIR='\(store)'",
            "exec '\(try fixture())' sweep --task \(id)",
        ] {
            #expect(script.split(separator: "\n").contains(Substring(line)), "missing \(line) in:\n\(script)")
        }
        let sweep = try show(id)
        #expect(sweep["status"] as? String == "finished")
        let points = try #require(sweep["points"] as? [[String: Any]])
        #expect(points.count == 6)
        #expect(points.allSatisfy { $0["status"] as? String == "finished" && $0["value"] is Double })
        // Six array tasks of the one job wrote their logs.
        let logs = try FileManager.default.contentsOfDirectory(atPath: "\(store)/sweeps/\(id)/logs").filter { $0.hasPrefix("slurm-\(jobs[0])_") }
        #expect(logs.count == 6)
    }

    @Test("tpe on Slurm: array tasks take the next point from the sweep's state under its lock; every index once")
    func tpe() throws {
        guard try requireSlurm() else { return }
        let config = try write(
            """
            [sweep]
            method = "tpe"
            metric = "branin"
            trials = 6
            parallel = 2
            seed = 3
            launcher = "slurm"
            [sweep.params]
            "processes.opt.params.x" = { distribution = "uniform", min = -5.0, max = 10.0 }
            "processes.opt.params.y" = { distribution = "uniform", min = 0.0, max = 15.0 }
            """)
        let result = try Executables.run(try fixture(), ["sweep", config], environment: environment, removing: removing, timeout: 300)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
        let sweep = try show(try sweepID(result.standardOutput))
        let points = try #require(sweep["points"] as? [[String: Any]])
        #expect(Set(points.compactMap { $0["index"] as? Int }) == Set(0..<6))
        #expect(Set(points.compactMap { $0["run"] as? String }).count == 6)
        #expect(points.allSatisfy { $0["status"] as? String == "finished" })
    }

    @Test("--detach returns after submitting; a task cancelled mid-point leaves its run interrupted; --resume runs only that point")
    func cancelAndResume() throws {
        guard try requireSlurm() else { return }
        let config = try write(
            "[sweep]\nmetric = \"branin\"\nparallel = 2\nlauncher = \"slurm\"\n[sweep.params]\n\"processes.opt.params.x\" = [0.0, 1.0]\n",
            steps: 60, delay: 0.1)
        let submitted = try Executables.run(try fixture(), ["sweep", config, "--detach"], environment: environment, removing: removing)
        #expect(submitted.status == 0, "\(submitted.standardError)")
        #expect(submitted.standardOutput.contains("stop it: scancel"))
        let id = try sweepID(submitted.standardOutput)
        let job = try #require((try record(id)["slurmJobs"] as? [String])?.first)
        // Wait for both points' runs to be running (the test node has two CPUs), then cancel task 1
        // (SIGTERM to the pipeline).
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let points = (try? show(id)["points"] as? [[String: Any]]) ?? []
            if points.filter({ $0["status"] as? String == "running" && $0["run"] is String }).count == 2 { break }
            usleep(300_000)
        }
        let cancel = try Executables.run("/bin/sh", ["-c", "scancel \(job)_1"], timeout: 30)
        #expect(cancel.status == 0, "\(cancel.standardError)")
        try waitForQueue(job, until: deadline)
        let before = try #require(try show(id)["points"] as? [[String: Any]])
        let interrupted = before.filter { $0["status"] as? String == "interrupted" }
        #expect(interrupted.count == 1, "\(before)")
        let finishedRuns = Set(before.filter { $0["status"] as? String == "finished" }.compactMap { $0["run"] as? String })
        #expect(finishedRuns.count == 1)

        let resumed = try Executables.run(try fixture(), ["sweep", "--resume", id], environment: environment, removing: removing, timeout: 300)
        #expect(resumed.status == 0, "\(resumed.standardOutput)\n\(resumed.standardError)")
        #expect(resumed.standardOutput.contains("1 points submitted to Slurm"))
        let after = try show(id)
        #expect(after["status"] as? String == "finished")
        let points = try #require(after["points"] as? [[String: Any]])
        #expect(points.allSatisfy { $0["status"] as? String == "finished" })
        #expect(finishedRuns.isSubset(of: Set(points.compactMap { $0["run"] as? String })))
        #expect(try (record(id)["slurmJobs"] as? [String])?.count == 2)
    }

    @Test("asha on Slurm with --detach: each array task stops its own point when it falls behind its peers; stopped, interrupted, not failed")
    func asha() throws {
        guard try requireSlurm() else { return }
        let config = try write(SweepTests.ashaSweep(parallel: 2, launcher: "slurm"), steps: 60, delay: 0.1)
        // No controller follows the sweep: the tasks decide alone, from the store.
        let submitted = try Executables.run(try fixture(), ["sweep", config, "--detach"], environment: environment, removing: removing)
        #expect(submitted.status == 0, "\(submitted.standardError)")
        let id = try sweepID(submitted.standardOutput)
        let job = try #require((try record(id)["slurmJobs"] as? [String])?.first)
        try waitForQueue(job, until: Date().addingTimeInterval(240))
        let sweep = try show(id)
        let points = try #require(sweep["points"] as? [[String: Any]])
        #expect(points.count == 4)
        let stopped = points.filter { $0["stopped"] as? Bool == true }
        #expect(!stopped.isEmpty, "\(points)")
        #expect(stopped.allSatisfy { $0["status"] as? String == "interrupted" && $0["run"] is String }, "\(points)")
        // The point at Branin's minimum ran to the end and is the best; the stopped points' runs are kept.
        let best = try #require(sweep["best"] as? [String: Any])
        #expect((best["params"] as? [String: Any])?["processes.opt.params.y"] as? Double == 2.275)
        #expect(best["status"] as? String == "finished")
        #expect(best["stopped"] as? Bool == false)
        // Every point is over for good: a resume has nothing left to run.
        #expect(points.allSatisfy { $0["status"] as? String == "finished" || $0["stopped"] as? Bool == true }, "\(points)")
        let logs = try FileManager.default.contentsOfDirectory(atPath: "\(store)/sweeps/\(id)/logs").filter { $0.hasPrefix("slurm-\(job)_") }
        let texts = try logs.map { try String(contentsOfFile: "\(store)/sweeps/\(id)/logs/\($0)", encoding: .utf8) }
        #expect(texts.filter { $0.contains("stopped early at step") }.count == stopped.count, "\(texts)")
        let table = try Executables.run(try tipi(), ["sweeps", "show", id], environment: environment, removing: removing)
        #expect(table.standardOutput.contains("stopped early"))
        let resumed = try Executables.run(try fixture(), ["sweep", "--resume", id], environment: environment, removing: removing, timeout: 60)
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(resumed.standardOutput.contains("every point is done; nothing to submit"))
    }

    @Test("asha on Slurm over a metric no point logs: nothing to compare, so nothing is stopped; every point finishes")
    func ashaWithoutMetric() throws {
        guard try requireSlurm() else { return }
        let config = try write(
            SweepTests.ashaSweep(parallel: 2, launcher: "slurm").replacingOccurrences(of: "metric = \"branin\"", with: "metric = \"nosuch\""),
            steps: 20, delay: 0.1)
        let result = try Executables.run(try fixture(), ["sweep", config], environment: environment, removing: removing, timeout: 300)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
        let points = try #require(try show(try sweepID(result.standardOutput))["points"] as? [[String: Any]])
        #expect(points.count == 4)
        #expect(points.allSatisfy { $0["status"] as? String == "finished" && $0["stopped"] as? Bool == false }, "\(points)")
    }

    @Test("sbatch refusing the script: its message shown, exit 1; no sbatch on PATH: one line, exit 2")
    func refused() throws {
        guard try requireSlurm() else { return }
        let config = try write(
            "[sweep]\nlauncher = \"slurm\"\n[sweep.params]\n\"processes.opt.params.x\" = [0.0]\n[sweep.slurm]\npartition = \"nosuchpartition\"\n")
        let result = try Executables.run(try fixture(), ["sweep", config], environment: environment, removing: removing)
        #expect(result.status == 1)
        #expect(result.standardError.contains("error: sbatch refused the sweep's batch script"))
        #expect(result.standardError.lowercased().contains("partition"))
        let missing = try Executables.run(try fixture(), ["sweep", config], environment: environment.merging(["PATH": "/nonexistent"]) { _, new in new }, removing: removing)
        #expect(missing.status == 2)
        #expect(missing.standardError.contains("sbatch is not on PATH: Slurm is not installed here"))
    }
}
