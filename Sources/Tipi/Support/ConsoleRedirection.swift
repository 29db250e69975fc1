import Synchronization

/// Where standard output and standard error really go while a run keeps the program's console output
/// (``ConsoleCapture`` in Tracking sends descriptors 1 and 2 into pipes and copies them on).
///
/// The progress display asks here, so bars keep drawing on the real terminal, never into the kept log,
/// and the capture registers here: the dependency points down, as for the other owners in Support.
package enum ConsoleRedirection {
    private struct State {
        var originals: [Int32: Int32] = [:]
        var copy: (@Sendable (String) -> Void)?
    }

    private static let state = Mutex(State())
    private static let active = Atomic<Bool>(false)

    /// The descriptor that reaches what `descriptor` (1 or 2) reached before the capture; itself otherwise.
    package static func original(of descriptor: Int32) -> Int32 {
        guard active.load(ordering: .acquiring) else { return descriptor }
        return state.withLock { $0.originals[descriptor] } ?? descriptor
    }

    /// Text written straight to the original standard output or error (above the bars): a copy goes to
    /// the kept log, as if it had passed through the capture.
    package static func copyToLog(_ text: String, descriptor: Int32) {
        guard active.load(ordering: .acquiring), descriptor == 1 || descriptor == 2 else { return }
        let copy = state.withLock { $0.copy }
        copy?(text)
    }

    /// Sets (or, with an empty table, clears) the original descriptors and the log's copy function.
    package static func set(originals: [Int32: Int32], copy: (@Sendable (String) -> Void)?) {
        state.withLock {
            $0.originals = originals
            $0.copy = copy
        }
        active.store(!originals.isEmpty, ordering: .releasing)
    }
}
