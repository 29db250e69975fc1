import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One recorded run: its folder in the run store, its metadata, and the metrics logged into it.
///
/// Most programs use the global `logger` (``ExperimentLogger``), which creates and finishes runs. A run
/// can also be used directly:
///
/// ```swift
/// let run = try logger.start(project: "spirals", config: ["lr": 0.01])
/// run.log(["loss": 0.31])
/// run.finish()
/// ```
///
/// `log` never does I/O: values go into an in-memory buffer, and a background writer appends them to the
/// store (and hands them to the extra backends) at most a second later, and at `finish`.
public final class Run: Sendable {
    /// The run's id (8 characters).
    public let id: String
    /// The project the run belongs to.
    public let project: String
    /// The run's display name.
    public let name: String
    /// The run's folder in the store.
    public let folder: URL

    /// The caller-side state, shared with the writer (which holds it, not the run: a weak reference to the
    /// run would give every retain and release of it the slow, side-table path).
    let buffer = LogBuffer()

    /// The state `log` fills and the writer drains.
    final class LogBuffer: LogBufferLock<LogState>, @unchecked Sendable {
        init() { super.init(LogState()) }

        /// Takes every committed batch and the key names (called by the writer).
        func drain() -> (batches: [MetricBatch], keys: [String]) {
            withLock { state in
                (state.batches.takeAll(&state.steps.committed), state.keyNames)
            }
        }

        /// Takes back batches the writer is done with, for `log` to fill again.
        func recycle(_ batches: inout [MetricBatch]) {
            withLock { $0.batches.recycle(&batches) }
        }

        /// Committed values not yet taken by the writer.
        var bufferedValueCount: Int {
            withLock { $0.batches.waitingValues + $0.steps.committed.valueCount }
        }
    }
    private let writer: RunWriter
    /// The run's artifacts (`artifacts/` and `artifacts.json`).
    let artifactStore: ArtifactStore

    /// The caller-side state: key ids, the W&B step model, and the committed rows waiting for the writer.
    struct LogState {
        var keyIDs: [String: Int32] = [:]
        var keyNames: [String] = []
        var rejected: Set<String> = []
        var recentKeys: [String] = []
        var recentIDs: [Int32] = []
        /// This run's key id for each ``MetricKeys`` id (−1: not seen yet).
        var preparedIDs: [Int32] = []
        var steps = StepState()
        /// Full batches waiting for the writer, and emptied ones to fill again.
        var batches = BatchQueue()
        var closed = false
        var warnedDrop = false
        var warnedClosed = false

        /// The id of `key`, the `position`-th key of this call. A per-position cache makes repeated calls
        /// with the same keys cost one string comparison per key.
        @inline(__always)
        mutating func keyID(_ key: String, position: Int, warning: inout String?) -> Int32? {
            if position < recentKeys.count, recentKeys[position] == key {
                return recentIDs[position]
            }
            return keyIDMissed(key, position: position, warning: &warning)
        }

        /// ``keyID(_:position:warning:)`` when the key is not the one at its position last time.
        @inline(never)
        mutating func keyIDMissed(_ key: String, position: Int, warning: inout String?) -> Int32? {
            // The same keys in another order (each dictionary has its own iteration order): a few string
            // comparisons are still cheaper than hashing the key again.
            for index in 0..<min(recentKeys.count, 16) where recentKeys[index] == key {
                return recentIDs[index]
            }
            guard let id = register(key, warning: &warning) else { return nil }
            if position < recentKeys.count {
                recentKeys[position] = key
                recentIDs[position] = id
            } else if position == recentKeys.count, position < 64 {
                recentKeys.append(key)
                recentIDs.append(id)
            }
            return id
        }

        /// The id of `key`, given one the first time; `nil` (and a warning, once) for a key that cannot be used.
        mutating func register(_ key: String, warning: inout String?) -> Int32? {
            if let known = keyIDs[key] { return known }
            if rejected.contains(key) { return nil }
            if let problem = Run.problem(with: key) {
                rejected.insert(key)
                warning = "metric key \(JSONNumber.quote(String(key.prefix(80)))) \(problem); its values are not logged"
                return nil
            }
            let id = Int32(keyNames.count)
            keyIDs[key] = id
            keyNames.append(key)
            return id
        }

        /// The id of the `index`-th of `keys`: one array lookup once the run has seen them.
        @inline(__always)
        mutating func keyID(prepared keys: MetricKeys, _ index: Int, warning: inout String?) -> Int32? {
            let global = Int(keys.ids[index])
            if global < preparedIDs.count, preparedIDs[global] >= 0 { return preparedIDs[global] }
            return keyIDMissed(prepared: keys, index, warning: &warning)
        }

        /// ``keyID(prepared:_:warning:)`` the first time this run sees the key.
        @inline(never)
        mutating func keyIDMissed(prepared keys: MetricKeys, _ index: Int, warning: inout String?) -> Int32? {
            let global = Int(keys.ids[index])
            guard let id = register(keys.names[index], warning: &warning) else { return nil }
            if global >= preparedIDs.count { preparedIDs += repeatElement(-1, count: global + 1 - preparedIDs.count) }
            preparedIDs[global] = id
            return id
        }
    }

    /// Values buffered beyond this make `log` wait for the writer (back-pressure: nothing is dropped).
    static let maximumBufferedValues = 4_000_000
    /// A batch holding this many values is full: it waits for the writer, which is woken (without waiting
    /// for it), and `log` goes on in an emptied one (see ``BatchQueue``).
    static let roundValues = 1 << 16

    init(metadata: RunMetadata, folder: URL, backends: [BackendWorker], warn: @escaping @Sendable (String) -> Void) throws {
        id = metadata.id
        project = metadata.project
        name = metadata.name
        self.folder = folder
        artifactStore = ArtifactStore(runFolder: folder)
        writer = try RunWriter(metadata: metadata, folder: folder, backends: backends, warn: warn)
        writer.bind(buffer)
    }

    // MARK: - Logging

    /// Records values at a step, with W&B's step semantics:
    ///
    /// - without `step`, each call is a new step (0, 1, 2, …);
    /// - `step: N` writes at step N; steps only increase, and a lower step is dropped with one warning;
    /// - `commit: false` stages the values into the current step, which the next committing call completes;
    ///   with `step:` the row stays open until a call with another step or without one (as in W&B).
    ///
    /// NaN and infinities are stored as they are. Keys may be hierarchical (`train/loss`); an empty key, one
    /// longer than 512 bytes, one with control characters, or W&B's reserved `_step`, `_runtime`,
    /// `_timestamp` is refused with one warning.
    public func log(_ values: [String: Double], step: Int? = nil, commit: Bool? = nil) {
        _ = logIfOpen(values, step: step, commit: commit)
    }

    /// Records values of the numeric types a training loop has (`Float`, `Float16`, `Int`, `Bool`, …; see
    /// ``MetricValue``), stored as `Double`. See ``log(_:step:commit:)-([String:Double],_,_)``.
    public func log(_ values: [String: any MetricValue], step: Int? = nil, commit: Bool? = nil) {
        log(values.metricDoubles, step: step, commit: commit)
    }

    /// `log`, returning `false` (and logging nothing) when the run is finished.
    func logIfOpen(_ values: [String: Double], step: Int?, commit: Bool?) -> Bool {
        record(values, step: step, commit: commit)
    }

    /// ``MetricKeys`` and their values (see ``log(_:_:step:commit:)``); values beyond the keys are ignored,
    /// with one warning.
    @usableFromInline
    func logPrepared(_ keys: MetricKeys, _ values: UnsafeBufferPointer<Double>, step: Int?, commit: Bool?) {
        if values.count != keys.names.count {
            Diagnostics.warnOnce(
                key: "metric-keys-count",
                "log(keys, values…) got \(values.count) values for \(keys.names.count) keys (\(keys.names.prefix(5).joined(separator: ", "))); "
                    + "the call is ignored: give one value per key")
            return
        }
        _ = record(PreparedValues(keys: keys, values: values), step: step, commit: commit)
    }

    /// The values of one `log` call, in whatever form they came (generic, so that each form gets its own
    /// code, with nothing wrapped or retained per call).
    @inline(__always)
    private func record<Source: LogValueSource>(_ source: Source, step: Int?, commit: Bool?) -> Bool {
        let time = Self.wallTime()
        var warning: String?
        var full = false
        var round = false
        let open = buffer.withLock { state -> Bool in
            guard !state.closed else {
                if !state.warnedClosed {
                    state.warnedClosed = true
                    warning = "run \(id) is finished; values logged after finish() are ignored (start() begins a new run)"
                }
                return false
            }
            if step == nil, commit != false, state.steps.openKeys.isEmpty, !source.mayRepeatKeys {
                // The common case: a new step with these values only — append it directly.
                let before = state.steps.committed.entries.count
                source.forEachValue(&state, &warning) { state, id, value in
                    state.steps.committed.entries.append(MetricBatch.Entry(key: id, value: value))
                }
                let after = state.steps.committed.entries.count
                if after > before {
                    state.steps.committed.rows.append(MetricBatch.Row(step: state.steps.current, time: time, end: after))
                    state.steps.advance()
                }
            } else {
                if case .dropped(let requested, let current) = state.steps.prepare(step: step, time: time) {
                    if !state.warnedDrop {
                        state.warnedDrop = true
                        warning =
                            "step \(requested) is lower than the current step \(current): steps only increase, "
                            + "so these values were dropped (further drops are counted in run.json, not warned)"
                    }
                    return true
                }
                source.forEachValue(&state, &warning) { state, id, value in state.steps.set(id, value) }
                if commit ?? (step == nil) { state.steps.commitOpenRow(time: time) }
            }
            if state.steps.committed.valueCount >= Self.roundValues {
                state.batches.rotate(&state.steps.committed)
                full = state.batches.waitingValues > Self.maximumBufferedValues
                // The first full batch since the writer's last round wakes it; it takes all that wait.
                round = state.batches.waiting.count == 1
            }
            return true
        }
        if let warning { writer.warn(warning) }
        if round { writer.requestRound() }
        if full { writer.flushAndWait(whileAbove: Self.maximumBufferedValues / 2) }
        return open
    }

    /// Why a key cannot be used, or `nil` when it is fine.
    static func problem(with key: String) -> String? {
        if key.isEmpty { return "is empty" }
        if key.utf8.count > 512 { return "is \(key.utf8.count) bytes long (at most 512)" }
        if key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "contains a control character (newline, tab…)"
        }
        if ["_step", "_runtime", "_timestamp"].contains(key) { return "is reserved by W&B" }
        return nil
    }

    /// Commits the open row and refuses further values; returns the number of dropped steps.
    func close() -> Int {
        closeOnce().dropped
    }

    /// ``close()``, also saying whether this call closed the run (the first one).
    private func closeOnce() -> (dropped: Int, first: Bool) {
        let time = Self.wallTime()
        return buffer.withLock { state in
            let first = !state.closed
            if first {
                state.steps.commitOpenRow(time: time)
                state.closed = true
            }
            return (state.steps.dropped, first)
        }
    }

    // MARK: - Metadata

    /// Adds to (or replaces in) the run's config.
    public func updateConfig(_ values: [String: ConfigValue]) {
        writer.update { $0.config.merge(values) { _, new in new } }
    }

    /// Adds tags to the run.
    public func addTags(_ tags: [String]) {
        writer.update { metadata in
            for tag in tags where !metadata.tags.contains(tag) { metadata.tags.append(tag) }
        }
    }

    /// Records what a pipeline did (its processes and their outcome).
    public func recordPipeline(_ record: RunMetadata.PipelineRecord) {
        writer.update { $0.pipeline = record }
    }

    /// Has the run's writer take the pipeline's record from `source` at each round (about once a second)
    /// and at ``finish(status:)``, when it changed: a process's status is on disk within the bound of the
    /// metrics, however long the process after it runs, and costs nothing while nothing changes.
    package func followPipeline(_ source: @escaping PipelineRecordSource) {
        writer.followPipeline(source)
    }

    /// Takes the pipeline's record from the source followed (``followPipeline(_:)``) now, whether or not it
    /// changed: what the next `run.json` holds (written within a second, or by ``finish(status:)``).
    package func takePipelineRecord() {
        writer.takePipelineRecord()
    }

    /// Records the run this one continues (`resumed_from`); pipelines call this once, at the start.
    public func recordResume(from previous: String) {
        writer.update { $0.resumedFrom = previous }
    }

    /// Records where each config value came from (``RunMetadata/configSources``), once: in
    /// `config-sources.json` beside `run.json`, which the store reads back with the config.
    /// - Throws: The error of the write.
    public func recordConfigSources(_ sources: [String: String]) throws {
        // As `JSONEncoder` with `.sortedKeys` writes it, without its cost per entry (one per config value).
        try RunFile.replace(folder.path + "/" + RunStore.configSourcesFile, with: [UInt8](RunMetadataJSON.encodeCompact(sources)))
    }

    /// ``recordConfigSources(_:)`` with the file's text made by the caller: a JSON object of strings, one
    /// entry per config value (a pipeline writes it as it resolves its config, without a `String` per entry
    /// or a sort; the store reads the file into a dictionary, so the order of the entries does not matter).
    /// - Throws: ``TrackingError/storeNotWritable(path:reason:)`` when the file cannot be written.
    package func recordConfigSources(text: [UInt8]) throws {
        // Written from the text as it is (megabytes for a large pipeline: no copy into a `Data`), atomically.
        try RunFile.replace(folder.path + "/" + RunStore.configSourcesFile, with: text)
    }

    /// Writes `text` into the file `name` of the run's folder, atomically (a temporary file renamed over
    /// it, as `run.json` is written): a pipeline's config (`config.toml`), kept for a later resume.
    /// - Throws: ``TrackingError/storeNotWritable(path:reason:)`` when the file cannot be written.
    package func recordFile(_ name: String, text: String) throws {
        try RunFile.replace(folder.path + "/" + name, with: Array(text.utf8))
    }

    /// Records the device the run uses (``DeviceManager`` calls this when it picks one).
    public func recordDevice(_ device: Device) {
        writer.update { $0.device = device }
    }

    /// Records the CPU as the run's device, with why no GPU was used.
    func recordDevice(_ device: Device, fallback reason: String) {
        writer.update {
            $0.device = device
            $0.deviceFallback = reason
        }
    }

    /// The run's metadata as it stands (the summary is updated by the writer, at most a second behind).
    public var metadata: RunMetadata {
        writer.currentMetadata
    }

    /// Whether ``finish(status:)`` has been called.
    public var isFinished: Bool {
        buffer.withLock { $0.closed }
    }

    /// Writes everything buffered now (normally the writer does this every second).
    public func flush() {
        writer.flushNow()
    }

    /// Ends the run: commits the open step, writes everything, finishes every backend, and records the
    /// status and end time. Bounded in time: backends get `TIPI_FINISH_TIMEOUT` seconds (default 10),
    /// after which what they could not do is recorded and one warning says so. Calling it again does nothing.
    public func finish(status: RunStatus = .finished) {
        let (dropped, first) = closeOnce()
        if first { recordArtifactsFolder() }
        let final: RunStatus = RunSignals.interrupted ? .interrupted : (status == .crashed ? .failed : status)
        writer.finish(status: final, droppedSteps: dropped)
        // A finished run may stay referenced for a while (a thread's cached lookup, see `LoggerRunCache`;
        // the caller's variable): its buffer's memory goes back once the writer has taken every value.
        buffer.withLock { state in
            if state.steps.committed.isEmpty { state.steps.committed = MetricBatch() }
            state.batches.releasePool()
        }
        RunRegistry.remove(self)
        if first { endOfRun(status: writer.currentMetadata.status) }
    }

    /// Hands artifacts to the backends' workers (never waits for an upload).
    func sendToBackends(_ uploads: [ArtifactUpload]) {
        writer.send(uploads)
    }

    /// Unix seconds, at the coarse clock's resolution (a few milliseconds): cheap enough for every step.
    static func wallTime() -> Double {
        Platform.coarseWallTime()
    }
}

/// Where a run's writer takes a pipeline's record from as the pipeline runs (``Run/followPipeline(_:)``):
/// the record when it changed since the last call, or whether or not it did when `always`; `nil` otherwise.
package typealias PipelineRecordSource = @Sendable (_ always: Bool) -> RunMetadata.PipelineRecord?
