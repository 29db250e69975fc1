import Synchronization

/// A run carried by a ``PipelineContext``, counted while any copy of such a context is alive.
///
/// `logger.log` asks the task-local ``PipelineContext/current`` for a pipeline's run first. That read is a
/// generic runtime call that copies the whole context, and in a plain program (no pipeline) it answers `nil`
/// millions of times. Every context that carries a run holds one of these tokens (its copies share it), so
/// while ``anyAlive`` is `false` no context anywhere — bound to a task or not — carries a run, and the read
/// can be skipped. Inside a pipeline the count is above zero and the context is read as before.
///
/// The count only falls when the last copy of a context is gone, so it can be too high (a context kept in a
/// variable), never too low: a task that sees a context with a run also sees the increment made when that
/// context was created (task creation and binding order them).
final class PipelineRunBinding: Sendable {
    let run: Run

    init(_ run: Run) {
        self.run = run
        Self.live.add(1, ordering: .relaxed)
    }

    deinit {
        Self.live.subtract(1, ordering: .relaxed)
    }

    /// How many tokens are alive.
    private static let live = Atomic<Int>(0)

    /// Whether some ``PipelineContext`` alive in the process carries a run.
    static var anyAlive: Bool {
        live.load(ordering: .relaxed) != 0
    }
}
