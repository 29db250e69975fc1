import ArgumentParser
import Tipi

/// The `tipi` command-line tool. Only commands that work are listed in `--help`.
public struct TipiCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tipi",
        abstract: "Progress bars, experiment tracking and pipelines for research code in Swift.",
        discussion: """
            Start with a plain Swift program and add one concept at a time: progress bars around loops, \
            experiment logging, device selection, pipelines. `tipi demo` shows the progress bars; `tipi devices` the devices.
            """,
        version: Tipi.version,
        subcommands: [InfoCommand.self, DemoCommand.self, RunsCommand.self, DevicesCommand.self]
    )

    public init() {}
}
