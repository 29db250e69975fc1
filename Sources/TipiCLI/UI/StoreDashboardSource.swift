import Foundation
import Synchronization
import Tipi
import TipiUI

/// The dashboard's data from a run store, encoded by the same code as `tipi runs --json` (``RunsJSON``).
///
/// The listing is kept for a second (every open page polls it); a metric history is kept until the run's
/// metric file changes size or time, so the charts of a finished run are read once. Runs whose folder
/// lies outside the store once symbolic links are resolved are not served.
final class StoreDashboardSource: DashboardSource {
    let store: RunStore
    /// The store's real path with a trailing slash.
    let realRoot: String
    private let listing = Mutex<(time: Double, runs: [RunStore.StoredRun])?>(nil)
    /// Run folders by id and by folder name, from the latest listing (a run's folder never moves).
    private let folders = Mutex<[String: URL]>([:])
    private let histories = Mutex<[String: (stamp: FileStamp, history: MetricHistory)]>([:])
    /// Seconds a listing is reused.
    static let listingLifetime = 1.0
    /// How many histories are kept (the least recently read go first).
    static let keptHistories = 32

    init(store: RunStore) {
        self.store = store
        realRoot = Self.realPath(store.root.path).map { $0.hasSuffix("/") ? $0 : $0 + "/" } ?? store.root.path
    }

    /// Every run of the store (newest first, as `tipi runs` lists them), without those outside it.
    func runs() -> [RunStore.StoredRun] {
        let now = Date().timeIntervalSince1970
        if let cached = listing.withLock({ $0 }), now - cached.time < Self.listingLifetime, now >= cached.time {
            return cached.runs
        }
        let (all, problems) = store.runs(withConfig: true)
        for problem in problems { Diagnostics.warnOnce(key: "ui-store:" + problem, problem) }
        let inside = all.filter { run in
            guard isInside(run.folder) else {
                Diagnostics.warnOnce(
                    key: "ui-outside:" + run.folder.path, "\(run.folder.path): leads outside the run store \(store.root.path); not served")
                return false
            }
            return true
        }
        listing.withLock { $0 = (now, inside) }
        folders.withLock { folders in
            for run in inside {
                folders[run.metadata.id] = run.folder
                folders[run.folder.lastPathComponent] = run.folder
            }
        }
        return inside
    }

    func isInside(_ folder: URL) -> Bool {
        guard let real = Self.realPath(folder.path) else { return false }
        return real.hasPrefix(realRoot)
    }

    func runsJSON(since: Double?, offset: Int, limit: Int?) throws -> Data {
        var selected = runs()
        if let since {
            selected = selected.filter { run in
                let metadata = run.metadata
                return run.status == .running || metadata.startTime >= since || (metadata.endTime ?? -.infinity) >= since
                    || (metadata.heartbeat ?? -.infinity) >= since
            }
        }
        let start = min(offset, selected.count)
        let end = limit.map { min(start + min($0, selected.count), selected.count) } ?? selected.count
        return Data(RunsJSON.list(Array(selected[start..<end])).utf8)
    }

    /// The run `query` names, found the way `tipi runs show` finds it; inside the store only. A run id
    /// seen in an earlier listing is read afresh from its folder, without listing the store again.
    func find(_ query: String) throws -> RunStore.StoredRun {
        if let folder = folders.withLock({ $0[query] }), let run = store.run(inFolder: folder), isInside(run.folder) {
            return run
        }
        let listed = runs()
        if let exact = listed.first(where: { $0.metadata.id == query || $0.folder.lastPathComponent == query }) {
            return exact
        }
        let found: RunStore.StoredRun
        do {
            found = try store.run(matching: query)
        } catch {
            throw DashboardRequestError(status: 404, "\(error)")
        }
        guard isInside(found.folder) else { throw DashboardRequestError(status: 404, "no run \(query) in the store") }
        return found
    }

    func runJSON(_ query: String) throws -> Data {
        let run = try find(query)
        let history = self.history(of: run)
        return Data(try RunsJSON.detail(run, history: history).utf8)
    }

    func series(run query: String, metric: String) throws -> (steps: [Int], values: [Double]) {
        let run = try find(query)
        let history = self.history(of: run)
        guard let series = history.series[metric] else {
            let suggestion = Suggestion.nearest(to: metric, in: Array(history.series.keys))
            throw DashboardRequestError(
                status: 404, "run \(run.metadata.id) has no metric '\(metric)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""))
        }
        return (series.steps, series.values)
    }

    /// The run's metric history, read again only when its file changed; an unreadable file is an empty history.
    func history(of run: RunStore.StoredRun) -> MetricHistory {
        let path = run.folder.appendingPathComponent("metrics.tipilog").path
        let stamp = FileStamp(path: path)
        if let kept = histories.withLock({ $0[path] }), kept.stamp == stamp, stamp != nil {
            return kept.history
        }
        let history = (try? RunStore.history(of: run)) ?? MetricHistory()
        histories.withLock { kept in
            if kept.count >= Self.keptHistories, let first = kept.keys.first { kept[first] = nil }
            kept[path] = (stamp ?? FileStamp(size: -1, modified: -1), history)
        }
        return history
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// A file's size and modification time: when they are the same, the file was not written to.
struct FileStamp: Equatable, Sendable {
    var size: Int64
    var modified: Double

    init(size: Int64, modified: Double) {
        self.size = size
        self.modified = modified
    }

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        size = Int64(info.st_size)
        #if canImport(Darwin)
            modified = Double(info.st_mtimespec.tv_sec) + Double(info.st_mtimespec.tv_nsec) / 1e9
        #else
            modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        #endif
    }
}
