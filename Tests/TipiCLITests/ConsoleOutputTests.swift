import Foundation
import Testing
import TipiTestSupport

/// A run's console output kept in its folder (`output.log`), and the end-of-run line of a script.
@Suite("Console output of runs")
struct ConsoleOutputTests {
    let store = FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString)").path
    var environment: [String: String] { ["TIPI_DIR": store] }
    let clean = ["TIPI_PROGRESS", "NO_COLOR", "TIPI_BACKENDS", "MLFLOW_TRACKING_URI", "TIPI_DIR", "TIPI_OUTPUT_LOG_MB"]

    func tool(_ name: String) throws -> String {
        try #require(Executables.path(of: name), "\(name) was not built: run `swift build` first")
    }

    func runLine(_ output: String) throws -> (id: String, folder: String) {
        let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("run ") }, "\(output)")
        let parts = line.split(separator: " ")
        return (String(parts[1]), String(parts[2]))
    }

    func log(_ folder: String) throws -> String {
        try String(contentsOfFile: folder + "/output.log", encoding: .utf8)
    }

    @Test("stdout and stderr into files: both kept in output.log as a log file shows them, and still where they went")
    func keptAndPassedOn() throws {
        let result = try Executables.run(try tool("TipiFixture"), ["console", "--lines", "3"], environment: environment, removing: clean)
        #expect(result.status == 0, "\(result.standardError)")
        let (id, folder) = try runLine(result.standardOutput)
        let text = try log(folder)
        for index in 0..<3 {
            #expect(text.contains("out \(index)\n"), "\(text)")
            #expect(text.contains("err \(index)\n"), "\(text)")
            #expect(result.standardOutput.contains("out \(index)\n"))
            #expect(result.standardError.contains("err \(index)\n"))
        }
        // What a log file shows: the last state of a line rewritten with \r, no escape sequences.
        #expect(text.contains("\nprogress 100%\n"), "\(text)")
        #expect(!text.contains("progress 10%"))
        #expect(text.contains("green word\n"))
        #expect(!text.contains("\u{1B}"))
        // The program's own streams are unchanged (escape sequences and all).
        #expect(result.standardOutput.contains("progress 10%\rprogress 50%\rprogress 100%\n"))
        #expect(result.standardOutput.contains("\u{1B}[1;32mgreen"))
        // After finish, the console is the program's again.
        #expect(result.standardOutput.contains("after finish"))
        #expect(!text.contains("after finish"))
        let shown = try Executables.run(try tool("tipi"), ["runs", "show", id], environment: environment, removing: clean)
        #expect(shown.standardOutput.contains("output:     \(folder)/output.log ("), "\(shown.standardOutput)")
        #expect(shown.standardOutput.contains("runs log \(id)` prints it"))
        let printed = try Executables.run(try tool("tipi"), ["runs", "log", id], environment: environment, removing: clean)
        #expect(printed.status == 0)
        #expect(printed.standardOutput == text)
    }

    @Test("kill -9: every line the program flushed is in output.log")
    func killNine() throws {
        let process = try Executables.start(
            try tool("TipiFixture"), ["console", "--lines", "50", "--hold", "60"], environment: environment, removing: clean)
        let deadline = Date().addingTimeInterval(60)
        while !process.standardOutputSoFar.contains("holding"), Date() < deadline { usleep(20_000) }
        usleep(200_000)
        process.signal(SIGKILL)
        let result = process.wait()
        #expect(result.signal == SIGKILL)
        let (_, folder) = try runLine(result.standardOutput)
        let text = try log(folder)
        #expect(text.contains("out 49\n") && text.contains("err 49\n") && text.contains("holding\n"), "\(text)")
    }

    @Test("bounded: TIPI_OUTPUT_LOG_MB=1 stops the file at 1 MB with a note, and the program's output is all there")
    func bounded() throws {
        let result = try Executables.run(
            try tool("TipiFixture"), ["console", "--bytes", "3000000"], environment: environment.merging(["TIPI_OUTPUT_LOG_MB": "1"]) { $1 },
            removing: clean)
        #expect(result.status == 0)
        let (_, folder) = try runLine(result.standardOutput)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: folder + "/output.log")[.size] as? NSNumber)
        #expect(size.intValue <= (1 << 20) + 300)
        #expect(try log(folder).hasSuffix("reached its limit of 1 MB (TIPI_OUTPUT_LOG_MB); later output is not kept here]\n"))
        #expect(result.standardOutput.utf8.count > 3_000_000)
        let off = try Executables.run(
            try tool("TipiFixture"), ["console"], environment: environment.merging(["TIPI_OUTPUT_LOG_MB": "0"]) { $1 }, removing: clean)
        let (offID, offFolder) = try runLine(off.standardOutput)
        #expect(!FileManager.default.fileExists(atPath: offFolder + "/output.log"))
        let noLog = try Executables.run(try tool("tipi"), ["runs", "log", offID], environment: environment, removing: clean)
        #expect(noLog.status == 1)
        #expect(noLog.standardError.contains("run \(offID) kept no console output (no output.log in \(offFolder))"), "\(noLog.standardError)")
        let garbage = try Executables.run(
            try tool("TipiFixture"), ["console"], environment: environment.merging(["TIPI_OUTPUT_LOG_MB": "nan"]) { $1 }, removing: clean)
        #expect(garbage.standardError.contains("tipi: warning: TIPI_OUTPUT_LOG_MB=nan is not a whole number from 0 to 1048576; using 100"))
    }

    @Test("a script ends with one line on stderr naming the run, its folder and the command; TIPI_QUIET=1 leaves it out")
    func endLine() throws {
        let result = try Executables.run(
            try tool("TipiFixture"), ["log", "--steps", "3", "--name", "line-test"], environment: environment, removing: clean + ["TIPI_QUIET"])
        #expect(result.status == 0)
        let (id, folder) = try runLine(result.standardOutput)
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 1, "\(result.standardError)")
        #expect(lines.first?.hasPrefix("tipi: run line-test (\(id)) finished: \(folder) (console output in output.log) · `") == true, "\(result.standardError)")
        #expect(lines.first?.hasSuffix("runs show \(id)`") == true, "\(result.standardError)")
        let quiet = try Executables.run(
            try tool("TipiFixture"), ["log", "--steps", "3"], environment: environment.merging(["TIPI_QUIET": "1"]) { $1 }, removing: clean)
        #expect(quiet.standardError.isEmpty, "\(quiet.standardError)")
        let garbage = try Executables.run(
            try tool("TipiFixture"), ["log", "--steps", "3"], environment: environment.merging(["TIPI_QUIET": "maybe"]) { $1 }, removing: clean)
        #expect(garbage.standardError.contains("tipi: warning: TIPI_QUIET=maybe is not 1 or 0"), "\(garbage.standardError)")
        #expect(garbage.standardError.contains("tipi: run "))
    }
}

extension ConsoleOutputTests {
    @Test("on a terminal with live bars: the bars stay on the terminal, out of output.log; the prints are in both")
    func terminalWithBars() throws {
        let fixture = try tool("TipiFixture")
        // `script` runs the fixture on a pseudo-terminal (standard output and error both a terminal).
        let result = try Executables.run(
            "/usr/bin/script", ["-q", "-e", "-c", "\(fixture) console --lines 2 --bar 1", "/dev/null"],
            environment: environment.merging(["COLUMNS": "80"]) { $1 }, removing: clean)
        #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
        let terminal = result.standardOutput
        #expect(terminal.contains("it/s"), "the bar was drawn live on the terminal: \(terminal)")
        // The `run ID FOLDER` line, wherever a bar frame left the cursor.
        let line = try #require(
            terminal.replacingOccurrences(of: "\r", with: "\n").split(separator: "\n").compactMap { line in
                line.range(of: "run ").map { String(line[$0.lowerBound...]) }
            }.first { $0.split(separator: " ").count == 3 }, "\(terminal)")
        let (_, folder) = try runLine(line)
        let text = try log(folder)
        #expect(text.contains("out 1\n") && text.contains("err 1\n"), "\(text)")
        #expect(!text.contains("it/s") && !text.contains("bar "), "no bar in the log: \(text)")
        #expect(!text.contains("\u{1B}"))
    }

    @Test("into a pipe (`2>&1 | cat`): one pipe for both streams, so output.log has the lines in the order the reader got them")
    func intoAPipe() throws {
        let fixture = try tool("TipiFixture")
        let result = try Executables.run(
            "/bin/sh", ["-c", "'\(fixture)' console --lines 3 2>&1 | cat"], environment: environment, removing: clean)
        #expect(result.status == 0)
        let (_, folder) = try runLine(result.standardOutput)
        func plain(_ text: String) -> [Substring] {
            text.split(separator: "\n").filter { $0.hasPrefix("out ") || $0.hasPrefix("err ") }
        }
        let text = try log(folder)
        #expect(plain(text).count == 6, "\(text)")
        #expect(plain(text) == plain(result.standardOutput), "\(text)\n---\n\(result.standardOutput)")
    }

    @Test("a pipeline program keeps its console in its run's output.log, and prints no end line of its own beside its summary")
    func pipelineProgram() throws {
        let fixture = try #require(Executables.path(of: "TipiPipelineFixture"), "TipiPipelineFixture was not built")
        let folder = URL(fileURLWithPath: store).appendingPathComponent("pipeline")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let journal = folder.appendingPathComponent("journal.txt").path
        let config = folder.appendingPathComponent("p.toml")
        // The pipeline of the pipeline-program tests.
        try PipelineProgramTests().config(journal: journal).write(to: config, atomically: true, encoding: .utf8)
        let result = try Executables.run(
            fixture, ["run", config.path], environment: environment.merging(["TIPI_PROGRESS": "plain"]) { $1 }, removing: clean + ["TIPI_QUIET"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("prepare seed=42 points=40"))
        #expect(!result.standardError.contains("tipi: run "), "\(result.standardError)")
        let logs = (FileManager.default.enumerator(atPath: store)?.allObjects as? [String] ?? []).filter { $0.hasSuffix("/output.log") }
        #expect(logs.count == 1, "\(logs)")
        let text = try String(contentsOfFile: store + "/" + (logs.first ?? ""), encoding: .utf8)
        #expect(text.contains("prepare seed=42 points=40\n"), "\(text)")
        #expect(text.contains("train epochs=2"), "\(text)")
        #expect(text.contains("export format=json"), "\(text)")
    }
}
