import Foundation
import Synchronization
import Testing
import Tipi
import TipiTestSupport

@testable import TipiPipeline

/// The executor's tests share the event log, so they run one at a time.
@Suite("Running pipelines", .serialized)
struct ExecutorTests {
    let store = RunStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-\(UUID().uuidString)"))
    let terminal = FakeTerminal(columns: 100, isTerminal: false)

    func run(_ text: String) async throws -> (PipelineExecutor.Outcome, [String]) {
        EventLog.shared.reset()
        let built = try PipelineBuilder.build(try ConfigLoader.parse(text: text, file: "t.toml"), definition: testDefinition).get()
        let display = ProgressDisplay(output: terminal, mode: .plain, automaticRefresh: false)
        let outcome = await PipelineExecutor.run(
            built, options: .init(name: "tests", configFile: "t.toml", overrides: [], configText: text, store: store, display: display))
        return (outcome, EventLog.shared.all)
    }

    func resume(_ id: String, from: String? = nil) async throws -> (PipelineExecutor.Outcome, [String]) {
        EventLog.shared.reset()
        let prepared = try Resume.prepare(run: id, config: nil, overrides: [], from: from, definition: testDefinition, store: store)
        let display = ProgressDisplay(output: terminal, mode: .plain, automaticRefresh: false)
        let outcome = await PipelineExecutor.run(
            prepared.pipeline,
            options: .init(
                name: "tests", configFile: prepared.configFile, overrides: prepared.overrides, plan: prepared.plan,
                configText: prepared.configText, store: store, display: display))
        return (outcome, EventLog.shared.all)
    }

    static let lifecycle = """
        [permanences.a]
        type = "Points"
        count = 1

        [permanences.b]
        type = "Notes"
        name = "b"

        [processes.first]
        type = "fit"
        params = { epochs = 3, data = "a" }

        [processes.second]
        type = "noop"
        """

    @Test("initialize in order, checkpoint after each process, cleanup in reverse order; the run records it all")
    func lifecycle() async throws {
        let (outcome, events) = try await run(Self.lifecycle)
        #expect(events == [
            "initialize points 1", "initialize notes b", "fit epochs=3 rate=0.1 points=1", "checkpoint points 1", "noop",
            "checkpoint points 1", "cleanup notes b", "cleanup points 1",
        ])
        guard case .completed(let run) = outcome else { Issue.record("failed: \(outcome)"); return }
        let stored = try store.run(matching: run.id)
        #expect(stored.status == .finished)
        #expect(stored.metadata.pipeline?.processes.map(\.status) == ["completed", "completed"])
        #expect(stored.metadata.config["processes"] != nil)
        // run.json holds the config's text, written while resolving it; the values, made only when asked
        // for (here), are what that text reads back as.
        #expect(run.metadata.config == stored.metadata.config)
        #expect(terminal.raw.contains("PROCESS  TYPE  STATUS     TIME"))
    }

    @Test("a failing process stops the pipeline, cleanup still runs, and a failing cleanup does not stop the others")
    func failure() async throws {
        let (outcome, events) = try await run(
            """
            [permanences.a]
            type = "Points"
            count = 1
            failCleanup = true

            [permanences.b]
            type = "Notes"
            name = "b"

            [processes.ok]
            type = "noop"

            [processes.broken]
            type = "fail"
            message = "out of memory"

            [processes.never]
            type = "noop"
            """)
        #expect(events == ["initialize points 1", "initialize notes b", "noop", "checkpoint points 1", "fail", "cleanup notes b", "cleanup points 1"])
        guard case .failed(let run?, let problems) = outcome else { Issue.record("expected a failure"); return }
        #expect(problems.map(\.code) == ["PROC001", "PERMA003"])
        #expect(problems[0].description.contains("process broken (fail) failed: out of memory"))
        #expect(problems[0].help == "fix it, then `run --resume \(run.id)` continues after the processes that completed")
        #expect(problems[1].description.contains("permanences.a: cleanup() failed: disk went away"))
        let stored = try store.run(matching: run.id)
        #expect(stored.status == .failed)
        #expect(stored.metadata.pipeline?.processes.map(\.status) == ["completed", "failed", "pending"])
        #expect(stored.metadata.pipeline?.processes[1].error == "out of memory")
    }

    @Test("pre-flight: a bad param of the last process is reported before the first process runs")
    func preflight() throws {
        EventLog.shared.reset()
        let text = Self.lifecycle + "\n[processes.last]\ntype = \"fit\"\nparams = { epochs = 2.5, data = \"a\" }\n"
        let result = PipelineBuilder.build(try ConfigLoader.parse(text: text, file: "t.toml"), definition: testDefinition)
        guard case .failure(let problems) = result else { Issue.record("expected problems"); return }
        #expect(problems.problems.count == 1)
        #expect(problems.problems[0].description.hasPrefix("error[INS001]: t.toml:17:21: processes.last.params.epochs: expected Int (a whole number), found float 2.5"))
        #expect(EventLog.shared.all.isEmpty)
    }

    @Test("resume: a process that changed a permanence without restore is not skipped but refused; --from runs it again; skip() unless forced")
    func resume() async throws {
        let failing = Self.lifecycle + "\n[processes.third]\ntype = \"fail\"\n"
        let (first, _) = try await run(failing)
        guard case .failed(let failed?, _) = first else { Issue.record("expected a failure"); return }
        // `first` (fit) holds permanence a (Points), which has no restore(from:): skipping it would run on a fresh one.
        do {
            _ = try await resume(failed.id)
            Issue.record("expected a refusal")
        } catch let problems as ConfigProblems {
            #expect(problems.problems.map(\.code) == ["CFG005"])
            #expect(problems.description.contains("cannot resume run \(failed.id) without running first again: it changed permanence 'a' (Points), which cannot be restored"))
            #expect(problems.description.contains("help: make Points a RestorablePermanence (save its state in checkpoint(into:), load it in restore(from:)), or resume with --from first"))
        }
        let (second, events) = try await resume(failed.id, from: "first")
        guard case .failed(let resumed?, _) = second else { Issue.record("the recorded config fails again"); return }
        #expect(events.contains { $0.hasPrefix("fit epochs=3") })
        let record = try store.run(matching: resumed.id).metadata
        #expect(record.pipeline?.processes.map(\.status) == ["completed", "completed", "failed"])
        #expect(record.resumedFrom == failed.id)
        #expect(record.pipeline?.resumedFrom == failed.id)

        // A completed process with force = true runs again on resume, with the ones after it (said so).
        let (forcedRun, _) = try await run("[processes.a]\ntype = \"noop\"\nforce = true\n\n[processes.b]\ntype = \"noop\"\n\n[processes.c]\ntype = \"fail\"\n")
        guard case .failed(let forcedFailure?, _) = forcedRun else { Issue.record("expected a failure"); return }
        let prepared = try Resume.prepare(run: forcedFailure.id, config: nil, overrides: [], from: nil, definition: testDefinition, store: store)
        #expect(prepared.plan.start == 0)
        #expect(prepared.notes.first == "note: a has force = true: it and the processes after it run again")

        let (_, cached) = try await run("[processes.c]\ntype = \"Cached\"\n")
        #expect(!cached.contains("cached ran"))
        let (_, forcedCache) = try await run("[processes.c]\ntype = \"Cached\"\nforce = true\n")
        #expect(forcedCache.contains("cached ran"))
    }
}
