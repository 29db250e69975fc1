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
    /// The last whole `/api/runs` answer and the digest of the listing it was written from.
    private let encodedList = Mutex<(digest: UInt64, data: Data)?>(nil)
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
        return runs(of: store.listing(withConfig: true), now: now)
    }

    /// The runs of `listed` inside the store; kept as the latest listing.
    private func runs(of listed: RunListing, now: Double) -> [RunStore.StoredRun] {
        for problem in listed.problems { Diagnostics.warnOnce(key: "ui-store:" + problem, problem) }
        // Each project folder resolved once: a run folder that is no symbolic link lies where its project's
        // real path says (`realpath` of each of 10,000 folders walks every component of every path).
        var realProjects: [Substring: String?] = [:]
        let inside = listed.decodedRuns().filter { run in
            let path = run.folder.path
            var info = stat()
            let isInside: Bool
            if let slash = path.lastIndex(of: "/"), slash != path.startIndex, lstat(path, &info) == 0,
                info.st_mode & S_IFMT == S_IFDIR
            {
                let parent = path[..<slash]
                if realProjects[parent] == nil { realProjects[parent] = .some(Self.realPath(String(parent))) }
                isInside = realProjects[parent].flatMap { $0 }.map { ($0 + path[slash...]).hasPrefix(realRoot) } ?? false
            } else {
                isInside = self.isInside(run.folder)
            }
            guard isInside else {
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

    /// `/api/runs` with no parameter (the runs page's whole list, some 6 MB for 10,000 runs), as last written
    /// when the store's listing has the same digest (``RunListing/digest()``: every run's fields, validated
    /// against its `run.json`, folder and status); written again otherwise. The store is listed on every
    /// request: a run changed by any process since the last answer changes the digest.
    func allRunsJSON() -> Data {
        let now = Date().timeIntervalSince1970
        let listed = store.listing(withConfig: true)
        let digest = listed.digest()
        if let kept = encodedList.withLock({ $0 }), kept.digest == digest {
            return kept.data
        }
        let data = Data(RunsJSON.listBytes(runs(of: listed, now: now)))
        encodedList.withLock { $0 = (digest, data) }
        return data
    }

    func runsJSON(since: Double?, offset: Int, limit: Int?) throws -> Data {
        if since == nil, offset == 0, limit == nil { return allRunsJSON() }
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
        return Data(RunsJSON.listBytes(Array(selected[start..<end])))
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
