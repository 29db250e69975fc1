import Foundation
import Testing
import Tipi
import TipiTestSupport

@testable import TipiPipeline

@PipelineProcess
func instant() {}

let recordingDefinition = PipelineDefinition(name: "recording", processes: #processes(instant), permanences: [])

/// A pipeline's process records in `run.json`: a run stopped before its first record (its first `run.json`
/// names no process) resumes from the first process. (That a status reaches `run.json` within about a second
/// whatever the process after it does is tested on a real process: `ResumeTests`.)
@Suite("Recording the processes", .serialized)
struct ProcessRecordingTests {
    let store = RunStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("recording-\(UUID().uuidString)"))

    static let config = """
        [processes.a]
        type = "instant"

        [processes.b]
        type = "instant"

        [processes.third]
        type = "instant"

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

    @Test("a run whose run.json names no process (stopped in its first second) resumes from the first process")
    func resumeWithoutRecords() async throws {
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
