import ArgumentParser
import Testing

@testable import TipiCLI

@Suite("tipi --help and friends")
struct HelpTests {
    @Test("--help lists exactly the commands that exist")
    func help() {
        let help = TipiCommand.helpMessage(columns: 100)
        #expect(
            help == """
                OVERVIEW: Progress bars, experiment tracking and pipelines for research code in Swift.

                Start with a plain Swift program and add one concept at a time: progress bars around loops,
                experiment logging, device selection, pipelines. `tipi demo` shows the progress bars.

                USAGE: tipi <subcommand>

                OPTIONS:
                  --version               Show the version.
                  -h, --help              Show help information.

                SUBCOMMANDS:
                  info                    Show versions, paths and the environment overrides in effect.
                  demo                    Show the progress bars on a simulated training run.

                  See 'tipi help <subcommand>' for detailed help.
                """)
    }

    @Test("every listed command has its own help")
    func subcommandHelp() {
        for command in TipiCommand.configuration.subcommands {
            let help = TipiCommand.helpMessage(for: command, columns: 100)
            #expect(help.contains("USAGE: tipi \(command.configuration.commandName ?? "")"))
        }
        #expect(DemoCommand.helpMessage(columns: 100).contains("--batch-time <batch-time>"))
    }

    @Test("info shows the overrides in effect")
    func info() {
        let lines = InfoCommand.report(environment: ["TIPI_PROGRESS": "plain", "NO_COLOR": "1"])
        #expect(lines.first?.hasPrefix("tipi ") == true)
        #expect(lines.contains("  TIPI_PROGRESS=plain"))
        #expect(lines.contains("  NO_COLOR=1"))
        #expect(InfoCommand.report(environment: [:]).contains("  (none)"))
    }

    @Test("bad options are refused with a clear message")
    func badOptions() throws {
        #expect(throws: (any Error).self) { try TipiCommand.parseAsRoot(["demo", "--epochs", "0"]) }
        #expect(throws: (any Error).self) { try TipiCommand.parseAsRoot(["bogus"]) }
    }
}
