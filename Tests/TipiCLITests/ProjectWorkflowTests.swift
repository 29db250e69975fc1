import Foundation
import Testing
import TipiTestSupport

/// The `tipi` tool end to end, in a temporary HOME: create → add → list → validate → run → runs show.
/// The project's build products live in `.build-e2e` (reused between local runs; CI builds them once).
@Suite("Project workflow with the tipi tool")
struct ProjectWorkflowTests {
    let temporaryHome = TemporaryHome()
    var home: URL { temporaryHome.url }
    static let buildPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build-e2e").path

    func tipi(_ arguments: [String], in directory: URL? = nil) throws -> Executables.Result {
        try temporaryHome.tipi(
            arguments, environment: ["TIPI_BUILD_PATH": Self.buildPath, "TIPI_PROGRESS": "plain"], in: directory,
            timeout: 900)
    }

    @Test("create → add → list → validate → run → runs show")
    func workflow() throws {
        try FileManager.default.createDirectory(at: home.appendingPathComponent("work"), withIntermediateDirectories: true)
        let work = home.appendingPathComponent("work")

        let refused = try tipi(["create", "2fast"], in: work)
        #expect(refused.status != 0)
        #expect(refused.standardError.contains("'2fast' is not a Swift identifier"))

        let created = try tipi(["create", "Spirals", "--no-link"], in: work)
        #expect(created.status == 0, "\(created.standardError)")
        #expect(created.standardOutput.contains("Sources/Spirals/Training.swift"))

        let added = try tipi(["add", work.appendingPathComponent("Spirals").path, "--name", "spirals"], in: work)
        #expect(added.status == 0, "\(added.standardError)")
        #expect(added.standardOutput.hasPrefix("linked 'spirals' → "))
        #expect(try tipi(["add", work.appendingPathComponent("Spirals").path, "--name", "spirals"], in: work).status != 0)

        let list = try tipi(["list"], in: work)
        #expect(list.standardOutput.split(separator: "\n").last?.hasPrefix("spirals  ready   ✓") == true, "\(list.standardOutput)")

        let validate = try tipi(["validate", "spirals"], in: work)
        #expect(validate.status == 0, "\(validate.standardError)")
        #expect(validate.standardOutput.contains("is valid: 1 permanence, 2 processes (training → evaluation)"))
        // Debug by default (what `swift run` in the project builds), one line, no SwiftPM log on success.
        #expect(validate.standardError.hasPrefix("tipi: building spirals (debug)"), "\(validate.standardError)")
        #expect(!validate.standardError.contains("Compiling") && !validate.standardError.contains("Build complete"))

        let bad = try tipi(["validate", "spirals", "--set", "processes.training.params.epochs=many"], in: work)
        #expect(bad.status == 2)
        #expect(bad.standardError.contains("error[INS001]: --set processes.training.params.epochs=many"))

        let run = try tipi(["run", "spirals", "--set", "processes.training.params.epochs=4"], in: work)
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput.contains("training on cpu"))
        let runLine = try #require(run.standardOutput.split(separator: "\n").last { $0.hasPrefix("run ") })
        let id = String(runLine.split(separator: " ")[1])

        let show = try tipi(["runs", "show", id], in: work)
        #expect(show.status == 0, "\(show.standardError)")
        #expect(show.standardOutput.contains("status:     finished"))
        #expect(show.standardOutput.contains("processes.training.params.epochs = 4"))
        #expect(show.standardOutput.contains("loss "))
        #expect(show.standardOutput.contains("eval/mse"))

        let missing = try tipi(["run", "spiral"], in: work)
        #expect(missing.status != 0)
        #expect(missing.standardError.contains("no project 'spiral' is linked; did you mean 'spirals'?"))

        try FileManager.default.removeItem(at: work.appendingPathComponent("Spirals"))
        #expect(try tipi(["clean", "--dry-run"], in: work).standardOutput.contains("would remove 'spirals'"))
        #expect(try tipi(["clean"], in: work).standardOutput.contains("removed 'spirals'"))
        #expect(try tipi(["list"], in: work).standardOutput.contains("no projects linked"))
    }
}

@Suite("tipi add from a git repository")
struct GitAddTests {
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("home-git-\(UUID().uuidString)")

    func tipi(_ arguments: [String]) throws -> Executables.Result {
        let path = try #require(Executables.path(of: "tipi"), "tipi was not built")
        return try Executables.run(
            path, arguments,
            environment: ["HOME": home.path, "XDG_CONFIG_HOME": home.appendingPathComponent(".config").path,
                "XDG_CACHE_HOME": home.appendingPathComponent(".cache").path],
            removing: ["TIPI_CONFIG_DIR", "TIPI_CACHE_DIR", "TIPI_PROJECTS_DIR"], workingDirectory: home.path)
    }

    func git(_ arguments: [String], in directory: URL) throws {
        let result = try Executables.run("/usr/bin/git", ["-C", directory.path] + arguments, removing: [])
        try #require(result.status == 0, "git \(arguments): \(result.standardError)")
    }

    @Test("a git URL is cloned into the cache, listed as cloned, and removed with --delete-source")
    func cloneAndRemove() throws {
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        #expect(try tipi(["create", "Remote", "--no-link"]).status == 0)
        let source = home.appendingPathComponent("Remote")
        try git(["init", "-q", "-b", "main"], in: source)
        try git(["-c", "user.name=t", "-c", "user.email=t@example.com", "add", "."], in: source)
        try git(["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "scaffold"], in: source)
        try git(["branch", "experiment"], in: source)

        let added = try tipi(["add", "file://\(source.path)", "--name", "remote", "--branch", "experiment"])
        #expect(added.status == 0, "\(added.standardError)")
        let clone = home.appendingPathComponent(".cache/tipi/projects/remote")
        #expect(FileManager.default.fileExists(atPath: clone.appendingPathComponent("Package.swift").path))
        #expect(try tipi(["list"]).standardOutput.contains("(cloned)"))
        let again = try tipi(["add", "file://\(source.path)", "--name", "remote"])
        #expect(again.status != 0)
        #expect(again.standardError.contains("a project 'remote' is already linked"))  // refused before cloning again

        let removed = try tipi(["remove", "remote", "--delete-source"])
        #expect(removed.standardOutput.contains("deleted \(clone.path)"))
        #expect(!FileManager.default.fileExists(atPath: clone.path))
        #expect(FileManager.default.fileExists(atPath: source.path))

        let notPackage = try tipi(["add", home.path])
        #expect(notPackage.status != 0)
        #expect(notPackage.standardError.contains("has no Package.swift"))
    }
}
