import Foundation
import Testing
import TipiTestSupport

/// The newcomer's path (issue #13): `scripts/install.sh`, and every `tipi …` command Tipi prints works as
/// printed, whether or not `tipi` is on PATH. Real processes, with PATH set for each.
@Suite("Install, and printed commands that work as printed")
struct NewcomerPathTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("newcomer-\(UUID().uuidString)")
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A PATH with the system folders (and `swift`'s), but no `tipi`.
    static var pathWithoutTipi: String {
        var folders = ["/usr/bin", "/bin"]
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        where FileManager.default.isExecutableFile(atPath: folder + "/swift") && !FileManager.default.isExecutableFile(atPath: folder + "/tipi") {
            folders.insert(folder, at: 0)
        }
        return folders.joined(separator: ":")
    }

    func tipi() throws -> String { try #require(Executables.path(of: "tipi"), "tipi was not built: run `swift build`") }
    func fixture() throws -> String { try #require(Executables.path(of: "TipiPipelineFixture"), "run `swift build`") }

    /// Runs the fixture pipeline (one process) in `directory` with `path`; returns the "look at it" line's commands.
    func lookAtIt(path: String, in directory: URL) throws -> (id: String, commands: String) {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config = folder.appendingPathComponent("ping.toml")
        try "[processes.ping]\ntype = \"ping\"\n".write(to: config, atomically: true, encoding: .utf8)
        let result = try Executables.run(
            try fixture(), ["run", config.path], environment: ["PATH": path, "TIPI_DIR": folder.appendingPathComponent("runs").path],
            removing: ["TIPI_PROGRESS", "NO_COLOR", "TIPI_BACKENDS"], workingDirectory: directory.path)
        #expect(result.status == 0, "\(result.standardError)")
        let runLine = try #require(result.standardOutput.split(separator: "\n").last { $0.hasPrefix("run ") })
        let hint = try #require(result.standardOutput.split(separator: "\n").first { $0.hasPrefix("look at it:") }, "\(result.standardOutput)")
        return (String(runLine.split(separator: " ")[1]), hint.dropFirst("look at it:".count).trimmingCharacters(in: .whitespaces))
    }

    @Test("tipi not on PATH, outside the package: the absolute path of the built tool, which runs as printed")
    func absolutePathHint() throws {
        let (id, commands) = try lookAtIt(path: Self.pathWithoutTipi, in: FileManager.default.temporaryDirectory)
        let tool = try tipi()
        #expect(commands == "\(tool) runs show \(id)")
        let shown = try Executables.run(
            "/bin/sh", ["-c", commands], environment: ["PATH": Self.pathWithoutTipi, "TIPI_DIR": folder.appendingPathComponent("runs").path])
        #expect(shown.status == 0, "\(shown.standardError)")
        #expect(shown.standardOutput.contains(id))
    }

    @Test("tipi on PATH: plain `tipi`, which runs as printed")
    func plainHint() throws {
        let bin = folder.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: bin.appendingPathComponent("tipi").path, withDestinationPath: try tipi())
        let path = bin.path + ":" + Self.pathWithoutTipi
        let (id, commands) = try lookAtIt(path: path, in: FileManager.default.temporaryDirectory)
        #expect(commands == "tipi runs show \(id)")
        let shown = try Executables.run("/bin/sh", ["-c", commands], environment: ["PATH": path, "TIPI_DIR": folder.appendingPathComponent("runs").path])
        #expect(shown.status == 0, "\(shown.standardError)")
        #expect(shown.standardOutput.contains(id))
    }

    @Test("tipi not on PATH, in the Tipi package (where the README's commands run): `swift run tipi`")
    func swiftRunHint() throws {
        let (id, commands) = try lookAtIt(path: Self.pathWithoutTipi, in: Self.packageRoot)
        #expect(commands == "swift run tipi runs show \(id)")
    }

    @Test("the tool's own suggestions name the tool as it was called")
    func errorSuggestion() throws {
        let tool = try tipi()
        let result = try Executables.run(
            tool, ["runs", "show", "no-such-run"], environment: ["PATH": Self.pathWithoutTipi, "TIPI_DIR": folder.appendingPathComponent("runs").path],
            workingDirectory: FileManager.default.temporaryDirectory.path)
        #expect(result.status != 0)
        #expect(result.standardError.contains("`\(tool) runs` lists the runs"), "\(result.standardError)")
    }

    @Test("scripts/install.sh: builds, copies into PREFIX/bin, says how to put it on PATH; again, it replaces it")
    func install() throws {
        let prefix = folder.appendingPathComponent("prefix")
        let script = Self.packageRoot.appendingPathComponent("scripts/install.sh").path
        let scratch = Self.packageRoot.appendingPathComponent(".build-e2e/install").path
        let arguments = [script, "--debug", "--prefix", prefix.path, "--scratch-path", scratch]
        let first = try Executables.run("/bin/sh", arguments, environment: ["PATH": Self.pathWithoutTipi, "SHELL": "/bin/bash"], timeout: 900)
        #expect(first.status == 0, "\(first.standardError)")
        let installed = prefix.appendingPathComponent("bin/tipi").path
        #expect(first.standardOutput.contains("installed \(installed) ("))
        #expect(first.standardOutput.contains("\(prefix.path)/bin is not on PATH; add it to your shell profile (~/.bashrc)"))
        #expect(first.standardOutput.contains("  export PATH=\"\(prefix.path)/bin:$PATH\""))
        #expect(!first.standardOutput.contains("Compiling"), "SwiftPM's log is shown only on failure")
        let version = try Executables.run(installed, ["--version"])
        #expect(version.status == 0)

        let path = prefix.path + "/bin:" + Self.pathWithoutTipi
        let again = try Executables.run("/bin/sh", arguments, environment: ["PATH": path], timeout: 900)
        #expect(again.status == 0, "\(again.standardError)")
        #expect(again.standardOutput.contains("\(prefix.path)/bin is on PATH: run `tipi --help`"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: prefix.appendingPathComponent("bin").path) == ["tipi"])

        let bad = try Executables.run("/bin/sh", [script, "--prefix"], environment: ["PATH": path])
        #expect(bad.status == 64)
        #expect(bad.standardError.contains("--prefix needs a folder"))
    }
}
