import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finishes open runs at normal exit (status `finished`) and on SIGINT / SIGTERM (status `interrupted`,
/// then the signal's default action, so the shell sees exit status 130 / 143).
///
/// A signal is only handled when the program has not installed its own handler for it (its disposition is
/// still the default), so Tipi never takes a signal away from a program or a framework that manages it.
///
/// How: the handler writes the signal number into a pipe (async-signal-safe) and holds the thread it
/// interrupted, so the program does not carry on half-stopped; a dedicated thread reads the pipe, finishes
/// the runs (bounded by `TIPI_FINISH_TIMEOUT`), restores the default action and sends the signal again.
/// A second signal during that time ends the process at once.
public enum RunSignals {
    nonisolated(unsafe) static var pipeWriteEnd: Int32 = -1
    nonisolated(unsafe) static var signalThread = pthread_t()
    nonisolated(unsafe) static var holdLimit: Double = 20
    static let pending = Atomic<Int32>(0)

    /// Makes sure SIGINT/SIGTERM finish open runs (and run ``InterruptHooks``) from now on.
    public static func ensureInstalled() {
        let first = installed.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        if first { install() }
    }

    static let installed = Mutex(false)

    private static func install() {
        atexit { ExperimentLogger.finishAll(status: .finished) }
        let wanted = [SIGINT, SIGTERM].filter(hasDefaultDisposition)
        guard !wanted.isEmpty else { return }
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { return }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        pipeWriteEnd = ends[1]
        holdLimit = (Environment.value("TIPI_FINISH_TIMEOUT").flatMap(Double.init) ?? 10) + 10
        let readEnd = ends[0]
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread {
            signalThread = pthread_self()
            ready.signal()
            var number: Int32 = 0
            while true {
                let count = withUnsafeMutableBytes(of: &number) { read(readEnd, $0.baseAddress, 4) }
                if count == 4 { break }
                if count < 0, errno == EINTR { continue }
                return
            }
            InterruptHooks.runAll()
            ExperimentLogger.finishAll(status: .interrupted)
            ProgressDisplay.shared.finishAtExit()
            signal(number, SIG_DFL)
            // Deliver it to this thread, unblocked, so the default action ends the process by the signal
            // (the shell then reports 128 + n); _exit is the fallback.
            var unblock = sigset_t()
            sigemptyset(&unblock)
            sigaddset(&unblock, number)
            pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
            raise(number)
            usleep(500_000)
            _exit(128 + number)
        }
        thread.name = "tipi-signals"
        thread.start()
        ready.wait()
        for signalNumber in wanted {
            var action = sigaction()
            #if canImport(Darwin)
                action.__sigaction_u.__sa_handler = RunSignals.handler
            #else
                action.__sigaction_handler.sa_handler = RunSignals.handler
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = Int32(SA_RESTART)
            sigaction(signalNumber, &action, nil)
        }
    }

    /// Whether a signal asked the runs to stop (the status of a run finished meanwhile is `interrupted`).
    static var interrupted: Bool {
        pending.load(ordering: .relaxed) != 0
    }

    /// The signal handler (async-signal-safe: atomics, write, nanosleep, _exit).
    static let handler: @convention(c) (Int32) -> Void = { number in
        guard RunSignals.pending.compareExchange(expected: 0, desired: number, ordering: .relaxed).exchanged else {
            _exit(128 + number)  // a second signal: stop now
        }
        var value = number
        _ = withUnsafeBytes(of: &value) { write(RunSignals.pipeWriteEnd, $0.baseAddress, 4) }
        guard pthread_equal(pthread_self(), RunSignals.signalThread) == 0 else { return }
        // Hold the interrupted thread until the signal thread has finished the runs and ended the process.
        var pause = timespec(tv_sec: 0, tv_nsec: 10_000_000)
        var waited = 0.0
        while waited < RunSignals.holdLimit {
            nanosleep(&pause, nil)
            waited += 0.01
        }
        _exit(128 + number)
    }

    static func hasDefaultDisposition(_ signalNumber: Int32) -> Bool {
        var current = sigaction()
        guard sigaction(signalNumber, nil, &current) == 0 else { return false }
        #if canImport(Darwin)
            let handler = unsafeBitCast(current.__sigaction_u.__sa_handler, to: Int.self)
        #else
            let handler = unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self)
        #endif
        return handler == unsafeBitCast(SIG_DFL, to: Int.self)
    }
}

/// Work to do when SIGINT or SIGTERM stops the program, before runs are finished (a pipeline cleans up
/// its permanences here). Hooks run on the signal thread, in the order they were added.
public enum InterruptHooks {
    private static let hooks = Mutex<[(id: Int, hook: @Sendable () -> Void)]>([])
    private static let counter = Atomic<Int>(0)

    /// Adds a hook; returns a token for ``remove(_:)``.
    @discardableResult
    public static func add(_ hook: @escaping @Sendable () -> Void) -> Int {
        let id = counter.wrappingAdd(1, ordering: .relaxed).newValue
        hooks.withLock { $0.append((id, hook)) }
        RunSignals.ensureInstalled()
        return id
    }

    public static func remove(_ id: Int) {
        hooks.withLock { $0.removeAll { $0.id == id } }
    }

    static func runAll() {
        let all = hooks.withLock { $0 }
        for entry in all { entry.hook() }
    }
}
