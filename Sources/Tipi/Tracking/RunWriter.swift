import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The background writer of one run: every second (or sooner when the buffer is large, and at `finish`)
/// it takes the committed steps from the run, appends them to `metrics.tipilog`, updates the summary and
/// `run.json`, and hands the steps to each backend's worker.
///
/// Disk writes happen on the writer thread only, and never under `state` (the lock `log`, `flush` and
/// `metadata` take), so a slow or full disk never makes `log` wait. The metric file is closed by that
/// thread after its last write.
final class RunWriter: Sendable {
    let folder: URL
    private let backends: [BackendWorker]
    private let warnHandler: @Sendable (String) -> Void
    private let state: Mutex<WriterState>
    /// The metric file. Only the writer thread locks it (and `finish`, once that thread has stopped), so
    /// holding it across a write delays no one.
    private let file: Mutex<MetricAppender>
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let completed = DispatchSemaphore(value: 0)
    static let flushInterval = 1.0
    static let heartbeatInterval = 30.0
    /// How long `finish` waits for the writer thread's last flush.
    static let stopTimeout = 60.0

    private struct WriterState {
        var metadata: RunMetadata
        /// The run's buffer of committed rows (set by `bind`).
        var buffer: Run.LogBuffer?
        var summaries: [MetricSummary?] = []
        var keyNames: [String] = []
        var metadataDirty = true
        var lastMetadataWrite = 0.0
        var flushes = 0
        var stopping = false
        var finishing = false
        var warnedWrite = false
        var warnedLoss = false
        var warnings: Set<String> = []
        /// The next round was asked for by a full batch (``requestRound()``): it writes `run.json` only when
        /// the last write is a flush interval old, so that a tight loop's rounds do not rewrite it each time.
        var sizeRound = false
        /// Rounds up to this one write `run.json` when it changed, even when asked for by a full batch: the
        /// rounds `flushNow` waits for.
        var metadataWantedUntil = 0
        /// A pipeline's record, taken at each round when it changed (``Run/followPipeline(_:)``).
        var pipelineSource: PipelineRecordSource?

        /// The source's record when it changed since the last call (or `always`): into the metadata.
        mutating func takePipelineRecord(always: Bool) {
            guard let record = pipelineSource?(always) else { return }
            metadata.pipeline = record
            metadataDirty = true
        }
    }

    /// Opens the run's metric file and writes the first `run.json`; on failure nothing stays open.
    ///
    /// `TIPI_WRITE_BUFFER_MB` (default 64) bounds the memory kept for metrics the disk refuses.
    init(metadata: RunMetadata, folder: URL, backends: [BackendWorker], warn: @escaping @Sendable (String) -> Void) throws {
        self.folder = folder
        self.backends = backends
        self.warnHandler = warn
        let path = folder.appendingPathComponent(RunStore.metricsFile, isDirectory: false).path
        let limit = Environment.integer("TIPI_WRITE_BUFFER_MB", default: 64, in: 1...1_048_576) << 20
        file = Mutex(try MetricAppender(path: path, limitBytes: limit))
        state = Mutex(WriterState(metadata: metadata))
        do {
            try RunStore.writeMetadata(metadata, to: folder)
        } catch {
            file.withLock { $0.close() }
            throw error
        }
        RunStore.makeReserve(in: folder)
        for backend in backends {
            backend.send(.start(RunDescription(metadata: metadata, folder: folder)))
        }
    }

    func bind(_ buffer: Run.LogBuffer) {
        state.withLock { $0.buffer = buffer }
        let thread = Thread { [self] in loop() }
        thread.name = "tipi-writer"
        thread.start()
    }

    func warn(_ message: String) {
        let isNew = state.withLock { $0.warnings.insert(message).inserted }
        if isNew { warnHandler(message) }
    }

    // MARK: - The loop

    private func loop() {
        // The git state first, while the run does its first work: a short run's `finish` then does not wait
        // for it (two `git` processes, a few milliseconds).
        let git = ProcessFacts.gitState()
        if let git {
            state.withLock { state in
                state.metadata.git = git
                state.metadataDirty = true
            }
        }
        while true {
            _ = wake.wait(timeout: .now() + Self.flushInterval)
            let stopping = state.withLock { $0.stopping }
            flush(final: stopping)
            if stopping { break }
        }
        file.withLock { $0.close() }
        stopped.signal()
    }

    /// One round: take the run's committed rows, append them, update the summary and `run.json`, feed the
    /// backends. `final`: what the disk still refuses afterwards is counted as lost.
    private func flush(final: Bool) {
        let buffer = state.withLock { $0.buffer }
        // Every full batch and the one being filled; given back emptied at the end, for `log` to fill again.
        var (batches, keys) = buffer?.drain() ?? ([], state.withLock { $0.keyNames })

        // Encoding and disk writes: outside `state`.
        let (wrote, writeFailure, unwritten) = file.withLock { file -> (Bool, String?, RunMetadata.UnwrittenMetrics?) in
            let (attempt, failure) = file.appendRows(of: batches, keys: keys)
            if final { file.abandon() }
            guard file.lostValues > 0 || file.lostRows > 0 else { return (attempt && failure == nil, failure, nil) }
            let lost = RunMetadata.UnwrittenMetrics(steps: file.lostRows, values: file.lostValues, reason: file.lastError ?? "unknown")
            return (attempt && failure == nil, failure, lost)
        }

        let now = Date().timeIntervalSince1970
        let (warnWrite, warnLoss, snapshot) = state.withLock { state -> (Bool, Bool, RunMetadata?) in
            state.takePipelineRecord(always: false)
            state.keyNames = keys
            if state.summaries.count < keys.count {
                state.summaries += [MetricSummary?](repeating: nil, count: keys.count - state.summaries.count)
            }
            for batch in batches {
                for row in 0..<batch.rowCount {
                    let step = batch.rows[row].step
                    for position in batch.range(ofRow: row) {
                        let key = Int(batch.entries[position].key)
                        let value = batch.entries[position].value
                        if state.summaries[key] == nil {
                            state.summaries[key] = MetricSummary(value: value, step: step)
                        } else {
                            state.summaries[key]?.add(value, step: step)
                        }
                    }
                }
            }
            if !batches.isEmpty { state.metadataDirty = true }
            let sizeRound = state.sizeRound && state.flushes + 1 > state.metadataWantedUntil
            state.sizeRound = false
            if unwritten != state.metadata.unwritten {
                state.metadata.unwritten = unwritten
                state.metadataDirty = true
            }
            // One warning per stretch of refused writes: a write that succeeds ends the stretch.
            let warnWrite = writeFailure != nil && !state.warnedWrite
            if writeFailure != nil { state.warnedWrite = true } else if wrote { state.warnedWrite = false }
            let warnLoss = unwritten != nil && !state.warnedLoss && !final
            if unwritten != nil { state.warnedLoss = true }
            let recent = now - state.lastMetadataWrite < Self.flushInterval
            let due =
                (state.metadataDirty && !(sizeRound && recent)) || now - state.lastMetadataWrite >= Self.heartbeatInterval
            // The last round, without backends to wait for: `finish` writes the final `run.json` right after
            // (with backends it waits for them, up to TIPI_FINISH_TIMEOUT, so this round's write stays).
            let finalWriteFollows = final && backends.isEmpty
            guard due, !state.finishing, !finalWriteFollows else { return (warnWrite, warnLoss, nil) }
            state.metadataDirty = false
            state.lastMetadataWrite = now
            state.metadata.heartbeat = now
            state.metadata.summary = Self.summaryTable(state)
            return (warnWrite, warnLoss, state.metadata)
        }
        if warnWrite, let writeFailure {
            warnHandler(
                "cannot write metrics to \(folder.path): \(writeFailure); they are kept in memory (up to "
                    + "TIPI_WRITE_BUFFER_MB) and written as soon as the disk takes them (nothing already written is lost)")
        }
        if warnLoss {
            warnHandler(
                "the disk still refuses the metrics of \(folder.path) and the memory for them (TIPI_WRITE_BUFFER_MB) is "
                    + "full: the oldest unwritten steps are dropped and counted in run.json (unwritten)")
        }
        if let snapshot {
            do {
                try RunStore.writeMetadata(snapshot, to: folder)
            } catch {
                warn("cannot update \(folder.appendingPathComponent(RunStore.metadataFile).path): \(error)")
            }
        }
        for batch in batches {
            for backend in backends { backend.send(.batch(batch, keys)) }
        }
        // Batches the backends hold would be copied on their next write, and after the last round nothing
        // fills a batch again: only the writer's own go back, and not after the last round.
        if backends.isEmpty, !final, let buffer { buffer.recycle(&batches) }
        // Counted once all is done: `flushNow` returns with the batches back, ready to be filled again.
        state.withLock { $0.flushes += 1 }
    }

    private static func summaryTable(_ state: WriterState) -> [String: MetricSummary] {
        var table: [String: MetricSummary] = [:]
        for (index, summary) in state.summaries.enumerated() {
            if let summary { table[state.keyNames[index]] = summary }
        }
        return table
    }

    // MARK: - Control

    func update(_ change: (inout RunMetadata) -> Void) {
        state.withLock { state in
            change(&state.metadata)
            state.metadataDirty = true
        }
    }

    /// From now on each round takes the pipeline's record from `source` when it changed.
    func followPipeline(_ source: @escaping PipelineRecordSource) {
        state.withLock { $0.pipelineSource = source }
    }

    /// Takes the pipeline's record from the source followed now, for the next `run.json`.
    func takePipelineRecord() {
        state.withLock { $0.takePipelineRecord(always: true) }
    }

    var currentMetadata: RunMetadata {
        state.withLock { state in
            var metadata = state.metadata
            metadata.summary = Self.summaryTable(state)
            return metadata
        }
    }

    /// Hands saved artifacts to every backend's worker (queued in order with the metrics; never waits).
    func send(_ uploads: [ArtifactUpload]) {
        guard !uploads.isEmpty else { return }
        for backend in backends { backend.send(.artifacts(uploads)) }
    }

    /// Wakes the writer for a round now (the run's batch is full enough), without waiting for it.
    func requestRound() {
        state.withLock { $0.sizeRound = true }
        wake.signal()
    }

    /// Flushes now and waits for it.
    func flushNow() {
        let target = state.withLock { state in
            state.metadataWantedUntil = state.flushes + 2
            return state.metadataWantedUntil
        }
        wake.signal()
        let deadline = Date().addingTimeInterval(30)
        while state.withLock({ $0.flushes < target && !$0.stopping }), Date() < deadline {
            wake.signal()
            usleep(500)
        }
    }

    /// Back-pressure: wakes the writer and waits while the run holds more than `limit` buffered values.
    func flushAndWait(whileAbove limit: Int) {
        let buffer = state.withLock { $0.buffer }
        while true {
            wake.signal()
            let buffered = buffer?.bufferedValueCount ?? 0
            if buffered <= limit || state.withLock({ $0.stopping }) { return }
            usleep(1_000)
        }
    }

    /// The last flush, then every backend's finish (bounded by `TIPI_FINISH_TIMEOUT`), then the final
    /// `run.json`. Runs once; later calls return at once.
    func finish(status: RunStatus, droppedSteps: Int) {
        let alreadyStopping = state.withLock { state -> Bool in
            defer { state.stopping = true }
            return state.stopping
        }
        guard !alreadyStopping else {
            // Another thread is finishing (the program and a signal at once): wait for it to complete.
            if completed.wait(timeout: .now() + 60) == .success { completed.signal() }
            return
        }
        wake.signal()
        // The writer thread makes the last flush and closes the metric file itself: nothing here touches it.
        let stoppedInTime = stopped.wait(timeout: .now() + Self.stopTimeout) == .success
        let timeout = Lifecycle.finishTimeout
        let deadline = Date().timeIntervalSince1970 + max(timeout, 0)
        let summary = state.withLock { Self.summaryTable($0) }
        for backend in backends { backend.send(.finish(status, summary, deadline)) }
        var backendStates: [String: RunMetadata.BackendState] = [:]
        for backend in backends {
            var backendState = backend.state
            if !backend.waitForFinish(deadline: deadline + 1) {
                backendState = backend.state
                backendState.complete = false
                backendState.error = "did not finish within \(Int(timeout)) s (TIPI_FINISH_TIMEOUT)"
                warn("the \(backend.kind.rawValue) backend did not finish within \(Int(timeout)) s; the run store has every value")
            } else {
                backendState = backend.state
                if backendState.complete == false {
                    let id = state.withLock { $0.metadata.id }
                    let sent = backendState.sentSteps.map { "only \($0) steps were sent" } ?? "not everything was sent"
                    let resend =
                        backend.kind == .mlflow ? "; `\(ToolCommand.tipi("runs sync \(id) --to mlflow"))` sends the rest later" : ""
                    warn(
                        "the \(backend.kind.rawValue) backend is incomplete: \(sent) (\(backendState.error ?? "unknown reason")); "
                            + "the run store has every value\(resend)")
                }
            }
            backendStates[backend.kind.rawValue] = backendState
        }
        let metadata = state.withLock { state -> RunMetadata in
            state.takePipelineRecord(always: false)
            state.pipelineSource = nil
            state.finishing = true
            state.metadata.status = status
            state.metadata.endTime = Date().timeIntervalSince1970
            state.metadata.summary = Self.summaryTable(state)
            state.metadata.backends.merge(backendStates) { _, new in new }
            state.metadata.droppedSteps = droppedSteps > 0 ? droppedSteps : nil
            state.metadata.heartbeat = state.metadata.endTime
            return state.metadata
        }
        if let unwritten = metadata.unwritten {
            warnHandler(
                "\(unwritten.values) values (\(unwritten.steps) steps) of run \(metadata.id) could not be written to "
                    + "\(folder.path) (\(unwritten.reason)); `\(ToolCommand.tipi("runs show \(metadata.id)"))` says how much is missing")
        }
        if !stoppedInTime {
            warnHandler(
                "the writer of run \(metadata.id) did not finish its last write within \(Int(Self.stopTimeout)) s (the disk "
                    + "does not answer); the last second of metrics may be missing")
        }
        do {
            try RunStore.writeMetadata(metadata, to: folder)
        } catch {
            // A full disk: the reserve made at start frees room for the final state.
            do {
                guard RunStore.releaseReserve(in: folder) else { throw error }
                try RunStore.writeMetadata(metadata, to: folder)
            } catch {
                // No room for a second copy even so: the old run.json's own space, in place.
                do {
                    try RunStore.overwriteMetadata(metadata, in: folder)
                } catch {
                    warnHandler("cannot write the final state of run \(metadata.id): \(error)")
                }
            }
        }
        RunStore.releaseReserve(in: folder)
        completed.signal()
    }
}
