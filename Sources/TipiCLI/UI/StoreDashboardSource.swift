import Foundation
import Synchronization
import Tipi
import TipiUI

/// The dashboard's data from a run store, encoded by the same code as `tipi runs --json` (``RunsJSON``).
///
/// The listing is kept for a second (every open page polls it), then listed again and its runs decoded again
/// only when its digest (``RunListing/digest()``) changed; a metric history is kept until the run's
/// metric file changes size or time, so the charts of a finished run are read once. Runs whose folder
/// lies outside the store once symbolic links are resolved are not served.
final class StoreDashboardSource: DashboardSource {
    let store: RunStore
    /// The store's real path with a trailing slash.
    let realRoot: String
    private let listing = Mutex<(time: Double, digest: UInt64, runs: [RunStore.StoredRun])?>(nil)
    /// Run folders by id and by folder name, from the latest listing (a run's folder never moves).
    private let folders = Mutex<[String: URL]>([:])
    /// The last whole `/api/runs` answer and the digest of the listing it was written from.
    private let encodedList = Mutex<(digest: UInt64, data: Data)?>(nil)
    /// Each run's JSON object in that answer by the run's digest (`nil`: the run lies outside the store).
    private let encodedRuns = Mutex<[UInt64: [UInt8]?]>([:])
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
        let listed = store.listing(withConfig: true)
        return runs(of: listed, digest: listed.digest(), now: now)
    }

    /// The runs of `listed` inside the store; kept as the latest listing. A listing of the same digest as the
    /// kept one has the same runs: they are not decoded again. (The same runs, folder paths and fields, with a
    /// folder turned into a link to elsewhere meanwhile, are still what was read inside the store.)
    private func runs(of listed: RunListing, digest: UInt64, now: Double) -> [RunStore.StoredRun] {
        if let kept = listing.withLock({ $0 }), kept.digest == digest {
            listing.withLock { $0 = (now, digest, kept.runs) }
            return kept.runs
        }
        for problem in listed.problems { Diagnostics.warnOnce(key: "ui-store:" + problem, problem) }
        var realProjects: [Substring: String?] = [:]
        let inside = listed.decodedRuns().filter { isListedInside($0, realProjects: &realProjects) }
        listing.withLock { $0 = (now, digest, inside) }
        folders.withLock { folders in
            for run in inside {
                folders[run.metadata.id] = run.folder
                folders[run.folder.lastPathComponent] = run.folder
            }
        }
        return inside
    }

    /// Whether a listed run lies inside the store (a warning, once, when it does not). Each project folder
    /// is resolved once (`realProjects`): a run folder that is no symbolic link lies where its project's real
    /// path says (`realpath` of each of 10,000 folders walks every component of every path).
    private func isListedInside(_ run: RunStore.StoredRun, realProjects: inout [Substring: String?]) -> Bool {
        let path = run.folder.path
        var info = stat()
        let isInside: Bool
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex, lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            let parent = path[..<slash]
            if realProjects[parent] == nil { realProjects[parent] = .some(Self.realPath(String(parent))) }
            isInside = realProjects[parent].flatMap { $0 }.map { ($0 + path[slash...]).hasPrefix(realRoot) } ?? false
        } else {
            isInside = self.isInside(run.folder)
        }
        if !isInside {
            Diagnostics.warnOnce(
                key: "ui-outside:" + run.folder.path, "\(run.folder.path): leads outside the run store \(store.root.path); not served")
        }
        return isInside
    }

    func isInside(_ folder: URL) -> Bool {
        guard let real = Self.realPath(folder.path) else { return false }
        return real.hasPrefix(realRoot)
    }

    /// `/api/runs` with no parameter (the runs page's whole list, some 4 MB for 10,000 runs), built from each
    /// run's JSON object as last written, kept by the run's digest (``RunListing/runDigests()``: its fields,
    /// validated against its `run.json`, its folder and its status now): only new and changed runs are
    /// decoded and written; the whole answer is kept too, for a listing of the same digest. The store is
    /// listed on every request, so a run changed by any process shows at once.
    func allRunsJSON() -> Data {
        let listed = store.listing(withConfig: true)
        let runDigests = listed.runDigests()
        let digest = listed.digest(combining: runDigests)
        if let kept = encodedList.withLock({ $0 }), kept.digest == digest {
            return kept.data
        }
        for problem in listed.problems { Diagnostics.warnOnce(key: "ui-store:" + problem, problem) }
        let previous = encodedRuns.withLock { $0 }
        // The runs not written before, decoded and written on all cores; nil: outside the store.
        let missing = listed.indices.filter { previous[runDigests[$0]] == nil }
        var written = [[UInt8]?](repeating: nil, count: missing.count)
        written.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let slots = buffer
            let chunks = max(1, min(missing.count / 128, ProcessInfo.processInfo.activeProcessorCount * 2))
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                var realProjects: [Substring: String?] = [:]
                for item in (missing.count * chunk / chunks)..<(missing.count * (chunk + 1) / chunks) {
                    let run = listed[missing[item]]
                    guard isListedInside(run, realProjects: &realProjects) else { continue }
                    var object = JSONBytes(capacity: 640)
                    RunsJSON.write(run, to: &object)
                    slots[item] = object.bytes
                }
            }
        }
        var objects: [UInt64: [UInt8]?] = [:]
        objects.reserveCapacity(listed.count)
        for (item, position) in missing.enumerated() { objects[runDigests[position]] = .some(written[item]) }
        var out = JSONBytes(capacity: listed.count * 640 + 2)
        out.raw("[")
        var first = true
        for position in listed.indices {
            let key = runDigests[position]
            let object: [UInt8]?
            if let fresh = objects[key] {
                object = fresh
            } else if let kept = previous[key] {
                object = kept
                objects[key] = .some(kept)
            } else {
                object = nil
            }
            guard let object else { continue }
            if !first { out.raw(",") }
            first = false
            out.bytes += object
        }
        out.raw("]")
        let data = Data(out.bytes)
        encodedRuns.withLock { $0 = objects }
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
            // Read whole: a listed run has the listed fields only (no command, device, pipeline record).
            return store.run(inFolder: exact.folder) ?? exact
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
