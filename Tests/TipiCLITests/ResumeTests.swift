import Foundation
import Testing
import TipiTestSupport

/// `run --resume`: the result of an uninterrupted run, or a refusal — on real processes of the pipeline
/// fixture and the level-5 example.
@Suite("Resuming a pipeline run")
struct ResumeTests {
    let scratch = ScratchFolder(label: "resume")
    var folder: URL { scratch.url }
    var runs: URL { folder.appendingPathComponent("runs") }
    var environment: [String: String] { ["TIPI_DIR": runs.path, "TIPI_PROGRESS": "off"] }
    /// While this file exists, the `gate` process fails (the "bug" fixed before resuming).
    var bug: String { folder.appendingPathComponent("bug").path }

    func fixture() throws -> String {
        try #require(Executables.path(of: "TipiPipelineFixture"), "TipiPipelineFixture was not built: run `swift build`")
    }

    /// A tally (restorable) that `one` and the process keyed `a/../ten` add to, a gate that fails while
    /// `bug` exists, then the total; `extra` goes before the total.
    func tallyConfig(extra: String = "") -> String {
        """
        [permanences.tally]
        type = "Tally"

        [processes.one]
        type = "accumulate"

        [processes."a/../ten"]
        type = "accumulate"
        params = { amount = 10 }

        [processes.gate]
        type = "flaky"
        failIf = "\(bug)"
        \(extra)
        [processes.sum]
        type = "total"
        """
    }

    func run(_ arguments: [String], executable: String? = nil) throws -> Executables.Result {
        try Executables.run(try executable ?? fixture(), arguments, environment: environment)
    }

    /// The run folders of a project, oldest first (by start time: runs of one second have random ids).
    func runFolders(_ project: String = "fixture") throws -> [URL] {
        let projectFolder = runs.appendingPathComponent(project)
        let folders = try FileManager.default.contentsOfDirectory(atPath: projectFolder.path).map { projectFolder.appendingPathComponent($0) }
        return try folders.map { ($0, try metadata($0)["startTime"] as? Double ?? 0) }.sorted { $0.1 < $1.1 }.map(\.0)
    }

    func metadata(_ folder: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("run.json"))) as? [String: Any])
    }

    func id(_ folder: URL) -> String { String(folder.lastPathComponent.split(separator: "-").last ?? "") }

    func statuses(_ folder: URL) throws -> [String] {
        let pipeline = try #require(try metadata(folder)["pipeline"] as? [String: Any])
        return (pipeline["processes"] as? [[String: Any]] ?? []).compactMap { $0["status"] as? String }
    }

    func total(_ result: Executables.Result) -> String? {
        result.standardOutput.split(separator: "\n").last { $0.hasPrefix("total ") }.map(String.init)
    }

    /// Fails at the gate, then resumes: the tally comes back from the checkpoint; the result is the one of
    /// an uninterrupted run.
    @Test("fail → fix → resume: a restorable permanence is restored, the result equals an uninterrupted run's, resumed_from links them")
    func restorable() throws {
        let path = try scratch.write("tally.toml", tallyConfig())
        _ = FileManager.default.createFile(atPath: bug, contents: nil)
        let failed = try run(["run", path, "--set", "processes.one.params.amount=2"])
        #expect(failed.status == 1, "\(failed.standardError)")
        let first = try #require(try runFolders().first)
        // The odd key cannot leave the run folder: `/` and `.` are percent-encoded.
        #expect(FileManager.default.fileExists(atPath: first.appendingPathComponent("checkpoints/02-a%2F%2E%2E%2Ften/tally/values.txt").path))
        #expect(FileManager.default.fileExists(atPath: first.appendingPathComponent("config.toml").path))

        try FileManager.default.removeItem(atPath: bug)
        let resumed = try run(["run", path, "--resume", id(first)])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(resumed.standardError.contains("resuming run \(id(first)): one, a/../ten skipped (restored: tally); gate runs next"))
        #expect(resumed.standardOutput.contains("tally restored: 0 2 10"))
        #expect(!resumed.standardOutput.contains("→"))
        let second = try #require(try runFolders().last)
        #expect(try statuses(second) == ["skipped", "skipped", "completed", "completed"])
        #expect(try metadata(second)["resumed_from"] as? String == id(first))
        let tipi = try #require(Executables.path(of: "tipi"), "tipi was not built: run `swift build`")
        let shown = try run(["runs", "show", id(second)], executable: tipi).standardOutput
        #expect(shown.contains("\nresumes:    run \(id(first))\n"))
        #expect(shown.contains("  one       accumulate  skipped    -     completed in run \(id(first))\n"))
        let shownJSON = try run(["runs", "show", id(second), "--json"], executable: tipi).standardOutput
        #expect(shownJSON.contains("\"resumed_from\":\"\(id(first))\""))
        // The first run's --set value (amount=2) is applied again.
        let uninterrupted = try run(["run", path, "--set", "processes.one.params.amount=2"])
        #expect(total(resumed) == "total 12")
        #expect(total(uninterrupted) == total(resumed))

        // A resume of the resume finds the checkpoints in the first run's folder.
        let again = try run(["run", path, "--resume", id(second), "--from", "gate"])
        #expect(again.status == 0, "\(again.standardError)")
        #expect(total(again) == "total 12")

        // A damaged checkpoint stops the resume before anything runs, naming the permanence.
        try FileManager.default.removeItem(at: first.appendingPathComponent("checkpoints/02-a%2F%2E%2E%2Ften/tally/values.txt"))
        let broken = try run(["run", path, "--resume", id(first)])
        #expect(broken.status == 2)
        #expect(broken.standardError.contains("error[CFG005]: permanences.tally: restore(from:) of permanence 'tally' failed:"))
        #expect(total(broken) == nil)
        // A missing checkpoint folder: refused before a run is made.
        try FileManager.default.removeItem(at: first.appendingPathComponent("checkpoints"))
        let count = try runFolders().count
        let missing = try run(["run", path, "--resume", id(first)])
        #expect(missing.status == 2)
        #expect(missing.standardError.contains("the checkpoint of permanence 'tally' is missing"))
        #expect(missing.standardError.contains("help: resume with --from one"))
        #expect(try runFolders().count == count)

        // A checkpoint path in run.json that would lead out of the run folder is not followed.
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("outside/tally"), withIntermediateDirectories: true)
        var record = try metadata(first)
        var pipeline = try #require(record["pipeline"] as? [String: Any])
        var processes = try #require(pipeline["processes"] as? [[String: Any]])
        processes[1]["checkpoint"] = "checkpoints/../../../../outside"
        pipeline["processes"] = processes
        record["pipeline"] = pipeline
        try JSONSerialization.data(withJSONObject: record).write(to: first.appendingPathComponent("run.json"))
        let tampered = try run(["run", path, "--resume", id(first)])
        #expect(tampered.status == 2)
        #expect(tampered.standardError.contains("there is no checkpoint of permanence 'tally' after a/../ten"))
    }

    @Test("a completed process changed a permanence that cannot be restored: refused, naming it and the fixes; --from runs it again")
    func notRestorable() throws {
        let journal = folder.appendingPathComponent("journal.txt").path
        let path = try scratch.write(
            "journal.toml",
            """
            [permanences.journal]
            type = "Journal"
            path = "\(journal)"

            [processes.export]
            type = "export"

            [processes.gate]
            type = "flaky"
            failIf = "\(bug)"
            """)
        _ = FileManager.default.createFile(atPath: bug, contents: nil)
        #expect(try run(["run", path]).status == 1)
        try FileManager.default.removeItem(atPath: bug)
        let first = try #require(try runFolders().first)
        let refused = try run(["run", path, "--resume", id(first)])
        #expect(refused.status == 2)
        #expect(refused.standardOutput.isEmpty)
        #expect(
            refused.standardError.contains(
                "error[CFG005]: permanences.journal: cannot resume run \(id(first)) without running export again: it changed permanence 'journal' (Journal), which cannot be restored"))
        #expect(
            refused.standardError.contains(
                "help: make Journal a RestorablePermanence (save its state in checkpoint(into:), load it in restore(from:)), or resume with --from export"))
        #expect(try runFolders().count == 1)
        let fromExport = try run(["run", path, "--resume", id(first), "--from", "export"])
        #expect(fromExport.status == 0, "\(fromExport.standardError)")
        #expect(fromExport.standardOutput.contains("export format=csv"))
        #expect(try statuses(try #require(try runFolders().last)) == ["completed", "completed"])
    }

    @Test("new --set values: a completed process they touch runs again with the ones after it (said so); the rest is the recorded config")
    func changedSet() throws {
        let path = try scratch.write("tally.toml", tallyConfig())
        _ = FileManager.default.createFile(atPath: bug, contents: nil)
        #expect(try run(["run", path]).status == 1)
        try FileManager.default.removeItem(atPath: bug)
        let first = try #require(try runFolders().first)
        // The file changes after the run: the resume uses the recorded config, and says so in one line.
        _ = try scratch.write("tally.toml", tallyConfig().replacingOccurrences(of: "amount = 10", with: "amount = 1000"))
        let resumed = try run(["run", path, "--resume", id(first), "--set", "processes.\"a/../ten\".params.amount=20"])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(resumed.standardError.contains("note: \(path) changed since run \(id(first)) started; the resume uses the config recorded in the run"))
        #expect(resumed.standardError.contains("note: --set changes a/../ten, which completed in run \(id(first)): a/../ten and the processes after it run again"))
        #expect(resumed.standardOutput.contains("tally restored: 0 1\n"))
        #expect(resumed.standardOutput.contains("accumulate 20 → 21"))
        #expect(total(resumed) == "total 21")
        let last = try #require(try runFolders().last)
        let record = try metadata(last)
        let pipeline = try #require(record["pipeline"] as? [String: Any])
        #expect(pipeline["overrides"] as? [String] == ["processes.\"a/../ten\".params.amount=20"])
        let sources = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: last.appendingPathComponent("config-sources.json"))) as? [String: String])
        #expect(sources["processes.a/../ten.params.amount"] == "--set processes.\"a/../ten\".params.amount=20")

        // Changing the permanence's params reruns from the first process that used it.
        let permanence = try run(["run", "--resume", id(first), "--set", "permanences.tally.params.start=5"])
        #expect(permanence.standardError.contains("note: --set changes permanence tally, which one used: one and the processes after it run again"))
        #expect(total(permanence) == "total 16")
    }

    @Test("another pipeline is refused: a config with other processes, a run of another program, a run of no pipeline")
    func wrongPipeline() throws {
        let path = try scratch.write("tally.toml", tallyConfig())
        _ = FileManager.default.createFile(atPath: bug, contents: nil)
        #expect(try run(["run", path]).status == 1)
        let first = try #require(try runFolders().first)
        let other = try scratch.write("other.toml", "[processes.p]\ntype = \"ping\"\n")
        let refused = try run(["run", other, "--resume", id(first)])
        #expect(refused.status == 2)
        #expect(
            refused.standardError.contains(
                "error[CFG005]: cannot resume run \(id(first)) with \(other): it describes another pipeline (p (ping)) than the run's (permanence tally (Tally), one (accumulate), a/../ten (accumulate), gate (flaky), sum (total))"))
        #expect(!refused.standardOutput.contains("ping"))
        // A --from that names no process: refused, echoed with control characters escaped and cut.
        let hostile = try run(["run", path, "--resume", id(first), "--from", "on\u{1B}[2Je" + String(repeating: "x", count: 100_000)])
        #expect(hostile.status == 2)
        #expect(hostile.standardError.contains("error[CFG005]: --from on\\u{1B}[2Jexxx"))
        #expect(!hostile.standardError.contains("\u{1B}"))
        #expect(hostile.standardError.count < 2_000)
        // A --set that changes a process's type makes another pipeline too.
        let retyped = try run(["run", path, "--resume", id(first), "--set", "processes.one.type=ping"])
        #expect(retyped.status == 2)
        #expect(retyped.standardError.contains("its processes (one (accumulate), a/../ten (accumulate), gate (flaky), sum (total)) are not the config's (one (ping), "))

        let level5 = try #require(Executables.path(of: "Level5"), "Level5 was not built: run `swift build`")
        let example = try run(["run", path, "--resume", id(first)], executable: level5)
        #expect(example.status == 2)
        #expect(example.standardError.contains("cannot resume run \(id(first)): it was made by pipeline 'fixture', not 'spirals'"))

        // A recorded config that was damaged afterwards: refused, saying which file.
        try "[processes.one\ntype = 1\n".write(to: first.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        let damaged = try run(["run", "--resume", id(first)])
        #expect(damaged.status == 2)
        #expect(damaged.standardError.contains("error[CFG005]: cannot resume run \(id(first)): the config it recorded (\(first.appendingPathComponent("config.toml").path)) is damaged"))
        #expect(damaged.standardError.contains("error[CFG003]: "))

        // No recorded config at all: refused (the config it ran with is unknown).
        try FileManager.default.removeItem(at: first.appendingPathComponent("config.toml"))
        let unknown = try run(["run", "--resume", id(first)])
        #expect(unknown.status == 2)
        #expect(unknown.standardError.contains("cannot resume run \(id(first)): it has no recorded config"))

        // A run that a level-2 script made (no pipeline record).
        var record = try metadata(first)
        record["pipeline"] = nil
        try JSONSerialization.data(withJSONObject: record).write(to: first.appendingPathComponent("run.json"))
        let script = try run(["run", path, "--resume", id(first)])
        #expect(script.status == 2)
        #expect(script.standardError.contains("cannot resume run \(id(first)): it was not made by a pipeline"))
        #expect(try runFolders().count == 1)
    }

    @Test("while a long process runs, the statuses of the processes before it are in run.json within about a second")
    func statusesWhileRunning() throws {
        let path = try scratch.write("pause.toml", tallyConfig(extra: "\n[processes.pause]\ntype = \"wait\"\nseconds = 60\n"))
        let process = try Executables.start(try fixture(), ["run", path], environment: environment)
        defer { process.signal(SIGKILL) }
        let start = Date()
        var seen: [String] = []
        // About a second after `pause` starts on an idle machine (the writer's round); the bound is for a loaded one.
        while Date().timeIntervalSince(start) < 60 {
            if let folder = try? runFolders().first, let statuses = try? statuses(folder) {
                seen = statuses
                if statuses == ["completed", "completed", "completed", "running", "pending"] { break }
            }
            usleep(20_000)
        }
        #expect(seen == ["completed", "completed", "completed", "running", "pending"])
        process.signal(SIGINT)
        #expect(process.wait(timeout: 30).signal == SIGINT)
        let folder = try #require(try runFolders().first)
        #expect(try statuses(folder) == ["completed", "completed", "completed", "interrupted", "pending"])
    }

    @Test("Ctrl-C during a process, then resume: the result equals an uninterrupted run's")
    func interrupted() throws {
        let path = try scratch.write("pause.toml", tallyConfig(extra: "\n[processes.pause]\ntype = \"wait\"\nseconds = 60\n"))
        let process = try Executables.start(try fixture(), ["run", path], environment: environment)
        let deadline = Date().addingTimeInterval(60)
        while !process.standardOutputSoFar.contains("waiting"), Date() < deadline { usleep(20_000) }
        process.signal(SIGINT)
        #expect(process.wait(timeout: 30).signal == SIGINT)
        let first = try #require(try runFolders().first)
        #expect(try statuses(first) == ["completed", "completed", "completed", "interrupted", "pending"])
        // The interrupted process did not complete: a new value for it is no change to what was done.
        let resumed = try run(["run", path, "--resume", id(first), "--set", "processes.pause.seconds=0"])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(!resumed.standardError.contains("note:"))
        #expect(resumed.standardOutput.contains("tally restored: 0 1 10"))
        #expect(try statuses(try #require(try runFolders().last)) == ["skipped", "skipped", "skipped", "completed", "completed"])
        let uninterrupted = try run(["run", path, "--set", "processes.pause.seconds=0"])
        #expect(total(resumed) == "total 11")
        #expect(total(uninterrupted) == total(resumed))

        // Killed outright (no cleanup, run.json as the writer last left it): the run is `crashed`, and a
        // resume still gives the same total (what the record does not show as completed runs again).
        let killed = try Executables.start(try fixture(), ["run", path], environment: environment)
        while !killed.standardOutputSoFar.contains("waiting"), Date() < deadline.addingTimeInterval(60) { usleep(20_000) }
        killed.signal(SIGKILL)
        #expect(killed.wait(timeout: 30).signal == SIGKILL)
        let crashed = try #require(try runFolders().last)
        let afterCrash = try run(["run", path, "--resume", id(crashed), "--set", "processes.pause.seconds=0"])
        #expect(afterCrash.status == 0, "\(afterCrash.standardError)")
        #expect(total(afterCrash) == "total 11")
    }

    @Test("level 5: the data set keeps the trained model across a resume; the resolved config, field by field")
    func level5() throws {
        let level5 = try #require(Executables.path(of: "Level5"), "Level5 was not built: run `swift build`")
        let config = Self.level5Config
        func accuracy(_ result: Executables.Result) -> String? {
            result.standardOutput.split(separator: "\n").last { $0.hasPrefix("accuracy on ") }.map(String.init)
        }
        let first = try run(["run", config, "--set", "processes.training.params.epochs=2"], executable: level5)
        #expect(first.status == 0, "\(first.standardError)")
        let firstFolder = try #require(try runFolders("spirals").first)
        let resumed = try run(["run", config, "--resume", id(firstFolder), "--set", "processes.evaluation.params.points=900"], executable: level5)
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(resumed.standardError.contains("resuming run \(id(firstFolder)): training skipped (restored: data); evaluation runs next"))
        #expect(!resumed.standardOutput.contains("training on"))
        #expect(!resumed.standardOutput.contains("no trained model"))
        let uninterrupted = try run(
            ["run", config, "--set", "processes.training.params.epochs=2", "--set", "processes.evaluation.params.points=900"], executable: level5)
        #expect(accuracy(resumed) != nil)
        #expect(accuracy(resumed) == accuracy(uninterrupted))

        // Every param of every process and permanence, defaults included, each with its source, as
        // `tipi runs show --json` gives them.
        let tipi = try #require(Executables.path(of: "tipi"), "tipi was not built: run `swift build`")
        let shown = try run(["runs", "show", id(try #require(try runFolders("spirals").last)), "--json"], executable: tipi)
        let record = try #require(try JSONSerialization.jsonObject(with: Data(shown.standardOutput.utf8)) as? [String: Any])
        let resolved = try #require(record["config"] as? [String: Any])
        let expected: [String: Any] = [
            "pipeline": ["enable_progress": true, "logger": "tensorboard", "project": "spirals"],
            "permanences": ["data": ["type": "SpiralData", "params": ["points": 300, "classes": 3, "noise": 0.2, "seed": 1]]],
            "processes": [
                "training": ["type": "train", "params": ["epochs": 2, "learningRate": 0.5, "data": "data"]],
                "evaluation": ["type": "evaluate", "params": ["points": 900, "data": "data"]],
            ],
        ]
        #expect(NSDictionary(dictionary: resolved).isEqual(to: expected), "\(resolved)")
        let sources = try #require(record["config_sources"] as? [String: String])
        #expect(sources == [
            "pipeline.enable_progress": "file \(config):6:19", "pipeline.logger": "file \(config):7:10",
            "pipeline.project": "file \(config):8:11", "permanences.data.type": "file \(config):11:8",
            "permanences.data.params.points": "file \(config):12:21", "permanences.data.params.classes": "file \(config):12:36",
            "permanences.data.params.noise": "file \(config):12:47", "permanences.data.params.seed": "default",
            "processes.training.type": "file \(config):15:8", "processes.training.params.epochs": "--set processes.training.params.epochs=2",
            "processes.training.params.learningRate": "file \(config):16:40", "processes.training.params.data": "default",
            "processes.evaluation.type": "file \(config):19:8",
            "processes.evaluation.params.points": "--set processes.evaluation.params.points=900",
            "processes.evaluation.params.data": "default",
        ])
    }

    /// The level-5 example's config, in this package.
    static let level5Config = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples/Level5/configs/pipeline.toml").path
}
