import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs a helper program with a time limit, capturing its output through a file (a large output can never
/// fill a pipe and block). The program runs in its own process group, so a timeout kills it *and* anything
/// it started (a wedged `nvidia-smi` wrapper script and its children).
enum ProcessRunner {
    enum Outcome: Sendable {
        case exited(status: Int32, output: String)
        case timedOut
        case failedToStart(String)
    }

    /// The first executable file called `name` in a directory of `PATH`.
    static func executableOnPath(_ name: String) -> String? {
        for directory in (Environment.value("PATH") ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The most output read from a helper (more is cut: `nvidia-smi` for a thousand GPUs prints ~100 KB).
    static let outputLimit = 4 << 20

    /// What the program wrote, at most ``outputLimit`` bytes, invalid UTF-8 replaced (never dropped whole).
    static func readOutput(_ file: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: file) else { return "" }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: outputLimit)) ?? nil
        return String(decoding: data ?? Data(), as: UTF8.self)
    }

    static func run(_ executable: String, _ arguments: [String], timeout: Double) -> Outcome {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tipi-\(getpid())-\(UUID().uuidString).out", isDirectory: false).path
        defer { unlink(file) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, Platform.environment)
        guard status == 0 else {
            return .failedToStart(String(cString: strerror(status)))
        }

        let deadline = Date().addingTimeInterval(timeout.isFinite ? max(timeout, 0) : 5)
        var waitStatus: Int32 = 0
        // Polled from 50 µs, doubling to 2 ms: a helper such as `git rev-parse` ends in about a millisecond,
        // and a fixed 2 ms sleep made each such call take twice that.
        var pause: UInt32 = 50
        while true {
            let result = waitpid(pid, &waitStatus, WNOHANG)
            if result == pid { break }
            if result < 0, errno != EINTR { return .failedToStart(String(cString: strerror(errno))) }
            if Date() >= deadline {
                kill(-pid, SIGKILL)
                _ = waitpid(pid, &waitStatus, 0)
                return .timedOut
            }
            usleep(pause)
            pause = min(pause * 2, 2_000)
        }
        let output = readOutput(file)
        let exitStatus: Int32 = (waitStatus & 0x7f) == 0 ? (waitStatus >> 8) & 0xff : 128 + (waitStatus & 0x7f)
        return .exited(status: exitStatus, output: output)
    }
}
