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
final class RunWriter: Sendable {
    let folder: URL
    private let descriptor: Int32
    private let backends: [BackendWorker]
    private let warnHandler: @Sendable (String) -> Void
    private let state: Mutex<WriterState>
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let completed = DispatchSemaphore(value: 0)
    static let flushInterval = 1.0
    static let heartbeatInterval = 30.0

    private struct WriterState {
        var metadata: RunMetadata
        var run: WeakRun = WeakRun()
        var summaries: [MetricSummary?] = []
        var keyNames: [String] = []
        var writtenKeys = 0
        /// Bytes that could not be written yet (disk full); retried at the next flush.
        var unwritten: [UInt8] = []
        var goodSize: off_t = 0
        var metadataDirty = true
        var lastMetadataWrite = 0.0
        var flushes = 0
        var stopping = false
        var finishing = false
        var warnedWrite = false
        var warnings: Set<String> = []
        var spare = MetricBatch()
        var gitChecked = false
    }

    struct WeakRun: @unchecked Sendable {
        weak var run: Run?
    }

    init(metadata: RunMetadata, folder: URL, backends: [BackendWorker], warn: @escaping @Sendable (String) -> Void) throws {
        self.folder = folder
        self.backends = backends
        self.warnHandler = warn
        let path = folder.appendingPathComponent(RunStore.metricsFile).path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw TrackingError.storeNotWritable(path: path, reason: String(cString: strerror(errno)))
        }
        self.descriptor = descriptor
        guard MetricLog.magic.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) == MetricLog.magic.count else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw TrackingError.storeNotWritable(path: path, reason: reason)
        }
        state = Mutex(WriterState(metadata: metadata, goodSize: off_t(MetricLog.magic.count)))
        try RunStore.writeMetadata(metadata, to: folder)
        for backend in backends {
            backend.send(.start(RunDescription(metadata: metadata, folder: folder)))
        }
    }

    func bind(_ run: Run) {
        state.withLock { $0.run = WeakRun(run: run) }
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
        while true {
            _ = wake.wait(timeout: .now() + Self.flushInterval)
            let stopping = state.withLock { $0.stopping }
            flush()
            if stopping { break }
        }
        stopped.signal()
    }

    private func flush() {
        let (run, spare) = state.withLock { state -> (Run?, MetricBatch) in
            (state.run.run, state.spare)
        }
        var batch = spare
        batch.removeAll()
        let keys = run?.drain(into: &batch) ?? state.withLock { $0.keyNames }

        var bytes: [UInt8] = []
        let now = Date().timeIntervalSince1970
        let checkGit = state.withLock { state -> Bool in
            defer { state.gitChecked = true }
            return !state.gitChecked
        }
        let git = checkGit ? ProcessFacts.gitState() : nil
        let (writeFailure, snapshot): (String?, RunMetadata?) = state.withLock { state in
            if checkGit, let git {
                state.metadata.git = git
                state.metadataDirty = true
            }
            let newKeys = keys[state.writtenKeys...]
            if !newKeys.isEmpty || !batch.isEmpty {
                MetricLog.encode(newKeys: newKeys, firstKeyID: state.writtenKeys, batch: batch, into: &bytes)
                state.writtenKeys = keys.count
            }
            state.keyNames = keys
            if state.summaries.count < keys.count {
                state.summaries += [MetricSummary?](repeating: nil, count: keys.count - state.summaries.count)
            }
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
            if !batch.isEmpty { state.metadataDirty = true }
            var failure: String?
            if !state.unwritten.isEmpty || !bytes.isEmpty {
                let pending = state.unwritten + bytes
                failure = Self.append(pending, to: descriptor, goodSize: &state.goodSize)
                state.unwritten = failure == nil ? [] : pending
                if failure == nil { state.warnedWrite = false }
            }
            state.flushes += 1
            let due = state.metadataDirty || now - state.lastMetadataWrite >= Self.heartbeatInterval
            guard due, !state.finishing else { return (failure, nil) }
            state.metadataDirty = false
            state.lastMetadataWrite = now
            state.metadata.heartbeat = now
            state.metadata.summary = Self.summaryTable(state)
            return (failure, state.metadata)
        }
        if let writeFailure {
            let first = state.withLock { state -> Bool in
                defer { state.warnedWrite = true }
                return !state.warnedWrite
            }
            if first {
                warnHandler(
                    "cannot write metrics to \(folder.path): \(writeFailure); values are kept in memory and "
                        + "written as soon as possible (nothing already written is lost)")
            }
        }
        if let snapshot {
            do {
                try RunStore.writeMetadata(snapshot, to: folder)
            } catch {
                warn("cannot update \(folder.appendingPathComponent(RunStore.metadataFile).path): \(error)")
            }
        }
        if !batch.isEmpty {
            for backend in backends { backend.send(.batch(batch, keys)) }
        }
        batch.removeAll()
        state.withLock { $0.spare = batch }
    }

    /// Appends bytes; on a failed or short write, cuts the file back to its last good size so that no torn
    /// record sits in front of later ones. Returns the reason of a failure.
    private static func append(_ bytes: [UInt8], to descriptor: Int32, goodSize: inout off_t) -> String? {
        let (written, failure) = writeFully(bytes, to: descriptor)
        if failure != nil {
            _ = ftruncate(descriptor, goodSize)
            return failure
        }
        goodSize += off_t(written)
        return nil
    }

    static func appendForTesting(_ bytes: [UInt8], to descriptor: Int32, goodSize: inout off_t) -> String? {
        append(bytes, to: descriptor, goodSize: &goodSize)
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

    var currentMetadata: RunMetadata {
        state.withLock { state in
            var metadata = state.metadata
            metadata.summary = Self.summaryTable(state)
            return metadata
        }
    }

    /// Flushes now and waits for it.
    func flushNow() {
        let target = state.withLock { $0.flushes } + 2
        wake.signal()
        let deadline = Date().addingTimeInterval(30)
        while state.withLock({ $0.flushes < target && !$0.stopping }), Date() < deadline {
            wake.signal()
            usleep(500)
        }
    }

    /// Back-pressure: wakes the writer and waits while the run holds more than `limit` buffered values.
    func flushAndWait(whileAbove limit: Int, of run: Run) {
        while true {
            wake.signal()
            let buffered = run.bufferedValueCount
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
        _ = stopped.wait(timeout: .now() + 60)
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
                        backend.kind == .mlflow ? "; `tipi runs sync \(id) --to mlflow` sends the rest later" : ""
                    warn(
                        "the \(backend.kind.rawValue) backend is incomplete: \(sent) (\(backendState.error ?? "unknown reason")); "
                            + "the run store has every value\(resend)")
                }
            }
            backendStates[backend.kind.rawValue] = backendState
        }
        let metadata = state.withLock { state -> RunMetadata in
            state.finishing = true
            state.metadata.status = status
            state.metadata.endTime = Date().timeIntervalSince1970
            state.metadata.summary = Self.summaryTable(state)
            state.metadata.backends.merge(backendStates) { _, new in new }
            state.metadata.droppedSteps = droppedSteps > 0 ? droppedSteps : nil
            state.metadata.heartbeat = state.metadata.endTime
            return state.metadata
        }
        if state.withLock({ !$0.unwritten.isEmpty }) {
            warnHandler("some metrics of run \(metadata.id) could not be written to \(folder.path) (the disk refused them)")
        }
        do {
            try RunStore.writeMetadata(metadata, to: folder)
        } catch {
            warnHandler("cannot write the final state of run \(metadata.id): \(error)")
        }
        close(descriptor)
        completed.signal()
    }
}

extension Run {
    /// Committed values waiting for the writer.
    var bufferedValueCount: Int {
        stateValueCount()
    }
}

/// Test access to the writer's append-with-rollback.
enum RunWriterProbe {
    static func append(_ bytes: [UInt8], to descriptor: Int32, goodSize: inout off_t) -> String? {
        RunWriter.appendForTesting(bytes, to: descriptor, goodSize: &goodSize)
    }
}
