import Foundation
import Testing
import TipiTestSupport

/// A pipeline program (the fixture, which uses every form of @PipelineProcess) run as a real process.
@Suite("A pipeline program")
struct PipelineProgramTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-\(UUID().uuidString)")

    func fixture() throws -> String {
        try #require(Executables.path(of: "TipiPipelineFixture"), "TipiPipelineFixture was not built: run `swift build`")
    }

    func write(_ name: String, _ text: String) throws -> String {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    var environment: [String: String] { ["TIPI_DIR": folder.appendingPathComponent("runs").path, "TIPI_PROGRESS": "plain"] }

    func config(journal: String, extra: String = "") -> String {
        """
        [pipeline]
        enable_progress = true

        [permanences.data]
        type = "Dataset"
        params = { size = 40 }

        [permanences.journal]
        type = "Journal"
        path = "\(journal)"

        [processes.prepare]
        type = "prepare"

        [processes.training]
        type = "train"
        params = { epochs = 2, learningRate = 1, optimizer = "adam" }

        [processes.export]
        type = "export"
        params = { format = "json" }
        \(extra)
        """
    }

    @Test("run: every process in file order, its own output, a summary, the run recorded; exit 0")
    func run() throws {
        let journal = folder.appendingPathComponent("journal.txt").path
        let path = try write("ok.toml", config(journal: journal, extra: "\n[processes.report]\ntype = \"Report\"\ntitle = \"done\"\n"))
        let result = try Executables.run(try fixture(), ["run", path, "--set", "processes.training.params.epochs=3"], environment: environment)
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.prefix(4) == [
            "prepare seed=42 points=40", "train epochs=3 lr=1.0 optimizer=adam device=cpu in-pipeline=true", "export format=json",
            "report done",
        ])
        #expect(lines.contains { $0.hasPrefix("training ") && $0.contains(" train ") && $0.contains(" completed ") })
        #expect(try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").last == "cleanup")
        #expect(!result.standardError.contains("\r"))
    }

    @Test("validate: all problems at once with file:line:column, exit 2, nothing run")
    func validate() throws {
        let path = try write(
            "bad.toml",
            """
            [processes.prepare]
            type = "prepar"

            [processes.training]
            type = "train"
            params = { epochs = "ten", optimizer = "adamw" }
            """)
        let result = try Executables.run(try fixture(), ["validate", path], environment: environment)
        #expect(result.status == 2)
        #expect(result.standardOutput.isEmpty)
        let errors = result.standardError
        #expect(errors.contains("error[REG001]: \(path):2:8: processes.prepare.type: no process type \"prepar\"\n  help: did you mean \"prepare\"?"))
        #expect(errors.contains("error[INS001]: \(path):6:21: processes.training.params.epochs: expected Int (a whole number), found string \"ten\""))
        #expect(errors.contains("processes.training.params.optimizer: \"adamw\" is not a valid Optimizer\n  help: one of: \"sgd\", \"adam\""))
        #expect(errors.contains("processes.training.params.data: needs a permanence of type Dataset, and none is configured"))
        #expect(errors.hasSuffix("4 problems found\n"))
        let run = try Executables.run(try fixture(), ["run", path], environment: environment)
        #expect(run.status == 2)
        #expect(run.standardOutput.isEmpty)
    }

    @Test("a failing process: exit 1, PROC001 with the process, cleanup still runs, the run is failed")
    func failure() throws {
        let journal = folder.appendingPathComponent("journal-fail.txt").path
        let path = try write("fail.toml", config(journal: journal, extra: "\n[processes.boom]\ntype = \"explode\"\nmessage = \"GPU fell off\"\n\n[processes.after]\ntype = \"ping\"\n"))
        let result = try Executables.run(try fixture(), ["run", path], environment: environment)
        #expect(result.status == 1)
        #expect(result.standardError.contains("error[PROC001]: processes.boom: process boom (explode) failed: GPU fell off"))
        #expect(result.standardError.contains("run --resume "))
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(!lines.contains("ping"))
        #expect(lines.contains { $0.hasPrefix("boom ") && $0.contains(" failed ") })
        #expect(lines.contains { $0.hasPrefix("after ") && $0.contains(" pending ") })
        #expect(try String(contentsOfFile: journal, encoding: .utf8).hasSuffix("cleanup\n"))
    }

    @Test("Ctrl-C during a process: cleanup runs, the run is interrupted, exit by SIGINT")
    func interrupt() throws {
        let journal = folder.appendingPathComponent("journal-int.txt").path
        let path = try write("wait.toml", config(journal: journal, extra: "\n[processes.pause]\ntype = \"wait\"\nseconds = 60\n"))
        let process = try Executables.start(try fixture(), ["run", path], environment: environment)
        let deadline = Date().addingTimeInterval(60)
        while !process.standardOutputSoFar.contains("waiting"), Date() < deadline { usleep(20_000) }
        process.signal(SIGINT)
        let result = process.wait(timeout: 30)
        #expect(result.signal == SIGINT)
        #expect(try String(contentsOfFile: journal, encoding: .utf8).hasSuffix("cleanup\n"))
        let runs = folder.appendingPathComponent("runs/fixture")
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs.path).first)
        let metadata = try String(contentsOf: runs.appendingPathComponent(run).appendingPathComponent("run.json"), encoding: .utf8)
        #expect(metadata.contains("\"status\" : \"interrupted\""))
        #expect(metadata.contains("\"key\" : \"pause\""))
    }

    @Test("inspect: processes with params, types, defaults and docs; permanences; a template")
    func inspect() throws {
        let result = try Executables.run(try fixture(), ["inspect"], environment: environment)
        #expect(result.status == 0)
        #expect(Snapshot.verify(result.standardOutput, named: "fixture-inspect") == nil)
        let json = try Executables.run(try fixture(), ["inspect", "--json"], environment: environment)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let processes = try #require(object["processes"] as? [[String: Any]])
        #expect(processes.map { $0["name"] as? String } == ["prepare", "train", "evaluate", "explode", "ping", "announce", "wait", "spin", "hog", "orphan", "branin", "export", "Report", "accumulate", "total", "flaky"])
    }
}
