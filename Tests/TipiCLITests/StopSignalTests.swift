import Foundation
import Testing
import TipiTestSupport

/// Stop signals in real processes: Ctrl-C in CPU-bound code pinned to one CPU, SIGTERM with standard
/// output in a file, SIGHUP, a second Ctrl-C, and a process that never reaches a safe point.
@Suite("Stop signals in real processes")
struct StopSignalTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stop-\(UUID().uuidString)")
    var store: String { folder.appendingPathComponent("runs").path }
    var environment: [String: String] { ["TIPI_DIR": store, "TIPI_PROGRESS": "plain"] }
    let cleanEnvironment = ["TIPI_PROGRESS", "NO_COLOR", "TIPI_BACKENDS", "MLFLOW_TRACKING_URI", "TIPI_DIR", "TIPI_STOP_GRACE", "TIPI_FINISH_TIMEOUT"]

    func executable(_ name: String) throws -> String {
        try #require(Executables.path(of: name), "\(name) was not built: run `swift build`")
    }

    /// `taskset -c 0 PROGRAM …`: the program and all its threads on one CPU.
    func startPinned(_ program: String, _ arguments: [String], environment extra: [String: String] = [:]) throws -> Executables.Running {
        try Executables.start(
            "/usr/bin/taskset", ["-c", "0", try executable(program)] + arguments,
            environment: environment.merging(extra) { _, new in new }, removing: cleanEnvironment)
    }

    func waitFor(_ condition: () -> Bool, timeout: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return false
    }

    func pipelineConfig(journal: String, process: String, params: String = "") throws -> String {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("\(process).toml").path
        try """
        [permanences.journal]
        type = "Journal"
        path = "\(journal)"

        [processes.work]
        type = "\(process)"
        \(params)

        [processes.after]
        type = "ping"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The only run of `project` in the store, as `run.json` says.
    func storedRun(project: String) throws -> [String: Any] {
        let projectFolder = URL(fileURLWithPath: store).appendingPathComponent(project)
        let runs = try FileManager.default.contentsOfDirectory(atPath: projectFolder.path).filter { !$0.hasPrefix(".") }
        try #require(runs.count == 1, "runs: \(runs)")
        let data = try Data(contentsOf: projectFolder.appendingPathComponent(runs[0]).appendingPathComponent("run.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func journalLines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test("Ctrl-C in a CPU-bound synchronous process on one CPU: it stops at a safe point, then cleanup runs once; interrupted; exit by SIGINT")
    func cpuBoundProcessOnOneCPU() throws {
        let journal = folder.appendingPathComponent("journal-spin.txt").path
        let config = try pipelineConfig(journal: journal, process: "spin")
        let process = try startPinned("TipiPipelineFixture", ["run", config])
        #expect(waitFor { process.standardOutputSoFar.contains("spinning") })
        usleep(300_000)
        let sent = Date()
        process.signal(SIGINT)
        let result = process.wait(timeout: 60)
        let seconds = Date().timeIntervalSince(sent)
        #expect(result.signal == SIGINT, "status \(result.status): \(result.standardError)")
        #expect(seconds < 8, "took \(seconds) s to stop")
        let lines = try journalLines(journal)
        #expect(lines.filter { $0.hasPrefix("cleanup") } == ["cleanup"], "\(lines)")  // once, and not while in use
        let returned = try #require(lines.firstIndex(of: "spin returned"), "\(lines)")
        let cleaned = try #require(lines.firstIndex(of: "cleanup"))
        #expect(returned < cleaned)
        #expect(!result.standardOutput.split(separator: "\n").contains("ping"))
        let run = try storedRun(project: "fixture")
        #expect(run["status"] as? String == "interrupted")
        let processes = (run["pipeline"] as? [String: Any])?["processes"] as? [[String: Any]] ?? []
        #expect(processes.first { $0["key"] as? String == "work" }?["status"] as? String == "interrupted")
        #expect(processes.first { $0["key"] as? String == "after" }?["status"] as? String == "pending")
    }

    /// The pipeline fixture running `hog` (no safe point) on one CPU; returns once it hogs.
    func startHog(journal: String, grace: String) throws -> Executables.Running {
        let config = try pipelineConfig(journal: journal, process: "hog", params: "seconds = 120")
        let process = try startPinned("TipiPipelineFixture", ["run", config], environment: ["TIPI_STOP_GRACE": grace])
        #expect(waitFor { process.standardOutputSoFar.contains("hogging") })
        return process
    }

    @Test("a process that never reaches a safe point is ended after the grace period, with cleanup still run")
    func noSafePoint() throws {
        let journal = folder.appendingPathComponent("journal-hog.txt").path
        let process = try startHog(journal: journal, grace: "1")
        let sent = Date()
        process.signal(SIGINT)
        let result = process.wait(timeout: 60)
        #expect(result.signal == SIGINT, "status \(result.status): \(result.standardError)")
        #expect(Date().timeIntervalSince(sent) < 15)
        let lines = try journalLines(journal)
        #expect(lines.filter { $0.hasPrefix("cleanup") }.count == 1, "\(lines)")
        #expect(!lines.contains("hog returned"))
        #expect(try storedRun(project: "fixture")["status"] as? String == "interrupted")
    }

    @Test("a second Ctrl-C ends the process at once")
    func secondSignal() throws {
        let process = try startHog(journal: folder.appendingPathComponent("journal-twice.txt").path, grace: "60")
        process.signal(SIGINT)
        usleep(500_000)
        let sent = Date()
        process.signal(SIGINT)
        let result = process.wait(timeout: 60)
        #expect(result.signal == SIGINT)
        #expect(Date().timeIntervalSince(sent) < 3)
    }

    @Test("Ctrl-C in a plain program's CPU-bound progress loop: the run is finished at the safe point, exit by SIGINT")
    func plainProgramSafePoint() throws {
        let ready = folder.appendingPathComponent("ready-spin").path
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let process = try startPinned("TipiFixture", ["log", "--project", "spin", "--steps", "20", "--ready", ready, "--spin", "1"])
        #expect(waitFor { FileManager.default.fileExists(atPath: ready) })
        usleep(300_000)
        let sent = Date()
        process.signal(SIGINT)
        let result = process.wait(timeout: 60)
        #expect(result.signal == SIGINT, "status \(result.status): \(result.standardError)")
        #expect(Date().timeIntervalSince(sent) < 5)
        #expect(!result.standardOutput.contains("spin ended"))  // the program ended at the safe point, not after the loop
        let run = try storedRun(project: "spin")
        #expect(run["status"] as? String == "interrupted")
        #expect(((run["summary"] as? [String: Any])?["loss"] as? [String: Any])?["count"] as? Int == 20)
    }

    @Test("a signal while the program logs in a tight loop (inside the run's lock most of the time): no deadlock, interrupted, exit by SIGTERM")
    func signalDuringTightLogging() throws {
        let process = try Executables.start(
            try executable("TipiFixture"), ["log", "--project", "tight", "--steps", "1000000000", "--keys", "40", "--report", "20000"],
            environment: environment, removing: cleanEnvironment)
        #expect(waitFor { process.standardOutputSoFar.contains("step 40000\n") })
        let sent = Date()
        process.signal(SIGTERM)
        let result = process.wait(timeout: 60)
        #expect(result.signal == SIGTERM, "status \(result.status): \(result.standardError)")
        #expect(Date().timeIntervalSince(sent) < 10)
        #expect(try storedRun(project: "tight")["status"] as? String == "interrupted")
    }

    @Test("live bars: output captured from a child that outlives the pipeline's processes is still shown, never written to a closed descriptor")
    func captureOutlivedByChild() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let journal = folder.appendingPathComponent("journal-orphan.txt").path
        let path = folder.appendingPathComponent("orphan.toml").path
        try """
        [permanences.journal]
        type = "Journal"
        path = "\(journal)"
        cleanupSeconds = 4

        [processes.orphan]
        type = "orphan"
        seconds = 6
        """.write(toFile: path, atomically: true, encoding: .utf8)
        // TIPI_PROGRESS=tty: live bars, so the pipeline captures standard output while its processes run.
        let result = try Executables.run(
            try executable("TipiPipelineFixture"), ["run", path], environment: ["TIPI_DIR": store, "TIPI_PROGRESS": "tty"],
            removing: cleanEnvironment, timeout: 60)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("orphan started"))
        #expect(result.standardOutput.contains("late line"), "\(result.standardOutput)")
    }

    func checkBufferedOutput(_ signalNumber: Int32) throws {
        let ready = folder.appendingPathComponent("ready-\(signalNumber)").path
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let process = try Executables.start(
            try executable("TipiFixture"), ["log", "--project", "term", "--steps", "30", "--lines", "300", "--ready", ready, "--hold", "60"],
            environment: environment, removing: cleanEnvironment)
        #expect(waitFor { FileManager.default.fileExists(atPath: ready) })
        process.signal(signalNumber)
        let result = process.wait(timeout: 30)
        #expect(result.signal == signalNumber, "status \(result.status): \(result.standardError)")
        // Standard output is a file, so stdio held these lines in its buffer: they must not be lost.
        #expect(result.standardOutput.contains("line 0\n"))
        #expect(result.standardOutput.contains("line 299\n"))
        #expect(!result.standardOutput.contains("done"))
        let run = try storedRun(project: "term")
        #expect(run["status"] as? String == "interrupted")
        #expect(((run["summary"] as? [String: Any])?["loss"] as? [String: Any])?["count"] as? Int == 30)
    }

    @Test("SIGTERM (what Slurm sends) with standard output in a file: printed lines are flushed, run interrupted, exit by SIGTERM")
    func terminateFlushesOutput() throws {
        try checkBufferedOutput(SIGTERM)
    }

    @Test("SIGHUP (terminal closed) is treated like SIGTERM: interrupted, not crashed; lines flushed; exit by SIGHUP")
    func hangUp() throws {
        try checkBufferedOutput(SIGHUP)
    }
}
