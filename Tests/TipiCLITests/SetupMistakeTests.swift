import Foundation
import Testing
import Tipi
import TipiTestSupport

/// A mistake in a program's setup (a mistyped `TIPI_BACKENDS`, an unusable `TIPI_DIR`, an unknown
/// `TIPI_DEVICE`), met by the documented `try logger.start(…)` at top level: one line, exit status 2, and
/// no half-made or wrongly `finished` run. Real processes: the level-2 and level-3 examples.
@Suite("Setup mistakes end the program with one line")
struct SetupMistakeTests {
    static let cleared = ["TIPI_BACKENDS", "TIPI_DEVICE", "MLFLOW_TRACKING_URI", "TIPI_PROGRESS", "NO_COLOR", "CUDA_VISIBLE_DEVICES"]

    func example(_ name: String, environment: [String: String]) throws -> Executables.Result {
        let path = try #require(Executables.path(of: name), "build first: swift build")
        return try Executables.run(path, ["1"], environment: environment, removing: Self.cleared, timeout: 120)
    }

    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("setup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// The lines a program wrote to standard error, progress bars left out.
    func errorLines(_ result: Executables.Result) -> [String] {
        result.standardError.split(separator: "\n").map(String.init).filter { !$0.contains("it/s") && !$0.isEmpty }
    }

    @Test("TIPI_BACKENDS=tensorbord: one line naming the variable with a suggestion, exit 2, no run folder")
    func mistypedBackend() throws {
        let folder = try temporaryFolder()
        let result = try example("Level2", environment: ["TIPI_DIR": folder.appendingPathComponent("runs").path, "TIPI_BACKENDS": "tensorbord"])
        #expect(result.status == 2)
        #expect(result.signal == nil)
        #expect(errorLines(result) == [
            "error: TIPI_BACKENDS=tensorbord: unknown backend 'tensorbord'; did you mean 'tensorboard'? (known: tensorboard, wandb, mlflow, jsonl)"
        ])
        #expect(!result.standardError.contains("Fatal error"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("runs").path))
    }

    @Test("TIPI_DIR under a file: one line naming TIPI_DIR, exit 2, no backtrace")
    func unusableStore() throws {
        let folder = try temporaryFolder()
        let file = folder.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let result = try example("Level2", environment: ["TIPI_DIR": file.appendingPathComponent("runs").path])
        #expect(result.status == 2)
        let lines = errorLines(result)
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("error: cannot write the run store at \(file.path)") == true)
        #expect(lines.first?.hasSuffix("set TIPI_DIR to a writable folder") == true)
        #expect(!result.standardOutput.contains("final accuracy"))
    }

    @Test("an optional backend that cannot start: one warning, the run goes on in the store and finishes")
    func unconfiguredBackend() throws {
        let folder = try temporaryFolder()
        let store = RunStore(root: folder.appendingPathComponent("runs"))
        let result = try example("Level2", environment: ["TIPI_DIR": store.root.path, "TIPI_BACKENDS": "mlflow"])
        #expect(result.status == 0)
        #expect(errorLines(result) == [
            "tipi: warning: the mlflow backend cannot start: MLFLOW_TRACKING_URI is not set (for example http://127.0.0.1:5000); "
                + "the run is recorded in the run store without mlflow"
        ])
        let runs = store.runs().runs
        #expect(runs.count == 1)
        #expect(runs.first?.status == .finished)
        #expect(runs.first?.metadata.summary["loss"]?.count == 1)
        #expect(runs.first?.metadata.backends.isEmpty == true)
    }

    @Test("getDevice() failing (TIPI_DEVICE=bogus) ends with status 2 and the run is marked failed, not finished")
    func deviceFailure() throws {
        let folder = try temporaryFolder()
        let store = RunStore(root: folder.appendingPathComponent("runs"))
        let result = try example(
            "Level3",
            environment: [
                "TIPI_DIR": store.root.path, "TIPI_DEVICE": "bogus", "TIPI_NVML": "0",
                "TIPI_NVIDIA_SMI": folder.appendingPathComponent("no-nvidia-smi").path,
                "TIPI_CLAIMS_DIR": folder.appendingPathComponent("claims").path,
            ])
        #expect(result.status == 2)
        #expect(errorLines(result).last?.hasPrefix("error: TIPI_DEVICE=bogus is not a device name") == true)
        let runs = store.runs().runs
        #expect(runs.count == 1)
        #expect(runs.first?.status == .failed)
    }
}
