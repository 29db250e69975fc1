import Foundation
import Synchronization

/// The last line of a level-2 script, on standard error, like W&B's "View run …": the run, its status,
/// its folder and the command that shows it. `TIPI_QUIET=1` leaves it out; a pipeline prints its own
/// summary instead (its runs are not announced here), and a test runner's process says nothing.
enum RunEndLine {
    private static let announced = Mutex<Set<String>>([])

    /// Announces run `id` when it ends (``ExperimentLogger/start(project:name:config:tags:notes:group:backends:store:)`` calls this).
    static func register(_ id: String) {
        announced.withLock { _ = $0.insert(id) }
    }

    /// Whether `TIPI_QUIET` asks for silence: `1`, `true`, `yes`, `on`; `0`, `false`, `no`, `off` and empty
    /// do not; anything else warns once and does not.
    static var quiet: Bool {
        guard let text = Environment.value("TIPI_QUIET")?.trimmingCharacters(in: .whitespaces).lowercased(), !text.isEmpty
        else { return false }
        if ["1", "true", "yes", "on"].contains(text) { return true }
        if ["0", "false", "no", "off"].contains(text) { return false }
        Diagnostics.warnOnce(
            key: "environment:TIPI_QUIET",
            "TIPI_QUIET=\(TerminalText.excerpt(text, limit: 40)) is not 1 or 0 (true/false, yes/no); the end-of-run line is printed")
        return false
    }

    /// The line for a run that ended.
    static func line(id: String, name: String, status: RunStatus, folder: URL, outputLog: Bool) -> String {
        let directory = FileManager.default.currentDirectoryPath
        var path = folder.path
        if path.hasPrefix(directory + "/") { path = String(path.dropFirst(directory.count + 1)) }
        let log = outputLog ? " (console output in \(ConsoleCapture.fileName))" : ""
        return "tipi: run \(name) (\(id)) \(status.rawValue): \(ToolCommand.quoted(path))\(log) · `\(ToolCommand.tipi("runs show \(id)"))`"
    }

    /// Says the line for `run` if it was announced (once).
    static func end(_ run: Run, status: RunStatus) {
        // Not inside a test runner, whose warning sinks are shared by tests running at the same time.
        guard announced.withLock({ $0.remove(run.id) != nil }), !quiet, !ConsoleCapture.insideTestRunner else { return }
        let log = FileManager.default.fileExists(atPath: run.folder.appendingPathComponent(ConsoleCapture.fileName).path)
        Diagnostics.emit(TerminalText.printable(line(id: run.id, name: run.name, status: status, folder: run.folder, outputLog: log)))
    }
}

extension Run {
    /// Keeps the program's console output in `output.log` in the run's folder until the run finishes (a
    /// level-2 run started by `logger` and a pipeline's run do this; only one run at a time keeps it).
    package func keepConsoleOutput() {
        _ = ConsoleCapture.start(runID: id, folder: folder)
    }

    /// After `finish`: the console is handed back and, for a script's run, the end line is said.
    func endOfRun(status: RunStatus) {
        ConsoleCapture.stop(runID: id)
        RunEndLine.end(self, status: status)
    }
}
