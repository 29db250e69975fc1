import Foundation
import Tipi

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where the `tipi` tool keeps its project links and clones (XDG base directories, `TIPI_*` overrides).
struct ProjectPaths {
    let configDirectory: URL
    let projectsDirectory: URL
    let cacheDirectory: URL

    /// An empty variable counts as unset (it would otherwise mean the current folder, and `tipi clean` or
    /// `remove --delete-source` would work there); `XDG_*` values must be absolute, as the XDG spec says.
    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        func path(_ name: String, absolute: Bool = false) -> URL? {
            guard let value = environment[name], !value.isEmpty, !absolute || value.hasPrefix("/") else { return nil }
            return URL(fileURLWithPath: value)
        }
        let home = path("HOME", absolute: true) ?? URL(fileURLWithPath: NSHomeDirectory())
        let config = path("TIPI_CONFIG_DIR")
            ?? path("XDG_CONFIG_HOME", absolute: true)?.appendingPathComponent("tipi")
            ?? home.appendingPathComponent(".config/tipi")
        configDirectory = config
        projectsDirectory = path("TIPI_PROJECTS_DIR") ?? config.appendingPathComponent("projects")
        cacheDirectory = path("TIPI_CACHE_DIR")
            ?? path("XDG_CACHE_HOME", absolute: true)?.appendingPathComponent("tipi")
            ?? home.appendingPathComponent(".cache/tipi")
    }

    /// Where `tipi add URL` clones: `<cache>/projects/<name>`.
    var clonesDirectory: URL { cacheDirectory.appendingPathComponent("projects") }

    /// The components of `url` with every symbolic link and `..` resolved, or `nil` when it does not exist.
    /// Paths are compared this way, component by component, never as string prefixes.
    static func resolvedComponents(_ url: URL) -> [String]? {
        guard let resolved = realpath(url.path, nil) else { return nil }
        defer { free(resolved) }
        return URL(fileURLWithPath: String(cString: resolved)).pathComponents
    }

    /// The file `tipi add URL` leaves in the `.git` folder of each clone it makes.
    static let cloneMarker = ".git/tipi-clone"

    /// Whether `folder` is a clone `tipi add URL` made: a folder directly inside ``clonesDirectory``, once
    /// links are resolved (a folder whose path merely starts with the cache's path is not), holding the
    /// clone marker (so a cache directory pointed at the wrong place still deletes nothing of the user's).
    func isClone(_ folder: URL) -> Bool {
        guard let clones = Self.resolvedComponents(clonesDirectory), let components = Self.resolvedComponents(folder)
        else { return false }
        guard components.count == clones.count + 1, Array(components.dropLast()) == clones else { return false }
        var info = stat()
        let marker = NSString.path(withComponents: components + Self.cloneMarker.split(separator: "/").map(String.init))
        return lstat(marker, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
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
    /// Whether the entry is a symbolic link (what `tipi add` makes); anything else in the projects folder is
    /// the user's, and Tipi never removes it.
    var isLink: Bool
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

    /// Every entry of the projects folder (but hidden ones), links or not.
    func all() -> [LinkedProject] {
        let manager = FileManager.default
        let names = ((try? manager.contentsOfDirectory(atPath: paths.projectsDirectory.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        return names.map { entry(named: $0) }
    }

    /// The project called `name` (checked by ``ProjectName``), linked or not.
    func project(named name: String) throws -> LinkedProject {
        entry(named: try ProjectName.validated(name))
    }

    /// The entry `name` of the projects folder; `name` is one that folder lists or a validated one.
    private func entry(named name: String) -> LinkedProject {
        let link = paths.projectsDirectory.appendingPathComponent(name)
        let destination = try? FileManager.default.destinationOfSymbolicLink(atPath: link.path)
        var source = destination.map { URL(fileURLWithPath: $0, relativeTo: paths.projectsDirectory).standardizedFileURL }
        if let candidate = source, !FileManager.default.fileExists(atPath: candidate.appendingPathComponent("Package.swift").path) { source = nil }
        let cloned = source.map(paths.isClone) ?? false
        return LinkedProject(name: name, link: link, isLink: destination != nil, source: source, isCloned: cloned)
    }

    /// The project called `name`, or a validation error naming the projects there are.
    func require(_ name: String) throws -> LinkedProject {
        try ProjectName.validated(name)
        let all = all()
        guard let project = all.first(where: { $0.name == name }) else {
            let suggestion = Suggestion.nearest(to: name, in: all.map(\.name))
            throw CLIError(
                "no project '\(name)' is linked" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
                    + (all.isEmpty ? " (none are: `\(ToolCommand.tipi("add PATH"))` links one, `\(ToolCommand.tipi("create NAME"))` makes one)" : " (`\(ToolCommand.tipi("list"))` shows them)"))
        }
        guard project.source != nil else {
            throw CLIError("project '\(name)' points to \(project.link.path), which no longer exists; `\(ToolCommand.tipi("clean"))` removes broken links")
        }
        return project
    }

    /// Links `name` to `source`; with `replace`, an existing link of that name is replaced (never a file or
    /// folder that is not a link).
    func link(_ name: String, to source: URL, replace: Bool) throws {
        let existing = try project(named: name)
        try checkFree(existing, replace: replace)
        let manager = FileManager.default
        try manager.createDirectory(at: paths.projectsDirectory, withIntermediateDirectories: true)
        if existing.isLink { try unlinkEntry(existing) }
        try manager.createSymbolicLink(atPath: existing.link.path, withDestinationPath: source.standardizedFileURL.path)
    }

    /// Throws unless `existing` may become a new link: nothing is there, or a link and `replace` is set.
    func checkFree(_ existing: LinkedProject, replace: Bool) throws {
        if existing.isLink {
            guard replace else {
                throw CLIError(
                    "a project '\(existing.name)' is already linked (\(existing.source.map { TerminalText.printable($0.path) } ?? "broken link")); "
                        + "pass --force to replace it, or --name to pick another name")
            }
        } else if FileManager.default.fileExists(atPath: existing.link.path) {
            throw CLIError("\(TerminalText.printable(existing.link.path)) exists and is not a link tipi made; move it away or pick another --name")
        }
    }

    /// Removes the link of `project` (only the link: `unlink(2)`, which never follows it).
    func unlinkEntry(_ project: LinkedProject) throws {
        guard project.isLink else { throw CLIError("\(project.link.path) is not a link tipi made; it is left alone") }
        guard unlink(project.link.path) == 0 else {
            throw CLIError("cannot remove the link \(project.link.path): \(String(cString: strerror(errno)))")
        }
    }
}

/// A user-facing error of the `tipi` tool: one line, non-zero exit.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

