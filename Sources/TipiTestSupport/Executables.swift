import Foundation

/// Finds and runs the package's built executables (the real `tipi`, not an in-process copy).
public enum Executables {
    /// The path of a built product such as `tipi`, next to the running test bundle or in `.build/debug`.
    public static func path(of product: String, filePath: String = #filePath) -> String? {
        var candidates: [URL] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: executable).deletingLastPathComponent())
        }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        var root = URL(fileURLWithPath: filePath)
        while root.path != "/" {
            root.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) { break }
        }
        candidates.append(root.appendingPathComponent(".build/debug"))
        for directory in candidates {
            let path = directory.appendingPathComponent(product).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// The result of a finished process: exit status and what it wrote to each stream.
    public struct Result: Sendable {
        /// The exit status, or the signal number when the process was killed by a signal.
        public let status: Int32
        /// The signal that ended the process, if one did.
        public let signal: Int32?
        public let standardOutput: String
        public let standardError: String
    }

    /// A started process whose standard output and standard error go to files (not a terminal).
    ///
    /// Started with `posix_spawn` the way a shell starts programs: an empty signal mask and default
    /// dispositions for SIGINT and SIGTERM (a test runner's threads block signals, and children would
    /// otherwise inherit that).
    public final class Running: @unchecked Sendable {
        /// The process id.
        public let pid: pid_t
        let directory: URL
        private var finished: Result?

        init(pid: pid_t, directory: URL) {
            self.pid = pid
            self.directory = directory
        }

        /// What the process has written to standard output so far.
        public var standardOutputSoFar: String {
            (try? String(contentsOf: directory.appendingPathComponent("stdout"), encoding: .utf8)) ?? ""
        }

        /// What the process has written to standard error so far.
        public var standardErrorSoFar: String {
            (try? String(contentsOf: directory.appendingPathComponent("stderr"), encoding: .utf8)) ?? ""
        }

        /// Sends a signal to the process.
        public func signal(_ number: Int32) {
            kill(pid, number)
        }

        /// Waits for the process (killing it after `timeout` seconds) and collects its output.
        public func wait(timeout: Double = 120) -> Result {
            if let finished { return finished }
            let deadline = Date().addingTimeInterval(timeout)
            var status: Int32 = 0
            while true {
                let result = waitpid(pid, &status, WNOHANG)
                if result == pid { break }
                if result < 0, errno != EINTR { break }
                if Date() >= deadline {
                    kill(pid, SIGKILL)
                    _ = waitpid(pid, &status, 0)
                    break
                }
                usleep(5_000)
            }
            let signaled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
            let result = Result(
                status: signaled ? status & 0x7f : (status >> 8) & 0xff,
                signal: signaled ? status & 0x7f : nil,
                standardOutput: standardOutputSoFar,
                standardError: standardErrorSoFar)
            try? FileManager.default.removeItem(at: directory)
            finished = result
            return result
        }
    }

    /// Starts `executable`; `removing` names inherited variables to drop (so the caller's settings do not leak).
    /// `TIPI_QUIET=1` is set unless `environment` sets it or `removing` names it.
    public static func start(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        removing: [String] = ["TIPI_PROGRESS", "NO_COLOR"], workingDirectory: String? = nil
    ) throws -> Running {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tipi-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var env = ProcessInfo.processInfo.environment
        // A script's end-of-run line (tipi: run … finished) is left out unless a test asks for it (by
        // setting TIPI_QUIET itself or removing it), so that tests of other output see only that output.
        env["TIPI_QUIET"] = env["TIPI_QUIET"] ?? "1"
        for name in removing { env[name] = nil }
        env.merge(environment) { _, new in new }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, directory.appendingPathComponent("stdout").path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, directory.appendingPathComponent("stderr").path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        // A working directory is set through env(1) -C, as posix_spawn has no portable chdir action.
        let command = workingDirectory.map { ["/usr/bin/env", "-C", $0, executable] } ?? [executable]
        let argv = (command + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw NSError(domain: NSPOSIXErrorDomain, code: Int(status), userInfo: [NSLocalizedDescriptionKey: "cannot start \(executable): \(String(cString: strerror(status)))"])
        }
        return Running(pid: pid, directory: directory)
    }

    /// Runs `executable` to the end; standard output and standard error go to files (not a terminal).
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        removing: [String] = ["TIPI_PROGRESS", "NO_COLOR"], workingDirectory: String? = nil, timeout: Double = 120
    ) throws -> Result {
        try start(executable, arguments, environment: environment, removing: removing, workingDirectory: workingDirectory)
            .wait(timeout: timeout)
    }
}
