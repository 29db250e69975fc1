import Synchronization

/// Finishes open runs at normal exit (status `finished`) and on SIGINT / SIGTERM / SIGHUP (status
/// `interrupted`, then the signal's default action, so the shell sees exit status 130 / 143 / 129).
///
/// A signal is only handled when the program has not installed its own handler for it (its disposition is
/// still the default), so Tipi never takes a signal away from a program or a framework that manages it.
/// The mechanism belongs to `Lifecycle` (the one owner of the program's end): the handler only sets the
/// ``StopRequest`` flag; the program stops at its next safe point (a progress bar's `next()`,
/// `logger.log`) or, failing that, after a short grace period; stdio is flushed before the signal is
/// raised again. A second signal ends the process at once.
public enum RunSignals {
    /// Makes sure SIGINT/SIGTERM/SIGHUP finish open runs (and run ``InterruptHooks``) from now on.
    public static func ensureInstalled() {
        Lifecycle.installSignals()
    }

    /// Whether a signal asked the program to stop (the status of a run finished meanwhile is `interrupted`).
    static var interrupted: Bool {
        Lifecycle.stopSignal != 0
    }
}

/// Work to do when SIGINT, SIGTERM or SIGHUP stops the program, before runs are finished (a program
/// releases what it holds here). Hooks run once, in the order they were added, on the thread that ends the
/// program (the signal thread, or the thread that reached a safe point); they are not run at normal exit.
public enum InterruptHooks {
    private static let tokens = Mutex<[Int: Int]>([:])
    private static let counter = Atomic<Int>(0)

    /// Adds a hook; returns a token for ``remove(_:)``.
    @discardableResult
    public static func add(_ hook: @escaping @Sendable () -> Void) -> Int {
        let id = counter.wrappingAdd(1, ordering: .relaxed).newValue
        let token = Lifecycle.register(.interrupt) { ending in
            if case .signal = ending { hook() }
        }
        tokens.withLock { $0[id] = token }
        Lifecycle.installSignals()
        return id
    }

    /// Removes a hook added with ``add(_:)``.
    public static func remove(_ id: Int) {
        if let token = tokens.withLock({ $0.removeValue(forKey: id) }) { Lifecycle.unregister(token) }
    }
}
