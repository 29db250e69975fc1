import Foundation
import Testing
import TipiTestSupport

/// The files of every backend, read by the peers' own code: TensorBoard's EventAccumulator, tbparse,
/// wandb's Go reader, and a real MLflow server (scripts/test.sh installs and starts them).
///
/// Outside CI the suite is skipped when the Python tools are not installed; under `CI=true` it runs and
/// fails instead, so a missing component can never pass unnoticed.
@Suite("Interop with TensorBoard, W&B and MLflow", .enabled(if: Interop.shouldRun))
struct InteropTests {
    let store = FileManager.default.temporaryDirectory.appendingPathComponent("interop-\(UUID().uuidString)").path

    func tool(_ name: String) throws -> String {
        try #require(Executables.path(of: name), "\(name) was not built: run `swift build` first")
    }

    func python() throws -> String {
        try #require(Interop.python, "no Python with tensorboard, tbparse, wandb and mlflow: run scripts/python-env.sh")
    }

    func mlflow() throws -> String {
        try #require(Interop.mlflowURI, "no MLflow server answers at \(Interop.candidateURI): run scripts/mlflow-local.sh start")
    }

    func export(_ id: String) throws -> String {
        let result = try Executables.run(try tool("tipi"), ["runs", "show", id, "--json"], environment: ["TIPI_DIR": store])
        try #require(result.status == 0, "\(result.standardError)")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString).json").path
        try result.standardOutput.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    func runFixture(_ environment: [String: String], _ arguments: [String]) throws -> (id: String, folder: String, result: Executables.Result) {
        let result = try Executables.run(
            try tool("TipiFixture"), ["log"] + arguments, environment: environment.merging(["TIPI_DIR": store]) { a, _ in a },
            removing: ["TIPI_PROGRESS", "NO_COLOR", "TIPI_BACKENDS", "MLFLOW_TRACKING_URI"])
        let line = try #require(result.standardOutput.split(separator: "\n").first { $0.hasPrefix("run ") }, "\(result.standardError)")
        let parts = line.split(separator: " ")
        return (String(parts[1]), String(parts[2]), result)
    }

    func check(_ export: String, _ folder: String, _ extra: [String]) throws -> Executables.Result {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/check_run.py").path
        return try Executables.run(try python(), [script, export, folder] + extra, removing: [], timeout: 300)
    }

    @Test("one log call lands in the store, TensorBoard, W&B, JSONL and MLflow: every value, NaN and ±inf included")
    func everyBackend() throws {
        let uri = try mlflow()
        let (id, folder, result) = try runFixture(
            ["TIPI_BACKENDS": "tensorboard,wandb,jsonl,mlflow", "MLFLOW_TRACKING_URI": uri],
            ["--project", "interop", "--steps", "400", "--special", "yes"])
        #expect(result.status == 0)
        #expect(result.standardError.isEmpty, "\(result.standardError)")
        let verdict = try check(try export(id), folder, ["--mlflow", uri])
        #expect(verdict.status == 0, "\(verdict.standardOutput)\(verdict.standardError)")
        #expect(verdict.standardOutput.contains("interop: 32 passed, 0 failed"), "\(verdict.standardOutput)")
    }

    @Test("MLflow down: training goes on, finish is bounded, one warning, and `tipi runs sync` sends it all later")
    func mlflowDown() throws {
        let uri = try mlflow()
        let start = Date()
        let (id, folder, result) = try runFixture(
            ["TIPI_BACKENDS": "mlflow", "MLFLOW_TRACKING_URI": "http://127.0.0.1:9", "TIPI_FINISH_TIMEOUT": "2"],
            ["--project", "outage", "--steps", "500"])
        #expect(result.status == 0)
        #expect(Date().timeIntervalSince(start) < 20)
        let warnings = result.standardError.split(separator: "\n")
        #expect(warnings.count == 1, "\(result.standardError)")
        #expect(result.standardError.contains("the mlflow backend is incomplete: only 0 steps were sent"))
        // Written the way it runs here (`swift run tipi …` in the package's folder, see ToolCommand).
        #expect(result.standardError.contains("tipi runs sync \(id) --to mlflow` sends the rest later"))
        let stored = try Executables.run(try tool("tipi"), ["runs", "show", id], environment: ["TIPI_DIR": store])
        #expect(stored.standardOutput.contains("backend:    mlflow → http://127.0.0.1:9 — incomplete (0 steps sent)"))
        let sync = try Executables.run(
            try tool("tipi"), ["runs", "sync", id, "--uri", uri], environment: ["TIPI_DIR": store])
        #expect(sync.status == 0, "\(sync.standardError)")
        #expect(sync.standardOutput.contains("run \(id): 500 steps in MLflow run"))
        let verdict = try check(try export(id), folder, ["--mlflow", uri, "--only", "mlflow"])
        #expect(verdict.status == 0, "\(verdict.standardOutput)")
        let again = try Executables.run(try tool("tipi"), ["runs", "sync", id, "--uri", uri], environment: ["TIPI_DIR": store])
        #expect(again.standardOutput.contains("500 steps"))  // idempotent: nothing sent twice
        #expect(try check(try export(id), folder, ["--mlflow", uri, "--only", "mlflow"]).status == 0)
    }

    @Test("runs sync of more than 2,000,000 unsent values makes progress, in order, and resumes where it stopped")
    func syncBeyondTheBuffer() throws {
        let uri = try mlflow()
        // 700,000 steps × 3 keys = 2.1 M values, none of which reached MLflow (nothing listens on port 9).
        let (id, folder, result) = try runFixture(
            ["TIPI_BACKENDS": "mlflow", "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"],
            ["--project", "big-sync", "--steps", "700000", "--keys", "3"])
        #expect(result.status == 0, "\(result.standardError)")
        func mlflowState() throws -> [String: Any] {
            let data = try Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent("run.json"))
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            return try #require((object["backends"] as? [String: Any])?["mlflow"] as? [String: Any])
        }
        let first = try Executables.run(
            try tool("tipi"), ["runs", "sync", id, "--uri", uri, "--timeout", "8"], environment: ["TIPI_DIR": store])
        #expect(first.status != 0)  // not all of it in 8 s
        #expect(first.standardError.contains("gave up after"), "\(first.standardError)")
        let sent = try #require(try mlflowState()["sentSteps"] as? Int)
        #expect(sent > 0, "nothing was sent: the backend's buffer overflowed")
        let again = try Executables.run(
            try tool("tipi"), ["runs", "sync", id, "--uri", uri, "--timeout", "8"], environment: ["TIPI_DIR": store])
        _ = again
        let resumed = try #require(try mlflowState()["sentSteps"] as? Int)
        #expect(resumed >= sent)
        // MLflow has the first `resumed` steps and nothing after a gap (a request the deadline cut may have
        // reached the server: those rows are sent again, which the server accepts).
        let remote = try #require(try mlflowState()["remoteID"] as? String)
        let history = try Executables.run(
            "/usr/bin/curl", ["-sf", "\(uri)/api/2.0/mlflow/metrics/get-history?run_id=\(remote)&metric_key=loss&max_results=1000000"],
            removing: [])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(history.standardOutput.utf8)) as? [String: Any])
        let steps = (object["metrics"] as? [[String: Any]] ?? []).compactMap { ($0["step"] as? Int) ?? Int($0["step"] as? String ?? "") }
        let last = try #require(steps.max())
        #expect(last >= resumed - 1)
        #expect(Set(steps) == Set(0...last))
    }
}

enum Interop {
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static let candidateURI = ProcessInfo.processInfo.environment["TIPI_TEST_MLFLOW_URI"] ?? "http://127.0.0.1:5055"

    /// The Python of the test venv, when it has the tools.
    static let python: String? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let venv = ProcessInfo.processInfo.environment["TIPI_TEST_VENV"] ?? root.appendingPathComponent(".venv-test").path
        let python = venv + "/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python),
            let result = try? Executables.run(python, ["-c", "import tensorboard, tbparse, wandb, mlflow"], removing: [], timeout: 120),
            result.status == 0
        else { return nil }
        return python
    }()

    /// The MLflow server, when one answers.
    static let mlflowURI: String? = {
        guard let result = try? Executables.run("/usr/bin/curl", ["-sf", "--max-time", "5", candidateURI + "/health"], removing: []),
            result.status == 0
        else { return nil }
        return candidateURI
    }()

    static var shouldRun: Bool { isCI || (python != nil && mlflowURI != nil) }
}
