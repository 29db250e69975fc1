import Foundation
import Synchronization
import Testing
import Tipi
import TipiTestSupport

@testable import TipiPipeline

/// Opens `recordingGate` for `waitAtGate`.
let recordingGate = Atomic<Bool>(false)

/// Waits until ``recordingGate`` opens (at most 30 s).
@PipelineProcess
func waitAtGate() async throws {
    let deadline = Date().addingTimeInterval(30)
    while !recordingGate.load(ordering: .acquiring), Date() < deadline { try await Task.sleep(nanoseconds: 5_000_000) }
}

@PipelineProcess
func instant() {}

let recordingDefinition = PipelineDefinition(name: "recording", processes: #processes(waitAtGate, instant), permanences: [])

/// How a pipeline's process records reach `run.json`: the writer takes them when they changed, so a
/// status is on disk within about a second whatever the process after it does; a run stopped before its
/// first record resumes from the first process.
@Suite("Recording the processes", .serialized)
struct ProcessRecordingTests {
    let store = RunStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("recording-\(UUID().uuidString)"))

    static let config = """
        [processes.a]
        type = "instant"

        [processes.b]
        type = "instant"

        [processes.gate]
        type = "waitAtGate"

        [processes.last]
        type = "instant"
        """

    func execute(_ pipeline: BuiltPipeline, plan: ResumePlan? = nil, overrides: [String] = []) async -> PipelineExecutor.Outcome {
        let display = ProgressDisplay(output: FakeTerminal(columns: 100, isTerminal: false), mode: .off, automaticRefresh: false)
        return await PipelineExecutor.run(
            pipeline,
            options: .init(name: "recording", configFile: "r.toml", overrides: overrides, plan: plan, configText: Self.config, store: store, display: display))
    }

    func statuses(_ folder: URL) -> [String]? {
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("run.json").path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let pipeline = object["pipeline"] as? [String: Any], let processes = pipeline["processes"] as? [[String: Any]]
        else { return nil }
        return processes.map { $0["status"] as? String ?? "?" }
    }

    /// What a pipeline run on a thread of its own returned.
    final class OutcomeBox: @unchecked Sendable {
        var outcome: PipelineExecutor.Outcome?
    }

    @Test("while a long process runs, the statuses before it are on disk within about a second")
    func statusesWhileRunning() throws {
        recordingGate.store(false, ordering: .releasing)
        let built = try PipelineBuilder.build(try ConfigLoader.parse(text: Self.config, file: "r.toml"), definition: recordingDefinition).get()
        // The pipeline on a thread of its own, and this test polling on its own: other suites running at the
        // same time may keep the cooperative pool busy for seconds.
        let box = OutcomeBox()
        let done = DispatchSemaphore(value: 0)
        Task.detached(executorPreference: DedicatedThreadExecutor(name: "recording-test")) {
            box.outcome = await self.execute(built)
            done.signal()
        }
        defer { recordingGate.store(true, ordering: .releasing) }
        // The run's folder, then its run.json as the writer rewrites it.
        let start = Date()
        var seen: [String]?
        while Date().timeIntervalSince(start) < 60 {
            let project = store.root.appendingPathComponent("recording")
            if let name = try? FileManager.default.contentsOfDirectory(atPath: project.path).first(where: { !$0.hasPrefix(".") }),
                let statuses = statuses(project.appendingPathComponent(name)), statuses.count == 4
            {
                seen = statuses
                if statuses == ["completed", "completed", "running", "pending"] { break }
            }
            usleep(20_000)
        }
        // Within about a second on an idle machine (the writer's round); the bound here is for a loaded one.
        #expect(seen == ["completed", "completed", "running", "pending"])
        recordingGate.store(true, ordering: .releasing)
        #expect(done.wait(timeout: .now() + 60) == .success)
        guard case .completed(let run)? = box.outcome else { Issue.record("the pipeline failed"); return }
        #expect(statuses(run.folder) == ["completed", "completed", "completed", "completed"])
    }

    @Test("a run whose run.json names no process (stopped in its first second) resumes from the first process")
    func resumeWithoutRecords() async throws {
        recordingGate.store(true, ordering: .releasing)
        let built = try PipelineBuilder.build(try ConfigLoader.parse(text: Self.config, file: "r.toml"), definition: recordingDefinition).get()
        guard case .completed(let first) = await execute(built) else { Issue.record("the pipeline failed"); return }
        // As the first run.json of a run killed at once: the pipeline's record without its processes, and
        // the run no longer running.
        let path = first.folder.appendingPathComponent("run.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
        var pipeline = try #require(object["pipeline"] as? [String: Any])
        pipeline["processes"] = [Any]()
        object["pipeline"] = pipeline
        object["status"] = "crashed"
        try JSONSerialization.data(withJSONObject: object).write(to: path)

        let prepared = try Resume.prepare(run: first.id, config: nil, overrides: [], from: nil, definition: recordingDefinition, store: store)
        #expect(prepared.plan.skipped.isEmpty)
        guard case .completed(let resumed) = await execute(prepared.pipeline, plan: prepared.plan, overrides: prepared.overrides) else {
            Issue.record("the resume failed")
            return
        }
        #expect(statuses(resumed.folder) == ["completed", "completed", "completed", "completed"])
        let stored = try store.run(matching: resumed.id)
        #expect(stored.metadata.pipeline?.resumedFrom == first.id)
    }
}
