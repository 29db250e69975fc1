import Foundation
import Synchronization

/// The process-wide experiment logger (level 2): `logger.log(["loss": loss])`.
public let logger = ExperimentLogger()

/// Records runs: `start` (optional), `log` as often as you like, `finish` (optional).
///
/// ```swift
/// try logger.start(project: "spirals", name: "baseline", config: ["lr": 0.01, "epochs": 10])
/// for epoch in 0..<10 {
///     logger.log(["loss": loss, "acc": accuracy])        // steps 0, 1, 2, …
/// }
/// logger.log(["val_loss": 0.29], step: 12)               // an explicit step
/// logger.finish()                                       // idempotent; also at exit and on SIGINT/SIGTERM
/// ```
///
/// Every run is recorded in the local run store (`TIPI_DIR`, default `./tipi-runs`); `TIPI_BACKENDS`
/// (or `backends:`) adds TensorBoard, W&B, MLflow and JSONL. Inside a pipeline, `start` and `log` use the
/// pipeline's run, so the training code does not change.
///
/// - `log` without `start` starts a run on its own (project: the executable's name), once.
/// - After `finish`, `log` refuses values (one warning); `start` begins a new run.
/// - `finish` happens by itself at normal exit (status `finished`) and on SIGINT/SIGTERM/SIGHUP (status
///   `interrupted`, then the process ends with the signal: exit status 130, 143 or 129). Tipi only handles those
///   signals when the program has not installed handlers of its own; a program that handles them itself
///   should call `logger.finish(status: .interrupted)` from its handler.
/// - After `kill -9` at most the last second of steps is lost; readers show the run as `crashed`.
public final class ExperimentLogger: Sendable {
    private let state = Mutex(LoggerState())
    /// Serialises the automatic start of the first `log`.
    private let autoStart = Mutex(())

    /// Changes whenever `state.run` does (under `state`'s lock): threads cache the run for a generation
    /// (see ``LoggerRunCache``), so that `log` takes no lock while the run stays the same.
    private let generation = Atomic<UInt>(LoggerRunCache.nextGeneration())
    /// ``LoggerRunCache/key``, kept here so that `log` reads it without a global's lazy-initialisation check.
    private let cacheKey = LoggerRunCache.key
    /// ``StopRequest``'s flag, kept here for the same reason.
    private let stopFlag = StopRequest.flag

    private struct LoggerState {
        var run: Run?
        var autoStartFailed = false
    }

    public init() {}

    /// The run `log` writes to: the pipeline's run inside a pipeline, else the run started here (if any).
    public var run: Run? {
        pipelineRun ?? state.withLock { $0.run }
    }

    /// The run of the ``PipelineContext`` bound to the calling task, if any (the task-local is only read
    /// when some context carries a run: see ``PipelineRunBinding``).
    @inline(__always)
    private var pipelineRun: Run? {
        PipelineRunBinding.anyAlive ? PipelineContext.current?.run : nil
    }

    /// Starts a run (finishing the previous one started here, if any). Inside a pipeline it returns the
    /// pipeline's run, adding `config` and `tags` to it.
    ///
    /// Mistakes in the program's setup end the program with one line and exit status 2, before any run
    /// folder exists (no backtrace, no half-made run): an unknown name in `TIPI_BACKENDS` (with a "did you
    /// mean"), a run store (`TIPI_DIR`) that cannot be written. A backend that cannot start (MLflow without
    /// `MLFLOW_TRACKING_URI`) is left out with one warning, and the run goes on in the store.
    ///
    /// - Parameters:
    ///   - project: Groups runs; defaults to the executable's name.
    ///   - name: A display name; defaults to a generated one (`brisk-river-42`).
    ///   - config: The run's configuration: numbers, strings, booleans, lists, tables.
    ///   - tags: Labels for filtering.
    ///   - notes: Free text.
    ///   - group: Groups related runs (e.g. the runs of one sweep).
    ///   - backends: Extra backends; `TIPI_BACKENDS` overrides them when set.
    ///   - store: The run store; `TIPI_DIR` (or `./tipi-runs`) by default.
    /// - Throws: Errors other than these setup mistakes (none of Tipi's own today; the `throws` stays so
    ///   that `try logger.start(…)` keeps compiling and callers keep a place to handle failures).
    @discardableResult
    public func start(
        project: String? = nil, name: String? = nil, config: [String: ConfigValue] = [:], tags: [String] = [],
        notes: String? = nil, group: String? = nil, backends: [BackendKind] = [], store: RunStore? = nil
    ) throws -> Run {
        if let run = pipelineRun {
            if !config.isEmpty { run.updateConfig(config) }
            if !tags.isEmpty { run.addTags(tags) }
            return run
        }
        let run: Run
        do {
            run = try Run.start(
                project: project ?? Self.executableName, name: name, config: config, tags: tags, notes: notes,
                group: group, backends: backends, store: store ?? .default)
        } catch let error as TrackingError {
            switch error {
            case .unknownBackend:
                let text = TerminalText.excerpt(Environment.value("TIPI_BACKENDS") ?? "", limit: 80)
                ConfigurationExit.exit("TIPI_BACKENDS=\(text): \(error)")
            case .storeNotWritable:
                ConfigurationExit.exit("\(error)")
            default:
                throw error
            }
        }
        let previous = state.withLock { state -> Run? in
            defer {
                state.run = run
                state.autoStartFailed = false
                generation.store(LoggerRunCache.nextGeneration(), ordering: .releasing)
            }
            return state.run
        }
        previous?.finish()
        // A script's run keeps its console output and says where it is at the end (a pipeline's does not:
        // its executor keeps the console and prints its own summary).
        RunEndLine.register(run.id)
        run.keepConsoleOutput()
        return run
    }

    /// Starts a run with a config of variables: `config: ["lr": lr, "epochs": epochs]`, with values of
    /// the usual types (see ``ConfigConvertible``). Otherwise the same as the `[String: ConfigValue]` form.
    @discardableResult
    public func start(
        project: String? = nil, name: String? = nil, config: [String: any ConfigConvertible], tags: [String] = [],
        notes: String? = nil, group: String? = nil, backends: [BackendKind] = [], store: RunStore? = nil
    ) throws -> Run {
        try start(
            project: project, name: name, config: config.mapValues(\.configValue) as [String: ConfigValue], tags: tags,
            notes: notes, group: group, backends: backends, store: store)
    }

    /// Starts a run with an `Encodable` config struct: `config: myConfig`. Its fields are recorded with
    /// nested structs flattened to dotted keys (`optimizer.lr`); a whole-number `Double` may be recorded as
    /// an integer (the fields go through JSON). Otherwise the same as the `[String: ConfigValue]` form.
    ///
    /// - Throws: ``TrackingError/configNotEncodable(type:reason:)`` when the config does not encode as named
    ///   fields (a plain number or a list, or an encoding error of its own).
    @discardableResult
    public func start<Config: Encodable>(
        project: String? = nil, name: String? = nil, config: Config, tags: [String] = [],
        notes: String? = nil, group: String? = nil, backends: [BackendKind] = [], store: RunStore? = nil
    ) throws -> Run {
        try start(
            project: project, name: name, config: try ConfigValue.fields(of: config) as [String: ConfigValue],
            tags: tags, notes: notes, group: group, backends: backends, store: store)
    }

    /// Logs values into the current run, starting one if none was started yet. See ``Run/log(_:step:commit:)-([String:Double],_,_)``.
    ///
    /// After ``finish(status:)`` the run refuses values, as a finished W&B run does: they are ignored with
    /// one warning, and `start()` begins a new run. `log` is also a safe point: after Ctrl-C / SIGTERM /
    /// SIGHUP, outside a pipeline, the run is finished here and the program ends with the signal.
    public func log(_ values: [String: Double], step: Int? = nil, commit: Bool? = nil) {
        defer { if stopFlag.signal.load(ordering: .relaxed) != 0 { _ = StopRequest.reachedSafePoint() } }
        withStartedRun { $0.log(values, step: step, commit: commit) }
    }

    /// The typed fast path (see ``MetricKeys``): `log(keys, values…)` lands here.
    @usableFromInline
    func logPrepared(_ keys: MetricKeys, _ values: UnsafeBufferPointer<Double>, step: Int?, commit: Bool?) {
        defer { if stopFlag.signal.load(ordering: .relaxed) != 0 { _ = StopRequest.reachedSafePoint() } }
        withStartedRun { $0.logPrepared(keys, values, step: step, commit: commit) }
    }

    /// Calls `body` with ``startedRun()``, if there is one. The common case — no pipeline run, and the
    /// same run as this thread's last call — costs an atomic load and a thread-local read: no lock, no
    /// reference count (see ``LoggerRunCache``).
    @inline(__always)
    private func withStartedRun(_ body: (Run) -> Void) {
        if !PipelineRunBinding.anyAlive,
            let run = LoggerRunCache.run(key: cacheKey, generation: generation.load(ordering: .acquiring))
        {
            run._withUnsafeGuaranteedRef(body)
            return
        }
        if let run = startedRun() { body(run) }
    }

    /// The run `log` (and `saveArtifact`) writes to: the pipeline's, else the one started here, else one
    /// started now (once, even when several threads ask at the same moment); `nil` when starting failed
    /// (warned once).
    func startedRun() -> Run? {
        if let run = pipelineRun { return run }
        if let current = cachingCurrentRun() { return current }
        return autoStart.withLock { _ -> Run? in
            let (current, failed) = state.withLock { ($0.run, $0.autoStartFailed) }
            if let current { return current }
            guard !failed else { return nil }
            do {
                return try start()
            } catch {
                state.withLock { $0.autoStartFailed = true }
                Diagnostics.warn("could not start a run, so values are not recorded: \(error)")
                return nil
            }
        }
    }

    /// Logs values of the numeric types a training loop has (`Float`, `Float16`, `Int`, `Bool`, …; see
    /// ``MetricValue``), stored as `Double`. A `[String: Double]` (and a literal like `["loss": 0.3]`) takes
    /// the other overload, without conversion.
    public func log(_ values: [String: any MetricValue], step: Int? = nil, commit: Bool? = nil) {
        log(values.metricDoubles, step: step, commit: commit)
    }

    /// Ends the run started here (inside a pipeline the pipeline ends its own run). Idempotent.
    ///
    /// Also a safe point: after a stop signal, outside a pipeline, the program ends here by the signal
    /// (the run is finished as `interrupted`).
    public func finish(status: RunStatus = .finished) {
        if StopRequest.isRequested { _ = StopRequest.reachedSafePoint() }
        if pipelineRun != nil { return }
        let run = state.withLock { $0.run }
        run?.finish(status: status)
    }

    /// The run started here (if any), cached on this thread for the next `log` (see ``LoggerRunCache``).
    private func cachingCurrentRun() -> Run? {
        let (run, current) = state.withLock { ($0.run, generation.load(ordering: .relaxed)) }
        if let run { LoggerRunCache.store(run, generation: current, key: cacheKey) }
        return run
    }

    static var executableName: String {
        let name = URL(fileURLWithPath: CommandLine.arguments.first ?? "tipi").lastPathComponent
        return name.isEmpty ? "default" : name
    }

}

extension Run {
    /// Creates a run directly (a pipeline does this; scripts use `logger.start`). The run is not the
    /// logger's: bind it with `withPipelineContext(PipelineContext(run: run))` for `logger.log` to use it.
    ///
    /// - Parameters:
    ///   - project: Groups runs.
    ///   - name: A display name; defaults to a generated one (`brisk-river-42`).
    ///   - config: The run's configuration.
    ///   - tags: Labels for filtering.
    ///   - notes: Free text.
    ///   - group: Groups related runs (e.g. the runs of one sweep).
    ///   - requested: Extra backends; `TIPI_BACKENDS` overrides them when set.
    ///   - options: Where the backends write (Python tipi's `[pipeline.basic_logger] log_dir` and
    ///     friends); `TIPI_BACKENDS` still overrides `backends`.
    ///   - store: The run store; `TIPI_DIR` (or `./tipi-runs`) by default.
    ///   - sweep: The sweep this run belongs to; by default read from `TIPI_SWEEP_ID` and `TIPI_SWEEP_INDEX`.
    /// - Throws: ``TrackingError`` when TIPI_BACKENDS names an unknown backend or the store cannot be written
    ///   (a backend that cannot start is left out with a warning).
    public static func start(
        project: String, name: String? = nil, config: [String: ConfigValue] = [:], tags: [String] = [],
        notes: String? = nil, group: String? = nil, backends requested: [BackendKind] = [],
        options: BackendOptions = BackendOptions(), store: RunStore = .default,
        sweep: RunMetadata.SweepMembership? = nil
    ) throws -> Run {
        try start(
            project: project, name: name, config: config, tags: tags, notes: notes, group: group, backends: requested, options: options,
            store: store, sweep: sweep, completing: { _ in })
    }

    /// ``start(project:name:config:tags:notes:group:backends:options:store:sweep:)``, with `completing` given the
    /// metadata before the first `run.json` is written: what a pipeline knows at its start (its process
    /// records, the run it resumes) is then on disk when the run starts, in that one write.
    package static func start(
        project: String, name: String? = nil, config: [String: ConfigValue] = [:], tags: [String] = [],
        notes: String? = nil, group: String? = nil, backends requested: [BackendKind] = [],
        options: BackendOptions = BackendOptions(), store: RunStore = .default,
        sweep: RunMetadata.SweepMembership? = nil, completing: (inout RunMetadata) -> Void
    ) throws -> Run {
        let named: [BackendKind]
        if let text = Environment.value("TIPI_BACKENDS") {
            named = try BackendKind.parseList(text)
        } else {
            named = requested
        }
        // The backends are made (and can fail) before anything exists; their workers start only once the
        // run folder exists, and are finished if the run cannot start, so nothing leaks on an error. A backend
        // that cannot be made (MLflow without a tracking URI) is left out with one warning: the run goes on
        // in the store, which `tipi runs sync` can replay into the backend later.
        var backends: [(BackendKind, any TrackingBackend)] = []
        for kind in named {
            do {
                backends.append((kind, try kind.make(environment: Environment.value, options: options)))
            } catch {
                Diagnostics.warn("\(error); the run is recorded in the run store without \(kind.rawValue)")
            }
        }
        let kinds = backends.map(\.0)
        let startTime = Date().timeIntervalSince1970
        let (id, folder) = try store.createRunFolder(project: project, startTime: startTime)
        let workers = backends.map { BackendWorker(kind: $0.0, backend: $0.1, warn: { Diagnostics.warn($0) }) }
        let sweepMembership =
            sweep
            ?? Environment.value("TIPI_SWEEP_ID").map {
                RunMetadata.SweepMembership(id: $0, index: Self.sweepIndex)
            }
        var metadata = RunMetadata(
            id: id, project: project, name: name ?? RunNames.generate(), status: .running, startTime: startTime,
            endTime: nil, config: config, tags: tags, notes: notes, group: group, host: ProcessFacts.host, pid: getpid(),
            processStart: ProcessFacts.ownStartTime, command: CommandLine.arguments,
            workingDirectory: FileManager.default.currentDirectoryPath, git: nil, swiftVersion: Tipi.swiftVersion,
            tipiVersion: Tipi.version, device: nil, sweep: sweepMembership,
            backends: Dictionary(uniqueKeysWithValues: kinds.map { ($0.rawValue, RunMetadata.BackendState()) }),
            summary: [:], heartbeat: startTime, droppedSteps: nil, pipeline: nil)
        metadata.os = Provenance.operatingSystem
        metadata.packagesFile = Provenance.packages?.file
        metadata.packages = Provenance.packages?.versions
        completing(&metadata)
        let run: Run
        do {
            run = try Run(metadata: metadata, folder: folder, backends: workers, warn: { Diagnostics.warn($0) })
        } catch {
            for worker in workers { worker.abandon() }
            throw error
        }
        RunRegistry.add(run)
        return run
    }
}

extension Run {
    /// `TIPI_SWEEP_INDEX`: a whole number from 0, or none (a bad value warns once, naming the variable).
    static var sweepIndex: Int? {
        guard let text = Environment.value("TIPI_SWEEP_INDEX")?.trimmingCharacters(in: .whitespaces), !text.isEmpty
        else { return nil }
        if let index = Int(text), index >= 0 { return index }
        Diagnostics.warnOnce(
            key: "environment:TIPI_SWEEP_INDEX",
            "TIPI_SWEEP_INDEX=\(TerminalText.excerpt(text, limit: 40)) is not a whole number from 0; the run is recorded "
                + "without a sweep index")
        return nil
    }
}

/// Readable generated run names, like W&B's: `brisk-river-42`.
enum RunNames {
    static let adjectives = [
        "amber", "bold", "brisk", "calm", "crisp", "dapper", "eager", "fancy", "gentle", "golden", "hardy", "jolly",
        "keen", "lively", "lucky", "mellow", "nimble", "proud", "quiet", "rapid", "silver", "steady", "swift", "vivid",
    ]
    static let nouns = [
        "river", "forest", "meadow", "comet", "harbor", "canyon", "glacier", "falcon", "otter", "maple", "summit",
        "breeze", "lantern", "pebble", "orbit", "delta", "willow", "ember", "tide", "prairie", "aurora", "island",
    ]

    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let adjective = adjectives[Int(generator.next() % UInt64(adjectives.count))]
        let noun = nouns[Int(generator.next() % UInt64(nouns.count))]
        return "\(adjective)-\(noun)-\(generator.next() % 100)"
    }
}
