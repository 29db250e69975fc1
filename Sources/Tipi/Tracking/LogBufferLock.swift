import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The lock of a run's log buffer: one atomic exchange to take it and a plain releasing store to give it
/// back, half the atomic operations of `Mutex` (whose unlock must also look for sleeping waiters). `log`
/// takes it once per call, so that atomic is a good part of the call's cost.
///
/// It is meant for short critical sections that never block (no I/O, no waiting inside): a thread that
/// finds it taken spins a little, then yields its core (`sched_yield`) until it is free, so a holder that
/// was preempted gets to run. The state lives in memory of its own, reached through a pointer, so that
/// `withLock` makes no dynamic exclusivity check. The run's buffer is a subclass, so that `log` reaches the
/// lock with one reference (no retain of an inner object).
class LogBufferLock<State>: @unchecked Sendable {
    private let word = Atomic<Bool>(false)
    private let state: UnsafeMutablePointer<State>

    init(_ initial: State) {
        state = .allocate(capacity: 1)
        state.initialize(to: initial)
    }

    deinit {
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// Runs `body` with the state, holding the lock.
    @inline(__always)
    func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        if word.exchange(true, ordering: .acquiring) { waitAndLock() }
        defer { word.store(false, ordering: .releasing) }
        return try body(&state.pointee)
    }

    /// Spins, then yields, until the lock is taken by this thread.
    @inline(never)
    private func waitAndLock() {
        var attempts = 0
        while true {
            if !word.load(ordering: .relaxed), !word.exchange(true, ordering: .acquiring) { return }
            attempts += 1
            if attempts > 1_000 {
                usleep(50)  // a holder that does not get a core soon: stop competing with it
            } else if attempts > 64 {
                sched_yield()
            }
        }
    }
}
