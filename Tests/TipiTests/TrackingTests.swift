import Foundation
import Synchronization
import Testing
import TipiTestSupport

@testable import Tipi

/// A run store in a fresh temporary folder.
func temporaryStore() -> RunStore {
    RunStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)"))
}

/// Starts a run directly (no global logger state), with warnings collected.
func startRun(
    _ store: RunStore, project: String = "tests", config: [String: ConfigValue] = [:], backends: [BackendKind] = []
) throws -> Run {
    try Run.start(
        project: project, name: "test-run", config: config, tags: ["t"], notes: nil, group: nil, backends: backends,
        store: store)
}

func history(_ run: Run) throws -> MetricHistory {
    let contents = try MetricLog.read(run.folder.appendingPathComponent(RunStore.metricsFile).path)
    return MetricHistory(contents: contents)
}

/// Each stored row of a run: its step and its values by key.
func rows(_ run: Run) throws -> [(Int, [String: Double])] {
    let contents = try MetricLog.read(run.folder.appendingPathComponent(RunStore.metricsFile).path)
    let batch = contents.batch
    return (0..<batch.rowCount).map { row in
        var values: [String: Double] = [:]
        for position in batch.range(ofRow: row) {
            values[contents.keys[Int(batch.entries[position].key)]] = batch.entries[position].value
        }
        return (batch.rows[row].step, values)
    }
}

@Suite("Step semantics (as W&B documents them)")
struct StepSemanticsTests {
    @Test("each call without step is a new step: 0, 1, 2")
    func implicitSteps() throws {
        let run = try startRun(temporaryStore())
        run.log(["loss": 3])
        run.log(["loss": 2])
        run.log(["loss": 1, "acc": 0.5])
        run.finish()
        let rows = try rows(run)
        #expect(rows.map(\.0) == [0, 1, 2])
        #expect(rows[2].1 == ["loss": 1, "acc": 0.5])
    }

    @Test("commit: false stages values into the next committed step")
    func staging() throws {
        let run = try startRun(temporaryStore())
        run.log(["a": 1])
        run.log(["b": 2], commit: false)
        run.log(["c": 3])
        run.finish()
        let rows = try rows(run)
        #expect(rows.map(\.0) == [0, 1])
        #expect(rows[1].1 == ["b": 2, "c": 3])
    }

    @Test("an explicit step stays open until another step or a call without step")
    func explicitStep() throws {
        let run = try startRun(temporaryStore())
        run.log(["d": 1], step: 10)
        run.log(["f": 2], step: 10)
        run.log(["g": 3])
        run.log(["h": 4])
        run.finish()
        let rows = try rows(run)
        #expect(rows.map(\.0) == [10, 11])
        #expect(rows[0].1 == ["d": 1, "f": 2, "g": 3])
    }

    @Test("a lower step is dropped, with one warning, and counted")
    func lowerStep() throws {
        let run = try startRun(temporaryStore())
        run.log(["x": 1], step: 5)
        run.log(["x": 2], step: 6)
        run.log(["x": 3], step: 2)
        run.log(["x": 4], step: 1)
        run.finish()
        #expect(try rows(run).map(\.0) == [5, 6])
        #expect(run.metadata.droppedSteps == 2)
    }

    @Test("a key logged twice in one step keeps the last value")
    func sameKeyTwice() throws {
        let run = try startRun(temporaryStore())
        run.log(["x": 1], commit: false)
        run.log(["x": 2])
        run.finish()
        #expect(try rows(run).map(\.1) == [["x": 2]])
    }
}

@Suite("The run store")
struct RunStoreTests {
    @Test("metadata, config, summary and history are recorded")
    func recorded() throws {
        let store = temporaryStore()
        let run = try startRun(store, config: ["lr": 0.01, "epochs": 10, "opt": "adam", "net": ["width": 64]])
        for step in 0..<100 { run.log(["train/loss": 1 / Double(step + 1), "acc": Double(step) / 100]) }
        run.finish()
        let stored = try store.run(matching: run.id)
        let metadata = stored.metadata
        #expect(stored.status == .finished)
        #expect(metadata.project == "tests")
        #expect(metadata.config["net"] == .table(["width": .int(64)]))
        #expect(metadata.pid == getpid())
        #expect(metadata.host == ProcessFacts.host)
        #expect(metadata.endTime != nil)
        #expect(metadata.summary["train/loss"] == MetricSummary(last: 0.01, min: 0.01, max: 1, count: 100, step: 99))
        let series = try #require(try RunStore.history(of: stored).series["acc"])
        #expect(series.steps == Array(0..<100))
        #expect(series.values[42] == 0.42)
        #expect(try store.run(matching: String(run.id.prefix(5))).metadata.id == run.id)
        #expect(try store.run(matching: "test-run").metadata.id == run.id)
    }

    @Test("NaN and infinities are stored and read back as such; min and max skip NaN")
    func specialValues() throws {
        let run = try startRun(temporaryStore())
        for value in [1.0, .nan, .infinity, -.infinity, -0.0] { run.log(["v": value]) }
        run.finish()
        let values = try #require(try history(run).series["v"]).values
        #expect(values[0] == 1 && values[1].isNaN && values[2] == .infinity && values[3] == -.infinity)
        #expect(values[4].sign == .minus)
        let summary = try #require(run.metadata.summary["v"])
        #expect(summary.min == -.infinity && summary.max == .infinity && summary.count == 5)
        let data = try JSONEncoder().encode(summary)
        #expect(try JSONDecoder().decode(MetricSummary.self, from: data) == summary)
    }

    @Test("bad keys are refused with one warning each; good ones in the same call are kept")
    func badKeys() throws {
        let run = try startRun(temporaryStore())
        let long = String(repeating: "k", count: 600)
        for _ in 0..<3 { run.log(["": 1, long: 2, "a\nb": 3, "_step": 4, "with space/and slash": 5]) }
        run.finish()
        #expect(try history(run).series.keys.sorted() == ["with space/and slash"])
        #expect(Run.problem(with: "") == "is empty")
        #expect(Run.problem(with: long) == "is 600 bytes long (at most 512)")
        #expect(Run.problem(with: "a\nb")?.contains("control character") == true)
        #expect(Run.problem(with: "_runtime") == "is reserved by W&B")
    }

    @Test("a torn last record (kill -9 mid-write) is ignored; everything before it reads back")
    func tornTail() throws {
        var bytes = MetricLog.magic
        var first = MetricBatch()
        first.appendRow(step: 0, time: 1, keys: [0], values: [0.5])
        MetricLog.encode(newKeys: ["loss"], firstKeyID: 0, batch: first, into: &bytes)
        let good = bytes.count
        var second = MetricBatch()
        for step in 1..<50 { second.appendRow(step: step, time: 2, keys: [0], values: [Double(step)]) }
        MetricLog.encode(newKeys: [], firstKeyID: 1, batch: second, into: &bytes)
        for cut in [good + 3, good + 9, bytes.count - 1] {
            let contents = Array(bytes[0..<cut]).withUnsafeBytes { MetricLog.decode($0) }
            #expect(contents.keys == ["loss"])
            #expect(contents.batch.rows.map(\.step) == [0])
            #expect(contents.damage.tornTailBytes == cut - good)
            #expect(!contents.damage.isCorrupted)
        }
        var corrupted = bytes
        corrupted[good + 12] ^= 0xFF
        #expect(corrupted.withUnsafeBytes { MetricLog.decode($0) }.batch.rowCount == 1)
        #expect(bytes.withUnsafeBytes { MetricLog.decode($0) }.batch.rowCount == 50)
    }

    @Test("an unwritable TIPI_DIR is a clear error naming the path")
    func unwritable() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-dir-\(UUID().uuidString)")
        try Data("x".utf8).write(to: file)
        let store = RunStore(root: file.appendingPathComponent("runs"))
        #expect {
            try startRun(store)
        } throws: { error in
            guard case .storeNotWritable(let path, _) = error as? TrackingError else { return false }
            return path.hasPrefix(file.path) && "\(error)".contains("set TIPI_DIR to a writable folder")
        }
    }

    @Test("a full disk: the write is cut back, nothing earlier is lost, the caller is told")
    func fullDisk() throws {
        let descriptor = open("/dev/full", O_WRONLY)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        var size: off_t = 0
        let failure = MetricAppender.append([1, 2, 3], to: descriptor, goodSize: &size)
        #expect(failure?.contains("No space left") == true)
        #expect(size == 0)
    }

    @Test("a run whose process is gone reads as crashed")
    func crashedStatus() throws {
        let run = try startRun(temporaryStore())
        var metadata = run.metadata
        run.finish()
        metadata.status = .running
        metadata.pid = 999_999
        metadata.processStart = 1
        #expect(RunStore.effectiveStatus(metadata) == .crashed)
        metadata.pid = getpid()
        metadata.processStart = ProcessFacts.ownStartTime
        #expect(RunStore.effectiveStatus(metadata) == .running)
        metadata.host = "elsewhere"
        metadata.heartbeat = Date().timeIntervalSince1970 - 600
        #expect(RunStore.effectiveStatus(metadata) == .crashed)
        metadata.heartbeat = Date().timeIntervalSince1970 - 10
        #expect(RunStore.effectiveStatus(metadata) == .running)
    }

    @Test("finish is idempotent; logging after it is ignored with one warning")
    func finishTwice() throws {
        let run = try startRun(temporaryStore())
        run.log(["a": 1])
        run.finish()
        run.finish(status: .failed)
        run.log(["a": 2])
        #expect(run.metadata.status == .finished)
        #expect(try history(run).series["a"]?.values == [1])
    }

    @Test("many threads logging into one run lose nothing")
    func concurrentLogging() async throws {
        let run = try startRun(temporaryStore())
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for _ in 0..<5_000 { run.log(["task\(task)": 1]) }
                }
            }
        }
        run.finish()
        let series = try history(run).series
        #expect(series.count == 8)
        #expect(series.values.map(\.values.count).reduce(0, +) == 40_000)
    }
}

@Suite("The logger")
struct ExperimentLoggerTests {
    @Test("inside a pipeline, start and log use the pipeline's run")
    func pipelineRun() throws {
        let store = temporaryStore()
        let pipelineRun = try startRun(store, config: ["a": 1])
        let local = ExperimentLogger()
        try withPipelineContext(PipelineContext(processName: "train", run: pipelineRun)) {
            let run = try local.start(project: "ignored", config: ["lr": 0.1], tags: ["extra"])
            #expect(run === pipelineRun)
            local.log(["loss": 1])
            local.finish()  // the pipeline ends its own run
        }
        #expect(!pipelineRun.isFinished)
        pipelineRun.finish()
        #expect(pipelineRun.metadata.config == ["a": 1, "lr": 0.1])
        #expect(pipelineRun.metadata.tags.contains("extra"))
        #expect(try history(pipelineRun).series["loss"]?.values == [1])
    }

    @Test("the chosen device is recorded in the active run")
    func deviceRecorded() throws {
        let store = temporaryStore()
        let run = try startRun(store)
        let device = Device(kind: .cuda, index: 0, name: "test GPU")
        run.recordDevice(device)
        run.finish()
        #expect(try store.run(matching: run.id).metadata.device == device)
    }

    @Test("backend names: known, aliases, and a suggestion for typos")
    func backendNames() throws {
        #expect(try BackendKind.parseList("tensorboard, MLflow,jsonl") == [.tensorboard, .mlflow, .jsonl])
        #expect(try BackendKind.parseList("tb,basic") == [.tensorboard, .jsonl])
        #expect(throws: TrackingError.unknownBackend("tensorbord", suggestion: "tensorboard")) {
            try BackendKind.parseList("tensorbord")
        }
    }
}
