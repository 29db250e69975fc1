import ArgumentParser
import Foundation
import Tipi

/// `tipi create NAME`.
struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a pipeline project (a SwiftPM package) and link it.")

    @Argument(help: "The project's name: a Swift identifier, e.g. SpiralClassifier.")
    var name: String

    @Option(name: .shortAndLong, help: "The folder to create it in (default: the current folder).")
    var location: String?

    @Option(help: "Tipi as a dependency: a local path or a git URL (default: this tipi's source, or TIPI_PACKAGE).")
    var tipi: String?

    @Flag(help: "Do not link the project (tipi add can do it later).")
    var noLink = false

    func run() throws {
        if let problem = ProjectTemplate.problem(with: name) { throw CLIError(TerminalText.printable(problem)) }
        try ProjectName.validated(name)
        let parent = URL(fileURLWithPath: location ?? FileManager.default.currentDirectoryPath)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError("the folder \(parent.path) does not exist")
        }
        let root = parent.appendingPathComponent(name)
        guard !FileManager.default.fileExists(atPath: root.path) else { throw CLIError("\(root.path) already exists") }
        guard let dependency = tipi ?? ProcessInfo.processInfo.environment["TIPI_PACKAGE"] ?? ProjectPaths.tipiSource?.path else {
            throw CLIError("where is Tipi? pass --tipi PATH-OR-URL (or set TIPI_PACKAGE)")
        }
        let template = ProjectTemplate(name: name, tipi: dependency)
        if tipi == nil, ProcessInfo.processInfo.environment["TIPI_PACKAGE"] == nil {
            print("depending on Tipi at \(dependency) (this tool's source); --tipi PATH|URL or TIPI_PACKAGE chooses another")
        }
        for file in template.files {
            let url = root.appendingPathComponent(file.path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try file.contents.write(to: url, atomically: true, encoding: .utf8)
        }
        print("created \(root.path)")
        for file in template.files { print("  \(file.path)") }
        if !noLink {
            try ProjectRegistry(paths: ProjectPaths()).link(name, to: root, replace: false)
            print("linked as '\(name)'")
        }
        print("")
        print("next: \(ToolCommand.tipi("validate \(name)"))   then   \(ToolCommand.tipi("run \(name)"))")
    }
}

/// `tipi add PATH|GIT-URL`.
struct AddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Link a pipeline project: a local package folder, or a git URL to clone.")

    @Argument(help: "A folder with a Package.swift, or a git URL (https://, ssh://, git@, git://, file://).")
    var source: String

    @Option(name: .shortAndLong, help: "The name to link it under (default: the folder's or repository's name).")
    var name: String?

    @Option(name: .shortAndLong, help: "The branch to clone.")
    var branch: String?

    @Flag(help: "Replace an existing link of the same name.")
    var force = false

    func run() throws {
        let paths = ProjectPaths()
        let registry = ProjectRegistry(paths: paths)
        let isURL = GitURL.isURL(source)
        var root = isURL ? nil : URL(fileURLWithPath: source).standardizedFileURL
        // The name is checked, and its link found free, before anything is cloned or written.
        let linkName = name ?? root?.lastPathComponent ?? GitURL.repositoryName(source) ?? "project"
        try registry.checkFree(try registry.project(named: linkName), replace: force)
        if isURL {
            let clone = paths.clonesDirectory.appendingPathComponent(linkName)
            guard !FileManager.default.fileExists(atPath: clone.path) else {
                throw CLIError("\(TerminalText.printable(clone.path)) already exists; `\(ToolCommand.tipi("remove \(linkName) --delete-source"))` removes it first")
            }
            try FileManager.default.createDirectory(at: paths.clonesDirectory, withIntermediateDirectories: true)
            var arguments = ["git", "clone", "--quiet"]
            if let branch { arguments += ["--branch", branch] }
            let status = try PackageRunner.spawn(arguments + ["--", source, clone.path], output: 2)
            guard status == 0 else {
                throw CLIError("git clone \(TerminalText.excerpt(source)) failed (exit \(status)); see git's message above")
            }
            try Data(source.utf8).write(to: clone.appendingPathComponent(ProjectPaths.cloneMarker))
            root = clone
        }
        guard let root else { throw CLIError("\(TerminalText.excerpt(source)) is neither a folder nor a git URL") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError("\(TerminalText.excerpt(source)) is not a folder")
        }
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) else {
            throw CLIError("\(TerminalText.printable(root.path)) has no Package.swift: a pipeline project is a SwiftPM package (`\(ToolCommand.tipi("create NAME"))` makes one)")
        }
        try registry.link(linkName, to: root, replace: force)
        print("linked '\(linkName)' → \(TerminalText.printable(root.path))")
        let project = try registry.project(named: linkName)
        print(project.defaultConfig.map { "config: \(TerminalText.printable($0.path))" } ?? "note: no configs/pipeline.toml in it; pass -c CONFIG to run")
        if let product = try? PackageRunner.executable(of: project), let problem = PipelineCheck.problem(source: root, product: product) {
            print("note: \(problem)")
        }
        print("next: \(ToolCommand.tipi("inspect \(linkName)")), \(ToolCommand.tipi("validate \(linkName)")), \(ToolCommand.tipi("run \(linkName)"))")
    }
}

/// `tipi list`.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the linked pipeline projects.")

    @Flag(name: .shortAndLong, help: "Also show each project's configs.")
    var verbose = false

    func run() throws {
        let projects = ProjectRegistry(paths: ProjectPaths()).all()
        guard !projects.isEmpty else {
            print("no projects linked (`\(ToolCommand.tipi("create NAME"))` makes one, `\(ToolCommand.tipi("add PATH"))` links one)")
            return
        }
        var rows = [["NAME", "STATUS", "CONFIG", "SOURCE"]]
        for project in projects {
            let status =
                !project.isLink ? "not a link" : project.source == nil ? "broken link" : (project.defaultConfig == nil ? "no config" : "ready")
            rows.append([
                TerminalText.printable(project.name), status, project.defaultConfig.map { _ in "✓" } ?? "✗",
                TerminalText.printable(project.source?.path ?? "(missing)") + (project.isCloned ? " (cloned)" : ""),
            ])
        }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(row.enumerated().map { $0.offset == 3 ? $0.element : $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
        if verbose {
            for project in projects {
                guard let source = project.source else { continue }
                let configs = ((try? FileManager.default.contentsOfDirectory(atPath: source.appendingPathComponent("configs").path)) ?? []).filter { $0.hasSuffix(".toml") }.sorted()
                print(TerminalText.printable("\(project.name) configs: \(configs.isEmpty ? "none" : configs.joined(separator: ", "))"))
            }
        }
    }
}

/// Options of the commands that run a project's executable.
struct ProjectRunOptions: ParsableArguments {
    @Argument(help: "The project's name (see tipi list).")
    var name: String

    @Option(name: [.short, .customLong("config")], help: "The config file, relative to the current folder (default: the project's configs/pipeline.toml).")
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config value (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    func configPath(_ project: LinkedProject) throws -> String {
        if let config { return URL(fileURLWithPath: config).standardizedFileURL.path }
        guard let path = project.defaultConfig?.path else {
            throw CLIError("project '\(project.name)' has no configs/pipeline.toml; pass -c CONFIG")
        }
        return path
    }
}

/// `tipi run NAME`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Build a linked project and run its pipeline.",
        discussion: "Runs are recorded under the current folder's tipi-runs (or TIPI_DIR). Projects are built in debug unless --release or TIPI_BUILD_CONFIGURATION=release says otherwise.")

    @OptionGroup var options: ProjectRunOptions

    @OptionGroup var build: BuildChoice

    @Option(help: "Continue an earlier run (see the executable's `run --resume`).")
    var resume: String?

    @Option(name: .customLong("from"), help: ArgumentHelp("With --resume: run again from this process.", valueName: "process"))
    var from: String?

    func run() throws {
        let project = try ProjectRegistry(paths: ProjectPaths()).require(options.name)
        let config = try options.configPath(project)
        let binary = try PackageRunner.build(project, build)
        var arguments = [binary, "run", config] + options.overrides.flatMap { ["--set", $0] }
        if let resume { arguments += ["--resume", resume] }
        if let from { arguments += ["--from", from] }
        let status = try PackageRunner.spawn(arguments)
        if status != 0 { throw ExitCode(status) }
    }
}

/// `tipi validate NAME`.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Build a linked project and check a config without running anything.")

    @OptionGroup var options: ProjectRunOptions

    @OptionGroup var build: BuildChoice

    func run() throws {
        let project = try ProjectRegistry(paths: ProjectPaths()).require(options.name)
        let config = try options.configPath(project)
        let binary = try PackageRunner.build(project, build)
        let status = try PackageRunner.spawn([binary, "validate", config] + options.overrides.flatMap { ["--set", $0] })
        if status != 0 { throw ExitCode(status) }
    }
}

/// `tipi inspect NAME`.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Show a linked project's processes, permanences, params and a config template.")

    @Argument(help: "The project's name.")
    var name: String

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var build: BuildChoice

    func run() throws {
        let project = try ProjectRegistry(paths: ProjectPaths()).require(name)
        let binary = try PackageRunner.build(project, build)
        let status = try PackageRunner.spawn([binary, "inspect"] + (json ? ["--json"] : []))
        if status != 0 { throw ExitCode(status) }
    }
}

/// `tipi remove NAME`.
struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Unlink a project.")

    @Argument(help: "The project's name.")
    var name: String

    @Flag(help: "Also delete a clone that `tipi add URL` made (never a folder of yours).")
    var deleteSource = false

    func run() throws {
        let registry = ProjectRegistry(paths: ProjectPaths())
        let project = try registry.project(named: name)
        guard project.isLink else {
            if FileManager.default.fileExists(atPath: project.link.path) {
                throw CLIError("\(TerminalText.printable(project.link.path)) is not a link tipi made; it is left alone")
            }
            // Nothing of that name: the not-found error of run/validate/inspect (exit 1, a suggestion).
            _ = try registry.require(name)
            throw CLIError("no project '\(name)' is linked")
        }
        try registry.unlinkEntry(project)
        print("unlinked '\(name)'")
        if deleteSource, let source = project.source {
            // Only a clone tipi made: a folder directly inside the clone cache, links resolved.
            guard project.isCloned, let components = ProjectPaths.resolvedComponents(source) else {
                print("kept \(TerminalText.printable(source.path)): it is not a clone made by tipi add")
                return
            }
            let clone = URL(fileURLWithPath: NSString.path(withComponents: components))
            try FileManager.default.removeItem(at: clone)
            print("deleted \(TerminalText.printable(clone.path))")
        }
    }
}

/// `tipi clean`.
struct CleanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clean", abstract: "Remove links to projects that no longer exist.")

    @Flag(name: [.short, .customLong("dry-run")], help: "Only show what would be removed.")
    var dryRun = false

    func run() throws {
        let registry = ProjectRegistry(paths: ProjectPaths())
        let entries = registry.all()
        // Only links tipi made whose project is gone; files and folders in the projects folder are the user's.
        for entry in entries where !entry.isLink {
            print("kept '\(TerminalText.printable(entry.name))': not a link tipi made")
        }
        let broken = entries.filter { $0.isLink && $0.source == nil }
        guard !broken.isEmpty else {
            print("no broken links")
            return
        }
        for project in broken {
            let target = TerminalText.printable((try? FileManager.default.destinationOfSymbolicLink(atPath: project.link.path)) ?? "?")
            let name = TerminalText.printable(project.name)
            if dryRun {
                print("would remove '\(name)' → \(target)")
            } else {
                try registry.unlinkEntry(project)
                print("removed '\(name)' → \(target)")
            }
        }
    }
}
