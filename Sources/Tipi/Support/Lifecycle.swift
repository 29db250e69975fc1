import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one owner of a program's lifecycle: the end of the process (normal exit or a stop signal), the
/// signal handlers, and the "stop requested" flag that safe points read.
///
/// The other parts register with it and are never called by name: tracking registers "finish the open
/// runs" (``Stage/runs``), the shared progress display "leave the cursor below the bars"
/// (``Stage/display``), a pipeline (and ``InterruptHooks``) its cleanup (``Stage/interrupt``) and, while
/// it runs, itself as the stop owner. Dependencies point one way: Progress, Tracking, Devices and the
/// pipeline → `Lifecycle`; `Lifecycle` depends on nothing of theirs.
///
/// On SIGINT, SIGTERM or SIGHUP (when the program left them at their default action):
/// 1. the handler only sets the flag and writes the signal number into a pipe (async-signal-safe, no lock);
///    a second signal restores the default action, so the process ends at once;
/// 2. the signal thread wakes the stop owners (a pipeline cancels its running task) and waits: a thread
///    that reaches a safe point (a progress bar's `next()`, `logger.log`) either ends its loop (when a stop
///    owner will finish the program, after its cleanup) or ends the program itself, right there;
/// 3. if nothing did within the grace period (`TIPI_STOP_GRACE`, 1 s without a stop owner), the signal
///    thread ends the program itself: hooks in stage order, stdio flushed, the signal raised again with its
///    default action (exit status 130 / 143 / 129). A stop owner that is cleaning up is waited for, not cut
///    short; once the hooks run, a watchdog bounds them.
package enum Lifecycle {
    /// When a hook runs relative to the others (lower first).
    package enum Stage: Int, Sendable {
        /// Work before runs are finished on a signal (a pipeline's cleanup, ``InterruptHooks``).
        case interrupt = 0
        /// Finishing the open runs.
        case runs = 1
        /// Restoring the terminal.
        case display = 2
    }

    /// How the program ends.
    package enum Ending: Sendable, Equatable {
        /// Normal exit (`exit`, the end of `main`).
        case exit
        /// A stop signal (its number).
        case signal(Int32)
    }

    /// A registered hook.
    package typealias Hook = @Sendable (Ending) -> Void

    private struct Registry {
        var hooks: [(id: Int, stage: Stage, hook: Hook)] = []
        var stopOwners: [(id: Int, onStop: @Sendable () -> Void, endsLoops: Bool)] = []
        var nextID = 1
        var exitInstalled = false
        var signalsInstalled = false
        var subscribers: [@Sendable (any Sendable) -> Void] = []
    }

    private static let registry = Mutex(Registry())
    /// 0 while nobody ends the program; 1 once a thread has claimed it.
    private static let ending = Atomic<Int>(0)
    /// The write end of the signal pipe (set before the handlers are installed).
    private static let pipeWriteEnd = Atomic<Int32>(-1)

    /// The stop signal received, or 0.
    package static var stopSignal: Int32 {
        StopRequest.flag.signal.load(ordering: .relaxed)
    }

    // MARK: - Hooks

    /// Adds a hook run once when the program ends (normal exit or stop signal), in stage order, then in
    /// the order added. Installs the exit handler on first use. Returns a token for ``unregister(_:)``.
    @discardableResult
    package static func register(_ stage: Stage, _ hook: @escaping Hook) -> Int {
        let (id, installExit) = registry.withLock { registry -> (Int, Bool) in
            let id = registry.nextID
            registry.nextID += 1
            registry.hooks.append((id, stage, hook))
            defer { registry.exitInstalled = true }
            return (id, !registry.exitInstalled)
        }
        if installExit { atexit { Lifecycle.endAtExit() } }
        return id
    }

    /// Removes a hook.
    package static func unregister(_ id: Int) {
        registry.withLock { $0.hooks.removeAll { $0.id == id } }
    }

    /// Declares that the caller stops cooperatively on a signal (a pipeline): safe points then end their
    /// loops instead of ending the program, `onStop` runs on the signal thread (to cancel tasks), and the
    /// owner calls ``endBySignal()`` once it has cleaned up. Returns a token for ``removeStopOwner(_:)``.
    package static func addStopOwner(onStop: @escaping @Sendable () -> Void) -> Int {
        installSignals()
        return registry.withLock { registry in
            let id = registry.nextID
            registry.nextID += 1
            registry.stopOwners.append((id, onStop, true))
            return id
        }
    }

    /// The stop owner's work after its process returned (cleanup, recording the run) must run to the end:
    /// from now on safe points do nothing for it (a cleanup may use progress bars and the logger).
    package static func stopOwnerIsCleaningUp(_ id: Int) {
        registry.withLock { registry in
            for index in registry.stopOwners.indices where registry.stopOwners[index].id == id {
                registry.stopOwners[index].endsLoops = false
            }
        }
    }

    /// Removes a stop owner.
    package static func removeStopOwner(_ id: Int) {
        registry.withLock { $0.stopOwners.removeAll { $0.id == id } }
    }

    // MARK: - Announcements

    /// Announces a fact to whoever subscribed (Devices publishes the device it chose; tracking records it
    /// in the run in use). Subscribers run on the caller's thread, so task-local context is visible.
    package static func publish(_ event: any Sendable) {
        let subscribers = registry.withLock { $0.subscribers }
        for subscriber in subscribers { subscriber(event) }
    }

    /// Receives every announcement from now on.
    package static func subscribe(_ subscriber: @escaping @Sendable (any Sendable) -> Void) {
        registry.withLock { $0.subscribers.append(subscriber) }
    }

    // MARK: - Safe points

    /// A safe point found the stop flag set. With a stop owner it returns `true` (end the loop; the owner
    /// finishes the program after its cleanup); otherwise the calling thread, which holds none of Tipi's
    /// locks here, ends the program itself and does not return.
    ///
    /// Once a thread is ending the program, safe points do nothing (the hooks may log and use bars).
    package static func reachedSafePoint() -> Bool {
        guard stopSignal != 0, ending.load(ordering: .acquiring) == 0 else { return false }
        let owners = registry.withLock { $0.stopOwners.map(\.endsLoops) }
        if owners.contains(true) { return true }
        if !owners.isEmpty { return false }
        endBySignal()
    }

    // MARK: - Ending

    /// Ends the program because of the stop signal: runs the hooks once, flushes stdio and raises the
    /// signal again with its default action. The first caller does it; a later one waits for it.
    package static func endBySignal() -> Never {
        let signal = stopSignal == 0 ? SIGTERM : stopSignal
        guard claimEnding() else { parkForever() }
        // The hooks are bounded (finishing a run by the finish timeout); should one hang anyway, the
        // process still ends by the signal's status.
        startWatchdog(after: finishTimeout + 60, signal: signal)
        runHooks(.signal(signal))
        fflush(nil)
        restoreDefaultAction(signal)
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, signal)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        raise(signal)
        usleep(500_000)
        _exit(128 + signal)
    }

    private static func endAtExit() {
        // A signal arrived and the program returned before anyone ended it: end it by the signal now.
        if stopSignal != 0 { endBySignal() }
        // Another thread is ending the program (a stop): let it finish; its watchdog bounds it.
        guard claimEnding() else { parkForever() }
        runHooks(.exit)
    }

    private static func claimEnding() -> Bool {
        ending.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged
    }

    private static func runHooks(_ ending: Ending) {
        let hooks = registry.withLock { registry in
            registry.hooks.enumerated().sorted { ($0.element.stage.rawValue, $0.offset) < ($1.element.stage.rawValue, $1.offset) }
                .map(\.element.hook)
        }
        for hook in hooks { hook(ending) }
    }

    private static func parkForever() -> Never {
        while true { sleep(60) }
    }

    // MARK: - Signals

    /// Seconds a stop owner gets to reach a safe point and clean up before the signal thread ends the
    /// program itself (`TIPI_STOP_GRACE`, default 10).
    package static var stopGrace: Double {
        Environment.number("TIPI_STOP_GRACE", default: 10, in: 0...3600)
    }

    /// Seconds the backends get to finish a run (`TIPI_FINISH_TIMEOUT`, default 10, at most an hour): the
    /// one reader of that variable.
    package static var finishTimeout: Double {
        Environment.number("TIPI_FINISH_TIMEOUT", default: 10, in: 0...3600)
    }

    /// Handles SIGINT, SIGTERM and SIGHUP from now on (each only while it still has its default action, so
    /// a program's or a framework's own handler is never replaced). Idempotent.
    package static func installSignals() {
        let first = registry.withLock { registry -> Bool in
            defer { registry.signalsInstalled = true }
            return !registry.signalsInstalled
        }
        guard first else { return }
        let wanted = [SIGINT, SIGTERM, SIGHUP].filter(hasDefaultDisposition)
        guard !wanted.isEmpty else { return }
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { return }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        // Everything the handler reads is initialised here, before the handler can run.
        _ = StopRequest.flag.signal.load(ordering: .relaxed)
        pipeWriteEnd.store(ends[1], ordering: .releasing)
        // Read now, so that a bad value warns at start.
        let grace = stopGrace
        _ = finishTimeout
        let readEnd = ends[0]
        let thread = Thread { signalThread(readEnd: readEnd, grace: grace) }
        thread.name = "tipi-signals"
        thread.start()
        for signalNumber in wanted {
            var action = sigaction()
            #if canImport(Darwin)
                action.__sigaction_u.__sa_handler = Lifecycle.handler
            #else
                action.__sigaction_handler.sa_handler = Lifecycle.handler
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = Int32(SA_RESTART)
            sigaction(signalNumber, &action, nil)
        }
    }

    /// The handler: atomics and `write` only (async-signal-safe, no lock, no lazy initialisation).
    private static let handler: @convention(c) (Int32) -> Void = { number in
        guard StopRequest.flag.signal.compareExchange(expected: 0, desired: number, ordering: .relaxed).exchanged else {
            // A second signal: its default action ends the process as soon as this handler returns.
            restoreDefaultAction(number)
            raise(number)
            return
        }
        var value = number
        let descriptor = Lifecycle.pipeWriteEnd.load(ordering: .relaxed)
        _ = withUnsafeBytes(of: &value) { write(descriptor, $0.baseAddress, 4) }
    }

    private static func signalThread(readEnd: Int32, grace: Double) {
        var number: Int32 = 0
        while true {
            let count = withUnsafeMutableBytes(of: &number) { read(readEnd, $0.baseAddress, 4) }
            if count == 4 { break }
            if count < 0, errno == EINTR { continue }
            return
        }
        let owners = registry.withLock { $0.stopOwners.map { $0.onStop } }
        for onStop in owners { onStop() }
        // Wait for a safe point (or the owner) to end the program. An owner that is cleaning up is not cut
        // short: it is waited for (a second signal still ends the process at once).
        let deadline = Date().addingTimeInterval(owners.isEmpty ? min(grace, 1) : grace)
        while ending.load(ordering: .acquiring) == 0 {
            let cleaningUp = registry.withLock { $0.stopOwners.contains { !$0.endsLoops } }
            if !cleaningUp, Date() >= deadline { endBySignal() }
            usleep(10_000)
        }
    }

    private static func startWatchdog(after seconds: Double, signal: Int32) {
        let thread = Thread {
            usleep(UInt32(min(seconds, 4000) * 1_000_000))
            _exit(128 + signal)
        }
        thread.name = "tipi-stop-watchdog"
        thread.start()
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

/// Whether the program was asked to stop (Ctrl-C, SIGTERM, SIGHUP) and should return at its next safe point.
///
/// Progress bars and `logger.log` are safe points already: inside a pipeline the loops they drive end
/// (the pipeline then cleans up, records the run as interrupted and ends with the signal); in a plain
/// program the run is finished right there and the program ends with the signal. A long loop of your own
/// can check it too:
///
/// ```swift
/// while !converged, !StopRequest.isRequested { step() }
/// ```
public enum StopRequest {
    /// `true` once a handled SIGINT, SIGTERM or SIGHUP arrived (one relaxed atomic load).
    @inlinable
    public static var isRequested: Bool {
        flag.signal.load(ordering: .relaxed) != 0
    }

    /// The flag (its value is the signal number); safe points keep a reference to it.
    @usableFromInline static let flag = StopFlag()

    /// A safe point found the flag set: `true` means "end the loop now"; without a pipeline to stop
    /// cooperatively, the program ends here (this does not return).
    @usableFromInline
    static func reachedSafePoint() -> Bool {
        Lifecycle.reachedSafePoint()
    }
}

/// The "stop requested" flag: the signal number, 0 while running.
@usableFromInline
final class StopFlag: Sendable {
    @usableFromInline let signal = Atomic<Int32>(0)

    init() {}
}

/// `signal(number, SIG_DFL)` (async-signal-safe), under a name that does not clash with members called `signal`.
private func restoreDefaultAction(_ number: Int32) {
    _ = signal(number, SIG_DFL)
}
