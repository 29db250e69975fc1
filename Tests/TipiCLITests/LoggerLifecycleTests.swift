import Foundation
import Testing
import TipiTestSupport

/// The logger's lifecycle in real processes: auto-start once, no new run after `finish()`, and finishing
/// bounded when the MLflow server is not there.
@Suite("The logger's lifecycle")
struct LoggerLifecycleTests {
    let store = FileManager.default.temporaryDirectory.appendingPathComponent("lifecycle-\(UUID().uuidString)").path
    let cleanEnvironment = ["TIPI_PROGRESS", "NO_COLOR", "TIPI_BACKENDS", "MLFLOW_TRACKING_URI", "TIPI_DIR", "TIPI_FINISH_TIMEOUT"]

    func executable(_ name: String) throws -> String {
        try #require(Executables.path(of: name), "\(name) was not built: run `swift build`")
    }

    func runs(project: String) throws -> [[String: Any]] {
        let list = try Executables.run(
            try executable("tipi"), ["runs", "--json", "--project", project], environment: ["TIPI_DIR": store], removing: cleanEnvironment)
        return try #require(try JSONSerialization.jsonObject(with: Data(list.standardOutput.utf8)) as? [[String: Any]])
    }

    @Test("eight threads making the first log at once start one run, which gets all eight values")
    func concurrentAutoStart() throws {
        for _ in 0..<3 {
            let result = try Executables.run(
                try executable("TipiFixture"), ["race", "--threads", "8"], environment: ["TIPI_DIR": store], removing: cleanEnvironment)
            #expect(result.status == 0, "\(result.standardError)")
        }
        let all = try runs(project: "TipiFixture")
        #expect(all.count == 3)  // one per process, not one per thread
        for run in all {
            #expect(((run["summary"] as? [String: Any])?["value"] as? [String: Any])?["count"] as? Int == 8)
        }
    }

    @Test("runs that cannot start (the store cannot be created) leave no backend threads behind")
    func failedStartLeaksNothing() throws {
        func threads(afterFailedStarts times: Int) throws -> String {
            let result = try Executables.run(
                try executable("TipiFixture"), ["fail-start", "--times", String(times)],
                environment: ["TIPI_DIR": store, "TIPI_BACKENDS": "tensorboard,wandb,jsonl"], removing: cleanEnvironment)
            #expect(result.status == 0, "\(result.standardError)")
            return result.standardOutput
        }
        let before = try threads(afterFailedStarts: 0)
        #expect(before.hasPrefix("threads "))
        #expect(try threads(afterFailedStarts: 10) == before)  // not 30 more: one per backend and start
    }

    @Test("TIPI_SWEEP_INDEX=abc: one warning naming the variable, the run still in its sweep, without an index")
    func badSweepIndex() throws {
        let result = try Executables.run(
            try executable("TipiFixture"), ["log", "--project", "sweep-index", "--steps", "3"],
            environment: ["TIPI_DIR": store, "TIPI_SWEEP_ID": "s1", "TIPI_SWEEP_INDEX": "abc"], removing: cleanEnvironment)
        #expect(result.status == 0)
        #expect(result.standardError == "tipi: warning: TIPI_SWEEP_INDEX=abc is not a whole number from 0; the run is recorded without a sweep index\n")
        let run = try #require(try runs(project: "sweep-index").first)
        #expect((run["sweep"] as? [String: Any])?["id"] as? String == "s1")
        #expect((run["sweep"] as? [String: Any])?["index"] == nil)
    }

    @Test("log after finish(): one warning that says what happens, the values are refused, no new run")
    func logAfterFinish() throws {
        let result = try Executables.run(
            try executable("TipiFixture"), ["log", "--project", "late", "--steps", "5", "--log-after-finish", "1"],
            environment: ["TIPI_DIR": store], removing: cleanEnvironment)
        #expect(result.status == 0, "\(result.standardError)")
        let id = try #require(result.standardOutput.split(separator: "\n").first { $0.hasPrefix("run ") }?.split(separator: " ")[1])
        #expect(result.standardOutput.contains("current run \(id)\n"))
        #expect(result.standardError.contains("run \(id) is finished; values logged after finish() are ignored"))
        let all = try runs(project: "late")
        #expect(all.count == 1)
        #expect((all.first?["summary"] as? [String: Any])?["late"] == nil)
    }

    @Test(
        "TIPI_FINISH_TIMEOUT=inf/nan/1e300 with MLflow refusing connections: one warning naming the variable, finish at once",
        arguments: ["inf", "nan", "1e300"])
    func unreachableMLflow(timeout: String) throws {
        let start = Date()
        let result = try Executables.run(
            try executable("TipiFixture"), ["log", "--project", "refused", "--steps", "50"],
            environment: [
                "TIPI_DIR": store, "TIPI_BACKENDS": "mlflow", "MLFLOW_TRACKING_URI": "http://127.0.0.1:9",
                "TIPI_FINISH_TIMEOUT": timeout,
            ],
            removing: cleanEnvironment, timeout: 60)
        let seconds = Date().timeIntervalSince(start)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(seconds < 5, "finishing took \(seconds) s")
        #expect(result.standardError.contains("TIPI_FINISH_TIMEOUT=\(timeout) is not a number from 0 to 3600; using 10"))
        #expect(result.standardError.contains("no MLflow server at http://127.0.0.1:9"))
        #expect(result.standardError.contains("tipi runs sync"))
        let run = try #require(try runs(project: "refused").first)
        #expect(run["status"] as? String == "finished")
    }

    @Test("TIPI_PROGRESS_INTERVAL=nan: one warning naming the variable, and the default used")
    func progressInterval() throws {
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        let config = store + "/ping.toml"
        try "[processes.ping]\ntype = \"ping\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let result = try Executables.run(
            try executable("TipiPipelineFixture"), ["run", config],
            environment: ["TIPI_DIR": store, "TIPI_PROGRESS": "plain", "TIPI_PROGRESS_INTERVAL": "nan"], removing: cleanEnvironment)
        #expect(result.status == 0, "\(result.standardError)")
        let warning = "tipi: warning: TIPI_PROGRESS_INTERVAL=nan is not a number from 0.5 to 86400; using 10"
        #expect(result.standardError.components(separatedBy: warning).count == 2, "\(result.standardError)")
    }

    @Test("runs sync: a refused connection fails at once; a server that never answers is given up at --timeout, said truthfully")
    func syncTimeout() throws {
        let logged = try Executables.run(
            try executable("TipiFixture"), ["log", "--project", "sync", "--steps", "20"], environment: ["TIPI_DIR": store],
            removing: cleanEnvironment)
        let id = String(try #require(logged.standardOutput.split(separator: "\n").first?.split(separator: " ")[1]))
        var start = Date()
        let refused = try Executables.run(
            try executable("tipi"), ["runs", "sync", id, "--uri", "http://127.0.0.1:9"], environment: ["TIPI_DIR": store],
            removing: cleanEnvironment)
        #expect(refused.status != 0)
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(refused.standardError.contains("no MLflow server at http://127.0.0.1:9"), "\(refused.standardError)")

        // A socket that accepts connections (the kernel's backlog) and never answers.
        let (port, socket) = try silentServer()
        defer { close(socket) }
        start = Date()
        let silent = try Executables.run(
            try executable("tipi"), ["runs", "sync", id, "--uri", "http://127.0.0.1:\(port)", "--timeout", "3"],
            environment: ["TIPI_DIR": store], removing: cleanEnvironment)
        let seconds = Date().timeIntervalSince(start)
        #expect(silent.status != 0)
        #expect(seconds >= 2.5 && seconds < 7, "took \(seconds) s with --timeout 3")
        #expect(!silent.standardError.contains("within 1 s"), "\(silent.standardError)")
        #expect(silent.standardError.contains("gave up after 3"), "\(silent.standardError)")

        let bad = try Executables.run(
            try executable("tipi"), ["runs", "sync", id, "--uri", "http://127.0.0.1:9", "--timeout", "inf"],
            environment: ["TIPI_DIR": store], removing: cleanEnvironment)
        #expect(bad.status != 0)
        #expect(bad.standardError.contains("--timeout"), "\(bad.standardError)")
    }

    /// A listening TCP socket on a free port that never accepts: clients connect, then wait forever.
    func silentServer() throws -> (Int, Int32) {
        try LoopbackListener.open()
    }
}
