import Foundation

/// A sweep as recorded in the run store: `<store>/sweeps/<id>/sweep.json`, beside the runs of its points.
///
/// The record keeps what a sweep decided (its method, its points and their values); what became of each
/// point (its run, status and metric value) is read from the point's run whenever the record is read
/// (``refreshed(from:)``), so the record never disagrees with the runs.
public struct SweepRecord: Sendable, Codable, Equatable {
    /// The sweep's id (`sw-` and 8 characters), unique within the store.
    public var id: String
    /// The project of its runs.
    public var project: String
    /// `grid`, `random` or `tpe`.
    public var method: String
    /// The metric the sweep optimises (a name the processes log).
    public var metric: String
    /// `minimize` or `maximize`.
    public var goal: String
    /// `running`, `finished`, `interrupted`, `failed` or `submitted` (handed to Slurm).
    public var status: String
    /// `local` or `slurm`.
    public var launcher: String
    /// Points at once.
    public var parallel: Int
    /// How many points the sweep has in all (a grid's combinations, or `trials`).
    public var trials: Int
    /// The seed of random and model-based methods.
    public var seed: UInt64
    /// Unix seconds.
    public var createdTime: Double
    /// The config file the points run, as given.
    public var configFile: String
    /// The `--set` overrides every point gets before its own values.
    public var overrides: [String]
    /// The sweep's own flags as given (`--sweep`, `--method`, …): read again, with the config kept in the
    /// sweep's folder, when the sweep is resumed.
    public var arguments: [String]
    /// The swept config paths, in spec order.
    public var parameters: [String]
    /// The points decided so far, by index.
    public var points: [Point]
    /// The early-stopping rule, when there is one (`asha`).
    public var earlyStop: String?
    /// The Slurm job (array) ids the sweep was submitted as, for `launcher = "slurm"`.
    public var slurmJobs: [String]? = nil

    /// A new sweep's record (its status `running`).
    public init(
        id: String, project: String, method: String, metric: String, goal: String, launcher: String, parallel: Int, trials: Int,
        seed: UInt64, configFile: String, overrides: [String], arguments: [String], parameters: [String], points: [Point],
        earlyStop: String?
    ) {
        self.id = id
        self.project = project
        self.method = method
        self.metric = metric
        self.goal = goal
        self.status = "running"
        self.launcher = launcher
        self.parallel = parallel
        self.trials = trials
        self.seed = seed
        self.createdTime = Date().timeIntervalSince1970
        self.configFile = configFile
        self.overrides = overrides
        self.arguments = arguments
        self.parameters = parameters
        self.points = points
        self.earlyStop = earlyStop
    }

    /// One point of a sweep.
    public struct Point: Sendable, Codable, Equatable {
        /// Its place in the sweep, from 0 (`TIPI_SWEEP_INDEX`).
        public var index: Int
        /// The swept values: `{config path: value}`.
        public var params: [String: ConfigValue]
        /// The values as `--set` arguments (`path=TOML value`), in spec order: what the point runs with.
        public var assignments: [String]
        /// Its run's id, once it started.
        public var run: String?
        /// A run status (`running`, `finished`, `failed`, `interrupted`, `crashed`), or `pending`.
        public var status: String
        /// The metric's last value in the run, once logged.
        public var value: Double?
        /// Early stopping ended it (its run is `interrupted` by the sweep, not failed).
        public var stopped: Bool?
        /// The last step of the metric seen, for early stopping.
        public var step: Int?
        /// When the point was last set to run again (`--resume`, Unix seconds): its runs started before are
        /// earlier attempts, not its result.
        public var since: Double?

        /// A point not started yet.
        public init(index: Int, params: [String: ConfigValue], assignments: [String]) {
            self.index = index
            self.params = params
            self.assignments = assignments
            self.status = "pending"
        }

        /// Whether it is over for good: finished, or stopped early. Anything else runs again on resume.
        public var isDone: Bool { status == "finished" || stopped == true }
    }

    /// Whether `a` is a better value than `b` for this sweep's goal (NaN is never better).
    public func isBetter(_ a: Double, than b: Double) -> Bool {
        guard !a.isNaN else { return false }
        guard !b.isNaN else { return true }
        return goal == "maximize" ? a > b : a < b
    }

    /// The best point with a value, if any.
    public var best: Point? {
        points.filter { $0.value.map { !$0.isNaN } ?? false }.min { a, b in
            guard let x = a.value, let y = b.value else { return false }
            return isBetter(x, than: y) || (x == y && a.index < b.index)
        }
    }

    /// The points sorted by the metric, best first; points without a value last, by index.
    public var ranked: [Point] {
        points.sorted { a, b in
            switch (a.value.flatMap { $0.isNaN ? nil : $0 }, b.value.flatMap { $0.isNaN ? nil : $0 }) {
            case (let x?, let y?): return x == y ? a.index < b.index : isBetter(x, than: y)
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.index < b.index
            }
        }
    }

    /// The record with each point's run, status and value read from `runs` (the newest run of each index
    /// wins: a resumed point's new run replaces the old one).
    public func refreshed(from runs: [RunStore.StoredRun]) -> SweepRecord {
        var newest: [Int: RunStore.StoredRun] = [:]
        let since = Dictionary(points.compactMap { point in point.since.map { (point.index, $0) } }, uniquingKeysWith: max)
        for run in runs where run.metadata.sweep?.id == id {
            guard let index = run.metadata.sweep?.index else { continue }
            if let start = since[index], run.metadata.startTime < start { continue }
            if let known = newest[index], known.metadata.startTime >= run.metadata.startTime { continue }
            newest[index] = run
        }
        var copy = self
        for position in copy.points.indices {
            guard let run = newest[copy.points[position].index] else { continue }
            copy.points[position].run = run.metadata.id
            copy.points[position].status = run.status.rawValue
            let summary = run.metadata.summary[metric]
            copy.points[position].value = summary?.last
            copy.points[position].step = summary?.step
        }
        return copy
    }
}

extension RunStore {
    /// The folder of the sweeps: `<store>/sweeps`. It holds a `.tipi-sweeps` marker, so that listing
    /// runs does not take it for a project.
    public var sweepsFolder: URL { root.appendingPathComponent("sweeps", isDirectory: true) }

    /// The marker file of ``sweepsFolder``.
    static let sweepsMarker = ".tipi-sweeps"

    /// Whether `folder` (a folder of the store's root) is the sweeps folder rather than a project.
    static func isSweepsFolder(_ folder: URL) -> Bool {
        FileManager.default.fileExists(atPath: folder.appendingPathComponent(sweepsMarker).path)
    }

    /// The folder of sweep `id`.
    public func sweepFolder(_ id: String) -> URL { sweepsFolder.appendingPathComponent(id, isDirectory: true) }

    /// Creates the folder of a new sweep (and the sweeps folder with its marker); returns its id.
    public func createSweepFolder() throws -> String {
        do {
            try FileManager.default.createDirectory(at: sweepsFolder, withIntermediateDirectories: true)
            let marker = sweepsFolder.appendingPathComponent(Self.sweepsMarker).path
            if !FileManager.default.fileExists(atPath: marker) {
                _ = FileManager.default.createFile(atPath: marker, contents: Data("sweeps of this run store\n".utf8))
            }
        } catch {
            throw TrackingError.storeNotWritable(path: sweepsFolder.path, reason: Self.reason(error))
        }
        for _ in 0..<20 {
            let id = "sw-" + Self.newID()
            if mkdir(sweepFolder(id).path, 0o755) == 0 { return id }
            if errno != EEXIST {
                throw TrackingError.storeNotWritable(path: sweepFolder(id).path, reason: String(cString: strerror(errno)))
            }
        }
        throw TrackingError.storeNotWritable(path: sweepsFolder.path, reason: "could not create a unique sweep folder")
    }

    /// Writes `sweep.json` atomically (a temporary file renamed over the old one).
    public func saveSweep(_ record: SweepRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let folder = sweepFolder(record.id)
        let target = folder.appendingPathComponent("sweep.json").path
        let temporary = folder.appendingPathComponent(".sweep.json.\(getpid()).tmp").path
        let data = try encoder.encode(record)
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            unlink(temporary)
            throw TrackingError.storeNotWritable(path: target, reason: String(cString: strerror(errno)))
        }
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw TrackingError.storeNotWritable(path: target, reason: reason)
        }
    }

    /// Reads sweep `id`'s record as saved (points not refreshed from their runs).
    public func loadSweep(_ id: String) throws -> SweepRecord {
        let file = sweepFolder(id).appendingPathComponent("sweep.json").path
        switch Self.readSmallFile(file) {
        case .success(let data):
            do {
                return try JSONDecoder().decode(SweepRecord.self, from: data)
            } catch {
                throw SweepStoreError.damaged(file, Self.describe(error))
            }
        case .failure(let failure):
            throw SweepStoreError.damaged(file, failure.text)
        }
    }

    /// Every sweep, newest first, with its points refreshed from the runs; unreadable ones in `problems`.
    public func sweeps() -> (sweeps: [SweepRecord], problems: [String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: sweepsFolder.path)) ?? []
        var records: [SweepRecord] = []
        var problems: [String] = []
        for name in names where !name.hasPrefix(".") {
            do {
                records.append(try loadSweep(name))
            } catch {
                problems.append("\(error)")
            }
        }
        guard !records.isEmpty else { return ([], problems) }
        let runs = self.runs(withConfig: false).runs.filter { $0.metadata.sweep != nil }
        return (records.map { $0.refreshed(from: runs) }.sorted { $0.createdTime > $1.createdTime }, problems)
    }

    /// The sweep `query` names (its id, or a unique id prefix), refreshed from its runs.
    public func sweep(matching query: String) throws -> SweepRecord {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: sweepsFolder.path)) ?? []).filter { !$0.hasPrefix(".") }
        let id: String
        if names.contains(query) {
            id = query
        } else {
            let matches = names.filter { !query.isEmpty && ($0.hasPrefix(query) || $0.hasPrefix("sw-" + query)) }
            guard matches.count == 1 else {
                if matches.count > 1 { throw SweepStoreError.ambiguous(query, matches.sorted()) }
                throw SweepStoreError.notFound(query, store: root.path, suggestion: Suggestion.nearest(to: query, in: names))
            }
            id = matches[0]
        }
        let record = try loadSweep(id)
        let runs = self.runs(project: record.project, withConfig: false).runs
        return record.refreshed(from: runs)
    }
}

/// Why a sweep could not be read.
public enum SweepStoreError: Error, CustomStringConvertible {
    /// No sweep has that id or id prefix (the nearest id, if one is close).
    case notFound(String, store: String, suggestion: String?)
    /// The prefix fits several sweeps.
    case ambiguous(String, [String])
    /// `sweep.json` is missing, unreadable or not a sweep record (the file, and why).
    case damaged(String, String)

    /// One line for the user.
    public var description: String {
        switch self {
        case .notFound(let query, let store, let suggestion):
            return "no sweep '\(query)' in \(store)" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
                + " (`tipi sweeps` lists them)"
        case .ambiguous(let query, let matches):
            return "'\(query)' names several sweeps: \(matches.prefix(10).joined(separator: ", "))"
        case .damaged(let file, let reason):
            return "\(file): cannot be read (\(reason))"
        }
    }
}

/// The runs of one sweep, read again as cheaply as a controller polling every half second needs: a run
/// folder of another sweep (or of none) is read once, a run that ended is kept, and only new folders and
/// running runs are read again. Listing the whole project each time would cost O(runs) per poll.
public final class SweepRunReader: @unchecked Sendable {
    private let store: RunStore
    private let sweepID: String
    private let project: String
    private var foreign = Set<String>()
    private var ended: [String: RunStore.StoredRun] = [:]

    /// A reader of the runs of sweep `sweepID`, in `project`.
    public init(store: RunStore, sweepID: String, project: String) {
        self.store = store
        self.sweepID = sweepID
        self.project = project
    }

    /// The sweep's runs as they are now.
    public func runs() -> [RunStore.StoredRun] {
        let folder = store.root.appendingPathComponent(RunStore.safeName(project), isDirectory: true)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var result = Array(ended.values)
        for name in names where !name.hasPrefix(".") && !foreign.contains(name) && ended[name] == nil {
            guard case .success(let run) = RunStore.readRun(folder.appendingPathComponent(name, isDirectory: true), withConfig: false) else {
                continue
            }
            // A folder whose run.json is not written yet reads as damaged: read it again next time.
            if run.status == .damaged { continue }
            guard run.metadata.sweep?.id == sweepID else {
                foreign.insert(name)
                continue
            }
            if run.status != .running { ended[name] = run }
            result.append(run)
        }
        return result
    }
}
