import Foundation
import Testing
import Tipi
import TipiTestSupport

@testable import TipiCLI

/// What `tipi create` writes: an explicit Tipi dependency (said aloud when it is this tool's source), a
/// version pin for git, a committed `Package.resolved`, an UpperCamelCase type, seeded random numbers.
@Suite("tipi create: the scaffold")
struct ScaffoldTests {
    let temporaryHome = TemporaryHome(label: "scaffold")
    var home: URL { temporaryHome.url }

    func create(_ arguments: [String], environment: [String: String] = [:]) throws -> Executables.Result {
        try temporaryHome.tipi(["create"] + arguments + ["--no-link"], environment: environment)
    }

    func file(_ project: String, _ path: String) throws -> String {
        try String(contentsOf: home.appendingPathComponent(project).appendingPathComponent(path), encoding: .utf8)
    }

    @Test("the default dependency is this tool's source, and create says so in one line")
    func defaultDependencyIsSaid() throws {
        let result = try create(["myexp"])
        #expect(result.status == 0, "\(result.standardError)")
        let said = result.standardOutput.split(separator: "\n").filter { $0.hasPrefix("depending on Tipi at ") }
        #expect(said.count == 1)
        let manifest = try file("myexp", "Package.swift")
        let source = try #require(ProjectPaths.tipiSource?.path)
        #expect(manifest.contains(".package(path: \"\(source)\")"))
        #expect(said.first?.contains(source) == true)
    }

    @Test("--tipi and TIPI_PACKAGE choose the dependency, silently; a git URL is pinned to this version")
    func explicitDependency() throws {
        let byOption = try create(["Remote", "--tipi", "https://example.com/org/tipi.git"])
        #expect(byOption.status == 0, "\(byOption.standardError)")
        #expect(!byOption.standardOutput.contains("depending on Tipi"))
        let manifest = try file("Remote", "Package.swift")
        #expect(manifest.contains(".package(url: \"https://example.com/org/tipi.git\", from: \"\(Tipi.version)\")"))
        #expect(!manifest.contains("branch:"))

        let byVariable = try create(["Local"], environment: ["TIPI_PACKAGE": "/opt/tipi"])
        #expect(byVariable.status == 0, "\(byVariable.standardError)")
        #expect(!byVariable.standardOutput.contains("depending on Tipi"))
        #expect(try file("Local", "Package.swift").contains(".package(path: \"/opt/tipi\")"))
    }

    @Test("an application commits Package.resolved: .gitignore keeps only build products and runs out")
    func gitignore() throws {
        #expect(try create(["myexp", "--tipi", "/opt/tipi"]).status == 0)
        let ignored = try file("myexp", ".gitignore").split(separator: "\n").map(String.init)
        #expect(!ignored.contains("Package.resolved"))
        #expect(ignored.contains(".build/"))
        #expect(ignored.contains("tipi-runs/"))
    }

    @Test("the pipeline type is UpperCamelCase: myexp → MyexpPipeline, my_exp → MyExpPipeline")
    func typeName() throws {
        #expect(ProjectTemplate(name: "myexp", tipi: "/t").typeName == "MyexpPipeline")
        #expect(ProjectTemplate(name: "my_exp", tipi: "/t").typeName == "MyExpPipeline")
        #expect(ProjectTemplate(name: "SpiralClassifier", tipi: "/t").typeName == "SpiralClassifierPipeline")
        #expect(ProjectTemplate(name: "_x2", tipi: "/t").typeName == "X2Pipeline")
        #expect(try create(["my_exp", "--tipi", "/opt/tipi"]).status == 0)
        let main = try file("my_exp", "Sources/my_exp/MyExpPipeline.swift")
        #expect(main.contains("struct MyExpPipeline: PipelineMain {"))
        #expect(!main.contains("my_expPipeline"))
    }

    @Test("the template's random numbers come from a seed param in the config")
    func seeded() throws {
        #expect(try create(["Seeded", "--tipi", "/opt/tipi"]).status == 0)
        let points = try file("Seeded", "Sources/Seeded/Points.swift")
        #expect(!points.contains("SystemRandomNumberGenerator"))
        #expect(points.contains("SeededRandomNumberGenerator(seed: UInt64(truncatingIfNeeded: seed ?? 0))"))
        #expect(points.contains("case count, noise, seed"))
        #expect(try file("Seeded", "configs/pipeline.toml").contains("seed = 0"))
    }

    @Test("the generated sources type-check against this build's TipiPipeline and macro")
    func typeChecks() throws {
        #expect(try create(["my_exp", "--tipi", "/opt/tipi"]).status == 0)
        let plugin = try #require(Executables.path(of: "TipiMacros-tool"), "build first: swift build")
        let products = URL(fileURLWithPath: plugin).deletingLastPathComponent()
        let modules = products.appendingPathComponent("Modules").path
        // Tipi's C modules (its HTTP through libcurl, CRC-32C), found as SwiftPM shows them to the targets that
        // depend on them.
        let cModuleMaps = ["CTipiHTTP", "CTipiCRC"].flatMap {
            ["-Xcc", "-fmodule-map-file=" + products.appendingPathComponent("\($0).build/module.modulemap").path]
        }
        let sources = home.appendingPathComponent("my_exp/Sources/my_exp")
        let files = try FileManager.default.contentsOfDirectory(atPath: sources.path).filter { $0.hasSuffix(".swift") }.sorted()
        #expect(files == ["MyExpPipeline.swift", "Points.swift", "Training.swift"])
        let result = try Executables.run(
            "/usr/bin/env",
            ["swiftc", "-typecheck", "-parse-as-library", "-module-name", "my_exp", "-I", modules] + cModuleMaps
                + ["-load-plugin-executable", "\(plugin)#TipiMacros"] + files.map { sources.appendingPathComponent($0).path },
            timeout: 300)
        #expect(result.status == 0, "\(result.standardError)")
    }
}
