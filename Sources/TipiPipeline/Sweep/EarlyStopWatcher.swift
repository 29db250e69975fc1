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

/// Early stopping for a point that runs as a Slurm array task (`sweep --task ID`).
///
/// No controller decides for such a point — with `--detach` there is none — so a thread of the task's
/// own process reads the sweep's runs from the store every ``interval`` seconds and applies the sweep's
/// ``EarlyStopRule`` to its own point against every other point of the sweep. When the rule stops it, the
/// watcher records the point as stopped in the sweep's record (under the sweep's lock, so a task taking
/// its next point at the same time loses nothing) and then sends its own process one SIGINT: the run ends
/// as `interrupted`, exactly as a local point that the local launcher stops. The task ends by that signal.
final class EarlyStopWatcher: Sendable {
    /// Seconds between two reads of the store.
    static let interval = 1.0

    private let cancelled = Atomic<Bool>(false)

    private init() {}

    /// Starts watching point `index` of sweep `sweepID` (whose runs are in `project` of `store`).
    static func start(rule: EarlyStopRule, sweepID: String, index: Int, project: String, store: RunStore) -> EarlyStopWatcher {
        let watcher = EarlyStopWatcher()
        let thread = Thread {
            let reader = SweepRunReader(store: store, sweepID: sweepID, project: project)
            while !watcher.cancelled.load(ordering: .relaxed) {
                var waited = 0.0
                while waited < interval, !watcher.cancelled.load(ordering: .relaxed) {
                    usleep(50_000)
                    waited += 0.05
                }
                guard !watcher.cancelled.load(ordering: .relaxed), let saved = try? store.loadSweep(sweepID), !saved.metric.isEmpty else {
                    continue
                }
                let runs = reader.runs()
                let record = saved.refreshed(from: runs)
                guard let point = record.points.first(where: { $0.index == index }), point.status == "running", point.stopped != true else {
                    continue
                }
                let histories = EarlyStopRule.histories(of: record, runs: runs)
                guard rule.shouldStop(index, histories: histories, record: record) else { continue }
                watcher.stop(index: index, sweepID: sweepID, store: store, step: histories[index]?.steps.last, metric: record.metric)
                return
            }
        }
        thread.name = "tipi-early-stop"
        thread.start()
        return watcher
    }

    /// Stops watching (the point ended by itself).
    func cancel() { cancelled.store(true, ordering: .relaxed) }

    /// Records the point as stopped, then interrupts this process.
    private func stop(index: Int, sweepID: String, store: RunStore, step: Int?, metric: String) {
        do {
            try SweepLock.withLock(store.sweepFolder(sweepID)) {
                var saved = try store.loadSweep(sweepID)
                guard let at = saved.points.firstIndex(where: { $0.index == index }) else { return }
                saved.points[at].stopped = true
                try store.saveSweep(saved)
            }
        } catch {
            // Without the record the point would read as interrupted and run again on resume: let it run on.
            Diagnostics.warn("early stopping: point \(index) could not be recorded as stopped (\(error)); it runs on")
            return
        }
        guard !cancelled.load(ordering: .relaxed) else { return }
        print("sweep \(sweepID): point \(index) stopped early at step \(step.map(String.init) ?? "?"): its \(metric) is clearly worse than its peers'")
        fflush(nil)
        kill(getpid(), SIGINT)
    }
}
