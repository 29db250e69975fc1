import Foundation
import Testing
import TipiTestSupport

extension InteropTests {
    /// Runs `TipiFixture artifacts` (a model file saved twice, a folder, a file written directly).
    func runArtifactsFixture(_ environment: [String: String], project: String) throws -> (id: String, folder: String, result: Executables.Result) {
        let source = FileManager.default.temporaryDirectory.appendingPathComponent("interop-source-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: source.appendingPathComponent("tree/nested"), withIntermediateDirectories: true)
        try Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: source.appendingPathComponent("model.bin"))
        try Data("a\n".utf8).write(to: source.appendingPathComponent("tree/a.txt"))
        try Data("b\n".utf8).write(to: source.appendingPathComponent("tree/nested/b.txt"))
        let result = try Executables.run(
            try tool("TipiFixture"), ["artifacts", "--source", source.path, "--project", project],
            environment: environment.merging(["TIPI_DIR": store]) { a, _ in a },
            removing: ["TIPI_PROGRESS", "NO_COLOR", "TIPI_BACKENDS", "MLFLOW_TRACKING_URI"])
        let line = try #require(result.standardOutput.split(separator: "\n").first { $0.hasPrefix("run ") }, "\(result.standardError)")
        let parts = line.split(separator: " ")
        return (String(parts[1]), String(parts[2]), result)
    }

    /// Creates an MLflow experiment whose runs keep their artifacts at `artifactLocation`.
    func createExperiment(_ name: String, artifactLocation: String, at uri: String) throws {
        let created = try Executables.run(
            "/usr/bin/curl",
            ["-sf", "-X", "POST", "\(uri)/api/2.0/mlflow/experiments/create", "-H", "Content-Type: application/json",
                "-d", "{\"name\":\"\(name)\",\"artifact_location\":\"\(artifactLocation)\"}"], removing: [])
        #expect(created.status == 0, "\(created.standardOutput)\(created.standardError)")
    }

    @Test("artifacts reach W&B's offline files (read back by wandb's own reader) and the MLflow run's artifact store (listed and downloaded by MLflow's client)")
    func artifactsEverywhere() throws {
        let uri = try mlflow()
        let (id, folder, result) = try runArtifactsFixture(["TIPI_BACKENDS": "wandb,mlflow", "MLFLOW_TRACKING_URI": uri], project: "interop-artifacts")
        #expect(result.status == 0)
        #expect(result.standardError.isEmpty, "\(result.standardError)")
        let verdict = try check(try export(id), folder, ["--mlflow", uri, "--only", "wandb,mlflow"])
        #expect(verdict.status == 0, "\(verdict.standardOutput)\(verdict.standardError)")
        #expect(verdict.standardOutput.contains("ok    wandb files records name every artifact"), "\(verdict.standardOutput)")
        #expect(verdict.standardOutput.contains("ok    mlflow download tree/nested/b.txt (size, sha256)"), "\(verdict.standardOutput)")
        #expect(verdict.standardOutput.contains(", 0 failed"))
    }

    @Test("a run whose artifact URI is mlflow-artifacts: gets its artifacts through the server's mlflow-artifacts REST API")
    func artifactsThroughTheProxy() throws {
        let uri = try mlflow()
        // An experiment whose runs store artifacts through the server (what `mlflow server` gives by default
        // when it serves artifacts); its location is unique, and removed at the end.
        let location = "tipi-interop-\(UUID().uuidString)"
        let project = "interop-proxy-\(UUID().uuidString.prefix(8))"
        try createExperiment(project, artifactLocation: "mlflow-artifacts:/\(location)", at: uri)
        let (id, folder, result) = try runArtifactsFixture(["TIPI_BACKENDS": "mlflow", "MLFLOW_TRACKING_URI": uri], project: project)
        #expect(result.status == 0)
        #expect(result.standardError.isEmpty, "\(result.standardError)")
        let verdict = try check(try export(id), folder, ["--mlflow", uri, "--only", "mlflow", "--artifact-uri", "mlflow-artifacts:"])
        #expect(verdict.status == 0, "\(verdict.standardOutput)\(verdict.standardError)")
        #expect(verdict.standardOutput.contains("ok    mlflow artifact URI"), "\(verdict.standardOutput)")
        // Clean up what the server stored (its artifact folder is the server's own).
        let remote = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent("run.json")))
                as? [String: Any])
        let runID = try #require(((remote["backends"] as? [String: Any])?["mlflow"] as? [String: Any])?["remoteID"] as? String)
        for name in ["model.bin", "tree/a.txt", "tree/nested/b.txt", "direct/notes.txt"] {
            _ = try Executables.run(
                "/usr/bin/curl", ["-sf", "-X", "DELETE", "\(uri)/api/2.0/mlflow-artifacts/artifacts/\(location)/\(runID)/artifacts/\(name)"],
                removing: [])
        }
    }

    @Test("an artifact store Tipi cannot write (s3:) is one warning at the end; the run folder keeps every artifact and the metrics reach MLflow")
    func artifactStoreUnsupported() throws {
        let uri = try mlflow()
        let project = "interop-s3-\(UUID().uuidString.prefix(8))"
        try createExperiment(project, artifactLocation: "s3://tipi-test-bucket/\(project)", at: uri)
        let (id, folder, result) = try runArtifactsFixture(["TIPI_BACKENDS": "mlflow", "MLFLOW_TRACKING_URI": uri], project: project)
        #expect(result.status == 0)
        let warnings = result.standardError.split(separator: "\n")
        #expect(warnings.count == 1, "one warning, not one per artifact: \(result.standardError)")
        #expect(warnings.first?.hasPrefix("tipi: warning: the mlflow backend could not store artifacts:") == true)
        #expect(result.standardError.contains("is neither mlflow-artifacts: nor a local folder"), "\(result.standardError)")
        #expect(result.standardError.contains("the run folder keeps them"))
        let listed = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent("artifacts.json")))
                as? [String: Any])
        #expect((listed["artifacts"] as? [Any])?.count == 4)
        // The metrics still went to MLflow.
        let verdict = try check(try export(id), folder, ["--mlflow", uri, "--only", "mlflow"])
        #expect(verdict.standardOutput.contains("ok    mlflow metric history loss"), "\(verdict.standardOutput)")
    }
}
