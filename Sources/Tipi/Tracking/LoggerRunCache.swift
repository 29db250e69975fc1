import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Each thread's last answer to "which run does this logger write to", so that `logger.log` takes no lock
/// and no reference count when the answer has not changed.
///
/// A logger's state has a *generation*, taken from a process-wide counter whenever the run it writes to
/// changes (so a generation value belongs to one logger and one run, and is never used again). A thread
/// that looked the run up under the logger's lock keeps the generation and the run in its thread-local
/// ``Entry``; later, while the logger's generation is still the same, the entry's run is the answer — the
/// same one the lock would give. The entry holds the run strongly, so the reference stays valid whatever
/// other threads do; it is replaced at the thread's next lookup after a change, and released when the
/// thread ends.
enum LoggerRunCache {
    /// One thread's cached lookup (only that thread reads or writes it).
    final class Entry {
        /// The logger generation `run` belongs to (0: none).
        var generation: UInt = 0
        /// Keeps `unmanaged` alive.
        var run: Run?
        /// `run`, to be used without retaining it.
        var unmanaged: Unmanaged<Run>?
    }

    /// A new generation value (never 0, never repeated).
    static func nextGeneration() -> UInt {
        generations.wrappingAdd(1, ordering: .relaxed).newValue
    }

    private static let generations = Atomic<UInt>(0)

    /// The thread-local slot of the entries (one key for every logger: an entry serves the last logger that
    /// stored into it on that thread).
    static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { pointer in
            #if canImport(Darwin)
                Unmanaged<Entry>.fromOpaque(pointer).release()
            #else
                if let pointer { Unmanaged<Entry>.fromOpaque(pointer).release() }
            #endif
        }
        precondition(status == 0, "pthread_key_create failed (\(status))")
        return key
    }()

    /// The run cached on this thread for `generation`, if that is what this thread cached last.
    @inline(__always)
    static func run(key: pthread_key_t, generation: UInt) -> Unmanaged<Run>? {
        guard let pointer = pthread_getspecific(key) else { return nil }
        return Unmanaged<Entry>.fromOpaque(pointer)._withUnsafeGuaranteedRef { entry in
            entry.generation == generation ? entry.unmanaged : nil
        }
    }

    /// Caches `run` as this thread's answer for `generation`.
    static func store(_ run: Run, generation: UInt, key: pthread_key_t) {
        let entry: Entry
        if let pointer = pthread_getspecific(key) {
            entry = Unmanaged<Entry>.fromOpaque(pointer).takeUnretainedValue()
        } else {
            entry = Entry()
            guard pthread_setspecific(key, Unmanaged.passRetained(entry).toOpaque()) == 0 else {
                Unmanaged.passUnretained(entry).release()
                return
            }
        }
        entry.run = run
        entry.unmanaged = Unmanaged.passUnretained(run)
        entry.generation = generation
    }
}
