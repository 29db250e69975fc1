import Foundation
import Testing
import TipiTestSupport

/// `tipi inspect/validate/run` of a package that is not a pipeline program refuse without building or
/// running it (its training would otherwise run); `tipi add` says so at once.
@Suite("Packages that are not pipelines")
struct PipelineCheckTests {
    let temporaryHome = TemporaryHome(label: "check")
    var home: URL { temporaryHome.url }

    func tipi(_ arguments: [String]) throws -> Executables.Result {
        try temporaryHome.tipi(arguments, environment: ["TIPI_CONFIG_DIR": home.appendingPathComponent("config").path])
    }

    /// A package with one executable, `Trainer`, whose main prints TRAINING and writes a marker file.
    func package(manifestExtra: String, main: String) throws -> URL {
        let root = home.appendingPathComponent("Trainer")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("Sources/Trainer"), withIntermediateDirectories: true)
        let manifest = """
            // swift-tools-version: 6.0
            import PackageDescription
            let package = Package(name: "Trainer", \(manifestExtra)targets: [.executableTarget(name: "Trainer")])
            """
        try manifest.write(to: root.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        try main.write(to: root.appendingPathComponent("Sources/Trainer/main.swift"), atomically: true, encoding: .utf8)
        return root
    }

    @Test("no dependency on TipiPipeline: add notes it; inspect, validate and run refuse before building")
    func noTipiPipeline() throws {
        let root = try package(manifestExtra: "", main: "print(\"TRAINING\")\n")
        let added = try tipi(["add", root.path, "--name", "trainer"])
        #expect(added.status == 0, "\(added.standardError)")
        #expect(added.standardOutput.contains("note: \(root.path)/Package.swift does not depend on TipiPipeline"), "\(added.standardOutput)")
        for command in ["inspect", "validate", "run"] {
            let arguments = command == "inspect" ? [command, "trainer"] : [command, "trainer", "-c", root.appendingPathComponent("Package.swift").path]
            let result = try tipi(arguments)
            #expect(result.status == 1, "\(command): \(result.standardError)")
            #expect(result.standardError.contains("does not depend on TipiPipeline, so its executable 'Trainer' is not a pipeline program and is not run"))
            #expect(!result.standardError.contains("building"), "nothing is built")
            #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent(".build").path))
        }
    }

    @Test("depends on TipiPipeline but the executable declares no PipelineMain: refused, not run")
    func noPipelineMain() throws {
        let root = try package(
            manifestExtra: #"dependencies: [.package(path: "../tipi")], /* uses TipiPipeline */ "#, main: "import TipiPipeline\nprint(\"TRAINING\")\n")
        #expect(try tipi(["add", root.path, "--name", "trainer"]).status == 0)
        let result = try tipi(["inspect", "trainer"])
        #expect(result.status == 1)
        #expect(result.standardError.contains("the executable 'Trainer' (\(root.path)/Sources/Trainer) declares no PipelineMain"), "\(result.standardError)")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent(".build").path))
    }

    @Test("a build that fails shows SwiftPM's messages (hidden on success), and one error line")
    func failedBuild() throws {
        let root = try package(manifestExtra: "", main: "// a PipelineMain, one day\nlet broken: Int = \"not a number\"\n")
        try "// TipiPipeline\n".appendingToManifest(of: root)
        #expect(try tipi(["add", root.path, "--name", "trainer"]).status == 0)
        let result = try Executables.run(
            try #require(Executables.path(of: "tipi")), ["inspect", "trainer"],
            environment: ["HOME": home.path, "TIPI_CONFIG_DIR": home.appendingPathComponent("config").path],
            removing: ["TIPI_BUILD_CONFIGURATION", "TIPI_BUILD_PATH"], workingDirectory: home.path, timeout: 600)
        #expect(result.status == 1)
        #expect(result.standardError.hasPrefix("tipi: building trainer (debug) — the first build compiles swift-syntax, a few minutes\n"))
        #expect(result.standardError.contains("main.swift:2:19: error: cannot convert value of type 'String'"), "\(result.standardError)")
        #expect(result.standardError.contains("Error: building trainer failed (swift build exited with 1); the compiler's messages are above"))
    }

    @Test("a build configuration that is neither debug nor release, or both flags: one error line")
    func buildConfiguration() throws {
        let root = try package(
            manifestExtra: "", main: "import TipiPipeline\n@main struct Trainer: PipelineMain { static let processes: [any PipelineProcess.Type] = [] }\n")
        try "// TipiPipeline\n".appendingToManifest(of: root)
        #expect(try tipi(["add", root.path, "--name", "trainer"]).status == 0)
        let path = try #require(Executables.path(of: "tipi"))
        let bogus = try Executables.run(
            path, ["inspect", "trainer"],
            environment: ["HOME": home.path, "TIPI_CONFIG_DIR": home.appendingPathComponent("config").path, "TIPI_BUILD_CONFIGURATION": "relase"],
            workingDirectory: home.path)
        #expect(bogus.status == 1)
        #expect(bogus.standardError.contains("TIPI_BUILD_CONFIGURATION=relase is not a build configuration; use debug or release"), "\(bogus.standardError)")
        let both = try tipi(["inspect", "trainer", "--debug", "--release"])
        #expect(both.status == 64)
        #expect(both.standardError.contains("pass --debug or --release, not both"))
    }
}

extension String {
    fileprivate func appendingToManifest(of root: URL) throws {
        let url = root.appendingPathComponent("Package.swift")
        try (try String(contentsOf: url, encoding: .utf8) + "\n" + self).write(to: url, atomically: true, encoding: .utf8)
    }
}
