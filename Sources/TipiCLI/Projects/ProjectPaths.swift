import Tipi
import Foundation

/// Where the `tipi` tool keeps its project links and clones (XDG base directories, `TIPI_*` overrides).
struct ProjectPaths {
    let configDirectory: URL
    let projectsDirectory: URL
    let cacheDirectory: URL

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let home = URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory())
        let config = environment["TIPI_CONFIG_DIR"].map { URL(fileURLWithPath: $0) }
            ?? environment["XDG_CONFIG_HOME"].map { URL(fileURLWithPath: $0).appendingPathComponent("tipi") }
            ?? home.appendingPathComponent(".config/tipi")
        configDirectory = config
        projectsDirectory = environment["TIPI_PROJECTS_DIR"].map { URL(fileURLWithPath: $0) } ?? config.appendingPathComponent("projects")
        cacheDirectory = environment["TIPI_CACHE_DIR"].map { URL(fileURLWithPath: $0) }
            ?? environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0).appendingPathComponent("tipi") }
            ?? home.appendingPathComponent(".cache/tipi")
    }

    /// The source checkout of this `tipi` (used as the Tipi dependency of `tipi create`d projects), when known.
    static var tipiSource: URL? {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        let manifest = url.appendingPathComponent("Package.swift")
        guard let text = try? String(contentsOf: manifest, encoding: .utf8), text.contains("\"TipiPipeline\"") else { return nil }
        return url
    }
}

/// A project linked with `tipi add` (or created and linked with `tipi create`).
struct LinkedProject {
    var name: String
    var link: URL
    /// The package root the link points to (`nil` when the link is broken).
    var source: URL?
    var isCloned: Bool

    var defaultConfig: URL? {
        guard let source else { return nil }
        for name in ["configs/pipeline.toml", "configs/pipeline_config.toml"] {
            let url = source.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        return nil
    }
}

/// The links in the projects directory: one symbolic link per project, named after it.
struct ProjectRegistry {
    let paths: ProjectPaths

    func all() -> [LinkedProject] {
        let manager = FileManager.default
        let names = ((try? manager.contentsOfDirectory(atPath: paths.projectsDirectory.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        return names.map { project(named: $0) }
    }

    func project(named name: String) -> LinkedProject {
        let link = paths.projectsDirectory.appendingPathComponent(name)
        let destination = try? FileManager.default.destinationOfSymbolicLink(atPath: link.path)
        var source = destination.map { URL(fileURLWithPath: $0, relativeTo: paths.projectsDirectory).standardizedFileURL }
        if let candidate = source, !FileManager.default.fileExists(atPath: candidate.appendingPathComponent("Package.swift").path) { source = nil }
        let cloned = destination.map { $0.hasPrefix(paths.cacheDirectory.standardizedFileURL.path) } ?? false
        return LinkedProject(name: name, link: link, source: source, isCloned: cloned)
    }

    /// The project called `name`, or a validation error naming the projects there are.
    func require(_ name: String) throws -> LinkedProject {
        let all = all()
        guard let project = all.first(where: { $0.name == name }) else {
            let suggestion = Suggestions.nearest(name, all.map(\.name))
            throw CLIError(
                "no project '\(name)' is linked" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
                    + (all.isEmpty ? " (none are: `tipi add PATH` links one, `tipi create NAME` makes one)" : " (`tipi list` shows them)"))
        }
        guard project.source != nil else {
            throw CLIError("project '\(name)' points to \(project.link.path), which no longer exists; `tipi clean` removes broken links")
        }
        return project
    }

    func link(_ name: String, to source: URL, replace: Bool) throws {
        let manager = FileManager.default
        try manager.createDirectory(at: paths.projectsDirectory, withIntermediateDirectories: true)
        let link = paths.projectsDirectory.appendingPathComponent(name)
        if (try? manager.destinationOfSymbolicLink(atPath: link.path)) != nil || manager.fileExists(atPath: link.path) {
            guard replace else {
                throw CLIError("a project '\(name)' is already linked (\(project(named: name).source?.path ?? "broken link")); pass --force to replace it, or --name to pick another name")
            }
            try manager.removeItem(at: link)
        }
        try manager.createSymbolicLink(atPath: link.path, withDestinationPath: source.standardizedFileURL.path)
    }
}

/// A user-facing error of the `tipi` tool: one line, non-zero exit.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum Suggestions {
    static func nearest(_ text: String, _ candidates: [String]) -> String? {
        Suggestion.nearest(to: text, in: candidates)
    }
}
