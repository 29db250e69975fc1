import Foundation
import Synchronization
import Tipi

/// Runs a built pipeline: one run in the store, the progress display with an overall bar, the device, and
/// the task-local context that lets `progressBar`, `logger` and `deviceManager` inside the processes use
/// them. Permanences are initialised in order and always cleaned up in reverse order — after success, after
/// a failing process, and after Ctrl-C — and a failing cleanup does not stop the others.
struct PipelineExecutor {
    struct Options {
        var name: String
        var configFile: String?
        var overrides: [String]
        /// The run named by `--resume` (recorded as `resumed_from` when there is no ``plan``).
        var resume: String?
        /// What a resume skips and restores (``Resume/prepare(run:config:overrides:from:definition:store:)``).
        var plan: ResumePlan?
        /// The config's text, recorded in the run folder (`config.toml`) for a later resume.
        var configText: String?
        var store: RunStore = .default
        /// Where bars go; a new display on standard error by default.
        var display: ProgressDisplay?
        /// Errors with every detail (`run --debug`).
        var debug = false
    }

    enum Outcome {
        case completed(Run)
        case failed(Run?, [ConfigProblem])
    }

    static func run(_ pipeline: BuiltPipeline, options: Options) async -> Outcome {
        let settings = pipeline.settings
        let plan = options.plan
        let skipped = plan?.skipped ?? []
        // Not yet in `run.json` unless a resume skips some (see below): changed.
        var initial: [RunMetadata.ProcessRecord] = []
        initial.reserveCapacity(pipeline.processes.count)
        for index in pipeline.processes.indices {
            // Each record made straight into the array (from the entry's fields, without a copy of the entry).
            if index < skipped.count {
                initial.append(skipped[index])
            } else {
                let (key, type) = (pipeline.processes[index].key, pipeline.processes[index].typeName)
                initial.append(RunMetadata.ProcessRecord(key: key, type: type, status: "pending"))
            }
        }
        let records = ProcessRecords(initial, changed: plan == nil)
        let (name, configFile, overrides, resume) = (options.name, options.configFile, options.overrides, plan?.previous ?? options.resume)
        let pipelineRecord: @Sendable ([RunMetadata.ProcessRecord]) -> RunMetadata.PipelineRecord = { processes in
            RunMetadata.PipelineRecord(name: name, configFile: configFile, overrides: overrides, resumedFrom: resume, processes: processes)
        }
        let run: Run
        // Its text is written along: `run.json` starts from it, and the values are made only if asked for.
        var resolved = ResolvedConfig(pipeline)
        do {
            // The pipeline's record and the run this one resumes are in the first `run.json`, on disk when
            // the run starts: a run killed at once is still known as this pipeline's (and can be resumed with
            // its --set values). Its process records (every one `pending`) are not, unless a resume skips
            // some: they are most of a large pipeline's `run.json`, so they go with the writer's first round
            // (within a second; see `followPipeline` below), or with the last `run.json` of a shorter run. A
            // resume of a run that recorded no process runs them all.
            let started = pipelineRecord(plan == nil ? [] : records.current)
            run = try Run.start(
                project: settings.project ?? options.name, name: settings.runName,
                tags: settings.tags, notes: settings.notes, backends: settings.backends, options: settings.options,
                store: options.store,
                completing: { metadata in
                    metadata.storedConfig = resolved.config
                    metadata.pipeline = started
                    if let resume { metadata.resumedFrom = resume }
                })
        } catch {
            return .failed(nil, [ConfigProblem(code: "CFG005", message: "cannot start the run: \(error)")])
        }
        do {
            try run.recordConfigSources(text: resolved.sources.takeJSON())
            // The config as it was, so that a resume runs with it even when the file changed since.
            if let text = options.configText {
                try run.recordFile(Resume.configFileName, text: text)
            }
        } catch {
            Diagnostics.warn("cannot record the config in \(run.folder.path): \(error); this run cannot be resumed")
        }
        // A pipeline program keeps its console output in the run's folder (output.log); in-process callers
        // that bring their own display (tests, the dashboard) keep their own.
        if options.display == nil { run.keepConsoleOutput() }
        // The writer takes the records at each round (about once a second) when they changed, and at the end.
        run.followPipeline { always in records.take(always: always).map(pipelineRecord) }
        let record: @Sendable () -> Void = { run.takePipelineRecord() }
        let display =
            options.display
            ?? ProgressDisplay(textOutput: FileDescriptorOutput.standardOutput, mode: settings.enableProgress ? nil : .off)
        let overall = ProgressBar(total: pipeline.processes.count, desc: "Pipeline", leave: true, display: display)
        // With live bars, what the processes print goes above the bars instead of through them.
        let capture = options.display == nil ? OutputCapture.start(into: display) : nil
        let cleanup = Cleanup(pipeline.permanences)
        // Stops (Ctrl-C, SIGTERM, SIGHUP) belong to the executor while it runs: a signal cancels the running
        // process's task, a synchronous process returns at its next safe point (its progress bars end,
        // `logger.log`), and then the permanences are cleaned up here, once, after the process stopped
        // using them; the run is recorded as interrupted and the program ends by the signal.
        let running = RunningProcess()
        let owner = Lifecycle.addStopOwner { running.cancel() }
        // The fallback, when the process reaches no safe point within the grace period (TIPI_STOP_GRACE):
        // the thread that ends the program records the processes and cleans up, on a thread of its own.
        let hook = InterruptHooks.add {
            markInterrupted(records)
            record()
            cleanup.runBlocking(display: display)
        }
        defer {
            InterruptHooks.remove(hook)
            Lifecycle.removeStopOwner(owner)
        }

        var problems: [ConfigProblem] = []
        var device: Device?
        for entry in pipeline.permanences {
            do {
                try await withPipelineContext(PipelineContext(processName: entry.key, progress: display, run: run)) {
                    try await entry.permanence.initialize()
                }
                cleanup.initialized(entry.key)
                if let devicePermanence = entry.permanence as? DevicePermanence, device == nil {
                    device = devicePermanence.device
                    if let device { run.recordDevice(device) }
                }
            } catch {
                problems.append(
                    ConfigProblem(code: "PERMA003", path: "permanences.\(entry.key)", message: "initialize() failed: \(describe(error))"))
                break
            }
        }
        // A resume: the permanences the skipped processes changed come back from their checkpoint.
        if problems.isEmpty, let plan {
            problems += await PermanenceState.restore(plan.restore, of: pipeline.permanences, run: run, display: display)
        }

        if problems.isEmpty {
            // One task runs all the processes (a task per process cost more than a no-op process): a stop
            // cancels it, which cancels the running process; the loop then ends at its next check.
            let context = ProcessLoop(
                pipeline: pipeline, skipped: skipped.count, records: records, record: record, overall: overall, display: display,
                device: device, run: run, debug: options.debug)
            do {
                problems += try await running.run { await context.run() }
            } catch {
                problems.append(ConfigProblem(code: "PROC001", message: "the processes could not run: \(describe(error))"))
            }
        }
        // From here on a stop signal does not cut anything short: the cleanup and the record run to the end.
        Lifecycle.stopOwnerIsCleaningUp(owner)
        overall.close()
        capture?.stop()
        let cleanupProblems = await cleanup.run(display: display)
        problems += cleanupProblems
        let stopped = Lifecycle.stopSignal != 0
        if stopped { markInterrupted(records) }
        record()
        run.finish(status: problems.isEmpty ? .finished : .failed)
        display.write(PipelineSummary.text(records.current, run: run, settings: settings))
        if stopped {
            for problem in problems { display.write(problem.description, to: .progress) }
            InterruptHooks.remove(hook)
            Lifecycle.endBySignal()
        }
        return problems.isEmpty ? .completed(run) : .failed(run, problems)
    }

    /// Marks the running process as interrupted.
    private static func markInterrupted(_ records: ProcessRecords) {
        records.update { records in
            for index in records.indices where records[index].status == "running" { records[index].status = "interrupted" }
        }
    }

    /// Records a process's status; `seconds` is kept to the microsecond (what a duration needs, and
    /// fewer digits in `run.json`: `1.2e-05`, not `1.2040138244628906e-05`).
    static func set(
        _ records: ProcessRecords, _ index: Int, status: String, seconds: Double? = nil, error: String? = nil
    ) {
        let seconds = seconds.map { $0.isFinite ? ($0 * 1e6).rounded() / 1e6 : $0 }
        records.update { records in
            records[index].status = status
            if let seconds { records[index].seconds = seconds }
            if let error { records[index].error = error }
        }
    }

    static func describe(_ error: any Error) -> String {
        if let problems = error as? ConfigProblems { return problems.problems.map(\.description).joined(separator: "; ") }
        if let localized = error as? LocalizedError, let text = localized.errorDescription { return text }
        let text = "\(error)"
        return text.isEmpty ? String(describing: type(of: error)) : text
    }
}

/// The processes of a pipeline, run in order in one task: each one's skip check and run with its context
/// bound, its status recorded in memory (which the run's writer takes into `run.json` within a second; on
/// a failure the caller's `record` hands it over at once), the overall bar advanced.
struct ProcessLoop: @unchecked Sendable {
    let pipeline: BuiltPipeline
    /// How many processes a resume skips (completed in the run it continues).
    let skipped: Int
    let records: ProcessRecords
    let record: @Sendable () -> Void
    let overall: ProgressBar
    let display: ProgressDisplay
    let device: Device?
    let run: Run
    let debug: Bool

    /// Seconds on the monotonic clock.
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Runs the processes until one fails or a stop signal comes; returns the failure.
    func run() async -> [ConfigProblem] {
        let count = pipeline.processes.count
        let prefix = "/" + String(count) + ": "
        // The overall bar's text names the process; a display that shows nothing needs none (a String each).
        let describes = display.mode != .off
        // The end of the last process (or the loop's start): where the next one's time starts.
        var clock = ProcessLoop.now()
        // One context for all processes, each given its name: one run binding, not one per process.
        var context = PipelineContext(progress: display, device: device, run: run)
        // Each process's entry is read in place (`processes[index]`): a copy would retain and release its key, its
        // type's name and its process.
        let processes = pipeline.processes
        for index in processes.indices {
            if Lifecycle.stopSignal != 0 { break }
            if describes { overall.setDescription("process " + String(index + 1) + prefix + processes[index].key) }
            if index < skipped {
                // Completed in the run this one resumes; its permanences' state was restored above.
                overall.update()
                continue
            }
            context.processName = processes[index].key
            // One clock reading a process: its time runs from the end of the one before (the loop's own
            // work in between is well under a microsecond), to this one's end.
            let start = clock
            var status = "completed"
            do {
                status = try await withPipelineContext(context) { () async throws -> String in
                    if !processes[index].force, try await processes[index].process.skip() { return "skipped" }
                    PipelineExecutor.set(records, index, status: "running")
                    _ = try await processes[index].process.run()
                    return Lifecycle.stopSignal != 0 ? "interrupted" : "completed"
                }
                if status == "completed", !pipeline.permanences.isEmpty {
                    let checkpoint = try await PermanenceState.checkpoint(
                        pipeline.permanences, afterProcess: index, key: processes[index].key, runFolder: run.folder)
                    records.update { $0[index].checkpoint = checkpoint }
                }
                clock = ProcessLoop.now()
                PipelineExecutor.set(records, index, status: status, seconds: clock - start)
            } catch where Lifecycle.stopSignal != 0 {
                // The process ended because of the stop (a cancelled sleep, say): not a failure.
                PipelineExecutor.set(records, index, status: "interrupted", seconds: ProcessLoop.now() - start)
            } catch {
                let message = debug ? "\(PipelineExecutor.describe(error)) [\(String(reflecting: error))]" : PipelineExecutor.describe(error)
                PipelineExecutor.set(records, index, status: "failed", seconds: ProcessLoop.now() - start, error: message)
                record()
                return [
                    ConfigProblem(
                        code: "PROC001", path: "processes.\(processes[index].key)",
                        message: "process \(processes[index].key) (\(processes[index].typeName)) failed: \(message)",
                        help: "fix it, then `run --resume \(run.id)` continues after the processes that completed")
                ]
            }
            if Lifecycle.stopSignal != 0 { break }
            overall.update()
        }
        return []
    }
}

/// The processes' records: changed by the loop and the interrupt hook, taken by the run's writer when they
/// changed (about once a second; see ``Run/followPipeline(_:)``).
final class ProcessRecords: Sendable {
    private struct State {
        var records: [RunMetadata.ProcessRecord]
        /// Whether the records changed since the writer last took them.
        var changed: Bool
    }

    private let state: Mutex<State>

    /// `changed`: whether the writer is yet to take `records`.
    init(_ records: [RunMetadata.ProcessRecord], changed: Bool) {
        state = Mutex(State(records: records, changed: changed))
    }

    /// The records now.
    var current: [RunMetadata.ProcessRecord] {
        state.withLock { $0.records }
    }

    /// Changes the records.
    func update(_ change: (inout [RunMetadata.ProcessRecord]) -> Void) {
        state.withLock { state in
            change(&state.records)
            state.changed = true
        }
    }

    /// The records, when they changed since the last call or when `always`; `nil` otherwise. (A copy that
    /// shares the memory: the next change copies it, once, in the loop, not under the writer's lock.)
    func take(always: Bool) -> [RunMetadata.ProcessRecord]? {
        state.withLock { state in
            guard always || state.changed else { return nil }
            state.changed = false
            return state.records
        }
    }
}

/// The task that runs the processes now, so that a stop signal can cancel it (from the signal thread).
final class RunningProcess: Sendable {
    private let cancelRunning = Mutex<(@Sendable () -> Void)?>(nil)

    /// Runs `operation` as a task of its own and waits for it; a stop that came first cancels it at once.
    func run<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let current = Task { try await operation() }
        cancelRunning.withLock { $0 = { current.cancel() } }
        defer { cancelRunning.withLock { $0 = nil } }
        if Lifecycle.stopSignal != 0 { current.cancel() }
        return try await withTaskCancellationHandler {
            try await current.value
        } onCancel: {
            current.cancel()
        }
    }

    /// Cancels the running task (if any).
    func cancel() {
        cancelRunning.withLock { $0 }?()
    }
}

/// The permanences to clean up, newest first; all of them exactly once, whoever asks first.
final class Cleanup: @unchecked Sendable {
    private let entries: [BuiltPipeline.PermanenceEntry]
    private let lock = NSLock()
    private var done = false
    /// Signalled when the cleanup that claimed the work has completed.
    private let completed = DispatchSemaphore(value: 0)

    init(_ entries: [BuiltPipeline.PermanenceEntry]) {
        self.entries = entries
    }

    func initialized(_ key: String) {}

    private func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }

    /// Cleans up every permanence, newest first; failures are reported, not fatal. Does nothing when the
    /// cleanup was already claimed.
    func run(display: ProgressDisplay) async -> [ConfigProblem] {
        guard claim() else { return [] }
        defer { completed.signal() }
        var problems: [ConfigProblem] = []
        for entry in entries.reversed() {
            do {
                try await entry.permanence.cleanup()
            } catch {
                problems.append(
                    ConfigProblem(
                        code: "PERMA003", path: "permanences.\(entry.key)",
                        message: "cleanup() failed: \(PipelineExecutor.describe(error)) (the other permanences were still cleaned up)"))
            }
        }
        return problems
    }

    /// For the thread that ends the program when the process never stopped: runs the cleanup on a thread
    /// of its own (the cooperative pool may be taken by the process) and waits, bounded; when the executor
    /// is cleaning up already, waits for it instead.
    func runBlocking(display: ProgressDisplay) {
        let box = ProblemsBox()
        let executor = DedicatedThreadExecutor(name: "tipi-cleanup")
        Task.detached(executorPreference: executor) {
            box.problems = await self.run(display: display)
        }
        if completed.wait(timeout: .now() + 30) == .success { completed.signal() }
        for problem in box.problems { display.write(problem.description, to: .progress) }
    }

    private final class ProblemsBox: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [ConfigProblem] = []
        var problems: [ConfigProblem] {
            get { lock.withLock { stored } }
            set { lock.withLock { stored = newValue } }
        }
    }
}

/// A task executor with one thread of its own: work that must run while the cooperative pool is busy
/// (a CPU-bound process on one core) runs there.
final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// Short numbers for summaries.
enum ProgressFormatting {
    static func number(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == value.rounded(), abs(value) < 1e9 { return String(Int(value)) }
        return String(format: "%.4g", value)
    }
}
