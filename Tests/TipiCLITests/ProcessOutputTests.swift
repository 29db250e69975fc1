import Foundation
import Testing
import TipiTestSupport

/// The real `tipi` executable with its standard error going to a file, as in a Slurm job or CI.
@Suite("Progress output of a real process")
struct ProcessOutputTests {
    static let tipi = Executables.path(of: "tipi")

    func requireTipi() throws -> String {
        try #require(Self.tipi, "the tipi executable was not built: run `swift build` before `swift test`")
    }

    @Test("stderr to a file: plain lines only, no \\r, no escape sequences, final totals")
    func notATerminal() throws {
        let result = try Executables.run(
            try requireTipi(), ["demo", "--epochs", "2", "--batches", "12", "--batch-time", "0.001"])
        #expect(result.status == 0)
        let errors = result.standardError
        #expect(!errors.contains("\r"))
        #expect(!errors.contains("\u{1B}"))
        let lines = errors.split(separator: "\n").map(String.init)
        #expect(lines.first == "Epochs   0% 0/2 [00:00<?, ? epoch/s]")
        #expect(lines.contains { $0.hasPrefix("Epochs 100% 2/2 [") })
        #expect(lines.contains { $0.hasPrefix("Download 100% 48.0Mi/48.0Mi [") && $0.hasSuffix("MiB/s]") })
        #expect(lines.contains { $0.hasPrefix("Stream (unknown length) 24 it [") })
        #expect(lines.filter { $0.contains(" info demo: epoch ") }.count == 2)
        #expect(!lines.contains { $0.hasPrefix("Training") })  // short inner bars leave nothing in a log
        #expect(result.standardOutput.contains("demo finished: final loss"))
    }

    @Test("COLUMNS garbage or absurd, bars drawn live into a file: one warning, width 80, no crash")
    func badColumns() throws {
        for columns in ["nan", "99999999999", "-3"] {
            let result = try Executables.run(
                try requireTipi(), ["demo", "--epochs", "1", "--batches", "3", "--batch-time", "0.001"],
                environment: ["TIPI_PROGRESS": "tty", "COLUMNS": columns], removing: ["NO_COLOR"], timeout: 60)
            #expect(result.signal == nil && result.status == 0, "COLUMNS=\(columns): \(result.standardError.suffix(500))")
            let warning = "tipi: warning: COLUMNS=\(columns) is not a whole number from 1 to 10000; using 80"
            #expect(result.standardError.components(separatedBy: warning).count == 2, "COLUMNS=\(columns)")
        }
    }

    @Test("TIPI_PROGRESS=off: no bars at all, log lines still there")
    func off() throws {
        let result = try Executables.run(
            try requireTipi(), ["demo", "--epochs", "1", "--batches", "5", "--batch-time", "0"],
            environment: ["TIPI_PROGRESS": "off"], removing: [])
        #expect(result.status == 0)
        #expect(!result.standardError.contains("%"))
        #expect(result.standardError.contains("info demo: epoch 1 done"))
    }

    @Test("TIPI_PROGRESS=tty forces live drawing even into a file")
    func forcedTTY() throws {
        let result = try Executables.run(
            try requireTipi(), ["demo", "--epochs", "1", "--batches", "5", "--batch-time", "0"],
            environment: ["TIPI_PROGRESS": "tty", "NO_COLOR": "1"], removing: [])
        #expect(result.status == 0)
        #expect(result.standardError.contains("\u{1B}[K"))
        #expect(result.standardError.contains("✔ Epochs 100%|"))
        #expect(!result.standardError.contains("\u{1B}[36m"))
    }

    @Test("a bad option exits non-zero and says what is wrong")
    func badOption() throws {
        let result = try Executables.run(try requireTipi(), ["demo", "--bogus"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("Unknown option '--bogus'"))
        let version = try Executables.run(try requireTipi(), ["--version"])
        #expect(version.standardOutput == "0.1.0\n")
    }
}
