import Foundation
import Tipi

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Builds a linked project's executable and runs it (what `tipi run`, `validate` and `inspect` do).
enum PackageRunner {
    /// `release` by default; `TIPI_BUILD_CONFIGURATION=debug` builds faster (and runs slower).
    static var configuration: String {
        ProcessInfo.processInfo.environment["TIPI_BUILD_CONFIGURATION"] ?? "release"
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

    /// Builds the executable; returns its path. Build output goes to standard error.
    static func build(_ project: LinkedProject) throws -> String {
        guard let source = project.source else { throw CLIError("project '\(project.name)' has no source") }
        let product = try executable(of: project)
        FileHandle.standardError.write(Data("tipi: building \(project.name) (\(configuration))…\n".utf8))
        let scratch = scratchArguments(project)
        let status = try spawn(["swift", "build", "-c", configuration, "--product", product, "--package-path", source.path] + scratch, output: 2)
        guard status == 0 else { throw CLIError("building \(project.name) failed (swift build exited with \(status)); the compiler's messages are above") }
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
    /// returns its exit status (128 + n when a signal ended it).
    static func spawn(_ arguments: [String], output: Int32 = 1) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if output == 2 { posix_spawn_file_actions_adddup2(&actions, 2, 1) }
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
