import Foundation
import Testing
import TipiTestSupport

/// Tracking in real processes: kill -9, SIGINT, SIGTERM, eight writers at once — read back with `tipi runs`.
@Suite("Tracking in real processes")
struct TrackingProcessTests {
    let store = FileManager.default.temporaryDirectory.appendingPathComponent("runs-\(UUID().uuidString)").path

    func fixture() throws -> String {
        try #require(Executables.path(of: "TipiFixture"), "the TipiFixture executable was not built: run `swift build`")
    }

    func tipi() throws -> String {
        try #require(Executables.path(of: "tipi"), "the tipi executable was not built: run `swift build`")
    }

    var environment: [String: String] { ["TIPI_DIR": store] }
    let cleanEnvironment = ["TIPI_PROGRESS", "NO_COLOR", "TIPI_BACKENDS", "MLFLOW_TRACKING_URI", "TIPI_DIR"]

    /// `tipi runs show RUN --json`, decoded.
    func show(_ run: String) throws -> [String: Any] {
        let result = try Executables.run(try tipi(), ["runs", "show", run, "--json"], environment: environment, removing: cleanEnvironment)
        try #require(result.status == 0, "tipi runs show failed: \(result.standardError)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    }

    /// Starts the fixture's `log` command with `arguments` and waits for its `run ID` line: the process and the
    /// run's id.
    func startLogging(_ arguments: [String]) throws -> (process: Executables.Running, id: String) {
        let process = try Executables.start(try fixture(), ["log"] + arguments, environment: environment, removing: cleanEnvironment)
        let started = try #require(waitForLine(process, prefix: "run "))
        return (process, String(started.split(separator: " ")[1]))
    }

    func waitForLine(_ process: Executables.Running, prefix: String, timeout: Double = 60) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = process.standardOutputSoFar.split(separator: "\n").last(where: { $0.hasPrefix(prefix) }) {
                return String(line)
            }
            usleep(20_000)
        }
        return nil
    }

    @Test("kill -9: at most the last second of steps is lost, the files stay readable, the run reads as crashed")
    func killNine() throws {
        let (process, id) = try startLogging(["--project", "crash", "--steps", "100000000", "--sleep", "0.001", "--report", "50"])
        #expect(waitForLine(process, prefix: "step 1000") != nil)
        usleep(2_500_000)
        // The last step the program reported more than a second before the kill must be in the store.
        let reportedEarlier = Int(waitForLine(process, prefix: "step ")?.split(separator: " ")[1] ?? "0") ?? 0
        usleep(1_200_000)
        process.signal(SIGKILL)
        _ = process.wait()
        let run = try show(id)
        #expect(run["status"] as? String == "crashed")
        let history = try #require(run["history"] as? [String: Any])
        let loss = try #require(history["loss"] as? [[String: Any]])
        let lastStored = loss.last?["step"] as? Int ?? -1
        #expect(lastStored >= reportedEarlier, "stored up to step \(lastStored), the program had logged \(reportedEarlier) more than a second before the kill")
        #expect(loss.enumerated().allSatisfy { index, point in point["step"] as? Int == index })
        let list = try Executables.run(try tipi(), ["runs"], environment: environment, removing: cleanEnvironment)
        #expect(list.standardOutput.contains("crashed"))
    }

    @Test("SIGINT: the run is flushed and marked interrupted, then the process ends with the signal (130)")
    func interrupt() throws {
        try checkSignal(SIGINT, shellStatus: 130)
    }

    @Test("SIGTERM: the same, exit status 143")
    func terminate() throws {
        try checkSignal(SIGTERM, shellStatus: 143)
    }

    func checkSignal(_ signalNumber: Int32, shellStatus: Int32) throws {
        let (process, id) = try startLogging(["--project", "signals", "--steps", "250", "--hold", "60"])
        #expect(waitForLine(process, prefix: "logged 250") != nil)
        process.signal(signalNumber)
        let result = process.wait(timeout: 30)
        #expect(result.signal == signalNumber)  // the shell shows 128 + signal
        #expect(128 + result.status == shellStatus)
        let run = try show(id)
        #expect(run["status"] as? String == "interrupted")
        let history = try #require(run["history"] as? [String: Any])
        #expect((history["loss"] as? [Any])?.count == 250)
        #expect(!result.standardOutput.contains("done"))
    }

    @Test("eight processes logging into one store at once lose nothing")
    func eightWriters() throws {
        let processes = try (0..<8).map { index in
            try Executables.start(
                try fixture(), ["log", "--project", "sweep", "--name", "job-\(index)", "--steps", "3000", "--keys", "3"],
                environment: environment, removing: cleanEnvironment)
        }
        for process in processes {
            let result = process.wait(timeout: 120)
            #expect(result.status == 0, "\(result.standardError)")
        }
        let list = try Executables.run(try tipi(), ["runs", "--json", "--project", "sweep"], environment: environment, removing: cleanEnvironment)
        let runs = try #require(try JSONSerialization.jsonObject(with: Data(list.standardOutput.utf8)) as? [[String: Any]])
        #expect(runs.count == 8)
        #expect(Set(runs.compactMap { $0["name"] as? String }) == Set((0..<8).map { "job-\($0)" }))
        for run in runs {
            #expect(run["status"] as? String == "finished")
            let summary = try #require(run["summary"] as? [String: [String: Any]])
            #expect(summary["loss"]?["count"] as? Int == 3000)
            #expect(summary["eval/loss"]?["last"] as? Double == 2999.2)
            let detail = try show(try #require(run["id"] as? String))
            let history = try #require(detail["history"] as? [String: [[String: Any]]])
            #expect(history["train/acc"]?.count == 3000)
        }
    }

    @Test("tipi runs: table, compare, plot, and clear errors for unknown runs and metrics")
    func reading() throws {
        for name in ["alpha", "beta"] {
            let result = try Executables.run(
                try fixture(), ["log", "--project", "read", "--name", name, "--steps", name == "alpha" ? "40" : "60"],
                environment: environment, removing: cleanEnvironment)
            #expect(result.status == 0)
        }
        let list = try Executables.run(try tipi(), ["runs", "--project", "read"], environment: environment, removing: cleanEnvironment)
        let lines = list.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("NAME   ID        PROJECT  STATUS    STARTED") == true)
        #expect(lines[1].hasPrefix("beta ") && lines[1].contains("finished") && lines[1].hasSuffix("eval/loss=59.2 loss=59 train/acc=59.1"))
        let compare = try Executables.run(try tipi(), ["runs", "compare", "alpha", "beta"], environment: environment, removing: cleanEnvironment)
        #expect(compare.status == 0)
        #expect(compare.standardOutput.contains("config differences"))
        #expect(compare.standardOutput.contains("steps"))
        #expect(compare.standardOutput.contains("same in all runs (3 keys)\n  keys=3, lr=0.01, optimizer=adam\n"))
        let plot = try Executables.run(try tipi(), ["runs", "plot", "alpha", "beta", "loss", "--width", "60", "--height", "8"], environment: environment, removing: cleanEnvironment)
        #expect(plot.status == 0)
        let plotLines = plot.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(plotLines[0] == "loss  (2 runs)")
        #expect(plotLines[1].hasPrefix("59 ┤"))
        #expect(plotLines.contains { $0.contains("× beta") })
        #expect(plotLines.filter { $0.contains("┤") }.count == 8)
        let missingRun = try Executables.run(try tipi(), ["runs", "show", "alpah"], environment: environment, removing: cleanEnvironment)
        #expect(missingRun.status != 0)
        #expect(missingRun.standardError.contains("no run 'alpah'"))
        #expect(missingRun.standardError.contains("did you mean 'alpha'?"))
        let missingMetric = try Executables.run(try tipi(), ["runs", "plot", "alpha", "los"], environment: environment, removing: cleanEnvironment)
        #expect(missingMetric.status != 0)
        #expect(missingMetric.standardError.contains("has no metric 'los'; did you mean 'loss'?"))
    }
}
