import ArgumentParser
import Tipi

/// The `tipi` command-line tool. Only commands that work are listed in `--help`.
public struct TipiCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tipi",
        abstract: "Progress bars, experiment tracking and pipelines for research code in Swift.",
        discussion: """
            Start with a plain Swift program and add one concept at a time: progress bars around loops, \
            experiment logging, device selection, pipelines. `tipi create NAME` starts a pipeline project; \
            `tipi runs` shows what was recorded; `tipi demo` shows the progress bars.
            """,
        subcommands: [
            CreateCommand.self, AddCommand.self, ListCommand.self, RunCommand.self, SweepCommand.self, ValidateCommand.self, InspectCommand.self,
            RemoveCommand.self, CleanCommand.self, RunsCommand.self, SweepsCommand.self, UICommand.self, ReportCommand.self, DevicesCommand.self,
            InfoCommand.self, DemoCommand.self,
        ]
    )

    /// `--version`, declared here rather than as the configuration's `version` so that only `tipi --help`
    /// shows it (ArgumentParser shows a configured version in every subcommand's help).
    @Flag(help: "Show the version.")
    var version = false

    public init() {}

    /// Prints the version for `--version`; runs before any subcommand.
    public func validate() throws {
        if version { throw CleanExit.message(Tipi.version) }
    }
}
