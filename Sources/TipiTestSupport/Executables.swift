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
        public let status: Int32
        public let standardOutput: String
        public let standardError: String
    }

    /// A started process whose standard output and standard error go to files (not a terminal).
    public final class Running: @unchecked Sendable {
        public let process: Process
        let directory: URL
        let out: FileHandle
        let err: FileHandle

        init(process: Process, directory: URL, out: FileHandle, err: FileHandle) {
            self.process = process
            self.directory = directory
            self.out = out
            self.err = err
        }

        /// What the process has written to standard output so far.
        public var standardOutputSoFar: String {
            (try? String(contentsOf: directory.appendingPathComponent("stdout"), encoding: .utf8)) ?? ""
        }

        /// Waits for the process (killing it after `timeout` seconds) and collects its output.
        public func wait(timeout: Double = 120) -> Result {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            try? out.close()
            try? err.close()
            defer { try? FileManager.default.removeItem(at: directory) }
            return Result(
                status: process.terminationStatus,
                standardOutput: (try? String(contentsOf: directory.appendingPathComponent("stdout"), encoding: .utf8)) ?? "",
                standardError: (try? String(contentsOf: directory.appendingPathComponent("stderr"), encoding: .utf8)) ?? "")
        }
    }

    /// Starts `executable`; `removing` names inherited variables to drop (so the caller's settings do not leak).
    public static func start(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        removing: [String] = ["TIPI_PROGRESS", "NO_COLOR"]
    ) throws -> Running {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tipi-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let outURL = directory.appendingPathComponent("stdout")
        let errURL = directory.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for name in removing { env[name] = nil }
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, directory: directory, out: out, err: err)
    }

    /// Runs `executable` to the end; standard output and standard error go to files (not a terminal).
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        removing: [String] = ["TIPI_PROGRESS", "NO_COLOR"], timeout: Double = 120
    ) throws -> Result {
        try start(executable, arguments, environment: environment, removing: removing).wait(timeout: timeout)
    }
}
