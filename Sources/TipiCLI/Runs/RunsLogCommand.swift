import ArgumentParser
import Foundation
import Tipi

/// `tipi runs log RUN`: prints the run's kept console output (`output.log`).
struct RunsLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Print a run's console output (what it wrote to stdout and stderr, kept in output.log).")

    @OptionGroup var store: StoreOptions

    @Argument(help: "The run: its id, an id prefix, its folder name or its name.")
    var runName: String

    func run() throws {
        let stored = try store.find(runName)
        guard let log = stored.outputLog else {
            throw CLIError(
                TerminalText.printable(
                    "run \(stored.metadata.id) kept no console output (no output.log in \(stored.folder.path)): runs started "
                        + "by logger.start or a pipeline keep it, unless TIPI_OUTPUT_LOG_MB=0"))
        }
        guard let handle = FileHandle(forReadingAtPath: log.path) else {
            throw CLIError(TerminalText.printable("cannot read \(log.path)"))
        }
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            FileHandle.standardOutput.write(chunk)
        }
    }
}
