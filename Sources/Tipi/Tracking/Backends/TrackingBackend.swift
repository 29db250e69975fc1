import Foundation
import Synchronization

/// A place metrics go besides the run store: TensorBoard files, a W&B offline run, an MLflow server, JSONL.
///
/// Each backend is one type in one file; ``BackendKind`` lists them. A backend is driven from its own
/// thread (see ``BackendWorker``), so a slow one never slows `log` or the other backends.
protocol TrackingBackend: AnyObject {
    /// Called once before any batch. Throwing disables the backend for this run (with one warning).
    func start(_ run: RunDescription) throws
    /// New committed steps. `keys` maps key ids to names (it only grows).
    func write(_ batch: MetricBatch, keys: [String]) throws
    /// The run ended. Must return within `deadline` (Unix seconds) as best it can.
    func finish(status: RunStatus, summary: [String: MetricSummary], deadline: Double) throws
    /// What to record about the backend in `run.json`.
    var state: RunMetadata.BackendState { get }
    /// Artifacts saved into the run (their files are in the run folder). Throwing warns and leaves the
    /// backend on: the run folder keeps every artifact.
    func saveArtifacts(_ uploads: [ArtifactUpload]) throws
    /// Lets go of what the backend holds (open files). Called once at the end, whether or not `start`,
    /// `write` or `finish` failed; it must be harmless after `finish`.
    func release()
}

extension TrackingBackend {
    /// Backends holding nothing between calls release nothing.
    func release() {}

    /// Backends without a place for files (TensorBoard, JSONL) leave artifacts to the run folder.
    func saveArtifacts(_ uploads: [ArtifactUpload]) throws {}
}

/// What backends need to know about the run they receive.
struct RunDescription: Sendable {
    var metadata: RunMetadata
    var folder: URL
}

/// The backends Tipi knows, by the names used in `TIPI_BACKENDS` and `backends:`.
public enum BackendKind: String, Sendable, CaseIterable, Codable {
    /// Event files in the run folder: `tensorboard --logdir "$TIPI_DIR"` shows every run.
    case tensorboard
    /// A W&B offline run folder in the run folder, uploaded later with `wandb sync`.
    case wandb
    /// An MLflow tracking server at `MLFLOW_TRACKING_URI`.
    case mlflow
    /// Python tipi's BasicLogger `metrics.jsonl`.
    case jsonl

    /// Parses a comma-separated list (`"tensorboard, mlflow"`); unknown names are errors with a suggestion.
    public static func parseList(_ text: String) throws -> [BackendKind] {
        var result: [BackendKind] = []
        for part in text.split(separator: ",") {
            let name = part.trimmingCharacters(in: .whitespaces).lowercased()
            if name.isEmpty { continue }
            let alias = ["tb": "tensorboard", "basic": "jsonl", "w&b": "wandb"][name] ?? name
            guard let kind = BackendKind(rawValue: alias) else {
                throw TrackingError.unknownBackend(
                    name, suggestion: Suggestion.nearest(to: name, in: BackendKind.allCases.map(\.rawValue)))
            }
            if !result.contains(kind) { result.append(kind) }
        }
        return result
    }

    /// Whether the backend writes local files (and may therefore slow the writer rather than lose data).
    var isLocal: Bool {
        self != .mlflow
    }

    func make(environment: (String) -> String?, options: BackendOptions = BackendOptions()) throws -> any TrackingBackend {
        switch self {
        case .tensorboard: return TensorBoardBackend(directory: options.tensorboardDirectory.map { URL(fileURLWithPath: $0) })
        case .jsonl: return JSONLBackend(path: options.jsonlPath)
        case .wandb: return WandBBackend()
        case .mlflow:
            guard let uri = environment("MLFLOW_TRACKING_URI") ?? options.mlflowTrackingURI, !uri.isEmpty else {
                throw TrackingError.backendNotConfigured(
                    backend: "mlflow", reason: "MLFLOW_TRACKING_URI is not set (for example http://127.0.0.1:5000)")
            }
            return try MLflowBackend(trackingURI: uri)
        }
    }
}

/// Where backends write, when not in the run folder (set by a pipeline's `[pipeline.*]` tables).
public struct BackendOptions: Sendable, Equatable {
    /// The JSONL file (`[pipeline.basic_logger] log_dir` + `metrics_filename`).
    public var jsonlPath: String?
    /// The TensorBoard event-file directory (`[pipeline.tensorboard] log_dir`).
    public var tensorboardDirectory: String?
    /// The MLflow server when `MLFLOW_TRACKING_URI` is not set (`[pipeline.mlflow] tracking_uri`).
    public var mlflowTrackingURI: String?

    public init(jsonlPath: String? = nil, tensorboardDirectory: String? = nil, mlflowTrackingURI: String? = nil) {
        self.jsonlPath = jsonlPath
        self.tensorboardDirectory = tensorboardDirectory
        self.mlflowTrackingURI = mlflowTrackingURI
    }
}

/// Runs one backend on its own thread, fed through a queue. If the backend falls too far behind, further
/// batches for it are dropped (the run store keeps everything) and one warning says so.
final class BackendWorker: Sendable {
    let kind: BackendKind
    private let backend: UncheckedBox<any TrackingBackend>
    private let queue = Mutex(WorkerQueue())
    private let wake = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let warn: @Sendable (String) -> Void
    static let maximumQueuedValues = 4_000_000

    private struct WorkerQueue {
        var events: [Event] = []
        var queuedValues = 0
        var droppedRows = 0
        var finished = false
        var failed = false
        var state = RunMetadata.BackendState()
    }

    enum Event: @unchecked Sendable {
        case start(RunDescription)
        case batch(MetricBatch, [String])
        case finish(RunStatus, [String: MetricSummary], Double)
        /// Artifacts saved into the run.
        case artifacts([ArtifactUpload])
        /// The run could not start: release the backend and end the thread.
        case abandon
    }

    init(kind: BackendKind, backend: any TrackingBackend, warn: @escaping @Sendable (String) -> Void) {
        self.kind = kind
        self.backend = UncheckedBox(backend)
        self.warn = warn
        let thread = Thread { [self] in loop() }
        thread.name = "tipi-\(kind.rawValue)"
        thread.start()
    }

    /// Queues an event. For local backends (files), a full queue makes the writer wait: nothing is ever
    /// dropped, and the run's buffer applies the back-pressure to `log`. A network backend (MLflow) keeps
    /// its own bounded buffer and accounting, so its queue never waits: a batch it cannot take is dropped
    /// here and the backend is marked incomplete (`tipi runs sync` sends the rest from the store).
    func send(_ event: Event) {
        while true {
            let outcome = queue.withLock { queue -> SendOutcome in
                if case .batch(let batch, _) = event {
                    if queue.failed { return .dropped }
                    // Once a network backend missed rows, later rows are not sent either: what it has stays
                    // the first `sentSteps` rows, which is where `tipi runs sync` resumes.
                    if queue.droppedRows > 0 {
                        queue.droppedRows += batch.rowCount
                        return .dropped
                    }
                    if queue.queuedValues > 0, queue.queuedValues + batch.valueCount > Self.maximumQueuedValues {
                        guard kind.isLocal else {
                            queue.droppedRows += batch.rowCount
                            return .dropped
                        }
                        return .full
                    }
                    queue.queuedValues += batch.valueCount
                }
                queue.events.append(event)
                return .queued
            }
            switch outcome {
            case .queued:
                wake.signal()
                return
            case .dropped:
                return
            case .full:
                usleep(1_000)
            }
        }
    }

    private enum SendOutcome {
        case queued, dropped, full
    }

    /// Ends the worker of a run that could not start: the backend is released and its thread ends.
    func abandon() {
        send(.abandon)
    }

    /// Waits until the backend has handled `finish`, at most until `deadline`; `false` when it did not.
    func waitForFinish(deadline: Double) -> Bool {
        let remaining = max(deadline - Date().timeIntervalSince1970, 0)
        let finished = done.wait(timeout: .now() + remaining) == .success
        if finished { done.signal() }
        return finished
    }

    var state: RunMetadata.BackendState {
        queue.withLock { queue in
            var state = queue.state
            if queue.droppedRows > 0 { state.complete = false }
            return state
        }
    }

    private func loop() {
        while true {
            wake.wait()
            let events = queue.withLock { queue -> [Event] in
                defer { queue.events.removeAll() }
                return queue.events
            }
            for event in events {
                if case .abandon = event {
                    backend.value.release()
                    done.signal()
                    return
                }
                handle(event)
                if case .finish = event {
                    backend.value.release()
                    queue.withLock { $0.state = backend.value.state }
                    let dropped = queue.withLock { $0.droppedRows }
                    if dropped > 0 {
                        warn("the \(kind.rawValue) backend fell behind and missed \(dropped) steps; the run store has them all")
                    }
                    done.signal()
                    return
                }
            }
        }
    }

    private func handle(_ event: Event) {
        let failed = queue.withLock { $0.failed }
        switch event {
        case .start(let run):
            do {
                try backend.value.start(run)
            } catch {
                queue.withLock { $0.failed = true }
                warn("the \(kind.rawValue) backend is off for this run: \(error)")
            }
        case .batch(let batch, let keys):
            defer { queue.withLock { $0.queuedValues -= batch.valueCount } }
            guard !failed else { return }
            do {
                try backend.value.write(batch, keys: keys)
            } catch {
                queue.withLock { $0.failed = true }
                warn("the \(kind.rawValue) backend stopped: \(error); the run store keeps every value")
            }
        case .abandon:
            return
        case .artifacts(let uploads):
            guard !failed else { return }
            do {
                try backend.value.saveArtifacts(uploads)
            } catch {
                warn("the \(kind.rawValue) backend could not store artifacts: \(error); the run folder keeps them")
            }
        case .finish(let status, let summary, let deadline):
            guard !failed else { return }
            do {
                try backend.value.finish(status: status, summary: summary, deadline: deadline)
            } catch {
                warn("the \(kind.rawValue) backend could not finish: \(error)")
            }
        }
        queue.withLock { $0.state = backend.value.state }
    }
}

/// Holds a non-Sendable value that is only ever touched from one thread.
final class UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
