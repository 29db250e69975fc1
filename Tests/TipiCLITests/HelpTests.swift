import ArgumentParser
import Testing
import TipiTestSupport

@testable import TipiCLI

@Suite("tipi --help and friends")
struct HelpTests {
    @Test("--help lists exactly the commands that exist, as in the snapshot")
    func help() {
        let help = TipiCommand.helpMessage(columns: 100)
        #expect(Snapshot.verify(help, named: "tipi-help") == nil)
        let names = TipiCommand.configuration.subcommands.compactMap { $0.configuration.commandName }
        #expect(names == ["create", "add", "list", "run", "sweep", "validate", "inspect", "remove", "clean", "runs", "sweeps", "ui", "report", "devices", "info", "demo"])
        for name in names { #expect(help.contains("  \(name) ")) }
    }

    @Test("each command's help, as in the snapshots")
    func commandHelp() {
        for command in TipiCommand.configuration.subcommands {
            let name = command.configuration.commandName ?? ""
            #expect(Snapshot.verify(TipiCommand.helpMessage(for: command, columns: 100), named: "tipi-\(name)-help") == nil)
        }
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
