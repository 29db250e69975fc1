import Foundation
import Testing
import TipiTestSupport

/// The project commands never delete or write outside what tipi made, whatever the names and links: each
/// case runs the real `tipi` in a temporary HOME and checks that the victim files still exist.
@Suite("Project commands: names and deletions")
struct ProjectSafetyTests {
    let temporaryHome = TemporaryHome(label: "home-safety")
    var home: URL { temporaryHome.url }
    var config: URL { home.appendingPathComponent(".config/tipi") }
    var projects: URL { config.appendingPathComponent("projects") }
    var cache: URL { home.appendingPathComponent(".cache/tipi") }

    init() throws {
        try FileManager.default.createDirectory(at: projects, withIntermediateDirectories: true)
    }

    func tipi(_ arguments: [String]) throws -> Executables.Result {
        try temporaryHome.tipi(arguments)
    }

    /// A folder with a Package.swift (enough for `tipi add`, which does not build).
    func package(_ url: URL) throws -> URL {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try "// swift-tools-version: 6.0\n".write(to: url.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        return url
    }

    func exists(_ url: URL) -> Bool {
        FileManager.default.fileExists(atPath: url.path)
    }

    @Test("clean removes only dangling links: a real folder and a file in the projects folder stay")
    func cleanKeepsUserFiles() throws {
        let folder = projects.appendingPathComponent("MyData")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "keep".write(to: folder.appendingPathComponent("important.txt"), atomically: true, encoding: .utf8)
        try "notes".write(to: projects.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: projects.appendingPathComponent("gone").path, withDestinationPath: home.appendingPathComponent("nowhere").path)

        let dry = try tipi(["clean", "--dry-run"])
        #expect(dry.standardOutput.contains("would remove 'gone'"))
        #expect(!dry.standardOutput.contains("would remove 'MyData'"))
        let cleaned = try tipi(["clean"])
        #expect(cleaned.status == 0, "\(cleaned.standardError)")
        #expect(cleaned.standardOutput.contains("removed 'gone'"))
        #expect(cleaned.standardOutput.contains("kept 'MyData': not a link tipi made"))
        #expect(exists(folder.appendingPathComponent("important.txt")))
        #expect(exists(projects.appendingPathComponent("notes.txt")))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: projects.appendingPathComponent("gone").path)) == nil)
    }

    @Test("names of entries in the projects folder are printed escaped by list and clean")
    func escapedNames() throws {
        let evil = "evil\u{1B}[2J\u{1B}]0;owned\u{7}"
        try FileManager.default.createSymbolicLink(
            atPath: projects.appendingPathComponent(evil).path, withDestinationPath: home.appendingPathComponent("gone\u{1B}[31m").path)
        let list = try tipi(["list"])
        #expect(list.status == 0)
        #expect(list.standardOutput.contains("evil\\u{1B}[2J\\u{1B}]0;owned\\u{7}"))
        let cleaned = try tipi(["clean"])
        #expect(cleaned.standardOutput.contains("removed 'evil\\u{1B}[2J"))
        for output in [list.standardOutput, cleaned.standardOutput, list.standardError, cleaned.standardError] {
            #expect(!output.contains("\u{1B}") && !output.contains("\u{7}"))
        }
    }

    @Test("add DIR --name .. --force is refused before anything is touched; the projects folder's parent is intact")
    func dotDotName() throws {
        let source = try package(home.appendingPathComponent("Work/Spirals"))
        let sentinel = config.appendingPathComponent("settings.toml")
        try "x = 1".write(to: sentinel, atomically: true, encoding: .utf8)
        for name in ["..", ".", "../evil", "a/b", "-rf", ".hidden", "", "tab\there", "esc\u{1B}[2J", String(repeating: "n", count: 101)] {
            let result = try tipi(["add", source.path, "--name=\(name)", "--force"])
            #expect(result.status != 0, "name \(name.debugDescription) was accepted")
            // An empty value is refused by the option parser itself ("Missing value").
            #expect(result.standardError.contains(name.isEmpty ? "Missing value" : "cannot name a project"), "\(result.standardError)")
            #expect(!result.standardError.contains("\u{1B}"))
        }
        #expect(exists(sentinel))
        #expect(exists(projects))
        #expect(try FileManager.default.contentsOfDirectory(atPath: projects.path).isEmpty)
        #expect(exists(source.appendingPathComponent("Package.swift")))
        // A name that is fine is still accepted.
        #expect(try tipi(["add", source.path, "--name", "spirals.v2"]).status == 0)
    }

    @Test("add --force never replaces a folder of the user's in the projects folder")
    func forceOverFolder() throws {
        let source = try package(home.appendingPathComponent("Work/Spirals"))
        let mine = projects.appendingPathComponent("spirals")
        try FileManager.default.createDirectory(at: mine, withIntermediateDirectories: true)
        try "keep".write(to: mine.appendingPathComponent("data.bin"), atomically: true, encoding: .utf8)
        let result = try tipi(["add", source.path, "--name", "spirals", "--force"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("is not a link tipi made"))
        #expect(exists(mine.appendingPathComponent("data.bin")))
        let removed = try tipi(["remove", "spirals"])
        #expect(removed.status != 0)
        #expect(exists(mine.appendingPathComponent("data.bin")))
    }

    @Test("remove --delete-source keeps a folder whose path only starts with the clone cache's path")
    func prefixIsNotInside() throws {
        let lookalike = try package(URL(fileURLWithPath: cache.path + "-work/projects/Mine"))
        #expect(try tipi(["add", lookalike.path, "--name", "mine"]).status == 0)
        #expect(try tipi(["list"]).standardOutput.contains("(cloned)") == false)
        let removed = try tipi(["remove", "mine", "--delete-source"])
        #expect(removed.status == 0, "\(removed.standardError)")
        #expect(removed.standardOutput.contains("kept \(lookalike.path): it is not a clone made by tipi add"))
        #expect(exists(lookalike.appendingPathComponent("Package.swift")))
        // Nor a folder reached through a link inside the cache, nor one above it.
        try FileManager.default.createDirectory(at: cache.appendingPathComponent("projects"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: cache.appendingPathComponent("projects/sneaky").path, withDestinationPath: lookalike.path)
        #expect(try tipi(["add", cache.appendingPathComponent("projects/sneaky").path, "--name", "sneaky"]).status == 0)
        #expect(try tipi(["remove", "sneaky", "--delete-source"]).standardOutput.contains("kept"))
        #expect(exists(lookalike.appendingPathComponent("Package.swift")))
        // Nor a folder of the user's directly inside the cache (made by hand, or TIPI_CACHE_DIR pointing elsewhere).
        let byHand = try package(cache.appendingPathComponent("projects/ByHand"))
        #expect(try tipi(["add", byHand.path, "--name", "byhand"]).status == 0)
        #expect(try tipi(["remove", "byhand", "--delete-source"]).standardOutput.contains("kept"))
        #expect(exists(byHand.appendingPathComponent("Package.swift")))
    }

    @Test("an empty TIPI_CACHE_DIR or TIPI_PROJECTS_DIR is unset, not the current folder")
    func emptyVariables() throws {
        let path = try #require(Executables.path(of: "tipi"), "tipi was not built")
        let work = try package(home.appendingPathComponent("Work/projects/Mine"))
        try FileManager.default.createSymbolicLink(
            atPath: home.appendingPathComponent("Work/dangling").path, withDestinationPath: home.appendingPathComponent("nowhere").path)
        let environment = [
            "HOME": home.path, "XDG_CONFIG_HOME": home.appendingPathComponent(".config").path,
            "XDG_CACHE_HOME": home.appendingPathComponent(".cache").path, "TIPI_CACHE_DIR": "", "TIPI_PROJECTS_DIR": "",
        ]
        let workDirectory = home.appendingPathComponent("Work").path
        let cleaned = try Executables.run(path, ["clean"], environment: environment, removing: ["TIPI_CONFIG_DIR"], workingDirectory: workDirectory)
        #expect(cleaned.status == 0)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: home.appendingPathComponent("Work/dangling").path)) != nil)
        let added = try Executables.run(path, ["add", work.path, "--name", "mine"], environment: environment, removing: ["TIPI_CONFIG_DIR"], workingDirectory: workDirectory)
        #expect(added.status == 0, "\(added.standardError)")
        #expect(exists(projects.appendingPathComponent("mine")))
        let removed = try Executables.run(
            path, ["remove", "mine", "--delete-source"], environment: environment, removing: ["TIPI_CONFIG_DIR"], workingDirectory: workDirectory)
        #expect(removed.standardOutput.contains("kept"))
        #expect(exists(work.appendingPathComponent("Package.swift")))
    }

    @Test("remove ../x is refused: a link outside the projects folder stays")
    func removeOutside() throws {
        let target = try package(home.appendingPathComponent("Work/Outside"))
        let outsideLink = config.appendingPathComponent("outside")
        try FileManager.default.createSymbolicLink(atPath: outsideLink.path, withDestinationPath: target.path)
        for name in ["../outside", "../../.config/tipi/outside", "/etc", ".."] {
            let result = try tipi(["remove", name])
            #expect(result.status != 0)
            #expect(result.standardError.contains("cannot name a project"), "\(result.standardError)")
        }
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: outsideLink.path)) == target.path)
        for command in [["run", "../outside"], ["validate", "../outside"], ["inspect", "../outside"]] {
            let result = try tipi(command)
            #expect(result.status != 0)
            #expect(result.standardError.contains("cannot name a project"))
        }
    }

    @Test("add URL --name ../x is refused before cloning: nothing appears outside the clone cache")
    func cloneName() throws {
        let repository = try package(home.appendingPathComponent("Repo"))
        for arguments in [["init", "-q", "-b", "main"], ["-c", "user.name=t", "-c", "user.email=t@example.com", "add", "."],
            ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "x"]]
        {
            let git = try Executables.run("/usr/bin/git", ["-C", repository.path] + arguments, removing: [])
            try #require(git.status == 0, "\(git.standardError)")
        }
        let result = try tipi(["add", "file://\(repository.path)", "--name", "../escaped"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("cannot name a project"))
        #expect(!exists(cache.appendingPathComponent("escaped")))
        #expect(!exists(cache.appendingPathComponent("projects")))
        // A repository named '..' by its URL is refused the same way.
        let dotted = try tipi(["add", "file://\(repository.path)/.."])
        #expect(dotted.status != 0)
        #expect(dotted.standardError.contains("cannot name a project"))
        // A good clone is deleted by remove --delete-source, and only it.
        #expect(try tipi(["add", "file://\(repository.path)", "--name", "repo"]).status == 0)
        let removed = try tipi(["remove", "repo", "--delete-source"])
        #expect(removed.standardOutput.contains("deleted "))
        #expect(!exists(cache.appendingPathComponent("projects/repo")))
        #expect(exists(cache.appendingPathComponent("projects")))
        #expect(exists(repository.appendingPathComponent("Package.swift")))
    }
}
