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
        version: Tipi.version,
        subcommands: [
            CreateCommand.self, AddCommand.self, ListCommand.self, RunCommand.self, ValidateCommand.self, InspectCommand.self,
            RemoveCommand.self, CleanCommand.self, RunsCommand.self, DevicesCommand.self, InfoCommand.self, DemoCommand.self,
        ]
    )

    public init() {}
}
