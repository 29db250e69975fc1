import Foundation
import Synchronization
import Tipi

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One point of a local sweep, running as a child process: the pipeline executable's `run` with the
/// point's `--set` values, its output in a log file of the sweep's folder.
///
/// The child gets its own process group, so a Ctrl-C at the terminal reaches the controller only; the
/// controller then sends each point exactly one SIGINT (a second one would end it without cleanup).
final class PointProcess: @unchecked Sendable {
    let index: Int
    let pid: pid_t
    let log: String
    let started: Double

    /// How the process ended, once it did (set by the waiting thread).
    private let exit = Mutex<Exit?>(nil)

    private init(index: Int, pid: pid_t, log: String, ended: DispatchSemaphore) {
        self.index = index
        self.pid = pid
        self.log = log
        self.started = Date().timeIntervalSince1970
        // A thread blocked in waitpid per point: the controller learns of an exit at once (it waits on
        // `ended`), without polling.
        let thread = Thread { [self] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 {
                guard errno == EINTR else {
                    self.exit.withLock { $0 = .status(-1) }
                    ended.signal()
                    return
                }
            }
            let signal = status & 0x7f
            let result: Exit = signal != 0 && signal != 0x7f ? .signal(signal) : .status((status >> 8) & 0xff)
            self.exit.withLock { $0 = result }
            ended.signal()
        }
        thread.name = "tipi-point-\(index)"
        thread.start()
    }

    /// The running program's own executable (`/proc/self/exe` on Linux).
    static var ownExecutable: String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        let first = CommandLine.arguments.first ?? ""
        return first.contains("/") ? URL(fileURLWithPath: first).standardizedFileURL.path : (Bundle.main.executablePath ?? first)
    }

    /// Starts `executable arguments` with `environment` added to this process's, output appended to `log`.
    /// `ended` is signalled once when the process ends.
    static func start(
        index: Int, executable: String, arguments: [String], environment: [String: String], log: String, ended: DispatchSemaphore
    ) throws -> PointProcess {
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else { throw SweepError("cannot start point \(index) (\(executable)): \(String(cString: strerror(status)))") }
        return PointProcess(index: index, pid: pid, log: log, ended: ended)
    }

    /// How a point's process ended.
    enum Exit: Equatable {
        case status(Int32)
        case signal(Int32)

        var text: String {
            switch self {
            case .status(let code): return "exit status \(code)"
            case .signal(let number): return "killed by signal \(number)"
            }
        }
    }

    /// The exit, if the process ended (never blocks).
    func poll() -> Exit? { exit.withLock { $0 } }

    /// Sends `signal` to the point's process.
    func send(_ signal: Int32) { kill(pid, signal) }
}

/// A sweep that cannot go on: one line for the user.
struct SweepError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
