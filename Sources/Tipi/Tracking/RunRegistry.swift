import Synchronization

/// The runs of this process that are not finished yet. It registers one hook with `Lifecycle`, which
/// finishes them at exit (`finished`) or on a stop signal (`interrupted`); runs register here when they
/// start and leave when they finish. Nothing in tracking calls up into the logger façade.
enum RunRegistry {
    private static let open = Mutex<[ObjectIdentifier: Run]>([:])
    private static let hooked = Mutex(false)

    /// Adds a started run (and, the first time, the lifecycle hook and the signal handlers).
    static func add(_ run: Run) {
        open.withLock { $0[ObjectIdentifier(run)] = run }
        let first = hooked.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        if first {
            Lifecycle.register(.runs) { ending in
                finishAll(status: ending == .exit ? .finished : .interrupted)
            }
            // The device a program chose is recorded in the run it logs to (the pipeline's, or the logger's).
            Lifecycle.subscribe { event in
                // A configuration error ends the program with status 2: the open runs did not finish well.
                if event is ConfigurationExit.Announcement {
                    finishAll(status: .failed)
                    return
                }
                if let fallback = event as? DeviceFallback, let run = logger.run, !run.isFinished, run.metadata.device == nil {
                    run.recordDevice(fallback.device, fallback: fallback.reason)
                    return
                }
                guard let device = event as? Device, let run = logger.run, !run.isFinished, run.metadata.device == nil
                else { return }
                run.recordDevice(device)
            }
        }
        Lifecycle.installSignals()
    }

    /// Removes a finished run.
    static func remove(_ run: Run) {
        _ = open.withLock { $0.removeValue(forKey: ObjectIdentifier(run)) }
    }

    /// Finishes every open run.
    static func finishAll(status: RunStatus) {
        let runs = open.withLock { Array($0.values) }
        for run in runs { run.finish(status: status) }
    }
}
