import Foundation
import Synchronization

/// The embedded run store: a folder (`TIPI_DIR`, default `./tipi-runs`) with one folder per project and,
/// inside, one folder per run:
///
/// ```
/// tipi-runs/
///   my_research/
///     20261129-101500-k3j2h1g0/
///       run.json            metadata, config, summary (rewritten atomically)
///       metrics.tipilog     append-only metric history (see MetricLog)
///       events.out.tfevents.…   when the tensorboard backend is on
///       metrics.jsonl       when the jsonl backend is on
///       wandb/offline-run-…/   when the wandb backend is on
/// ```
///
/// There is no global lock: every run has its own folder and files, created with `mkdir` (atomic, also on
/// NFS), so any number of processes, on any number of hosts, can write at once. The one shared file,
/// `.tipi-index`, is a cache of the listed fields that listings validate against each `run.json` and
/// replace atomically (see ``runs(project:withConfig:)``); nothing needs it.
public struct RunStore: Sendable {
    /// The root folder.
    public let root: URL

    /// The store at `TIPI_DIR`, or `./tipi-runs`.
    public static var `default`: RunStore {
        RunStore(root: URL(fileURLWithPath: Environment.value("TIPI_DIR") ?? "tipi-runs"))
    }

    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    static let metadataFile = "run.json"
    /// Where a pipeline's run keeps ``RunMetadata/configSources`` (written once; `run.json` is rewritten
    /// every second and would carry a large table each time).
    static let configSourcesFile = "config-sources.json"
    static let metricsFile = "metrics.tipilog"

    // MARK: - Writing

    /// Creates the folder of a new run; returns its id and folder.
    func createRunFolder(project: String, startTime: Double) throws -> (id: String, folder: URL) {
        let projectFolder = root.appendingPathComponent(Self.safeName(project), isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: projectFolder, withIntermediateDirectories: true)
        } catch {
            throw TrackingError.storeNotWritable(path: projectFolder.path, reason: Self.reason(error))
        }
        let stamp = Self.folderTimestamp(startTime)
        for _ in 0..<20 {
            let id = Self.newID()
            let folder = projectFolder.appendingPathComponent("\(stamp)-\(id)", isDirectory: true)
            if mkdir(folder.path, 0o755) == 0 { return (id, folder) }
            if errno != EEXIST {
                throw TrackingError.storeNotWritable(path: folder.path, reason: String(cString: strerror(errno)))
            }
        }
        throw TrackingError.storeNotWritable(path: projectFolder.path, reason: "could not create a unique run folder")
    }

    /// Writes `run.json` atomically (a temporary file renamed over the old one). On failure the temporary
    /// file is removed (it would hold space on a full disk) and the error names `run.json` and the reason.
    static func writeMetadata(_ metadata: RunMetadata, to folder: URL) throws {
        // Written from the pieces as they are (a pipeline's run.json is megabytes: no join, no `Data`).
        let pieces = try RunMetadataJSON.encodePieces(metadata)
        try RunFile.replace(folder.path + "/" + metadataFile, pieces: pieces)
    }

    /// `run.json` rewritten in place (truncated, then written), for a full disk where even the reserve
    /// leaves no room for a second copy beside it (a run of many keys has a `run.json` larger than the
    /// reserve): the old file's own space takes the new one. Not atomic, so only the last resort, and only
    /// when the old file's space and the free space together hold the new one (else the old file stays).
    static func overwriteMetadata(_ metadata: RunMetadata, in folder: URL) throws {
        let pieces = try RunMetadataJSON.encodePieces(metadata)
        let path = folder.path + "/" + metadataFile
        var file = stat()
        var system = statvfs()
        let needed = pieces.reduce(0) { $0 + $1.count } + 8_192
        // Only the run's own file, written in place: a symlink (or anything but a file) planted as
        // `run.json` is not written through.
        guard lstat(path, &file) == 0, file.st_mode & S_IFMT == S_IFREG else {
            throw TrackingError.storeNotWritable(path: path, reason: "not a regular file; it is left as it is")
        }
        guard statvfs(folder.path, &system) == 0,
            Int(file.st_blocks) * 512 + Int(system.f_bavail) * Int(system.f_frsize) >= needed
        else { throw TrackingError.storeNotWritable(path: path, reason: "no room for it, even in place of the old one") }
        // O_NONBLOCK: something swapped in after the check (a FIFO without a reader) fails at once instead of
        // blocking the writer; a regular file is written as usual.
        let descriptor = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else { throw TrackingError.storeNotWritable(path: path, reason: String(cString: strerror(errno))) }
        let failure = writeFully(pieces, to: descriptor).error
        close(descriptor)
        if let failure { throw TrackingError.storeNotWritable(path: path, reason: failure) }
    }

    /// A file of ``reserveBytes`` zeros in each live run folder, deleted when the run ends: on a full disk,
    /// deleting it first makes room for the final `run.json` (the status, and what could not be written).
    static let reserveFile = ".space-reserve"
    static let reserveBytes = 64 * 1024

    /// Creates the reserve; without room for it, there is none (best effort: the run goes on).
    static func makeReserve(in folder: URL) {
        let path = folder.appendingPathComponent(reserveFile, isDirectory: false).path
        // Not through a symlink planted under its name (it would fill the file it points to with zeros).
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else { return }
        let (_, failure) = writeFully([UInt8](repeating: 0, count: reserveBytes), to: descriptor)
        close(descriptor)
        if failure != nil { unlink(path) }
    }

    /// Deletes the reserve; `true` when there was one (and its space is free now).
    @discardableResult
    static func releaseReserve(in folder: URL) -> Bool {
        unlink(folder.appendingPathComponent(reserveFile, isDirectory: false).path) == 0
    }

    static func newID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<8).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }

    static func folderTimestamp(_ time: Double) -> String {
        utcStamp(time, separator: "-")
    }

    /// A project name usable as a folder name (`/` and control characters replaced).
    static func safeName(_ name: String) -> String {
        let cleaned = String(name.map { $0 == "/" || $0 == "\\" || $0.isNewline || $0 == "\0" ? "_" : $0 })
        if cleaned.isEmpty || cleaned == "." || cleaned == ".." { return "default" }
        return String(cleaned.prefix(120))
    }

    static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
            underlying.domain == NSPOSIXErrorDomain
        {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return nsError.localizedDescription
    }

    // MARK: - Reading

    /// A run as read from the store.
    public struct StoredRun: Sendable {
        public var metadata: RunMetadata
        public var folder: URL
        /// The status to show: `running` becomes `crashed` when the owner process is gone; `damaged` when
        /// `run.json` is missing or unreadable (see ``damage``).
        public var status: RunStatus
        /// Why `run.json` could not be read, for a damaged run: its metadata is then what the folder name
        /// and the metric file still tell (id, project, start time, summary).
        public var damage: String? = nil
    }

    /// Every run, newest first (optionally of one project). A run folder whose `run.json` is missing or
    /// unreadable is listed as `damaged`; entries that cannot be read at all are reported in `problems`.
    ///
    /// The one way to list runs (`tipi runs`, `tipi ui`'s `/api/runs`). It reads the run index (`.tipi-index`,
    /// see `RunIndex`) and only the `run.json` files that changed since it was written, then writes the index
    /// again when that pays. Each listed run's metadata has the listed fields: id, project, name, status,
    /// times, tags, notes, group, host, pid, heartbeat, dropped steps, summary, unwritten metrics, sweep, git
    /// state, backends and (with `withConfig`) config; the command, working directory, versions, device and
    /// pipeline record are empty here and read whole by ``run(matching:project:)``.
    ///
    /// - Parameters:
    ///   - project: Only the runs of this project (all runs when `nil`).
    ///   - withConfig: Decode each run's config too (for JSON output). A table of runs does not need
    ///     it, and skipping it makes listing thousands of runs several times faster.
    public func runs(project: String? = nil, withConfig: Bool = true) -> (runs: [StoredRun], problems: [String]) {
        let listing = listing(project: project, withConfig: withConfig)
        return (listing.decodedRuns(), listing.problems)
    }

    /// ``runs(project:withConfig:)``, and how many `run.json` files it read (those the index could not vouch for).
    func listRuns(project: String?, withConfig: Bool) -> (runs: [StoredRun], problems: [String], filesRead: Int) {
        let listing = listing(project: project, withConfig: withConfig)
        return (listing.decodedRuns(), listing.problems, listing.filesRead)
    }

    /// The runs ``runs(project:withConfig:)`` lists, in the same order, each decoded only when read: for a
    /// reader that shows a few of many (`tipi runs` shows the newest 30).
    ///
    /// - Parameter newest: List only the newest this many runs (``RunListing/total`` still counts them all).
    ///   Then only those runs are checked against their `run.json` (one `stat` each), not every run of the
    ///   store; the result is what the first `newest` runs of the whole listing would be.
    package func listing(project: String? = nil, withConfig: Bool = true, newest: Int? = nil) -> RunListing {
        let manager = FileManager.default
        var problems: [String] = []
        let projects: [String]
        if let project {
            projects = [Self.safeName(project)]
        } else if manager.fileExists(atPath: root.path) {
            do {
                projects = try manager.contentsOfDirectory(atPath: root.path).filter { !$0.hasPrefix(".") }.sorted()
            } catch {
                problems.append("\(root.path): cannot list the run store (\(Self.reason(error)))")
                projects = []
            }
        } else {
            projects = []
        }
        var folders: [FolderName] = []
        for project in projects {
            let projectFolder = root.appendingPathComponent(project, isDirectory: true)
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: projectFolder.path, isDirectory: &isDirectory) else { continue }
            guard isDirectory.boolValue else {
                problems.append("\(projectFolder.path): not a project folder (a file in the run store), skipped")
                continue
            }
            if project == "sweeps", Self.isSweepsFolder(projectFolder) { continue }  // the sweeps' records, not runs
            // opendir/readdir: FileManager's listing costs microseconds per name, and there may be 10,000.
            guard let directory = opendir(projectFolder.path) else {
                problems.append("\(projectFolder.path): cannot list the project's runs (\(String(cString: strerror(errno))))")
                continue
            }
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                    String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                }
                if !name.hasPrefix(".") { folders.append((project, name, entry.pointee.d_type == UInt8(DT_DIR))) }
            }
            closedir(directory)
        }
        let scope = project.map { [Self.safeName($0)] }
        let listing =
            newest.flatMap { listNewest(folders, limit: $0, scope: scope, withConfig: withConfig) }
            ?? listWithIndex(folders, scope: scope, withConfig: withConfig)
        return RunListing(
            items: newest.map { Array(listing.items.prefix($0)) } ?? listing.items, withConfig: withConfig,
            problems: problems + listing.problems, filesRead: listing.filesRead, total: listing.total)
    }

    /// The run in `folder`, decoded whole or only as far as a listing needs; a damaged run when its
    /// `run.json` is missing or unreadable; a problem when `folder` is not a folder.
    static func readRun(_ folder: URL, withConfig: Bool) -> Result<StoredRun, RunStoreProblem> {
        var info = stat()
        guard stat(folder.path, &info) == 0 else {
            let code = errno
            // Gone, not merely unreadable: nothing at all by that name (a dangling link is still named).
            var link = stat()
            let removed = code == ENOENT && lstat(folder.path, &link) != 0
            return .failure(
                RunStoreProblem(text: "\(folder.path): cannot be read (\(String(cString: strerror(code)))), skipped", removed: removed))
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            return .failure(RunStoreProblem(text: "\(folder.path): not a run folder (a file in a project folder), skipped"))
        }
        let file = folder.appendingPathComponent(metadataFile)
        let data: Data
        switch readSmallFile(file.path) {
        case .success(let bytes): data = bytes
        case .failure(let error):
            if error.code == ENOENT, access(folder.path, F_OK) != 0 {
                return .failure(RunStoreProblem(text: "\(folder.path): removed while it was read, skipped", removed: true))
            }
            let reason = error.code == ENOENT ? "run.json is missing" : "run.json cannot be read (\(error.text))"
            return .success(damagedRun(folder, reason: reason, partial: nil))
        }
        do {
            let metadata =
                withConfig
                ? withConfigSources(try JSONDecoder().decode(RunMetadata.self, from: data), in: folder)
                : try JSONDecoder().decode(ListedRun.self, from: data).metadata
            return .success(StoredRun(metadata: metadata, folder: folder, status: effectiveStatus(metadata)))
        } catch {
            let reason = "run.json is not valid (\(describe(error)))"
            return .success(damagedRun(folder, reason: reason, partial: data))
        }
    }

    /// `metadata` with ``RunMetadata/configSources`` read from `config-sources.json` in `folder`, when there is one.
    static func withConfigSources(_ metadata: RunMetadata, in folder: URL) -> RunMetadata {
        guard metadata.configSources == nil,
            case .success(let data) = readSmallFile(folder.appendingPathComponent(configSourcesFile).path),
            let sources = try? JSONDecoder().decode([String: String].self, from: data)
        else { return metadata }
        var completed = metadata
        completed.configSources = sources
        return completed
    }

    /// The run in `folder`, read afresh with its config (as `runs()` reads each run); `nil` when the
    /// folder is not a run folder. For a reader that already knows where a run is (the dashboard).
    package func run(inFolder folder: URL) -> StoredRun? {
        try? Self.readRun(folder, withConfig: true).get()
    }

    /// Finds a run by id, unique id prefix, folder name, name (the newest run of that name), or unique
    /// name prefix (`hardy` for `hardy-otter-78`; again the newest run of that name).
    ///
    /// A prefix that fits several runs is an error listing them. The search reads every run as a listing
    /// does; only the run found is decoded whole.
    public func run(matching query: String, project: String? = nil) throws -> StoredRun {
        let listed = try listedRun(matching: query, project: project)
        return try Self.readRun(listed.folder, withConfig: true).get()
    }

    private func listedRun(matching query: String, project: String?) throws -> StoredRun {
        let all = runs(project: project, withConfig: false).runs
        if let exact = all.first(where: { $0.metadata.id == query || $0.folder.lastPathComponent == query }) {
            return exact
        }
        let byPrefix = all.filter { !query.isEmpty && $0.metadata.id.hasPrefix(query) }
        if byPrefix.count == 1 { return byPrefix[0] }
        if let byName = all.first(where: { $0.metadata.name == query }) { return byName }
        // The newest run of each name that starts with the query (runs are sorted newest first).
        var seenNames = Set<String>()
        let byNamePrefix = all.filter {
            !query.isEmpty && $0.metadata.name.hasPrefix(query) && seenNames.insert($0.metadata.name).inserted
        }
        let candidates = byPrefix + byNamePrefix.filter { run in !byPrefix.contains { $0.folder == run.folder } }
        if candidates.count == 1 { return candidates[0] }
        if candidates.count > 1 {
            throw TrackingError.ambiguousRun(query, candidates: candidates.map { "\($0.metadata.id) (\($0.metadata.name))" })
        }
        let suggestion = query.isEmpty ? nil : Suggestion.nearest(to: query, in: all.map(\.metadata.name) + all.map(\.metadata.id))
        throw TrackingError.runNotFound(query, store: root.path, suggestion: suggestion)
    }

    /// A failed read: the `errno` and its text.
    struct ReadFailure: Error {
        var code: Int32
        var text: String
    }

    /// A small regular file's bytes with plain POSIX calls (cheaper than `Data(contentsOf:)` for thousands
    /// of files). A FIFO or device is refused rather than waited on.
    static func readSmallFile(_ path: String) -> Result<Data, ReadFailure> {
        func failure(_ code: Int32) -> Result<Data, ReadFailure> {
            .failure(ReadFailure(code: code, text: String(cString: strerror(code))))
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return failure(errno) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return failure(errno) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            return .failure(ReadFailure(code: EINVAL, text: info.st_mode & S_IFMT == S_IFDIR ? "a folder, not a file" : "not a regular file"))
        }
        var data = Data(count: 16_384)
        var length = 0
        while true {
            if length == data.count { data.count *= 2 }
            let count = data.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return read(descriptor, base + length, buffer.count - length)
            }
            if count < 0 {
                if errno == EINTR { continue }
                return failure(errno)
            }
            if count == 0 { break }
            length += count
        }
        data.count = length
        return .success(data)
    }

    /// `running` when the owner is alive; `crashed` when it is gone (same host: the pid is dead or reused;
    /// another host: no heartbeat for two minutes).
    static func effectiveStatus(_ metadata: RunMetadata, now: Double = Date().timeIntervalSince1970) -> RunStatus {
        guard metadata.status == .running else { return metadata.status }
        if metadata.host == ProcessFacts.host {
            return ProcessFacts.isAlive(pid: metadata.pid, start: metadata.processStart) ? .running : .crashed
        }
        let last = metadata.heartbeat ?? metadata.startTime
        return now - last > 120 ? .crashed : .running
    }

    /// The full metric history of a stored run.
    public static func history(of run: StoredRun) throws -> MetricHistory {
        let contents = try MetricLog.read(run.folder.appendingPathComponent(metricsFile).path)
        return MetricHistory(contents: contents)
    }
}

/// The metric history of a run, per key: steps, values and times.
public struct MetricHistory: Sendable {
    /// One metric's points, in logging order.
    public struct Series: Sendable {
        public var steps: [Int] = []
        public var values: [Double] = []
        public var times: [Double] = []
    }

    public var series: [String: Series]
    /// What the reader had to skip: damaged records in the middle, a torn write at the end.
    public var damage: MetricLogDamage

    /// An empty history (for a run whose metric file cannot be read at all).
    public init() {
        series = [:]
        damage = MetricLogDamage()
    }

    init(contents: MetricLog.Contents) {
        var series = [Series](repeating: Series(), count: contents.keys.count)
        let batch = contents.batch
        // Each series takes its room once (counted first): growing a million-point series copies it into fresh
        // memory at each doubling.
        var counts = [Int](repeating: 0, count: contents.keys.count)
        for entry in batch.entries { counts[Int(entry.key)] += 1 }
        for key in series.indices where counts[key] > 0 {
            series[key].steps.reserveCapacity(counts[key])
            series[key].values.reserveCapacity(counts[key])
            series[key].times.reserveCapacity(counts[key])
        }
        for row in 0..<batch.rowCount {
            for position in batch.range(ofRow: row) {
                let key = Int(batch.entries[position].key)
                series[key].steps.append(batch.rows[row].step)
                series[key].values.append(batch.entries[position].value)
                series[key].times.append(batch.rows[row].time)
            }
        }
        var byName: [String: Series] = [:]
        for (index, key) in contents.keys.enumerated() where !series[index].steps.isEmpty {
            byName[key] = series[index]
        }
        self.series = byName
        damage = contents.damage
    }
}

struct RunStoreProblem: Error, Sendable, CustomStringConvertible {
    var text: String
    /// The folder was removed while it was being read (another `tipi runs rm`, a cleanup script): a listing
    /// leaves it out without a word, as it would have had it listed a moment later.
    var removed = false
    var description: String { text }
}

/// The fields a table of runs shows (and those that decide the status): decoding only these is much faster
/// than the whole `run.json`.
struct ListedRun: Decodable {
    var id: String
    var project: String
    var name: String
    var status: RunStatus
    var startTime: Double
    var endTime: Double?
    var tags: [String]?
    var host: String
    var pid: Int32
    var processStart: UInt64?
    var heartbeat: Double?
    var summary: [String: MetricSummary]
    var unwritten: RunMetadata.UnwrittenMetrics?
    /// Listed too: `tipi runs --sweep` and the sweeps' points filter on it.
    var sweep: RunMetadata.SweepMembership?

    var metadata: RunMetadata {
        RunMetadata(
            id: id, project: project, name: name, status: status, startTime: startTime, endTime: endTime, config: [:],
            tags: tags ?? [], notes: nil, group: nil, host: host, pid: pid, processStart: processStart, command: [],
            workingDirectory: "", git: nil, swiftVersion: "", tipiVersion: "", device: nil, sweep: sweep, backends: [:],
            summary: summary, heartbeat: heartbeat, droppedSteps: nil, pipeline: nil, unwritten: unwritten)
    }
}
