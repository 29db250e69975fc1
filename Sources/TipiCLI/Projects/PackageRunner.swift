import ArgumentParser
import Foundation
import Tipi

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `--debug` / `--release` of the commands that build a project (neither: ``PackageRunner/configuration(_:)``).
struct BuildChoice: ParsableArguments {
    @Flag(help: "Build the project in debug (the default; what `swift run` in the project builds).")
    var debug = false

    @Flag(help: "Build the project in release (faster runs; a first build takes minutes longer).")
    var release = false

    /// The configuration the flags name, if any.
    var chosen: String? { release ? "release" : debug ? "debug" : nil }

    func validate() throws {
        if debug && release { throw ValidationError("pass --debug or --release, not both") }
    }
}

/// Builds a linked project's executable and runs it (what `tipi run`, `validate` and `inspect` do).
enum PackageRunner {
    /// The configuration the tool builds projects in: `--debug`/`--release` when given, else
    /// `TIPI_BUILD_CONFIGURATION` (`debug` or `release`), else `debug` — the one `swift run` in the project
    /// builds too, so a project is compiled once, and swift-syntax is not compiled in release (minutes).
    static func configuration(_ choice: BuildChoice) throws -> String {
        if let chosen = choice.chosen { return chosen }
        guard let value = ProcessInfo.processInfo.environment["TIPI_BUILD_CONFIGURATION"], !value.isEmpty else { return "debug" }
        guard ["debug", "release"].contains(value) else {
            throw CLIError("TIPI_BUILD_CONFIGURATION=\(TerminalText.excerpt(value)) is not a build configuration; use debug or release (or pass --debug/--release)")
        }
        return value
    }

    /// The executable product of the package: the one named like the project, or the only one.
    static func executable(of project: LinkedProject) throws -> String {
        guard let source = project.source else { throw CLIError("project '\(project.name)' has no source") }
        let manifest = (try? String(contentsOf: source.appendingPathComponent("Package.swift"), encoding: .utf8)) ?? ""
        let names = executableTargets(in: manifest)
        if names.contains(project.name) { return project.name }
        if names.count == 1 { return names[0] }
        if names.isEmpty { throw CLIError("\(source.path)/Package.swift declares no executable target: a pipeline needs one with a PipelineMain") }
        throw CLIError("\(source.path) has several executables (\(names.joined(separator: ", "))); link it with --name set to the one to run")
    }

    /// `.executableTarget(name: "X"` entries of a manifest.
    static func executableTargets(in manifest: String) -> [String] {
        let pattern = #/\.executableTarget\(\s*name:\s*"([^"]+)"/#
        return manifest.matches(of: pattern).map { String($0.output.1) }
    }

    /// Builds the executable; returns its path. One line says what is built (and, before a first build,
    /// that it takes minutes); SwiftPM's own log is kept out of the way and shown only when the build fails.
    static func build(_ project: LinkedProject, _ choice: BuildChoice) throws -> String {
        guard let source = project.source else { throw CLIError("project '\(project.name)' has no source") }
        let product = try executable(of: project)
        if let problem = PipelineCheck.problem(source: source, product: product) { throw CLIError(problem) }
        let configuration = try configuration(choice)
        let scratch = scratchArguments(project)
        let name = TerminalText.printable(project.name)
        // SwiftPM makes `<build folder>/debug` (a link to the platform's folder) on the first build of a configuration.
        let buildFolder = scratch.last.map { URL(fileURLWithPath: $0) } ?? source.appendingPathComponent(".build")
        let first = !FileManager.default.fileExists(atPath: buildFolder.appendingPathComponent(configuration).path)
        let note = first ? " — the first build compiles swift-syntax, a few minutes" : ""
        FileHandle.standardError.write(Data("tipi: building \(name) (\(configuration))\(note)\n".utf8))
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("tipi-build-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let status = try spawn(["swift", "build", "-c", configuration, "--product", product, "--package-path", source.path] + scratch, log: log.path)
        guard status == 0 else {
            if let text = try? String(contentsOf: log, encoding: .utf8) { FileHandle.standardError.write(Data(text.utf8)) }
            throw CLIError("building \(name) failed (swift build exited with \(status)); the compiler's messages are above")
        }
        let binPath = try capture(["swift", "build", "-c", configuration, "--show-bin-path", "--package-path", source.path] + scratch)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return binPath + "/" + product
    }

    /// `TIPI_BUILD_PATH` keeps build products outside the projects (one folder per project).
    static func scratchArguments(_ project: LinkedProject) -> [String] {
        guard let root = ProcessInfo.processInfo.environment["TIPI_BUILD_PATH"], !root.isEmpty else { return [] }
        return ["--scratch-path", URL(fileURLWithPath: root).appendingPathComponent(project.name).path]
    }

    /// Runs a program with this process's standard streams, passing Ctrl-C to it (as a shell does);
    /// returns its exit status (128 + n when a signal ended it). `output: 2` sends its standard output to
    /// standard error; `log` sends both to that file instead.
    static func spawn(_ arguments: [String], output: Int32 = 1, log: String? = nil) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let log {
            posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else if output == 2 {
            posix_spawn_file_actions_adddup2(&actions, 2, 1)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, Platform.environment)
        guard result == 0 else { throw CLIError("cannot run \(arguments[0]): \(String(cString: strerror(result)))") }
        // The child gets Ctrl-C from the terminal; this process waits for it to finish cleaning up.
        let previousInt = signal(SIGINT, SIG_IGN)
        let previousTerm = signal(SIGTERM, SIG_IGN)
        defer {
            signal(SIGINT, previousInt)
            signal(SIGTERM, previousTerm)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let signalled = status & 0x7f
        return signalled != 0 ? 128 + signalled : (status >> 8) & 0xff
    }

    /// Runs a program to the end and returns its standard output.
    static func capture(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
